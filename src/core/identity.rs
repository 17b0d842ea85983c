//! Who calls: the three roles, the kinds of organisation, and the authenticated caller's data. How a caller is
//! authenticated (JWTs) lives in `crate::auth`, how it is extracted from a request in `crate::http::auth`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::text_enum;

/// The three roles of the programme (JWT claim `role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Role {
    /// Kommune, Landkreis or kreisfreie Stadt: acts for its own organisation (claim `org`).
    Municipality,
    /// Serviceeinheit Gesundheitsversorgung: the ministry's coordination desk.
    ServiceUnit,
    /// Ministerium (Fachreferat): manages funding lines and decides applications.
    Ministry,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Municipality => "municipality",
            Role::ServiceUnit => "service_unit",
            Role::Ministry => "ministry",
        }
    }
}

text_enum! {
    /// Kind of organisation; decides which funding lines it may apply for.
    pub enum OrgKind {
        /// Landkreis (district).
        Landkreis = "landkreis",
        /// Kreisfreie Stadt (district-free city).
        KreisfreieStadt = "kreisfreie_stadt",
        /// Gemeinde (municipality within a Landkreis).
        Gemeinde = "gemeinde",
        /// Träger (another legal entity running a project, e.g. a hospital operator or an association).
        Traeger = "traeger",
    }
}

/// The organisation a municipality acts for, resolved from its `org` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgScope {
    pub id: Uuid,
    pub ags: Option<String>,
    pub kind: OrgKind,
    pub district_ags: String,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    pub role: Role,
    /// Set for municipalities (always) and for other roles when their token names an organisation.
    pub org: Option<OrgScope>,
}

impl Caller {
    /// The service itself (the webhook dispatcher, the full view of a resource for the event feed).
    pub fn system() -> Self {
        Self {
            sub: "system".into(),
            role: Role::ServiceUnit,
            org: None,
        }
    }

    /// The one tenant rule of the resources that belong to an organisation: a municipality sees only its own
    /// organisation's records (`Some(id)`), staff see everything (`None`). A municipality token always names an
    /// organisation (the verifier resolves it); one without is refused rather than shown anything.
    pub fn confined_to(&self) -> Result<Option<uuid::Uuid>, Forbidden> {
        match (self.role, &self.org) {
            (Role::Municipality, Some(org)) => Ok(Some(org.id)),
            (Role::Municipality, None) => Err(Forbidden),
            (Role::ServiceUnit | Role::Ministry, _) => Ok(None),
        }
    }

    /// Refuses (403 at the edge) unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Forbidden> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Forbidden)
        }
    }
}

impl Caller {
    /// The Vier-Augen-Prinzip wherever money moves: a sign-off by someone other than each person (`sub`) who signed
    /// an earlier step of the same thing. Unsigned steps (`None`) do not count.
    pub fn second_pair_of_eyes<'a>(
        &self,
        earlier: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Result<(), SameSigner> {
        match earlier.into_iter().flatten().find(|who| *who == self.sub) {
            Some(who) => Err(SameSigner(who.to_owned())),
            None => Ok(()),
        }
    }
}

/// The person who signed an earlier step tried to sign this one (rendered as 409 `four_eyes` by `crate::error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SameSigner(pub String);

/// A caller without the role an operation needs (rendered as 403 by `crate::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forbidden;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_pair_of_eyes_is_someone_who_signed_no_earlier_step() {
        let caller = Caller {
            sub: "pruefer-2".into(),
            role: Role::Ministry,
            org: None,
        };
        assert_eq!(caller.second_pair_of_eyes([Some("pruefer-1"), None]), Ok(()));
        assert_eq!(
            caller.second_pair_of_eyes([Some("pruefer-1"), Some("pruefer-2")]),
            Err(SameSigner("pruefer-2".into()))
        );
    }
}

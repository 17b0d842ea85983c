//! From a verified token's claims to the caller: where the subject, the role and the organisation are read, and
//! which clients may call at all. The defaults read this service's own claims (`sub`, `role`, `org`); an identity
//! provider's claims (Keycloak's `realm_access.roles`, a `scope`, an attribute holding the AGS) are mapped by
//! configuration.

use clap::ValueEnum;
use serde_json::{Map, Value};

use crate::config::AuthArgs;
use crate::core::identity::Role;

/// Why a validly signed token does not name a caller. These are setting or provider mistakes, never an attacker's
/// (the signature was checked first), so they are logged as warnings with the reason.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unmapped {
    NoSubject,
    NoRole { claim: String },
    SeveralRoles(Vec<Role>),
    BadOrganisation { claim: String },
    ClientNotAllowed(Option<String>),
}

impl std::fmt::Display for Unmapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoSubject => write!(f, "no `sub` claim (a string)"),
            Self::NoRole { claim } => write!(f, "no value of the claim {claim:?} maps to a role"),
            Self::SeveralRoles(roles) => write!(
                f,
                "the token maps to several roles ({}) and VERSORGUNG_JWT_ROLE_PRECEDENCE is not set",
                roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            ),
            Self::BadOrganisation { claim } => {
                write!(f, "the claim {claim:?} is neither a string nor an array of one string")
            }
            Self::ClientNotAllowed(client) => {
                write!(
                    f,
                    "the client {client:?} (azp or client_id) is not among VERSORGUNG_JWT_ALLOWED_CLIENTS"
                )
            }
        }
    }
}

/// The configured mapping.
#[derive(Debug)]
pub(super) struct ClaimMapping {
    role_claim: String,
    /// Provider value → role; empty: the role names themselves.
    role_map: Vec<(String, Role)>,
    precedence: Vec<Role>,
    org_claim: String,
    allowed_clients: Vec<String>,
}

/// Who the claims name (the organisation still to be resolved).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Mapped {
    pub sub: String,
    pub role: Role,
    pub org: Option<String>,
}

fn parse_role(value: &str) -> Option<Role> {
    Role::from_str(value, false).ok()
}

impl ClaimMapping {
    pub(super) fn from_config(args: &AuthArgs) -> Result<Self, String> {
        let mut role_map = Vec::new();
        for pair in args.jwt_role_map.iter().filter(|p| !p.trim().is_empty()) {
            let (value, role) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("VERSORGUNG_JWT_ROLE_MAP: {pair:?} is not `value=role`"))?;
            let role = parse_role(role.trim()).ok_or_else(|| {
                format!("VERSORGUNG_JWT_ROLE_MAP: {role:?} is not a role (municipality, service_unit, ministry)")
            })?;
            role_map.push((value.trim().to_owned(), role));
        }
        for (name, claim) in [
            ("VERSORGUNG_JWT_ROLE_CLAIM", &args.jwt_role_claim),
            ("VERSORGUNG_JWT_ORG_CLAIM", &args.jwt_org_claim),
        ] {
            if claim.trim().is_empty() || (claim.split('.').any(str::is_empty) && !claim.contains("://")) {
                return Err(format!("{name}: {claim:?} is not a claim path"));
            }
        }
        Ok(Self {
            role_claim: args.jwt_role_claim.clone(),
            role_map,
            precedence: args.jwt_role_precedence.clone(),
            org_claim: args.jwt_org_claim.clone(),
            allowed_clients: args
                .jwt_allowed_clients
                .iter()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
        })
    }

    pub(super) fn map(&self, claims: &Map<String, Value>) -> Result<Mapped, Unmapped> {
        self.check_client(claims)?;
        let sub = match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err(Unmapped::NoSubject),
        };
        Ok(Mapped {
            sub,
            role: self.role(claims)?,
            org: self.org(claims)?,
        })
    }

    fn check_client(&self, claims: &Map<String, Value>) -> Result<(), Unmapped> {
        if self.allowed_clients.is_empty() {
            return Ok(());
        }
        // OpenID Connect names the authorised party `azp`; RFC 9068 access tokens name the client `client_id`.
        let client = ["azp", "client_id"]
            .iter()
            .find_map(|name| claims.get(*name).and_then(Value::as_str));
        match client {
            Some(c) if self.allowed_clients.iter().any(|a| a == c) => Ok(()),
            other => Err(Unmapped::ClientNotAllowed(other.map(str::to_owned))),
        }
    }

    fn role(&self, claims: &Map<String, Value>) -> Result<Role, Unmapped> {
        let values: Vec<&str> = match claim_at(claims, &self.role_claim) {
            Some(Value::String(s)) => s.split_whitespace().collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let mut roles: Vec<Role> = Vec::new();
        for value in values {
            let role = if self.role_map.is_empty() {
                parse_role(value)
            } else {
                self.role_map.iter().find(|(v, _)| v == value).map(|(_, r)| *r)
            };
            if let Some(role) = role
                && !roles.contains(&role)
            {
                roles.push(role);
            }
        }
        match roles.as_slice() {
            [] => Err(Unmapped::NoRole {
                claim: self.role_claim.clone(),
            }),
            [one] => Ok(*one),
            several => self
                .precedence
                .iter()
                .find(|r| several.contains(r))
                .copied()
                .ok_or_else(|| Unmapped::SeveralRoles(several.to_vec())),
        }
    }

    fn org(&self, claims: &Map<String, Value>) -> Result<Option<String>, Unmapped> {
        match claim_at(claims, &self.org_claim) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Array(items)) => match items.as_slice() {
                [Value::String(s)] => Ok(Some(s.clone())),
                _ => Err(Unmapped::BadOrganisation {
                    claim: self.org_claim.clone(),
                }),
            },
            Some(_) => Err(Unmapped::BadOrganisation {
                claim: self.org_claim.clone(),
            }),
        }
    }
}

/// A claim by path: its dot-separated levels, else the whole path as one name (namespaced claims such as
/// `https://example.org/roles` contain dots).
fn claim_at<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let nested = || {
        let mut levels = path.split('.');
        let mut value = claims.get(levels.next()?)?;
        for level in levels {
            value = value.as_object()?.get(level)?;
        }
        Some(value)
    };
    nested().or_else(|| claims.get(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    fn mapping(extra: &[&str]) -> ClaimMapping {
        let mut argv = vec!["versorgung"];
        argv.extend_from_slice(extra);
        let cli = crate::config::Cli::try_parse_from(argv).expect("arguments");
        ClaimMapping::from_config(&cli.serve.auth).expect("mapping")
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn defaults_read_this_services_own_claims() {
        let m = mapping(&[]);
        let mapped = m.map(&claims(json!({"sub": "a", "role": "municipality", "org": "06636"})));
        assert_eq!(
            mapped,
            Ok(Mapped {
                sub: "a".into(),
                role: Role::Municipality,
                org: Some("06636".into())
            })
        );
        assert_eq!(
            m.map(&claims(json!({"sub": "a", "role": "admin"}))),
            Err(Unmapped::NoRole { claim: "role".into() })
        );
        assert_eq!(m.map(&claims(json!({"role": "ministry"}))), Err(Unmapped::NoSubject));
    }

    #[test]
    fn keycloak_roles_scopes_and_several_roles() {
        let keycloak = [
            "--jwt-role-claim",
            "realm_access.roles",
            "--jwt-role-map",
            "versorgung-kommune=municipality,versorgung-ministerium=ministry",
            "--jwt-org-claim",
            "ags",
        ];
        let m = mapping(&keycloak);
        let token = |roles: Value| claims(json!({"sub": "s", "realm_access": {"roles": roles}, "ags": ["06636"]}));
        let one = m
            .map(&token(json!(["offline_access", "versorgung-kommune"])))
            .expect("mapped");
        assert_eq!((one.role, one.org.as_deref()), (Role::Municipality, Some("06636")));
        assert_eq!(
            m.map(&token(json!(["offline_access"]))),
            Err(Unmapped::NoRole {
                claim: "realm_access.roles".into()
            })
        );
        assert_eq!(
            m.map(&token(json!(["versorgung-kommune", "versorgung-ministerium"]))),
            Err(Unmapped::SeveralRoles(vec![Role::Municipality, Role::Ministry]))
        );
        let mut with_precedence = keycloak.to_vec();
        with_precedence.extend(["--jwt-role-precedence", "ministry,municipality"]);
        let m = mapping(&with_precedence);
        let chosen = m.map(&token(json!(["versorgung-kommune", "versorgung-ministerium"])));
        assert_eq!(chosen.map(|c| c.role), Ok(Role::Ministry));
        // A scope: one space-separated string.
        let m = mapping(&[
            "--jwt-role-claim",
            "scope",
            "--jwt-role-map",
            "versorgung:lesen=ministry",
        ]);
        let scoped = m.map(&claims(json!({"sub": "s", "scope": "openid versorgung:lesen"})));
        assert_eq!(scoped.map(|c| c.role), Ok(Role::Ministry));
        // An organisation claim that names several organisations names none.
        let m = mapping(&keycloak);
        assert_eq!(
            m.map(&claims(
                json!({"sub": "s", "realm_access": {"roles": ["versorgung-kommune"]}, "ags": ["1", "2"]})
            )),
            Err(Unmapped::BadOrganisation { claim: "ags".into() })
        );
    }

    #[test]
    fn allowed_clients_read_azp_then_client_id() {
        let m = mapping(&["--jwt-allowed-clients", "bezirk-it,frontend"]);
        let ok = |c: Value| m.map(&claims(c)).map(|m| m.role);
        assert_eq!(
            ok(json!({"sub": "s", "role": "ministry", "azp": "frontend"})),
            Ok(Role::Ministry)
        );
        assert_eq!(
            ok(json!({"sub": "s", "role": "ministry", "client_id": "bezirk-it"})),
            Ok(Role::Ministry)
        );
        assert_eq!(
            ok(json!({"sub": "s", "role": "ministry", "client_id": "fremd"})),
            Err(Unmapped::ClientNotAllowed(Some("fremd".into())))
        );
        assert_eq!(
            ok(json!({"sub": "s", "role": "ministry"})),
            Err(Unmapped::ClientNotAllowed(None))
        );
    }

    #[test]
    fn namespaced_claims_are_read_whole() {
        let m = mapping(&["--jwt-role-claim", "https://versorgung.hessen.de/role"]);
        let c = claims(json!({"sub": "s", "https://versorgung.hessen.de/role": "service_unit"}));
        assert_eq!(m.map(&c).map(|m| m.role), Ok(Role::ServiceUnit));
        assert!(
            mapping(&[])
                .map(&claims(json!({"sub": "s", "role": ["ministry"]})))
                .is_ok()
        );
        let bad = crate::config::Cli::try_parse_from(["versorgung", "--jwt-role-map", "x=admin"]).expect("args");
        assert!(ClaimMapping::from_config(&bad.serve.auth).is_err());
    }
}

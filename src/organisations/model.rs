//! Organisation types and their rules: what every role reads (`Organisation`), what the service unit and the
//! ministry write (`CreateOrganisation`, `PatchOrganisation`, checked as a whole), and the list's query.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::core::identity::OrgKind;
use crate::core::types::{is_district_ags, is_gemeinde_ags};
use crate::error::Format;
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};

/// The resource kind of organisations in the history and the feed.
pub const KIND: &str = "organisation";

/// Organisation: a Landkreis, kreisfreie Stadt, Gemeinde or Träger that applies for funding.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "ags": "06636", "name": "Landkreis Werra-Meißner-Kreis",
    "kind": "landkreis", "district": "06636",
    "postalAddress": {"street": "Schloßplatz 1", "postalCode": "37269", "city": "Eschwege"}, "version": 1,
    "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T09:00:00Z"}))]
pub struct Organisation {
    pub id: Uuid,
    /// AGS: five digits for districts, eight for Gemeinden; none for Träger.
    #[schema(max_length = 8, pattern = "^06[0-9]{3}([0-9]{3})?$")]
    pub ags: Option<String>,
    #[schema(max_length = 200)]
    pub name: String,
    pub kind: OrgKind,
    /// AGS of the district the organisation belongs to.
    #[schema(max_length = 5, pattern = "^06[0-9]{3}$")]
    pub district: String,
    /// Where letters (the grant notice) are addressed; `null` until it is recorded.
    pub postal_address: Option<PostalAddress>,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Organisation);

/// A German postal address (Anschrift).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"street": "Schloßplatz 1", "postalCode": "37269", "city": "Eschwege"}))]
pub struct PostalAddress {
    /// Street and number, or a Postfach.
    #[validate(required, length(min = 2, max = 100))]
    #[schema(value_type = String, required = true, min_length = 2, max_length = 100)]
    pub street: Option<String>,
    /// Postleitzahl: five digits.
    #[validate(required, custom(function = "validate_postal_code"))]
    #[schema(value_type = String, required = true, pattern = "^[0-9]{5}$")]
    pub postal_code: Option<String>,
    #[validate(required, length(min = 2, max = 100))]
    #[schema(value_type = String, required = true, min_length = 2, max_length = 100)]
    pub city: Option<String>,
}

fn validate_postal_code(code: &str) -> Result<(), validator::ValidationError> {
    if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(crate::error::validation::rule_error(
            "invalid_format",
            &[("format", Format::PostalCode.key().into())],
        ))
    }
}

/// A new Gemeinde or Träger.
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"kind": "gemeinde", "ags": "06636001", "name": "Stadt Bad Sooden-Allendorf"}))]
pub struct CreateOrganisation {
    /// `gemeinde` or `traeger` (districts exist already).
    #[validate(required)]
    #[schema(value_type = OrgKind, required = true)]
    pub kind: Option<OrgKind>,
    /// Required for a Gemeinde: eight digits beginning with its district's AGS. Not allowed for a Träger.
    #[schema(max_length = 8, pattern = "^06[0-9]{6}$")]
    #[validate(length(max = 8))]
    pub ags: Option<String>,
    #[validate(required, length(min = 2, max = 200))]
    #[schema(value_type = String, required = true, min_length = 2, max_length = 200)]
    pub name: Option<String>,
    /// District AGS; required for a Träger, derived from the AGS for a Gemeinde (must agree when given).
    #[schema(max_length = 5, pattern = "^06[0-9]{3}$")]
    pub district: Option<String>,
    #[validate(nested)]
    pub postal_address: Option<PostalAddress>,
}

impl Checked for CreateOrganisation {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match self.kind {
            Some(OrgKind::Gemeinde) => match &self.ags {
                None => errors.push(FieldError::new("/ags", "required", MessageParams::default())),
                Some(ags) if !is_gemeinde_ags(ags) => errors.push(FieldError::new(
                    "/ags",
                    "invalid_format",
                    MessageParams::format(Format::GemeindeAgs),
                )),
                Some(ags) => {
                    if let Some(d) = &self.district
                        && !ags.starts_with(d.as_str())
                    {
                        errors.push(FieldError::new(
                            "/district",
                            "invalid_value",
                            MessageParams::allowed(&ags[..5]),
                        ));
                    }
                }
            },
            Some(OrgKind::Traeger) => {
                if self.ags.is_some() {
                    errors.push(FieldError::new(
                        "/ags",
                        "invalid_value",
                        MessageParams::allowed("null (a Träger has no AGS)"),
                    ));
                }
                if self.district.is_none() {
                    errors.push(FieldError::new("/district", "required", MessageParams::default()));
                }
            }
            Some(other) => errors.push(FieldError::new(
                "/kind",
                "invalid_value",
                MessageParams::allowed(format!("gemeinde, traeger (every {other} exists already)")),
            )),
            None => {}
        }
        if let Some(d) = &self.district
            && !is_district_ags(d)
        {
            errors.push(FieldError::new(
                "/district",
                "invalid_format",
                MessageParams::format(Format::DistrictAgs),
            ));
        }
        errors
    }
}

/// Changes to an organisation (JSON Merge Patch), and the editable state the patch applies to. Identity fields
/// (AGS, kind, district) never change.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"name": "Stadt Bad Sooden-Allendorf",
    "postalAddress": {"street": "Rathausstraße 1", "postalCode": "37242", "city": "Bad Sooden-Allendorf"}}))]
pub struct PatchOrganisation {
    #[validate(required, length(min = 2, max = 200))]
    #[schema(min_length = 2, max_length = 200)]
    pub name: Option<String>,
    /// The whole address, or `null` to remove it.
    #[validate(nested)]
    pub postal_address: Option<PostalAddress>,
}

impl Checked for PatchOrganisation {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListOrganisations {
    /// Only organisations of this district (five-digit AGS).
    pub(super) district: Option<String>,
    /// Only organisations of this kind.
    pub(super) kind: Option<OrgKind>,
    /// Case-insensitive substring of the name.
    pub(super) q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub(super) limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub(super) cursor: Option<String>,
    /// Also return the number of all matching items.
    pub(super) include_total: Option<bool>,
}

//! Committee types and their rules: what the service unit writes (`CommitteeInput`, checked as a whole) and what
//! every role reads (`Committee`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::core::types::is_district_ags;
use crate::error::Format;
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of committees in the history and the feed.
pub const KIND: &str = "committee";

text_enum! {
    /// What kind of body a committee is.
    pub enum CommitteeKind {
        /// Gremium (e.g. the Landesgremium nach § 90a SGB V).
        Gremium = "gremium",
        /// Arbeitsgruppe.
        WorkingGroup = "working_group",
        /// Regionale Gesundheitskonferenz of a Versorgungsgebiet.
        RegionalConference = "regional_conference",
        /// A similar unit of another ministry.
        OtherMinistryUnit = "other_ministry_unit",
    }
}

text_enum! {
    /// Which part of Hessen a committee covers.
    pub enum CoverageScope {
        Hessen = "hessen",
        Versorgungsgebiet = "versorgungsgebiet",
        Districts = "districts",
    }
}

/// The area a committee covers: all of Hessen, one Versorgungsgebiet, or listed districts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"scope": "versorgungsgebiet", "versorgungsgebiet": "Fulda-Bad Hersfeld"}))]
pub struct Coverage {
    pub scope: CoverageScope,
    /// With scope `versorgungsgebiet`.
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    pub versorgungsgebiet: Option<String>,
    /// With scope `districts`: their AGS.
    #[validate(length(max = 26))]
    #[schema(max_items = 26, max_length = 5)]
    pub districts: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommitteeContact {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
}

/// Gremium or AG as the service unit writes it (create body; the state a merge patch produces).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"name": "AG Telemedizin", "kind": "working_group",
    "owningBody": "Serviceeinheit Gesundheitsversorgung", "topics": ["telemedizin"],
    "coverage": {"scope": "hessen"}, "contact": {"name": "Geschäftsstelle", "email": "ag-telemedizin@example.org"}}))]
pub struct CommitteeInput {
    #[validate(required, length(min = 3, max = 200))]
    #[schema(min_length = 3, max_length = 200)]
    pub name: Option<String>,
    #[validate(required)]
    pub kind: Option<CommitteeKind>,
    /// The body the committee belongs to (a ministry, the KV, the service unit, ...).
    #[validate(required, length(min = 2, max = 200))]
    #[schema(min_length = 2, max_length = 200)]
    pub owning_body: Option<String>,
    /// Codes of active topics (`GET /topics`).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topics: Vec<String>,
    #[validate(required, nested)]
    pub coverage: Option<Coverage>,
    #[serde(default)]
    #[validate(nested)]
    pub contact: CommitteeContact,
}

impl Checked for CommitteeInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = crate::vocabulary::shape_errors(&self.topics, "/topics");
        if let Some(c) = &self.coverage {
            let vg = c.versorgungsgebiet.is_some();
            let ds = c.districts.as_ref().is_some_and(|d| !d.is_empty());
            let consistent = match c.scope {
                CoverageScope::Hessen => !vg && !ds,
                CoverageScope::Versorgungsgebiet => vg && !ds,
                CoverageScope::Districts => !vg && ds,
            };
            if !consistent {
                errors.push(FieldError::new(
                    "/coverage",
                    "invalid_value",
                    MessageParams::allowed(
                        "{scope: hessen} | {scope: versorgungsgebiet, versorgungsgebiet} | {scope: districts, districts}",
                    ),
                ));
            }
            for (i, d) in c.districts.iter().flatten().enumerate() {
                if !is_district_ags(d) {
                    errors.push(FieldError::new(
                        format!("/coverage/districts/{i}"),
                        "invalid_format",
                        MessageParams::format(Format::DistrictAgs),
                    ));
                }
            }
        }
        errors
    }
}

/// Gremium, AG, regional conference or unit of another ministry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a4", "name": "Regionale Gesundheitskonferenz Fulda-Bad Hersfeld",
    "kind": "regional_conference", "owningBody": "Hessisches Ministerium für Familie, Senioren, Sport, Gesundheit und Pflege",
    "topics": ["versorgungsplanung"], "coverage": {"scope": "versorgungsgebiet", "versorgungsgebiet": "Fulda-Bad Hersfeld"},
    "contact": {"name": null, "email": null}, "version": 1,
    "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T09:00:00Z"}))]
pub struct Committee {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
    pub kind: CommitteeKind,
    #[schema(max_length = 200)]
    pub owning_body: String,
    /// Topic codes.
    #[schema(max_items = 20, max_length = 60)]
    pub topics: Vec<String>,
    pub coverage: Coverage,
    pub contact: CommitteeContact,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Committee);

impl Committee {
    /// The committee's editable state, the shape a create writes: what a merge patch applies to.
    pub(super) fn input(&self) -> CommitteeInput {
        CommitteeInput {
            name: Some(self.name.clone()),
            kind: Some(self.kind),
            owning_body: Some(self.owning_body.clone()),
            topics: self.topics.clone(),
            coverage: Some(self.coverage.clone()),
            contact: self.contact.clone(),
        }
    }
}

//! Coordinator types and their rules: what the service unit writes (`CoordinatorInput`, checked as a whole), what
//! every role reads (`Coordinator`, contact fields only for some), and the list's query.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::core::types::is_district_ags;
use crate::error::Format;
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of coordinators in the history and the feed.
pub const KIND: &str = "coordinator";

text_enum! {
    /// Employment status of a coordinator.
    pub enum CoordinatorStatus {
        Active = "active",
        OnLeave = "on_leave",
        Left = "left",
    }
}

/// Contact data: personal data, shown only to the service unit, the ministry and the coordinator's district.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoordinatorContact {
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmployerRef {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Gesundheitskoordinator:in: a health coordinator of a district.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a3", "name": "Jana Hoffmann", "district": "06535",
    "employer": {"id": "0193a6a4-0000-7000-8000-000000000002", "name": "Landkreis Vogelsbergkreis"},
    "fteBasisPoints": 10000, "startDate": "2027-01-01", "endDate": null, "status": "active",
    "fundingApplicationId": null, "topics": ["gesundheitskoordination"], "erased": false,
    "contact": {"email": "jana.hoffmann@vogelsbergkreis.de", "phone": "+49 6641 977-0"},
    "version": 1, "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T09:00:00Z"}))]
pub struct Coordinator {
    pub id: Uuid,
    /// `null` once erased.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// AGS of the district the coordinator works for.
    #[schema(max_length = 5)]
    pub district: String,
    pub employer: EmployerRef,
    /// Share of a full-time post in basis points (10000 = 100 %).
    #[schema(minimum = 1, maximum = 10000)]
    pub fte_basis_points: i32,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub status: CoordinatorStatus,
    /// The approved `GK` application of the same district that funds the post.
    pub funding_application_id: Option<Uuid>,
    /// Fields of expertise: topic codes.
    #[schema(max_items = 20, max_length = 60)]
    pub topics: Vec<String>,
    /// Whether the person's data has been erased (the record is an anonymous placeholder).
    pub erased: bool,
    /// Only for the service unit, the ministry and municipalities of the same district.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<CoordinatorContact>,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Coordinator);

/// A coordinator as the service unit writes it (create body; the state a merge patch produces).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"name": "Jana Hoffmann", "email": "jana.hoffmann@vogelsbergkreis.de",
    "phone": "+49 6641 977-0", "district": "06535", "employer": "06535", "fteBasisPoints": 10000,
    "startDate": "2027-01-01", "status": "active", "topics": ["gesundheitskoordination", "telemedizin"]}))]
pub struct CoordinatorInput {
    #[validate(required, length(min = 2, max = 200))]
    #[schema(min_length = 2, max_length = 200)]
    pub name: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[validate(length(min = 3, max = 50))]
    #[schema(min_length = 3, max_length = 50)]
    pub phone: Option<String>,
    /// District AGS.
    #[validate(required)]
    #[schema(max_length = 5)]
    pub district: Option<String>,
    /// Employing organisation: its id or AGS.
    #[validate(required, length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub employer: Option<String>,
    /// Share of a full-time post in basis points: more than 0, at most 10000.
    #[validate(required, range(min = 1, max = 10000))]
    #[schema(minimum = 1, maximum = 10000)]
    pub fte_basis_points: Option<i32>,
    #[validate(required)]
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Default `active`.
    pub status: Option<CoordinatorStatus>,
    /// An approved `GK` application of the same district.
    pub funding_application_id: Option<Uuid>,
    /// Fields of expertise: codes of active topics (`GET /topics`).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topics: Vec<String>,
}

impl Checked for CoordinatorInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = crate::vocabulary::shape_errors(&self.topics, "/topics");
        if let Some(d) = &self.district
            && !is_district_ags(d)
        {
            errors.push(FieldError::new(
                "/district",
                "invalid_format",
                MessageParams::format(Format::DistrictAgs),
            ));
        }
        if let (Some(s), Some(e)) = (self.start_date, self.end_date)
            && e < s
        {
            errors.push(FieldError::new("/endDate", "dates_out_of_order", MessageParams::min(s)));
        }
        errors
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListCoordinators {
    /// District AGS.
    pub(super) district: Option<String>,
    pub(super) status: Option<CoordinatorStatus>,
    /// Case-insensitive part of the name.
    pub(super) q: Option<String>,
    /// Coordinators with expertise in this topic or one of its sub-topics (a topic code).
    pub(super) topic: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub(super) limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub(super) cursor: Option<String>,
    /// Also return the number of all matching items.
    pub(super) include_total: Option<bool>,
}

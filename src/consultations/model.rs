//! Beratungen: a consultation's channel, its public part and internal notes, follow-ups and request types.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of consultations in the history and the feed.
pub const KIND: &str = "consultation";

text_enum! {
    /// How the consultation took place.
    pub enum Channel {
        Phone = "phone",
        Email = "email",
        Video = "video",
        /// At the service unit.
        InPerson = "in_person",
        /// At the municipality.
        OnSite = "on_site",
        /// At an event (a conference, an information day).
        Event = "event",
    }
}

/// Something to do after the consultation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FollowUp {
    #[validate(length(min = 3, max = 1000))]
    #[schema(min_length = 3, max_length = 1000)]
    pub text: String,
    pub due_on: Option<NaiveDate>,
    #[serde(default)]
    pub done: bool,
}

/// A consultation as its reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b901",
    "organisationId": "0193a6a4-0000-7000-8000-000000000001", "district": "06535", "heldOn": "2026-11-20",
    "channel": "video", "topics": ["gesundheitszentren"],
    "summary": "Beratung zur Gründung eines kommunalen MVZ; Fördermöglichkeiten nach Nr. 4 der Richtlinie erläutert.",
    "internalNotes": "Bürgermeister skeptisch wegen der Trägerschaft; im Frühjahr nachfassen.",
    "followUps": [{"text": "Mustersatzung schicken", "dueOn": "2026-12-04", "done": false}],
    "referralIds": [], "applicationIds": [], "author": "serviceeinheit-1", "version": 1,
    "createdAt": "2026-11-20T15:00:00Z", "updatedAt": "2026-11-20T15:00:00Z"}))]
pub struct Consultation {
    pub id: Uuid,
    /// The municipality (or district) advised.
    pub organisation_id: Uuid,
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: String,
    pub held_on: NaiveDate,
    pub channel: Channel,
    /// Topic codes.
    #[schema(max_items = 20, max_length = 60)]
    pub topics: Vec<String>,
    /// What was discussed and advised: the part the municipality reads.
    #[schema(max_length = 10000)]
    pub summary: String,
    /// The service unit's notes (staff only; `null` for a municipality).
    #[schema(max_length = 20000)]
    pub internal_notes: Option<String>,
    #[schema(max_items = 20)]
    pub follow_ups: Vec<FollowUp>,
    /// Referrals that grew from the consultation.
    #[schema(max_items = 20)]
    pub referral_ids: Vec<Uuid>,
    /// The organisation's applications that grew from it.
    #[schema(max_items = 20)]
    pub application_ids: Vec<Uuid>,
    /// Who recorded it (staff only; `null` for a municipality).
    #[schema(max_length = 200)]
    pub author: Option<String>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Consultation);

/// A new consultation, and the state a merge patch produces (the organisation cannot change).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"organisationId": "0193a6a4-0000-7000-8000-000000000001", "heldOn": "2026-11-20",
    "channel": "video", "topics": ["gesundheitszentren"],
    "summary": "Beratung zur Gründung eines kommunalen MVZ; Fördermöglichkeiten nach Nr. 4 der Richtlinie erläutert.",
    "internalNotes": "Bürgermeister skeptisch wegen der Trägerschaft; im Frühjahr nachfassen.",
    "followUps": [{"text": "Mustersatzung schicken", "dueOn": "2026-12-04"}]}))]
pub struct ConsultationInput {
    #[validate(required)]
    #[schema(value_type = Uuid, required = true)]
    pub organisation_id: Option<Uuid>,
    #[validate(required)]
    #[schema(value_type = NaiveDate, required = true)]
    pub held_on: Option<NaiveDate>,
    #[validate(required)]
    #[schema(value_type = Channel, required = true)]
    pub channel: Option<Channel>,
    /// Codes of active topics (`GET /topics`).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topics: Vec<String>,
    #[validate(required, length(min = 3, max = 10000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 10000)]
    pub summary: Option<String>,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub internal_notes: String,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub follow_ups: Vec<FollowUp>,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub referral_ids: Vec<Uuid>,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub application_ids: Vec<Uuid>,
}

impl Checked for ConsultationInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = crate::vocabulary::shape_errors(&self.topics, "/topics");
        for (field, ids) in [
            ("referralIds", &self.referral_ids),
            ("applicationIds", &self.application_ids),
        ] {
            for (i, id) in ids.iter().enumerate() {
                if ids[..i].contains(id) {
                    errors.push(FieldError::new(
                        format!("/{field}/{i}"),
                        "duplicate",
                        MessageParams::default(),
                    ));
                }
            }
        }
        errors
    }
}

/// Filters of `GET /consultations`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListConsultations {
    /// Consultations with this organisation (staff; a municipality reads its own anyway).
    pub organisation: Option<Uuid>,
    /// Consultations in this district (AGS).
    #[param(pattern = "^06[0-9]{3}$")]
    pub district: Option<String>,
    /// Consultations about this topic or one of its sub-topics (a topic code).
    pub topic: Option<String>,
    pub channel: Option<Channel>,
    /// Only consultations held on or after this day.
    pub held_from: Option<NaiveDate>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return the number of all matching items.
    pub include_total: Option<bool>,
}

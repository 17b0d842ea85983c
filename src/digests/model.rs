//! Digest subscriptions: their frequency, filters and request types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::error::validation::Checked;
use crate::text_enum;

text_enum! {
    /// How often a digest is sent.
    pub enum Frequency {
        /// Every 24 hours.
        Daily = "daily",
        /// Every 7 days.
        Weekly = "weekly",
    }
}

impl Frequency {
    pub fn period(self) -> chrono::Duration {
        match self {
            Self::Daily => chrono::Duration::days(1),
            Self::Weekly => chrono::Duration::days(7),
        }
    }
}

/// An e-mail digest of the caller's organisation (or role).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b911", "email": "gesundheitskoordination@vogelsbergkreis.example",
    "frequency": "weekly", "eventTypes": ["*"], "topics": ["telemedizin"], "districts": ["06535"], "committees": [],
    "nextDueAt": "2026-12-13T08:00:00Z", "lastSentAt": null, "createdAt": "2026-12-06T08:00:00Z"}))]
pub struct Digest {
    pub id: Uuid,
    #[schema(max_length = 254)]
    pub email: String,
    pub frequency: Frequency,
    #[schema(max_items = 50, max_length = 100)]
    pub event_types: Vec<String>,
    #[schema(max_items = 20, max_length = 60)]
    pub topics: Vec<String>,
    #[schema(max_items = 26, max_length = 5)]
    pub districts: Vec<String>,
    #[schema(max_items = 20)]
    pub committees: Vec<Uuid>,
    /// When the next digest is sent (if anything happened).
    pub next_due_at: DateTime<Utc>,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A new digest.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"email": "gesundheitskoordination@vogelsbergkreis.example", "frequency": "weekly",
    "topics": ["telemedizin"], "districts": ["06535"]}))]
pub struct NewDigest {
    #[validate(required, email, length(max = 254))]
    #[schema(value_type = String, format = "email", required = true, max_length = 254)]
    pub email: Option<String>,
    #[validate(required)]
    #[schema(value_type = Frequency, required = true)]
    pub frequency: Option<Frequency>,
    /// Event types, or `["*"]` for all (default).
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50, max_length = 100)]
    pub event_types: Option<Vec<String>>,
    /// Only events about these topics or their sub-topics (empty: any).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topics: Vec<String>,
    /// Only events concerning these districts (empty: any).
    #[serde(default)]
    #[validate(length(max = 26))]
    #[schema(max_items = 26, max_length = 5, pattern = "^06[0-9]{3}$")]
    pub districts: Vec<String>,
    /// Only events of these committees (empty: any).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub committees: Vec<Uuid>,
}

impl Checked for NewDigest {
    fn cross_field_errors(&self) -> Vec<crate::error::FieldError> {
        crate::webhooks::event_type_errors(self.event_types.as_deref().unwrap_or_default())
    }
}

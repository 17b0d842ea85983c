//! Referrals' types and rules: states, actions and the lifecycle table, the representation, the request bodies with
//! their checks, and the list's query parameters. No database, no HTTP.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::core::identity::Role;
use crate::core::lifecycle::{self, Lifecycle, Transition};
use crate::core::types::is_district_ags;
use crate::error::Format;
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of referrals in the shared history and the event feed.
pub const KIND: &str = "referral";

text_enum! {
    /// Which way an idea or request travels.
    pub enum Direction {
        /// An idea from a region for the committees.
        RegionToCommittee = "region_to_committee",
        /// A committee's request or result for suitable regions.
        CommitteeToRegion = "committee_to_region",
    }
}

text_enum! {
    /// State of a referral.
    pub enum ReferralStatus {
        Received = "received",
        InTriage = "in_triage",
        Forwarded = "forwarded",
        Answered = "answered",
        Closed = "closed",
        Declined = "declined",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /referrals/{id}/{action}`.
    pub enum ReferralAction {
        Triage = "triage",
        Forward = "forward",
        Decline = "decline",
        Respond = "respond",
        Close = "close",
    }
}

/// The lifecycle, written once; the handlers, the 409 answers, history, events and the documentation use it.
pub const LIFECYCLE: Lifecycle<ReferralStatus, ReferralAction> = Lifecycle::new(&[
    Transition {
        action: ReferralAction::Triage,
        from: &[ReferralStatus::Received],
        to: lifecycle::Target::To(ReferralStatus::InTriage),
        roles: &[Role::ServiceUnit],
        reason_required: false,
        event: "referral.triaged",
    },
    Transition {
        action: ReferralAction::Forward,
        from: &[ReferralStatus::InTriage, ReferralStatus::Forwarded],
        to: lifecycle::Target::To(ReferralStatus::Forwarded),
        roles: &[Role::ServiceUnit],
        reason_required: false,
        event: "referral.forwarded",
    },
    Transition {
        action: ReferralAction::Decline,
        from: &[ReferralStatus::Received, ReferralStatus::InTriage],
        to: lifecycle::Target::To(ReferralStatus::Declined),
        roles: &[Role::ServiceUnit],
        reason_required: true,
        event: "referral.declined",
    },
    Transition {
        action: ReferralAction::Respond,
        from: &[ReferralStatus::Forwarded],
        to: lifecycle::Target::Computed("`answered` once every target has answered"),
        roles: &[Role::Municipality, Role::ServiceUnit],
        reason_required: true,
        event: "referral.answered",
    },
    Transition {
        action: ReferralAction::Close,
        from: &[ReferralStatus::Answered],
        to: lifecycle::Target::To(ReferralStatus::Closed),
        roles: &[Role::ServiceUnit],
        reason_required: true,
        event: "referral.closed",
    },
]);

// ---- representation ----

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamedRef {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Where a referral comes from: an organisation (with its district) or a committee.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub organisation: Option<NamedRef>,
    /// The origin organisation's district (AGS).
    #[schema(max_length = 5)]
    pub district: Option<String>,
    pub committee: Option<NamedRef>,
}

text_enum! {
    /// Whether a target has answered.
    pub enum TargetState {
        Pending = "pending",
        Answered = "answered",
    }
}

/// A committee or district a referral was forwarded to, with its own answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub id: Uuid,
    pub committee: Option<NamedRef>,
    /// District AGS, for a district target.
    #[schema(max_length = 5)]
    pub district: Option<String>,
    pub state: TargetState,
    #[schema(max_length = 10000)]
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Vermittlung: an idea or request routed by the service unit.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a5", "direction": "region_to_committee",
    "origin": {"organisation": {"id": "0193a6a4-0000-7000-8000-000000000002", "name": "Landkreis Vogelsbergkreis"},
        "district": "06535", "committee": null},
    "subject": "Telemedizinische Fallkonferenzen", "description": "Idee: Fallkonferenzen zwischen Praxen und Klinik.",
    "topics": ["telemedizin"], "dueDate": "2027-03-31", "overdue": false, "status": "forwarded", "outcome": null,
    "targets": [{"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a6",
        "committee": {"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a4", "name": "Regionale Gesundheitskonferenz Fulda-Bad Hersfeld"},
        "district": null, "state": "pending", "answer": null, "answeredAt": null}],
    "applicationIds": [], "version": 3, "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T10:00:00Z"}))]
pub struct Referral {
    pub id: Uuid,
    pub direction: Direction,
    pub origin: Origin,
    #[schema(max_length = 200)]
    pub subject: String,
    #[schema(max_length = 20000)]
    pub description: String,
    #[schema(max_items = 20, max_length = 100)]
    pub topics: Vec<String>,
    pub due_date: Option<NaiveDate>,
    /// The due date has passed and the referral is neither closed nor declined.
    pub overdue: bool,
    pub status: ReferralStatus,
    /// The result recorded when closing, or the reason of a decline.
    #[schema(max_length = 5000)]
    pub outcome: Option<String>,
    #[schema(max_items = 200)]
    pub targets: Vec<Target>,
    /// Applications that grew from this referral (those the caller may see).
    #[schema(max_items = 1000)]
    pub application_ids: Vec<Uuid>,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Referral);

// ---- requests ----

#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"direction": "region_to_committee", "subject": "Telemedizinische Fallkonferenzen",
    "description": "Idee aus dem Vogelsbergkreis: regelmäßige Fallkonferenzen zwischen Hausarztpraxen und Klinik.",
    "topics": ["telemedizin"], "dueDate": "2027-03-31"}))]
pub struct NewReferral {
    /// A municipality may only send `region_to_committee` from its own organisation.
    #[validate(required)]
    #[schema(value_type = Direction, required = true)]
    pub direction: Option<Direction>,
    #[validate(required, length(min = 3, max = 200))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 200)]
    pub subject: Option<String>,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: String,
    /// Codes of active topics (`GET /topics`).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topics: Vec<String>,
    pub due_date: Option<NaiveDate>,
    /// Service unit, `region_to_committee`: the organisation (id or AGS) the idea comes from.
    #[schema(max_length = 64)]
    #[validate(length(max = 64))]
    pub origin_organisation: Option<String>,
    /// Service unit, `committee_to_region`: the committee the request comes from.
    pub origin_committee_id: Option<Uuid>,
}

impl Checked for NewReferral {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        crate::vocabulary::shape_errors(&self.topics, "/topics")
    }
}

/// A target to forward to: a committee or a district.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewTarget {
    pub committee_id: Option<Uuid>,
    /// District AGS.
    #[schema(max_length = 5)]
    pub district: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"targets": [{"committeeId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a4"}, {"district": "06631"}],
    "note": "Bitte um Stellungnahme bis Ende März."}))]
pub struct Forwarding {
    #[validate(length(min = 1, max = 30), nested)]
    #[schema(min_items = 1, max_items = 30)]
    pub targets: Vec<NewTarget>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

impl Checked for Forwarding {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (i, t) in self.targets.iter().enumerate() {
            match (&t.committee_id, &t.district) {
                (Some(_), None) => {}
                (None, Some(d)) if is_district_ags(d) => {}
                (None, Some(_)) => errors.push(FieldError::new(
                    format!("/targets/{i}/district"),
                    "invalid_format",
                    MessageParams::format(Format::DistrictAgs),
                )),
                _ => errors.push(FieldError::new(
                    format!("/targets/{i}"),
                    "invalid_value",
                    MessageParams::allowed("{committeeId} or {district}"),
                )),
            }
        }
        errors
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"targetId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a6",
    "answer": "Die Konferenz nimmt das Thema in ihre Sitzung am 10. März auf."}))]
pub struct Response {
    #[validate(required)]
    #[schema(value_type = Uuid, required = true)]
    pub target_id: Option<Uuid>,
    #[validate(required, length(min = 1, max = 10000))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10000)]
    pub answer: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"note": "Zuständigkeit geprüft."}))]
pub struct Note {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Das Thema liegt außerhalb der Zuständigkeit der Gremien."}))]
pub struct DeclineBody {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"outcome": "Die Idee wird als Modellvorhaben (MV) beantragt."}))]
pub struct Closing {
    #[validate(required, length(min = 3, max = 5000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 5000)]
    pub outcome: Option<String>,
}

impl Checked for Response {}
impl Checked for Note {}
impl Checked for DeclineBody {}
impl Checked for Closing {}

/// What an action carries.
#[derive(Clone)]
pub(super) enum ActionInput {
    Note(Option<String>),
    Forward(Forwarding),
    Decline(String),
    Respond(Uuid, String),
    Close(String),
}

/// The most targets one referral may have (the OpenAPI document's `maxItems`), over all its forwardings.
pub(super) const MAX_TARGETS: i64 = 200;

// ---- lists ----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListReferrals {
    /// One or more states, comma-separated.
    pub(super) status: Option<String>,
    pub(super) direction: Option<Direction>,
    /// Referrals with this topic or one of its sub-topics (a topic code).
    pub(super) topic: Option<String>,
    /// Only referrals past their due date that are neither closed nor declined (`true`), or the others.
    pub(super) overdue: Option<bool>,
    /// Referrals from or forwarded to this district (AGS).
    pub(super) district: Option<String>,
    /// Referrals from or forwarded to this committee.
    pub(super) committee: Option<Uuid>,
    /// Case-insensitive part of the subject.
    pub(super) q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub(super) limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub(super) cursor: Option<String>,
    /// Also return the number of all matching items.
    pub(super) include_total: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_transition() {
        assert!(LIFECYCLE.each_action_once(ReferralAction::ALL));
        assert!(LIFECYCLE.allowed_actions(ReferralStatus::Closed).is_empty());
    }
}

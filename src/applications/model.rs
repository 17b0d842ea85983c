//! Förderantrag: the application's states, the transitions between them (as data), its request and response types,
//! and the rules a submission must satisfy.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

pub use crate::audit::history::{Actor, HistoryEntry};
use crate::core::identity::Role;
use crate::core::lifecycle::{Lifecycle, Target, Transition};
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of applications in the shared history.
pub const KIND: &str = "application";

/// Sanity ceiling for amounts: 10 billion euros in cents.
pub const MAX_CENTS: i64 = 1_000_000_000_000;

text_enum! {
    /// State of an application.
    pub enum Status {
        /// Entwurf: being written by the applicant; may be incomplete.
        Draft = "draft",
        /// Eingereicht: complete and waiting for a reviewer.
        Submitted = "submitted",
        /// In Prüfung: a reviewer is working on it.
        InReview = "in_review",
        /// Nachbesserung angefordert: back with the applicant for changes.
        ChangesRequested = "changes_requested",
        /// Bewilligt: granted; the amount is committed against the funding line's budget.
        Approved = "approved",
        /// Abgelehnt.
        Rejected = "rejected",
        /// Zurückgezogen by the applicant.
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /applications/{id}/{action}`.
    pub enum Action {
        Submit = "submit",
        Withdraw = "withdraw",
        StartReview = "start-review",
        RequestChanges = "request-changes",
        Approve = "approve",
        Reject = "reject",
    }
}

impl Status {
    /// Whether the applicant may still edit the application.
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::ChangesRequested)
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and the documentation
/// (docs/applications.md) use it.
pub const LIFECYCLE: Lifecycle<Status, Action> = Lifecycle::new(&[
    Transition {
        action: Action::Submit,
        from: &[Status::Draft, Status::ChangesRequested],
        to: Target::To(Status::Submitted),
        roles: &[Role::Municipality],
        reason_required: false,
        event: "application.submitted",
    },
    Transition {
        action: Action::Withdraw,
        from: &[
            Status::Draft,
            Status::Submitted,
            Status::InReview,
            Status::ChangesRequested,
        ],
        to: Target::To(Status::Withdrawn),
        roles: &[Role::Municipality],
        reason_required: true,
        event: "application.withdrawn",
    },
    Transition {
        action: Action::StartReview,
        from: &[Status::Submitted],
        to: Target::To(Status::InReview),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "application.review_started",
    },
    Transition {
        action: Action::RequestChanges,
        from: &[Status::InReview],
        to: Target::To(Status::ChangesRequested),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "application.changes_requested",
    },
    Transition {
        action: Action::Approve,
        from: &[Status::InReview],
        to: Target::To(Status::Approved),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "application.approved",
    },
    Transition {
        action: Action::Reject,
        from: &[Status::InReview],
        to: Target::To(Status::Rejected),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "application.rejected",
    },
]);

/// What a transition carries besides the action.
#[derive(Clone, Debug, Default)]
pub struct TransitionInput {
    pub reason: Option<String>,
    pub granted_cents: Option<i64>,
    /// The approval's grant per fiscal year, when it gives one.
    pub years: Option<Vec<(i32, i64)>>,
}

/// Finanzierungsplan: total eligible costs = own funds + third-party funds + requested grant, in cents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"totalCostsCents": 25000000, "ownFundsCents": 2500000, "thirdPartyFundsCents": 0,
    "requestedCents": 22500000, "years": [{"year": 2027, "requestedCents": 4500000}]}))]
pub struct FinancingPlan {
    /// Gesamtausgaben (eligible costs).
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub total_costs_cents: Option<i64>,
    /// Eigenmittel.
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub own_funds_cents: Option<i64>,
    /// Drittmittel.
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub third_party_funds_cents: Option<i64>,
    /// Beantragte Zuwendung.
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub requested_cents: Option<i64>,
    /// Optional breakdown of the requested grant by project year.
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub years: Option<Vec<PlanYear>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanYear {
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub requested_cents: i64,
}

/// Contact person for the application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}))]
pub struct Contact {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[validate(length(min = 3, max = 50))]
    #[schema(min_length = 3, max_length = 50)]
    pub phone: Option<String>,
}

/// The applicant-editable content of an application: the body of a create, and the state a merge patch produces.
/// Drafts may be incomplete; only field formats are checked here. Submission checks completeness and the rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({
    "fundingLine": "GK", "title": "Gesundheitskoordination Werra-Meißner-Kreis",
    "description": "Aufbau einer kommunalen Gesundheitsstrategie mit einer Personalstelle für Gesundheitskoordination.",
    "startDate": "2027-01-01", "endDate": "2031-12-31",
    "financingPlan": {"totalCostsCents": 25000000, "ownFundsCents": 2500000, "thirdPartyFundsCents": 0, "requestedCents": 22500000},
    "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}}))]
pub struct ApplicationInput {
    /// Code of the funding line applied for.
    #[validate(required, length(min = 1, max = 10))]
    #[schema(min_length = 1, max_length = 10)]
    pub funding_line: Option<String>,
    /// Vorhabenbezeichnung, 3–200 characters.
    #[validate(required, length(min = 3, max = 200))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: Option<String>,
    /// Problem, goal, approach and milestones; up to 20,000 characters.
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: String,
    /// First day of the project period (Durchführungszeitraum).
    pub start_date: Option<NaiveDate>,
    /// Last day of the project period.
    pub end_date: Option<NaiveDate>,
    #[serde(default)]
    #[validate(nested)]
    pub financing_plan: FinancingPlan,
    #[serde(default)]
    #[validate(nested)]
    pub contact: Contact,
    /// The referral the application grew from, if any.
    pub referral_id: Option<Uuid>,
    /// What the project is about: codes of active topics (`GET /topics`).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topics: Vec<String>,
}

impl Checked for ApplicationInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = crate::vocabulary::shape_errors(&self.topics, "/topics");
        if let (Some(s), Some(e)) = (self.start_date, self.end_date)
            && e < s
        {
            errors.push(FieldError::new("/endDate", "dates_out_of_order", MessageParams::min(s)));
        }
        if let Some(years) = &self.financing_plan.years {
            let mut seen = std::collections::HashSet::new();
            if !years.iter().all(|y| seen.insert(y.year)) {
                errors.push(FieldError::new(
                    "/financingPlan/years",
                    "duplicate",
                    MessageParams::default(),
                ));
            }
        }
        errors
    }
}

/// The organisation that applies, as shown on an application.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationRef {
    pub id: Uuid,
    #[schema(max_length = 8)]
    pub ags: Option<String>,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Förderantrag: a funding application.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1",
    "organisation": {"id": "0193a6a4-0000-7000-8000-000000000001", "ags": "06636", "name": "Landkreis Werra-Meißner-Kreis"},
    "district": "06636", "fundingLine": "GK", "status": "submitted",
    "title": "Gesundheitskoordination Werra-Meißner-Kreis",
    "description": "Aufbau einer kommunalen Gesundheitsstrategie.",
    "startDate": "2027-01-01", "endDate": "2031-12-31",
    "financingPlan": {"totalCostsCents": 25000000, "ownFundsCents": 2500000, "thirdPartyFundsCents": 0, "requestedCents": 22500000},
    "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"},
    "referralId": null, "grantedCents": null, "decisionReason": null, "version": 3,
    "createdAt": "2026-11-20T09:00:00Z", "updatedAt": "2026-11-21T10:00:00Z",
    "submittedAt": "2026-11-21T10:00:00Z", "decidedAt": null, "topics": ["gesundheitskoordination"]}))]
pub struct Application {
    pub id: Uuid,
    pub organisation: OrganisationRef,
    /// AGS of the applicant's district.
    #[schema(max_length = 5)]
    pub district: String,
    #[schema(max_length = 10)]
    pub funding_line: String,
    pub status: Status,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 20000)]
    pub description: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub financing_plan: FinancingPlan,
    pub contact: Contact,
    pub referral_id: Option<Uuid>,
    /// The approved grant, in cents (only when approved).
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub granted_cents: Option<i64>,
    /// The reason given with the last decision, request for changes or withdrawal (or the approval's note).
    #[schema(max_length = 2000)]
    pub decision_reason: Option<String>,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Topic codes.
    #[schema(max_items = 20, max_length = 60)]
    pub topics: Vec<String>,
}

crate::versioned!(Application);

impl Application {
    /// The editable part, as a merge patch applies to it.
    pub fn input(&self) -> ApplicationInput {
        ApplicationInput {
            funding_line: Some(self.funding_line.clone()),
            title: Some(self.title.clone()),
            description: self.description.clone(),
            start_date: self.start_date,
            end_date: self.end_date,
            financing_plan: self.financing_plan.clone(),
            contact: self.contact.clone(),
            referral_id: self.referral_id,
            topics: self.topics.clone(),
        }
    }
}

/// A comment on an application.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a2",
    "author": {"sub": "serviceeinheit-1", "role": "service_unit", "organisationId": null},
    "body": "Bitte die Kooperation mit dem Gesundheitsamt beschreiben.", "internal": false,
    "createdAt": "2026-11-21T10:00:00Z"}))]
pub struct Comment {
    pub id: Uuid,
    pub author: Actor,
    #[schema(max_length = 10000)]
    pub body: String,
    /// Seen only by the service unit and the ministry.
    pub internal: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"body": "Bitte die Kooperation mit dem Gesundheitsamt beschreiben.", "internal": false}))]
pub struct NewComment {
    #[validate(required, length(min = 1, max = 10000))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10000)]
    pub body: Option<String>,
    /// Only the service unit and the ministry may write internal comments.
    #[serde(default)]
    pub internal: bool,
}

impl Checked for NewComment {}

/// Body of `withdraw`, `request-changes` and `reject`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Bitte den Finanzierungsplan nach Jahren aufschlüsseln."}))]
pub struct Reason {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for Reason {}

/// Body of `approve`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"grantedCents": 22500000, "note": "Bewilligt gemäß Teil II Nr. 1 der Richtlinie."}))]
pub struct Approval {
    /// The grant, in cents; at most the requested amount and the funding line's remaining budget.
    #[validate(required, range(min = 1, max = MAX_CENTS))]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 1000000000000i64)]
    pub granted_cents: Option<i64>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// The grant per fiscal year, summing to `grantedCents`, each year within the project period. Without it the
    /// application's yearly breakdown is scaled to the grant; a project within one calendar year needs neither.
    #[validate(length(min = 1, max = 11), nested)]
    #[schema(min_items = 1, max_items = 11)]
    pub years: Option<Vec<GrantYear>>,
}

impl Checked for Approval {}

/// One fiscal year's share of a grant.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GrantYear {
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub granted_cents: i64,
}

/// Body of `submit` and `start-review`: empty, or an empty object.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoBody {}

impl Checked for NoBody {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_transition() {
        assert!(LIFECYCLE.each_action_once(Action::ALL));
        assert_eq!(LIFECYCLE.allowed_actions(Status::Approved), vec![]);
        assert_eq!(
            LIFECYCLE.allowed_actions(Status::Draft),
            vec![Action::Submit, Action::Withdraw]
        );
    }
}

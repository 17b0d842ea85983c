//! Zustimmung zum vorzeitigen Maßnahmebeginn: the ministry's consent that a project may begin before its approval.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::core::identity::Role;
use crate::core::lifecycle::{Lifecycle, Target, Transition};
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of early-start consents in the history and the feed.
pub const KIND: &str = "early_start_consent";

text_enum! {
    /// State of an early-start request.
    pub enum ConsentStatus {
        /// Waiting for the ministry (a duty in `/obligations`, due on the day the recipient means to begin).
        Requested = "requested",
        /// Consented: the project may begin from `startOn` without losing its eligibility (no promise of a grant).
        Granted = "granted",
        /// Refused, with a reason.
        Refused = "refused",
        /// Withdrawn by the recipient.
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /early-start-consents/{id}/{action}`.
    pub enum ConsentAction {
        Grant = "grant",
        Refuse = "refuse",
        Withdraw = "withdraw",
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/grants.md use it.
pub const LIFECYCLE: Lifecycle<ConsentStatus, ConsentAction> = Lifecycle::new(&[
    Transition {
        action: ConsentAction::Grant,
        from: &[ConsentStatus::Requested],
        to: Target::To(ConsentStatus::Granted),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "early_start_consent.granted",
    },
    Transition {
        action: ConsentAction::Refuse,
        from: &[ConsentStatus::Requested],
        to: Target::To(ConsentStatus::Refused),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "early_start_consent.refused",
    },
    Transition {
        action: ConsentAction::Withdraw,
        from: &[ConsentStatus::Requested, ConsentStatus::Granted],
        to: Target::To(ConsentStatus::Withdrawn),
        roles: &[Role::Municipality],
        reason_required: false,
        event: "early_start_consent.withdrawn",
    },
]);

/// The applicant organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsentApplicant {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// A request to begin a project before its approval, and the ministry's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarlyStartConsent {
    pub id: Uuid,
    pub application_id: Uuid,
    pub applicant: ConsentApplicant,
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: String,
    #[schema(max_length = 10)]
    pub funding_line: String,
    /// The day the recipient means to begin: its first binding supply or service contract (for a GK post, signing
    /// the employment contract). A consent covers a project whose start is on or after it.
    pub start_on: NaiveDate,
    /// Why the project cannot wait for the approval.
    #[schema(max_length = 2000)]
    pub reason: String,
    /// The recipient's declaration that the project has not begun (always `true`).
    pub not_yet_begun: bool,
    /// The day of the request (the consent is never retroactive: `startOn` is not before it).
    pub requested_on: NaiveDate,
    pub status: ConsentStatus,
    #[schema(max_length = 200)]
    pub decided_by: Option<String>,
    /// The ministry's reason for a refusal, or its note to a consent.
    #[schema(max_length = 2000)]
    pub decision_reason: Option<String>,
    #[schema(max_items = 3)]
    pub allowed_actions: Vec<ConsentAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(EarlyStartConsent);

/// Body of `POST /applications/{id}/early-start-consents`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"startOn": "2027-01-04", "notYetBegun": true,
    "reason": "Die Koordinatorin steht nur zum Januar zur Verfügung; der Arbeitsvertrag muss im Dezember unterschrieben werden."}))]
pub struct NewEarlyStartConsent {
    /// The day the recipient means to begin; not before today (a consent is never retroactive).
    #[validate(required)]
    #[schema(value_type = NaiveDate, required = true)]
    pub start_on: Option<NaiveDate>,
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
    /// Must be `true`: the recipient declares that the project has not begun (no binding contract yet).
    #[validate(required)]
    #[schema(value_type = bool, required = true)]
    pub not_yet_begun: Option<bool>,
}

impl Checked for NewEarlyStartConsent {
    /// A project already begun cannot be consented to.
    fn cross_field_errors(&self) -> Vec<FieldError> {
        match self.not_yet_begun {
            Some(false) => vec![FieldError::new(
                "/notYetBegun",
                "must_be_true",
                MessageParams::default(),
            )],
            _ => Vec::new(),
        }
    }
}

/// Body of `grant`: an optional note.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Die Zustimmung begründet keinen Anspruch auf eine Zuwendung."}))]
pub struct ConsentNote {
    #[validate(length(min = 3, max = 2000))]
    #[schema(min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for ConsentNote {}

/// Body of `refuse`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Ein Beginn vor der Bewilligung ist nicht begründet."}))]
pub struct ConsentRefusal {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for ConsentRefusal {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListEarlyStartConsents {
    pub(super) status: Option<ConsentStatus>,
    pub(super) application_id: Option<Uuid>,
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
    fn each_action_has_one_transition() {
        assert!(LIFECYCLE.each_action_once(ConsentAction::ALL));
    }
}

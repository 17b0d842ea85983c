//! Änderungsmitteilungen und Änderungsanträge: what the recipient reports or asks to change during the project.

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

/// The resource kind of change requests in the history and the feed.
pub const KIND: &str = "change_request";

text_enum! {
    /// What the recipient reports (Mitteilungspflichten, ANBest Nr. 5) or asks for (an amendment).
    pub enum ChangeKind {
        /// Further funding for the same purpose (report).
        FurtherFunding = "further_funding",
        /// The purpose or circumstances decisive for the grant changed (report).
        PurposeChange = "purpose_change",
        /// The purpose cannot be reached (report).
        PurposeUnreachable = "purpose_unreachable",
        /// Funds paid out are not needed within the payout window (report).
        FundsNotNeeded = "funds_not_needed",
        /// Insolvency proceedings (report).
        Insolvency = "insolvency",
        /// Anything else the recipient must report.
        OtherReport = "other_report",
        /// Extension of the approval period (amendment: `proposedPeriodEnd`).
        Extension = "extension",
        /// A new breakdown by fiscal year (amendment: `proposedYears`).
        NewBreakdown = "new_breakdown",
        /// Moving money between plan lines beyond the tolerance (amendment).
        PlanShift = "plan_shift",
        /// An increase of the grant (amendment: `proposedYears`).
        Increase = "increase",
    }
}

impl ChangeKind {
    /// Whether the recipient asks for an amendment (decided: granted or refused) rather than reports (acknowledged).
    pub fn is_amendment(self) -> bool {
        matches!(
            self,
            Self::Extension | Self::NewBreakdown | Self::PlanShift | Self::Increase
        )
    }
}

text_enum! {
    /// State of a change request.
    pub enum ChangeStatus {
        /// Waiting for the ministry (a duty in `/obligations`, 30 days).
        Submitted = "submitted",
        /// A report the ministry took note of.
        Acknowledged = "acknowledged",
        /// An amendment granted: its amending notice is drafted (`amendingNoticeId`).
        Granted = "granted",
        /// An amendment refused, with a reason.
        Refused = "refused",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /change-requests/{id}/{action}`.
    pub enum ChangeAction {
        Acknowledge = "acknowledge",
        Grant = "grant",
        Refuse = "refuse",
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/grants.md use it.
pub const LIFECYCLE: Lifecycle<ChangeStatus, ChangeAction> = Lifecycle::new(&[
    Transition {
        action: ChangeAction::Acknowledge,
        from: &[ChangeStatus::Submitted],
        to: Target::To(ChangeStatus::Acknowledged),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "change_request.acknowledged",
    },
    Transition {
        action: ChangeAction::Grant,
        from: &[ChangeStatus::Submitted],
        to: Target::To(ChangeStatus::Granted),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "change_request.granted",
    },
    Transition {
        action: ChangeAction::Refuse,
        from: &[ChangeStatus::Submitted],
        to: Target::To(ChangeStatus::Refused),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "change_request.refused",
    },
]);

/// One fiscal year's amount in a proposed breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProposedYear {
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[validate(range(min = 0, max = 1_000_000_000_000i64))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub amount_cents: i64,
}

/// The recipient organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reporter {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// A change report or amendment request of a grant's recipient.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequest {
    pub id: Uuid,
    /// The notice in force when the request was made.
    pub notice_id: Uuid,
    pub application_id: Uuid,
    pub recipient: Reporter,
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: String,
    #[schema(max_length = 10)]
    pub funding_line: String,
    pub kind: ChangeKind,
    /// Whether it asks for an amendment (decided) rather than reports (acknowledged).
    pub amendment: bool,
    #[schema(max_length = 5000)]
    pub description: String,
    pub proposed_period_end: Option<NaiveDate>,
    #[schema(max_items = 10)]
    pub proposed_years: Option<Vec<ProposedYear>>,
    pub status: ChangeStatus,
    #[schema(max_length = 200)]
    pub decided_by: Option<String>,
    /// Why an amendment was refused.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// The amending notice a granted request drafted (another ministry person issues it).
    pub amending_notice_id: Option<Uuid>,
    #[schema(max_items = 5)]
    pub allowed_actions: Vec<ChangeAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(ChangeRequest);

/// Body of `POST /grant-notices/{id}/change-requests`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"kind": "extension", "description": "Die Stelle konnte erst im März besetzt werden.",
    "proposedPeriodEnd": "2029-12-31"}))]
pub struct NewChangeRequest {
    #[validate(required)]
    #[schema(value_type = ChangeKind, required = true)]
    pub kind: Option<ChangeKind>,
    #[validate(required, length(min = 3, max = 5000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 5000)]
    pub description: Option<String>,
    pub proposed_period_end: Option<NaiveDate>,
    #[validate(length(min = 1, max = 10), nested)]
    #[schema(min_items = 1, max_items = 10)]
    pub proposed_years: Option<Vec<ProposedYear>>,
}

impl Checked for NewChangeRequest {
    /// A report proposes nothing; an extension names the new end, a new breakdown or an increase the years.
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let Some(kind) = self.kind else {
            return errors;
        };
        if !kind.is_amendment() {
            for (field, given) in [
                ("/proposedPeriodEnd", self.proposed_period_end.is_some()),
                ("/proposedYears", self.proposed_years.is_some()),
            ] {
                if given {
                    errors.push(FieldError::new(field, "not_allowed", MessageParams::detail(kind)));
                }
            }
        }
        if kind == ChangeKind::Extension && self.proposed_period_end.is_none() {
            errors.push(FieldError::new(
                "/proposedPeriodEnd",
                "required",
                MessageParams::default(),
            ));
        }
        if matches!(kind, ChangeKind::NewBreakdown | ChangeKind::Increase) && self.proposed_years.is_none() {
            errors.push(FieldError::new("/proposedYears", "required", MessageParams::default()));
        }
        errors
    }
}

/// Body of `refuse`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Eine Verlängerung ist haushaltsrechtlich nicht möglich."}))]
pub struct Refusal {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for Refusal {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListChangeRequests {
    pub(super) status: Option<ChangeStatus>,
    pub(super) kind: Option<ChangeKind>,
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
        assert!(LIFECYCLE.each_action_once(ChangeAction::ALL));
    }
}

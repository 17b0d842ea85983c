//! Rückforderung: the recovery claim's states, its lifecycle (as data) and its request and response types.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

pub use crate::base_rates::InterestPeriod;
use crate::core::identity::Role;
use crate::core::lifecycle::{Lifecycle, Target, Transition};
use crate::error::validation::Checked;
use crate::text_enum;

/// The resource kind of recovery claims in the history and the feed.
pub const KIND: &str = "recovery_claim";

text_enum! {
    /// State of a recovery claim.
    pub enum ClaimStatus {
        /// Anhörung: the recipient may answer until `hearingUntil`.
        Hearing = "hearing",
        /// Rückforderungsbescheid: the ministry decided the claim.
        Decided = "decided",
        /// Repaid, with the day; the interest is fixed.
        Paid = "paid",
        /// Repaid in instalments (Ratenzahlung).
        InInstalments = "in_instalments",
        /// Waived, with a reason (Niederschlagung/Erlass).
        Waived = "waived",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /recovery-claims/{id}/{action}`.
    pub enum ClaimAction {
        Respond = "respond",
        Decide = "decide",
        RecordPayment = "record-payment",
        AgreeInstalments = "agree-instalments",
        Waive = "waive",
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/grants.md use it.
pub const LIFECYCLE: Lifecycle<ClaimStatus, ClaimAction> = Lifecycle::new(&[
    Transition {
        action: ClaimAction::Respond,
        from: &[ClaimStatus::Hearing],
        to: Target::To(ClaimStatus::Hearing),
        roles: &[Role::Municipality],
        reason_required: false,
        event: "recovery_claim.answered",
    },
    Transition {
        action: ClaimAction::Decide,
        from: &[ClaimStatus::Hearing],
        to: Target::To(ClaimStatus::Decided),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "recovery_claim.decided",
    },
    Transition {
        action: ClaimAction::RecordPayment,
        from: &[ClaimStatus::Decided, ClaimStatus::InInstalments],
        to: Target::To(ClaimStatus::Paid),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "recovery_claim.paid",
    },
    Transition {
        action: ClaimAction::AgreeInstalments,
        from: &[ClaimStatus::Decided],
        to: Target::To(ClaimStatus::InInstalments),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "recovery_claim.instalments_agreed",
    },
    Transition {
        action: ClaimAction::Waive,
        from: &[ClaimStatus::Decided, ClaimStatus::InInstalments],
        to: Target::To(ClaimStatus::Waived),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "recovery_claim.waived",
    },
]);

/// The recipient organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Debtor {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Rückforderung: what was paid beyond what is due, reclaimed with interest after a hearing.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryClaim {
    pub id: Uuid,
    pub settlement_id: Uuid,
    pub notice_id: Uuid,
    pub application_id: Uuid,
    pub recipient: Debtor,
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: String,
    #[schema(max_length = 10)]
    pub funding_line: String,
    pub status: ClaimStatus,
    /// What is reclaimed (the settlement's overpayment); 0 for a claim of late-use interest alone.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub principal_cents: i64,
    /// Interest runs from this day (§ 49a Abs. 3 HVwVfG).
    pub interest_from: NaiveDate,
    /// Interest runs until this day: the repayment day, else today or the last day the base-rate table covers.
    pub interest_until: Option<NaiveDate>,
    /// 5 percentage points above the base rate, day by day; 0 below the line's small-amount threshold.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub interest_cents: i64,
    #[schema(max_items = 400)]
    pub interest_periods: Vec<InterestPeriod>,
    /// Interest below this is not charged.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub interest_threshold_cents: i64,
    /// Interest on funds paid out and not used within the payout window, from the payout to the use (§ 49a Abs. 4
    /// HVwVfG), as the settlement computed it (`lateUse` there); 0 below the small-amount threshold.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub late_use_interest_cents: i64,
    /// principalCents + interestCents + lateUseInterestCents (0 once waived).
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub total_cents: i64,
    /// Last day of the hearing.
    pub hearing_until: NaiveDate,
    /// The recipient's answer to the hearing.
    #[schema(max_length = 10000)]
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// Another ministry person than the one who raised the claim.
    #[schema(max_length = 200)]
    pub decided_by: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub paid_on: Option<NaiveDate>,
    #[schema(minimum = 2, maximum = 120)]
    pub instalments: Option<i32>,
    pub first_instalment_on: Option<NaiveDate>,
    /// Why the claim was waived.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    #[schema(max_length = 200)]
    pub created_by: String,
    #[schema(max_items = 10)]
    pub allowed_actions: Vec<ClaimAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(RecoveryClaim);

/// Body of `POST /settlements/{id}/recovery-claim`.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"interestFrom": "2029-03-01"}))]
pub struct NewClaim {
    /// The day the notice's effect ended, from which interest runs (default: the day of the settlement's
    /// confirmation).
    pub interest_from: Option<NaiveDate>,
}

impl Checked for NewClaim {}

/// Body of `respond`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"answer": "Die Minderausgaben beruhen auf der späten Stellenbesetzung."}))]
pub struct Answer {
    #[validate(required, length(min = 3, max = 10000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 10000)]
    pub answer: Option<String>,
}

impl Checked for Answer {}

/// Body of `record-payment`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"paidOn": "2029-05-02"}))]
pub struct Repayment {
    #[validate(required)]
    #[schema(value_type = NaiveDate, required = true)]
    pub paid_on: Option<NaiveDate>,
}

impl Checked for Repayment {}

/// Body of `agree-instalments`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"instalments": 6, "firstInstalmentOn": "2029-06-01"}))]
pub struct InstalmentPlan {
    #[validate(required, range(min = 2, max = 120))]
    #[schema(value_type = i32, required = true, minimum = 2, maximum = 120)]
    pub instalments: Option<i32>,
    #[validate(required)]
    #[schema(value_type = NaiveDate, required = true)]
    pub first_instalment_on: Option<NaiveDate>,
}

impl Checked for InstalmentPlan {}

/// Body of `waive`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Die Forderung ist nicht beitreibbar."}))]
pub struct ClaimWaiver {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for ClaimWaiver {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListClaims {
    pub(super) status: Option<ClaimStatus>,
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
        assert!(LIFECYCLE.each_action_once(ClaimAction::ALL));
    }
}

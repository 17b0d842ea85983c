//! Schlussabrechnung: the settlement's states, its lifecycle (as data) and its response type.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::core::identity::Role;
use crate::core::lifecycle::{Lifecycle, Target, Transition};
use crate::grant_notices::FinancingType;
use crate::text_enum;

/// The resource kind of settlements in the history and the feed.
pub const KIND: &str = "settlement";

text_enum! {
    /// State of a settlement.
    pub enum SettlementStatus {
        /// Computed from the accepted proofs of use and proposed by a ministry person.
        Proposed = "proposed",
        /// Confirmed by another ministry person: the notice is closed, the unused commitment released.
        Confirmed = "confirmed",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /settlements/{id}/{action}`.
    pub enum SettlementAction {
        Confirm = "confirm",
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/grants.md use it.
pub const LIFECYCLE: Lifecycle<SettlementStatus, SettlementAction> = Lifecycle::new(&[Transition {
    action: SettlementAction::Confirm,
    from: &[SettlementStatus::Proposed],
    to: Target::To(SettlementStatus::Confirmed),
    roles: &[Role::Ministry],
    reason_required: false,
    event: "settlement.confirmed",
}]);

/// The recipient organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementRecipient {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Schlussabrechnung of a grant: what was planned, what the proofs of use admitted, what the grant comes to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "3f2b1c1e-7d0a-5c3e-9a57-52f3e2d0b8d1", "noticeId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8c1",
    "applicationId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "recipient": {"id": "0193a6a4-0000-7000-8000-000000000001",
    "name": "Werra-Meißner-Kreis"}, "district": "06636", "fundingLine": "GK", "status": "proposed",
    "financingType": "anteilsfinanzierung", "grantedCents": 8000000, "rateBasisPoints": 8000,
    "plannedEligibleCents": 10000000, "admittedCents": 9000000, "plannedOtherIncomeCents": 1000000,
    "actualOtherIncomeCents": 1000000, "toleranceBasisPoints": 2000, "eligibleCents": 9000000, "notEligibleCents": 0,
    "dueCents": 7200000, "reductionCents": 800000, "reason": "lower_expenditure", "paidCents": 7500000,
    "overpaidCents": 300000, "outstandingCents": 0, "lateUse": [], "lateUseInterestCents": 0,
    "releasedCents": null, "proposedBy": "pruefer-1",
    "confirmedBy": null, "allowedActions": ["confirm"], "version": 1,
    "createdAt": "2030-03-01T10:00:00Z", "updatedAt": "2030-03-01T10:00:00Z"}))]
pub struct Settlement {
    pub id: Uuid,
    /// The notice settled (closed on confirmation).
    pub notice_id: Uuid,
    pub application_id: Uuid,
    pub recipient: SettlementRecipient,
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: String,
    #[schema(max_length = 10)]
    pub funding_line: String,
    pub status: SettlementStatus,
    pub financing_type: FinancingType,
    /// The notice's amount.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub granted_cents: i64,
    #[schema(minimum = 0, maximum = 10000)]
    pub rate_basis_points: i32,
    /// The notice's eligible costs (the plan).
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub planned_eligible_cents: i64,
    /// Σ of what the accepted proofs of use admitted.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub admitted_cents: i64,
    /// Own and third-party funds in the financing plan.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub planned_other_income_cents: i64,
    /// Own and third-party funds the accepted proofs report.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub actual_other_income_cents: i64,
    /// How far a plan line may exceed its planned amount where savings elsewhere cover it.
    #[schema(minimum = 0, maximum = 10000)]
    pub tolerance_basis_points: i32,
    /// The eligible expenditure the settlement counts.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub eligible_cents: i64,
    /// What was admitted but is not eligible (beyond the plan and its tolerance).
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub not_eligible_cents: i64,
    /// What the grant comes to.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub due_cents: i64,
    /// grantedCents − dueCents.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub reduction_cents: i64,
    /// Why the grant shrank: `none`, `lower_expenditure`, `higher_other_income`,
    /// `lower_expenditure_and_higher_other_income`.
    #[schema(max_length = 60)]
    pub reason: String,
    /// What was paid out when the settlement was computed.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub paid_cents: i64,
    /// Paid beyond what is due: to be reclaimed.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub overpaid_cents: i64,
    /// Due beyond what was paid: still to be paid out.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub outstanding_cents: i64,
    /// Parts of payouts used only after the payout window (§ 49a Abs. 4 HVwVfG), with interest from the payout to
    /// the use, computed from the paid payment requests and the receipts of the accepted proofs of use.
    #[schema(max_items = 1000)]
    pub late_use: Vec<LateUsePart>,
    /// Σ of the late uses' interest (charged by the recovery claim).
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub late_use_interest_cents: i64,
    /// What the confirmation gave back to the line's fiscal-year budgets.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub released_cents: Option<i64>,
    #[schema(max_length = 200)]
    pub proposed_by: String,
    /// Another ministry person than the proposer.
    #[schema(max_length = 200)]
    pub confirmed_by: Option<String>,
    #[schema(max_items = 5)]
    pub allowed_actions: Vec<SettlementAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Settlement);

/// A part of one payout used only after the payout window: interest from the payout through the day before the use.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LateUsePart {
    /// The payout.
    pub paid_on: NaiveDate,
    /// The day the money was used (a receipt's payment day).
    pub used_on: NaiveDate,
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub cents: i64,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub interest_cents: i64,
    #[schema(max_items = 400)]
    pub interest_periods: Vec<crate::base_rates::InterestPeriod>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListSettlements {
    pub(super) status: Option<SettlementStatus>,
    /// Funding line code.
    pub(super) funding_line: Option<String>,
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
        assert!(LIFECYCLE.each_action_once(SettlementAction::ALL));
    }
}

//! Fristen: the duties with a due date that the API knows of, and the reminders it sends before and after them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::text_enum;

/// The resource kind of reminder events in the feed (`obligation.due_soon`, `obligation.overdue`).
pub const KIND: &str = "obligation";

text_enum! {
    /// What is due.
    pub enum Duty {
        /// The recipient submits a proof of use (Zwischen- or Verwendungsnachweis) by its due date.
        ProofSubmit = "proof_of_use.submit",
        /// The ministry signs off a payment request before the first expense it pays for falls due.
        PaymentSignOff = "payment_request.sign_off",
        /// The recipient's last day to object to an issued notice (it is final the day after).
        ObjectionPeriod = "grant_notice.objection_period",
        /// The recipient's last day to answer the hearing on a recovery claim.
        Hearing = "recovery_claim.hearing",
        /// The ministry answers a change report or amendment request within 30 days.
        ChangeDecision = "change_request.decide",
        /// The recipient repays a decided recovery claim within a month of the decision, or one agreed in
        /// instalments by its last instalment.
        Repayment = "recovery_claim.repay",
        /// The ministry decides an early-start request before the day the recipient means to begin.
        EarlyStartDecision = "early_start_consent.decide",
        /// The assignee of a meeting's action item completes it by its due date.
        ActionItem = "action_item.complete",
        /// The service unit checks a published knowledge entry again by its review date.
        KnowledgeReview = "knowledge_entry.review",
    }
}

text_enum! {
    /// Who has to act.
    pub enum Party {
        /// The recipient organisation.
        Municipality = "municipality",
        /// The ministry.
        Ministry = "ministry",
        /// The service unit (Serviceeinheit Gesundheitsversorgung).
        ServiceUnit = "service_unit",
        /// A committee (its secretariat; the service unit follows it up).
        Committee = "committee",
    }
}

text_enum! {
    /// Where a duty stands today (Europe/Berlin).
    pub enum DueState {
        /// Due later than the longest reminder lead time.
        Open = "open",
        /// Due within the longest lead time (default 14 days).
        DueSoon = "due_soon",
        /// Past its due date.
        Overdue = "overdue",
    }
}

/// One open duty.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"duty": "proof_of_use.submit", "resourceKind": "proof_of_use",
    "resourceId": "2ce848ef-2909-5338-b799-e5dbd51c8517", "href": "/api/v1/proofs-of-use/2ce848ef-2909-5338-b799-e5dbd51c8517",
    "organisationId": "0193a6a4-0000-7000-8000-000000000001", "district": "06636", "party": "municipality",
    "dueOn": "2028-04-30", "daysLeft": 12, "state": "due_soon"}))]
pub struct Obligation {
    pub duty: Duty,
    /// The kind of the resource the duty is about (`proof_of_use`, `payment_request`, `grant_notice`,
    /// `action_item`, `knowledge_entry`, ...).
    #[schema(max_length = 40)]
    pub resource_kind: String,
    pub resource_id: Uuid,
    /// Where to read the resource.
    #[schema(max_length = 200)]
    pub href: String,
    /// The organisation that has to act or is concerned; `null` for duties of the service unit or a committee.
    pub organisation_id: Option<Uuid>,
    /// That organisation's district.
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: Option<String>,
    pub party: Party,
    pub due_on: NaiveDate,
    /// Days from today (Europe/Berlin) to the due date; negative when overdue.
    #[schema(minimum = -100000, maximum = 100000)]
    pub days_left: i64,
    pub state: DueState,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListObligations {
    pub(super) duty: Option<Duty>,
    /// Who has to act.
    pub(super) party: Option<Party>,
    /// Only duties due on or before this day.
    pub(super) due_before: Option<NaiveDate>,
    /// Only duties past their due date (`true`) or not yet (`false`).
    pub(super) overdue: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub(super) limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub(super) cursor: Option<String>,
    /// Also return the number of all matching items.
    pub(super) include_total: Option<bool>,
}

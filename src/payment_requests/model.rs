//! Mittelabruf: the payment request's states, its lifecycle (as data), its types and the rules a request must meet.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::core::identity::Role;
use crate::core::lifecycle::{Lifecycle, Target, Transition};
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::text_enum;

/// The resource kind of payment requests in the history and the feed.
pub const KIND: &str = "payment_request";

/// Sanity ceiling for amounts: 10 billion euros in cents.
pub const MAX_CENTS: i64 = 1_000_000_000_000;

text_enum! {
    /// State of a payment request.
    pub enum PaymentStatus {
        /// Entwurf of the recipient.
        Draft = "draft",
        /// Eingereicht: waiting for the ministry's check.
        Submitted = "submitted",
        /// Sachlich richtig: a ministry reviewer confirmed the need.
        Checked = "checked",
        /// Rechnerisch richtig and ordered for payment, by another person (and a third above the line's threshold).
        Approved = "approved",
        /// Ausgezahlt: paid, with the payment date and the cash office's reference.
        Paid = "paid",
        /// Back with the recipient for correction.
        Returned = "returned",
        /// Abgelehnt, with a reason.
        Rejected = "rejected",
        /// Zurückgezogen by the recipient before the check.
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /payment-requests/{id}/{action}`.
    pub enum PaymentAction {
        Submit = "submit",
        Cancel = "cancel",
        Check = "check",
        Return = "return",
        Reject = "reject",
        Approve = "approve",
        Pay = "pay",
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/grants.md use it.
pub const LIFECYCLE: Lifecycle<PaymentStatus, PaymentAction> = Lifecycle::new(&[
    Transition {
        action: PaymentAction::Submit,
        from: &[PaymentStatus::Draft, PaymentStatus::Returned],
        to: Target::To(PaymentStatus::Submitted),
        roles: &[Role::Municipality],
        reason_required: false,
        event: "payment_request.submitted",
    },
    Transition {
        action: PaymentAction::Cancel,
        from: &[PaymentStatus::Draft, PaymentStatus::Submitted, PaymentStatus::Returned],
        to: Target::To(PaymentStatus::Cancelled),
        roles: &[Role::Municipality],
        reason_required: false,
        event: "payment_request.cancelled",
    },
    Transition {
        action: PaymentAction::Check,
        from: &[PaymentStatus::Submitted],
        to: Target::To(PaymentStatus::Checked),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "payment_request.checked",
    },
    Transition {
        action: PaymentAction::Return,
        from: &[PaymentStatus::Submitted, PaymentStatus::Checked],
        to: Target::To(PaymentStatus::Returned),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "payment_request.returned",
    },
    Transition {
        action: PaymentAction::Reject,
        from: &[PaymentStatus::Submitted, PaymentStatus::Checked],
        to: Target::To(PaymentStatus::Rejected),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "payment_request.rejected",
    },
    Transition {
        action: PaymentAction::Approve,
        from: &[PaymentStatus::Checked],
        to: Target::Computed("approved; above the line's threshold the first approval keeps it checked"),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "payment_request.approved",
    },
    Transition {
        action: PaymentAction::Pay,
        from: &[PaymentStatus::Approved],
        to: Target::To(PaymentStatus::Paid),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "payment_request.paid",
    },
]);

/// One expense the request is for, due soon after the payout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DueExpense {
    #[validate(length(min = 3, max = 500))]
    #[schema(min_length = 3, max_length = 500)]
    pub description: String,
    #[validate(range(min = 1, max = MAX_CENTS))]
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub amount_cents: i64,
    /// The day the payment to the payee is due.
    pub due_on: NaiveDate,
}

/// The recipient organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payee {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Mittelabruf: what the recipient asks to be paid out, for which due expenses, and how far it got.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8d1", "noticeId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8c1",
    "applicationId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "recipient": {"id": "0193a6a4-0000-7000-8000-000000000001",
    "name": "Werra-Meißner-Kreis"}, "district": "06636", "fundingLine": "GK", "fiscalYear": 2027, "amountCents": 1600000,
    "expenses": [{"description": "Personalkosten Gesundheitskoordination Januar–Februar", "amountCents": 2000000, "dueOn": "2027-02-28"}],
    "dueExpensesCents": 2000000, "status": "paid", "checkedBy": "pruefer-1", "firstApprovalBy": null,
    "approvedBy": "pruefer-2", "paidOn": "2027-01-15", "cashReference": "HKR-2027-000123", "reason": null,
    "allowedActions": [], "version": 5, "createdAt": "2027-01-05T09:00:00Z", "updatedAt": "2027-01-15T12:00:00Z"}))]
pub struct PaymentRequest {
    pub id: Uuid,
    pub notice_id: Uuid,
    pub application_id: Uuid,
    pub recipient: Payee,
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: String,
    #[schema(max_length = 10)]
    pub funding_line: String,
    /// The fiscal year the payment is booked in.
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: i32,
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub amount_cents: i64,
    #[schema(max_items = 100)]
    pub expenses: Vec<DueExpense>,
    /// Σ of the due expenses.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub due_expenses_cents: i64,
    pub status: PaymentStatus,
    #[schema(max_length = 200)]
    pub checked_by: Option<String>,
    /// Above the line's threshold: who gave the first of the two approvals.
    #[schema(max_length = 200)]
    pub first_approval_by: Option<String>,
    #[schema(max_length = 200)]
    pub approved_by: Option<String>,
    pub paid_on: Option<NaiveDate>,
    /// The cash office's reference of the payment.
    #[schema(max_length = 100)]
    pub cash_reference: Option<String>,
    /// The reason of the last return or of the rejection.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    #[schema(max_items = 10)]
    pub allowed_actions: Vec<PaymentAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(PaymentRequest);

/// Body of `submit`: corrections of a draft or a returned request (each field optional).
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"amountCents": 1600000, "fiscalYear": 2027,
    "expenses": [{"description": "Personalkosten Gesundheitskoordination Januar–Februar", "amountCents": 2000000, "dueOn": "2027-02-28"}]}))]
pub struct PaymentInput {
    #[validate(range(min = 1, max = MAX_CENTS))]
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub amount_cents: Option<i64>,
    /// Default: the current year in Hessen.
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<i32>,
    #[validate(length(min = 1, max = 100), nested)]
    #[schema(min_items = 1, max_items = 100)]
    pub expenses: Option<Vec<DueExpense>>,
}

impl Checked for PaymentInput {}

/// Body of `POST /grant-notices/{id}/payment-requests`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"amountCents": 1600000, "fiscalYear": 2027,
    "expenses": [{"description": "Personalkosten Gesundheitskoordination Januar–Februar", "amountCents": 2000000, "dueOn": "2027-02-28"}]}))]
pub struct NewPaymentRequest {
    #[validate(required, range(min = 1, max = MAX_CENTS))]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 1000000000000i64)]
    pub amount_cents: Option<i64>,
    /// Default: the current year in Hessen.
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<i32>,
    #[validate(required, length(min = 1, max = 100), nested)]
    #[schema(value_type = Vec<DueExpense>, required = true, min_items = 1, max_items = 100)]
    pub expenses: Option<Vec<DueExpense>>,
}

impl Checked for NewPaymentRequest {}

impl From<NewPaymentRequest> for PaymentInput {
    fn from(n: NewPaymentRequest) -> Self {
        Self {
            amount_cents: n.amount_cents,
            fiscal_year: n.fiscal_year,
            expenses: n.expenses,
        }
    }
}

/// Body of `return` and `reject`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentReason {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for PaymentReason {}

/// Body of `pay`: the payment's date and the cash office's reference.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"paidOn": "2027-01-15", "cashReference": "HKR-2027-000123"}))]
pub struct Payment {
    #[validate(required)]
    #[schema(value_type = NaiveDate, required = true)]
    pub paid_on: Option<NaiveDate>,
    #[validate(required, length(min = 1, max = 100))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    pub cash_reference: Option<String>,
}

impl Checked for Payment {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListPaymentRequests {
    pub(super) status: Option<PaymentStatus>,
    pub(super) notice_id: Option<Uuid>,
    #[param(minimum = 2000, maximum = 2100)]
    pub(super) fiscal_year: Option<i32>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub(super) limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub(super) cursor: Option<String>,
    /// Also return the number of all matching items.
    pub(super) include_total: Option<bool>,
}

/// What the rules of a request need to know of its notice and line.
#[derive(Debug, Clone)]
pub struct Terms {
    pub anteil: bool,
    pub notice_amount: i64,
    pub eligible_costs: i64,
    pub window_months: u32,
    pub retention_bp: i32,
}

/// The rules of ANBest Nr. 1.4 on one request, all failures at once: the due expenses lie within the payout window
/// (`outside_payout_window`), the amount is at most the due expenses (`exceeds_due_expenses`) and, under
/// Anteilsfinanzierung, at most the grant's share of them (`exceeds_share`: notice amount ÷ eligible costs × due
/// expenses, rounded down), and what all approved requests would then take leaves the retention unpaid
/// (`exceeds_retention`).
pub fn payment_errors(
    amount: i64,
    expenses: &[DueExpense],
    terms: &Terms,
    already_approved: i64,
    today: NaiveDate,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let window_end = today
        .checked_add_months(Months::new(terms.window_months))
        .unwrap_or(today);
    for (i, e) in expenses.iter().enumerate() {
        if e.due_on > window_end {
            errors.push(FieldError::new(
                format!("/expenses/{i}/dueOn"),
                "outside_payout_window",
                MessageParams::max(window_end),
            ));
        }
    }
    let due: i128 = expenses.iter().map(|e| i128::from(e.amount_cents)).sum();
    if i128::from(amount) > due {
        errors.push(FieldError::new(
            "/amountCents",
            "exceeds_due_expenses",
            MessageParams::max(due),
        ));
    } else if terms.anteil && terms.eligible_costs > 0 {
        let share = i128::from(terms.notice_amount) * due / i128::from(terms.eligible_costs);
        if i128::from(amount) > share {
            errors.push(FieldError::new(
                "/amountCents",
                "exceeds_share",
                MessageParams::max(share),
            ));
        }
    }
    let payable =
        i128::from(terms.notice_amount) - i128::from(terms.notice_amount) * i128::from(terms.retention_bp) / 10_000;
    if i128::from(already_approved) + i128::from(amount) > payable {
        errors.push(FieldError::new(
            "/amountCents",
            "exceeds_retention",
            MessageParams::max(payable - i128::from(already_approved)),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> Terms {
        Terms {
            anteil: true,
            notice_amount: 8_000_000,
            eligible_costs: 10_000_000,
            window_months: 2,
            retention_bp: 1000,
        }
    }

    fn expense(cents: i64, due: &str) -> DueExpense {
        DueExpense {
            description: "Personalkosten".into(),
            amount_cents: cents,
            due_on: due.parse().unwrap_or_default(),
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.code.as_ref()).collect()
    }

    #[test]
    fn the_grants_share_of_the_due_expenses_rounded_down() {
        let today: NaiveDate = "2027-01-10".parse().unwrap_or_default();
        let e = [expense(1_000_001, "2027-02-01")];
        // 80 % of 1,000,001 = 800,000.8 → 800,000.
        assert!(payment_errors(800_000, &e, &terms(), 0, today).is_empty());
        assert_eq!(
            codes(&payment_errors(800_001, &e, &terms(), 0, today)),
            vec!["exceeds_share"]
        );
        assert_eq!(
            codes(&payment_errors(1_000_002, &e, &terms(), 0, today)),
            vec!["exceeds_due_expenses"]
        );
    }

    #[test]
    fn expenses_due_after_the_window_and_the_retention_are_refused() {
        let today: NaiveDate = "2027-01-10".parse().unwrap_or_default();
        let late = [expense(1_000_000, "2027-03-11")];
        assert_eq!(
            codes(&payment_errors(100, &late, &terms(), 0, today)),
            vec!["outside_payout_window"]
        );
        let ok = [expense(10_000_000, "2027-03-10")];
        // 10 % of 8 M withheld: 7.2 M payable; 7 M approved already leaves 200,000.
        assert!(payment_errors(200_000, &ok, &terms(), 7_000_000, today).is_empty());
        assert_eq!(
            codes(&payment_errors(200_001, &ok, &terms(), 7_000_000, today)),
            vec!["exceeds_retention"]
        );
    }
}

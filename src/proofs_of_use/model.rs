//! Zwischen- und Verwendungsnachweis: the proof of use's states, its lifecycle (as data) and its request and
//! response types.

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

/// The resource kind of proofs of use in the history and the feed.
pub const KIND: &str = "proof_of_use";

/// Sanity ceiling for amounts: 10 billion euros in cents.
pub const MAX_CENTS: i64 = 1_000_000_000_000;

/// The most receipt lines one proof holds (a larger project splits its list by year with interim proofs).
pub const MAX_RECEIPTS: usize = 2000;

text_enum! {
    /// State of a proof of use.
    pub enum ProofStatus {
        /// Offen: scheduled with its due date; nothing written yet.
        Open = "open",
        /// Entwurf: the recipient is writing it (the first change makes an open proof a draft).
        Draft = "draft",
        /// Eingereicht.
        Submitted = "submitted",
        /// In Prüfung: the ministry reviews content and figures.
        InReview = "in_review",
        /// Back with the recipient, with what to change.
        ChangesRequested = "changes_requested",
        /// Anerkannt: both reviews signed; the admitted amount is fixed.
        Accepted = "accepted",
        /// Nicht anerkannt, with a reason.
        Rejected = "rejected",
    }
}

text_enum! {
    /// Zwischennachweis or Verwendungsnachweis.
    pub enum ProofKind {
        /// Zwischennachweis: a fiscal year's receipts and payments, when the project runs past the year's end.
        Interim = "interim",
        /// Verwendungsnachweis: the whole project, after the approval period.
        Final = "final",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /proofs-of-use/{id}/{action}`.
    pub enum ProofAction {
        Submit = "submit",
        StartReview = "start-review",
        RequestChanges = "request-changes",
        SignContent = "sign-content",
        SignFinancial = "sign-financial",
        Reject = "reject",
    }
}

const BOTH_SIGNED: &str = "`accepted` once both reviews are signed (by different people), else stays `in_review`";

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/grants.md use it.
pub const LIFECYCLE: Lifecycle<ProofStatus, ProofAction> = Lifecycle::new(&[
    Transition {
        action: ProofAction::Submit,
        from: &[ProofStatus::Draft, ProofStatus::ChangesRequested],
        to: Target::To(ProofStatus::Submitted),
        roles: &[Role::Municipality],
        reason_required: false,
        event: "proof_of_use.submitted",
    },
    Transition {
        action: ProofAction::StartReview,
        from: &[ProofStatus::Submitted],
        to: Target::To(ProofStatus::InReview),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "proof_of_use.review_started",
    },
    Transition {
        action: ProofAction::RequestChanges,
        from: &[ProofStatus::InReview],
        to: Target::To(ProofStatus::ChangesRequested),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "proof_of_use.changes_requested",
    },
    Transition {
        action: ProofAction::SignContent,
        from: &[ProofStatus::InReview],
        to: Target::Computed(BOTH_SIGNED),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "proof_of_use.content_signed",
    },
    Transition {
        action: ProofAction::SignFinancial,
        from: &[ProofStatus::InReview],
        to: Target::Computed(BOTH_SIGNED),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "proof_of_use.financial_signed",
    },
    Transition {
        action: ProofAction::Reject,
        from: &[ProofStatus::InReview],
        to: Target::To(ProofStatus::Rejected),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "proof_of_use.rejected",
    },
]);

/// Sachbericht: what was done, what was achieved, where the project deviated from the plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Report {
    /// What was done.
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub activities: Option<String>,
    /// What was achieved, against the purpose.
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub results: Option<String>,
    /// Deviations from the plan and why.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub deviations: Option<String>,
}

/// Zahlenmäßiger Nachweis, income by source (expenditure is the receipt list's sum).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Income {
    /// Eigenmittel.
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub own_funds_cents: Option<i64>,
    /// Drittmittel (other funders, fees).
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub third_party_funds_cents: Option<i64>,
    /// The grant received in the period.
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub grant_cents: Option<i64>,
}

/// One line of the Belegliste as the recipient writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReceiptInput {
    /// Day of payment.
    pub paid_on: NaiveDate,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub payee: String,
    /// Grund der Zahlung.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    #[validate(range(min = 1, max = MAX_CENTS))]
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub amount_cents: i64,
}

/// One line of the Belegliste with the financial review's decision: admitted in full, in part or not at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub paid_on: NaiveDate,
    #[schema(max_length = 300)]
    pub payee: String,
    #[schema(max_length = 1000)]
    pub reason: String,
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub amount_cents: i64,
    /// What the financial review admitted (`null` until it decides).
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub admitted_cents: Option<i64>,
    /// The reviewer's note on the admission.
    #[schema(max_length = 2000)]
    pub admission_note: Option<String>,
}

impl From<ReceiptInput> for Receipt {
    fn from(r: ReceiptInput) -> Self {
        Receipt {
            paid_on: r.paid_on,
            payee: r.payee,
            reason: r.reason,
            amount_cents: r.amount_cents,
            admitted_cents: None,
            admission_note: None,
        }
    }
}

impl From<&Receipt> for ReceiptInput {
    fn from(r: &Receipt) -> Self {
        ReceiptInput {
            paid_on: r.paid_on,
            payee: r.payee.clone(),
            reason: r.reason.clone(),
            amount_cents: r.amount_cents,
        }
    }
}

/// The recipient organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProofRecipient {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Zwischen- or Verwendungsnachweis: the recipient's account of a fiscal year or of the whole project.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8f1", "noticeId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8c1",
    "applicationId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "recipient": {"id": "0193a6a4-0000-7000-8000-000000000001",
    "name": "Werra-Meißner-Kreis"}, "district": "06636", "fundingLine": "GK", "kind": "interim", "fiscalYear": 2027,
    "dueOn": "2028-04-30", "status": "in_review",
    "report": {"activities": "Stelle besetzt, Gesundheitskonferenz eingerichtet.", "results": "Versorgungsanalyse liegt vor.", "deviations": null},
    "income": {"ownFundsCents": 500000, "thirdPartyFundsCents": 0, "grantCents": 4000000},
    "receipts": [{"paidOn": "2027-01-31", "payee": "Personal", "reason": "Gehalt Januar", "amountCents": 450000,
        "admittedCents": null, "admissionNote": null}],
    "expenditureCents": 450000, "admittedCents": null, "contentSignedBy": null, "financialSignedBy": null,
    "reason": null, "submittedAt": "2028-03-01T09:00:00Z", "allowedActions": ["request-changes", "sign-content", "sign-financial", "reject"],
    "version": 4, "createdAt": "2027-01-05T10:00:00Z", "updatedAt": "2028-03-02T10:00:00Z"}))]
pub struct ProofOfUse {
    pub id: Uuid,
    /// The notice in force when the proof was scheduled.
    pub notice_id: Uuid,
    pub application_id: Uuid,
    pub recipient: ProofRecipient,
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: String,
    #[schema(max_length = 10)]
    pub funding_line: String,
    pub kind: ProofKind,
    /// The fiscal year an interim proof covers; `null` for the final proof.
    #[schema(minimum = 2000, maximum = 2100)]
    pub fiscal_year: Option<i32>,
    /// Due date: the line's months after the fiscal year's end (interim) or after the approval period (final).
    pub due_on: NaiveDate,
    pub status: ProofStatus,
    pub report: Report,
    pub income: Income,
    #[schema(max_items = 2000)]
    pub receipts: Vec<Receipt>,
    /// Σ of the receipts, in cents.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub expenditure_cents: i64,
    /// Σ of what the financial review admitted, fixed on acceptance.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub admitted_cents: Option<i64>,
    /// The ministry person (`sub`) who signed the content review (Sachbericht).
    #[schema(max_length = 200)]
    pub content_signed_by: Option<String>,
    /// The ministry person who signed the financial review (rechnerische Prüfung); not the content reviewer.
    #[schema(max_length = 200)]
    pub financial_signed_by: Option<String>,
    /// Why changes were requested or the proof was rejected.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The actions the caller's role could take now.
    #[schema(max_items = 10)]
    pub allowed_actions: Vec<ProofAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(ProofOfUse);

/// Body of `PATCH /proofs-of-use/{id}` (JSON Merge Patch; while `open`, `draft` or `changes_requested`): the report,
/// the income and the receipt list (an array replaces the list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"report": {"activities": "Stelle besetzt, Gesundheitskonferenz eingerichtet.",
    "results": "Versorgungsanalyse liegt vor."}, "income": {"ownFundsCents": 500000, "thirdPartyFundsCents": 0,
    "grantCents": 4000000}, "receipts": [{"paidOn": "2027-01-31", "payee": "Personal", "reason": "Gehalt Januar",
    "amountCents": 450000}]}))]
pub struct ProofContent {
    #[validate(nested)]
    pub report: Option<Report>,
    #[validate(nested)]
    pub income: Option<Income>,
    #[validate(length(max = 2000), nested)]
    #[schema(max_items = 2000)]
    pub receipts: Option<Vec<ReceiptInput>>,
}

impl Checked for ProofContent {}

/// One receipt's admission in the financial review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Admission {
    /// Position of the receipt in the list, from 0.
    #[validate(range(min = 0, max = 1999))]
    #[schema(minimum = 0, maximum = 1999)]
    pub index: i32,
    /// What counts: the amount (in full), less (in part) or 0 (not at all).
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub admitted_cents: i64,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Body of `sign-financial`: the admission of every receipt.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"admissions": [{"index": 0, "admittedCents": 450000}]}))]
pub struct FinancialReview {
    #[validate(length(max = 2000), nested)]
    #[schema(max_items = 2000)]
    pub admissions: Vec<Admission>,
}

impl Checked for FinancialReview {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut seen = std::collections::HashSet::new();
        self.admissions
            .iter()
            .enumerate()
            .filter(|(_, a)| !seen.insert(a.index))
            .map(|(i, _)| FieldError::new(format!("/admissions/{i}/index"), "duplicate", MessageParams::default()))
            .collect()
    }
}

/// Body of `request-changes` and `reject`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Bitte die Belege für März nachreichen."}))]
pub struct ProofReason {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

impl Checked for ProofReason {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListProofs {
    pub(super) status: Option<ProofStatus>,
    pub(super) kind: Option<ProofKind>,
    pub(super) application_id: Option<Uuid>,
    /// Only proofs due on or before this day.
    pub(super) due_before: Option<NaiveDate>,
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
        assert!(LIFECYCLE.each_action_once(ProofAction::ALL));
    }
}

//! Förderlinien: the line's types, the rules a line must satisfy, and the rules a submission is checked against.

use crate::core::documents::ApplicationDocument;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::core::identity::OrgKind;
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};

/// 100 % as basis points.
pub const FULL_RATE_BP: i32 = 10_000;

/// Sanity ceiling for amounts: 10 billion euros in cents, far above any budget of the programme.
pub const MAX_CENTS: i64 = 1_000_000_000_000;

/// Förderlinie: one line of the funding guideline, with its rules and its budget (Haushaltsmittel).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "GK", "title": "Personalstelle Gesundheitskoordination",
    "description": "Förderung einer Personalstelle für Gesundheitskoordination im Rahmen einer kommunalen Gesundheitsstrategie.",
    "guidelineReference": "Teil II Nr. 1", "eligibleApplicantKinds": ["landkreis", "kreisfreie_stadt"],
    "opensOn": "2026-01-01", "closesOn": null, "open": true, "maxAmountCents": 22500000,
    "minRateBasisPoints": 0, "maxRateBasisPoints": 10000, "maxDurationMonths": 60, "yearlyCapCents": 4500000,
    "budgetCents": 500000000, "committedCents": 0, "remainingCents": 500000000, "payoutWindowMonths": 2,
    "retentionBasisPoints": 0, "thirdSignoffAboveCents": null, "paymentsRequireFinal": false, "requiredAttachments": ["kostenplan"], "version": 1,
    "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T09:00:00Z"}))]
pub struct FundingLine {
    /// Short code, e.g. `GK`, `VA`, `GZ`, `MV`, `PX`.
    #[schema(max_length = 10)]
    pub code: String,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 20000)]
    pub description: String,
    /// Where the guideline describes the line (e.g. `Teil II Nr. 1`).
    #[schema(max_length = 200)]
    pub guideline_reference: String,
    /// Organisation kinds that may apply.
    #[schema(max_items = 4)]
    pub eligible_applicant_kinds: Vec<OrgKind>,
    /// First day on which applications may be submitted (none: open since always).
    pub opens_on: Option<NaiveDate>,
    /// Last day on which applications may be submitted (none: open-ended).
    pub closes_on: Option<NaiveDate>,
    /// Whether submissions are accepted today (Europe/Berlin calendar day).
    pub open: bool,
    /// Largest grant for one application, in cents (none: no limit beyond the budget).
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub max_amount_cents: Option<i64>,
    /// Lowest share of the total costs that may be requested, in basis points (10000 = 100 %).
    #[schema(minimum = 0, maximum = 10000)]
    pub min_rate_basis_points: i32,
    /// Highest share of the total costs that may be requested, in basis points (10000 = 100 %).
    #[schema(minimum = 0, maximum = 10000)]
    pub max_rate_basis_points: i32,
    /// Longest project period in months.
    #[schema(minimum = 1, maximum = 240)]
    pub max_duration_months: Option<i32>,
    /// Largest grant per project year, in cents.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub yearly_cap_cents: Option<i64>,
    /// Budget available for approvals, in cents (only with a token).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub budget_cents: Option<i64>,
    /// Sum of the grants approved so far, in cents (only with a token).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub committed_cents: Option<i64>,
    /// Budget minus committed, in cents (only with a token).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub remaining_cents: Option<i64>,
    /// Payout window for payment requests, months (docs/grants.md).
    #[schema(minimum = 0, maximum = 24)]
    pub payout_window_months: i32,
    /// Retention until the proof of use is accepted, basis points.
    #[schema(minimum = 0, maximum = 10000)]
    pub retention_basis_points: i32,
    /// Payment requests above this amount need a third sign-off.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub third_signoff_above_cents: Option<i64>,
    /// Payments only once the notice is final.
    pub payments_require_final: bool,
    /// The documents an application must have attached before it is submitted (their categories).
    #[schema(max_items = 5)]
    pub required_attachments: Vec<ApplicationDocument>,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(FundingLine);

fn validate_code(code: &str) -> Result<(), validator::ValidationError> {
    if crate::core::types::is_funding_line_code(code) {
        Ok(())
    } else {
        Err(crate::error::validation::rule_error(
            "invalid_format",
            &[("format", crate::error::Format::FundingLineCode.key().into())],
        ))
    }
}

/// The complete, editable state of a funding line: what a create request carries and what a patch produces.
/// All field rules live here, so that create and patch check exactly the same things.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({
    "code": "TM", "title": "Telemedizinische Versorgung im ländlichen Raum",
    "description": "Aufbau telemedizinischer Angebote in unterversorgten Regionen.",
    "guidelineReference": "Teil II Nr. 2", "eligibleApplicantKinds": ["landkreis", "gemeinde", "traeger"],
    "opensOn": "2027-01-01", "closesOn": "2027-12-31", "maxAmountCents": 10000000,
    "minRateBasisPoints": 2000, "maxRateBasisPoints": 8000, "maxDurationMonths": 36, "budgetCents": 100000000}))]
pub struct FundingLineInput {
    /// 2–10 capital letters or digits, starting with a letter; unique.
    #[validate(required, custom(function = "validate_code"))]
    #[schema(value_type = String, required = true, min_length = 2, max_length = 10)]
    pub code: Option<String>,
    #[validate(required, length(min = 3, max = 200))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: String,
    #[validate(required, length(min = 1, max = 200))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub guideline_reference: Option<String>,
    #[validate(required, length(min = 1, max = 4))]
    #[schema(value_type = Vec<OrgKind>, required = true, min_items = 1, max_items = 4)]
    pub eligible_applicant_kinds: Option<Vec<OrgKind>>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub max_amount_cents: Option<i64>,
    /// Default 0.
    #[serde(default)]
    #[validate(range(min = 0, max = FULL_RATE_BP))]
    #[schema(minimum = 0, maximum = 10000)]
    pub min_rate_basis_points: i32,
    /// Default 10000 (100 %).
    #[serde(default = "full_rate")]
    #[validate(range(min = 0, max = FULL_RATE_BP))]
    #[schema(minimum = 0, maximum = 10000)]
    pub max_rate_basis_points: i32,
    #[validate(range(min = 1, max = 240))]
    #[schema(minimum = 1, maximum = 240)]
    pub max_duration_months: Option<i32>,
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub yearly_cap_cents: Option<i64>,
    #[validate(required, range(min = 0, max = MAX_CENTS))]
    #[schema(value_type = i64, required = true, minimum = 0, maximum = 1000000000000i64)]
    pub budget_cents: Option<i64>,
    /// Payments may be requested for expenses due within this many months after the payout. Default 2.
    #[serde(default = "two")]
    #[validate(range(min = 0, max = 24))]
    #[schema(minimum = 0, maximum = 24)]
    pub payout_window_months: i32,
    /// Share of the grant withheld until the proof of use is accepted, basis points. Default 0.
    #[serde(default)]
    #[validate(range(min = 0, max = FULL_RATE_BP))]
    #[schema(minimum = 0, maximum = 10000)]
    pub retention_basis_points: i32,
    /// Payment requests above this amount need a third, distinct sign-off. Default none.
    #[validate(range(min = 0, max = MAX_CENTS))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub third_signoff_above_cents: Option<i64>,
    /// Payments only once the notice is final (bestandskräftig). Default false.
    #[serde(default)]
    pub payments_require_final: bool,
    /// The documents an application must have attached before it is submitted. Default none.
    #[serde(default)]
    #[validate(length(max = 5))]
    #[schema(max_items = 5)]
    pub required_attachments: Vec<ApplicationDocument>,
}

fn two() -> i32 {
    2
}

fn full_rate() -> i32 {
    FULL_RATE_BP
}

impl Checked for FundingLineInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.min_rate_basis_points > self.max_rate_basis_points {
            errors.push(FieldError::new(
                "/minRateBasisPoints",
                "min_exceeds_max",
                MessageParams::max(self.max_rate_basis_points),
            ));
        }
        if let (Some(o), Some(c)) = (self.opens_on, self.closes_on)
            && c < o
        {
            errors.push(FieldError::new(
                "/closesOn",
                "dates_out_of_order",
                MessageParams::min(o),
            ));
        }
        if let Some(kinds) = &self.eligible_applicant_kinds {
            let mut seen = std::collections::HashSet::new();
            if !kinds.iter().all(|k| seen.insert(*k)) {
                errors.push(FieldError::new(
                    "/eligibleApplicantKinds",
                    "duplicate",
                    MessageParams::default(),
                ));
            }
        }
        errors
    }
}

/// Changes to a funding line as JSON Merge Patch (RFC 7396): absent fields stay, `null` clears an optional field;
/// the fields that cannot be cleared are not nullable (`null` for them is 422 `not_null`). The code cannot change.
/// Only documents the body: the patch is applied to [`FundingLineInput`] by the one
/// PATCH flow ([`crate::http::patch::merged`]). The result must satisfy every rule of a new line; the budget cannot drop below what is
/// committed (409 `budget_below_committed`).
#[derive(Debug, Default, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"budgetCents": 600000000, "closesOn": "2027-12-31"}))]
pub struct PatchFundingLine {
    #[schema(value_type = String, required = false, min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[schema(value_type = String, required = false, max_length = 20000)]
    pub description: Option<String>,
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub guideline_reference: Option<String>,
    #[schema(value_type = Vec<OrgKind>, required = false, min_items = 1, max_items = 4)]
    pub eligible_applicant_kinds: Option<Vec<OrgKind>>,
    #[schema(value_type = Option<NaiveDate>)]
    pub opens_on: Option<NaiveDate>,
    #[schema(value_type = Option<NaiveDate>)]
    pub closes_on: Option<NaiveDate>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000000000i64)]
    pub max_amount_cents: Option<i64>,
    #[schema(value_type = i32, required = false, minimum = 0, maximum = 10000)]
    pub min_rate_basis_points: Option<i32>,
    #[schema(value_type = i32, required = false, minimum = 0, maximum = 10000)]
    pub max_rate_basis_points: Option<i32>,
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 240)]
    pub max_duration_months: Option<i32>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000000000i64)]
    pub yearly_cap_cents: Option<i64>,
    #[schema(value_type = i64, required = false, minimum = 0, maximum = 1000000000000i64)]
    pub budget_cents: Option<i64>,
    #[schema(value_type = i32, required = false, minimum = 0, maximum = 24)]
    pub payout_window_months: Option<i32>,
    #[schema(value_type = i32, required = false, minimum = 0, maximum = 10000)]
    pub retention_basis_points: Option<i32>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000000000i64)]
    pub third_signoff_above_cents: Option<i64>,
    #[schema(value_type = bool, required = false)]
    pub payments_require_final: Option<bool>,
    #[schema(value_type = Vec<ApplicationDocument>, required = false, max_items = 5)]
    pub required_attachments: Option<Vec<ApplicationDocument>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListFundingLines {
    /// Only lines that accept submissions today (`true`) or that do not (`false`).
    pub open: Option<bool>,
    /// Only lines this kind of organisation may apply for.
    pub applicant_kind: Option<OrgKind>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return the number of all matching items.
    pub include_total: Option<bool>,
}

/// The rules of a funding line that a submission is checked against.
#[derive(Debug, Clone)]
pub struct LineRules {
    pub code: String,
    pub eligible_applicant_kinds: Vec<OrgKind>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    pub max_amount_cents: Option<i64>,
    pub min_rate_bp: i32,
    pub max_rate_bp: i32,
    pub max_duration_months: Option<i32>,
    pub yearly_cap_cents: Option<i64>,
    /// The documents an application must have attached before it is submitted.
    pub required_attachments: Vec<ApplicationDocument>,
}

// ---- queries ----

/// A funding line's fiscal year (*Haushaltsjahr*): its budget, what approved grants commit in it, what is paid.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"fundingLine": "GK", "year": 2027, "budgetCents": 150000000, "committedCents": 45000000,
    "paidCents": 9000000, "remainingCents": 105000000, "unpaidCents": 36000000, "version": 3,
    "updatedAt": "2026-11-27T10:00:00Z"}))]
pub struct FiscalYear {
    #[schema(max_length = 10)]
    pub funding_line: String,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    /// The year's appropriation for the line, in cents.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub budget_cents: i64,
    /// Σ of what approved grants commit in this year, in cents; never above the budget.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub committed_cents: i64,
    /// Σ paid out in this year, in cents; never above what is committed.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub paid_cents: i64,
    /// Budget minus committed.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub remaining_cents: i64,
    /// Committed minus paid.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub unpaid_cents: i64,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(FiscalYear);

/// Body of `PUT /funding-lines/{code}/years/{year}`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"budgetCents": 150000000}))]
pub struct SetYearBudget {
    /// The year's budget for the line, in cents; not below what is committed in it.
    #[validate(required, range(min = 0, max = MAX_CENTS))]
    #[schema(value_type = i64, required = true, minimum = 0, maximum = 1000000000000i64)]
    pub budget_cents: Option<i64>,
}

impl Checked for SetYearBudget {}

/// Funding lines are keyed by code; events name them by a UUID derived from it, the same on every instance.
pub fn event_id(code: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("funding-line:{code}").as_bytes())
}

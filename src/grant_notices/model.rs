//! Zuwendungsbescheid: the grant notice's states, its lifecycle (as data) and its request and response types.

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

/// The resource kind of grant notices in the history and the feed.
pub const KIND: &str = "grant_notice";

/// The legal-remedy notice a draft starts with (editable per notice): objection within one month.
pub const LEGAL_REMEDY: &str = "Gegen diesen Bescheid kann innerhalb eines Monats nach seiner Bekanntgabe Widerspruch \
erhoben werden. Der Widerspruch ist schriftlich oder zur Niederschrift beim Hessischen Ministerium für Familie, \
Senioren, Sport, Gesundheit und Pflege einzulegen.";

text_enum! {
    /// State of a notice. `final` is not stored: an `issued` notice is shown as `final` from its `finalOn` day.
    pub enum NoticeStatus {
        /// Entwurf: drafted by the approval; the ministry completes it.
        Draft = "draft",
        /// Erlassen: delivered to the recipient (`deliveredOn`); objection possible until `finalOn`.
        Issued = "issued",
        /// Bestandskräftig: one month after delivery without objection, or from a waiver of objection.
        Final = "final",
        /// Replaced by an amending notice (a higher `number`).
        Amended = "amended",
        /// Settled (Schlussbescheid).
        Closed = "closed",
        /// Widerrufen.
        Revoked = "revoked",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /grant-notices/{id}/{action}`.
    pub enum NoticeAction {
        Issue = "issue",
        WaiveObjection = "waive-objection",
        Amend = "amend",
    }
}

text_enum! {
    /// Finanzierungsart.
    pub enum FinancingType {
        /// Anteilsfinanzierung: a share (`rateBasisPoints`) of the eligible costs.
        Anteilsfinanzierung = "anteilsfinanzierung",
        /// Festbetragsfinanzierung: a fixed amount.
        Festbetrag = "festbetrag",
        /// Fehlbedarfsfinanzierung: the gap left by the recipient's own and third-party funds.
        Fehlbedarf = "fehlbedarf",
    }
}

text_enum! {
    /// The general clauses that are part of the notice.
    pub enum ClauseSet {
        /// ANBest-GK: for Gebietskörperschaften (Landkreise, kreisfreie Städte, Gemeinden).
        AnbestGk = "anbest_gk",
        /// ANBest-P: for everyone else (project funding).
        AnbestP = "anbest_p",
    }
}

/// The lifecycle, written once: handlers, the 409 answers, history, events and docs/grants.md use it.
pub const LIFECYCLE: Lifecycle<NoticeStatus, NoticeAction> = Lifecycle::new(&[
    Transition {
        action: NoticeAction::Issue,
        from: &[NoticeStatus::Draft],
        to: Target::To(NoticeStatus::Issued),
        roles: &[Role::Ministry],
        reason_required: false,
        event: "grant_notice.issued",
    },
    Transition {
        action: NoticeAction::WaiveObjection,
        from: &[NoticeStatus::Issued],
        to: Target::Computed("final"),
        roles: &[Role::Municipality, Role::Ministry],
        reason_required: false,
        event: "grant_notice.objection_waived",
    },
    Transition {
        action: NoticeAction::Amend,
        from: &[NoticeStatus::Issued, NoticeStatus::Final],
        to: Target::Computed(
            "unchanged: drafts the amending notice (`number` + 1); this notice becomes `amended` when that one is issued",
        ),
        roles: &[Role::Ministry],
        reason_required: true,
        event: "grant_notice.amendment_drafted",
    },
]);

/// One fiscal year's share of the notice's amount.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeYear {
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub amount_cents: i64,
}

/// The recipient organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Zuwendungsbescheid: what the ministry grants, to whom, for what, on which terms.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8c1", "applicationId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1",
    "number": 1, "fileNumber": "VG-2026-00042", "status": "issued", "amends": null, "amendmentReason": null, "recipient": {"id": "0193a6a4-0000-7000-8000-000000000001", "name": "Werra-Meißner-Kreis"},
    "district": "06636", "fundingLine": "GK", "amountCents": 20000000,
    "years": [{"year": 2027, "amountCents": 4000000}, {"year": 2028, "amountCents": 4000000}],
    "financingType": "anteilsfinanzierung", "rateBasisPoints": 8000, "eligibleCostsCents": 25000000,
    "purpose": "Gesundheitskoordination Werra-Meißner-Kreis", "periodStart": "2027-01-01", "periodEnd": "2031-12-31",
    "lockInUntil": null, "clauseSet": "anbest_gk", "excludedClauses": [], "conditions": ["Die Stelle ist bis 31.03.2027 zu besetzen."],
    "legalRemedy": "Gegen diesen Bescheid kann innerhalb eines Monats nach seiner Bekanntgabe Widerspruch erhoben werden.",
    "approvedBy": "pruefer-1", "issuedBy": "pruefer-2", "deliveredOn": "2026-12-01", "objectionWaivedOn": null,
    "finalOn": "2027-01-01", "allowedActions": ["waive-objection"], "version": 2,
    "createdAt": "2026-11-27T10:00:00Z", "updatedAt": "2026-11-28T10:00:00Z"}))]
pub struct GrantNotice {
    pub id: Uuid,
    pub application_id: Uuid,
    /// 1 for the notice, 2 and up for amending notices.
    #[schema(minimum = 1, maximum = 1000)]
    pub number: i32,
    /// Aktenzeichen: the grant's file number, shared by the notice and its amendments (the ministry may set its own
    /// while the notice is a draft).
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9 ./_()-]{2,59}$")]
    pub file_number: String,
    pub status: NoticeStatus,
    /// The notice this one amends (the previous number); `null` for the first notice.
    pub amends: Option<Uuid>,
    /// Why the notice was amended (Änderungsgrund); `null` for the first notice.
    #[schema(max_length = 2000)]
    pub amendment_reason: Option<String>,
    pub recipient: Recipient,
    #[schema(pattern = "^06[0-9]{3}$")]
    pub district: String,
    #[schema(max_length = 10)]
    pub funding_line: String,
    /// Zuwendung, in cents.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub amount_cents: i64,
    /// The amount by fiscal year, as this notice states it (the approval's breakdown, or an amendment's).
    #[schema(max_items = 101)]
    pub years: Vec<NoticeYear>,
    pub financing_type: FinancingType,
    /// Share of the eligible costs, basis points (10000 = 100 %).
    #[schema(minimum = 0, maximum = 10000)]
    pub rate_basis_points: i32,
    /// Zuwendungsfähige Ausgaben, in cents.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub eligible_costs_cents: i64,
    /// Zuwendungszweck.
    #[schema(max_length = 5000)]
    pub purpose: String,
    /// Bewilligungszeitraum.
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Zweckbindungsfrist for items bought with the grant.
    pub lock_in_until: Option<NaiveDate>,
    pub clause_set: ClauseSet,
    /// Clauses of the clause set that do not apply to this notice (e.g. `Nr. 1.4`).
    #[schema(max_items = 50, max_length = 200)]
    pub excluded_clauses: Vec<String>,
    /// Nebenbestimmungen: extra conditions of this notice.
    #[schema(max_items = 50, max_length = 2000)]
    pub conditions: Vec<String>,
    /// Rechtsbehelfsbelehrung.
    #[schema(max_length = 5000)]
    pub legal_remedy: String,
    /// The ministry person (`sub`) who approved the application; another must issue the notice.
    #[schema(max_length = 200)]
    pub approved_by: String,
    #[schema(max_length = 200)]
    pub issued_by: Option<String>,
    /// Day of delivery (Bekanntgabe).
    pub delivered_on: Option<NaiveDate>,
    /// Day of the recipient's waiver of objection (Rechtsbehelfsverzicht).
    pub objection_waived_on: Option<NaiveDate>,
    /// First day the notice is final: the waiver's day, else one month after delivery.
    pub final_on: Option<NaiveDate>,
    /// The actions the caller's role could take now.
    #[schema(max_items = 10)]
    pub allowed_actions: Vec<NoticeAction>,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(GrantNotice);

/// Body of `PATCH /grant-notices/{id}` (JSON Merge Patch, drafts only): the terms the ministry completes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"lockInUntil": "2036-12-31", "conditions": ["Die Stelle ist bis 31.03.2027 zu besetzen."]}))]
pub struct NoticeTerms {
    /// Aktenzeichen (letters, digits, space and `./_()-`, 3 to 60 characters; the first notice's only).
    #[validate(required)]
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9 ./_()-]{2,59}$")]
    pub file_number: Option<String>,
    #[validate(required)]
    pub financing_type: Option<FinancingType>,
    #[validate(required, range(min = 0, max = 10000))]
    #[schema(minimum = 0, maximum = 10000)]
    pub rate_basis_points: Option<i32>,
    #[validate(required, range(min = 0, max = 1_000_000_000_000i64))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub eligible_costs_cents: Option<i64>,
    #[validate(required, length(min = 3, max = 5000))]
    #[schema(min_length = 3, max_length = 5000)]
    pub purpose: Option<String>,
    pub lock_in_until: Option<NaiveDate>,
    #[validate(length(max = 50))]
    #[schema(max_items = 50, max_length = 200)]
    pub excluded_clauses: Option<Vec<String>>,
    #[validate(length(max = 50))]
    #[schema(max_items = 50, max_length = 2000)]
    pub conditions: Option<Vec<String>>,
    #[validate(required, length(min = 20, max = 5000))]
    #[schema(min_length = 20, max_length = 5000)]
    pub legal_remedy: Option<String>,
}

impl Checked for NoticeTerms {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        match &self.file_number {
            Some(f) if !is_file_number(f) => vec![FieldError::new(
                "/fileNumber",
                "invalid_format",
                MessageParams::format(crate::error::Format::FileNumber),
            )],
            _ => vec![],
        }
    }
}

/// An Aktenzeichen as the database's CHECK states it: a letter or digit, then 2 to 59 of letters, digits, space and
/// `./_()-` (ASCII: it is printed in letters and typed into registries).
pub fn is_file_number(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && (3..=60).contains(&s.len())
        && chars.all(|c| c.is_ascii_alphanumeric() || " ./_()-".contains(c))
}

/// Body of `issue`: the day the notice was delivered (Bekanntgabe).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"deliveredOn": "2026-12-01"}))]
pub struct Issue {
    #[validate(required)]
    #[schema(value_type = NaiveDate, required = true)]
    pub delivered_on: Option<NaiveDate>,
}

impl Checked for Issue {}

/// Body of `waive-objection`: the day of the waiver (default: today in Hessen).
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Waiver {
    pub waived_on: Option<NaiveDate>,
}

impl Checked for Waiver {}

/// One fiscal year's amount in an amendment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AmendedYear {
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[validate(range(min = 0, max = 1_000_000_000_000i64))]
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub amount_cents: i64,
}

/// Body of `amend`: why, and the grant's new breakdown by fiscal year (omitted: the amounts stay; the terms are
/// changed on the amending draft with PATCH).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Verlängerung des Projekts um ein Jahr; Mittel 2029 neu veranschlagt.",
    "years": [{"year": 2027, "amountCents": 4000000}, {"year": 2028, "amountCents": 2000000},
              {"year": 2029, "amountCents": 2000000}]}))]
pub struct Amendment {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
    #[validate(length(min = 1, max = 10), nested)]
    #[schema(min_items = 1, max_items = 10)]
    pub years: Option<Vec<AmendedYear>>,
    /// A new end of the approval period (Bewilligungszeitraum), not before its start; omitted: unchanged.
    pub period_end: Option<NaiveDate>,
}

impl Checked for Amendment {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListGrantNotices {
    /// Only notices in this state (`final`: issued notices whose `finalOn` has come).
    pub(super) status: Option<NoticeStatus>,
    pub(super) application_id: Option<Uuid>,
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

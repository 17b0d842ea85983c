//! `/api/v1/funding-lines`: the funding lines (Förderlinien) of the guideline, with their rules and budgets.
//!
//! The public fields are readable without a token; the budget figures only with one. The ministry creates lines
//! and changes them (JSON Merge Patch with `If-Match`). The budget invariant (committed ≤ budget) is a CHECK
//! constraint, so it holds for every writer and every instance.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::history::HistoryEntry;
use crate::audit::{self, Audience, Change};
use crate::core::identity::OrgKind;
use crate::core::identity::{Caller, Role};
use crate::db::schema::funding_lines;
use crate::error::validation::Checked;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::auth::MaybeCaller;
use crate::http::extract::{Expected, JsonBody, Query, ok_with_etag};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// The resource kind of funding lines in the history and the feed (keyed by [`event_id`] of the code).
pub const KIND: &str = "funding_line";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(history);
}

/// 100 % as basis points.
pub const FULL_RATE_BP: i32 = 10_000;
/// Sanity ceiling for amounts: 10 billion euros in cents, far above any budget of the programme.
const MAX_CENTS: i64 = 1_000_000_000_000;

/// Förderlinie: one line of the funding guideline, with its rules and its budget (Haushaltsmittel).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "code": "GK", "title": "Personalstelle Gesundheitskoordination",
    "description": "Förderung einer Personalstelle für Gesundheitskoordination im Rahmen einer kommunalen Gesundheitsstrategie.",
    "guidelineReference": "Teil II Nr. 1", "eligibleApplicantKinds": ["landkreis", "kreisfreie_stadt"],
    "opensOn": "2026-01-01", "closesOn": null, "open": true, "maxAmountCents": 22500000,
    "minRateBasisPoints": 0, "maxRateBasisPoints": 10000, "maxDurationMonths": 60, "yearlyCapCents": 4500000,
    "budgetCents": 500000000, "committedCents": 0, "remainingCents": 500000000, "version": 1,
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
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(FundingLine);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = funding_lines)]
struct LineRow {
    code: String,
    title: String,
    description: String,
    guideline_reference: String,
    eligible_applicant_kinds: Vec<String>,
    opens_on: Option<NaiveDate>,
    closes_on: Option<NaiveDate>,
    max_amount_cents: Option<i64>,
    min_rate_bp: i32,
    max_rate_bp: i32,
    max_duration_months: Option<i32>,
    yearly_cap_cents: Option<i64>,
    budget_cents: i64,
    committed_cents: i64,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl LineRow {
    fn into_api(self, with_budget: bool) -> ApiResult<FundingLine> {
        let kinds = self
            .eligible_applicant_kinds
            .iter()
            .map(|k| k.parse())
            .collect::<Result<Vec<OrgKind>, _>>()
            .map_err(ApiError::internal)?;
        Ok(FundingLine {
            open: crate::core::time::is_open(self.opens_on, self.closes_on, crate::core::time::today_in_hessen()),
            code: self.code,
            title: self.title,
            description: self.description,
            guideline_reference: self.guideline_reference,
            eligible_applicant_kinds: kinds,
            opens_on: self.opens_on,
            closes_on: self.closes_on,
            max_amount_cents: self.max_amount_cents,
            min_rate_basis_points: self.min_rate_bp,
            max_rate_basis_points: self.max_rate_bp,
            max_duration_months: self.max_duration_months,
            yearly_cap_cents: self.yearly_cap_cents,
            budget_cents: with_budget.then_some(self.budget_cents),
            committed_cents: with_budget.then_some(self.committed_cents),
            remaining_cents: with_budget.then_some(self.budget_cents - self.committed_cents),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn validate_code(code: &str) -> Result<(), validator::ValidationError> {
    if crate::core::types::is_funding_line_code(code) {
        Ok(())
    } else {
        Err(crate::error::validation::rule_error(
            "invalid_format",
            &[(
                "detail",
                "2–10 capital letters or digits, starting with a letter".into(),
            )],
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

impl From<LineRow> for FundingLineInput {
    fn from(r: LineRow) -> Self {
        Self {
            code: Some(r.code),
            title: Some(r.title),
            description: r.description,
            guideline_reference: Some(r.guideline_reference),
            // Stored kinds were valid when written; an unknown one would surface as a validation error below.
            eligible_applicant_kinds: Some(
                r.eligible_applicant_kinds
                    .iter()
                    .filter_map(|k| k.parse().ok())
                    .collect(),
            ),
            opens_on: r.opens_on,
            closes_on: r.closes_on,
            max_amount_cents: r.max_amount_cents,
            min_rate_basis_points: r.min_rate_bp,
            max_rate_basis_points: r.max_rate_bp,
            max_duration_months: r.max_duration_months,
            yearly_cap_cents: r.yearly_cap_cents,
            budget_cents: Some(r.budget_cents),
        }
    }
}

/// Changes to a funding line as JSON Merge Patch (RFC 7396): absent fields stay, `null` clears an optional field.
/// The code cannot change. Only documents the body: the patch is applied to [`FundingLineInput`] by the one
/// PATCH flow ([`crate::http::patch::merged`]). The result must satisfy every rule of a new line; the budget cannot drop below what is
/// committed (409 `budget_below_committed`).
#[derive(Debug, Default, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"budgetCents": 600000000, "closesOn": "2027-12-31"}))]
pub struct PatchFundingLine {
    #[schema(value_type = Option<String>, min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub description: Option<String>,
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub guideline_reference: Option<String>,
    #[schema(value_type = Option<Vec<OrgKind>>, min_items = 1, max_items = 4)]
    pub eligible_applicant_kinds: Option<Vec<OrgKind>>,
    #[schema(value_type = Option<NaiveDate>)]
    pub opens_on: Option<NaiveDate>,
    #[schema(value_type = Option<NaiveDate>)]
    pub closes_on: Option<NaiveDate>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000000000i64)]
    pub max_amount_cents: Option<i64>,
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 10000)]
    pub min_rate_basis_points: Option<i32>,
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 10000)]
    pub max_rate_basis_points: Option<i32>,
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 240)]
    pub max_duration_months: Option<i32>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000000000i64)]
    pub yearly_cap_cents: Option<i64>,
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000000000i64)]
    pub budget_cents: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListFundingLines {
    /// Only lines that accept submissions today (`true`) or that do not (`false`).
    open: Option<bool>,
    /// Only lines this kind of organisation may apply for.
    applicant_kind: Option<OrgKind>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

const SORT: &str = "funding-lines:code";

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
}

// ---- queries ----

/// The rules of a line, or `None` when no line has this code.
pub async fn load_rules(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<Option<LineRules>> {
    let Some(r) = funding_lines::table
        .find(code)
        .select(LineRow::as_select())
        .first(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(LineRules {
        eligible_applicant_kinds: r
            .eligible_applicant_kinds
            .iter()
            .map(|k| k.parse())
            .collect::<Result<Vec<OrgKind>, _>>()
            .map_err(ApiError::internal)?,
        code: r.code,
        opens_on: r.opens_on,
        closes_on: r.closes_on,
        max_amount_cents: r.max_amount_cents,
        min_rate_bp: r.min_rate_bp,
        max_rate_bp: r.max_rate_bp,
        max_duration_months: r.max_duration_months,
        yearly_cap_cents: r.yearly_cap_cents,
    }))
}

/// Commits `cents` against the line's budget inside the caller's transaction. The conditional UPDATE takes the
/// line's row lock, and PostgreSQL re-evaluates the condition on the newest row after waiting for it, so concurrent
/// approvals (on any instance) never commit more than the budget; the CHECK constraint is the backstop.
pub async fn commit_budget(conn: &mut AsyncPgConnection, code: &str, cents: i64) -> ApiResult<()> {
    let updated = diesel::update(funding_lines::table.find(code))
        .filter((funding_lines::committed_cents + cents).le(funding_lines::budget_cents))
        .set(funding_lines::committed_cents.eq(funding_lines::committed_cents + cents))
        .execute(conn)
        .await?;
    if updated == 1 {
        return Ok(());
    }
    let (budget, committed): (i64, i64) = funding_lines::table
        .find(code)
        .select((funding_lines::budget_cents, funding_lines::committed_cents))
        .first(conn)
        .await?;
    let mut extra = serde_json::Map::new();
    extra.insert("remainingCents".into(), (budget - committed).into());
    extra.insert("requestedCents".into(), cents.into());
    Err(ApiError::Conflict(Box::new(crate::error::ConflictInfo {
        code: "budget_exceeded",
        params: MessageParams::detail(budget - committed),
        extra: Some(extra),
    })))
}

fn filtered(q: &ListFundingLines) -> funding_lines::BoxedQuery<'static, diesel::pg::Pg> {
    use diesel::dsl::not;
    let mut query = funding_lines::table.into_boxed();
    if let Some(open) = q.open {
        let today = crate::core::time::today_in_hessen();
        let open_expr = funding_lines::opens_on
            .is_null()
            .or(funding_lines::opens_on.le(today))
            .and(
                funding_lines::closes_on
                    .is_null()
                    .or(funding_lines::closes_on.ge(today)),
            );
        query = if open {
            query.filter(open_expr)
        } else {
            query.filter(not(open_expr))
        };
    }
    if let Some(kind) = q.applicant_kind {
        query = query.filter(funding_lines::eligible_applicant_kinds.contains(vec![kind.as_str().to_owned()]));
    }
    query
}

async fn find(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<LineRow> {
    Ok(funding_lines::table
        .find(code)
        .select(LineRow::as_select())
        .first(conn)
        .await?)
}

fn kinds_as_text(kinds: &[OrgKind]) -> Vec<String> {
    kinds.iter().map(|k| k.as_str().to_owned()).collect()
}

async fn insert(conn: &mut AsyncPgConnection, s: FundingLineInput) -> ApiResult<LineRow> {
    let (Some(code), Some(title), Some(reference), Some(kinds), Some(budget)) = (
        s.code,
        s.title,
        s.guideline_reference,
        s.eligible_applicant_kinds,
        s.budget_cents,
    ) else {
        return Err(ApiError::internal("validated funding line lacks a required field"));
    };
    Ok(diesel::insert_into(funding_lines::table)
        .values((
            funding_lines::code.eq(code),
            funding_lines::title.eq(title),
            funding_lines::description.eq(s.description),
            funding_lines::guideline_reference.eq(reference),
            funding_lines::eligible_applicant_kinds.eq(kinds_as_text(&kinds)),
            funding_lines::opens_on.eq(s.opens_on),
            funding_lines::closes_on.eq(s.closes_on),
            funding_lines::max_amount_cents.eq(s.max_amount_cents),
            funding_lines::min_rate_bp.eq(s.min_rate_basis_points),
            funding_lines::max_rate_bp.eq(s.max_rate_basis_points),
            funding_lines::max_duration_months.eq(s.max_duration_months),
            funding_lines::yearly_cap_cents.eq(s.yearly_cap_cents),
            funding_lines::budget_cents.eq(budget),
        ))
        .returning(LineRow::as_returning())
        .get_result(conn)
        .await?)
}

/// The one PATCH flow's step: the line under a row lock, the expected version, the merged and validated state,
/// the write and the audit; concurrent patches serialise on the lock and the loser gets 412.
async fn apply_patch(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    code: &str,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<FundingLine> {
    let current: LineRow = funding_lines::table
        .find(code)
        .select(LineRow::as_select())
        .for_update()
        .first(conn)
        .await?;
    expected.check(current.version)?;
    let version = current.version;
    let Some((next, changed)) =
        crate::http::patch::merged(&FundingLineInput::from(current.clone()), &patch, &["code"])?
    else {
        return current.into_api(true);
    };
    let (Some(title), Some(reference), Some(kinds), Some(budget)) = (
        next.title,
        next.guideline_reference,
        next.eligible_applicant_kinds,
        next.budget_cents,
    ) else {
        return Err(ApiError::internal("validated funding line lacks a required field"));
    };
    let line = diesel::update(funding_lines::table.find(code))
        .set((
            funding_lines::title.eq(title),
            funding_lines::description.eq(next.description),
            funding_lines::guideline_reference.eq(reference),
            funding_lines::eligible_applicant_kinds.eq(kinds_as_text(&kinds)),
            funding_lines::opens_on.eq(next.opens_on),
            funding_lines::closes_on.eq(next.closes_on),
            funding_lines::max_amount_cents.eq(next.max_amount_cents),
            funding_lines::min_rate_bp.eq(next.min_rate_basis_points),
            funding_lines::max_rate_bp.eq(next.max_rate_basis_points),
            funding_lines::max_duration_months.eq(next.max_duration_months),
            funding_lines::yearly_cap_cents.eq(next.yearly_cap_cents),
            funding_lines::budget_cents.eq(budget),
            funding_lines::version.eq(version + 1),
            funding_lines::updated_at.eq(diesel::dsl::now),
        ))
        .returning(LineRow::as_returning())
        .get_result(conn)
        .await?
        .into_api(true)?;
    record(conn, caller, "update", "funding_line.changed", &line, changed).await?;
    Ok(line)
}

/// Records that an approval committed part of the line's budget (its committed and remaining figures changed).
pub async fn record_commitment(conn: &mut AsyncPgConnection, caller: &Caller, code: &str) -> ApiResult<()> {
    let line = find(conn, code).await?.into_api(true)?;
    let changed = vec!["/committedCents".to_owned(), "/remainingCents".to_owned()];
    record(conn, caller, "commit", "funding_line.changed", &line, changed).await
}

/// Records a change of a line (budget figures included in the event: any authenticated reader may see them).
async fn record(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    action: &str,
    event: &str,
    line: &FundingLine,
    changed: Vec<String>,
) -> ApiResult<()> {
    let change = Change::new(KIND, event_id(&line.code), action, event, Audience::everyone()).changed(changed);
    audit::record(conn, caller, change, line).await
}

/// Funding lines are keyed by code; events name them by a UUID derived from it, the same on every instance.
pub fn event_id(code: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("funding-line:{code}").as_bytes())
}

/// Emits `funding_line.created` for every line that has no event yet (the feed's backfill of seeded rows).
pub async fn snapshot_missing(conn: &mut AsyncPgConnection) -> ApiResult<usize> {
    let codes: Vec<String> = funding_lines::table.select(funding_lines::code).load(conn).await?;
    let ids: Vec<Uuid> = codes.iter().map(|c| event_id(c)).collect();
    let missing = audit::without_events(conn, KIND, &ids).await?;
    let mut added = 0;
    for code in codes.iter().filter(|c| missing.contains(&event_id(c))) {
        let line = find(conn, code).await?.into_api(true)?;
        audit::backfill(
            conn,
            KIND,
            line_id(&line),
            "funding_line.created",
            Audience::everyone(),
            &line,
        )
        .await?;
        added += 1;
    }
    Ok(added)
}

fn line_id(line: &FundingLine) -> Uuid {
    event_id(&line.code)
}

// ---- handlers ----

/// List funding lines
///
/// The lines of the guideline in code order. Budget figures (`budgetCents`, `committedCents`, `remainingCents`)
/// are included only when a token is sent.
///
/// **Roles:** public; budget figures for every authenticated role.
#[utoipa::path(
    tag = "Funding lines",
    params(ListFundingLines),
    responses(
        (status = 200, description = "One page of funding lines", body = Page<FundingLine>),
    ),
    security((), ("bearerAuth" = []))
)]
#[get("/funding-lines")]
async fn list(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<ListFundingLines>,
) -> ApiResult<HttpResponse> {
    let page = PageRequest::<String>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let mut query = filtered(&q)
        .select(LineRow::as_select())
        .order(funding_lines::code.asc());
    if let Some(after) = &page.after {
        query = query.filter(funding_lines::code.gt(after.clone()));
    }
    let rows: Vec<LineRow> = query.limit(page.limit + 1).load(&mut conn).await?;
    let total = if page.include_total {
        Some(filtered(&q).count().get_result::<i64>(&mut conn).await?)
    } else {
        None
    };
    let with_budget = caller.is_some();
    let items = rows
        .into_iter()
        .map(|r| r.into_api(with_budget))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(page.page(items, SORT, |l| l.code.clone(), |l| l, total)))
}

/// Get a funding line
///
/// One funding line by its code. Budget figures only when a token is sent.
///
/// **Roles:** public; budget figures for every authenticated role.
#[utoipa::path(
    tag = "Funding lines",
    params(("code" = String, Path, description = "Code of the funding line", example = "GK")),
    responses(
        (status = 200, description = "The funding line", body = FundingLine, headers(("ETag" = String))),
    ),
    security((), ("bearerAuth" = []))
)]
#[get("/funding-lines/{code}")]
async fn get_one(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let line = find(&mut conn, &code).await?.into_api(caller.is_some())?;
    Ok(ok_with_etag(line.version, &line))
}

/// Create a funding line
///
/// Adds a funding line with its rules and budget. Rates are basis points (10000 = 100 %); money is in cents.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Funding lines",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = FundingLineInput,
    responses(
        (status = 201, description = "The new funding line", body = FundingLine,
            headers(("Location" = String, description = "Address of the new funding line"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/funding-lines")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<FundingLineInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    let bytes = body.bytes().to_vec();
    let body = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::http::idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let line = insert(conn, body).await?.into_api(true)?;
        record(conn, &caller, "create", "funding_line.created", &line, vec![]).await?;
        crate::http::idempotency::Stored::created(&format!("/api/v1/funding-lines/{}", line.code), line.version, &line)
    })
    .await
}

/// Change a funding line
///
/// JSON Merge Patch of a funding line; requires `If-Match` with the ETag last read (428 without, 412 when stale).
/// The changed line must satisfy every rule of a new one. Lowering the budget below what is committed is refused
/// with 409 `budget_below_committed`.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Funding lines",
    params(
        ("code" = String, Path, description = "Code of the funding line", example = "GK"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = PatchFundingLine, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed funding line", body = FundingLine, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/funding-lines/{code}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    code: web::Path<String>,
    body: JsonBody<PatchFundingLine>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        apply_patch(conn, &caller, &code, expected, patch).await
    })
    .await
}

/// History of a funding line
///
/// Every change of the line, oldest first: created, changed (with the fields a change touched), and each approval
/// that committed part of its budget (`commit`).
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Funding lines",
    params(("code" = String, Path, description = "Code of the funding line", example = "GK")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/funding-lines/{code}/history")]
async fn history(state: web::Data<AppState>, _caller: Caller, code: web::Path<String>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let line = find(&mut conn, &code).await?;
    Ok(HttpResponse::Ok().json(crate::audit::history::list(&mut conn, KIND, event_id(&line.code)).await?))
}

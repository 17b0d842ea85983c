//! Every SQL statement on the `funding_lines` table: reads, create, the PATCH step, and their audit. (What a line
//! has committed is summed from its escrow shards by the `funding_lines` view; commitments move in the ledger.)

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::KIND;
use super::model::{FundingLine, FundingLineInput, LineRules, ListFundingLines, event_id};
use crate::audit::history::HistoryEntry;
use crate::audit::{self, Audience, Change};
use crate::core::documents::ApplicationDocument;
use crate::core::identity::{Caller, OrgKind};
use crate::db::schema::funding_lines;
use crate::error::{ApiError, ApiResult, MessageParams};
use crate::http::extract::Expected;
use crate::http::pagination::{Page, PageRequest};
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = funding_lines)]
pub struct LineRow {
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
    payout_window_months: i32,
    retention_bp: i32,
    third_signoff_above_cents: Option<i64>,
    payments_require_final: bool,
    required_attachments: Vec<String>,
}

/// The stored document categories (valid when written: a CHECK keeps them to the vocabulary).
fn documents(stored: &[String]) -> ApiResult<Vec<ApplicationDocument>> {
    stored.iter().map(|d| d.parse().map_err(ApiError::internal)).collect()
}

fn as_text(documents: &[ApplicationDocument]) -> Vec<String> {
    documents.iter().map(|d| d.as_str().to_owned()).collect()
}

impl LineRow {
    pub fn into_api(self, with_budget: bool) -> ApiResult<FundingLine> {
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
            payout_window_months: self.payout_window_months,
            retention_basis_points: self.retention_bp,
            third_signoff_above_cents: self.third_signoff_above_cents,
            payments_require_final: self.payments_require_final,
            required_attachments: documents(&self.required_attachments)?,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
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
            payout_window_months: r.payout_window_months,
            retention_basis_points: r.retention_bp,
            third_signoff_above_cents: r.third_signoff_above_cents,
            payments_require_final: r.payments_require_final,
            required_attachments: r.required_attachments.iter().filter_map(|d| d.parse().ok()).collect(),
        }
    }
}

pub(super) const SORT: &str = "funding-lines:code";

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
        required_attachments: documents(&r.required_attachments)?,
    }))
}

/// 409 `budget_exceeded`: the line's budget leaves `free` cents, the grant or its increase asked for `requested`.
pub(super) fn exceeded(free: i64, requested: i64) -> ApiError {
    let mut extra = serde_json::Map::new();
    extra.insert("remainingCents".into(), free.into());
    extra.insert("requestedCents".into(), requested.into());
    ApiError::Conflict(Box::new(crate::error::ConflictInfo {
        code: "budget_exceeded",
        params: MessageParams::detail(free),
        extra: Some(extra),
    }))
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

pub async fn find(conn: &AsyncPgConnection, code: &str) -> ApiResult<LineRow> {
    Ok(funding_lines::table
        .find(code)
        .select(LineRow::as_select())
        .first(&mut &*conn)
        .await?)
}

fn kinds_as_text(kinds: &[OrgKind]) -> Vec<String> {
    kinds.iter().map(|k| k.as_str().to_owned()).collect()
}

pub async fn insert(conn: &mut AsyncPgConnection, s: FundingLineInput) -> ApiResult<LineRow> {
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
            funding_lines::payout_window_months.eq(s.payout_window_months),
            funding_lines::retention_bp.eq(s.retention_basis_points),
            funding_lines::third_signoff_above_cents.eq(s.third_signoff_above_cents),
            funding_lines::payments_require_final.eq(s.payments_require_final),
            funding_lines::required_attachments.eq(as_text(&s.required_attachments)),
        ))
        .returning(LineRow::as_returning())
        .get_result(conn)
        .await?)
}

/// The one PATCH flow's step: the line under a row lock, the expected version, the merged and validated state,
/// the write and the audit; concurrent patches serialise on the lock and the loser gets 412.
pub async fn apply_patch(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    code: &str,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<FundingLine> {
    // FOR NO KEY UPDATE: see `ledger::set_budget` (the code never changes, so other rows' foreign keys need not wait).
    let current: LineRow = funding_lines::table
        .find(code)
        .select(LineRow::as_select())
        .for_no_key_update()
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
            funding_lines::payout_window_months.eq(next.payout_window_months),
            funding_lines::retention_bp.eq(next.retention_basis_points),
            funding_lines::third_signoff_above_cents.eq(next.third_signoff_above_cents),
            funding_lines::payments_require_final.eq(next.payments_require_final),
            funding_lines::required_attachments.eq(as_text(&next.required_attachments)),
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

/// Records that a grant's commitment moved the line's committed and remaining figures (the line as this
/// transaction reads it: its own change and what committed before it).
pub async fn record_commitment(conn: &AsyncPgConnection, caller: &Caller, code: &str) -> ApiResult<()> {
    record_moved(conn, caller, find(conn, code).await?).await
}

/// [`record_commitment`] of a line already read after the move.
pub(super) async fn record_moved(conn: &AsyncPgConnection, caller: &Caller, line: LineRow) -> ApiResult<()> {
    let line = line.into_api(true)?;
    let changed = vec!["/committedCents".to_owned(), "/remainingCents".to_owned()];
    record(conn, caller, "commit", "funding_line.changed", &line, changed).await
}

/// Records a change of a line (budget figures included in the event: any authenticated reader may see them).
pub async fn record(
    conn: &AsyncPgConnection,
    caller: &Caller,
    action: &str,
    event: &str,
    line: &FundingLine,
    changed: Vec<String>,
) -> ApiResult<()> {
    let change = Change::new(KIND, event_id(&line.code), action, event, Audience::everyone()).changed(changed);
    audit::record(conn, caller, change, line).await
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

/// One page of lines in code order; budget figures only for a caller with a token.
pub async fn page(
    conn: &mut AsyncPgConnection,
    q: &ListFundingLines,
    with_budget: bool,
) -> ApiResult<Page<FundingLine>> {
    let page = PageRequest::<String>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let items = list(conn, q, page.after.as_deref(), page.limit + 1, with_budget).await?;
    let total = if page.include_total {
        Some(filtered(q).count().get_result::<i64>(conn).await?)
    } else {
        None
    };
    Ok(page.page(items, SORT, |l| l.code.clone(), |l| l, total))
}

/// Up to `limit` lines that match the list's filters, in code order after the code `after` (the keyset of the pages
/// and of the CSV export); budget figures only for a caller with a token.
pub async fn list(
    conn: &mut AsyncPgConnection,
    q: &ListFundingLines,
    after: Option<&str>,
    limit: i64,
    with_budget: bool,
) -> ApiResult<Vec<FundingLine>> {
    let mut query = filtered(q)
        .select(LineRow::as_select())
        .order(funding_lines::code.asc());
    if let Some(after) = after {
        query = query.filter(funding_lines::code.gt(after.to_owned()));
    }
    let rows: Vec<LineRow> = query.limit(limit).load(conn).await?;
    rows.into_iter().map(|r| r.into_api(with_budget)).collect()
}

/// One line, budget figures only for a caller with a token.
pub async fn get(conn: &mut AsyncPgConnection, code: &str, with_budget: bool) -> ApiResult<FundingLine> {
    find(conn, code).await?.into_api(with_budget)
}

/// A new line, recorded.
pub async fn create(conn: &mut AsyncPgConnection, caller: &Caller, input: FundingLineInput) -> ApiResult<FundingLine> {
    let line = insert(conn, input).await?.into_api(true)?;
    record(conn, caller, "create", "funding_line.created", &line, vec![]).await?;
    Ok(line)
}

/// A line's history (the line must exist).
pub async fn history(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<Vec<HistoryEntry>> {
    let line = find(conn, code).await?;
    crate::audit::history::list(conn, KIND, event_id(&line.code)).await
}

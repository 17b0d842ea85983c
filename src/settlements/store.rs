//! Every SQL statement on settlements. Visibility is applied in [`visible`]: a municipality sees only its own
//! organisation's settlements. Proposing reads the accepted proofs of use and the ledger under the grant's lock;
//! confirming releases the unused commitment and closes the notice in the same transaction.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::core::settlement::{self as arithmetic, PlanLine, SettlementInput};
use crate::db::schema::{applications, funding_lines, grant_years, organisations, proofs_of_use, settlements};
use crate::error::{ApiError, ApiResult, MessageParams};
use crate::grant_notices::{FinancingType, NoticeStatus};
use crate::http::extract::Expected;
use crate::proofs_of_use::{ProofKind, ProofStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = settlements)]
struct Row {
    id: Uuid,
    notice_id: Uuid,
    application_id: Uuid,
    organisation_id: Uuid,
    district_ags: String,
    funding_line_code: String,
    status: String,
    financing_type: String,
    granted_cents: i64,
    rate_bp: i32,
    planned_eligible_cents: i64,
    admitted_cents: i64,
    planned_other_income_cents: i64,
    actual_other_income_cents: i64,
    tolerance_bp: i32,
    eligible_cents: i64,
    not_eligible_cents: i64,
    due_cents: i64,
    reason: String,
    paid_cents: i64,
    released_cents: Option<i64>,
    proposed_by: String,
    confirmed_by: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    late_use: serde_json::Value,
    late_use_interest_cents: i64,
}

type Joined = (Row, String);

fn to_api(caller: &Caller, (r, name): Joined) -> ApiResult<Settlement> {
    let status: SettlementStatus = r.status.parse().map_err(ApiError::internal)?;
    let allowed_actions = LIFECYCLE
        .allowed_actions(status)
        .into_iter()
        .filter(|a| LIFECYCLE.roles(*a).contains(&caller.role))
        .collect();
    Ok(Settlement {
        id: r.id,
        notice_id: r.notice_id,
        application_id: r.application_id,
        recipient: SettlementRecipient {
            id: r.organisation_id,
            name,
        },
        district: r.district_ags,
        funding_line: r.funding_line_code,
        status,
        financing_type: r.financing_type.parse().map_err(ApiError::internal)?,
        granted_cents: r.granted_cents,
        rate_basis_points: r.rate_bp,
        planned_eligible_cents: r.planned_eligible_cents,
        admitted_cents: r.admitted_cents,
        planned_other_income_cents: r.planned_other_income_cents,
        actual_other_income_cents: r.actual_other_income_cents,
        tolerance_basis_points: r.tolerance_bp,
        eligible_cents: r.eligible_cents,
        not_eligible_cents: r.not_eligible_cents,
        due_cents: r.due_cents,
        reduction_cents: r.granted_cents - r.due_cents,
        reason: r.reason,
        paid_cents: r.paid_cents,
        overpaid_cents: (r.paid_cents - r.due_cents).max(0),
        outstanding_cents: (r.due_cents - r.paid_cents).max(0),
        late_use: serde_json::from_value(r.late_use).map_err(ApiError::internal)?,
        late_use_interest_cents: r.late_use_interest_cents,
        released_cents: r.released_cents,
        proposed_by: r.proposed_by,
        confirmed_by: r.confirmed_by,
        allowed_actions,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

type Boxed = diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<settlements::table, organisations::table>, Pg>;

fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = settlements::table.inner_join(organisations::table).into_boxed();
    Ok(match caller.confined_to()? {
        Some(org) => query.filter(settlements::organisation_id.eq(org)),
        None => query,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<Settlement> {
    if lock {
        settlements::table
            .find(id)
            .select(settlements::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
    }
    let row: Joined = visible(caller)?
        .filter(settlements::id.eq(id))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?;
    to_api(caller, row)
}

fn audience(s: &Settlement) -> Audience {
    Audience::organisation(s.recipient.id)
}

/// A grant's settlement id: one per grant, derived from the application.
pub fn settlement_id(application: Uuid) -> Uuid {
    Uuid::new_v5(&application, b"settlement")
}

/// Proposes the settlement of the grant whose notice in force is `notice_id`: the accepted proofs of use (409
/// `final_proof_not_accepted` before the final one is) against the notice and the financing plan, with the line's
/// plan-line tolerance; what was paid or ordered for payment from the ledger. One settlement per grant (409
/// `already_exists`).
pub async fn propose(conn: &mut AsyncPgConnection, caller: &Caller, notice_id: Uuid) -> ApiResult<Settlement> {
    let notice = crate::grant_notices::find(conn, caller, notice_id, false).await?;
    crate::grant_notices::lock_grant(conn, notice.application_id).await?;
    let notice = crate::grant_notices::find(conn, caller, notice_id, true).await?;
    if !matches!(notice.status, NoticeStatus::Issued | NoticeStatus::Final) {
        let code = if notice.status == NoticeStatus::Amended {
            "notice_amended"
        } else {
            "notice_not_issued"
        };
        return Err(ApiError::conflict(code, MessageParams::detail(notice.status)));
    }
    let app = notice.application_id;
    let final_accepted: bool = diesel::select(diesel::dsl::exists(
        proofs_of_use::table
            .filter(proofs_of_use::application_id.eq(app))
            .filter(proofs_of_use::kind.eq(ProofKind::Final.as_str()))
            .filter(proofs_of_use::status.eq(ProofStatus::Accepted.as_str())),
    ))
    .get_result(conn)
    .await?;
    if !final_accepted {
        return Err(ApiError::conflict("final_proof_not_accepted", MessageParams::default()));
    }
    let accepted: Vec<(Option<i64>, serde_json::Value)> = proofs_of_use::table
        .filter(proofs_of_use::application_id.eq(app))
        .filter(proofs_of_use::status.eq(ProofStatus::Accepted.as_str()))
        .select((proofs_of_use::admitted_cents, proofs_of_use::income))
        .load(conn)
        .await?;
    let admitted: i64 = accepted.iter().filter_map(|(a, _)| *a).sum();
    let income = |v: &serde_json::Value, field: &str| v.get(field).and_then(serde_json::Value::as_i64).unwrap_or(0);
    let actual_other: i64 = accepted
        .iter()
        .map(|(_, v)| income(v, "ownFundsCents") + income(v, "thirdPartyFundsCents"))
        .sum();
    let (own, third): (Option<i64>, Option<i64>) = applications::table
        .find(app)
        .select((applications::own_funds_cents, applications::third_party_funds_cents))
        .first(conn)
        .await?;
    let planned_other = own.unwrap_or(0) + third.unwrap_or(0);
    let tolerance: i32 = funding_lines::table
        .find(&notice.funding_line)
        .select(funding_lines::plan_line_tolerance_bp)
        .first(conn)
        .await?;
    // Paid or ordered for payment: approved requests are money the grant has given.
    let paid: i64 = grant_years::table
        .filter(grant_years::application_id.eq(app))
        .select(grant_years::approved_cents)
        .load::<i64>(conn)
        .await?
        .iter()
        .sum();
    let input = SettlementInput {
        financing: match notice.financing_type {
            FinancingType::Anteilsfinanzierung => arithmetic::FinancingType::Anteil,
            FinancingType::Festbetrag => arithmetic::FinancingType::Festbetrag,
            FinancingType::Fehlbedarf => arithmetic::FinancingType::Fehlbedarf,
        },
        granted_cents: notice.amount_cents,
        rate_bp: notice.rate_basis_points,
        // The notice states its eligible costs as one sum: one plan line (a cost plan by line would add lines).
        lines: vec![PlanLine {
            key: "zuwendungsfaehige_ausgaben".into(),
            planned_cents: notice.eligible_costs_cents,
            admitted_cents: admitted,
        }],
        planned_other_income_cents: planned_other,
        actual_other_income_cents: actual_other,
        tolerance_bp: tolerance,
        paid_cents: paid,
    };
    let outcome = arithmetic::settle(&input).map_err(|e| ApiError::internal(format!("{e:?}")))?;
    let (late_use, late_use_interest) = super::late_use::compute(
        conn,
        app,
        &notice.funding_line,
        (notice.amount_cents, notice.eligible_costs_cents),
    )
    .await?;
    let late_use = serde_json::to_value(late_use).map_err(ApiError::internal)?;
    let id = settlement_id(app);
    diesel::insert_into(settlements::table)
        .values((
            settlements::id.eq(id),
            settlements::notice_id.eq(notice.id),
            settlements::application_id.eq(app),
            settlements::organisation_id.eq(notice.recipient.id),
            settlements::district_ags.eq(&notice.district),
            settlements::funding_line_code.eq(&notice.funding_line),
            settlements::status.eq(SettlementStatus::Proposed.as_str()),
            settlements::financing_type.eq(notice.financing_type.as_str()),
            settlements::granted_cents.eq(notice.amount_cents),
            settlements::rate_bp.eq(notice.rate_basis_points),
            settlements::planned_eligible_cents.eq(notice.eligible_costs_cents),
            settlements::admitted_cents.eq(admitted),
            settlements::planned_other_income_cents.eq(planned_other),
            settlements::actual_other_income_cents.eq(actual_other),
            settlements::tolerance_bp.eq(tolerance),
            settlements::eligible_cents.eq(outcome.eligible_cents),
            settlements::not_eligible_cents.eq(admitted - outcome.eligible_cents),
            settlements::due_cents.eq(outcome.due_cents),
            settlements::reason.eq(outcome.reason.code()),
            settlements::paid_cents.eq(paid),
            settlements::late_use.eq(late_use),
            settlements::late_use_interest_cents.eq(late_use_interest),
            settlements::proposed_by.eq(&caller.sub),
        ))
        .execute(conn)
        .await?;
    let settlement = find(conn, caller, id, false).await?;
    let change = Change::new(KIND, id, "create", "settlement.proposed", audience(&settlement));
    audit::record(conn, caller, change, &settlement).await?;
    Ok(settlement)
}

/// Confirms a proposed settlement (another ministry person than the proposer: 409 `four_eyes`): the grant's
/// commitment is cut to what it keeps and the rest released to the line's fiscal years, the notice is closed, and the
/// grant's files are kept for `retention_years` from today (Aufbewahrungsfrist).
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Option<Expected>,
    retention_years: u32,
) -> ApiResult<Settlement> {
    let current = find(conn, caller, id, false).await?;
    crate::grant_notices::lock_grant(conn, current.application_id).await?;
    let current = find(conn, caller, id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, SettlementAction::Confirm)?;
    caller.second_pair_of_eyes([Some(current.proposed_by.as_str())])?;
    let released = crate::funding_lines::release_commitment(
        conn,
        &current.funding_line,
        current.application_id,
        current.due_cents,
    )
    .await?;
    if released > 0 {
        crate::funding_lines::record_commitment(conn, caller, &current.funding_line).await?;
    }
    crate::grant_notices::close(conn, caller, current.notice_id).await?;
    let keep_until = crate::core::time::today_in_hessen()
        .checked_add_months(chrono::Months::new(12 * retention_years))
        .ok_or_else(|| ApiError::internal("retention beyond the calendar"))?;
    crate::files::store::retain(conn, caller, current.application_id, keep_until).await?;
    diesel::update(settlements::table.find(id))
        .set((
            settlements::status.eq(SettlementStatus::Confirmed.as_str()),
            settlements::confirmed_by.eq(&caller.sub),
            settlements::released_cents.eq(released),
            settlements::version.eq(current.version + 1),
            settlements::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let settlement = find(conn, caller, id, false).await?;
    let change = Change::transition(
        KIND,
        id,
        rule,
        current.status,
        SettlementStatus::Confirmed,
        audience(&settlement),
    );
    audit::record(conn, caller, change, &settlement).await?;
    Ok(settlement)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

fn filtered(caller: &Caller, q: &ListSettlements) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(s) = q.status {
        query = query.filter(settlements::status.eq(s.as_str()));
    }
    if let Some(line) = &q.funding_line {
        query = query.filter(settlements::funding_line_code.eq(line.clone()));
    }
    Ok(query)
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListSettlements,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(Settlement, Uuid)>> {
    let mut query = filtered(caller, q)?
        .select((Row::as_select(), organisations::name))
        .order(settlements::id.asc());
    if let Some(after) = after {
        query = query.filter(settlements::id.gt(after));
    }
    let rows: Vec<Joined> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.0.id;
            Ok((to_api(caller, row)?, id))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListSettlements) -> ApiResult<i64> {
    Ok(filtered(caller, q)?.count().get_result(conn).await?)
}

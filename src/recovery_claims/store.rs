//! Every SQL statement on recovery claims. Visibility is applied in [`visible`]: a municipality sees only its own
//! organisation's claims. The interest is computed when a claim is read (`core::interest`, day by day across the
//! base-rate table) and fixed when it is repaid or waived.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::core::interest::{self, BaseRate, DEFAULT_SURCHARGE_BP};
use crate::db::schema::{funding_lines, organisations, recovery_claims};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;
use crate::settlements::SettlementStatus;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recovery_claims)]
struct Row {
    id: Uuid,
    settlement_id: Uuid,
    notice_id: Uuid,
    application_id: Uuid,
    organisation_id: Uuid,
    district_ags: String,
    funding_line_code: String,
    status: String,
    principal_cents: i64,
    interest_from: NaiveDate,
    interest_threshold_cents: i64,
    hearing_until: NaiveDate,
    answer: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    decided_by: Option<String>,
    decided_on: Option<NaiveDate>,
    paid_on: Option<NaiveDate>,
    interest_cents: Option<i64>,
    late_use_interest_cents: i64,
    instalments: Option<i32>,
    first_instalment_on: Option<NaiveDate>,
    reason: Option<String>,
    created_by: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

type Joined = (Row, String);

/// Interest on `principal` for every day from `from` to the day before `end`, as far as the base-rate table reaches
/// (each row covers its half-year). Returns the periods, their sum and the last day counted.
fn accrued(
    principal: i64,
    from: NaiveDate,
    end: NaiveDate,
    rates: &[BaseRate],
) -> ApiResult<(Vec<InterestPeriod>, i64, Option<NaiveDate>)> {
    let covered = interest::covered_until(rates);
    let until = end.pred_opt().map(|d| covered.map_or(d, |c| d.min(c)));
    let Some(until) = until.filter(|u| *u >= from) else {
        return Ok((Vec::new(), 0, None));
    };
    let result = interest::accrue(principal, from, until, rates, DEFAULT_SURCHARGE_BP)
        .map_err(|e| ApiError::internal(format!("interest: {e:?}")))?;
    Ok((
        crate::base_rates::periods(result.periods),
        result.total_cents,
        Some(until),
    ))
}

/// The day interest stops running: the repayment, the waiver, else today.
fn interest_end(r: &Row, status: ClaimStatus) -> NaiveDate {
    match (status, r.paid_on) {
        (_, Some(day)) => day,
        (ClaimStatus::Waived, None) => crate::core::time::hessen_date(r.updated_at),
        _ => crate::core::time::today_in_hessen(),
    }
}

fn to_api(caller: &Caller, (r, name): Joined, rates: &[BaseRate]) -> ApiResult<RecoveryClaim> {
    let status: ClaimStatus = r.status.parse().map_err(ApiError::internal)?;
    let (interest_periods, computed, interest_until) =
        accrued(r.principal_cents, r.interest_from, interest_end(&r, status), rates)?;
    let interest_cents = match r.interest_cents {
        Some(fixed) => fixed,
        None if computed < r.interest_threshold_cents => 0,
        None => computed,
    };
    let allowed_actions = LIFECYCLE
        .allowed_actions(status)
        .into_iter()
        .filter(|a| LIFECYCLE.roles(*a).contains(&caller.role))
        .collect();
    Ok(RecoveryClaim {
        id: r.id,
        settlement_id: r.settlement_id,
        notice_id: r.notice_id,
        application_id: r.application_id,
        recipient: Debtor {
            id: r.organisation_id,
            name,
        },
        district: r.district_ags,
        funding_line: r.funding_line_code,
        status,
        principal_cents: r.principal_cents,
        interest_from: r.interest_from,
        interest_until,
        interest_cents,
        interest_periods,
        interest_threshold_cents: r.interest_threshold_cents,
        total_cents: if status == ClaimStatus::Waived {
            0
        } else {
            r.principal_cents + interest_cents + r.late_use_interest_cents
        },
        late_use_interest_cents: r.late_use_interest_cents,
        hearing_until: r.hearing_until,
        answer: r.answer,
        answered_at: r.answered_at,
        decided_by: r.decided_by,
        decided_on: r.decided_on,
        paid_on: r.paid_on,
        instalments: r.instalments,
        first_instalment_on: r.first_instalment_on,
        reason: r.reason,
        created_by: r.created_by,
        allowed_actions,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

type Boxed = diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<recovery_claims::table, organisations::table>, Pg>;

fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = recovery_claims::table.inner_join(organisations::table).into_boxed();
    Ok(match caller.confined_to()? {
        Some(org) => query.filter(recovery_claims::organisation_id.eq(org)),
        None => query,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<RecoveryClaim> {
    if lock {
        recovery_claims::table
            .find(id)
            .select(recovery_claims::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
    }
    let row: Joined = visible(caller)?
        .filter(recovery_claims::id.eq(id))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?;
    let rates = crate::base_rates::table(conn).await?;
    to_api(caller, row, &rates)
}

fn audience(c: &RecoveryClaim) -> Audience {
    Audience::organisation(c.recipient.id)
}

/// Raises the recovery claim of a confirmed settlement that found an overpayment (409 `nothing_overpaid`
/// otherwise; one per settlement: 409 `already_exists`), with the hearing open for the line's `hearing_days`.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    settlement_id: Uuid,
    interest_from: Option<NaiveDate>,
) -> ApiResult<RecoveryClaim> {
    let s = crate::settlements::find(conn, caller, settlement_id, true).await?;
    let (hearing_days, threshold): (i32, i64) = funding_lines::table
        .find(&s.funding_line)
        .select((funding_lines::hearing_days, funding_lines::interest_threshold_cents))
        .first(conn)
        .await?;
    // Late-use interest below the small-amount threshold is not charged, like the interest on the claim itself.
    let late_use = if s.late_use_interest_cents < threshold {
        0
    } else {
        s.late_use_interest_cents
    };
    if s.status != SettlementStatus::Confirmed || (s.overpaid_cents <= 0 && late_use == 0) {
        return Err(ApiError::conflict(
            "nothing_overpaid",
            MessageParams::detail(s.overpaid_cents),
        ));
    }
    let today = crate::core::time::today_in_hessen();
    let id = Uuid::new_v5(&settlement_id, b"recovery-claim");
    diesel::insert_into(recovery_claims::table)
        .values((
            recovery_claims::id.eq(id),
            recovery_claims::settlement_id.eq(settlement_id),
            recovery_claims::notice_id.eq(s.notice_id),
            recovery_claims::application_id.eq(s.application_id),
            recovery_claims::organisation_id.eq(s.recipient.id),
            recovery_claims::district_ags.eq(&s.district),
            recovery_claims::funding_line_code.eq(&s.funding_line),
            recovery_claims::status.eq(ClaimStatus::Hearing.as_str()),
            recovery_claims::principal_cents.eq(s.overpaid_cents.max(0)),
            recovery_claims::late_use_interest_cents.eq(late_use),
            recovery_claims::interest_from
                .eq(interest_from.unwrap_or_else(|| crate::core::time::hessen_date(s.updated_at))),
            recovery_claims::interest_threshold_cents.eq(threshold),
            recovery_claims::hearing_until.eq(today + chrono::Days::new(u64::try_from(hearing_days).unwrap_or(28))),
            recovery_claims::created_by.eq(&caller.sub),
        ))
        .execute(conn)
        .await?;
    let claim = find(conn, caller, id, false).await?;
    let change = Change::new(KIND, id, "create", "recovery_claim.created", audience(&claim));
    audit::record(conn, caller, change, &claim).await?;
    Ok(claim)
}

/// What a transition carries.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub answer: Option<String>,
    pub paid_on: Option<NaiveDate>,
    pub instalments: Option<(i32, NaiveDate)>,
    pub reason: Option<String>,
}

/// Moves a claim through its lifecycle: row lock, state, hearing, four eyes, the interest fixed on repayment or
/// waiver, audit, in the caller's transaction.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: ClaimAction,
    expected: Option<Expected>,
    input: TransitionInput,
) -> ApiResult<RecoveryClaim> {
    let current = find(conn, caller, id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, action)?;
    let today = crate::core::time::today_in_hessen();
    let mut answer = (current.answer.clone(), current.answered_at);
    let mut decided = (current.decided_by.clone(), current.decided_on);
    let mut paid_on = current.paid_on;
    let mut interest_fixed = None;
    let mut plan = (current.instalments, current.first_instalment_on);
    let mut reason = current.reason.clone();
    match action {
        ClaimAction::Respond => {
            if today > current.hearing_until {
                return Err(ApiError::conflict(
                    "hearing_closed",
                    MessageParams::detail(current.hearing_until),
                ));
            }
            answer = (input.answer.clone(), Some(Utc::now()));
        }
        ClaimAction::Decide => {
            caller.second_pair_of_eyes([Some(current.created_by.as_str())])?;
            // The hearing runs its course: until the recipient answered or the deadline passed.
            if current.answer.is_none() && today <= current.hearing_until {
                return Err(ApiError::conflict(
                    "hearing_open",
                    MessageParams::detail(current.hearing_until),
                ));
            }
            decided = (Some(caller.sub.clone()), Some(today));
        }
        ClaimAction::RecordPayment => {
            let day = input
                .paid_on
                .ok_or_else(|| ApiError::internal("repayment without a day"))?;
            if day > today {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "/paidOn",
                    "in_future",
                    MessageParams::max(today),
                )]));
            }
            let rates = crate::base_rates::table(conn).await?;
            let (_, computed, _) = accrued(current.principal_cents, current.interest_from, day, &rates)?;
            interest_fixed = Some(if computed < current.interest_threshold_cents {
                0
            } else {
                computed
            });
            paid_on = Some(day);
        }
        ClaimAction::AgreeInstalments => {
            let (n, first) = input
                .instalments
                .ok_or_else(|| ApiError::internal("instalments without a plan"))?;
            plan = (Some(n), Some(first));
        }
        ClaimAction::Waive => {
            interest_fixed = Some(current.interest_cents);
            reason = input.reason.clone();
        }
    }
    let to = rule.target(current.status);
    diesel::update(recovery_claims::table.find(id))
        .set((
            recovery_claims::status.eq(to.as_str()),
            recovery_claims::answer.eq(answer.0),
            recovery_claims::answered_at.eq(answer.1),
            recovery_claims::decided_by.eq(decided.0),
            recovery_claims::decided_on.eq(decided.1),
            recovery_claims::paid_on.eq(paid_on),
            recovery_claims::interest_cents.eq(interest_fixed),
            recovery_claims::instalments.eq(plan.0),
            recovery_claims::first_instalment_on.eq(plan.1),
            recovery_claims::reason.eq(reason),
            recovery_claims::version.eq(current.version + 1),
            recovery_claims::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let claim = find(conn, caller, id, false).await?;
    let change =
        Change::transition(KIND, id, rule, current.status, to, audience(&claim)).reason(input.reason.as_deref());
    audit::record(conn, caller, change, &claim).await?;
    Ok(claim)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

fn filtered(caller: &Caller, q: &ListClaims) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(s) = q.status {
        query = query.filter(recovery_claims::status.eq(s.as_str()));
    }
    Ok(query)
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListClaims,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(RecoveryClaim, Uuid)>> {
    let mut query = filtered(caller, q)?
        .select((Row::as_select(), organisations::name))
        .order(recovery_claims::id.asc());
    if let Some(after) = after {
        query = query.filter(recovery_claims::id.gt(after));
    }
    let rows: Vec<Joined> = query.limit(limit).load(conn).await?;
    let rates = crate::base_rates::table(conn).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.0.id;
            Ok((to_api(caller, row, &rates)?, id))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListClaims) -> ApiResult<i64> {
    Ok(filtered(caller, q)?.count().get_result(conn).await?)
}

//! The fiscal-year ledger of the funding lines (Haushaltsjahre): budget, committed and paid per line and year, and
//! what each approved grant commits in each year. Every rule is a conditional UPDATE in the caller's transaction (the
//! row lock makes concurrent approvals and payments on any instance take turns, and PostgreSQL re-checks the
//! condition on the newest row): commitments on the budget's escrow shards (`escrow_move`, migration 000041),
//! payments on the grant's years; CHECK constraints and the escrow's constraint trigger are the backstop.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::KIND;
use super::model::{FiscalYear, event_id};
use crate::audit::{self, Audience, Change};
use crate::core::identity::Caller;
use crate::db::schema::{funding_line_years, funding_lines, grant_years};
use crate::error::{ApiError, ApiResult, ConflictInfo, MessageParams};
use crate::http::extract::Expected;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = funding_line_years)]
struct YearRow {
    funding_line_code: String,
    year: i32,
    budget_cents: i64,
    committed_cents: i64,
    paid_cents: i64,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl From<YearRow> for FiscalYear {
    fn from(r: YearRow) -> Self {
        FiscalYear {
            funding_line: r.funding_line_code,
            year: r.year,
            budget_cents: r.budget_cents,
            committed_cents: r.committed_cents,
            paid_cents: r.paid_cents,
            remaining_cents: r.budget_cents - r.committed_cents,
            unpaid_cents: r.committed_cents - r.paid_cents,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

async fn line_exists(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<()> {
    let found: bool = diesel::select(diesel::dsl::exists(funding_lines::table.find(code)))
        .get_result(conn)
        .await?;
    if found { Ok(()) } else { Err(ApiError::NotFound) }
}

/// The line's fiscal years, oldest first (404 for an unknown line).
pub async fn years(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<Vec<FiscalYear>> {
    line_exists(conn, code).await?;
    Ok(funding_line_years::table
        .filter(funding_line_years::funding_line_code.eq(code))
        .order(funding_line_years::year)
        .select(YearRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(FiscalYear::from)
        .collect())
}

/// Sets a year's budget (creating the year), never below what is committed in it: 409 `budget_below_committed`.
/// Returns the year and whether it was created.
pub async fn set_budget(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    code: &str,
    year: i32,
    budget: i64,
    expected: Option<Expected>,
) -> ApiResult<(FiscalYear, bool)> {
    line_exists(conn, code).await?;
    // FOR NO KEY UPDATE, not FOR UPDATE: an amendment that adds a year to a grant holds its shard of the year and
    // then inserts the grant's year, whose foreign key takes KEY SHARE on this row; FOR UPDATE would wait for that
    // while the budget's rebalance (the trigger of the UPDATE below) waits for the amendment's shard: a deadlock.
    let current: Option<YearRow> = funding_line_years::table
        .find((code, year))
        .select(YearRow::as_select())
        .for_no_key_update()
        .first(conn)
        .await
        .optional()?;
    let row = match &current {
        Some(cur) => {
            if let Some(e) = expected {
                e.check(cur.version)?;
            }
            if budget < cur.committed_cents {
                return Err(ApiError::conflict(
                    "budget_below_committed",
                    MessageParams::detail(cur.committed_cents),
                ));
            }
            diesel::update(funding_line_years::table.find((code, year)))
                .set((
                    funding_line_years::budget_cents.eq(budget),
                    funding_line_years::version.eq(cur.version + 1),
                    funding_line_years::updated_at.eq(diesel::dsl::now),
                ))
                .returning(YearRow::as_returning())
                .get_result(conn)
                .await?
        }
        None => {
            if expected.is_some() {
                // If-Match names a version of something that does not exist yet.
                return Err(ApiError::PreconditionFailed { current_version: 0 });
            }
            diesel::insert_into(funding_line_years::table)
                .values((
                    funding_line_years::funding_line_code.eq(code),
                    funding_line_years::year.eq(year),
                    funding_line_years::budget_cents.eq(budget),
                ))
                .returning(YearRow::as_returning())
                .get_result(conn)
                .await?
        }
    };
    let fiscal = FiscalYear::from(row);
    let change = Change::new(
        KIND,
        event_id(code),
        "set_year_budget",
        "funding_line.year_budget_set",
        Audience::everyone(),
    )
    .changed(vec![format!("/years/{year}/budgetCents")]);
    audit::record(conn, caller, change, &fiscal).await?;
    Ok((fiscal, current.is_none()))
}

/// An approved grant's commitment: `granted` against the line's budget and each year's share against that fiscal
/// year, in the escrow shard of the application (409 `budget_exceeded` / `year_budget_exceeded` with what the budget
/// leaves free), then the line's `funding_line.changed`. Approvals of one line wait for each other only within a
/// shard, or when a shard's allotment runs out and the line's budget is spread anew (migration 000041,
/// docs/performance.md S8). Returns the line as this transaction sees it (its own commitment and those committed
/// before it), which the caller records with [`record_committed`] in the same transaction: the approval sends the
/// records of all its changes together, after all its writes (docs/performance.md S9).
pub async fn commit_grant(
    conn: &AsyncPgConnection,
    code: &str,
    application: Uuid,
    granted: i64,
    breakdown: &[(i32, i64)],
) -> ApiResult<Committed> {
    // The move and the read of the line it moved go out together (one round trip; PostgreSQL runs them in order, so
    // the read sees the move). When the move refuses, its 409 is the answer and the read is discarded.
    let moved = escrow_move(conn, code, application, granted, breakdown);
    let (_, line) = futures_util::try_join!(moved, super::store::find(conn, code))?;
    Ok(Committed(line))
}

/// A grant's commitment, made and not yet recorded: [`record_committed`] writes the line's history entry and event.
#[must_use = "a commitment must be recorded in its transaction"]
pub struct Committed(super::store::LineRow);

/// Records a commitment made by [`commit_grant`] (`funding_line.changed` with the line's new figures).
pub async fn record_committed(conn: &AsyncPgConnection, caller: &Caller, committed: Committed) -> ApiResult<()> {
    super::store::record_moved(conn, caller, committed.0).await
}

/// The result row of `escrow_move` when it refused: the level (0 for the line's total) and what its budget leaves
/// free.
#[derive(QueryableByName)]
struct Refusal {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    refused_year: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    free_cents: i64,
}

/// Moves a grant's commitment in its escrow shard: the line's total by `total` and each year by its cents (an
/// increase within what the budget leaves free: 409 `budget_exceeded` / `year_budget_exceeded`; a decrease always
/// fits). One statement: the shards, the rebalance when a shard runs short and the lock order (the line's total,
/// then the years ascending) are the database function's.
async fn escrow_move(
    conn: &AsyncPgConnection,
    code: &str,
    application: Uuid,
    total: i64,
    years: &[(i32, i64)],
) -> ApiResult<()> {
    use crate::db::cached::CachedDsl;
    use diesel::sql_types::{Array, BigInt, Integer, Text};
    let (year_list, cents): (Vec<i32>, Vec<i64>) = years.iter().copied().unzip();
    let refused: Option<Refusal> =
        diesel::sql_query("SELECT refused_year, free_cents FROM escrow_move($1, $2, $3, $4, $5)")
            .bind::<Text, _>(code)
            .bind::<diesel::sql_types::Uuid, _>(application)
            .bind::<BigInt, _>(total)
            .bind::<Array<Integer>, _>(year_list)
            .bind::<Array<BigInt>, _>(cents)
            .cached()
            .get_result(&mut &*conn)
            .await
            .optional()?;
    match refused {
        None => Ok(()),
        Some(Refusal {
            refused_year: 0,
            free_cents,
        }) => Err(super::store::exceeded(free_cents, total)),
        Some(Refusal {
            refused_year,
            free_cents,
        }) => {
            let requested = years.iter().find(|y| y.0 == refused_year).map_or(0, |y| y.1);
            Err(year_exceeded(refused_year, free_cents, requested))
        }
    }
}

/// The grant's years of an approved application; [`commit_grant`] commits them against the line's budgets in the
/// same transaction.
pub async fn record_grant_years(
    conn: &AsyncPgConnection,
    code: &str,
    application: Uuid,
    breakdown: &[(i32, i64)],
) -> ApiResult<()> {
    use crate::db::cached::CachedDsl;
    use diesel::sql_types::{Array, BigInt, Integer, Text};
    let mut years = breakdown.to_vec();
    years.sort_unstable();
    let (year_list, cents): (Vec<i32>, Vec<i64>) = years.into_iter().unzip();
    // One text for any number of years (arrays, not a VALUES list), so it stays prepared: one round trip.
    diesel::sql_query(
        "INSERT INTO grant_years (application_id, year, funding_line_code, committed_cents)
         SELECT $1, y, $2, c FROM unnest($3::integer[], $4::bigint[]) AS u(y, c)",
    )
    .bind::<diesel::sql_types::Uuid, _>(application)
    .bind::<Text, _>(code)
    .bind::<Array<Integer>, _>(year_list)
    .bind::<Array<BigInt>, _>(cents)
    .cached()
    .execute(&mut &*conn)
    .await?;
    Ok(())
}

/// Re-commits a grant to an amending notice's breakdown: the line's total and each fiscal year's commitment move by
/// the difference (an increase must fit the remaining budget: 409 `budget_exceeded` / `year_budget_exceeded`), and
/// no year may fall below what payment requests already took of it (409 `below_approved` with `year` and
/// `approvedCents`). Years in ascending order, like [`commit_grant`]. Returns whether anything moved.
pub async fn recommit_years(
    conn: &mut AsyncPgConnection,
    code: &str,
    application: Uuid,
    breakdown: &[(i32, i64)],
) -> ApiResult<bool> {
    let rows: Vec<(i32, i64, i64)> = grant_years::table
        .filter(grant_years::application_id.eq(application))
        .select((
            grant_years::year,
            grant_years::committed_cents,
            grant_years::approved_cents,
        ))
        .for_update()
        .load(conn)
        .await?;
    let mut years: Vec<i32> = rows.iter().map(|r| r.0).chain(breakdown.iter().map(|b| b.0)).collect();
    years.sort_unstable();
    years.dedup();
    let old_total: i64 = rows.iter().map(|r| r.1).sum();
    let new_total: i64 = breakdown.iter().map(|b| b.1).sum();
    // (year, old, new, whether the grant has the year already), ascending.
    let mut changes = Vec::new();
    for year in years {
        let (old, approved, exists) = rows
            .iter()
            .find(|r| r.0 == year)
            .map_or((0, 0, false), |r| (r.1, r.2, true));
        let new = breakdown.iter().find(|b| b.0 == year).map_or(0, |b| b.1);
        if new < approved {
            let mut extra = serde_json::Map::new();
            extra.insert("year".into(), year.into());
            extra.insert("approvedCents".into(), approved.into());
            let mut params = MessageParams::detail(year);
            params.min = Some(approved.to_string());
            return Err(ApiError::Conflict(Box::new(ConflictInfo {
                code: "below_approved",
                params,
                extra: Some(extra),
            })));
        }
        if new != old {
            changes.push((year, old, new, exists));
        }
    }
    let deltas: Vec<(i32, i64)> = changes.iter().map(|&(year, old, new, _)| (year, new - old)).collect();
    if new_total != old_total || !deltas.is_empty() {
        escrow_move(conn, code, application, new_total - old_total, &deltas).await?;
    }
    for &(year, _, new, exists) in &changes {
        if exists {
            diesel::update(grant_years::table.find((application, year)))
                .set(grant_years::committed_cents.eq(new))
                .execute(conn)
                .await?;
        } else {
            diesel::insert_into(grant_years::table)
                .values((
                    grant_years::application_id.eq(application),
                    grant_years::year.eq(year),
                    grant_years::funding_line_code.eq(code),
                    grant_years::committed_cents.eq(new),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(new_total != old_total || !changes.is_empty())
}

/// Settles a grant's commitment to what it keeps (`keep`: the settled amount, never less than what payment requests
/// already took): what approved requests took stays, the rest of `keep` stays in the earliest years, everything else
/// goes back to the line's fiscal-year budgets and its total. Returns what was released.
pub async fn release_commitment(
    conn: &mut AsyncPgConnection,
    code: &str,
    application: Uuid,
    keep: i64,
) -> ApiResult<i64> {
    let rows: Vec<(i32, i64, i64)> = grant_years::table
        .filter(grant_years::application_id.eq(application))
        .order(grant_years::year)
        .select((
            grant_years::year,
            grant_years::committed_cents,
            grant_years::approved_cents,
        ))
        .for_update()
        .load(conn)
        .await?;
    let approved: i64 = rows.iter().map(|r| r.2).sum();
    let mut unapproved_kept = (keep - approved).max(0);
    // (year, released, kept) of the years that give something back, ascending.
    let mut releases = Vec::new();
    for (year, committed, approved) in rows {
        let kept = approved + (committed - approved).min(unapproved_kept);
        unapproved_kept -= kept - approved;
        if committed > kept {
            releases.push((year, committed - kept, kept));
        }
    }
    let released: i64 = releases.iter().map(|r| r.1).sum();
    if released > 0 {
        let back: Vec<(i32, i64)> = releases.iter().map(|&(year, release, _)| (year, -release)).collect();
        escrow_move(conn, code, application, -released, &back).await?;
    }
    for (year, _, kept) in releases {
        diesel::update(grant_years::table.find((application, year)))
            .set(grant_years::committed_cents.eq(kept))
            .execute(conn)
            .await?;
    }
    Ok(released)
}

fn year_exceeded(year: i32, remaining: i64, requested: i64) -> ApiError {
    let mut extra = serde_json::Map::new();
    extra.insert("year".into(), year.into());
    extra.insert("remainingCents".into(), remaining.into());
    extra.insert("requestedCents".into(), requested.into());
    let mut params = MessageParams::detail(year);
    params.max = Some(remaining.to_string());
    ApiError::Conflict(Box::new(ConflictInfo {
        code: "year_budget_exceeded",
        params,
        extra: Some(extra),
    }))
}

/// A line's settings for payment requests (docs/grants.md names their defaults).
#[derive(Debug, Clone)]
pub struct PayoutSettings {
    pub window_months: i32,
    pub retention_bp: i32,
    pub third_signoff_above_cents: Option<i64>,
    pub require_final: bool,
}

pub async fn payout_settings(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<PayoutSettings> {
    let (window_months, retention_bp, third_signoff_above_cents, require_final) = funding_lines::table
        .find(code)
        .select((
            funding_lines::payout_window_months,
            funding_lines::retention_bp,
            funding_lines::third_signoff_above_cents,
            funding_lines::payments_require_final,
        ))
        .first(conn)
        .await?;
    Ok(PayoutSettings {
        window_months,
        retention_bp,
        third_signoff_above_cents,
        require_final,
    })
}

/// What approved payment requests of a grant take in total (all years), and the commitment and approvals of one year
/// (`None` when the grant commits nothing in that year).
pub async fn grant_position(
    conn: &mut AsyncPgConnection,
    application: Uuid,
    year: i32,
) -> ApiResult<(i64, Option<(i64, i64)>)> {
    let rows: Vec<(i32, i64, i64)> = grant_years::table
        .filter(grant_years::application_id.eq(application))
        .select((
            grant_years::year,
            grant_years::committed_cents,
            grant_years::approved_cents,
        ))
        .load(conn)
        .await?;
    let total = rows.iter().map(|(_, _, a)| a).sum();
    let this = rows.iter().find(|(y, _, _)| *y == year).map(|(_, c, a)| (*c, *a));
    Ok((total, this))
}

/// Books an approved payment request against its grant's year: approved ≤ committed, by a conditional UPDATE (the
/// row lock makes concurrent approvals on any instance take turns); 409 `exceeds_commitment` with what remains.
pub async fn approve_payment(conn: &mut AsyncPgConnection, application: Uuid, year: i32, cents: i64) -> ApiResult<()> {
    let updated = diesel::update(grant_years::table.find((application, year)))
        .filter((grant_years::approved_cents + cents).le(grant_years::committed_cents))
        .set(grant_years::approved_cents.eq(grant_years::approved_cents + cents))
        .execute(conn)
        .await?;
    if updated == 1 {
        return Ok(());
    }
    let remaining: Option<i64> = grant_years::table
        .find((application, year))
        .select(grant_years::committed_cents - grant_years::approved_cents)
        .first(conn)
        .await
        .optional()?;
    let remaining = remaining.unwrap_or(0);
    let mut extra = serde_json::Map::new();
    extra.insert("year".into(), year.into());
    extra.insert("remainingCents".into(), remaining.into());
    let mut params = MessageParams::detail(year);
    params.max = Some(remaining.to_string());
    Err(ApiError::Conflict(Box::new(ConflictInfo {
        code: "exceeds_commitment",
        params,
        extra: Some(extra),
    })))
}

/// Books a payment: paid ≤ approved for the grant's year and paid ≤ committed for the line's year (the CHECK
/// constraints hold both; the service only pays what it approved).
pub async fn book_payment(
    conn: &mut AsyncPgConnection,
    code: &str,
    application: Uuid,
    year: i32,
    cents: i64,
) -> ApiResult<()> {
    diesel::update(grant_years::table.find((application, year)))
        .set(grant_years::paid_cents.eq(grant_years::paid_cents + cents))
        .execute(conn)
        .await?;
    diesel::update(funding_line_years::table.find((code, year)))
        .set((
            funding_line_years::paid_cents.eq(funding_line_years::paid_cents + cents),
            funding_line_years::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

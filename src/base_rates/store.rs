//! Every SQL statement on the base-rate table: read it whole, set one half-year.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::db::schema::base_rates;
use crate::error::ApiResult;
use crate::http::extract::Expected;

type Row = (NaiveDate, i32, String, i64, DateTime<Utc>);

const COLUMNS: (
    base_rates::valid_from,
    base_rates::rate_bp,
    base_rates::source,
    base_rates::version,
    base_rates::updated_at,
) = (
    base_rates::valid_from,
    base_rates::rate_bp,
    base_rates::source,
    base_rates::version,
    base_rates::updated_at,
);

fn to_api((valid_from, rate_basis_points, source, version, updated_at): Row) -> BaseRate {
    BaseRate {
        valid_from,
        rate_basis_points,
        source,
        version,
        updated_at,
    }
}

/// The table as the interest computation takes it (`core::interest`), oldest first.
pub async fn table(conn: &mut AsyncPgConnection) -> ApiResult<Vec<crate::core::interest::BaseRate>> {
    let rows: Vec<(NaiveDate, i32)> = base_rates::table
        .order(base_rates::valid_from)
        .select((base_rates::valid_from, base_rates::rate_bp))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(valid_from, rate_bp)| crate::core::interest::BaseRate { valid_from, rate_bp })
        .collect())
}

/// The API form of computed interest periods.
pub fn periods(computed: Vec<crate::core::interest::InterestPeriod>) -> Vec<InterestPeriod> {
    computed
        .into_iter()
        .map(|p| InterestPeriod {
            from: p.from,
            until: p.until,
            days: p.days,
            base_rate_basis_points: p.base_rate_bp,
            rate_basis_points: p.rate_bp,
            interest_cents: p.interest_cents,
        })
        .collect()
}

/// The whole table, oldest first (two rows a year).
pub async fn list(conn: &mut AsyncPgConnection) -> ApiResult<Vec<BaseRate>> {
    let rows: Vec<Row> = base_rates::table
        .order(base_rates::valid_from)
        .select(COLUMNS)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(to_api).collect())
}

/// Adds a half-year's rate or corrects it (`If-Match` optional; 412 on a stale version, and for a half-year that
/// has no rate yet). Returns the rate and whether it was added.
pub async fn set(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    valid_from: NaiveDate,
    rate_bp: i32,
    source: &str,
    expected: Option<Expected>,
) -> ApiResult<(BaseRate, bool)> {
    let current: Option<i64> = base_rates::table
        .find(valid_from)
        .select(base_rates::version)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let row: Row = match current {
        Some(version) => {
            if let Some(e) = expected {
                e.check(version)?;
            }
            diesel::update(base_rates::table.find(valid_from))
                .set((
                    base_rates::rate_bp.eq(rate_bp),
                    base_rates::source.eq(source),
                    base_rates::version.eq(version + 1),
                    base_rates::updated_at.eq(diesel::dsl::now),
                ))
                .returning(COLUMNS)
                .get_result(conn)
                .await?
        }
        None => {
            if expected.is_some() {
                // If-Match names a version of something that does not exist yet.
                return Err(crate::error::ApiError::PreconditionFailed { current_version: 0 });
            }
            diesel::insert_into(base_rates::table)
                .values((
                    base_rates::valid_from.eq(valid_from),
                    base_rates::rate_bp.eq(rate_bp),
                    base_rates::source.eq(source),
                ))
                .returning(COLUMNS)
                .get_result(conn)
                .await?
        }
    };
    let rate = to_api(row);
    let change = Change::new(KIND, event_id(valid_from), "set", "base_rate.set", Audience::everyone())
        .changed(vec!["/rateBasisPoints".into(), "/source".into()]);
    audit::record(conn, caller, change, &rate).await?;
    Ok((rate, current.is_none()))
}

pub async fn history(conn: &mut AsyncPgConnection, valid_from: NaiveDate) -> ApiResult<Vec<history::HistoryEntry>> {
    base_rates::table
        .find(valid_from)
        .select(base_rates::valid_from)
        .first::<NaiveDate>(conn)
        .await?;
    history::list(conn, KIND, event_id(valid_from)).await
}

//! The list of grant notices: the caller's visible notices under the list's filters, a page in id order and the
//! count (`GET /api/v1/grant-notices`).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{GrantNotice, ListGrantNotices, NoticeStatus};
use super::store::{Boxed, Joined, Row, to_api, visible, years_of};
use crate::core::identity::Caller;
use crate::db::schema::{grant_notices, organisations};
use crate::error::ApiResult;

fn filtered(caller: &Caller, q: &ListGrantNotices) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    let today = crate::core::time::today_in_hessen();
    match q.status {
        Some(NoticeStatus::Final) => {
            query = query
                .filter(grant_notices::status.eq(NoticeStatus::Issued.as_str()))
                .filter(grant_notices::final_on.le(today));
        }
        Some(NoticeStatus::Issued) => {
            query = query
                .filter(grant_notices::status.eq(NoticeStatus::Issued.as_str()))
                .filter(grant_notices::final_on.gt(today));
        }
        Some(s) => query = query.filter(grant_notices::status.eq(s.as_str())),
        None => {}
    }
    if let Some(app) = q.application_id {
        query = query.filter(grant_notices::application_id.eq(app));
    }
    if let Some(line) = &q.funding_line {
        query = query.filter(grant_notices::funding_line_code.eq(line.clone()));
    }
    Ok(query)
}

/// A page of visible notices in id order (ids are time-ordered UUIDs or derived from one), with each one's key.
pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListGrantNotices,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(GrantNotice, Uuid)>> {
    let rows = match issued_by_day(conn, caller, q, after, limit).await? {
        Some(rows) => rows,
        None => rows_in_id_order(conn, caller, q, None, after, limit).await?,
    };
    let ids: Vec<Uuid> = rows.iter().map(|(r, _)| r.id).collect();
    let mut years = years_of(conn, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.0.id;
            let y = years.remove(&id).unwrap_or_default();
            Ok((to_api(caller, row, y)?, id))
        })
        .collect()
}

/// The filtered notices after `after` in id order (of those with the given ids only, if given).
async fn rows_in_id_order(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListGrantNotices,
    only: Option<Vec<Uuid>>,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<Joined>> {
    let mut query = filtered(caller, q)?
        .select((Row::as_select(), organisations::name))
        .order(grant_notices::id.asc());
    if let Some(ids) = only {
        query = query.filter(grant_notices::id.eq_any(ids));
    }
    if let Some(after) = after {
        query = query.filter(grant_notices::id.gt(after));
    }
    Ok(query.limit(limit).load(conn).await?)
}

/// The longest span of objection periods still running that [`issued_by_day`] reads day by day (a notice is final a
/// month after its delivery; a longer span means delivery days far ahead, and the page is read in id order).
const ISSUED_DAYS: i64 = 62;

/// `status=issued` for staff: the notices still in their objection period are the newest few of a line's issued
/// ones, and PostgreSQL, assuming them spread evenly, walks the line's notices in id order and filters tens of
/// thousands before it has a page (docs/performance.md S8). Read instead the ids of each day on which running periods
/// end, by the index in (line,) day and id order (index-only, at most `limit` per day, in one pipelined round trip),
/// merge them, and read the page's rows by id.
/// `None` where that does not apply (another status, a municipality's own notices, which its index reads in id
/// order cheaply, or a span beyond [`ISSUED_DAYS`]).
async fn issued_by_day(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListGrantNotices,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Option<Vec<Joined>>> {
    if q.status != Some(NoticeStatus::Issued) || caller.confined_to()?.is_some() {
        return Ok(None);
    }
    let today = crate::core::time::today_in_hessen();
    let last: Option<NaiveDate> = grant_notices::table
        .filter(grant_notices::status.eq(NoticeStatus::Issued.as_str()))
        .select(diesel::dsl::max(grant_notices::final_on))
        .first(conn)
        .await?;
    let span = last.map_or(0, |last| (last - today).num_days());
    if span > ISSUED_DAYS {
        return Ok(None);
    }
    let shared: &AsyncPgConnection = conn;
    let each_day = (1..=span)
        .filter_map(|n| today.checked_add_days(chrono::Days::new(n as u64)))
        .map(|day| async move {
            let mut conn = shared;
            // Staff see every notice: the list's own filters are all there is to apply.
            let mut ids = grant_notices::table
                .filter(grant_notices::status.eq(NoticeStatus::Issued.as_str()))
                .filter(grant_notices::final_on.eq(day))
                .select(grant_notices::id)
                .order(grant_notices::id.asc())
                .limit(limit)
                .into_boxed();
            if let Some(line) = &q.funding_line {
                ids = ids.filter(grant_notices::funding_line_code.eq(line.clone()));
            }
            if let Some(app) = q.application_id {
                ids = ids.filter(grant_notices::application_id.eq(app));
            }
            if let Some(after) = after {
                ids = ids.filter(grant_notices::id.gt(after));
            }
            ids.load::<Uuid>(&mut conn).await
        });
    let mut ids: Vec<Uuid> = futures_util::future::try_join_all(each_day)
        .await?
        .into_iter()
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.truncate(usize::try_from(limit).unwrap_or(0));
    if ids.is_empty() {
        return Ok(Some(Vec::new()));
    }
    Ok(Some(rows_in_id_order(conn, caller, q, Some(ids), None, limit).await?))
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListGrantNotices) -> ApiResult<i64> {
    Ok(filtered(caller, q)?.count().get_result(conn).await?)
}

//! Every SQL statement on the `districts` table (reference data: read only).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::{District, ListDistricts};
use crate::db::schema::districts;
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{Page, PageRequest};

#[derive(Queryable, Selectable)]
#[diesel(table_name = districts)]
pub struct DistrictRow {
    ags: String,
    name: String,
    kind: String,
    regierungsbezirk: String,
    versorgungsgebiet: String,
}

impl TryFrom<DistrictRow> for District {
    type Error = ApiError;
    fn try_from(r: DistrictRow) -> ApiResult<Self> {
        Ok(Self {
            kind: r.kind.parse().map_err(ApiError::internal)?,
            ags: r.ags,
            name: r.name,
            regierungsbezirk: r.regierungsbezirk,
            versorgungsgebiet: r.versorgungsgebiet,
        })
    }
}

pub(super) const SORT: &str = "districts:ags";

fn filtered(q: &ListDistricts) -> districts::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = districts::table.into_boxed();
    if let Some(v) = &q.versorgungsgebiet {
        query = query.filter(districts::versorgungsgebiet.eq(v.clone()));
    }
    if let Some(r) = &q.regierungsbezirk {
        query = query.filter(districts::regierungsbezirk.eq(r.clone()));
    }
    query
}

/// One page of districts in AGS order.
pub async fn page(conn: &mut AsyncPgConnection, q: &ListDistricts) -> ApiResult<Page<District>> {
    let page = PageRequest::<String>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let items = list(conn, q, page.after.as_deref(), page.limit + 1).await?;
    let total = if page.include_total {
        Some(filtered(q).count().get_result::<i64>(conn).await?)
    } else {
        None
    };
    Ok(page.page(items, SORT, |d| d.ags.clone(), |d| d, total))
}

/// Up to `limit` districts that match the list's filters, in AGS order after the AGS `after` (the keyset of the
/// pages and of the CSV export).
pub async fn list(
    conn: &mut AsyncPgConnection,
    q: &ListDistricts,
    after: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<District>> {
    let mut query = filtered(q).select(DistrictRow::as_select()).order(districts::ags.asc());
    if let Some(after) = after {
        query = query.filter(districts::ags.gt(after.to_owned()));
    }
    let rows: Vec<DistrictRow> = query.limit(limit).load(conn).await?;
    rows.into_iter().map(District::try_from).collect()
}

/// One district by its AGS.
pub async fn get(conn: &mut AsyncPgConnection, ags: String) -> ApiResult<District> {
    let row: DistrictRow = districts::table
        .find(ags)
        .select(DistrictRow::as_select())
        .first(conn)
        .await?;
    District::try_from(row)
}

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

const SORT: &str = "districts:ags";

/// One page of districts in AGS order.
pub async fn page(conn: &mut AsyncPgConnection, q: &ListDistricts) -> ApiResult<Page<District>> {
    let page = PageRequest::<String>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let filtered = || {
        let mut query = districts::table.into_boxed();
        if let Some(v) = &q.versorgungsgebiet {
            query = query.filter(districts::versorgungsgebiet.eq(v.clone()));
        }
        if let Some(r) = &q.regierungsbezirk {
            query = query.filter(districts::regierungsbezirk.eq(r.clone()));
        }
        query
    };
    let mut query = filtered().select(DistrictRow::as_select()).order(districts::ags.asc());
    if let Some(after) = &page.after {
        query = query.filter(districts::ags.gt(after.clone()));
    }
    let rows: Vec<DistrictRow> = query.limit(page.limit + 1).load(conn).await?;
    let total = if page.include_total {
        Some(filtered().count().get_result::<i64>(conn).await?)
    } else {
        None
    };
    let items: Vec<District> = rows.into_iter().map(District::try_from).collect::<ApiResult<_>>()?;
    Ok(page.page(items, SORT, |d| d.ags.clone(), |d| d, total))
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

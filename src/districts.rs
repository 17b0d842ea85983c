//! `/api/v1/districts`: Hessen's 26 Kreise and kreisfreie Städte (reference data, loaded by migration; public).

use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::core::types::is_district_ags;
use crate::db::schema::districts;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Query;
use crate::http::openapi::BadRequest;
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::text_enum;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(get_one);
}

text_enum! {
    /// Landkreis or kreisfreie Stadt.
    pub enum DistrictKind {
        Landkreis = "landkreis",
        KreisfreieStadt = "kreisfreie_stadt",
    }
}

/// Kreis: a Landkreis or kreisfreie Stadt of Hessen, keyed by its five-digit AGS (Amtlicher Gemeindeschlüssel).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"ags": "06636", "name": "Werra-Meißner-Kreis", "kind": "landkreis",
    "regierungsbezirk": "Kassel", "versorgungsgebiet": "Kassel"}))]
pub struct District {
    /// Official five-digit key.
    #[schema(max_length = 5)]
    pub ags: String,
    #[schema(max_length = 100)]
    pub name: String,
    pub kind: DistrictKind,
    /// One of the three Regierungsbezirke (Darmstadt, Gießen, Kassel).
    #[schema(max_length = 100)]
    pub regierungsbezirk: String,
    /// One of the six hospital-care regions (Versorgungsgebiete).
    #[schema(max_length = 100)]
    pub versorgungsgebiet: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = districts)]
struct DistrictRow {
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListDistricts {
    /// Only districts of this Versorgungsgebiet (e.g. `Kassel`).
    versorgungsgebiet: Option<String>,
    /// Only districts of this Regierungsbezirk (`Darmstadt`, `Gießen`, `Kassel`).
    regierungsbezirk: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

const SORT: &str = "districts:ags";

/// List districts
///
/// Hessen's 26 districts in AGS order, with their Regierungsbezirk and Versorgungsgebiet.
///
/// **Roles:** public, no token needed.
#[utoipa::path(
    tag = "Districts",
    params(ListDistricts),
    responses(
        (status = 200, description = "One page of districts", body = Page<District>),
    ),
    security(())
)]
#[get("/districts")]
async fn list(state: web::Data<AppState>, Query(q): Query<ListDistricts>) -> ApiResult<HttpResponse> {
    let page = PageRequest::<String>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let mut conn = crate::db::conn(&state.pool).await?;
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
    let rows: Vec<DistrictRow> = query.limit(page.limit + 1).load(&mut conn).await?;
    let total = if page.include_total {
        Some(filtered().count().get_result::<i64>(&mut conn).await?)
    } else {
        None
    };
    let items: Vec<District> = rows.into_iter().map(District::try_from).collect::<ApiResult<_>>()?;
    let result = page.page(items, SORT, |d| d.ags.clone(), |d| d, total);
    Ok(HttpResponse::Ok().json(result))
}

/// Get a district
///
/// One district by its five-digit AGS.
///
/// **Roles:** public, no token needed.
#[utoipa::path(
    tag = "Districts",
    params(("ags" = String, Path, description = "Five-digit AGS of the district", example = "06636")),
    responses(
        (status = 200, description = "The district", body = District),
        (status = 400, response = BadRequest),
    ),
    security(())
)]
#[get("/districts/{ags}")]
async fn get_one(state: web::Data<AppState>, ags: web::Path<String>) -> ApiResult<HttpResponse> {
    let ags = ags.into_inner();
    if !is_district_ags(&ags) {
        return Err(ApiError::BadRequest(vec![FieldError::new(
            "/path/ags",
            "invalid_format",
            MessageParams::detail("a five-digit AGS such as 06636"),
        )]));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let row: DistrictRow = districts::table
        .find(ags)
        .select(DistrictRow::as_select())
        .first(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(District::try_from(row)?))
}

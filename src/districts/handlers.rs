//! The district handlers (public reference data): parse, call the store, respond.

use actix_web::{HttpResponse, get, web};

use super::model::{District, ListDistricts};
use super::store;
use crate::core::types::is_district_ags;
use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Query;
use crate::http::openapi::BadRequest;
use crate::http::pagination::Page;
use crate::state::AppState;

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
pub(super) async fn list(state: web::Data<AppState>, Query(q): Query<ListDistricts>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::page(&mut conn, &q).await?))
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
pub(super) async fn get_one(state: web::Data<AppState>, ags: web::Path<String>) -> ApiResult<HttpResponse> {
    let ags = ags.into_inner();
    if !is_district_ags(&ags) {
        return Err(ApiError::BadRequest(vec![FieldError::new(
            "/path/ags",
            "invalid_format",
            MessageParams::format(Format::DistrictAgs),
        )]));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::get(&mut conn, ags).await?))
}

//! The district handlers (public reference data): parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, web};

use super::model::{District, ListDistricts};
use super::store;
use crate::core::types::is_district_ags;
use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Query;
use crate::http::openapi::BadRequest;
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// List districts
///
/// Hessen's 26 districts in AGS order, with their Regierungsbezirk and Versorgungsgebiet. `Accept: text/csv`
/// exports every match.
///
/// **Roles:** public, no token needed.
#[utoipa::path(
    tag = "Districts",
    params(ListDistricts),
    responses(
        (status = 200, description = "One page of districts, or all of them as CSV",
            content((Page<District> = "application/json"), (String = "text/csv"))),
    ),
    security(())
)]
#[get("/districts")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(q): Query<ListDistricts>,
) -> ApiResult<HttpResponse> {
    if crate::http::csv::wanted(&req) {
        // The paging parameters are checked as for a page, so that a bad cursor or limit is the same 400 in both.
        PageRequest::<String>::parse(q.limit, q.cursor.as_deref(), q.include_total, store::SORT)?;
        let (pool, q) = (state.pool.clone(), std::rc::Rc::new(q));
        let fetch = move |after: Option<String>| {
            let (pool, q) = (pool.clone(), q.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                let rows = store::list(&mut conn, &q, after.as_deref(), crate::http::csv::BATCH).await?;
                Ok(rows
                    .into_iter()
                    .map(|d| {
                        let ags = d.ags.clone();
                        (d, ags)
                    })
                    .collect())
            }
        };
        return Ok(crate::http::csv::stream(
            "districts.csv",
            "ags,name,kind,regierungsbezirk,versorgungsgebiet\n",
            fetch,
            csv_row,
        ));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::page(&mut conn, &q).await?))
}

fn csv_row(d: &District) -> String {
    use crate::http::csv::{cell, line};
    line(&[
        cell(&d.ags),
        cell(&d.name),
        d.kind.as_str().to_owned(),
        cell(&d.regierungsbezirk),
        cell(&d.versorgungsgebiet),
    ])
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

//! The base-rate handlers: role gate, parse, call the store, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::NaiveDate;

use super::model::{BaseRate, BaseRates, SetBaseRate, starts_half_year};
use super::store;
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{JsonBody, NoParams, Query, etag, if_match};
use crate::http::openapi::{BadRequest, Conflict, Forbidden};
use crate::state::AppState;

/// The half-year's first day from the path: 1 January or 1 July of a year from 2000 to 2199 (400 otherwise; the
/// document states the same as the parameter's pattern).
fn half_year(raw: &str) -> ApiResult<NaiveDate> {
    match raw.parse::<NaiveDate>() {
        Ok(day) if starts_half_year(day) && (2000..2200).contains(&chrono::Datelike::year(&day)) => Ok(day),
        _ => Err(ApiError::BadRequest(vec![FieldError::new(
            "/path/validFrom",
            "invalid_format",
            MessageParams::detail("1 January or 1 July of a year 2000–2199: YYYY-01-01 or YYYY-07-01"),
        )])),
    }
}

/// Base rates (Basiszinssatz)
///
/// Every half-year's base rate of § 247 BGB, oldest first: the reference of the interest on recovery claims (5
/// points above it, § 49a Abs. 3 HVwVfG). A half-year without a row has no known rate; interest reaching into it
/// is not computed. `Accept: text/csv` gives the same rows as CSV.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Base rates",
    responses(
        (status = 200, description = "Every base rate",
            content((BaseRates = "application/json"), (String = "text/csv"))),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/base-rates")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: Caller,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let items = store::list(&mut conn).await?;
    if crate::http::csv::wanted(&req) {
        use crate::http::csv::{cell, line};
        let mut body = String::from("validFrom,rateBasisPoints,source,version,updatedAt\n");
        for r in &items {
            body.push_str(&line(&[
                r.valid_from.to_string(),
                r.rate_basis_points.to_string(),
                cell(&r.source),
                r.version.to_string(),
                r.updated_at.to_rfc3339(),
            ]));
        }
        return Ok(crate::http::csv::whole("base-rates.csv", body));
    }
    Ok(HttpResponse::Ok().json(BaseRates { items }))
}

/// Set a half-year's base rate
///
/// Adds the rate of a half-year once the Deutsche Bundesbank has published it (201), or corrects it (200), with the
/// source of the value. Interest not yet fixed (by a repayment or a waiver) follows the table at once; fixed interest
/// stays. `If-Match` is optional; with it, a changed rate is refused with 412.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Base rates",
    params(("validFrom" = NaiveDate, Path, description = "First day of the half-year: 1 January or 1 July",
            pattern = "^2[01][0-9]{2}-(01|07)-01$", example = "2027-01-01"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the rate changed since this ETag")),
    request_body = SetBaseRate,
    responses(
        (status = 200, description = "The corrected rate", body = BaseRate, headers(("ETag" = String))),
        (status = 201, description = "The new half-year's rate", body = BaseRate, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[put("/base-rates/{validFrom}")]
pub(super) async fn set(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<SetBaseRate>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    let valid_from = half_year(&path)?;
    let expected = if_match(&req)?;
    let input = body.parse()?;
    let (Some(rate), Some(source)) = (input.rate_basis_points, input.source) else {
        return Err(ApiError::internal("base rate without rate or source"));
    };
    let mut conn = crate::db::conn(&state.pool).await?;
    let (rate, created) = crate::db::transaction(&mut conn, async |conn| {
        store::set(conn, &caller, valid_from, rate, &source, expected.clone()).await
    })
    .await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status)
        .insert_header(("ETag", etag(rate.version)))
        .json(rate))
}

/// History of a half-year's base rate
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Base rates",
    params(("validFrom" = NaiveDate, Path, description = "First day of the half-year: 1 January or 1 July",
            pattern = "^2[01][0-9]{2}-(01|07)-01$", example = "2026-07-01")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/base-rates/{validFrom}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<String>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let valid_from = half_year(&path)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, valid_from).await?))
}

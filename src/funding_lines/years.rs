//! `/api/v1/funding-lines/{code}/years`: the line's fiscal years (*Haushaltsjahre*), with budget, committed, paid
//! and what remains; the ministry sets a year's budget. Their SQL is in the ledger.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::ledger;
use super::model::{FiscalYear, SetYearBudget};
use crate::core::identity::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{JsonBody, etag, if_match};
use crate::http::openapi::{Conflict, Forbidden};
use crate::state::AppState;

/// The fiscal years of a line, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiscalYears {
    #[schema(max_items = 101)]
    pub items: Vec<FiscalYear>,
}

/// Fiscal years of a funding line
///
/// Budget, committed, paid, remaining and unpaid amounts per fiscal year. `Accept: text/csv` gives the same rows as
/// CSV.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Funding lines",
    params(("code" = String, Path, description = "Code of the funding line", example = "GK")),
    responses(
        (status = 200, description = "The line's fiscal years",
            content((FiscalYears = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/funding-lines/{code}/years")]
async fn list_years(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: Caller,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let items = ledger::years(&mut conn, &code).await?;
    if crate::http::csv::wanted(&req) {
        use crate::http::csv::{cell, line};
        let mut body = String::from(
            "fundingLine,year,budgetCents,committedCents,paidCents,remainingCents,unpaidCents,version,updatedAt\n",
        );
        for y in &items {
            body.push_str(&line(&[
                cell(&y.funding_line),
                y.year.to_string(),
                y.budget_cents.to_string(),
                y.committed_cents.to_string(),
                y.paid_cents.to_string(),
                y.remaining_cents.to_string(),
                y.unpaid_cents.to_string(),
                y.version.to_string(),
                y.updated_at.to_rfc3339(),
            ]));
        }
        return Ok(crate::http::csv::whole("funding-line-years.csv", body));
    }
    Ok(HttpResponse::Ok().json(FiscalYears { items }))
}

/// Set a fiscal year's budget
///
/// Creates the year (201) or changes its budget (200). The budget cannot fall below what approved grants commit in
/// the year: 409 `budget_below_committed`. `If-Match` is optional; with it, a changed year is refused with 412.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Funding lines",
    params(("code" = String, Path, description = "Code of the funding line", example = "GK"),
        ("year" = i32, Path, description = "The fiscal year", minimum = 2000, maximum = 2100, example = 2027),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the year changed since this ETag")),
    request_body = SetYearBudget,
    responses(
        (status = 200, description = "The changed year", body = FiscalYear, headers(("ETag" = String))),
        (status = 201, description = "The new year", body = FiscalYear, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[put("/funding-lines/{code}/years/{year}")]
async fn set_year_budget(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, i32)>,
    body: JsonBody<SetYearBudget>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    let (code, year) = path.into_inner();
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::BadRequest(vec![FieldError::new(
            "/path/year",
            "out_of_range",
            MessageParams::range(2000, 2100),
        )]));
    }
    let expected = if_match(&req)?;
    let budget = body.parse()?.budget_cents.unwrap_or(0);
    let mut conn = crate::db::conn(&state.pool).await?;
    let (fiscal, created) = crate::db::transaction(&mut conn, async |conn| {
        ledger::set_budget(conn, &caller, &code, year, budget, expected.clone()).await
    })
    .await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status)
        .insert_header(("ETag", etag(fiscal.version)))
        .json(fiscal))
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_years).service(set_year_budget);
}

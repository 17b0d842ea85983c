//! The funding-line handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::model::{FundingLine, FundingLineInput, ListFundingLines, PatchFundingLine};
use super::store;
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::auth::MaybeCaller;
use crate::http::extract::{JsonBody, Query, ok_with_etag};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// List funding lines
///
/// The lines of the guideline in code order. Budget figures (`budgetCents`, `committedCents`, `remainingCents`)
/// are included only when a token is sent. `Accept: text/csv` exports every match (the budget columns empty
/// without a token).
///
/// **Roles:** public; budget figures for every authenticated role.
#[utoipa::path(
    tag = "Funding lines",
    params(ListFundingLines),
    responses(
        (status = 200, description = "One page of funding lines, or all of them as CSV",
            content((Page<FundingLine> = "application/json"), (String = "text/csv"))),
    ),
    security((), ("bearerAuth" = []))
)]
#[get("/funding-lines")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<ListFundingLines>,
) -> ApiResult<HttpResponse> {
    let with_budget = caller.is_some();
    if crate::http::csv::wanted(&req) {
        // The filters are checked as for a page, so that a bad cursor or limit is the same 400 in both.
        PageRequest::<String>::parse(q.limit, q.cursor.as_deref(), q.include_total, store::SORT)?;
        let (pool, q) = (state.pool.clone(), std::rc::Rc::new(q));
        let fetch = move |after: Option<String>| {
            let (pool, q) = (pool.clone(), q.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                let rows = store::list(&mut conn, &q, after.as_deref(), crate::http::csv::BATCH, with_budget).await?;
                Ok(rows
                    .into_iter()
                    .map(|l| {
                        let code = l.code.clone();
                        (l, code)
                    })
                    .collect())
            }
        };
        return Ok(crate::http::csv::stream(
            "funding-lines.csv",
            "code,title,description,guidelineReference,eligibleApplicantKinds,opensOn,closesOn,open,maxAmountCents,\
             minRateBasisPoints,maxRateBasisPoints,maxDurationMonths,yearlyCapCents,budgetCents,committedCents,\
             remainingCents,version,createdAt,updatedAt\n",
            fetch,
            csv_row,
        ));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::page(&mut conn, &q, with_budget).await?))
}

fn csv_row(l: &FundingLine) -> String {
    use crate::http::csv::{cell, line, opt};
    let kinds: Vec<&str> = l.eligible_applicant_kinds.iter().map(|k| k.as_str()).collect();
    line(&[
        cell(&l.code),
        cell(&l.title),
        cell(&l.description),
        cell(&l.guideline_reference),
        kinds.join(" "),
        opt(&l.opens_on),
        opt(&l.closes_on),
        l.open.to_string(),
        opt(&l.max_amount_cents),
        l.min_rate_basis_points.to_string(),
        l.max_rate_basis_points.to_string(),
        opt(&l.max_duration_months),
        opt(&l.yearly_cap_cents),
        opt(&l.budget_cents),
        opt(&l.committed_cents),
        opt(&l.remaining_cents),
        l.version.to_string(),
        l.created_at.to_rfc3339(),
        l.updated_at.to_rfc3339(),
    ])
}

/// Get a funding line
///
/// One funding line by its code. Budget figures only when a token is sent.
///
/// **Roles:** public; budget figures for every authenticated role.
#[utoipa::path(
    tag = "Funding lines",
    params(("code" = String, Path, description = "Code of the funding line", example = "GK")),
    responses(
        (status = 200, description = "The funding line", body = FundingLine, headers(("ETag" = String))),
    ),
    security((), ("bearerAuth" = []))
)]
#[get("/funding-lines/{code}")]
async fn get_one(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let line = store::get(&mut conn, &code, caller.is_some()).await?;
    Ok(ok_with_etag(line.version, &line))
}

/// Create a funding line
///
/// Adds a funding line with its rules and budget. Rates are basis points (10000 = 100 %); money is in cents.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Funding lines",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = FundingLineInput,
    responses(
        (status = 201, description = "The new funding line", body = FundingLine,
            headers(("Location" = String, description = "Address of the new funding line"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/funding-lines")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<FundingLineInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    let bytes = body.bytes().to_vec();
    let body = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::http::idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let line = store::create(conn, &caller, body.clone()).await?;
        crate::http::idempotency::Stored::created(&format!("/api/v1/funding-lines/{}", line.code), line.version, &line)
    })
    .await
}

/// Change a funding line
///
/// JSON Merge Patch of a funding line; requires `If-Match` with the ETag last read (428 without, 412 when stale).
/// The changed line must satisfy every rule of a new one. Lowering the budget below what is committed is refused
/// with 409 `budget_below_committed`.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Funding lines",
    params(
        ("code" = String, Path, description = "Code of the funding line", example = "GK"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = PatchFundingLine, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed funding line", body = FundingLine, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/funding-lines/{code}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    code: web::Path<String>,
    body: JsonBody<PatchFundingLine>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::apply_patch(conn, &caller, &code, expected, patch).await
    })
    .await
}

/// History of a funding line
///
/// Every change of the line, oldest first: created, changed (with the fields a change touched), and each approval
/// that committed part of its budget (`commit`).
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Funding lines",
    params(("code" = String, Path, description = "Code of the funding line", example = "GK")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/funding-lines/{code}/history")]
async fn history(state: web::Data<AppState>, _caller: Caller, code: web::Path<String>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &code).await?))
}

//! The application handlers: role gate, parse, call the store, respond. Each doc comment is the operation's
//! description in the OpenAPI document; each function name is its operationId.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::model::*;
use super::store::{self, Filter, Key, SortField};
use crate::core::identity::{Caller, Role};
use crate::core::types::is_district_ags;
use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

fn etagged(app: &Application, status: StatusCode) -> ApiResult<Stored> {
    Ok(Stored::json(status, app)?.header("etag", crate::http::extract::etag(app.version)))
}

// ---- create, read, change ----

/// Create a draft
///
/// Creates a draft application for the caller's own organisation. Drafts may be incomplete: only the funding line
/// and a title are required now; `submit` checks everything else.
///
/// **Roles:** `municipality`.
#[utoipa::path(
    tag = "Applications",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: the same key and body replay the first response for 24 hours (with `Idempotent-Replayed: true`); the same key with another body is 422.")),
    request_body = ApplicationInput,
    responses(
        (status = 201, description = "The new draft", body = Application,
            headers(("Location" = String, description = "Address of the new application"), ("ETag" = String))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications")]
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<ApplicationInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Municipality])?;
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let app = store::insert(conn, &caller, input.clone()).await?;
        Ok(etagged(&app, StatusCode::CREATED)?.header("location", format!("/api/v1/applications/{}", app.id)))
    })
    .await
}

/// Get an application
///
/// **Roles:** `municipality` (own organisation only; others are 404), `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = Application, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/applications/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let conn = crate::db::conn(&state.pool).await?;
    let app = store::find(&conn, &caller, *id, false).await?;
    Ok(ok_with_etag(app.version, &app))
}

/// Change an application
///
/// JSON Merge Patch of the applicant's fields while the application is `draft` or `changes_requested` (409
/// `not_editable` otherwise). Requires `If-Match` (428 without, 412 when stale). Every change is in the history with
/// the fields it touched.
///
/// **Roles:** `municipality` (own organisation only).
#[utoipa::path(
    tag = "Applications",
    params(
        ("id" = Uuid, Path, description = "Application id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = ApplicationInput, content_type = "application/merge-patch+json",
        example = json!({"financingPlan": {"requestedCents": 20000000, "ownFundsCents": 5000000}})),
    responses(
        (status = 200, description = "The changed application", body = Application, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/applications/{id}")]
pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<ApplicationInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Municipality])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::update(conn, &caller, *id, expected, &patch).await
    })
    .await
}

// ---- lifecycle ----

/// Submit
///
/// Submits a `draft` or resubmits a `changes_requested` application. Checks completeness and every rule of the
/// funding line at once (422 listing each problem with its own `code`): the financing plan's sum
/// (`plan_sum_mismatch`), the maximum amount (`exceeds_max_amount`), the funding rate (`exceeds_max_rate`,
/// `below_min_rate`), the duration (`exceeds_max_duration`), the yearly cap (`exceeds_yearly_cap`,
/// `years_sum_mismatch`, `year_outside_period`), the applicant's kind (`ineligible_applicant`) and the submission
/// window (`funding_line_closed`). The body may be empty.
///
/// **Roles:** `municipality` (own organisation only).
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the application changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<NoBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The application after the action", body = Application, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications/{id}/submit")]
pub(super) async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NoBody>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(Action::Submit))?;
    body.parse_or_empty()?;
    crate::http::transition::respond(&state, &req, &caller, body.bytes(), async |conn, expected| {
        store::transition(conn, &caller, *id, Action::Submit, expected, TransitionInput::default()).await
    })
    .await
}

/// Withdraw
///
/// The applicant withdraws the application in any state before a decision. A reason is required.
///
/// **Roles:** `municipality` (own organisation only).
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the application changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Reason,
    responses(
        (status = 200, description = "The application after the action", body = Application, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications/{id}/withdraw")]
pub(super) async fn withdraw(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Reason>,
) -> ApiResult<HttpResponse> {
    with_reason(&state, &req, &caller, *id, Action::Withdraw, body).await
}

async fn with_reason(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    id: Uuid,
    action: Action,
    body: JsonBody<Reason>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(action))?;
    let bytes = body.bytes().to_vec();
    let reason = body.parse()?.reason;
    let input = TransitionInput {
        reason,
        ..TransitionInput::default()
    };
    crate::http::transition::respond(state, req, caller, &bytes, async |conn, expected| {
        store::transition(conn, caller, id, action, expected, input.clone()).await
    })
    .await
}

/// Start the review
///
/// A reviewer takes a `submitted` application into review. The body may be empty.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the application changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<NoBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The application after the action", body = Application, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications/{id}/start-review")]
pub(super) async fn start_review(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NoBody>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(Action::StartReview))?;
    body.parse_or_empty()?;
    crate::http::transition::respond(&state, &req, &caller, body.bytes(), async |conn, expected| {
        store::transition(
            conn,
            &caller,
            *id,
            Action::StartReview,
            expected,
            TransitionInput::default(),
        )
        .await
    })
    .await
}

/// Request changes
///
/// Sends an application `in_review` back to the applicant with a reason; they edit and resubmit.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the application changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Reason,
    responses(
        (status = 200, description = "The application after the action", body = Application, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications/{id}/request-changes")]
pub(super) async fn request_changes(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Reason>,
) -> ApiResult<HttpResponse> {
    with_reason(&state, &req, &caller, *id, Action::RequestChanges, body).await
}

/// Approve
///
/// Approves an application `in_review` with `grantedCents` (at most the requested amount) and commits it against
/// the funding line's budget and, per fiscal year, against each year's budget, in the same transaction. The shares
/// per year come from `years`, else from the application's yearly breakdown scaled to the grant; a multi-year
/// project without either is 422 `years_required`. When the remaining budget does not cover the grant: 409
/// `budget_exceeded` with `remainingCents`; when a year's does not cover its share: 409 `year_budget_exceeded` with
/// `year` and `remainingCents`. Concurrent approvals never commit more than a budget.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the application changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Approval,
    responses(
        (status = 200, description = "The application after the action", body = Application, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications/{id}/approve")]
pub(super) async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Approval>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(Action::Approve))?;
    let bytes = body.bytes().to_vec();
    let approval = body.parse()?;
    let input = TransitionInput {
        reason: approval.note,
        granted_cents: approval.granted_cents,
        years: approval
            .years
            .map(|ys| ys.iter().map(|y| (y.year, y.granted_cents)).collect()),
    };
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        store::transition(conn, &caller, *id, Action::Approve, expected, input.clone()).await
    })
    .await
}

/// Reject
///
/// Rejects an application `in_review` with a reason.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the application changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Reason,
    responses(
        (status = 200, description = "The application after the action", body = Application, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications/{id}/reject")]
pub(super) async fn reject(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Reason>,
) -> ApiResult<HttpResponse> {
    with_reason(&state, &req, &caller, *id, Action::Reject, body).await
}

// ---- history ----

/// History of an application
///
/// Every change and transition, oldest first: who (subject, role, organisation), when, from which state to which,
/// the reason, and the fields a change touched.
///
/// **Roles:** `municipality` (own organisation only), `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/applications/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}
// ---- lists and export ----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListApplications {
    /// One or more states, comma-separated (e.g. `submitted,in_review`).
    status: Option<String>,
    /// Funding line code.
    funding_line: Option<String>,
    /// District AGS of the applicant.
    district: Option<String>,
    /// Applicant organisation id.
    organisation: Option<Uuid>,
    /// Full text over title and description (German stemming; `"…"` for phrases, `-word` to exclude).
    q: Option<String>,
    /// Submitted at or after this instant (RFC 3339).
    submitted_from: Option<DateTime<Utc>>,
    /// Submitted before this instant (RFC 3339).
    submitted_to: Option<DateTime<Utc>>,
    /// Changed at or after this instant (RFC 3339), for synchronising.
    updated_since: Option<DateTime<Utc>>,
    /// Applications about this topic or one of its sub-topics (a topic code).
    topic: Option<String>,
    /// `createdAt`, `submittedAt`, `requestedCents` or `title`; `-` for descending. Default `-createdAt`.
    sort: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

fn bad_query(name: &str, code: &str, params: MessageParams) -> FieldError {
    FieldError::new(format!("/query/{name}"), code, params)
}

impl ListApplications {
    fn filter(&self) -> ApiResult<(Filter, SortField, bool, String)> {
        let mut errors = Vec::new();
        let mut statuses = Vec::new();
        if let Some(wanted) = &self.status {
            for part in wanted.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.parse::<Status>() {
                    Ok(s) => statuses.push(s),
                    Err(_) => {
                        let allowed: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                        errors.push(bad_query(
                            "status",
                            "invalid_value",
                            MessageParams::allowed(allowed.join(", ")),
                        ));
                        break;
                    }
                }
            }
        }
        if let Some(d) = &self.district
            && !is_district_ags(d)
        {
            errors.push(bad_query(
                "district",
                "invalid_format",
                MessageParams::format(Format::DistrictAgs),
            ));
        }
        if let Some(q) = &self.q
            && q.chars().count() > 200
        {
            errors.push(bad_query("q", "too_long", MessageParams::max(200)));
        }
        let sort_text = self.sort.clone().unwrap_or_else(|| "-createdAt".into());
        let (sort, descending) = match SortField::parse(&sort_text) {
            Some(s) => s,
            None => {
                errors.push(bad_query(
                    "sort",
                    "invalid_value",
                    MessageParams::allowed("createdAt, submittedAt, requestedCents, title (prefix - for descending)"),
                ));
                (SortField::CreatedAt, true)
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::BadRequest(errors));
        }
        let filter = Filter {
            statuses,
            funding_line: self.funding_line.clone(),
            district: self.district.clone(),
            organisation: self.organisation,
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            submitted_from: self.submitted_from,
            submitted_to: self.submitted_to,
            updated_since: self.updated_since,
            topic: self.topic.clone(),
        };
        Ok((filter, sort, descending, format!("applications:{sort_text}")))
    }
}

/// List applications
///
/// The applications the caller may see, filtered and sorted, one keyset page at a time (nothing is lost or repeated
/// while new applications arrive). With `Accept: text/csv`, every matching application is streamed as CSV (UTF-8,
/// header row) instead; `limit` and `cursor` are then ignored.
///
/// **Roles:** `municipality` (own organisation only), `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(ListApplications),
    responses(
        (status = 200, description = "One page of applications, or all of them as CSV",
            content(
                (Page<Application> = "application/json"),
                (String = "text/csv", example = "id,organisationId,organisationName,organisationAgs,district,fundingLine,status,title,startDate,endDate,totalCostsCents,ownFundsCents,thirdPartyFundsCents,requestedCents,grantedCents,createdAt,updatedAt,submittedAt,decidedAt\n")
            )),
    ),
    security(("bearerAuth" = []))
)]
#[get("/applications")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListApplications>,
) -> ApiResult<HttpResponse> {
    let (filter, sort, descending, sort_name) = q.filter()?;
    if crate::http::csv::wanted(&req) {
        let pool = state.pool.clone();
        let fetch = move |after: Option<Key>| {
            let (pool, caller, filter) = (pool.clone(), caller.clone(), filter.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                store::page(
                    &mut conn,
                    &caller,
                    &filter,
                    sort,
                    descending,
                    after.as_ref(),
                    crate::http::csv::BATCH,
                )
                .await
            }
        };
        return Ok(crate::http::csv::stream("applications.csv", CSV_HEADER, fetch, csv_row));
    }
    let page = PageRequest::<Key>::parse(q.limit, q.cursor.as_deref(), q.include_total, &sort_name)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = store::page(
        &mut conn,
        &caller,
        &filter,
        sort,
        descending,
        page.after.as_ref(),
        page.limit + 1,
    )
    .await?;
    let total = if page.include_total {
        Some(store::count(&mut conn, &caller, &filter).await?)
    } else {
        None
    };
    let result: Page<Application> = page.page(rows, &sort_name, |(_, key)| key.clone(), |(app, _)| app, total);
    Ok(HttpResponse::Ok().json(result))
}

const CSV_HEADER: &str = "id,organisationId,organisationName,organisationAgs,district,fundingLine,status,title,\
                          startDate,endDate,totalCostsCents,ownFundsCents,thirdPartyFundsCents,requestedCents,\
                          grantedCents,createdAt,updatedAt,submittedAt,decidedAt\n";

fn csv_row(a: &Application) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        a.id.to_string(),
        a.organisation.id.to_string(),
        cell(&a.organisation.name),
        opt(&a.organisation.ags),
        a.district.clone(),
        cell(&a.funding_line),
        a.status.as_str().to_owned(),
        cell(&a.title),
        opt(&a.start_date),
        opt(&a.end_date),
        opt(&a.financing_plan.total_costs_cents),
        opt(&a.financing_plan.own_funds_cents),
        opt(&a.financing_plan.third_party_funds_cents),
        opt(&a.financing_plan.requested_cents),
        opt(&a.granted_cents),
        a.created_at.to_rfc3339(),
        a.updated_at.to_rfc3339(),
        opt(&a.submitted_at.map(|t| t.to_rfc3339())),
        opt(&a.decided_at.map(|t| t.to_rfc3339())),
    ])
}

//! The referral endpoints: role gate, parse, call the store, respond. Each doc comment is the operation's
//! description in the OpenAPI document; each function name is its operationId.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::model::*;
use super::store;
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::extract::{JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// The sort named in cursors: [`store::page`] goes by id.
const SORT: &str = "referrals:id";

const CSV_HEADER: &str = "id,direction,originOrganisation,originDistrict,originCommittee,subject,topics,dueDate,\
                          overdue,status,targets,answered,outcome,createdAt,updatedAt\n";

fn csv_row(r: &Referral) -> String {
    use crate::http::csv::{cell, line, opt};
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| {
            t.committee
                .as_ref()
                .map_or_else(|| t.district.clone().unwrap_or_default(), |c| c.name.clone())
        })
        .collect();
    let answered = r.targets.iter().filter(|t| t.state == TargetState::Answered).count();
    line(&[
        r.id.to_string(),
        r.direction.as_str().to_owned(),
        opt(&r.origin.organisation.as_ref().map(|o| o.name.clone())),
        opt(&r.origin.district),
        opt(&r.origin.committee.as_ref().map(|c| c.name.clone())),
        cell(&r.subject),
        cell(&r.topics.join("; ")),
        opt(&r.due_date),
        r.overdue.to_string(),
        r.status.as_str().to_owned(),
        cell(&targets.join("; ")),
        format!("{answered}/{}", r.targets.len()),
        opt(&r.outcome),
        r.created_at.to_rfc3339(),
        r.updated_at.to_rfc3339(),
    ])
}

// ---- handlers ----

/// List referrals
///
/// The referrals the caller may see, oldest first, filterable by state, direction, topic, due date, district,
/// committee and subject. `Accept: text/csv` exports every match.
///
/// **Roles:** `municipality` (those from its organisation or district or forwarded to its district), `service_unit`,
/// `ministry`.
#[utoipa::path(
    tag = "Referrals",
    params(ListReferrals),
    responses(
        (status = 200, description = "One page of referrals, or all of them as CSV",
            content((Page<Referral> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/referrals")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListReferrals>,
) -> ApiResult<HttpResponse> {
    store::check_filters(&caller, &q)?;
    let paging = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    if crate::http::csv::wanted(&req) {
        let pool = state.pool.clone();
        let q = std::rc::Rc::new(q);
        let fetch = move |after: Option<Uuid>| {
            let (pool, caller, q) = (pool.clone(), caller.clone(), q.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                store::page(&mut conn, &caller, &q, after, crate::http::csv::BATCH).await
            }
        };
        return Ok(crate::http::csv::stream("referrals.csv", CSV_HEADER, fetch, csv_row));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = store::page(&mut conn, &caller, &q, paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        Some(store::count(&mut conn, &caller, &q).await?)
    } else {
        None
    };
    let result: Page<Referral> = paging.page(rows, SORT, |(_, id)| *id, |(r, _)| r, total);
    Ok(HttpResponse::Ok().json(result))
}

/// Bring in a referral
///
/// A municipality brings an idea from its own region (`region_to_committee`, from its own organisation). The
/// service unit records either direction: an idea with `originOrganisation`, or a committee's request with
/// `originCommitteeId`.
///
/// **Roles:** `municipality`, `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewReferral,
    responses(
        (status = 201, description = "The new referral", body = Referral, headers(("Location" = String), ("ETag" = String))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals")]
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<NewReferral>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Municipality, Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let r = store::insert(conn, &caller, input.clone()).await?;
        Ok(Stored::json(StatusCode::CREATED, &r)?
            .header("etag", crate::http::extract::etag(r.version))
            .header("location", format!("/api/v1/referrals/{}", r.id)))
    })
    .await
}

/// Get a referral
///
/// **Roles:** `municipality` (from its organisation or district, or forwarded to its district; others are 404),
/// `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The referral", body = Referral, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/referrals/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let r = store::find(&mut conn, &caller, *id).await?;
    Ok(ok_with_etag(r.version, &r))
}

/// Timeline of a referral
///
/// Every step, oldest first: who, when, what, and the note given.
///
/// **Roles:** as for reading the referral.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The timeline", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/referrals/{id}/timeline")]
pub(super) async fn timeline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::timeline(&mut conn, &caller, *id).await?))
}

/// Triage
///
/// The service unit takes a `received` referral into triage. Optional note.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<Note>, content_type = "application/json"),
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/triage")]
pub(super) async fn triage(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Note>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Triage))?;
    let note = body.parse_or_empty()?.note;
    crate::http::transition::respond(&state, &req, &caller, body.bytes(), async |conn, expected| {
        store::act(
            conn,
            &caller,
            *id,
            ReferralAction::Triage,
            expected,
            ActionInput::Note(note.clone()),
        )
        .await
    })
    .await
}

/// Forward
///
/// Forwards a referral in triage (or already forwarded, to add targets) to one or more committees or districts;
/// each target then answers on its own.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Forwarding,
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/forward")]
pub(super) async fn forward(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Forwarding>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Forward))?;
    let bytes = body.bytes().to_vec();
    let f = body.parse()?;
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        store::act(
            conn,
            &caller,
            *id,
            ReferralAction::Forward,
            expected,
            ActionInput::Forward(f.clone()),
        )
        .await
    })
    .await
}

/// Decline
///
/// Declines a referral that is received or in triage, with a reason (recorded as the outcome).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = DeclineBody,
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/decline")]
pub(super) async fn decline(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<DeclineBody>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Decline))?;
    let bytes = body.bytes().to_vec();
    let reason = body.parse()?.reason.unwrap_or_default();
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        store::act(
            conn,
            &caller,
            *id,
            ReferralAction::Decline,
            expected,
            ActionInput::Decline(reason.clone()),
        )
        .await
    })
    .await
}

/// Respond
///
/// A target answers: a municipality for a target that is its own district, the service unit for a committee
/// target (403 otherwise; 409 `already_answered` for a second answer). Once every target has answered, the
/// referral is `answered`.
///
/// **Roles:** `municipality`, `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Response,
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/respond")]
pub(super) async fn respond(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Response>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Respond))?;
    let bytes = body.bytes().to_vec();
    let r = body.parse()?;
    let input = ActionInput::Respond(r.target_id.unwrap_or_default(), r.answer.unwrap_or_default());
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        store::act(conn, &caller, *id, ReferralAction::Respond, expected, input.clone()).await
    })
    .await
}

/// Close
///
/// Closes an answered referral with its outcome.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Closing,
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/close")]
pub(super) async fn close(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Closing>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Close))?;
    let bytes = body.bytes().to_vec();
    let outcome = body.parse()?.outcome.unwrap_or_default();
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        store::act(
            conn,
            &caller,
            *id,
            ReferralAction::Close,
            expected,
            ActionInput::Close(outcome.clone()),
        )
        .await
    })
    .await
}

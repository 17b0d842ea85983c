//! The meeting handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::store;
use crate::action_items::model::{ActionItem, NewActionItem};
use crate::audit::history::HistoryEntry;
use crate::committees::meetings::{Meeting, NewMeeting};
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::extract::{JsonBody, NoParams, Query, ok_with_etag};
use crate::http::openapi::{BadRequest, Conflict, Forbidden};
use crate::state::AppState;

/// Get a meeting
///
/// With its agenda (each item's resolution, result and decisions once recorded) and attendance.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses(
        (status = 200, description = "The meeting", body = Meeting, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/meetings/{id}")]
async fn get_meeting(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let m = crate::committees::meeting(&mut conn, *id, false).await?;
    Ok(ok_with_etag(m.version, &m))
}

/// Record a meeting's outcomes
///
/// JSON Merge Patch of the meeting: the agenda (an array: send it whole) with each item's `resolution`, `result`
/// and `decisions`, the `attendance` (members present: ids of the committee's members; the service unit's
/// participation; guests by institution), date, title, place, link. The minutes go up as an attachment
/// (`POST /meetings/{id}/attachments`, category `protokoll`). Requires `If-Match` (428 without, 412 when stale).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(
        ("id" = Uuid, Path, description = "Meeting id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = NewMeeting, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed meeting", body = Meeting, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/meetings/{id}")]
async fn update_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewMeeting>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::update(conn, &caller, *id, expected, patch).await
    })
    .await
}

/// History of a meeting
///
/// **Roles:** `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[get("/meetings/{id}/history")]
async fn meeting_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, *id).await?))
}

/// Assign an action item
///
/// A follow-up the meeting decided: title, description, the agenda item it follows from (`agendaIndex`), the
/// assignee (an organisation, a committee or the service unit) and a due date. It is a duty in `/obligations`
/// (`action_item.complete`) until it is `done` or `cancelled`.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Action items",
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewActionItem,
    responses(
        (status = 201, description = "The new action item", body = ActionItem,
            headers(("Location" = String, description = "Address of the new action item"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/meetings/{id}/action-items")]
async fn add_action_item(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewActionItem>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let body = body.parse()?;
    let meeting = *id;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::http::idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let a = crate::action_items::create(conn, &caller, meeting, body.clone()).await?;
        crate::http::idempotency::Stored::created(&format!("/api/v1/action-items/{}", a.id), a.version, &a)
    })
    .await
}

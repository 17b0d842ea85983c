//! The action-item handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::model::{ActionItem, ItemAction, ItemDone, ItemNote, LIFECYCLE, ListActionItems, NewActionItem};
use super::store::{self, Key, TransitionInput};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::extract::{JsonBody, NoParams, Query, ok_with_etag};
use crate::http::openapi::{BadRequest, Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

const SORT: &str = "action-items:dueOn";
const CSV_HEADER: &str =
    "id,meetingId,committeeId,title,assignee,organisationId,assigneeCommitteeId,district,dueOn,status,version\n";

fn csv_row(a: &ActionItem) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        a.id.to_string(),
        a.meeting_id.to_string(),
        a.committee_id.to_string(),
        cell(&a.title),
        a.assignee.as_str().to_owned(),
        opt(&a.organisation_id),
        opt(&a.assignee_committee_id),
        opt(&a.district),
        a.due_on.to_string(),
        a.status.as_str().to_owned(),
        a.version.to_string(),
    ])
}

/// List action items
///
/// The follow-ups committee meetings assigned, soonest due first; filterable by state, assignee kind, committee,
/// meeting, assignee organisation and due date. Open ones are also duties in `/obligations`.
/// `Accept: text/csv` exports every match.
///
/// **Roles:** every authenticated role (as the meetings they come from).
#[utoipa::path(
    tag = "Action items",
    params(ListActionItems),
    responses(
        (status = 200, description = "One page of action items, or all of them as CSV",
            content((Page<ActionItem> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/action-items")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListActionItems>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::<Key>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    if crate::http::csv::wanted(&req) {
        let (pool, q, caller) = (state.pool.clone(), std::rc::Rc::new(q), std::rc::Rc::new(caller));
        let fetch = move |after: Option<Key>| {
            let (pool, q, caller) = (pool.clone(), q.clone(), caller.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                store::page(&mut conn, &caller, &q, after, crate::http::csv::BATCH).await
            }
        };
        return Ok(crate::http::csv::stream("action-items.csv", CSV_HEADER, fetch, csv_row));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = store::page(&mut conn, &caller, &q, paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        Some(store::count(&mut conn, &q).await?)
    } else {
        None
    };
    let page: Page<ActionItem> = paging.page(rows, SORT, |(_, k)| *k, |(a, _)| a, total);
    Ok(HttpResponse::Ok().json(page))
}

/// Get an action item
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Action items",
    params(("id" = Uuid, Path, description = "Action item id")),
    responses(
        (status = 200, description = "The action item", body = ActionItem, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/action-items/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let a = store::find(&mut conn, &caller, *id, false).await?;
    Ok(ok_with_etag(a.version, &a))
}

/// Change an action item
///
/// JSON Merge Patch while it is `open` or `in_progress` (409 `not_editable` after): title, description, agenda
/// item, assignee, due date. Requires `If-Match` (428 without, 412 when stale).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Action items",
    params(
        ("id" = Uuid, Path, description = "Action item id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = NewActionItem, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed action item", body = ActionItem, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/action-items/{id}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewActionItem>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::update(conn, &caller, *id, expected, patch).await
    })
    .await
}

/// History of an action item
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Action items",
    params(("id" = Uuid, Path, description = "Action item id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/action-items/{id}/history")]
async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

crate::lifecycle_action!(
    start,
    "/action-items/{id}/start",
    ItemAction::Start,
    tag "Action items",
    id "Action item id",
    item ActionItem,
    optional crate::http::extract::Empty => |_| TransitionInput::default(),
    "Start work on an action item",
    "**Roles:** `service_unit`; `municipality` on items assigned to its own organisation."
);
crate::lifecycle_action!(
    complete,
    "/action-items/{id}/complete",
    ItemAction::Complete,
    tag "Action items",
    id "Action item id",
    item ActionItem,
    optional ItemDone => |b: ItemDone| TransitionInput { reason: b.reason },
    "Complete an action item",
    "Optionally with what was done (`reason`, kept as the item's `note`); no longer a duty in `/obligations`.\n\n**Roles:** `service_unit`; `municipality` on items assigned to its own organisation."
);
crate::lifecycle_action!(
    cancel,
    "/action-items/{id}/cancel",
    ItemAction::Cancel,
    tag "Action items",
    id "Action item id",
    item ActionItem,
    required ItemNote => |b: ItemNote| TransitionInput { reason: b.reason },
    "Cancel an action item",
    "With a reason (`reason`).\n\n**Roles:** `service_unit`."
);

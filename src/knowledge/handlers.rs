//! The knowledge-entry handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::model::{EntryAction, EntryInput, EntryReturn, KnowledgeEntry, LIFECYCLE, ListEntries};
use super::store::{self, TransitionInput};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::auth::MaybeCaller;
use crate::http::extract::{JsonBody, NoParams, Query, ok_with_etag};
use crate::http::openapi::{BadRequest, Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// The cursor's sort name: the order and the filters it was made under, so that a cursor of one search does not
/// page another (ranks differ by query).
fn sort_of(q: &ListEntries) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        &q.q,
        &q.topic,
        q.kind.map(|k| k.as_str()),
        q.status.map(|s| s.as_str()),
        q.visibility.map(|v| v.as_str()),
    )
        .hash(&mut h);
    format!("knowledge-entries:relevance:{:016x}", h.finish())
}
const CSV_HEADER: &str = "id,kind,title,topics,visibility,status,reviewDueOn,author,publishedAt,version,updatedAt\n";

fn csv_row(e: &KnowledgeEntry) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        e.id.to_string(),
        e.kind.as_str().to_owned(),
        cell(&e.title),
        cell(&e.topics.join("; ")),
        e.visibility.as_str().to_owned(),
        e.status.as_str().to_owned(),
        opt(&e.review_due_on),
        opt(&e.author),
        opt(&e.published_at.map(|t| t.to_rfc3339())),
        e.version.to_string(),
        e.updated_at.to_rfc3339(),
    ])
}

/// Search the knowledge base
///
/// Published entries as the caller may read them: anyone the public ones, signed-in roles also the network ones,
/// staff every entry in every state. `q` searches title and body in German (stemming: `Praxen` finds `Praxis`;
/// `"…"` for phrases, `-Wort` to exclude), ranked by relevance (title before body), each with a `snippet` of the best
/// passages. `topic` includes sub-topics. `Accept: text/csv` exports every match.
///
/// **Roles:** public (published public entries); signed-in roles see network entries too; staff see all.
#[utoipa::path(
    tag = "Knowledge",
    params(ListEntries),
    responses(
        (status = 200, description = "One page of entries, or all of them as CSV",
            content((Page<KnowledgeEntry> = "application/json"), (String = "text/csv"))),
    ),
    security((), ("bearerAuth" = []))
)]
#[get("/knowledge-entries")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<ListEntries>,
) -> ApiResult<HttpResponse> {
    let staff = caller
        .as_ref()
        .is_some_and(|c| matches!(c.role, Role::ServiceUnit | Role::Ministry));
    if q.status.is_some() && !staff {
        return Err(crate::error::ApiError::BadRequest(vec![crate::error::FieldError::new(
            "/query/status",
            "not_allowed",
            crate::error::MessageParams::detail("only staff read entries that are not published"),
        )]));
    }
    let sort = sort_of(&q);
    let paging = PageRequest::<(f32, Uuid)>::parse(q.limit, q.cursor.as_deref(), q.include_total, &sort)?;
    if crate::http::csv::wanted(&req) {
        let (pool, q) = (state.pool.clone(), std::rc::Rc::new(q));
        let fetch = move |after: Option<(f32, Uuid)>| {
            let (pool, q, caller) = (pool.clone(), q.clone(), caller.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                store::page(&mut conn, caller.as_ref(), &q, after, crate::http::csv::BATCH).await
            }
        };
        return Ok(crate::http::csv::stream(
            "knowledge-entries.csv",
            CSV_HEADER,
            fetch,
            csv_row,
        ));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = store::page(&mut conn, caller.as_ref(), &q, paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        Some(store::count(&mut conn, caller.as_ref(), &q).await?)
    } else {
        None
    };
    let page: Page<KnowledgeEntry> = paging.page(rows, &sort, |(_, k)| *k, |(e, _)| e, total);
    Ok(HttpResponse::Ok().json(page))
}

/// Get a knowledge entry
///
/// **Roles:** as the list: public entries for anyone, network entries for signed-in roles, every entry for staff.
#[utoipa::path(
    tag = "Knowledge",
    params(("id" = Uuid, Path, description = "Knowledge entry id")),
    responses(
        (status = 200, description = "The entry", body = KnowledgeEntry, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
    ),
    security((), ("bearerAuth" = []))
)]
#[get("/knowledge-entries/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    MaybeCaller(caller): MaybeCaller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let e = store::find(&mut conn, caller.as_ref(), *id, false).await?;
    Ok(ok_with_etag(e.version, &e))
}

/// Write a knowledge entry
///
/// A draft: kind, title, body, topics (active codes), visibility once published, the applications it draws on, a
/// review date. It is published after a review (`submit`, then `publish`).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Knowledge",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = EntryInput,
    responses(
        (status = 201, description = "The new draft", body = KnowledgeEntry,
            headers(("Location" = String, description = "Address of the new entry"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/knowledge-entries")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<EntryInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let body = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::http::idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let e = store::create(conn, &caller, body.clone()).await?;
        crate::http::idempotency::Stored::created(&format!("/api/v1/knowledge-entries/{}", e.id), e.version, &e)
    })
    .await
}

/// Change a knowledge entry
///
/// JSON Merge Patch in any state but `archived` (409 `not_editable`); a published entry's readers see the change at
/// once. Requires `If-Match` (428 without, 412 when stale).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Knowledge",
    params(
        ("id" = Uuid, Path, description = "Knowledge entry id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = EntryInput, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed entry", body = KnowledgeEntry, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/knowledge-entries/{id}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<EntryInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::update(conn, &caller, *id, expected, patch).await
    })
    .await
}

/// History of a knowledge entry
///
/// **Roles:** `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Knowledge",
    params(("id" = Uuid, Path, description = "Knowledge entry id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[get("/knowledge-entries/{id}/history")]
async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

crate::lifecycle_action!(
    submit,
    "/knowledge-entries/{id}/submit",
    EntryAction::Submit,
    tag "Knowledge",
    id "Knowledge entry id",
    item KnowledgeEntry,
    optional crate::http::extract::Empty => |_| TransitionInput::default(),
    "Submit an entry for review",
    "**Roles:** `service_unit`."
);
crate::lifecycle_action!(
    return_entry,
    "/knowledge-entries/{id}/return",
    EntryAction::Return,
    tag "Knowledge",
    id "Knowledge entry id",
    item KnowledgeEntry,
    required EntryReturn => |b: EntryReturn| TransitionInput { reason: b.reason },
    "Return an entry to its author",
    "With a reason (`reason`); the entry is a draft again.\n\n**Roles:** `service_unit`, `ministry`."
);
crate::lifecycle_action!(
    publish,
    "/knowledge-entries/{id}/publish",
    EntryAction::Publish,
    tag "Knowledge",
    id "Knowledge entry id",
    item KnowledgeEntry,
    optional crate::http::extract::Empty => |_| TransitionInput::default(),
    "Publish a reviewed entry",
    "Readable from now on as its `visibility` says.\n\n**Roles:** `service_unit`, `ministry`."
);
crate::lifecycle_action!(
    archive,
    "/knowledge-entries/{id}/archive",
    EntryAction::Archive,
    tag "Knowledge",
    id "Knowledge entry id",
    item KnowledgeEntry,
    optional crate::http::extract::Empty => |_| TransitionInput::default(),
    "Archive an entry",
    "Out of date: kept, read by staff only.\n\n**Roles:** `service_unit`."
);

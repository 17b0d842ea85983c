//! The topic handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use super::model::{ListTopics, Merge, NewTopic, PatchTopic, Topic};
use super::store;
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::db::Connection;
use crate::error::ApiResult;
use crate::http::auth::MaybeCaller;
use crate::http::extract::{JsonBody, NoParams, Query, ok_with_etag};
use crate::http::list::Listing;
use crate::http::openapi::{BadRequest, Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// List topics
///
/// The register in code order, filterable by parent, state and title text. Records (committees, referrals) carry
/// these codes; a list filtered by a topic also finds its sub-topics. `Accept: text/csv` exports every match.
///
/// **Roles:** public.
#[utoipa::path(
    tag = "Topics",
    params(ListTopics),
    responses(
        (status = 200, description = "One page of topics, or all of them as CSV",
            content((Page<Topic> = "application/json"), (String = "text/csv"))),
    ),
    security((), ("bearerAuth" = []))
)]
#[get("/topics")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<ListTopics>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::parse(q.limit, q.cursor.as_deref(), q.include_total, Topics::SORT)?;
    // The register reads the same for everyone: the listing never looks at the caller.
    let caller = caller.unwrap_or_else(Caller::system);
    crate::http::list::respond::<Topics>(&state, &req, caller, q, paging).await
}

struct Topics;

impl Listing for Topics {
    type Query = ListTopics;
    type Item = Topic;
    type Key = String;
    const SORT: &'static str = "topics:code";
    const CSV_FILE: &'static str = "topics.csv";
    const CSV_HEADER: &'static str = "code,title,parent,status,mergedInto,version,updatedAt\n";

    fn csv_row(t: &Topic) -> String {
        use crate::http::csv::{cell, line, opt};
        line(&[
            cell(&t.code),
            cell(&t.title),
            opt(&t.parent),
            t.status.as_str().to_owned(),
            opt(&t.merged_into),
            t.version.to_string(),
            t.updated_at.to_rfc3339(),
        ])
    }

    async fn page(
        conn: &mut Connection,
        _caller: &Caller,
        q: &ListTopics,
        after: Option<String>,
        limit: i64,
    ) -> ApiResult<Vec<(Topic, String)>> {
        store::page(conn, q, after, limit).await
    }

    async fn count(conn: &mut Connection, _caller: &Caller, q: &ListTopics) -> ApiResult<i64> {
        store::count(conn, q).await
    }
}

/// Get a topic
///
/// **Roles:** public.
#[utoipa::path(
    tag = "Topics",
    params(("code" = String, Path, description = "Topic code", example = "pflege", max_length = 60)),
    responses(
        (status = 200, description = "The topic", body = Topic, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
    ),
    security((), ("bearerAuth" = []))
)]
#[get("/topics/{code}")]
async fn get_one(
    state: web::Data<AppState>,
    _caller: MaybeCaller,
    code: web::Path<String>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let t = store::find(&mut conn, &code).await?;
    Ok(ok_with_etag(t.version, &t))
}

/// Add a topic
///
/// A new topic, top-level or below an active one (at most four levels deep). The code is permanent (409
/// `already_exists` if taken); the title is unique among active topics.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Topics",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewTopic,
    responses(
        (status = 201, description = "The new topic", body = Topic,
            headers(("Location" = String, description = "Address of the new topic"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/topics")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<NewTopic>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let body = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::http::idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let t = store::create(conn, &caller, body.clone()).await?;
        crate::http::idempotency::Stored::created(&format!("/api/v1/topics/{}", t.code), t.version, &t)
    })
    .await
}

/// Change a topic
///
/// JSON Merge Patch of the title, the parent (`null`: top-level; not below itself, at most four levels deep: 422)
/// and the state (`archived`: given to no new record). A merged topic stays archived (409 `topic_merged`). Requires
/// `If-Match` (428 without, 412 when stale).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Topics",
    params(
        ("code" = String, Path, description = "Topic code", example = "pflege", max_length = 60),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = PatchTopic, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed topic", body = Topic, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/topics/{code}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    code: web::Path<String>,
    body: JsonBody<PatchTopic>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::update(conn, &caller, &code, expected, patch).await
    })
    .await
}

/// Merge a topic into another
///
/// For topics that are the same (a free text that became a topic of its own, say): every committee and referral
/// that carries this topic carries `into` instead (each with its history entry and event), this topic's
/// sub-topics move below `into`, and this topic is archived with `mergedInto`. In one transaction.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Topics",
    params(
        ("code" = String, Path, description = "Topic code", example = "mvz", max_length = 60),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry"),
    ),
    request_body = Merge,
    responses(
        (status = 200, description = "The merged (archived) topic", body = Topic, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/topics/{code}/merge")]
async fn merge(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    code: web::Path<String>,
    body: JsonBody<Merge>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let into = body.parse()?.into.unwrap_or_default();
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        let current = store::find(conn, &code).await?;
        if let Some(e) = expected {
            e.check(current.version)?;
        }
        let merged = store::merge(conn, &caller, &code, &into).await?;
        crate::committees::replace_topic(conn, &caller, &code, &into).await?;
        crate::referrals::replace_topic(conn, &caller, &code, &into).await?;
        crate::coordinators::replace_topic(conn, &caller, &code, &into).await?;
        crate::applications::replace_topic(conn, &caller, &code, &into).await?;
        crate::knowledge::replace_topic(conn, &caller, &code, &into).await?;
        crate::consultations::replace_topic(conn, &caller, &code, &into).await?;
        crate::vocabulary::replace_in_subscriptions(conn, &code, &into).await?;
        Ok(merged)
    })
    .await
}

/// History of a topic
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Topics",
    params(("code" = String, Path, description = "Topic code", example = "pflege", max_length = 60)),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/topics/{code}/history")]
async fn history(
    state: web::Data<AppState>,
    _caller: Caller,
    code: web::Path<String>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &code).await?))
}

//! The committee handlers: role gate, parse, call the store, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::model::{Committee, CommitteeInput, CommitteeKind, KIND};
use super::store::{self, Filter};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::extract::{JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListCommittees {
    kind: Option<CommitteeKind>,
    /// Case-insensitive part of the name.
    q: Option<String>,
    /// Committees with this topic or one of its sub-topics (a topic code).
    topic: Option<String>,
    /// Committees whose coverage includes this district (AGS): all of Hessen, its Versorgungsgebiet, or listed.
    covers: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

const SORT: &str = "committees:id";

/// List committees
///
/// Committees, working groups, regional conferences and units of other ministries, oldest first. Filter by kind,
/// name, topic, or the district they cover. `Accept: text/csv` exports every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Committees",
    params(ListCommittees),
    responses(
        (status = 200, description = "One page of committees, or all of them as CSV",
            content((Page<Committee> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/committees")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: Caller,
    Query(q): Query<ListCommittees>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let filter = std::rc::Rc::new(Filter {
        kind: q.kind,
        q: q.q,
        topic: q.topic,
        covers: q.covers,
    });
    let fetch = {
        let pool = state.pool.clone();
        let filter = filter.clone();
        move |after: Option<Uuid>, limit: i64| {
            let (pool, filter) = (pool.clone(), filter.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                store::list(&mut conn, &filter, after, limit).await
            }
        }
    };
    if crate::http::csv::wanted(&req) {
        return Ok(crate::http::csv::stream(
            "committees.csv",
            "id,name,kind,owningBody,topics,coverage,versorgungsgebiet,districts\n",
            move |after| fetch(after, crate::http::csv::BATCH),
            csv_row,
        ));
    }
    let rows = fetch(paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        let mut conn = crate::db::conn(&state.pool).await?;
        Some(store::count(&mut conn, &filter).await?)
    } else {
        None
    };
    let result: Page<Committee> = paging.page(rows, SORT, |(_, id)| *id, |(c, _)| c, total);
    Ok(HttpResponse::Ok().json(result))
}

fn csv_row(c: &Committee) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        c.id.to_string(),
        cell(&c.name),
        c.kind.as_str().to_owned(),
        cell(&c.owning_body),
        cell(&c.topics.join("; ")),
        c.coverage.scope.as_str().to_owned(),
        opt(&c.coverage.versorgungsgebiet),
        cell(&c.coverage.districts.clone().unwrap_or_default().join(" ")),
    ])
}

/// Get a committee
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id")),
    responses(
        (status = 200, description = "The committee", body = Committee, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/committees/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = store::find(&mut conn, *id).await?;
    Ok(ok_with_etag(c.version, &c))
}

/// Add a committee
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = CommitteeInput,
    responses(
        (status = 201, description = "The new committee", body = Committee, headers(("Location" = String), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/committees")]
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<CommitteeInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let c = store::create(conn, &caller, &input).await?;
        Ok(Stored::json(StatusCode::CREATED, &c)?
            .header("etag", crate::http::extract::etag(c.version))
            .header("location", format!("/api/v1/committees/{}", c.id)))
    })
    .await
}

/// Change a committee
///
/// JSON Merge Patch with `If-Match`.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(
        ("id" = Uuid, Path, description = "Committee id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = CommitteeInput, content_type = "application/merge-patch+json",
        example = json!({"topics": ["versorgungsplanung", "telemedizin"]})),
    responses(
        (status = 200, description = "The changed committee", body = Committee, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/committees/{id}")]
pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CommitteeInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let id = *id;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::apply_patch(conn, &caller, id, expected, patch).await
    })
    .await
}

/// Remove a committee
///
/// Removes a committee with its members and meetings. A committee that referrals come from or were forwarded to
/// cannot be removed (409 `in_use`).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/committees/{id}")]
pub(super) async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let id = *id;
    let mut conn = crate::db::conn(&state.pool).await?;
    let keys = crate::db::transaction(&mut conn, async |conn| store::delete(conn, &caller, id).await).await?;
    crate::files::content::remove_after_commit(&state.storage, &keys).await;
    Ok(HttpResponse::NoContent().finish())
}

/// History of a committee
///
/// Every change of the committee, oldest first: created, changed (with the fields a change touched), members added
/// and removed, meetings recorded.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/committees/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    store::find(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(crate::audit::history::list(&mut conn, KIND, *id).await?))
}

//! The change-request handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::model::{ChangeAction, ChangeRequest, LIFECYCLE, ListChangeRequests, NewChangeRequest, Refusal};
use super::store;
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::db::Connection;
use crate::error::ApiResult;
use crate::http::extract::{Empty, JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::list::Listing;
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// List change reports and amendment requests
///
/// Filterable by state and kind. A municipality sees its own organisation's. `Accept: text/csv` exports every
/// match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Change requests",
    params(ListChangeRequests),
    responses(
        (status = 200, description = "One page of change requests, or all of them as CSV",
            content((Page<ChangeRequest> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/change-requests")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListChangeRequests>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::parse(q.limit, q.cursor.as_deref(), q.include_total, ChangeRequests::SORT)?;
    crate::http::list::respond::<ChangeRequests>(&state, &req, caller, q, paging).await
}

/// The list of ChangeRequest items (`crate::http::list`).
struct ChangeRequests;

impl Listing for ChangeRequests {
    type Query = ListChangeRequests;
    type Item = ChangeRequest;
    type Key = Uuid;
    const SORT: &'static str = "change-requests:id";
    const CSV_FILE: &'static str = "change-requests.csv";
    const CSV_HEADER: &'static str = CSV_HEADER;

    fn csv_row(item: &ChangeRequest) -> String {
        csv_row(item)
    }

    async fn page(
        conn: &mut Connection,
        caller: &Caller,
        q: &ListChangeRequests,
        after: Option<Uuid>,
        limit: i64,
    ) -> ApiResult<Vec<(ChangeRequest, Uuid)>> {
        store::page(conn, caller, q, after, limit).await
    }

    async fn count(conn: &mut Connection, caller: &Caller, q: &ListChangeRequests) -> ApiResult<i64> {
        store::count(conn, caller, q).await
    }
}

const CSV_HEADER: &str = "id,noticeId,applicationId,recipientId,recipientName,district,fundingLine,kind,status,\
                          proposedPeriodEnd,decidedBy,amendingNoticeId,version,updatedAt\n";

fn csv_row(c: &ChangeRequest) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        c.id.to_string(),
        c.notice_id.to_string(),
        c.application_id.to_string(),
        c.recipient.id.to_string(),
        cell(&c.recipient.name),
        c.district.clone(),
        cell(&c.funding_line),
        c.kind.as_str().to_owned(),
        c.status.as_str().to_owned(),
        opt(&c.proposed_period_end),
        opt(&c.decided_by),
        opt(&c.amending_notice_id),
        c.version.to_string(),
        c.updated_at.to_rfc3339(),
    ])
}

/// Get a change request
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Change requests",
    params(("id" = Uuid, Path, description = "Change request id")),
    responses(
        (status = 200, description = "The change request", body = ChangeRequest, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/change-requests/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = store::find(&mut conn, &caller, *id, false).await?;
    Ok(ok_with_etag(c.version, &c))
}

/// Report a change or request an amendment
///
/// The recipient reports what it must report (Mitteilungspflichten: further funding, a change of purpose or
/// circumstances, the purpose unreachable, funds not needed soon, insolvency) or asks for an amendment (an
/// extension with `proposedPeriodEnd`, a new breakdown or an increase with `proposedYears`, moving money between
/// plan lines). A report proposes nothing (422 `not_allowed`). Against the notice in force (409
/// `notice_not_issued`, `notice_amended`).
///
/// **Roles:** `municipality` (own organisation only).
#[utoipa::path(
    tag = "Change requests",
    params(("id" = Uuid, Path, description = "Id of the notice in force"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewChangeRequest,
    responses(
        (status = 201, description = "The change request", body = ChangeRequest,
            headers(("Location" = String, description = "Address of the change request"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/grant-notices/{id}/change-requests")]
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewChangeRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Municipality])?;
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let c = store::create(conn, &caller, *id, input.clone()).await?;
        Stored::created(&format!("/api/v1/change-requests/{}", c.id), c.version, &c)
    })
    .await
}

/// History of a change request
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Change requests",
    params(("id" = Uuid, Path, description = "Change request id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/change-requests/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

async fn act(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    id: Uuid,
    action: ChangeAction,
    bytes: &[u8],
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(action))?;
    crate::http::transition::respond(state, req, caller, bytes, async |conn, expected| {
        store::transition(conn, caller, id, action, expected, reason.clone()).await
    })
    .await
}

/// Acknowledge a change report
///
/// The ministry took note of a report (409 for an amendment request, which is granted or refused).
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Change requests",
    params(("id" = Uuid, Path, description = "Change request id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if it changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<Empty>, content_type = "application/json"),
    responses(
        (status = 200, description = "The acknowledged report", body = ChangeRequest, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/change-requests/{id}/acknowledge")]
pub(super) async fn acknowledge(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Empty>,
) -> ApiResult<HttpResponse> {
    let bytes = body.bytes().to_vec();
    body.parse_or_empty()?;
    act(&state, &req, &caller, *id, ChangeAction::Acknowledge, &bytes, None).await
}

/// Grant an amendment request
///
/// Drafts the amending notice from the notice in force with what the request proposes (its reason names the
/// request); another ministry person than the granting one issues it, and the fiscal-year ledger follows then
/// (docs/grants.md, amending notices). 409 `amendment_pending` while another amendment is in draft.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Change requests",
    params(("id" = Uuid, Path, description = "Change request id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if it changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<Empty>, content_type = "application/json"),
    responses(
        (status = 200, description = "The granted request, with its amending notice", body = ChangeRequest,
            headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/change-requests/{id}/grant")]
pub(super) async fn grant(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Empty>,
) -> ApiResult<HttpResponse> {
    let bytes = body.bytes().to_vec();
    body.parse_or_empty()?;
    act(&state, &req, &caller, *id, ChangeAction::Grant, &bytes, None).await
}

/// Refuse an amendment request
///
/// With a reason (`reason`).
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Change requests",
    params(("id" = Uuid, Path, description = "Change request id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if it changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Refusal,
    responses(
        (status = 200, description = "The refused request", body = ChangeRequest, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/change-requests/{id}/refuse")]
pub(super) async fn refuse(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Refusal>,
) -> ApiResult<HttpResponse> {
    let bytes = body.bytes().to_vec();
    let reason = body.parse()?.reason;
    act(&state, &req, &caller, *id, ChangeAction::Refuse, &bytes, reason).await
}

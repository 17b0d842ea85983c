//! The settlement handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::model::{LIFECYCLE, ListSettlements, Settlement, SettlementAction};
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

/// List settlements
///
/// Filterable by state and funding line. A municipality sees its own organisation's. `Accept: text/csv` exports
/// every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Settlements",
    params(ListSettlements),
    responses(
        (status = 200, description = "One page of settlements, or all of them as CSV",
            content((Page<Settlement> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/settlements")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListSettlements>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::parse(q.limit, q.cursor.as_deref(), q.include_total, Settlements::SORT)?;
    crate::http::list::respond::<Settlements>(&state, &req, caller, q, paging).await
}

/// The list of Settlement items (`crate::http::list`).
struct Settlements;

impl Listing for Settlements {
    type Query = ListSettlements;
    type Item = Settlement;
    type Key = Uuid;
    const SORT: &'static str = "settlements:id";
    const CSV_FILE: &'static str = "settlements.csv";
    const CSV_HEADER: &'static str = CSV_HEADER;

    fn csv_row(item: &Settlement) -> String {
        csv_row(item)
    }

    async fn page(
        conn: &mut Connection,
        caller: &Caller,
        q: &ListSettlements,
        after: Option<Uuid>,
        limit: i64,
    ) -> ApiResult<Vec<(Settlement, Uuid)>> {
        store::page(conn, caller, q, after, limit).await
    }

    async fn count(conn: &mut Connection, caller: &Caller, q: &ListSettlements) -> ApiResult<i64> {
        store::count(conn, caller, q).await
    }
}

const CSV_HEADER: &str = "id,noticeId,applicationId,recipientId,recipientName,district,fundingLine,status,\
                          financingType,grantedCents,admittedCents,eligibleCents,dueCents,reductionCents,reason,\
                          paidCents,overpaidCents,outstandingCents,releasedCents,proposedBy,confirmedBy,version,\
                          updatedAt\n";

fn csv_row(s: &Settlement) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        s.id.to_string(),
        s.notice_id.to_string(),
        s.application_id.to_string(),
        s.recipient.id.to_string(),
        cell(&s.recipient.name),
        s.district.clone(),
        cell(&s.funding_line),
        s.status.as_str().to_owned(),
        s.financing_type.as_str().to_owned(),
        s.granted_cents.to_string(),
        s.admitted_cents.to_string(),
        s.eligible_cents.to_string(),
        s.due_cents.to_string(),
        s.reduction_cents.to_string(),
        cell(&s.reason),
        s.paid_cents.to_string(),
        s.overpaid_cents.to_string(),
        s.outstanding_cents.to_string(),
        opt(&s.released_cents),
        cell(&s.proposed_by),
        opt(&s.confirmed_by),
        s.version.to_string(),
        s.updated_at.to_rfc3339(),
    ])
}

/// Get a settlement
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Settlements",
    params(("id" = Uuid, Path, description = "Settlement id")),
    responses(
        (status = 200, description = "The settlement", body = Settlement, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/settlements/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let s = store::find(&mut conn, &caller, *id, false).await?;
    Ok(ok_with_etag(s.version, &s))
}

/// Propose the settlement of a grant (Schlussabrechnung)
///
/// Computes the settlement of the grant whose notice in force this is, once its final proof of use is accepted
/// (409 `final_proof_not_accepted` before): the admitted expenditure of the accepted proofs against the eligible
/// costs, the own and third-party funds against the financing plan, by the notice's financing type and rate
/// (docs/grants.md has the arithmetic). One settlement per grant (409 `already_exists`).
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Settlements",
    params(("id" = Uuid, Path, description = "Id of the notice in force"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<Empty>, content_type = "application/json"),
    responses(
        (status = 201, description = "The proposed settlement", body = Settlement,
            headers(("Location" = String, description = "Address of the settlement"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/grant-notices/{id}/settlement")]
pub(super) async fn propose(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Empty>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    let bytes = body.bytes().to_vec();
    body.parse_or_empty()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let s = store::propose(conn, &caller, *id).await?;
        Stored::created(&format!("/api/v1/settlements/{}", s.id), s.version, &s)
    })
    .await
}

/// Confirm a settlement
///
/// Another ministry person than the proposer confirms (409 `four_eyes`): the grant's commitment is cut to the
/// settled amount (never below what payment requests took), the rest goes back to the line's fiscal-year budgets
/// (`releasedCents`), the notice is closed and its retention released; what is outstanding can be requested under
/// the closed notice.
///
/// **Roles:** `ministry` (not the proposer).
#[utoipa::path(
    tag = "Settlements",
    params(("id" = Uuid, Path, description = "Settlement id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the settlement changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<Empty>, content_type = "application/json"),
    responses(
        (status = 200, description = "The confirmed settlement", body = Settlement, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/settlements/{id}/confirm")]
pub(super) async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Empty>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(SettlementAction::Confirm))?;
    let bytes = body.bytes().to_vec();
    body.parse_or_empty()?;
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        store::confirm(conn, &caller, *id, expected, state.attachments.retention_years).await
    })
    .await
}

/// History of a settlement
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Settlements",
    params(("id" = Uuid, Path, description = "Settlement id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/settlements/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

//! The early-start handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::model::{
    ConsentAction, ConsentNote, ConsentRefusal, EarlyStartConsent, LIFECYCLE, ListEarlyStartConsents,
    NewEarlyStartConsent,
};
use super::store::{self, TransitionInput};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::db::Connection;
use crate::error::ApiResult;
use crate::http::extract::{JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::list::Listing;
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// List early-start requests and consents
///
/// Filterable by state and application. A municipality sees its own organisation's. `Accept: text/csv` exports
/// every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Early-start consents",
    params(ListEarlyStartConsents),
    responses(
        (status = 200, description = "One page of early-start consents, or all of them as CSV",
            content((Page<EarlyStartConsent> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/early-start-consents")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListEarlyStartConsents>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::parse(q.limit, q.cursor.as_deref(), q.include_total, Consents::SORT)?;
    crate::http::list::respond::<Consents>(&state, &req, caller, q, paging).await
}

/// The list of EarlyStartConsent items (`crate::http::list`).
struct Consents;

impl Listing for Consents {
    type Query = ListEarlyStartConsents;
    type Item = EarlyStartConsent;
    type Key = Uuid;
    const SORT: &'static str = "early-start-consents:id";
    const CSV_FILE: &'static str = "early-start-consents.csv";
    const CSV_HEADER: &'static str = CSV_HEADER;

    fn csv_row(item: &EarlyStartConsent) -> String {
        csv_row(item)
    }

    async fn page(
        conn: &mut Connection,
        caller: &Caller,
        q: &ListEarlyStartConsents,
        after: Option<Uuid>,
        limit: i64,
    ) -> ApiResult<Vec<(EarlyStartConsent, Uuid)>> {
        store::page(conn, caller, q, after, limit).await
    }

    async fn count(conn: &mut Connection, caller: &Caller, q: &ListEarlyStartConsents) -> ApiResult<i64> {
        store::count(conn, caller, q).await
    }
}

const CSV_HEADER: &str = "id,applicationId,applicantId,applicantName,district,fundingLine,startOn,requestedOn,status,\
                          decidedBy,version,updatedAt\n";

fn csv_row(c: &EarlyStartConsent) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        c.id.to_string(),
        c.application_id.to_string(),
        c.applicant.id.to_string(),
        cell(&c.applicant.name),
        c.district.clone(),
        cell(&c.funding_line),
        c.start_on.to_string(),
        c.requested_on.to_string(),
        c.status.as_str().to_owned(),
        opt(&c.decided_by),
        c.version.to_string(),
        c.updated_at.to_rfc3339(),
    ])
}

/// Get an early-start consent
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Early-start consents",
    params(("id" = Uuid, Path, description = "Early-start consent id")),
    responses(
        (status = 200, description = "The early-start consent", body = EarlyStartConsent, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/early-start-consents/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = store::find(&mut conn, &caller, *id, false).await?;
    Ok(ok_with_etag(c.version, &c))
}

/// Ask to begin before the approval (vorzeitiger Maßnahmebeginn)
///
/// Only projects not yet begun are funded: the start is the first binding supply or service contract (for a GK
/// post, signing the employment contract; planning does not count). A recipient that must begin before its
/// application is decided asks first, declaring that the project has not begun (`notYetBegun`: 422 `must_be_true`),
/// from a day not before today (422 `in_past`: a consent is never retroactive). For an application not yet decided
/// (409 `application_decided`); one live request or consent per application (409 `early_start_exists`). An
/// application whose start lies before the day of its approval is approved only with a granted consent whose
/// `startOn` is on or before that start (409 `early_start_without_consent` at approve).
///
/// **Roles:** `municipality` (own organisation only).
#[utoipa::path(
    tag = "Early-start consents",
    params(("id" = Uuid, Path, description = "Application id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewEarlyStartConsent,
    responses(
        (status = 201, description = "The request", body = EarlyStartConsent,
            headers(("Location" = String, description = "Address of the request"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications/{id}/early-start-consents")]
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewEarlyStartConsent>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Municipality])?;
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let c = store::create(conn, &caller, *id, input.clone()).await?;
        Stored::created(&format!("/api/v1/early-start-consents/{}", c.id), c.version, &c)
    })
    .await
}

/// History of an early-start consent
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Early-start consents",
    params(("id" = Uuid, Path, description = "Early-start consent id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/early-start-consents/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

crate::lifecycle_action!(
    grant,
    "/early-start-consents/{id}/grant",
    ConsentAction::Grant,
    tag "Early-start consents",
    id "Early-start consent id",
    item EarlyStartConsent,
    optional ConsentNote => |b: ConsentNote| TransitionInput { reason: b.reason },
    "Consent to an early start",
    "The project may begin from `startOn` without losing its eligibility; the consent promises no grant (an \
     optional note in `reason`). Only while the application is undecided (409 `application_decided`).\n\n\
     **Roles:** `ministry`."
);
crate::lifecycle_action!(
    refuse,
    "/early-start-consents/{id}/refuse",
    ConsentAction::Refuse,
    tag "Early-start consents",
    id "Early-start consent id",
    item EarlyStartConsent,
    required ConsentRefusal => |b: ConsentRefusal| TransitionInput { reason: b.reason },
    "Refuse an early start",
    "With a reason (`reason`).\n\n**Roles:** `ministry`."
);
crate::lifecycle_action!(
    withdraw,
    "/early-start-consents/{id}/withdraw",
    ConsentAction::Withdraw,
    tag "Early-start consents",
    id "Early-start consent id",
    item EarlyStartConsent,
    optional crate::http::extract::Empty => |_| TransitionInput::default(),
    "Withdraw an early-start request",
    "The recipient no longer needs the request or the consent.\n\n**Roles:** `municipality` (own organisation \
     only)."
);

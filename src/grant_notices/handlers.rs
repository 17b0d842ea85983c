//! The grant-notice handlers: role gate, parse, call the store, respond.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::amendments::{self, AmendInput};
use super::model::{Amendment, GrantNotice, Issue, LIFECYCLE, ListGrantNotices, NoticeAction, NoticeTerms, Waiver};
use super::store::{self, TransitionInput};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::db::Connection;
use crate::error::ApiResult;
use crate::files::model::FileBody;
use crate::http::extract::{JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::list::Listing;
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// List grant notices
///
/// Filterable by state (`final`: issued notices whose `finalOn` has come), application and funding line. A
/// municipality sees its own organisation's notices once they are issued. `Accept: text/csv` exports every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Grant notices",
    params(ListGrantNotices),
    responses(
        (status = 200, description = "One page of notices, or all of them as CSV",
            content((Page<GrantNotice> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/grant-notices")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListGrantNotices>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::parse(q.limit, q.cursor.as_deref(), q.include_total, Notices::SORT)?;
    crate::http::list::respond::<Notices>(&state, &req, caller, q, paging).await
}

/// The list of GrantNotice items (`crate::http::list`).
struct Notices;

impl Listing for Notices {
    type Query = ListGrantNotices;
    type Item = GrantNotice;
    type Key = Uuid;
    const SORT: &'static str = "grant-notices:id";
    const CSV_FILE: &'static str = "grant-notices.csv";
    const CSV_HEADER: &'static str = CSV_HEADER;

    fn csv_row(item: &GrantNotice) -> String {
        csv_row(item)
    }

    async fn page(
        conn: &mut Connection,
        caller: &Caller,
        q: &ListGrantNotices,
        after: Option<Uuid>,
        limit: i64,
    ) -> ApiResult<Vec<(GrantNotice, Uuid)>> {
        super::list::page(conn, caller, q, after, limit).await
    }

    async fn count(conn: &mut Connection, caller: &Caller, q: &ListGrantNotices) -> ApiResult<i64> {
        super::list::count(conn, caller, q).await
    }
}

const CSV_HEADER: &str = "id,applicationId,number,status,recipientId,recipientName,district,fundingLine,amountCents,\
                          financingType,rateBasisPoints,eligibleCostsCents,periodStart,periodEnd,clauseSet,approvedBy,\
                          issuedBy,deliveredOn,objectionWaivedOn,finalOn,version,updatedAt\n";

fn csv_row(n: &GrantNotice) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        n.id.to_string(),
        n.application_id.to_string(),
        n.number.to_string(),
        n.status.as_str().to_owned(),
        n.recipient.id.to_string(),
        cell(&n.recipient.name),
        n.district.clone(),
        cell(&n.funding_line),
        n.amount_cents.to_string(),
        n.financing_type.as_str().to_owned(),
        n.rate_basis_points.to_string(),
        n.eligible_costs_cents.to_string(),
        n.period_start.to_string(),
        n.period_end.to_string(),
        n.clause_set.as_str().to_owned(),
        cell(&n.approved_by),
        opt(&n.issued_by),
        opt(&n.delivered_on),
        opt(&n.objection_waived_on),
        opt(&n.final_on),
        n.version.to_string(),
        n.updated_at.to_rfc3339(),
    ])
}

/// Get a grant notice
///
/// As JSON, or with `Accept: application/pdf` as the letter (PDF/A-2b, fonts embedded): for an issued notice the
/// letter kept when it was issued — the attachment whose SHA-256 the `issue` history entry names, so the bytes are
/// the letter sent —, for a draft a preview marked ENTWURF, dated today.
///
/// **Roles:** every authenticated role (a municipality: its own organisation's, once issued).
#[utoipa::path(
    tag = "Grant notices",
    params(("id" = Uuid, Path, description = "Grant notice id")),
    responses(
        (status = 200, description = "The notice, or its letter", content(
            (GrantNotice = "application/json"), (FileBody = "application/pdf")),
            headers(("ETag" = String, description = "The notice's version (JSON only)"),
                ("Vary" = String, description = "Accept"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/grant-notices/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let n = store::find(&mut conn, &caller, *id, false).await?;
    let mut response = if crate::http::csv::prefers(&req, "application", "pdf") {
        super::document::serve(&mut conn, &state.storage, &n).await?
    } else {
        ok_with_etag(n.version, &n)
    };
    response
        .headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(response)
}

/// The grant notice of an application
///
/// The application's newest notice (the highest `number`); 404 before the approval, and for a municipality while
/// the notice is a draft.
///
/// **Roles:** every authenticated role (a municipality: its own organisation's, once issued).
#[utoipa::path(
    tag = "Grant notices",
    params(("id" = Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The notice", body = GrantNotice, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/applications/{id}/grant-notice")]
pub(super) async fn of_application(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let n = store::of_application(&mut conn, &caller, *id).await?;
    Ok(ok_with_etag(n.version, &n))
}

/// Complete a draft notice
///
/// JSON Merge Patch of the notice's terms while it is a `draft` (409 `not_editable` otherwise): financing type,
/// rate, eligible costs, purpose, lock-in period (not before the period's end: 422 `before_period_end`), excluded
/// clauses, conditions (Nebenbestimmungen), legal-remedy notice. Requires `If-Match` (428 without, 412 when stale).
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Grant notices",
    params(
        ("id" = Uuid, Path, description = "Grant notice id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = NoticeTerms, content_type = "application/merge-patch+json",
        example = json!({"lockInUntil": "2036-12-31", "conditions": ["Die Stelle ist bis 31.03.2027 zu besetzen."]})),
    responses(
        (status = 200, description = "The changed notice", body = GrantNotice, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/grant-notices/{id}")]
pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NoticeTerms>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::update(conn, &caller, *id, expected, patch).await
    })
    .await
}

/// Issue a notice
///
/// Records that the notice was delivered (`deliveredOn`, not in the future: 422 `in_future`). It becomes final one
/// month after delivery (the last day to object moved past a weekend), shown in `finalOn`. Four eyes: the person
/// who approved the application cannot issue its notice (409 `four_eyes`).
///
/// **Roles:** `ministry` (not the approver).
#[utoipa::path(
    tag = "Grant notices",
    params(("id" = Uuid, Path, description = "Grant notice id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the notice changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Issue,
    responses(
        (status = 200, description = "The issued notice", body = GrantNotice, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/grant-notices/{id}/issue")]
pub(super) async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Issue>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(NoticeAction::Issue))?;
    let bytes = body.bytes().to_vec();
    let input = TransitionInput {
        delivered_on: body.parse()?.delivered_on,
        storage: Some(state.storage.clone()),
        ..TransitionInput::default()
    };
    let issued = crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        store::transition(conn, &caller, *id, NoticeAction::Issue, expected, input.clone()).await
    })
    .await;
    if issued.is_err() {
        // The letter may have been stored before the transaction failed. Only the ministry reaches that point (the
        // role gate ran above); a failure of the cleanup is logged and the request's own error answered.
        let cleanup = async {
            let mut conn = crate::db::conn(&state.pool).await?;
            super::document::discard_unsent(&mut conn, &state.storage, *id).await
        };
        if let Err(e) = cleanup.await {
            log::warn!(
                "grant notice {}: a letter stored by a failed issue was not checked for removal: {e}",
                *id
            );
        }
    }
    issued
}

/// Waive the objection
///
/// The recipient waives its right to object (Rechtsbehelfsverzicht): the notice is final from the waiver's day
/// (`waivedOn`, default today; between delivery and today, 422 `out_of_range` otherwise). The ministry may record a
/// waiver it received.
///
/// **Roles:** `municipality` (own organisation only), `ministry`.
#[utoipa::path(
    tag = "Grant notices",
    params(("id" = Uuid, Path, description = "Grant notice id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the notice changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<Waiver>, content_type = "application/json"),
    responses(
        (status = 200, description = "The notice, now final", body = GrantNotice, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/grant-notices/{id}/waive-objection")]
pub(super) async fn waive_objection(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Waiver>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(NoticeAction::WaiveObjection))?;
    let bytes = body.bytes().to_vec();
    let input = TransitionInput {
        waived_on: body.parse_or_empty()?.waived_on,
        ..TransitionInput::default()
    };
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        store::transition(
            conn,
            &caller,
            *id,
            NoticeAction::WaiveObjection,
            expected,
            input.clone(),
        )
        .await
    })
    .await
}

/// Amend a notice (Änderungsbescheid)
///
/// Drafts the amending notice of a notice in force (`issued` or `final`): the next `number`, a copy of the terms
/// with the reason (`reason`), the new breakdown by fiscal year (`years`; omitted: unchanged; each year once and
/// within the period: 422 `duplicate`, `year_outside_period`) and optionally a new end of the approval period. The
/// draft is completed with PATCH and issued by another ministry person than the one who drafted it; on issue it
/// replaces this notice (which becomes `amended`) and the fiscal-year ledger follows its amounts (409
/// `year_budget_exceeded`, `budget_exceeded`, or `below_approved` where a year would fall below what payment
/// requests already took). One draft per grant at a time: 409 `amendment_pending`.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Grant notices",
    params(("id" = Uuid, Path, description = "Id of the notice in force"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the notice changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Amendment,
    responses(
        (status = 201, description = "The amending notice, a draft", body = GrantNotice,
            headers(("Location" = String, description = "Address of the amending notice"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/grant-notices/{id}/amend")]
pub(super) async fn amend(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Amendment>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(NoticeAction::Amend))?;
    let bytes = body.bytes().to_vec();
    // The years and the period are checked against the notice: the store reports them with these.
    let (parsed, errors) = body.parse_deferred()?;
    let input = AmendInput {
        errors,
        reason: parsed.reason.unwrap_or_default(),
        years: parsed
            .years
            .map(|ys| ys.iter().map(|y| (y.year, y.amount_cents)).collect()),
        period_end: parsed.period_end,
    };
    let expected = crate::http::extract::if_match(&req)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let n = amendments::amend(conn, &caller, *id, expected.clone(), input.clone()).await?;
        Stored::created(&format!("/api/v1/grant-notices/{}", n.id), n.version, &n)
    })
    .await
}

/// Delete an amendment draft
///
/// Deletes the draft of an amending notice that is not wanted (its history stays). The first notice, which the
/// approval drafted, and anything issued cannot be deleted: 409 `not_deletable`. Requires `If-Match`.
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Grant notices",
    params(("id" = Uuid, Path, description = "Grant notice id"),
        ("If-Match" = String, Header, description = "ETag of the version the deletion is based on", example = "\"1\"")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/grant-notices/{id}")]
pub(super) async fn discard(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    let expected = crate::http::extract::required_if_match(&req)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let keys = crate::db::transaction(&mut conn, async |conn| {
        amendments::discard(conn, &caller, *id, expected.clone()).await
    })
    .await?;
    crate::files::content::remove_after_commit(&state.storage, &keys).await;
    Ok(HttpResponse::NoContent().finish())
}

/// History of a grant notice
///
/// Every change of the notice, oldest first: drafted, completed (with the fields a change touched), issued, the
/// waiver.
///
/// **Roles:** every authenticated role (a municipality: its own organisation's, once issued).
#[utoipa::path(
    tag = "Grant notices",
    params(("id" = Uuid, Path, description = "Grant notice id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/grant-notices/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

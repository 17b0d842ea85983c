//! The recovery-claim handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::model::{
    Answer, ClaimAction, ClaimWaiver, InstalmentPlan, LIFECYCLE, ListClaims, NewClaim, RecoveryClaim, Repayment,
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

/// List recovery claims
///
/// Filterable by state. A municipality sees its own organisation's. `Accept: text/csv` exports every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Recovery claims",
    params(ListClaims),
    responses(
        (status = 200, description = "One page of claims, or all of them as CSV",
            content((Page<RecoveryClaim> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/recovery-claims")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListClaims>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::parse(q.limit, q.cursor.as_deref(), q.include_total, Claims::SORT)?;
    crate::http::list::respond::<Claims>(&state, &req, caller, q, paging).await
}

/// The list of RecoveryClaim items (`crate::http::list`).
struct Claims;

impl Listing for Claims {
    type Query = ListClaims;
    type Item = RecoveryClaim;
    type Key = Uuid;
    const SORT: &'static str = "recovery-claims:id";
    const CSV_FILE: &'static str = "recovery-claims.csv";
    const CSV_HEADER: &'static str = CSV_HEADER;

    fn csv_row(item: &RecoveryClaim) -> String {
        csv_row(item)
    }

    async fn page(
        conn: &mut Connection,
        caller: &Caller,
        q: &ListClaims,
        after: Option<Uuid>,
        limit: i64,
    ) -> ApiResult<Vec<(RecoveryClaim, Uuid)>> {
        store::page(conn, caller, q, after, limit).await
    }

    async fn count(conn: &mut Connection, caller: &Caller, q: &ListClaims) -> ApiResult<i64> {
        store::count(conn, caller, q).await
    }
}

const CSV_HEADER: &str = "id,settlementId,noticeId,recipientId,recipientName,district,fundingLine,status,\
                          principalCents,interestFrom,interestUntil,interestCents,totalCents,hearingUntil,decidedOn,\
                          paidOn,version,updatedAt\n";

fn csv_row(c: &RecoveryClaim) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        c.id.to_string(),
        c.settlement_id.to_string(),
        c.notice_id.to_string(),
        c.recipient.id.to_string(),
        cell(&c.recipient.name),
        c.district.clone(),
        cell(&c.funding_line),
        c.status.as_str().to_owned(),
        c.principal_cents.to_string(),
        c.interest_from.to_string(),
        opt(&c.interest_until),
        c.interest_cents.to_string(),
        c.total_cents.to_string(),
        c.hearing_until.to_string(),
        opt(&c.decided_on),
        opt(&c.paid_on),
        c.version.to_string(),
        c.updated_at.to_rfc3339(),
    ])
}

/// Get a recovery claim
///
/// With the interest as of today (or the repayment day): each period of constant rate with its base rate, rate,
/// days and interest.
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Recovery claims",
    params(("id" = Uuid, Path, description = "Recovery claim id")),
    responses(
        (status = 200, description = "The claim", body = RecoveryClaim, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/recovery-claims/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = store::find(&mut conn, &caller, *id, false).await?;
    Ok(ok_with_etag(c.version, &c))
}

/// Raise a recovery claim (Rückforderung)
///
/// Reclaims what a confirmed settlement found overpaid (409 `nothing_overpaid` otherwise; one claim per
/// settlement, 409 `already_exists`). The hearing (Anhörung) opens for the line's `hearing_days` (default 28);
/// interest runs from `interestFrom` (default: the day the settlement was confirmed).
///
/// **Roles:** `ministry`.
#[utoipa::path(
    tag = "Recovery claims",
    params(("id" = Uuid, Path, description = "Settlement id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<NewClaim>, content_type = "application/json"),
    responses(
        (status = 201, description = "The claim, in its hearing", body = RecoveryClaim,
            headers(("Location" = String, description = "Address of the claim"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/settlements/{id}/recovery-claim")]
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewClaim>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Ministry])?;
    let bytes = body.bytes().to_vec();
    let from = body.parse_or_empty()?.interest_from;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let c = store::create(conn, &caller, *id, from).await?;
        Stored::created(&format!("/api/v1/recovery-claims/{}", c.id), c.version, &c)
    })
    .await
}

/// History of a recovery claim
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Recovery claims",
    params(("id" = Uuid, Path, description = "Recovery claim id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/recovery-claims/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

crate::lifecycle_action!(
    respond,
    "/recovery-claims/{id}/respond",
    ClaimAction::Respond,
    tag "Recovery claims",
    id "Recovery claim id",
    item RecoveryClaim,
    required Answer => |b: Answer| TransitionInput {
        answer: b.answer,
        ..TransitionInput::default()
    },
    "Answer the hearing (Anhörung)",
    "The recipient's statement on the claim, until `hearingUntil` (409 `hearing_closed` after it); a later answer \
     replaces an earlier one.\n\n**Roles:** `municipality` (own organisation only)."
);
crate::lifecycle_action!(
    decide,
    "/recovery-claims/{id}/decide",
    ClaimAction::Decide,
    tag "Recovery claims",
    id "Recovery claim id",
    item RecoveryClaim,
    optional crate::http::extract::Empty => |_| TransitionInput::default(),
    "Decide a recovery claim (Rückforderungsbescheid)",
    "Once the recipient answered or the hearing ended (409 `hearing_open` before), another ministry person than \
     the one who raised the claim decides it (409 `four_eyes`).\n\n**Roles:** `ministry` (not the one who raised \
     the claim)."
);
crate::lifecycle_action!(
    record_payment,
    "/recovery-claims/{id}/record-payment",
    ClaimAction::RecordPayment,
    tag "Recovery claims",
    id "Recovery claim id",
    item RecoveryClaim,
    required Repayment => |b: Repayment| TransitionInput {
        paid_on: b.paid_on,
        ..TransitionInput::default()
    },
    "Record the repayment",
    "The day the claim was repaid (not in the future: 422 `in_future`); the interest is fixed up to the day before.\
     \n\n**Roles:** `ministry`."
);
crate::lifecycle_action!(
    agree_instalments,
    "/recovery-claims/{id}/agree-instalments",
    ClaimAction::AgreeInstalments,
    tag "Recovery claims",
    id "Recovery claim id",
    item RecoveryClaim,
    required InstalmentPlan => |b: InstalmentPlan| TransitionInput {
        instalments: b.instalments.zip(b.first_instalment_on),
        ..TransitionInput::default()
    },
    "Agree instalments (Ratenzahlung)",
    "The number of instalments (2–120) and the day of the first.\n\n**Roles:** `ministry`."
);
crate::lifecycle_action!(
    waive,
    "/recovery-claims/{id}/waive",
    ClaimAction::Waive,
    tag "Recovery claims",
    id "Recovery claim id",
    item RecoveryClaim,
    required ClaimWaiver => |b: ClaimWaiver| TransitionInput {
        reason: b.reason,
        ..TransitionInput::default()
    },
    "Waive a recovery claim",
    "Waived with a reason (`reason`); the interest so far is recorded.\n\n**Roles:** `ministry`."
);

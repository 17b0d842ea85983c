//! The payment-request handlers: role gate, parse, call the store, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::model::{
    LIFECYCLE, ListPaymentRequests, NewPaymentRequest, Payment, PaymentAction, PaymentInput, PaymentReason,
    PaymentRequest,
};
use super::store::{self, TransitionInput};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::db::Connection;
use crate::error::{ApiResult, FieldError, MessageParams};
use crate::http::extract::{Empty, JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::list::Listing;
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// List payment requests
///
/// Filterable by state, notice and fiscal year. A municipality sees its own organisation's. `Accept: text/csv`
/// exports every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Payment requests",
    params(ListPaymentRequests),
    responses(
        (status = 200, description = "One page of payment requests, or all of them as CSV",
            content((Page<PaymentRequest> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/payment-requests")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListPaymentRequests>,
) -> ApiResult<HttpResponse> {
    if q.fiscal_year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        return Err(crate::error::ApiError::BadRequest(vec![FieldError::new(
            "/query/fiscalYear",
            "out_of_range",
            MessageParams::range(2000, 2100),
        )]));
    }
    let paging = PageRequest::parse(q.limit, q.cursor.as_deref(), q.include_total, PaymentRequests::SORT)?;
    crate::http::list::respond::<PaymentRequests>(&state, &req, caller, q, paging).await
}

/// The list of PaymentRequest items (`crate::http::list`).
struct PaymentRequests;

impl Listing for PaymentRequests {
    type Query = ListPaymentRequests;
    type Item = PaymentRequest;
    type Key = Uuid;
    const SORT: &'static str = "payment-requests:id";
    const CSV_FILE: &'static str = "payment-requests.csv";
    const CSV_HEADER: &'static str = CSV_HEADER;

    fn csv_row(item: &PaymentRequest) -> String {
        csv_row(item)
    }

    async fn page(
        conn: &mut Connection,
        caller: &Caller,
        q: &ListPaymentRequests,
        after: Option<Uuid>,
        limit: i64,
    ) -> ApiResult<Vec<(PaymentRequest, Uuid)>> {
        store::page(conn, caller, q, after, limit).await
    }

    async fn count(conn: &mut Connection, caller: &Caller, q: &ListPaymentRequests) -> ApiResult<i64> {
        store::count(conn, caller, q).await
    }
}

const CSV_HEADER: &str = "id,noticeId,applicationId,recipientId,recipientName,district,fundingLine,fiscalYear,\
                          amountCents,dueExpensesCents,status,checkedBy,firstApprovalBy,approvedBy,paidOn,\
                          cashReference,version,updatedAt\n";

fn csv_row(r: &PaymentRequest) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        r.id.to_string(),
        r.notice_id.to_string(),
        r.application_id.to_string(),
        r.recipient.id.to_string(),
        cell(&r.recipient.name),
        r.district.clone(),
        cell(&r.funding_line),
        r.fiscal_year.to_string(),
        r.amount_cents.to_string(),
        r.due_expenses_cents.to_string(),
        r.status.as_str().to_owned(),
        opt(&r.checked_by),
        opt(&r.first_approval_by),
        opt(&r.approved_by),
        opt(&r.paid_on),
        opt(&r.cash_reference),
        r.version.to_string(),
        r.updated_at.to_rfc3339(),
    ])
}

/// Get a payment request
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Payment requests",
    params(("id" = Uuid, Path, description = "Payment request id")),
    responses(
        (status = 200, description = "The payment request", body = PaymentRequest, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/payment-requests/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let r = store::find(&mut conn, &caller, *id, false).await?;
    Ok(ok_with_etag(r.version, &r))
}

/// Request a payment (Mittelabruf)
///
/// The recipient drafts a request against its issued notice (409 `notice_not_issued` before): the amount, the
/// fiscal year it is booked in (default: the current one) and the due expenses it is for. `submit` checks the rules.
///
/// **Roles:** `municipality` (own organisation only).
#[utoipa::path(
    tag = "Payment requests",
    params(("id" = Uuid, Path, description = "Grant notice id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewPaymentRequest,
    responses(
        (status = 201, description = "The new payment request", body = PaymentRequest,
            headers(("Location" = String, description = "Address of the new payment request"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/grant-notices/{id}/payment-requests")]
pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewPaymentRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Municipality])?;
    let bytes = body.bytes().to_vec();
    let input = PaymentInput::from(body.parse()?);
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let r = store::create(conn, &caller, *id, input.clone()).await?;
        Ok(Stored::json(StatusCode::CREATED, &r)?
            .header("location", format!("/api/v1/payment-requests/{}", r.id))
            .header("etag", crate::http::extract::etag(r.version)))
    })
    .await
}

/// History of a payment request
///
/// Every step, oldest first, with who took it.
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Payment requests",
    params(("id" = Uuid, Path, description = "Payment request id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/payment-requests/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

crate::lifecycle_action!(
    submit,
    "/payment-requests/{id}/submit",
    PaymentAction::Submit,
    tag "Payment requests",
    id "Payment request id",
    item PaymentRequest,
    optional PaymentInput => |b: PaymentInput| TransitionInput {
        correction: Some(b),
        ..TransitionInput::default()
    },
    "Submit a payment request",
    "The recipient submits a draft or a returned request; the body may correct `amountCents`, `fiscalYear` and `expenses`. The rules (docs/grants.md): the notice is issued (409 `notice_not_issued`), the due expenses fall within the payout window (422 `outside_payout_window`), the amount is at most the due expenses (`exceeds_due_expenses`) and, under Anteilsfinanzierung, the grant's share of them (`exceeds_share`), the retention stays unpaid (`exceeds_retention`), the grant commits something in the fiscal year (`no_commitment_in_year`).\n\n**Roles:** `municipality` (own organisation only)."
);

crate::lifecycle_action!(
    cancel,
    "/payment-requests/{id}/cancel",
    PaymentAction::Cancel,
    tag "Payment requests",
    id "Payment request id",
    item PaymentRequest,
    optional Empty => |_| TransitionInput::default(),
    "Cancel a payment request",
    "The recipient withdraws a request before it is checked.\n\n**Roles:** `municipality` (own organisation only)."
);

crate::lifecycle_action!(
    check,
    "/payment-requests/{id}/check",
    PaymentAction::Check,
    tag "Payment requests",
    id "Payment request id",
    item PaymentRequest,
    optional Empty => |_| TransitionInput::default(),
    "Check a payment request (sachlich richtig)",
    "A ministry reviewer confirms the need.\n\n**Roles:** `ministry`."
);

crate::lifecycle_action!(
    return_request,
    "/payment-requests/{id}/return",
    PaymentAction::Return,
    tag "Payment requests",
    id "Payment request id",
    item PaymentRequest,
    required PaymentReason => |b: PaymentReason| TransitionInput {
        reason: b.reason,
        ..TransitionInput::default()
    },
    "Return a payment request for correction",
    "Back to the recipient with a reason; the check is undone.\n\n**Roles:** `ministry`."
);

crate::lifecycle_action!(
    reject,
    "/payment-requests/{id}/reject",
    PaymentAction::Reject,
    tag "Payment requests",
    id "Payment request id",
    item PaymentRequest,
    required PaymentReason => |b: PaymentReason| TransitionInput {
        reason: b.reason,
        ..TransitionInput::default()
    },
    "Reject a payment request",
    "With a reason.\n\n**Roles:** `ministry`."
);

crate::lifecycle_action!(
    approve,
    "/payment-requests/{id}/approve",
    PaymentAction::Approve,
    tag "Payment requests",
    id "Payment request id",
    item PaymentRequest,
    optional Empty => |_| TransitionInput::default(),
    "Approve a payment request (rechnerisch richtig, payment order)",
    "Four eyes: not the person who checked it (409 `four_eyes`). Above the funding line's threshold the first approval keeps the request `checked` (`firstApprovalBy`) and a third, distinct person approves it. The approval books the amount against the grant's fiscal year: approved requests never exceed the year's commitment (409 `exceeds_commitment` with `year` and `remainingCents`), under concurrency and on any instance. The recipient needs bank details on record (409 `no_bank_account`).\n\n**Roles:** `ministry` (not who checked it)."
);

crate::lifecycle_action!(
    pay,
    "/payment-requests/{id}/pay",
    PaymentAction::Pay,
    tag "Payment requests",
    id "Payment request id",
    item PaymentRequest,
    required Payment => |b: Payment| TransitionInput {
        paid_on: b.paid_on,
        cash_reference: b.cash_reference,
        ..TransitionInput::default()
    },
    "Record the payment",
    "The payment's date (not in the future) and the cash office's reference; paid amounts are booked per grant and fiscal year (`GET /funding-lines/{code}/years` shows them).\n\n**Roles:** `ministry` (the cash office's system uses a ministry token of its own `sub`)."
);

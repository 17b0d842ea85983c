//! The proof-of-use handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::model::{FinancialReview, LIFECYCLE, ListProofs, ProofAction, ProofContent, ProofOfUse, ProofReason};
use super::store::{self, TransitionInput};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::db::Connection;
use crate::error::ApiResult;
use crate::http::extract::{Empty, JsonBody, Query, ok_with_etag};
use crate::http::list::Listing;
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// List proofs of use
///
/// Filterable by state, kind, application and due date (`dueBefore`: due on or before). A municipality sees its own
/// organisation's. `Accept: text/csv` exports every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Proofs of use",
    params(ListProofs),
    responses(
        (status = 200, description = "One page of proofs, or all of them as CSV",
            content((Page<ProofOfUse> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/proofs-of-use")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListProofs>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::parse(q.limit, q.cursor.as_deref(), q.include_total, Proofs::SORT)?;
    crate::http::list::respond::<Proofs>(&state, &req, caller, q, paging).await
}

/// The list of proofs of use (`crate::http::list`).
struct Proofs;

impl Listing for Proofs {
    type Query = ListProofs;
    type Item = ProofOfUse;
    type Key = Uuid;
    const SORT: &'static str = "proofs-of-use:id";
    const CSV_FILE: &'static str = "proofs-of-use.csv";
    const CSV_HEADER: &'static str = CSV_HEADER;

    fn csv_row(item: &ProofOfUse) -> String {
        csv_row(item)
    }

    async fn page(
        conn: &mut Connection,
        caller: &Caller,
        q: &ListProofs,
        after: Option<Uuid>,
        limit: i64,
    ) -> ApiResult<Vec<(ProofOfUse, Uuid)>> {
        store::page(conn, caller, q, after, limit).await
    }

    async fn count(conn: &mut Connection, caller: &Caller, q: &ListProofs) -> ApiResult<i64> {
        store::count(conn, caller, q).await
    }
}

const CSV_HEADER: &str = "id,noticeId,applicationId,recipientId,recipientName,district,fundingLine,kind,fiscalYear,\
                          dueOn,status,expenditureCents,admittedCents,contentSignedBy,financialSignedBy,version,\
                          updatedAt\n";

fn csv_row(p: &ProofOfUse) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        p.id.to_string(),
        p.notice_id.to_string(),
        p.application_id.to_string(),
        p.recipient.id.to_string(),
        cell(&p.recipient.name),
        p.district.clone(),
        cell(&p.funding_line),
        p.kind.as_str().to_owned(),
        opt(&p.fiscal_year),
        p.due_on.to_string(),
        p.status.as_str().to_owned(),
        p.expenditure_cents.to_string(),
        opt(&p.admitted_cents),
        opt(&p.content_signed_by),
        opt(&p.financial_signed_by),
        p.version.to_string(),
        p.updated_at.to_rfc3339(),
    ])
}

/// Get a proof of use
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Proofs of use",
    params(("id" = Uuid, Path, description = "Proof of use id")),
    responses(
        (status = 200, description = "The proof of use", body = ProofOfUse, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/proofs-of-use/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let p = store::find(&mut conn, &caller, *id, false).await?;
    Ok(ok_with_etag(p.version, &p))
}

/// Write a proof of use
///
/// JSON Merge Patch of the report (Sachbericht), the income by source and the receipt list (an array replaces the
/// list, without the review's admissions) while the proof is `open`, `draft` or `changes_requested` (409
/// `not_editable` otherwise); the first change makes an open proof a draft. Requires `If-Match`.
///
/// **Roles:** `municipality` (own organisation only).
#[utoipa::path(
    tag = "Proofs of use",
    params(
        ("id" = Uuid, Path, description = "Proof of use id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = ProofContent, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed proof", body = ProofOfUse, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/proofs-of-use/{id}")]
pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<ProofContent>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Municipality])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::update(conn, &caller, *id, expected, patch).await
    })
    .await
}

/// History of a proof of use
///
/// Every step, oldest first, with who took it.
///
/// **Roles:** every authenticated role (a municipality: its own organisation's).
#[utoipa::path(
    tag = "Proofs of use",
    params(("id" = Uuid, Path, description = "Proof of use id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/proofs-of-use/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &caller, *id).await?))
}

fn nothing(_: Empty) -> TransitionInput {
    TransitionInput::default()
}

fn with_reason(body: ProofReason) -> TransitionInput {
    TransitionInput {
        reason: body.reason,
        ..TransitionInput::default()
    }
}

fn with_admissions(body: FinancialReview) -> TransitionInput {
    TransitionInput {
        admissions: body.admissions,
        ..TransitionInput::default()
    }
}

crate::lifecycle_action!(
    submit,
    "/proofs-of-use/{id}/submit",
    ProofAction::Submit,
    tag "Proofs of use",
    id "Proof of use id",
    item ProofOfUse,
    optional Empty => nothing,
    "Submit a proof of use",
    "The recipient submits its proof: the report's activities and results, the income by \
     source and at least one receipt are required (422 `required` naming each missing field).\n\n**Roles:** \
     `municipality` (own organisation only)."
);
crate::lifecycle_action!(
    start_review,
    "/proofs-of-use/{id}/start-review",
    ProofAction::StartReview,
    tag "Proofs of use",
    id "Proof of use id",
    item ProofOfUse,
    optional Empty => nothing,
    "Start the review of a proof of use",
    "**Roles:** `ministry`."
);
crate::lifecycle_action!(
    request_changes,
    "/proofs-of-use/{id}/request-changes",
    ProofAction::RequestChanges,
    tag "Proofs of use",
    id "Proof of use id",
    item ProofOfUse,
    required ProofReason => with_reason,
    "Request changes to a proof of use",
    "Back to the recipient with what to change (`reason`); the sign-offs so far \
     are cleared, a changed proof is reviewed afresh.\n\n**Roles:** `ministry`."
);
crate::lifecycle_action!(
    sign_content,
    "/proofs-of-use/{id}/sign-content",
    ProofAction::SignContent,
    tag "Proofs of use",
    id "Proof of use id",
    item ProofOfUse,
    optional Empty => nothing,
    "Sign the content review (Sachbericht)",
    "Four eyes: not the person who signed the financial review (409 \
     `four_eyes`). With both reviews signed the proof is `accepted` and its admitted amount fixed.\n\n**Roles:** \
     `ministry`."
);
crate::lifecycle_action!(
    sign_financial,
    "/proofs-of-use/{id}/sign-financial",
    ProofAction::SignFinancial,
    tag "Proofs of use",
    id "Proof of use id",
    item ProofOfUse,
    required FinancialReview => with_admissions,
    "Sign the financial review (rechnerische Prüfung)",
    "Decides each receipt by its `index`: admitted in full (its \
     amount), in part (less) or not at all (0); more than the amount is 422 `out_of_range`, a receipt left undecided \
     422 `undecided_receipts`. Four eyes: not the person who signed the content review (409 `four_eyes`). With both \
     reviews signed the proof is `accepted` and its admitted amount (Σ admitted) fixed.\n\n**Roles:** `ministry`."
);
crate::lifecycle_action!(
    reject,
    "/proofs-of-use/{id}/reject",
    ProofAction::Reject,
    tag "Proofs of use",
    id "Proof of use id",
    item ProofOfUse,
    required ProofReason => with_reason,
    "Reject a proof of use",
    "Not accepted, with a reason (`reason`).\n\n**Roles:** `ministry`."
);

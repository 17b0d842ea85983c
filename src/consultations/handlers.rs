//! The consultation handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::model::{Consultation, ConsultationInput, ListConsultations};
use super::store::{self, Key};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::extract::{JsonBody, NoParams, Query, ok_with_etag};
use crate::http::openapi::{BadRequest, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

const SORT: &str = "consultations:heldOn:desc";
const CSV_HEADER: &str = "id,organisationId,district,heldOn,channel,topics,summary,followUps,version,updatedAt\n";

fn csv_row(c: &Consultation) -> String {
    use crate::http::csv::{cell, line};
    line(&[
        c.id.to_string(),
        c.organisation_id.to_string(),
        c.district.clone(),
        c.held_on.to_string(),
        c.channel.as_str().to_owned(),
        cell(&c.topics.join("; ")),
        cell(&c.summary),
        c.follow_ups.len().to_string(),
        c.version.to_string(),
        c.updated_at.to_rfc3339(),
    ])
}

/// List consultations (Beratungen)
///
/// Newest first; filterable by organisation, district, topic (with its sub-topics), channel and day.
/// `Accept: text/csv` exports every match (without internal notes).
///
/// **Roles:** `service_unit`, `ministry`; `municipality` its own organisation's, without internal notes.
#[utoipa::path(
    tag = "Consultations",
    params(ListConsultations),
    responses(
        (status = 200, description = "One page of consultations, or all of them as CSV",
            content((Page<Consultation> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/consultations")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListConsultations>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::<Key>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    if crate::http::csv::wanted(&req) {
        let (pool, q, caller) = (state.pool.clone(), std::rc::Rc::new(q), std::rc::Rc::new(caller));
        let fetch = move |after: Option<Key>| {
            let (pool, q, caller) = (pool.clone(), q.clone(), caller.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                store::page(&mut conn, &caller, &q, after, crate::http::csv::BATCH).await
            }
        };
        return Ok(crate::http::csv::stream(
            "consultations.csv",
            CSV_HEADER,
            fetch,
            csv_row,
        ));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = store::page(&mut conn, &caller, &q, paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        Some(store::count(&mut conn, &caller, &q).await?)
    } else {
        None
    };
    let page: Page<Consultation> = paging.page(rows, SORT, |(_, k)| *k, |(c, _)| c, total);
    Ok(HttpResponse::Ok().json(page))
}

/// Get a consultation
///
/// **Roles:** `service_unit`, `ministry`; `municipality` its own organisation's, without internal notes (404 for
/// others').
#[utoipa::path(
    tag = "Consultations",
    params(("id" = Uuid, Path, description = "Consultation id")),
    responses(
        (status = 200, description = "The consultation", body = Consultation, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/consultations/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = store::find(&mut conn, &caller, *id, false).await?;
    Ok(ok_with_etag(c.version, &c))
}

/// Log a consultation
///
/// With whom (`organisationId`), when, how, about which topics, what was advised (`summary`, read by the
/// municipality), internal notes (staff only), follow-ups, and the referrals and the organisation's applications
/// that grew from it.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Consultations",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = ConsultationInput,
    responses(
        (status = 201, description = "The logged consultation", body = Consultation,
            headers(("Location" = String, description = "Address of the new consultation"), ("ETag" = String))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[post("/consultations")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<ConsultationInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let body = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::http::idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let c = store::create(conn, &caller, body.clone()).await?;
        crate::http::idempotency::Stored::created(&format!("/api/v1/consultations/{}", c.id), c.version, &c)
    })
    .await
}

/// Change a consultation
///
/// JSON Merge Patch (the organisation stays: 400 for `organisationId`); follow-ups are an array, sent whole.
/// Requires `If-Match` (428 without, 412 when stale).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Consultations",
    params(
        ("id" = Uuid, Path, description = "Consultation id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = ConsultationInput, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed consultation", body = Consultation, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/consultations/{id}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<ConsultationInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::update(conn, &caller, *id, expected, patch).await
    })
    .await
}

/// History of a consultation
///
/// **Roles:** `service_unit`, `ministry` (the history names changes of the internal notes).
#[utoipa::path(
    tag = "Consultations",
    params(("id" = Uuid, Path, description = "Consultation id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[get("/consultations/{id}/history")]
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

//! The digest handlers: parse, call the store, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use uuid::Uuid;

use super::model::{Digest, NewDigest};
use super::store;
use crate::core::identity::Caller;
use crate::error::{ApiError, ApiResult, MessageParams};
use crate::http::extract::{JsonBody, NoParams, Query};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{BadRequest, Conflict};
use crate::state::AppState;

/// List digests
///
/// The caller's digests: its organisation's (municipalities), or its role's (service unit, ministry).
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Digests",
    responses(
        (status = 200, description = "The digests", body = Vec<Digest>),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/digests")]
async fn list(state: web::Data<AppState>, caller: Caller, _: Query<NoParams>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::list(&mut conn, &caller).await?))
}

/// Get a digest
///
/// **Roles:** the digest's owner (organisation or role); others get 404.
#[utoipa::path(
    tag = "Digests",
    params(("id" = Uuid, Path, description = "Digest id")),
    responses(
        (status = 200, description = "The digest", body = Digest),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/digests/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::find(&mut conn, &caller, *id).await?))
}

/// Subscribe to an e-mail digest
///
/// A daily or weekly mail in German listing the events the caller may see since the last one, filtered like a
/// webhook (event types, topics with their sub-topics, districts, committees). It covers what happens from now on;
/// nothing happened, no mail. 409 `mail_disabled` when the service has no SMTP setting.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Digests",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewDigest,
    responses(
        (status = 201, description = "The digest", body = Digest, headers(("Location" = String))),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/digests")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<NewDigest>,
) -> ApiResult<HttpResponse> {
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    if state.mail.is_none() {
        return Err(ApiError::conflict(
            "mail_disabled",
            MessageParams::detail("the service has no SMTP setting (VERSORGUNG_SMTP_URL)"),
        ));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let digest = store::create(conn, &caller, input.clone()).await?;
        Ok(Stored::json(StatusCode::CREATED, &digest)?.header("location", format!("/api/v1/digests/{}", digest.id)))
    })
    .await
}

/// Unsubscribe from a digest
///
/// **Roles:** the digest's owner; others get 404.
#[utoipa::path(
    tag = "Digests",
    params(("id" = Uuid, Path, description = "Digest id")),
    responses(
        (status = 204, description = "Unsubscribed"),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/digests/{id}")]
async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::db::transaction(&mut conn, async |conn| store::remove(conn, &caller, *id).await).await?;
    Ok(HttpResponse::NoContent().finish())
}

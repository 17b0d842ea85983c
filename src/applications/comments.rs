//! `/api/v1/applications/{id}/comments`: the handlers that read and add comments on an application (their SQL is in
//! the store).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::model::{Comment, NewComment};
use super::store;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::extract::JsonBody;
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::Forbidden;
use crate::state::AppState;

/// Comments on an application
///
/// Oldest first. Internal comments are left out for municipalities.
///
/// **Roles:** `municipality` (own organisation only), `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id")),
    responses(
        (status = 200, description = "The comments the caller may see", body = Vec<Comment>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/applications/{id}/comments")]
pub(super) async fn list_comments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::comments(&mut conn, &caller, *id).await?))
}

/// Comment on an application
///
/// Adds a comment. `internal: true` (seen only by the service unit and the ministry) is refused for municipalities
/// with 403.
///
/// **Roles:** `municipality` (own organisation only), `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Applications",
    params(("id" = Uuid, Path, description = "Application id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewComment,
    responses(
        (status = 201, description = "The new comment", body = Comment),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[post("/applications/{id}/comments")]
pub(super) async fn add_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewComment>,
) -> ApiResult<HttpResponse> {
    let bytes = body.bytes().to_vec();
    let comment = body.parse()?;
    if comment.internal {
        caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let text = comment.body.clone().unwrap_or_default();
        let created = store::add_comment(conn, &caller, *id, text, comment.internal).await?;
        Stored::json(StatusCode::CREATED, &created)
    })
    .await
}

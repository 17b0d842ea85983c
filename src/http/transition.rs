//! The one HTTP transition flow, for every lifecycle resource (`POST /<resource>/{id}/<action>`): `If-Match`
//! (optional; a stale one is 412), `Idempotency-Key`, then the resource's step in one transaction — its store takes
//! the row lock, asks its [`Lifecycle`](crate::core::lifecycle::Lifecycle) whether the action is allowed (409
//! naming the allowed actions), does the action's effect and records it through [`crate::audit::record`] — answered
//! with the resource and its ETag. The role gate runs before the body is parsed, from the same lifecycle table.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use diesel_async::AsyncPgConnection;
use serde::Serialize;

use crate::core::identity::Caller;
use crate::error::ApiResult;
use crate::http::extract::{Expected, Versioned, etag, if_match};
use crate::http::idempotency::{self, Stored};
use crate::state::AppState;

pub async fn respond<T: Serialize + Versioned>(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    bytes: &[u8],
    step: impl AsyncFn(&mut AsyncPgConnection, Option<Expected>) -> ApiResult<T>,
) -> ApiResult<HttpResponse> {
    let expected = if_match(req)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, req, caller, bytes, async |conn| {
        let resource = step(conn, expected.clone()).await?;
        Ok(Stored::json(StatusCode::OK, &resource)?.header("etag", etag(resource.version())))
    })
    .await
}

//! The caller as an extractor: the bearer JWT verified by [`crate::auth::Verifier`] into a [`Caller`].

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;

use crate::core::identity::Caller;
use crate::error::{ApiError, ApiResult, AuthFailure};
use crate::state::AppState;

/// An optional caller: `None` without an `Authorization` header; a present but invalid token is still refused.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

fn state_of(req: &HttpRequest) -> ApiResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state_of(req);
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map(str::to_owned));
        Box::pin(async move {
            let state = state?;
            let authorization = match authorization {
                None => None,
                Some(Ok(v)) => Some(v),
                Some(Err(_)) => return Err(ApiError::Unauthorized(AuthFailure::Malformed)),
            };
            state.verifier.authenticate(&state.pool, authorization.as_deref()).await
        })
    }
}

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if req.headers().contains_key(header::AUTHORIZATION) {
            let caller = Caller::from_request(req, payload);
            Box::pin(async move { caller.await.map(|c| MaybeCaller(Some(c))) })
        } else {
            Box::pin(async { Ok(MaybeCaller(None)) })
        }
    }
}

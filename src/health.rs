//! `/health/live` and `/health/ready` for orchestrators and load balancers.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(live).service(ready);
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// `ok` when healthy.
    #[schema(max_length = 8)]
    status: &'static str,
}

/// Liveness
///
/// 200 while the process serves HTTP; touches nothing else.
///
/// **Roles:** public.
#[utoipa::path(
    tag = "Operations",
    responses((status = 200, description = "The process is up", body = Health)),
    security(())
)]
#[get("/health/live")]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness
///
/// 200 when the database is reachable and every migration is applied; 503 problem otherwise.
///
/// **Roles:** public.
#[utoipa::path(
    tag = "Operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, response = crate::http::openapi::Unavailable),
    ),
    security(())
)]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    crate::db::readiness(&state.pool).await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

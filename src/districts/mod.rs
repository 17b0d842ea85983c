//! `/api/v1/districts`: Hessen's 26 Kreise and kreisfreie Städte (reference data, loaded by migration; public).

mod handlers;
pub mod model;
mod store;

pub use model::{District, DistrictKind};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list).service(handlers::get_one);
}

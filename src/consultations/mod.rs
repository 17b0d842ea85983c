//! `/api/v1/consultations`: the advice log (Beratungen). The service unit records its consultations with
//! municipalities; a municipality reads its own, without the internal notes. docs/coordination.md has the rules.

mod handlers;
pub mod model;
mod store;

pub use model::KIND;
pub use store::{create, replace_topic};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::update)
        .service(handlers::history);
}

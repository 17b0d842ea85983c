//! `/api/v1/action-items`: the follow-ups a committee meeting assigns (to an organisation, a committee or the service
//! unit), with a due date that makes them duties in `/obligations` until they are done or cancelled.
//! docs/coordination.md has the lifecycle.

mod handlers;
pub mod model;
mod store;

pub use model::{KIND, LIFECYCLE};
pub use store::create;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::update)
        .service(handlers::history)
        .service(handlers::start)
        .service(handlers::complete)
        .service(handlers::cancel);
}

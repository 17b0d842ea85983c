//! `/api/v1/knowledge-entries`: the Wissensfundament. The service unit writes entries (good practice, FAQs, guidance,
//! contact pointers, lessons learned), has them reviewed and publishes them for staff, the network or everyone;
//! German full-text search with ranking and snippets. docs/coordination.md has the rules.

mod handlers;
pub mod model;
mod store;

pub use model::{KIND, LIFECYCLE};
pub use store::{TransitionInput, create, find, replace_topic, transition};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::update)
        .service(handlers::history)
        .service(handlers::submit)
        .service(handlers::return_entry)
        .service(handlers::publish)
        .service(handlers::archive);
}

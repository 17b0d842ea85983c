//! `/api/v1/committees`: the ministry's committees and working groups (Gremien, AGs), regional health conferences
//! and similar units of other ministries, with their members and meetings. The service unit manages them; every
//! role reads them. The real bodies are seeded by migration.

mod handlers;
pub mod meetings;
mod members;
pub mod model;
mod store;

pub use model::KIND;
pub use store::{check_meeting, meeting, meeting_exists, replace_topic, snapshot};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::create)
        .service(handlers::get_one)
        .service(handlers::history)
        .service(handlers::update)
        .service(handlers::remove)
        .service(members::list_members)
        .service(members::add_member)
        .service(members::remove_member)
        .service(meetings::list_meetings)
        .service(meetings::add_meeting);
}

//! `/api/v1/referrals`: Vermittlungen. The service unit routes ideas from the regions into committees
//! (`region_to_committee`) and committees' requests into suitable regions (`committee_to_region`).
//!
//! A municipality creates referrals from its own region and sees those that come from its organisation or district
//! or were forwarded to its district (404 for all others); it answers for its district. The service unit sees and
//! moves all and answers on committees' behalf; the ministry reads all.

mod handlers;
pub mod model;
mod store;

pub use model::{KIND, LIFECYCLE};
pub use store::{audience_of, find, is_visible, replace_topic, snapshot};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::create)
        .service(handlers::get_one)
        .service(handlers::timeline)
        .service(handlers::triage)
        .service(handlers::forward)
        .service(handlers::decline)
        .service(handlers::respond)
        .service(handlers::close);
}

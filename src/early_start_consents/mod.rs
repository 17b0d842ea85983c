//! `/api/v1/early-start-consents`: vorzeitiger Maßnahmebeginn. Only projects not yet begun are funded; a recipient
//! that must begin before its application is approved asks the ministry's consent first, and an application whose
//! declared start lies before the approval day is approved only with such a consent (the approval checks it:
//! [`covers`]). docs/grants.md has the rule and its sources.

mod handlers;
pub mod model;
mod store;

pub use model::{ConsentAction, ConsentStatus, KIND, LIFECYCLE, NewEarlyStartConsent};
pub use store::{TransitionInput, covers, create, transition};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::history)
        .service(handlers::grant)
        .service(handlers::refuse)
        .service(handlers::withdraw);
}

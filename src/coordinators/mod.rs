//! `/api/v1/coordinators`: the register of health coordinators (Gesundheitskoordinatorinnen und -koordinatoren).
//!
//! The service unit keeps the register. Everyone authenticated reads it; the contact fields (e-mail, phone) only
//! the service unit, the ministry and municipalities of the coordinator's district. `DELETE` erases the person
//! (GDPR Art. 17): every personal field is removed, an anonymous placeholder keeps references valid.

mod handlers;
pub mod model;
mod store;

pub use model::KIND;
pub use store::{get, replace_topic, snapshot};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::create)
        .service(handlers::get_one)
        .service(handlers::update)
        .service(handlers::erase)
        .service(handlers::history_of);
}

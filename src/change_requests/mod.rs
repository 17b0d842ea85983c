//! `/api/v1/change-requests`: what the recipient reports during the project (Mitteilungspflichten) and the
//! amendments it asks for; the ministry acknowledges a report, grants (drafting the amending notice) or refuses a
//! request. docs/grants.md has the rules and their sources.

mod handlers;
pub mod model;
mod store;

pub use model::{ChangeAction, ChangeKind, ChangeStatus, KIND, LIFECYCLE, NewChangeRequest};
pub use store::{create, transition};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::history)
        .service(handlers::acknowledge)
        .service(handlers::grant)
        .service(handlers::refuse);
}

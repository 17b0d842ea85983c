//! `/api/v1/attachments` and `.../{resource}/{id}/attachments`: documents attached to applications, grant notices,
//! payment requests, proofs of use and recovery claims. Content and records through `crate::files`, visibility
//! from the owner (`owner.rs`). docs/attachments.md has the rules.

mod handlers;
mod owner;
pub mod scan;

pub use crate::files::model::{KIND, OwnerKind, ScanState};
pub use scan::scan_pending;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::get_one)
        .service(handlers::download)
        .service(handlers::remove)
        .service(handlers::history)
        .service(handlers::upload_application)
        .service(handlers::list_application)
        .service(handlers::upload_notice)
        .service(handlers::list_notice)
        .service(handlers::upload_payment)
        .service(handlers::list_payment)
        .service(handlers::upload_proof)
        .service(handlers::list_proof)
        .service(handlers::upload_claim)
        .service(handlers::list_claim)
        .service(handlers::upload_knowledge)
        .service(handlers::list_knowledge)
        .service(handlers::upload_meeting)
        .service(handlers::list_meeting)
        .service(handlers::upload_referral)
        .service(handlers::list_referral)
        .service(handlers::upload_coordinator)
        .service(handlers::list_coordinator);
}

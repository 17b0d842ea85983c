//! `/api/v1/organisations`: the applicants. Every district is one (seeded); the service unit and the ministry add
//! Gemeinden (eight-digit AGS within an existing district) and Träger (identified by id). An organisation's bank
//! details are a sub-resource (`bank_account.rs`) that only the organisation itself and the ministry see.

mod bank_account;
mod handlers;
mod model;
mod store;

pub use store::{apply_patch, has_bank_account, set_bank_account, snapshot};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::update)
        .service(handlers::history)
        .service(bank_account::get_bank_account)
        .service(bank_account::set_bank_account)
        .service(bank_account::bank_account_history);
}

//! `/api/v1/payment-requests`: Mittelabrufe against an issued grant notice, checked and approved by two ministry
//! people (three above the line's threshold) and paid; the money is booked per grant and fiscal year in the ledger of
//! `funding_lines`. docs/grants.md has the rules and their sources.

mod handlers;
pub mod model;
mod store;

pub use model::{DueExpense, KIND, LIFECYCLE, PaymentAction, PaymentInput, PaymentStatus};
pub use store::{TransitionInput, create, find, transition};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::history)
        .service(handlers::submit)
        .service(handlers::cancel)
        .service(handlers::check)
        .service(handlers::return_request)
        .service(handlers::reject)
        .service(handlers::approve)
        .service(handlers::pay);
}

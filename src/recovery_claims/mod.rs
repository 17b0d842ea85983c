//! `/api/v1/recovery-claims`: Rückforderungen (§§ 49, 49a HVwVfG). A confirmed settlement that found an
//! overpayment is reclaimed after a hearing, with interest at 5 percentage points above the base rate, day by day
//! across the base-rate table (`core::interest`); repaid, in instalments or waived. docs/grants.md has the rules.

mod handlers;
pub mod model;
mod store;

pub use model::{ClaimAction, ClaimStatus, KIND, LIFECYCLE, RecoveryClaim};
pub use store::{TransitionInput, create, find, transition};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::history)
        .service(handlers::respond)
        .service(handlers::decide)
        .service(handlers::record_payment)
        .service(handlers::agree_instalments)
        .service(handlers::waive);
}

//! `/api/v1/proofs-of-use`: Zwischen- und Verwendungsnachweise. Issuing a notice schedules them with their due
//! dates; the recipient writes the report, the income and the receipt list and submits; two ministry people sign the
//! content and the financial review, deciding each receipt. docs/grants.md has the rules and their sources.

mod handlers;
pub mod model;
mod store;

pub use model::{KIND, LIFECYCLE, ProofAction, ProofKind, ProofOfUse, ProofStatus};
pub use store::{Schedule, TransitionInput, due_dates, find, proof_id, schedule, transition, update};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::update)
        .service(handlers::history)
        .service(handlers::submit)
        .service(handlers::start_review)
        .service(handlers::request_changes)
        .service(handlers::sign_content)
        .service(handlers::sign_financial)
        .service(handlers::reject);
}

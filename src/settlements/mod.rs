//! `/api/v1/settlements`: Schlussabrechnungen. Once a grant's final proof of use is accepted, one ministry person
//! proposes the settlement (computed by `core::settlement`), another confirms it: the notice is closed and the unused
//! commitment goes back to the line's fiscal-year budgets. docs/grants.md has the rules and their sources.

mod handlers;
mod late_use;
pub mod model;
mod store;

pub use model::{KIND, LIFECYCLE, Settlement, SettlementStatus};
pub use store::{confirm, find, propose, settlement_id};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::propose)
        .service(handlers::confirm)
        .service(handlers::history);
}

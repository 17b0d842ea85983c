//! `/api/v1/base-rates`: the Basiszinssatz (§ 247 BGB) per half-year, the reference of the interest on recovery
//! claims (§ 49a Abs. 3 HVwVfG). Migration 000012 holds the published rates; the ministry adds each new half-year
//! when the Deutsche Bundesbank publishes it and corrects a wrong one. Interest not yet fixed (by a repayment or a
//! waiver) is computed from the table as it stands.

mod handlers;
pub mod model;
mod store;

pub use model::{InterestPeriod, KIND};
pub use store::{periods, table};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::set)
        .service(handlers::history);
}

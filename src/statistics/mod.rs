//! `/api/v1/statistics/funding`: counts and sums of applications by funding line, district, Versorgungsgebiet,
//! status and year, for the service unit and the ministry.

mod handlers;
pub mod model;
mod store;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::funding);
}

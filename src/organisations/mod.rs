//! `/api/v1/organisations`: the applicants. Every district is one (seeded); the service unit and the ministry add
//! Gemeinden (eight-digit AGS within an existing district) and Träger (identified by id).

mod handlers;
mod model;
mod store;

pub use store::snapshot;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::update)
        .service(handlers::history);
}

//! `/api/v1/topics`: Themen, the controlled and hierarchical vocabulary that committees and referrals carry (and,
//! with the rest of issue 16, coordinators, knowledge entries and consultations). Read by everyone, kept by the
//! service unit; merging rewrites the records that carry a topic. The checks the carrying resources make live
//! below them, in `crate::vocabulary`.

mod handlers;
pub mod model;
mod store;

pub use model::KIND;
pub use store::uuid_of;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::update)
        .service(handlers::merge)
        .service(handlers::history);
}

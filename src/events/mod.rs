//! `/api/v1/events`: the change feed. Every change of every resource writes an event in the same transaction as the
//! change (the outbox of [`crate::audit`]), with the resource's representation after the change. The feed numbers
//! what has committed ([`crate::audit::outbox::sequence`]) and reads what the caller may see.

pub mod backfill;
mod handlers;
mod model;
mod store;

pub use model::{Event, EventPage, SubjectQuery, redact, trim};
pub use store::{by_id, check_about, read};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::feed);
}

//! `/api/v1/meetings/{id}`: one committee meeting with its outcomes (resolutions, results, decisions, attendance)
//! and the action items it assigns. Meetings are recorded under their committee (`/committees/{id}/meetings`);
//! docs/coordination.md has the rules.

mod handlers;
mod store;

/// The resource kind of meetings in the history and the feed (the same as their files' owner kind).
pub const KIND: &str = "committee_meeting";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::get_meeting)
        .service(handlers::update_meeting)
        .service(handlers::meeting_history)
        .service(handlers::add_action_item);
}

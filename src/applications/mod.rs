//! `/api/v1/applications`: funding applications (Förderanträge) from draft to decision.
//!
//! A municipality drafts, edits, submits and may withdraw its own organisation's applications; ministry reviewers
//! start the review, request changes, approve (committing the grant against the funding line's budget) or reject;
//! the service unit reads everything and comments. Another organisation's application is 404, never 403.

mod comments;
mod handlers;
mod lists;
pub mod model;
pub mod rules;
mod store;

pub use store::{SortField, add_comment, find, insert, replace_topic, transition};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::create)
        .service(handlers::get_one)
        .service(handlers::update)
        .service(handlers::submit)
        .service(handlers::withdraw)
        .service(handlers::start_review)
        .service(handlers::request_changes)
        .service(handlers::approve)
        .service(handlers::reject)
        .service(handlers::history)
        .service(comments::list_comments)
        .service(comments::add_comment);
}

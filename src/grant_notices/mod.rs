//! `/api/v1/grant-notices`: Zuwendungsbescheide. `approve` drafts the notice in its transaction; the ministry
//! completes the terms and issues it (another person than the approver); it becomes final one month after delivery
//! or on a waiver of objection. docs/grants.md has the rules and their sources.

mod amendments;
mod document;
mod handlers;
mod letter;
mod list;
pub mod model;
mod store;

pub use amendments::{AmendInput, amend};
pub use document::letter_id;
pub use model::{FinancingType, GrantNotice, NoticeStatus};
pub use model::{KIND, LIFECYCLE};
pub use store::{
    Draft, Drafted, TransitionInput, close, draft, final_on, find, in_force, lock_grant, notice_id, record_draft,
    transition,
};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::of_application)
        .service(handlers::update)
        .service(handlers::issue)
        .service(handlers::waive_objection)
        .service(handlers::amend)
        .service(handlers::discard)
        .service(handlers::history);
}

//! `/api/v1/funding-lines`: the funding lines (Förderlinien) of the guideline, with their rules and budgets.
//!
//! The public fields are readable without a token; the budget figures only with one. The ministry creates lines
//! and changes them (JSON Merge Patch with `If-Match`). The budget invariant (committed ≤ budget) is kept by the
//! database itself (the escrow of migration 000041: a CHECK per shard and a constraint trigger on the allotments),
//! so it holds for every writer and every instance.

mod handlers;
mod ledger;
mod model;
mod store;
mod years;

pub use ledger::{
    Committed, PayoutSettings, approve_payment, book_payment, commit_grant, grant_position, payout_settings,
    recommit_years, record_committed, record_grant_years, release_commitment,
};
pub use model::{FULL_RATE_BP, FundingLine, FundingLineInput, LineRules, PatchFundingLine, event_id};
pub use store::{load_rules, record_commitment, snapshot_missing};

/// The resource kind of funding lines in the history and the feed (keyed by [`event_id`] of the code).
pub const KIND: &str = "funding_line";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::update)
        .service(handlers::history);
    years::routes(cfg);
}

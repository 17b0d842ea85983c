//! `/api/v1/obligations`: deadlines as data. One view (migration 000014) lists every open duty with its due date;
//! a background job in every instance (one at a time, under an advisory lock) sends `obligation.due_soon` before
//! and `obligation.overdue` after each, once per stage, through the feed and webhooks.

mod handlers;
pub mod model;
mod store;

pub use model::{DueState, Duty, KIND, Obligation, Party};
pub use store::{remind, remind_in_batches};

use crate::state::AppState;
use actix_web::web;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list);
}

/// Starts the reminder job of an instance: one round per interval, as of today in Hessen.
pub fn spawn(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        loop {
            let round = async {
                let mut conn = crate::db::conn(&state.pool).await?;
                let today = crate::core::time::today_in_hessen();
                remind(&mut conn, today, &state.reminders.lead_days).await
            };
            match round.await {
                Ok(0) => {}
                Ok(n) => log::info!("obligations: {n} reminders sent"),
                Err(e) => log::warn!("obligations: reminder round failed: {e}"),
            }
            actix_web::rt::time::sleep(state.reminders.interval).await;
        }
    });
}

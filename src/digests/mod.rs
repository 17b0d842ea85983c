//! `/api/v1/digests`: e-mail digests (daily or weekly, in German) of the events a subscriber may see and follows
//! (event types, topics, districts, committees). Sent through [`crate::mail`] by a job per instance; without an SMTP
//! setting there is no mail and no new digest (409 `mail_disabled`). docs/integration.md has the rules.

mod handlers;
pub mod model;
mod render;
mod store;

use actix_web::web;

use crate::state::AppState;
pub use store::send_due;

/// The resource kind of digests in the history (their changes are not in the feed, like webhooks').
pub const KIND: &str = "digest";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::get_one)
        .service(handlers::create)
        .service(handlers::remove);
}

/// The digest job of an instance: every interval, the digests due are sent (each by the one instance that locks it).
pub fn spawn(state: web::Data<AppState>) {
    let Some(mailer) = state.mail.clone() else {
        return;
    };
    actix_web::rt::spawn(async move {
        loop {
            let round = async {
                let mut conn = crate::db::conn(&state.pool).await?;
                send_due(&mut conn, &mailer, chrono::Utc::now()).await
            };
            match round.await {
                Ok(0) => {}
                Ok(n) => log::info!("digests: {n} sent"),
                Err(e) => log::warn!("digests: round failed: {e}"),
            }
            actix_web::rt::time::sleep(mailer.interval).await;
        }
    });
}

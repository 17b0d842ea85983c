//! `/api/v1/webhooks`: push delivery of the change feed, signed as Standard Webhooks (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), so that receivers can
//! verify with existing libraries.
//!
//! Deliveries are created by the event sequencer, once per (event, subscription), with the subscriber's visibility.
//! The dispatcher runs in every instance: it claims due deliveries with `FOR UPDATE SKIP LOCKED` and holds them until
//! the attempt is recorded, so any number of instances deliver each event to each subscription at least once, and
//! exactly once while nothing crashes. Failed attempts are retried with exponential backoff and jitter for the retry
//! window (default 26 h); a run of failures disables the subscription, and a `webhook.disabled` event says so.

mod dispatcher;
mod handlers;
mod model;
mod store;

pub use dispatcher::{dispatch_once, spawn};
pub use model::{DEFAULT_DENY, Delivery, NewWebhook, Webhook, event_type_errors};
pub use store::queue_depth;

/// The resource kind of subscriptions in the history.
pub const KIND: &str = "webhook";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list)
        .service(handlers::create)
        .service(handlers::get_one)
        .service(handlers::remove)
        .service(handlers::deliveries)
        .service(handlers::redeliver);
}

//! The dispatcher, one per instance: numbers new events (which fans them out into deliveries), claims due
//! deliveries with `FOR UPDATE SKIP LOCKED`, sends each as a signed Standard Webhooks message, and records the
//! outcome with backoff, give-up and auto-disable. The claims and outcomes are SQL of [`super::store`].

use actix_web::web;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;
use uuid::Uuid;

use super::model::forbidden;
use super::store::{self, Claimed, Outcome, Retry};
use crate::core::identity::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, WebhookSettings as Settings};

/// Deliveries claimed per round.
const BATCH: i64 = 16;

/// Standard Webhooks signature of one message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// Runs the dispatcher until the process ends.
pub fn spawn(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        loop {
            match dispatch_once(&state).await {
                Ok(0) => actix_web::rt::time::sleep(state.webhooks.interval).await,
                Ok(_) => {}
                Err(e) => {
                    log::warn!("webhook dispatcher: {e}");
                    actix_web::rt::time::sleep(state.webhooks.interval).await;
                }
            }
        }
    });
}

/// Numbers new events (fanning them out), then delivers one batch of due deliveries. Returns how many were tried.
pub async fn dispatch_once(state: &AppState) -> ApiResult<usize> {
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::audit::outbox::sequence(&mut conn, false).await?;
    let settings = state.webhooks.clone();
    crate::db::transaction(&mut conn, async |conn| {
        let claimed = store::claim_due(conn, BATCH).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut messages = Vec::new();
        for c in &claimed {
            messages.push(message(conn, c).await?);
        }
        let outcomes = futures_util::future::join_all(
            claimed
                .iter()
                .zip(&messages)
                .map(|(c, body)| attempt(&settings, &c.url, &c.secret, c.delivery, body)),
        )
        .await;
        for (c, outcome) in claimed.iter().zip(outcomes) {
            let counter = if outcome.delivered {
                &state.metrics.webhook_deliveries
            } else {
                &state.metrics.webhook_failures
            };
            counter.fetch_add(1, Ordering::Relaxed);
            store::record_attempt(conn, c, outcome, retry(&settings, c), settings.disable_after).await?;
        }
        Ok(claimed.len())
    })
    .await
}

/// When a failed delivery is tried next, and whether it is given up (past the retry window).
fn retry(settings: &Settings, c: &Claimed) -> Retry {
    let now = Utc::now();
    let first = c.first_attempt_at.unwrap_or(now);
    let next = now + chrono::Duration::from_std(backoff(settings, c.attempts + 1)).unwrap_or_default();
    let give_up = next - first > chrono::Duration::from_std(settings.retry_window).unwrap_or_default();
    Retry { next, give_up }
}

/// The message body: `{type, timestamp, data: event}` with the subscriber's view of the event (as the feed would
/// give it).
async fn message(conn: &mut AsyncPgConnection, c: &Claimed) -> ApiResult<Vec<u8>> {
    let viewer = match c.owner_org {
        Some(org) => Caller {
            sub: "webhook".into(),
            role: Role::Municipality,
            org: crate::auth::org_scope(conn, &org.to_string()).await?,
        },
        None => Caller {
            sub: "webhook".into(),
            role: serde_json::from_value(serde_json::Value::String(c.owner_role.clone()))
                .map_err(ApiError::internal)?,
            org: None,
        },
    };
    let event = crate::events::by_id(conn, &viewer, c.event).await?;
    let body = serde_json::json!({"type": event.event_type, "timestamp": event.occurred_at, "data": event});
    serde_json::to_vec(&body).map_err(ApiError::internal)
}

/// One HTTP attempt: addresses checked and pinned (no DNS rebinding), no redirects, a timeout.
async fn attempt(settings: &Settings, url: &str, secret: &str, id: Uuid, body: &[u8]) -> Outcome {
    let fail = |error: String| Outcome {
        delivered: false,
        status: None,
        error: Some(error),
    };
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return fail("invalid url".into());
    };
    let (Some(host), Some(port)) = (parsed.host_str().map(str::to_owned), parsed.port_or_known_default()) else {
        return fail("invalid url".into());
    };
    let lookup_host = host.trim_matches(['[', ']']).to_owned();
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((lookup_host.as_str(), port)).await {
        Ok(a) => a.collect(),
        Err(e) => return fail(format!("dns: {e}")),
    };
    let Some(addr) = addrs.iter().find(|a| !forbidden(&a.ip(), settings)).copied() else {
        return fail("target address not allowed".into());
    };
    if parsed.scheme() == "http" && !(addr.ip().is_loopback() && settings.allow_loopback) {
        return fail("plain http only to loopback in development".into());
    }
    // A client per delivery, pinned to the address just checked (no second DNS answer can redirect it). The built-in
    // WebPKI roots only: loading the system's certificate store for every delivery would cost more than the
    // delivery itself (object_store's S3 client brings the native-roots feature into the build).
    let client = match reqwest::Client::builder()
        .tls_built_in_native_certs(false)
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&lookup_host, addr)
        .build()
    {
        Ok(c) => c,
        Err(e) => return fail(e.to_string()),
    };
    let timestamp = Utc::now().timestamp();
    let msg_id = id.to_string();
    let Some(signature) = sign(secret, &msg_id, timestamp, body) else {
        return fail("bad secret".into());
    };
    let result = client
        .post(parsed)
        .header("content-type", "application/json")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header("user-agent", "versorgung-webhooks/1")
        .body(body.to_vec())
        .send()
        .await;
    match result {
        Ok(res) => {
            let status = i32::from(res.status().as_u16());
            Outcome {
                delivered: res.status().is_success(),
                status: Some(status),
                error: (!res.status().is_success()).then(|| format!("receiver answered {status}")),
            }
        }
        Err(e) => fail(if e.is_timeout() {
            "timeout".into()
        } else {
            "connection failed".into()
        }),
    }
}

/// Exponential backoff with ±20 % jitter, so that many failed deliveries do not retry in lockstep.
pub fn backoff(settings: &Settings, attempts: i32) -> Duration {
    let exp = 2f64.powi(attempts.clamp(0, 30) - 1);
    let base = (settings.backoff_base.as_secs_f64() * exp).min(settings.backoff_max.as_secs_f64());
    Duration::from_secs_f64(base * rand::rng().random_range(0.8..1.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_test_vector() {
        // From the Standard Webhooks specification's reference implementations.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let s = Settings {
            allow_loopback: false,
            deny: vec![],
            timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            retry_window: Duration::from_secs(26 * 3600),
            disable_after: 10,
            interval: Duration::from_millis(200),
        };
        let first = backoff(&s, 1).as_secs_f64();
        assert!((4.0..=6.0).contains(&first), "{first}");
        assert!(backoff(&s, 30).as_secs_f64() <= 3600.0 * 1.2);
        assert!(backoff(&s, 5).as_secs_f64() > backoff(&s, 2).as_secs_f64());
    }
}

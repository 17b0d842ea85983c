//! Webhook subscriptions and deliveries: their types and the checks of a target address.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::Format;
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::state::WebhookSettings as Settings;

/// The longest `lastError` stored for a delivery (as the OpenAPI document says); longer ones are cut.
pub const MAX_ERROR_CHARS: usize = 500;

/// Link-local ranges and the cloud metadata addresses.
pub const DEFAULT_DENY: &[&str] = &["169.254.0.0/16", "fe80::/10", "100.100.100.200/32", "fd00:ec2::254/128"];

/// A subscription of the caller's organisation (or of the service unit or the ministry) to event types.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a7", "url": "https://kreis-it.example.de/hooks/versorgung",
    "eventTypes": ["application.submitted", "referral.forwarded"], "topics": ["telemedizin"], "districts": ["06535"],
    "committees": [], "enabled": true, "consecutiveFailures": 0,
    "disabledAt": null, "createdAt": "2026-11-22T09:00:00Z", "secret": null}))]
pub struct Webhook {
    pub id: Uuid,
    #[schema(format = "uri", max_length = 2000)]
    pub url: String,
    /// Event types delivered; `*` for all.
    #[schema(max_items = 50, max_length = 100)]
    pub event_types: Vec<String>,
    /// Only events about these topics or their sub-topics (empty: any).
    #[schema(max_items = 20, max_length = 60)]
    pub topics: Vec<String>,
    /// Only events concerning these districts (empty: any).
    #[schema(max_items = 26, max_length = 5)]
    pub districts: Vec<String>,
    /// Only events of these committees (empty: any).
    #[schema(max_items = 20)]
    pub committees: Vec<Uuid>,
    pub enabled: bool,
    #[schema(minimum = 0, maximum = 2147483647)]
    pub consecutive_failures: i32,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The signing secret (`whsec_…`): shown once, in the answer to the creation, `null` afterwards.
    #[schema(max_length = 64)]
    pub secret: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"url": "https://kreis-it.example.de/hooks/versorgung", "eventTypes": ["*"],
    "topics": ["telemedizin"], "districts": ["06535"]}))]
pub struct NewWebhook {
    /// `https://` URL (plain `http://` only to loopback, and only when configured for development).
    #[validate(required, length(min = 8, max = 2000))]
    #[schema(value_type = String, format = "uri", required = true, min_length = 8, max_length = 2000)]
    pub url: Option<String>,
    /// Event types to deliver, or `["*"]` for all.
    #[validate(required, length(min = 1, max = 50))]
    #[schema(value_type = Vec<String>, required = true, min_items = 1, max_items = 50, max_length = 100)]
    pub event_types: Option<Vec<String>>,
    /// Only events about these topics (codes) or their sub-topics; each filter given narrows, an empty one does not.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 60, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub topics: Vec<String>,
    /// Only events concerning these districts (AGS): of their organisations, addressed to them, or of committees
    /// covering them by name.
    #[serde(default)]
    #[validate(length(max = 26))]
    #[schema(max_items = 26, max_length = 5, pattern = "^06[0-9]{3}$")]
    pub districts: Vec<String>,
    /// Only events of these committees (their meetings, action items, referrals from or to them).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub committees: Vec<Uuid>,
}

impl Checked for NewWebhook {}

/// The event types of a subscription: each `<kind>.<what>` in lower case, or `*`.
pub fn event_type_errors(types: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, t) in types.iter().enumerate() {
        let ok = t == "*"
            || (t.len() <= 100
                && t.contains('.')
                && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'));
        if !ok {
            errors.push(FieldError::new(
                format!("/eventTypes/{i}"),
                "invalid_format",
                MessageParams::format(Format::EventType),
            ));
        }
    }
    errors
}

/// Checks a target URL's form; addresses are checked again at every delivery (DNS may change).
pub fn check_url(raw: &str, settings: &Settings) -> Result<reqwest::Url, Box<FieldError>> {
    let bad = |detail: &str| Box::new(FieldError::new("/url", "invalid_url", MessageParams::detail(detail)));
    let url = reqwest::Url::parse(raw).map_err(|_| bad("not a URL"))?;
    if url.username() != "" || url.password().is_some() {
        return Err(bad("credentials in the URL are not allowed"));
    }
    let host = url.host_str().ok_or_else(|| bad("no host"))?;
    let literal: Option<IpAddr> = host.trim_matches(['[', ']']).parse().ok();
    let loopback = host == "localhost" || literal.is_some_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback && settings.allow_loopback => {}
        _ => return Err(bad("must be https")),
    }
    if let Some(ip) = literal
        && forbidden(&ip, settings)
    {
        return Err(bad("this address is not allowed"));
    }
    Ok(url)
}

pub fn forbidden(ip: &IpAddr, settings: &Settings) -> bool {
    let unspecified = ip.is_unspecified() || ip.is_multicast();
    let loopback_denied = ip.is_loopback() && !settings.allow_loopback;
    unspecified || loopback_denied || settings.deny.iter().any(|n| crate::core::net::contains(n, ip))
}

pub fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill(&mut raw);
    format!("whsec_{}", B64.encode(raw))
}

/// One delivery of one event to one subscription, with its attempts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Also the `webhook-id` header: the same for every attempt, so receivers can drop duplicates.
    pub id: Uuid,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub event_position: Option<i64>,
    #[schema(max_length = 100)]
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    #[schema(max_length = 16)]
    pub state: String,
    #[schema(minimum = 0, maximum = 2147483647)]
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status of the last attempt.
    #[schema(minimum = 100, maximum = 999)]
    pub last_status: Option<i32>,
    #[schema(max_length = 500)]
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    pub state: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Also return the number of all matching items.
    pub include_total: Option<bool>,
}

//! `/api/v1/webhooks`: push delivery of the change feed, signed as Standard Webhooks (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), so that receivers can
//! verify with existing libraries.
//!
//! Deliveries are created by the event sequencer, once per (event, subscription), with the subscriber's visibility.
//! The dispatcher runs in every instance: it claims due deliveries with `FOR UPDATE SKIP LOCKED` and holds them until
//! the attempt is recorded, so any number of instances deliver each event to each subscription at least once, and
//! exactly once while nothing crashes. Failed attempts are retried with exponential backoff and jitter for the retry
//! window (default 26 h); a run of failures disables the subscription, and a `webhook.disabled` event says so.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::{self, Audience, Change};
use crate::core::identity::{Caller, Role};
use crate::db::DbPool;
use crate::db::schema::{events, webhook_deliveries, webhooks};
use crate::error::validation::Checked;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{JsonBody, Query};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::BadRequest;
use crate::http::pagination::{Page, PageRequest};
use crate::state::{AppState, WebhookSettings as Settings};

pub const KIND: &str = "webhook";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(remove)
        .service(deliveries)
        .service(redeliver);
}

/// The longest `lastError` stored for a delivery (as the OpenAPI document says); longer ones are cut.
const MAX_ERROR_CHARS: usize = 500;

/// Link-local ranges and the cloud metadata addresses.
pub const DEFAULT_DENY: &[&str] = &["169.254.0.0/16", "fe80::/10", "100.100.100.200/32", "fd00:ec2::254/128"];

// ---- API ----

/// A subscription of the caller's organisation (or of the service unit or the ministry) to event types.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a7", "url": "https://kreis-it.example.de/hooks/versorgung",
    "eventTypes": ["application.submitted", "referral.forwarded"], "enabled": true, "consecutiveFailures": 0,
    "disabledAt": null, "createdAt": "2026-11-22T09:00:00Z", "secret": null}))]
pub struct Webhook {
    pub id: Uuid,
    #[schema(max_length = 2000)]
    pub url: String,
    /// Event types delivered; `*` for all.
    #[schema(max_items = 50, max_length = 100)]
    pub event_types: Vec<String>,
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
#[schema(example = json!({"url": "https://kreis-it.example.de/hooks/versorgung", "eventTypes": ["application.submitted", "referral.forwarded"]}))]
pub struct NewWebhook {
    /// `https://` URL (plain `http://` only to loopback, and only when configured for development).
    #[validate(required, length(min = 8, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 8, max_length = 2000)]
    pub url: Option<String>,
    /// Event types to deliver, or `["*"]` for all.
    #[validate(required, length(min = 1, max = 50))]
    #[schema(value_type = Vec<String>, required = true, min_items = 1, max_items = 50, max_length = 100)]
    pub event_types: Option<Vec<String>>,
}

impl Checked for NewWebhook {}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct Row {
    id: Uuid,
    owner_org_id: Option<Uuid>,
    url: String,
    event_types: Vec<String>,
    enabled: bool,
    consecutive_failures: i32,
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl Row {
    fn api(self) -> Webhook {
        Webhook {
            id: self.id,
            url: self.url,
            event_types: self.event_types,
            enabled: self.enabled,
            consecutive_failures: self.consecutive_failures,
            disabled_at: self.disabled_at,
            created_at: self.created_at,
            secret: None,
        }
    }
}

/// Subscriptions belong to the caller's organisation (municipalities) or to the caller's role (staff).
fn owned(caller: &Caller) -> webhooks::BoxedQuery<'static, diesel::pg::Pg> {
    let query = webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .filter(webhooks::owner_role.eq(caller.role.as_str()))
        .into_boxed();
    match (caller.role, &caller.org) {
        (Role::Municipality, Some(org)) => query.filter(webhooks::owner_org_id.eq(org.id)),
        _ => query,
    }
}

async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Row> {
    Ok(owned(caller)
        .filter(webhooks::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await?)
}

/// Checks a target URL's form; addresses are checked again at every delivery (DNS may change).
fn check_url(raw: &str, settings: &Settings) -> Result<reqwest::Url, Box<FieldError>> {
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

fn forbidden(ip: &IpAddr, settings: &Settings) -> bool {
    let unspecified = ip.is_unspecified() || ip.is_multicast();
    let loopback_denied = ip.is_loopback() && !settings.allow_loopback;
    unspecified || loopback_denied || settings.deny.iter().any(|n| crate::core::net::contains(n, ip))
}

fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill(&mut raw);
    format!("whsec_{}", B64.encode(raw))
}

/// List webhooks
///
/// The caller's subscriptions: its organisation's (municipalities), or its role's (service unit, ministry).
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Webhooks",
    responses(
        (status = 200, description = "The subscriptions", body = Vec<Webhook>),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/webhooks")]
async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    _: crate::http::extract::Query<crate::http::extract::NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows: Vec<Row> = owned(&caller)
        .order(webhooks::id.asc())
        .limit(crate::http::pagination::MAX_UNPAGED)
        .select(Row::as_select())
        .load(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(Row::api).collect::<Vec<_>>()))
}

/// Subscribe
///
/// Subscribes the caller's organisation (or role) to event types. The answer carries the signing secret, once.
/// Deliveries contain what the subscriber may see in the feed, signed as Standard Webhooks.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Webhooks",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "The subscription, with its secret", body = Webhook, headers(("Location" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[post("/webhooks")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<NewWebhook>,
) -> ApiResult<HttpResponse> {
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut errors = Vec::new();
    let url = match check_url(input.url.as_deref().unwrap_or(""), &state.webhooks) {
        Ok(u) => Some(u),
        Err(e) => {
            errors.push(*e);
            None
        }
    };
    let types = input.event_types.unwrap_or_default();
    for (i, t) in types.iter().enumerate() {
        let ok = t == "*"
            || (t.len() <= 100
                && t.contains('.')
                && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'));
        if !ok {
            errors.push(FieldError::new(
                format!("/eventTypes/{i}"),
                "invalid_format",
                MessageParams::detail("an event type such as application.submitted, or *"),
            ));
        }
    }
    let Some(url) = url.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let secret = new_secret();
        let row: Row = diesel::insert_into(webhooks::table)
            .values((
                webhooks::owner_role.eq(caller.role.as_str()),
                webhooks::owner_org_id.eq(caller
                    .org
                    .as_ref()
                    .filter(|_| caller.role == Role::Municipality)
                    .map(|o| o.id)),
                webhooks::owner_district_ags.eq(caller
                    .org
                    .as_ref()
                    .filter(|_| caller.role == Role::Municipality)
                    .map(|o| o.district_ags.clone())),
                webhooks::created_by.eq(&caller.sub),
                webhooks::url.eq(url.as_str()),
                webhooks::event_types.eq(&types),
                webhooks::secret.eq(&secret),
            ))
            .returning(Row::as_returning())
            .get_result(conn)
            .await?;
        let mut hook = row.api();
        audit::record(conn, &caller, Change::unpublished(KIND, hook.id, "create"), &hook).await?;
        hook.secret = Some(secret);
        Ok(Stored::json(StatusCode::CREATED, &hook)?.header("location", format!("/api/v1/webhooks/{}", hook.id)))
    })
    .await
}

/// Get a webhook
///
/// **Roles:** the subscription's owner (organisation or role); others get 404.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription (without its secret)", body = Webhook),
    ),
    security(("bearerAuth" = []))
)]
#[get("/webhooks/{id}")]
async fn get_one(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(find(&mut conn, &caller, *id).await?.api()))
}

/// Unsubscribe
///
/// Ends the subscription; pending deliveries are dropped.
///
/// **Roles:** the subscription's owner.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Unsubscribed"),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/webhooks/{id}")]
async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let id = *id;
    crate::db::transaction(&mut conn, async |conn| {
        find(conn, &caller, id).await?;
        diesel::update(webhooks::table.find(id))
            .set((webhooks::deleted_at.eq(diesel::dsl::now), webhooks::enabled.eq(false)))
            .execute(conn)
            .await?;
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::webhook_id.eq(id))
                .filter(webhook_deliveries::state.eq("pending")),
        )
        .set((
            webhook_deliveries::state.eq("failed"),
            webhook_deliveries::last_error.eq("unsubscribed"),
        ))
        .execute(conn)
        .await?;
        audit::record(conn, &caller, Change::unpublished(KIND, id, "delete"), &()).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
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

type DeliveryRow = (
    Uuid,
    Option<i64>,
    String,
    String,
    i32,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<i32>,
    Option<String>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

fn delivery((id, pos, t, state, attempts, next, last, status, error, delivered, created): DeliveryRow) -> Delivery {
    Delivery {
        id,
        event_position: pos,
        event_type: t,
        state,
        attempts,
        next_attempt_at: next,
        last_attempt_at: last,
        last_status: status,
        last_error: error,
        delivered_at: delivered,
        created_at: created,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    state: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

const SORT: &str = "deliveries:id";

/// Delivery log
///
/// The deliveries of a subscription, oldest first, with attempts, status codes and times.
///
/// **Roles:** the subscription's owner.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = Uuid, Path, description = "Subscription id"), DeliveryQuery),
    responses(
        (status = 200, description = "One page of deliveries", body = Page<Delivery>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/webhooks/{id}/deliveries")]
async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    find(&mut conn, &caller, *id).await?;
    let filtered = || {
        let mut query = webhook_deliveries::table
            .inner_join(events::table)
            .filter(webhook_deliveries::webhook_id.eq(*id))
            .into_boxed();
        if let Some(s) = &q.state {
            query = query.filter(webhook_deliveries::state.eq(s.clone()));
        }
        query
    };
    let mut query = filtered()
        .order(webhook_deliveries::id.asc())
        .limit(paging.limit + 1)
        .select((
            webhook_deliveries::id,
            events::position,
            events::event_type,
            webhook_deliveries::state,
            webhook_deliveries::attempts,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::last_attempt_at,
            webhook_deliveries::last_status,
            webhook_deliveries::last_error,
            webhook_deliveries::delivered_at,
            webhook_deliveries::created_at,
        ));
    if let Some(after) = paging.after {
        query = query.filter(webhook_deliveries::id.gt(after));
    }
    let rows: Vec<DeliveryRow> = query.load(&mut conn).await?;
    let total = if paging.include_total {
        Some(filtered().count().get_result(&mut conn).await?)
    } else {
        None
    };
    let items: Vec<Delivery> = rows.into_iter().map(delivery).collect();
    let page: Page<Delivery> = paging.page(items, SORT, |d| d.id, |d| d, total);
    Ok(HttpResponse::Ok().json(page))
}

/// Redeliver
///
/// Queues a delivery again, now (for example after the receiver was fixed). Its `webhook-id` stays the same.
///
/// **Roles:** the subscription's owner.
#[utoipa::path(
    tag = "Webhooks",
    params(
        ("id" = Uuid, Path, description = "Subscription id"),
        ("deliveryId" = Uuid, Path, description = "Delivery id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry"),
    ),
    responses(
        (status = 202, description = "Queued"),
    ),
    security(("bearerAuth" = []))
)]
#[post("/webhooks/{id}/deliveries/{deliveryId}/redeliver")]
async fn redeliver(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (hook, delivery_id) = *path;
    let mut conn = crate::db::conn(&state.pool).await?;
    // With a key, a retried redelivery queues the delivery once, not again after it has been sent.
    idempotency::run(&mut conn, &req, &caller, &[], async |conn| {
        requeue(conn, &caller, hook, delivery_id).await?;
        Ok(Stored {
            status: StatusCode::ACCEPTED,
            headers: vec![],
            body: vec![],
        })
    })
    .await
}

async fn requeue(conn: &mut AsyncPgConnection, caller: &Caller, hook: Uuid, delivery_id: Uuid) -> ApiResult<()> {
    find(conn, caller, hook).await?;
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery_id))
            .filter(webhook_deliveries::webhook_id.eq(hook)),
    )
    .set((
        webhook_deliveries::state.eq("pending"),
        webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
        webhook_deliveries::first_attempt_at.eq(None::<DateTime<Utc>>),
    ))
    .execute(conn)
    .await?;
    if updated == 0 {
        return Err(ApiError::NotFound);
    }
    let change = Change::unpublished(KIND, hook, "redeliver").changed(vec![format!("/deliveries/{delivery_id}")]);
    audit::record(conn, caller, change, &()).await
}

// ---- dispatcher ----

/// Standard Webhooks signature of one message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

pub async fn queue_depth(pool: &DbPool) -> ApiResult<i64> {
    let mut conn = crate::db::conn(pool).await?;
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::state.eq("pending"))
        .count()
        .get_result(&mut conn)
        .await?)
}

/// A due delivery: id, attempts so far, first attempt, subscription, event.
type Due = (Uuid, i32, Option<DateTime<Utc>>, Uuid, i64);

/// The event row a message is built from.
type EventRow = (
    Option<i64>,
    String,
    String,
    Uuid,
    DateTime<Utc>,
    String,
    String,
    Option<Uuid>,
    Vec<String>,
    serde_json::Value,
);

type Claimed = (
    Uuid,
    i32,
    Option<DateTime<Utc>>,
    Uuid,
    String,
    String,
    Option<Uuid>,
    String,
    i64,
);

struct Outcome {
    delivered: bool,
    status: Option<i32>,
    error: Option<String>,
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
        // Rows another instance holds are skipped, not waited for; ours stay locked until the attempt is recorded.
        let due: Vec<Due> = webhook_deliveries::table
            .filter(webhook_deliveries::state.eq("pending"))
            .filter(webhook_deliveries::next_attempt_at.le(diesel::dsl::now))
            .filter(
                webhook_deliveries::webhook_id
                    .eq_any(webhooks::table.filter(webhooks::enabled.eq(true)).select(webhooks::id)),
            )
            .order(webhook_deliveries::next_attempt_at.asc())
            .limit(16)
            .for_update()
            .skip_locked()
            .select((
                webhook_deliveries::id,
                webhook_deliveries::attempts,
                webhook_deliveries::first_attempt_at,
                webhook_deliveries::webhook_id,
                webhook_deliveries::event_id,
            ))
            .load(conn)
            .await?;
        let mut claimed: Vec<Claimed> = Vec::with_capacity(due.len());
        for (id, attempts, first, hook, event) in due {
            let (url, secret, org, role): (String, String, Option<Uuid>, String) = webhooks::table
                .find(hook)
                .select((
                    webhooks::url,
                    webhooks::secret,
                    webhooks::owner_org_id,
                    webhooks::owner_role,
                ))
                .first(conn)
                .await?;
            claimed.push((id, attempts, first, hook, url, secret, org, role, event));
        }
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
                .map(|(c, body)| attempt(&settings, &c.4, &c.5, c.0, body)),
        )
        .await;
        for (c, outcome) in claimed.iter().zip(outcomes) {
            record(conn, state, &settings, c, outcome).await?;
        }
        Ok(claimed.len())
    })
    .await
}

/// The message body: `{type, timestamp, data: event}` with the subscriber's view of the event.
async fn message(conn: &mut AsyncPgConnection, c: &Claimed) -> ApiResult<Vec<u8>> {
    let (position, event_type, kind, resource_id, occurred_at, sub, role, org, districts, data): EventRow =
        events::table
            .find(c.8)
            .select((
                events::position,
                events::event_type,
                events::resource_kind,
                events::resource_id,
                events::occurred_at,
                events::actor_sub,
                events::actor_role,
                events::actor_org_id,
                events::districts,
                events::data,
            ))
            .first(conn)
            .await?;
    // The subscriber's view, as the feed would give it.
    let viewer = match c.6 {
        Some(org) => Caller {
            sub: "webhook".into(),
            role: Role::Municipality,
            org: crate::auth::org_scope(conn, &org.to_string()).await?,
        },
        None => Caller {
            sub: "webhook".into(),
            role: serde_json::from_value(serde_json::Value::String(c.7.clone())).map_err(ApiError::internal)?,
            org: None,
        },
    };
    let event = crate::events::Event {
        position: position.unwrap_or_default(),
        data: crate::events::redact(&viewer, &kind, &districts, data),
        event_type: event_type.clone(),
        resource_kind: kind,
        resource_id,
        occurred_at,
        actor: crate::audit::history::Actor::parse(sub, &role, org)?,
    };
    let body = serde_json::json!({"type": event_type, "timestamp": occurred_at, "data": event});
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
    let client = match reqwest::Client::builder()
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

async fn record(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    settings: &Settings,
    c: &Claimed,
    o: Outcome,
) -> ApiResult<()> {
    let now = Utc::now();
    let attempts = c.1 + 1;
    let first = c.2.unwrap_or(now);
    if o.delivered {
        state.metrics.webhook_deliveries.fetch_add(1, Ordering::Relaxed);
        diesel::update(webhook_deliveries::table.find(c.0))
            .set((
                webhook_deliveries::state.eq("delivered"),
                webhook_deliveries::attempts.eq(attempts),
                webhook_deliveries::first_attempt_at.eq(first),
                webhook_deliveries::last_attempt_at.eq(now),
                webhook_deliveries::last_status.eq(o.status),
                webhook_deliveries::last_error.eq(None::<String>),
                webhook_deliveries::delivered_at.eq(now),
            ))
            .execute(conn)
            .await?;
        diesel::update(webhooks::table.find(c.3))
            .set(webhooks::consecutive_failures.eq(0))
            .execute(conn)
            .await?;
        return Ok(());
    }
    state.metrics.webhook_failures.fetch_add(1, Ordering::Relaxed);
    let next = now + chrono::Duration::from_std(backoff(settings, attempts)).unwrap_or_default();
    let give_up = next - first > chrono::Duration::from_std(settings.retry_window).unwrap_or_default();
    diesel::update(webhook_deliveries::table.find(c.0))
        .set((
            webhook_deliveries::state.eq(if give_up { "failed" } else { "pending" }),
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::first_attempt_at.eq(first),
            webhook_deliveries::last_attempt_at.eq(now),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::last_status.eq(o.status),
            webhook_deliveries::last_error.eq(o.error.map(|e| crate::core::types::truncate_chars(&e, MAX_ERROR_CHARS))),
        ))
        .execute(conn)
        .await?;
    let failures: i32 = diesel::update(webhooks::table.find(c.3))
        .set(webhooks::consecutive_failures.eq(webhooks::consecutive_failures + 1))
        .returning(webhooks::consecutive_failures)
        .get_result(conn)
        .await?;
    if failures >= settings.disable_after {
        let disabled = diesel::update(webhooks::table.find(c.3).filter(webhooks::enabled.eq(true)))
            .set((webhooks::enabled.eq(false), webhooks::disabled_at.eq(now)))
            .returning(Row::as_returning())
            .get_result::<Row>(conn)
            .await
            .optional()?;
        if let Some(row) = disabled {
            let audience = match row.owner_org_id {
                Some(org) => Audience::organisation(org),
                None => Audience::staff(),
            };
            log::warn!("webhook {} disabled after {failures} consecutive failures", row.id);
            let hook = row.api();
            let change = Change::new(KIND, hook.id, "disable", "webhook.disabled", audience)
                .reason(Some("consecutive failed deliveries"))
                .changed(vec!["/enabled".into()]);
            audit::record(conn, &Caller::system(), change, &hook).await?;
        }
    }
    Ok(())
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

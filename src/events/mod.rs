//! `/api/v1/events`: the change feed. Every change of every resource writes an event in the same transaction as the
//! change (the outbox of [`crate::audit`]), with the resource's representation after the change. The feed numbers
//! what has committed ([`crate::audit::outbox::sequence`]) and reads what the caller may see.

pub mod backfill;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::history::Actor;
use crate::audit::outbox;
use crate::core::identity::{Caller, Role};
use crate::db::schema::events;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Query;
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(feed);
}

/// One event of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"position": 42, "type": "application.submitted", "resourceKind": "application",
    "resourceId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "occurredAt": "2026-11-22T10:00:00Z",
    "actor": {"sub": "dev-werra-meissner", "role": "municipality", "organisationId": "0193a6a4-0000-7000-8000-000000000001"},
    "data": {"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "status": "submitted"}}))]
pub struct Event {
    /// The cursor: strictly increasing, without gaps; pass the last one seen as `after`.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub position: i64,
    #[serde(rename = "type")]
    #[schema(max_length = 64)]
    pub event_type: String,
    #[schema(max_length = 64)]
    pub resource_kind: String,
    pub resource_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: Actor,
    /// The resource's representation after the change, as the caller may see it.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    #[schema(max_items = 1000)]
    pub items: Vec<Event>,
    /// Pass as `after` for the next call (the last position returned, or `after` itself when nothing new).
    #[schema(max_length = 20)]
    pub next_cursor: String,
}

type Row = (
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

/// The representation a municipality may see, as the resource endpoints give it: coordinators' contact data only
/// within their district; of a referral it is only a target of, its own target; links to applications never (they
/// may be other organisations'; the referral endpoint lists the caller's own).
pub fn redact(
    caller: &Caller,
    resource_kind: &str,
    districts: &[String],
    mut data: serde_json::Value,
) -> serde_json::Value {
    let (Role::Municipality, Some(org)) = (caller.role, caller.org.as_ref()) else {
        return data;
    };
    let Some(map) = data.as_object_mut() else {
        return data;
    };
    if resource_kind == crate::coordinators::KIND && !districts.contains(&org.district_ags) {
        map.remove("contact");
    }
    if resource_kind == crate::referrals::KIND {
        map.remove("applicationIds");
        let origin = &map["origin"];
        let from_here = origin["organisation"]["id"] == serde_json::json!(org.id)
            || origin["district"] == serde_json::json!(org.district_ags);
        if !from_here && let Some(serde_json::Value::Array(targets)) = map.get_mut("targets") {
            targets.retain(|t| t["district"] == serde_json::json!(org.district_ags));
        }
    }
    data
}

/// Events after `after` that the caller may see, in position order.
pub async fn read(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    after: i64,
    types: &[String],
    limit: i64,
) -> ApiResult<Vec<Event>> {
    let mut query = events::table
        .filter(events::position.gt(after))
        .order(events::position.asc())
        .limit(limit)
        .into_boxed();
    if !types.is_empty() {
        query = query.filter(events::event_type.eq_any(types.to_vec()));
    }
    if caller.role == Role::Municipality {
        let org = caller
            .org
            .as_ref()
            .ok_or_else(|| ApiError::internal("municipality without organisation"))?;
        query = query.filter(
            events::staff_only.eq(false).and(
                events::public
                    .eq(true)
                    .or(events::org_ids.contains(vec![org.id]))
                    .or(events::districts.contains(vec![org.district_ags.clone()])),
            ),
        );
    }
    let rows: Vec<Row> = query.select(COLUMNS).load(conn).await?;
    rows.into_iter().map(|row| to_event(caller, row)).collect()
}

/// One event as `viewer` may see it: a webhook delivery, fanned out to the subscription with the viewer's
/// visibility, carries the event as the feed would show it to the subscriber.
pub async fn by_id(conn: &mut AsyncPgConnection, viewer: &Caller, id: i64) -> ApiResult<Event> {
    let row: Row = events::table.find(id).select(COLUMNS).first(conn).await?;
    to_event(viewer, row)
}

/// The columns of [`Row`].
const COLUMNS: (
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
) = (
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
);

fn to_event(viewer: &Caller, row: Row) -> ApiResult<Event> {
    let (position, event_type, kind, id, at, sub, role, org, districts, data) = row;
    Ok(Event {
        position: position.unwrap_or_default(),
        data: redact(viewer, &kind, &districts, data),
        event_type,
        resource_kind: kind,
        resource_id: id,
        occurred_at: at,
        actor: Actor::parse(sub, &role, org)?,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The last position seen (0 to start from the beginning).
    #[param(minimum = 0, maximum = 9223372036854775807i64)]
    after: Option<i64>,
    /// Only these event types, comma-separated (e.g. `application.submitted,referral.forwarded`).
    types: Option<String>,
    /// At most this many events, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// Follow the change feed
///
/// Every change the caller may see, in position order: created, changed, each transition, comments, erasures.
/// Positions are strictly increasing and gap-free for a reader: a client that stores the last position and asks
/// for `after=` it again never misses an event, even while many transactions commit concurrently. Visibility is the
/// resources' own: a municipality gets its organisation's and its district's events (never internal comments, and
/// coordinators' contact data only within its district).
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Events",
    params(FeedQuery),
    responses(
        (status = 200, description = "The next events", body = EventPage),
    ),
    security(("bearerAuth" = []))
)]
#[get("/events")]
async fn feed(state: web::Data<AppState>, caller: Caller, Query(q): Query<FeedQuery>) -> ApiResult<HttpResponse> {
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(100);
    let mut errors = Vec::new();
    if after < 0 {
        errors.push(FieldError::new("/query/after", "out_of_range", MessageParams::min(0)));
    }
    if !(1..=1000).contains(&limit) {
        errors.push(FieldError::new(
            "/query/limit",
            "out_of_range",
            MessageParams::range(1, 1000),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(errors));
    }
    let types: Vec<String> = q
        .types
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let mut conn = crate::db::conn(&state.pool).await?;
    // Number what has committed so far, so that a reader sees its own writes at once; but look first, without the
    // lock: when no committed event lacks a position, there is nothing to wait for, and readers need not queue
    // behind each other on the sequencer's lock (docs/performance.md, F4). An event numbered by a transaction still
    // in flight still shows as unnumbered here, so the reader then waits for that transaction as before.
    if outbox::unsequenced_exist(&mut conn).await? {
        outbox::sequence(&mut conn, true).await?;
    }
    let items = read(&mut conn, &caller, after, &types, limit).await?;
    let next_cursor = items.last().map_or(after, |e| e.position).to_string();
    Ok(HttpResponse::Ok().json(EventPage { items, next_cursor }))
}

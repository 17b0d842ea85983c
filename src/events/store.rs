//! The feed's reads of the `events` table (the audit module writes it): what a caller may see, in position order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Event, redact};
use crate::audit::history::Actor;
use crate::core::identity::{Caller, Role};
use crate::db::schema::events;
use crate::error::{ApiError, ApiResult};

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

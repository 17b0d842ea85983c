//! The transactional outbox: every change writes its event in the change's transaction ([`emit`], called only by
//! [`crate::audit::record`]); [`sequence`] later numbers the committed events.
//!
//! Ordering: events are inserted without a position. [`sequence`] — run by one session at a time across all
//! instances, under an advisory lock — numbers the *committed* unnumbered events in one transaction. A reader that
//! follows `position` therefore never passes an event that becomes visible later, however transactions interleave
//! and commit. The same transaction fans the events out to webhook subscriptions, once per (event, subscription).

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::core::identity::Caller;
use crate::db::schema::events;
use crate::error::{ApiError, ApiResult};

/// Who may see an event besides the service unit and the ministry: the same rules as for the resource.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// Every authenticated role.
    pub public: bool,
    /// Municipalities of these organisations.
    pub org_ids: Vec<Uuid>,
    /// Municipalities of these districts.
    pub districts: Vec<String>,
    /// Never municipalities (internal comments), whatever the other fields say.
    pub staff_only: bool,
}

impl Audience {
    pub fn everyone() -> Self {
        Self {
            public: true,
            ..Self::default()
        }
    }
    pub fn staff() -> Self {
        Self {
            staff_only: true,
            ..Self::default()
        }
    }
    pub fn organisation(org: Uuid) -> Self {
        Self {
            org_ids: vec![org],
            ..Self::default()
        }
    }
}

/// Writes an event in the caller's transaction. `event_type` is `<kind>.<what>`, e.g. `application.submitted`.
pub async fn emit<T: Serialize>(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    event_type: &str,
    resource_kind: &str,
    resource_id: Uuid,
    audience: Audience,
    data: &T,
) -> ApiResult<()> {
    diesel::insert_into(events::table)
        .values((
            events::event_type.eq(event_type),
            events::resource_kind.eq(resource_kind),
            events::resource_id.eq(resource_id),
            events::actor_sub.eq(&caller.sub),
            events::actor_role.eq(caller.role.as_str()),
            events::actor_org_id.eq(caller.org.as_ref().map(|o| o.id)),
            events::public.eq(audience.public),
            events::org_ids.eq(audience.org_ids),
            events::districts.eq(audience.districts),
            events::staff_only.eq(audience.staff_only),
            events::data.eq(serde_json::to_value(data).map_err(ApiError::internal)?),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Advisory lock key of the sequencer (any constant unique to this purpose).
const SEQUENCER_LOCK: i64 = 0x5645_5253_4551; // "VERSEQ"
const BATCH: i64 = 5000;

#[derive(QueryableByName)]
struct Numbered {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = Bool)]
    pending: bool,
}

/// Whether any committed event still lacks a position (a lock-free look through the partial index).
pub async fn unsequenced_exist(conn: &mut AsyncPgConnection) -> ApiResult<bool> {
    let row: Pending = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM events WHERE position IS NULL) AS pending")
        .get_result(conn)
        .await?;
    Ok(row.pending)
}

/// Numbers committed events and fans them out to webhooks. Returns how many were numbered, or `None` when `wait`
/// is false and another session is sequencing right now. The feed waits (a reader must see every write committed
/// before its request); the background worker does not.
pub async fn sequence(conn: &mut AsyncPgConnection, wait: bool) -> ApiResult<Option<usize>> {
    crate::db::transaction(conn, async |conn| {
        let sql = if wait {
            "SELECT pg_advisory_xact_lock($1) IS NOT NULL AS locked"
        } else {
            "SELECT pg_try_advisory_xact_lock($1) AS locked"
        };
        let got: Locked = diesel::sql_query(sql)
            .bind::<BigInt, _>(SEQUENCER_LOCK)
            .get_result(conn)
            .await?;
        if !got.locked {
            return Ok(None);
        }
        // The statement's snapshot sees only committed events; those still in flight get later positions.
        let numbered: Vec<Numbered> = diesel::sql_query(
            "WITH todo AS (SELECT id FROM events WHERE position IS NULL ORDER BY id LIMIT $1),
                  base AS (SELECT coalesce(max(position), 0) AS b FROM events),
                  numbered AS (SELECT id, (SELECT b FROM base) + row_number() OVER (ORDER BY id) AS pos FROM todo)
             UPDATE events e SET position = n.pos FROM numbered n WHERE e.id = n.id RETURNING e.id",
        )
        .bind::<BigInt, _>(BATCH)
        .load(conn)
        .await?;
        if numbered.is_empty() {
            return Ok(Some(0));
        }
        let ids: Vec<i64> = numbered.iter().map(|n| n.id).collect();
        diesel::sql_query(
            "INSERT INTO webhook_deliveries (webhook_id, event_id)
             SELECT w.id, e.id FROM events e JOIN webhooks w
               ON w.enabled AND w.deleted_at IS NULL AND w.created_at <= e.occurred_at
              AND (e.type = ANY (w.event_types) OR '*' = ANY (w.event_types))
              AND (w.owner_role IN ('service_unit', 'ministry')
                   OR (NOT e.staff_only AND (e.public OR w.owner_org_id = ANY (e.org_ids)
                                             OR w.owner_district_ags = ANY (e.districts))))
             WHERE e.id = ANY ($1)
             ON CONFLICT DO NOTHING",
        )
        .bind::<Array<BigInt>, _>(ids)
        .execute(conn)
        .await?;
        Ok(Some(numbered.len()))
    })
    .await
}

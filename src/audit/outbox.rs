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
use crate::db::cached::CachedDsl;
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

/// What an event is about, read from the resource's representation, for the subscriptions by topic, district and
/// committee (the feed's `topic`, `district` and `committee` filters, webhooks' and digests' filters). The keys are
/// the resources' own: `topics`; `district`, `origin.district`, `targets[].district`, `coverage.districts` besides
/// the audience's districts and organisations; a committee's own id, `committeeId`, `assigneeCommitteeId`,
/// `origin.committee.id`, `targets[].committee.id`. Migration 000031 applies the same rules to earlier events.
#[derive(Debug, Default, PartialEq)]
pub struct Subject {
    pub topics: Vec<String>,
    pub districts: Vec<String>,
    pub committees: Vec<Uuid>,
}

impl Subject {
    pub fn of(kind: &str, id: Uuid, data: &serde_json::Value, audience: &Audience) -> Self {
        use serde_json::Value;
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let targets = data["targets"].as_array().cloned().unwrap_or_default();
        let mut districts: Vec<String> = audience.districts.clone();
        districts.extend(
            [&data["district"], &data["origin"]["district"]]
                .into_iter()
                .chain(targets.iter().map(|t| &t["district"]))
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
        districts.extend(strings(&data["coverage"]["districts"]));
        districts.retain(|d| crate::core::types::is_district_ags(d));
        districts.sort();
        districts.dedup();
        // "committee" is the committees' resource kind (this lower module does not name the resource modules).
        let mut committees: Vec<Uuid> = (kind == "committee").then_some(id).into_iter().collect();
        committees.extend(
            [
                &data["committeeId"],
                &data["assigneeCommitteeId"],
                &data["origin"]["committee"]["id"],
            ]
            .into_iter()
            .chain(targets.iter().map(|t| &t["committee"]["id"]))
            .filter_map(Value::as_str)
            .filter_map(|s| s.parse::<Uuid>().ok()),
        );
        committees.sort();
        committees.dedup();
        Self {
            topics: strings(&data["topics"]),
            districts,
            committees,
        }
    }
}

/// The event's insert, and the history entry's when it has one: `record_change` (migration 000038; a function, so
/// that its plans are kept and generic). One fixed text, kept prepared (src/db/cached.rs).
const RECORD_CHANGE: &str = "SELECT record_change($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                                     $15, $16, $17, $18, $19, $20, $21)";

/// Writes an event in the caller's transaction, and with `entry` the change's history entry in the same statement.
/// `event_type` is `<kind>.<what>`, e.g. `application.submitted`. Called only by [`crate::audit`].
#[allow(clippy::too_many_arguments)]
pub(super) async fn emit<T: Serialize>(
    conn: &AsyncPgConnection,
    caller: &Caller,
    event_type: &str,
    resource_kind: &str,
    resource_id: Uuid,
    audience: Audience,
    data: &T,
    entry: Option<super::history::Step<'_>>,
) -> ApiResult<()> {
    use diesel::sql_types::{Jsonb, Nullable, Text};
    let data = serde_json::to_value(data).map_err(ApiError::internal)?;
    let subject = Subject::of(resource_kind, resource_id, &data, &audience);
    let step = entry.as_ref();
    diesel::sql_query(RECORD_CHANGE)
        .bind::<Text, _>(event_type)
        .bind::<Text, _>(resource_kind)
        .bind::<diesel::sql_types::Uuid, _>(resource_id)
        .bind::<Text, _>(&caller.sub)
        .bind::<Text, _>(caller.role.as_str())
        .bind::<Nullable<diesel::sql_types::Uuid>, _>(caller.org.as_ref().map(|o| o.id))
        .bind::<Bool, _>(audience.public)
        .bind::<Array<diesel::sql_types::Uuid>, _>(audience.org_ids)
        .bind::<Array<Text>, _>(audience.districts)
        .bind::<Bool, _>(audience.staff_only)
        .bind::<Jsonb, _>(data)
        .bind::<Array<Text>, _>(subject.topics)
        .bind::<Array<Text>, _>(subject.districts)
        .bind::<Array<diesel::sql_types::Uuid>, _>(subject.committees)
        .bind::<Nullable<Text>, _>(step.map(|s| s.action))
        .bind::<Nullable<Text>, _>(step.and_then(|s| s.from))
        .bind::<Nullable<Text>, _>(step.and_then(|s| s.to))
        .bind::<Nullable<Text>, _>(step.and_then(|s| s.reason))
        .bind::<Array<Text>, _>(step.map(|s| s.changed.as_slice()).unwrap_or_default())
        .bind::<Nullable<diesel::sql_types::Uuid>, _>(step.and_then(|s| s.document).map(|d| d.attachment_id))
        .bind::<Nullable<Text>, _>(step.and_then(|s| s.document).map(|d| d.sha256.as_str()))
        .cached()
        .execute(&mut &*conn)
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
        // The statement's snapshot sees only committed events; those still in flight get later positions. The same
        // statement writes each numbered event's audiences (`event_audience`, the index a municipality's feed reads:
        // public, its organisation, its district; staff-only events have none).
        let numbered: Vec<Numbered> = diesel::sql_query(
            "WITH todo AS (SELECT id FROM events WHERE position IS NULL ORDER BY id LIMIT $1),
                  base AS (SELECT coalesce(max(position), 0) AS b FROM events),
                  numbered AS (SELECT id, (SELECT b FROM base) + row_number() OVER (ORDER BY id) AS pos FROM todo),
                  done AS (UPDATE events e SET position = n.pos FROM numbered n WHERE e.id = n.id
                           RETURNING e.id, e.position, e.public, e.org_ids, e.districts, e.staff_only),
                  audience AS (INSERT INTO event_audience (audience, position)
                               SELECT k.audience, d.position FROM done d
                               CROSS JOIN LATERAL event_audiences(d.public, d.org_ids, d.districts) k(audience)
                               WHERE NOT d.staff_only
                               ON CONFLICT DO NOTHING)
             SELECT id FROM done",
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
              AND (w.topics = '{}' OR e.topics && w.topics)
              AND (w.districts = '{}' OR e.about_districts && w.districts)
              AND (w.committee_ids = '{}' OR e.committee_ids && w.committee_ids)
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

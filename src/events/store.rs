//! The feed's reads of the `events` table (the audit module writes it): what a caller may see, in position order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Event, EventData, SubjectQuery, redact, trim};
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
    StoredJson,
);

/// `events.data` as its JSON text: PostgreSQL sends a jsonb value as a version byte (1) and the text, which is
/// checked to be JSON and kept as it is (no tree is built).
#[derive(diesel::deserialize::FromSqlRow)]
struct StoredJson(Box<serde_json::value::RawValue>);

impl diesel::deserialize::FromSql<diesel::sql_types::Jsonb, diesel::pg::Pg> for StoredJson {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        match value.as_bytes().split_first() {
            Some((1, text)) => Ok(Self(serde_json::from_slice(text)?)),
            _ => Err("unsupported jsonb encoding version".into()),
        }
    }
}

/// Events after `after` that the caller may see, in position order.
pub async fn read(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    after: i64,
    types: &[String],
    about: &SubjectQuery,
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
    if !about.topics.is_empty() {
        query = query.filter(events::topics.overlaps_with(about.topics.clone()));
    }
    if !about.districts.is_empty() {
        query = query.filter(events::about_districts.overlaps_with(about.districts.clone()));
    }
    if !about.committees.is_empty() {
        query = query.filter(events::committee_ids.overlaps_with(about.committees.clone()));
    }
    if caller.role == Role::Municipality {
        let org = caller
            .org
            .as_ref()
            .ok_or_else(|| ApiError::internal("municipality without organisation"))?;
        if types.is_empty() && about.is_empty() {
            // The unfiltered page: its positions come from the audience index (migration 000035), in order, a page
            // at a time for each of the three audiences the organisation belongs to, instead of a walk over every
            // position testing each event's audience. `staff_only` is tested again as a backstop.
            query = query.filter(events::staff_only.eq(false)).filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "events.position IN (SELECT DISTINCT position FROM (\
                     (SELECT position FROM event_audience WHERE audience = 'public' AND position > ",
                )
                .bind::<BigInt, _>(after)
                .sql(" ORDER BY position LIMIT ")
                .bind::<BigInt, _>(limit)
                .sql(") UNION ALL (SELECT position FROM event_audience WHERE audience = ")
                .bind::<Text, _>(format!("o:{}", org.id))
                .sql(" AND position > ")
                .bind::<BigInt, _>(after)
                .sql(" ORDER BY position LIMIT ")
                .bind::<BigInt, _>(limit)
                .sql(") UNION ALL (SELECT position FROM event_audience WHERE audience = ")
                .bind::<Text, _>(format!("d:{}", org.district_ags))
                .sql(" AND position > ")
                .bind::<BigInt, _>(after)
                .sql(" ORDER BY position LIMIT ")
                .bind::<BigInt, _>(limit)
                .sql(")) page ORDER BY position LIMIT ")
                .bind::<BigInt, _>(limit)
                .sql(")"),
            );
            let rows: Vec<Row> = query.select(COLUMNS).load(conn).await?;
            return rows.into_iter().map(|row| to_event(caller, row)).collect();
        }
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
    let (position, event_type, kind, id, at, mut sub, role, org, districts, data) = row;
    // Who in the service unit logged a consultation is its business (the resource hides `author` too).
    if viewer.role == Role::Municipality && kind == crate::consultations::KIND && role != Role::Municipality.as_str() {
        sub = role.clone();
    }
    let data = if trim(viewer, &kind).is_some() {
        let tree = serde_json::from_str(data.0.get()).map_err(ApiError::internal)?;
        EventData::Trimmed(redact(viewer, &kind, &districts, tree))
    } else {
        EventData::Stored(data.0)
    };
    Ok(Event {
        position: position.unwrap_or_default(),
        data,
        event_type,
        resource_kind: kind,
        resource_id: id,
        occurred_at: at,
        actor: Actor::parse(sub, &role, org)?,
    })
}

/// The filters of a subscription (a webhook, a digest) exist: topic codes in the register (active, or archived when
/// `kept`), districts by their AGS, committees. Errors name `/topics/{i}`, `/districts/{i}`, `/committees/{i}`.
pub async fn check_about(
    conn: &mut AsyncPgConnection,
    topics: &[String],
    districts: &[String],
    committees: &[Uuid],
) -> ApiResult<()> {
    use crate::db::schema::committees as c;
    use crate::error::{FieldError, Format, MessageParams};
    let mut errors = crate::vocabulary::shape_errors(topics, "/topics");
    if errors.is_empty() {
        match crate::vocabulary::check(conn, topics, "/topics", &[]).await {
            Err(ApiError::Validation(unknown)) => errors.extend(unknown),
            other => other?,
        }
    }
    let existing: Vec<String> = crate::db::schema::districts::table
        .filter(crate::db::schema::districts::ags.eq_any(districts))
        .select(crate::db::schema::districts::ags)
        .load(conn)
        .await?;
    for (i, d) in districts.iter().enumerate() {
        if crate::core::types::is_district_ags(d) && !existing.contains(d) {
            errors.push(FieldError::new(
                format!("/districts/{i}"),
                "unknown_reference",
                MessageParams::detail(format!("no district {d}")),
            ));
        } else if !crate::core::types::is_district_ags(d) {
            errors.push(FieldError::new(
                format!("/districts/{i}"),
                "invalid_format",
                MessageParams::format(Format::DistrictAgs),
            ));
        } else if districts[..i].contains(d) {
            errors.push(FieldError::new(
                format!("/districts/{i}"),
                "duplicate",
                MessageParams::default(),
            ));
        }
    }
    let known: Vec<Uuid> = c::table
        .filter(c::id.eq_any(committees))
        .select(c::id)
        .load(conn)
        .await?;
    for (i, id) in committees.iter().enumerate() {
        if !known.contains(id) {
            errors.push(FieldError::new(
                format!("/committees/{i}"),
                "unknown_reference",
                MessageParams::detail(format!("no committee {id}")),
            ));
        } else if committees[..i].contains(id) {
            errors.push(FieldError::new(
                format!("/committees/{i}"),
                "duplicate",
                MessageParams::default(),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

//! Every SQL statement on digests: the subscriptions (visible to their owner only) and the sending round.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::KIND;
use super::model::{Digest, Frequency, NewDigest};
use crate::audit::{self, Change};
use crate::core::identity::{Caller, Role};
use crate::db::schema::digests;
use crate::error::{ApiError, ApiResult};
use crate::events::SubjectQuery;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = digests, check_for_backend(diesel::pg::Pg))]
struct Row {
    id: Uuid,
    owner_role: String,
    owner_org_id: Option<Uuid>,
    email: String,
    frequency: String,
    event_types: Vec<String>,
    topics: Vec<String>,
    districts: Vec<String>,
    committee_ids: Vec<Uuid>,
    last_position: i64,
    next_due_at: DateTime<Utc>,
    last_sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl Row {
    fn api(self) -> ApiResult<Digest> {
        Ok(Digest {
            id: self.id,
            email: self.email,
            frequency: self.frequency.parse().map_err(ApiError::internal)?,
            event_types: self.event_types,
            topics: self.topics,
            districts: self.districts,
            committees: self.committee_ids,
            next_due_at: self.next_due_at,
            last_sent_at: self.last_sent_at,
            created_at: self.created_at,
        })
    }
}

/// Digests belong to the caller's organisation (municipalities) or to the caller's role (staff).
fn owned(caller: &Caller) -> digests::BoxedQuery<'static, diesel::pg::Pg> {
    let query = digests::table
        .filter(digests::deleted_at.is_null())
        .filter(digests::owner_role.eq(caller.role.as_str()))
        .into_boxed();
    match caller.confined_to() {
        Ok(Some(org)) => query.filter(digests::owner_org_id.eq(org)),
        Ok(None) => query,
        // A municipality without an organisation owns nothing.
        Err(_) => query.filter(digests::id.is_null()),
    }
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Digest> {
    let row: Row = owned(caller)
        .filter(digests::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await?;
    row.api()
}

pub async fn list(conn: &mut AsyncPgConnection, caller: &Caller) -> ApiResult<Vec<Digest>> {
    let rows: Vec<Row> = owned(caller)
        .order(digests::id.asc())
        .limit(crate::http::pagination::MAX_UNPAGED)
        .select(Row::as_select())
        .load(conn)
        .await?;
    rows.into_iter().map(Row::api).collect()
}

#[derive(QueryableByName)]
struct Max {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A new digest: it covers what happens from now on (its first is due one period ahead).
pub async fn create(conn: &mut AsyncPgConnection, caller: &Caller, input: NewDigest) -> ApiResult<Digest> {
    crate::events::check_about(conn, &input.topics, &input.districts, &input.committees).await?;
    let (Some(email), Some(frequency)) = (input.email, input.frequency) else {
        return Err(ApiError::internal("validated digest lacks email or frequency"));
    };
    let now: Max = diesel::sql_query("SELECT coalesce(max(position), 0) AS n FROM events")
        .get_result(conn)
        .await?;
    let own = caller.org.as_ref().filter(|_| caller.role == Role::Municipality);
    let id = Uuid::now_v7();
    diesel::insert_into(digests::table)
        .values((
            digests::id.eq(id),
            digests::owner_role.eq(caller.role.as_str()),
            digests::owner_org_id.eq(own.map(|o| o.id)),
            digests::created_by.eq(&caller.sub),
            digests::email.eq(email),
            digests::frequency.eq(frequency.as_str()),
            digests::event_types.eq(input.event_types.unwrap_or_else(|| vec!["*".into()])),
            digests::topics.eq(input.topics),
            digests::districts.eq(input.districts),
            digests::committee_ids.eq(input.committees),
            digests::last_position.eq(now.n),
            digests::next_due_at.eq(Utc::now() + frequency.period()),
        ))
        .execute(conn)
        .await?;
    let digest = find(conn, caller, id).await?;
    // A subscription's address is personal data: in the history, not in the feed (like webhooks).
    audit::record(conn, caller, Change::unpublished(KIND, id, "create"), &digest).await?;
    Ok(digest)
}

pub async fn remove(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<()> {
    find(conn, caller, id).await?;
    diesel::update(digests::table.find(id))
        .set(digests::deleted_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    audit::record(conn, caller, Change::unpublished(KIND, id, "delete"), &()).await
}

/// The most events one digest reads; more are summarised by their number and the feed's address.
const MAX_EVENTS: i64 = 1000;

/// One round as of `now`: every digest due is sent (if anything happened since the last) and rescheduled one period
/// ahead, each in its own transaction holding its row (another instance skips it). A failed send rolls its digest
/// back: it stays due and is tried again next round. Returns how many mails were sent.
pub async fn send_due(
    conn: &mut AsyncPgConnection,
    mailer: &crate::mail::Mailer,
    now: DateTime<Utc>,
) -> ApiResult<usize> {
    // Number what has committed, so that the digest reads every event up to now.
    crate::audit::outbox::sequence(conn, true).await?;
    let mut sent = 0;
    loop {
        let outcome = crate::db::transaction(conn, async |conn| {
            let Some(row): Option<Row> = digests::table
                .filter(digests::deleted_at.is_null())
                .filter(digests::next_due_at.le(now))
                .order(digests::next_due_at)
                .for_update()
                .skip_locked()
                .select(Row::as_select())
                .first(conn)
                .await
                .optional()?
            else {
                return Ok(None);
            };
            let viewer = Caller {
                sub: "digest".into(),
                role: serde_json::from_value(serde_json::Value::String(row.owner_role.clone()))
                    .map_err(ApiError::internal)?,
                org: match row.owner_org_id {
                    Some(org) => crate::auth::org_scope(conn, &org.to_string()).await?,
                    None => None,
                },
            };
            // `*` anywhere means every type, as for webhooks.
            let types: Vec<String> = if row.event_types.iter().any(|t| t == "*") {
                Vec::new()
            } else {
                row.event_types.clone()
            };
            let frequency: Frequency = row.frequency.parse().map_err(ApiError::internal)?;
            let about = SubjectQuery {
                topics: row.topics.clone(),
                districts: row.districts.clone(),
                committees: row.committee_ids.clone(),
            };
            let events = crate::events::read(conn, &viewer, row.last_position, &types, &about, MAX_EVENTS).await?;
            let last = events.last().map_or(row.last_position, |e| e.position);
            let mailed = if events.is_empty() {
                false
            } else {
                let (subject, body) = super::render::digest(&row.id, frequency, &events, row.last_sent_at);
                if let Err(e) = mailer.send(&row.email, &subject, body).await {
                    // One refused recipient must not stop the others: this digest waits an hour, covering the
                    // same events then, and the round goes on.
                    log::warn!("digests: {} not sent, retried in an hour: {e}", row.id);
                    diesel::update(digests::table.find(row.id))
                        .set(digests::next_due_at.eq(now + chrono::Duration::hours(1)))
                        .execute(conn)
                        .await?;
                    return Ok(Some(false));
                }
                true
            };
            diesel::update(digests::table.find(row.id))
                .set((
                    digests::last_position.eq(last),
                    digests::next_due_at.eq(next_due(row.next_due_at, frequency, now)),
                    digests::last_sent_at.eq(if mailed { Some(now) } else { row.last_sent_at }),
                ))
                .execute(conn)
                .await?;
            Ok(Some(mailed))
        })
        .await?;
        match outcome {
            None => return Ok(sent),
            Some(true) => sent += 1,
            Some(false) => {}
        }
    }
}

/// The next due time: a period after the last one (so that the job's interval does not add up), past `now`.
fn next_due(mut due: DateTime<Utc>, frequency: Frequency, now: DateTime<Utc>) -> DateTime<Utc> {
    while due <= now {
        due += frequency.period();
    }
    due
}

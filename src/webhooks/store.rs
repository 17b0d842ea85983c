//! Every SQL statement on the `webhooks` and `webhook_deliveries` tables: subscriptions (visible to their owner
//! only), the delivery log, and the dispatcher's claims and outcomes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::KIND;
use super::model::{Delivery, DeliveryQuery, MAX_ERROR_CHARS, NewWebhook, Webhook};
use crate::audit::{self, Audience, Change};
use crate::core::identity::{Caller, Role};
use crate::db::DbPool;
use crate::db::schema::{events, webhook_deliveries, webhooks};
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{Page, PageRequest};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct Row {
    pub id: Uuid,
    pub owner_org_id: Option<Uuid>,
    url: String,
    event_types: Vec<String>,
    topics: Vec<String>,
    districts: Vec<String>,
    committee_ids: Vec<Uuid>,
    enabled: bool,
    consecutive_failures: i32,
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl Row {
    pub fn api(self) -> Webhook {
        Webhook {
            id: self.id,
            url: self.url,
            event_types: self.event_types,
            topics: self.topics,
            districts: self.districts,
            committees: self.committee_ids,
            enabled: self.enabled,
            consecutive_failures: self.consecutive_failures,
            disabled_at: self.disabled_at,
            created_at: self.created_at,
            secret: None,
        }
    }
}

/// Subscriptions belong to the caller's organisation (municipalities) or to the caller's role (staff).
pub fn owned(caller: &Caller) -> webhooks::BoxedQuery<'static, diesel::pg::Pg> {
    let query = webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .filter(webhooks::owner_role.eq(caller.role.as_str()))
        .into_boxed();
    match (caller.role, &caller.org) {
        (Role::Municipality, Some(org)) => query.filter(webhooks::owner_org_id.eq(org.id)),
        _ => query,
    }
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Row> {
    Ok(owned(caller)
        .filter(webhooks::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await?)
}

/// The caller's subscriptions, oldest first (at most [`MAX_UNPAGED`](crate::http::pagination::MAX_UNPAGED)).
pub async fn list(conn: &mut AsyncPgConnection, caller: &Caller) -> ApiResult<Vec<Webhook>> {
    list_after(conn, caller, None, crate::http::pagination::MAX_UNPAGED).await
}

/// Up to `limit` of the caller's subscriptions, oldest first, after the id `after` (the keyset of the CSV export).
pub async fn list_after(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<Webhook>> {
    let mut query = owned(caller).order(webhooks::id.asc());
    if let Some(after) = after {
        query = query.filter(webhooks::id.gt(after));
    }
    let rows: Vec<Row> = query.limit(limit).select(Row::as_select()).load(conn).await?;
    Ok(rows.into_iter().map(Row::api).collect())
}

/// A new subscription of the caller's organisation (municipalities) or role, recorded in its history.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    url: &str,
    types: &[String],
    about: &NewWebhook,
    secret: &str,
) -> ApiResult<Webhook> {
    crate::events::check_about(conn, &about.topics, &about.districts, &about.committees).await?;
    let own = caller.org.as_ref().filter(|_| caller.role == Role::Municipality);
    let row: Row = diesel::insert_into(webhooks::table)
        .values((
            webhooks::owner_role.eq(caller.role.as_str()),
            webhooks::owner_org_id.eq(own.map(|o| o.id)),
            webhooks::owner_district_ags.eq(own.map(|o| o.district_ags.clone())),
            webhooks::created_by.eq(&caller.sub),
            webhooks::url.eq(url),
            webhooks::event_types.eq(types),
            webhooks::topics.eq(&about.topics),
            webhooks::districts.eq(&about.districts),
            webhooks::committee_ids.eq(&about.committees),
            webhooks::secret.eq(secret),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    let hook = row.api();
    audit::record(conn, caller, Change::unpublished(KIND, hook.id, "create"), &hook).await?;
    Ok(hook)
}

/// Ends a subscription: pending deliveries fail as `unsubscribed`. A delivery whose attempt is in flight (its row
/// held by a dispatcher until the HTTP call ends, up to the delivery timeout) is skipped, not waited for: the
/// dispatcher fails it as `unsubscribed` when it records the attempt ([`record_attempt`]). Waiting would hold the
/// DELETE for the receiver's whole timeout, past the statement timeout.
pub async fn remove(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<()> {
    find(conn, caller, id).await?;
    diesel::update(webhooks::table.find(id))
        .set((webhooks::deleted_at.eq(diesel::dsl::now), webhooks::enabled.eq(false)))
        .execute(conn)
        .await?;
    diesel::sql_query(
        "UPDATE webhook_deliveries SET state = 'failed', last_error = 'unsubscribed' WHERE id IN \
         (SELECT id FROM webhook_deliveries WHERE webhook_id = $1 AND state = 'pending' FOR UPDATE SKIP LOCKED)",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .execute(conn)
    .await?;
    audit::record(conn, caller, Change::unpublished(KIND, id, "delete"), &()).await
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

pub fn delivery((id, pos, t, state, attempts, next, last, status, error, delivered, created): DeliveryRow) -> Delivery {
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

const SORT: &str = "deliveries:id";

/// One page of a subscription's delivery log (the caller has been checked to own it).
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    q: &DeliveryQuery,
) -> ApiResult<Page<Delivery>> {
    let paging = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    find(conn, caller, id).await?;
    let filtered = || {
        let mut query = webhook_deliveries::table
            .inner_join(events::table)
            .filter(webhook_deliveries::webhook_id.eq(id))
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
    let rows: Vec<DeliveryRow> = query.load(conn).await?;
    let total = if paging.include_total {
        Some(filtered().count().get_result(conn).await?)
    } else {
        None
    };
    let items: Vec<Delivery> = rows.into_iter().map(delivery).collect();
    Ok(paging.page(items, SORT, |d| d.id, |d| d, total))
}

/// Queues a delivery again, now, keeping its id.
pub async fn requeue(conn: &mut AsyncPgConnection, caller: &Caller, hook: Uuid, delivery_id: Uuid) -> ApiResult<()> {
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

// ---- the dispatcher's statements ----

/// Deliveries waiting to be sent.
pub async fn queue_depth(pool: &DbPool) -> ApiResult<i64> {
    let mut conn = crate::db::conn(pool).await?;
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::state.eq("pending"))
        .count()
        .get_result(&mut conn)
        .await?)
}

/// A due delivery claimed for an attempt, with what the attempt needs of its subscription.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: Uuid,
    /// Attempts so far.
    pub attempts: i32,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub webhook: Uuid,
    pub url: String,
    pub secret: String,
    pub owner_org: Option<Uuid>,
    pub owner_role: String,
    /// The event's row id.
    pub event: i64,
}

/// A due delivery as selected: id, attempts so far, first attempt, subscription, event.
type Due = (Uuid, i32, Option<DateTime<Utc>>, Uuid, i64);

/// Claims up to `limit` due deliveries of enabled subscriptions. Rows another instance holds are skipped, not
/// waited for; ours stay locked until the attempt is recorded (in the caller's transaction).
pub async fn claim_due(conn: &mut AsyncPgConnection, limit: i64) -> ApiResult<Vec<Claimed>> {
    let due: Vec<Due> = webhook_deliveries::table
        .filter(webhook_deliveries::state.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(diesel::dsl::now))
        .filter(
            webhook_deliveries::webhook_id
                .eq_any(webhooks::table.filter(webhooks::enabled.eq(true)).select(webhooks::id)),
        )
        .order(webhook_deliveries::next_attempt_at.asc())
        .limit(limit)
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
    let mut claimed = Vec::with_capacity(due.len());
    for (delivery, attempts, first_attempt_at, webhook, event) in due {
        let (url, secret, owner_org, owner_role): (String, String, Option<Uuid>, String) = webhooks::table
            .find(webhook)
            .select((
                webhooks::url,
                webhooks::secret,
                webhooks::owner_org_id,
                webhooks::owner_role,
            ))
            .first(conn)
            .await?;
        claimed.push(Claimed {
            delivery,
            attempts,
            first_attempt_at,
            webhook,
            url,
            secret,
            owner_org,
            owner_role,
            event,
        });
    }
    Ok(claimed)
}

/// What one attempt came to.
pub struct Outcome {
    pub delivered: bool,
    pub status: Option<i32>,
    pub error: Option<String>,
}

/// What happens next to a delivery that failed: retried at `next`, or given up.
pub struct Retry {
    pub next: DateTime<Utc>,
    pub give_up: bool,
}

/// Records an attempt. A success resets the subscription's failure count; a failure raises it, and at
/// `disable_after` consecutive failures disables the subscription (with its history entry and `webhook.disabled`).
pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    c: &Claimed,
    o: Outcome,
    retry: Retry,
    disable_after: i32,
) -> ApiResult<()> {
    let now = Utc::now();
    let attempts = c.attempts + 1;
    let first = c.first_attempt_at.unwrap_or(now);
    if o.delivered {
        diesel::update(webhook_deliveries::table.find(c.delivery))
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
        diesel::update(webhooks::table.find(c.webhook))
            .set(webhooks::consecutive_failures.eq(0))
            .execute(conn)
            .await?;
        return Ok(());
    }
    // A subscription removed during the attempt is not retried (its DELETE skipped this delivery, see [`remove`]).
    let unsubscribed: bool = webhooks::table
        .find(c.webhook)
        .select(webhooks::deleted_at.is_not_null())
        .first(conn)
        .await?;
    let error = if unsubscribed {
        Some("unsubscribed".to_owned())
    } else {
        o.error
    };
    diesel::update(webhook_deliveries::table.find(c.delivery))
        .set((
            webhook_deliveries::state.eq(if retry.give_up || unsubscribed {
                "failed"
            } else {
                "pending"
            }),
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::first_attempt_at.eq(first),
            webhook_deliveries::last_attempt_at.eq(now),
            webhook_deliveries::next_attempt_at.eq(retry.next),
            webhook_deliveries::last_status.eq(o.status),
            webhook_deliveries::last_error.eq(error.map(|e| crate::core::types::truncate_chars(&e, MAX_ERROR_CHARS))),
        ))
        .execute(conn)
        .await?;
    let failures: i32 = diesel::update(webhooks::table.find(c.webhook))
        .set(webhooks::consecutive_failures.eq(webhooks::consecutive_failures + 1))
        .returning(webhooks::consecutive_failures)
        .get_result(conn)
        .await?;
    if failures < disable_after {
        return Ok(());
    }
    let disabled = diesel::update(webhooks::table.find(c.webhook).filter(webhooks::enabled.eq(true)))
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
    Ok(())
}

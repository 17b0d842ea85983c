//! The audit trail: every mutation of every resource writes its history entry and its event through [`record`], in
//! the mutation's transaction. Nothing else writes the `history` or `events` tables (apart from the feed's start-up
//! backfill, [`backfill`], and the erasure of personal data, [`erase`]).

pub mod history;
pub mod outbox;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use std::fmt::Display;
use uuid::Uuid;

use crate::core::identity::Caller;
use crate::core::lifecycle::Transition;
use crate::db::schema::events;
use crate::error::{ApiError, ApiResult};
pub use outbox::Audience;

/// One change of one resource: what its history entry and its event say.
#[derive(Debug)]
pub struct Change<'a> {
    /// The resource kind, e.g. `application` (the history and the feed are keyed by it).
    pub kind: &'a str,
    pub id: Uuid,
    /// The history action: `create`, `update`, `delete`, `erase`, or a lifecycle action such as `submit`.
    pub action: String,
    /// The event type, `<kind>.<what>`; `None` for a change that is not in the feed ([`Change::unpublished`]).
    pub event: Option<&'a str>,
    /// Whether the change has a history entry (not for appends whose own rows are their history,
    /// [`Change::without_history`]).
    pub history: bool,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<&'a str>,
    /// JSON pointers of the fields the change touched.
    pub changed: Vec<String>,
    /// Who may see the event besides the service unit and the ministry.
    pub audience: Audience,
    /// The document the change produced (the issued notice's letter).
    pub document: Option<history::DocumentRef>,
}

impl<'a> Change<'a> {
    pub fn new(kind: &'a str, id: Uuid, action: &str, event: &'a str, audience: Audience) -> Self {
        Self {
            kind,
            id,
            action: action.to_owned(),
            event: Some(event),
            history: true,
            from: None,
            to: None,
            reason: None,
            changed: Vec::new(),
            audience,
            document: None,
        }
    }

    /// A lifecycle step: the action, the event and the two states come from the transition table.
    pub fn transition<S: Display, A: Display>(
        kind: &'a str,
        id: Uuid,
        rule: &'static Transition<S, A>,
        from: S,
        to: S,
        audience: Audience,
    ) -> Self {
        Self::new(kind, id, &rule.action.to_string(), rule.event, audience).states(Some(from), to)
    }

    pub fn states(mut self, from: Option<impl Display>, to: impl Display) -> Self {
        self.from = from.map(|s| s.to_string());
        self.to = Some(to.to_string());
        self
    }

    /// A change of a webhook subscription: in the history, not in the feed (its event would be delivered to the
    /// subscriptions themselves, turning configuration into traffic).
    pub fn unpublished(kind: &'a str, id: Uuid, action: &str) -> Self {
        let mut change = Self::new(kind, id, action, "", Audience::staff());
        change.event = None;
        change
    }

    /// An append whose own rows are its history (a comment: never changed, listed by its own endpoint): the event
    /// only. A history entry would tell a municipality that an internal comment exists.
    pub fn without_history(mut self) -> Self {
        self.history = false;
        self
    }

    pub fn reason(mut self, reason: Option<&'a str>) -> Self {
        self.reason = reason;
        self
    }

    pub fn changed(mut self, changed: Vec<String>) -> Self {
        self.changed = changed;
        self
    }

    pub fn document(mut self, document: Option<history::DocumentRef>) -> Self {
        self.document = document;
        self
    }
}

/// Writes the change's history entry and its event (with `data`, the resource's representation after the change)
/// in the caller's transaction. It takes the connection shared, so that a write can pipeline several changes' records
/// with its other statements (one round trip for all of them; PostgreSQL runs them in the order they were sent).
pub async fn record<T: Serialize>(
    conn: &AsyncPgConnection,
    caller: &Caller,
    change: Change<'_>,
    data: &T,
) -> ApiResult<()> {
    let step = change.history.then(|| history::Step {
        action: &change.action,
        from: change.from.as_deref(),
        to: change.to.as_deref(),
        reason: change.reason,
        changed: change.changed,
        document: change.document.as_ref(),
    });
    match (change.event, step) {
        // The usual case: the entry and the event in one statement.
        (Some(event), step) => {
            outbox::emit(conn, caller, event, change.kind, change.id, change.audience, data, step).await
        }
        (None, Some(step)) => history::record(conn, caller, change.kind, change.id, step).await,
        (None, None) => Ok(()),
    }
}

/// Demo data (`versorgung seed --demo`): the history entry of a seeded row now; its event comes from the feed's
/// [`backfill`] at the next start, with the row as it is then.
pub async fn seeded(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    kind: &str,
    id: Uuid,
    to: Option<&str>,
) -> ApiResult<()> {
    let step = history::Step {
        to,
        ..history::Step::new("create")
    };
    history::record(conn, caller, kind, id, step).await
}

/// The feed's start-up backfill: a `<kind>.created` event for a row that has none (rows loaded by migrations or the
/// demo seed). No history entry: nothing changed.
pub async fn backfill<T: Serialize>(
    conn: &mut AsyncPgConnection,
    kind: &str,
    id: Uuid,
    event: &str,
    audience: Audience,
    data: &T,
) -> ApiResult<()> {
    outbox::emit(conn, &Caller::system(), event, kind, id, audience, data, None).await
}

/// Erasure of personal data (GDPR Art. 17): the change itself goes through [`record`]; before that, the resource's
/// earlier events are replaced by `anonymous` (history entries name fields, never values, so they stay as they are).
pub async fn erase<T: Serialize>(conn: &mut AsyncPgConnection, kind: &str, id: Uuid, anonymous: &T) -> ApiResult<()> {
    let anonymous = serde_json::to_value(anonymous).map_err(ApiError::internal)?;
    diesel::update(
        events::table
            .filter(events::resource_kind.eq(kind))
            .filter(events::resource_id.eq(id)),
    )
    .set(events::data.eq(anonymous))
    .execute(conn)
    .await?;
    Ok(())
}

/// Of `ids`, those that have no event of `kind` yet (for the feed's backfill).
pub async fn without_events(conn: &mut AsyncPgConnection, kind: &str, ids: &[Uuid]) -> ApiResult<Vec<Uuid>> {
    let known: Vec<Uuid> = events::table
        .filter(events::resource_kind.eq(kind))
        .filter(events::resource_id.eq_any(ids))
        .select(events::resource_id)
        .load(conn)
        .await?;
    Ok(ids.iter().filter(|id| !known.contains(id)).copied().collect())
}

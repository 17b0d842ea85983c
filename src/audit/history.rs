//! The history of every resource: one entry per change and transition, written in the same transaction as the
//! change. Entries name fields (JSON pointers), never their values, so erasing a person's data never has to rewrite
//! history.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::core::identity::{Caller, Role};
use crate::db::schema::history;
use crate::error::{ApiError, ApiResult};

/// Who did something.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    #[schema(max_length = 255)]
    pub sub: String,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
}

impl Actor {
    pub fn parse(sub: String, role: &str, organisation_id: Option<Uuid>) -> ApiResult<Self> {
        Ok(Self {
            sub,
            role: serde_json::from_value(serde_json::Value::String(role.to_owned())).map_err(ApiError::internal)?,
            organisation_id,
        })
    }
}

/// One step in a resource's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": 3, "action": "request-changes",
    "actor": {"sub": "pruefer-1", "role": "ministry", "organisationId": null},
    "fromStatus": "in_review", "toStatus": "changes_requested", "reason": "Bitte den Finanzierungsplan nach Jahren aufschlüsseln.",
    "changedFields": [], "document": null, "occurredAt": "2026-11-21T10:00:00Z"}))]
pub struct HistoryEntry {
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub id: i64,
    /// `create`, `update`, `erase`, or a lifecycle action such as `submit` or `forward`.
    #[schema(max_length = 64)]
    pub action: String,
    pub actor: Actor,
    #[schema(max_length = 64)]
    pub from_status: Option<String>,
    #[schema(max_length = 64)]
    pub to_status: Option<String>,
    /// The reason or note given with the step.
    #[schema(max_length = 10000)]
    pub reason: Option<String>,
    /// JSON pointers of the fields a change touched.
    #[schema(max_items = 100, max_length = 200)]
    pub changed_fields: Vec<String>,
    /// The document the step produced, such as the letter an `issue` sent: its attachment and SHA-256.
    pub document: Option<DocumentRef>,
    pub occurred_at: DateTime<Utc>,
}

/// A document named by a history entry: the attachment kept and the SHA-256 of the content it had when the step
/// happened (compare it with the download's).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRef {
    pub attachment_id: Uuid,
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
}

/// What happened, for [`record`].
pub struct Step<'a> {
    pub action: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub changed: Vec<String>,
    pub document: Option<&'a DocumentRef>,
}

impl<'a> Step<'a> {
    pub fn new(action: &'a str) -> Self {
        Self {
            action,
            from: None,
            to: None,
            reason: None,
            changed: vec![],
            document: None,
        }
    }
}

/// Appends an entry (in the caller's transaction).
pub async fn record(
    conn: &AsyncPgConnection,
    caller: &Caller,
    kind: &str,
    resource: Uuid,
    step: Step<'_>,
) -> ApiResult<()> {
    diesel::insert_into(history::table)
        .values((
            history::resource_kind.eq(kind),
            history::resource_id.eq(resource),
            history::action.eq(step.action),
            history::actor_sub.eq(&caller.sub),
            history::actor_role.eq(caller.role.as_str()),
            history::actor_org_id.eq(caller.org.as_ref().map(|o| o.id)),
            history::from_status.eq(step.from),
            history::to_status.eq(step.to),
            history::reason.eq(step.reason),
            history::changed_fields.eq(step.changed),
            history::document_id.eq(step.document.map(|d| d.attachment_id)),
            history::document_sha256.eq(step.document.map(|d| d.sha256.as_str())),
        ))
        .execute(&mut &*conn)
        .await?;
    Ok(())
}

type Row = (
    i64,
    String,
    String,
    String,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    DateTime<Utc>,
    Option<Uuid>,
    Option<String>,
);

/// A resource's history, oldest first: its latest [`MAX_UNPAGED`](crate::core::types::MAX_UNPAGED) entries. The caller has checked that the resource
/// is visible.
pub async fn list(conn: &mut AsyncPgConnection, kind: &str, resource: Uuid) -> ApiResult<Vec<HistoryEntry>> {
    let mut rows: Vec<Row> = history::table
        .filter(history::resource_kind.eq(kind))
        .filter(history::resource_id.eq(resource))
        .order(history::id.desc())
        .limit(crate::core::types::MAX_UNPAGED)
        .select((
            history::id,
            history::action,
            history::actor_sub,
            history::actor_role,
            history::actor_org_id,
            history::from_status,
            history::to_status,
            history::reason,
            history::changed_fields,
            history::occurred_at,
            history::document_id,
            history::document_sha256,
        ))
        .load(conn)
        .await?;
    rows.reverse();
    rows.into_iter()
        .map(
            |(id, action, sub, role, org, from, to, reason, changed, at, doc, sha)| {
                Ok(HistoryEntry {
                    id,
                    action,
                    actor: Actor::parse(sub, &role, org)?,
                    from_status: from,
                    to_status: to,
                    reason,
                    changed_fields: changed,
                    document: doc
                        .zip(sha)
                        .map(|(attachment_id, sha256)| DocumentRef { attachment_id, sha256 }),
                    occurred_at: at,
                })
            },
        )
        .collect()
}

//! Every SQL statement on topics. The register is read by everyone; the service unit writes it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::db::schema::topics;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = topics)]
struct Row {
    code: String,
    title: String,
    parent: Option<String>,
    status: String,
    merged_into: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Every topic's parent: the register is small (some hundred topics), so a page or a tree rule reads it once
/// instead of one query per level and topic.
type Tree = std::collections::HashMap<String, Option<String>>;

async fn tree(conn: &mut AsyncPgConnection) -> ApiResult<Tree> {
    let rows: Vec<(String, Option<String>)> = topics::table.select((topics::code, topics::parent)).load(conn).await?;
    Ok(rows.into_iter().collect())
}

/// The codes from the top-level topic down to `parent`.
fn path_in(tree: &Tree, parent: Option<&str>) -> ApiResult<Vec<String>> {
    let mut path = Vec::new();
    let mut next = parent.map(str::to_owned);
    while let Some(code) = next {
        if path.contains(&code) || path.len() > MAX_DEPTH + 1 {
            return Err(ApiError::internal(format!("topic tree broken at {code}")));
        }
        next = tree.get(&code).cloned().flatten();
        path.push(code);
    }
    path.reverse();
    Ok(path)
}

async fn path_to(conn: &mut AsyncPgConnection, parent: Option<&str>) -> ApiResult<Vec<String>> {
    path_in(&tree(conn).await?, parent)
}

async fn to_api(conn: &mut AsyncPgConnection, r: Row) -> ApiResult<Topic> {
    let tree = tree(conn).await?;
    to_api_in(&tree, r)
}

fn to_api_in(tree: &Tree, r: Row) -> ApiResult<Topic> {
    Ok(Topic {
        path: path_in(tree, r.parent.as_deref())?,
        code: r.code,
        title: r.title,
        parent: r.parent,
        status: r.status.parse().map_err(ApiError::internal)?,
        merged_into: r.merged_into,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

async fn row(conn: &mut AsyncPgConnection, code: &str, lock: bool) -> ApiResult<Row> {
    let query = topics::table.find(code).select(Row::as_select());
    Ok(if lock {
        query.for_update().first(conn).await?
    } else {
        query.first(conn).await?
    })
}

pub async fn find(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<Topic> {
    let r = row(conn, code, false).await?;
    to_api(conn, r).await
}

fn filtered(q: &ListTopics) -> topics::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = topics::table.into_boxed();
    if let Some(parent) = &q.parent {
        query = query.filter(topics::parent.eq(parent.clone()));
    }
    if let Some(status) = q.status {
        query = query.filter(topics::status.eq(status.as_str()));
    }
    if let Some(text) = &q.q {
        query = query.filter(topics::title.ilike(crate::core::types::like_pattern(text)));
    }
    query
}

/// A page of topics in code order, after `after`.
pub async fn page(
    conn: &mut AsyncPgConnection,
    q: &ListTopics,
    after: Option<String>,
    limit: i64,
) -> ApiResult<Vec<(Topic, String)>> {
    let mut query = filtered(q).select(Row::as_select()).order(topics::code.asc());
    if let Some(after) = after {
        query = query.filter(topics::code.gt(after));
    }
    let rows: Vec<Row> = query.limit(limit).load(conn).await?;
    let tree = tree(conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let t = to_api_in(&tree, r)?;
        let key = t.code.clone();
        out.push((t, key));
    }
    Ok(out)
}

pub async fn count(conn: &mut AsyncPgConnection, q: &ListTopics) -> ApiResult<i64> {
    Ok(filtered(q).count().get_result(conn).await?)
}

/// A check of one code reported at the field itself (`/parent`, `/into`), not at a list position; any other error
/// (the database's) passes unchanged.
fn at_field(checked: ApiResult<()>, pointer: &str) -> ApiResult<()> {
    match checked {
        Err(ApiError::Validation(errors)) => Err(ApiError::Validation(
            errors
                .into_iter()
                .map(|mut e| {
                    e.pointer = pointer.to_owned();
                    e
                })
                .collect(),
        )),
        other => other,
    }
}

/// Changes of the tree (a new topic, a new parent, a merge) one at a time across all instances, so that two
/// concurrent moves cannot build a cycle that each alone would not.
async fn lock_tree(conn: &mut AsyncPgConnection) -> ApiResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('versorgung:topics'))")
        .execute(conn)
        .await?;
    Ok(())
}

/// A parent must be an active topic, must not be the topic itself or below it, and must keep the tree within
/// [`MAX_DEPTH`].
async fn check_parent(conn: &mut AsyncPgConnection, code: &str, parent: Option<&str>) -> ApiResult<()> {
    let Some(parent) = parent else { return Ok(()) };
    at_field(
        crate::vocabulary::check(conn, &[parent.to_owned()], "/parent", &[]).await,
        "/parent",
    )?;
    let tree = tree(conn).await?;
    let path = path_in(&tree, Some(parent))?;
    if path.iter().any(|p| p == code) {
        return Err(ApiError::Validation(vec![parent_error(
            "a topic cannot sit below itself",
        )]));
    }
    // The deepest sub-topic of `code` must stay within the limit too.
    let mut depth_below = 0;
    for d in tree.keys() {
        let p = path_in(&tree, Some(d))?;
        if let Some(i) = p.iter().position(|c| c == code) {
            depth_below = depth_below.max(p.len() - 1 - i);
        }
    }
    if path.len() + depth_below > MAX_DEPTH {
        return Err(ApiError::Validation(vec![parent_error(&format!(
            "topics nest at most {MAX_DEPTH} levels below a top-level topic"
        ))]));
    }
    Ok(())
}

pub async fn create(conn: &mut AsyncPgConnection, caller: &Caller, t: NewTopic) -> ApiResult<Topic> {
    let (Some(code), Some(title)) = (t.code, t.title) else {
        return Err(ApiError::internal("validated topic lacks code or title"));
    };
    lock_tree(conn).await?;
    check_parent(conn, &code, t.parent.as_deref()).await?;
    diesel::insert_into(topics::table)
        .values((
            topics::code.eq(&code),
            topics::title.eq(&title),
            topics::parent.eq(&t.parent),
        ))
        .execute(conn)
        .await?;
    let topic = find(conn, &code).await?;
    let change = Change::new(KIND, uuid_of(&code), "create", "topic.created", Audience::everyone());
    audit::record(conn, caller, change, &topic).await?;
    Ok(topic)
}

/// The one PATCH flow's step: title, parent (no cycles, not too deep), status (an archived topic is given to no new
/// record; a merged one stays archived).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    code: &str,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<Topic> {
    lock_tree(conn).await?;
    let current = row(conn, code, true).await?;
    expected.check(current.version)?;
    let editable = PatchTopic {
        title: Some(current.title.clone()),
        parent: current.parent.clone(),
        status: Some(current.status.parse().map_err(ApiError::internal)?),
    };
    let Some((next, changed)) = crate::http::patch::merged(&editable, &patch, &[])? else {
        return to_api(conn, current).await;
    };
    if next.parent != current.parent {
        check_parent(conn, code, next.parent.as_deref()).await?;
    }
    if current.merged_into.is_some() && next.status != Some(TopicStatus::Archived) {
        return Err(ApiError::conflict(
            "topic_merged",
            MessageParams::detail(current.merged_into.unwrap_or_default()),
        ));
    }
    let (Some(title), Some(status)) = (next.title, next.status) else {
        return Err(ApiError::internal("validated topic patch lacks title or status"));
    };
    diesel::update(topics::table.find(code))
        .set((
            topics::title.eq(title),
            topics::parent.eq(next.parent),
            topics::status.eq(status.as_str()),
            topics::version.eq(current.version + 1),
            topics::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let topic = find(conn, code).await?;
    let change = Change::new(KIND, uuid_of(code), "update", "topic.changed", Audience::everyone()).changed(changed);
    audit::record(conn, caller, change, &topic).await?;
    Ok(topic)
}

/// Archives `from` as merged into `into` (an active topic that is neither `from` nor below it) and hangs `from`'s
/// sub-topics below `into`; the records that carry `from` are rewritten by their own resources
/// ([`super::handlers`] calls them in the same transaction).
pub async fn merge(conn: &mut AsyncPgConnection, caller: &Caller, from: &str, into: &str) -> ApiResult<Topic> {
    lock_tree(conn).await?;
    let current = row(conn, from, true).await?;
    if current.merged_into.is_some() {
        return Err(ApiError::conflict(
            "topic_merged",
            MessageParams::detail(current.merged_into.unwrap_or_default()),
        ));
    }
    at_field(
        crate::vocabulary::check(conn, &[into.to_owned()], "/into", &[]).await,
        "/into",
    )?;
    if into == from || path_to(conn, Some(into)).await?.iter().any(|p| p == from) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "/into",
            "invalid_value",
            MessageParams::detail("a topic is merged into another that is not below it"),
        )]));
    }
    let children: Vec<String> = topics::table
        .filter(topics::parent.eq(from))
        .select(topics::code)
        .load(conn)
        .await?;
    // The sub-topics move below `into`: each must fit there (depth).
    for child in &children {
        at_field(check_parent(conn, child, Some(into)).await, "/into")?;
    }
    for child in children {
        let r = row(conn, &child, true).await?;
        diesel::update(topics::table.find(&child))
            .set((
                topics::parent.eq(into),
                topics::version.eq(r.version + 1),
                topics::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        let moved = find(conn, &child).await?;
        let change = Change::new(KIND, uuid_of(&child), "update", "topic.changed", Audience::everyone())
            .changed(vec!["/parent".into()]);
        audit::record(conn, caller, change, &moved).await?;
    }
    diesel::update(topics::table.find(from))
        .set((
            topics::status.eq(TopicStatus::Archived.as_str()),
            topics::merged_into.eq(into),
            topics::version.eq(current.version + 1),
            topics::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let topic = find(conn, from).await?;
    let change = Change::new(KIND, uuid_of(from), "merge", "topic.merged", Audience::everyone())
        .changed(vec!["/status".into(), "/mergedInto".into()]);
    audit::record(conn, caller, change, &topic).await?;
    Ok(topic)
}

/// The id under which a topic's history and events are kept (the history and the feed key resources by UUID; a
/// topic is keyed by its code).
pub fn uuid_of(code: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("topic:{code}").as_bytes())
}

pub async fn history(conn: &mut AsyncPgConnection, code: &str) -> ApiResult<Vec<history::HistoryEntry>> {
    row(conn, code, false).await?;
    history::list(conn, KIND, uuid_of(code)).await
}

//! Every SQL statement on knowledge entries. Visibility is applied here, in [`visible_sql`], for every read: anyone
//! reads published public entries, signed-in municipalities also published network ones, staff everything.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Float4, Int8, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::{Caller, Role};
use crate::db::schema::{applications, knowledge_entries};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Debug, Clone, QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Array<Text>)]
    topics: Vec<String>,
    #[diesel(sql_type = Text)]
    visibility: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Array<diesel::sql_types::Uuid>)]
    application_ids: Vec<Uuid>,
    #[diesel(sql_type = Nullable<Date>)]
    review_due_on: Option<NaiveDate>,
    #[diesel(sql_type = Array<diesel::sql_types::Uuid>)]
    proof_ids: Vec<Uuid>,
    #[diesel(sql_type = Text)]
    author: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    published_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Int8)]
    version: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
    #[diesel(sql_type = Float4)]
    rank: f32,
    #[diesel(sql_type = Nullable<Text>)]
    snippet: Option<String>,
}

const COLUMNS: &str = "id, kind, title, body, topics, visibility, status, application_ids, review_due_on, proof_ids, author, \
                       published_at, version, created_at, updated_at";

fn is_staff(caller: Option<&Caller>) -> bool {
    caller.is_some_and(|c| matches!(c.role, Role::ServiceUnit | Role::Ministry))
}

/// The SQL condition of what the caller may read (no token: `None`).
fn visible_sql(caller: Option<&Caller>) -> &'static str {
    match caller.map(|c| c.role) {
        Some(Role::ServiceUnit | Role::Ministry) => "true",
        Some(Role::Municipality) => "status = 'published' AND visibility IN ('network', 'public')",
        None => "status = 'published' AND visibility = 'public'",
    }
}

fn to_api(caller: Option<&Caller>, r: Row) -> ApiResult<KnowledgeEntry> {
    let status: EntryStatus = r.status.parse().map_err(ApiError::internal)?;
    let allowed_actions = match caller {
        Some(c) => LIFECYCLE
            .allowed_actions(status)
            .into_iter()
            .filter(|a| LIFECYCLE.roles(*a).contains(&c.role))
            .collect(),
        None => Vec::new(),
    };
    Ok(KnowledgeEntry {
        id: r.id,
        kind: r.kind.parse().map_err(ApiError::internal)?,
        title: r.title,
        body: r.body,
        topics: r.topics,
        visibility: r.visibility.parse().map_err(ApiError::internal)?,
        status,
        // Which applications an entry draws on is the service unit's working knowledge.
        application_ids: if is_staff(caller) {
            r.application_ids
        } else {
            Vec::new()
        },
        review_due_on: r.review_due_on,
        // Like the applications: the service unit's working knowledge.
        proof_ids: if is_staff(caller) { r.proof_ids } else { Vec::new() },
        // Who wrote it is the service unit's business; readers see the entry.
        author: is_staff(caller).then_some(r.author),
        published_at: r.published_at,
        snippet: r.snippet,
        allowed_actions,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    caller: Option<&Caller>,
    id: Uuid,
    lock: bool,
) -> ApiResult<KnowledgeEntry> {
    let sql = format!(
        "SELECT {COLUMNS}, 0::real AS rank, NULL::text AS snippet FROM knowledge_entries WHERE id = $1 AND ({}){}",
        visible_sql(caller),
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Row = diesel::sql_query(sql)
        .bind::<diesel::sql_types::Uuid, _>(id)
        .get_result(conn)
        .await?;
    to_api(caller, row)
}

/// The search text, if any.
fn text_of(q: &ListEntries) -> Option<&str> {
    q.q.as_deref().filter(|t| !t.trim().is_empty())
}

/// The filter's SQL over the entries with their rank: `$1` the search text (`''` for none), `$2` the topics, `$3`
/// and `$4` the cursor.
fn conditions(caller: Option<&Caller>, q: &ListEntries, topics: bool, after: bool) -> String {
    let mut conditions = vec![format!("({})", visible_sql(caller))];
    if text_of(q).is_some() {
        conditions.push("search @@ websearch_to_tsquery('german', $1)".into());
    }
    if topics {
        conditions.push("topics && $2".into());
    }
    for (column, value) in [
        ("kind", q.kind.map(|k| k.as_str())),
        ("status", q.status.map(|s| s.as_str())),
        ("visibility", q.visibility.map(|v| v.as_str())),
    ] {
        if let Some(v) = value {
            // A value of a closed list, never the request's text: safe to write into the statement.
            conditions.push(format!("{column} = '{v}'"));
        }
    }
    if after {
        conditions.push("(rank < $3 OR (rank = $3 AND id > $4))".into());
    }
    conditions.join(" AND ")
}

async fn topic_codes(conn: &mut AsyncPgConnection, q: &ListEntries) -> ApiResult<Option<Vec<String>>> {
    Ok(match &q.topic {
        Some(t) => Some(crate::vocabulary::with_descendants(conn, t).await?),
        None => None,
    })
}

/// The rank and the snippet as SQL: by relevance to `$1` with a search text, else 0 and none.
fn rank_and_snippet(q: &ListEntries) -> (&'static str, &'static str) {
    if text_of(q).is_some() {
        (
            "ts_rank_cd(search, websearch_to_tsquery('german', $1))",
            // The body escaped for HTML first, so that only the <mark> tags are markup.
            "ts_headline('german', replace(replace(replace(body, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), \
             websearch_to_tsquery('german', $1), 'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=30, \
             MinWords=10')",
        )
    } else {
        ("0::real", "NULL::text")
    }
}

/// A page in relevance order (with `q`; otherwise every entry ranks 0 and the order is by id), after `after`.
pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: Option<&Caller>,
    q: &ListEntries,
    after: Option<(f32, Uuid)>,
    limit: i64,
) -> ApiResult<Vec<(KnowledgeEntry, (f32, Uuid))>> {
    let topics = topic_codes(conn, q).await?;
    let (rank, snippet) = rank_and_snippet(q);
    let sql = format!(
        "SELECT * FROM (SELECT {COLUMNS}, {rank} AS rank, search FROM knowledge_entries) e \
         CROSS JOIN LATERAL (SELECT {snippet} AS snippet) s WHERE {} ORDER BY rank DESC, id LIMIT $5",
        conditions(caller, q, topics.is_some(), after.is_some())
    );
    let (after_rank, after_id) = after.unwrap_or((0.0, Uuid::nil()));
    let rows: Vec<Row> = diesel::sql_query(sql)
        .bind::<Text, _>(text_of(q).unwrap_or(""))
        .bind::<Array<Text>, _>(topics.unwrap_or_default())
        .bind::<Float4, _>(after_rank)
        .bind::<diesel::sql_types::Uuid, _>(after_id)
        .bind::<Int8, _>(limit)
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            let key = (r.rank, r.id);
            Ok((to_api(caller, r)?, key))
        })
        .collect()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Int8)]
    n: i64,
}

pub async fn count(conn: &mut AsyncPgConnection, caller: Option<&Caller>, q: &ListEntries) -> ApiResult<i64> {
    let topics = topic_codes(conn, q).await?;
    let (rank, _) = rank_and_snippet(q);
    let sql = format!(
        "SELECT count(*) AS n FROM (SELECT {COLUMNS}, {rank} AS rank, search FROM knowledge_entries) e WHERE {}",
        conditions(caller, q, topics.is_some(), false)
    );
    let counted: Count = diesel::sql_query(sql)
        .bind::<Text, _>(text_of(q).unwrap_or(""))
        .bind::<Array<Text>, _>(topics.unwrap_or_default())
        .get_result(conn)
        .await?;
    Ok(counted.n)
}

/// Topic codes active (or kept), applications existing.
async fn check_references(conn: &mut AsyncPgConnection, input: &EntryInput, kept: &[String]) -> ApiResult<()> {
    let mut errors = Vec::new();
    match crate::vocabulary::check(conn, &input.topics, "/topics", kept).await {
        Err(ApiError::Validation(unknown)) => errors.extend(unknown),
        other => other?,
    }
    if !input.application_ids.is_empty() {
        let known: Vec<Uuid> = applications::table
            .filter(applications::id.eq_any(&input.application_ids))
            .select(applications::id)
            .load(conn)
            .await?;
        for (i, id) in input.application_ids.iter().enumerate() {
            if !known.contains(id) {
                errors.push(FieldError::new(
                    format!("/applicationIds/{i}"),
                    "unknown_reference",
                    MessageParams::detail(format!("no application {id}")),
                ));
            }
        }
    }
    if !input.proof_ids.is_empty() {
        use crate::db::schema::proofs_of_use;
        let accepted: Vec<Uuid> = proofs_of_use::table
            .filter(proofs_of_use::id.eq_any(&input.proof_ids))
            .filter(proofs_of_use::status.eq("accepted"))
            .select(proofs_of_use::id)
            .load(conn)
            .await?;
        for (i, id) in input.proof_ids.iter().enumerate() {
            if !accepted.contains(id) {
                errors.push(FieldError::new(
                    format!("/proofIds/{i}"),
                    "unknown_reference",
                    MessageParams::detail(format!("no accepted proof of use {id}")),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Whether anyone beyond staff reads the entry.
fn read_beyond_staff(e: &KnowledgeEntry) -> bool {
    e.status == EntryStatus::Published && matches!(e.visibility, Visibility::Network | Visibility::Public)
}

/// Records a change: to every role when the entry was or is read beyond staff (readers also hear that it was
/// withdrawn), else to staff; the event carries what those readers may see (no `applicationIds`, no author).
async fn record(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    change: Change<'_>,
    before: Option<&KnowledgeEntry>,
    after: &KnowledgeEntry,
) -> ApiResult<()> {
    let wide = read_beyond_staff(after) || before.is_some_and(read_beyond_staff);
    let (audience, data) = if wide {
        let mut public = after.clone();
        public.application_ids = Vec::new();
        public.proof_ids = Vec::new();
        public.author = None;
        public.allowed_actions = Vec::new();
        (Audience::everyone(), public)
    } else {
        (Audience::staff(), after.clone())
    };
    let mut change = change;
    change.audience = audience;
    audit::record(conn, caller, change, &data).await
}

pub async fn create(conn: &mut AsyncPgConnection, caller: &Caller, input: EntryInput) -> ApiResult<KnowledgeEntry> {
    check_references(conn, &input, &[]).await?;
    let (Some(kind), Some(title), Some(visibility)) = (input.kind, input.title, input.visibility) else {
        return Err(ApiError::internal("validated entry lacks kind, title or visibility"));
    };
    let id = Uuid::now_v7();
    diesel::insert_into(knowledge_entries::table)
        .values((
            knowledge_entries::id.eq(id),
            knowledge_entries::kind.eq(kind.as_str()),
            knowledge_entries::title.eq(title),
            knowledge_entries::body.eq(input.body),
            knowledge_entries::topics.eq(input.topics),
            knowledge_entries::visibility.eq(visibility.as_str()),
            knowledge_entries::application_ids.eq(input.application_ids),
            knowledge_entries::proof_ids.eq(input.proof_ids),
            knowledge_entries::review_due_on.eq(input.review_due_on),
            knowledge_entries::author.eq(&caller.sub),
        ))
        .execute(conn)
        .await?;
    let entry = find(conn, Some(caller), id, false).await?;
    let change = Change::new(KIND, id, "create", "knowledge_entry.created", Audience::staff())
        .states(None::<EntryStatus>, EntryStatus::Draft);
    record(conn, caller, change, None, &entry).await?;
    Ok(entry)
}

/// The one PATCH flow's step: drafts only (409 `not_editable`), so that what readers see has always been reviewed;
/// an entry in review is returned first, a published one archived and written anew.
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<KnowledgeEntry> {
    let current = find(conn, Some(caller), id, true).await?;
    expected.check(current.version)?;
    if current.status != EntryStatus::Draft {
        return Err(ApiError::conflict(
            "not_editable",
            MessageParams::detail(current.status),
        ));
    }
    let editable = EntryInput {
        kind: Some(current.kind),
        title: Some(current.title.clone()),
        body: current.body.clone(),
        topics: current.topics.clone(),
        visibility: Some(current.visibility),
        application_ids: current.application_ids.clone(),
        proof_ids: current.proof_ids.clone(),
        review_due_on: current.review_due_on,
    };
    let Some((next, changed)) = crate::http::patch::merged(&editable, &patch, &[])? else {
        return Ok(current);
    };
    check_references(conn, &next, &current.topics).await?;
    let (Some(kind), Some(title), Some(visibility)) = (next.kind, next.title, next.visibility) else {
        return Err(ApiError::internal("validated entry lacks kind, title or visibility"));
    };
    diesel::update(knowledge_entries::table.find(id))
        .set((
            knowledge_entries::kind.eq(kind.as_str()),
            knowledge_entries::title.eq(title),
            knowledge_entries::body.eq(next.body),
            knowledge_entries::topics.eq(next.topics),
            knowledge_entries::visibility.eq(visibility.as_str()),
            knowledge_entries::application_ids.eq(next.application_ids),
            knowledge_entries::proof_ids.eq(next.proof_ids),
            knowledge_entries::review_due_on.eq(next.review_due_on),
            knowledge_entries::version.eq(current.version + 1),
            knowledge_entries::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let entry = find(conn, Some(caller), id, false).await?;
    let change = Change::new(KIND, id, "update", "knowledge_entry.changed", Audience::staff()).changed(changed);
    record(conn, caller, change, Some(&current), &entry).await?;
    Ok(entry)
}

/// What a transition carries.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub reason: Option<String>,
}

/// Moves an entry through its lifecycle: row lock, state, effect, audit.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: EntryAction,
    expected: Option<Expected>,
    input: TransitionInput,
) -> ApiResult<KnowledgeEntry> {
    let current = find(conn, Some(caller), id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, action)?;
    let to = rule.target(current.status);
    let published = match action {
        EntryAction::Publish => Some(Utc::now()),
        _ => current.published_at,
    };
    diesel::update(knowledge_entries::table.find(id))
        .set((
            knowledge_entries::status.eq(to.as_str()),
            knowledge_entries::published_at.eq(published),
            knowledge_entries::version.eq(current.version + 1),
            knowledge_entries::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let entry = find(conn, Some(caller), id, false).await?;
    let change =
        Change::transition(KIND, id, rule, current.status, to, Audience::staff()).reason(input.reason.as_deref());
    record(conn, caller, change, Some(&current), &entry).await?;
    Ok(entry)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, Some(caller), id, false).await?;
    history::list(conn, KIND, id).await
}

/// Every entry that carries topic `from` carries `into` instead (a merge of topics), each with its history entry and
/// event, in the caller's transaction.
pub async fn replace_topic(conn: &mut AsyncPgConnection, caller: &Caller, from: &str, into: &str) -> ApiResult<()> {
    for id in crate::vocabulary::replace_in(conn, "knowledge_entries", from, into).await? {
        let entry = find(conn, Some(caller), id, false).await?;
        let change = Change::new(KIND, id, "update", "knowledge_entry.changed", Audience::staff())
            .changed(vec!["/topics".into()]);
        record(conn, caller, change, None, &entry).await?;
    }
    Ok(())
}

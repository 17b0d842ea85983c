//! Every SQL statement on action items: create (from a meeting), read, list, the PATCH step and the lifecycle.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::{Caller, Role};
use crate::db::schema::{action_items, committee_meetings, committees, organisations};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Queryable, Selectable)]
#[diesel(table_name = action_items, check_for_backend(diesel::pg::Pg))]
struct Row {
    id: Uuid,
    meeting_id: Uuid,
    committee_id: Uuid,
    agenda_index: Option<i32>,
    title: String,
    description: String,
    assignee: String,
    assignee_organisation_id: Option<Uuid>,
    assignee_committee_id: Option<Uuid>,
    district_ags: Option<String>,
    due_on: NaiveDate,
    status: String,
    note: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Whether the caller may take a lifecycle step on the item: staff by role, a municipality on its own items.
fn may_act(caller: &Caller, organisation: Option<Uuid>) -> bool {
    match caller.role {
        Role::Municipality => {
            caller.org.as_ref().map(|o| o.id).is_some() && caller.org.as_ref().map(|o| o.id) == organisation
        }
        _ => true,
    }
}

fn to_api(caller: Option<&Caller>, r: Row) -> ApiResult<ActionItem> {
    let status: ItemStatus = r.status.parse().map_err(ApiError::internal)?;
    let allowed_actions = match caller {
        Some(c) if may_act(c, r.assignee_organisation_id) => LIFECYCLE
            .allowed_actions(status)
            .into_iter()
            .filter(|a| LIFECYCLE.roles(*a).contains(&c.role))
            .collect(),
        _ => Vec::new(),
    };
    Ok(ActionItem {
        id: r.id,
        meeting_id: r.meeting_id,
        committee_id: r.committee_id,
        agenda_index: r.agenda_index,
        title: r.title,
        description: r.description,
        assignee: r.assignee.parse().map_err(ApiError::internal)?,
        organisation_id: r.assignee_organisation_id,
        assignee_committee_id: r.assignee_committee_id,
        district: r.district_ags,
        due_on: r.due_on,
        status,
        note: r.note,
        allowed_actions,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<ActionItem> {
    let query = action_items::table.find(id).select(Row::as_select());
    let row: Row = if lock {
        query.for_update().first(conn).await?
    } else {
        query.first(conn).await?
    };
    to_api(Some(caller), row)
}

/// The page key: due date, id.
pub type Key = (NaiveDate, Uuid);

fn filtered(q: &ListActionItems) -> action_items::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = action_items::table.into_boxed();
    if let Some(s) = q.status {
        query = query.filter(action_items::status.eq(s.as_str()));
    }
    if let Some(a) = q.assignee {
        query = query.filter(action_items::assignee.eq(a.as_str()));
    }
    if let Some(c) = q.committee {
        query = query.filter(action_items::committee_id.eq(c));
    }
    if let Some(m) = q.meeting {
        query = query.filter(action_items::meeting_id.eq(m));
    }
    if let Some(o) = q.organisation {
        query = query.filter(action_items::assignee_organisation_id.eq(o));
    }
    if let Some(d) = q.due_before {
        query = query.filter(action_items::due_on.le(d));
    }
    query
}

/// A page of action items, soonest due first (every signed-in role reads them, as it reads the meetings).
pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListActionItems,
    after: Option<Key>,
    limit: i64,
) -> ApiResult<Vec<(ActionItem, Key)>> {
    let mut query = filtered(q)
        .select(Row::as_select())
        .order((action_items::due_on, action_items::id));
    if let Some((due, id)) = after {
        query = query.filter(
            action_items::due_on
                .gt(due)
                .or(action_items::due_on.eq(due).and(action_items::id.gt(id))),
        );
    }
    let rows: Vec<Row> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|r| {
            let key = (r.due_on, r.id);
            Ok((to_api(Some(caller), r)?, key))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, q: &ListActionItems) -> ApiResult<i64> {
    Ok(filtered(q).count().get_result(conn).await?)
}

/// The assignee exists (its district comes with an organisation) and the agenda item is on the meeting's agenda.
async fn check(conn: &mut AsyncPgConnection, input: &NewActionItem, agenda_len: usize) -> ApiResult<Option<String>> {
    let mut errors = Vec::new();
    let mut district = None;
    if let Some(org) = input.organisation_id {
        district = organisations::table
            .find(org)
            .select(organisations::district_ags)
            .first::<String>(conn)
            .await
            .optional()?;
        if district.is_none() {
            errors.push(FieldError::new(
                "/organisationId",
                "unknown_reference",
                MessageParams::detail(format!("no organisation {org}")),
            ));
        }
    }
    if let Some(c) = input.assignee_committee_id {
        let known: bool = diesel::select(diesel::dsl::exists(committees::table.find(c)))
            .get_result(conn)
            .await?;
        if !known {
            errors.push(FieldError::new(
                "/assigneeCommitteeId",
                "unknown_reference",
                MessageParams::detail(format!("no committee {c}")),
            ));
        }
    }
    if let Some(i) = input.agenda_index
        && usize::try_from(i).map_or(true, |i| i >= agenda_len)
    {
        errors.push(FieldError::new(
            "/agendaIndex",
            "unknown_reference",
            MessageParams::detail(format!("the meeting's agenda has {agenda_len} items")),
        ));
    }
    if errors.is_empty() {
        Ok(district)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The meeting's committee and the length of its agenda (404 without the meeting), the meeting row locked so that
/// its agenda does not change under the check.
async fn meeting_of(conn: &mut AsyncPgConnection, meeting: Uuid) -> ApiResult<(Uuid, usize)> {
    let (committee, agenda): (Uuid, serde_json::Value) = committee_meetings::table
        .find(meeting)
        .select((committee_meetings::committee_id, committee_meetings::agenda))
        .for_share()
        .first(conn)
        .await?;
    Ok((committee, agenda.as_array().map_or(0, Vec::len)))
}

/// Records a new action item of `meeting` with `action_item.created`.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    meeting: Uuid,
    input: NewActionItem,
) -> ApiResult<ActionItem> {
    let (committee, agenda_len) = meeting_of(conn, meeting).await?;
    let district = check(conn, &input, agenda_len).await?;
    let (Some(title), Some(assignee), Some(due_on)) = (input.title, input.assignee, input.due_on) else {
        return Err(ApiError::internal(
            "validated action item lacks title, assignee or due date",
        ));
    };
    let id = Uuid::now_v7();
    diesel::insert_into(action_items::table)
        .values((
            action_items::id.eq(id),
            action_items::meeting_id.eq(meeting),
            action_items::committee_id.eq(committee),
            action_items::agenda_index.eq(input.agenda_index),
            action_items::title.eq(title),
            action_items::description.eq(input.description),
            action_items::assignee.eq(assignee.as_str()),
            action_items::assignee_organisation_id.eq(input.organisation_id),
            action_items::assignee_committee_id.eq(input.assignee_committee_id),
            action_items::district_ags.eq(district),
            action_items::due_on.eq(due_on),
        ))
        .execute(conn)
        .await?;
    let item = find(conn, caller, id, false).await?;
    let change = Change::new(KIND, id, "create", "action_item.created", Audience::everyone())
        .states(None::<ItemStatus>, ItemStatus::Open);
    record(conn, caller, change, &item).await?;
    Ok(item)
}

/// The event carries the item without the actor's allowed actions (readers get their own from the endpoint).
async fn record(conn: &mut AsyncPgConnection, caller: &Caller, change: Change<'_>, item: &ActionItem) -> ApiResult<()> {
    let mut data = item.clone();
    data.allowed_actions = Vec::new();
    audit::record(conn, caller, change, &data).await
}

/// The one PATCH flow's step: while the item is open or in progress (409 `not_editable` after).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<ActionItem> {
    let current = find(conn, caller, id, true).await?;
    expected.check(current.version)?;
    if !matches!(current.status, ItemStatus::Open | ItemStatus::InProgress) {
        return Err(ApiError::conflict(
            "not_editable",
            MessageParams::detail(current.status),
        ));
    }
    let editable = NewActionItem {
        title: Some(current.title.clone()),
        description: current.description.clone(),
        agenda_index: current.agenda_index,
        assignee: Some(current.assignee),
        organisation_id: current.organisation_id,
        assignee_committee_id: current.assignee_committee_id,
        due_on: Some(current.due_on),
    };
    let Some((next, changed)) = crate::http::patch::merged(&editable, &patch, &[])? else {
        return Ok(current);
    };
    let (_, agenda_len) = meeting_of(conn, current.meeting_id).await?;
    // The agenda item is checked when the patch names another one (the meeting's agenda keeps the current one).
    let agenda_len = if next.agenda_index == current.agenda_index {
        usize::MAX
    } else {
        agenda_len
    };
    let district = check(conn, &next, agenda_len).await?;
    let (Some(title), Some(assignee), Some(due_on)) = (next.title, next.assignee, next.due_on) else {
        return Err(ApiError::internal(
            "validated action item lacks title, assignee or due date",
        ));
    };
    diesel::update(action_items::table.find(id))
        .set((
            action_items::title.eq(title),
            action_items::description.eq(next.description),
            action_items::agenda_index.eq(next.agenda_index),
            action_items::assignee.eq(assignee.as_str()),
            action_items::assignee_organisation_id.eq(next.organisation_id),
            action_items::assignee_committee_id.eq(next.assignee_committee_id),
            action_items::district_ags.eq(district),
            action_items::due_on.eq(due_on),
            action_items::version.eq(current.version + 1),
            action_items::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let item = find(conn, caller, id, false).await?;
    let change = Change::new(KIND, id, "update", "action_item.changed", Audience::everyone()).changed(changed);
    record(conn, caller, change, &item).await?;
    Ok(item)
}

/// What a transition carries.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub reason: Option<String>,
}

/// Moves an item through its lifecycle: row lock, the assignee check for municipalities (403), state, audit.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: ItemAction,
    expected: Option<Expected>,
    input: TransitionInput,
) -> ApiResult<ActionItem> {
    let current = find(conn, caller, id, true).await?;
    if !may_act(caller, current.organisation_id) {
        return Err(ApiError::Forbidden);
    }
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, action)?;
    let to = rule.target(current.status);
    diesel::update(action_items::table.find(id))
        .set((
            action_items::status.eq(to.as_str()),
            action_items::note.eq(input.reason.as_deref().or(current.note.as_deref())),
            action_items::version.eq(current.version + 1),
            action_items::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let item = find(conn, caller, id, false).await?;
    let change =
        Change::transition(KIND, id, rule, current.status, to, Audience::everyone()).reason(input.reason.as_deref());
    record(conn, caller, change, &item).await?;
    Ok(item)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

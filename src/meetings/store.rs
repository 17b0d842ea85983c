//! Recording a meeting's outcomes: the one PATCH step (row lock, version, references checked, audit).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::KIND;
use crate::audit::{self, Audience, Change, history};
use crate::committees::meetings::Meeting;
use crate::core::identity::Caller;
use crate::db::schema::{action_items, committee_meetings};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Expected;

/// Changes a meeting (JSON Merge Patch on its editable state): agenda with outcomes, attendance, date, title, place,
/// link; `committee_meeting.changed` to every role (meetings are read by all).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<Meeting> {
    let current = crate::committees::meeting(conn, id, true).await?;
    expected.check(current.version)?;
    let Some((next, changed)) = crate::http::patch::merged(&current.input(), &patch, &[])? else {
        return Ok(current);
    };
    crate::committees::check_meeting(conn, current.committee_id, &next, &current.attendance.member_ids).await?;
    // The action items name agenda items by position: the agenda keeps at least as many items.
    let highest: Option<i32> = action_items::table
        .filter(action_items::meeting_id.eq(id))
        .select(diesel::dsl::max(action_items::agenda_index))
        .first(conn)
        .await?;
    if let Some(h) = highest
        && usize::try_from(h).is_ok_and(|h| h >= next.agenda.len())
    {
        return Err(ApiError::Validation(vec![crate::error::FieldError::new(
            "/agenda",
            "invalid_value",
            crate::error::MessageParams::detail(format!("action items follow from agenda item {}", h + 1)),
        )]));
    }
    let (Some(date), Some(title)) = (next.date, next.title.clone()) else {
        return Err(ApiError::internal("validated meeting lacks date or title"));
    };
    diesel::update(committee_meetings::table.find(id))
        .set((
            committee_meetings::date.eq(date),
            committee_meetings::title.eq(title),
            committee_meetings::place.eq(&next.place),
            committee_meetings::link.eq(&next.link),
            committee_meetings::agenda.eq(serde_json::to_value(&next.agenda).map_err(ApiError::internal)?),
            committee_meetings::attendance
                .eq(serde_json::to_value(next.attendance.clone().unwrap_or_default()).map_err(ApiError::internal)?),
            committee_meetings::version.eq(current.version + 1),
            committee_meetings::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let meeting = crate::committees::meeting(conn, id, false).await?;
    let change = Change::new(KIND, id, "update", "committee_meeting.changed", Audience::everyone()).changed(changed);
    audit::record(conn, caller, change, &meeting).await?;
    Ok(meeting)
}

pub async fn history(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    crate::committees::meeting_exists(conn, id).await?;
    history::list(conn, KIND, id).await
}

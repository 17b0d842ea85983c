//! Database access for committees, their members and their meetings: every SQL statement on their tables, and the
//! audit record of every change in the change's transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::meetings::{Meeting, NewMeeting};
use super::members::{Member, NewMember};
use super::model::{Committee, CommitteeContact, CommitteeInput, CommitteeKind, Coverage, KIND};
use crate::audit::{self, Audience, Change, record};
use crate::core::identity::{Caller, Role};
use crate::db::schema::{committee_meetings, committee_members, committees, coordinators, districts, referrals};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

// ---- committees ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = committees)]
struct Row {
    id: Uuid,
    name: String,
    kind: String,
    owning_body: String,
    topics: Vec<String>,
    coverage: String,
    coverage_versorgungsgebiet: Option<String>,
    coverage_districts: Vec<String>,
    contact_name: Option<String>,
    contact_email: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Committee {
    type Error = ApiError;
    fn try_from(r: Row) -> ApiResult<Self> {
        Ok(Self {
            id: r.id,
            name: r.name,
            kind: r.kind.parse().map_err(ApiError::internal)?,
            owning_body: r.owning_body,
            topics: r.topics,
            coverage: Coverage {
                scope: r.coverage.parse().map_err(ApiError::internal)?,
                versorgungsgebiet: r.coverage_versorgungsgebiet,
                districts: (!r.coverage_districts.is_empty()).then_some(r.coverage_districts),
            },
            contact: CommitteeContact {
                name: r.contact_name,
                email: r.contact_email,
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The columns written by create and patch alike.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = committees, treat_none_as_null = true)]
struct Content<'a> {
    name: &'a str,
    kind: &'a str,
    owning_body: &'a str,
    topics: &'a [String],
    coverage: &'a str,
    coverage_versorgungsgebiet: Option<&'a str>,
    coverage_districts: Vec<String>,
    contact_name: Option<&'a str>,
    contact_email: Option<&'a str>,
}

fn content(input: &CommitteeInput) -> ApiResult<Content<'_>> {
    let (Some(name), Some(kind), Some(owner), Some(coverage)) =
        (&input.name, input.kind, &input.owning_body, &input.coverage)
    else {
        return Err(ApiError::internal("validated committee lacks a required field"));
    };
    Ok(Content {
        name,
        kind: kind.as_str(),
        owning_body: owner,
        topics: &input.topics,
        coverage: coverage.scope.as_str(),
        coverage_versorgungsgebiet: coverage.versorgungsgebiet.as_deref(),
        coverage_districts: coverage.districts.clone().unwrap_or_default(),
        contact_name: input.contact.name.as_deref(),
        contact_email: input.contact.email.as_deref(),
    })
}

/// The references of a coverage must exist.
async fn check_coverage(conn: &mut AsyncPgConnection, input: &CommitteeInput) -> ApiResult<()> {
    let Some(coverage) = &input.coverage else {
        return Ok(());
    };
    let mut errors = Vec::new();
    if let Some(vg) = &coverage.versorgungsgebiet {
        let known: bool = diesel::select(diesel::dsl::exists(
            districts::table.filter(districts::versorgungsgebiet.eq(vg)),
        ))
        .get_result(conn)
        .await?;
        if !known {
            errors.push(FieldError::new(
                "/coverage/versorgungsgebiet",
                "unknown_reference",
                MessageParams::detail(vg),
            ));
        }
    }
    for (i, d) in coverage.districts.iter().flatten().enumerate() {
        let known: bool = diesel::select(diesel::dsl::exists(districts::table.find(d)))
            .get_result(conn)
            .await?;
        if !known {
            errors.push(FieldError::new(
                format!("/coverage/districts/{i}"),
                "unknown_reference",
                MessageParams::detail(d),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<Committee> {
    committees::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await?
        .try_into()
}

/// What a list of committees is filtered by.
pub struct Filter {
    pub kind: Option<CommitteeKind>,
    /// Case-insensitive part of the name.
    pub q: Option<String>,
    pub topic: Option<String>,
    /// A district (AGS) the committee's coverage includes: all of Hessen, its Versorgungsgebiet, or listed.
    pub covers: Option<String>,
}

/// `q.topic` with its sub-topics, for the filter.
async fn topic_codes(conn: &mut AsyncPgConnection, q: &Filter) -> ApiResult<Option<Vec<String>>> {
    Ok(match &q.topic {
        Some(t) => Some(crate::vocabulary::with_descendants(conn, t).await?),
        None => None,
    })
}

fn filtered(q: &Filter, topics: Option<Vec<String>>) -> committees::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = committees::table.into_boxed();
    if let Some(k) = q.kind {
        query = query.filter(committees::kind.eq(k.as_str()));
    }
    if let Some(text) = &q.q {
        query = query.filter(committees::name.ilike(crate::core::types::like_pattern(text)));
    }
    if let Some(codes) = topics {
        query = query.filter(committees::topics.overlaps_with(codes));
    }
    if let Some(d) = &q.covers {
        use diesel::sql_types::{Bool, Text};
        query = query.filter(
            diesel::dsl::sql::<Bool>(
                "(committees.coverage = 'hessen' OR committees.coverage_versorgungsgebiet = \
                 (SELECT versorgungsgebiet FROM districts WHERE ags = ",
            )
            .bind::<Text, _>(d.clone())
            .sql(") OR ")
            .bind::<Text, _>(d.clone())
            .sql(" = ANY (committees.coverage_districts))"),
        );
    }
    query
}

/// Up to `limit` matching committees after the key `after`, in id order, each with its key.
pub async fn list(
    conn: &mut AsyncPgConnection,
    q: &Filter,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(Committee, Uuid)>> {
    let topics = topic_codes(conn, q).await?;
    let mut query = filtered(q, topics).select(Row::as_select()).order(committees::id.asc());
    if let Some(after) = after {
        query = query.filter(committees::id.gt(after));
    }
    let rows: Vec<Row> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|r| {
            let id = r.id;
            Ok((Committee::try_from(r)?, id))
        })
        .collect::<ApiResult<Vec<_>>>()
}

/// The number of all matching committees.
pub async fn count(conn: &mut AsyncPgConnection, q: &Filter) -> ApiResult<i64> {
    let topics = topic_codes(conn, q).await?;
    Ok(filtered(q, topics).count().get_result(conn).await?)
}

/// Writes a new committee and records `committee.created`.
pub async fn create(conn: &mut AsyncPgConnection, caller: &Caller, input: &CommitteeInput) -> ApiResult<Committee> {
    check_coverage(conn, input).await?;
    crate::vocabulary::check(conn, &input.topics, "/topics", &[]).await?;
    let id: Uuid = diesel::insert_into(committees::table)
        .values(content(input)?)
        .returning(committees::id)
        .get_result(conn)
        .await?;
    let c = find(conn, id).await?;
    record(
        conn,
        caller,
        Change::new(KIND, id, "create", "committee.created", Audience::everyone()),
        &c,
    )
    .await?;
    Ok(c)
}

/// The one PATCH flow's step: the row under a lock, the expected version, the merged and validated state, the
/// write and the audit. A patch that changes nothing writes nothing and returns the committee as it is.
pub async fn apply_patch(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<Committee> {
    committees::table
        .find(id)
        .select(committees::id)
        .for_update()
        .first::<Uuid>(conn)
        .await?;
    let current = find(conn, id).await?;
    expected.check(current.version)?;
    let Some((input, changed)) = crate::http::patch::merged(&current.input(), &patch, &[])? else {
        return Ok(current);
    };
    check_coverage(conn, &input).await?;
    crate::vocabulary::check(conn, &input.topics, "/topics", &current.topics).await?;
    diesel::update(committees::table.find(id))
        .set((
            content(&input)?,
            committees::version.eq(current.version + 1),
            committees::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let c = find(conn, id).await?;
    let change = Change::new(KIND, id, "update", "committee.changed", Audience::everyone()).changed(changed);
    record(conn, caller, change, &c).await?;
    Ok(c)
}

/// Deletes a committee (its members and meetings go with it, and the meetings' files) and records
/// `committee.deleted`. Returns the storage keys of the files, whose content goes after the commit.
pub async fn delete(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<String>> {
    let meetings: Vec<Uuid> = committee_meetings::table
        .filter(committee_meetings::committee_id.eq(id))
        .select(committee_meetings::id)
        .load(conn)
        .await?;
    let mut keys = Vec::new();
    for meeting in meetings {
        crate::db::lock_row(conn, "committee_meetings", meeting).await?;
        let kind = crate::files::model::OwnerKind::CommitteeMeeting;
        keys.extend(crate::files::store::delete_all_of(conn, caller, kind, meeting, &Audience::everyone()).await?);
    }
    let deleted = diesel::delete(committees::table.find(id)).execute(conn).await?;
    if deleted == 0 {
        return Err(ApiError::NotFound);
    }
    let change = Change::new(KIND, id, "delete", "committee.deleted", Audience::everyone());
    record(conn, caller, change, &serde_json::json!({"id": id})).await?;
    Ok(keys)
}

/// Emits `committee.created` with the committee as it is now (the feed's backfill of seeded rows).
pub async fn snapshot(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<()> {
    let c = find(conn, id).await?;
    audit::backfill(conn, KIND, id, "committee.created", Audience::everyone(), &c).await
}

// ---- members ----

type MemberRow = (
    Uuid,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    Option<String>,
);

pub async fn members(conn: &mut AsyncPgConnection, caller: &Caller, committee: Uuid) -> ApiResult<Vec<Member>> {
    let rows: Vec<MemberRow> = committee_members::table
        .left_join(coordinators::table)
        .filter(committee_members::committee_id.eq(committee))
        .order(committee_members::id.asc())
        .limit(crate::http::pagination::MAX_UNPAGED)
        .select((
            committee_members::id,
            committee_members::coordinator_id,
            committee_members::external_name,
            committee_members::external_organisation,
            committee_members::external_email,
            committee_members::role,
            committee_members::created_at,
            coordinators::name.nullable(),
        ))
        .load(conn)
        .await?;
    let staff = matches!(caller.role, Role::ServiceUnit | Role::Ministry);
    Ok(rows
        .into_iter()
        .map(
            |(id, coordinator_id, ext_name, org, email, role, created_at, coord_name)| Member {
                id,
                coordinator_id,
                name: if coordinator_id.is_some() { coord_name } else { ext_name },
                organisation: org,
                email: email.filter(|_| staff),
                role,
                created_at,
            },
        )
        .collect())
}

/// Adds a member to an existing committee, records `committee.member_added`, and returns the members after it.
pub async fn add_member(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    committee: Uuid,
    m: &NewMember,
) -> ApiResult<Vec<Member>> {
    find(conn, committee).await?;
    if let Some(c) = m.coordinator_id {
        let known: bool = diesel::select(diesel::dsl::exists(coordinators::table.find(c)))
            .get_result(conn)
            .await?;
        if !known {
            return Err(ApiError::Validation(vec![FieldError::new(
                "/coordinatorId",
                "unknown_reference",
                MessageParams::detail(c),
            )]));
        }
    }
    diesel::insert_into(committee_members::table)
        .values((
            committee_members::committee_id.eq(committee),
            committee_members::coordinator_id.eq(m.coordinator_id),
            committee_members::external_name.eq(&m.name),
            committee_members::external_organisation.eq(&m.organisation),
            committee_members::external_email.eq(&m.email),
            committee_members::role.eq(&m.role),
        ))
        .execute(conn)
        .await?;
    // Member events carry ids only: names and e-mails are personal data the feed need not spread.
    let data = serde_json::json!({"committeeId": committee, "coordinatorId": m.coordinator_id});
    let change = Change::new(
        KIND,
        committee,
        "add-member",
        "committee.member_added",
        Audience::everyone(),
    )
    .changed(vec!["/members".into()]);
    record(conn, caller, change, &data).await?;
    members(conn, caller, committee).await
}

/// Removes a member of a committee (404 when the committee has no such member) and records
/// `committee.member_removed`.
pub async fn remove_member(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    committee: Uuid,
    member: Uuid,
) -> ApiResult<()> {
    let deleted = diesel::delete(
        committee_members::table
            .filter(committee_members::id.eq(member))
            .filter(committee_members::committee_id.eq(committee)),
    )
    .execute(conn)
    .await?;
    if deleted == 0 {
        return Err(ApiError::NotFound);
    }
    let data = serde_json::json!({"committeeId": committee, "memberId": member});
    let change = Change::new(
        KIND,
        committee,
        "remove-member",
        "committee.member_removed",
        Audience::everyone(),
    )
    .changed(vec!["/members".into()]);
    record(conn, caller, change, &data).await
}

// ---- meetings ----

type MeetingRow = (
    Uuid,
    Uuid,
    NaiveDate,
    String,
    Option<String>,
    Option<String>,
    serde_json::Value,
    serde_json::Value,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// The columns of [`MeetingRow`].
const MEETING_COLUMNS: (
    committee_meetings::id,
    committee_meetings::committee_id,
    committee_meetings::date,
    committee_meetings::title,
    committee_meetings::place,
    committee_meetings::link,
    committee_meetings::agenda,
    committee_meetings::attendance,
    committee_meetings::version,
    committee_meetings::created_at,
    committee_meetings::updated_at,
) = (
    committee_meetings::id,
    committee_meetings::committee_id,
    committee_meetings::date,
    committee_meetings::title,
    committee_meetings::place,
    committee_meetings::link,
    committee_meetings::agenda,
    committee_meetings::attendance,
    committee_meetings::version,
    committee_meetings::created_at,
    committee_meetings::updated_at,
);

fn to_meeting(row: MeetingRow) -> ApiResult<Meeting> {
    let (id, committee_id, date, title, place, link, agenda, attendance, version, created_at, updated_at) = row;
    Ok(Meeting {
        id,
        committee_id,
        date,
        title,
        place,
        link,
        agenda: serde_json::from_value(agenda).map_err(ApiError::internal)?,
        attendance: serde_json::from_value(attendance).map_err(ApiError::internal)?,
        version,
        created_at,
        updated_at,
    })
}

/// One meeting (every role reads meetings), locked for a change with `lock`.
pub async fn meeting(conn: &mut AsyncPgConnection, id: Uuid, lock: bool) -> ApiResult<Meeting> {
    let query = committee_meetings::table.find(id).select(MEETING_COLUMNS);
    let row: MeetingRow = if lock {
        query.for_update().first(conn).await?
    } else {
        query.first(conn).await?
    };
    to_meeting(row)
}

/// 404 unless the meeting exists (every role reads meetings).
pub async fn meeting_exists(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<()> {
    committee_meetings::table
        .find(id)
        .select(committee_meetings::id)
        .first::<Uuid>(conn)
        .await?;
    Ok(())
}

pub async fn meetings(conn: &mut AsyncPgConnection, committee: Uuid) -> ApiResult<Vec<Meeting>> {
    let rows: Vec<MeetingRow> = committee_meetings::table
        .filter(committee_meetings::committee_id.eq(committee))
        .order((committee_meetings::date.asc(), committee_meetings::id.asc()))
        .limit(crate::http::pagination::MAX_UNPAGED)
        .select(MEETING_COLUMNS)
        .load(conn)
        .await?;
    rows.into_iter().map(to_meeting).collect()
}

/// What a meeting's agenda and attendance name must exist: referrals, and members of the meeting's committee (or
/// members recorded before, `kept`).
pub async fn check_meeting(
    conn: &mut AsyncPgConnection,
    committee: Uuid,
    m: &NewMeeting,
    kept: &[Uuid],
) -> ApiResult<()> {
    let mut errors = Vec::new();
    for (i, item) in m.agenda.iter().enumerate() {
        if let Some(r) = item.referral_id {
            let known: bool = diesel::select(diesel::dsl::exists(referrals::table.find(r)))
                .get_result(conn)
                .await?;
            if !known {
                errors.push(FieldError::new(
                    format!("/agenda/{i}/referralId"),
                    "unknown_reference",
                    MessageParams::detail(r),
                ));
            }
        }
    }
    if let Some(a) = &m.attendance {
        let members: Vec<Uuid> = committee_members::table
            .filter(committee_members::committee_id.eq(committee))
            .filter(committee_members::id.eq_any(&a.member_ids))
            .select(committee_members::id)
            .load(conn)
            .await?;
        for (i, id) in a.member_ids.iter().enumerate() {
            // A member recorded before stays recorded, even after leaving the committee.
            if !members.contains(id) && !kept.contains(id) {
                errors.push(FieldError::new(
                    format!("/attendance/memberIds/{i}"),
                    "unknown_reference",
                    MessageParams::detail(format!("no member {id} of this committee")),
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

/// Records a meeting of an existing committee (the referrals its agenda names must exist) and
/// `committee.meeting_recorded`.
pub async fn add_meeting(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    committee: Uuid,
    m: &NewMeeting,
) -> ApiResult<Meeting> {
    find(conn, committee).await?;
    check_meeting(conn, committee, m, &[]).await?;
    let meeting_id: Uuid = diesel::insert_into(committee_meetings::table)
        .values((
            committee_meetings::committee_id.eq(committee),
            committee_meetings::date.eq(m.date.unwrap_or_default()),
            committee_meetings::title.eq(m.title.clone().unwrap_or_default()),
            committee_meetings::place.eq(&m.place),
            committee_meetings::link.eq(&m.link),
            committee_meetings::agenda.eq(serde_json::to_value(&m.agenda).map_err(ApiError::internal)?),
            committee_meetings::attendance
                .eq(serde_json::to_value(m.attendance.clone().unwrap_or_default()).map_err(ApiError::internal)?),
        ))
        .returning(committee_meetings::id)
        .get_result(conn)
        .await?;
    let created = meeting(conn, meeting_id, false).await?;
    let change = Change::new(
        KIND,
        committee,
        "add-meeting",
        "committee.meeting_recorded",
        Audience::everyone(),
    )
    .changed(vec!["/meetings".into()]);
    record(conn, caller, change, &created).await?;
    Ok(created)
}

/// Every committee that carries topic `from` carries `into` instead (a merge of topics), each with its history entry
/// and `committee.changed`, in the caller's transaction.
pub async fn replace_topic(conn: &mut AsyncPgConnection, caller: &Caller, from: &str, into: &str) -> ApiResult<()> {
    for id in crate::vocabulary::replace_in(conn, "committees", from, into).await? {
        let c = find(conn, id).await?;
        let change =
            Change::new(KIND, id, "update", "committee.changed", Audience::everyone()).changed(vec!["/topics".into()]);
        record(conn, caller, change, &c).await?;
    }
    Ok(())
}

//! Every SQL statement on consultations. Visibility is applied here: staff read every consultation, a municipality
//! its own organisation's, without the internal notes and the author.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::{Caller, Role};
use crate::db::schema::{applications, consultations, organisations, referrals};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Queryable, Selectable)]
#[diesel(table_name = consultations, check_for_backend(diesel::pg::Pg))]
struct Row {
    id: Uuid,
    organisation_id: Uuid,
    district_ags: String,
    held_on: NaiveDate,
    channel: String,
    topics: Vec<String>,
    summary: String,
    internal_notes: String,
    follow_ups: serde_json::Value,
    referral_ids: Vec<Uuid>,
    application_ids: Vec<Uuid>,
    author: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn is_staff(caller: &Caller) -> bool {
    matches!(caller.role, Role::ServiceUnit | Role::Ministry)
}

fn to_api(caller: &Caller, r: Row) -> ApiResult<Consultation> {
    let staff = is_staff(caller);
    Ok(Consultation {
        id: r.id,
        organisation_id: r.organisation_id,
        district: r.district_ags,
        held_on: r.held_on,
        channel: r.channel.parse().map_err(ApiError::internal)?,
        topics: r.topics,
        summary: r.summary,
        // The service unit's working notes are not the municipality's to read.
        internal_notes: staff.then_some(r.internal_notes),
        follow_ups: serde_json::from_value(r.follow_ups).map_err(ApiError::internal)?,
        referral_ids: r.referral_ids,
        application_ids: r.application_ids,
        author: staff.then_some(r.author),
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// What the caller may read: a municipality its own organisation's consultations.
fn visible(caller: &Caller) -> ApiResult<consultations::BoxedQuery<'static, diesel::pg::Pg>> {
    let mut query = consultations::table.into_boxed();
    if let Some(org) = caller.confined_to()? {
        query = query.filter(consultations::organisation_id.eq(org));
    }
    Ok(query)
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<Consultation> {
    if lock {
        crate::db::lock_row(conn, "consultations", id).await?;
    }
    let row: Row = visible(caller)?
        .filter(consultations::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await?;
    to_api(caller, row)
}

/// The page key: the day held (newest first), then the id (newest first).
pub type Key = (NaiveDate, Uuid);

async fn filtered(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListConsultations,
) -> ApiResult<consultations::BoxedQuery<'static, diesel::pg::Pg>> {
    let mut query = visible(caller)?;
    if let Some(o) = q.organisation {
        query = query.filter(consultations::organisation_id.eq(o));
    }
    if let Some(d) = &q.district {
        query = query.filter(consultations::district_ags.eq(d.clone()));
    }
    if let Some(t) = &q.topic {
        let codes = crate::vocabulary::with_descendants(conn, t).await?;
        query = query.filter(consultations::topics.overlaps_with(codes));
    }
    if let Some(c) = q.channel {
        query = query.filter(consultations::channel.eq(c.as_str()));
    }
    if let Some(d) = q.held_from {
        query = query.filter(consultations::held_on.ge(d));
    }
    Ok(query)
}

/// A page of consultations, newest first.
pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListConsultations,
    after: Option<Key>,
    limit: i64,
) -> ApiResult<Vec<(Consultation, Key)>> {
    let mut query = filtered(conn, caller, q)
        .await?
        .select(Row::as_select())
        .order((consultations::held_on.desc(), consultations::id.desc()));
    if let Some((held, id)) = after {
        query = query.filter(
            consultations::held_on
                .lt(held)
                .or(consultations::held_on.eq(held).and(consultations::id.lt(id))),
        );
    }
    let rows: Vec<Row> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|r| {
            let key = (r.held_on, r.id);
            Ok((to_api(caller, r)?, key))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListConsultations) -> ApiResult<i64> {
    Ok(filtered(conn, caller, q).await?.count().get_result(conn).await?)
}

/// The organisation exists (its district is returned), topics are active (or kept), referrals exist, and the
/// applications are the organisation's own (so the municipality reading the consultation may read them too).
async fn check(conn: &mut AsyncPgConnection, input: &ConsultationInput, kept: &[String]) -> ApiResult<String> {
    let mut errors = Vec::new();
    let org = input.organisation_id.unwrap_or_default();
    let district: Option<String> = organisations::table
        .find(org)
        .select(organisations::district_ags)
        .first(conn)
        .await
        .optional()?;
    if district.is_none() {
        errors.push(FieldError::new(
            "/organisationId",
            "unknown_reference",
            MessageParams::detail(format!("no organisation {org}")),
        ));
    }
    match crate::vocabulary::check(conn, &input.topics, "/topics", kept).await {
        Err(ApiError::Validation(unknown)) => errors.extend(unknown),
        other => other?,
    }
    let known: Vec<Uuid> = referrals::table
        .filter(referrals::id.eq_any(&input.referral_ids))
        .select(referrals::id)
        .load(conn)
        .await?;
    for (i, id) in input.referral_ids.iter().enumerate() {
        if !known.contains(id) {
            errors.push(FieldError::new(
                format!("/referralIds/{i}"),
                "unknown_reference",
                MessageParams::detail(format!("no referral {id}")),
            ));
        }
    }
    let own: Vec<Uuid> = applications::table
        .filter(applications::id.eq_any(&input.application_ids))
        .filter(applications::organisation_id.eq(org))
        .select(applications::id)
        .load(conn)
        .await?;
    for (i, id) in input.application_ids.iter().enumerate() {
        if !own.contains(id) {
            errors.push(FieldError::new(
                format!("/applicationIds/{i}"),
                "unknown_reference",
                MessageParams::detail(format!("no application {id} of the organisation")),
            ));
        }
    }
    match (errors.is_empty(), district) {
        (true, Some(d)) => Ok(d),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// Records a change for staff and the organisation (the feed hides the internal notes from the municipality).
async fn record(conn: &mut AsyncPgConnection, caller: &Caller, change: Change<'_>, c: &Consultation) -> ApiResult<()> {
    let mut change = change;
    change.audience = Audience::organisation(c.organisation_id);
    audit::record(conn, caller, change, c).await
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    input: ConsultationInput,
) -> ApiResult<Consultation> {
    let district = check(conn, &input, &[]).await?;
    let (Some(org), Some(held_on), Some(channel), Some(summary)) =
        (input.organisation_id, input.held_on, input.channel, input.summary)
    else {
        return Err(ApiError::internal("validated consultation lacks a required field"));
    };
    let id = Uuid::now_v7();
    diesel::insert_into(consultations::table)
        .values((
            consultations::id.eq(id),
            consultations::organisation_id.eq(org),
            consultations::district_ags.eq(district),
            consultations::held_on.eq(held_on),
            consultations::channel.eq(channel.as_str()),
            consultations::topics.eq(input.topics),
            consultations::summary.eq(summary),
            consultations::internal_notes.eq(input.internal_notes),
            consultations::follow_ups.eq(serde_json::to_value(&input.follow_ups).map_err(ApiError::internal)?),
            consultations::referral_ids.eq(input.referral_ids),
            consultations::application_ids.eq(input.application_ids),
            consultations::author.eq(&caller.sub),
        ))
        .execute(conn)
        .await?;
    let c = find(conn, caller, id, false).await?;
    record(
        conn,
        caller,
        Change::new(KIND, id, "create", "consultation.created", Audience::staff()),
        &c,
    )
    .await?;
    Ok(c)
}

/// The one PATCH flow's step; the organisation a consultation was held with does not change (400 `unknown_field`).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<Consultation> {
    let current = find(conn, caller, id, true).await?;
    expected.check(current.version)?;
    let editable = ConsultationInput {
        organisation_id: Some(current.organisation_id),
        held_on: Some(current.held_on),
        channel: Some(current.channel),
        topics: current.topics.clone(),
        summary: Some(current.summary.clone()),
        internal_notes: current.internal_notes.clone().unwrap_or_default(),
        follow_ups: current.follow_ups.clone(),
        referral_ids: current.referral_ids.clone(),
        application_ids: current.application_ids.clone(),
    };
    let Some((next, changed)) = crate::http::patch::merged(&editable, &patch, &["organisationId"])? else {
        return Ok(current);
    };
    check(conn, &next, &current.topics).await?;
    let (Some(held_on), Some(channel), Some(summary)) = (next.held_on, next.channel, next.summary) else {
        return Err(ApiError::internal("validated consultation lacks a required field"));
    };
    diesel::update(consultations::table.find(id))
        .set((
            consultations::held_on.eq(held_on),
            consultations::channel.eq(channel.as_str()),
            consultations::topics.eq(next.topics),
            consultations::summary.eq(summary),
            consultations::internal_notes.eq(next.internal_notes),
            consultations::follow_ups.eq(serde_json::to_value(&next.follow_ups).map_err(ApiError::internal)?),
            consultations::referral_ids.eq(next.referral_ids),
            consultations::application_ids.eq(next.application_ids),
            consultations::version.eq(current.version + 1),
            consultations::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let c = find(conn, caller, id, false).await?;
    // A change of the internal notes alone is not news to the municipality (its view did not change).
    let internal_only = changed.iter().all(|p| p == "/internalNotes");
    let change = Change::new(KIND, id, "update", "consultation.changed", Audience::staff()).changed(changed);
    if internal_only {
        audit::record(conn, caller, change, &c).await?;
    } else {
        record(conn, caller, change, &c).await?;
    }
    Ok(c)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

/// Every consultation that carries topic `from` carries `into` instead (a merge of topics), each with its history
/// entry and event, in the caller's transaction.
pub async fn replace_topic(conn: &mut AsyncPgConnection, caller: &Caller, from: &str, into: &str) -> ApiResult<()> {
    for id in crate::vocabulary::replace_in(conn, "consultations", from, into).await? {
        let c = find(conn, caller, id, false).await?;
        let change =
            Change::new(KIND, id, "update", "consultation.changed", Audience::staff()).changed(vec!["/topics".into()]);
        record(conn, caller, change, &c).await?;
    }
    Ok(())
}

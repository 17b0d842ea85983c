//! Reading the obligations view, and the reminders: which duty reached which stage today, recorded once per stage
//! (the primary key) and announced in the feed in the same transaction.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change};
use crate::core::identity::Caller;
use crate::db::schema::{obligation_reminders, obligations};
use crate::error::{ApiError, ApiResult};

/// The page key: due date, resource, duty.
pub type Key = (NaiveDate, Uuid, String);

fn href(kind: &str, id: Uuid) -> String {
    let segment = match kind {
        "proof_of_use" => "proofs-of-use",
        "payment_request" => "payment-requests",
        "recovery_claim" => "recovery-claims",
        "change_request" => "change-requests",
        "early_start_consent" => "early-start-consents",
        "action_item" => "action-items",
        "knowledge_entry" => "knowledge-entries",
        _ => "grant-notices",
    };
    format!("/api/v1/{segment}/{id}")
}

fn to_api(row: DutyRow, today: NaiveDate, soon: i64) -> ApiResult<Obligation> {
    let DutyRow {
        duty,
        resource_kind: kind,
        resource_id: id,
        organisation_id: org,
        district_ags: district,
        due_on,
        party,
    } = row;
    let days_left = (due_on - today).num_days();
    Ok(Obligation {
        duty: duty.parse().map_err(ApiError::internal)?,
        href: href(&kind, id),
        resource_kind: kind,
        resource_id: id,
        organisation_id: org,
        district,
        party: party.parse().map_err(ApiError::internal)?,
        due_on,
        days_left,
        state: if days_left < 0 {
            DueState::Overdue
        } else if days_left <= soon {
            DueState::DueSoon
        } else {
            DueState::Open
        },
    })
}

/// The duties still open on `today`: a notice's objection period ends by the service's calendar day (which a test or
/// training environment may pin), so the view lists it and this filter drops it once it has passed.
fn live(today: NaiveDate) -> obligations::BoxedQuery<'static, diesel::pg::Pg> {
    obligations::table.into_boxed().filter(
        obligations::duty
            .ne(Duty::ObjectionPeriod.as_str())
            .or(obligations::due_on.ge(today)),
    )
}

fn filtered(
    caller: &Caller,
    q: &ListObligations,
    today: NaiveDate,
) -> ApiResult<obligations::BoxedQuery<'static, diesel::pg::Pg>> {
    let mut query = live(today);
    if let Some(org) = caller.confined_to()? {
        query = query.filter(obligations::organisation_id.eq(org));
    }
    if let Some(d) = q.duty {
        query = query.filter(obligations::duty.eq(d.as_str()));
    }
    if let Some(p) = q.party {
        query = query.filter(obligations::party.eq(p.as_str()));
    }
    if let Some(d) = q.due_before {
        query = query.filter(obligations::due_on.le(d));
    }
    match q.overdue {
        Some(true) => query = query.filter(obligations::due_on.lt(today)),
        Some(false) => query = query.filter(obligations::due_on.ge(today)),
        None => {}
    }
    Ok(query)
}

/// The view of one duty (migration 000040); `obligations` is their union.
fn view(duty: Duty) -> &'static str {
    match duty {
        Duty::ProofSubmit => "obligations_proof_submit",
        Duty::PaymentSignOff => "obligations_payment_sign_off",
        Duty::ObjectionPeriod => "obligations_objection_period",
        Duty::Hearing => "obligations_hearing",
        Duty::ChangeDecision => "obligations_change_decision",
        Duty::Repayment => "obligations_repayment",
        Duty::EarlyStartDecision => "obligations_early_start_decision",
        Duty::ActionItem => "obligations_action_item",
        Duty::KnowledgeReview => "obligations_knowledge_review",
    }
}

#[derive(QueryableByName)]
struct DutyRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    duty: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    resource_kind: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    resource_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    organisation_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    district_ags: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Date)]
    due_on: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Text)]
    party: String,
}

/// The first `limit` rows of one duty's view after `after`, in page order, or `None` when the filters leave it no
/// row. The text varies only with which filters are present (at most 24 texts per duty: organisation, party, upper
/// bound, and no, an inclusive or an exclusive lower bound), so it is prepared once per connection; every bound is a row comparison on the view's index (due date, id).
fn duty_page(
    duty: Duty,
    org: Option<Uuid>,
    q: &ListObligations,
    today: NaiveDate,
    after: Option<&Key>,
    limit: i64,
) -> Option<diesel::query_builder::BoxedSqlQuery<'static, diesel::pg::Pg, diesel::query_builder::SqlQuery>> {
    use diesel::sql_types::{BigInt, Date, Text, Uuid as SqlUuid};
    use std::fmt::Write;
    // The lowest row: the first open day where overdue ones are excluded (and for an objection period, which ends
    // by the calendar day), else the cursor's row when that comes later.
    let open_from = (q.overdue == Some(false) || duty == Duty::ObjectionPeriod).then_some(today);
    let mut from = open_from.map(|day| (day, Uuid::nil(), true));
    if let Some((due, id, after_duty)) = after {
        // Rows tie on (due date, id) only across duties: a later duty's row with the cursor's date and id comes next.
        let inclusive = duty.as_str() > after_duty.as_str();
        if from.is_none_or(|(day, nil, _)| (*due, *id) >= (day, nil)) {
            from = Some((*due, *id, inclusive));
        }
    }
    let overdue_until = (q.overdue == Some(true)).then(|| today - chrono::Days::new(1));
    let until = match (q.due_before, overdue_until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let (Some(until), Some((day, _, _))) = (until, from)
        && until < day
    {
        return None;
    }
    let mut sql = format!(
        "SELECT duty, resource_kind, resource_id, organisation_id, district_ags, due_on, party FROM \"{}\" WHERE true",
        view(duty)
    );
    let mut n = 0;
    let mut param = || {
        n += 1;
        n
    };
    // Writing to a String cannot fail.
    if org.is_some() {
        let _ = write!(sql, " AND organisation_id = ${}", param());
    }
    if q.party.is_some() {
        // A constant in most duties' views: PostgreSQL tests it once per execution, not per row.
        let _ = write!(sql, " AND party = ${}", param());
    }
    if until.is_some() {
        let _ = write!(sql, " AND due_on <= ${}", param());
    }
    if let Some((_, _, inclusive)) = from {
        let op = if inclusive { ">=" } else { ">" };
        let _ = write!(sql, " AND (due_on, resource_id) {op} (${}, ${})", param(), param());
    }
    let _ = write!(sql, " ORDER BY due_on, resource_id LIMIT ${}", param());
    let mut query = diesel::sql_query(sql).into_boxed();
    if let Some(org) = org {
        query = query.bind::<SqlUuid, _>(org);
    }
    if let Some(party) = q.party {
        query = query.bind::<Text, _>(party.as_str());
    }
    if let Some(until) = until {
        query = query.bind::<Date, _>(until);
    }
    if let Some((day, id, _)) = from {
        query = query.bind::<Date, _>(day).bind::<SqlUuid, _>(id);
    }
    Some(query.bind::<BigInt, _>(limit))
}

/// A page of the caller's open duties, soonest first (a municipality: its organisation's).
///
/// Each duty's view is read by its own index and the pages are merged here: PostgreSQL sorted the whole union
/// for every page (591 ms at a million applications, docs/performance.md S7). The statements go out pipelined, one
/// round trip.
pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListObligations,
    after: Option<Key>,
    limit: i64,
    soon: i64,
) -> ApiResult<Vec<(Obligation, Key)>> {
    use crate::db::cached::CachedDsl;
    let today = crate::core::time::today_in_hessen();
    let org = caller.confined_to()?;
    let queries: Vec<_> = Duty::ALL
        .iter()
        .filter(|d| q.duty.is_none_or(|wanted| wanted == **d))
        .filter_map(|d| duty_page(*d, org, q, today, after.as_ref(), limit))
        .collect();
    let shared: &AsyncPgConnection = conn;
    let loads = queries.into_iter().map(|query| async move {
        let mut conn = shared;
        query.cached().load::<DutyRow>(&mut conn).await
    });
    let mut rows: Vec<DutyRow> = futures_util::future::try_join_all(loads)
        .await?
        .into_iter()
        .flatten()
        .collect();
    rows.sort_by(|a, b| (a.due_on, a.resource_id, &a.duty).cmp(&(b.due_on, b.resource_id, &b.duty)));
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    rows.into_iter()
        .map(|r| {
            let key = (r.due_on, r.resource_id, r.duty.clone());
            Ok((to_api(r, today, soon)?, key))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListObligations) -> ApiResult<i64> {
    let today = crate::core::time::today_in_hessen();
    Ok(filtered(caller, q, today)?.count().get_result(conn).await?)
}

/// The advisory lock that lets one instance at a time send reminders (the others skip the round).
const REMINDER_LOCK: i64 = 47_112_028;

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// How many duties one transaction of a reminder round handles: a database with many duties already due (a first
/// start, or the days after an outage) is worked off in commits of this size, so that the feed and the other
/// instances see progress and no transaction holds thousands of events.
const REMINDER_BATCH: i64 = 500;

/// A duty whose current stage has not been announced yet, with that stage: `overdue` after its due date, else
/// `due_soon:<lead>` for the tightest lead time it falls in.
#[derive(QueryableByName)]
struct Unannounced {
    #[diesel(embed)]
    duty: DutyRow,
    #[diesel(sql_type = diesel::sql_types::Text)]
    stage: String,
}

/// One round of reminders as of `today`: each duty due within a lead time (`leads`, in days) gets
/// `obligation.due_soon` once for the tightest lead it falls in, and `obligation.overdue` once after its due date.
/// Worked off in transactions of [`REMINDER_BATCH`] duties; another instance running the round at the same time skips
/// it; the reminder table's key makes each stage happen once even so. Returns how many reminders were sent.
pub async fn remind(conn: &mut AsyncPgConnection, today: NaiveDate, leads: &[i64]) -> ApiResult<usize> {
    remind_in_batches(conn, today, leads, REMINDER_BATCH).await
}

/// [`remind`] in transactions of `batch` duties each (tests use small batches to see the round resume).
pub async fn remind_in_batches(
    conn: &mut AsyncPgConnection,
    today: NaiveDate,
    leads: &[i64],
    batch: i64,
) -> ApiResult<usize> {
    let batch = batch.max(1);
    let mut sent = 0;
    let mut after = None;
    loop {
        let (done, seen, last) = remind_batch(conn, today, leads, batch, after).await?;
        sent += done;
        if seen < batch {
            return Ok(sent);
        }
        // The next batch goes on after the last duty this one took up, instead of reading the announced ones again.
        after = last;
    }
}

/// One transaction of [`remind`]: returns the reminders sent and how many unannounced duties it took up (fewer than
/// `batch`: the round is done).
async fn remind_batch(
    conn: &mut AsyncPgConnection,
    today: NaiveDate,
    leads: &[i64],
    batch: i64,
    after: Option<Key>,
) -> ApiResult<(usize, i64, Option<Key>)> {
    use diesel::sql_types::{Array, BigInt, Date};
    let leads = std::rc::Rc::new(leads.to_vec());
    let widest = leads.iter().max().copied().unwrap_or(0);
    crate::db::transaction(conn, async |conn| {
        let lock: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<BigInt, _>(REMINDER_LOCK)
            .get_result(conn)
            .await?;
        if !lock.locked {
            return Ok((0, 0, None));
        }
        let horizon = today + chrono::Days::new(u64::try_from(widest).unwrap_or(0));
        // The stage is computed here, once, so that the duties already announced at their stage are skipped and
        // each batch takes up new ones.
        let rows: Vec<Unannounced> = diesel::sql_query(
            "SELECT o.duty, o.resource_kind, o.resource_id, o.organisation_id, o.district_ags, o.due_on, o.party, s.stage \
             FROM obligations o, LATERAL (SELECT CASE WHEN o.due_on < $1 THEN 'overdue' \
                 ELSE 'due_soon:' || (SELECT min(l) FROM unnest($3::bigint[]) l WHERE l >= o.due_on - $1) END AS stage) s \
             WHERE (o.duty <> 'grant_notice.objection_period' OR o.due_on >= $1) AND o.due_on <= $2 \
               AND s.stage IS NOT NULL AND ($5::date IS NULL OR (o.due_on, o.resource_id, o.duty) > ($5, $6, $7)) \
               AND NOT EXISTS (SELECT 1 FROM obligation_reminders r WHERE r.duty = o.duty \
                   AND r.resource_id = o.resource_id AND r.due_on = o.due_on AND r.stage = s.stage) \
             ORDER BY o.due_on, o.resource_id, o.duty LIMIT $4",
        )
        .bind::<Date, _>(today)
        .bind::<Date, _>(horizon)
        .bind::<Array<BigInt>, _>(leads.as_slice())
        .bind::<BigInt, _>(batch)
        // No bound for the first batch.
        .bind::<diesel::sql_types::Nullable<Date>, _>(after.as_ref().map(|a| a.0))
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(after.as_ref().map(|a| a.1))
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(after.as_ref().map(|a| a.2.clone()))
        .load(conn)
        .await?;
        let seen = i64::try_from(rows.len()).unwrap_or(batch);
        let last = rows.last().map(|r| (r.duty.due_on, r.duty.resource_id, r.duty.duty.clone()));
        let mut sent = 0;
        for Unannounced { duty, stage } in rows {
            let obligation = to_api(duty, today, widest)?;
            let event = if stage == "overdue" { "obligation.overdue" } else { "obligation.due_soon" };
            let inserted = diesel::insert_into(obligation_reminders::table)
                .values((
                    obligation_reminders::duty.eq(obligation.duty.as_str()),
                    obligation_reminders::resource_id.eq(obligation.resource_id),
                    obligation_reminders::due_on.eq(obligation.due_on),
                    obligation_reminders::stage.eq(&stage),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if inserted == 0 {
                continue;
            }
            // A municipality hears of its own duties; staff of every duty.
            let audience = match (obligation.party, obligation.organisation_id) {
                (Party::Municipality, Some(org)) => Audience::organisation(org),
                _ => Audience::staff(),
            };
            let change = Change::new(KIND, obligation.resource_id, "remind", event, audience).without_history();
            audit::record(conn, &Caller::system(), change, &obligation).await?;
            sent += 1;
        }
        Ok((sent, seen, last))
    })
    .await
}

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

type Row = (String, String, Uuid, Option<Uuid>, Option<String>, NaiveDate, String);

const COLUMNS: (
    obligations::duty,
    obligations::resource_kind,
    obligations::resource_id,
    obligations::organisation_id,
    obligations::district_ags,
    obligations::due_on,
    obligations::party,
) = (
    obligations::duty,
    obligations::resource_kind,
    obligations::resource_id,
    obligations::organisation_id,
    obligations::district_ags,
    obligations::due_on,
    obligations::party,
);

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

fn to_api((duty, kind, id, org, district, due_on, party): Row, today: NaiveDate, soon: i64) -> ApiResult<Obligation> {
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

/// A page of the caller's open duties, soonest first (a municipality: its organisation's).
pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListObligations,
    after: Option<Key>,
    limit: i64,
    soon: i64,
) -> ApiResult<Vec<(Obligation, Key)>> {
    let today = crate::core::time::today_in_hessen();
    let mut query = filtered(caller, q, today)?.select(COLUMNS).order((
        obligations::due_on,
        obligations::resource_id,
        obligations::duty,
    ));
    if let Some((due, id, duty)) = after {
        query = query.filter(
            obligations::due_on.gt(due).or(obligations::due_on.eq(due).and(
                obligations::resource_id
                    .gt(id)
                    .or(obligations::resource_id.eq(id).and(obligations::duty.gt(duty))),
            )),
        );
    }
    let rows: Vec<Row> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|row| {
            let key = (row.5, row.2, row.0.clone());
            Ok((to_api(row, today, soon)?, key))
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

/// One round of reminders as of `today`: each duty due within a lead time (`leads`, in days) gets
/// `obligation.due_soon` once for the tightest lead it falls in, and `obligation.overdue` once after its due date.
/// Another instance running the round at the same time skips it; the reminder table's key makes each stage happen
/// once even so. Returns how many reminders were sent.
pub async fn remind(conn: &mut AsyncPgConnection, today: NaiveDate, leads: &[i64]) -> ApiResult<usize> {
    let mut leads = leads.to_vec();
    leads.sort_unstable();
    let widest = leads.last().copied().unwrap_or(0);
    let leads = std::rc::Rc::new(leads);
    crate::db::transaction(conn, async |conn| {
        let lock: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
            .bind::<diesel::sql_types::BigInt, _>(REMINDER_LOCK)
            .get_result(conn)
            .await?;
        if !lock.locked {
            return Ok(0);
        }
        let horizon = today + chrono::Days::new(u64::try_from(widest).unwrap_or(0));
        let rows: Vec<Row> = live(today)
            .filter(obligations::due_on.le(horizon))
            .order((obligations::due_on, obligations::resource_id))
            .select(COLUMNS)
            .load(conn)
            .await?;
        let mut sent = 0;
        for row in rows {
            let obligation = to_api(row, today, widest)?;
            let (stage, event) = if obligation.days_left < 0 {
                ("overdue".to_owned(), "obligation.overdue")
            } else {
                match leads.iter().find(|l| obligation.days_left <= **l) {
                    Some(lead) => (format!("due_soon:{lead}"), "obligation.due_soon"),
                    None => continue,
                }
            };
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
        Ok(sent)
    })
    .await
}

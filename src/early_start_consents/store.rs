//! Every SQL statement on early-start consents. Visibility is applied in [`visible`]: a municipality sees only its
//! own organisation's. A request locks its application's row, as the approval does, so that a consent and the
//! approval it is meant for never pass each other.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::db::schema::{applications, early_start_consents, organisations};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = early_start_consents)]
struct Row {
    id: Uuid,
    application_id: Uuid,
    organisation_id: Uuid,
    district_ags: String,
    funding_line_code: String,
    start_on: NaiveDate,
    reason: String,
    not_yet_begun: bool,
    requested_on: NaiveDate,
    status: String,
    decided_by: Option<String>,
    decision_reason: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

type Joined = (Row, String);

fn to_api(caller: &Caller, (r, name): Joined) -> ApiResult<EarlyStartConsent> {
    let status: ConsentStatus = r.status.parse().map_err(ApiError::internal)?;
    Ok(EarlyStartConsent {
        id: r.id,
        application_id: r.application_id,
        applicant: ConsentApplicant {
            id: r.organisation_id,
            name,
        },
        district: r.district_ags,
        funding_line: r.funding_line_code,
        start_on: r.start_on,
        reason: r.reason,
        not_yet_begun: r.not_yet_begun,
        requested_on: r.requested_on,
        allowed_actions: LIFECYCLE
            .allowed_actions(status)
            .into_iter()
            .filter(|a| LIFECYCLE.roles(*a).contains(&caller.role))
            .collect(),
        status,
        decided_by: r.decided_by,
        decision_reason: r.decision_reason,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

type Boxed =
    diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<early_start_consents::table, organisations::table>, Pg>;

fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = early_start_consents::table
        .inner_join(organisations::table)
        .into_boxed();
    Ok(match caller.confined_to()? {
        Some(org) => query.filter(early_start_consents::organisation_id.eq(org)),
        None => query,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<EarlyStartConsent> {
    if lock {
        early_start_consents::table
            .find(id)
            .select(early_start_consents::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
    }
    let row: Joined = visible(caller)?
        .filter(early_start_consents::id.eq(id))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?;
    to_api(caller, row)
}

fn audience(c: &EarlyStartConsent) -> Audience {
    Audience::organisation(c.applicant.id)
}

/// The application a request is for, locked (the approval locks the same row), as the caller may see it: owner,
/// district, funding line. Read here rather than through the applications module, whose approval asks [`covers`]:
/// the two modules would otherwise import each other.
async fn application(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
) -> ApiResult<(Uuid, String, String, String)> {
    let query = applications::table.filter(applications::id.eq(id)).select((
        applications::organisation_id,
        applications::district_ags,
        applications::funding_line_code,
        applications::status,
    ));
    // Scoped before the lock, like every store's `visible`: another organisation's row is neither seen nor locked.
    Ok(match caller.confined_to()? {
        Some(org) => {
            query
                .filter(applications::organisation_id.eq(org))
                .for_update()
                .first(conn)
                .await?
        }
        None => query.for_update().first(conn).await?,
    })
}

/// Whether an application is still to be decided: only then does a consent to begin before its approval mean
/// anything (409 `application_decided` otherwise).
fn undecided(status: &str) -> ApiResult<()> {
    match status {
        "approved" | "rejected" | "withdrawn" => {
            Err(ApiError::conflict("application_decided", MessageParams::detail(status)))
        }
        _ => Ok(()),
    }
}

/// Whether a granted consent covers a project of this application that begins on `start` (its `startOn` is on or
/// before it). The approval calls it under the application's row lock.
pub async fn covers(conn: &mut AsyncPgConnection, application_id: Uuid, start: NaiveDate) -> ApiResult<bool> {
    let found: Option<Uuid> = early_start_consents::table
        .filter(early_start_consents::application_id.eq(application_id))
        .filter(early_start_consents::status.eq(ConsentStatus::Granted.as_str()))
        .filter(early_start_consents::start_on.le(start))
        .select(early_start_consents::id)
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// The recipient's request to begin before the approval, for an application not yet decided, from a day not before
/// today (422 `in_past`: a consent is never retroactive); one live request or consent per application (409
/// `early_start_exists`, the partial unique index as the backstop).
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    application_id: Uuid,
    input: NewEarlyStartConsent,
) -> ApiResult<EarlyStartConsent> {
    let (organisation, district, funding_line, status) = application(conn, caller, application_id).await?;
    undecided(&status)?;
    let (Some(start_on), Some(reason), Some(true)) = (input.start_on, input.reason, input.not_yet_begun) else {
        return Err(ApiError::internal(
            "early-start request without start, reason or declaration",
        ));
    };
    let today = crate::core::time::today_in_hessen();
    if start_on < today {
        return Err(ApiError::Validation(vec![FieldError::new(
            "/startOn",
            "in_past",
            MessageParams::min(today),
        )]));
    }
    let live: Option<Uuid> = early_start_consents::table
        .filter(early_start_consents::application_id.eq(application_id))
        .filter(
            early_start_consents::status.eq_any([ConsentStatus::Requested.as_str(), ConsentStatus::Granted.as_str()]),
        )
        .select(early_start_consents::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(existing) = live {
        return Err(ApiError::conflict(
            "early_start_exists",
            MessageParams::detail(existing),
        ));
    }
    let id = Uuid::now_v7();
    diesel::insert_into(early_start_consents::table)
        .values((
            early_start_consents::id.eq(id),
            early_start_consents::application_id.eq(application_id),
            early_start_consents::organisation_id.eq(organisation),
            early_start_consents::district_ags.eq(&district),
            early_start_consents::funding_line_code.eq(&funding_line),
            early_start_consents::start_on.eq(start_on),
            early_start_consents::reason.eq(&reason),
            early_start_consents::not_yet_begun.eq(true),
            early_start_consents::requested_on.eq(today),
            early_start_consents::status.eq(ConsentStatus::Requested.as_str()),
            early_start_consents::created_by.eq(&caller.sub),
        ))
        .execute(conn)
        .await?;
    let consent = find(conn, caller, id, false).await?;
    let change = Change::new(KIND, id, "create", "early_start_consent.requested", audience(&consent));
    audit::record(conn, caller, change, &consent).await?;
    Ok(consent)
}

/// What an action carries: the ministry's note or reason.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub reason: Option<String>,
}

/// Grants or refuses a request (the ministry), or withdraws it (the recipient). Granting needs the application
/// still undecided (409 `application_decided`).
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: ConsentAction,
    expected: Option<Expected>,
    input: TransitionInput,
) -> ApiResult<EarlyStartConsent> {
    let current = find(conn, caller, id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, action)?;
    if action == ConsentAction::Grant {
        let (.., status) = application(conn, caller, current.application_id).await?;
        undecided(&status)?;
    }
    let to = rule.target(current.status);
    let decided_by = match action {
        ConsentAction::Withdraw => current.decided_by.clone(),
        _ => Some(caller.sub.clone()),
    };
    let decision_reason = match action {
        ConsentAction::Withdraw => current.decision_reason.clone(),
        _ => input.reason.clone(),
    };
    diesel::update(early_start_consents::table.find(id))
        .set((
            early_start_consents::status.eq(to.as_str()),
            early_start_consents::decided_by.eq(&decided_by),
            early_start_consents::decision_reason.eq(&decision_reason),
            early_start_consents::version.eq(current.version + 1),
            early_start_consents::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let consent = find(conn, caller, id, false).await?;
    let change =
        Change::transition(KIND, id, rule, current.status, to, audience(&consent)).reason(input.reason.as_deref());
    audit::record(conn, caller, change, &consent).await?;
    Ok(consent)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

fn filtered(caller: &Caller, q: &ListEarlyStartConsents) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(s) = q.status {
        query = query.filter(early_start_consents::status.eq(s.as_str()));
    }
    if let Some(a) = q.application_id {
        query = query.filter(early_start_consents::application_id.eq(a));
    }
    Ok(query)
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListEarlyStartConsents,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(EarlyStartConsent, Uuid)>> {
    let mut query = filtered(caller, q)?
        .select((Row::as_select(), organisations::name))
        .order(early_start_consents::id.asc());
    if let Some(after) = after {
        query = query.filter(early_start_consents::id.gt(after));
    }
    let rows: Vec<Joined> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.0.id;
            Ok((to_api(caller, row)?, id))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListEarlyStartConsents) -> ApiResult<i64> {
    Ok(filtered(caller, q)?.count().get_result(conn).await?)
}

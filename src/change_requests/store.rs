//! Every SQL statement on change requests. Visibility is applied in [`visible`]: a municipality sees only its own
//! organisation's. Granting an amendment drafts the amending notice in the same transaction.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::db::schema::{change_requests, organisations};
use crate::error::validation::fiscal_years;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::grant_notices::NoticeStatus;
use crate::http::extract::Expected;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = change_requests)]
struct Row {
    id: Uuid,
    notice_id: Uuid,
    application_id: Uuid,
    organisation_id: Uuid,
    district_ags: String,
    funding_line_code: String,
    kind: String,
    description: String,
    proposed_period_end: Option<NaiveDate>,
    proposed_years: Option<serde_json::Value>,
    status: String,
    decided_by: Option<String>,
    reason: Option<String>,
    amending_notice_id: Option<Uuid>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

type Joined = (Row, String);

fn to_api(caller: &Caller, (r, name): Joined) -> ApiResult<ChangeRequest> {
    let status: ChangeStatus = r.status.parse().map_err(ApiError::internal)?;
    let kind: ChangeKind = r.kind.parse().map_err(ApiError::internal)?;
    // A report is acknowledged, an amendment granted or refused.
    let allowed_actions = LIFECYCLE
        .allowed_actions(status)
        .into_iter()
        .filter(|a| LIFECYCLE.roles(*a).contains(&caller.role))
        .filter(|a| (*a == ChangeAction::Acknowledge) != kind.is_amendment())
        .collect();
    Ok(ChangeRequest {
        id: r.id,
        notice_id: r.notice_id,
        application_id: r.application_id,
        recipient: Reporter {
            id: r.organisation_id,
            name,
        },
        district: r.district_ags,
        funding_line: r.funding_line_code,
        amendment: kind.is_amendment(),
        kind,
        description: r.description,
        proposed_period_end: r.proposed_period_end,
        proposed_years: r
            .proposed_years
            .map(serde_json::from_value)
            .transpose()
            .map_err(ApiError::internal)?,
        status,
        decided_by: r.decided_by,
        reason: r.reason,
        amending_notice_id: r.amending_notice_id,
        allowed_actions,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

type Boxed = diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<change_requests::table, organisations::table>, Pg>;

fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = change_requests::table.inner_join(organisations::table).into_boxed();
    Ok(match caller.confined_to()? {
        Some(org) => query.filter(change_requests::organisation_id.eq(org)),
        None => query,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<ChangeRequest> {
    if lock {
        change_requests::table
            .find(id)
            .select(change_requests::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
    }
    let row: Joined = visible(caller)?
        .filter(change_requests::id.eq(id))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?;
    to_api(caller, row)
}

fn audience(c: &ChangeRequest) -> Audience {
    Audience::organisation(c.recipient.id)
}

/// A report or amendment request of the recipient against its notice in force (409 `notice_not_issued` for a
/// draft, `notice_amended` for a replaced one, and for a closed grant nothing is changed any more).
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    notice_id: Uuid,
    input: NewChangeRequest,
) -> ApiResult<ChangeRequest> {
    let notice = crate::grant_notices::find(conn, caller, notice_id, false).await?;
    match notice.status {
        NoticeStatus::Issued | NoticeStatus::Final => {}
        NoticeStatus::Amended => {
            return Err(ApiError::conflict(
                "notice_amended",
                MessageParams::detail(notice.number),
            ));
        }
        other => return Err(ApiError::conflict("notice_not_issued", MessageParams::detail(other))),
    }
    // What an amendment proposes must fit the notice: the years within the (proposed) period, each once.
    let end = input.proposed_period_end.unwrap_or(notice.period_end);
    let mut errors = Vec::new();
    if end < notice.period_start {
        errors.push(FieldError::new(
            "/proposedPeriodEnd",
            "out_of_range",
            MessageParams::min(notice.period_start),
        ));
    }
    if let Some(years) = &input.proposed_years {
        let given: Vec<(i32, i64)> = years.iter().map(|y| (y.year, y.amount_cents)).collect();
        let period = (
            Some(notice.period_start.year()),
            Some(end.max(notice.period_start).year()),
        );
        for e in fiscal_years(&given, period) {
            let pointer = e.pointer.replacen("/years", "/proposedYears", 1);
            errors.push(e.at(pointer));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (Some(kind), Some(description)) = (input.kind, input.description) else {
        return Err(ApiError::internal("change request without kind or description"));
    };
    let id = Uuid::now_v7();
    let years = input
        .proposed_years
        .map(|y| serde_json::to_value(y).map_err(ApiError::internal))
        .transpose()?;
    diesel::insert_into(change_requests::table)
        .values((
            change_requests::id.eq(id),
            change_requests::notice_id.eq(notice.id),
            change_requests::application_id.eq(notice.application_id),
            change_requests::organisation_id.eq(notice.recipient.id),
            change_requests::district_ags.eq(&notice.district),
            change_requests::funding_line_code.eq(&notice.funding_line),
            change_requests::kind.eq(kind.as_str()),
            change_requests::description.eq(&description),
            change_requests::proposed_period_end.eq(input.proposed_period_end),
            change_requests::proposed_years.eq(years),
            change_requests::status.eq(ChangeStatus::Submitted.as_str()),
            change_requests::created_by.eq(&caller.sub),
        ))
        .execute(conn)
        .await?;
    let request = find(conn, caller, id, false).await?;
    let change = Change::new(KIND, id, "create", "change_request.submitted", audience(&request));
    audit::record(conn, caller, change, &request).await?;
    Ok(request)
}

/// Acknowledges a report, or grants or refuses an amendment request (409 `invalid_transition` for the other kind).
/// Granting drafts the amending notice from the notice in force with what the request proposes, by the granting
/// person; another ministry person issues it, and the ledger follows then.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: ChangeAction,
    expected: Option<Expected>,
    reason: Option<String>,
) -> ApiResult<ChangeRequest> {
    let current = find(conn, caller, id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, action)?;
    if (action == ChangeAction::Acknowledge) == current.amendment {
        return Err(crate::core::lifecycle::Refused {
            from: current.status.to_string(),
            allowed: current.allowed_actions.iter().map(ToString::to_string).collect(),
        }
        .into());
    }
    let mut amending = None;
    if action == ChangeAction::Grant {
        let in_force = crate::grant_notices::in_force(conn, current.application_id).await?;
        let input = crate::grant_notices::AmendInput {
            errors: Vec::new(),
            reason: format!("Änderungsantrag ({}): {}", current.kind, current.description),
            years: current
                .proposed_years
                .as_ref()
                .map(|ys| ys.iter().map(|y| (y.year, y.amount_cents)).collect()),
            period_end: current.proposed_period_end,
        };
        amending = Some(
            crate::grant_notices::amend(conn, caller, in_force.id, None, input)
                .await?
                .id,
        );
    }
    let to = rule.target(current.status);
    diesel::update(change_requests::table.find(id))
        .set((
            change_requests::status.eq(to.as_str()),
            change_requests::decided_by.eq(&caller.sub),
            change_requests::reason.eq(&reason),
            change_requests::amending_notice_id.eq(amending),
            change_requests::version.eq(current.version + 1),
            change_requests::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let request = find(conn, caller, id, false).await?;
    let change = Change::transition(KIND, id, rule, current.status, to, audience(&request)).reason(reason.as_deref());
    audit::record(conn, caller, change, &request).await?;
    Ok(request)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

fn filtered(caller: &Caller, q: &ListChangeRequests) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(s) = q.status {
        query = query.filter(change_requests::status.eq(s.as_str()));
    }
    if let Some(k) = q.kind {
        query = query.filter(change_requests::kind.eq(k.as_str()));
    }
    Ok(query)
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListChangeRequests,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(ChangeRequest, Uuid)>> {
    let mut query = filtered(caller, q)?
        .select((Row::as_select(), organisations::name))
        .order(change_requests::id.asc());
    if let Some(after) = after {
        query = query.filter(change_requests::id.gt(after));
    }
    let rows: Vec<Joined> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.0.id;
            Ok((to_api(caller, row)?, id))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListChangeRequests) -> ApiResult<i64> {
    Ok(filtered(caller, q)?.count().get_result(conn).await?)
}

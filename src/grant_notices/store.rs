//! Every SQL statement on grant notices. Visibility is applied here, in [`visible`], for every read and write: a
//! municipality sees only its own organisation's notices, and only once they are issued (a draft is the ministry's
//! working copy).

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::{Caller, OrgKind};
use crate::db::schema::{grant_notice_years, grant_notices, organisations};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = grant_notices)]
pub(super) struct Row {
    pub(super) id: Uuid,
    application_id: Uuid,
    number: i32,
    status: String,
    organisation_id: Uuid,
    district_ags: String,
    funding_line_code: String,
    amount_cents: i64,
    financing_type: String,
    rate_bp: i32,
    eligible_costs_cents: i64,
    purpose: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    lock_in_until: Option<NaiveDate>,
    clause_set: String,
    excluded_clauses: Vec<String>,
    conditions: Vec<String>,
    legal_remedy: String,
    approved_by: String,
    issued_by: Option<String>,
    delivered_on: Option<NaiveDate>,
    objection_waived_on: Option<NaiveDate>,
    final_on: Option<NaiveDate>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    amends: Option<Uuid>,
    amendment_reason: Option<String>,
    file_number: String,
}

pub(super) type Joined = (Row, String);

/// The id of an application's notice number `number`: derived, so that the approval that drafts it and anyone
/// following the feed can name it without a lookup.
pub fn notice_id(application: Uuid, number: i32) -> Uuid {
    Uuid::new_v5(&application, format!("grant-notice/{number}").as_bytes())
}

/// What `approve` knows when it drafts the notice.
#[derive(Debug, Clone)]
pub struct Draft {
    pub application_id: Uuid,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub organisation_kind: OrgKind,
    pub district: String,
    pub funding_line: String,
    pub amount_cents: i64,
    pub eligible_costs_cents: i64,
    pub purpose: String,
    pub period: (NaiveDate, NaiveDate),
    /// The grant by fiscal year, as the approval committed it.
    pub years: Vec<(i32, i64)>,
}

/// The status a reader sees: an issued notice is `final` from its `finalOn` day (Europe/Berlin).
fn shown(stored: &str, final_on: Option<NaiveDate>) -> ApiResult<NoticeStatus> {
    let status: NoticeStatus = stored.parse().map_err(ApiError::internal)?;
    Ok(match (status, final_on) {
        (NoticeStatus::Issued, Some(day)) if day <= crate::core::time::today_in_hessen() => NoticeStatus::Final,
        (s, _) => s,
    })
}

pub(super) fn to_api(caller: &Caller, (r, name): Joined, years: Vec<NoticeYear>) -> ApiResult<GrantNotice> {
    let status = shown(&r.status, r.final_on)?;
    let allowed_actions = LIFECYCLE
        .allowed_actions(status)
        .into_iter()
        .filter(|a| LIFECYCLE.roles(*a).contains(&caller.role))
        .collect();
    Ok(GrantNotice {
        id: r.id,
        application_id: r.application_id,
        number: r.number,
        file_number: r.file_number,
        status,
        amends: r.amends,
        amendment_reason: r.amendment_reason,
        recipient: Recipient {
            id: r.organisation_id,
            name,
        },
        district: r.district_ags,
        funding_line: r.funding_line_code,
        amount_cents: r.amount_cents,
        years,
        financing_type: r.financing_type.parse().map_err(ApiError::internal)?,
        rate_basis_points: r.rate_bp,
        eligible_costs_cents: r.eligible_costs_cents,
        purpose: r.purpose,
        period_start: r.period_start,
        period_end: r.period_end,
        lock_in_until: r.lock_in_until,
        clause_set: r.clause_set.parse().map_err(ApiError::internal)?,
        excluded_clauses: r.excluded_clauses,
        conditions: r.conditions,
        legal_remedy: r.legal_remedy,
        approved_by: r.approved_by,
        issued_by: r.issued_by,
        delivered_on: r.delivered_on,
        objection_waived_on: r.objection_waived_on,
        final_on: r.final_on,
        allowed_actions,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub(super) type Boxed =
    diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<grant_notices::table, organisations::table>, Pg>;

/// Every notice the caller may see.
pub(super) fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = grant_notices::table.inner_join(organisations::table).into_boxed();
    Ok(match caller.confined_to()? {
        Some(org) => query
            .filter(grant_notices::organisation_id.eq(org))
            .filter(grant_notices::status.ne(NoticeStatus::Draft.as_str())),
        None => query,
    })
}

/// The amounts by fiscal year that the given notices state.
pub(super) async fn years_of(
    conn: &mut AsyncPgConnection,
    notices: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<NoticeYear>>> {
    let rows: Vec<(Uuid, i32, i64)> = grant_notice_years::table
        .filter(grant_notice_years::notice_id.eq_any(notices))
        .order((grant_notice_years::notice_id, grant_notice_years::year))
        .select((
            grant_notice_years::notice_id,
            grant_notice_years::year,
            grant_notice_years::amount_cents,
        ))
        .load(conn)
        .await?;
    let mut by_notice: HashMap<Uuid, Vec<NoticeYear>> = HashMap::new();
    for (notice, year, amount_cents) in rows {
        by_notice
            .entry(notice)
            .or_default()
            .push(NoticeYear { year, amount_cents });
    }
    Ok(by_notice)
}

async fn one(conn: &mut AsyncPgConnection, caller: &Caller, row: Joined) -> ApiResult<GrantNotice> {
    let years = years_of(conn, &[row.0.id]).await?.remove(&row.0.id);
    to_api(caller, row, years.unwrap_or_default())
}

/// Makes every change of one grant's money take turns, on any instance: amendments and payment approvals lock the
/// row of the grant's first notice (whose id is derived from the application) before anything else.
pub async fn lock_grant(conn: &mut AsyncPgConnection, application: Uuid) -> ApiResult<()> {
    grant_notices::table
        .find(notice_id(application, 1))
        .select(grant_notices::id)
        .for_update()
        .first::<Uuid>(conn)
        .await
        .optional()?;
    Ok(())
}

/// [`lock_grant`] for the grant of a visible notice (404 otherwise); returns the application.
pub(super) async fn lock_grant_of(conn: &mut AsyncPgConnection, caller: &Caller, notice: Uuid) -> ApiResult<Uuid> {
    let application: Uuid = visible(caller)?
        .filter(grant_notices::id.eq(notice))
        .select(grant_notices::application_id)
        .first(conn)
        .await?;
    lock_grant(conn, application).await?;
    Ok(application)
}

/// The notice in force of an application's grant: its issued notice (shown `issued` or `final`), which amending
/// notices replace, or the notice its settlement closed. 409 `notice_not_issued` while there is none.
pub async fn in_force(conn: &mut AsyncPgConnection, application: Uuid) -> ApiResult<GrantNotice> {
    let row: Option<Joined> = grant_notices::table
        .inner_join(organisations::table)
        .filter(grant_notices::application_id.eq(application))
        .filter(grant_notices::status.eq_any([NoticeStatus::Issued.as_str(), NoticeStatus::Closed.as_str()]))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await
        .optional()?;
    match row {
        Some(row) => one(conn, &Caller::system(), row).await,
        None => Err(ApiError::conflict(
            "notice_not_issued",
            MessageParams::detail(NoticeStatus::Draft),
        )),
    }
}

/// One visible notice (404 otherwise), optionally locked for the rest of the transaction.
pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<GrantNotice> {
    if lock {
        grant_notices::table
            .find(id)
            .select(grant_notices::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
    }
    let row: Joined = visible(caller)?
        .filter(grant_notices::id.eq(id))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?;
    one(conn, caller, row).await
}

/// The newest visible notice of an application.
pub async fn of_application(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    application: Uuid,
) -> ApiResult<GrantNotice> {
    let row: Joined = visible(caller)?
        .filter(grant_notices::application_id.eq(application))
        .order(grant_notices::number.desc())
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?;
    one(conn, caller, row).await
}

/// Who sees a notice's events besides staff: the recipient, once the notice is issued.
pub(super) fn audience(notice: &GrantNotice) -> Audience {
    if notice.status == NoticeStatus::Draft {
        Audience::staff()
    } else {
        Audience::organisation(notice.recipient.id)
    }
}

/// Drafts the notice of an approved application, in the approval's transaction: the grant, its fiscal years, the
/// application's costs and period, the share of the costs, the clause set by the recipient's kind, the standard
/// legal-remedy notice. The notice and its years are written in one round trip and the notice is built from what the
/// insert returns (nothing is read again); the connection is shared so that the approval can pipeline this with its
/// other writes, and the approval records the draft with [`record_draft`] after all of them (docs/performance.md S9).
pub async fn draft(conn: &AsyncPgConnection, caller: &Caller, d: Draft) -> ApiResult<Drafted> {
    use crate::db::cached::CachedDsl;
    use diesel::sql_types::{Array, BigInt, Integer};
    let id = notice_id(d.application_id, 1);
    let rate = if d.eligible_costs_cents > 0 {
        (i128::from(d.amount_cents) * 10_000 / i128::from(d.eligible_costs_cents)).min(10_000) as i32
    } else {
        0
    };
    let clause_set = match d.organisation_kind {
        OrgKind::Landkreis | OrgKind::KreisfreieStadt | OrgKind::Gemeinde => ClauseSet::AnbestGk,
        OrgKind::Traeger => ClauseSet::AnbestP,
    };
    let mut years = d.years;
    years.sort_unstable();
    let insert = diesel::insert_into(grant_notices::table)
        .values((
            grant_notices::id.eq(id),
            grant_notices::application_id.eq(d.application_id),
            grant_notices::status.eq(NoticeStatus::Draft.as_str()),
            grant_notices::organisation_id.eq(d.organisation_id),
            grant_notices::district_ags.eq(&d.district),
            grant_notices::funding_line_code.eq(&d.funding_line),
            grant_notices::amount_cents.eq(d.amount_cents),
            grant_notices::financing_type.eq(FinancingType::Anteilsfinanzierung.as_str()),
            grant_notices::rate_bp.eq(rate),
            grant_notices::eligible_costs_cents.eq(d.eligible_costs_cents),
            grant_notices::purpose.eq(&d.purpose),
            grant_notices::period_start.eq(d.period.0),
            grant_notices::period_end.eq(d.period.1),
            grant_notices::clause_set.eq(clause_set.as_str()),
            grant_notices::legal_remedy.eq(LEGAL_REMEDY),
            grant_notices::approved_by.eq(&caller.sub),
        ))
        .returning(Row::as_returning())
        .cached()
        .get_result::<Row>(&mut &*conn);
    // The notice states the breakdown the approval committed.
    // One text for any number of years (arrays, not a VALUES list), so that it stays prepared.
    let notice_years = diesel::sql_query(
        "INSERT INTO grant_notice_years (notice_id, year, amount_cents)
         SELECT $1, y, c FROM unnest($2::integer[], $3::bigint[]) AS u(y, c)",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<Array<Integer>, _>(years.iter().map(|y| y.0).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(years.iter().map(|y| y.1).collect::<Vec<_>>())
    .cached()
    .execute(&mut &*conn);
    let (row, _) = futures_util::try_join!(insert, notice_years)?;
    let years = years
        .into_iter()
        .map(|(year, amount_cents)| NoticeYear { year, amount_cents })
        .collect();
    Ok(Drafted(to_api(caller, (row, d.organisation_name), years)?))
}

/// A notice drafted by [`draft`] and not yet recorded.
#[must_use = "a drafted notice must be recorded in its transaction"]
pub struct Drafted(GrantNotice);

/// Records a notice drafted by [`draft`]: its history entry and `grant_notice.created`.
pub async fn record_draft(conn: &AsyncPgConnection, caller: &Caller, drafted: Drafted) -> ApiResult<()> {
    let notice = drafted.0;
    let change = Change::new(KIND, notice.id, "create", "grant_notice.created", audience(&notice));
    audit::record(conn, caller, change, &notice).await
}

/// The one PATCH flow's step: drafts only (409 `not_editable`), the merged terms, the write and the audit.
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<GrantNotice> {
    let current = find(conn, caller, id, true).await?;
    expected.check(current.version)?;
    if current.status != NoticeStatus::Draft {
        return Err(ApiError::conflict(
            "not_editable",
            MessageParams::detail(current.status),
        ));
    }
    let terms = NoticeTerms {
        file_number: Some(current.file_number.clone()),
        financing_type: Some(current.financing_type),
        rate_basis_points: Some(current.rate_basis_points),
        eligible_costs_cents: Some(current.eligible_costs_cents),
        purpose: Some(current.purpose.clone()),
        lock_in_until: current.lock_in_until,
        excluded_clauses: Some(current.excluded_clauses.clone()),
        conditions: Some(current.conditions.clone()),
        legal_remedy: Some(current.legal_remedy.clone()),
    };
    let Some((next, changed)) = crate::http::patch::merged(&terms, &patch, &[])? else {
        return Ok(current);
    };
    let mut errors = Vec::new();
    // One file per grant: the number is set on the first notice, its amending notices share it.
    if current.number > 1 && next.file_number.as_deref() != Some(current.file_number.as_str()) {
        errors.push(FieldError::new(
            "/fileNumber",
            "not_allowed",
            MessageParams::detail("an amending notice keeps the grant's file number"),
        ));
    }
    if next.lock_in_until.is_some_and(|d| d < current.period_end) {
        errors.push(FieldError::new(
            "/lockInUntil",
            "before_period_end",
            MessageParams::detail(current.period_end),
        ));
    }
    for (field, items, max) in [
        ("excludedClauses", &next.excluded_clauses, 200),
        ("conditions", &next.conditions, 2000),
    ] {
        for (i, item) in items.iter().flatten().enumerate() {
            if item.trim().is_empty() || item.chars().count() > max {
                errors.push(FieldError::new(
                    format!("/{field}/{i}"),
                    "length",
                    MessageParams::range(1, max),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (Some(file_number), Some(financing), Some(rate), Some(costs), Some(purpose), Some(remedy)) = (
        next.file_number,
        next.financing_type,
        next.rate_basis_points,
        next.eligible_costs_cents,
        next.purpose,
        next.legal_remedy,
    ) else {
        return Err(ApiError::Validation(
            changed
                .iter()
                .map(|p| FieldError::new(p.clone(), "not_null", MessageParams::default()))
                .collect(),
        ));
    };
    diesel::update(grant_notices::table.find(id))
        .set((
            grant_notices::file_number.eq(file_number),
            grant_notices::financing_type.eq(financing.as_str()),
            grant_notices::rate_bp.eq(rate),
            grant_notices::eligible_costs_cents.eq(costs),
            grant_notices::purpose.eq(purpose),
            grant_notices::lock_in_until.eq(next.lock_in_until),
            grant_notices::excluded_clauses.eq(next.excluded_clauses.unwrap_or_default()),
            grant_notices::conditions.eq(next.conditions.unwrap_or_default()),
            grant_notices::legal_remedy.eq(remedy),
            grant_notices::version.eq(current.version + 1),
            grant_notices::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let notice = find(conn, caller, id, false).await?;
    let change = Change::new(KIND, id, "update", "grant_notice.changed", audience(&notice)).changed(changed);
    audit::record(conn, caller, change, &notice).await?;
    Ok(notice)
}

/// The last day to object: one month after delivery (§ 70 VwGO; §§ 187, 188 BGB: the day of the next month with
/// the delivery's number, the month's last day if it has none), moved to the next working day when it falls on a
/// Saturday, a Sunday or a public holiday in Hessen, where the objection is lodged (§ 193 BGB). The notice is final
/// from the day after.
pub fn final_on(delivered: NaiveDate) -> Option<NaiveDate> {
    let mut last = delivered.checked_add_months(chrono::Months::new(1))?;
    while matches!(last.weekday(), Weekday::Sat | Weekday::Sun) || crate::core::time::is_hessen_holiday(last) {
        last = last.succ_opt()?;
    }
    last.succ_opt()
}

/// What a transition carries.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub delivered_on: Option<NaiveDate>,
    pub waived_on: Option<NaiveDate>,
    /// Where `issue` keeps the letter.
    pub storage: Option<std::sync::Arc<dyn object_store::ObjectStore>>,
}

/// Moves a notice through its lifecycle: row lock, state, four eyes, effect, audit, in the caller's transaction.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: NoticeAction,
    expected: Option<Expected>,
    input: TransitionInput,
) -> ApiResult<GrantNotice> {
    lock_grant_of(conn, caller, id).await?;
    let current = find(conn, caller, id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, action)?;
    let today = crate::core::time::today_in_hessen();
    let stored = match action {
        NoticeAction::Issue => {
            caller.second_pair_of_eyes([Some(current.approved_by.as_str())])?;
            let delivered = input
                .delivered_on
                .ok_or_else(|| ApiError::internal("issue without delivery day"))?;
            if delivered > today {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "/deliveredOn",
                    "in_future",
                    MessageParams::max(today),
                )]));
            }
            let final_day = final_on(delivered).ok_or_else(|| ApiError::internal("date out of range"))?;
            // An amending notice first retires the one it replaces: one notice in force per grant.
            super::amendments::take_effect(conn, caller, &current).await?;
            diesel::update(grant_notices::table.find(id))
                .set((
                    grant_notices::status.eq(NoticeStatus::Issued.as_str()),
                    grant_notices::issued_by.eq(&caller.sub),
                    grant_notices::delivered_on.eq(delivered),
                    grant_notices::final_on.eq(final_day),
                    grant_notices::version.eq(current.version + 1),
                    grant_notices::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            NoticeStatus::Issued
        }
        NoticeAction::Amend => return Err(ApiError::internal("amend drafts a new notice: amendments::amend")),
        NoticeAction::WaiveObjection => {
            let waived = input.waived_on.unwrap_or(today);
            let delivered = current.delivered_on.unwrap_or(today);
            if waived < delivered || waived > today {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "/waivedOn",
                    "out_of_range",
                    MessageParams::range(delivered, today),
                )]));
            }
            let final_day = current.final_on.map_or(waived, |f| f.min(waived));
            diesel::update(grant_notices::table.find(id))
                .set((
                    grant_notices::objection_waived_on.eq(waived),
                    grant_notices::final_on.eq(final_day),
                    grant_notices::version.eq(current.version + 1),
                    grant_notices::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            NoticeStatus::Issued
        }
    };
    let notice = find(conn, caller, id, false).await?;
    let to = rule.target(stored);
    if action == NoticeAction::Issue {
        // The notice's proofs of use fall due from now on (an amending notice moves those not yet submitted).
        let schedule = crate::proofs_of_use::Schedule {
            application: notice.application_id,
            notice: notice.id,
            organisation: notice.recipient.id,
            district: notice.district.clone(),
            funding_line: notice.funding_line.clone(),
            period: (notice.period_start, notice.period_end),
        };
        crate::proofs_of_use::schedule(conn, caller, &schedule).await?;
    }
    // The letter sent is the letter kept: stored as the notice's attachment, its SHA-256 in this history entry.
    let letter = match (action, &input.storage) {
        (NoticeAction::Issue, Some(storage)) => Some(super::document::keep(conn, storage, caller, &notice).await?),
        (NoticeAction::Issue, None) => return Err(ApiError::internal("issue without a store for the letter")),
        _ => None,
    };
    let change = Change::transition(KIND, id, rule, current.status, to, audience(&notice)).document(letter);
    audit::record(conn, caller, change, &notice).await?;
    Ok(notice)
}

/// Closes the notice in force when its grant is settled, in the settlement's transaction (`grant_notice.closed`).
pub async fn close(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<GrantNotice> {
    let current = find(conn, &Caller::system(), id, true).await?;
    if !matches!(current.status, NoticeStatus::Issued | NoticeStatus::Final) {
        return Err(ApiError::conflict(
            "notice_not_issued",
            MessageParams::detail(current.status),
        ));
    }
    diesel::update(grant_notices::table.find(id))
        .set((
            grant_notices::status.eq(NoticeStatus::Closed.as_str()),
            grant_notices::version.eq(current.version + 1),
            grant_notices::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let notice = find(conn, &Caller::system(), id, false).await?;
    let change = Change::new(KIND, id, "close", "grant_notice.closed", audience(&notice))
        .states(Some(current.status), NoticeStatus::Closed);
    audit::record(conn, caller, change, &notice).await?;
    Ok(notice)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

#[cfg(test)]
mod tests {
    use super::final_on;
    use chrono::NaiveDate;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn a_notice_is_final_the_day_after_the_month_to_object() {
        // Delivered Tuesday 2026-12-01: the month ends on Neujahr (Friday), then a weekend: objection until Monday
        // 2027-01-04, final from the 5th. A week later no holiday intervenes: Friday 2027-01-08, final on the 9th.
        assert_eq!(final_on(day("2026-12-01")), Some(day("2027-01-05")));
        assert_eq!(final_on(day("2026-12-08")), Some(day("2027-01-09")));
        // The last day to object falls on Sunday 2026-02-15: it moves to Monday, final from Tuesday.
        assert_eq!(final_on(day("2026-01-15")), Some(day("2026-02-17")));
        // 31 January: the month after has no 31st; the last day is its last day (Saturday 2026-02-28 → Monday).
        assert_eq!(final_on(day("2026-01-31")), Some(day("2026-03-03")));
        // Delivered 2026-03-03: the last day would be Good Friday 2026-04-03; Saturday, Sunday and Easter Monday
        // follow, so it is Tuesday 2026-04-07 and the notice is final from 2026-04-08.
        assert_eq!(final_on(day("2026-03-03")), Some(day("2026-04-08")));
        // Delivered 2026-11-26: the last day would be Saturday 2026-12-26 (a holiday as well): Monday 2026-12-28.
        assert_eq!(final_on(day("2026-11-26")), Some(day("2026-12-29")));
    }
}

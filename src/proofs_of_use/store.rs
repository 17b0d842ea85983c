//! Every SQL statement on proofs of use. Visibility is applied in [`visible`]: a municipality sees only its own
//! organisation's proofs (all of them, from `open` on: they are its duties).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::db::schema::{funding_lines, organisations, proofs_of_use};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = proofs_of_use)]
struct Row {
    id: Uuid,
    notice_id: Uuid,
    application_id: Uuid,
    organisation_id: Uuid,
    district_ags: String,
    funding_line_code: String,
    kind: String,
    fiscal_year: Option<i32>,
    due_on: NaiveDate,
    status: String,
    report: serde_json::Value,
    income: serde_json::Value,
    receipts: serde_json::Value,
    content_signed_by: Option<String>,
    financial_signed_by: Option<String>,
    admitted_cents: Option<i64>,
    reason: Option<String>,
    submitted_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

type Joined = (Row, String);

fn to_api(caller: &Caller, (r, name): Joined) -> ApiResult<ProofOfUse> {
    let status: ProofStatus = r.status.parse().map_err(ApiError::internal)?;
    let receipts: Vec<Receipt> = serde_json::from_value(r.receipts).map_err(ApiError::internal)?;
    let allowed_actions = LIFECYCLE
        .allowed_actions(status)
        .into_iter()
        .filter(|a| LIFECYCLE.roles(*a).contains(&caller.role))
        .collect();
    Ok(ProofOfUse {
        id: r.id,
        notice_id: r.notice_id,
        application_id: r.application_id,
        recipient: ProofRecipient {
            id: r.organisation_id,
            name,
        },
        district: r.district_ags,
        funding_line: r.funding_line_code,
        kind: r.kind.parse().map_err(ApiError::internal)?,
        fiscal_year: r.fiscal_year,
        due_on: r.due_on,
        status,
        report: serde_json::from_value(r.report).map_err(ApiError::internal)?,
        income: serde_json::from_value(r.income).map_err(ApiError::internal)?,
        expenditure_cents: receipts.iter().map(|x| x.amount_cents).sum(),
        receipts,
        admitted_cents: r.admitted_cents,
        content_signed_by: r.content_signed_by,
        financial_signed_by: r.financial_signed_by,
        reason: r.reason,
        submitted_at: r.submitted_at,
        allowed_actions,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn json<T: serde::Serialize>(value: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

type Boxed = diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<proofs_of_use::table, organisations::table>, Pg>;

fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = proofs_of_use::table.inner_join(organisations::table).into_boxed();
    Ok(match caller.confined_to()? {
        Some(org) => query.filter(proofs_of_use::organisation_id.eq(org)),
        None => query,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<ProofOfUse> {
    if lock {
        proofs_of_use::table
            .find(id)
            .select(proofs_of_use::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
    }
    let row: Joined = visible(caller)?
        .filter(proofs_of_use::id.eq(id))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?;
    to_api(caller, row)
}

fn audience(p: &ProofOfUse) -> Audience {
    Audience::organisation(p.recipient.id)
}

/// The id of a grant's proof: derived, so that scheduling is idempotent and a notice's events can name it.
pub fn proof_id(application: Uuid, kind: ProofKind, year: Option<i32>) -> Uuid {
    let name = match year {
        Some(y) => format!("proof-of-use/{kind}/{y}"),
        None => format!("proof-of-use/{kind}"),
    };
    Uuid::new_v5(&application, name.as_bytes())
}

/// What issuing a notice tells the schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub application: Uuid,
    pub notice: Uuid,
    pub organisation: Uuid,
    pub district: String,
    pub funding_line: String,
    pub period: (NaiveDate, NaiveDate),
}

/// The due dates of a grant's proofs: an interim proof for each fiscal year the project runs past (the line's months
/// after the year's end, default 4), the final proof the line's months after the approval period (default 6).
pub fn due_dates(
    period: (NaiveDate, NaiveDate),
    interim_months: u32,
    final_months: u32,
) -> Vec<(ProofKind, Option<i32>, NaiveDate)> {
    let mut out = Vec::new();
    for year in period.0.year()..period.1.year() {
        let end = NaiveDate::from_ymd_opt(year, 12, 31);
        if let Some(due) = end.and_then(|d| d.checked_add_months(chrono::Months::new(interim_months))) {
            out.push((ProofKind::Interim, Some(year), due));
        }
    }
    if let Some(due) = period.1.checked_add_months(chrono::Months::new(final_months)) {
        out.push((ProofKind::Final, None, due));
    }
    out
}

/// Schedules a grant's proofs when a notice is issued, in the issuing transaction: each proof that does not exist
/// yet is created `open` (`proof_of_use.created`); one not yet submitted follows a changed period to its new due
/// date and names the notice in force (`proof_of_use.rescheduled`). Submitted and reviewed proofs keep theirs.
pub async fn schedule(conn: &mut AsyncPgConnection, caller: &Caller, s: &Schedule) -> ApiResult<()> {
    let (interim, fin): (i32, i32) = funding_lines::table
        .find(&s.funding_line)
        .select((funding_lines::interim_proof_months, funding_lines::final_proof_months))
        .first(conn)
        .await?;
    let months = |m: i32| u32::try_from(m).map_err(ApiError::internal);
    for (kind, year, due) in due_dates(s.period, months(interim)?, months(fin)?) {
        let id = proof_id(s.application, kind, year);
        let existing: Option<(String, NaiveDate, Uuid, i64)> = proofs_of_use::table
            .find(id)
            .select((
                proofs_of_use::status,
                proofs_of_use::due_on,
                proofs_of_use::notice_id,
                proofs_of_use::version,
            ))
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let (action, event) = match existing {
            None => {
                diesel::insert_into(proofs_of_use::table)
                    .values((
                        proofs_of_use::id.eq(id),
                        proofs_of_use::notice_id.eq(s.notice),
                        proofs_of_use::application_id.eq(s.application),
                        proofs_of_use::organisation_id.eq(s.organisation),
                        proofs_of_use::district_ags.eq(&s.district),
                        proofs_of_use::funding_line_code.eq(&s.funding_line),
                        proofs_of_use::kind.eq(kind.as_str()),
                        proofs_of_use::fiscal_year.eq(year),
                        proofs_of_use::due_on.eq(due),
                        proofs_of_use::status.eq(ProofStatus::Open.as_str()),
                    ))
                    .execute(conn)
                    .await?;
                ("create", "proof_of_use.created")
            }
            Some((status, old_due, notice, version)) => {
                let open = status == ProofStatus::Open.as_str() || status == ProofStatus::Draft.as_str();
                if !open || (old_due == due && notice == s.notice) {
                    continue;
                }
                diesel::update(proofs_of_use::table.find(id))
                    .set((
                        proofs_of_use::due_on.eq(due),
                        proofs_of_use::notice_id.eq(s.notice),
                        proofs_of_use::version.eq(version + 1),
                        proofs_of_use::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                ("reschedule", "proof_of_use.rescheduled")
            }
        };
        let proof = find(conn, &Caller::system(), id, false).await?;
        let change = Change::new(KIND, id, action, event, audience(&proof));
        audit::record(conn, caller, change, &proof).await?;
    }
    Ok(())
}

/// The one PATCH flow's step: the recipient writes its proof while `open`, `draft` or `changes_requested` (409
/// `not_editable` otherwise); the first change makes an open proof a draft.
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<ProofOfUse> {
    let current = find(conn, caller, id, true).await?;
    expected.check(current.version)?;
    if !matches!(
        current.status,
        ProofStatus::Open | ProofStatus::Draft | ProofStatus::ChangesRequested
    ) {
        return Err(ApiError::conflict(
            "not_editable",
            MessageParams::detail(current.status),
        ));
    }
    let content = ProofContent {
        report: Some(current.report.clone()),
        income: Some(current.income.clone()),
        receipts: Some(current.receipts.iter().map(ReceiptInput::from).collect()),
    };
    let Some((next, changed)) = crate::http::patch::merged(&content, &patch, &[])? else {
        return Ok(current);
    };
    let status = if current.status == ProofStatus::Open {
        ProofStatus::Draft
    } else {
        current.status
    };
    // A changed list starts without admissions: the review decides on what is submitted.
    let receipts: Vec<Receipt> = next
        .receipts
        .unwrap_or_default()
        .into_iter()
        .map(Receipt::from)
        .collect();
    diesel::update(proofs_of_use::table.find(id))
        .set((
            proofs_of_use::status.eq(status.as_str()),
            proofs_of_use::report.eq(json(&next.report.unwrap_or_default())?),
            proofs_of_use::income.eq(json(&next.income.unwrap_or_default())?),
            proofs_of_use::receipts.eq(json(&receipts)?),
            proofs_of_use::version.eq(current.version + 1),
            proofs_of_use::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let proof = find(conn, caller, id, false).await?;
    let mut change = Change::new(KIND, id, "update", "proof_of_use.changed", audience(&proof)).changed(changed);
    if status != current.status {
        change = change.states(Some(current.status), status);
    }
    audit::record(conn, caller, change, &proof).await?;
    Ok(proof)
}

/// What a submitted proof must hold: the report's activities and results, the income by source, at least one
/// receipt (422 `required` at each missing field).
fn completeness(p: &ProofOfUse) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let missing = |pointer: &str| FieldError::new(pointer, "required", MessageParams::default());
    if p.report.activities.as_deref().is_none_or(|t| t.trim().is_empty()) {
        errors.push(missing("/report/activities"));
    }
    if p.report.results.as_deref().is_none_or(|t| t.trim().is_empty()) {
        errors.push(missing("/report/results"));
    }
    for (field, value) in [
        ("ownFundsCents", p.income.own_funds_cents),
        ("thirdPartyFundsCents", p.income.third_party_funds_cents),
        ("grantCents", p.income.grant_cents),
    ] {
        if value.is_none() {
            errors.push(missing(&format!("/income/{field}")));
        }
    }
    if p.receipts.is_empty() {
        errors.push(missing("/receipts"));
    }
    errors
}

/// What a transition carries.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub reason: Option<String>,
    pub admissions: Vec<Admission>,
}

/// Moves a proof through its lifecycle: row lock, state, completeness, four eyes, admissions, audit, in the caller's
/// transaction.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: ProofAction,
    expected: Option<Expected>,
    input: TransitionInput,
) -> ApiResult<ProofOfUse> {
    let current = find(conn, caller, id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, action)?;
    let mut to = rule.target(current.status);
    let (mut content, mut financial) = (current.content_signed_by.clone(), current.financial_signed_by.clone());
    let mut receipts = current.receipts.clone();
    let mut reason = current.reason.clone();
    let mut submitted_at = current.submitted_at;
    match action {
        ProofAction::Submit => {
            let errors = completeness(&current);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            submitted_at = Some(Utc::now());
        }
        ProofAction::StartReview => {}
        ProofAction::RequestChanges | ProofAction::Reject => {
            reason = input.reason.clone();
            if action == ProofAction::RequestChanges {
                // A changed proof is reviewed afresh.
                (content, financial) = (None, None);
            }
        }
        ProofAction::SignContent => {
            caller.second_pair_of_eyes([financial.as_deref()])?;
            content = Some(caller.sub.clone());
        }
        ProofAction::SignFinancial => {
            caller.second_pair_of_eyes([content.as_deref()])?;
            let mut errors = Vec::new();
            for (i, a) in input.admissions.iter().enumerate() {
                match usize::try_from(a.index).ok().and_then(|k| receipts.get_mut(k)) {
                    None => errors.push(FieldError::new(
                        format!("/admissions/{i}/index"),
                        "out_of_range",
                        MessageParams::range(0, current.receipts.len().saturating_sub(1)),
                    )),
                    Some(r) if a.admitted_cents > r.amount_cents => errors.push(FieldError::new(
                        format!("/admissions/{i}/admittedCents"),
                        "out_of_range",
                        MessageParams::range(0, r.amount_cents),
                    )),
                    Some(r) => {
                        r.admitted_cents = Some(a.admitted_cents);
                        r.admission_note = a.note.clone();
                    }
                }
            }
            // Every receipt is decided: in full, in part or not at all.
            let undecided: Vec<usize> = (0..receipts.len())
                .filter(|k| receipts[*k].admitted_cents.is_none())
                .collect();
            if !undecided.is_empty() && errors.is_empty() {
                errors.push(FieldError::new(
                    "/admissions",
                    "undecided_receipts",
                    MessageParams::detail(undecided.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
                ));
            }
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            financial = Some(caller.sub.clone());
        }
    }
    if matches!(action, ProofAction::SignContent | ProofAction::SignFinancial)
        && content.is_some()
        && financial.is_some()
    {
        to = ProofStatus::Accepted;
    }
    let admitted = (to == ProofStatus::Accepted).then(|| receipts.iter().filter_map(|r| r.admitted_cents).sum::<i64>());
    diesel::update(proofs_of_use::table.find(id))
        .set((
            proofs_of_use::status.eq(to.as_str()),
            proofs_of_use::receipts.eq(json(&receipts)?),
            proofs_of_use::content_signed_by.eq(content),
            proofs_of_use::financial_signed_by.eq(financial),
            proofs_of_use::admitted_cents.eq(admitted),
            proofs_of_use::reason.eq(reason),
            proofs_of_use::submitted_at.eq(submitted_at),
            proofs_of_use::version.eq(current.version + 1),
            proofs_of_use::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let proof = find(conn, caller, id, false).await?;
    let change =
        Change::transition(KIND, id, rule, current.status, to, audience(&proof)).reason(input.reason.as_deref());
    audit::record(conn, caller, change, &proof).await?;
    Ok(proof)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

fn filtered(caller: &Caller, q: &ListProofs) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(s) = q.status {
        query = query.filter(proofs_of_use::status.eq(s.as_str()));
    }
    if let Some(k) = q.kind {
        query = query.filter(proofs_of_use::kind.eq(k.as_str()));
    }
    if let Some(a) = q.application_id {
        query = query.filter(proofs_of_use::application_id.eq(a));
    }
    if let Some(d) = q.due_before {
        query = query.filter(proofs_of_use::due_on.le(d));
    }
    Ok(query)
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListProofs,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(ProofOfUse, Uuid)>> {
    let mut query = filtered(caller, q)?
        .select((Row::as_select(), organisations::name))
        .order(proofs_of_use::id.asc());
    if let Some(after) = after {
        query = query.filter(proofs_of_use::id.gt(after));
    }
    let rows: Vec<Joined> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.0.id;
            Ok((to_api(caller, row)?, id))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListProofs) -> ApiResult<i64> {
    Ok(filtered(caller, q)?.count().get_result(conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_fall_due_after_each_year_and_after_the_period() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap_or_default();
        let dates = due_dates((d("2027-03-01"), d("2029-06-30")), 4, 6);
        assert_eq!(
            dates,
            vec![
                (ProofKind::Interim, Some(2027), d("2028-04-30")),
                (ProofKind::Interim, Some(2028), d("2029-04-30")),
                (ProofKind::Final, None, d("2029-12-30")),
            ]
        );
        // Within one year: the final proof only.
        assert_eq!(
            due_dates((d("2027-01-01"), d("2027-12-31")), 4, 6),
            vec![(ProofKind::Final, None, d("2028-06-30"))]
        );
    }
}

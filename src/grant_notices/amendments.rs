//! Änderungsbescheide: `amend` drafts the next number of a grant's notice from the notice in force, with the new
//! breakdown by fiscal year; it is completed (PATCH) and issued like the first one, by another ministry person
//! than the one who drafted it. On issue it replaces the notice in force (`amended`) and the ledger follows its
//! amounts in the same transaction: the line's and each fiscal year's commitment, never below what payment
//! requests already took of a year. A draft amendment that is not wanted is deleted.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use super::store::{audience, find, lock_grant_of};
use crate::audit::{self, Audience, Change};
use crate::core::identity::Caller;
use crate::db::schema::{grant_notice_years, grant_notices};
use crate::error::validation::fiscal_years;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

/// The resolved body of `amend` (the handler parses; the store decides).
#[derive(Debug, Clone)]
pub struct AmendInput {
    /// The body's failed field rules, reported together with those that need the notice.
    pub errors: Vec<FieldError>,
    pub reason: String,
    pub years: Option<Vec<(i32, i64)>>,
    pub period_end: Option<NaiveDate>,
}

/// Drafts the amending notice of the notice in force `id`: a copy of its terms with the new amounts and period,
/// number + 1, drafted by the caller (who therefore cannot issue it). One draft per grant at a time: 409
/// `amendment_pending` naming the draft's number.
pub async fn amend(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Option<Expected>,
    input: AmendInput,
) -> ApiResult<GrantNotice> {
    let application = lock_grant_of(conn, caller, id).await?;
    let current = find(conn, caller, id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, NoticeAction::Amend)?;
    let pending: Option<i32> = grant_notices::table
        .filter(grant_notices::application_id.eq(application))
        .filter(grant_notices::status.eq(NoticeStatus::Draft.as_str()))
        .select(grant_notices::number)
        .first(conn)
        .await
        .optional()?;
    if let Some(number) = pending {
        return Err(ApiError::conflict("amendment_pending", MessageParams::detail(number)));
    }
    let period_end = input.period_end.unwrap_or(current.period_end);
    let years: Vec<(i32, i64)> = match &input.years {
        Some(y) => y.clone(),
        None => current.years.iter().map(|y| (y.year, y.amount_cents)).collect(),
    };
    let mut errors = input.errors.clone();
    if period_end < current.period_start {
        errors.push(FieldError::new(
            "/periodEnd",
            "out_of_range",
            MessageParams::min(current.period_start),
        ));
    }
    // Years are checked against the period that stands if the new end is itself wrong (one failure, not two).
    let end = if period_end < current.period_start {
        current.period_end
    } else {
        period_end
    };
    let period = (Some(current.period_start.year()), Some(end.year()));
    for e in fiscal_years(&years, period) {
        // Years that were not sent but no longer fit a shortened period: the period is what is wrong.
        errors.push(if input.years.is_some() { e } else { e.at("/periodEnd") });
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        errors.dedup_by(|a, b| a.pointer == b.pointer && a.code == b.code);
        return Err(ApiError::Validation(errors));
    }
    let amount: i64 = years.iter().map(|(_, c)| c).sum();
    let new_id = Uuid::now_v7();
    diesel::insert_into(grant_notices::table)
        .values((
            grant_notices::id.eq(new_id),
            grant_notices::application_id.eq(application),
            grant_notices::number.eq(current.number + 1),
            grant_notices::status.eq(NoticeStatus::Draft.as_str()),
            grant_notices::organisation_id.eq(current.recipient.id),
            grant_notices::district_ags.eq(&current.district),
            grant_notices::funding_line_code.eq(&current.funding_line),
            grant_notices::amount_cents.eq(amount),
            grant_notices::financing_type.eq(current.financing_type.as_str()),
            grant_notices::rate_bp.eq(current.rate_basis_points),
            grant_notices::eligible_costs_cents.eq(current.eligible_costs_cents),
            grant_notices::purpose.eq(&current.purpose),
            grant_notices::period_start.eq(current.period_start),
            grant_notices::period_end.eq(period_end),
            grant_notices::lock_in_until.eq(current.lock_in_until.filter(|d| *d >= period_end)),
            grant_notices::clause_set.eq(current.clause_set.as_str()),
            grant_notices::excluded_clauses.eq(&current.excluded_clauses),
            grant_notices::conditions.eq(&current.conditions),
            grant_notices::legal_remedy.eq(&current.legal_remedy),
            grant_notices::file_number.eq(&current.file_number),
            grant_notices::approved_by.eq(&caller.sub),
            grant_notices::amends.eq(current.id),
            grant_notices::amendment_reason.eq(&input.reason),
        ))
        .execute(conn)
        .await?;
    diesel::insert_into(grant_notice_years::table)
        .values(
            years
                .iter()
                .filter(|(_, cents)| *cents > 0)
                .map(|&(year, cents)| {
                    (
                        grant_notice_years::notice_id.eq(new_id),
                        grant_notice_years::year.eq(year),
                        grant_notice_years::amount_cents.eq(cents),
                    )
                })
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;
    // The notice in force does not change until the amendment is issued; its history says one was drafted.
    let change = Change::transition(KIND, id, rule, current.status, current.status, Audience::staff())
        .reason(Some(&input.reason));
    audit::record(conn, caller, change, &current).await?;
    let draft = find(conn, caller, new_id, false).await?;
    let change = Change::new(KIND, new_id, "create", "grant_notice.created", audience(&draft));
    audit::record(conn, caller, change, &draft).await?;
    Ok(draft)
}

/// The effect of issuing an amending notice, in the issuing transaction (the grant is locked already): the
/// notice it amends becomes `amended`, and the ledger follows the new amounts (409 `year_budget_exceeded`,
/// `budget_exceeded` or `below_approved` where it cannot).
pub async fn take_effect(conn: &mut AsyncPgConnection, caller: &Caller, notice: &GrantNotice) -> ApiResult<()> {
    let Some(previous) = notice.amends else {
        return Ok(());
    };
    let before = find(conn, &Caller::system(), previous, true).await?;
    if !matches!(before.status, NoticeStatus::Issued | NoticeStatus::Final) {
        return Err(ApiError::conflict(
            "notice_not_issued",
            MessageParams::detail(before.status),
        ));
    }
    let years: Vec<(i32, i64)> = notice.years.iter().map(|y| (y.year, y.amount_cents)).collect();
    let changed =
        crate::funding_lines::recommit_years(conn, &notice.funding_line, notice.application_id, &years).await?;
    if changed {
        crate::funding_lines::record_commitment(conn, caller, &notice.funding_line).await?;
    }
    diesel::update(grant_notices::table.find(previous))
        .set((
            grant_notices::status.eq(NoticeStatus::Amended.as_str()),
            grant_notices::version.eq(before.version + 1),
            grant_notices::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let after = find(conn, &Caller::system(), previous, false).await?;
    let change = Change::new(KIND, previous, "supersede", "grant_notice.amended", audience(&after))
        .states(Some(before.status), NoticeStatus::Amended);
    audit::record(conn, caller, change, &after).await
}

/// Deletes an amending notice's draft (409 `not_deletable` for the first notice, which the approval drafted, and
/// for anything issued).
pub async fn discard(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
) -> ApiResult<Vec<String>> {
    let current = find(conn, caller, id, true).await?;
    expected.check(current.version)?;
    if current.status != NoticeStatus::Draft || current.amends.is_none() {
        return Err(ApiError::conflict(
            "not_deletable",
            MessageParams::detail(current.status),
        ));
    }
    let change = Change::new(KIND, id, "delete", "grant_notice.deleted", Audience::staff());
    audit::record(conn, caller, change, &current).await?;
    // The draft's files go with it (staff's only: a draft is not the recipient's to see).
    let kind = crate::files::model::OwnerKind::GrantNotice;
    let keys = crate::files::store::delete_all_of(conn, caller, kind, id, &Audience::staff()).await?;
    diesel::delete(grant_notices::table.find(id)).execute(conn).await?;
    Ok(keys)
}

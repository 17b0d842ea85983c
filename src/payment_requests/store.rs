//! Every SQL statement on payment requests. Visibility is applied in [`visible`]: a municipality sees only its own
//! organisation's requests. The money rules are checked in the acting transaction: the request row is locked, then
//! its notice (so that all approvals of one grant take turns, on any instance), and the ledger's conditional UPDATEs
//! and CHECK constraints are the backstop.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::db::schema::{organisations, payment_requests};
use crate::error::{ApiError, ApiResult, MessageParams};
use crate::grant_notices::{FinancingType, GrantNotice, NoticeStatus};
use crate::http::extract::Expected;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payment_requests)]
struct Row {
    id: Uuid,
    notice_id: Uuid,
    application_id: Uuid,
    organisation_id: Uuid,
    district_ags: String,
    funding_line_code: String,
    fiscal_year: i32,
    amount_cents: i64,
    expenses: serde_json::Value,
    status: String,
    checked_by: Option<String>,
    first_approval_by: Option<String>,
    approved_by: Option<String>,
    paid_on: Option<NaiveDate>,
    cash_reference: Option<String>,
    reason: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

type Joined = (Row, String);

fn to_api(caller: &Caller, (r, name): Joined) -> ApiResult<PaymentRequest> {
    let status: PaymentStatus = r.status.parse().map_err(ApiError::internal)?;
    let expenses: Vec<DueExpense> = serde_json::from_value(r.expenses).map_err(ApiError::internal)?;
    let allowed_actions = LIFECYCLE
        .allowed_actions(status)
        .into_iter()
        .filter(|a| LIFECYCLE.roles(*a).contains(&caller.role))
        .collect();
    Ok(PaymentRequest {
        id: r.id,
        notice_id: r.notice_id,
        application_id: r.application_id,
        recipient: Payee {
            id: r.organisation_id,
            name,
        },
        district: r.district_ags,
        funding_line: r.funding_line_code,
        fiscal_year: r.fiscal_year,
        amount_cents: r.amount_cents,
        due_expenses_cents: expenses.iter().map(|e| e.amount_cents).sum(),
        expenses,
        status,
        checked_by: r.checked_by,
        first_approval_by: r.first_approval_by,
        approved_by: r.approved_by,
        paid_on: r.paid_on,
        cash_reference: r.cash_reference,
        reason: r.reason,
        allowed_actions,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

type Boxed = diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<payment_requests::table, organisations::table>, Pg>;

fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = payment_requests::table.inner_join(organisations::table).into_boxed();
    Ok(match caller.confined_to()? {
        Some(org) => query.filter(payment_requests::organisation_id.eq(org)),
        None => query,
    })
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<PaymentRequest> {
    if lock {
        payment_requests::table
            .find(id)
            .select(payment_requests::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
    }
    let row: Joined = visible(caller)?
        .filter(payment_requests::id.eq(id))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?;
    to_api(caller, row)
}

fn audience(r: &PaymentRequest) -> Audience {
    Audience::organisation(r.recipient.id)
}

/// Payments are requested once the notice is issued, or final where the line says so: 409 `notice_not_issued`.
/// A request names the notice in force: one that an amending notice replaced answers 409 `notice_amended`.
fn check_notice(notice: &GrantNotice, require_final: bool) -> ApiResult<()> {
    if notice.status == NoticeStatus::Amended {
        return Err(ApiError::conflict(
            "notice_amended",
            MessageParams::detail(notice.number),
        ));
    }
    let ok = match notice.status {
        // A settled grant pays what its settlement left outstanding (its commitment was cut to that).
        NoticeStatus::Final | NoticeStatus::Closed => true,
        NoticeStatus::Issued => !require_final,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "notice_not_issued",
            MessageParams::detail(notice.status),
        ))
    }
}

/// The rules of a request against its notice, the line's settings and the grant's position.
async fn check_rules(
    conn: &mut AsyncPgConnection,
    notice: &GrantNotice,
    settings: &crate::funding_lines::PayoutSettings,
    (year, amount, expenses): (i32, i64, &[DueExpense]),
) -> ApiResult<()> {
    check_notice(notice, settings.require_final)?;
    let (approved, this_year) = crate::funding_lines::grant_position(conn, notice.application_id, year).await?;
    let terms = Terms {
        anteil: notice.financing_type == FinancingType::Anteilsfinanzierung,
        notice_amount: notice.amount_cents,
        eligible_costs: notice.eligible_costs_cents,
        window_months: u32::try_from(settings.window_months).unwrap_or(0),
        // The settlement releases the retention.
        retention_bp: if notice.status == NoticeStatus::Closed {
            0
        } else {
            settings.retention_bp
        },
    };
    let mut errors = payment_errors(amount, expenses, &terms, approved, crate::core::time::today_in_hessen());
    if this_year.is_none() {
        errors.push(crate::error::FieldError::new(
            "/fiscalYear",
            "no_commitment_in_year",
            MessageParams::detail(year),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A new request of the notice's recipient, as a draft (the notice must be issued already).
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    notice_id: Uuid,
    input: PaymentInput,
) -> ApiResult<PaymentRequest> {
    let notice = crate::grant_notices::find(conn, caller, notice_id, false).await?;
    let settings = crate::funding_lines::payout_settings(conn, &notice.funding_line).await?;
    check_notice(&notice, settings.require_final)?;
    let id = Uuid::now_v7();
    let year = input.fiscal_year.unwrap_or_else(|| {
        use chrono::Datelike;
        crate::core::time::today_in_hessen().year()
    });
    let expenses = serde_json::to_value(input.expenses.unwrap_or_default()).map_err(ApiError::internal)?;
    diesel::insert_into(payment_requests::table)
        .values((
            payment_requests::id.eq(id),
            payment_requests::notice_id.eq(notice.id),
            payment_requests::application_id.eq(notice.application_id),
            payment_requests::organisation_id.eq(notice.recipient.id),
            payment_requests::district_ags.eq(&notice.district),
            payment_requests::funding_line_code.eq(&notice.funding_line),
            payment_requests::fiscal_year.eq(year),
            payment_requests::amount_cents.eq(input.amount_cents.unwrap_or(0)),
            payment_requests::expenses.eq(expenses),
            payment_requests::status.eq(PaymentStatus::Draft.as_str()),
            payment_requests::created_by.eq(&caller.sub),
        ))
        .execute(conn)
        .await?;
    let request = find(conn, caller, id, false).await?;
    let change = Change::new(KIND, id, "create", "payment_request.created", audience(&request));
    audit::record(conn, caller, change, &request).await?;
    Ok(request)
}

/// What a transition carries.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub correction: Option<PaymentInput>,
    pub reason: Option<String>,
    pub paid_on: Option<NaiveDate>,
    pub cash_reference: Option<String>,
}

/// Moves a request through its lifecycle: row lock, state, four eyes, rules, ledger, audit, in the caller's
/// transaction.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: PaymentAction,
    expected: Option<Expected>,
    input: TransitionInput,
) -> ApiResult<PaymentRequest> {
    let current = find(conn, caller, id, true).await?;
    if let Some(e) = expected {
        e.check(current.version)?;
    }
    let rule = LIFECYCLE.check(current.status, action)?;
    let mut to = rule.target(current.status);
    let mut amount = current.amount_cents;
    let mut expenses = current.expenses.clone();
    let mut year = current.fiscal_year;
    let (mut checked_by, mut first_approval_by, mut approved_by) = (
        current.checked_by.clone(),
        current.first_approval_by.clone(),
        current.approved_by.clone(),
    );
    let (mut paid_on, mut cash_reference, mut reason) =
        (current.paid_on, current.cash_reference.clone(), current.reason.clone());
    match action {
        PaymentAction::Submit => {
            if let Some(c) = &input.correction {
                amount = c.amount_cents.unwrap_or(amount);
                year = c.fiscal_year.unwrap_or(year);
                expenses = c.expenses.clone().unwrap_or(expenses);
            }
            // The rules read the notice in force: an amendment since the draft changes what may be requested.
            let notice = crate::grant_notices::in_force(conn, current.application_id).await?;
            let settings = crate::funding_lines::payout_settings(conn, &notice.funding_line).await?;
            check_rules(conn, &notice, &settings, (year, amount, &expenses)).await?;
        }
        PaymentAction::Cancel => {}
        PaymentAction::Check => checked_by = Some(caller.sub.clone()),
        PaymentAction::Return | PaymentAction::Reject => {
            reason = input.reason.clone();
            if action == PaymentAction::Return {
                (checked_by, first_approval_by) = (None, None);
            }
        }
        PaymentAction::Approve => {
            caller.second_pair_of_eyes([checked_by.as_deref(), first_approval_by.as_deref()])?;
            // All approvals and amendments of one grant take turns on its lock, and read the notice in force.
            crate::grant_notices::lock_grant(conn, current.application_id).await?;
            let notice = crate::grant_notices::in_force(conn, current.application_id).await?;
            let settings = crate::funding_lines::payout_settings(conn, &notice.funding_line).await?;
            let needs_third = settings.third_signoff_above_cents.is_some_and(|t| amount > t);
            if needs_third && first_approval_by.is_none() {
                first_approval_by = Some(caller.sub.clone());
                to = PaymentStatus::Checked;
            } else {
                if !crate::organisations::has_bank_account(conn, current.recipient.id).await? {
                    return Err(ApiError::conflict("no_bank_account", MessageParams::default()));
                }
                check_rules(conn, &notice, &settings, (year, amount, &expenses)).await?;
                crate::funding_lines::approve_payment(conn, current.application_id, year, amount).await?;
                approved_by = Some(caller.sub.clone());
                to = PaymentStatus::Approved;
            }
        }
        PaymentAction::Pay => {
            let day = input
                .paid_on
                .ok_or_else(|| ApiError::internal("payment without date"))?;
            if day > crate::core::time::today_in_hessen() {
                return Err(ApiError::Validation(vec![crate::error::FieldError::new(
                    "/paidOn",
                    "in_future",
                    MessageParams::default(),
                )]));
            }
            crate::funding_lines::book_payment(conn, &current.funding_line, current.application_id, year, amount)
                .await?;
            paid_on = Some(day);
            cash_reference = input.cash_reference.clone();
        }
    }
    diesel::update(payment_requests::table.find(id))
        .set((
            payment_requests::status.eq(to.as_str()),
            payment_requests::amount_cents.eq(amount),
            payment_requests::fiscal_year.eq(year),
            payment_requests::expenses.eq(serde_json::to_value(&expenses).map_err(ApiError::internal)?),
            payment_requests::checked_by.eq(checked_by),
            payment_requests::first_approval_by.eq(first_approval_by),
            payment_requests::approved_by.eq(approved_by),
            payment_requests::paid_on.eq(paid_on),
            payment_requests::cash_reference.eq(cash_reference),
            payment_requests::reason.eq(reason),
            payment_requests::version.eq(current.version + 1),
            payment_requests::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let request = find(conn, caller, id, false).await?;
    let change =
        Change::transition(KIND, id, rule, current.status, to, audience(&request)).reason(input.reason.as_deref());
    audit::record(conn, caller, change, &request).await?;
    Ok(request)
}

pub async fn history(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    find(conn, caller, id, false).await?;
    history::list(conn, KIND, id).await
}

fn filtered(caller: &Caller, q: &ListPaymentRequests) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(s) = q.status {
        query = query.filter(payment_requests::status.eq(s.as_str()));
    }
    if let Some(n) = q.notice_id {
        query = query.filter(payment_requests::notice_id.eq(n));
    }
    if let Some(y) = q.fiscal_year {
        query = query.filter(payment_requests::fiscal_year.eq(y));
    }
    Ok(query)
}

pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListPaymentRequests,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(PaymentRequest, Uuid)>> {
    let mut query = filtered(caller, q)?
        .select((Row::as_select(), organisations::name))
        .order(payment_requests::id.asc());
    if let Some(after) = after {
        query = query.filter(payment_requests::id.gt(after));
    }
    let rows: Vec<Joined> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.0.id;
            Ok((to_api(caller, row)?, id))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &ListPaymentRequests) -> ApiResult<i64> {
    Ok(filtered(caller, q)?.count().get_result(conn).await?)
}

//! § 49a Abs. 4 HVwVfG at settlement: which parts of the payouts were used only after the payout window, and their
//! interest (core::late_use). Payouts are the paid payment requests; uses are the grant's share of every admitted
//! receipt of the accepted proofs of use, on the day it was paid.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::LateUsePart;
use crate::core::interest::{self, DEFAULT_SURCHARGE_BP};
use crate::db::schema::{funding_lines, payment_requests, proofs_of_use};
use crate::error::{ApiError, ApiResult};
use crate::proofs_of_use::ProofStatus;

/// The late uses of a grant, with interest through yesterday (or as far as the base-rate table reaches). `share`
/// is the grant's part of each euro spent: its amount over its eligible costs (the notice's figures).
pub async fn compute(
    conn: &mut AsyncPgConnection,
    application: Uuid,
    funding_line: &str,
    (amount, eligible): (i64, i64),
) -> ApiResult<(Vec<LateUsePart>, i64)> {
    let payouts: Vec<(Option<NaiveDate>, i64)> = payment_requests::table
        .filter(payment_requests::application_id.eq(application))
        .filter(payment_requests::status.eq("paid"))
        .select((payment_requests::paid_on, payment_requests::amount_cents))
        .load(conn)
        .await?;
    let payouts: Vec<(NaiveDate, i64)> = payouts.into_iter().filter_map(|(d, c)| Some((d?, c))).collect();
    let receipts: Vec<serde_json::Value> = proofs_of_use::table
        .filter(proofs_of_use::application_id.eq(application))
        .filter(proofs_of_use::status.eq(ProofStatus::Accepted.as_str()))
        .select(proofs_of_use::receipts)
        .load(conn)
        .await?;
    let mut uses = Vec::new();
    for list in &receipts {
        for r in list.as_array().into_iter().flatten() {
            let day = r.get("paidOn").and_then(|d| d.as_str()).and_then(|d| d.parse().ok());
            let admitted = r.get("admittedCents").and_then(serde_json::Value::as_i64);
            if let (Some(day), Some(admitted)) = (day, admitted) {
                // The grant's share, rounded down: the state never counts more of its money as used than it paid.
                let share = i128::from(admitted) * i128::from(amount) / i128::from(eligible.max(1));
                uses.push((day, i64::try_from(share).map_err(ApiError::internal)?));
            }
        }
    }
    let window: i32 = funding_lines::table
        .find(funding_line)
        .select(funding_lines::payout_window_months)
        .first(conn)
        .await?;
    let rates = crate::base_rates::table(conn).await?;
    let yesterday = crate::core::time::today_in_hessen()
        .pred_opt()
        .unwrap_or(NaiveDate::MIN);
    let last_day = interest::covered_until(&rates).map_or(yesterday, |c| c.min(yesterday));
    let window = u32::try_from(window).map_err(ApiError::internal)?;
    let late = crate::core::late_use::late_uses(&payouts, &uses, window, last_day, &rates, DEFAULT_SURCHARGE_BP)
        .map_err(|e| ApiError::internal(format!("late-use interest: {e:?}")))?;
    let total = late.iter().map(|l| l.interest.total_cents).sum();
    let parts = late
        .into_iter()
        .map(|l| LateUsePart {
            paid_on: l.paid_on,
            used_on: l.used_on,
            cents: l.cents,
            interest_cents: l.interest.total_cents,
            interest_periods: crate::base_rates::periods(l.interest.periods),
        })
        .collect();
    Ok((parts, total))
}

//! Interest on funds paid out and not used in time: § 49a Abs. 4 HVwVfG (VwVfG), VV Nr. 9.5 zu § 44 LHO. Where a
//! payment is not used for the grant's purpose within the payout window (the line's `payout_window_months`, default
//! two months, as ANBest Nr. 1.4 allows drawing funds only for expenses due that soon), interest at the rate of
//! § 49a Abs. 3 (5 points above the base rate) may be charged **for the time from the payout to the use** (BVerwG 8 C
//! 30.01).
//!
//! Which money was used when is not recorded by the recipient; it follows from the accepted proofs of use. Each
//! admitted receipt used the grant's share of it on the day it was paid; the uses consume the payouts first in,
//! first out (money spent before a payout is covered by that payout on its day: used at once). A part of a payout
//! that no receipt used is not "late": it was not needed at all and is reclaimed with the settlement's overpayment.

use chrono::{Months, NaiveDate};

use super::interest::{BaseRate, Interest, InterestError, accrue};

/// A part of one payout that was used after the window, with its interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateUse {
    pub paid_on: NaiveDate,
    /// The day the money was used (the receipt's payment day).
    pub used_on: NaiveDate,
    pub cents: i64,
    /// From `paid_on` through the day before `used_on`, bounded by `last_day`.
    pub interest: Interest,
}

/// The late uses of `payouts` (day, cents) by `uses` (day, grant cents), with interest at `surcharge_bp` above the
/// base rate through `last_day` at the latest (yesterday, or the last day the base-rate table covers). Parts used
/// on the same day from the same payout form one entry.
pub fn late_uses(
    payouts: &[(NaiveDate, i64)],
    uses: &[(NaiveDate, i64)],
    window_months: u32,
    last_day: NaiveDate,
    rates: &[BaseRate],
    surcharge_bp: i32,
) -> Result<Vec<LateUse>, InterestError> {
    let mut payouts: Vec<(NaiveDate, i64)> = payouts.iter().copied().filter(|(_, c)| *c > 0).collect();
    payouts.sort();
    let mut uses: Vec<(NaiveDate, i64)> = uses.iter().copied().filter(|(_, c)| *c > 0).collect();
    uses.sort();
    let mut chunks: Vec<(NaiveDate, NaiveDate, i64)> = Vec::new();
    let mut next = 0;
    for (day, mut wanted) in uses {
        while wanted > 0 && next < payouts.len() {
            let (paid_on, left) = &mut payouts[next];
            let taken = wanted.min(*left);
            *left -= taken;
            wanted -= taken;
            let used_on = day.max(*paid_on);
            let window_ends = paid_on
                .checked_add_months(Months::new(window_months))
                .ok_or(InterestError::TooLarge)?;
            if used_on > window_ends {
                match chunks.last_mut() {
                    Some(last) if last.0 == *paid_on && last.1 == used_on => last.2 += taken,
                    _ => chunks.push((*paid_on, used_on, taken)),
                }
            }
            if *left == 0 {
                next += 1;
            }
        }
    }
    chunks
        .into_iter()
        .map(|(paid_on, used_on, cents)| {
            let until = used_on.pred_opt().unwrap_or(used_on).min(last_day);
            let interest = if until >= paid_on {
                accrue(cents, paid_on, until, rates, surcharge_bp)?
            } else {
                Interest {
                    periods: Vec::new(),
                    total_cents: 0,
                }
            };
            Ok(LateUse {
                paid_on,
                used_on,
                cents,
                interest,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::interest::DEFAULT_SURCHARGE_BP;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rates() -> Vec<BaseRate> {
        [("2025-07-01", 127), ("2026-01-01", 127), ("2026-07-01", 152)]
            .iter()
            .map(|(d, bp)| BaseRate {
                valid_from: day(d),
                rate_bp: *bp,
            })
            .collect()
    }

    #[test]
    fn money_used_within_the_window_bears_no_interest_and_later_use_bears_it_from_the_payout() {
        // 1,600,000 paid on 2026-01-02; 800,000 used on 2026-02-20 (in the window, which ends 2026-03-02) and
        // 800,000 on 2026-05-15: interest on 800,000 from 2026-01-02 to 2026-05-14, 133 days at 6.27 %:
        // 800,000 × 6.27 % × 133 / 365 = 18,277.48 → 18,277.
        let late = late_uses(
            &[(day("2026-01-02"), 1_600_000)],
            &[(day("2026-05-15"), 800_000), (day("2026-02-20"), 800_000)],
            2,
            day("2026-11-26"),
            &rates(),
            DEFAULT_SURCHARGE_BP,
        )
        .unwrap();
        assert_eq!(late.len(), 1);
        assert_eq!(
            (late[0].paid_on, late[0].used_on, late[0].cents),
            (day("2026-01-02"), day("2026-05-15"), 800_000)
        );
        assert_eq!(late[0].interest.periods[0].days, 133);
        assert_eq!(late[0].interest.total_cents, 18_277);
    }

    #[test]
    fn uses_take_the_oldest_payout_first_and_money_spent_before_a_payout_is_used_on_its_day() {
        // Spent 500,000 before any payout, then 300,000 on 2026-06-30. Payouts: 600,000 on 2026-01-02, 200,000 on
        // 2026-05-01. The first use takes 500,000 of the first payout on its own day; the second takes the first
        // payout's last 100,000 (late: after 2026-03-02) and 200,000 of the second (in its window, to 2026-07-01).
        let late = late_uses(
            &[(day("2026-05-01"), 200_000), (day("2026-01-02"), 600_000)],
            &[(day("2025-12-01"), 500_000), (day("2026-06-30"), 300_000)],
            2,
            day("2026-11-26"),
            &rates(),
            DEFAULT_SURCHARGE_BP,
        )
        .unwrap();
        assert_eq!(late.len(), 1);
        assert_eq!(
            (late[0].paid_on, late[0].used_on, late[0].cents),
            (day("2026-01-02"), day("2026-06-30"), 100_000)
        );
        // 2026-01-02 to 2026-06-29: 179 days at 6.27 %: 100,000 × 6.27 % × 179 / 365 = 3,074.88 → 3,075.
        assert_eq!(late[0].interest.total_cents, 3_075);
    }

    #[test]
    fn interest_stops_at_the_last_day_given_and_unused_money_is_not_late() {
        let late = late_uses(
            &[(day("2026-01-02"), 1_000_000)],
            &[(day("2026-12-31"), 100_000)],
            2,
            day("2026-01-31"),
            &rates(),
            DEFAULT_SURCHARGE_BP,
        )
        .unwrap();
        // Only the 100,000 used is late (the other 900,000 were never used: the overpayment), and interest runs
        // through 2026-01-31 only: 30 days, 100,000 × 6.27 % × 30 / 365 = 515.34 → 515.
        assert_eq!(late[0].cents, 100_000);
        assert_eq!(late[0].interest.total_cents, 515);
        let none = late_uses(&[], &[(day("2026-12-31"), 1)], 2, day("2026-12-31"), &rates(), 500).unwrap();
        assert!(none.is_empty());
    }
}

//! Interest on a recovery claim (Erstattungsanspruch): § 49a Abs. 3 VwVfG (Hessen's HVwVfG has the same numbers)
//! charges 5 percentage points a year above the Basiszinssatz of § 247 BGB, from the day the notice's effect ended.
//!
//! Interest accrues day by day at the rate of that day, over the length of that day's calendar year (365 or 366
//! days). Days of one rate within one calendar year form a period; each period's interest is summed exactly as a
//! fraction of cents and rounded half up once, and the total is the sum of the rounded periods, so that a statement
//! listing the periods adds up.

use chrono::{Datelike, NaiveDate};

/// § 49a Abs. 3 VwVfG: five percentage points above the base rate.
pub const DEFAULT_SURCHARGE_BP: i32 = 500;

/// Basiszinssatz (§ 247 BGB) of one half-year, as the Deutsche Bundesbank publishes it for each 1 January and
/// 1 July. It holds from `valid_from` to the day before the next rate starts, but never past the end of its own
/// half-year: a half-year missing from the list has no rate, so that a rate not yet published is reported as
/// unknown instead of quietly carrying the last one forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaseRate {
    pub valid_from: NaiveDate,
    /// Basis points, may be negative (−0.88 % is −88).
    pub rate_bp: i32,
}

/// Days at one rate within one calendar year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestPeriod {
    pub from: NaiveDate,
    /// Last day, included.
    pub until: NaiveDate,
    pub days: i64,
    pub base_rate_bp: i32,
    /// Base rate plus surcharge. When it is negative the period earns no interest (it is reported as it is).
    pub rate_bp: i32,
    pub interest_cents: i64,
}

/// The interest on a claim, by period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    pub periods: Vec<InterestPeriod>,
    /// The sum of the periods' rounded interest.
    pub total_cents: i64,
}

/// Why interest cannot be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterestError {
    /// The first day lies after the last.
    FromAfterUntil,
    NegativePrincipal,
    /// No base rate is known for this day (the first such day of the span).
    NoBaseRate(NaiveDate),
    /// Two base rates start on this day.
    DuplicateBaseRate(NaiveDate),
    /// The rate or the interest does not fit its integer type.
    TooLarge,
}

/// Interest on `principal_cents` from `from` to `until` (both included) at the base rate of each day plus
/// `surcharge_bp` ([`DEFAULT_SURCHARGE_BP`] for § 49a VwVfG), split into periods of one rate within one calendar
/// year. `base_rates` may come in any order.
pub fn accrue(
    principal_cents: i64,
    from: NaiveDate,
    until: NaiveDate,
    base_rates: &[BaseRate],
    surcharge_bp: i32,
) -> Result<Interest, InterestError> {
    if from > until {
        return Err(InterestError::FromAfterUntil);
    }
    if principal_cents < 0 {
        return Err(InterestError::NegativePrincipal);
    }
    let mut rates = base_rates.to_vec();
    rates.sort_by_key(|r| r.valid_from);
    if let Some(pair) = rates.windows(2).find(|w| w[0].valid_from == w[1].valid_from) {
        return Err(InterestError::DuplicateBaseRate(pair[0].valid_from));
    }

    let mut periods: Vec<InterestPeriod> = Vec::new();
    let mut day = from;
    loop {
        let (base_rate_bp, rate_ends) = rate_on(&rates, day).ok_or(InterestError::NoBaseRate(day))?;
        let year_ends = NaiveDate::from_ymd_opt(day.year(), 12, 31).ok_or(InterestError::NoBaseRate(day))?;
        let until_here = until.min(rate_ends).min(year_ends);
        // The half-years of one year with an unchanged rate make one period.
        match periods.last_mut() {
            Some(last) if last.base_rate_bp == base_rate_bp && last.from.year() == day.year() => {
                last.until = until_here;
            }
            _ => periods.push(InterestPeriod {
                from: day,
                until: until_here,
                days: 0,
                base_rate_bp,
                rate_bp: base_rate_bp.checked_add(surcharge_bp).ok_or(InterestError::TooLarge)?,
                interest_cents: 0,
            }),
        }
        if until_here >= until {
            break;
        }
        day = until_here.succ_opt().ok_or(InterestError::NoBaseRate(until_here))?;
    }

    let mut total: i64 = 0;
    for period in &mut periods {
        period.days = (period.until - period.from).num_days() + 1;
        period.interest_cents = period_interest(principal_cents, period.rate_bp, period.days, period.from.year())?;
        total = total
            .checked_add(period.interest_cents)
            .ok_or(InterestError::TooLarge)?;
    }
    Ok(Interest {
        periods,
        total_cents: total,
    })
}

/// The last day the table gives a rate for: the end of its last half-year (`None` for an empty table).
pub fn covered_until(base_rates: &[BaseRate]) -> Option<NaiveDate> {
    base_rates
        .iter()
        .map(|r| r.valid_from)
        .max()
        .and_then(|d| d.checked_add_months(chrono::Months::new(6)))
        .and_then(|d| d.pred_opt())
}

/// The base rate on `day` and the last day it holds, from rates sorted by their first day.
fn rate_on(rates: &[BaseRate], day: NaiveDate) -> Option<(i32, NaiveDate)> {
    let index = rates.partition_point(|r| r.valid_from <= day).checked_sub(1)?;
    let rate = rates[index];
    let half_year_ends = if rate.valid_from.month() <= 6 {
        NaiveDate::from_ymd_opt(rate.valid_from.year(), 6, 30)
    } else {
        NaiveDate::from_ymd_opt(rate.valid_from.year(), 12, 31)
    }?;
    let ends = match rates.get(index + 1) {
        Some(next) => half_year_ends.min(next.valid_from.pred_opt()?),
        None => half_year_ends,
    };
    (day <= ends).then_some((rate.rate_bp, ends))
}

/// Σ over the period's days of principal × rate / 10000 / days of the year, rounded half up to a cent. Every day
/// of a period has the same rate and year, so the sum is principal × rate × days / (10000 × days of the year),
/// taken exactly in `i128`.
fn period_interest(principal_cents: i64, rate_bp: i32, days: i64, year: i32) -> Result<i64, InterestError> {
    if rate_bp <= 0 {
        return Ok(0);
    }
    let days_of_year: i128 = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    };
    let numerator = i128::from(principal_cents) * i128::from(rate_bp) * i128::from(days);
    let denominator = 10_000 * days_of_year;
    // Half up for a non-negative fraction n/d: ⌊(2n + d) / 2d⌋.
    i64::try_from((2 * numerator + denominator) / (2 * denominator)).map_err(|_| InterestError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rate(y: i32, m: u32, rate_bp: i32) -> BaseRate {
        BaseRate {
            valid_from: d(y, m, 1),
            rate_bp,
        }
    }

    fn period(from: NaiveDate, until: NaiveDate, days: i64, base: i32, cents: i64) -> InterestPeriod {
        InterestPeriod {
            from,
            until,
            days,
            base_rate_bp: base,
            rate_bp: base + DEFAULT_SURCHARGE_BP,
            interest_cents: cents,
        }
    }

    /// 10,000.00 € in every example.
    const PRINCIPAL: i64 = 1_000_000;

    #[test]
    fn a_claim_across_a_change_of_the_base_rate() {
        // 2024 has 366 days. Base rate 3.62 % from 2024-01-01, 3.37 % from 2024-07-01.
        // 2024-05-01..2024-06-30: 31 + 30 = 61 days at 3.62 + 5 = 8.62 %:
        //   1,000,000 × 862 × 61 / (10,000 × 366) = 52,582,000,000 / 3,660,000 = 14,366.67 → 14,367 cents
        // 2024-07-01..2024-09-30: 31 + 31 + 30 = 92 days at 3.37 + 5 = 8.37 %:
        //   1,000,000 × 837 × 92 / (10,000 × 366) = 77,004,000,000 / 3,660,000 = 21,039.34 → 21,039 cents
        // Total 14,367 + 21,039 = 35,406 cents = 354.06 €.
        let rates = [rate(2024, 7, 337), rate(2024, 1, 362)];
        let i = accrue(PRINCIPAL, d(2024, 5, 1), d(2024, 9, 30), &rates, DEFAULT_SURCHARGE_BP).unwrap();
        assert_eq!(
            i.periods,
            vec![
                period(d(2024, 5, 1), d(2024, 6, 30), 61, 362, 14_367),
                period(d(2024, 7, 1), d(2024, 9, 30), 92, 337, 21_039),
            ]
        );
        assert_eq!(i.periods[0].rate_bp, 862);
        assert_eq!(i.total_cents, 35_406);
    }

    #[test]
    fn the_year_boundary_into_a_leap_year() {
        // 2023-12-01..2023-12-31: 31 days at 3.12 + 5 = 8.12 % over 365 days:
        //   1,000,000 × 812 × 31 / 3,650,000 = 25,172,000,000 / 3,650,000 = 6,896.44 → 6,896 cents
        // 2024-01-01..2024-01-31: 31 days at 3.62 + 5 = 8.62 % over 366 days:
        //   1,000,000 × 862 × 31 / 3,660,000 = 26,722,000,000 / 3,660,000 = 7,301.09 → 7,301 cents
        // Total 14,197 cents.
        let rates = [rate(2023, 7, 312), rate(2024, 1, 362)];
        let i = accrue(PRINCIPAL, d(2023, 12, 1), d(2024, 1, 31), &rates, DEFAULT_SURCHARGE_BP).unwrap();
        assert_eq!(
            i.periods,
            vec![
                period(d(2023, 12, 1), d(2023, 12, 31), 31, 312, 6_896),
                period(d(2024, 1, 1), d(2024, 1, 31), 31, 362, 7_301),
            ]
        );
        assert_eq!(i.total_cents, 14_197);
    }

    #[test]
    fn a_negative_base_rate_split_at_the_year_although_it_did_not_change() {
        // −0.88 % held from 2016-07-01 to 2022-12-31; + 5 = 4.12 %. The same 31 days earn less in the leap year:
        // 2019-12: 1,000,000 × 412 × 31 / 3,650,000 = 12,772,000,000 / 3,650,000 = 3,499.18 → 3,499 cents
        // 2020-01: 1,000,000 × 412 × 31 / 3,660,000 = 12,772,000,000 / 3,660,000 = 3,489.62 → 3,490 cents
        let rates = [rate(2019, 7, -88), rate(2020, 1, -88)];
        let i = accrue(PRINCIPAL, d(2019, 12, 1), d(2020, 1, 31), &rates, DEFAULT_SURCHARGE_BP).unwrap();
        assert_eq!(
            i.periods,
            vec![
                period(d(2019, 12, 1), d(2019, 12, 31), 31, -88, 3_499),
                period(d(2020, 1, 1), d(2020, 1, 31), 31, -88, 3_490),
            ]
        );
        assert_eq!(i.periods[0].rate_bp, 412);
        assert_eq!(i.total_cents, 6_989);
    }

    #[test]
    fn a_negative_sum_rate_earns_nothing() {
        // With no surcharge, −0.83 % and −0.88 % earn 0; 2023's 1.62 % earns
        //   1,000,000 × 162 × 31 / 3,650,000 = 5,022,000,000 / 3,650,000 = 1,375.89 → 1,376 cents.
        let rates = [rate(2016, 1, -83), rate(2016, 7, -88), rate(2023, 1, 162)];
        let i = accrue(PRINCIPAL, d(2016, 6, 1), d(2016, 7, 31), &rates, 0).unwrap();
        assert_eq!(i.periods.len(), 2);
        assert_eq!((i.periods[0].rate_bp, i.periods[0].interest_cents), (-83, 0));
        assert_eq!((i.periods[1].rate_bp, i.periods[1].interest_cents), (-88, 0));
        assert_eq!(i.total_cents, 0);
        let i = accrue(PRINCIPAL, d(2023, 1, 1), d(2023, 1, 31), &rates, 0).unwrap();
        assert_eq!(i.total_cents, 1_376);
    }

    #[test]
    fn one_day_and_rounding_half_up() {
        // One day at 8.37 % in 2024: 1,000,000 × 837 / 3,660,000 = 228.69 → 229 cents.
        let rates = [rate(2024, 7, 337)];
        let i = accrue(PRINCIPAL, d(2024, 7, 15), d(2024, 7, 15), &rates, DEFAULT_SURCHARGE_BP).unwrap();
        assert_eq!(i.periods, vec![period(d(2024, 7, 15), d(2024, 7, 15), 1, 337, 229)]);
        assert_eq!(i.total_cents, 229);
        // One day at exactly 5 % in a 365-day year is principal / 7,300: 36.50 € earn exactly half a cent, which
        // rounds up; 36.49 € earn 0.4999 cents, which round down.
        let rates = [rate(2023, 7, 0)];
        let one_day = |p| accrue(p, d(2023, 8, 1), d(2023, 8, 1), &rates, DEFAULT_SURCHARGE_BP);
        assert_eq!(one_day(3_650).unwrap().total_cents, 1);
        assert_eq!(one_day(3_649).unwrap().total_cents, 0);
        assert_eq!(one_day(0).unwrap().total_cents, 0);
    }

    #[test]
    fn unchanged_half_years_of_a_year_make_one_period() {
        // 0.12 % all of 2010 (two published half-years): 365 days at 5.12 % is exactly 5.12 % of the principal,
        // 1,000,000 × 512 × 365 / 3,650,000 = 51,200 cents.
        let rates = [rate(2010, 1, 12), rate(2010, 7, 12)];
        let i = accrue(PRINCIPAL, d(2010, 1, 1), d(2010, 12, 31), &rates, DEFAULT_SURCHARGE_BP).unwrap();
        assert_eq!(i.periods, vec![period(d(2010, 1, 1), d(2010, 12, 31), 365, 12, 51_200)]);
    }

    #[test]
    fn errors() {
        let rates = [rate(2024, 1, 362), rate(2024, 7, 337)];
        let at = |from, until| accrue(PRINCIPAL, from, until, &rates, DEFAULT_SURCHARGE_BP);
        assert_eq!(at(d(2024, 2, 2), d(2024, 2, 1)), Err(InterestError::FromAfterUntil));
        // Before the first rate.
        assert_eq!(
            at(d(2023, 12, 31), d(2024, 1, 5)),
            Err(InterestError::NoBaseRate(d(2023, 12, 31)))
        );
        // After the last published half-year: 2025's rate is not in the list, so it is unknown.
        assert_eq!(
            at(d(2024, 12, 1), d(2025, 1, 5)),
            Err(InterestError::NoBaseRate(d(2025, 1, 1)))
        );
        // A half-year missing in the middle.
        let gap = [rate(2024, 1, 362), rate(2025, 1, 227)];
        assert_eq!(
            accrue(PRINCIPAL, d(2024, 6, 1), d(2025, 2, 1), &gap, DEFAULT_SURCHARGE_BP),
            Err(InterestError::NoBaseRate(d(2024, 7, 1)))
        );
        let twice = [rate(2024, 1, 362), rate(2024, 1, 300)];
        assert_eq!(
            accrue(PRINCIPAL, d(2024, 2, 1), d(2024, 2, 1), &twice, DEFAULT_SURCHARGE_BP),
            Err(InterestError::DuplicateBaseRate(d(2024, 1, 1)))
        );
        assert_eq!(
            accrue(-1, d(2024, 2, 1), d(2024, 2, 1), &rates, DEFAULT_SURCHARGE_BP),
            Err(InterestError::NegativePrincipal)
        );
        assert_eq!(
            accrue(PRINCIPAL, d(2024, 2, 1), d(2024, 2, 1), &rates, i32::MAX),
            Err(InterestError::TooLarge)
        );
        // 10,000 % a year on the largest principal: a hundred times what an i64 holds.
        assert_eq!(
            accrue(i64::MAX, d(2024, 1, 1), d(2024, 12, 31), &rates, 1_000_000),
            Err(InterestError::TooLarge)
        );
    }

    /// The migration's reference data: one row for every half-year from 2002 without a gap, so that a claim over
    /// the whole span can be computed.
    #[test]
    fn the_migrations_base_rates_cover_every_half_year() {
        let sql = include_str!("../../migrations/2026-11-27-000012_base_rates/up.sql");
        let row = regex::Regex::new(r"\('(\d{4})-(\d{2})-(\d{2})', (-?\d+)\)").unwrap();
        let rates: Vec<BaseRate> = row
            .captures_iter(sql)
            .map(|c| BaseRate {
                valid_from: d(c[1].parse().unwrap(), c[2].parse().unwrap(), c[3].parse().unwrap()),
                rate_bp: c[4].parse().unwrap(),
            })
            .collect();
        assert_eq!(rates.first().map(|r| r.valid_from), Some(d(2002, 1, 1)));
        for pair in rates.windows(2) {
            let next = if pair[0].valid_from.month() == 1 {
                pair[0].valid_from.with_month(7)
            } else {
                NaiveDate::from_ymd_opt(pair[0].valid_from.year() + 1, 1, 1)
            };
            assert_eq!(Some(pair[1].valid_from), next, "after {}", pair[0].valid_from);
        }
        let on = |day| rates.iter().rev().find(|r| r.valid_from <= day).map(|r| r.rate_bp);
        assert_eq!(on(d(2002, 1, 1)), Some(257));
        assert_eq!(on(d(2016, 7, 1)), Some(-88));
        assert_eq!(on(d(2024, 9, 30)), Some(337));
        let last = rates.last().unwrap().valid_from;
        let end = if last.month() == 1 {
            d(last.year(), 6, 30)
        } else {
            d(last.year(), 12, 31)
        };
        let all = accrue(PRINCIPAL, d(2002, 1, 1), end, &rates, DEFAULT_SURCHARGE_BP).unwrap();
        assert_eq!(all.periods.first().map(|p| p.from), Some(d(2002, 1, 1)));
        assert_eq!(all.periods.last().map(|p| p.until), Some(end));
    }
}

//! The rules a submission must satisfy (Förderrichtlinie and the funding line's settings), each failure with its own
//! code and field, all at once; and the month arithmetic they rest on.

use chrono::{Datelike, NaiveDate};

use super::model::{ApplicationInput, FinancingPlan};
use crate::core::identity::OrgKind;
use crate::error::validation::Checked;
use crate::error::{FieldError, MessageParams};
use crate::funding_lines::LineRules;

/// Whole months of a project period, counting a started month as a full one (2027-01-01 to 2031-12-31 is 60).
pub fn duration_months(start: NaiveDate, end: NaiveDate) -> i64 {
    let Some(after) = end.succ_opt() else {
        return i64::MAX;
    };
    let months = i64::from(after.year() - start.year()) * 12 + i64::from(after.month()) - i64::from(start.month());
    let day_rest = i64::from(after.day()) - i64::from(start.day());
    if day_rest > 0 {
        months + 1
    } else if day_rest < 0 {
        months
    } else {
        months.max(0)
    }
}

/// The yearly cap for `months` project months: pro rata by month, `cap × months ÷ 12` in whole cents, rounded down
/// (in the state's favour). 13 months of GK (45,000 € a year) are 48,750 €.
pub fn pro_rata_cap(cap_cents: i64, months: i64) -> i128 {
    i128::from(cap_cents) * i128::from(months.max(0)) / 12
}

/// The project months of the period `start..=end` that fall to calendar year `year`. A project month counts as in
/// `duration_months` (started at `start`'s day of the month; a started one counts in full) and belongs to the
/// calendar year in which it begins, so the years' months add up to the period's months exactly: 2027-04-01 to
/// 2028-03-31 gives 2027 nine months and 2028 three; 2027-01-15 to 2028-01-14 gives 2027 twelve and 2028 none.
pub fn months_in_year(start: NaiveDate, end: NaiveDate, year: i32) -> i64 {
    // Project months begun by the end of a calendar year: those begun by `min(end, 31 December)`.
    let begun_by_end_of = |y: i32| match NaiveDate::from_ymd_opt(y, 12, 31) {
        Some(dec31) if dec31 < start => 0,
        Some(dec31) => duration_months(start, dec31.min(end)),
        None => duration_months(start, end),
    };
    begun_by_end_of(year) - begun_by_end_of(year - 1)
}

/// Everything a submission must satisfy, each failure with its own code and field; all at once.
/// `resubmission` is true when the application was submitted before (see `store::submit`): the funding line's window
/// governs the first submission only.
pub fn submission_errors(
    input: &ApplicationInput,
    line: &LineRules,
    applicant: OrgKind,
    today: NaiveDate,
    resubmission: bool,
) -> Vec<FieldError> {
    let mut errors = input.check();
    missing_fields(input, &mut errors);
    line_errors(line, applicant, today, resubmission, &mut errors);
    plan_errors(&input.financing_plan, line, &mut errors);
    period_errors(input, line, &mut errors);
    errors
}

/// What a draft may leave out but a submission needs.
fn missing_fields(input: &ApplicationInput, errors: &mut Vec<FieldError>) {
    let required = |errors: &mut Vec<FieldError>, pointer: &str, missing: bool| {
        if missing {
            errors.push(FieldError::new(pointer, "required", MessageParams::default()));
        }
    };
    required(errors, "/description", input.description.trim().is_empty());
    required(errors, "/startDate", input.start_date.is_none());
    required(errors, "/endDate", input.end_date.is_none());
    let plan = &input.financing_plan;
    required(
        errors,
        "/financingPlan/totalCostsCents",
        plan.total_costs_cents.is_none(),
    );
    required(errors, "/financingPlan/ownFundsCents", plan.own_funds_cents.is_none());
    required(
        errors,
        "/financingPlan/thirdPartyFundsCents",
        plan.third_party_funds_cents.is_none(),
    );
    required(errors, "/financingPlan/requestedCents", plan.requested_cents.is_none());
    required(errors, "/contact/name", input.contact.name.is_none());
    required(errors, "/contact/email", input.contact.email.is_none());
    required(errors, "/contact/phone", input.contact.phone.is_none());
}

/// The line accepts this kind of applicant, and accepts first submissions today. A resubmission (after
/// `request-changes`) answers a reviewer's request on an application that passed the window when it was first
/// submitted, so a window closed since does not bar it.
fn line_errors(
    line: &LineRules,
    applicant: OrgKind,
    today: NaiveDate,
    resubmission: bool,
    errors: &mut Vec<FieldError>,
) {
    if !line.eligible_applicant_kinds.contains(&applicant) {
        let allowed: Vec<&str> = line.eligible_applicant_kinds.iter().map(|k| k.as_str()).collect();
        errors.push(FieldError::new(
            "/fundingLine",
            "ineligible_applicant",
            MessageParams {
                allowed: Some(allowed.join(", ")),
                detail: Some(applicant.as_str().to_owned()),
                ..Default::default()
            },
        ));
    }
    if !resubmission && !crate::core::time::is_open(line.opens_on, line.closes_on, today) {
        errors.push(FieldError::new(
            "/fundingLine",
            "funding_line_closed",
            MessageParams {
                min: line.opens_on.map(|d| d.to_string()),
                max: line.closes_on.map(|d| d.to_string()),
                ..Default::default()
            },
        ));
    }
}

/// The financing plan adds up and stays within the line's amount and rates.
fn plan_errors(plan: &FinancingPlan, line: &LineRules, errors: &mut Vec<FieldError>) {
    if let (Some(total), Some(own), Some(third), Some(requested)) = (
        plan.total_costs_cents,
        plan.own_funds_cents,
        plan.third_party_funds_cents,
        plan.requested_cents,
    ) {
        // i128: the sum of three i64 cannot overflow.
        if i128::from(total) != i128::from(own) + i128::from(third) + i128::from(requested) {
            errors.push(FieldError::new(
                "/financingPlan/totalCostsCents",
                "plan_sum_mismatch",
                MessageParams::detail(i128::from(own) + i128::from(third) + i128::from(requested)),
            ));
        }
        if let Some(max) = line.max_amount_cents
            && requested > max
        {
            errors.push(FieldError::new(
                "/financingPlan/requestedCents",
                "exceeds_max_amount",
                MessageParams::max(max),
            ));
        }
        // requested / total within [min, max] basis points, compared without division.
        let rate_x = i128::from(requested) * 10_000;
        if total > 0 && rate_x > i128::from(line.max_rate_bp) * i128::from(total) {
            errors.push(FieldError::new(
                "/financingPlan/requestedCents",
                "exceeds_max_rate",
                MessageParams::max(line.max_rate_bp),
            ));
        }
        if total > 0 && rate_x < i128::from(line.min_rate_bp) * i128::from(total) {
            errors.push(FieldError::new(
                "/financingPlan/requestedCents",
                "below_min_rate",
                MessageParams::min(line.min_rate_bp),
            ));
        }
        if total == 0 && requested > 0 {
            errors.push(FieldError::new(
                "/financingPlan/totalCostsCents",
                "out_of_range",
                MessageParams::min(1),
            ));
        }
    }
}

/// The project period stays within the line's duration, and the yearly breakdown within the period and the cap.
fn period_errors(input: &ApplicationInput, line: &LineRules, errors: &mut Vec<FieldError>) {
    let plan = &input.financing_plan;
    if let (Some(start), Some(end)) = (input.start_date, input.end_date)
        && end >= start
    {
        let months = duration_months(start, end);
        if let Some(max) = line.max_duration_months
            && months > i64::from(max)
        {
            errors.push(FieldError::new(
                "/endDate",
                "exceeds_max_duration",
                MessageParams::max(max),
            ));
        }
        if let (Some(cap), Some(requested)) = (line.yearly_cap_cents, plan.requested_cents)
            && i128::from(requested) > pro_rata_cap(cap, months)
        {
            errors.push(FieldError::new(
                "/financingPlan/requestedCents",
                "exceeds_yearly_cap",
                MessageParams::max(pro_rata_cap(cap, months)),
            ));
        }
        if let Some(plan_years) = &plan.years {
            for (i, y) in plan_years.iter().enumerate() {
                let in_period = (start.year()..=end.year()).contains(&y.year);
                if !in_period {
                    errors.push(FieldError::new(
                        format!("/financingPlan/years/{i}/year"),
                        "year_outside_period",
                        MessageParams::range(start.year(), end.year()),
                    ));
                }
                // A year outside the period is reported as such, not also as over a cap of no months.
                if in_period
                    && let Some(cap) = line.yearly_cap_cents
                    && i128::from(y.requested_cents) > pro_rata_cap(cap, months_in_year(start, end, y.year))
                {
                    errors.push(FieldError::new(
                        format!("/financingPlan/years/{i}/requestedCents"),
                        "exceeds_yearly_cap",
                        MessageParams::max(pro_rata_cap(cap, months_in_year(start, end, y.year))),
                    ));
                }
            }
            let sum: i128 = plan_years.iter().map(|y| i128::from(y.requested_cents)).sum();
            if let Some(requested) = plan.requested_cents
                && !plan_years.is_empty()
                && sum != i128::from(requested)
            {
                errors.push(FieldError::new(
                    "/financingPlan/years",
                    "years_sum_mismatch",
                    MessageParams::detail(sum),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::model::MAX_CENTS;

    #[test]
    fn durations() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(duration_months(d(2027, 1, 1), d(2031, 12, 31)), 60);
        assert_eq!(duration_months(d(2027, 1, 1), d(2032, 1, 1)), 61);
        assert_eq!(duration_months(d(2027, 1, 15), d(2027, 2, 14)), 1);
        assert_eq!(duration_months(d(2027, 1, 15), d(2027, 2, 20)), 2);
        assert_eq!(duration_months(d(2027, 3, 1), d(2027, 3, 1)), 1);
    }

    #[test]
    fn the_yearly_cap_is_pro_rata_by_month_rounded_down() {
        let gk = 4_500_000;
        assert_eq!(pro_rata_cap(gk, 12), 4_500_000);
        assert_eq!(pro_rata_cap(gk, 13), 4_875_000);
        assert_eq!(pro_rata_cap(gk, 60), 22_500_000);
        assert_eq!(pro_rata_cap(gk, 1), 375_000);
        assert_eq!(pro_rata_cap(gk, 0), 0);
        // Not divisible by 12: down, in the state's favour (100.00 € × 7 ÷ 12 = 58.333… €).
        assert_eq!(pro_rata_cap(10_000, 7), 5_833);
        assert_eq!(pro_rata_cap(11, 1), 0);
        assert_eq!(
            pro_rata_cap(MAX_CENTS, i64::MAX),
            i128::from(MAX_CENTS) * i128::from(i64::MAX) / 12
        );
    }

    #[test]
    fn months_fall_to_the_calendar_year_in_which_they_begin() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let by_year = |s: NaiveDate, e: NaiveDate| -> Vec<i64> {
            (s.year() - 1..=e.year() + 1).map(|y| months_in_year(s, e, y)).collect()
        };
        assert_eq!(by_year(d(2027, 4, 1), d(2028, 3, 31)), vec![0, 9, 3, 0]);
        assert_eq!(by_year(d(2027, 1, 1), d(2031, 12, 31)), vec![0, 12, 12, 12, 12, 12, 0]);
        assert_eq!(by_year(d(2027, 1, 1), d(2028, 1, 31)), vec![0, 12, 1, 0]);
        // Mid-month: the twelfth project month begins on 2027-12-15 and covers 2028's first fortnight.
        assert_eq!(by_year(d(2027, 1, 15), d(2028, 1, 14)), vec![0, 12, 0, 0]);
        assert_eq!(by_year(d(2027, 1, 15), d(2028, 1, 15)), vec![0, 12, 1, 0]);
        assert_eq!(by_year(d(2027, 3, 1), d(2027, 3, 1)), vec![0, 1, 0]);
        // The years' months always add up to the period's months, and none has more than twelve.
        for (s, e) in [
            (d(2027, 1, 31), d(2029, 2, 28)),
            (d(2027, 6, 30), d(2030, 6, 29)),
            (d(2028, 2, 29), d(2032, 2, 28)),
            (d(2027, 12, 31), d(2028, 1, 1)),
        ] {
            let months = by_year(s, e);
            assert_eq!(months.iter().sum::<i64>(), duration_months(s, e), "{s}..{e}");
            assert!(months.iter().all(|m| (0..=12).contains(m)), "{s}..{e}: {months:?}");
        }
    }

    #[test]
    fn the_window_governs_the_first_submission_only() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let line = LineRules {
            code: "GK".to_owned(),
            eligible_applicant_kinds: vec![OrgKind::Landkreis],
            opens_on: Some(d(2027, 1, 1)),
            closes_on: Some(d(2027, 3, 31)),
            max_amount_cents: None,
            min_rate_bp: 0,
            max_rate_bp: 10_000,
            max_duration_months: None,
            yearly_cap_cents: None,
            required_attachments: Vec::new(),
        };
        let closed = |resubmission| {
            let mut errors = Vec::new();
            line_errors(&line, OrgKind::Landkreis, d(2027, 4, 1), resubmission, &mut errors);
            errors.iter().any(|e| e.code == "funding_line_closed")
        };
        assert!(closed(false));
        assert!(!closed(true));
    }
}

/// Splits `amount` over the calendar years of a period in proportion to the project months in each (whole cents
/// rounded down, the cents left over to the earliest years): the yearly breakdown a frontend may propose, and the
/// demo data's.
pub fn split_by_months(start: NaiveDate, end: NaiveDate, amount: i64) -> Vec<(i32, i64)> {
    let total = duration_months(start, end);
    if total <= 0 || end < start {
        return vec![(start.year(), amount)];
    }
    let mut shares: Vec<(i32, i64)> = (start.year()..=end.year())
        .map(|y| {
            (
                y,
                (i128::from(amount) * i128::from(months_in_year(start, end, y)) / i128::from(total)) as i64,
            )
        })
        .collect();
    let mut left = amount - shares.iter().map(|(_, c)| c).sum::<i64>();
    for share in shares.iter_mut() {
        if left == 0 {
            break;
        }
        share.1 += 1;
        left -= 1;
    }
    shares
}

/// A share of the grant in one fiscal year, as the ministry fixes it with an approval.
pub type YearShare = (i32, i64);

/// The grant per fiscal year (*Haushaltsjahr*) that an approval commits: as the approval gives it; else the
/// application's yearly breakdown scaled to the grant (each year's requested share × grant ÷ requested, in whole
/// cents rounded down, the cents left over going to the earliest years so that the shares sum to the grant); else,
/// for a project within one calendar year, all in that year. A multi-year project needs one of the first two:
/// `years_required`.
pub fn grant_by_year(
    given: Option<&[YearShare]>,
    plan: Option<&[(i32, i64)]>,
    period: (Option<NaiveDate>, Option<NaiveDate>),
    granted: i64,
) -> Result<Vec<YearShare>, Vec<FieldError>> {
    let (first, last) = (period.0.map(|d| d.year()), period.1.map(|d| d.year()));
    if let Some(given) = given {
        let mut errors = crate::error::validation::fiscal_years(given, (first, last));
        let sum: i128 = given.iter().map(|(_, c)| i128::from(*c)).sum();
        if sum != i128::from(granted) {
            errors.push(FieldError::new(
                "/years",
                "years_sum_mismatch",
                MessageParams::detail(granted),
            ));
        }
        return if errors.is_empty() {
            Ok(given.iter().copied().filter(|(_, c)| *c > 0).collect())
        } else {
            Err(errors)
        };
    }
    let requested: i128 = plan.unwrap_or_default().iter().map(|(_, c)| i128::from(*c)).sum();
    if let Some(plan) = plan.filter(|_| requested > 0) {
        let mut shares: Vec<YearShare> = plan
            .iter()
            .map(|&(year, c)| (year, (i128::from(c) * i128::from(granted) / requested) as i64))
            .collect();
        shares.sort_unstable();
        let mut left = granted - shares.iter().map(|(_, c)| c).sum::<i64>();
        for share in shares.iter_mut() {
            if left == 0 {
                break;
            }
            share.1 += 1;
            left -= 1;
        }
        return Ok(shares.into_iter().filter(|(_, c)| *c > 0).collect());
    }
    match (first, last) {
        (Some(f), Some(l)) if f == l => Ok(vec![(f, granted)]),
        _ => Err(vec![FieldError::new(
            "/years",
            "years_required",
            MessageParams::default(),
        )]),
    }
}

#[cfg(test)]
mod grant_years {
    use super::*;

    fn period(a: &str, b: &str) -> (Option<NaiveDate>, Option<NaiveDate>) {
        (a.parse().ok(), b.parse().ok())
    }

    #[test]
    fn the_breakdown_is_scaled_to_the_grant_and_sums_exactly() {
        let plan = [(2027, 100), (2028, 100), (2029, 100)];
        let shares = grant_by_year(None, Some(&plan), period("2027-01-01", "2029-12-31"), 200).unwrap_or_default();
        assert_eq!(shares, vec![(2027, 67), (2028, 67), (2029, 66)]);
        let whole = grant_by_year(None, Some(&plan), period("2027-01-01", "2029-12-31"), 300).unwrap_or_default();
        assert_eq!(whole, plan.to_vec());
    }

    #[test]
    fn an_amount_splits_by_months_per_calendar_year() {
        let (a, b) = period("2027-07-01", "2029-06-30");
        let shares = split_by_months(a.unwrap_or_default(), b.unwrap_or_default(), 2_400_001);
        assert_eq!(shares, vec![(2027, 600_001), (2028, 1_200_000), (2029, 600_000)]);
    }

    #[test]
    fn a_single_calendar_year_needs_no_breakdown_and_several_do() {
        let one = grant_by_year(None, None, period("2027-02-01", "2027-11-30"), 500).unwrap_or_default();
        assert_eq!(one, vec![(2027, 500)]);
        let several = grant_by_year(None, None, period("2027-02-01", "2028-11-30"), 500).unwrap_err();
        assert_eq!(several[0].code, "years_required");
    }

    #[test]
    fn given_years_must_sum_to_the_grant_lie_in_the_period_and_not_repeat() {
        let p = period("2027-01-01", "2028-12-31");
        let ok = grant_by_year(Some(&[(2027, 300), (2028, 200)]), None, p, 500).unwrap_or_default();
        assert_eq!(ok, vec![(2027, 300), (2028, 200)]);
        let errors = grant_by_year(Some(&[(2027, 300), (2027, 100), (2030, 50)]), None, p, 500).unwrap_err();
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_ref()).collect();
        assert_eq!(codes, vec!["duplicate", "year_outside_period", "years_sum_mismatch"]);
    }
}

//! Calendar time in Hessen (Europe/Berlin): windows and deadlines are calendar days there, not in UTC.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::OnceLock;

/// The calendar day a test or training environment works on (`VERSORGUNG_TODAY`), for the whole process.
static PINNED_TODAY: OnceLock<NaiveDate> = OnceLock::new();

/// Pins the calendar day every date rule uses, for the life of the process. A test suite written against fixed dates
/// (a project starting 2027-01-01) would otherwise change its meaning as the real date passes them: the early-start
/// rule, the payout window and the final notices all compare with today. Pinning twice to another day is an error.
pub fn pin_today(day: NaiveDate) -> Result<(), String> {
    let pinned = *PINNED_TODAY.get_or_init(|| day);
    if pinned == day {
        Ok(())
    } else {
        Err(format!("the calendar day is already pinned to {pinned}"))
    }
}

/// Today's date in Hessen: submission windows are calendar days in Europe/Berlin, not UTC. A pinned day wins.
pub fn today_in_hessen() -> NaiveDate {
    PINNED_TODAY.get().copied().unwrap_or_else(|| hessen_date(Utc::now()))
}

/// The calendar day in Hessen of an instant.
pub fn hessen_date(t: DateTime<Utc>) -> NaiveDate {
    hessen_local(t).date()
}

/// The wall-clock time in Hessen of an instant (for texts people read, such as the digests).
pub fn hessen_local(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    // CET/CEST without a time-zone database: +1 h, +2 h from the last Sunday of March to the last Sunday of
    // October (01:00 UTC both times), as the EU rules say.
    let offset = if is_eu_summer_time(t) { 2 } else { 1 };
    (t + chrono::Duration::hours(offset)).naive_utc()
}

fn is_eu_summer_time(t: DateTime<Utc>) -> bool {
    use chrono::{Datelike, TimeZone, Weekday};
    let last_sunday = |month: u32| -> Option<DateTime<Utc>> {
        let first_next = if month == 12 {
            NaiveDate::from_ymd_opt(t.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(t.year(), month + 1, 1)
        }?;
        let mut day = first_next.pred_opt()?;
        while day.weekday() != Weekday::Sun {
            day = day.pred_opt()?;
        }
        Some(Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0)?))
    };
    match (last_sunday(3), last_sunday(10)) {
        (Some(start), Some(end)) => t >= start && t < end,
        _ => false,
    }
}

/// Easter Sunday of a year (the Gregorian computus of the anonymous "Meeus/Jones/Butcher" algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let (b, c) = (year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// Whether a day is a public holiday in Hessen (Hessisches Feiertagsgesetz § 1: Neujahr, Karfreitag, Ostermontag,
/// 1. Mai, Christi Himmelfahrt, Pfingstmontag, Fronleichnam, Tag der Deutschen Einheit, 1. und 2. Weihnachtstag).
pub fn is_hessen_holiday(day: NaiveDate) -> bool {
    use chrono::Datelike;
    let fixed = matches!(
        (day.month(), day.day()),
        (1, 1) | (5, 1) | (10, 3) | (12, 25) | (12, 26)
    );
    let Some(easter) = easter_sunday(day.year()) else {
        return fixed;
    };
    // Karfreitag, Ostermontag, Christi Himmelfahrt, Pfingstmontag, Fronleichnam.
    fixed || [-2, 1, 39, 50, 60].contains(&(day - easter).num_days())
}

/// Whether `today` lies in a window of calendar days (either end open when `None`), both ends included.
pub fn is_open(opens_on: Option<NaiveDate>, closes_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    opens_on.is_none_or(|o| o <= today) && closes_on.is_none_or(|c| today <= c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn summer_time_boundaries() {
        let at = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap_or_default();
        assert!(!is_eu_summer_time(at(2026, 3, 29, 0)));
        assert!(is_eu_summer_time(at(2026, 3, 29, 1)));
        assert!(is_eu_summer_time(at(2026, 10, 25, 0)));
        assert!(!is_eu_summer_time(at(2026, 10, 25, 1)));
    }

    #[test]
    fn hessen_holidays() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(easter_sunday(2026), Some(d(2026, 4, 5)));
        assert_eq!(easter_sunday(2027), Some(d(2027, 3, 28)));
        assert_eq!(easter_sunday(2038), Some(d(2038, 4, 25)));
        for day in [
            d(2026, 1, 1),
            d(2026, 4, 3),
            d(2026, 4, 6),
            d(2026, 5, 14),
            d(2026, 5, 25),
            d(2026, 6, 4),
            d(2026, 10, 3),
            d(2026, 12, 26),
        ] {
            assert!(is_hessen_holiday(day), "{day}");
        }
        // Reformationstag and Buß- und Bettag are not holidays in Hessen; an ordinary Thursday is not either.
        for day in [d(2026, 10, 31), d(2026, 11, 18), d(2026, 6, 11)] {
            assert!(!is_hessen_holiday(day), "{day}");
        }
    }

    #[test]
    fn window() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default();
        assert!(is_open(None, None, d(1, 1)));
        assert!(is_open(Some(d(1, 1)), Some(d(1, 31)), d(1, 31)));
        assert!(!is_open(Some(d(2, 1)), None, d(1, 31)));
        assert!(!is_open(None, Some(d(1, 30)), d(1, 31)));
    }
}

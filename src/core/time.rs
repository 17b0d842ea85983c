//! Calendar time in Hessen (Europe/Berlin): windows and deadlines are calendar days there, not in UTC.

use chrono::{DateTime, NaiveDate, Utc};

/// Today's date in Hessen: submission windows are calendar days in Europe/Berlin, not UTC.
pub fn today_in_hessen() -> NaiveDate {
    // CET/CEST without a time-zone database: +1 h, +2 h from the last Sunday of March to the last Sunday of
    // October (01:00 UTC both times), as the EU rules say.
    let now = Utc::now();
    let offset = if is_eu_summer_time(now) { 2 } else { 1 };
    (now + chrono::Duration::hours(offset)).date_naive()
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
    fn window() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap_or_default();
        assert!(is_open(None, None, d(1, 1)));
        assert!(is_open(Some(d(1, 1)), Some(d(1, 31)), d(1, 31)));
        assert!(!is_open(Some(d(2, 1)), None, d(1, 31)));
        assert!(!is_open(None, Some(d(1, 30)), d(1, 31)));
    }
}

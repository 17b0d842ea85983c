//! Basiszinssatz: one row per half-year.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::error::validation::Checked;

/// The resource kind of base rates in the history and the feed.
pub const KIND: &str = "base_rate";

/// The base rate of one half-year.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"validFrom": "2026-07-01", "rateBasisPoints": 152,
    "source": "Deutsche Bundesbank, Bekanntmachung vom 30. Juni 2026", "version": 1,
    "updatedAt": "2026-07-01T08:00:00Z"}))]
pub struct BaseRate {
    /// 1 January or 1 July: the rate holds for this half-year.
    pub valid_from: NaiveDate,
    /// The rate in basis points of a percent a year; may be negative (−0.88 % is −88).
    #[schema(minimum = -1000, maximum = 2000)]
    pub rate_basis_points: i32,
    /// Where the value comes from (the Bundesbank's notice).
    #[schema(max_length = 500)]
    pub source: String,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(BaseRate);

/// One period of constant interest rate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InterestPeriod {
    pub from: NaiveDate,
    /// Last day of the period (inclusive).
    pub until: NaiveDate,
    #[schema(minimum = 1, maximum = 366)]
    pub days: i64,
    /// Basiszinssatz (§ 247 BGB), basis points; may be negative.
    #[schema(minimum = -1000, maximum = 2000)]
    pub base_rate_basis_points: i32,
    /// Base rate + 5 percentage points (§ 49a Abs. 3 HVwVfG).
    #[schema(minimum = -1000, maximum = 2500)]
    pub rate_basis_points: i32,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub interest_cents: i64,
}

/// Every base rate, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct BaseRates {
    #[schema(max_items = 400)]
    pub items: Vec<BaseRate>,
}

/// Body of `PUT /base-rates/{validFrom}`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"rateBasisPoints": 152, "source": "Deutsche Bundesbank, Bekanntmachung vom 30. Juni 2026"}))]
pub struct SetBaseRate {
    #[validate(required, range(min = -1000, max = 2000))]
    #[schema(value_type = i32, required = true, minimum = -1000, maximum = 2000)]
    pub rate_basis_points: Option<i32>,
    #[validate(required, length(min = 3, max = 500))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 500)]
    pub source: Option<String>,
}

impl Checked for SetBaseRate {}

/// Whether a day starts a half-year (1 January or 1 July), the only days a base rate changes (§ 247 Abs. 1 BGB).
pub fn starts_half_year(day: NaiveDate) -> bool {
    day.day() == 1 && matches!(day.month(), 1 | 7)
}

/// Base rates are keyed by their first day; events name them by a UUID derived from it, the same on every instance.
pub fn event_id(valid_from: NaiveDate) -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("base-rate:{valid_from}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_of_january_and_july_start_a_half_year() {
        let day = |m, d| NaiveDate::from_ymd_opt(2027, m, d).unwrap();
        assert!(starts_half_year(day(1, 1)) && starts_half_year(day(7, 1)));
        assert!(!starts_half_year(day(7, 2)) && !starts_half_year(day(4, 1)));
    }
}

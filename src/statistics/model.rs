//! The funding statistics' dimensions, the validated request, and the answer: one row per group and the total.

use serde::Serialize;
use utoipa::ToSchema;

use crate::applications::model::Status;
use crate::text_enum;

/// The most groups one answer holds (the OpenAPI document's `maxItems` of `rows`): far more than the programme's
/// funding lines × 26 districts × states × years give; a grouping with more is refused (400), never cut short.
pub const MAX_ROWS: usize = 10_000;
/// The years a `year` filter may name (as applications' years can be).
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

text_enum! {
    /// A dimension the figures can be grouped by, with its name in `groupBy` and in the answer.
    pub enum Dimension {
        FundingLine = "fundingLine",
        District = "district",
        Versorgungsgebiet = "versorgungsgebiet",
        Status = "status",
        Year = "year",
    }
}

/// A validated request: the dimensions to group by (in the caller's order, each once) and the filters.
#[derive(Debug, Clone, Default)]
pub struct FundingRequest {
    pub group_by: Vec<Dimension>,
    pub funding_line: Option<String>,
    pub district: Option<String>,
    pub versorgungsgebiet: Option<String>,
    pub statuses: Vec<Status>,
    pub year: Option<i32>,
}

/// One group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"fundingLine": "GK", "status": "approved", "count": 3, "requestedCents": 67500000, "grantedCents": 65000000, "paidCents": 12000000, "admittedCents": 0, "reclaimedCents": 0, "interestCents": 0}))]
pub struct Row {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10)]
    pub funding_line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 5)]
    pub district: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    pub versorgungsgebiet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4)]
    pub year: Option<String>,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub count: i64,
    /// Sum of the requested grants, in cents.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub requested_cents: i64,
    /// Sum of the approved grants as their notices in force state them (amending notices included), in cents.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub granted_cents: i64,
    /// Sum of what was paid out on the group's grants (paid payment requests), in cents.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub paid_cents: i64,
    /// Sum of what the accepted proofs of use admitted, in cents.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub admitted_cents: i64,
    /// Sum of what decided recovery claims reclaim (repaid, in instalments or open), in cents.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub reclaimed_cents: i64,
    /// Sum of the interest fixed on repaid recovery claims and the late-use interest (§ 49a Abs. 4) of decided ones,
    /// in cents.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub interest_cents: i64,
}

/// The figures' names, in the order of [`Row::numbers`] (the CSV's columns after the dimensions).
pub const FIGURES: [&str; 7] = [
    "count",
    "requestedCents",
    "grantedCents",
    "paidCents",
    "admittedCents",
    "reclaimedCents",
    "interestCents",
];

impl Row {
    /// A group's figures (in the order of [`FIGURES`]), with no dimension set yet.
    pub fn figures(
        [
            count,
            requested_cents,
            granted_cents,
            paid_cents,
            admitted_cents,
            reclaimed_cents,
            interest_cents,
        ]: [i64; 7],
    ) -> Self {
        Row {
            funding_line: None,
            district: None,
            versorgungsgebiet: None,
            status: None,
            year: None,
            count,
            requested_cents,
            granted_cents,
            paid_cents,
            admitted_cents,
            reclaimed_cents,
            interest_cents,
        }
    }

    /// The figures in the order of [`FIGURES`].
    pub fn numbers(&self) -> [i64; 7] {
        [
            self.count,
            self.requested_cents,
            self.granted_cents,
            self.paid_cents,
            self.admitted_cents,
            self.reclaimed_cents,
            self.interest_cents,
        ]
    }

    /// The sum of `rows`: the grand total, without dimensions.
    pub fn total(rows: &[Row]) -> Self {
        let mut sums = [0i64; 7];
        for row in rows {
            for (sum, value) in sums.iter_mut().zip(row.numbers()) {
                *sum += value;
            }
        }
        Row::figures(sums)
    }

    /// Sets the group's value of `dimension`.
    pub fn set(&mut self, dimension: Dimension, value: String) {
        *self.slot(dimension) = Some(value);
    }

    /// The group's value of `dimension`, if set.
    pub fn value(&self, dimension: Dimension) -> Option<&str> {
        match dimension {
            Dimension::FundingLine => &self.funding_line,
            Dimension::District => &self.district,
            Dimension::Versorgungsgebiet => &self.versorgungsgebiet,
            Dimension::Status => &self.status,
            Dimension::Year => &self.year,
        }
        .as_deref()
    }

    fn slot(&mut self, dimension: Dimension) -> &mut Option<String> {
        match dimension {
            Dimension::FundingLine => &mut self.funding_line,
            Dimension::District => &mut self.district,
            Dimension::Versorgungsgebiet => &mut self.versorgungsgebiet,
            Dimension::Status => &mut self.status,
            Dimension::Year => &mut self.year,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    #[schema(max_items = 5, max_length = 32)]
    pub group_by: Vec<String>,
    #[schema(max_items = 10000)]
    pub rows: Vec<Row>,
    pub total: Row,
}

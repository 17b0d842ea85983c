//! The SQL of the funding statistics: a sum over `funding_stats`, the figures per funding line, district, status
//! and year that the database keeps in the same transaction as every change (migration 000034, its triggers and
//! `application_contribution`), so an answer costs the same at a million applications as at a hundred. The text is
//! put together in named steps ([`select_list`], [`join`], [`filters`], [`grouping`]).
//!
//! Nothing from the request reaches the SQL text. The text is made only of the constant expressions below, chosen by
//! the request's [`Dimension`]s and by which filters are present; every value the caller sent (funding line,
//! district, Versorgungsgebiet, states, year) is a bound parameter (`$1`, `$2`, …).

use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::model::{Dimension, FundingRequest, MAX_ROWS, Row};
use crate::error::ApiResult;

/// The SQL that computes each dimension (a fixed list: nothing from the request reaches the SQL text).
fn expr(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::FundingLine => "s.funding_line_code",
        Dimension::District => "s.district_ags",
        Dimension::Versorgungsgebiet => "d.versorgungsgebiet",
        Dimension::Status => "s.status",
        // The year an application was submitted; drafts count in the year they were created (kept so by
        // `application_contribution`).
        Dimension::Year => "s.year::text",
    }
}

#[derive(QueryableByName)]
struct Raw {
    #[diesel(sql_type = Nullable<Text>)]
    g0: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    g1: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    g2: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    g3: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    g4: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    requested: i64,
    #[diesel(sql_type = BigInt)]
    granted: i64,
    #[diesel(sql_type = BigInt)]
    paid: i64,
    #[diesel(sql_type = BigInt)]
    admitted: i64,
    #[diesel(sql_type = BigInt)]
    reclaimed: i64,
    #[diesel(sql_type = BigInt)]
    interest: i64,
}

impl Raw {
    /// The group as the answer shows it: slot i holds the value of the i-th grouped dimension.
    fn into_row(self, group_by: &[Dimension]) -> Row {
        let mut row = Row::figures([
            self.n,
            self.requested,
            self.granted,
            self.paid,
            self.admitted,
            self.reclaimed,
            self.interest,
        ]);
        let slots = [self.g0, self.g1, self.g2, self.g3, self.g4];
        for (dimension, value) in group_by.iter().zip(slots) {
            row.set(*dimension, value.unwrap_or_default());
        }
        row
    }
}

/// A value bound to one `$n` of the statement.
#[derive(Debug, PartialEq)]
enum Param {
    Text(String),
    Texts(Vec<String>),
    Int(i32),
}

/// The groups of `request`, ordered by their values; at most [`MAX_ROWS`] + 1, so that the caller can tell a
/// grouping with more groups than an answer may hold. Without dimensions: one row, the grand total.
pub async fn funding(conn: &mut AsyncPgConnection, request: &FundingRequest) -> ApiResult<Vec<Row>> {
    let (sql, params) = statement(request);
    let mut query = diesel::sql_query(sql).into_boxed::<Pg>();
    for param in params {
        query = match param {
            Param::Text(value) => query.bind::<Text, _>(value),
            Param::Texts(values) => query.bind::<Array<Text>, _>(values),
            Param::Int(value) => query.bind::<Integer, _>(value),
        };
    }
    let raw: Vec<Raw> = query.load(conn).await?;
    Ok(raw.into_iter().map(|r| r.into_row(&request.group_by)).collect())
}

/// The statement's text and the values of its placeholders, in order.
fn statement(request: &FundingRequest) -> (String, Vec<Param>) {
    let (conditions, params) = filters(request);
    let sql = format!(
        "SELECT {}, {FIGURES} FROM funding_stats s {} WHERE true{conditions}{}",
        select_list(&request.group_by),
        join(request),
        grouping(&request.group_by),
    );
    (sql, params)
}

/// The figures: sums over the groups' rows (each group is spread over shards).
const FIGURES: &str = "coalesce(sum(s.n), 0)::bigint AS n, coalesce(sum(s.requested_cents), 0)::bigint AS requested, \
     coalesce(sum(s.granted_cents), 0)::bigint AS granted, coalesce(sum(s.paid_cents), 0)::bigint AS paid, \
     coalesce(sum(s.admitted_cents), 0)::bigint AS admitted, \
     coalesce(sum(s.reclaimed_cents), 0)::bigint AS reclaimed, coalesce(sum(s.interest_cents), 0)::bigint AS interest";

/// The group slots `g0` … `g4`: the grouped dimensions' expressions, in the request's order.
fn select_list(group_by: &[Dimension]) -> String {
    // Unused group slots are NULL so that one row type serves every grouping.
    let slots: Vec<String> = (0..Dimension::ALL.len())
        .map(|i| match group_by.get(i) {
            Some(dimension) => format!("({}) AS g{i}", expr(*dimension)),
            None => format!("NULL::text AS g{i}"),
        })
        .collect();
    slots.join(", ")
}

/// The join to `districts` (alias `d`), or nothing.
fn join(request: &FundingRequest) -> &'static str {
    // The districts table only supplies the Versorgungsgebiet: join it only when that is grouped or filtered.
    let needs_districts =
        request.versorgungsgebiet.is_some() || request.group_by.contains(&Dimension::Versorgungsgebiet);
    if needs_districts {
        "JOIN districts d ON d.ags = s.district_ags"
    } else {
        ""
    }
}

/// ` AND …` for each filter present, comparing with the next placeholder, and the values in placeholder order.
fn filters(request: &FundingRequest) -> (String, Vec<Param>) {
    let mut sql = String::new();
    let mut params = Vec::new();
    // `before` and `after` are the literals below: the text says where a value goes, never what it is.
    let mut condition = |before: &str, after: &str, param: Param| {
        params.push(param);
        sql.push_str(&format!(" AND {before}${}{after}", params.len()));
    };
    if let Some(v) = &request.funding_line {
        condition("s.funding_line_code = ", "", Param::Text(v.clone()));
    }
    if let Some(v) = &request.district {
        condition("s.district_ags = ", "", Param::Text(v.clone()));
    }
    if let Some(v) = &request.versorgungsgebiet {
        condition("d.versorgungsgebiet = ", "", Param::Text(v.clone()));
    }
    if !request.statuses.is_empty() {
        let statuses = request.statuses.iter().map(|s| s.as_str().to_owned()).collect();
        condition("s.status = ANY (", ")", Param::Texts(statuses));
    }
    if let Some(year) = request.year {
        condition("s.year = ", "", Param::Int(year));
    }
    (sql, params)
}

/// Groups and orders by the used slots, one row more than an answer may hold; nothing without dimensions. A group
/// whose applications have all moved on keeps its rows at zero: only groups with applications are answered.
fn grouping(group_by: &[Dimension]) -> String {
    if group_by.is_empty() {
        return String::new();
    }
    let keys: Vec<String> = (0..group_by.len()).map(|i| format!("g{i}")).collect();
    format!(
        " GROUP BY {0} HAVING sum(s.n) > 0 ORDER BY {0} LIMIT {1}",
        keys.join(", "),
        MAX_ROWS + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::model::Status;

    #[test]
    fn values_are_bound_never_written_into_the_text() {
        let hostile = "x'); DROP TABLE applications; --";
        let request = FundingRequest {
            group_by: vec![Dimension::Year, Dimension::Versorgungsgebiet],
            funding_line: Some(hostile.into()),
            district: Some(format!("{hostile}d")),
            versorgungsgebiet: Some(format!("{hostile}v")),
            statuses: vec![Status::Approved, Status::Draft],
            year: Some(2027),
        };
        let (sql, params) = statement(&request);
        assert!(
            !sql.contains(hostile) && !sql.contains("2027") && !sql.contains("approved"),
            "{sql}"
        );
        assert_eq!(
            params,
            vec![
                Param::Text(hostile.into()),
                Param::Text(format!("{hostile}d")),
                Param::Text(format!("{hostile}v")),
                Param::Texts(vec!["approved".into(), "draft".into()]),
                Param::Int(2027),
            ]
        );
        for n in 1..=params.len() {
            assert!(sql.contains(&format!("${n}")), "{sql}");
        }
        assert!(
            sql.contains("JOIN districts d")
                && sql.contains(" GROUP BY g0, g1 HAVING sum(s.n) > 0 ORDER BY g0, g1 LIMIT 10001")
        );
    }

    #[test]
    fn the_grand_total_has_no_join_and_no_grouping() {
        let (sql, params) = statement(&FundingRequest::default());
        assert_eq!(
            sql,
            format!(
                "SELECT NULL::text AS g0, NULL::text AS g1, NULL::text AS g2, NULL::text AS g3, NULL::text AS g4, \
                 {FIGURES} FROM funding_stats s  WHERE true"
            )
        );
        assert!(params.is_empty());
    }
}

//! `/api/v1/statistics/funding`: counts and sums of applications by funding line, district, Versorgungsgebiet,
//! status and year, for the service unit and the ministry.

use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::core::identity::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Query;
use crate::http::openapi::Forbidden;
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(funding);
}

/// The most groups one answer holds (the OpenAPI document's `maxItems` of `rows`): far more than the programme's
/// funding lines × 26 districts × states × years give; a grouping with more is refused (400), never cut short.
const MAX_ROWS: usize = 10_000;
/// The years a `year` filter may name (as applications' years can be).
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The dimensions, with the SQL that computes each (a fixed list: nothing from the request reaches the SQL text).
const DIMENSIONS: &[(&str, &str)] = &[
    ("fundingLine", "a.funding_line_code"),
    ("district", "a.district_ags"),
    ("versorgungsgebiet", "d.versorgungsgebiet"),
    ("status", "a.status"),
    // The year an application was submitted; drafts count in the year they were created.
    (
        "year",
        "extract(year FROM coalesce(a.submitted_at, a.created_at) AT TIME ZONE 'Europe/Berlin')::int::text",
    ),
];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// Dimensions to group by, comma-separated: `fundingLine`, `district`, `versorgungsgebiet`, `status`, `year`
    /// (default `fundingLine,status`; empty for the grand total only).
    group_by: Option<String>,
    /// Only this funding line.
    funding_line: Option<String>,
    /// Only this district (AGS).
    district: Option<String>,
    /// Only this Versorgungsgebiet.
    versorgungsgebiet: Option<String>,
    /// Only these states, comma-separated.
    status: Option<String>,
    /// Only this year (of submission; of creation for drafts), 2000–2100.
    #[param(minimum = 2000, maximum = 2100)]
    year: Option<i32>,
}

/// One group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"fundingLine": "GK", "status": "approved", "count": 3, "requestedCents": 67500000, "grantedCents": 65000000}))]
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
    /// Sum of the approved grants, in cents.
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub granted_cents: i64,
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
}

fn bad(name: &str, code: &str, params: MessageParams) -> ApiError {
    ApiError::BadRequest(vec![FieldError::new(format!("/query/{name}"), code, params)])
}

/// Funding statistics
///
/// Counts and sums (requested, granted; in cents) of applications, grouped by any of funding line, district,
/// Versorgungsgebiet, status and year, with the same filters. `Accept: text/csv` returns the rows as CSV.
///
/// **Roles:** `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Statistics",
    params(StatisticsQuery),
    responses(
        (status = 200, description = "The groups and the total",
            content((Statistics = "application/json"), (String = "text/csv"))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[get("/statistics/funding")]
async fn funding(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<StatisticsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    let wanted = q.group_by.clone().unwrap_or_else(|| "fundingLine,status".into());
    let mut group_by: Vec<(&str, &str)> = Vec::new();
    for name in wanted.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(dim) = DIMENSIONS.iter().find(|(n, _)| *n == name) else {
            let allowed: Vec<&str> = DIMENSIONS.iter().map(|(n, _)| *n).collect();
            return Err(bad(
                "groupBy",
                "invalid_value",
                MessageParams::allowed(allowed.join(", ")),
            ));
        };
        if !group_by.contains(dim) {
            group_by.push(*dim);
        }
    }
    if let Some(year) = q.year
        && !YEARS.contains(&year)
    {
        return Err(bad(
            "year",
            "out_of_range",
            MessageParams::range(YEARS.start(), YEARS.end()),
        ));
    }
    let statuses: Vec<String> = match &q.status {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<crate::applications::model::Status>()
                    .map(|st| st.as_str().to_owned())
                    .map_err(|_| bad("status", "invalid_value", MessageParams::default()))
            })
            .collect::<ApiResult<_>>()?,
        None => vec![],
    };
    // Unused group slots are NULL so that one row type serves every grouping.
    let mut select = Vec::new();
    for i in 0..DIMENSIONS.len() {
        select.push(match group_by.get(i) {
            Some((_, expr)) => format!("({expr}) AS g{i}"),
            None => format!("NULL::text AS g{i}"),
        });
    }
    // The districts table only supplies the Versorgungsgebiet: join it only when that is grouped or filtered (the
    // join costs a third of the aggregate over all applications, docs/performance.md F5).
    let needs_districts =
        q.versorgungsgebiet.is_some() || group_by.iter().any(|(name, _)| *name == "versorgungsgebiet");
    let mut sql = format!(
        "SELECT {}, count(*) AS n, coalesce(sum(a.requested_cents), 0)::bigint AS requested, \
         coalesce(sum(a.granted_cents), 0)::bigint AS granted \
         FROM applications a {} WHERE true",
        select.join(", "),
        if needs_districts {
            "JOIN districts d ON d.ags = a.district_ags"
        } else {
            ""
        }
    );
    let mut binds: Vec<(&str, String)> = Vec::new();
    if let Some(v) = &q.funding_line {
        binds.push(("a.funding_line_code = ", v.clone()));
    }
    if let Some(v) = &q.district {
        binds.push(("a.district_ags = ", v.clone()));
    }
    if let Some(v) = &q.versorgungsgebiet {
        binds.push(("d.versorgungsgebiet = ", v.clone()));
    }
    let mut n = 0;
    for (clause, _) in &binds {
        n += 1;
        sql.push_str(&format!(" AND {clause}${n}"));
    }
    if !statuses.is_empty() {
        n += 1;
        sql.push_str(&format!(" AND a.status = ANY (${n})"));
    }
    if q.year.is_some() {
        n += 1;
        sql.push_str(&format!(
            " AND extract(year FROM coalesce(a.submitted_at, a.created_at) AT TIME ZONE 'Europe/Berlin')::int = ${n}"
        ));
    }
    if !group_by.is_empty() {
        let keys: Vec<String> = (0..group_by.len()).map(|i| format!("g{i}")).collect();
        sql.push_str(&format!(
            " GROUP BY {0} ORDER BY {0} LIMIT {1}",
            keys.join(", "),
            MAX_ROWS + 1
        ));
    }
    let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
    for (_, value) in binds {
        query = query.bind::<Text, _>(value);
    }
    if !statuses.is_empty() {
        query = query.bind::<diesel::sql_types::Array<Text>, _>(statuses);
    }
    if let Some(year) = q.year {
        query = query.bind::<Integer, _>(year);
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let raw: Vec<Raw> = query.load(&mut conn).await?;
    if raw.len() > MAX_ROWS {
        return Err(bad("groupBy", "out_of_range", MessageParams::max(MAX_ROWS)));
    }
    let names: Vec<String> = group_by.iter().map(|(n, _)| (*n).to_owned()).collect();
    let rows: Vec<Row> = raw
        .into_iter()
        .map(|r| {
            let slots = [r.g0, r.g1, r.g2, r.g3, r.g4];
            let mut row = Row {
                funding_line: None,
                district: None,
                versorgungsgebiet: None,
                status: None,
                year: None,
                count: r.n,
                requested_cents: r.requested,
                granted_cents: r.granted,
            };
            for (name, value) in names.iter().zip(slots) {
                let value = Some(value.unwrap_or_default());
                match name.as_str() {
                    "fundingLine" => row.funding_line = value,
                    "district" => row.district = value,
                    "versorgungsgebiet" => row.versorgungsgebiet = value,
                    "status" => row.status = value,
                    _ => row.year = value,
                }
            }
            row
        })
        .collect();
    let total = Row {
        funding_line: None,
        district: None,
        versorgungsgebiet: None,
        status: None,
        year: None,
        count: rows.iter().map(|r| r.count).sum(),
        requested_cents: rows.iter().map(|r| r.requested_cents).sum(),
        granted_cents: rows.iter().map(|r| r.granted_cents).sum(),
    };
    if crate::http::csv::wanted(&req) {
        use crate::http::csv::{cell, line};
        let mut text = line(
            &names
                .iter()
                .cloned()
                .chain(["count".into(), "requestedCents".into(), "grantedCents".into()])
                .collect::<Vec<_>>(),
        );
        for r in &rows {
            let mut cells: Vec<String> = names
                .iter()
                .map(|n| {
                    let v = match n.as_str() {
                        "fundingLine" => &r.funding_line,
                        "district" => &r.district,
                        "versorgungsgebiet" => &r.versorgungsgebiet,
                        "status" => &r.status,
                        _ => &r.year,
                    };
                    cell(v.as_deref().unwrap_or(""))
                })
                .collect();
            cells.extend([
                r.count.to_string(),
                r.requested_cents.to_string(),
                r.granted_cents.to_string(),
            ]);
            text.push_str(&line(&cells));
        }
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("cache-control", "no-store"))
            .body(text));
    }
    Ok(HttpResponse::Ok().json(Statistics {
        group_by: names,
        rows,
        total,
    }))
}

//! The statistics handler: role gate, parse and check the query (400s), call the store, answer with JSON or CSV.
//! The doc comment is the operation's description in the OpenAPI document; the function name is its operationId.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::{Dimension, FIGURES, FundingRequest, MAX_ROWS, Row, Statistics, YEARS};
use super::store;
use crate::applications::model::Status;
use crate::core::identity::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Query;
use crate::http::openapi::Forbidden;
use crate::state::AppState;

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

fn bad(name: &str, code: &str, params: MessageParams) -> ApiError {
    ApiError::BadRequest(vec![FieldError::new(format!("/query/{name}"), code, params)])
}

impl StatisticsQuery {
    /// The checked request; the first problem is the 400 (dimensions, then year, then states).
    fn request(self) -> ApiResult<FundingRequest> {
        let group_by = group_by(self.group_by.as_deref().unwrap_or("fundingLine,status"))?;
        if let Some(year) = self.year
            && !YEARS.contains(&year)
        {
            return Err(bad(
                "year",
                "out_of_range",
                MessageParams::range(YEARS.start(), YEARS.end()),
            ));
        }
        let statuses = match &self.status {
            Some(list) => statuses(list)?,
            None => vec![],
        };
        Ok(FundingRequest {
            group_by,
            funding_line: self.funding_line,
            district: self.district,
            versorgungsgebiet: self.versorgungsgebiet,
            statuses,
            year: self.year,
        })
    }
}

/// The named dimensions in the caller's order, each once.
fn group_by(wanted: &str) -> ApiResult<Vec<Dimension>> {
    let mut group_by = Vec::new();
    for name in wanted.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Ok(dimension) = name.parse::<Dimension>() else {
            let allowed: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
            return Err(bad(
                "groupBy",
                "invalid_value",
                MessageParams::allowed(allowed.join(", ")),
            ));
        };
        if !group_by.contains(&dimension) {
            group_by.push(dimension);
        }
    }
    Ok(group_by)
}

fn statuses(list: &str) -> ApiResult<Vec<Status>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Status>()
                .map_err(|_| bad("status", "invalid_value", MessageParams::default()))
        })
        .collect()
}

/// Funding statistics
///
/// Counts and sums (requested, granted; in cents) of applications, grouped by any of funding line, district,
/// Versorgungsgebiet, status and year, with the same filters. `Accept: text/csv` returns the rows as CSV, the
/// last line being the total (`total` in the first column; without dimensions the one line is the total).
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
pub(super) async fn funding(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<StatisticsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    let request = q.request()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = store::funding(&mut conn, &request).await?;
    if rows.len() > MAX_ROWS {
        return Err(bad("groupBy", "out_of_range", MessageParams::max(MAX_ROWS)));
    }
    if crate::http::csv::wanted(&req) {
        return Ok(crate::http::csv::whole("statistics.csv", csv(&request.group_by, &rows)));
    }
    let total = Row::total(&rows);
    Ok(HttpResponse::Ok().json(Statistics {
        group_by: request.group_by.iter().map(|d| d.as_str().to_owned()).collect(),
        rows,
        total,
    }))
}

/// A header row (the grouped dimensions, then the figures), one line per group, and the total: `total` in the
/// first dimension's column, the other dimensions empty. Without dimensions the one row is the total already.
fn csv(group_by: &[Dimension], rows: &[Row]) -> String {
    use crate::http::csv::{cell, line};
    let mut text = line(
        &group_by
            .iter()
            .map(|d| d.as_str().to_owned())
            .chain(FIGURES.iter().map(|f| (*f).to_owned()))
            .collect::<Vec<_>>(),
    );
    for r in rows {
        let mut cells: Vec<String> = group_by.iter().map(|d| cell(r.value(*d).unwrap_or(""))).collect();
        cells.extend(r.numbers().iter().map(ToString::to_string));
        text.push_str(&line(&cells));
    }
    if !group_by.is_empty() {
        let total = Row::total(rows);
        let mut cells: Vec<String> = group_by.iter().map(|_| String::new()).collect();
        cells[0] = "total".into();
        cells.extend(total.numbers().iter().map(ToString::to_string));
        text.push_str(&line(&cells));
    }
    text
}

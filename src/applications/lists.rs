//! The application lists: filters, sort orders and keyset pages over the applications the caller may see
//! ([`super::store::visible`]).

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use super::store::{AppRow, Boxed, ORG_COLS, to_api, visible};
use crate::core::identity::Caller;
use crate::db::schema::applications;
use crate::error::ApiResult;

/// A sort order of the list: SQL expression of the key, the cast that turns a cursor's text back into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    SubmittedAt,
    RequestedCents,
    Title,
}

impl SortField {
    pub fn parse(s: &str) -> Option<(Self, bool)> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let field = match name {
            "createdAt" => Self::CreatedAt,
            "submittedAt" => Self::SubmittedAt,
            "requestedCents" => Self::RequestedCents,
            "title" => Self::Title,
            _ => return None,
        };
        Some((field, descending))
    }

    fn expr(self) -> &'static str {
        match self {
            Self::CreatedAt => "applications.created_at",
            Self::SubmittedAt => "coalesce(applications.submitted_at, '-infinity'::timestamptz)",
            Self::RequestedCents => "coalesce(applications.requested_cents, -1)",
            Self::Title => "applications.title",
        }
    }

    fn cast(self) -> &'static str {
        match self {
            Self::CreatedAt | Self::SubmittedAt => "timestamptz",
            Self::RequestedCents => "bigint",
            Self::Title => "text",
        }
    }
}

/// The filters of a list or export, already validated.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub statuses: Vec<Status>,
    pub funding_line: Option<String>,
    pub district: Option<String>,
    pub organisation: Option<Uuid>,
    pub q: Option<String>,
    pub submitted_from: Option<DateTime<Utc>>,
    pub submitted_to: Option<DateTime<Utc>>,
    pub updated_since: Option<DateTime<Utc>>,
    /// A topic code: the topic and its sub-topics.
    pub topic: Option<String>,
}

/// The topic filter with its sub-topics.
async fn topic_codes(conn: &mut AsyncPgConnection, f: &Filter) -> ApiResult<Option<Vec<String>>> {
    Ok(match &f.topic {
        Some(t) => Some(crate::vocabulary::with_descendants(conn, t).await?),
        None => None,
    })
}

fn filtered(caller: &Caller, f: &Filter, topics: Option<Vec<String>>) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(codes) = topics {
        query = query.filter(applications::topics.overlaps_with(codes));
    }
    // One status as an equality: PostgreSQL reads the (status, funding line, created) index in order for `=` but
    // not for `= ANY(..)`, and a first page would otherwise walk the newest applications of every state
    // (docs/performance.md, F1).
    match f.statuses.as_slice() {
        [] => {}
        [one] => query = query.filter(applications::status.eq(one.as_str())),
        many => query = query.filter(applications::status.eq_any(many.iter().map(|s| s.as_str()).collect::<Vec<_>>())),
    }
    if let Some(line) = &f.funding_line {
        query = query.filter(applications::funding_line_code.eq(line.clone()));
    }
    if let Some(d) = &f.district {
        query = query.filter(applications::district_ags.eq(d.clone()));
    }
    if let Some(o) = f.organisation {
        query = query.filter(applications::organisation_id.eq(o));
    }
    if let Some(q) = &f.q {
        query = query.filter(
            sql::<Bool>("applications.search @@ websearch_to_tsquery('german', ")
                .bind::<Text, _>(q.clone())
                .sql(")"),
        );
    }
    if let Some(from) = f.submitted_from {
        query = query.filter(applications::submitted_at.ge(from));
    }
    if let Some(to) = f.submitted_to {
        query = query.filter(applications::submitted_at.lt(to));
    }
    if let Some(since) = f.updated_since {
        query = query.filter(applications::updated_at.ge(since));
    }
    Ok(query)
}

/// Keyset position: the sort key as PostgreSQL prints it, and the id.
pub type Key = (String, Uuid);

/// One page (`limit + 1` rows, to tell whether more follow) after `after`, in the given order.
pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    f: &Filter,
    sort: SortField,
    descending: bool,
    after: Option<&Key>,
    limit: i64,
) -> ApiResult<Vec<(Application, Key)>> {
    let expr = sort.expr();
    let (op, dir) = if descending { ("<", "DESC") } else { (">", "ASC") };
    let topics = topic_codes(conn, f).await?;
    let mut query = filtered(caller, f, topics)?;
    if let Some((value, id)) = after {
        query = query.filter(
            sql::<Bool>(&format!("({expr}, applications.id) {op} (("))
                .bind::<Text, _>(value.clone())
                .sql(&format!(")::{}, ", sort.cast()))
                .bind::<diesel::sql_types::Uuid, _>(*id)
                .sql(")"),
        );
    }
    let rows: Vec<(AppRow, (Option<String>, String), String)> = query
        .order(sql::<Text>(&format!("{expr} {dir}, applications.id {dir}")))
        .limit(limit)
        .select((AppRow::as_select(), ORG_COLS, sql::<Text>(&format!("({expr})::text"))))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(row, org, key)| {
            let id = row.id;
            Ok((to_api((row, org))?, (key, id)))
        })
        .collect()
}

pub async fn count(conn: &mut AsyncPgConnection, caller: &Caller, f: &Filter) -> ApiResult<i64> {
    let topics = topic_codes(conn, f).await?;
    Ok(filtered(caller, f, topics)?.count().get_result(conn).await?)
}

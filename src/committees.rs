//! `/api/v1/committees`: the ministry's committees and working groups (Gremien, AGs), regional health conferences
//! and similar units of other ministries, with their members and meetings. The service unit manages them; every
//! role reads them. The real bodies are seeded by migration.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::history::HistoryEntry;
use crate::audit::{self, Audience, Change, record};
use crate::core::identity::{Caller, Role};
use crate::core::types::is_district_ags;
use crate::db::schema::{committee_meetings, committee_members, committees, coordinators, districts, referrals};
use crate::error::validation::Checked;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{JsonBody, Query, ok_with_etag, required_if_match};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::text_enum;

pub const KIND: &str = "committee";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(history)
        .service(update)
        .service(remove)
        .service(list_members)
        .service(add_member)
        .service(remove_member)
        .service(list_meetings)
        .service(add_meeting);
}

text_enum! {
    /// What kind of body a committee is.
    pub enum CommitteeKind {
        /// Gremium (e.g. the Landesgremium nach § 90a SGB V).
        Gremium = "gremium",
        /// Arbeitsgruppe.
        WorkingGroup = "working_group",
        /// Regionale Gesundheitskonferenz of a Versorgungsgebiet.
        RegionalConference = "regional_conference",
        /// A similar unit of another ministry.
        OtherMinistryUnit = "other_ministry_unit",
    }
}

text_enum! {
    /// Which part of Hessen a committee covers.
    pub enum CoverageScope {
        Hessen = "hessen",
        Versorgungsgebiet = "versorgungsgebiet",
        Districts = "districts",
    }
}

/// The area a committee covers: all of Hessen, one Versorgungsgebiet, or listed districts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"scope": "versorgungsgebiet", "versorgungsgebiet": "Fulda-Bad Hersfeld"}))]
pub struct Coverage {
    pub scope: CoverageScope,
    /// With scope `versorgungsgebiet`.
    #[schema(max_length = 100)]
    #[validate(length(max = 100))]
    pub versorgungsgebiet: Option<String>,
    /// With scope `districts`: their AGS.
    #[validate(length(max = 26))]
    #[schema(max_items = 26, max_length = 5)]
    pub districts: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommitteeContact {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
}

/// Gremium or AG as the service unit writes it (create body; the state a merge patch produces).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"name": "AG Telemedizin", "kind": "working_group",
    "owningBody": "Serviceeinheit Gesundheitsversorgung", "topics": ["Telemedizin"],
    "coverage": {"scope": "hessen"}, "contact": {"name": "Geschäftsstelle", "email": "ag-telemedizin@example.org"}}))]
pub struct CommitteeInput {
    #[validate(required, length(min = 3, max = 200))]
    #[schema(min_length = 3, max_length = 200)]
    pub name: Option<String>,
    #[validate(required)]
    pub kind: Option<CommitteeKind>,
    /// The body the committee belongs to (a ministry, the KV, the service unit, ...).
    #[validate(required, length(min = 2, max = 200))]
    #[schema(min_length = 2, max_length = 200)]
    pub owning_body: Option<String>,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, min_length = 1, max_length = 100)]
    pub topics: Vec<String>,
    #[validate(required, nested)]
    pub coverage: Option<Coverage>,
    #[serde(default)]
    #[validate(nested)]
    pub contact: CommitteeContact,
}

impl Checked for CommitteeInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (i, t) in self.topics.iter().enumerate() {
            if t.trim().is_empty() || t.chars().count() > 100 {
                errors.push(FieldError::new(
                    format!("/topics/{i}"),
                    "length",
                    MessageParams::range(1, 100),
                ));
            }
        }
        if let Some(c) = &self.coverage {
            let vg = c.versorgungsgebiet.is_some();
            let ds = c.districts.as_ref().is_some_and(|d| !d.is_empty());
            let consistent = match c.scope {
                CoverageScope::Hessen => !vg && !ds,
                CoverageScope::Versorgungsgebiet => vg && !ds,
                CoverageScope::Districts => !vg && ds,
            };
            if !consistent {
                errors.push(FieldError::new(
                    "/coverage",
                    "invalid_value",
                    MessageParams::allowed(
                        "{scope: hessen} | {scope: versorgungsgebiet, versorgungsgebiet} | {scope: districts, districts}",
                    ),
                ));
            }
            for (i, d) in c.districts.iter().flatten().enumerate() {
                if !is_district_ags(d) {
                    errors.push(FieldError::new(
                        format!("/coverage/districts/{i}"),
                        "invalid_format",
                        MessageParams::detail("a five-digit AGS"),
                    ));
                }
            }
        }
        errors
    }
}

/// Gremium, AG, regional conference or unit of another ministry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a4", "name": "Regionale Gesundheitskonferenz Fulda-Bad Hersfeld",
    "kind": "regional_conference", "owningBody": "Hessisches Ministerium für Familie, Senioren, Sport, Gesundheit und Pflege",
    "topics": ["Versorgungsplanung"], "coverage": {"scope": "versorgungsgebiet", "versorgungsgebiet": "Fulda-Bad Hersfeld"},
    "contact": {"name": null, "email": null}, "version": 1,
    "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T09:00:00Z"}))]
pub struct Committee {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
    pub kind: CommitteeKind,
    #[schema(max_length = 200)]
    pub owning_body: String,
    #[schema(max_items = 20, max_length = 100)]
    pub topics: Vec<String>,
    pub coverage: Coverage,
    pub contact: CommitteeContact,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Committee);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = committees)]
struct Row {
    id: Uuid,
    name: String,
    kind: String,
    owning_body: String,
    topics: Vec<String>,
    coverage: String,
    coverage_versorgungsgebiet: Option<String>,
    coverage_districts: Vec<String>,
    contact_name: Option<String>,
    contact_email: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Committee {
    type Error = ApiError;
    fn try_from(r: Row) -> ApiResult<Self> {
        Ok(Self {
            id: r.id,
            name: r.name,
            kind: r.kind.parse().map_err(ApiError::internal)?,
            owning_body: r.owning_body,
            topics: r.topics,
            coverage: Coverage {
                scope: r.coverage.parse().map_err(ApiError::internal)?,
                versorgungsgebiet: r.coverage_versorgungsgebiet,
                districts: (!r.coverage_districts.is_empty()).then_some(r.coverage_districts),
            },
            contact: CommitteeContact {
                name: r.contact_name,
                email: r.contact_email,
            },
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Committee {
    fn input(&self) -> CommitteeInput {
        CommitteeInput {
            name: Some(self.name.clone()),
            kind: Some(self.kind),
            owning_body: Some(self.owning_body.clone()),
            topics: self.topics.clone(),
            coverage: Some(self.coverage.clone()),
            contact: self.contact.clone(),
        }
    }
}

/// The columns written by create and patch alike.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = committees, treat_none_as_null = true)]
struct Content<'a> {
    name: &'a str,
    kind: &'a str,
    owning_body: &'a str,
    topics: &'a [String],
    coverage: &'a str,
    coverage_versorgungsgebiet: Option<&'a str>,
    coverage_districts: Vec<String>,
    contact_name: Option<&'a str>,
    contact_email: Option<&'a str>,
}

fn content(input: &CommitteeInput) -> ApiResult<Content<'_>> {
    let (Some(name), Some(kind), Some(owner), Some(coverage)) =
        (&input.name, input.kind, &input.owning_body, &input.coverage)
    else {
        return Err(ApiError::internal("validated committee lacks a required field"));
    };
    Ok(Content {
        name,
        kind: kind.as_str(),
        owning_body: owner,
        topics: &input.topics,
        coverage: coverage.scope.as_str(),
        coverage_versorgungsgebiet: coverage.versorgungsgebiet.as_deref(),
        coverage_districts: coverage.districts.clone().unwrap_or_default(),
        contact_name: input.contact.name.as_deref(),
        contact_email: input.contact.email.as_deref(),
    })
}

/// The references of a coverage must exist.
async fn check_coverage(conn: &mut AsyncPgConnection, input: &CommitteeInput) -> ApiResult<()> {
    let Some(coverage) = &input.coverage else {
        return Ok(());
    };
    let mut errors = Vec::new();
    if let Some(vg) = &coverage.versorgungsgebiet {
        let known: bool = diesel::select(diesel::dsl::exists(
            districts::table.filter(districts::versorgungsgebiet.eq(vg)),
        ))
        .get_result(conn)
        .await?;
        if !known {
            errors.push(FieldError::new(
                "/coverage/versorgungsgebiet",
                "unknown_reference",
                MessageParams::detail(vg),
            ));
        }
    }
    for (i, d) in coverage.districts.iter().flatten().enumerate() {
        let known: bool = diesel::select(diesel::dsl::exists(districts::table.find(d)))
            .get_result(conn)
            .await?;
        if !known {
            errors.push(FieldError::new(
                format!("/coverage/districts/{i}"),
                "unknown_reference",
                MessageParams::detail(d),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<Committee> {
    committees::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await?
        .try_into()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListCommittees {
    kind: Option<CommitteeKind>,
    /// Case-insensitive part of the name.
    q: Option<String>,
    /// Committees with this topic.
    topic: Option<String>,
    /// Committees whose coverage includes this district (AGS): all of Hessen, its Versorgungsgebiet, or listed.
    covers: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

const SORT: &str = "committees:id";

fn filtered(q: &ListCommittees) -> committees::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = committees::table.into_boxed();
    if let Some(k) = q.kind {
        query = query.filter(committees::kind.eq(k.as_str()));
    }
    if let Some(text) = &q.q {
        query = query.filter(committees::name.ilike(crate::core::types::like_pattern(text)));
    }
    if let Some(topic) = &q.topic {
        query = query.filter(committees::topics.contains(vec![topic.clone()]));
    }
    if let Some(d) = &q.covers {
        use diesel::sql_types::{Bool, Text};
        query = query.filter(
            diesel::dsl::sql::<Bool>(
                "(committees.coverage = 'hessen' OR committees.coverage_versorgungsgebiet = \
                 (SELECT versorgungsgebiet FROM districts WHERE ags = ",
            )
            .bind::<Text, _>(d.clone())
            .sql(") OR ")
            .bind::<Text, _>(d.clone())
            .sql(" = ANY (committees.coverage_districts))"),
        );
    }
    query
}

// ---- committees ----

/// List committees
///
/// Committees, working groups, regional conferences and units of other ministries, oldest first. Filter by kind,
/// name, topic, or the district they cover. `Accept: text/csv` exports every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Committees",
    params(ListCommittees),
    responses(
        (status = 200, description = "One page of committees, or all of them as CSV",
            content((Page<Committee> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/committees")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: Caller,
    Query(q): Query<ListCommittees>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let q = std::rc::Rc::new(q);
    let fetch = {
        let pool = state.pool.clone();
        let q = q.clone();
        move |after: Option<Uuid>, limit: i64| {
            let (pool, q) = (pool.clone(), q.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                let mut query = filtered(&q).select(Row::as_select()).order(committees::id.asc());
                if let Some(after) = after {
                    query = query.filter(committees::id.gt(after));
                }
                let rows: Vec<Row> = query.limit(limit).load(&mut conn).await?;
                rows.into_iter()
                    .map(|r| {
                        let id = r.id;
                        Ok((Committee::try_from(r)?, id))
                    })
                    .collect::<ApiResult<Vec<_>>>()
            }
        }
    };
    if crate::http::csv::wanted(&req) {
        return Ok(crate::http::csv::stream(
            "committees.csv",
            "id,name,kind,owningBody,topics,coverage,versorgungsgebiet,districts\n",
            move |after| fetch(after, crate::http::csv::BATCH),
            csv_row,
        ));
    }
    let rows = fetch(paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        let mut conn = crate::db::conn(&state.pool).await?;
        Some(filtered(&q).count().get_result(&mut conn).await?)
    } else {
        None
    };
    let result: Page<Committee> = paging.page(rows, SORT, |(_, id)| *id, |(c, _)| c, total);
    Ok(HttpResponse::Ok().json(result))
}

fn csv_row(c: &Committee) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        c.id.to_string(),
        cell(&c.name),
        c.kind.as_str().to_owned(),
        cell(&c.owning_body),
        cell(&c.topics.join("; ")),
        c.coverage.scope.as_str().to_owned(),
        opt(&c.coverage.versorgungsgebiet),
        cell(&c.coverage.districts.clone().unwrap_or_default().join(" ")),
    ])
}

/// Get a committee
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id")),
    responses(
        (status = 200, description = "The committee", body = Committee, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/committees/{id}")]
async fn get_one(state: web::Data<AppState>, _caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = find(&mut conn, *id).await?;
    Ok(ok_with_etag(c.version, &c))
}

/// Add a committee
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = CommitteeInput,
    responses(
        (status = 201, description = "The new committee", body = Committee, headers(("Location" = String), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/committees")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<CommitteeInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        check_coverage(conn, &input).await?;
        let id: Uuid = diesel::insert_into(committees::table)
            .values(content(&input)?)
            .returning(committees::id)
            .get_result(conn)
            .await?;
        let c = find(conn, id).await?;
        record(
            conn,
            &caller,
            Change::new(KIND, id, "create", "committee.created", Audience::everyone()),
            &c,
        )
        .await?;
        Ok(Stored::json(StatusCode::CREATED, &c)?
            .header("etag", crate::http::extract::etag(c.version))
            .header("location", format!("/api/v1/committees/{id}")))
    })
    .await
}

/// Change a committee
///
/// JSON Merge Patch with `If-Match`.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(
        ("id" = Uuid, Path, description = "Committee id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = CommitteeInput, content_type = "application/merge-patch+json",
        example = json!({"topics": ["Versorgungsplanung", "Telemedizin"]})),
    responses(
        (status = 200, description = "The changed committee", body = Committee, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/committees/{id}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CommitteeInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let expected = required_if_match(&req)?;
    let patch = body.object()?;
    let id = *id;
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = crate::db::transaction(&mut conn, async |conn| {
        committees::table
            .find(id)
            .select(committees::id)
            .for_update()
            .first::<Uuid>(conn)
            .await?;
        let current = find(conn, id).await?;
        expected.check(current.version)?;
        let before = serde_json::to_value(current.input()).map_err(ApiError::internal)?;
        let mut merged = before.clone();
        crate::http::patch::merge_patch(&mut merged, &patch);
        let input: CommitteeInput = crate::http::extract::parse_value(merged)?;
        check_coverage(conn, &input).await?;
        let after = serde_json::to_value(&input).map_err(ApiError::internal)?;
        let changed = crate::http::patch::changed_pointers(&before, &after);
        if changed.is_empty() {
            return Ok(current);
        }
        diesel::update(committees::table.find(id))
            .set((
                content(&input)?,
                committees::version.eq(current.version + 1),
                committees::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        let c = find(conn, id).await?;
        let change = Change::new(KIND, id, "update", "committee.changed", Audience::everyone()).changed(changed);
        record(conn, &caller, change, &c).await?;
        Ok(c)
    })
    .await?;
    Ok(ok_with_etag(c.version, &c))
}

/// Remove a committee
///
/// Removes a committee with its members and meetings. A committee that referrals come from or were forwarded to
/// cannot be removed (409 `in_use`).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/committees/{id}")]
async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let id = *id;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::db::transaction(&mut conn, async |conn| {
        let deleted = diesel::delete(committees::table.find(id)).execute(conn).await?;
        if deleted == 0 {
            return Err(ApiError::NotFound);
        }
        let change = Change::new(KIND, id, "delete", "committee.deleted", Audience::everyone());
        record(conn, &caller, change, &serde_json::json!({"id": id})).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- members ----

/// A member of a committee: a coordinator from the register, or a named external person.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub id: Uuid,
    pub coordinator_id: Option<Uuid>,
    /// The coordinator's or external person's name (`null` for an erased coordinator).
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// External members' organisation.
    #[schema(max_length = 200)]
    pub organisation: Option<String>,
    /// External members' e-mail: only for the service unit and the ministry.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// The member's role in the committee (chair, deputy, ...).
    #[schema(max_length = 100)]
    pub role: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"coordinatorId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a3", "role": "Mitglied"}))]
pub struct NewMember {
    /// A coordinator from the register; or give `name` (and `organisation`, `email`) for an external person.
    pub coordinator_id: Option<Uuid>,
    #[validate(length(min = 2, max = 200))]
    #[schema(min_length = 2, max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub organisation: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub role: Option<String>,
}

impl Checked for NewMember {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let external = self.name.is_some() || self.organisation.is_some() || self.email.is_some();
        match (self.coordinator_id.is_some(), external) {
            (true, true) => vec![FieldError::new(
                "/coordinatorId",
                "invalid_value",
                MessageParams::allowed("either coordinatorId, or name with organisation and email"),
            )],
            (false, _) if self.name.is_none() => vec![FieldError::new("/name", "required", MessageParams::default())],
            _ => vec![],
        }
    }
}

type MemberRow = (
    Uuid,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    Option<String>,
);

async fn members(conn: &mut AsyncPgConnection, caller: &Caller, committee: Uuid) -> ApiResult<Vec<Member>> {
    let rows: Vec<MemberRow> = committee_members::table
        .left_join(coordinators::table)
        .filter(committee_members::committee_id.eq(committee))
        .order(committee_members::id.asc())
        .limit(crate::http::pagination::MAX_UNPAGED)
        .select((
            committee_members::id,
            committee_members::coordinator_id,
            committee_members::external_name,
            committee_members::external_organisation,
            committee_members::external_email,
            committee_members::role,
            committee_members::created_at,
            coordinators::name.nullable(),
        ))
        .load(conn)
        .await?;
    let staff = matches!(caller.role, Role::ServiceUnit | Role::Ministry);
    Ok(rows
        .into_iter()
        .map(
            |(id, coordinator_id, ext_name, org, email, role, created_at, coord_name)| Member {
                id,
                coordinator_id,
                name: if coordinator_id.is_some() { coord_name } else { ext_name },
                organisation: org,
                email: email.filter(|_| staff),
                role,
                created_at,
            },
        )
        .collect())
}

/// Members of a committee
///
/// **Roles:** every authenticated role; external members' e-mail only for `service_unit` and `ministry`.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id")),
    responses(
        (status = 200, description = "The members", body = Vec<Member>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/committees/{id}/members")]
async fn list_members(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    find(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(members(&mut conn, &caller, *id).await?))
}

/// Add a member
///
/// A coordinator from the register (once per committee, else 409) or a named external person.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewMember,
    responses(
        (status = 201, description = "The committee's members after the addition", body = Vec<Member>),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/committees/{id}/members")]
async fn add_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewMember>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let m = body.parse()?;
    let committee = *id;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        find(conn, committee).await?;
        if let Some(c) = m.coordinator_id {
            let known: bool = diesel::select(diesel::dsl::exists(coordinators::table.find(c)))
                .get_result(conn)
                .await?;
            if !known {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "/coordinatorId",
                    "unknown_reference",
                    MessageParams::detail(c),
                )]));
            }
        }
        diesel::insert_into(committee_members::table)
            .values((
                committee_members::committee_id.eq(committee),
                committee_members::coordinator_id.eq(m.coordinator_id),
                committee_members::external_name.eq(&m.name),
                committee_members::external_organisation.eq(&m.organisation),
                committee_members::external_email.eq(&m.email),
                committee_members::role.eq(&m.role),
            ))
            .execute(conn)
            .await?;
        // Member events carry ids only: names and e-mails are personal data the feed need not spread.
        let data = serde_json::json!({"committeeId": committee, "coordinatorId": m.coordinator_id});
        let change = Change::new(
            KIND,
            committee,
            "add-member",
            "committee.member_added",
            Audience::everyone(),
        )
        .changed(vec!["/members".into()]);
        record(conn, &caller, change, &data).await?;
        Stored::json(StatusCode::CREATED, &members(conn, &caller, committee).await?)
    })
    .await
}

/// Remove a member
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id"), ("memberId" = Uuid, Path, description = "Member id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/committees/{id}/members/{memberId}")]
async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let (committee, member) = *path;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::db::transaction(&mut conn, async |conn| {
        let deleted = diesel::delete(
            committee_members::table
                .filter(committee_members::id.eq(member))
                .filter(committee_members::committee_id.eq(committee)),
        )
        .execute(conn)
        .await?;
        if deleted == 0 {
            return Err(ApiError::NotFound);
        }
        let data = serde_json::json!({"committeeId": committee, "memberId": member});
        let change = Change::new(
            KIND,
            committee,
            "remove-member",
            "committee.member_removed",
            Audience::everyone(),
        )
        .changed(vec!["/members".into()]);
        record(conn, &caller, change, &data).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Emits `committee.created` with the committee as it is now (the feed's backfill of seeded rows).
pub async fn snapshot(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<()> {
    let c = find(conn, id).await?;
    audit::backfill(conn, KIND, id, "committee.created", Audience::everyone(), &c).await
}

// ---- meetings ----

/// One item of a meeting's agenda, possibly about a referral.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AgendaItem {
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    pub referral_id: Option<Uuid>,
}

/// A meeting of a committee.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meeting {
    pub id: Uuid,
    pub committee_id: Uuid,
    pub date: NaiveDate,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 300)]
    pub place: Option<String>,
    #[schema(max_length = 500)]
    pub link: Option<String>,
    #[schema(max_items = 50)]
    pub agenda: Vec<AgendaItem>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"date": "2027-03-10", "title": "Sitzung 1/2027", "place": "Fulda, Kreishaus",
    "agenda": [{"title": "Telemedizinische Fallkonferenzen – Vorschlag aus dem Vogelsbergkreis",
        "referralId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a5"}]}))]
pub struct NewMeeting {
    #[validate(required)]
    #[schema(value_type = NaiveDate, required = true)]
    pub date: Option<NaiveDate>,
    #[validate(required, length(min = 3, max = 200))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[validate(length(max = 300))]
    #[schema(max_length = 300)]
    pub place: Option<String>,
    #[validate(url, length(max = 500))]
    #[schema(max_length = 500)]
    pub link: Option<String>,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub agenda: Vec<AgendaItem>,
}

impl Checked for NewMeeting {}

type MeetingRow = (
    Uuid,
    Uuid,
    NaiveDate,
    String,
    Option<String>,
    Option<String>,
    serde_json::Value,
    DateTime<Utc>,
);

async fn meetings(conn: &mut AsyncPgConnection, committee: Uuid) -> ApiResult<Vec<Meeting>> {
    let rows: Vec<MeetingRow> = committee_meetings::table
        .filter(committee_meetings::committee_id.eq(committee))
        .order((committee_meetings::date.asc(), committee_meetings::id.asc()))
        .limit(crate::http::pagination::MAX_UNPAGED)
        .select((
            committee_meetings::id,
            committee_meetings::committee_id,
            committee_meetings::date,
            committee_meetings::title,
            committee_meetings::place,
            committee_meetings::link,
            committee_meetings::agenda,
            committee_meetings::created_at,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(id, committee_id, date, title, place, link, agenda, created_at)| {
            Ok(Meeting {
                id,
                committee_id,
                date,
                title,
                place,
                link,
                agenda: serde_json::from_value(agenda).map_err(ApiError::internal)?,
                created_at,
            })
        })
        .collect()
}

/// Meetings of a committee
///
/// In date order.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id")),
    responses(
        (status = 200, description = "The meetings", body = Vec<Meeting>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/committees/{id}/meetings")]
async fn list_meetings(state: web::Data<AppState>, _caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    find(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(meetings(&mut conn, *id).await?))
}

/// Record a meeting
///
/// A meeting with its agenda; agenda items may point at referrals (which must exist).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewMeeting,
    responses(
        (status = 201, description = "The recorded meeting", body = Meeting),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[post("/committees/{id}/meetings")]
async fn add_meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<NewMeeting>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let m = body.parse()?;
    let committee = *id;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        find(conn, committee).await?;
        let mut errors = Vec::new();
        for (i, item) in m.agenda.iter().enumerate() {
            if let Some(r) = item.referral_id {
                let known: bool = diesel::select(diesel::dsl::exists(referrals::table.find(r)))
                    .get_result(conn)
                    .await?;
                if !known {
                    errors.push(FieldError::new(
                        format!("/agenda/{i}/referralId"),
                        "unknown_reference",
                        MessageParams::detail(r),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let meeting_id: Uuid = diesel::insert_into(committee_meetings::table)
            .values((
                committee_meetings::committee_id.eq(committee),
                committee_meetings::date.eq(m.date.unwrap_or_default()),
                committee_meetings::title.eq(m.title.clone().unwrap_or_default()),
                committee_meetings::place.eq(&m.place),
                committee_meetings::link.eq(&m.link),
                committee_meetings::agenda.eq(serde_json::to_value(&m.agenda).map_err(ApiError::internal)?),
            ))
            .returning(committee_meetings::id)
            .get_result(conn)
            .await?;
        let all = meetings(conn, committee).await?;
        let created = all
            .into_iter()
            .find(|x| x.id == meeting_id)
            .ok_or_else(|| ApiError::internal("meeting vanished"))?;
        let change = Change::new(
            KIND,
            committee,
            "add-meeting",
            "committee.meeting_recorded",
            Audience::everyone(),
        )
        .changed(vec!["/meetings".into()]);
        record(conn, &caller, change, &created).await?;
        Stored::json(StatusCode::CREATED, &created)
    })
    .await
}

/// History of a committee
///
/// Every change of the committee, oldest first: created, changed (with the fields a change touched), members added
/// and removed, meetings recorded.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Committees",
    params(("id" = Uuid, Path, description = "Committee id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/committees/{id}/history")]
async fn history(state: web::Data<AppState>, _caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    find(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(crate::audit::history::list(&mut conn, KIND, *id).await?))
}

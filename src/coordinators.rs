//! `/api/v1/coordinators`: the register of health coordinators (Gesundheitskoordinatorinnen und -koordinatoren).
//!
//! The service unit keeps the register. Everyone authenticated reads it; the contact fields (e-mail, phone) only
//! the service unit, the ministry and municipalities of the coordinator's district. `DELETE` erases the person
//! (GDPR Art. 17): every personal field is removed, an anonymous placeholder keeps references valid.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::history::{self, HistoryEntry};
use crate::audit::{self, Audience, Change};
use crate::core::identity::{Caller, Role};
use crate::core::types::is_district_ags;
use crate::db::schema::{applications, coordinators, organisations};
use crate::error::validation::Checked;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{Expected, JsonBody, Query, ok_with_etag, required_if_match};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::text_enum;

pub const KIND: &str = "coordinator";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(update)
        .service(erase)
        .service(history_of);
}

text_enum! {
    /// Employment status of a coordinator.
    pub enum CoordinatorStatus {
        Active = "active",
        OnLeave = "on_leave",
        Left = "left",
    }
}

/// Contact data: personal data, shown only to the service unit, the ministry and the coordinator's district.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoordinatorContact {
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmployerRef {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Gesundheitskoordinator:in: a health coordinator of a district.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a3", "name": "Jana Hoffmann", "district": "06535",
    "employer": {"id": "0193a6a4-0000-7000-8000-000000000002", "name": "Landkreis Vogelsbergkreis"},
    "fteBasisPoints": 10000, "startDate": "2027-01-01", "endDate": null, "status": "active",
    "fundingApplicationId": null, "erased": false,
    "contact": {"email": "jana.hoffmann@vogelsbergkreis.de", "phone": "+49 6641 977-0"},
    "version": 1, "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T09:00:00Z"}))]
pub struct Coordinator {
    pub id: Uuid,
    /// `null` once erased.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// AGS of the district the coordinator works for.
    #[schema(max_length = 5)]
    pub district: String,
    pub employer: EmployerRef,
    /// Share of a full-time post in basis points (10000 = 100 %).
    #[schema(minimum = 1, maximum = 10000)]
    pub fte_basis_points: i32,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub status: CoordinatorStatus,
    /// The approved `GK` application of the same district that funds the post.
    pub funding_application_id: Option<Uuid>,
    /// Whether the person's data has been erased (the record is an anonymous placeholder).
    pub erased: bool,
    /// Only for the service unit, the ministry and municipalities of the same district.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<CoordinatorContact>,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Coordinator);

/// A coordinator as the service unit writes it (create body; the state a merge patch produces).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"name": "Jana Hoffmann", "email": "jana.hoffmann@vogelsbergkreis.de",
    "phone": "+49 6641 977-0", "district": "06535", "employer": "06535", "fteBasisPoints": 10000,
    "startDate": "2027-01-01", "status": "active"}))]
pub struct CoordinatorInput {
    #[validate(required, length(min = 2, max = 200))]
    #[schema(min_length = 2, max_length = 200)]
    pub name: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[validate(length(min = 3, max = 50))]
    #[schema(min_length = 3, max_length = 50)]
    pub phone: Option<String>,
    /// District AGS.
    #[validate(required)]
    #[schema(max_length = 5)]
    pub district: Option<String>,
    /// Employing organisation: its id or AGS.
    #[validate(required, length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub employer: Option<String>,
    /// Share of a full-time post in basis points: more than 0, at most 10000.
    #[validate(required, range(min = 1, max = 10000))]
    #[schema(minimum = 1, maximum = 10000)]
    pub fte_basis_points: Option<i32>,
    #[validate(required)]
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Default `active`.
    pub status: Option<CoordinatorStatus>,
    /// An approved `GK` application of the same district.
    pub funding_application_id: Option<Uuid>,
}

impl Checked for CoordinatorInput {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(d) = &self.district
            && !is_district_ags(d)
        {
            errors.push(FieldError::new(
                "/district",
                "invalid_format",
                MessageParams::detail("a five-digit AGS such as 06535"),
            ));
        }
        if let (Some(s), Some(e)) = (self.start_date, self.end_date)
            && e < s
        {
            errors.push(FieldError::new("/endDate", "dates_out_of_order", MessageParams::min(s)));
        }
        errors
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = coordinators)]
struct Row {
    id: Uuid,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    district_ags: String,
    employer_id: Uuid,
    fte_bp: i32,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
    status: String,
    funding_application_id: Option<Uuid>,
    erased_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Whether the caller may see a coordinator's contact fields.
fn sees_contact(caller: &Caller, district: &str) -> bool {
    match caller.role {
        Role::ServiceUnit | Role::Ministry => true,
        Role::Municipality => caller.org.as_ref().is_some_and(|o| o.district_ags == district),
    }
}

fn to_api(caller: &Caller, (r, employer_name): (Row, String)) -> ApiResult<Coordinator> {
    let contact = sees_contact(caller, &r.district_ags).then_some(CoordinatorContact {
        email: r.email,
        phone: r.phone,
    });
    Ok(Coordinator {
        id: r.id,
        name: r.name,
        district: r.district_ags,
        employer: EmployerRef {
            id: r.employer_id,
            name: employer_name,
        },
        fte_basis_points: r.fte_bp,
        start_date: r.start_date,
        end_date: r.end_date,
        status: r.status.parse().map_err(ApiError::internal)?,
        funding_application_id: r.funding_application_id,
        erased: r.erased_at.is_some(),
        contact,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

// ---- queries ----

async fn find_row(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<(Row, String)> {
    Ok(coordinators::table
        .inner_join(organisations::table)
        .filter(coordinators::id.eq(id))
        .select((Row::as_select(), organisations::name))
        .first(conn)
        .await?)
}

/// Resolves references and checks the rules that need the database; returns the employer's id.
async fn check(conn: &mut AsyncPgConnection, input: &CoordinatorInput) -> ApiResult<Uuid> {
    let mut errors = Vec::new();
    let district = input.district.clone().unwrap_or_default();
    let employer = match crate::auth::org_scope(conn, input.employer.as_deref().unwrap_or_default()).await? {
        Some(org) => Some(org.id),
        None => {
            errors.push(FieldError::new(
                "/employer",
                "unknown_reference",
                MessageParams::detail("no organisation with this id or AGS"),
            ));
            None
        }
    };
    let exists: bool = diesel::select(diesel::dsl::exists(crate::db::schema::districts::table.find(&district)))
        .get_result(conn)
        .await?;
    if !exists {
        errors.push(FieldError::new(
            "/district",
            "unknown_reference",
            MessageParams::detail(format!("no district {district}")),
        ));
    }
    if let Some(app) = input.funding_application_id {
        let row: Option<(String, String, String)> = applications::table
            .find(app)
            .select((
                applications::funding_line_code,
                applications::status,
                applications::district_ags,
            ))
            .first(conn)
            .await
            .optional()?;
        let fits = matches!(&row, Some((line, status, d)) if line == "GK" && status == "approved" && *d == district);
        if !fits {
            errors.push(FieldError::new(
                "/fundingApplicationId",
                "invalid_funding_application",
                MessageParams::detail(district),
            ));
        }
    }
    match (errors.is_empty(), employer) {
        (true, Some(id)) => Ok(id),
        _ => Err(ApiError::Validation(errors)),
    }
}

async fn insert(conn: &mut AsyncPgConnection, caller: &Caller, input: CoordinatorInput) -> ApiResult<Coordinator> {
    let employer = check(conn, &input).await?;
    let id: Uuid = diesel::insert_into(coordinators::table)
        .values((
            coordinators::name.eq(&input.name),
            coordinators::email.eq(&input.email),
            coordinators::phone.eq(&input.phone),
            coordinators::district_ags.eq(input.district.clone().unwrap_or_default()),
            coordinators::employer_id.eq(employer),
            coordinators::fte_bp.eq(input.fte_basis_points.unwrap_or_default()),
            coordinators::start_date.eq(input.start_date.unwrap_or_default()),
            coordinators::end_date.eq(input.end_date),
            coordinators::status.eq(input.status.unwrap_or(CoordinatorStatus::Active).as_str()),
            coordinators::funding_application_id.eq(input.funding_application_id),
        ))
        .returning(coordinators::id)
        .get_result(conn)
        .await?;
    let c = to_api(caller, find_row(conn, id).await?)?;
    let change = Change::new(KIND, id, "create", "coordinator.created", audience(&c));
    audit::record(conn, caller, change, &c).await?;
    Ok(c)
}

/// Emits `coordinator.created` with the record as it is now (the feed's backfill of seeded rows).
pub async fn snapshot(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<()> {
    let c = to_api(&Caller::system(), find_row(conn, id).await?)?;
    audit::backfill(conn, KIND, id, "coordinator.created", audience(&c), &c).await
}

/// Everyone sees coordinator events; the feed removes the contact data for municipalities of other districts.
fn audience(c: &Coordinator) -> Audience {
    Audience {
        public: true,
        districts: vec![c.district.clone()],
        ..Default::default()
    }
}

fn input_of(r: &Row) -> ApiResult<CoordinatorInput> {
    Ok(CoordinatorInput {
        name: r.name.clone(),
        email: r.email.clone(),
        phone: r.phone.clone(),
        district: Some(r.district_ags.clone()),
        employer: Some(r.employer_id.to_string()),
        fte_basis_points: Some(r.fte_bp),
        start_date: Some(r.start_date),
        end_date: r.end_date,
        status: Some(r.status.parse().map_err(ApiError::internal)?),
        funding_application_id: r.funding_application_id,
    })
}

async fn apply_patch(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: &serde_json::Value,
) -> ApiResult<Coordinator> {
    let current: Row = coordinators::table
        .find(id)
        .select(Row::as_select())
        .for_update()
        .first(conn)
        .await?;
    expected.check(current.version)?;
    if current.erased_at.is_some() {
        return Err(ApiError::conflict("erased", MessageParams::default()));
    }
    let before = serde_json::to_value(input_of(&current)?).map_err(ApiError::internal)?;
    let mut merged = before.clone();
    crate::http::patch::merge_patch(&mut merged, patch);
    let input: CoordinatorInput = crate::http::extract::parse_value(merged)?;
    let employer = check(conn, &input).await?;
    // The employer may be given as AGS or id; compare what it resolves to.
    let mut after = serde_json::to_value(&input).map_err(ApiError::internal)?;
    after["employer"] = serde_json::Value::String(employer.to_string());
    let changed = crate::http::patch::changed_pointers(&before, &after);
    if changed.is_empty() {
        return to_api(caller, find_row(conn, id).await?);
    }
    diesel::update(coordinators::table.find(id))
        .set((
            coordinators::name.eq(&input.name),
            coordinators::email.eq(&input.email),
            coordinators::phone.eq(&input.phone),
            coordinators::district_ags.eq(input.district.clone().unwrap_or_default()),
            coordinators::employer_id.eq(employer),
            coordinators::fte_bp.eq(input.fte_basis_points.unwrap_or_default()),
            coordinators::start_date.eq(input.start_date.unwrap_or_default()),
            coordinators::end_date.eq(input.end_date),
            coordinators::status.eq(input.status.unwrap_or(CoordinatorStatus::Active).as_str()),
            coordinators::funding_application_id.eq(input.funding_application_id),
            coordinators::version.eq(current.version + 1),
            coordinators::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let c = to_api(caller, find_row(conn, id).await?)?;
    let change = Change::new(KIND, id, "update", "coordinator.changed", audience(&c))
        .states(Some(&current.status), input.status.unwrap_or(CoordinatorStatus::Active))
        .changed(changed);
    audit::record(conn, caller, change, &c).await?;
    Ok(c)
}

/// Erases the person: every personal field of the record goes, and so does every stored copy of a request or
/// response that carried them (idempotency records). History entries hold field names only.
async fn erase_row(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<()> {
    let current: Row = coordinators::table
        .find(id)
        .select(Row::as_select())
        .for_update()
        .first(conn)
        .await?;
    if current.erased_at.is_some() {
        return Ok(());
    }
    diesel::update(coordinators::table.find(id))
        .set((
            coordinators::name.eq(None::<String>),
            coordinators::email.eq(None::<String>),
            coordinators::phone.eq(None::<String>),
            coordinators::status.eq(CoordinatorStatus::Left.as_str()),
            coordinators::erased_at.eq(diesel::dsl::now),
            coordinators::version.eq(current.version + 1),
            coordinators::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    // A stored response that carried the person names the record's id.
    crate::http::idempotency::forget_mentions(conn, id).await?;
    // Earlier events carried the person; the feed keeps the events, anonymised like the record.
    let placeholder = to_api(&Caller::system(), find_row(conn, id).await?)?;
    audit::erase(conn, KIND, id, &placeholder).await?;
    let change = Change::new(KIND, id, "erase", "coordinator.erased", audience(&placeholder))
        .states(Some(&current.status), CoordinatorStatus::Left)
        .changed(vec!["/name".into(), "/email".into(), "/phone".into()]);
    audit::record(conn, caller, change, &placeholder).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListCoordinators {
    /// District AGS.
    district: Option<String>,
    status: Option<CoordinatorStatus>,
    /// Case-insensitive part of the name.
    q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

const SORT: &str = "coordinators:id";

type Boxed =
    diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<coordinators::table, organisations::table>, diesel::pg::Pg>;

fn filtered(q: &ListCoordinators) -> Boxed {
    let mut query = coordinators::table.inner_join(organisations::table).into_boxed();
    if let Some(d) = &q.district {
        query = query.filter(coordinators::district_ags.eq(d.clone()));
    }
    if let Some(s) = q.status {
        query = query.filter(coordinators::status.eq(s.as_str()));
    }
    if let Some(text) = &q.q {
        query = query.filter(coordinators::name.ilike(crate::core::types::like_pattern(text)));
    }
    query
}

async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListCoordinators,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(Coordinator, Uuid)>> {
    let mut query = filtered(q)
        .select((Row::as_select(), organisations::name))
        .order(coordinators::id.asc());
    if let Some(after) = after {
        query = query.filter(coordinators::id.gt(after));
    }
    let rows: Vec<(Row, String)> = query.limit(limit).load(conn).await?;
    rows.into_iter()
        .map(|row| {
            let id = row.0.id;
            Ok((to_api(caller, row)?, id))
        })
        .collect()
}

// ---- handlers ----

/// List coordinators
///
/// The register, filterable by district, status and name. Contact fields only for the service unit, the ministry
/// and municipalities of the coordinator's district. `Accept: text/csv` exports every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Coordinators",
    params(ListCoordinators),
    responses(
        (status = 200, description = "One page of coordinators, or all of them as CSV",
            content((Page<Coordinator> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/coordinators")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListCoordinators>,
) -> ApiResult<HttpResponse> {
    if let Some(d) = &q.district
        && !is_district_ags(d)
    {
        return Err(ApiError::BadRequest(vec![FieldError::new(
            "/query/district",
            "invalid_format",
            MessageParams::detail("a five-digit AGS"),
        )]));
    }
    let paging = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    if crate::http::csv::wanted(&req) {
        let pool = state.pool.clone();
        let q = std::rc::Rc::new(q);
        let fetch = move |after: Option<Uuid>| {
            let (pool, caller, q) = (pool.clone(), caller.clone(), q.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                page(&mut conn, &caller, &q, after, crate::http::csv::BATCH).await
            }
        };
        return Ok(crate::http::csv::stream("coordinators.csv", CSV_HEADER, fetch, csv_row));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = page(&mut conn, &caller, &q, paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        Some(filtered(&q).count().get_result(&mut conn).await?)
    } else {
        None
    };
    let result: Page<Coordinator> = paging.page(rows, SORT, |(_, id)| *id, |(c, _)| c, total);
    Ok(HttpResponse::Ok().json(result))
}

const CSV_HEADER: &str = "id,name,district,employerId,employerName,fteBasisPoints,startDate,endDate,status,\
                          fundingApplicationId,erased,email,phone\n";

fn csv_row(c: &Coordinator) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        c.id.to_string(),
        opt(&c.name),
        c.district.clone(),
        c.employer.id.to_string(),
        cell(&c.employer.name),
        c.fte_basis_points.to_string(),
        c.start_date.to_string(),
        opt(&c.end_date),
        c.status.as_str().to_owned(),
        opt(&c.funding_application_id),
        c.erased.to_string(),
        opt(&c.contact.as_ref().and_then(|k| k.email.clone())),
        opt(&c.contact.as_ref().and_then(|k| k.phone.clone())),
    ])
}

/// Get a coordinator
///
/// **Roles:** every authenticated role; contact fields only for the service unit, the ministry and municipalities
/// of the coordinator's district.
#[utoipa::path(
    tag = "Coordinators",
    params(("id" = Uuid, Path, description = "Coordinator id")),
    responses(
        (status = 200, description = "The coordinator", body = Coordinator, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/coordinators/{id}")]
async fn get_one(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = to_api(&caller, find_row(&mut conn, *id).await?)?;
    Ok(ok_with_etag(c.version, &c))
}

/// Add a coordinator
///
/// Adds a coordinator to the register. A funding application, if named, must be an approved `GK` application of
/// the same district (422 `invalid_funding_application`).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Coordinators",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = CoordinatorInput,
    responses(
        (status = 201, description = "The new coordinator", body = Coordinator,
            headers(("Location" = String), ("ETag" = String))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[post("/coordinators")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<CoordinatorInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let c = insert(conn, &caller, input).await?;
        Ok(Stored::json(StatusCode::CREATED, &c)?
            .header("etag", crate::http::extract::etag(c.version))
            .header("location", format!("/api/v1/coordinators/{}", c.id)))
    })
    .await
}

/// Change a coordinator
///
/// JSON Merge Patch with `If-Match`. An erased record cannot be changed (409 `erased`).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Coordinators",
    params(
        ("id" = Uuid, Path, description = "Coordinator id"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = CoordinatorInput, content_type = "application/merge-patch+json",
        example = json!({"status": "on_leave"})),
    responses(
        (status = 200, description = "The changed coordinator", body = Coordinator, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/coordinators/{id}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CoordinatorInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let expected = required_if_match(&req)?;
    let patch = body.object()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = crate::db::transaction(&mut conn, async |conn| {
        apply_patch(conn, &caller, *id, expected, &patch).await
    })
    .await?;
    Ok(ok_with_etag(c.version, &c))
}

/// Erase a coordinator
///
/// The right to be forgotten (GDPR Art. 17): removes the person's name, e-mail and phone from the database,
/// including stored request copies; history entries never held them. The record stays as an anonymous placeholder
/// (`erased: true`, status `left`) so that memberships and links remain valid. Erasing twice is harmless.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Coordinators",
    params(("id" = Uuid, Path, description = "Coordinator id")),
    responses(
        (status = 204, description = "Erased"),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/coordinators/{id}")]
async fn erase(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::db::transaction(&mut conn, async |conn| erase_row(conn, &caller, *id).await).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// History of a coordinator record
///
/// Every change, naming the fields changed (never their values).
///
/// **Roles:** `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Coordinators",
    params(("id" = Uuid, Path, description = "Coordinator id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[get("/coordinators/{id}/history")]
async fn history_of(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    let mut conn = crate::db::conn(&state.pool).await?;
    find_row(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(history::list(&mut conn, KIND, *id).await?))
}

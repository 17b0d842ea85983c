//! `/api/v1/organisations`: the applicants. Every district is one (seeded); the service unit and the ministry add
//! Gemeinden (eight-digit AGS within an existing district) and Träger (identified by id).

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::history::HistoryEntry;
use crate::audit::{self, Audience, Change, record};
use crate::core::identity::{Caller, OrgKind, Role};
use crate::core::types::{is_district_ags, is_gemeinde_ags};
use crate::db::schema::{districts, organisations};
use crate::error::validation::Checked;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{Expected, JsonBody, Query, ok_with_etag};
use crate::http::openapi::{BadRequest, Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// The resource kind of organisations in the history and the feed.
pub const KIND: &str = "organisation";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(history);
}

/// Organisation: a Landkreis, kreisfreie Stadt, Gemeinde or Träger that applies for funding.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1", "ags": "06636", "name": "Landkreis Werra-Meißner-Kreis",
    "kind": "landkreis", "district": "06636", "version": 1,
    "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T09:00:00Z"}))]
pub struct Organisation {
    pub id: Uuid,
    /// AGS: five digits for districts, eight for Gemeinden; none for Träger.
    #[schema(max_length = 8)]
    pub ags: Option<String>,
    #[schema(max_length = 200)]
    pub name: String,
    pub kind: OrgKind,
    /// AGS of the district the organisation belongs to.
    #[schema(max_length = 5)]
    pub district: String,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Organisation);

#[derive(Queryable, Selectable)]
#[diesel(table_name = organisations)]
struct OrgRow {
    id: Uuid,
    ags: Option<String>,
    name: String,
    kind: String,
    district_ags: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Organisation {
    type Error = ApiError;
    fn try_from(r: OrgRow) -> ApiResult<Self> {
        Ok(Self {
            id: r.id,
            ags: r.ags,
            name: r.name,
            kind: r.kind.parse().map_err(ApiError::internal)?,
            district: r.district_ags,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A new Gemeinde or Träger.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"kind": "gemeinde", "ags": "06636001", "name": "Stadt Bad Sooden-Allendorf"}))]
pub struct CreateOrganisation {
    /// `gemeinde` or `traeger` (districts exist already).
    #[validate(required)]
    #[schema(value_type = OrgKind, required = true)]
    pub kind: Option<OrgKind>,
    /// Required for a Gemeinde: eight digits beginning with its district's AGS. Not allowed for a Träger.
    #[schema(max_length = 8)]
    #[validate(length(max = 8))]
    pub ags: Option<String>,
    #[validate(required, length(min = 2, max = 200))]
    #[schema(value_type = String, required = true, min_length = 2, max_length = 200)]
    pub name: Option<String>,
    /// District AGS; required for a Träger, derived from the AGS for a Gemeinde (must agree when given).
    #[schema(max_length = 5)]
    pub district: Option<String>,
}

impl Checked for CreateOrganisation {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match self.kind {
            Some(OrgKind::Gemeinde) => match &self.ags {
                None => errors.push(FieldError::new("/ags", "required", MessageParams::default())),
                Some(ags) if !is_gemeinde_ags(ags) => errors.push(FieldError::new(
                    "/ags",
                    "invalid_format",
                    MessageParams::detail("eight digits beginning with 06"),
                )),
                Some(ags) => {
                    if let Some(d) = &self.district
                        && !ags.starts_with(d.as_str())
                    {
                        errors.push(FieldError::new(
                            "/district",
                            "invalid_value",
                            MessageParams::allowed(&ags[..5]),
                        ));
                    }
                }
            },
            Some(OrgKind::Traeger) => {
                if self.ags.is_some() {
                    errors.push(FieldError::new(
                        "/ags",
                        "invalid_value",
                        MessageParams::allowed("null (a Träger has no AGS)"),
                    ));
                }
                if self.district.is_none() {
                    errors.push(FieldError::new("/district", "required", MessageParams::default()));
                }
            }
            Some(other) => errors.push(FieldError::new(
                "/kind",
                "invalid_value",
                MessageParams::allowed(format!("gemeinde, traeger (every {other} exists already)")),
            )),
            None => {}
        }
        if let Some(d) = &self.district
            && !is_district_ags(d)
        {
            errors.push(FieldError::new(
                "/district",
                "invalid_format",
                MessageParams::detail("a five-digit AGS such as 06636"),
            ));
        }
        errors
    }
}

/// Changes to an organisation (JSON Merge Patch), and the editable state the patch applies to. Identity fields
/// (AGS, kind, district) never change.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"name": "Stadt Bad Sooden-Allendorf"}))]
pub struct PatchOrganisation {
    #[validate(required, length(min = 2, max = 200))]
    #[schema(min_length = 2, max_length = 200)]
    pub name: Option<String>,
}

impl Checked for PatchOrganisation {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListOrganisations {
    /// Only organisations of this district (five-digit AGS).
    district: Option<String>,
    /// Only organisations of this kind.
    kind: Option<OrgKind>,
    /// Case-insensitive substring of the name.
    q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

const SORT: &str = "organisations:id";

// ---- queries ----

fn filtered(q: &ListOrganisations) -> organisations::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = organisations::table.into_boxed();
    if let Some(d) = &q.district {
        query = query.filter(organisations::district_ags.eq(d.clone()));
    }
    if let Some(k) = q.kind {
        query = query.filter(organisations::kind.eq(k.as_str()));
    }
    if let Some(text) = &q.q {
        query = query.filter(organisations::name.ilike(crate::core::types::like_pattern(text)));
    }
    query
}

async fn find(conn: &mut AsyncPgConnection, key: &str) -> ApiResult<OrgRow> {
    let query = organisations::table.select(OrgRow::as_select()).into_boxed();
    let query = match Uuid::parse_str(key) {
        Ok(id) => query.filter(organisations::id.eq(id)),
        Err(_) if is_district_ags(key) || is_gemeinde_ags(key) => query.filter(organisations::ags.eq(key.to_owned())),
        Err(_) => {
            return Err(ApiError::BadRequest(vec![FieldError::new(
                "/path/id",
                "invalid_format",
                MessageParams::detail("an organisation id (UUID) or an AGS"),
            )]));
        }
    };
    Ok(query.first(conn).await?)
}

async fn insert(conn: &mut AsyncPgConnection, body: CreateOrganisation) -> ApiResult<OrgRow> {
    let (Some(kind), Some(name)) = (body.kind, body.name) else {
        return Err(ApiError::internal("validated organisation lacks kind or name"));
    };
    let district = match (&body.ags, body.district) {
        (Some(ags), _) => ags[..5].to_owned(),
        (None, Some(d)) => d,
        (None, None) => return Err(ApiError::internal("validated organisation lacks a district")),
    };
    conn.transaction(async |conn| {
        let exists: bool = diesel::select(diesel::dsl::exists(districts::table.find(&district)))
            .get_result(conn)
            .await?;
        if !exists {
            return Err(ApiError::Validation(vec![FieldError::new(
                if body.ags.is_some() { "/ags" } else { "/district" },
                "unknown_reference",
                MessageParams::detail(format!("no district {district}")),
            )]));
        }
        Ok(diesel::insert_into(organisations::table)
            .values((
                organisations::ags.eq(body.ags),
                organisations::name.eq(name),
                organisations::kind.eq(kind.as_str()),
                organisations::district_ags.eq(district),
            ))
            .returning(OrgRow::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// The one PATCH flow's step: the row under a lock, the expected version, the merged and validated state, the
/// write and the audit.
async fn apply_patch(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    key: &str,
    expected: Expected,
    patch: serde_json::Value,
) -> ApiResult<Organisation> {
    let current = find(conn, key).await?;
    let current: OrgRow = organisations::table
        .find(current.id)
        .select(OrgRow::as_select())
        .for_update()
        .first(conn)
        .await?;
    expected.check(current.version)?;
    let editable = PatchOrganisation {
        name: Some(current.name.clone()),
    };
    let Some((next, changed)) = crate::http::patch::merged(&editable, &patch, &[])? else {
        return Organisation::try_from(current);
    };
    let row = diesel::update(organisations::table.find(current.id))
        .set((
            organisations::name.eq(next.name.unwrap_or(current.name)),
            organisations::version.eq(current.version + 1),
            organisations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(OrgRow::as_returning())
        .get_result(conn)
        .await?;
    let org = Organisation::try_from(row)?;
    record(
        conn,
        caller,
        Change::new(KIND, org.id, "update", "organisation.changed", Audience::everyone()).changed(changed),
        &org,
    )
    .await?;
    Ok(org)
}

/// Emits `organisation.created` with the organisation as it is now (the feed's backfill of seeded rows).
pub async fn snapshot(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<()> {
    let org = Organisation::try_from(find(conn, &id.to_string()).await?)?;
    audit::backfill(conn, KIND, id, "organisation.created", Audience::everyone(), &org).await
}

// ---- handlers ----

/// List organisations
///
/// Districts, Gemeinden and Träger, oldest first, filterable by district, kind and name.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Organisations",
    params(ListOrganisations),
    responses(
        (status = 200, description = "One page of organisations", body = Page<Organisation>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/organisations")]
async fn list(
    state: web::Data<AppState>,
    _caller: Caller,
    Query(q): Query<ListOrganisations>,
) -> ApiResult<HttpResponse> {
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let mut query = filtered(&q).select(OrgRow::as_select()).order(organisations::id.asc());
    if let Some(after) = page.after {
        query = query.filter(organisations::id.gt(after));
    }
    let rows: Vec<OrgRow> = query.limit(page.limit + 1).load(&mut conn).await?;
    let total = if page.include_total {
        Some(filtered(&q).count().get_result::<i64>(&mut conn).await?)
    } else {
        None
    };
    let items: Vec<Organisation> = rows.into_iter().map(Organisation::try_from).collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(page.page(items, SORT, |o| o.id, |o| o, total)))
}

/// Get an organisation
///
/// One organisation by its id or its AGS.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or AGS", example = "06636")),
    responses(
        (status = 200, description = "The organisation", body = Organisation,
            headers(("ETag" = String, description = "Current version"))),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/organisations/{id}")]
async fn get_one(state: web::Data<AppState>, _caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let org = Organisation::try_from(find(&mut conn, &id).await?)?;
    Ok(ok_with_etag(org.version, &org))
}

/// Add an organisation
///
/// Adds a Gemeinde (with its eight-digit AGS, which places it in its district) or a Träger (with its district).
///
/// **Roles:** `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Organisations",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = CreateOrganisation,
    responses(
        (status = 201, description = "The new organisation", body = Organisation,
            headers(("Location" = String, description = "Address of the new organisation"), ("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/organisations")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<CreateOrganisation>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    let bytes = body.bytes().to_vec();
    let body = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::http::idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let org = Organisation::try_from(insert(conn, body).await?)?;
        let change = Change::new(KIND, org.id, "create", "organisation.created", Audience::everyone());
        record(conn, &caller, change, &org).await?;
        crate::http::idempotency::Stored::created(&format!("/api/v1/organisations/{}", org.id), org.version, &org)
    })
    .await
}

/// Change an organisation
///
/// Renames an organisation. Requires `If-Match` with the ETag last read.
///
/// **Roles:** `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Organisations",
    params(
        ("id" = String, Path, description = "Organisation id (UUID) or AGS"),
        ("If-Match" = String, Header, description = "ETag of the version the change is based on", example = "\"1\""),
    ),
    request_body(content = PatchOrganisation, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed organisation", body = Organisation, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[patch("/organisations/{id}")]
async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<PatchOrganisation>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        apply_patch(conn, &caller, &id, expected, patch).await
    })
    .await
}

/// History of an organisation
///
/// Every change of the organisation, oldest first, with the fields a change touched.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path, description = "Organisation id (UUID) or AGS", example = "06636")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/organisations/{id}/history")]
async fn history(state: web::Data<AppState>, _caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let org = find(&mut conn, &id).await?;
    Ok(HttpResponse::Ok().json(crate::audit::history::list(&mut conn, KIND, org.id).await?))
}

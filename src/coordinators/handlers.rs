//! The coordinator handlers: role gate, parse, call the store, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use uuid::Uuid;

use super::model::{Coordinator, CoordinatorInput, ListCoordinators};
use super::store;
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::core::types::is_district_ags;
use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

const SORT: &str = "coordinators:id";

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
pub(super) async fn list(
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
            MessageParams::format(Format::DistrictAgs),
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
                store::page(&mut conn, &caller, &q, after, crate::http::csv::BATCH).await
            }
        };
        return Ok(crate::http::csv::stream("coordinators.csv", CSV_HEADER, fetch, csv_row));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = store::page(&mut conn, &caller, &q, paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        Some(store::count(&mut conn, &q).await?)
    } else {
        None
    };
    let result: Page<Coordinator> = paging.page(rows, SORT, |(_, id)| *id, |(c, _)| c, total);
    Ok(HttpResponse::Ok().json(result))
}

const CSV_HEADER: &str = "id,name,district,employerId,employerName,fteBasisPoints,startDate,endDate,status,\
                          fundingApplicationId,topics,erased,email,phone\n";

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
        cell(&c.topics.join("; ")),
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
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let c = store::get(&mut conn, &caller, *id).await?;
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
pub(super) async fn create(
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
        let c = store::insert(conn, &caller, input.clone()).await?;
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
pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<CoordinatorInput>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::apply_patch(conn, &caller, *id, expected, patch).await
    })
    .await
}

/// Erase a coordinator
///
/// The right to be forgotten (GDPR Art. 17): removes the person's name, e-mail and phone from the database,
/// including stored request copies; history entries never held them. The record stays as an anonymous placeholder
/// (`erased: true`, status `left`) so that memberships and links remain valid. The person's documents
/// (`/coordinators/{id}/attachments`) are deleted with their content; their events in the feed keep no file name.
/// Erasing twice is harmless.
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
pub(super) async fn erase(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let mut conn = crate::db::conn(&state.pool).await?;
    let keys = crate::db::transaction(&mut conn, async |conn| {
        store::erase_row(conn, &caller, *id).await?;
        // The person's documents go with the person's data.
        let staff = crate::audit::Audience::staff();
        crate::files::store::delete_all_of(conn, &caller, crate::files::model::OwnerKind::Coordinator, *id, &staff)
            .await
    })
    .await?;
    crate::files::content::remove_after_commit(&state.storage, &keys).await;
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
pub(super) async fn history_of(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, *id).await?))
}

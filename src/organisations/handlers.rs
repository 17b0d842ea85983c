//! The organisation handlers: role gate, parse, call the store, respond.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::model::{CreateOrganisation, ListOrganisations, Organisation, PatchOrganisation};
use super::store;
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::ApiResult;
use crate::http::extract::{JsonBody, Query, ok_with_etag};
use crate::http::openapi::{BadRequest, Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

const SORT: &str = "organisations:id";

/// List organisations
///
/// Districts, Gemeinden and Träger, oldest first, filterable by district, kind and name. `Accept: text/csv`
/// exports every match.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Organisations",
    params(ListOrganisations),
    responses(
        (status = 200, description = "One page of organisations, or all of them as CSV",
            content((Page<Organisation> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/organisations")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: Caller,
    Query(q): Query<ListOrganisations>,
) -> ApiResult<HttpResponse> {
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let q = std::rc::Rc::new(q);
    if crate::http::csv::wanted(&req) {
        let pool = state.pool.clone();
        let fetch = move |after: Option<Uuid>| {
            let (pool, q) = (pool.clone(), q.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                let rows = store::list(&mut conn, &q, after, crate::http::csv::BATCH).await?;
                Ok(rows
                    .into_iter()
                    .map(|o| {
                        let id = o.id;
                        (o, id)
                    })
                    .collect())
            }
        };
        return Ok(crate::http::csv::stream(
            "organisations.csv",
            "id,ags,name,kind,district,version,createdAt,updatedAt\n",
            fetch,
            csv_row,
        ));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let items = store::list(&mut conn, &q, page.after, page.limit + 1).await?;
    let total = if page.include_total {
        Some(store::count(&mut conn, &q).await?)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(page.page(items, SORT, |o| o.id, |o| o, total)))
}

fn csv_row(o: &Organisation) -> String {
    use crate::http::csv::{cell, line, opt};
    line(&[
        o.id.to_string(),
        opt(&o.ags),
        cell(&o.name),
        o.kind.as_str().to_owned(),
        cell(&o.district),
        o.version.to_string(),
        o.created_at.to_rfc3339(),
        o.updated_at.to_rfc3339(),
    ])
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
pub(super) async fn get_one(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let org = store::get(&mut conn, &id).await?;
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
pub(super) async fn create(
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
        let org = store::create(conn, &caller, body.clone()).await?;
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
pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<PatchOrganisation>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit, Role::Ministry])?;
    crate::http::patch::respond(&state, &req, &body, async |conn, expected, patch| {
        store::apply_patch(conn, &caller, &id, expected, patch).await
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
pub(super) async fn history(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, &id).await?))
}

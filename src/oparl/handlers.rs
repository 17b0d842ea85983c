//! The OParl handlers: every object and list readable without a token; names of persons and files with one.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::objects::{self as o, Urls};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::MaybeCaller;
use crate::http::extract::{NoParams, Query};
use crate::http::openapi::BadRequest;
use crate::state::AppState;

/// Objects per page of an OParl list.
const PER_PAGE: i64 = 100;

/// An OParl 1.1 object or object list (https://oparl.org/spezifikation/): its `type` says which.
#[derive(ToSchema)]
#[schema(value_type = Object, example = json!({"id": "https://versorgung.example/oparl/v1/system",
    "type": "https://schema.oparl.org/1.1/System", "oparlVersion": "https://schema.oparl.org/1.1/",
    "body": "https://versorgung.example/oparl/v1/bodies"}))]
#[expect(
    dead_code,
    reason = "only its OpenAPI schema is used: the handlers build the objects as JSON"
)]
pub struct OparlObject(serde_json::Value);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPage {
    /// The page, from 1 (100 objects each; `links.next` names the next).
    #[param(minimum = 1, maximum = 100000)]
    page: Option<i64>,
}

impl ListPage {
    fn offset(&self) -> ApiResult<(i64, i64)> {
        let page = self.page.unwrap_or(1);
        if !(1..=100_000).contains(&page) {
            return Err(ApiError::BadRequest(vec![crate::error::FieldError::new(
                "/query/page",
                "out_of_range",
                crate::error::MessageParams::range(1, 100_000),
            )]));
        }
        Ok((page, (page - 1) * PER_PAGE))
    }
}

/// The base of every absolute URL: the configured public address, else the request's own `Host` (not the
/// Forwarded headers, which any client may send, so that nobody can make the ids point elsewhere).
fn urls(req: &HttpRequest) -> Urls {
    if let Some(base) = req.app_data::<web::Data<AppState>>().and_then(|s| s.public_url.clone()) {
        return Urls { base };
    }
    let scheme = if req.app_config().secure() { "https" } else { "http" };
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .map_or_else(|| req.app_config().host().to_owned(), str::to_owned);
    Urls {
        base: format!("{scheme}://{host}"),
    }
}

fn ok(v: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok().json(v)
}

fn body_only(name: &str) -> ApiResult<()> {
    if name == o::BODY {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// OParl: the system
///
/// The entry point of the OParl 1.1 interface: it names the one body (the ministry) whose committees it lists.
///
/// **Roles:** public (no token needed).
#[utoipa::path(tag = "OParl", responses((status = 200, description = "The oparl:System", body = OparlObject),
    (status = 400, response = BadRequest)), security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/system")]
async fn system(req: HttpRequest, _: Query<NoParams>) -> ApiResult<HttpResponse> {
    Ok(ok(o::system(&urls(&req))))
}

/// OParl: the bodies
///
/// **Roles:** public.
#[utoipa::path(tag = "OParl", params(ListPage), responses((status = 200, description = "A list of oparl:Body", body = OparlObject)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/bodies")]
async fn bodies(req: HttpRequest, Query(q): Query<ListPage>) -> ApiResult<HttpResponse> {
    let (page, _) = q.offset()?;
    let urls = urls(&req);
    let data = if page == 1 { vec![o::body(&urls)] } else { Vec::new() };
    Ok(ok(o::list(&urls, "/bodies", data, page, PER_PAGE, 1)))
}

/// OParl: the body
///
/// The Hessian ministry of health, whose service unit keeps the committees (`hmfg`).
///
/// **Roles:** public.
#[utoipa::path(tag = "OParl", params(("body" = String, Path, description = "The body (`hmfg`)", max_length = 10)),
    responses((status = 200, description = "The oparl:Body", body = OparlObject), (status = 400, response = BadRequest)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/bodies/{body}")]
async fn body(req: HttpRequest, path: web::Path<String>, _: Query<NoParams>) -> ApiResult<HttpResponse> {
    body_only(&path)?;
    Ok(ok(o::body(&urls(&req))))
}

/// OParl: the committees
///
/// Gremien, AGs, regional health conferences and units of other ministries as oparl:Organization.
///
/// **Roles:** public.
#[utoipa::path(tag = "OParl", params(("body" = String, Path, description = "The body (`hmfg`)", max_length = 10), ListPage),
    responses((status = 200, description = "A list of oparl:Organization", body = OparlObject)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/bodies/{body}/organizations")]
async fn organizations(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    Query(q): Query<ListPage>,
) -> ApiResult<HttpResponse> {
    body_only(&path)?;
    let (page, offset) = q.offset()?;
    let urls = urls(&req);
    let mut conn = crate::db::conn(&state.pool).await?;
    let (data, total) = o::organizations(&mut conn, &urls, offset, PER_PAGE).await?;
    Ok(ok(o::list(
        &urls,
        &format!("/bodies/{}/organizations", o::BODY),
        data,
        page,
        PER_PAGE,
        total,
    )))
}

/// OParl: a committee
///
/// **Roles:** public.
#[utoipa::path(tag = "OParl", params(("id" = Uuid, Path, description = "Committee id")),
    responses((status = 200, description = "The oparl:Organization", body = OparlObject), (status = 400, response = BadRequest)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/organizations/{id}")]
async fn organization(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(ok(o::organization_one(&mut conn, &urls(&req), *id).await?))
}

/// OParl: a committee's meetings
///
/// **Roles:** public (files only with a token).
#[utoipa::path(tag = "OParl", params(("id" = Uuid, Path, description = "Committee id"), ListPage),
    responses((status = 200, description = "A list of oparl:Meeting", body = OparlObject)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/organizations/{id}/meetings")]
async fn organization_meetings(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    id: web::Path<Uuid>,
    Query(q): Query<ListPage>,
) -> ApiResult<HttpResponse> {
    let (page, offset) = q.offset()?;
    let urls = urls(&req);
    let mut conn = crate::db::conn(&state.pool).await?;
    o::organization_one(&mut conn, &urls, *id).await?;
    let (data, total) = o::meetings(&mut conn, &urls, caller.is_some(), Some(*id), offset, PER_PAGE).await?;
    Ok(ok(o::list(
        &urls,
        &format!("/organizations/{id}/meetings"),
        data,
        page,
        PER_PAGE,
        total,
    )))
}

/// OParl: the members
///
/// One oparl:Person per membership, with its oparl:Membership embedded; the name only with a token, contact data
/// never.
///
/// **Roles:** public (names with a token of any role).
#[utoipa::path(tag = "OParl", params(("body" = String, Path, description = "The body (`hmfg`)", max_length = 10), ListPage),
    responses((status = 200, description = "A list of oparl:Person", body = OparlObject)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/bodies/{body}/people")]
async fn people(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    path: web::Path<String>,
    Query(q): Query<ListPage>,
) -> ApiResult<HttpResponse> {
    body_only(&path)?;
    let (page, offset) = q.offset()?;
    let urls = urls(&req);
    let mut conn = crate::db::conn(&state.pool).await?;
    let (data, total) = o::people(&mut conn, &urls, caller.is_some(), offset, PER_PAGE).await?;
    Ok(ok(o::list(
        &urls,
        &format!("/bodies/{}/people", o::BODY),
        data,
        page,
        PER_PAGE,
        total,
    )))
}

/// OParl: a member
///
/// **Roles:** public (the name with a token).
#[utoipa::path(tag = "OParl", params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, description = "The oparl:Person", body = OparlObject), (status = 400, response = BadRequest)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/people/{id}")]
async fn person(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(ok(o::person_one(&mut conn, &urls(&req), caller.is_some(), *id).await?))
}

/// OParl: a membership
///
/// **Roles:** public.
#[utoipa::path(tag = "OParl", params(("id" = Uuid, Path, description = "Member id")),
    responses((status = 200, description = "The oparl:Membership", body = OparlObject), (status = 400, response = BadRequest)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/memberships/{id}")]
async fn membership(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(ok(o::membership_one(&mut conn, &urls(&req), *id).await?))
}

/// OParl: the meetings
///
/// Newest first, each with its agenda items (result in German, resolution text) embedded; with a token also their
/// files (the minutes as `resultsProtocol`).
///
/// **Roles:** public (files with a token).
#[utoipa::path(tag = "OParl", params(("body" = String, Path, description = "The body (`hmfg`)", max_length = 10), ListPage),
    responses((status = 200, description = "A list of oparl:Meeting", body = OparlObject)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/bodies/{body}/meetings")]
async fn meetings(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    path: web::Path<String>,
    Query(q): Query<ListPage>,
) -> ApiResult<HttpResponse> {
    body_only(&path)?;
    let (page, offset) = q.offset()?;
    let urls = urls(&req);
    let mut conn = crate::db::conn(&state.pool).await?;
    let (data, total) = o::meetings(&mut conn, &urls, caller.is_some(), None, offset, PER_PAGE).await?;
    Ok(ok(o::list(
        &urls,
        &format!("/bodies/{}/meetings", o::BODY),
        data,
        page,
        PER_PAGE,
        total,
    )))
}

/// OParl: a meeting
///
/// **Roles:** public (files with a token).
#[utoipa::path(tag = "OParl", params(("id" = Uuid, Path, description = "Meeting id")),
    responses((status = 200, description = "The oparl:Meeting", body = OparlObject), (status = 400, response = BadRequest)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/meetings/{id}")]
async fn meeting(
    state: web::Data<AppState>,
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(ok(o::meeting_one(&mut conn, &urls(&req), caller.is_some(), *id).await?))
}

/// OParl: an agenda item
///
/// **Roles:** public.
#[utoipa::path(tag = "OParl", params(("id" = Uuid, Path, description = "Meeting id"),
        ("number" = i32, Path, description = "Position on the agenda, from 1", minimum = 1, maximum = 50)),
    responses((status = 200, description = "The oparl:AgendaItem", body = OparlObject), (status = 400, response = BadRequest)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/meetings/{id}/agenda-items/{number}")]
async fn agenda_item(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(Uuid, u8)>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let (id, number) = path.into_inner();
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(ok(
        o::agenda_item_one(&mut conn, &urls(&req), id, usize::from(number)).await?
    ))
}

/// OParl: the papers
///
/// The referrals on some meeting's agenda, as oparl:Paper (subject and day only).
///
/// **Roles:** public.
#[utoipa::path(tag = "OParl", params(("body" = String, Path, description = "The body (`hmfg`)", max_length = 10), ListPage),
    responses((status = 200, description = "A list of oparl:Paper", body = OparlObject)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/bodies/{body}/papers")]
async fn papers(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    Query(q): Query<ListPage>,
) -> ApiResult<HttpResponse> {
    body_only(&path)?;
    let (page, offset) = q.offset()?;
    let urls = urls(&req);
    let mut conn = crate::db::conn(&state.pool).await?;
    let all = o::papers(&mut conn, &urls).await?;
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let data = all
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(PER_PAGE).unwrap_or(100))
        .collect();
    Ok(ok(o::list(
        &urls,
        &format!("/bodies/{}/papers", o::BODY),
        data,
        page,
        PER_PAGE,
        total,
    )))
}

/// OParl: a paper
///
/// **Roles:** public.
#[utoipa::path(tag = "OParl", params(("id" = Uuid, Path, description = "Referral id")),
    responses((status = 200, description = "The oparl:Paper", body = OparlObject), (status = 400, response = BadRequest)),
    security((), ("bearerAuth" = [])))]
#[get("/oparl/v1/papers/{id}")]
async fn paper(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(ok(o::paper_one(&mut conn, &urls(&req), *id).await?))
}

/// OParl: a file
///
/// A meeting's file (not internal ones); its content at `accessUrl` (the attachment's download, with the token).
///
/// **Roles:** every authenticated role.
#[utoipa::path(tag = "OParl", params(("id" = Uuid, Path, description = "Attachment id")),
    responses((status = 200, description = "The oparl:File", body = OparlObject), (status = 400, response = BadRequest)),
    security(("bearerAuth" = [])))]
#[get("/oparl/v1/files/{id}")]
async fn file(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: crate::core::identity::Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(ok(o::file_one(&mut conn, &urls(&req), *id).await?))
}

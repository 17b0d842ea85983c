//! `/api/v1/committees/{id}/members`: who sits on a committee, with the handlers that read and change them (their
//! SQL is in the store).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::store;
use crate::core::identity::{Caller, Role};
use crate::error::validation::Checked;
use crate::error::{ApiResult, FieldError, MessageParams};
use crate::http::extract::JsonBody;
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{Conflict, Forbidden};
use crate::state::AppState;

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
pub(super) async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    store::find(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(store::members(&mut conn, &caller, *id).await?))
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
pub(super) async fn add_member(
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
        let members = store::add_member(conn, &caller, committee, &m).await?;
        Stored::json(StatusCode::CREATED, &members)
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
pub(super) async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::ServiceUnit])?;
    let (committee, member) = *path;
    let mut conn = crate::db::conn(&state.pool).await?;
    crate::db::transaction(&mut conn, async |conn| {
        store::remove_member(conn, &caller, committee, member).await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

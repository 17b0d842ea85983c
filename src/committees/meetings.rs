//! `/api/v1/committees/{id}/meetings`: a committee's meetings and their agendas, with the handlers that read and
//! record them (their SQL is in the store).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::store;
use crate::core::identity::{Caller, Role};
use crate::error::validation::Checked;
use crate::error::{ApiResult, FieldError, Format, MessageParams};
use crate::http::extract::JsonBody;
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::Forbidden;
use crate::state::AppState;

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

impl Checked for NewMeeting {
    /// A link is for a browser: `http` or `https` (no `javascript:` or `data:` links to show to others).
    fn cross_field_errors(&self) -> Vec<FieldError> {
        match self.link.as_deref().map(reqwest::Url::parse) {
            Some(Ok(url)) if !matches!(url.scheme(), "http" | "https") => vec![FieldError::new(
                "/link",
                "invalid_format",
                MessageParams::format(Format::Url),
            )],
            _ => Vec::new(),
        }
    }
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
pub(super) async fn list_meetings(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    store::find(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(store::meetings(&mut conn, *id).await?))
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
pub(super) async fn add_meeting(
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
        let created = store::add_meeting(conn, &caller, committee, &m).await?;
        Stored::json(StatusCode::CREATED, &created)
    })
    .await
}

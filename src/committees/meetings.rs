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
use crate::text_enum;

text_enum! {
    /// What became of an agenda item (OParl's `result`, with the German words it shows).
    pub enum AgendaResult {
        /// Beschlossen.
        Adopted = "adopted",
        /// Mit Änderungen beschlossen.
        AdoptedWithChanges = "adopted_with_changes",
        /// Abgelehnt.
        Rejected = "rejected",
        /// Vertagt.
        Deferred = "deferred",
        /// Zur Kenntnis genommen.
        Noted = "noted",
        /// Zurückgezogen.
        Withdrawn = "withdrawn",
    }
}

impl AgendaResult {
    /// The words a German minute uses (OParl's `result` is free text).
    pub fn german(self) -> &'static str {
        match self {
            Self::Adopted => "Beschlossen",
            Self::AdoptedWithChanges => "Mit Änderungen beschlossen",
            Self::Rejected => "Abgelehnt",
            Self::Deferred => "Vertagt",
            Self::Noted => "Zur Kenntnis genommen",
            Self::Withdrawn => "Zurückgezogen",
        }
    }
}

/// One item of a meeting's agenda, possibly about a referral, with its outcome once the meeting took place.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"title": "Telemedizinische Fallkonferenzen – Vorschlag aus dem Vogelsbergkreis",
    "referralId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a5", "result": "adopted",
    "resolution": "Die AG empfiehlt, Fallkonferenzen in zwei Versorgungsgebieten zu erproben.",
    "decisions": ["Pilot in Fulda-Bad Hersfeld und Vogelsberg"]}))]
pub struct AgendaItem {
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    pub referral_id: Option<Uuid>,
    /// The resolution text (Beschlusstext, OParl `resolutionText`).
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub resolution: Option<String>,
    pub result: Option<AgendaResult>,
    /// The decisions taken, one sentence each.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, max_length = 1000)]
    pub decisions: Vec<String>,
}

text_enum! {
    /// How the service unit took part in a meeting.
    pub enum Participation {
        /// It was not there.
        Absent = "absent",
        /// It attended.
        Attended = "attended",
        /// It organised or chaired the meeting.
        Organised = "organised",
    }
}

/// Who was there: members present (ids from `GET /committees/{id}/members`), the service unit, guests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"memberIds": ["0193a6a4-8d2e-7c41-9a57-52f3e2d0b8c1"], "serviceUnit": "attended",
    "guests": ["Kassenärztliche Vereinigung Hessen"]}))]
pub struct Attendance {
    #[serde(default)]
    #[validate(length(max = 200))]
    #[schema(max_items = 200)]
    pub member_ids: Vec<Uuid>,
    /// Default `absent`.
    #[serde(default = "absent")]
    pub service_unit: Participation,
    /// Guests by institution or function (not by name: the minutes name persons).
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50, max_length = 200)]
    pub guests: Vec<String>,
}

fn absent() -> Participation {
    Participation::Absent
}

impl Default for Attendance {
    fn default() -> Self {
        Self {
            member_ids: Vec::new(),
            service_unit: Participation::Absent,
            guests: Vec::new(),
        }
    }
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
    pub attendance: Attendance,
    #[schema(minimum = 1, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Meeting);

impl Meeting {
    /// The meeting's editable state: what a merge patch applies to.
    pub fn input(&self) -> NewMeeting {
        NewMeeting {
            date: Some(self.date),
            title: Some(self.title.clone()),
            place: self.place.clone(),
            link: self.link.clone(),
            agenda: self.agenda.clone(),
            attendance: Some(self.attendance.clone()),
        }
    }
}

/// A new meeting, and the state a merge patch of it produces.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
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
    /// Who was there (recorded after the meeting; default: nobody, the service unit absent).
    #[validate(nested)]
    pub attendance: Option<Attendance>,
}

impl Checked for NewMeeting {
    /// A link is for a browser: `http` or `https` (no `javascript:` or `data:` links to show to others); decisions
    /// and guests are short non-empty texts, and a member is listed once.
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = match self.link.as_deref().map(reqwest::Url::parse) {
            Some(Ok(url)) if !matches!(url.scheme(), "http" | "https") => vec![FieldError::new(
                "/link",
                "invalid_format",
                MessageParams::format(Format::Url),
            )],
            _ => Vec::new(),
        };
        let mut texts = |pointer: String, text: &str| {
            let n = text.chars().count();
            if n == 0 || n > 1000 || (pointer.contains("guests") && n > 200) {
                let max = if pointer.contains("guests") { 200 } else { 1000 };
                errors.push(FieldError::new(pointer, "length", MessageParams::range(1, max)));
            }
        };
        for (i, item) in self.agenda.iter().enumerate() {
            for (j, d) in item.decisions.iter().enumerate() {
                texts(format!("/agenda/{i}/decisions/{j}"), d);
            }
        }
        if let Some(a) = &self.attendance {
            for (i, g) in a.guests.iter().enumerate() {
                texts(format!("/attendance/guests/{i}"), g);
            }
            for (i, m) in a.member_ids.iter().enumerate() {
                if a.member_ids[..i].contains(m) {
                    errors.push(FieldError::new(
                        format!("/attendance/memberIds/{i}"),
                        "duplicate",
                        MessageParams::default(),
                    ));
                }
            }
        }
        errors
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

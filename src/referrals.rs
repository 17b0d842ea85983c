//! `/api/v1/referrals`: Vermittlungen. The service unit routes ideas from the regions into committees
//! (`region_to_committee`) and committees' requests into suitable regions (`committee_to_region`).
//!
//! A municipality creates referrals from its own region and sees those that come from its organisation or district
//! or were forwarded to its district (404 for all others); it answers for its district. The service unit sees and
//! moves all and answers on committees' behalf; the ministry reads all.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::{exists, sql};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::audit::history::{self, HistoryEntry};
use crate::audit::{self, Audience, Change};
use crate::core::identity::{Caller, Role};
use crate::core::lifecycle::{self, Lifecycle, Transition};
use crate::core::types::is_district_ags;
use crate::db::schema::{applications, committees, districts, organisations, referral_targets, referrals};
use crate::error::validation::Checked;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::{Expected, JsonBody, Query, ok_with_etag};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::{Conflict, Forbidden};
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;
use crate::text_enum;

pub const KIND: &str = "referral";

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get_one)
        .service(timeline)
        .service(triage)
        .service(forward)
        .service(decline)
        .service(respond)
        .service(close);
}

text_enum! {
    /// Which way an idea or request travels.
    pub enum Direction {
        /// An idea from a region for the committees.
        RegionToCommittee = "region_to_committee",
        /// A committee's request or result for suitable regions.
        CommitteeToRegion = "committee_to_region",
    }
}

text_enum! {
    /// State of a referral.
    pub enum ReferralStatus {
        Received = "received",
        InTriage = "in_triage",
        Forwarded = "forwarded",
        Answered = "answered",
        Closed = "closed",
        Declined = "declined",
    }
}

text_enum! {
    /// A lifecycle action, called as `POST /referrals/{id}/{action}`.
    pub enum ReferralAction {
        Triage = "triage",
        Forward = "forward",
        Decline = "decline",
        Respond = "respond",
        Close = "close",
    }
}

/// The lifecycle, written once; the handlers, the 409 answers, history, events and the documentation use it.
pub const LIFECYCLE: Lifecycle<ReferralStatus, ReferralAction> = Lifecycle::new(&[
    Transition {
        action: ReferralAction::Triage,
        from: &[ReferralStatus::Received],
        to: lifecycle::Target::To(ReferralStatus::InTriage),
        roles: &[Role::ServiceUnit],
        reason_required: false,
        event: "referral.triaged",
    },
    Transition {
        action: ReferralAction::Forward,
        from: &[ReferralStatus::InTriage, ReferralStatus::Forwarded],
        to: lifecycle::Target::To(ReferralStatus::Forwarded),
        roles: &[Role::ServiceUnit],
        reason_required: false,
        event: "referral.forwarded",
    },
    Transition {
        action: ReferralAction::Decline,
        from: &[ReferralStatus::Received, ReferralStatus::InTriage],
        to: lifecycle::Target::To(ReferralStatus::Declined),
        roles: &[Role::ServiceUnit],
        reason_required: true,
        event: "referral.declined",
    },
    Transition {
        action: ReferralAction::Respond,
        from: &[ReferralStatus::Forwarded],
        to: lifecycle::Target::Computed("`answered` once every target has answered"),
        roles: &[Role::Municipality, Role::ServiceUnit],
        reason_required: true,
        event: "referral.answered",
    },
    Transition {
        action: ReferralAction::Close,
        from: &[ReferralStatus::Answered],
        to: lifecycle::Target::To(ReferralStatus::Closed),
        roles: &[Role::ServiceUnit],
        reason_required: true,
        event: "referral.closed",
    },
]);

// ---- representation ----

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamedRef {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
}

/// Where a referral comes from: an organisation (with its district) or a committee.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub organisation: Option<NamedRef>,
    /// The origin organisation's district (AGS).
    #[schema(max_length = 5)]
    pub district: Option<String>,
    pub committee: Option<NamedRef>,
}

text_enum! {
    /// Whether a target has answered.
    pub enum TargetState {
        Pending = "pending",
        Answered = "answered",
    }
}

/// A committee or district a referral was forwarded to, with its own answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub id: Uuid,
    pub committee: Option<NamedRef>,
    /// District AGS, for a district target.
    #[schema(max_length = 5)]
    pub district: Option<String>,
    pub state: TargetState,
    #[schema(max_length = 10000)]
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Vermittlung: an idea or request routed by the service unit.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a5", "direction": "region_to_committee",
    "origin": {"organisation": {"id": "0193a6a4-0000-7000-8000-000000000002", "name": "Landkreis Vogelsbergkreis"},
        "district": "06535", "committee": null},
    "subject": "Telemedizinische Fallkonferenzen", "description": "Idee: Fallkonferenzen zwischen Praxen und Klinik.",
    "topics": ["Telemedizin"], "dueDate": "2027-03-31", "overdue": false, "status": "forwarded", "outcome": null,
    "targets": [{"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a6",
        "committee": {"id": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a4", "name": "Regionale Gesundheitskonferenz Fulda-Bad Hersfeld"},
        "district": null, "state": "pending", "answer": null, "answeredAt": null}],
    "applicationIds": [], "version": 3, "createdAt": "2026-11-22T09:00:00Z", "updatedAt": "2026-11-22T10:00:00Z"}))]
pub struct Referral {
    pub id: Uuid,
    pub direction: Direction,
    pub origin: Origin,
    #[schema(max_length = 200)]
    pub subject: String,
    #[schema(max_length = 20000)]
    pub description: String,
    #[schema(max_items = 20, max_length = 100)]
    pub topics: Vec<String>,
    pub due_date: Option<NaiveDate>,
    /// The due date has passed and the referral is neither closed nor declined.
    pub overdue: bool,
    pub status: ReferralStatus,
    /// The result recorded when closing, or the reason of a decline.
    #[schema(max_length = 5000)]
    pub outcome: Option<String>,
    #[schema(max_items = 200)]
    pub targets: Vec<Target>,
    /// Applications that grew from this referral (those the caller may see).
    #[schema(max_items = 1000)]
    pub application_ids: Vec<Uuid>,
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::versioned!(Referral);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = referrals)]
struct Row {
    id: Uuid,
    direction: String,
    origin_organisation_id: Option<Uuid>,
    origin_district_ags: Option<String>,
    origin_committee_id: Option<Uuid>,
    subject: String,
    description: String,
    topics: Vec<String>,
    due_date: Option<NaiveDate>,
    status: String,
    outcome: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

// ---- requests ----

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"direction": "region_to_committee", "subject": "Telemedizinische Fallkonferenzen",
    "description": "Idee aus dem Vogelsbergkreis: regelmäßige Fallkonferenzen zwischen Hausarztpraxen und Klinik.",
    "topics": ["Telemedizin"], "dueDate": "2027-03-31"}))]
pub struct NewReferral {
    /// A municipality may only send `region_to_committee` from its own organisation.
    #[validate(required)]
    #[schema(value_type = Direction, required = true)]
    pub direction: Option<Direction>,
    #[validate(required, length(min = 3, max = 200))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 200)]
    pub subject: Option<String>,
    #[serde(default)]
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: String,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20, min_length = 1, max_length = 100)]
    pub topics: Vec<String>,
    pub due_date: Option<NaiveDate>,
    /// Service unit, `region_to_committee`: the organisation (id or AGS) the idea comes from.
    #[schema(max_length = 64)]
    #[validate(length(max = 64))]
    pub origin_organisation: Option<String>,
    /// Service unit, `committee_to_region`: the committee the request comes from.
    pub origin_committee_id: Option<Uuid>,
}

impl Checked for NewReferral {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        self.topics
            .iter()
            .enumerate()
            .filter(|(_, t)| t.trim().is_empty() || t.chars().count() > 100)
            .map(|(i, _)| FieldError::new(format!("/topics/{i}"), "length", MessageParams::range(1, 100)))
            .collect()
    }
}

/// A target to forward to: a committee or a district.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewTarget {
    pub committee_id: Option<Uuid>,
    /// District AGS.
    #[schema(max_length = 5)]
    pub district: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"targets": [{"committeeId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a4"}, {"district": "06631"}],
    "note": "Bitte um Stellungnahme bis Ende März."}))]
pub struct Forwarding {
    #[validate(length(min = 1, max = 30), nested)]
    #[schema(min_items = 1, max_items = 30)]
    pub targets: Vec<NewTarget>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

impl Checked for Forwarding {
    fn cross_field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (i, t) in self.targets.iter().enumerate() {
            match (&t.committee_id, &t.district) {
                (Some(_), None) => {}
                (None, Some(d)) if is_district_ags(d) => {}
                (None, Some(_)) => errors.push(FieldError::new(
                    format!("/targets/{i}/district"),
                    "invalid_format",
                    MessageParams::detail("a five-digit AGS"),
                )),
                _ => errors.push(FieldError::new(
                    format!("/targets/{i}"),
                    "invalid_value",
                    MessageParams::allowed("{committeeId} or {district}"),
                )),
            }
        }
        errors
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"targetId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a6",
    "answer": "Die Konferenz nimmt das Thema in ihre Sitzung am 10. März auf."}))]
pub struct Response {
    #[validate(required)]
    #[schema(value_type = Uuid, required = true)]
    pub target_id: Option<Uuid>,
    #[validate(required, length(min = 1, max = 10000))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10000)]
    pub answer: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"note": "Zuständigkeit geprüft."}))]
pub struct Note {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reason": "Das Thema liegt außerhalb der Zuständigkeit der Gremien."}))]
pub struct DeclineBody {
    #[validate(required, length(min = 3, max = 2000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"outcome": "Die Idee wird als Modellvorhaben (MV) beantragt."}))]
pub struct Closing {
    #[validate(required, length(min = 3, max = 5000))]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 5000)]
    pub outcome: Option<String>,
}

impl Checked for Response {}
impl Checked for Note {}
impl Checked for DeclineBody {}
impl Checked for Closing {}

// ---- queries ----

type Boxed = referrals::BoxedQuery<'static, diesel::pg::Pg>;

/// Every referral the caller may see: a municipality those from its organisation or district and those forwarded
/// to its district.
fn visible(caller: &Caller) -> ApiResult<Boxed> {
    let query = referrals::table.into_boxed();
    match caller.role {
        Role::ServiceUnit | Role::Ministry => Ok(query),
        Role::Municipality => {
            let org = caller
                .org
                .as_ref()
                .ok_or_else(|| ApiError::internal("municipality without organisation"))?;
            let forwarded_here = exists(
                referral_targets::table
                    .filter(referral_targets::referral_id.eq(referrals::id))
                    .filter(referral_targets::district_ags.eq(org.district_ags.clone())),
            );
            Ok(query.filter(
                referrals::origin_organisation_id
                    .eq(org.id)
                    .or(referrals::origin_district_ags.eq(org.district_ags.clone()))
                    .or(forwarded_here),
            ))
        }
    }
}

async fn find_row(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Row> {
    Ok(visible(caller)?
        .filter(referrals::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await?)
}

type TargetRow = (
    Uuid,
    Uuid,
    Option<Uuid>,
    Option<String>,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
);

/// Builds the representations of `rows` with their targets, origins and applications (three queries in all).
async fn expand(conn: &mut AsyncPgConnection, caller: &Caller, rows: Vec<Row>) -> ApiResult<Vec<Referral>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let targets: Vec<TargetRow> = referral_targets::table
        .filter(referral_targets::referral_id.eq_any(&ids))
        .order(referral_targets::id.asc())
        .select((
            referral_targets::id,
            referral_targets::referral_id,
            referral_targets::committee_id,
            referral_targets::district_ags,
            referral_targets::state,
            referral_targets::answer,
            referral_targets::answered_at,
        ))
        .load(conn)
        .await?;
    let mut committee_ids: Vec<Uuid> = targets.iter().filter_map(|t| t.2).collect();
    committee_ids.extend(rows.iter().filter_map(|r| r.origin_committee_id));
    let committee_names: std::collections::HashMap<Uuid, String> = committees::table
        .filter(committees::id.eq_any(&committee_ids))
        .select((committees::id, committees::name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let org_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.origin_organisation_id).collect();
    let org_names: std::collections::HashMap<Uuid, String> = organisations::table
        .filter(organisations::id.eq_any(&org_ids))
        .select((organisations::id, organisations::name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let mut linked = applications::table
        .filter(applications::referral_id.eq_any(ids.iter().map(|i| Some(*i)).collect::<Vec<_>>()))
        .select((applications::referral_id, applications::id))
        .into_boxed();
    if let (Role::Municipality, Some(org)) = (caller.role, &caller.org) {
        linked = linked.filter(applications::organisation_id.eq(org.id));
    }
    let linked: Vec<(Option<Uuid>, Uuid)> = linked.order(applications::id.asc()).load(conn).await?;
    let named = |id: Uuid, names: &std::collections::HashMap<Uuid, String>| NamedRef {
        id,
        name: names.get(&id).cloned().unwrap_or_default(),
    };
    let today = crate::core::time::today_in_hessen();
    rows.into_iter()
        .map(|r| {
            let status: ReferralStatus = r.status.parse().map_err(ApiError::internal)?;
            // A municipality that is only a target sees its own district's part, not others' answers.
            let own_part_only = match (caller.role, &caller.org) {
                (Role::Municipality, Some(org)) => {
                    r.origin_organisation_id != Some(org.id)
                        && r.origin_district_ags.as_deref() != Some(org.district_ags.as_str())
                }
                _ => false,
            };
            let my_district = caller.org.as_ref().map(|o| o.district_ags.clone());
            let targets = targets
                .iter()
                .filter(|t| t.1 == r.id)
                .filter(|t| !own_part_only || t.3 == my_district)
                .map(|t| {
                    Ok(Target {
                        id: t.0,
                        committee: t.2.map(|c| named(c, &committee_names)),
                        district: t.3.clone(),
                        state: t.4.parse().map_err(ApiError::internal)?,
                        answer: t.5.clone(),
                        answered_at: t.6,
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(Referral {
                id: r.id,
                direction: r.direction.parse().map_err(ApiError::internal)?,
                origin: Origin {
                    organisation: r.origin_organisation_id.map(|o| named(o, &org_names)),
                    district: r.origin_district_ags,
                    committee: r.origin_committee_id.map(|c| named(c, &committee_names)),
                },
                subject: r.subject,
                description: r.description,
                topics: r.topics,
                overdue: r.due_date.is_some_and(|d| d < today)
                    && !matches!(status, ReferralStatus::Closed | ReferralStatus::Declined),
                due_date: r.due_date,
                status,
                outcome: r.outcome,
                targets,
                application_ids: linked
                    .iter()
                    .filter(|l| l.0 == Some(r.id))
                    .map(|l| l.1)
                    .take(crate::http::pagination::MAX_UNPAGED as usize)
                    .collect(),
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        })
        .collect()
}

pub async fn find(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Referral> {
    let row = find_row(conn, caller, id).await?;
    expand(conn, caller, vec![row]).await?.pop().ok_or(ApiError::NotFound)
}

/// Whether the caller may see the referral (used by applications that name one).
pub async fn is_visible(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<bool> {
    Ok(diesel::select(exists(visible(caller)?.filter(referrals::id.eq(id))))
        .get_result(conn)
        .await?)
}

async fn insert(conn: &mut AsyncPgConnection, caller: &Caller, r: NewReferral) -> ApiResult<Referral> {
    let direction = r.direction.unwrap_or(Direction::RegionToCommittee);
    let mut errors = Vec::new();
    let (org, committee) = match (caller.role, direction) {
        (Role::Municipality, Direction::RegionToCommittee) => {
            if r.origin_organisation.is_some() || r.origin_committee_id.is_some() {
                errors.push(FieldError::new(
                    "/originOrganisation",
                    "invalid_value",
                    MessageParams::allowed("nothing: a municipality sends from its own organisation"),
                ));
            }
            (caller.org.clone(), None)
        }
        (Role::Municipality, Direction::CommitteeToRegion) => return Err(ApiError::Forbidden),
        (_, Direction::RegionToCommittee) => {
            let org = match &r.origin_organisation {
                Some(key) => crate::auth::org_scope(conn, key).await?,
                None => None,
            };
            if org.is_none() {
                errors.push(FieldError::new(
                    "/originOrganisation",
                    if r.origin_organisation.is_some() {
                        "unknown_reference"
                    } else {
                        "required"
                    },
                    MessageParams::default(),
                ));
            }
            (org, None)
        }
        (_, Direction::CommitteeToRegion) => {
            let known = match r.origin_committee_id {
                Some(c) => {
                    diesel::select(exists(committees::table.find(c)))
                        .get_result(conn)
                        .await?
                }
                None => false,
            };
            if !known {
                errors.push(FieldError::new(
                    "/originCommitteeId",
                    if r.origin_committee_id.is_some() {
                        "unknown_reference"
                    } else {
                        "required"
                    },
                    MessageParams::default(),
                ));
            }
            (None, r.origin_committee_id)
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id: Uuid = diesel::insert_into(referrals::table)
        .values((
            referrals::direction.eq(direction.as_str()),
            referrals::origin_organisation_id.eq(org.as_ref().map(|o| o.id)),
            referrals::origin_district_ags.eq(org.as_ref().map(|o| o.district_ags.clone())),
            referrals::origin_committee_id.eq(committee),
            referrals::subject.eq(r.subject.unwrap_or_default()),
            referrals::description.eq(r.description),
            referrals::topics.eq(r.topics),
            referrals::due_date.eq(r.due_date),
        ))
        .returning(referrals::id)
        .get_result(conn)
        .await?;
    let change = Change::new(KIND, id, "create", "referral.created", Audience::default())
        .states(None::<ReferralStatus>, ReferralStatus::Received);
    record(conn, caller, change).await?;
    find(conn, caller, id).await
}

/// Emits `referral.created` with the referral as it is now (the feed's backfill of seeded rows).
pub async fn snapshot(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<()> {
    let (full, audience) = full_view(conn, id).await?;
    audit::backfill(conn, KIND, id, "referral.created", audience, &full).await
}

/// The full representation (the feed trims it per reader, [`crate::events::redact`]) and who may see it: the origin
/// organisation and district, and every target district.
async fn full_view(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<(Referral, Audience)> {
    let full = find(conn, &Caller::system(), id).await?;
    let mut districts: Vec<String> = full.targets.iter().filter_map(|t| t.district.clone()).collect();
    districts.extend(full.origin.district.clone());
    let audience = Audience {
        org_ids: full.origin.organisation.iter().map(|o| o.id).collect(),
        districts,
        ..Default::default()
    };
    Ok((full, audience))
}

/// Records a change with the referral as it is after the change (the audience follows from it).
async fn record(conn: &mut AsyncPgConnection, caller: &Caller, mut change: Change<'_>) -> ApiResult<()> {
    let (full, audience) = full_view(conn, change.id).await?;
    change.audience = audience;
    audit::record(conn, caller, change, &full).await
}

/// What an action carries.
enum ActionInput {
    Note(Option<String>),
    Forward(Forwarding),
    Decline(String),
    Respond(Uuid, String),
    Close(String),
}

/// The most targets one referral may have (the OpenAPI document's `maxItems`), over all its forwardings.
const MAX_TARGETS: i64 = 200;

async fn add_targets(conn: &mut AsyncPgConnection, id: Uuid, targets: &[NewTarget]) -> ApiResult<()> {
    let existing: i64 = referral_targets::table
        .filter(referral_targets::referral_id.eq(id))
        .count()
        .get_result(conn)
        .await?;
    if existing + targets.len() as i64 > MAX_TARGETS {
        return Err(ApiError::Validation(vec![FieldError::new(
            "/targets",
            "too_long",
            MessageParams::max((MAX_TARGETS - existing).max(0)),
        )]));
    }
    let mut errors = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let known: bool = match (&t.committee_id, &t.district) {
            (Some(c), _) => {
                diesel::select(exists(committees::table.find(*c)))
                    .get_result(conn)
                    .await?
            }
            (_, Some(d)) => {
                diesel::select(exists(districts::table.find(d)))
                    .get_result(conn)
                    .await?
            }
            _ => false,
        };
        if !known {
            errors.push(FieldError::new(
                format!("/targets/{i}"),
                "unknown_reference",
                MessageParams::default(),
            ));
            continue;
        }
        let inserted = diesel::insert_into(referral_targets::table)
            .values((
                referral_targets::referral_id.eq(id),
                referral_targets::committee_id.eq(t.committee_id),
                referral_targets::district_ags.eq(&t.district),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            errors.push(FieldError::new(
                format!("/targets/{i}"),
                "duplicate",
                MessageParams::default(),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Moves a referral: lock, state check, the action's own work, version and timeline, in the caller's transaction.
async fn act(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    action: ReferralAction,
    expected: Option<Expected>,
    input: ActionInput,
) -> ApiResult<Referral> {
    referrals::table
        .find(id)
        .select(referrals::id)
        .for_update()
        .first::<Uuid>(conn)
        .await
        .optional()?;
    let current = find_row(conn, caller, id).await?;
    if let Some(expected) = expected {
        expected.check(current.version)?;
    }
    let status: ReferralStatus = current.status.parse().map_err(ApiError::internal)?;
    let rule = LIFECYCLE.check(status, action)?;
    let mut to = rule.target(status);
    let mut outcome = current.outcome.clone();
    let note: Option<String>;
    let mut changed = vec![];
    match input {
        ActionInput::Note(n) => note = n,
        ActionInput::Forward(f) => {
            add_targets(conn, id, &f.targets).await?;
            note = f.note;
            changed.push("/targets".to_owned());
        }
        ActionInput::Decline(reason) => {
            outcome = Some(reason.clone());
            note = Some(reason);
        }
        ActionInput::Close(text) => {
            outcome = Some(text.clone());
            note = Some(text);
        }
        ActionInput::Respond(target, answer) => {
            let t: Option<(Option<Uuid>, Option<String>, String)> = referral_targets::table
                .filter(referral_targets::id.eq(target))
                .filter(referral_targets::referral_id.eq(id))
                .select((
                    referral_targets::committee_id,
                    referral_targets::district_ags,
                    referral_targets::state,
                ))
                .first(conn)
                .await
                .optional()?;
            let Some((committee, district, state)) = t else {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "/targetId",
                    "unknown_reference",
                    MessageParams::detail("not a target of this referral"),
                )]));
            };
            // A municipality answers for its own district; the service unit on a committee's behalf.
            let may = match caller.role {
                Role::Municipality => {
                    district.is_some() && district == caller.org.as_ref().map(|o| o.district_ags.clone())
                }
                Role::ServiceUnit => committee.is_some(),
                Role::Ministry => false,
            };
            if !may {
                return Err(ApiError::Forbidden);
            }
            if state == TargetState::Answered.as_str() {
                return Err(ApiError::conflict("already_answered", MessageParams::default()));
            }
            diesel::update(referral_targets::table.find(target))
                .set((
                    referral_targets::state.eq(TargetState::Answered.as_str()),
                    referral_targets::answer.eq(&answer),
                    referral_targets::answered_at.eq(diesel::dsl::now),
                    referral_targets::answered_by.eq(&caller.sub),
                ))
                .execute(conn)
                .await?;
            let pending: i64 = referral_targets::table
                .filter(referral_targets::referral_id.eq(id))
                .filter(referral_targets::state.eq(TargetState::Pending.as_str()))
                .count()
                .get_result(conn)
                .await?;
            if pending == 0 {
                to = ReferralStatus::Answered;
            }
            note = Some(answer);
            changed.push(format!("/targets/{target}"));
        }
    }
    diesel::update(referrals::table.find(id))
        .set((
            referrals::status.eq(to.as_str()),
            referrals::outcome.eq(&outcome),
            referrals::version.eq(current.version + 1),
            referrals::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    let change = Change::transition(KIND, id, rule, status, to, Audience::default())
        .reason(note.as_deref())
        .changed(changed);
    record(conn, caller, change).await?;
    find(conn, caller, id).await
}

// ---- lists ----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListReferrals {
    /// One or more states, comma-separated.
    status: Option<String>,
    direction: Option<Direction>,
    /// Referrals with this topic.
    topic: Option<String>,
    /// Only referrals past their due date that are neither closed nor declined (`true`), or the others.
    overdue: Option<bool>,
    /// Referrals from or forwarded to this district (AGS).
    district: Option<String>,
    /// Referrals from or forwarded to this committee.
    committee: Option<Uuid>,
    /// Case-insensitive part of the subject.
    q: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Opaque cursor from `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also return the number of all matching items.
    include_total: Option<bool>,
}

const SORT: &str = "referrals:id";
const OPEN: &str = "referrals.status NOT IN ('closed', 'declined') AND referrals.due_date IS NOT NULL";

fn filtered(caller: &Caller, q: &ListReferrals) -> ApiResult<Boxed> {
    let mut query = visible(caller)?;
    if let Some(wanted) = &q.status {
        let mut statuses = Vec::new();
        for part in wanted.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let status: ReferralStatus = part.parse().map_err(|_| {
                let allowed: Vec<&str> = ReferralStatus::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::BadRequest(vec![FieldError::new(
                    "/query/status",
                    "invalid_value",
                    MessageParams::allowed(allowed.join(", ")),
                )])
            })?;
            statuses.push(status.as_str());
        }
        query = query.filter(referrals::status.eq_any(statuses));
    }
    if let Some(d) = q.direction {
        query = query.filter(referrals::direction.eq(d.as_str()));
    }
    if let Some(t) = &q.topic {
        query = query.filter(referrals::topics.contains(vec![t.clone()]));
    }
    if let Some(overdue) = q.overdue {
        let today = crate::core::time::today_in_hessen();
        let condition = sql::<Bool>(&format!("({OPEN} AND referrals.due_date < "))
            .bind::<diesel::sql_types::Date, _>(today)
            .sql(")");
        query = if overdue {
            query.filter(condition)
        } else {
            query.filter(diesel::dsl::not(condition))
        };
    }
    if let Some(d) = &q.district {
        if !is_district_ags(d) {
            return Err(ApiError::BadRequest(vec![FieldError::new(
                "/query/district",
                "invalid_format",
                MessageParams::detail("a five-digit AGS"),
            )]));
        }
        query = query.filter(
            referrals::origin_district_ags.eq(d.clone()).or(exists(
                referral_targets::table
                    .filter(referral_targets::referral_id.eq(referrals::id))
                    .filter(referral_targets::district_ags.eq(d.clone())),
            )),
        );
    }
    if let Some(c) = q.committee {
        query = query.filter(
            referrals::origin_committee_id.eq(c).or(exists(
                referral_targets::table
                    .filter(referral_targets::referral_id.eq(referrals::id))
                    .filter(referral_targets::committee_id.eq(c)),
            )),
        );
    }
    if let Some(text) = &q.q {
        query = query.filter(referrals::subject.ilike(crate::core::types::like_pattern(text)));
    }
    Ok(query)
}

async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListReferrals,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(Referral, Uuid)>> {
    let mut query = filtered(caller, q)?.select(Row::as_select()).order(referrals::id.asc());
    if let Some(after) = after {
        query = query.filter(referrals::id.gt(after));
    }
    let rows: Vec<Row> = query.limit(limit).load(conn).await?;
    Ok(expand(conn, caller, rows)
        .await?
        .into_iter()
        .map(|r| {
            let id = r.id;
            (r, id)
        })
        .collect())
}

const CSV_HEADER: &str = "id,direction,originOrganisation,originDistrict,originCommittee,subject,topics,dueDate,\
                          overdue,status,targets,answered,outcome,createdAt,updatedAt\n";

fn csv_row(r: &Referral) -> String {
    use crate::http::csv::{cell, line, opt};
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| {
            t.committee
                .as_ref()
                .map_or_else(|| t.district.clone().unwrap_or_default(), |c| c.name.clone())
        })
        .collect();
    let answered = r.targets.iter().filter(|t| t.state == TargetState::Answered).count();
    line(&[
        r.id.to_string(),
        r.direction.as_str().to_owned(),
        opt(&r.origin.organisation.as_ref().map(|o| o.name.clone())),
        opt(&r.origin.district),
        opt(&r.origin.committee.as_ref().map(|c| c.name.clone())),
        cell(&r.subject),
        cell(&r.topics.join("; ")),
        opt(&r.due_date),
        r.overdue.to_string(),
        r.status.as_str().to_owned(),
        cell(&targets.join("; ")),
        format!("{answered}/{}", r.targets.len()),
        opt(&r.outcome),
        r.created_at.to_rfc3339(),
        r.updated_at.to_rfc3339(),
    ])
}

// ---- handlers ----

/// List referrals
///
/// The referrals the caller may see, oldest first, filterable by state, direction, topic, due date, district,
/// committee and subject. `Accept: text/csv` exports every match.
///
/// **Roles:** `municipality` (those from its organisation or district or forwarded to its district), `service_unit`,
/// `ministry`.
#[utoipa::path(
    tag = "Referrals",
    params(ListReferrals),
    responses(
        (status = 200, description = "One page of referrals, or all of them as CSV",
            content((Page<Referral> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/referrals")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListReferrals>,
) -> ApiResult<HttpResponse> {
    filtered(&caller, &q)?;
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
        return Ok(crate::http::csv::stream("referrals.csv", CSV_HEADER, fetch, csv_row));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = page(&mut conn, &caller, &q, paging.after, paging.limit + 1).await?;
    let total = if paging.include_total {
        Some(filtered(&caller, &q)?.count().get_result(&mut conn).await?)
    } else {
        None
    };
    let result: Page<Referral> = paging.page(rows, SORT, |(_, id)| *id, |(r, _)| r, total);
    Ok(HttpResponse::Ok().json(result))
}

/// Bring in a referral
///
/// A municipality brings an idea from its own region (`region_to_committee`, from its own organisation). The
/// service unit records either direction: an idea with `originOrganisation`, or a committee's request with
/// `originCommitteeId`.
///
/// **Roles:** `municipality`, `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewReferral,
    responses(
        (status = 201, description = "The new referral", body = Referral, headers(("Location" = String), ("ETag" = String))),
        (status = 403, response = Forbidden),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<NewReferral>,
) -> ApiResult<HttpResponse> {
    caller.require(&[Role::Municipality, Role::ServiceUnit])?;
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let r = insert(conn, &caller, input).await?;
        Ok(Stored::json(StatusCode::CREATED, &r)?
            .header("etag", crate::http::extract::etag(r.version))
            .header("location", format!("/api/v1/referrals/{}", r.id)))
    })
    .await
}

/// Get a referral
///
/// **Roles:** `municipality` (from its organisation or district, or forwarded to its district; others are 404),
/// `service_unit`, `ministry`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The referral", body = Referral, headers(("ETag" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/referrals/{id}")]
async fn get_one(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let r = find(&mut conn, &caller, *id).await?;
    Ok(ok_with_etag(r.version, &r))
}

/// Timeline of a referral
///
/// Every step, oldest first: who, when, what, and the note given.
///
/// **Roles:** as for reading the referral.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id")),
    responses(
        (status = 200, description = "The timeline", body = Vec<HistoryEntry>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/referrals/{id}/timeline")]
async fn timeline(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    find_row(&mut conn, &caller, *id).await?;
    Ok(HttpResponse::Ok().json(history::list(&mut conn, KIND, *id).await?))
}

/// Triage
///
/// The service unit takes a `received` referral into triage. Optional note.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body(content = Option<Note>, content_type = "application/json"),
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/triage")]
async fn triage(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Note>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Triage))?;
    let note = body.parse_or_empty()?.note;
    crate::http::transition::respond(&state, &req, &caller, body.bytes(), async |conn, expected| {
        act(
            conn,
            &caller,
            *id,
            ReferralAction::Triage,
            expected,
            ActionInput::Note(note),
        )
        .await
    })
    .await
}

/// Forward
///
/// Forwards a referral in triage (or already forwarded, to add targets) to one or more committees or districts;
/// each target then answers on its own.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Forwarding,
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/forward")]
async fn forward(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Forwarding>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Forward))?;
    let bytes = body.bytes().to_vec();
    let f = body.parse()?;
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        act(
            conn,
            &caller,
            *id,
            ReferralAction::Forward,
            expected,
            ActionInput::Forward(f),
        )
        .await
    })
    .await
}

/// Decline
///
/// Declines a referral that is received or in triage, with a reason (recorded as the outcome).
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = DeclineBody,
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/decline")]
async fn decline(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<DeclineBody>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Decline))?;
    let bytes = body.bytes().to_vec();
    let reason = body.parse()?.reason.unwrap_or_default();
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        act(
            conn,
            &caller,
            *id,
            ReferralAction::Decline,
            expected,
            ActionInput::Decline(reason),
        )
        .await
    })
    .await
}

/// Respond
///
/// A target answers: a municipality for a target that is its own district, the service unit for a committee
/// target (403 otherwise; 409 `already_answered` for a second answer). Once every target has answered, the
/// referral is `answered`.
///
/// **Roles:** `municipality`, `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Response,
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/respond")]
async fn respond(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Response>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Respond))?;
    let bytes = body.bytes().to_vec();
    let r = body.parse()?;
    let input = ActionInput::Respond(r.target_id.unwrap_or_default(), r.answer.unwrap_or_default());
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        act(conn, &caller, *id, ReferralAction::Respond, expected, input).await
    })
    .await
}

/// Close
///
/// Closes an answered referral with its outcome.
///
/// **Roles:** `service_unit`.
#[utoipa::path(
    tag = "Referrals",
    params(("id" = Uuid, Path, description = "Referral id"),
        ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if the referral changed since this ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = Closing,
    responses(
        (status = 200, description = "The referral after the action", body = Referral, headers(("ETag" = String))),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[post("/referrals/{id}/close")]
async fn close(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Closing>,
) -> ApiResult<HttpResponse> {
    caller.require(LIFECYCLE.roles(ReferralAction::Close))?;
    let bytes = body.bytes().to_vec();
    let outcome = body.parse()?.outcome.unwrap_or_default();
    crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
        act(
            conn,
            &caller,
            *id,
            ReferralAction::Close,
            expected,
            ActionInput::Close(outcome),
        )
        .await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_transition() {
        assert!(LIFECYCLE.each_action_once(ReferralAction::ALL));
        assert!(LIFECYCLE.allowed_actions(ReferralStatus::Closed).is_empty());
    }
}

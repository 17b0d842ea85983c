//! The OParl objects, built from the committees' tables. Every URL is absolute (`base` is the service's address as
//! the request reached it); optional properties are left out rather than `null`, as OParl asks.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::schema::{attachments, committee_meetings, committee_members, committees, coordinators, referrals};
use crate::error::{ApiError, ApiResult};

/// The one body: the ministry whose service unit keeps the committees.
pub const BODY: &str = "hmfg";
const VERSION: &str = "https://schema.oparl.org/1.1/";

fn kind(name: &str) -> String {
    format!("{VERSION}{name}")
}

/// Addresses of the OParl objects.
#[derive(Debug, Clone)]
pub struct Urls {
    pub base: String,
}

impl Urls {
    pub fn at(&self, path: &str) -> String {
        format!("{}/oparl/v1{path}", self.base)
    }
    pub fn body(&self) -> String {
        self.at(&format!("/bodies/{BODY}"))
    }
}

/// A page of an OParl object list (`data`, `pagination`, `links`).
pub fn list(urls: &Urls, path: &str, data: Vec<Value>, page: i64, per_page: i64, total: i64) -> Value {
    let pages = ((total + per_page - 1) / per_page).max(1);
    let at = |p: i64| format!("{}?page={p}", urls.at(path));
    let mut links = json!({"first": at(1), "self": at(page), "last": at(pages)});
    if page > 1 {
        links["prev"] = json!(at(page - 1));
    }
    if page < pages {
        links["next"] = json!(at(page + 1));
    }
    json!({"data": data, "pagination": {"totalElements": total, "elementsPerPage": per_page,
        "currentPage": page, "totalPages": pages}, "links": links})
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A meeting's day as its start in Hessen's time (the API keeps meetings by day).
fn day_start(d: NaiveDate) -> String {
    let noon = d.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
    let offset = (crate::core::time::hessen_local(noon) - noon.naive_utc()).num_hours();
    format!("{d}T00:00:00+{offset:02}:00")
}

pub fn system(urls: &Urls) -> Value {
    json!({"id": urls.at("/system"), "type": kind("System"), "oparlVersion": VERSION,
        "body": urls.at("/bodies"), "name": "Versorgung Hessen – Gremien der Gesundheitsversorgung",
        "contactName": "Serviceeinheit Gesundheitsversorgung", "vendor": "https://versorgung.hessen.de",
        "product": "https://versorgung.hessen.de/api"})
}

pub fn body(urls: &Urls) -> Value {
    let at = |p: &str| format!("{}{p}", urls.body());
    json!({"id": urls.body(), "type": kind("Body"), "system": urls.at("/system"),
        "name": "Hessisches Ministerium für Familie, Senioren, Sport, Gesundheit und Pflege", "shortName": "HMFG",
        "organization": at("/organizations"), "person": at("/people"), "meeting": at("/meetings"),
        "paper": at("/papers"), "legislativeTerm": [], "classification": "Landesministerium",
        "keyword": ["Gesundheitsversorgung", "ländlicher Raum"]})
}

type CommitteeRow = (Uuid, String, String, String, Vec<String>, DateTime<Utc>, DateTime<Utc>);

fn organization(urls: &Urls, c: CommitteeRow, members: &[Uuid]) -> Value {
    let (id, name, kind_, owning_body, topics, created, modified) = c;
    let organization_type = match kind_.as_str() {
        "working_group" => "Arbeitsgruppe",
        "regional_conference" => "Regionale Gesundheitskonferenz",
        "other_ministry_unit" => "Einheit eines anderen Ministeriums",
        _ => "Gremium",
    };
    json!({"id": urls.at(&format!("/organizations/{id}")), "type": kind("Organization"), "body": urls.body(),
        "name": name, "organizationType": organization_type, "classification": owning_body, "keyword": topics,
        "membership": members.iter().map(|m| urls.at(&format!("/memberships/{m}"))).collect::<Vec<_>>(),
        "meeting": urls.at(&format!("/organizations/{id}/meetings")),
        "created": stamp(created), "modified": stamp(modified)})
}

/// The committees (Organizations), by name, one page.
pub async fn organizations(
    conn: &mut AsyncPgConnection,
    urls: &Urls,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Value>, i64)> {
    let total: i64 = committees::table.count().get_result(conn).await?;
    let rows: Vec<CommitteeRow> = committees::table
        .order((committees::name, committees::id))
        .offset(offset)
        .limit(limit)
        .select(committee_columns())
        .load(conn)
        .await?;
    // One query for the page's members, not one per committee.
    let ids: Vec<Uuid> = rows.iter().map(|c| c.0).collect();
    let members = member_ids(conn, &ids).await?;
    let out = rows
        .into_iter()
        .map(|c| {
            let own: Vec<Uuid> = members.iter().filter(|(of, _)| *of == c.0).map(|(_, m)| *m).collect();
            organization(urls, c, &own)
        })
        .collect();
    Ok((out, total))
}

#[allow(clippy::type_complexity)] // diesel's column tuple, named once here
fn committee_columns() -> (
    committees::id,
    committees::name,
    committees::kind,
    committees::owning_body,
    committees::topics,
    committees::created_at,
    committees::updated_at,
) {
    (
        committees::id,
        committees::name,
        committees::kind,
        committees::owning_body,
        committees::topics,
        committees::created_at,
        committees::updated_at,
    )
}

/// (committee, member) of the committees' members, in member order.
async fn member_ids(conn: &mut AsyncPgConnection, committees: &[Uuid]) -> ApiResult<Vec<(Uuid, Uuid)>> {
    Ok(committee_members::table
        .filter(committee_members::committee_id.eq_any(committees))
        .order(committee_members::id)
        .select((committee_members::committee_id, committee_members::id))
        .load(conn)
        .await?)
}

pub async fn organization_one(conn: &mut AsyncPgConnection, urls: &Urls, id: Uuid) -> ApiResult<Value> {
    let c: CommitteeRow = committees::table
        .find(id)
        .select(committee_columns())
        .first(conn)
        .await?;
    let members: Vec<Uuid> = member_ids(conn, &[id]).await?.into_iter().map(|(_, m)| m).collect();
    Ok(organization(urls, c, &members))
}

type MemberRow = (
    Uuid,
    Uuid,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);

/// A person per membership (the register keeps members per committee); the name only for a signed-in reader.
fn person(urls: &Urls, m: &MemberRow, named: bool) -> Value {
    let (id, committee, name, _, role, created) = m;
    let mut p = json!({"id": urls.at(&format!("/people/{id}")), "type": kind("Person"), "body": urls.body(),
        "membership": [membership(urls, m, false)], "created": stamp(*created), "modified": stamp(*created)});
    if let (true, Some(name)) = (named, name) {
        p["name"] = json!(name);
    }
    let _ = (committee, role);
    p
}

fn membership(urls: &Urls, m: &MemberRow, with_person: bool) -> Value {
    let (id, committee, _, organisation, role, created) = m;
    let mut out = json!({"id": urls.at(&format!("/memberships/{id}")), "type": kind("Membership"),
        "organization": urls.at(&format!("/organizations/{committee}")), "created": stamp(*created),
        "modified": stamp(*created)});
    if with_person {
        out["person"] = json!(urls.at(&format!("/people/{id}")));
    }
    if let Some(role) = role {
        out["role"] = json!(role);
    }
    if let Some(o) = organisation {
        out["keyword"] = json!([o]);
    }
    out
}

async fn members(conn: &mut AsyncPgConnection, id: Option<Uuid>, offset: i64, limit: i64) -> ApiResult<Vec<MemberRow>> {
    let mut query = committee_members::table
        .left_join(coordinators::table)
        .order(committee_members::id)
        .offset(offset)
        .limit(limit)
        .select((
            committee_members::id,
            committee_members::committee_id,
            // A coordinator's name from the register (null once erased), an external member's as recorded.
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                "coalesce(coordinators.name, committee_members.external_name)",
            ),
            committee_members::external_organisation,
            committee_members::role,
            committee_members::created_at,
        ))
        .into_boxed();
    if let Some(id) = id {
        query = query.filter(committee_members::id.eq(id));
    }
    Ok(query.load(conn).await?)
}

pub async fn people(
    conn: &mut AsyncPgConnection,
    urls: &Urls,
    named: bool,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Value>, i64)> {
    let total: i64 = committee_members::table.count().get_result(conn).await?;
    let rows = members(conn, None, offset, limit).await?;
    Ok((rows.iter().map(|m| person(urls, m, named)).collect(), total))
}

pub async fn person_one(conn: &mut AsyncPgConnection, urls: &Urls, named: bool, id: Uuid) -> ApiResult<Value> {
    let rows = members(conn, Some(id), 0, 1).await?;
    rows.as_slice()
        .first()
        .map(|m| person(urls, m, named))
        .ok_or(ApiError::NotFound)
}

pub async fn membership_one(conn: &mut AsyncPgConnection, urls: &Urls, id: Uuid) -> ApiResult<Value> {
    let rows = members(conn, Some(id), 0, 1).await?;
    rows.as_slice()
        .first()
        .map(|m| membership(urls, m, true))
        .ok_or(ApiError::NotFound)
}

type MeetingRow = (
    Uuid,
    Uuid,
    NaiveDate,
    String,
    serde_json::Value,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// An agenda item of a meeting (position `i` from 0), embedded or alone.
fn agenda_item(urls: &Urls, meeting: Uuid, i: usize, item: &Value) -> Value {
    let mut out = json!({"id": urls.at(&format!("/meetings/{meeting}/agenda-items/{}", i + 1)),
        "type": kind("AgendaItem"), "meeting": urls.at(&format!("/meetings/{meeting}")),
        "number": (i + 1).to_string(), "order": i + 1, "name": item["title"], "public": true});
    if let Some(r) = item["result"]
        .as_str()
        .and_then(|r| r.parse::<crate::committees::meetings::AgendaResult>().ok())
    {
        out["result"] = json!(r.german());
    }
    if let Some(text) = item["resolution"].as_str() {
        out["resolutionText"] = json!(text);
    }
    if let Some(decisions) = item["decisions"].as_array().filter(|d| !d.is_empty()) {
        out["keyword"] = json!(decisions);
    }
    out
}

type FileRow = (Uuid, Uuid, String, String, i64, String, DateTime<Utc>);

fn file(urls: &Urls, f: &FileRow) -> Value {
    let (id, meeting, name, media_type, size, category, created) = f;
    json!({"id": urls.at(&format!("/files/{id}")), "type": kind("File"), "name": category, "fileName": name,
        "mimeType": media_type, "size": size, "date": created.date_naive().to_string(),
        "accessUrl": format!("{}/api/v1/attachments/{id}/content", urls.base),
        "meeting": [urls.at(&format!("/meetings/{meeting}"))], "created": stamp(*created), "modified": stamp(*created)})
}

/// The files of meetings a signed-in reader may fetch: not internal, not infected, content kept.
async fn files(conn: &mut AsyncPgConnection, meetings: Option<&[Uuid]>, id: Option<Uuid>) -> ApiResult<Vec<FileRow>> {
    let mut query = attachments::table
        .filter(attachments::owner_kind.eq("committee_meeting"))
        .filter(attachments::internal.eq(false))
        .filter(attachments::content_deleted.eq(false))
        // As the download serves them: scanned clean, or not scanned (no scanner); never pending or infected.
        .filter(attachments::scan_state.eq_any(["clean", "not_scanned"]))
        .order(attachments::id)
        .select((
            attachments::id,
            attachments::owner_id,
            attachments::file_name,
            attachments::media_type,
            attachments::size_bytes,
            attachments::category,
            attachments::created_at,
        ))
        .into_boxed();
    if let Some(m) = meetings {
        query = query.filter(attachments::owner_id.eq_any(m.to_vec()));
    }
    if let Some(id) = id {
        query = query.filter(attachments::id.eq(id));
    }
    Ok(query.limit(crate::http::pagination::MAX_UNPAGED).load(conn).await?)
}

pub async fn file_one(conn: &mut AsyncPgConnection, urls: &Urls, id: Uuid) -> ApiResult<Value> {
    let rows = files(conn, None, Some(id)).await?;
    rows.as_slice().first().map(|f| file(urls, f)).ok_or(ApiError::NotFound)
}

/// A meeting with its agenda items; with `files` (those of its page's meetings, read once) its own files too.
fn meeting_object(urls: &Urls, files: Option<&[FileRow]>, m: MeetingRow) -> Value {
    let (id, committee, date, title, agenda, created, modified) = m;
    let items: Vec<Value> = agenda
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, item)| agenda_item(urls, id, i, item))
                .collect()
        })
        .unwrap_or_default();
    let mut out = json!({"id": urls.at(&format!("/meetings/{id}")), "type": kind("Meeting"), "name": title,
        "start": day_start(date), "organization": [urls.at(&format!("/organizations/{committee}"))],
        "agendaItem": items, "created": stamp(created), "modified": stamp(modified)});
    if let Some(all) = files {
        let files: Vec<&FileRow> = all.iter().filter(|f| f.1 == id).collect();
        if let Some(minutes) = files.iter().find(|f| f.5 == "protokoll") {
            out["resultsProtocol"] = file(urls, minutes);
        }
        out["auxiliaryFile"] = json!(
            files
                .iter()
                .filter(|f| f.5 != "protokoll")
                .map(|f| file(urls, f))
                .collect::<Vec<_>>()
        );
    }
    out
}

/// Meetings, newest first, of one committee or all.
pub async fn meetings(
    conn: &mut AsyncPgConnection,
    urls: &Urls,
    with_files: bool,
    committee: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> ApiResult<(Vec<Value>, i64)> {
    let mut count = committee_meetings::table.into_boxed();
    let mut query = committee_meetings::table.into_boxed();
    if let Some(c) = committee {
        count = count.filter(committee_meetings::committee_id.eq(c));
        query = query.filter(committee_meetings::committee_id.eq(c));
    }
    let total: i64 = count.count().get_result(conn).await?;
    let rows: Vec<MeetingRow> = query
        .order((committee_meetings::date.desc(), committee_meetings::id))
        .offset(offset)
        .limit(limit)
        .select(meeting_columns())
        .load(conn)
        .await?;
    // One query for the files of the page's meetings, not one per meeting.
    let files = if with_files {
        let ids: Vec<Uuid> = rows.iter().map(|m| m.0).collect();
        Some(files(conn, Some(&ids), None).await?)
    } else {
        None
    };
    let out = rows
        .into_iter()
        .map(|m| meeting_object(urls, files.as_deref(), m))
        .collect();
    Ok((out, total))
}

#[allow(clippy::type_complexity)] // diesel's column tuple, named once here
fn meeting_columns() -> (
    committee_meetings::id,
    committee_meetings::committee_id,
    committee_meetings::date,
    committee_meetings::title,
    committee_meetings::agenda,
    committee_meetings::created_at,
    committee_meetings::updated_at,
) {
    (
        committee_meetings::id,
        committee_meetings::committee_id,
        committee_meetings::date,
        committee_meetings::title,
        committee_meetings::agenda,
        committee_meetings::created_at,
        committee_meetings::updated_at,
    )
}

pub async fn meeting_one(conn: &mut AsyncPgConnection, urls: &Urls, with_files: bool, id: Uuid) -> ApiResult<Value> {
    let m: MeetingRow = committee_meetings::table
        .find(id)
        .select(meeting_columns())
        .first(conn)
        .await?;
    let files = if with_files {
        Some(files(conn, Some(&[id]), None).await?)
    } else {
        None
    };
    Ok(meeting_object(urls, files.as_deref(), m))
}

pub async fn agenda_item_one(
    conn: &mut AsyncPgConnection,
    urls: &Urls,
    meeting: Uuid,
    number: usize,
) -> ApiResult<Value> {
    let agenda: Value = committee_meetings::table
        .find(meeting)
        .select(committee_meetings::agenda)
        .first(conn)
        .await?;
    let item = number
        .checked_sub(1)
        .and_then(|i| agenda.get(i))
        .ok_or(ApiError::NotFound)?;
    Ok(agenda_item(urls, meeting, number - 1, item))
}

/// The referrals on some meeting's agenda are its papers (Vorlagen): their subject and day, nothing of their content
/// (a referral itself is read with the visibility of `/api/v1/referrals`).
async fn paper_rows(conn: &mut AsyncPgConnection, id: Option<Uuid>) -> ApiResult<Vec<(Uuid, String, DateTime<Utc>)>> {
    let on_agendas: Vec<Uuid> = diesel::sql_query(
        "SELECT DISTINCT (item ->> 'referralId')::uuid AS id FROM committee_meetings, jsonb_array_elements(agenda) item \
         WHERE item ->> 'referralId' IS NOT NULL",
    )
    .load::<PaperId>(conn)
    .await?
    .into_iter()
    .map(|p| p.id)
    .collect();
    let mut query = referrals::table
        .filter(referrals::id.eq_any(on_agendas))
        .order(referrals::id)
        .select((referrals::id, referrals::subject, referrals::created_at))
        .into_boxed();
    if let Some(id) = id {
        query = query.filter(referrals::id.eq(id));
    }
    Ok(query.limit(crate::http::pagination::MAX_UNPAGED).load(conn).await?)
}

#[derive(QueryableByName)]
struct PaperId {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

fn paper(urls: &Urls, (id, subject, created): &(Uuid, String, DateTime<Utc>)) -> Value {
    json!({"id": urls.at(&format!("/papers/{id}")), "type": kind("Paper"), "body": urls.body(), "name": subject,
        "reference": id.to_string(), "date": created.date_naive().to_string(), "paperType": "Vermittlung",
        "created": stamp(*created), "modified": stamp(*created)})
}

pub async fn papers(conn: &mut AsyncPgConnection, urls: &Urls) -> ApiResult<Vec<Value>> {
    Ok(paper_rows(conn, None).await?.iter().map(|p| paper(urls, p)).collect())
}

pub async fn paper_one(conn: &mut AsyncPgConnection, urls: &Urls, id: Uuid) -> ApiResult<Value> {
    paper_rows(conn, Some(id))
        .await?
        .as_slice()
        .first()
        .map(|p| paper(urls, p))
        .ok_or(ApiError::NotFound)
}

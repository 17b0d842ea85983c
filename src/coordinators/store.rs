//! Every SQL statement on the `coordinators` table: reads with the contact-field rule, the reference checks,
//! create, the PATCH step, erasure, and the audit record of each write in its transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{
    Coordinator, CoordinatorContact, CoordinatorInput, CoordinatorStatus, EmployerRef, KIND, ListCoordinators,
};
use crate::audit::history::{self, HistoryEntry};
use crate::audit::{self, Audience, Change};
use crate::core::identity::{Caller, Role};
use crate::db::schema::{applications, coordinators, organisations};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

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
    topics: Vec<String>,
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
        topics: r.topics,
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
async fn check(conn: &mut AsyncPgConnection, input: &CoordinatorInput, kept_topics: &[String]) -> ApiResult<Uuid> {
    let mut errors = Vec::new();
    match crate::vocabulary::check(conn, &input.topics, "/topics", kept_topics).await {
        Err(ApiError::Validation(unknown)) => errors.extend(unknown),
        other => other?,
    }
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

pub async fn insert(conn: &mut AsyncPgConnection, caller: &Caller, input: CoordinatorInput) -> ApiResult<Coordinator> {
    let employer = check(conn, &input, &[]).await?;
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
            coordinators::topics.eq(&input.topics),
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
        topics: r.topics.clone(),
    })
}

/// The one PATCH flow's step: the row under a lock, the expected version, the merged and validated state, the
/// references checked, the write and the audit.
pub async fn apply_patch(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    id: Uuid,
    expected: Expected,
    patch: serde_json::Value,
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
    let Some((input, mut changed)) = crate::http::patch::merged(&input_of(&current)?, &patch, &[])? else {
        return to_api(caller, find_row(conn, id).await?);
    };
    let employer = check(conn, &input, &current.topics).await?;
    // The employer may be given as AGS or id; compare what it resolves to.
    if employer == current.employer_id {
        changed.retain(|pointer| pointer != "/employer");
    }
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
            coordinators::topics.eq(&input.topics),
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
pub async fn erase_row(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<()> {
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
            // Fields of expertise describe the person.
            coordinators::topics.eq(Vec::<String>::new()),
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
        .changed(vec!["/name".into(), "/email".into(), "/phone".into(), "/topics".into()]);
    audit::record(conn, caller, change, &placeholder).await
}

type Boxed =
    diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<coordinators::table, organisations::table>, diesel::pg::Pg>;

/// The topic filter with its sub-topics.
async fn topic_codes(conn: &mut AsyncPgConnection, q: &ListCoordinators) -> ApiResult<Option<Vec<String>>> {
    Ok(match &q.topic {
        Some(t) => Some(crate::vocabulary::with_descendants(conn, t).await?),
        None => None,
    })
}

fn filtered(q: &ListCoordinators, topics: Option<Vec<String>>) -> Boxed {
    let mut query = coordinators::table.inner_join(organisations::table).into_boxed();
    if let Some(codes) = topics {
        query = query.filter(coordinators::topics.overlaps_with(codes));
    }
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

/// One page of coordinators after `after` in id order, each with its id for the cursor.
pub async fn page(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    q: &ListCoordinators,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<(Coordinator, Uuid)>> {
    let topics = topic_codes(conn, q).await?;
    let mut query = filtered(q, topics)
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

/// The number of all coordinators that match the list's filters.
pub async fn count(conn: &mut AsyncPgConnection, q: &ListCoordinators) -> ApiResult<i64> {
    let topics = topic_codes(conn, q).await?;
    Ok(filtered(q, topics).count().get_result(conn).await?)
}

/// One coordinator, contact fields as the caller may see them.
pub async fn get(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid) -> ApiResult<Coordinator> {
    to_api(caller, find_row(conn, id).await?)
}

/// A coordinator's history (the record must exist).
pub async fn history(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<Vec<HistoryEntry>> {
    find_row(conn, id).await?;
    history::list(conn, KIND, id).await
}

/// Every coordinator with expertise in topic `from` has it in `into` instead (a merge of topics), each with its
/// history entry and `coordinator.changed`, in the caller's transaction.
pub async fn replace_topic(conn: &mut AsyncPgConnection, caller: &Caller, from: &str, into: &str) -> ApiResult<()> {
    for id in crate::vocabulary::replace_in(conn, "coordinators", from, into).await? {
        let c = to_api(&Caller::system(), find_row(conn, id).await?)?;
        let change =
            Change::new(KIND, id, "update", "coordinator.changed", audience(&c)).changed(vec!["/topics".into()]);
        audit::record(conn, caller, change, &c).await?;
    }
    Ok(())
}

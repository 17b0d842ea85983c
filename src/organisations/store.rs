//! Every SQL statement on the `organisations` table: reads by id or AGS, the list, create, the PATCH step, and
//! the audit record of each write in its transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{CreateOrganisation, KIND, ListOrganisations, Organisation, PatchOrganisation};
use crate::audit::history::{self, HistoryEntry};
use crate::audit::{self, Audience, Change, record};
use crate::core::identity::Caller;
use crate::core::types::{is_district_ags, is_gemeinde_ags};
use crate::db::schema::{districts, organisations};
use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

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

/// One page of organisations after `after`, oldest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    q: &ListOrganisations,
    after: Option<Uuid>,
    limit: i64,
) -> ApiResult<Vec<Organisation>> {
    let mut query = filtered(q).select(OrgRow::as_select()).order(organisations::id.asc());
    if let Some(after) = after {
        query = query.filter(organisations::id.gt(after));
    }
    let rows: Vec<OrgRow> = query.limit(limit).load(conn).await?;
    rows.into_iter().map(Organisation::try_from).collect()
}

/// The number of all organisations that match the list's filters.
pub async fn count(conn: &mut AsyncPgConnection, q: &ListOrganisations) -> ApiResult<i64> {
    Ok(filtered(q).count().get_result::<i64>(conn).await?)
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
                MessageParams::format(Format::OrganisationKey),
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

/// A new organisation, recorded.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    body: CreateOrganisation,
) -> ApiResult<Organisation> {
    let org = Organisation::try_from(insert(conn, body).await?)?;
    let change = Change::new(KIND, org.id, "create", "organisation.created", Audience::everyone());
    record(conn, caller, change, &org).await?;
    Ok(org)
}

/// The one PATCH flow's step: the row under a lock, the expected version, the merged and validated state, the
/// write and the audit.
pub async fn apply_patch(
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

/// One organisation by its id or its AGS.
pub async fn get(conn: &mut AsyncPgConnection, key: &str) -> ApiResult<Organisation> {
    Organisation::try_from(find(conn, key).await?)
}

/// An organisation's history (the organisation must exist).
pub async fn history(conn: &mut AsyncPgConnection, key: &str) -> ApiResult<Vec<HistoryEntry>> {
    let org = find(conn, key).await?;
    history::list(conn, KIND, org.id).await
}

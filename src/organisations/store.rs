//! Every SQL statement on the `organisations` table: reads by id or AGS, the list, create, the PATCH step, the bank
//! details (their visibility, read, change and history), and the audit record of each write in its transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::bank_account::{self, BankAccount, BankAccountChanged, BankAccountInput};
use super::model::{CreateOrganisation, KIND, ListOrganisations, Organisation, PatchOrganisation, PostalAddress};
use crate::audit::history::{self, HistoryEntry};
use crate::audit::{self, Audience, Change, record};
use crate::core::identity::{Caller, Role};
use crate::core::types::{is_district_ags, is_gemeinde_ags};
use crate::db::schema::{districts, organisations};
use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Expected;

#[derive(Clone, Queryable, Selectable)]
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
    street: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
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
            postal_address: match (r.street, r.postal_code, r.city) {
                (Some(street), Some(code), Some(city)) => Some(PostalAddress {
                    street: Some(street),
                    postal_code: Some(code),
                    city: Some(city),
                }),
                _ => None,
            },
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
                organisations::street.eq(body.postal_address.as_ref().and_then(|a| a.street.clone())),
                organisations::postal_code.eq(body.postal_address.as_ref().and_then(|a| a.postal_code.clone())),
                organisations::city.eq(body.postal_address.as_ref().and_then(|a| a.city.clone())),
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
    let org = Organisation::try_from(current.clone())?;
    let editable = PatchOrganisation {
        name: Some(current.name.clone()),
        postal_address: org.postal_address,
    };
    let Some((next, changed)) = crate::http::patch::merged(&editable, &patch, &[])? else {
        return Organisation::try_from(current);
    };
    let row = diesel::update(organisations::table.find(current.id))
        .set((
            organisations::name.eq(next.name.unwrap_or(current.name)),
            organisations::street.eq(next.postal_address.as_ref().and_then(|a| a.street.clone())),
            organisations::postal_code.eq(next.postal_address.as_ref().and_then(|a| a.postal_code.clone())),
            organisations::city.eq(next.postal_address.as_ref().and_then(|a| a.city.clone())),
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = organisations)]
struct BankRow {
    id: Uuid,
    iban: Option<String>,
    account_holder: Option<String>,
    bank_account_version: i64,
    bank_account_updated_at: Option<DateTime<Utc>>,
}

impl From<BankRow> for BankAccount {
    fn from(r: BankRow) -> Self {
        Self {
            organisation_id: r.id,
            iban: r.iban,
            account_holder: r.account_holder,
            version: r.bank_account_version,
            updated_at: r.bank_account_updated_at,
        }
    }
}

/// Who sees an organisation's bank details: the ministry, and a municipality acting for that organisation. For
/// anyone else they do not exist (404, as another tenant's record); the handlers refuse the service unit's role
/// before (403), and this refuses it again.
fn bank_account_visible(caller: &Caller, organisation: Uuid) -> ApiResult<()> {
    let visible = match caller.role {
        Role::Ministry => true,
        Role::Municipality => caller.org.as_ref().is_some_and(|o| o.id == organisation),
        Role::ServiceUnit => false,
    };
    if visible { Ok(()) } else { Err(ApiError::NotFound) }
}

/// An organisation's bank details, if the caller may see them.
pub async fn bank_account(conn: &mut AsyncPgConnection, caller: &Caller, key: &str) -> ApiResult<BankAccount> {
    let org = find(conn, key).await?;
    bank_account_visible(caller, org.id)?;
    let row: BankRow = organisations::table
        .find(org.id)
        .select(BankRow::as_select())
        .first(conn)
        .await?;
    Ok(row.into())
}

/// The step of `PUT …/bank-account` (in the request's transaction): visibility, the row under a lock, the expected
/// version, the body checked as a whole, then — if anything differs — the write and its audit record. The event
/// names no bank field ([`BankAccountChanged`]).
pub async fn set_bank_account(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    key: &str,
    expected: Expected,
    body: serde_json::Value,
) -> ApiResult<BankAccount> {
    let org = find(conn, key).await?;
    bank_account_visible(caller, org.id)?;
    let current: BankRow = organisations::table
        .find(org.id)
        .select(BankRow::as_select())
        .for_update()
        .first(conn)
        .await?;
    expected.check(current.bank_account_version)?;
    let details = crate::http::extract::parse_value::<BankAccountInput>(body)?.details()?;
    let mut changed = Vec::new();
    if current.account_holder.as_deref() != Some(details.account_holder.as_str()) {
        changed.push("/accountHolder".to_owned());
    }
    if current.iban.as_deref() != Some(details.iban.as_str()) {
        changed.push("/iban".to_owned());
    }
    if changed.is_empty() {
        return Ok(current.into());
    }
    let row: BankRow = diesel::update(organisations::table.find(org.id))
        .set((
            organisations::iban.eq(details.iban.as_str()),
            organisations::account_holder.eq(&details.account_holder),
            organisations::bank_account_version.eq(current.bank_account_version + 1),
            organisations::bank_account_updated_at.eq(diesel::dsl::now),
        ))
        .returning(BankRow::as_returning())
        .get_result(conn)
        .await?;
    let account = BankAccount::from(row);
    let change = Change::new(
        bank_account::KIND,
        org.id,
        "update",
        "bank_account.changed",
        Audience::organisation(org.id),
    );
    record(
        conn,
        caller,
        change.changed(changed),
        &BankAccountChanged::from(&account),
    )
    .await?;
    Ok(account)
}

/// The history of an organisation's bank details, if the caller may see them.
pub async fn bank_account_history(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    key: &str,
) -> ApiResult<Vec<HistoryEntry>> {
    let org = find(conn, key).await?;
    bank_account_visible(caller, org.id)?;
    history::list(conn, bank_account::KIND, org.id).await
}

/// Whether the organisation has bank details on record (a payment order needs them; who may read them is not
/// the question here, so this answers only yes or no).
pub async fn has_bank_account(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<bool> {
    let iban: Option<String> = organisations::table
        .find(id)
        .select(organisations::iban)
        .first(conn)
        .await?;
    Ok(iban.is_some())
}

//! Every SQL statement on attachments: the metadata rows (the content is in the object store, `content.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::*;
use crate::audit::{self, Audience, Change, history};
use crate::core::identity::Caller;
use crate::db::schema::{applications, attachments};
use crate::error::{ApiError, ApiResult};

/// The owner of attachments, as resolved for one caller by the resource it is (`attachments::owner`).
#[derive(Debug, Clone)]
pub struct Owner {
    pub kind: OwnerKind,
    pub id: Uuid,
    /// The recipient or applicant organisation: whose files these are (none for a committee's meeting or a
    /// committee's referral).
    pub organisation_id: Option<Uuid>,
    /// The grant (application) the owner belongs to: its files share the grant's retention period.
    pub grant_id: Option<Uuid>,
    /// Who reads the owner, and so the events of its files that are not internal.
    pub audience: Audience,
    /// Still being written by its author: files may be added by the recipient and removed by their uploader.
    pub editable: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct Row {
    pub id: Uuid,
    pub owner_kind: String,
    pub owner_id: Uuid,
    pub organisation_id: Option<Uuid>,
    pub category: String,
    pub receipt_index: Option<i32>,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub scan_state: String,
    pub content_deleted: bool,
    pub internal: bool,
    pub uploaded_by: String,
    pub retain_until: Option<NaiveDate>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub grant_id: Option<Uuid>,
}

pub fn to_api(r: Row) -> ApiResult<Attachment> {
    Ok(Attachment {
        id: r.id,
        owner_kind: r.owner_kind.parse().map_err(ApiError::internal)?,
        owner_id: r.owner_id,
        category: r.category,
        receipt_index: r.receipt_index,
        file_name: r.file_name,
        media_type: r.media_type,
        size_bytes: r.size_bytes,
        sha256: r.sha256,
        scan_state: r.scan_state.parse().map_err(ApiError::internal)?,
        internal: r.internal,
        uploaded_by: r.uploaded_by,
        retain_until: r.retain_until,
        href: (!r.content_deleted).then(|| format!("/api/v1/attachments/{}/content", r.id)),
        version: r.version,
        created_at: r.created_at,
    })
}

/// Who may see an attachment's event: an internal one only staff, else whoever reads its owner.
pub fn audience(owner: &Audience, internal: bool) -> Audience {
    if internal { Audience::staff() } else { owner.clone() }
}

/// One attachment's row; internal ones are not found for a municipality.
pub async fn row(conn: &mut AsyncPgConnection, caller: &Caller, id: Uuid, lock: bool) -> ApiResult<Row> {
    let mut query = attachments::table.find(id).select(Row::as_select()).into_boxed();
    if caller.confined_to()?.is_some() {
        query = query.filter(attachments::internal.eq(false));
    }
    if lock {
        attachments::table
            .find(id)
            .select(attachments::id)
            .for_update()
            .first::<Uuid>(conn)
            .await
            .optional()?;
    }
    Ok(query.first(conn).await?)
}

/// One attachment's row whatever its visibility (the caller has checked the owner's), if it exists.
pub async fn row_unchecked(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<Option<Row>> {
    Ok(attachments::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The owner's attachments the caller may see, oldest first.
pub async fn list(conn: &mut AsyncPgConnection, caller: &Caller, owner: &Owner) -> ApiResult<Vec<Attachment>> {
    let mut query = attachments::table
        .filter(attachments::owner_kind.eq(owner.kind.as_str()))
        .filter(attachments::owner_id.eq(owner.id))
        .select(Row::as_select())
        .order(attachments::id)
        .into_boxed();
    if caller.confined_to()?.is_some() {
        query = query.filter(attachments::internal.eq(false));
    }
    query.load::<Row>(conn).await?.into_iter().map(to_api).collect()
}

/// Σ of the sizes of the owner's files, for the per-resource limit.
pub async fn total_size(conn: &mut AsyncPgConnection, owner: &Owner) -> ApiResult<i64> {
    // Summed in PostgreSQL: one row back, however many files the owner has.
    Ok(attachments::table
        .filter(attachments::owner_kind.eq(owner.kind.as_str()))
        .filter(attachments::owner_id.eq(owner.id))
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "coalesce(sum(size_bytes), 0)::bigint",
        ))
        .first(conn)
        .await?)
}

/// What an upload adds.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: Uuid,
    pub category: String,
    pub receipt_index: Option<i32>,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub scan_state: ScanState,
    pub internal: bool,
}

/// Records an uploaded file (its content is stored already) with its history entry and event.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    owner: &Owner,
    new: NewAttachment,
) -> ApiResult<Attachment> {
    // A file added to a settled grant (a recovery claim's) is kept as long as the grant's other files.
    let retain_until: Option<NaiveDate> = match owner.grant_id {
        // Under a share lock: a settlement confirmed meanwhile (it updates this row) waits for this file, or this
        // file for it, so no file of a settled grant is left without its date.
        Some(grant) => applications::table
            .find(grant)
            .select(applications::retain_files_until)
            .for_share()
            .first(conn)
            .await
            .optional()?
            .flatten(),
        None => None,
    };
    let row: Row = diesel::insert_into(attachments::table)
        .values((
            attachments::id.eq(new.id),
            attachments::owner_kind.eq(owner.kind.as_str()),
            attachments::owner_id.eq(owner.id),
            attachments::organisation_id.eq(owner.organisation_id),
            attachments::grant_id.eq(owner.grant_id),
            attachments::retain_until.eq(retain_until),
            attachments::category.eq(&new.category),
            attachments::receipt_index.eq(new.receipt_index),
            attachments::file_name.eq(&new.file_name),
            attachments::media_type.eq(&new.media_type),
            attachments::size_bytes.eq(new.size),
            attachments::sha256.eq(&new.sha256),
            attachments::storage_key.eq(&new.storage_key),
            attachments::scan_state.eq(new.scan_state.as_str()),
            attachments::internal.eq(new.internal),
            attachments::uploaded_by.eq(&caller.sub),
            attachments::uploader_role.eq(caller.role.as_str()),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    let attachment = to_api(row)?;
    let change = Change::new(
        KIND,
        new.id,
        "create",
        "attachment.added",
        audience(&owner.audience, new.internal),
    );
    audit::record(conn, caller, change, &attachment).await?;
    Ok(attachment)
}

/// Removes an attachment's row, with its history entry and event to whoever reads its owner (the content goes after
/// the commit).
pub async fn delete(conn: &mut AsyncPgConnection, caller: &Caller, row: &Row, owner: &Audience) -> ApiResult<()> {
    diesel::delete(attachments::table.find(row.id)).execute(conn).await?;
    let attachment = to_api(row.clone())?;
    let change = Change::new(
        KIND,
        row.id,
        "delete",
        "attachment.deleted",
        audience(owner, row.internal),
    );
    audit::record(conn, caller, change, &attachment).await?;
    Ok(())
}

/// The oldest file waiting for the scanner, locked; files another instance is scanning are skipped.
pub async fn next_pending(conn: &mut AsyncPgConnection) -> ApiResult<Option<Row>> {
    Ok(attachments::table
        .filter(attachments::scan_state.eq(ScanState::Pending.as_str()))
        .order(attachments::id)
        .select(Row::as_select())
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()?)
}

/// Records a scan's verdict with its history entry and event (`attachment.scanned`, or `attachment.infected`, whose
/// content is deleted).
pub async fn record_scan(
    conn: &mut AsyncPgConnection,
    row: &Row,
    verdict: &crate::clamav::Verdict,
    owner: &Audience,
) -> ApiResult<()> {
    let (state, event, deleted) = match verdict {
        crate::clamav::Verdict::Clean => (ScanState::Clean, "attachment.scanned", false),
        crate::clamav::Verdict::Infected(_) => (ScanState::Infected, "attachment.infected", true),
    };
    let updated: Row = diesel::update(attachments::table.find(row.id))
        .set((
            attachments::scan_state.eq(state.as_str()),
            attachments::content_deleted.eq(deleted),
            attachments::version.eq(row.version + 1),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    let attachment = to_api(updated)?;
    let change =
        Change::new(KIND, row.id, "scan", event, audience(owner, row.internal)).states(Some(ScanState::Pending), state);
    audit::record(conn, &Caller::system(), change, &attachment).await?;
    Ok(())
}

pub async fn history(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<Vec<history::HistoryEntry>> {
    history::list(conn, KIND, id).await
}

/// The grant's retention (Aufbewahrungsfrist), in the settlement's transaction: its files are kept until `until`,
/// each with its history entry and `attachment.retained` event (to the recipient, or staff for an internal file),
/// and so are files added to it later. Returns how many files it now covers.
pub async fn retain(conn: &mut AsyncPgConnection, caller: &Caller, grant: Uuid, until: NaiveDate) -> ApiResult<usize> {
    let recipient: Option<Uuid> = diesel::update(applications::table.find(grant))
        .set(applications::retain_files_until.eq(until))
        .returning(applications::organisation_id)
        .get_result(conn)
        .await
        .optional()?;
    let rows: Vec<Row> = diesel::update(attachments::table.filter(attachments::grant_id.eq(grant)))
        .set((
            attachments::retain_until.eq(until),
            attachments::version.eq(attachments::version + 1),
        ))
        .returning(Row::as_returning())
        .load(conn)
        .await?;
    let readers = recipient.map_or_else(Audience::staff, Audience::organisation);
    for row in &rows {
        let attachment = to_api(row.clone())?;
        let change = Change::new(
            KIND,
            row.id,
            "retain",
            "attachment.retained",
            audience(&readers, row.internal),
        )
        .changed(vec!["/retainUntil".into()]);
        audit::record(conn, caller, change, &attachment).await?;
    }
    Ok(rows.len())
}

/// Deletes every file of one owner (a coordinator whose personal data is erased, a deleted committee's meeting, a
/// discarded draft notice), each with its history entry and event, in the caller's transaction. Returns the storage keys, whose content the caller removes after the commit.
pub async fn delete_all_of(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    kind: OwnerKind,
    owner: Uuid,
    readers: &Audience,
) -> ApiResult<Vec<String>> {
    let rows: Vec<Row> = attachments::table
        .filter(attachments::owner_kind.eq(kind.as_str()))
        .filter(attachments::owner_id.eq(owner))
        .select(Row::as_select())
        .for_update()
        .load(conn)
        .await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        // A file name may name the person: the feed's earlier events of the file and its deletion event carry a
        // placeholder instead.
        let anonymous = Row {
            file_name: "erased".into(),
            ..row.clone()
        };
        audit::erase(conn, KIND, row.id, &to_api(anonymous.clone())?).await?;
        delete(conn, caller, &anonymous, readers).await?;
        keys.push(row.storage_key);
    }
    Ok(keys)
}

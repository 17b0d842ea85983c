//! Documents the service writes itself (the issued notice's letter): kept like an upload — content in the object
//! store, its record with history and event in the caller's transaction — but not scanned (the service's own output)
//! and under an id derived from what it documents, so a retried request writes the same object.

use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::content;
use super::model::{Attachment, OwnerKind, ScanState};
use super::store::{self, NewAttachment, Owner};
use crate::core::identity::Caller;
use crate::db::schema::attachments;
use crate::error::ApiResult;

/// A document to keep on its owner.
pub struct Generated {
    pub id: Uuid,
    pub owner_kind: OwnerKind,
    pub owner_id: Uuid,
    pub organisation_id: Uuid,
    /// The grant the document belongs to.
    pub grant_id: Uuid,
    pub category: &'static str,
    pub file_name: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Stores the content and records it (history entry `create`, event `attachment.added`) in the caller's
/// transaction. Should that transaction fail, [`discard_unrecorded`] removes the content again.
pub async fn keep(
    conn: &mut AsyncPgConnection,
    storage: &Arc<dyn ObjectStore>,
    caller: &Caller,
    doc: Generated,
) -> ApiResult<Attachment> {
    let key = content::key(doc.id);
    let sha256 = hex::encode(Sha256::digest(&doc.bytes));
    let size = i64::try_from(doc.bytes.len()).unwrap_or(i64::MAX);
    storage
        .put(&key, PutPayload::from(doc.bytes))
        .await
        .map_err(content::storage_error)?;
    let owner = Owner {
        kind: doc.owner_kind,
        id: doc.owner_id,
        organisation_id: Some(doc.organisation_id),
        grant_id: Some(doc.grant_id),
        audience: crate::audit::Audience::organisation(doc.organisation_id),
        editable: false,
    };
    let new = NewAttachment {
        id: doc.id,
        category: doc.category.to_owned(),
        receipt_index: None,
        file_name: content::sanitise_file_name(&doc.file_name),
        media_type: doc.media_type.to_owned(),
        size,
        sha256,
        storage_key: key.to_string(),
        scan_state: ScanState::Clean,
        internal: false,
    };
    store::insert(conn, caller, &owner, new).await
}

/// Removes a generated document's content when no record names it (its transaction was rolled back).
pub async fn discard_unrecorded(
    conn: &mut AsyncPgConnection,
    storage: &Arc<dyn ObjectStore>,
    id: Uuid,
) -> ApiResult<()> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let recorded: i64 = attachments::table.find(id).count().get_result(conn).await?;
    if recorded == 0 {
        content::remove(storage, &content::key(id)).await?;
    }
    Ok(())
}

/// The content of a kept document, whole (a letter of some ten kilobytes), or `None` when none was kept.
pub async fn read(
    conn: &mut AsyncPgConnection,
    storage: &Arc<dyn ObjectStore>,
    id: Uuid,
) -> ApiResult<Option<(Attachment, bytes::Bytes)>> {
    let Some(row) = store::row_unchecked(conn, id).await? else {
        return Ok(None);
    };
    if row.content_deleted {
        return Ok(None);
    }
    let found = storage
        .get(&content::at(&row.storage_key))
        .await
        .map_err(content::storage_error)?;
    let bytes = found.bytes().await.map_err(content::storage_error)?;
    Ok(Some((store::to_api(row)?, bytes)))
}

//! Virus scanning with ClamAV: a file uploaded while a scanner is configured (`VERSORGUNG_CLAMAV`) waits as
//! `pending`; a job in every instance takes pending files one at a time (`FOR UPDATE SKIP LOCKED`, so instances
//! never scan the same file twice at once), streams each from the object store to clamd (INSTREAM, through the
//! `clamav-client` crate) and records `clean`, or `infected` with the content deleted and the record kept.

use std::sync::Arc;

use actix_web::web;
use futures_util::TryStreamExt;
use object_store::ObjectStore;

use crate::clamav::{Scanner, Verdict};
use crate::db::Connection;
use crate::error::{ApiError, ApiResult};
use crate::files::content;
use crate::files::store;
use crate::state::AppState;

/// One round: scans the pending files one at a time until none is left; returns how many were decided. A
/// scanner error ends the round (the file stays pending and is tried again in the next one).
pub async fn scan_pending(
    conn: &mut Connection,
    storage: &Arc<dyn ObjectStore>,
    scanner: &Scanner,
) -> ApiResult<usize> {
    let mut decided = 0;
    loop {
        let done = crate::db::transaction(conn, async |conn| {
            let Some(row) = store::next_pending(conn).await? else {
                return Ok(false);
            };
            let key = content::at(&row.storage_key);
            let verdict = match content::open(storage, &key).await {
                Ok(stream) => scanner
                    .scan(stream.map_err(std::io::Error::other))
                    .await
                    .map_err(|e| ApiError::Unavailable(format!("virus scanner: {e}")))?,
                // The content is gone (a crash between deleting it and recording why): nothing to serve anyway.
                Err(ApiError::NotFound) => Verdict::Infected("content missing".into()),
                Err(e) => return Err(e),
            };
            if let Verdict::Infected(name) = &verdict {
                log::warn!("attachment {}: {name} found; content deleted", row.id);
                content::remove(storage, &key).await?;
            }
            // The verdict's event goes to whoever reads the file's owner.
            let kind = row.owner_kind.parse().map_err(ApiError::internal)?;
            let owner = super::owner::resolve(
                conn,
                &crate::core::identity::Caller::system(),
                kind,
                row.owner_id,
                false,
            )
            .await?;
            store::record_scan(conn, &row, &verdict, &owner.audience).await?;
            Ok(true)
        })
        .await?;
        if !done {
            return Ok(decided);
        }
        decided += 1;
    }
}

/// Starts the scanning job of an instance when a scanner is configured: a round per interval.
pub fn spawn(state: web::Data<AppState>) {
    let Some(scanner) = state.scanner.clone() else {
        return;
    };
    actix_web::rt::spawn(async move {
        loop {
            let round = async {
                let mut conn = crate::db::conn(&state.pool).await?;
                scan_pending(&mut conn, &state.storage, &scanner).await
            };
            match round.await {
                Ok(0) => {}
                Ok(n) => log::info!("attachments: {n} scanned"),
                Err(e) => log::warn!("attachments: scan round failed: {e}"),
            }
            actix_web::rt::time::sleep(state.attachments.scan_interval).await;
        }
    });
}

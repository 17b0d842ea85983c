//! The content of attachments in the object store: received as a stream (hashed, counted and its media type read
//! from the magic bytes on the way, never held whole in memory) and served as a stream.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};

use super::model::ALLOWED_MEDIA_TYPES;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};

/// How many leading bytes decide the media type (zip-based formats name their kind in the first entries).
const SNIFF_BYTES: usize = 8 * 1024;
/// The part size of a multipart write: S3 needs at least 5 MiB per part; memory stays at about one part.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// What was received.
#[derive(Debug, Clone)]
pub struct Received {
    pub size: i64,
    pub sha256: String,
    pub media_type: String,
}

/// The object-store key of an attachment's content.
pub fn key(id: uuid::Uuid) -> Path {
    Path::from(format!("attachments/{id}"))
}

/// The object-store path of a stored key (the record keeps the key it was stored under).
pub fn at(stored: &str) -> Path {
    Path::from(stored)
}

/// The media type the content's first bytes show, if it is one of the allowed ones. Text has no magic bytes: valid
/// UTF-8 without NUL counts as text (plain or CSV, as declared).
pub fn sniff(head: &[u8], declared: &str) -> Option<&'static str> {
    if let Some(kind) = infer::get(head) {
        return ALLOWED_MEDIA_TYPES.iter().copied().find(|t| *t == kind.mime_type());
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // The head may end inside a multibyte character; only an error before the last three bytes is one.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    if text && !head.contains(&0) {
        return ["text/csv", "text/plain"]
            .into_iter()
            .find(|t| *t == declared)
            .or(Some("text/plain"));
    }
    None
}

/// The declared media type without parameters, lower case (`text/csv; charset=utf-8` → `text/csv`).
pub fn essence(declared: &str) -> String {
    declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Streams `body` into the store under `key`: at most `limit` bytes (413 beyond), a media type that the magic bytes
/// confirm and the allow-list holds (415 for a type not allowed, 422 `media_type_mismatch` when the content is
/// something else than declared, `empty` for no content). On any failure nothing stays in the store.
pub async fn receive<S, E>(
    store: &Arc<dyn ObjectStore>,
    key: &Path,
    declared: &str,
    limit: u64,
    body: S,
) -> ApiResult<Received>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let declared = essence(declared);
    if !ALLOWED_MEDIA_TYPES.contains(&declared.as_str()) {
        return Err(ApiError::UnsupportedMediaType {
            expected: "PDF, PNG, JPEG, ODF, OOXML, CSV or plain text",
        });
    }
    let upload = store.put_multipart(key).await.map_err(storage_error)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    match stream_into(&mut writer, &declared, limit, body).await {
        Ok(received) => match writer.finish().await {
            Ok(_) => Ok(received),
            Err(e) => {
                let _ = store.delete(key).await;
                Err(storage_error(e))
            }
        },
        Err(e) => {
            let _ = writer.abort().await;
            let _ = store.delete(key).await;
            Err(e)
        }
    }
}

async fn stream_into<S, E>(writer: &mut WriteMultipart, declared: &str, limit: u64, mut body: S) -> ApiResult<Received>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut media_type: Option<&'static str> = None;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(vec![body_error(e)]))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(ApiError::PayloadTooLarge {
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            });
        }
        hasher.update(&chunk);
        if media_type.is_none() {
            let wanted = SNIFF_BYTES - head.len();
            head.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
            if head.len() < SNIFF_BYTES {
                continue;
            }
            media_type = Some(confirm(&head, declared)?);
            writer.write(&head);
            writer.write(&chunk[chunk.len().min(wanted)..]);
            writer.wait_for_capacity(2).await.map_err(storage_error)?;
            continue;
        }
        writer.write(&chunk);
        // Back-pressure: at most two parts in flight, so memory does not grow with the file.
        writer.wait_for_capacity(2).await.map_err(storage_error)?;
    }
    if size == 0 {
        return Err(ApiError::Validation(vec![FieldError::new(
            "/body",
            "empty",
            MessageParams::default(),
        )]));
    }
    let media_type = match media_type {
        Some(t) => t,
        None => {
            let t = confirm(&head, declared)?;
            writer.write(&head);
            t
        }
    };
    Ok(Received {
        size: i64::try_from(size).map_err(ApiError::internal)?,
        sha256: hex::encode(hasher.finalize()),
        media_type: media_type.to_owned(),
    })
}

fn confirm(head: &[u8], declared: &str) -> ApiResult<&'static str> {
    match sniff(head, declared) {
        Some(found) if found == declared => Ok(found),
        found => Err(ApiError::Validation(vec![FieldError::new(
            "/header/Content-Type",
            "media_type_mismatch",
            MessageParams::detail(found.unwrap_or("unknown")),
        )])),
    }
}

fn body_error(e: impl std::fmt::Display) -> FieldError {
    FieldError::new("/body", "invalid_format", MessageParams::detail(e.to_string()))
}

/// A failure of the object store: the service cannot keep files just now (503, logged; never the cause shown).
pub fn storage_error(e: object_store::Error) -> ApiError {
    ApiError::Unavailable(format!("object store: {e}"))
}

/// The content as a stream of chunks, for a download.
pub async fn open(
    store: &Arc<dyn ObjectStore>,
    key: &Path,
) -> ApiResult<impl Stream<Item = Result<Bytes, object_store::Error>> + use<>> {
    let found = store.get(key).await.map_err(|e| match e {
        object_store::Error::NotFound { .. } => ApiError::NotFound,
        other => storage_error(other),
    })?;
    Ok(found.into_stream())
}

/// Removes the content (a deleted or infected attachment); a missing object is fine.
pub async fn remove(store: &Arc<dyn ObjectStore>, key: &Path) -> ApiResult<()> {
    match store.delete(key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(storage_error(e)),
    }
}

/// Removes the content of records deleted in a committed transaction; a failure is logged (the records are gone, so
/// the content is never served again) and leaves an unreferenced object for the operator.
pub async fn remove_after_commit(store: &Arc<dyn ObjectStore>, keys: &[String]) {
    for key in keys {
        if let Err(e) = remove(store, &at(key)).await {
            log::warn!("stored content {key} not removed after its record was deleted: {e}");
        }
    }
}

/// A file name as it may be stored and sent back: the last path segment only, without control characters,
/// direction overrides or leading/trailing dots and blanks, at most 255 characters; `datei` when nothing is left.
pub fn sanitise_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .filter(
            |c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'),
        )
        .collect();
    let trimmed: String = cleaned
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .chars()
        .take(255)
        .collect();
    if trimmed.is_empty() {
        "datei".to_owned()
    } else {
        trimmed
    }
}

/// `Content-Disposition: attachment` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 8187).
pub fn disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_controls_and_direction_overrides() {
        assert_eq!(sanitise_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_file_name("C:\\Users\\a\\Kostenplan.pdf"), "Kostenplan.pdf");
        assert_eq!(sanitise_file_name("rechnung\u{202E}fdp.exe"), "rechnungfdp.exe");
        assert_eq!(sanitise_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(sanitise_file_name(".."), "datei");
        assert_eq!(sanitise_file_name(" .versteckt "), "versteckt");
        assert_eq!(sanitise_file_name(&"x".repeat(300)).len(), 255);
    }

    #[test]
    fn the_magic_bytes_decide_the_type() {
        assert_eq!(sniff(b"%PDF-1.7\n", "application/pdf"), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"), Some("image/png"));
        assert_eq!(sniff(b"Jahr;Betrag\n2027;100\n", "text/csv"), Some("text/csv"));
        assert_eq!(sniff(b"Jahr;Betrag\n", "application/pdf"), Some("text/plain"));
        assert_eq!(
            sniff(b"MZ\x90\0\x03\0\0\0", "application/pdf"),
            None,
            "an executable is no allowed type"
        );
        assert_eq!(sniff(b"a\0b", "text/plain"), None);
    }

    #[test]
    fn the_download_name_is_ascii_with_the_utf8_name_beside_it() {
        assert_eq!(
            disposition("Kostenplan Ärzte \"2027\".pdf"),
            "attachment; filename=\"Kostenplan _rzte _2027_.pdf\"; \
             filename*=UTF-8''Kostenplan%20%C3%84rzte%20%222027%22.pdf"
        );
    }
}

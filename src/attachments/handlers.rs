//! The attachment handlers: role gate, the upload (raw body or multipart form) streamed into the store, lists,
//! metadata, the streamed download and deletion.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use futures_util::{StreamExt, TryStreamExt};
use uuid::Uuid;

use super::owner::{self, Owner};
use crate::audit::history::HistoryEntry;
use crate::core::identity::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::files::content::{self, Received};
use crate::files::model::{Attachment, Attachments, FileBody, OwnerKind, ScanState, UploadForm, UploadParams};
use crate::files::store::{self, NewAttachment};
use crate::http::extract::{NoParams, Query, etag, ok_with_etag};
use crate::http::openapi::{BadRequest, Conflict, Forbidden};
use crate::state::AppState;

/// The longest text field of a multipart upload (category, internal, receiptIndex).
const FIELD_BYTES: usize = 1024;

/// What an upload says about its file, checked against the owner: a category of its kind, `internal` only from
/// staff, a receipt line only on a proof of use.
fn check(caller: &Caller, kind: OwnerKind, params: &UploadParams) -> ApiResult<()> {
    let mut errors = Vec::new();
    match params.category.as_deref() {
        None => errors.push(FieldError::new("/category", "required", MessageParams::default())),
        Some(c) if !kind.categories().contains(&c) => errors.push(FieldError::new(
            "/category",
            "invalid_value",
            MessageParams::allowed(kind.categories().join(", ")),
        )),
        Some(_) => {}
    }
    if params.internal == Some(true) && caller.role == Role::Municipality {
        errors.push(FieldError::new(
            "/internal",
            "not_allowed",
            MessageParams::detail(caller.role.as_str()),
        ));
    }
    match params.receipt_index {
        Some(_) if kind != OwnerKind::ProofOfUse => errors.push(FieldError::new(
            "/receiptIndex",
            "not_allowed",
            MessageParams::detail(kind),
        )),
        Some(i) if !(0..=9999).contains(&i) => errors.push(FieldError::new(
            "/receiptIndex",
            "out_of_range",
            MessageParams::range(0, 9999),
        )),
        _ => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Who adds files comes from the owner kind ([`OwnerKind::uploaders`]); a municipality only to its own organisation's
/// resources and while they are its own to write (409 `attachments_closed` after); staff at any time, except to an
/// owner that closes for them too (an erased coordinator).
fn may_upload(caller: &Caller, owner: &Owner) -> ApiResult<()> {
    caller.require(owner.kind.uploaders())?;
    // A municipality adds files to its own organisation's resources only (a referral forwarded to its district is
    // read, not added to).
    if caller.role == Role::Municipality && owner.organisation_id != caller.org.as_ref().map(|o| o.id) {
        return Err(ApiError::Forbidden);
    }
    if !owner.editable && (caller.role == Role::Municipality || owner.kind.closes_for_staff()) {
        return Err(ApiError::conflict(
            "attachments_closed",
            MessageParams::detail(owner.kind),
        ));
    }
    Ok(())
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| content::essence(v) == "multipart/form-data")
}

/// Receives the upload into the store under a new id: the raw body as declared by `Content-Type`, or the `file`
/// part of a multipart form with its fields. Returns the id, what was received and the description.
async fn receive(
    state: &AppState,
    req: &HttpRequest,
    params: UploadParams,
    payload: web::Payload,
) -> ApiResult<(Uuid, Received, UploadParams)> {
    let id = Uuid::now_v7();
    let key = content::key(id);
    let limit = state.attachments.max_bytes;
    if !is_multipart(req) {
        let declared = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if params.file_name.is_none() {
            return Err(ApiError::Validation(vec![FieldError::new(
                "/query/fileName",
                "required",
                MessageParams::default(),
            )]));
        }
        let received = content::receive(&state.storage, &key, &declared, limit, payload).await?;
        return Ok((id, received, params));
    }
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    let mut params = UploadParams {
        file_name: None,
        ..params
    };
    let mut received = None;
    let malformed = |e: actix_multipart::MultipartError| {
        ApiError::BadRequest(vec![FieldError::new(
            "/body",
            "invalid_format",
            MessageParams::detail(e.to_string()),
        )])
    };
    let outcome: ApiResult<()> = async {
        while let Some(field) = form.next().await {
            let mut field = field.map_err(malformed)?;
            let name = field.name().unwrap_or("").to_owned();
            if name == "file" {
                if received.is_some() {
                    return Err(ApiError::Validation(vec![FieldError::new(
                        "/file",
                        "duplicate",
                        MessageParams::default(),
                    )]));
                }
                params.file_name = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(str::to_owned);
                let declared = field
                    .content_type()
                    .map(|m| m.essence_str().to_owned())
                    .unwrap_or_default();
                received = Some(content::receive(&state.storage, &key, &declared, limit, &mut field).await?);
                continue;
            }
            let mut value = Vec::new();
            while let Some(chunk) = field.try_next().await.map_err(malformed)? {
                value.extend_from_slice(&chunk);
                if value.len() > FIELD_BYTES {
                    return Err(ApiError::BadRequest(vec![FieldError::new(
                        format!("/{name}"),
                        "too_long",
                        MessageParams::max(FIELD_BYTES),
                    )]));
                }
            }
            let value = String::from_utf8(value).map_err(|_| {
                ApiError::BadRequest(vec![FieldError::new(
                    format!("/{name}"),
                    "invalid_format",
                    MessageParams::default(),
                )])
            })?;
            // A browser's form sends the fields left empty as well, and the document lets the optional ones be
            // null: an empty or `null` field is one not given.
            if value.is_empty() || value == "null" {
                continue;
            }
            let bad = |code: &str| {
                ApiError::BadRequest(vec![FieldError::new(
                    format!("/{name}"),
                    code,
                    MessageParams::default(),
                )])
            };
            match name.as_str() {
                "category" => params.category = Some(value),
                "internal" => params.internal = Some(value.parse().map_err(|_| bad("invalid_type"))?),
                "receiptIndex" => params.receipt_index = Some(value.parse().map_err(|_| bad("invalid_type"))?),
                _ => return Err(bad("unknown_field")),
            }
        }
        Ok(())
    }
    .await;
    match (outcome, received) {
        (Ok(()), Some(received)) => Ok((id, received, params)),
        (Ok(()), None) => Err(ApiError::Validation(vec![FieldError::new(
            "/file",
            "required",
            MessageParams::default(),
        )])),
        (Err(e), _) => {
            content::remove(&state.storage, &key).await?;
            Err(e)
        }
    }
}

/// The upload: checks, the content into the store, then its record in one transaction with the owner locked
/// (the per-resource limit and the owner's state checked again there). A failure leaves nothing behind.
pub(super) async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    kind: OwnerKind,
    id: Uuid,
    params: UploadParams,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    // The owner first (404, 403, 409 before a single byte is stored), without holding a connection while the body
    // streams in.
    {
        let mut conn = crate::db::conn(&state.pool).await?;
        let owner = owner::resolve(&mut conn, &caller, kind, id, false).await?;
        may_upload(&caller, &owner)?;
    }
    if !is_multipart(&req) {
        check(&caller, kind, &params)?;
    }
    let (attachment_id, received, params) = receive(&state, &req, params, payload).await?;
    let key = content::key(attachment_id);
    let recorded = async {
        check(&caller, kind, &params)?;
        let mut conn = crate::db::conn(&state.pool).await?;
        crate::db::transaction(&mut conn, async |conn| {
            let owner = owner::resolve(conn, &caller, kind, id, true).await?;
            may_upload(&caller, &owner)?;
            let total = store::total_size(conn, &owner).await?;
            if u64::try_from(total + received.size).unwrap_or(u64::MAX) > state.attachments.max_total_bytes {
                return Err(ApiError::PayloadTooLarge {
                    limit: usize::try_from(state.attachments.max_total_bytes).unwrap_or(usize::MAX),
                });
            }
            let new = NewAttachment {
                id: attachment_id,
                category: params.category.clone().unwrap_or_default(),
                receipt_index: params.receipt_index,
                file_name: content::sanitise_file_name(params.file_name.as_deref().unwrap_or("")),
                media_type: received.media_type.clone(),
                size: received.size,
                sha256: received.sha256.clone(),
                storage_key: key.to_string(),
                scan_state: if state.scanner.is_some() {
                    ScanState::Pending
                } else {
                    ScanState::NotScanned
                },
                internal: params.internal.unwrap_or(false) || kind.always_internal(),
            };
            store::insert(conn, &caller, &owner, new).await
        })
        .await
    }
    .await;
    match recorded {
        Ok(a) => Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/attachments/{}", a.id)))
            .insert_header((header::ETAG, etag(a.version)))
            .json(a)),
        Err(e) => {
            content::remove(&state.storage, &key).await?;
            Err(e)
        }
    }
}

pub(super) async fn list_of(
    state: web::Data<AppState>,
    caller: Caller,
    kind: OwnerKind,
    id: Uuid,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let owner = owner::resolve(&mut conn, &caller, kind, id, false).await?;
    let items = store::list(&mut conn, &caller, &owner).await?;
    Ok(HttpResponse::Ok().json(Attachments { items }))
}

/// The attachment as the caller may see it: its owner visible to the caller, an internal one only to staff.
async fn visible(
    conn: &mut crate::db::Connection,
    caller: &Caller,
    id: Uuid,
    lock: bool,
) -> ApiResult<(store::Row, Owner)> {
    let row = store::row(conn, caller, id, lock).await?;
    let kind: OwnerKind = row.owner_kind.parse().map_err(ApiError::internal)?;
    let owner = owner::resolve(conn, caller, kind, row.owner_id, lock).await?;
    Ok((row, owner))
}

/// Get an attachment's description
///
/// **Roles:** every authenticated role that may see its owner (a municipality: its own organisation's, never an
/// internal one).
#[utoipa::path(
    tag = "Attachments",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The attachment's description", body = Attachment, headers(("ETag" = String))),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/attachments/{id}")]
pub(super) async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let (row, _) = visible(&mut conn, &caller, *id, false).await?;
    let a = store::to_api(row)?;
    Ok(ok_with_etag(a.version, &a))
}

/// Download an attachment
///
/// Streams the content with its stored media type, `Content-Disposition: attachment` and `nosniff`. 409
/// `content_unavailable` for a file found infected (its content is deleted), still being scanned, or not scanned
/// where the service requires a scan.
///
/// **Roles:** every authenticated role that may see its owner (a municipality: its own organisation's, never an
/// internal one).
#[utoipa::path(
    tag = "Attachments",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The content, with its stored media type", content(
            (FileBody = "application/pdf"), (FileBody = "image/png"), (FileBody = "image/jpeg"),
            (FileBody = "application/vnd.oasis.opendocument.text"),
            (FileBody = "application/vnd.oasis.opendocument.spreadsheet"),
            (FileBody = "application/vnd.oasis.opendocument.presentation"),
            (FileBody = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (FileBody = "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            (FileBody = "text/csv"), (FileBody = "text/plain"),
        ), headers(("Content-Disposition" = String, description = "attachment, with the file name"))),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[get("/attachments/{id}/content")]
pub(super) async fn download(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let row = {
        let mut conn = crate::db::conn(&state.pool).await?;
        visible(&mut conn, &caller, *id, false).await?.0
    };
    let state_now: ScanState = row.scan_state.parse().map_err(ApiError::internal)?;
    let available = match state_now {
        ScanState::Clean => true,
        ScanState::NotScanned => state.attachments.allow_unscanned,
        ScanState::Pending | ScanState::Infected => false,
    };
    if !available || row.content_deleted {
        return Err(ApiError::conflict(
            "content_unavailable",
            MessageParams::detail(state_now),
        ));
    }
    let stream = content::open(&state.storage, &content::at(&row.storage_key)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, row.media_type.clone()))
        .insert_header((header::CONTENT_DISPOSITION, content::disposition(&row.file_name)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_LENGTH, row.size_bytes.to_string()))
        .insert_header((header::ETAG, etag(row.version)))
        .streaming(stream.map_err(|e| actix_web::error::ErrorServiceUnavailable(e.to_string()))))
}

/// Delete an attachment
///
/// Only its uploader, and only while its owner is still being written (a draft application, payment request or
/// proof of use, a notice in draft, a claim in its hearing): 409 `retained` otherwise — files of a grant are kept
/// for the retention period.
///
/// **Roles:** the uploader.
#[utoipa::path(
    tag = "Attachments",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/attachments/{id}")]
pub(super) async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let row = crate::db::transaction(&mut conn, async |conn| {
        let (row, owner) = visible(conn, &caller, *id, true).await?;
        let kept = row
            .retain_until
            .is_some_and(|d| d >= crate::core::time::today_in_hessen());
        if row.uploaded_by != caller.sub || !owner.editable || kept {
            return Err(ApiError::conflict("retained", MessageParams::detail(owner.kind)));
        }
        store::delete(conn, &caller, &row, &owner.audience).await?;
        Ok(row)
    })
    .await?;
    content::remove_after_commit(&state.storage, std::slice::from_ref(&row.storage_key)).await;
    Ok(HttpResponse::NoContent().finish())
}

/// History of an attachment
///
/// **Roles:** every authenticated role that may see its owner.
#[utoipa::path(
    tag = "Attachments",
    params(("id" = Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The history", body = Vec<HistoryEntry>),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/attachments/{id}/history")]
pub(super) async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    _: Query<NoParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    visible(&mut conn, &caller, *id, false).await?;
    Ok(HttpResponse::Ok().json(store::history(&mut conn, *id).await?))
}

/// Upload and list endpoints of one owner kind (`POST`/`GET <path>`), each with its own OpenAPI operation.
macro_rules! owner_attachments {
    ($upload:ident, $list:ident, $path:literal, $kind:expr, tag $tag:literal, id $id_doc:literal,
     categories $categories:literal, roles $roles:literal) => {
        /// Attach a file
        ///
        /// Either the raw file as the body, with its `Content-Type` and `fileName` (and `category`) as query
        /// parameters, or `multipart/form-data` with the part `file` and the fields `category`, `internal`,
        /// `receiptIndex`. The content is streamed into the store with its SHA-256; its media type is read from the
        /// magic bytes and must be the declared one (422 `media_type_mismatch`) and one of PDF, PNG, JPEG, ODF,
        /// OOXML, CSV, plain text (415). The largest file and the largest sum per resource are settings (413).
        /// The recipient adds files while the resource is its own to write (409 `attachments_closed`), the ministry at
        /// any time, also `internal` ones the recipient never sees.
        #[doc = $categories]
        ///
        #[doc = $roles]
        #[utoipa::path(
            tag = $tag,
            params(("id" = Uuid, Path, description = $id_doc), UploadParams),
            request_body(content(
                (UploadForm = "multipart/form-data"),
                (FileBody = "application/pdf"), (FileBody = "image/png"), (FileBody = "image/jpeg"),
                (FileBody = "application/vnd.oasis.opendocument.text"),
                (FileBody = "application/vnd.oasis.opendocument.spreadsheet"),
                (FileBody = "application/vnd.oasis.opendocument.presentation"),
                (FileBody = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (FileBody = "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
                (FileBody = "text/csv"), (FileBody = "text/plain")
            )),
            responses(
                (status = 201, description = "The attachment", body = Attachment,
                    headers(("Location" = String, description = "Address of the attachment"), ("ETag" = String))),
                (status = 403, response = Forbidden),
                (status = 409, response = Conflict),
            ),
            security(("bearerAuth" = []))
        )]
        #[post($path)]
        pub(super) async fn $upload(
            state: web::Data<AppState>,
            req: HttpRequest,
            caller: Caller,
            id: web::Path<Uuid>,
            Query(params): Query<UploadParams>,
            payload: web::Payload,
        ) -> ApiResult<HttpResponse> {
            upload(state, req, caller, $kind, *id, params, payload).await
        }

        /// List the attached files
        ///
        /// Oldest first; a municipality does not see internal ones, and no coordinator's (403).
        ///
        /// **Roles:** every authenticated role that may see the resource.
        #[utoipa::path(
            tag = $tag,
            params(("id" = Uuid, Path, description = $id_doc)),
            responses(
                (status = 200, description = "The attachments", body = Attachments),
                (status = 400, response = BadRequest),
                (status = 403, response = Forbidden),
            ),
            security(("bearerAuth" = []))
        )]
        #[get($path)]
        pub(super) async fn $list(
            state: web::Data<AppState>,
            caller: Caller,
            id: web::Path<Uuid>,
            _: Query<NoParams>,
        ) -> ApiResult<HttpResponse> {
            list_of(state, caller, $kind, *id).await
        }
    };
}

owner_attachments!(upload_application, list_application, "/applications/{id}/attachments", OwnerKind::Application,
    tag "Applications", id "Application id",
    categories "Categories: `kostenplan`, `konzept`, `satzung`, `stellenbeschreibung`, `sonstiges`.",
    roles "**Roles:** `municipality` (own organisation only), `ministry`.");
owner_attachments!(upload_notice, list_notice, "/grant-notices/{id}/attachments", OwnerKind::GrantNotice,
    tag "Grant notices", id "Grant notice id",
    categories "Categories: `bescheid`, `anlage`, `sonstiges`.",
    roles "**Roles:** `municipality` (own organisation only), `ministry`.");
owner_attachments!(upload_payment, list_payment, "/payment-requests/{id}/attachments", OwnerKind::PaymentRequest,
    tag "Payment requests", id "Payment request id",
    categories "Categories: `beleg`, `sonstiges`.",
    roles "**Roles:** `municipality` (own organisation only), `ministry`.");
owner_attachments!(upload_proof, list_proof, "/proofs-of-use/{id}/attachments", OwnerKind::ProofOfUse,
    tag "Proofs of use", id "Proof of use id",
    categories "Categories: `sachbericht`, `beleg` (with `receiptIndex`, the receipt line it proves), `sonstiges`.",
    roles "**Roles:** `municipality` (own organisation only), `ministry`.");
owner_attachments!(upload_claim, list_claim, "/recovery-claims/{id}/attachments", OwnerKind::RecoveryClaim,
    tag "Recovery claims", id "Recovery claim id",
    categories "Categories: `stellungnahme`, `zahlungsnachweis`, `bescheid`, `sonstiges`.",
    roles "**Roles:** `municipality` (own organisation only), `ministry`.");
owner_attachments!(upload_meeting, list_meeting, "/meetings/{id}/attachments", OwnerKind::CommitteeMeeting,
    tag "Committees", id "Meeting id (from `GET /committees/{id}/meetings`)",
    categories "Categories: `protokoll` (the minutes), `tagesordnung`, `vorlage`, `sonstiges`. Added by the service unit and the ministry; every role reads them (`internal` ones staff only).",
    roles "**Roles:** `service_unit`, `ministry`.");
owner_attachments!(upload_knowledge, list_knowledge, "/knowledge-entries/{id}/attachments", OwnerKind::KnowledgeEntry,
    tag "Knowledge", id "Knowledge entry id",
    categories "Categories: `handreichung` (guidance), `projektbericht` (a funded project's report), `vorlage` (a template), `sonstiges`. Added by the service unit while the entry is a draft; read by whoever reads the entry and is signed in (`internal` ones staff only).",
    roles "**Roles:** `service_unit`.");
owner_attachments!(upload_referral, list_referral, "/referrals/{id}/attachments", OwnerKind::Referral,
    tag "Referrals", id "Referral id",
    categories "Categories: `anlage`, `stellungnahme`, `sonstiges`. Added by staff, and by the originating organisation while the referral is open; read by whoever sees the referral.",
    roles "**Roles:** `municipality` (its own organisation's referral, while open), `service_unit`, `ministry`.");
owner_attachments!(upload_coordinator, list_coordinator, "/coordinators/{id}/attachments", OwnerKind::Coordinator,
    tag "Coordinators", id "Coordinator id",
    categories "Categories: `stellenbeschreibung`, `qualifikation`, `vertrag`, `sonstiges`. Personal documents: added and read by the service unit and the ministry only, always internal, deleted with the person's data (`DELETE /coordinators/{id}`).",
    roles "**Roles:** `service_unit`, `ministry`.");

//! `Idempotency-Key` for every `POST`: the first response is stored in PostgreSQL with the change it reports, in the
//! same transaction, and replayed for 24 hours to a retry with the same key and body; the same key with another body
//! is 422. Keys belong to the caller (role, subject, organisation). Any instance can answer a retry.
//!
//! Concurrency: the key row is inserted first; a concurrent request with the same key waits on the unique index until
//! the first transaction ends, then replays its response (or, if it rolled back, runs itself). So one key never
//! runs twice.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::core::identity::Caller;
use crate::db::cached::CachedDsl;
use crate::db::schema::idempotency_keys;
use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};

pub const HEADER: &str = "idempotency-key";
pub const TTL: Duration = Duration::from_secs(24 * 3600);

/// A response as it will be sent and, with a key, stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Stored {
    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> ApiResult<Self> {
        Ok(Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(value).map_err(ApiError::internal)?,
        })
    }

    /// A 201 with `Location` and `ETag`.
    pub fn created<T: Serialize>(location: &str, version: i64, value: &T) -> ApiResult<Self> {
        Ok(Self::json(StatusCode::CREATED, value)?
            .header("etag", crate::http::extract::etag(version))
            .header("location", location))
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn into_response(self, replayed: bool) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
                builder.insert_header((n, v));
            }
        }
        if replayed {
            builder.insert_header(("idempotent-replayed", "true"));
        }
        builder.body(self.body)
    }
}

/// The `Idempotency-Key` of a request, if any (1–255 visible ASCII characters).
pub fn key_of(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(raw) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let value = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()));
    match value {
        Some(v) => Ok(Some(v.to_owned())),
        None => Err(ApiError::BadRequest(vec![FieldError::new(
            "/header/Idempotency-Key",
            "invalid_format",
            MessageParams::format(Format::IdempotencyKey),
        )])),
    }
}

fn caller_key(caller: &Caller) -> String {
    let org = caller.org.as_ref().map(|o| o.id.to_string()).unwrap_or_default();
    format!("{}:{}:{}", caller.role.as_str(), org, caller.sub)
}

fn request_hash(req: &HttpRequest, body: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(req.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().to_vec()
}

#[derive(Queryable)]
struct StoredRow {
    request_hash: Vec<u8>,
    status: i32,
    headers: serde_json::Value,
    body: Vec<u8>,
}

/// Erasure of personal data: forgets every stored response that mentions the resource `id` (a response that carried
/// a person names the record's id), so that a replay cannot bring the person back.
pub async fn forget_mentions(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> ApiResult<()> {
    diesel::delete(idempotency_keys::table)
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("position(")
                .bind::<diesel::sql_types::Bytea, _>(id.to_string().into_bytes())
                .sql(" in body) > 0"),
        )
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs a POST: `work` and the key's record commit together. Returns the response to send.
pub async fn run(
    conn: &mut AsyncPgConnection,
    req: &HttpRequest,
    caller: &Caller,
    body: &[u8],
    work: impl AsyncFn(&mut AsyncPgConnection) -> ApiResult<Stored>,
) -> ApiResult<HttpResponse> {
    let Some(key) = key_of(req)? else {
        return Ok(crate::db::transaction(conn, work).await?.into_response(false));
    };
    let owner = caller_key(caller);
    let hash = request_hash(req, body);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let outcome = crate::db::transaction(conn, async |conn| {
        // Claims the key in one statement: a new key is inserted, an expired record is taken over (so the key can
        // be used again), a live one is left alone (0 rows). A concurrent first attempt holds the row until it
        // commits or rolls back, so this waits for it and then sees the outcome.
        let expires: DateTime<Utc> = Utc::now() + TTL;
        let claim = diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::caller.eq(&owner),
                idempotency_keys::key.eq(&key),
                idempotency_keys::method.eq(&method),
                idempotency_keys::path.eq(&path),
                idempotency_keys::request_hash.eq(&hash),
                idempotency_keys::status.eq(0),
                idempotency_keys::body.eq(Vec::<u8>::new()),
                idempotency_keys::expires_at.eq(expires),
            ))
            .on_conflict((idempotency_keys::caller, idempotency_keys::key))
            .do_update()
            .set((
                idempotency_keys::method.eq(&method),
                idempotency_keys::path.eq(&path),
                idempotency_keys::request_hash.eq(&hash),
                idempotency_keys::status.eq(0),
                idempotency_keys::headers.eq(serde_json::json!({})),
                idempotency_keys::body.eq(Vec::<u8>::new()),
                idempotency_keys::created_at.eq(diesel::dsl::now),
                idempotency_keys::expires_at.eq(expires),
            ));
        // ON CONFLICT ... DO UPDATE ... WHERE: the upsert's filter (its trait is not QueryDsl's, hence the path).
        let claimed =
            diesel::query_dsl::methods::FilterDsl::filter(claim, idempotency_keys::expires_at.lt(diesel::dsl::now))
                .cached()
                .execute(conn)
                .await?;
        if claimed == 0 {
            let row: StoredRow = idempotency_keys::table
                .find((&owner, &key))
                .select((
                    idempotency_keys::request_hash,
                    idempotency_keys::status,
                    idempotency_keys::headers,
                    idempotency_keys::body,
                ))
                .first(conn)
                .await?;
            if row.request_hash != hash {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "/header/Idempotency-Key",
                    "idempotency_key_reused",
                    MessageParams::default(),
                )]));
            }
            let headers = serde_json::from_value::<Vec<(String, String)>>(row.headers).map_err(ApiError::internal)?;
            let status = StatusCode::from_u16(row.status as u16).map_err(ApiError::internal)?;
            return Ok((
                Stored {
                    status,
                    headers,
                    body: row.body,
                },
                true,
            ));
        }
        let stored = work(conn).await?;
        diesel::update(idempotency_keys::table.find((&owner, &key)))
            .set((
                idempotency_keys::status.eq(i32::from(stored.status.as_u16())),
                idempotency_keys::headers.eq(serde_json::to_value(&stored.headers).map_err(ApiError::internal)?),
                idempotency_keys::body.eq(&stored.body),
            ))
            .cached()
            .execute(conn)
            .await?;
        Ok((stored, false))
    })
    .await?;
    let (stored, replayed) = outcome;
    Ok(stored.into_response(replayed))
}

//! One error type for the whole service. Every failure funnels into [`ApiError`]; the mapping to HTTP statuses and
//! RFC 9457 problem details lives here and nowhere else. The body is rendered by the `problem` middleware
//! ([`crate::http::middleware::problems`]), which knows the request: its language, its id and its path.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

pub mod database;
pub mod i18n;
pub mod validation;

use crate::core::identity::Forbidden;
use crate::core::lifecycle::Refused;
use crate::core::types::truncate_chars;
use i18n::Lang;

/// Limits of what a problem echoes from a request (a path, a field name, a value in a message), so that an answer
/// never grows with a hostile request; the OpenAPI document states the same numbers.
pub const MAX_FIELD_ERRORS: usize = 100;
const MAX_POINTER_CHARS: usize = 1000;
const MAX_MESSAGE_CHARS: usize = 2000;
const MAX_DETAIL_CHARS: usize = 2000;
const MAX_INSTANCE_CHARS: usize = 2000;

/// Base of the problem `type` URIs; each kind of problem has its own stable URI below it (see docs/errors.md).
pub const PROBLEM_BASE: &str = "https://versorgung.hessen.de/problems/";

/// Parameters that a message interpolates (limits, allowed values, states).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageParams {
    pub min: Option<String>,
    pub max: Option<String>,
    pub allowed: Option<String>,
    pub detail: Option<String>,
    /// The format an `invalid_format` value misses, described in the language of the answer.
    pub format: Option<Format>,
}

/// A format the service checks, named so that a message can describe it in German or English (a free-text detail
/// would be in one language only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Email,
    Url,
    DistrictAgs,
    GemeindeAgs,
    FundingLineCode,
    EventType,
    EventTypes,
    ETag,
    IdempotencyKey,
    OrganisationKey,
    Iban,
    FileNumber,
    PostalCode,
    TopicCode,
}

impl Format {
    /// The name a custom `validator` rule passes as its `format` parameter.
    pub fn key(self) -> &'static str {
        match self {
            Format::Email => "email",
            Format::Url => "url",
            Format::DistrictAgs => "district_ags",
            Format::GemeindeAgs => "gemeinde_ags",
            Format::FundingLineCode => "funding_line_code",
            Format::EventType => "event_type",
            Format::EventTypes => "event_types",
            Format::ETag => "etag",
            Format::IdempotencyKey => "idempotency_key",
            Format::OrganisationKey => "organisation_key",
            Format::Iban => "iban",
            Format::FileNumber => "file_number",
            Format::PostalCode => "postal_code",
            Format::TopicCode => "topic_code",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [
            Format::Email,
            Format::Url,
            Format::DistrictAgs,
            Format::GemeindeAgs,
            Format::FundingLineCode,
            Format::EventType,
            Format::EventTypes,
            Format::ETag,
            Format::IdempotencyKey,
            Format::OrganisationKey,
            Format::Iban,
            Format::FileNumber,
            Format::PostalCode,
            Format::TopicCode,
        ]
        .into_iter()
        .find(|f| f.key() == key)
    }
}

impl MessageParams {
    pub fn range(min: impl ToString, max: impl ToString) -> Self {
        Self {
            min: Some(min.to_string()),
            max: Some(max.to_string()),
            ..Self::default()
        }
    }
    pub fn min(min: impl ToString) -> Self {
        Self {
            min: Some(min.to_string()),
            ..Self::default()
        }
    }
    pub fn max(max: impl ToString) -> Self {
        Self {
            max: Some(max.to_string()),
            ..Self::default()
        }
    }
    pub fn allowed(allowed: impl ToString) -> Self {
        Self {
            allowed: Some(allowed.to_string()),
            ..Self::default()
        }
    }
    pub fn detail(detail: impl ToString) -> Self {
        Self {
            detail: Some(detail.to_string()),
            ..Self::default()
        }
    }
    pub fn format(format: Format) -> Self {
        Self {
            format: Some(format),
            ..Self::default()
        }
    }
}

/// One failed field of a request, addressed by JSON pointer (RFC 6901) into the request body; query parameters are
/// addressed as `/query/NAME`, headers as `/header/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer to the offending value.
    #[schema(example = "/maxRateBasisPoints", max_length = 1000)]
    pub pointer: String,
    /// Stable machine-readable code of the rule that failed (listed in docs/errors.md).
    #[schema(example = "out_of_range", max_length = 64)]
    pub code: String,
    /// Human-readable message in the language asked for by `Accept-Language` (`de` or `en`).
    #[schema(example = "must be between 0 and 10000", max_length = 2000)]
    pub message: String,
    #[serde(skip)]
    #[schema(ignore)]
    params: MessageParams,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, code: &str, params: MessageParams) -> Self {
        Self {
            pointer: pointer.into(),
            code: code.to_owned(),
            message: i18n::field_message(Lang::En, code, &params),
            params,
        }
    }

    /// The same failure reported at another field (where the caller's input that caused it is).
    pub fn at(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = pointer.into();
        self
    }

    pub fn localize(&mut self, lang: Lang) {
        self.message = i18n::field_message(lang, &self.code, &self.params);
    }
}

/// The problem body (RFC 9457) with this API's extensions `requestId`, `code` and `errors`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "type": "https://versorgung.hessen.de/problems/validation",
    "title": "Validation failed",
    "status": 422,
    "detail": "The request contains 1 invalid field.",
    "instance": "/api/v1/funding-lines",
    "requestId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1",
    "errors": [{"pointer": "/maxRateBasisPoints", "code": "out_of_range", "message": "must be between 0 and 10000"}]
}))]
pub struct Problem {
    /// Stable URI naming the kind of problem.
    #[serde(rename = "type")]
    #[schema(max_length = 200)]
    pub type_uri: String,
    /// Short summary of the kind of problem (English, stable).
    #[schema(max_length = 100)]
    pub title: String,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// Explanation of this occurrence, in the language asked for.
    #[schema(max_length = 2000)]
    pub detail: String,
    /// The request path.
    #[schema(max_length = 2000)]
    pub instance: String,
    /// The request id, also in the `X-Request-Id` header and in the server's log.
    #[schema(max_length = 128)]
    pub request_id: String,
    /// A finer machine-readable code where one kind of problem has several causes (`budget_exceeded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub code: Option<String>,
    /// Every invalid field at once (400, 422).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 100)]
    pub errors: Option<Vec<FieldError>>,
    /// Further members of specific problems (for example `remainingCents`, or `currentStatus` and
    /// `allowedActions`). They never reuse the names of the standard members above.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
    /// The language of `detail` and the messages (`Content-Language`).
    #[serde(skip)]
    #[schema(ignore)]
    pub language: Lang,
}

/// Why a bearer token was refused. The reason is logged; the client sees only that the token is invalid, except for
/// the few cases that help an honest client (missing, expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Expired,
    Invalid,
}

/// What a 409 says: a stable `code`, message parameters, and extra members (e.g. `remainingCents`).
#[derive(Debug, Clone)]
pub struct ConflictInfo {
    pub code: &'static str,
    pub params: MessageParams,
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unauthenticated: {0:?}")]
    Unauthorized(AuthFailure),
    #[error("forbidden for this role")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    #[error("conflict: {}", .0.code)]
    Conflict(Box<ConflictInfo>),
    #[error("If-Match required")]
    PreconditionRequired,
    #[error("stale If-Match")]
    PreconditionFailed { current_version: i64 },
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType { expected: &'static str },
    #[error("malformed JSON at line {line} column {column}: {reason}")]
    MalformedJson { line: usize, column: usize, reason: String },
    /// Structurally wrong request (unknown field, bad query parameter or header): 400 with the fields named.
    #[error("bad request: {0:?}")]
    BadRequest(Vec<FieldError>),
    /// Well-formed request whose values break a rule: 422 with every failed field.
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// The client is over its rate limit; it may retry after this many seconds.
    #[error("rate limited for {retry_after}s")]
    TooManyRequests { retry_after: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A serialization failure or deadlock (SQLSTATE 40001, 40P01): [`crate::db::transaction`] runs the transaction
    /// again; when its attempts are spent the client sees the same 503 as [`ApiError::Unavailable`].
    #[error("transaction lost a race: {0}")]
    Contended(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn conflict(code: &'static str, params: MessageParams) -> Self {
        Self::Conflict(Box::new(ConflictInfo {
            code,
            params,
            extra: None,
        }))
    }

    /// 409 for a lifecycle action the current state does not allow, naming the state and what is allowed.
    pub fn invalid_transition(current_status: &str, allowed: &[&str]) -> Self {
        let mut extra = serde_json::Map::new();
        extra.insert("currentStatus".into(), current_status.into());
        extra.insert("allowedActions".into(), allowed.to_vec().into());
        Self::Conflict(Box::new(ConflictInfo {
            code: "invalid_transition",
            params: MessageParams {
                detail: Some(current_status.to_owned()),
                allowed: Some(if allowed.is_empty() {
                    "none".into()
                } else {
                    allowed.join(", ")
                }),
                ..MessageParams::default()
            },
            extra: Some(extra),
        }))
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The stable slug of the problem type, the last segment of its `type` URI.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::PreconditionRequired => "precondition-required",
            Self::PreconditionFailed { .. } => "precondition-failed",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::UnsupportedMediaType { .. } => "unsupported-media-type",
            Self::MalformedJson { .. } => "malformed-json",
            Self::BadRequest(_) => "bad-request",
            Self::Validation(_) => "validation",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Unavailable(_) | Self::Contended(_) => "service-unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Renders the problem for one request. Called by the problem middleware, which knows language, id and path.
    pub fn to_problem(&self, lang: Lang, request_id: &str, instance: &str) -> Problem {
        let status = self.status_code();
        let (code, errors, extra) = match self {
            Self::Conflict(info) => (Some(info.code.to_owned()), None, info.extra.clone()),
            Self::BadRequest(errs) | Self::Validation(errs) => {
                let mut errs = errs.clone();
                errs.iter_mut().for_each(|e| {
                    e.localize(lang);
                    e.pointer = truncate_chars(&e.pointer, MAX_POINTER_CHARS);
                    e.message = truncate_chars(&e.message, MAX_MESSAGE_CHARS);
                });
                // One stable order for every client and every test: by pointer, then code. At most
                // MAX_FIELD_ERRORS (a body can hold a million bad strings; the first hundred say enough).
                errs.sort_by(|a, b| a.pointer.cmp(&b.pointer).then_with(|| a.code.cmp(&b.code)));
                errs.truncate(MAX_FIELD_ERRORS);
                (None, Some(errs), None)
            }
            Self::PreconditionFailed { current_version } => {
                let mut m = serde_json::Map::new();
                m.insert("currentVersion".into(), (*current_version).into());
                (None, None, Some(m))
            }
            Self::MethodNotAllowed { allow } => {
                let mut m = serde_json::Map::new();
                m.insert("allowedMethods".into(), allow.clone().into());
                (None, None, Some(m))
            }
            Self::Unauthorized(failure) => {
                let reason = match failure {
                    AuthFailure::Missing => "missing_token",
                    AuthFailure::Malformed => "malformed_token",
                    AuthFailure::Expired => "expired_token",
                    AuthFailure::Invalid => "invalid_token",
                };
                (Some(reason.to_owned()), None, None)
            }
            _ => (None, None, None),
        };
        // Extension members must not shadow the standard ones (a resource's `status` is not the HTTP status).
        let extra = extra.map(|mut m| {
            for reserved in [
                "type",
                "title",
                "status",
                "detail",
                "instance",
                "requestId",
                "code",
                "errors",
            ] {
                m.remove(reserved);
            }
            m
        });
        Problem {
            type_uri: format!("{PROBLEM_BASE}{}", self.slug()),
            title: i18n::problem_title(self.slug()).to_owned(),
            status: status.as_u16(),
            detail: truncate_chars(&i18n::problem_detail(lang, self), MAX_DETAIL_CHARS),
            instance: truncate_chars(instance, MAX_INSTANCE_CHARS),
            request_id: request_id.to_owned(),
            code,
            errors,
            extra,
            language: lang,
        }
    }

    /// Headers that belong to the problem (RFC 6750 `WWW-Authenticate`, `Allow`, `Retry-After`).
    fn extra_headers(&self) -> Vec<(header::HeaderName, String)> {
        match self {
            Self::Unauthorized(failure) => {
                let value = match failure {
                    AuthFailure::Missing => "Bearer realm=\"versorgung\"".to_owned(),
                    AuthFailure::Expired => {
                        "Bearer realm=\"versorgung\", error=\"invalid_token\", error_description=\"token expired\""
                            .to_owned()
                    }
                    _ => "Bearer realm=\"versorgung\", error=\"invalid_token\"".to_owned(),
                };
                vec![(header::WWW_AUTHENTICATE, value)]
            }
            Self::MethodNotAllowed { allow } => vec![(header::ALLOW, allow.join(", "))],
            Self::TooManyRequests { retry_after } => vec![(header::RETRY_AFTER, retry_after.to_string())],
            Self::Unavailable(_) | Self::Contended(_) => vec![(header::RETRY_AFTER, "2".to_owned())],
            _ => vec![],
        }
    }

    /// Builds the full response for a rendered problem.
    pub fn response_with(&self, problem: &Problem) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        builder.insert_header((header::CONTENT_LANGUAGE, problem.language.tag()));
        for (name, value) in self.extra_headers() {
            if let Ok(value) = HeaderValue::from_str(&value) {
                builder.insert_header((name, value));
            }
        }
        builder.json(problem)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MalformedJson { .. } | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Contended(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A fallback rendering without request context; the problem middleware replaces it on every real request.
    fn error_response(&self) -> HttpResponse {
        self.response_with(&self.to_problem(Lang::En, "", ""))
    }
}

impl From<deadpool::managed::PoolError<diesel::ConnectionError>> for ApiError {
    fn from(err: deadpool::managed::PoolError<diesel::ConnectionError>) -> Self {
        // Pool timeouts and unreachable databases are transient: 503 with Retry-After, never a pile-up.
        Self::Unavailable(err.to_string())
    }
}

impl From<Forbidden> for ApiError {
    fn from(_: Forbidden) -> Self {
        ApiError::Forbidden
    }
}

impl From<crate::core::identity::SameSigner> for ApiError {
    fn from(s: crate::core::identity::SameSigner) -> Self {
        ApiError::conflict("four_eyes", MessageParams::detail(s.0))
    }
}

impl From<Refused> for ApiError {
    fn from(r: Refused) -> Self {
        let allowed: Vec<&str> = r.allowed.iter().map(String::as_str).collect();
        ApiError::invalid_transition(&r.from, &allowed)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_pinned() {
        let cases: Vec<(ApiError, u16)> = vec![
            (ApiError::Unauthorized(AuthFailure::Missing), 401),
            (ApiError::Forbidden, 403),
            (ApiError::NotFound, 404),
            (ApiError::MethodNotAllowed { allow: vec![] }, 405),
            (ApiError::conflict("x", MessageParams::default()), 409),
            (ApiError::PreconditionRequired, 428),
            (ApiError::PreconditionFailed { current_version: 1 }, 412),
            (ApiError::PayloadTooLarge { limit: 1 }, 413),
            (
                ApiError::UnsupportedMediaType {
                    expected: "application/json",
                },
                415,
            ),
            (
                ApiError::MalformedJson {
                    line: 1,
                    column: 1,
                    reason: String::new(),
                },
                400,
            ),
            (ApiError::BadRequest(vec![]), 400),
            (ApiError::Validation(vec![]), 422),
            (ApiError::TooManyRequests { retry_after: 1 }, 429),
            (ApiError::Unavailable(String::new()), 503),
            (ApiError::Contended(String::new()), 503),
            (ApiError::Internal(String::new()), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.status_code().as_u16(), status, "{err:?}");
        }
    }

    #[test]
    fn extension_members_cannot_shadow_standard_ones() {
        let mut extra = serde_json::Map::new();
        extra.insert("status".into(), "approved".into());
        extra.insert("remainingCents".into(), 5.into());
        let err = ApiError::Conflict(Box::new(ConflictInfo {
            code: "x",
            params: MessageParams::default(),
            extra: Some(extra),
        }));
        let body = serde_json::to_value(err.to_problem(Lang::En, "r", "/")).unwrap_or_default();
        assert_eq!(body["status"], 409);
        assert_eq!(body["remainingCents"], 5);
    }

    #[test]
    fn internal_problem_hides_the_cause() {
        let err = ApiError::Internal("relation \"secret_table\" does not exist".into());
        let problem = err.to_problem(Lang::En, "rid", "/x");
        let body = serde_json::to_string(&problem).unwrap_or_default();
        assert!(!body.contains("secret_table"));
        assert_eq!(problem.status, 500);
    }
}

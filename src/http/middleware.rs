//! Cross-cutting request handling: request ids, problem rendering and the 404/405 fallback.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};

use crate::error::ApiError;
use crate::error::i18n::Lang;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, accepted from `X-Request-Id` when it is sane, generated (UUID v7) otherwise.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub fn request_id_of(req: &HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// Assigns the request id and echoes it on every response.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// Refuses a path whose decoded form holds control characters or undecodable bytes: no resource has such a key, and
/// no handler should have to pass one to the database (PostgreSQL refuses NUL in text outright).
pub async fn sane_path(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !decoded_path_is_sane(req.path()) {
        return Err(ApiError::NotFound.into());
    }
    next.call(req).await
}

fn decoded_path_is_sane(path: &str) -> bool {
    let raw = path.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&bytes).is_ok_and(|s| !s.chars().any(char::is_control))
}

/// Renders every error response as an RFC 9457 problem in the caller's language, with the request id and path;
/// also the errors that actix itself produces (unmatched routes, payload errors). 5xx causes are logged here, with
/// the request id, and never sent to the client.
pub async fn problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The request cannot be cloned before routing (the router needs it unshared), so keep what a problem needs.
    let lang = Lang::from_request(req.request());
    let request_id = request_id_of(req.request());
    let path = req.path().to_owned();
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => {
            // Errors of inner middleware arrive without their request; answer with a fully rendered problem.
            let api = to_api_error(&err);
            log_failure(&api, &request_id, &path);
            let problem = api.to_problem(lang, &request_id, &path);
            return Err(RenderedProblem { api, problem }.into());
        }
    };
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let api = match res.response().error() {
        Some(err) => to_api_error(err),
        // A problem rendered without an error attached (none today) is left alone.
        None if is_problem => return Ok(res),
        None => from_status(status, res.headers()),
    };
    log_failure(&api, &request_id, &path);
    let problem = api.to_problem(lang, &request_id, &path);
    let (http_req, _) = res.into_parts();
    Ok(ServiceResponse::new(
        http_req,
        api.response_with(&problem).map_into_boxed_body(),
    ))
}

fn log_failure(err: &ApiError, request_id: &str, path: &str) {
    match err {
        ApiError::Internal(cause) => log::error!("request {request_id} {path}: {cause}"),
        ApiError::Unavailable(cause) | ApiError::Contended(cause) => log::warn!("request {request_id} {path}: {cause}"),
        _ => {}
    }
}

/// A problem already rendered for its request, for errors that travel as `Err` past the problem middleware.
#[derive(Debug)]
struct RenderedProblem {
    api: ApiError,
    problem: crate::error::Problem,
}

impl std::fmt::Display for RenderedProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.api.fmt(f)
    }
}

impl ResponseError for RenderedProblem {
    fn status_code(&self) -> StatusCode {
        self.api.status_code()
    }
    fn error_response(&self) -> HttpResponse {
        let mut res = self.api.response_with(&self.problem);
        if let Ok(value) = HeaderValue::from_str(&self.problem.request_id) {
            res.headers_mut().insert(REQUEST_ID, value);
        }
        res
    }
}

fn to_api_error(err: &actix_web::Error) -> ApiError {
    if let Some(api) = err.as_error::<ApiError>() {
        return clone_api_error(api);
    }
    from_status(err.as_response_error().status_code(), &Default::default())
}

// ApiError is not Clone (it may hold error sources in future); the variants are cheap to rebuild.
fn clone_api_error(err: &ApiError) -> ApiError {
    match err {
        ApiError::Unauthorized(f) => ApiError::Unauthorized(*f),
        ApiError::Forbidden => ApiError::Forbidden,
        ApiError::NotFound => ApiError::NotFound,
        ApiError::MethodNotAllowed { allow } => ApiError::MethodNotAllowed { allow: allow.clone() },
        ApiError::Conflict(info) => ApiError::Conflict(info.clone()),
        ApiError::PreconditionRequired => ApiError::PreconditionRequired,
        ApiError::PreconditionFailed { current_version } => ApiError::PreconditionFailed {
            current_version: *current_version,
        },
        ApiError::PayloadTooLarge { limit } => ApiError::PayloadTooLarge { limit: *limit },
        ApiError::UnsupportedMediaType { expected } => ApiError::UnsupportedMediaType { expected },
        ApiError::MalformedJson { line, column, reason } => ApiError::MalformedJson {
            line: *line,
            column: *column,
            reason: reason.clone(),
        },
        ApiError::BadRequest(e) => ApiError::BadRequest(e.clone()),
        ApiError::Validation(e) => ApiError::Validation(e.clone()),
        ApiError::TooManyRequests { retry_after } => ApiError::TooManyRequests {
            retry_after: *retry_after,
        },
        ApiError::Unavailable(c) => ApiError::Unavailable(c.clone()),
        ApiError::Contended(c) => ApiError::Contended(c.clone()),
        ApiError::Internal(c) => ApiError::Internal(c.clone()),
    }
}

/// Errors that did not come from our code, classified by status only.
fn from_status(status: StatusCode, headers: &header::HeaderMap) -> ApiError {
    match status.as_u16() {
        401 => ApiError::Unauthorized(crate::error::AuthFailure::Invalid),
        403 => ApiError::Forbidden,
        404 => ApiError::NotFound,
        405 => ApiError::MethodNotAllowed {
            allow: headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').map(|m| m.trim().to_owned()).collect())
                .unwrap_or_default(),
        },
        413 => ApiError::PayloadTooLarge { limit: 0 },
        415 => ApiError::UnsupportedMediaType {
            expected: "application/json",
        },
        400..=499 => ApiError::BadRequest(vec![]),
        503 => ApiError::Unavailable(format!("status {status}")),
        _ => ApiError::Internal(format!("unhandled status {status}")),
    }
}

/// Content security policy of the Swagger UI: only its own scripts (it has no inline ones), inline styles and
/// `data:` images as the UI needs them, requests only to this origin (and to the identity provider's token endpoint
/// when one is configured: the UI's client-credentials login asks it from the browser), never framed.
pub struct SwaggerCsp(HeaderValue);

impl SwaggerCsp {
    pub fn new(token_url: Option<&str>) -> Self {
        // The origin only (scheme, host, port): a URL's path or query never reaches the header.
        let origin = token_url
            .and_then(|u| reqwest::Url::parse(u).ok())
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| o.starts_with("http"));
        let connect = match origin {
            Some(origin) => format!("'self' {origin}"),
            None => "'self'".to_owned(),
        };
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
        );
        Self(HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'self'")))
    }
}

/// Security headers on every response: no MIME sniffing, no referrer, never framed; `no-store` on every answer to
/// an authenticated request (they may carry personal data); a content security policy on the Swagger UI.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let swagger = req
        .path()
        .starts_with("/swagger-ui")
        .then(|| req.app_data::<actix_web::web::Data<SwaggerCsp>>().map(|c| c.0.clone()))
        .flatten();
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Some(csp) = swagger {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    } else {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
        if authenticated {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    Ok(res)
}

/// Every route of the service as (path template, methods), taken from the OpenAPI document so that the router, the
/// spec and the 405 answers cannot disagree.
#[derive(Debug, Default)]
pub struct RouteTable(Vec<(Vec<String>, Vec<Method>)>);

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods = Vec::new();
                let ops = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                for (method, present) in ops {
                    if present {
                        methods.push(method);
                    }
                }
                (split(path).map(str::to_owned).collect(), methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods allowed on `path`, if any route matches it.
    fn methods_for(&self, path: &str) -> Option<Vec<Method>> {
        let segments: Vec<&str> = split(path).collect();
        let mut found: Option<Vec<Method>> = None;
        for (template, methods) in &self.0 {
            let matches = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && t.ends_with('}')) || t == s);
            if matches {
                found.get_or_insert_with(Vec::new).extend(methods.iter().cloned());
            }
        }
        found
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The default service: 405 with `Allow` for a known path with another method, 404 for everything else.
pub async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    match routes.methods_for(req.path()) {
        Some(mut methods) if !methods.contains(req.method()) => {
            if methods.contains(&Method::GET) {
                methods.push(Method::HEAD);
            }
            Err(ApiError::MethodNotAllowed {
                allow: methods.iter().map(|m| m.to_string()).collect(),
            })
        }
        _ => Err(ApiError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_control_characters_are_not_sane() {
        assert!(decoded_path_is_sane("/api/v1/funding-lines/GK"));
        assert!(decoded_path_is_sane("/api/v1/organisations/Gie%C3%9Fen"));
        assert!(!decoded_path_is_sane("/api/v1/funding-lines/%00"));
        assert!(!decoded_path_is_sane("/api/v1/funding-lines/a%0Ab"));
        assert!(!decoded_path_is_sane("/api/v1/funding-lines/%FF"));
    }

    #[test]
    fn request_ids_are_sanitised() {
        assert!(acceptable_request_id("abc-123"));
        assert!(!acceptable_request_id(""));
        assert!(!acceptable_request_id("a b"));
        assert!(!acceptable_request_id(&"x".repeat(129)));
    }
}

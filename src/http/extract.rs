//! Extractors that validate at the edge: JSON bodies, query strings and `If-Match`. Handlers receive typed values
//! or the request never reaches them; every failure is an [`ApiError`] naming each wrong field.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

use crate::error::validation::{Checked, escape_pointer};

use crate::error::Format;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::state::AppState;

/// An action's body: empty, or an empty object.
#[derive(Debug, Default, serde::Deserialize, validator::Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

impl Checked for Empty {}

/// A JSON request body, read (content type and size checked) but not yet parsed: handlers call
/// [`JsonBody::parse`] after their role check, so that a caller who may not use an operation learns nothing about its
/// rules from validation errors.
#[derive(Debug)]
pub struct JsonBody<T> {
    bytes: web::Bytes,
    _type: std::marker::PhantomData<T>,
}

impl<T: DeserializeOwned + Checked> JsonBody<T> {
    /// Deserialises (unknown fields refused) and validates the body: every failed field at once.
    pub fn parse(self) -> ApiResult<T> {
        parse_json(&self.bytes)
    }

    /// Deserialises the body and returns it with its failed field rules (see [`parse_deferred`]).
    pub fn parse_deferred(&self) -> ApiResult<(T, Vec<FieldError>)> {
        parse_deferred(&self.bytes)
    }

    /// The body as raw bytes (for idempotency hashing).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl<T> JsonBody<T> {
    /// The body as a JSON object (a merge patch). The body is required: an empty one is not JSON (400
    /// `malformed-json`), as for every other operation whose body is required.
    pub fn object(&self) -> ApiResult<serde_json::Value> {
        let value = syntax(&self.bytes)?;
        if !value.is_object() {
            return Err(ApiError::Validation(vec![FieldError::new(
                "",
                "invalid_type",
                MessageParams::detail("expected a JSON object"),
            )]));
        }
        Ok(value)
    }

    /// Parses the body, treating an empty body as `{}` (for actions whose body is optional).
    pub fn parse_or_empty(&self) -> ApiResult<T>
    where
        T: DeserializeOwned + Checked,
    {
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return parse_value(serde_json::Value::Object(Default::default()));
        }
        parse_value(self.object()?)
    }
}

impl<T: 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(1024 * 1024, |s| s.max_body_bytes);
        let content_type_ok = is_json_content_type(req);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            // No body at all needs no media type (actions whose body is optional are sent bare by most clients).
            if !content_type_ok && declared_len != Some(0) {
                let mut first = None;
                while let Some(chunk) = payload.next().await {
                    if chunk.as_ref().is_ok_and(|c| c.is_empty()) {
                        continue;
                    }
                    first = Some(chunk);
                    break;
                }
                if first.is_some() {
                    return Err(ApiError::UnsupportedMediaType {
                        expected: "application/json",
                    });
                }
            }
            if !content_type_ok {
                return Ok(JsonBody {
                    bytes: web::Bytes::new(),
                    _type: std::marker::PhantomData,
                });
            }
            if declared_len.is_some_and(|len| len > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::MalformedJson {
                    line: 0,
                    column: 0,
                    reason: e.to_string(),
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(JsonBody {
                bytes: body.freeze(),
                _type: std::marker::PhantomData,
            })
        })
    }
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses and validates a JSON document: syntax errors are 400 with their position, unknown fields 400 naming the
/// field, wrong types 422 naming the field, and rule violations 422 listing every failed field.
pub fn parse_json<T: DeserializeOwned + Checked>(body: &[u8]) -> ApiResult<T> {
    parse_value(syntax(body)?)
}

fn syntax(body: &[u8]) -> ApiResult<serde_json::Value> {
    let value = serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson {
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    })?;
    let mut value = value;
    integral_numbers(&mut value);
    let mut errors = Vec::new();
    control_characters(&value, "", &mut errors);
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Reads a number with an integral value written as a fraction or exponent (`1110.0`, `1e3`) as the integer it is,
/// as JSON Schema does (an `integer` field accepts it), so that serde's integer fields take it too. Numbers outside
/// the range of `i64` stay as they are (and are refused by the field's range).
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f >= i64::MIN as f64
                && f < i64::MAX as f64
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// Names every string (and object key) that holds a control character other than tab, line feed and carriage
/// return. PostgreSQL cannot store NUL in text at all, and the others have no place in this domain's data but can
/// break the CSV exports and log lines of the systems we feed; refusing them here covers every field at once.
fn control_characters(value: &serde_json::Value, pointer: &str, out: &mut Vec<FieldError>) {
    use serde_json::Value;
    let bad = |s: &str| s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    match value {
        Value::String(s) if bad(s) => out.push(FieldError::new(
            pointer.to_owned(),
            "control_character",
            MessageParams::default(),
        )),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                control_characters(item, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let child = format!("{pointer}/{}", escape_pointer(key));
                if bad(key) {
                    out.push(FieldError::new(
                        child.clone(),
                        "control_character",
                        MessageParams::default(),
                    ));
                }
                control_characters(item, &child, out);
            }
        }
        _ => {}
    }
}

/// Deserialises and validates a JSON value (see [`parse_json`]).
pub fn parse_value<T: DeserializeOwned + Checked>(value: serde_json::Value) -> ApiResult<T> {
    // Every body of this API is an object; serde would otherwise read a struct from an array of its fields.
    if !value.is_object() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "",
            "invalid_type",
            MessageParams::detail("expected a JSON object"),
        )]));
    }
    let value: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = pointer_from_path(e.path());
        let inner = e.into_inner().to_string();
        if let Some(field) = inner.strip_prefix("unknown field `").and_then(|r| r.split('`').next()) {
            let pointer = if pointer.ends_with(&format!("/{}", escape_pointer(field))) {
                pointer
            } else {
                format!("{pointer}/{}", escape_pointer(field))
            };
            ApiError::BadRequest(vec![FieldError::new(
                pointer,
                "unknown_field",
                MessageParams::default(),
            )])
        } else if let Some(rest) = inner.strip_prefix("unknown variant `") {
            let allowed = rest.split_once("expected ").map_or("", |(_, a)| a).replace('`', "");
            ApiError::Validation(vec![FieldError::new(
                pointer,
                "invalid_value",
                MessageParams::allowed(allowed),
            )])
        } else if let Some(field) = inner.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            ApiError::Validation(vec![FieldError::new(
                format!("{pointer}/{}", escape_pointer(field)),
                "required",
                MessageParams::default(),
            )])
        } else {
            ApiError::Validation(vec![FieldError::new(
                pointer,
                "invalid_type",
                MessageParams::detail(inner),
            )])
        }
    })?;
    let errors = value.check();
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Deserialises a JSON document and returns it with its failed field rules instead of refusing it, for operations
/// whose further rules need the database: the store adds its own failures and reports every field at once. Syntax,
/// unknown fields and wrong types are still refused here (there is no value to check further).
pub fn parse_deferred<T: DeserializeOwned + Checked>(body: &[u8]) -> ApiResult<(T, Vec<FieldError>)> {
    let Unchecked(parsed) = parse_value::<Unchecked<T>>(syntax(body)?)?;
    let errors = parsed.check();
    Ok((parsed, errors))
}

/// A body deserialised without its rules (see [`parse_deferred`]).
struct Unchecked<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Unchecked<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Unchecked)
    }
}

impl<T> validator::Validate for Unchecked<T> {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl<T> Checked for Unchecked<T> {}

fn pointer_from_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape_pointer(key));
            }
            Segment::Enum { variant } => {
                pointer.push('/');
                pointer.push_str(&escape_pointer(variant));
            }
            Segment::Unknown => {}
        }
    }
    pointer
}

/// A query string, deserialised strictly: unknown parameters and bad values are 400 naming `/query/NAME`.
#[derive(Debug)]
pub struct Query<T>(pub T);

/// The query of an operation that takes no parameters: any parameter is refused (400), as everywhere else.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// The longest value, in characters, that a query parameter may have. The OpenAPI document states the same numbers
/// (`maxLength` of every query parameter).
pub fn query_max_chars(name: &str) -> usize {
    match name {
        "q" => 200,
        "versorgungsgebiet" | "regierungsbezirk" => 100,
        "topic" | "parent" => 60,
        // An attachment's category and file name (the stored name is cut to 255 characters anyway).
        "category" => 40,
        "fileName" => 255,
        "cursor" => crate::http::pagination::MAX_CURSOR_CHARS,
        _ => 1000,
    }
}

/// Checks that hold for a query parameter wherever it appears, so that every list treats a name alike: no control
/// characters or undecodable bytes (which the URL decoder turns into U+FFFD), bounded length, and the format of the
/// keys that filters compare with (an impossible key is a client error, not an empty page).
fn query_value_error(name: &str, value: &str) -> Option<FieldError> {
    let pointer = format!("/query/{}", escape_pointer(name));
    let invalid = |format: Format| {
        Some(FieldError::new(
            pointer.clone(),
            "invalid_format",
            MessageParams::format(format),
        ))
    };
    if value.chars().any(|c| c.is_control() || c == '\u{fffd}') {
        return Some(FieldError::new(pointer, "control_character", MessageParams::default()));
    }
    let max = query_max_chars(name);
    if value.chars().count() > max {
        return Some(FieldError::new(pointer, "too_long", MessageParams::max(max)));
    }
    match name {
        "fundingLine" if !crate::core::types::is_funding_line_code(value) => invalid(Format::FundingLineCode),
        "topic" | "parent" if !crate::core::types::is_topic_code(value) => invalid(Format::TopicCode),
        "district" | "covers" if !crate::core::types::is_district_ags(value) => invalid(Format::DistrictAgs),
        "types" if !value.split(',').all(crate::core::types::is_event_type) => invalid(Format::EventTypes),
        _ => None,
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> ApiResult<T> {
    let errors: Vec<FieldError> = form_urlencoded::parse(query.as_bytes())
        .filter_map(|(name, value)| query_value_error(&name, &value))
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(errors));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let (name, code) = if let Some(field) = inner.strip_prefix("unknown field `").and_then(|r| r.split('`').next())
        {
            (field.to_owned(), "unknown_field")
        } else {
            (path, "invalid_value")
        };
        ApiError::BadRequest(vec![FieldError::new(
            format!("/query/{}", escape_pointer(&name)),
            code,
            MessageParams::detail(inner),
        )])
    })
}

/// The longest `If-Match` value the service reads, in characters (several entity-tags fit); the OpenAPI document
/// states the same `maxLength`.
pub const IF_MATCH_MAX_CHARS: usize = 64;

/// One entity-tag of `If-Match` (RFC 9110 §8.8.3): its opaque value without the quotes, and whether it is weak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    pub weak: bool,
    pub opaque: String,
}

/// What a client expects, from `If-Match`: `*` (any version) or a list of entity-tags (`"3"`, `"3", "4"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Any,
    Tags(Vec<EntityTag>),
}

/// `If-Match` as sent, or `None` when absent. Every field line counts (a list may be split over several); only a
/// syntactically malformed value is 400 — a well-formed tag that names no version (`"0-stale"`) simply never
/// matches (412 in [`Expected::check`]).
pub fn if_match(req: &HttpRequest) -> ApiResult<Option<Expected>> {
    let lines: Vec<&header::HeaderValue> = req.headers().get_all(header::IF_MATCH).collect();
    if lines.is_empty() {
        return Ok(None);
    }
    if lines.iter().map(|line| line.len()).sum::<usize>() > IF_MATCH_MAX_CHARS {
        return Err(ApiError::BadRequest(vec![FieldError::new(
            "/header/If-Match",
            "too_long",
            MessageParams::max(IF_MATCH_MAX_CHARS),
        )]));
    }
    let mut tags = Vec::new();
    let mut any = false;
    for line in lines {
        if line.as_bytes().trim_ascii() == b"*" {
            any = true;
        } else {
            tags.extend(parse_entity_tags(line.as_bytes()).ok_or_else(if_match_malformed)?);
        }
    }
    match (any, tags.is_empty()) {
        (true, true) => Ok(Some(Expected::Any)),
        // `*` is the whole field value (RFC 9110 §13.1.1); mixed with tags, or no tag at all, is malformed.
        (true, false) | (false, true) => Err(if_match_malformed()),
        (false, false) => Ok(Some(Expected::Tags(tags))),
    }
}

fn if_match_malformed() -> ApiError {
    ApiError::BadRequest(vec![FieldError::new(
        "/header/If-Match",
        "invalid_format",
        MessageParams::format(Format::ETag),
    )])
}

/// `#entity-tag` (RFC 9110 §5.6.1, §8.8.3): entity-tags separated by commas and optional whitespace, empty
/// elements allowed; `None` when malformed. An opaque tag is `etagc` characters (`!`, `#`–`~` and obs-text, so a
/// comma may be inside the quotes) between double quotes, with a case-sensitive `W/` before a weak one.
fn parse_entity_tags(bytes: &[u8]) -> Option<Vec<EntityTag>> {
    let is_ows = |b: u8| b == b' ' || b == b'\t';
    let is_etagc = |b: u8| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80;
    let mut tags = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && (is_ows(bytes[i]) || bytes[i] == b',') {
            i += 1;
        }
        if i == bytes.len() {
            return Some(tags);
        }
        let weak = bytes[i..].starts_with(b"W/");
        if weak {
            i += 2;
        }
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        let start = i;
        while i < bytes.len() && is_etagc(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        let opaque = String::from_utf8_lossy(&bytes[start..i]).into_owned();
        i += 1;
        tags.push(EntityTag { weak, opaque });
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        if i < bytes.len() && bytes[i] != b',' {
            return None;
        }
    }
}

impl Expected {
    /// 412 unless the resource is still at a version the client names: `*` matches any, a list matches when one
    /// of its tags is the current ETag by the strong comparison (RFC 9110 §8.8.3.2) — a weak tag never matches.
    pub fn check(&self, current_version: i64) -> ApiResult<()> {
        let current = current_version.to_string();
        match self {
            Expected::Any => Ok(()),
            Expected::Tags(tags) if tags.iter().any(|t| !t.weak && t.opaque == current) => Ok(()),
            Expected::Tags(_) => Err(ApiError::PreconditionFailed { current_version }),
        }
    }
}

/// `If-Match` that must be present (PATCH): 428 without it.
pub fn required_if_match(req: &HttpRequest) -> ApiResult<Expected> {
    if_match(req)?.ok_or(ApiError::PreconditionRequired)
}

/// The `ETag` of a resource version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// 200 with the resource and its `ETag`.
pub use crate::core::types::Versioned;

pub fn ok_with_etag<T: Serialize>(version: i64, body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use validator::Validate;

    impl Checked for Inner {}
    impl Checked for Outer {}

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Inner {
        #[validate(range(min = 0, max = 10))]
        some_value: i64,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Outer {
        #[validate(length(min = 3, max = 5))]
        title_text: String,
        #[validate(nested)]
        inner: Inner,
    }

    #[test]
    fn every_failed_field_is_named() {
        let err = parse_json::<Outer>(br#"{"titleText":"ab","inner":{"someValue":11}}"#);
        let Err(ApiError::Validation(errors)) = err else {
            panic!("expected validation error, got {err:?}");
        };
        let mut pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        pointers.sort();
        assert_eq!(pointers, vec!["/inner/someValue", "/titleText"]);
    }

    #[test]
    fn unknown_and_mistyped_fields() {
        let err = parse_json::<Outer>(br#"{"titleText":"abc","inner":{"someValue":1,"extra":1}}"#);
        let Err(ApiError::BadRequest(errors)) = err else {
            panic!("expected bad request, got {err:?}");
        };
        assert_eq!(errors[0].pointer, "/inner/extra");
        let err = parse_json::<Outer>(br#"{"titleText":"abc","inner":{"someValue":"x"}}"#);
        let Err(ApiError::Validation(errors)) = err else {
            panic!("expected validation error, got {err:?}");
        };
        assert_eq!(errors[0].pointer, "/inner/someValue");
        assert_eq!(errors[0].code, "invalid_type");
    }

    #[test]
    fn entity_tag_lists() {
        let tag = |weak, opaque: &str| EntityTag {
            weak,
            opaque: opaque.into(),
        };
        assert_eq!(parse_entity_tags(br#""3""#), Some(vec![tag(false, "3")]));
        assert_eq!(
            parse_entity_tags(br#" "3",W/"4" , ,"a,b""#),
            Some(vec![tag(false, "3"), tag(true, "4"), tag(false, "a,b")])
        );
        assert_eq!(parse_entity_tags(br#""""#), Some(vec![tag(false, "")]));
        for bad in [
            &b"3"[..],
            br#""3"#,
            br#"w/"3""#,
            br#""3" "4""#,
            br#""3", *"#,
            br#""a b""#,
            b"W/3",
        ] {
            assert_eq!(parse_entity_tags(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn if_match_compares_strongly() {
        let tags = |list: &[u8]| Expected::Tags(parse_entity_tags(list).unwrap());
        assert!(Expected::Any.check(7).is_ok());
        assert!(tags(br#""6", "7""#).check(7).is_ok());
        for stale in [&br#""6", "8""#[..], br#"W/"7""#, br#""07""#, br#""0-stale""#] {
            assert!(
                matches!(
                    tags(stale).check(7),
                    Err(ApiError::PreconditionFailed { current_version: 7 })
                ),
                "{}",
                String::from_utf8_lossy(stale)
            );
        }
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse_json::<Outer>(b"{\n  \"titleText\": ");
        assert!(matches!(err, Err(ApiError::MalformedJson { line: 2, .. })), "{err:?}");
    }
}

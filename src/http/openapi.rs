//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` annotations through the route table, so that
//! router and spec cannot drift. `openapi/openapi.json` is the committed copy; a test keeps them equal.

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{ContactBuilder, OpenApi as OpenApiDoc, RefOr, Required, Response};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::Problem;
pub use crate::http::openapi_fields::{ListParameter, REQUIRED_INPUT_FIELDS, patterns};
use crate::http::openapi_fields::{
    body_formats, list_pattern, request_schemas, required_fields_not_null, required_on_create, text_in_json_content,
    text_strings,
};

/// Declares reusable problem responses (`application/problem+json`) with an example each.
macro_rules! problem_responses {
    ($($name:ident => $description:literal, $status:literal, $slug:literal, $title:literal, $detail:literal;)+) => {
        $(
            #[derive(ToResponse)]
            #[response(
                description = $description,
                content_type = "application/problem+json",
                example = json!({
                    "type": concat!("https://versorgung.hessen.de/problems/", $slug),
                    "title": $title,
                    "status": $status,
                    "detail": $detail,
                    "instance": "/api/v1/funding-lines/GK",
                    "requestId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1"
                })
            )]
            #[allow(dead_code)]
            pub struct $name(Problem);
        )+

        fn problem_response_components() -> Vec<(String, RefOr<Response>)> {
            vec![$( (<$name as ToResponse>::response().0.to_string(), <$name as ToResponse>::response().1) ),+]
        }
    };
}

problem_responses! {
    BadRequest => "Malformed request: invalid JSON (with line and column; an empty body where one is required too), an unknown field, or a bad query parameter or header (such as an `If-Match` that is not `*` or a list of ETags); `errors` names each.", 400, "bad-request", "Bad request", "The request is malformed in 1 place(s); see errors.";
    Unauthorized => "No bearer token, or one that is expired, badly signed, or not meant for this service. Comes with `WWW-Authenticate: Bearer`.", 401, "unauthorized", "Unauthorized", "This operation needs a bearer token in the Authorization header.";
    Forbidden => "The caller's role may not perform this operation.", 403, "forbidden", "Forbidden", "Your role may not perform this operation.";
    NotFound => "No such resource, or it is outside the caller's scope (existence is not revealed).", 404, "not-found", "Not found", "No resource exists at this address, or it is not visible to you.";
    Conflict => "The request conflicts with the current state; `code` says how (e.g. `already_exists`, `budget_below_committed`).", 409, "conflict", "Conflict", "A resource with this key already exists.";
    PreconditionFailed => "No ETag in `If-Match` is the current one (strong comparison: a weak tag never matches); `currentVersion` gives the current version.", 412, "precondition-failed", "Precondition failed", "The resource was changed since you read it; it is now at version 2. Read it again and retry.";
    PayloadTooLarge => "The body exceeds the configured limit (default 1 MiB).", 413, "payload-too-large", "Payload too large", "The request body exceeds 1048576 bytes.";
    UnsupportedMediaType => "The body is not sent in an accepted media type: `application/json` (or `application/merge-patch+json`) for JSON operations, one of the listed file types for an upload.", 415, "unsupported-media-type", "Unsupported media type", "The request body must be sent as application/json.";
    ValidationFailed => "The values break the resource's rules; `errors` lists every failed field by JSON pointer.", 422, "validation", "Validation failed", "The request contains 1 invalid field(s); see errors.";
    PreconditionRequired => "`If-Match` is required for this change.", 428, "precondition-required", "Precondition required", "Send If-Match with the ETag you last read, so that concurrent changes are not lost.";
    TooManyRequests => "The client (its token or its address) is over its rate limit; retry after `Retry-After` seconds.", 429, "too-many-requests", "Too many requests", "Too many requests from this client. Retry after 1 second(s).";
    Internal => "Unexpected failure; the cause is logged with the request id, never returned.", 500, "internal", "Internal server error", "An unexpected error occurred. It has been logged with the request id.";
    Unavailable => "The database is unreachable or busy; retry after `Retry-After` seconds.", 503, "service-unavailable", "Service unavailable", "The service is temporarily unavailable. Retry after the time given in Retry-After.";
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Versorgung API",
        description = include_str!("../../docs/api-intro.md"),
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    components(schemas(Problem, crate::error::FieldError)),
    tags(
        (name = "Districts", description = "Hessen's 26 Kreise and kreisfreie Städte (reference data)."),
        (name = "Organisations", description = "Applicants: districts, Gemeinden and Träger."),
        (name = "Funding lines", description = "Förderlinien of the guideline, with their rules and budgets."),
        (name = "Applications", description = "Förderanträge from draft to decision."),
        (name = "Grant notices", description = "Zuwendungsbescheide: drafted by an approval, completed and issued by the ministry under four eyes."),
        (name = "Payment requests", description = "Mittelabrufe: requested by the recipient, checked and approved by different ministry people, paid."),
        (name = "Proofs of use", description = "Zwischen- und Verwendungsnachweise: scheduled by the notice, written by the recipient, reviewed by two ministry people."),
        (name = "Settlements", description = "Schlussabrechnungen: proposed from the accepted proofs of use, confirmed by another ministry person; close the notice and release the unused commitment."),
        (name = "Recovery claims", description = "Rückforderungen: a hearing, a decision under four eyes, interest at 5 points above the base rate, repaid, in instalments or waived."),
        (name = "Base rates", description = "Basiszinssatz (§ 247 BGB) per half-year, the reference of the interest on recovery claims; the ministry adds each new half-year."),
        (name = "Attachments", description = "Anlagen: files attached to applications, notices, payment requests, proofs of use, recovery claims, committee meetings, referrals and coordinators; streamed, checked by their magic bytes, hashed, kept for the retention period."),
        (name = "Early-start consents", description = "Vorzeitiger Maßnahmebeginn: the recipient asks to begin before the approval; the ministry consents or refuses. An application whose start lies before its approval day is approved only with a consent."),
        (name = "Change requests", description = "Änderungsmitteilungen und Änderungsanträge during the project: acknowledged, or granted (drafting the amending notice) or refused."),
        (name = "Obligations", description = "Fristen: every open duty with its due date, and the reminders before and after it."),
        (name = "Referrals", description = "Vermittlungen: ideas from the regions into committees, requests from committees into the regions."),
        (name = "Knowledge", description = "Wissensfundament: good practice, FAQs, guidance, contact pointers and lessons learned; reviewed, published for staff, the network or everyone; German full-text search."),
        (name = "Consultations", description = "Beratungen: the service unit's log of consultations with municipalities; the municipality reads its own, without the internal notes."),
        (name = "Topics", description = "Themen: the service unit's controlled, hierarchical vocabulary; committees and referrals carry topic codes, and a filter by a topic finds its sub-topics."),
        (name = "Committees", description = "Gremien, AGs, regional health conferences and units of other ministries, with members and meetings; meetings record their outcomes (resolutions, results, decisions, attendance)."),
        (name = "Action items", description = "Arbeitsaufträge: follow-ups a committee meeting assigns to an organisation, a committee or the service unit; duties in /obligations until done or cancelled."),
        (name = "Coordinators", description = "The register of health coordinators (Gesundheitskoordination); contact data is personal data."),
        (name = "Events", description = "The change feed for district IT: every change, in order, as the caller may see it."),
        (name = "Statistics", description = "Counts and sums of applications for the service unit and the ministry."),
        (name = "Digests", description = "E-mail digests: a daily or weekly German summary of the events a subscriber follows (by type, topic, district, committee)."),
        (name = "Webhooks", description = "Signed push delivery of the change feed (Standard Webhooks)."),
        (name = "OParl", description = "The committees as an OParl 1.1 system (https://oparl.org): System, Body, Organization, Person, Membership, Meeting, AgendaItem, Paper, File; readable without a token."),
        (name = "Operations", description = "Health checks for orchestrators."),
    ),
    modifiers(&Finish),
)]
struct ApiDoc;

/// Adds what every document needs beyond the handlers: server, contact, the bearer scheme, the reusable problem
/// responses, and the 500/503 answers that any operation touching the database may give.
struct Finish;

impl Modify for Finish {
    fn modify(&self, doc: &mut OpenApiDoc) {
        // One server entry, relative: the document is served by the deployment it describes (local, test or
        // production), so the Swagger UI and generated clients talk to whichever instance they got it from.
        doc.servers = Some(vec![
            ServerBuilder::new()
                .url("/")
                .description(Some(
                    "This deployment: the instance that serves this document (local, test or production).",
                ))
                .extensions(Some(Extensions::from_iter([("x-internal", false)])))
                .build(),
        ]);
        doc.info.contact = Some(
            ContactBuilder::new()
                .name(Some("Serviceeinheit Gesundheitsversorgung"))
                .url(Some("https://versorgung.hessen.de"))
                .build(),
        );
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT with the claims `sub` (at most 255 characters), `role` (`municipality`, \
                         `service_unit`, `ministry`), `org` (required for municipalities: AGS or organisation id) \
                         and `exp`. Locally: `versorgung token --role ministry`. In production the tokens come \
                         from the identity provider (Keycloak or another OpenID provider), whose own claims the \
                         deployment maps to the role and organisation (for example `realm_access.roles` and an \
                         attribute holding the AGS); a token that maps to no role, to several roles or to an \
                         organisation that does not exist is refused with 401. The service follows RFC8725 (JSON \
                         Web Token Best Current Practices): exactly one configured algorithm is accepted \
                         (`HS256`, `RS256` or `ES256`; `none` and every other `alg` are refused), `exp` is \
                         required, and `iss` and `aud` are checked when configured.",
                    ))
                    .build(),
            ),
        );
        for (name, mut response) in problem_response_components() {
            if let RefOr::T(response) = &mut response {
                for (header, value) in problem_headers(&name) {
                    response.headers.insert(header.to_owned(), value);
                }
            }
            components.responses.insert(name, response);
        }
    }
}

/// The longest `Retry-After` the service sends, in seconds (it sends 1–2; a day is the documented ceiling).
const MAX_RETRY_AFTER_SECS: i32 = 86_400;

/// Headers that come with a problem response, by response name. The problem responses of status 4xx also carry the
/// rate limit headers (they answer requests to `/api/v1`, which are rate limited).
fn problem_headers(name: &str) -> Vec<(&'static str, Header)> {
    let mut headers = match name {
        "Unauthorized" => vec![(
            "WWW-Authenticate",
            string_header(
                "`Bearer realm=\"versorgung\"`, with `error=\"invalid_token\"` for a refused token.",
                200,
            ),
        )],
        "TooManyRequests" | "Unavailable" => vec![(
            "Retry-After",
            int32_header("Seconds to wait before retrying.", 1, MAX_RETRY_AFTER_SECS),
        )],
        _ => vec![],
    };
    headers.push((
        "Content-Language",
        string_header(
            "The language of `detail` and the field messages (`de` or `en`, from `Accept-Language`).",
            2,
        ),
    ));
    if !matches!(name, "Internal" | "Unavailable") {
        headers.extend(rate_limit_headers());
    }
    headers
}

/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (the IETF draft's separate fields), as
/// [`crate::ratelimit`] sends them on every answer to a rate-limited path while a limit is configured. Not required:
/// a deployment may switch the limits off (rate 0), and then the headers are absent.
fn rate_limit_headers() -> Vec<(&'static str, Header)> {
    vec![
        (
            "RateLimit-Limit",
            int32_header(
                "Requests the client may send at once (the burst of the tighter of its token's and its address's \
                 limits). Sent while rate limits are configured.",
                1,
                i32::MAX,
            ),
        ),
        (
            "RateLimit-Remaining",
            int32_header(
                "Requests the client may still send at once. Sent while rate limits are configured.",
                0,
                i32::MAX,
            ),
        ),
        (
            "RateLimit-Reset",
            int32_header(
                "Seconds until the client's allowance is full again. Sent while rate limits are configured.",
                0,
                i32::MAX,
            ),
        ),
    ]
}

fn int32_header(description: &str, minimum: i32, maximum: i32) -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(minimum))
                .maximum(Some(maximum))
                .build(),
        )
        .description(Some(description))
        .build()
}

fn string_header(description: &str, max_length: usize) -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(max_length))
                .build(),
        )
        .description(Some(description))
        .build()
}

/// The base document, before the handlers' paths are merged in.
pub fn base() -> OpenApiDoc {
    ApiDoc::openapi()
}

/// Limits of strings the handlers' types leave open (see docs/decisions.md, "OpenAPI limits and headers").
mod limits {
    /// `8-4-4-4-12` hex digits.
    pub const UUID: usize = 36;
    /// `YYYY-MM-DD`.
    pub const DATE: usize = 10;
    /// RFC 3339 with nanoseconds and an offset: `2026-11-22T09:00:00.123456789+01:00` (35 characters).
    pub const DATE_TIME: usize = 35;
    /// Any other string without a stated limit: the largest free-text limit of the service (a description), so
    /// that nothing the service stores from input or makes itself is longer.
    pub const TEXT: usize = 20_000;
    /// `ETag`: `"` + a version (at most 19 digits) + `"`.
    pub const ETAG: usize = 24;
    /// `Location`: the path of a new resource.
    pub const LOCATION: usize = 200;
    /// `If-Match`: `*` or a list of ETags; a longer value is refused ([`crate::http::extract::if_match`]).
    pub const IF_MATCH: usize = crate::http::extract::IF_MATCH_MAX_CHARS;
    /// `Idempotency-Key`: 1–255 visible ASCII characters ([`crate::http::idempotency::key_of`]).
    pub const IDEMPOTENCY_KEY: usize = 255;
    /// Path keys that are not UUIDs: a funding line code, a district AGS, and otherwise a UUID or an AGS (an
    /// organisation is addressed by either).
    pub const FUNDING_LINE_CODE: usize = 10;
    pub const DISTRICT_AGS: usize = 5;
    pub const PATH_KEY: usize = UUID;
}

/// Adds the identity provider's OAuth 2.0 client-credentials flow as `oauth2`, a second way into every operation that
/// takes `bearerAuth`. Without a token endpoint the document stays as it is (and equals `openapi/openapi.json`).
pub fn with_client_credentials(mut doc: OpenApiDoc, token_url: Option<&str>) -> OpenApiDoc {
    use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityRequirement};
    let Some(token_url) = token_url else {
        return doc;
    };
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "oauth2",
        SecurityScheme::OAuth2(OAuth2::with_description(
            [Flow::ClientCredentials(ClientCredentials::new(
                token_url,
                Scopes::new(),
            ))],
            "OAuth 2.0 client credentials at this deployment's identity provider: the client id and secret it issued \
             get an access token, sent as a bearer token. Which role and organisation the token carries is set in \
             the provider (see the README's production section).",
        )),
    );
    let bearer = |r: &SecurityRequirement| serde_json::to_value(r).is_ok_and(|v| v.get("bearerAuth").is_some());
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            if let Some(security) = op.security.as_mut()
                && security.iter().any(bearer)
            {
                security.push(SecurityRequirement::new("oauth2", Vec::<String>::new()));
            }
        }
    }
    doc
}

/// The operations of one path, for the passes below that touch every operation.
fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.post.as_mut(),
        item.put.as_mut(),
        item.patch.as_mut(),
        item.delete.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Adds the generic failure responses to every operation (after the handlers' paths are merged in), and the limits
/// and headers that every operation shares (see docs/decisions.md, "OpenAPI limits and headers").
pub fn finish(mut doc: OpenApiDoc, lists: &[ListParameter]) -> OpenApiDoc {
    let internal = RefOr::Ref(utoipa::openapi::Ref::from_response_name("Internal"));
    let unavailable = RefOr::Ref(utoipa::openapi::Ref::from_response_name("Unavailable"));
    let too_many = RefOr::Ref(utoipa::openapi::Ref::from_response_name("TooManyRequests"));
    for (path, item) in doc.paths.paths.iter_mut() {
        let limited = !crate::http::ratelimit::exempt(path);
        for op in operations_mut(item) {
            // Handlers of different resources share names (`list`, `create`): qualify each with its tag, so that
            // ids are unique as OpenAPI requires and generated clients get one function per operation.
            if let (Some(tag), Some(id)) = (op.tags.as_ref().and_then(|t| t.first()), op.operation_id.as_mut()) {
                *id = format!(
                    "{}_{}",
                    crate::error::validation::camel_case(&tag.to_lowercase().replace(' ', "_")),
                    crate::error::validation::camel_case(id)
                );
            }
            standard_responses(op);
            let responses = &mut op.responses.responses;
            responses.entry("500".into()).or_insert_with(|| internal.clone());
            responses.entry("503".into()).or_insert_with(|| unavailable.clone());
            if limited {
                responses.entry("429".into()).or_insert_with(|| too_many.clone());
            }
            optional_bodies(op);
            bound_parameters(path, op, lists);
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                if limited && (status.starts_with('2') || status.starts_with('4')) {
                    for (name, header) in rate_limit_headers() {
                        response.headers.entry(name.to_owned()).or_insert(header);
                    }
                }
                bound_json_content(&mut response.content);
                bound_unpaged_lists(&mut response.content);
                for (name, header) in response.headers.iter_mut() {
                    bound_header(name, header);
                }
            }
            if let Some(body) = op.request_body.as_mut() {
                bound_json_content(&mut body.content);
                text_in_json_content(&mut body.content);
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        page_items_by_reference(components);
        body_formats(components);
        required_fields_not_null(components);
        let requests = request_schemas(&doc.paths, components);
        for (name, schema) in components.schemas.iter_mut() {
            bound_strings(schema);
            if requests.contains(name) {
                text_strings(schema);
            }
        }
        for response in components.responses.values_mut() {
            if let RefOr::T(response) = response {
                bound_json_content(&mut response.content);
            }
        }
    }
    required_headers(&mut doc);
    required_on_create(&mut doc);
    doc
}

/// The problem responses that follow from an operation's shape, added here so that each `#[utoipa::path]` states
/// only what is particular to it (403 for a role gate, 409 for a conflict, 400 for a path key with a format):
///
/// | shape | responses |
/// |---|---|
/// | a bearer token is accepted | 401 |
/// | a path parameter | 404 |
/// | query parameters | 400 |
/// | a request body | 400, 413, 415, 422 |
/// | an `Idempotency-Key` header | 400, 422 (a malformed key; a key reused with another body) |
/// | an `If-Match` header | 400 (a malformed value), 412; 428 when it is required |
///
/// 429, 500 and 503 are added to every operation by [`finish`].
fn standard_responses(op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |at: ParameterIn| params.iter().any(|p| p.parameter_in == at);
    let header = |name: &str| {
        params
            .iter()
            .find(|p| p.parameter_in == ParameterIn::Header && p.name == name)
    };
    let secured = op
        .security
        .iter()
        .flatten()
        .any(|requirement| requirement != &utoipa::openapi::security::SecurityRequirement::default());
    let body = op.request_body.is_some();
    let idempotent = header("Idempotency-Key").is_some();
    let if_match = header("If-Match").map(|p| p.required == Required::True);
    let mut add: Vec<(&str, &str)> = Vec::new();
    if secured {
        add.push(("401", "Unauthorized"));
    }
    if has(ParameterIn::Path) {
        add.push(("404", "NotFound"));
    }
    if has(ParameterIn::Query) || body || idempotent || if_match.is_some() {
        add.push(("400", "BadRequest"));
    }
    if body {
        add.extend([("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType")]);
    }
    if body || idempotent {
        add.push(("422", "ValidationFailed"));
    }
    match if_match {
        Some(true) => add.extend([("412", "PreconditionFailed"), ("428", "PreconditionRequired")]),
        Some(false) => add.push(("412", "PreconditionFailed")),
        None => {}
    }
    for (status, name) in add {
        op.responses
            .responses
            .entry(status.into())
            .or_insert_with(|| RefOr::Ref(utoipa::openapi::Ref::from_response_name(name)));
    }
}

/// A body that may be left out is documented as `Option<T>`, which utoipa renders as `oneOf [null, T]`. But JSON
/// `null` is not an allowed body (422): the body is either absent or a `T`. Say exactly that: not required, `T`.
fn optional_bodies(op: &mut Operation) {
    let Some(body) = op.request_body.as_mut() else { return };
    let mut optional = false;
    for content in body.content.values_mut() {
        let Some(RefOr::T(Schema::OneOf(one_of))) = content.schema.as_ref() else {
            continue;
        };
        let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if matches!(o.schema_type, SchemaType::Type(Type::Null)));
        if one_of.items.len() == 2 && one_of.items.iter().any(is_null) {
            let inner = one_of.items.iter().find(|s| !is_null(s)).cloned();
            content.schema = inner;
            optional = true;
        }
    }
    if optional {
        body.required = Some(Required::False);
    }
}

/// Limits of parameters: query strings as [`crate::http::extract::query_max_chars`] enforces them (or their format, when
/// tighter), headers and path keys as the service reads them; and the patterns of those whose format is checked.
fn bound_parameters(path: &str, op: &mut Operation, lists: &[ListParameter]) {
    for param in op.parameters.iter_mut().flatten() {
        let Some(RefOr::T(Schema::Object(schema))) = param.schema.as_mut() else {
            continue;
        };
        if !has_type(&schema.schema_type, Type::String) || schema.enum_values.is_some() {
            continue;
        }
        // A header is absent or a string, never `null` (an `Option<String>` parameter is documented as nullable).
        if param.parameter_in == ParameterIn::Header && has_type(&schema.schema_type, Type::Null) {
            schema.schema_type = SchemaType::Type(Type::String);
        }
        let pattern = match (&param.parameter_in, param.name.as_str()) {
            (ParameterIn::Query, "district" | "covers") | (ParameterIn::Path, "ags") => {
                Some(patterns::DISTRICT_AGS.to_owned())
            }
            (ParameterIn::Query, "fundingLine") => Some(patterns::FUNDING_LINE_CODE.to_owned()),
            (ParameterIn::Query, "topic" | "parent") => Some(patterns::TOPIC_CODE.to_owned()),
            (ParameterIn::Query, "types") => Some(patterns::EVENT_TYPES.to_owned()),
            (ParameterIn::Query, "cursor") => Some(patterns::CURSOR.to_owned()),
            (ParameterIn::Query, name) if schema.format.is_none() => {
                Some(list_pattern(path, name, lists).unwrap_or_else(|| patterns::QUERY_TEXT.to_owned()))
            }
            (ParameterIn::Header, "Idempotency-Key") => Some(patterns::IDEMPOTENCY_KEY.to_owned()),
            (ParameterIn::Header, "If-Match") => Some(patterns::IF_MATCH.to_owned()),
            // The one path key that is not a plain UUID: an organisation, by UUID or AGS.
            (ParameterIn::Path, "id") if schema.format.is_none() => Some(patterns::ORGANISATION_KEY.to_owned()),
            _ => None,
        };
        if schema.pattern.is_none() {
            schema.pattern = pattern;
        }
        if schema.max_length.is_some() {
            continue;
        }
        let by_format = format_max_length(schema.format.as_ref());
        let max = match param.parameter_in {
            ParameterIn::Query => by_format.unwrap_or_else(|| crate::http::extract::query_max_chars(&param.name)),
            ParameterIn::Header => match param.name.as_str() {
                "Idempotency-Key" => {
                    schema.min_length = Some(1);
                    limits::IDEMPOTENCY_KEY
                }
                "If-Match" => limits::IF_MATCH,
                _ => by_format.unwrap_or(limits::TEXT),
            },
            _ => by_format.unwrap_or(match param.name.as_str() {
                "code" => limits::FUNDING_LINE_CODE,
                "ags" => limits::DISTRICT_AGS,
                _ => limits::PATH_KEY,
            }),
        };
        schema.max_length = Some(max);
    }
}

fn bound_header(name: &str, header: &mut Header) {
    let RefOr::T(Schema::Object(schema)) = &mut header.schema else {
        return;
    };
    if has_type(&schema.schema_type, Type::String) && schema.max_length.is_none() && schema.enum_values.is_none() {
        schema.max_length = Some(match name {
            "ETag" => limits::ETAG,
            "Location" => limits::LOCATION,
            _ => limits::TEXT,
        });
    }
}

pub(crate) fn has_type(schema_type: &SchemaType, wanted: Type) -> bool {
    match schema_type {
        SchemaType::Type(t) => *t == wanted,
        SchemaType::Array(types) => types.contains(&wanted),
        _ => false,
    }
}

fn format_max_length(format: Option<&SchemaFormat>) -> Option<usize> {
    match format? {
        SchemaFormat::KnownFormat(KnownFormat::Uuid) => Some(limits::UUID),
        SchemaFormat::KnownFormat(KnownFormat::Date) => Some(limits::DATE),
        SchemaFormat::KnownFormat(KnownFormat::DateTime) => Some(limits::DATE_TIME),
        _ => None,
    }
}

/// [`bound_strings`] for the JSON bodies of a request or response. Other media types (the CSV exports, the
/// Prometheus text) are one string whose size follows the data; they keep no limit (waived in .spectral.yaml).
fn bound_json_content<M>(content: &mut M)
where
    for<'a> &'a mut M: IntoIterator<Item = (&'a String, &'a mut utoipa::openapi::Content)>,
{
    for (media_type, content) in content {
        if media_type.contains("json")
            && let Some(schema) = content.schema.as_mut()
        {
            bound_strings(schema);
        }
    }
}

/// A response that is a bare JSON array (a list without paging) holds at most
/// [`crate::http::pagination::MAX_UNPAGED`] items.
fn bound_unpaged_lists<M>(content: &mut M)
where
    for<'a> &'a mut M: IntoIterator<Item = (&'a String, &'a mut utoipa::openapi::Content)>,
{
    for (media_type, content) in content {
        if media_type.contains("json")
            && let Some(RefOr::T(Schema::Array(list))) = content.schema.as_mut()
            && list.max_items.is_none()
        {
            list.max_items = Some(crate::http::pagination::MAX_UNPAGED as usize);
        }
    }
}

/// Gives every string without a stated limit (no `maxLength`, no `enum`) the limit its format implies, or
/// [`limits::TEXT`]; through properties, array items and compositions.
fn bound_strings(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            if has_type(&o.schema_type, Type::String) && o.max_length.is_none() && o.enum_values.is_none() {
                o.max_length = Some(format_max_length(o.format.as_ref()).unwrap_or(limits::TEXT));
            }
            o.properties.values_mut().for_each(bound_strings);
            if let Some(AdditionalProperties::RefOr(inner)) = o.additional_properties.as_deref_mut() {
                bound_strings(inner);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                bound_strings(items);
            }
        }
        Schema::OneOf(c) => c.items.iter_mut().for_each(bound_strings),
        Schema::AllOf(c) => c.items.iter_mut().for_each(bound_strings),
        Schema::AnyOf(c) => c.items.iter_mut().for_each(bound_strings),
        _ => {}
    }
}

/// utoipa inlines the item type of a generic `Page<T>`; refer to the registered `T` instead, so that clients get one
/// type per resource (and every registered schema is used).
fn page_items_by_reference(components: &mut utoipa::openapi::Components) {
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for (name, schema) in components.schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if !names.iter().any(|n| n == item) {
            continue;
        }
        let RefOr::T(Schema::Object(page)) = schema else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
            items.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(item))));
        }
    }
}

/// Marks the response headers the service always sends as `required`: `ETag` with a resource (200/201), `Location`
/// with a creation (201), `WWW-Authenticate` with 401, `Retry-After` with 429 and 503. utoipa's header type has no
/// `required`, so each response's headers are written out as JSON (the same content, plus `required`).
fn required_headers(doc: &mut OpenApiDoc) {
    for item in doc.paths.paths.values_mut() {
        for op in operations_mut(item) {
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(response) = response {
                    let required: &[&str] = match status.as_str() {
                        "200" => &["ETag"],
                        "201" => &["ETag", "Location"],
                        _ => &[],
                    };
                    headers_as_json(response, required);
                }
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        for response in components.responses.values_mut() {
            if let RefOr::T(response) = response {
                headers_as_json(response, &["WWW-Authenticate", "Retry-After", "Content-Language"]);
            }
        }
    }
}

fn headers_as_json(response: &mut Response, required: &[&str]) {
    if response.headers.is_empty() {
        return;
    }
    let mut headers = serde_json::Map::new();
    for (name, header) in std::mem::take(&mut response.headers) {
        let mut value = serde_json::to_value(&header).unwrap_or_default();
        if required.contains(&name.as_str())
            && let Some(object) = value.as_object_mut()
        {
            object.insert("required".into(), true.into());
        }
        headers.insert(name, value);
    }
    response
        .extensions
        .get_or_insert_with(Default::default)
        .insert("headers".into(), serde_json::Value::Object(headers));
}

/// The document as served and committed, pretty-printed with a trailing newline.
pub fn to_pretty_json(doc: &OpenApiDoc) -> String {
    let mut s = doc.to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

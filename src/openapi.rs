//! The OpenAPI document: generated from the handlers' `#[utoipa::path]` annotations through the route table, so that
//! router and spec cannot drift. `openapi/openapi.json` is the committed copy; a test keeps them equal.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, RefOr, Response};
use utoipa::{Modify, OpenApi, ToResponse};

use crate::error::Problem;

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
    BadRequest => "Malformed request: invalid JSON (with line and column), an unknown field, or a bad query parameter or header; `errors` names each.", 400, "bad-request", "Bad request", "The request is malformed in 1 place(s); see errors.";
    Unauthorized => "No bearer token, or one that is expired, badly signed, or not meant for this service. Comes with `WWW-Authenticate: Bearer`.", 401, "unauthorized", "Unauthorized", "This operation needs a bearer token in the Authorization header.";
    Forbidden => "The caller's role may not perform this operation.", 403, "forbidden", "Forbidden", "Your role may not perform this operation.";
    NotFound => "No such resource, or it is outside the caller's scope (existence is not revealed).", 404, "not-found", "Not found", "No resource exists at this address, or it is not visible to you.";
    Conflict => "The request conflicts with the current state; `code` says how (e.g. `already_exists`, `budget_below_committed`).", 409, "conflict", "Conflict", "A resource with this key already exists.";
    PreconditionFailed => "`If-Match` names an older version; `currentVersion` gives the current one.", 412, "precondition-failed", "Precondition failed", "The resource was changed since you read it; it is now at version 2. Read it again and retry.";
    PayloadTooLarge => "The body exceeds the configured limit (default 1 MiB).", 413, "payload-too-large", "Payload too large", "The request body exceeds 1048576 bytes.";
    UnsupportedMediaType => "The body is not sent as `application/json` (or `application/merge-patch+json`).", 415, "unsupported-media-type", "Unsupported media type", "The request body must be sent as application/json.";
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
        description = include_str!("../docs/api-intro.md"),
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    components(schemas(Problem, crate::error::FieldError)),
    tags(
        (name = "Districts", description = "Hessen's 26 Kreise and kreisfreie Städte (reference data)."),
        (name = "Organisations", description = "Applicants: districts, Gemeinden and Träger."),
        (name = "Funding lines", description = "Förderlinien of the guideline, with their rules and budgets."),
        (name = "Applications", description = "Förderanträge from draft to decision."),
        (name = "Referrals", description = "Vermittlungen: ideas from the regions into committees, requests from committees into the regions."),
        (name = "Committees", description = "Gremien, AGs, regional health conferences and units of other ministries, with members and meetings."),
        (name = "Coordinators", description = "The register of health coordinators (Gesundheitskoordination); contact data is personal data."),
        (name = "Events", description = "The change feed for district IT: every change, in order, as the caller may see it."),
        (name = "Statistics", description = "Counts and sums of applications for the service unit and the ministry."),
        (name = "Webhooks", description = "Signed push delivery of the change feed (Standard Webhooks)."),
        (name = "Operations", description = "Health checks for orchestrators."),
    ),
    modifiers(&Finish),
)]
struct ApiDoc;

/// Adds what every document needs beyond the handlers: the bearer scheme, the reusable problem responses, and the
/// 500/503 answers that any operation touching the database may give.
struct Finish;

impl Modify for Finish {
    fn modify(&self, doc: &mut OpenApiDoc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT with the claims `sub`, `role` (`municipality`, `service_unit`, `ministry`), `org` \
                         (required for municipalities: AGS or organisation id) and `exp`. Locally: \
                         `versorgung token --role ministry`.",
                    ))
                    .build(),
            ),
        );
        for (name, mut response) in problem_response_components() {
            if let RefOr::T(response) = &mut response {
                for (header, description) in problem_headers(&name) {
                    response.headers.insert(
                        (*header).to_owned(),
                        HeaderBuilder::new()
                            .schema(utoipa::openapi::schema::Object::with_type(
                                if *header == "Retry-After" {
                                    utoipa::openapi::schema::Type::Integer
                                } else {
                                    utoipa::openapi::schema::Type::String
                                },
                            ))
                            .description(Some(*description))
                            .build(),
                    );
                }
            }
            components.responses.insert(name, response);
        }
        // The application lifecycle, generated from the transition table.
        if let Some(tag) = doc
            .tags
            .as_mut()
            .and_then(|tags| tags.iter_mut().find(|t| t.name == "Applications"))
        {
            tag.description = Some(format!(
                "Förderanträge from draft to decision. Lifecycle (`POST /applications/{{id}}/{{action}}`):\n\n{}",
                crate::applications::model::transitions_markdown()
            ));
        }
        if let Some(tag) = doc
            .tags
            .as_mut()
            .and_then(|tags| tags.iter_mut().find(|t| t.name == "Referrals"))
        {
            tag.description = Some(format!(
                "Vermittlungen: ideas from the regions into committees, requests from committees into the regions. \
                 Lifecycle (`POST /referrals/{{id}}/{{action}}`):\n\n{}",
                crate::referrals::transitions_markdown()
            ));
        }
    }
}

/// Headers that come with a problem response, by response name.
fn problem_headers(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "Unauthorized" => &[(
            "WWW-Authenticate",
            "`Bearer realm=\"versorgung\"`, with `error=\"invalid_token\"` for a refused token.",
        )],
        "TooManyRequests" | "Unavailable" => &[("Retry-After", "Seconds to wait before retrying.")],
        _ => &[],
    }
}

/// The base document, before the handlers' paths are merged in.
pub fn base() -> OpenApiDoc {
    ApiDoc::openapi()
}

/// Adds the generic failure responses to every operation (after the handlers' paths are merged in).
pub fn finish(mut doc: OpenApiDoc) -> OpenApiDoc {
    let internal = RefOr::Ref(utoipa::openapi::Ref::from_response_name("Internal"));
    let unavailable = RefOr::Ref(utoipa::openapi::Ref::from_response_name("Unavailable"));
    let too_many = RefOr::Ref(utoipa::openapi::Ref::from_response_name("TooManyRequests"));
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            // Handlers of different resources share names (`list`, `create`): qualify each with its tag, so that
            // ids are unique as OpenAPI requires and generated clients get one function per operation.
            if let (Some(tag), Some(id)) = (op.tags.as_ref().and_then(|t| t.first()), op.operation_id.as_mut()) {
                *id = format!(
                    "{}_{}",
                    crate::extract::camel_case(&tag.to_lowercase().replace(' ', "_")),
                    crate::extract::camel_case(id)
                );
            }
            let responses = &mut op.responses.responses;
            responses.entry("500".into()).or_insert_with(|| internal.clone());
            responses.entry("503".into()).or_insert_with(|| unavailable.clone());
            if !crate::ratelimit::exempt(path) {
                responses.entry("429".into()).or_insert_with(|| too_many.clone());
            }
        }
    }
    doc
}

/// The document as served and committed, pretty-printed with a trailing newline.
pub fn to_pretty_json(doc: &OpenApiDoc) -> String {
    let mut s = doc.to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

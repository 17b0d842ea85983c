//! What the OpenAPI document says of values beyond their types, so that it states what the service checks: the
//! patterns of checked formats, the lists that query filters take, the text rules of every body, the formats of
//! body fields, and the required fields of the input types that creations and merge patches share. Applied by
//! [`crate::http::openapi::finish`]; `tests/api/openapi.rs` holds the patterns to the checks.

use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayItems, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{OpenApi as OpenApiDoc, RefOr};

use crate::http::openapi::has_type;

/// Patterns of the values whose format the service checks, each saying exactly what the check accepts (tested
/// against the checks in tests/api/openapi.rs).
pub mod patterns {
    /// A five-digit district AGS of Hessen ([`crate::core::types::is_district_ags`]).
    pub const DISTRICT_AGS: &str = "^06[0-9]{3}$";
    /// A funding line code ([`crate::core::types::is_funding_line_code`]).
    pub const FUNDING_LINE_CODE: &str = "^[A-Z][A-Z0-9]{1,9}$";
    /// A topic code (`core::types::is_topic_code`; at most 60 characters, stated as `maxLength`).
    pub const TOPIC_CODE: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
    /// Comma-separated event types ([`crate::core::types::is_event_type`]).
    pub const EVENT_TYPES: &str = r"^[a-z_]{1,32}\.[a-z_]{1,31}(,[a-z_]{1,32}\.[a-z_]{1,31})*$";
    /// An organisation's key: a UUID (hyphenated or 32 hex digits, as [`uuid::Uuid::parse_str`] reads it within
    /// 36 characters) or a district or Gemeinde AGS.
    pub const ORGANISATION_KEY: &str = "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{32}|06[0-9]{3}|06[0-9]{6})$";
    /// `Idempotency-Key`: 1–255 visible ASCII characters ([`crate::http::idempotency::key_of`]).
    pub const IDEMPOTENCY_KEY: &str = r"^[\x21-\x7E]{1,255}$";
    /// `If-Match`: `*` alone, or a list of one or more entity-tags separated by commas and optional whitespace
    /// (empty elements allowed), as [`crate::http::extract::if_match`] reads it.
    pub const IF_MATCH: &str = r#"^([ \t]*\*[ \t]*|[ \t,]*(W/)?"[\x21\x23-\x7E\x80-\xFF]*"[ \t]*(,[ \t,]*(W/)?"[\x21\x23-\x7E\x80-\xFF]*"[ \t]*)*(,[ \t,]*)?)$"#;
    /// Any other query value: no control character and no U+FFFD, which the URL decoder puts in place of bytes that
    /// are not UTF-8 ([`crate::http::extract`], `query_value_error`).
    pub const QUERY_TEXT: &str = r"^[^\x00-\x1F\x7F-\x9F\uFFFD]*$";
    /// A string of a JSON body: no control character but tab, line feed and carriage return
    /// ([`crate::http::extract`], `control_characters`).
    pub const TEXT: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
    /// A page cursor: unpadded URL-safe base64 ([`crate::http::pagination`]); only one the service issued is valid.
    pub const CURSOR: &str = "^[A-Za-z0-9_-]*$";
    /// `sort` of the application list ([`crate::applications::store::SortField::parse`]).
    pub const APPLICATION_SORT: &str = "^-?(createdAt|submittedAt|requestedCents|title)$";
    /// An event type a webhook subscribes to: `*`, or lower-case letters, `_` and `.` with at least one `.`
    /// ([`crate::webhooks::model::event_type_errors`]; at most 100 characters, the `maxLength`).
    pub const SUBSCRIBED_EVENT_TYPE: &str = r"^(\*|[a-z_.]*\.[a-z_.]*)$";
    /// A meeting's link: `http(s)://`, a host name and a path of visible ASCII (a part of what the service accepts,
    /// any URL with the scheme `http` or `https`).
    pub const WEB_LINK: &str = r"^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(/[!-~]*)?$";
    /// The whitespace that `str::trim` removes from the items of a comma-separated list and that the query checks
    /// let through (tab, line breaks and U+0085 are control characters, refused before).
    const TRIMMED: &str = r"[ \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

    /// A comma-separated list of `values` as the list filters read it: items trimmed, empty items ignored (so the
    /// empty string is the empty list), every other item one of `values`.
    pub fn comma_list(values: &[&str]) -> String {
        let item = format!("{TRIMMED}*(({}){TRIMMED}*)?", values.join("|"));
        format!("^{item}(,{item})*$")
    }
}

/// A query parameter that takes a comma-separated list of fixed values (a filter by states, the dimensions of a
/// grouping): the operation's path, the parameter's name and the values. The resources know them; `routes` lists
/// them for [`crate::http::openapi::finish`].
pub struct ListParameter {
    pub path: &'static str,
    pub name: &'static str,
    pub values: Vec<&'static str>,
}

/// The pattern of a query parameter that is a list of fixed values ([`ListParameter`]) or the application list's
/// `sort`.
pub(super) fn list_pattern(path: &str, name: &str, lists: &[ListParameter]) -> Option<String> {
    if (path, name) == ("/api/v1/applications", "sort") {
        return Some(patterns::APPLICATION_SORT.to_owned());
    }
    lists
        .iter()
        .find(|l| l.path == path && l.name == name)
        .map(|l| patterns::comma_list(&l.values))
}

/// The fields of the input types that the service requires (`#[validate(required)]`): a creation without one is
/// 422 `required`, and a merge patch may not clear one (`null` is 422 `not_null`). The types are `Option`s so that
/// the service, not the JSON parser, names what is missing; and one type serves both the creation and the merge
/// patch. So the document says it here: [`required_fields_not_null`] and [`required_on_create`].
pub const REQUIRED_INPUT_FIELDS: &[(&str, &[&str])] = &[
    ("ApplicationInput", &["fundingLine", "title"]),
    ("CommitteeInput", &["name", "kind", "owningBody", "coverage"]),
    (
        "CoordinatorInput",
        &["name", "district", "employer", "fteBasisPoints", "startDate"],
    ),
    ("PatchOrganisation", &["name"]),
    (
        "NoticeTerms",
        &[
            "fileNumber",
            "financingType",
            "rateBasisPoints",
            "eligibleCostsCents",
            "purpose",
            "legalRemedy",
        ],
    ),
];

/// A required field of an input type ([`REQUIRED_INPUT_FIELDS`]) is never `null`, in a creation or a merge patch.
pub(super) fn required_fields_not_null(components: &mut utoipa::openapi::Components) {
    for (schema, fields) in REQUIRED_INPUT_FIELDS {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) else {
            continue;
        };
        for field in *fields {
            let Some(property) = object.properties.get_mut(*field) else {
                continue;
            };
            match property {
                RefOr::T(Schema::Object(o)) => {
                    if let SchemaType::Array(types) = &o.schema_type {
                        let rest: Vec<Type> = types.iter().filter(|t| **t != Type::Null).cloned().collect();
                        if let [only] = rest.as_slice() {
                            o.schema_type = SchemaType::Type(only.clone());
                        }
                    }
                }
                RefOr::T(Schema::OneOf(one_of)) => {
                    let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if matches!(o.schema_type, SchemaType::Type(Type::Null)));
                    let rest: Vec<RefOr<Schema>> = one_of.items.iter().filter(|s| !is_null(s)).cloned().collect();
                    if let [only] = rest.as_slice() {
                        *property = only.clone();
                    }
                }
                _ => {}
            }
        }
    }
}

/// The JSON body of a creation (`POST`) whose type is also a merge patch's lists the required fields of
/// [`REQUIRED_INPUT_FIELDS`]: `allOf` the type and the `required` list.
pub(super) fn required_on_create(doc: &mut OpenApiDoc) {
    for item in doc.paths.paths.values_mut() {
        let Some(op) = item.post.as_mut() else { continue };
        let Some(body) = op.request_body.as_mut() else { continue };
        for content in body.content.values_mut() {
            let Some(RefOr::Ref(reference)) = content.schema.as_ref() else {
                continue;
            };
            let name = reference.ref_location.rsplit('/').next().unwrap_or_default();
            let Some((_, fields)) = REQUIRED_INPUT_FIELDS.iter().find(|(schema, _)| *schema == name) else {
                continue;
            };
            // Each required field also named as a property (of any value: the referenced type says what it is), so
            // that generated clients read the second part as "these keys are present", not as an empty object.
            let required = fields
                .iter()
                .fold(ObjectBuilder::new().schema_type(Type::Object), |b, f| {
                    b.required(*f)
                        .property(*f, ObjectBuilder::new().schema_type(SchemaType::AnyValue))
                });
            let all_of = AllOfBuilder::new()
                .item(RefOr::Ref(reference.clone()))
                .item(required)
                .build();
            content.schema = Some(RefOr::T(Schema::AllOf(all_of)));
        }
    }
}

/// What the service checks of a request body field and the field's type does not say, by schema and property:
/// formats and patterns, the items of a list, and lists without repetitions.
pub(super) fn body_formats(components: &mut utoipa::openapi::Components) {
    enum Rule {
        Pattern(&'static str),
        Format(KnownFormat),
        ItemPattern(&'static str),
        UniqueItems,
        Values(Vec<&'static str>),
    }
    use crate::core::identity::OrgKind;
    use Rule::*;
    let rules = [
        ("ApplicationInput", "fundingLine", Pattern(patterns::FUNDING_LINE_CODE)),
        ("FundingLineInput", "code", Pattern(patterns::FUNDING_LINE_CODE)),
        ("CoordinatorInput", "district", Pattern(patterns::DISTRICT_AGS)),
        ("NewTarget", "district", Pattern(patterns::DISTRICT_AGS)),
        ("Contact", "email", Format(KnownFormat::Email)),
        ("CommitteeContact", "email", Format(KnownFormat::Email)),
        ("CoordinatorInput", "email", Format(KnownFormat::Email)),
        ("NewMember", "email", Format(KnownFormat::Email)),
        ("NewMeeting", "link", Pattern(patterns::WEB_LINK)),
        ("NewWebhook", "eventTypes", ItemPattern(patterns::SUBSCRIBED_EVENT_TYPE)),
        ("NewDigest", "eventTypes", ItemPattern(patterns::SUBSCRIBED_EVENT_TYPE)),
        ("Coverage", "districts", ItemPattern(patterns::DISTRICT_AGS)),
        // The other kinds exist already (one per district and Gemeinde, from the AGS list): 422 otherwise.
        (
            "CreateOrganisation",
            "kind",
            Values(vec![OrgKind::Gemeinde.as_str(), OrgKind::Traeger.as_str()]),
        ),
        ("FundingLineInput", "eligibleApplicantKinds", UniqueItems),
        ("PatchFundingLine", "eligibleApplicantKinds", UniqueItems),
    ];
    for (schema, property, rule) in rules {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
            continue;
        };
        match (object.properties.get_mut(property), rule) {
            (Some(RefOr::T(Schema::Object(field))), Pattern(pattern)) => field.pattern = Some(pattern.to_owned()),
            (Some(RefOr::T(Schema::Object(field))), Format(format)) => {
                field.format = Some(SchemaFormat::KnownFormat(format));
            }
            (Some(RefOr::T(Schema::Array(list))), ItemPattern(pattern)) => {
                if let ArrayItems::RefOrSchema(items) = &mut list.items
                    && let RefOr::T(Schema::Object(item)) = items.as_mut()
                {
                    item.pattern = Some(pattern.to_owned());
                }
            }
            (Some(RefOr::T(Schema::Array(list))), UniqueItems) => list.unique_items = true,
            (Some(field), Values(values)) => {
                let description = match field {
                    RefOr::Ref(r) if !r.description.is_empty() => Some(r.description.clone()),
                    RefOr::T(Schema::Object(o)) => o.description.clone(),
                    _ => None,
                };
                *field = ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(values))
                    .description(description)
                    .into();
            }
            _ => {}
        }
    }
}

/// The component schemas that request bodies use, directly or through others.
pub(super) fn request_schemas(
    paths: &utoipa::openapi::Paths,
    components: &utoipa::openapi::Components,
) -> std::collections::BTreeSet<String> {
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref")
                    && let Some(name) = r.strip_prefix("#/components/schemas/")
                {
                    out.push(name.to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    for item in paths.paths.values() {
        let ops = [
            &item.get,
            &item.put,
            &item.post,
            &item.delete,
            &item.options,
            &item.head,
            &item.patch,
            &item.trace,
        ];
        for op in ops.into_iter().flatten() {
            if let Some(body) = &op.request_body {
                refs(&serde_json::to_value(body).unwrap_or_default(), &mut pending);
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone())
            && let Some(schema) = components.schemas.get(&name)
        {
            refs(&serde_json::to_value(schema).unwrap_or_default(), &mut pending);
        }
    }
    seen
}

/// [`text_strings`] for the JSON bodies of a request.
pub(super) fn text_in_json_content<M>(content: &mut M)
where
    for<'a> &'a mut M: IntoIterator<Item = (&'a String, &'a mut utoipa::openapi::Content)>,
{
    for (media_type, content) in content {
        if media_type.contains("json")
            && let Some(schema) = content.schema.as_mut()
        {
            text_strings(schema);
        }
    }
}

/// Gives every string of a request body without a format, pattern or `enum` the [`patterns::TEXT`] that the
/// service holds every body to (no control characters); through properties, array items and compositions.
/// Responses keep no such pattern: a problem's `pointer` names what the request sent, control characters included.
pub(super) fn text_strings(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            if has_type(&o.schema_type, Type::String)
                && o.enum_values.is_none()
                && o.format.is_none()
                && o.pattern.is_none()
            {
                o.pattern = Some(patterns::TEXT.to_owned());
            }
            o.properties.values_mut().for_each(text_strings);
            if let Some(AdditionalProperties::RefOr(inner)) = o.additional_properties.as_deref_mut() {
                text_strings(inner);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                text_strings(items);
            }
        }
        Schema::OneOf(c) => c.items.iter_mut().for_each(text_strings),
        Schema::AllOf(c) => c.items.iter_mut().for_each(text_strings),
        Schema::AnyOf(c) => c.items.iter_mut().for_each(text_strings),
        _ => {}
    }
}

//! The served OpenAPI document equals the committed `openapi/openapi.json`, and documents every operation fully.

use crate::helpers::*;
use serde_json::Value;

const REFRESH: &str = "cargo run -- openapi > openapi/openapi.json";

/// Every meeting link the pattern allows is one the service accepts (the pattern states a part of them: host names
/// and visible ASCII paths, no ports, user names or IP literals).
#[test]
fn stated_web_links_are_accepted() {
    use versorgung::http::openapi::patterns;
    let regex = regex::Regex::new(patterns::WEB_LINK).unwrap();
    let accepted = |s: &str| reqwest::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    for sample in [
        "https://meet.example.de/r/1?x=1#y",
        "HTTP://a",
        "http://a-b.c9/\\\"<>{}",
        "http://xn--bcher-kva.de/",
    ] {
        assert!(regex.is_match(sample) && accepted(sample), "{sample}");
    }
    for sample in [
        "javascript:alert(1)",
        "ftp://a.de",
        "https://1.2.3.4/",
        "https://a.de:8080/",
        "https://a.de/ä",
    ] {
        assert!(!regex.is_match(sample), "{sample}");
    }
    let alphabet: Vec<char> = "ab9-./?#%\\\"<>{}|^~".chars().collect();
    let mut seed: u64 = 7;
    let mut next = move |bound: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % bound
    };
    for _ in 0..20_000 {
        let len = next(15);
        let tail: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
        let sample = format!("https://{tail}");
        if regex.is_match(&sample) {
            assert!(accepted(&sample), "{sample}");
        }
    }
}

/// The fields the document states as required for a creation whose body type a merge patch shares
/// (`openapi::REQUIRED_INPUT_FIELDS`) are those the service requires: `{}` is 422 `required` on exactly them.
#[actix_web::test]
async fn stated_required_fields_are_the_required_ones() {
    let app = TestApp::spawn().await;
    for (path, token, schema) in [
        ("/api/v1/applications", municipality(), "ApplicationInput"),
        ("/api/v1/committees", service_unit(), "CommitteeInput"),
        ("/api/v1/coordinators", service_unit(), "CoordinatorInput"),
    ] {
        let body = problem(app.post(path, Some(&token), &serde_json::json!({})).await, 422).await;
        let mut required: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["code"] == "required")
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        required.sort_unstable();
        let (_, fields) = versorgung::http::openapi::REQUIRED_INPUT_FIELDS
            .iter()
            .find(|(name, _)| *name == schema)
            .unwrap();
        let mut stated: Vec<String> = fields.iter().map(|f| format!("/{f}")).collect();
        stated.sort_unstable();
        assert_eq!(required, stated, "{path}");
    }
}

#[actix_web::test]
async fn served_document_equals_the_committed_golden_file() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .unwrap_or_else(|_| panic!("openapi/openapi.json missing; create it with `{REFRESH}`"));
    let generated = versorgung::http::openapi::to_pretty_json(&versorgung::routes::openapi_document());
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date; refresh it with `{REFRESH}`"
    );

    let app = TestApp::spawn().await;
    let served: Value = app.get("/api-docs/openapi.json", None).await.json().await.unwrap();
    let committed: Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(served, committed);
}

#[actix_web::test]
async fn every_operation_is_documented() {
    let doc: Value = serde_json::to_value(versorgung::routes::openapi_document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let name = format!("{method} {path}");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{name}: tag");
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name}: summary");
            let description = op["description"].as_str().unwrap_or_default();
            assert!(description.contains("**Roles:**"), "{name}: roles in description");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("500") && responses.contains_key("503"),
                "{name}: 5xx"
            );
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearerAuth").is_some()));
            if secured {
                assert!(responses.contains_key("401"), "{name}: 401");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{name}: {status}");
                }
            }
            for (status, response) in responses {
                let reference = response["$ref"].as_str().unwrap_or_default();
                let has_content =
                    response.get("content").is_some() || !reference.is_empty() || status == "204" || status == "202";
                assert!(has_content, "{name} {status}: body documented");
            }
        }
    }
    assert!(count >= 12, "{count} operations");

    // Operation ids are unique (generated clients and the Swagger UI key operations by them).
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "duplicate operation ids");

    // Enumerations document the values on the wire, not the Rust names.
    use versorgung::applications::model::Status;
    let wire: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(doc["components"]["schemas"]["Status"]["enum"], serde_json::json!(wire));
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for value in schema["enum"].as_array().into_iter().flatten() {
            let v = value.as_str().unwrap();
            assert!(
                v.chars()
                    .all(|c| c.is_ascii_lowercase() || matches!(c, '_' | '.' | '*' | '-')),
                "{name}: enum value {v} is not a wire value"
            );
        }
    }
}

#[actix_web::test]
async fn swagger_ui_is_served() {
    let app = TestApp::spawn().await;
    let res = app.get("/swagger-ui/", None).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let init = app
        .get("/swagger-ui/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api-docs/openapi.json"));
}

/// Every lifecycle's table in the docs is the one its code generates (`Lifecycle::markdown`).
#[test]
fn the_documented_lifecycles_are_the_ones_in_the_code() {
    let lifecycles = [
        ("applications.md", versorgung::applications::model::LIFECYCLE.markdown()),
        ("grants.md", versorgung::grant_notices::LIFECYCLE.markdown()),
        ("grants.md", versorgung::payment_requests::LIFECYCLE.markdown()),
        ("grants.md", versorgung::proofs_of_use::LIFECYCLE.markdown()),
        ("grants.md", versorgung::settlements::LIFECYCLE.markdown()),
        ("grants.md", versorgung::recovery_claims::LIFECYCLE.markdown()),
        ("grants.md", versorgung::change_requests::LIFECYCLE.markdown()),
        ("grants.md", versorgung::early_start_consents::LIFECYCLE.markdown()),
        ("coordination.md", versorgung::referrals::LIFECYCLE.markdown()),
        ("coordination.md", versorgung::knowledge::LIFECYCLE.markdown()),
        ("coordination.md", versorgung::action_items::LIFECYCLE.markdown()),
    ];
    for (file, table) in lifecycles {
        let doc = std::fs::read_to_string(format!("{}/docs/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(doc.contains(&table), "docs/{file} must contain:\n{table}");
    }
}

/// Every value of every JSON body, parameter and header is bounded, as `.ci/lint-spec` (OWASP API4) requires: strings
/// by `maxLength` (or `enum`), integers by `format`, `minimum` and `maximum`, arrays by `maxItems`. Query parameters
/// state the limits the service enforces.
#[test]
fn every_value_is_bounded() {
    fn walk(node: &Value, at: &str, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                let types: Vec<&str> = match map.get("type") {
                    Some(Value::String(t)) => vec![t.as_str()],
                    Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if types.contains(&"string") && !map.contains_key("maxLength") && !map.contains_key("enum") {
                    out.push(format!("{at}: string without maxLength"));
                }
                if types.contains(&"integer")
                    && !(map.contains_key("format") && map.contains_key("minimum") && map.contains_key("maximum"))
                {
                    out.push(format!("{at}: integer without format, minimum and maximum"));
                }
                if types.contains(&"array") && !map.contains_key("maxItems") {
                    out.push(format!("{at}: array without maxItems"));
                }
                for (key, value) in map {
                    // Examples are data, not schemas; CSV and Prometheus text are streamed exports (waived).
                    if key == "example" || key == "examples" || key.starts_with("text/") {
                        continue;
                    }
                    walk(value, &format!("{at}/{key}"), out);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let doc: Value = serde_json::to_value(versorgung::routes::openapi_document()).unwrap();
    let mut unbounded = Vec::new();
    walk(&doc, "", &mut unbounded);
    assert!(unbounded.is_empty(), "unbounded values:\n{}", unbounded.join("\n"));

    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                let schema = &param["schema"];
                if param["in"] != "query"
                    || schema.get("enum").is_some()
                    || !schema["type"].to_string().contains("string")
                {
                    continue;
                }
                let expected = match schema["format"].as_str() {
                    Some("uuid") => 36,
                    Some("date") => 10,
                    Some("date-time") => 35,
                    _ => versorgung::http::extract::query_max_chars(name),
                };
                assert_eq!(schema["maxLength"], expected, "{method} {path}: query parameter {name}");
            }
        }
    }
}

/// The headers the service always sends are `required`; the rate limit headers are documented on every answer of a
/// rate-limited path, but not required (a deployment may switch the limits off).
#[test]
fn response_headers_are_documented() {
    let doc: Value = serde_json::to_value(versorgung::routes::openapi_document()).unwrap();
    let resolve = |response: &Value| -> Value {
        match response["$ref"].as_str() {
            Some(r) => doc.pointer(&r.replacen('#', "", 1)).cloned().unwrap(),
            None => response.clone(),
        }
    };
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let name = format!("{method} {path} {status}");
                let headers = resolve(response)["headers"].clone();
                // Sub-resources without an address of their own (comments, members, meetings) have no Location.
                if status == "201" && headers.get("Location").is_some() {
                    assert_eq!(headers["Location"]["required"], true, "{name}: Location");
                }
                if (status == "200" || status == "201") && headers.get("ETag").is_some() {
                    assert_eq!(headers["ETag"]["required"], true, "{name}: ETag");
                }
                match status.as_str() {
                    "401" => assert_eq!(headers["WWW-Authenticate"]["required"], true, "{name}"),
                    "429" | "503" => assert_eq!(headers["Retry-After"]["required"], true, "{name}"),
                    _ => {}
                }
                if path.starts_with("/api/v1/") && (status.starts_with('2') || status.starts_with('4')) {
                    for h in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"] {
                        assert_eq!(headers[h]["schema"]["format"], "int32", "{name}: {h}");
                        assert!(headers[h].get("required").is_none(), "{name}: {h} is not always sent");
                    }
                }
            }
            // A body that may be left out is optional, never `null`.
            if let Some(body) = op.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"];
                assert!(schema.get("oneOf").is_none(), "{method} {path}: body schema {schema}");
            }
        }
    }
}

/// Every parameter and field whose format the service checks states it: a `pattern` (or `format`) in the document.
#[test]
fn checked_formats_are_stated() {
    use versorgung::http::openapi::patterns;
    let doc: Value = serde_json::to_value(versorgung::routes::openapi_document()).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                let schema = &param["schema"];
                let expected = match (param["in"].as_str().unwrap(), name) {
                    ("query", "district" | "covers") | ("path", "ags") => patterns::DISTRICT_AGS,
                    ("query", "fundingLine") => patterns::FUNDING_LINE_CODE,
                    ("query", "topic" | "parent") => patterns::TOPIC_CODE,
                    ("query", "types") => patterns::EVENT_TYPES,
                    ("header", "Idempotency-Key") => patterns::IDEMPOTENCY_KEY,
                    ("header", "If-Match") => patterns::IF_MATCH,
                    ("path", "id") if path.starts_with("/api/v1/organisations/") => patterns::ORGANISATION_KEY,
                    _ => continue,
                };
                assert_eq!(schema["pattern"], expected, "{method} {path}: {name}");
                seen.insert(name.to_owned());
            }
        }
    }
    let all = [
        "district",
        "covers",
        "fundingLine",
        "topic",
        "parent",
        "types",
        "ags",
        "id",
        "Idempotency-Key",
        "If-Match",
    ];
    assert_eq!(
        seen,
        all.iter().map(|s| s.to_string()).collect(),
        "parameters with a pattern"
    );
    // Every other string query parameter states what the service checks of any query value (no control
    // characters), or the list it reads; cursors are unpadded URL-safe base64; headers are never `null`.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let (name, schema) = (param["name"].as_str().unwrap(), &param["schema"]);
                match param["in"].as_str().unwrap() {
                    "header" => assert_eq!(schema["type"], "string", "{method} {path}: {name}"),
                    "query" if schema["type"] == "string" && schema.get("format").is_none() => {
                        let pattern = schema["pattern"]
                            .as_str()
                            .unwrap_or_else(|| panic!("{method} {path}: {name}"));
                        match name {
                            "cursor" => assert_eq!(pattern, patterns::CURSOR, "{method} {path}"),
                            "q" | "versorgungsgebiet" | "regierungsbezirk" | "state" => {
                                assert_eq!(pattern, patterns::QUERY_TEXT, "{method} {path}: {name}")
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    for schema in ["Organisation", "CreateOrganisation"] {
        assert_eq!(
            schemas[schema]["properties"]["district"]["pattern"],
            patterns::DISTRICT_AGS,
            "{schema}"
        );
    }
    for schema in ["Webhook", "NewWebhook"] {
        assert_eq!(schemas[schema]["properties"]["url"]["format"], "uri", "{schema}");
    }
    // A merge patch may clear only what is optional: `null` for the rest is 422 `not_null`.
    let patch = &schemas["PatchFundingLine"]["properties"];
    for (field, nullable) in [
        ("title", false),
        ("description", false),
        ("guidelineReference", false),
        ("eligibleApplicantKinds", false),
        ("minRateBasisPoints", false),
        ("maxRateBasisPoints", false),
        ("budgetCents", false),
        ("opensOn", true),
        ("closesOn", true),
        ("maxAmountCents", true),
        ("maxDurationMonths", true),
        ("yearlyCapCents", true),
    ] {
        let types = patch[field]["type"].to_string();
        assert_eq!(types.contains("null"), nullable, "PatchFundingLine.{field}: {types}");
    }
    assert!(schemas["PatchFundingLine"].get("required").is_none());
    // The feed's cursor is the integer that `after` takes.
    let next = &schemas["EventPage"]["properties"]["nextCursor"];
    assert_eq!(
        (&next["type"], &next["format"], &next["minimum"]),
        (&"integer".into(), &"int64".into(), &0.into())
    );
}

/// Each stated pattern accepts exactly what the service's check accepts, for listed samples and for many generated
/// ones (with the `regex` crate, whose syntax covers the ECMA-262 subset the patterns use).
/// Header values are what a client can send: without leading or trailing whitespace (HTTP drops it) and without control characters.
#[test]
fn stated_patterns_agree_with_the_checks() {
    use actix_web::http::header::HeaderValue;
    use versorgung::core::types::{is_district_ags, is_event_type, is_funding_line_code, is_gemeinde_ags};
    use versorgung::http::openapi::patterns;

    fn header(name: &str, value: &str) -> Option<actix_web::HttpRequest> {
        let bytes: Option<Vec<u8>> = value.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
        let value = HeaderValue::from_bytes(&bytes?).ok()?;
        Some(
            actix_web::test::TestRequest::default()
                .insert_header((name, value))
                .to_http_request(),
        )
    }
    let district = |s: &str| Some(is_district_ags(s));
    let funding_line = |s: &str| Some(is_funding_line_code(s));
    let types = |s: &str| Some(s.split(',').all(is_event_type));
    let organisation =
        |s: &str| Some(s.len() <= 36 && (uuid::Uuid::parse_str(s).is_ok() || is_district_ags(s) || is_gemeinde_ags(s)));
    let idempotency_key = |s: &str| {
        if s.trim() != s {
            return None;
        }
        let req = header("Idempotency-Key", s)?;
        Some(versorgung::http::idempotency::key_of(&req).is_ok())
    };
    let if_match = |s: &str| {
        if s.trim() != s || s.len() > versorgung::http::extract::IF_MATCH_MAX_CHARS {
            return None;
        }
        let req = header("If-Match", s)?;
        Some(versorgung::http::extract::if_match(&req).is_ok())
    };
    // The list filters: items trimmed, empty items ignored, the rest one of the values (control characters are
    // refused before, by every query parameter).
    let list_of = |values: Vec<&'static str>| {
        move |s: &str| {
            if s.chars().any(char::is_control) {
                return None;
            }
            Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .all(|p| values.contains(&p)),
            )
        }
    };
    let statuses: Vec<&str> = versorgung::applications::model::Status::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    let referral_statuses: Vec<&str> = versorgung::referrals::model::ReferralStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    let dimensions: Vec<&str> = versorgung::statistics::model::Dimension::ALL
        .iter()
        .map(|d| d.as_str())
        .collect();
    let (status_list, referral_status_list, dimension_list) = (
        patterns::comma_list(&statuses),
        patterns::comma_list(&referral_statuses),
        patterns::comma_list(&dimensions),
    );
    let (status_check, referral_status_check, dimension_check) =
        (list_of(statuses), list_of(referral_statuses), list_of(dimensions));
    let sort = |s: &str| Some(versorgung::applications::SortField::parse(s).is_some());
    let query_text = |s: &str| Some(!s.chars().any(|c| c.is_control() || c == '\u{fffd}'));
    let body_text = |s: &str| Some(!s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')));
    let subscribed =
        |s: &str| Some(s.len() <= 100 && versorgung::webhooks::event_type_errors(&[s.to_owned()]).is_empty());
    type Check<'a> = &'a dyn Fn(&str) -> Option<bool>;
    let cases: [(&str, Check, &str, &[&str]); 13] = [
        (
            &status_list,
            &status_check,
            "draftsubmitedin_,  \u{a0}\u{3000}x",
            &[
                "draft",
                " draft , submitted ,",
                ",,",
                "",
                "in_review,withdrawn",
                "draf",
                "draft submitted",
            ],
        ),
        (
            &referral_status_list,
            &referral_status_check,
            "receivdlos_ ,x",
            &["received", "closed, declined", "", "open"],
        ),
        (
            &dimension_list,
            &dimension_check,
            "fundingLyearstu ,x",
            &["fundingLine,status", "year", "", "years", "district,district"],
        ),
        (
            patterns::APPLICATION_SORT,
            &sort,
            "-createdAttil",
            &["createdAt", "-title", "--title", "title-", "", "Title"],
        ),
        (
            patterns::QUERY_TEXT,
            &query_text,
            "a \t\n\u{7f}\u{85}\u{9f}\u{a0}\u{fffd}\u{1f600}",
            &["Kassel", "", "a\u{0}b", "\u{fffd}", "\u{9f}"],
        ),
        (
            patterns::TEXT,
            &body_text,
            "a \t\n\r\u{0}\u{b}\u{7f}\u{85}\u{9f}\u{a0}\u{1f600}",
            &["Zeile 1\nZeile 2\r\n\tEnde", "", "a\u{1b}b", "\u{85}"],
        ),
        (
            patterns::SUBSCRIBED_EVENT_TYPE,
            &subscribed,
            "ab_.*X",
            &["*", "application.submitted", "a.b.c", ".", "**", "ab", "A.b", ""],
        ),
        (
            patterns::DISTRICT_AGS,
            &district,
            "069a 1",
            &["06636", "06000", "0663", "066361", "07636", "06a36", ""],
        ),
        (
            patterns::FUNDING_LINE_CODE,
            &funding_line,
            "AZ09a_",
            &["HK", "HKV2026", "H", "2HK", "HKv", "ABCDEFGHIJK"],
        ),
        (
            patterns::EVENT_TYPES,
            &types,
            "ab_.,Z",
            &["application.submitted", "a.b,c_d.e_", "a.b.c", ".a", "a.b,", ""],
        ),
        (
            patterns::ORGANISATION_KEY,
            &organisation,
            "06abcdefAF0123456789-xg",
            &[
                "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a7",
                "0193A6A48D2E7C419A5752F3E2D0B8A7",
                "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a",
                "06636",
                "06636001",
                "0663600",
                "g193a6a4-8d2e-7c41-9a57-52f3e2d0b8a7",
            ],
        ),
        (
            patterns::IDEMPOTENCY_KEY,
            &idempotency_key,
            "a !~Z\t",
            &["k-1", "a b", "~", &"x".repeat(256), ""],
        ),
        (
            patterns::IF_MATCH,
            &if_match,
            "W/\"*, \ta!\u{80}#",
            &[
                "*",
                "\"7\"",
                "W/\"7\", \"8\"",
                ",\"7\",,",
                "*, \"7\"",
                "7",
                "w/\"7\"",
                "\"a\"b\"",
                "\"\u{e9}\"",
                "",
            ],
        ),
    ];
    let mut seed: u64 = 12;
    let mut next = move |bound: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % bound
    };
    for (pattern, check, alphabet, samples) in cases {
        let regex = regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let alphabet: Vec<char> = alphabet.chars().collect();
        let generated: Vec<String> = (0..20_000)
            .map(|_| {
                let len = next(15);
                (0..len).map(|_| alphabet[next(alphabet.len())]).collect()
            })
            .collect();
        let mut accepted = 0;
        for sample in samples.iter().copied().chain(generated.iter().map(String::as_str)) {
            let Some(expected) = check(sample) else { continue };
            accepted += usize::from(expected);
            assert_eq!(regex.is_match(sample), expected, "{pattern} on {sample:?}");
        }
        assert!(accepted > 0, "{pattern}: no accepted sample");
    }
}

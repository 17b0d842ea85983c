//! Hostile input against every write endpoint (taken from the served OpenAPI document, so new endpoints are covered
//! without touching this file) and every list's query parameters. Every answer must be a 4xx problem, and a row
//! count of every table before and after must show that nothing was written.
//!
//! Free-text fields (titles, descriptions, names) legitimately accept SQL or markup as text; that they store it
//! verbatim, inert, is shown by the last test. Everywhere else, such fragments must be refused.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const SQL: &[&str] = &[
    "' OR '1'='1' --",
    "'; DROP TABLE applications; --",
    "1; SELECT pg_sleep(10)",
];
const SCRIPT: &[&str] = &["<script>alert(1)</script>", "javascript:alert(1)", "{{7*7}}${7*7}"];
/// Look-alikes of valid keys: Cyrillic К in "GK", full-width digits, a zero-width space, a right-to-left override.
const CONFUSABLE: &[&str] = &["GК", "０６６３６", "06636\u{200b}", "\u{202e}63660"];

/// Row counts of every table of the schema.
async fn counts(app: &TestApp) -> BTreeMap<String, i64> {
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.conn().await;
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT table_name::text AS table_name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let mut out = BTreeMap::new();
    for t in tables {
        let n = app.db_count(&format!("\"{}\"", t.table_name)).await;
        out.insert(t.table_name, n);
    }
    out
}

/// The served document, with `$ref`s resolvable.
async fn spec(app: &TestApp) -> Value {
    app.get("/api-docs/openapi.json", None).await.json().await.unwrap()
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(&r.replacen('#', "", 1)).map_or(schema, |s| resolve(doc, s)),
        None => match schema.get("oneOf").or_else(|| schema.get("anyOf")) {
            // Nullable references come as oneOf [null, ref]: take the non-null branch.
            Some(Value::Array(v)) => v
                .iter()
                .find(|s| s.get("type") != Some(&json!("null")))
                .map_or(schema, |s| resolve(doc, s)),
            _ => schema,
        },
    }
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
        _ => vec![],
    }
}

/// A leaf field of a request body: its JSON pointer and schema.
struct Leaf {
    path: Vec<String>,
    schema: Value,
}

impl Leaf {
    fn pointer(&self) -> String {
        self.path.iter().map(|p| format!("/{p}")).collect()
    }
    /// A string with a format, a list of values or a pattern, or a key such as a code or an AGS (upper-case letters
    /// and digits in the example): never free text.
    fn is_keyed(&self, example: Option<&Value>) -> bool {
        let s = &self.schema;
        s.get("format").is_some()
            || s.get("enum").is_some()
            // A pattern says a format; the one of all body text (no control characters) does not.
            || s.get("pattern").is_some_and(|p| p != versorgung::http::openapi::patterns::TEXT)
            || example
                .and_then(Value::as_str)
                .is_some_and(|e| e.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
    }
}

fn leaves(doc: &Value, schema: &Value, prefix: &[String], depth: usize, out: &mut Vec<Leaf>) {
    let schema = resolve(doc, schema);
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let mut path = prefix.to_vec();
        path.push(name.clone());
        let prop = resolve(doc, prop);
        if prop.get("properties").is_some() && depth < 3 {
            leaves(doc, prop, &path, depth + 1, out);
        }
        out.push(Leaf {
            path,
            schema: prop.clone(),
        });
    }
}

fn set(body: &mut Value, path: &[String], value: Value) {
    let mut node = body;
    for (i, seg) in path.iter().enumerate() {
        if !node.is_object() {
            *node = json!({});
        }
        let map = node.as_object_mut().unwrap();
        if i == path.len() - 1 {
            map.insert(seg.clone(), value);
            return;
        }
        node = map.entry(seg.clone()).or_insert_with(|| json!({}));
    }
}

/// Hostile values for one leaf. `Raw` values are spliced into the JSON text (numbers no JSON library would write).
enum Hostile {
    Json(Value),
    Raw(&'static str),
}

fn hostile_values(leaf: &Leaf, example: Option<&Value>) -> Vec<Hostile> {
    let t = types(&leaf.schema);
    let mut v = Vec::new();
    if t.contains(&"string") {
        v.push(Hostile::Json(json!(12345)));
        v.push(Hostile::Json(json!(["x"])));
        v.push(Hostile::Json(json!("a\u{0}b")));
        v.push(Hostile::Json(json!("bell\u{7}")));
        v.push(Hostile::Json(json!("x".repeat(100_000))));
        if leaf.is_keyed(example) {
            for s in SQL.iter().chain(SCRIPT).chain(CONFUSABLE) {
                v.push(Hostile::Json(json!(s)));
            }
        }
    }
    if t.contains(&"integer") {
        v.push(Hostile::Json(json!("12")));
        v.push(Hostile::Json(json!(1.5)));
        v.push(Hostile::Raw("99999999999999999999"));
        v.push(Hostile::Raw("-99999999999999999999"));
        v.push(Hostile::Raw("1e400"));
        if leaf
            .schema
            .get("minimum")
            .and_then(Value::as_i64)
            .is_some_and(|m| m >= 0)
        {
            v.push(Hostile::Json(json!(-1)));
        }
    }
    if t.contains(&"boolean") {
        v.push(Hostile::Json(json!("true")));
        v.push(Hostile::Json(json!(1)));
    }
    if t.contains(&"array") {
        v.push(Hostile::Json(json!("x")));
        v.push(Hostile::Json(json!({"0": "x"})));
        let items = leaf.schema.get("items");
        if items.is_some_and(|i| types(i).contains(&"string")) {
            v.push(Hostile::Json(json!(["a\u{0}b"])));
            v.push(Hostile::Json(json!(["x".repeat(100_000)])));
        }
    }
    if t.contains(&"object") {
        v.push(Hostile::Json(json!("x")));
        v.push(Hostile::Json(json!([1, 2])));
    }
    v
}

/// Existing records to aim at, so that requests get past the lookups to the parsing and the rules.
struct Fixture {
    application: String,
    committee: String,
    member: String,
    meeting: String,
    action_item: String,
    consultation: String,
    knowledge: String,
    coordinator: String,
    referral: String,
    webhook: String,
    organisation: String,
    notice: String,
    payment: String,
    proof: String,
    settlement: String,
    claim: String,
    change: String,
    consent: String,
    attachment: String,
}

async fn created(res: reqwest::Response) -> String {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status} {body}");
    body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {body}"))
        .to_owned()
}

async fn fixture(app: &TestApp) -> Fixture {
    let s = service_unit();
    let application = created(
        app.post(
            "/api/v1/applications",
            Some(&municipality()),
            &json!({"fundingLine": "GK", "title": "Zielscheibe"}),
        )
        .await,
    )
    .await;
    let committee = created(
        app.post(
            "/api/v1/committees",
            Some(&s),
            &json!({"name": "AG Ziel", "kind": "working_group", "owningBody": "Serviceeinheit",
                    "coverage": {"scope": "hessen"}}),
        )
        .await,
    )
    .await;
    // Adding a member answers with the committee's member list.
    let members: Value = app
        .post(
            &format!("/api/v1/committees/{committee}/members"),
            Some(&s),
            &json!({"name": "Gast", "organisation": "KV"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let member = members[0]["id"].as_str().unwrap().to_owned();
    let knowledge = created(
        app.post(
            "/api/v1/knowledge-entries",
            Some(&s),
            &json!({"kind": "faq", "title": "Ziel", "visibility": "public"}),
        )
        .await,
    )
    .await;
    let meeting = created(
        app.post(
            &format!("/api/v1/committees/{committee}/meetings"),
            Some(&s),
            &json!({"date": "2027-03-10", "title": "Sitzung 1/2027", "agenda": [{"title": "Begrüßung"}]}),
        )
        .await,
    )
    .await;
    let action_item = created(
        app.post(
            &format!("/api/v1/meetings/{meeting}/action-items"),
            Some(&s),
            &json!({"title": "Bericht vorbereiten", "assignee": "service_unit", "dueOn": "2027-04-30"}),
        )
        .await,
    )
    .await;
    let org_06636 = crate::meetings::district_org(app, "06636").await;
    let consultation = created(
        app.post(
            "/api/v1/consultations",
            Some(&s),
            &json!({"organisationId": org_06636, "heldOn": "2026-11-20", "channel": "phone",
                "summary": "Fördermöglichkeiten erläutert."}),
        )
        .await,
    )
    .await;
    let coordinator = created(
        app.post(
            "/api/v1/coordinators",
            Some(&s),
            &json!({"name": "Koordination", "email": "k@example.org", "district": "06636",
                    "employer": "06636", "fteBasisPoints": 10000, "startDate": "2027-01-01"}),
        )
        .await,
    )
    .await;
    let referral = created(
        app.post(
            "/api/v1/referrals",
            Some(&municipality()),
            &json!({"direction": "region_to_committee", "subject": "Idee"}),
        )
        .await,
    )
    .await;
    // Subscribed to an event type the test never causes, so that no delivery is written while we count.
    let webhook = created(
        app.post(
            "/api/v1/webhooks",
            Some(&municipality()),
            &json!({"url": "https://hooks.example.org/versorgung", "eventTypes": ["coordinator.deleted"]}),
        )
        .await,
    )
    .await;
    let org: Value = app
        .get("/api/v1/organisations/06636", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    // A draft grant notice of the fixture application (a notice comes from an approval; its row is enough here).
    let notice = uuid::Uuid::new_v4().to_string();
    app.db
        .execute(&format!(
            "INSERT INTO grant_notices (id, application_id, status, organisation_id, district_ags, funding_line_code,
                 amount_cents, financing_type, rate_bp, eligible_costs_cents, purpose, period_start, period_end,
                 clause_set, legal_remedy, approved_by)
             SELECT '{notice}', '{application}', 'draft', o.id, o.district_ags, 'GK', 1000000, 'anteilsfinanzierung',
                 8000, 1250000, 'Zweck', '2027-01-01', '2027-12-31', 'anbest_gk', 'Rechtsbehelfsbelehrung', 'x'
             FROM organisations o WHERE o.ags = '06636'"
        ))
        .await;
    let payment = uuid::Uuid::new_v4().to_string();
    app.db
        .execute(&format!(
            "INSERT INTO payment_requests (id, notice_id, application_id, organisation_id, district_ags,
                 funding_line_code, fiscal_year, amount_cents, status, created_by)
             SELECT '{payment}', n.id, n.application_id, n.organisation_id, n.district_ags, n.funding_line_code, 2027,
                 100, 'draft', 'x' FROM grant_notices n WHERE n.id = '{notice}'"
        ))
        .await;
    let proof = uuid::Uuid::new_v4().to_string();
    app.db
        .execute(&format!(
            "INSERT INTO proofs_of_use (id, notice_id, application_id, organisation_id, district_ags,
                 funding_line_code, kind, due_on, status)
             SELECT '{proof}', n.id, n.application_id, n.organisation_id, n.district_ags, n.funding_line_code,
                 'final', '2028-06-30', 'open' FROM grant_notices n WHERE n.id = '{notice}'"
        ))
        .await;
    let settlement = uuid::Uuid::new_v4().to_string();
    app.db
        .execute(&format!(
            "INSERT INTO settlements (id, notice_id, application_id, organisation_id, district_ags, funding_line_code,
                 status, financing_type, granted_cents, rate_bp, planned_eligible_cents, admitted_cents,
                 planned_other_income_cents, actual_other_income_cents, tolerance_bp, eligible_cents,
                 not_eligible_cents, due_cents, reason, paid_cents, proposed_by)
             SELECT '{settlement}', n.id, n.application_id, n.organisation_id, n.district_ags, n.funding_line_code,
                 'proposed', 'anteilsfinanzierung', 1000000, 8000, 1250000, 1000000, 0, 0, 2000, 1000000, 0, 800000,
                 'lower_expenditure', 0, 'x' FROM grant_notices n WHERE n.id = '{notice}'"
        ))
        .await;
    let claim = uuid::Uuid::new_v4().to_string();
    app.db
        .execute(&format!(
            "INSERT INTO recovery_claims (id, settlement_id, notice_id, application_id, organisation_id, district_ags,
                 funding_line_code, status, principal_cents, interest_from, interest_threshold_cents, hearing_until,
                 created_by)
             SELECT '{claim}', s.id, s.notice_id, s.application_id, s.organisation_id, s.district_ags,
                 s.funding_line_code, 'hearing', 200000, '2027-01-01', 0, '2030-01-01', 'x'
             FROM settlements s WHERE s.id = '{settlement}'"
        ))
        .await;
    let change = uuid::Uuid::new_v4().to_string();
    app.db
        .execute(&format!(
            "INSERT INTO change_requests (id, notice_id, application_id, organisation_id, district_ags, funding_line_code,
                 kind, description, status, created_by)
             SELECT '{change}', n.id, n.application_id, n.organisation_id, n.district_ags, n.funding_line_code,
                 'plan_shift', 'Umschichtung', 'submitted', 'x' FROM grant_notices n WHERE n.id = '{notice}'"
        ))
        .await;
    let consent = uuid::Uuid::new_v4().to_string();
    app.db
        .execute(&format!(
            "INSERT INTO early_start_consents (id, application_id, organisation_id, district_ags, funding_line_code,
                 start_on, reason, not_yet_begun, requested_on, status, created_by)
             SELECT '{consent}', a.id, a.organisation_id, a.district_ags, a.funding_line_code,
                 '2027-01-01', 'Früher Beginn', true, '2026-11-27', 'requested', 'x'
             FROM applications a WHERE a.id = '{application}'"
        ))
        .await;
    let attachment = uuid::Uuid::new_v4().to_string();
    app.db
        .execute(&format!(
            "INSERT INTO attachments (id, owner_kind, owner_id, organisation_id, category, file_name, media_type,
                 size_bytes, sha256, storage_key, scan_state, uploaded_by, uploader_role)
             SELECT '{attachment}', 'application', a.id, a.organisation_id, 'konzept', 'k.pdf', 'application/pdf',
                 1, repeat('0', 64), 'attachments/{attachment}', 'not_scanned', 'x', 'municipality'
             FROM applications a WHERE a.id = '{application}'"
        ))
        .await;
    Fixture {
        attachment,
        consent,
        change,
        claim,
        proof,
        settlement,
        payment,
        notice,
        application,
        committee,
        member,
        meeting,
        action_item,
        consultation,
        knowledge,
        coordinator,
        referral,
        webhook,
        organisation: org["id"].as_str().unwrap().to_owned(),
    }
}

/// The template with its parameters filled from the fixture; `override_param` replaces one of them.
fn fill(template: &str, f: &Fixture, override_param: Option<(&str, &str)>) -> String {
    let resource = template.trim_start_matches("/api/v1/").split('/').next().unwrap_or("");
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 1..end];
        let value = match override_param {
            Some((n, v)) if n == name => v.to_owned(),
            _ => match (resource, name) {
                ("applications", "id") => f.application.clone(),
                ("committees", "id") => f.committee.clone(),
                ("meetings", "id") => f.meeting.clone(),
                ("action-items", "id") => f.action_item.clone(),
                ("consultations", "id") => f.consultation.clone(),
                // The hostile app has no mail setting, so no digest exists: any id reaches the checks first.
                ("digests", "id") => uuid::Uuid::new_v4().to_string(),
                (_, "memberId") => f.member.clone(),
                ("coordinators", "id") => f.coordinator.clone(),
                ("referrals", "id") => f.referral.clone(),
                ("webhooks", "id") => f.webhook.clone(),
                ("organisations", "id") => f.organisation.clone(),
                ("funding-lines", "code") => "GK".into(),
                ("topics", "code") => "mvz".into(),
                ("knowledge-entries", "id") => f.knowledge.clone(),
                ("funding-lines", "year") => "2033".into(),
                ("grant-notices", "id") => f.notice.clone(),
                ("payment-requests", "id") => f.payment.clone(),
                ("proofs-of-use", "id") => f.proof.clone(),
                ("settlements", "id") => f.settlement.clone(),
                ("recovery-claims", "id") => f.claim.clone(),
                ("change-requests", "id") => f.change.clone(),
                ("early-start-consents", "id") => f.consent.clone(),
                ("base-rates", "validFrom") => "2026-07-01".into(),
                ("attachments", "id") => f.attachment.clone(),
                (_, "deliveryId") => uuid::Uuid::new_v4().to_string(),
                other => panic!("no fixture for {other:?} in {template}"),
            },
        };
        out.push_str(&value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

struct Outcome {
    status: u16,
    problem: Option<Value>,
}

async fn send(app: &TestApp, method: &Method, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Outcome {
    let res = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(token)
        .header("Content-Type", content_type)
        .header("If-Match", "\"1\"")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = res.status().as_u16();
    let is_problem = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let problem = if is_problem { res.json().await.ok() } else { None };
    Outcome { status, problem }
}

/// Every role sends the request; every answer must be a 4xx problem. Returns the outcomes.
async fn attack(
    app: &TestApp,
    method: &Method,
    path: &str,
    content_type: &str,
    body: &[u8],
    what: &str,
    failures: &mut Vec<String>,
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for token in [municipality(), service_unit(), ministry()] {
        let o = send(app, method, path, &token, content_type, body.to_vec()).await;
        if !((400..500).contains(&o.status) && o.problem.is_some()) {
            let what: String = what.chars().take(200).collect();
            failures.push(format!("{method} {path} with {what}: {} {:?}", o.status, o.problem));
        }
        outcomes.push(o);
    }
    outcomes
}

#[actix_web::test]
async fn hostile_bodies_to_every_write_endpoint_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let doc = spec(&app).await;
    let before = counts(&app).await;
    let mut sent = 0usize;
    let mut endpoints = 0usize;
    let mut failures = Vec::new();

    for (template, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let method = match m.as_str() {
                "post" => Method::POST,
                "patch" => Method::PATCH,
                "put" => Method::PUT,
                "delete" => Method::DELETE,
                _ => continue,
            };
            endpoints += 1;
            let path = fill(template, &f, None);

            // Malformed path keys, for every parameter of the path.
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["in"] != "path" {
                    continue;
                }
                let name = param["name"].as_str().unwrap();
                for bad in [
                    "not-a-uuid",
                    "00000000-0000-0000-0000-00000000000g",
                    "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1",
                    "1%27%20OR%20%271%27%3D%271",
                    "..%2F..%2Fetc%2Fpasswd",
                    "%00",
                    "%D0%9A",
                    &"9".repeat(5000),
                ] {
                    let p = fill(template, &f, Some((name, bad)));
                    attack(
                        &app,
                        &method,
                        &p,
                        "application/json",
                        b"{}",
                        &format!("path {name}={bad}"),
                        &mut failures,
                    )
                    .await;
                    sent += 3;
                }
            }

            let Some((content_type, media)) = op["requestBody"]["content"].as_object().and_then(|c| c.iter().next())
            else {
                continue;
            };
            let schema = resolve(&doc, &media["schema"]);
            let example = schema.get("example").cloned().unwrap_or_else(|| json!({}));

            // Broken documents.
            let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            let deep_object = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
            let big = format!("{{\"title\":\"{}\"}}", "x".repeat(10 * 1024 * 1024));
            let raw: Vec<(&str, Vec<u8>)> = vec![
                ("truncated", b"{\"title\": \"abc".to_vec()),
                ("an open brace", b"{".to_vec()),
                ("a trailing comma", b"{\"a\": 1,}".to_vec()),
                ("two documents", b"{} {}".to_vec()),
                ("an array", b"[]".to_vec()),
                ("a string", b"\"text\"".to_vec()),
                ("a number", b"42".to_vec()),
                ("null", b"null".to_vec()),
                ("invalid UTF-8", b"{\"title\": \"\xff\xfe\xfd\"}".to_vec()),
                ("a raw NUL", b"{\"title\": \"a\x00b\"}".to_vec()),
                ("nested arrays", deep_array.into_bytes()),
                ("nested objects", deep_object.into_bytes()),
                ("10 MiB", big.into_bytes()),
            ];
            for (what, body) in raw {
                attack(&app, &method, &path, content_type, &body, what, &mut failures).await;
                sent += 3;
            }
            // The right JSON as the wrong media type.
            let example_text = serde_json::to_vec(&example).unwrap();
            attack(
                &app,
                &method,
                &path,
                "text/plain",
                &example_text,
                "text/plain",
                &mut failures,
            )
            .await;
            attack(
                &app,
                &method,
                &path,
                "application/x-www-form-urlencoded",
                b"title=x",
                "a form",
                &mut failures,
            )
            .await;
            sent += 6;

            // One hostile value at a time in an otherwise valid body (the schema's example).
            let mut fields = Vec::new();
            leaves(&doc, schema, &[], 0, &mut fields);
            for leaf in &fields {
                let example_value = example.pointer(&leaf.pointer());
                for value in hostile_values(leaf, example_value) {
                    let mut body = example.clone();
                    let text = match &value {
                        Hostile::Json(v) => {
                            set(&mut body, &leaf.path, v.clone());
                            serde_json::to_string(&body).unwrap()
                        }
                        Hostile::Raw(r) => {
                            set(&mut body, &leaf.path, json!("__RAW__"));
                            serde_json::to_string(&body).unwrap().replace("\"__RAW__\"", r)
                        }
                    };
                    let what = format!("{} = {}", leaf.pointer(), &text.chars().take(120).collect::<String>());
                    let outcomes = attack(
                        &app,
                        &method,
                        &path,
                        content_type,
                        text.as_bytes(),
                        &what,
                        &mut failures,
                    )
                    .await;
                    sent += 3;
                    // Where a role got as far as the rules, the problem names the hostile field.
                    for o in outcomes.iter().filter(|o| o.status == 422) {
                        // The field itself, something inside it, or the object it breaks a rule of together with others.
                        let named = pointers(o.problem.as_ref().unwrap());
                        let leaf_pointer = leaf.pointer();
                        if !named
                            .iter()
                            .any(|p| p.starts_with(&leaf_pointer) || leaf_pointer.starts_with(p.as_str()))
                        {
                            failures.push(format!(
                                "{method} {path} with {what}: 422 names {named:?}, not {leaf_pointer}"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} not refused properly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(endpoints >= 31, "only {endpoints} write endpoints found");
    assert_eq!(counts(&app).await, before, "a refused request wrote something");
    eprintln!("hostile bodies: {sent} requests to {endpoints} write endpoints, all refused, nothing written");
}

#[actix_web::test]
async fn hostile_query_parameters_and_cursors_are_refused() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let before = counts(&app).await;
    let m = ministry();

    // A real cursor of the districts list, to replay elsewhere and to tamper with.
    let page: Value = app
        .get("/api/v1/districts?limit=2", Some(&m))
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["nextCursor"].as_str().unwrap().to_owned();
    let mut flipped = cursor.clone().into_bytes();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);

    let mut sent = 0;
    let mut failures = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        // Operational endpoints (probes, metrics) sit outside the API and ignore queries, as probes expect.
        if template.contains('{') || !template.starts_with("/api/") {
            continue;
        }
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        let mut bad: Vec<String> = vec!["unknownParameter=1".into(), "limit=1&limit=2".into()];
        for p in &params {
            match *p {
                "limit" => bad.extend(
                    ["0", "-1", "1000001", "abc", "1e3", "99999999999999999999", "1.5", ""]
                        .map(|v| format!("limit={v}")),
                ),
                "cursor" => {
                    for c in [
                        "garbage".to_owned(),
                        "%00".to_owned(),
                        cursor[..cursor.len() / 2].to_owned(),
                        flipped.clone(),
                        b64(r#"{"s":"applications:created","k":["' OR 1=1 --"]}"#),
                        b64(r#"{"s":1,"k":{}}"#),
                        b64(&"[".repeat(10_000)),
                        "x".repeat(10_000),
                    ] {
                        bad.push(format!("cursor={c}"));
                    }
                    // A cursor of the districts list replayed on another list.
                    if *template != "/api/v1/districts" {
                        bad.push(format!("cursor={cursor}"));
                    }
                }
                "includeTotal" | "open" | "overdue" => bad.push(format!("{p}=maybe")),
                "after" => bad.extend(["-1", "abc", "99999999999999999999"].map(|v| format!("after={v}"))),
                name => {
                    for v in SQL.iter().chain(SCRIPT).chain(CONFUSABLE) {
                        // Free-text search accepts any text; every other parameter is a key, a date or a list.
                        if matches!(name, "q" | "topic" | "versorgungsgebiet" | "regierungsbezirk") {
                            continue;
                        }
                        bad.push(format!("{name}={}", urlencode(v)));
                    }
                    bad.push(format!("{name}={}", "x".repeat(10_000)));
                    bad.push(format!("{name}=a%00b"));
                    bad.push(format!("{name}=%FF%FE"));
                }
            }
        }
        for query in bad {
            let path = format!("{template}?{query}");
            let res = app.get(&path, Some(&m)).await;
            let status = res.status().as_u16();
            let ct = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            if !((400..500).contains(&status) && ct.starts_with("application/problem+json")) {
                failures.push(format!(
                    "GET {}: {status} {ct}",
                    path.chars().take(160).collect::<String>()
                ));
            }
            sent += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} accepted:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(sent > 100);
    assert_eq!(counts(&app).await, before);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[actix_web::test]
async fn free_text_keeps_sql_and_markup_verbatim_and_inert() {
    let app = TestApp::spawn().await;
    let m = municipality();
    for text in SQL.iter().chain(SCRIPT) {
        let title = format!("Titel {text}");
        let res = app
            .post(
                "/api/v1/applications",
                Some(&m),
                &json!({"fundingLine": "GK", "title": title, "description": text}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let created: Value = res.json().await.unwrap();
        let read: Value = app
            .get(
                &format!("/api/v1/applications/{}", created["id"].as_str().unwrap()),
                Some(&m),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read["title"], title.as_str());
        assert_eq!(read["description"], *text);
    }
    // The tables are all still there and the search treats the fragments as words.
    let res = app
        .get(&format!("/api/v1/applications?q={}", urlencode("DROP TABLE")), Some(&m))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.db_count("applications").await, (SQL.len() + SCRIPT.len()) as i64);
}

/// Hostile uploads to every upload endpoint: broken multipart (truncated, a boundary the body does not use, none at
/// all, a form without its file, a second file), empty and oversize bodies, forged types, an executable, names
/// that try to climb out of the store. Each is a 4xx problem from every role, and nothing is stored anywhere.
#[actix_web::test]
async fn hostile_uploads_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_owned();
    let app = TestApp::spawn_with(move |a| {
        a.attachments.attachment_dir = Some(store);
        a.attachments.attachment_max_bytes = 64 * 1024;
    })
    .await;
    let f = fixture(&app).await;
    let before = counts(&app).await;
    let pdf = b"%PDF-1.7\n%%EOF\n".to_vec();
    let part = |name: &str, filename: &str, media: &str, content: &[u8]| -> Vec<u8> {
        let mut p = format!(
            "--B\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {media}\r\n\r\n"
        )
        .into_bytes();
        p.extend_from_slice(content);
        p.extend_from_slice(b"\r\n");
        p
    };
    let mut two_files = part("file", "a.pdf", "application/pdf", &pdf);
    two_files.extend(part("file", "b.pdf", "application/pdf", &pdf));
    two_files.extend(b"--B\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nkostenplan\r\n--B--\r\n");
    let mut truncated = part("file", "a.pdf", "application/pdf", &pdf);
    truncated.truncate(truncated.len() - 4);
    let mut no_file =
        b"--B\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nkostenplan\r\n--B--\r\n".to_vec();
    no_file.extend_from_slice(b"");
    let mut unknown_field = part("file", "a.pdf", "application/pdf", &pdf);
    unknown_field.extend(b"--B\r\nContent-Disposition: form-data; name=\"owner\"\r\n\r\nx\r\n--B--\r\n");
    let mut big = pdf.clone();
    big.resize(65 * 1024, b' ');
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    let cases: Vec<(&str, String, Vec<u8>, &str)> = vec![
        (
            "multipart/form-data; boundary=B",
            String::new(),
            truncated,
            "a truncated form",
        ),
        (
            "multipart/form-data; boundary=OTHER",
            String::new(),
            two_files.clone(),
            "a boundary the body does not use",
        ),
        ("multipart/form-data", String::new(), two_files.clone(), "no boundary"),
        ("multipart/form-data; boundary=B", String::new(), two_files, "two files"),
        (
            "multipart/form-data; boundary=B",
            String::new(),
            no_file,
            "a form without its file",
        ),
        (
            "multipart/form-data; boundary=B",
            String::new(),
            unknown_field,
            "an unknown field",
        ),
        (
            "application/pdf",
            "category=kostenplan&fileName=a.pdf".into(),
            Vec::new(),
            "0 bytes",
        ),
        (
            "application/pdf",
            "category=kostenplan&fileName=a.pdf".into(),
            big,
            "one byte above the limit",
        ),
        (
            "image/png",
            "category=kostenplan&fileName=a.png".into(),
            pdf.clone(),
            "a PDF declared as PNG",
        ),
        (
            "application/pdf",
            "category=kostenplan&fileName=a.pdf".into(),
            elf.clone(),
            "an executable declared as PDF",
        ),
        (
            "application/x-executable",
            "category=kostenplan&fileName=a".into(),
            elf,
            "an executable",
        ),
        (
            "application/pdf",
            "category=..%2F..%2Fetc&fileName=a.pdf".into(),
            pdf.clone(),
            "a path as category",
        ),
        (
            "application/pdf",
            "category=kostenplan&fileName=a.pdf&receiptIndex=-1".into(),
            pdf,
            "a negative receipt line",
        ),
    ];
    let owners = [
        format!("/api/v1/applications/{}/attachments", f.application),
        format!("/api/v1/grant-notices/{}/attachments", f.notice),
        format!("/api/v1/payment-requests/{}/attachments", f.payment),
        format!("/api/v1/proofs-of-use/{}/attachments", f.proof),
        format!("/api/v1/recovery-claims/{}/attachments", f.claim),
    ];
    let mut failures = Vec::new();
    for owner in &owners {
        for (media, query, body, what) in &cases {
            let path = if query.is_empty() {
                owner.clone()
            } else {
                format!("{owner}?{query}")
            };
            attack(&app, &Method::POST, &path, media, body, what, &mut failures).await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} accepted or not a problem:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(counts(&app).await, before, "nothing written");
    let stored = std::fs::read_dir(dir.path()).map_or(0, |d| {
        d.flatten()
            .map(|e| std::fs::read_dir(e.path()).map_or(1, |inner| inner.count()))
            .sum::<usize>()
    });
    assert_eq!(stored, 0, "nothing stored");
}

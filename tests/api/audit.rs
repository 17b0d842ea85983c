//! Every write records exactly its history entry and its event. The table "What each write records" in
//! docs/integration.md names, for every write operation, the history entry and the event it must write; here it is
//! compared with the write operations of the served OpenAPI document, and each row is performed against a fresh app
//! while the new rows of the `history` and `events` tables are counted.

use crate::helpers::*;
use crate::webhooks::Receiver;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use uuid::Uuid;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/integration.md");
const SECTION: &str = "## What each write records";
const HEADER: [&str; 3] = ["operation", "history (resource kind: action)", "event"];
/// The cell of a row that records nothing of that sort.
const NOTHING: &str = "—";
/// Event types that no request writes: the dispatcher disables a failing subscription; the reminder job announces
/// due and overdue duties.
const NOT_FROM_REQUESTS: &[&str] = &[
    "webhook.disabled",
    "obligation.due_soon",
    "obligation.overdue",
    "attachment.scanned",
    "attachment.infected",
];
/// Event types written only alongside another operation's own event (the table names that one): `approve` drafts the
/// grant notice, `amend` records on the notice in force, issuing a notice schedules its proofs of use and, for an
/// amending notice, retires the one it replaces, and confirming a settlement closes the notice and sets its files'
/// retention (docs/integration.md
/// says so below the table).
const ALONGSIDE: &[&str] = &[
    "grant_notice.created",
    "grant_notice.amendment_drafted",
    "grant_notice.amended",
    "proof_of_use.created",
    "proof_of_use.rescheduled",
    "grant_notice.closed",
    "attachment.retained",
    "referral.changed",
];

/// One row of the table.
#[derive(Debug, Clone)]
struct Row {
    /// `METHOD /path`, the path as the OpenAPI document spells it.
    operation: String,
    /// (resource kind, action)
    history: Option<(String, String)>,
    event: Option<String>,
}

impl Row {
    /// The kind of the resource the write records on.
    fn kind(&self) -> Option<String> {
        match (&self.history, &self.event) {
            (Some((kind, _)), _) => Some(kind.clone()),
            (None, Some(event)) => Some(kind_of(event).to_owned()),
            (None, None) => None,
        }
    }
}

fn kind_of(event_type: &str) -> &str {
    event_type.split_once('.').map_or(event_type, |(kind, _)| kind)
}

fn integration_md() -> String {
    std::fs::read_to_string(DOC).unwrap_or_else(|e| panic!("{DOC}: {e}"))
}

/// The rows of the table in docs/integration.md.
fn table() -> Vec<Row> {
    let text = integration_md();
    let start = text
        .find(SECTION)
        .unwrap_or_else(|| panic!("docs/integration.md has no section {SECTION:?}"));
    let section = &text[start + SECTION.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let lines: Vec<&str> = section
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    let cells = |line: &str| -> Vec<String> {
        line.trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('`', ""))
            .collect()
    };
    assert!(lines.len() > 2, "{SECTION}: no table");
    assert_eq!(cells(lines[0]), HEADER, "{SECTION}: table header");
    assert!(
        cells(lines[1])
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':')),
        "{SECTION}: second line is not the separator: {}",
        lines[1]
    );
    lines[2..]
        .iter()
        .map(|line| {
            let c = cells(line);
            assert_eq!(c.len(), 3, "{SECTION}: a row needs three cells: {line}");
            assert!(
                c.iter().all(|cell| !cell.is_empty()),
                "{SECTION}: empty cell (write {NOTHING} for nothing): {line}"
            );
            let history = (c[1] != NOTHING).then(|| {
                let (kind, action) = c[1]
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{SECTION}: history is `kind: action` or {NOTHING}: {line}"));
                (kind.trim().to_owned(), action.trim().to_owned())
            });
            let event = (c[2] != NOTHING).then(|| c[2].clone());
            Row {
                operation: c[0].clone(),
                history,
                event,
            }
        })
        .collect()
}

/// Every POST, PUT, PATCH and DELETE of the served OpenAPI document, as `METHOD /path`.
fn write_operations() -> BTreeSet<String> {
    let doc: Value = serde_json::to_value(versorgung::routes::openapi_document()).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if matches!(method.as_str(), "post" | "put" | "patch" | "delete") {
                ops.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops
}

/// The event types of the paragraph "Event types: …" of the change feed's section, braces expanded.
fn listed_event_types() -> BTreeSet<String> {
    let text = integration_md();
    let start = text
        .find("Event types:")
        .expect("docs/integration.md lists the event types (\"Event types: …\")");
    let paragraph = &text[start..];
    let paragraph = &paragraph[..paragraph.find("\n\n").unwrap_or(paragraph.len())];
    let mut types = BTreeSet::new();
    for (i, part) in paragraph.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        match part.split_once(".{") {
            Some((kind, rest)) => {
                for what in rest.trim_end_matches('}').split(',') {
                    types.insert(format!("{kind}.{}", what.trim()));
                }
            }
            None => {
                types.insert(part.to_owned());
            }
        }
    }
    types
}

#[test]
fn the_table_lists_every_write_operation_once() {
    let rows = table();
    let mut in_table = BTreeSet::new();
    for row in &rows {
        assert!(
            in_table.insert(row.operation.clone()),
            "{SECTION}: {} has two rows",
            row.operation
        );
        if let (Some((kind, _)), Some(event)) = (&row.history, &row.event) {
            assert_eq!(
                kind,
                kind_of(event),
                "{}: history and event name different resource kinds",
                row.operation
            );
        }
    }
    let served = write_operations();
    let missing: Vec<&String> = served.difference(&in_table).collect();
    let stale: Vec<&String> = in_table.difference(&served).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "{SECTION} in docs/integration.md differs from the OpenAPI document's write operations.\n\
         Without a row: {missing:#?}\nNo such operation: {stale:#?}"
    );

    // The feed's list of event types is the table's, plus those no request writes.
    let mut expected: BTreeSet<String> = rows.iter().filter_map(|r| r.event.clone()).collect();
    expected.extend(NOT_FROM_REQUESTS.iter().chain(ALONGSIDE).map(|t| (*t).to_owned()));
    let listed = listed_event_types();
    assert_eq!(
        listed,
        expected,
        "docs/integration.md: \"Event types:\" and the table disagree. Only listed: {:?}; only in the table: {:?}",
        listed.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&listed).collect::<Vec<_>>()
    );
}

// ---- performing the writes ----

/// A write to perform, and what it writes to.
struct Call {
    method: Method,
    path: String,
    token: String,
    body: Option<Value>,
    if_match: Option<String>,
    status: u16,
    /// The resource it changes as the API showed it before; `None` for a create, whose answer is the resource.
    resource: Option<Value>,
    /// Events it writes besides its own: (type, resource id).
    also: Vec<(&'static str, Uuid)>,
    /// History entries it writes besides its own: (resource kind, action, resource id).
    also_history: Vec<(&'static str, &'static str, Uuid)>,
    /// The resource is gone afterwards (its history endpoint answers 404 like the resource).
    gone: bool,
    /// A raw body with its media type (an upload) instead of JSON.
    raw: Option<(&'static str, &'static [u8])>,
}

impl Call {
    fn new(method: Method, path: impl Into<String>, token: String, body: Option<Value>, status: u16) -> Self {
        Self {
            method,
            path: path.into(),
            token,
            body,
            if_match: None,
            status,
            resource: None,
            also: vec![],
            also_history: vec![],
            gone: false,
            raw: None,
        }
    }

    /// An upload of a small PDF as the raw body.
    fn upload(path: impl Into<String>, token: String) -> Self {
        let mut call = Self::new(Method::POST, path, token, None, 201);
        call.raw = Some(("application/pdf", PDF));
        call
    }

    fn post(path: impl Into<String>, token: String, body: Value, status: u16) -> Self {
        Self::new(Method::POST, path, token, Some(body), status)
    }

    /// A merge patch with `If-Match` of the resource's version.
    fn patch(path: impl Into<String>, token: String, body: Value, resource: Value) -> Self {
        let version = format!("\"{}\"", resource["version"]);
        Self::new(Method::PATCH, path, token, Some(body), 200)
            .if_match(version)
            .on(resource)
    }

    fn delete(path: impl Into<String>, token: String) -> Self {
        Self::new(Method::DELETE, path, token, None, 204)
    }

    fn on(mut self, resource: Value) -> Self {
        self.resource = Some(resource);
        self
    }

    fn if_match(mut self, version: String) -> Self {
        self.if_match = Some(version);
        self
    }

    fn also(mut self, event_type: &'static str, resource: Uuid) -> Self {
        self.also.push((event_type, resource));
        self
    }

    fn gone(mut self) -> Self {
        self.gone = true;
        self
    }

    fn also_history(mut self, kind: &'static str, action: &'static str, resource: Uuid) -> Self {
        self.also_history.push((kind, action, resource));
        self
    }

    async fn send(&self, app: &TestApp) -> reqwest::Response {
        let mut req = app
            .client
            .request(self.method.clone(), app.url(&self.path))
            .bearer_auth(&self.token);
        if let Some(body) = &self.body {
            req = req.json(body);
        }
        if let Some((media_type, bytes)) = self.raw {
            req = req.header("Content-Type", media_type).body(bytes);
        }
        if let Some(version) = &self.if_match {
            req = req.header("If-Match", version);
        }
        req.send().await.expect("request")
    }
}

fn id(resource: &Value) -> &str {
    resource["id"].as_str().unwrap_or_else(|| panic!("no id in {resource}"))
}

async fn answer(res: reqwest::Response, status: u16, what: &str) -> Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value, status: u16) -> Value {
    answer(app.post(path, Some(token), &body).await, status, path).await
}

async fn get(app: &TestApp, path: &str) -> Value {
    answer(app.get(path, Some(&ministry())).await, 200, path).await
}

// The request bodies of the resources' own tests.

/// A complete GK application of Werra-Meißner-Kreis (tests/api/applications.rs).
fn complete_application() -> Value {
    json!({
        "fundingLine": "GK",
        "title": "Gesundheitskoordination Werra-Meißner-Kreis",
        "description": "Aufbau einer kommunalen Gesundheitsstrategie mit einer Personalstelle für Gesundheitskoordination.",
        "startDate": "2027-01-01", "endDate": "2031-12-31",
        "financingPlan": {"totalCostsCents": 25_000_000, "ownFundsCents": 2_500_000, "thirdPartyFundsCents": 0,
            "requestedCents": 22_500_000},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    })
}

fn new_funding_line() -> Value {
    json!({
        "code": "TM", "title": "Telemedizinische Versorgung im ländlichen Raum",
        "description": "Aufbau telemedizinischer Angebote.", "guidelineReference": "Teil II Nr. 2",
        "eligibleApplicantKinds": ["landkreis", "gemeinde", "traeger"],
        "opensOn": "2026-01-01", "closesOn": "2030-12-31", "maxAmountCents": 10_000_000,
        "minRateBasisPoints": 2000, "maxRateBasisPoints": 8000, "maxDurationMonths": 36, "budgetCents": 100_000_000
    })
}

fn new_organisation() -> Value {
    json!({"kind": "gemeinde", "ags": "06636001", "name": "Stadt Bad Sooden-Allendorf"})
}

fn new_coordinator() -> Value {
    json!({"name": "Jana Hoffmann", "email": "jana.hoffmann@vogelsbergkreis.example", "phone": "+49 6641 977-0",
        "district": "06535", "employer": "06535", "fteBasisPoints": 7500, "startDate": "2027-01-01"})
}

fn new_committee() -> Value {
    json!({"name": "AG Telemedizin", "kind": "working_group", "owningBody": "Serviceeinheit Gesundheitsversorgung",
        "topics": ["telemedizin"], "coverage": {"scope": "districts", "districts": ["06535", "06631"]},
        "contact": {"name": "Geschäftsstelle", "email": "ag-telemedizin@example.org"}})
}

fn external_member() -> Value {
    json!({"name": "Dr. Paul Klein", "organisation": "KV Hessen", "email": "p.klein@kv.example"})
}

fn new_referral() -> Value {
    json!({"direction": "region_to_committee", "subject": "Telemedizinische Fallkonferenzen",
        "description": "Regelmäßige Fallkonferenzen zwischen Praxen und Klinik.", "topics": ["telemedizin"],
        "dueDate": "2030-03-31"})
}

fn vogelsberg() -> String {
    token("municipality", Some("06535"))
}

fn fulda() -> String {
    token("municipality", Some("06631"))
}

/// An application brought to `status` ("draft", "submitted" or "in_review") through the API.
async fn application(app: &TestApp, status: &str) -> Value {
    let mut a = post(
        app,
        "/api/v1/applications",
        &municipality(),
        complete_application(),
        201,
    )
    .await;
    let steps: &[(&str, String)] = match status {
        "draft" => &[],
        "submitted" => &[("submit", municipality())],
        "in_review" => &[("submit", municipality()), ("start-review", ministry())],
        other => panic!("no way to an application in {other}"),
    };
    for (action, token) in steps {
        let path = format!("/api/v1/applications/{}/{action}", id(&a));
        a = post(app, &path, token, json!({}), 200).await;
    }
    a
}

/// The grant notice of a freshly approved application, as a draft or issued (by a second ministry person).
async fn notice(app: &TestApp, issued: bool) -> Value {
    let a = application(app, "in_review").await;
    let body = json!({"grantedCents": 20_000_000, "years": [{"year": 2027, "grantedCents": 20_000_000}]});
    post(
        app,
        &format!("/api/v1/applications/{}/approve", id(&a)),
        &ministry(),
        body,
        200,
    )
    .await;
    let n = get(app, &format!("/api/v1/applications/{}/grant-notice", id(&a))).await;
    if !issued {
        return n;
    }
    let path = format!("/api/v1/grant-notices/{}/issue", id(&n));
    post(app, &path, &second_reviewer(), json!({"deliveredOn": today()}), 200).await
}

/// A payment request of 1,600,000 cents for 2027 (expenses due in January 2027).
fn payment_request_body() -> Value {
    json!({"amountCents": 1_600_000, "fiscalYear": 2027,
        "expenses": [{"description": "Personalkosten Januar", "amountCents": 2_000_000, "dueOn": "2027-01-15"}]})
}

/// A payment request brought to `status` (draft, submitted, checked, approved) on a freshly issued notice whose
/// recipient has bank details, and the call that takes `action` on it.
async fn payment_call(app: &TestApp, status: &str, action: &str, token: String, body: Value) -> Call {
    let n = notice(app, true).await;
    let res = app
        .client
        .put(app.url("/api/v1/organisations/06636/bank-account"))
        .bearer_auth(municipality())
        .header("If-Match", "\"0\"")
        .json(&json!({"iban": "DE89370400440532013000", "accountHolder": "Kreisausschuss"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let path = format!("/api/v1/grant-notices/{}/payment-requests", id(&n));
    let mut p = post(app, &path, &municipality(), payment_request_body(), 201).await;
    let steps: &[(&str, String)] = match status {
        "draft" => &[],
        "submitted" => &[("submit", municipality())],
        "checked" => &[("submit", municipality()), ("check", ministry())],
        "approved" => &[
            ("submit", municipality()),
            ("check", ministry()),
            ("approve", second_reviewer()),
        ],
        other => panic!("no way to a payment request in {other}"),
    };
    for (step, who) in steps {
        p = post(
            app,
            &format!("/api/v1/payment-requests/{}/{step}", id(&p)),
            who,
            json!({}),
            200,
        )
        .await;
    }
    Call::post(
        format!("/api/v1/payment-requests/{}/{action}", id(&p)),
        token,
        body,
        200,
    )
    .on(p)
}

/// The final proof of use of a freshly issued notice, brought to `status` (open, draft, submitted, in_review).
async fn proof(app: &TestApp, status: &str) -> Value {
    let n = notice(app, true).await;
    let application: Uuid = n["applicationId"].as_str().unwrap_or_default().parse().unwrap();
    let final_proof =
        versorgung::proofs_of_use::proof_id(application, versorgung::proofs_of_use::ProofKind::Final, None);
    let mut p = get(app, &format!("/api/v1/proofs-of-use/{final_proof}")).await;
    if status == "open" {
        return p;
    }
    let body = json!({
        "report": {"activities": "Stelle besetzt.", "results": "Analyse liegt vor."},
        "income": {"ownFundsCents": 0, "thirdPartyFundsCents": 0, "grantCents": 450_000},
        "receipts": [{"paidOn": "2027-01-31", "payee": "Personal", "reason": "Gehalt", "amountCents": 450_000}]
    });
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/proofs-of-use/{final_proof}")))
        .bearer_auth(municipality())
        .header("If-Match", format!("\"{}\"", p["version"]))
        .header("Content-Type", "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    p = answer(res, 200, "proof").await;
    let steps: &[(&str, String)] = match status {
        "draft" => &[],
        "submitted" => &[("submit", municipality())],
        "in_review" => &[("submit", municipality()), ("start-review", ministry())],
        other => panic!("no way to a proof in {other}"),
    };
    for (step, who) in steps {
        p = post(
            app,
            &format!("/api/v1/proofs-of-use/{final_proof}/{step}"),
            who,
            json!({}),
            200,
        )
        .await;
    }
    p
}

/// Signs both reviews of a proof in review (admitting its one receipt in full).
async fn accept(app: &TestApp, p: &Value) {
    let path = |action: &str| format!("/api/v1/proofs-of-use/{}/{action}", id(p));
    post(app, &path("sign-content"), &ministry(), json!({}), 200).await;
    let body = json!({"admissions": [{"index": 0, "admittedCents": 450_000}]});
    post(app, &path("sign-financial"), &second_reviewer(), body, 200).await;
}

/// A confirmed settlement that found an overpayment: 1,600,000 paid on a fresh notice, 450,000 admitted.
async fn confirmed_settlement(app: &TestApp) -> Value {
    let call = payment_call(app, "approved", "pay", ministry(), json!({})).await;
    let p = call.resource.clone().unwrap_or_default();
    post(
        app,
        &format!("/api/v1/payment-requests/{}/pay", id(&p)),
        &ministry(),
        json!({"paidOn": today(), "cashReference": "HKR-1"}),
        200,
    )
    .await;
    let application: Uuid = p["applicationId"].as_str().unwrap_or_default().parse().unwrap();
    let final_proof =
        versorgung::proofs_of_use::proof_id(application, versorgung::proofs_of_use::ProofKind::Final, None);
    let mut proof = get(app, &format!("/api/v1/proofs-of-use/{final_proof}")).await;
    let body = json!({
        "report": {"activities": "Stelle besetzt.", "results": "Analyse liegt vor."},
        "income": {"ownFundsCents": 0, "thirdPartyFundsCents": 0, "grantCents": 450_000},
        "receipts": [{"paidOn": "2027-01-31", "payee": "Personal", "reason": "Gehalt", "amountCents": 450_000}]
    });
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/proofs-of-use/{final_proof}")))
        .bearer_auth(municipality())
        .header("If-Match", format!("\"{}\"", proof["version"]))
        .header("Content-Type", "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    proof = answer(res, 200, "proof").await;
    for (step, who) in [("submit", municipality()), ("start-review", ministry())] {
        proof = post(
            app,
            &format!("/api/v1/proofs-of-use/{}/{step}", id(&proof)),
            &who,
            json!({}),
            200,
        )
        .await;
    }
    accept(app, &proof).await;
    let notice = p["noticeId"].as_str().unwrap_or_default();
    let s = post(
        app,
        &format!("/api/v1/grant-notices/{notice}/settlement"),
        &ministry(),
        json!({}),
        201,
    )
    .await;
    post(
        app,
        &format!("/api/v1/settlements/{}/confirm", id(&s)),
        &second_reviewer(),
        json!({}),
        200,
    )
    .await
}

/// A recovery claim in its hearing, or decided (answered, then decided by a second person).
async fn claim(app: &TestApp, decided: bool) -> Value {
    let s = confirmed_settlement(app).await;
    let c = post(
        app,
        &format!("/api/v1/settlements/{}/recovery-claim", id(&s)),
        &ministry(),
        json!({}),
        201,
    )
    .await;
    if !decided {
        return c;
    }
    let path = |action: &str| format!("/api/v1/recovery-claims/{}/{action}", id(&c));
    post(
        app,
        &path("respond"),
        &municipality(),
        json!({"answer": "Stellungnahme."}),
        200,
    )
    .await;
    post(app, &path("decide"), &second_reviewer(), json!({}), 200).await
}

/// A change report or amendment request of kind `kind` on a freshly issued notice.
async fn change_request(app: &TestApp, kind: &str) -> Value {
    let n = notice(app, true).await;
    let body = json!({"kind": kind, "description": "Verschiebung zwischen Kostenpositionen."});
    post(
        app,
        &format!("/api/v1/grant-notices/{}/change-requests", id(&n)),
        &municipality(),
        body,
        201,
    )
    .await
}

/// A minimal PDF for uploads.
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

/// A file attached to a draft application by its applicant.
async fn attached(app: &TestApp) -> Value {
    let a = application(app, "draft").await;
    let path = format!(
        "/api/v1/applications/{}/attachments?category=konzept&fileName=Konzept.pdf",
        id(&a)
    );
    let res = app
        .client
        .post(app.url(&path))
        .bearer_auth(municipality())
        .header("Content-Type", "application/pdf")
        .body(PDF)
        .send()
        .await
        .unwrap();
    answer(res, 201, &path).await
}

/// An early-start request on an application in review.
async fn early_start(app: &TestApp) -> Value {
    let a = application(app, "in_review").await;
    let body = json!({"startOn": "2026-12-14", "reason": "Die Stelle muss zum Dezember besetzt werden.",
        "notYetBegun": true});
    post(
        app,
        &format!("/api/v1/applications/{}/early-start-consents", id(&a)),
        &municipality(),
        body,
        201,
    )
    .await
}

async fn proof_call(app: &TestApp, status: &str, action: &str, token: String, body: Value) -> Call {
    let p = proof(app, status).await;
    Call::post(format!("/api/v1/proofs-of-use/{}/{action}", id(&p)), token, body, 200).on(p)
}

fn new_entry() -> Value {
    json!({"kind": "good_practice", "title": "Fallkonferenzen", "body": "Praxen und Klinik.", "topics": ["telemedizin"],
        "visibility": "network"})
}

/// A knowledge entry brought through `steps` by the service unit.
async fn entry(app: &TestApp, steps: &[&str]) -> Value {
    let mut e = post(app, "/api/v1/knowledge-entries", &service_unit(), new_entry(), 201).await;
    for step in steps {
        e = post(
            app,
            &format!("/api/v1/knowledge-entries/{}/{step}", id(&e)),
            &service_unit(),
            json!({}),
            200,
        )
        .await;
    }
    e
}

async fn committee(app: &TestApp) -> Value {
    post(app, "/api/v1/committees", &service_unit(), new_committee(), 201).await
}

/// A consultation with the district of Werra-Meißner.
async fn new_consultation(app: &TestApp) -> Value {
    let org = crate::meetings::district_org(app, "06636").await;
    json!({"organisationId": org, "heldOn": "2026-11-20", "channel": "phone",
        "summary": "Fördermöglichkeiten für eine Praxisübernahme erläutert."})
}

/// A meeting of a new committee, with one agenda item.
async fn meeting(app: &TestApp) -> Value {
    let c = committee(app).await;
    let body = json!({"date": "2027-03-10", "title": "Sitzung 1/2027", "agenda": [{"title": "Begrüßung"}]});
    post(
        app,
        &format!("/api/v1/committees/{}/meetings", id(&c)),
        &service_unit(),
        body,
        201,
    )
    .await
}

/// An action item of a new meeting for the service unit, brought through `steps`.
async fn action_item(app: &TestApp, steps: &[&str]) -> Value {
    let m = meeting(app).await;
    let body = json!({"title": "Bericht vorbereiten", "assignee": "service_unit", "dueOn": "2027-04-30"});
    let mut a = post(
        app,
        &format!("/api/v1/meetings/{}/action-items", id(&m)),
        &service_unit(),
        body,
        201,
    )
    .await;
    for step in steps {
        let path = format!("/api/v1/action-items/{}/{step}", id(&a));
        a = post(app, &path, &service_unit(), json!({}), 200).await;
    }
    a
}

async fn coordinator(app: &TestApp) -> Value {
    post(app, "/api/v1/coordinators", &service_unit(), new_coordinator(), 201).await
}

/// A referral from Vogelsbergkreis, brought through `steps` (triage, forward to Landkreis Fulda, Fulda's answer).
async fn referral(app: &TestApp, steps: &[&str]) -> Value {
    let mut r = post(app, "/api/v1/referrals", &vogelsberg(), new_referral(), 201).await;
    for step in steps {
        let path = format!("/api/v1/referrals/{}/{step}", id(&r));
        let (token, body) = match *step {
            "triage" => (service_unit(), json!({})),
            "forward" => (service_unit(), json!({"targets": [{"district": "06631"}]})),
            "respond" => (
                fulda(),
                json!({"targetId": r["targets"][0]["id"], "answer": "Fulda beteiligt sich mit zwei Praxen."}),
            ),
            other => panic!("no step {other}"),
        };
        r = post(app, &path, &token, body, 200).await;
    }
    r
}

/// A subscription of the service unit to every event, delivered to a local receiver.
async fn webhook(app: &TestApp) -> Value {
    let (_receiver, url) = Receiver::start().await;
    post(
        app,
        "/api/v1/webhooks",
        &service_unit(),
        json!({"url": url, "eventTypes": ["*"]}),
        201,
    )
    .await
}

/// The write of a row, with whatever it needs created first. Every write operation needs a case here.
async fn prepare(app: &TestApp, operation: &str) -> Result<Call, String> {
    let (m, r, s) = (municipality(), ministry(), service_unit());
    let call = match operation {
        // Applications.
        "POST /api/v1/applications" => Call::post("/api/v1/applications", m, complete_application(), 201),
        "PATCH /api/v1/applications/{id}" => {
            let a = application(app, "draft").await;
            let body = json!({"title": "Gesundheitskoordination im Werra-Meißner-Kreis"});
            Call::patch(format!("/api/v1/applications/{}", id(&a)), m, body, a)
        }
        "POST /api/v1/applications/{id}/submit" => {
            let a = application(app, "draft").await;
            Call::post(format!("/api/v1/applications/{}/submit", id(&a)), m, json!({}), 200).on(a)
        }
        "POST /api/v1/applications/{id}/withdraw" => {
            let a = application(app, "submitted").await;
            let body = json!({"reason": "Nicht mehr nötig"});
            Call::post(format!("/api/v1/applications/{}/withdraw", id(&a)), m, body, 200).on(a)
        }
        "POST /api/v1/applications/{id}/start-review" => {
            let a = application(app, "submitted").await;
            Call::post(
                format!("/api/v1/applications/{}/start-review", id(&a)),
                r,
                json!({}),
                200,
            )
            .on(a)
        }
        "POST /api/v1/applications/{id}/request-changes" => {
            let a = application(app, "in_review").await;
            let body = json!({"reason": "Bitte den Finanzierungsplan nach Jahren aufschlüsseln."});
            Call::post(format!("/api/v1/applications/{}/request-changes", id(&a)), r, body, 200).on(a)
        }
        "POST /api/v1/applications/{id}/approve" => {
            let a = application(app, "in_review").await;
            let body = json!({"grantedCents": 20_000_000, "note": "Bewilligt.", "years": [{"year": 2027, "grantedCents": 20_000_000}]});
            // The grant changes the line's committed and remaining budget.
            let line = versorgung::funding_lines::event_id(a["fundingLine"].as_str().unwrap_or_default());
            let notice = versorgung::grant_notices::notice_id(id(&a).parse().unwrap(), 1);
            Call::post(format!("/api/v1/applications/{}/approve", id(&a)), r, body, 200)
                .on(a)
                .also("funding_line.changed", line)
                .also_history("funding_line", "commit", line)
                .also("grant_notice.created", notice)
                .also_history("grant_notice", "create", notice)
        }
        "POST /api/v1/applications/{id}/reject" => {
            let a = application(app, "in_review").await;
            let body = json!({"reason": "Nicht förderfähig"});
            Call::post(format!("/api/v1/applications/{}/reject", id(&a)), r, body, 200).on(a)
        }
        "POST /api/v1/applications/{id}/comments" => {
            let a = application(app, "submitted").await;
            let body = json!({"body": "Bitte den Zeitplan ergänzen."});
            Call::post(format!("/api/v1/applications/{}/comments", id(&a)), s, body, 201).on(a)
        }
        // Funding lines.
        "POST /api/v1/funding-lines" => Call::post("/api/v1/funding-lines", r, new_funding_line(), 201),
        "PATCH /api/v1/funding-lines/{code}" => {
            let line = get(app, "/api/v1/funding-lines/GK").await;
            Call::patch("/api/v1/funding-lines/GK", r, json!({"budgetCents": 600_000_000}), line)
        }
        "PUT /api/v1/funding-lines/{code}/years/{year}" => {
            let line = get(app, "/api/v1/funding-lines/GK").await;
            let body = Some(json!({"budgetCents": 50_000_000}));
            Call::new(Method::PUT, "/api/v1/funding-lines/GK/years/2033", r, body, 201).on(line)
        }
        "PUT /api/v1/base-rates/{validFrom}" => {
            // The resource is the half-year's row; it exists only after the write, so identity reads its key.
            let body = Some(json!({"rateBasisPoints": 152, "source": "Deutsche Bundesbank, Bekanntmachung"}));
            Call::new(Method::PUT, "/api/v1/base-rates/2027-01-01", r, body, 201).on(json!({"validFrom": "2027-01-01"}))
        }
        // Grant notices.
        "PATCH /api/v1/grant-notices/{id}" => {
            let n = notice(app, false).await;
            Call::patch(
                format!("/api/v1/grant-notices/{}", id(&n)),
                r,
                json!({"lockInUntil": "2036-12-31"}),
                n,
            )
        }
        "POST /api/v1/grant-notices/{id}/issue" => {
            let n = notice(app, false).await;
            let body = json!({"deliveredOn": "2026-11-02"});
            let mut call = Call::post(
                format!("/api/v1/grant-notices/{}/issue", id(&n)),
                second_reviewer(),
                body,
                200,
            );
            // The notice schedules its proofs of use: interim ones for 2027–2030 and the final one.
            let application: Uuid = n["applicationId"].as_str().unwrap_or_default().parse().unwrap();
            let period = (
                n["periodStart"].as_str().unwrap_or_default().parse().unwrap(),
                n["periodEnd"].as_str().unwrap_or_default().parse().unwrap(),
            );
            for (kind, year, _) in versorgung::proofs_of_use::due_dates(period, 4, 6) {
                let proof = versorgung::proofs_of_use::proof_id(application, kind, year);
                call = call
                    .also("proof_of_use.created", proof)
                    .also_history("proof_of_use", "create", proof);
            }
            // The letter kept as the notice's attachment.
            let notice_id: Uuid = id(&n).parse().unwrap();
            let letter = versorgung::grant_notices::letter_id(notice_id);
            call = call
                .also("attachment.added", letter)
                .also_history("attachment", "create", letter);
            call.on(n)
        }
        "POST /api/v1/grant-notices/{id}/waive-objection" => {
            let n = notice(app, true).await;
            let path = format!("/api/v1/grant-notices/{}/waive-objection", id(&n));
            Call::post(path, m.clone(), json!({}), 200).on(n)
        }
        "POST /api/v1/grant-notices/{id}/amend" => {
            // Answers with the new draft (the row's resource); the notice in force records the drafting.
            let n = notice(app, true).await;
            let in_force: Uuid = id(&n).parse().unwrap();
            let body = json!({"reason": "Verlängerung", "years": [{"year": 2027, "amountCents": 20_000_000}]});
            Call::post(format!("/api/v1/grant-notices/{}/amend", id(&n)), r.clone(), body, 201)
                .also("grant_notice.amendment_drafted", in_force)
                .also_history("grant_notice", "amend", in_force)
        }
        "DELETE /api/v1/grant-notices/{id}" => {
            let n = notice(app, true).await;
            let body = json!({"reason": "Verlängerung"});
            let draft = post(app, &format!("/api/v1/grant-notices/{}/amend", id(&n)), &r, body, 201).await;
            let version = format!("\"{}\"", draft["version"]);
            Call::delete(format!("/api/v1/grant-notices/{}", id(&draft)), r.clone())
                .if_match(version)
                .on(draft)
                .gone()
        }
        // Proofs of use.
        "PATCH /api/v1/proofs-of-use/{id}" => {
            let p = proof(app, "open").await;
            let body = json!({"report": {"activities": "Stelle besetzt."}});
            Call::patch(format!("/api/v1/proofs-of-use/{}", id(&p)), m.clone(), body, p)
        }
        "POST /api/v1/proofs-of-use/{id}/submit" => proof_call(app, "draft", "submit", m.clone(), json!({})).await,
        "POST /api/v1/proofs-of-use/{id}/start-review" => {
            proof_call(app, "submitted", "start-review", r.clone(), json!({})).await
        }
        "POST /api/v1/proofs-of-use/{id}/request-changes" => {
            let body = json!({"reason": "Bitte Belege nachreichen."});
            proof_call(app, "in_review", "request-changes", r.clone(), body).await
        }
        "POST /api/v1/proofs-of-use/{id}/sign-content" => {
            proof_call(app, "in_review", "sign-content", r.clone(), json!({})).await
        }
        "POST /api/v1/proofs-of-use/{id}/sign-financial" => {
            let body = json!({"admissions": [{"index": 0, "admittedCents": 450_000}]});
            proof_call(app, "in_review", "sign-financial", r.clone(), body).await
        }
        "POST /api/v1/proofs-of-use/{id}/reject" => {
            let body = json!({"reason": "Nicht prüffähig."});
            proof_call(app, "in_review", "reject", r.clone(), body).await
        }
        // Settlements.
        "POST /api/v1/grant-notices/{id}/settlement" => {
            let p = proof(app, "in_review").await;
            accept(app, &p).await;
            let path = format!(
                "/api/v1/grant-notices/{}/settlement",
                p["noticeId"].as_str().unwrap_or_default()
            );
            Call::post(path, r.clone(), json!({}), 201)
        }
        "POST /api/v1/settlements/{id}/confirm" => {
            let p = proof(app, "in_review").await;
            accept(app, &p).await;
            let notice: Uuid = p["noticeId"].as_str().unwrap_or_default().parse().unwrap();
            let path = format!("/api/v1/grant-notices/{notice}/settlement");
            let s = post(app, &path, &r, json!({}), 201).await;
            // 450,000 of 20,000,000 admitted: almost all of the commitment goes back to the line.
            let line = versorgung::funding_lines::event_id("GK");
            Call::post(
                format!("/api/v1/settlements/{}/confirm", id(&s)),
                second_reviewer(),
                json!({}),
                200,
            )
            .on(s)
            .also("grant_notice.closed", notice)
            .also_history("grant_notice", "close", notice)
            .also("funding_line.changed", line)
            .also_history("funding_line", "commit", line)
            // The notice's letter is kept for the retention period from now on.
            .also("attachment.retained", versorgung::grant_notices::letter_id(notice))
            .also_history("attachment", "retain", versorgung::grant_notices::letter_id(notice))
        }
        // Recovery claims.
        "POST /api/v1/settlements/{id}/recovery-claim" => {
            let s = confirmed_settlement(app).await;
            Call::post(
                format!("/api/v1/settlements/{}/recovery-claim", id(&s)),
                r.clone(),
                json!({}),
                201,
            )
        }
        "POST /api/v1/recovery-claims/{id}/respond" => {
            let c = claim(app, false).await;
            let body = json!({"answer": "Die Stelle war unbesetzt."});
            Call::post(
                format!("/api/v1/recovery-claims/{}/respond", id(&c)),
                m.clone(),
                body,
                200,
            )
            .on(c)
        }
        "POST /api/v1/recovery-claims/{id}/decide" => {
            let c = claim(app, false).await;
            post(
                app,
                &format!("/api/v1/recovery-claims/{}/respond", id(&c)),
                &m,
                json!({"answer": "Stellungnahme."}),
                200,
            )
            .await;
            Call::post(
                format!("/api/v1/recovery-claims/{}/decide", id(&c)),
                second_reviewer(),
                json!({}),
                200,
            )
            .on(c)
        }
        "POST /api/v1/recovery-claims/{id}/record-payment" => {
            let c = claim(app, true).await;
            let body = json!({"paidOn": today()});
            Call::post(
                format!("/api/v1/recovery-claims/{}/record-payment", id(&c)),
                r.clone(),
                body,
                200,
            )
            .on(c)
        }
        "POST /api/v1/recovery-claims/{id}/agree-instalments" => {
            let c = claim(app, true).await;
            let body = json!({"instalments": 6, "firstInstalmentOn": "2030-01-01"});
            Call::post(
                format!("/api/v1/recovery-claims/{}/agree-instalments", id(&c)),
                r.clone(),
                body,
                200,
            )
            .on(c)
        }
        "POST /api/v1/recovery-claims/{id}/waive" => {
            let c = claim(app, true).await;
            let body = json!({"reason": "Nicht beitreibbar."});
            Call::post(
                format!("/api/v1/recovery-claims/{}/waive", id(&c)),
                r.clone(),
                body,
                200,
            )
            .on(c)
        }
        // Attachments.
        "POST /api/v1/applications/{id}/attachments" => {
            let a = application(app, "draft").await;
            let path = format!(
                "/api/v1/applications/{}/attachments?category=kostenplan&fileName=k.pdf",
                id(&a)
            );
            Call::upload(path, m.clone())
        }
        "POST /api/v1/grant-notices/{id}/attachments" => {
            let n = notice(app, false).await;
            let path = format!(
                "/api/v1/grant-notices/{}/attachments?category=bescheid&fileName=b.pdf",
                id(&n)
            );
            Call::upload(path, r.clone())
        }
        "POST /api/v1/payment-requests/{id}/attachments" => {
            let draft = payment_call(app, "draft", "submit", m.clone(), json!({})).await;
            let p = draft.resource.unwrap_or_default();
            let path = format!(
                "/api/v1/payment-requests/{}/attachments?category=beleg&fileName=r.pdf",
                id(&p)
            );
            Call::upload(path, m.clone())
        }
        "POST /api/v1/proofs-of-use/{id}/attachments" => {
            let p = proof(app, "open").await;
            let path = format!(
                "/api/v1/proofs-of-use/{}/attachments?category=sachbericht&fileName=s.pdf",
                id(&p)
            );
            Call::upload(path, m.clone())
        }
        "POST /api/v1/recovery-claims/{id}/attachments" => {
            let c = claim(app, false).await;
            let path = format!(
                "/api/v1/recovery-claims/{}/attachments?category=stellungnahme&fileName=s.pdf",
                id(&c)
            );
            Call::upload(path, m.clone())
        }
        "POST /api/v1/knowledge-entries/{id}/attachments" => {
            let e = entry(app, &[]).await;
            let path = format!(
                "/api/v1/knowledge-entries/{}/attachments?category=handreichung&fileName=h.pdf",
                id(&e)
            );
            Call::upload(path, s.clone())
        }
        "POST /api/v1/meetings/{id}/attachments" => {
            let c = committee(app).await;
            let body = json!({"date": "2027-03-10", "title": "Sitzung 1/2027", "agenda": [{"title": "Begrüßung"}]});
            let meeting = post(app, &format!("/api/v1/committees/{}/meetings", id(&c)), &s, body, 201).await;
            let path = format!(
                "/api/v1/meetings/{}/attachments?category=protokoll&fileName=p.pdf",
                id(&meeting)
            );
            Call::upload(path, s.clone())
        }
        "POST /api/v1/referrals/{id}/attachments" => {
            let x = referral(app, &[]).await;
            let path = format!(
                "/api/v1/referrals/{}/attachments?category=anlage&fileName=a.pdf",
                id(&x)
            );
            Call::upload(path, vogelsberg())
        }
        "POST /api/v1/coordinators/{id}/attachments" => {
            let c = coordinator(app).await;
            let path = format!(
                "/api/v1/coordinators/{}/attachments?category=vertrag&fileName=v.pdf",
                id(&c)
            );
            Call::upload(path, s.clone())
        }
        "DELETE /api/v1/attachments/{id}" => {
            let a = attached(app).await;
            Call::delete(format!("/api/v1/attachments/{}", id(&a)), m.clone())
                .on(a)
                .gone()
        }
        // Early-start consents.
        "POST /api/v1/applications/{id}/early-start-consents" => {
            let a = application(app, "submitted").await;
            let body = json!({"startOn": "2026-12-14", "reason": "Früher Beginn nötig.", "notYetBegun": true});
            Call::post(
                format!("/api/v1/applications/{}/early-start-consents", id(&a)),
                m.clone(),
                body,
                201,
            )
        }
        "POST /api/v1/early-start-consents/{id}/grant" => {
            let c = early_start(app).await;
            Call::post(
                format!("/api/v1/early-start-consents/{}/grant", id(&c)),
                r.clone(),
                json!({}),
                200,
            )
            .on(c)
        }
        "POST /api/v1/early-start-consents/{id}/refuse" => {
            let c = early_start(app).await;
            let body = json!({"reason": "Nicht begründet."});
            Call::post(
                format!("/api/v1/early-start-consents/{}/refuse", id(&c)),
                r.clone(),
                body,
                200,
            )
            .on(c)
        }
        "POST /api/v1/early-start-consents/{id}/withdraw" => {
            let c = early_start(app).await;
            Call::post(
                format!("/api/v1/early-start-consents/{}/withdraw", id(&c)),
                m.clone(),
                json!({}),
                200,
            )
            .on(c)
        }
        // Change requests.
        "POST /api/v1/grant-notices/{id}/change-requests" => {
            let n = notice(app, true).await;
            let body = json!({"kind": "further_funding", "description": "Zuschuss der Kreissparkasse."});
            Call::post(
                format!("/api/v1/grant-notices/{}/change-requests", id(&n)),
                m.clone(),
                body,
                201,
            )
        }
        "POST /api/v1/change-requests/{id}/acknowledge" => {
            let c = change_request(app, "further_funding").await;
            Call::post(
                format!("/api/v1/change-requests/{}/acknowledge", id(&c)),
                r.clone(),
                json!({}),
                200,
            )
            .on(c)
        }
        "POST /api/v1/change-requests/{id}/refuse" => {
            let c = change_request(app, "plan_shift").await;
            let body = json!({"reason": "Nicht begründet."});
            Call::post(
                format!("/api/v1/change-requests/{}/refuse", id(&c)),
                r.clone(),
                body,
                200,
            )
            .on(c)
        }
        "POST /api/v1/change-requests/{id}/grant" => {
            let c = change_request(app, "plan_shift").await;
            // Granting drafts the amending notice (its id is made by the write) and records on the notice in force.
            let in_force: Uuid = c["noticeId"].as_str().unwrap_or_default().parse().unwrap();
            Call::post(
                format!("/api/v1/change-requests/{}/grant", id(&c)),
                r.clone(),
                json!({}),
                200,
            )
            .on(c)
            .also("grant_notice.amendment_drafted", in_force)
            .also_history("grant_notice", "amend", in_force)
            .also("grant_notice.created", ANY_ID)
            .also_history("grant_notice", "create", ANY_ID)
        }
        // Payment requests.
        "POST /api/v1/grant-notices/{id}/payment-requests" => {
            let n = notice(app, true).await;
            let path = format!("/api/v1/grant-notices/{}/payment-requests", id(&n));
            Call::post(path, m.clone(), payment_request_body(), 201)
        }
        "POST /api/v1/payment-requests/{id}/submit" => payment_call(app, "draft", "submit", m.clone(), json!({})).await,
        "POST /api/v1/payment-requests/{id}/cancel" => payment_call(app, "draft", "cancel", m.clone(), json!({})).await,
        "POST /api/v1/payment-requests/{id}/check" => {
            payment_call(app, "submitted", "check", r.clone(), json!({})).await
        }
        "POST /api/v1/payment-requests/{id}/return" => {
            let body = json!({"reason": "Bitte Belege nachreichen."});
            payment_call(app, "submitted", "return", r.clone(), body).await
        }
        "POST /api/v1/payment-requests/{id}/reject" => {
            let body = json!({"reason": "Keine fälligen Ausgaben."});
            payment_call(app, "submitted", "reject", r.clone(), body).await
        }
        "POST /api/v1/payment-requests/{id}/approve" => {
            payment_call(app, "checked", "approve", second_reviewer(), json!({})).await
        }
        "POST /api/v1/payment-requests/{id}/pay" => {
            let body = json!({"paidOn": today(), "cashReference": "HKR-2027-000123"});
            payment_call(app, "approved", "pay", r.clone(), body).await
        }
        // Organisations.
        "POST /api/v1/organisations" => Call::post("/api/v1/organisations", s, new_organisation(), 201),
        "PATCH /api/v1/organisations/{id}" => {
            let org = get(app, "/api/v1/organisations/06636").await;
            let body = json!({"name": "Werra-Meißner-Kreis"});
            Call::patch(format!("/api/v1/organisations/{}", id(&org)), s, body, org)
        }
        "PUT /api/v1/organisations/{id}/bank-account" => {
            // Recorded on the bank details, which are named by their organisation's id.
            let org = get(app, "/api/v1/organisations/06636").await;
            let body = json!({"iban": "DE89 3704 0044 0532 0130 00", "accountHolder": "Werra-Meißner-Kreis"});
            let path = format!("/api/v1/organisations/{}/bank-account", id(&org));
            Call::new(Method::PUT, path, m, Some(body), 200)
                .if_match("\"0\"".into())
                .on(org)
        }
        // Coordinators.
        "POST /api/v1/coordinators" => Call::post("/api/v1/coordinators", s, new_coordinator(), 201),
        "PATCH /api/v1/coordinators/{id}" => {
            let c = coordinator(app).await;
            let body = json!({"status": "on_leave", "phone": null});
            Call::patch(format!("/api/v1/coordinators/{}", id(&c)), s, body, c)
        }
        "DELETE /api/v1/coordinators/{id}" => {
            let c = coordinator(app).await;
            Call::delete(format!("/api/v1/coordinators/{}", id(&c)), s).on(c)
        }
        // Committees, their members and meetings.
        "POST /api/v1/committees" => Call::post("/api/v1/committees", s, new_committee(), 201),
        "PATCH /api/v1/committees/{id}" => {
            let c = committee(app).await;
            let body = json!({"topics": ["telemedizin", "versorgungsplanung"]});
            Call::patch(format!("/api/v1/committees/{}", id(&c)), s, body, c)
        }
        "DELETE /api/v1/committees/{id}" => {
            let c = committee(app).await;
            // Gone afterwards: its history stays in the table, the endpoint answers 404 like the committee.
            Call::delete(format!("/api/v1/committees/{}", id(&c)), s).on(c).gone()
        }
        "POST /api/v1/committees/{id}/members" => {
            let c = committee(app).await;
            Call::post(
                format!("/api/v1/committees/{}/members", id(&c)),
                s,
                external_member(),
                201,
            )
            .on(c)
        }
        "DELETE /api/v1/committees/{id}/members/{memberId}" => {
            let c = committee(app).await;
            let path = format!("/api/v1/committees/{}/members", id(&c));
            let members = post(app, &path, &s, external_member(), 201).await;
            Call::delete(format!("{path}/{}", id(&members[0])), s).on(c)
        }
        "POST /api/v1/committees/{id}/meetings" => {
            let c = committee(app).await;
            let body = json!({"date": "2027-03-10", "title": "Sitzung 1/2027", "place": "Lauterbach",
                "agenda": [{"title": "Begrüßung"}]});
            Call::post(format!("/api/v1/committees/{}/meetings", id(&c)), s, body, 201).on(c)
        }
        "PATCH /api/v1/meetings/{id}" => {
            let m = meeting(app).await;
            let body = json!({"agenda": [{"title": "Begrüßung", "result": "noted"}],
                "attendance": {"serviceUnit": "organised"}});
            Call::patch(format!("/api/v1/meetings/{}", id(&m)), s, body, m)
        }
        "POST /api/v1/meetings/{id}/action-items" => {
            let m = meeting(app).await;
            let body = json!({"title": "Bericht vorbereiten", "assignee": "service_unit", "dueOn": "2027-04-30"});
            Call::post(format!("/api/v1/meetings/{}/action-items", id(&m)), s, body, 201)
        }
        "PATCH /api/v1/action-items/{id}" => {
            let a = action_item(app, &[]).await;
            let body = json!({"dueOn": "2027-05-31"});
            Call::patch(format!("/api/v1/action-items/{}", id(&a)), s, body, a)
        }
        "POST /api/v1/action-items/{id}/start" => {
            let a = action_item(app, &[]).await;
            Call::post(format!("/api/v1/action-items/{}/start", id(&a)), s, json!({}), 200).on(a)
        }
        "POST /api/v1/action-items/{id}/complete" => {
            let a = action_item(app, &["start"]).await;
            let body = json!({"reason": "Bericht liegt vor."});
            Call::post(format!("/api/v1/action-items/{}/complete", id(&a)), s, body, 200).on(a)
        }
        "POST /api/v1/action-items/{id}/cancel" => {
            let a = action_item(app, &[]).await;
            let body = json!({"reason": "Nicht mehr nötig."});
            Call::post(format!("/api/v1/action-items/{}/cancel", id(&a)), s, body, 200).on(a)
        }
        "POST /api/v1/consultations" => Call::post("/api/v1/consultations", s, new_consultation(app).await, 201),
        "PATCH /api/v1/consultations/{id}" => {
            let c = post(
                app,
                "/api/v1/consultations",
                &service_unit(),
                new_consultation(app).await,
                201,
            )
            .await;
            let body = json!({"internalNotes": "Nachfassen im Frühjahr."});
            Call::patch(format!("/api/v1/consultations/{}", id(&c)), s, body, c)
        }
        // Referrals.
        "POST /api/v1/referrals" => Call::post("/api/v1/referrals", vogelsberg(), new_referral(), 201),
        // Knowledge.
        "POST /api/v1/knowledge-entries" => Call::post("/api/v1/knowledge-entries", s, new_entry(), 201),
        "PATCH /api/v1/knowledge-entries/{id}" => {
            let e = entry(app, &[]).await;
            Call::patch(
                format!("/api/v1/knowledge-entries/{}", id(&e)),
                s,
                json!({"body": "Mehr dazu."}),
                e,
            )
        }
        "POST /api/v1/knowledge-entries/{id}/submit" => {
            let e = entry(app, &[]).await;
            Call::post(
                format!("/api/v1/knowledge-entries/{}/submit", id(&e)),
                s,
                json!({}),
                200,
            )
            .on(e)
        }
        "POST /api/v1/knowledge-entries/{id}/return" => {
            let e = entry(app, &["submit"]).await;
            let body = json!({"reason": "Bitte ergänzen."});
            Call::post(format!("/api/v1/knowledge-entries/{}/return", id(&e)), r, body, 200).on(e)
        }
        "POST /api/v1/knowledge-entries/{id}/publish" => {
            let e = entry(app, &["submit"]).await;
            Call::post(
                format!("/api/v1/knowledge-entries/{}/publish", id(&e)),
                r,
                json!({}),
                200,
            )
            .on(e)
        }
        "POST /api/v1/knowledge-entries/{id}/archive" => {
            let e = entry(app, &["submit", "publish"]).await;
            Call::post(
                format!("/api/v1/knowledge-entries/{}/archive", id(&e)),
                s,
                json!({}),
                200,
            )
            .on(e)
        }
        // Topics.
        "POST /api/v1/topics" => {
            let body = json!({"code": "hausarztzentren", "title": "Hausarztzentren", "parent": "gesundheitszentren"});
            Call::post("/api/v1/topics", s, body, 201)
        }
        "PATCH /api/v1/topics/{code}" => {
            let t = get(app, "/api/v1/topics/mvz").await;
            Call::patch(
                "/api/v1/topics/mvz",
                s,
                json!({"title": "Medizinische Versorgungszentren"}),
                t,
            )
        }
        "POST /api/v1/topics/{code}/merge" => {
            // A topic no record carries: the merge records on the topic alone.
            let body = json!({"code": "doppelt", "title": "Doppelt angelegt"});
            let t = post(app, "/api/v1/topics", &s, body, 201).await;
            Call::post("/api/v1/topics/doppelt/merge", s, json!({"into": "pflege"}), 200).on(t)
        }
        "POST /api/v1/referrals/{id}/triage" => {
            let x = referral(app, &[]).await;
            let body = json!({"note": "Passt zur Regionalen Gesundheitskonferenz."});
            Call::post(format!("/api/v1/referrals/{}/triage", id(&x)), s, body, 200).on(x)
        }
        "POST /api/v1/referrals/{id}/forward" => {
            let x = referral(app, &["triage"]).await;
            let body = json!({"targets": [{"district": "06631"}]});
            Call::post(format!("/api/v1/referrals/{}/forward", id(&x)), s, body, 200).on(x)
        }
        "POST /api/v1/referrals/{id}/decline" => {
            let x = referral(app, &[]).await;
            let body = json!({"reason": "Außerhalb der Zuständigkeit"});
            Call::post(format!("/api/v1/referrals/{}/decline", id(&x)), s, body, 200).on(x)
        }
        "POST /api/v1/referrals/{id}/respond" => {
            let x = referral(app, &["triage", "forward"]).await;
            let body = json!({"targetId": x["targets"][0]["id"], "answer": "Fulda beteiligt sich mit zwei Praxen."});
            Call::post(format!("/api/v1/referrals/{}/respond", id(&x)), fulda(), body, 200).on(x)
        }
        "POST /api/v1/referrals/{id}/close" => {
            let x = referral(app, &["triage", "forward", "respond"]).await;
            let body = json!({"outcome": "Wird als Modellvorhaben beantragt."});
            Call::post(format!("/api/v1/referrals/{}/close", id(&x)), s, body, 200).on(x)
        }
        // Webhooks.
        "POST /api/v1/webhooks" => {
            let (_receiver, url) = Receiver::start().await;
            Call::post("/api/v1/webhooks", s, json!({"url": url, "eventTypes": ["*"]}), 201)
        }
        "POST /api/v1/digests" => {
            let body = json!({"email": "referat@example.org", "frequency": "weekly", "topics": ["telemedizin"]});
            Call::post("/api/v1/digests", s, body, 201)
        }
        "DELETE /api/v1/digests/{id}" => {
            let body = json!({"email": "referat@example.org", "frequency": "daily"});
            let digest = post(app, "/api/v1/digests", &service_unit(), body, 201).await;
            Call::delete(format!("/api/v1/digests/{}", id(&digest)), s).on(digest)
        }
        "DELETE /api/v1/webhooks/{id}" => {
            let hook = webhook(app).await;
            Call::delete(format!("/api/v1/webhooks/{}", id(&hook)), s).on(hook)
        }
        "POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver" => {
            let hook = webhook(app).await;
            committee(app).await;
            let deliveries = format!("/api/v1/webhooks/{}/deliveries", id(&hook));
            let start = Instant::now();
            let delivery = loop {
                // Reading the feed numbers the committed events, which fans them out to the subscriptions.
                get(app, "/api/v1/events?after=0&limit=1").await;
                let log = answer(app.get(&deliveries, Some(&s)).await, 200, &deliveries).await;
                if let Some(d) = log["items"].get(0) {
                    break d.clone();
                }
                assert!(start.elapsed() < Duration::from_secs(10), "no delivery to redeliver");
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            };
            Call::post(format!("{deliveries}/{}/redeliver", id(&delivery)), s, json!({}), 202).on(hook)
        }
        other => {
            return Err(format!(
                "no case performs {other}: add one to `prepare` in tests/api/audit.rs"
            ));
        }
    };
    Ok(call)
}

// ---- what a write recorded ----

/// The UUID by which history and events name a resource, and where its history is read.
fn identity(kind: &str, resource: &Value) -> Result<(Uuid, Option<String>), String> {
    if kind == "funding_line" {
        let code = resource["code"]
            .as_str()
            .ok_or_else(|| format!("no code in the funding line {resource}"))?;
        let history = format!("/api/v1/funding-lines/{code}/history");
        return Ok((versorgung::funding_lines::event_id(code), Some(history)));
    }
    if kind == "topic" {
        let code = resource["code"]
            .as_str()
            .ok_or_else(|| format!("no code in the topic {resource}"))?;
        let history = format!("/api/v1/topics/{code}/history");
        return Ok((versorgung::topics::uuid_of(code), Some(history)));
    }
    if kind == "base_rate" {
        let day: chrono::NaiveDate = resource["validFrom"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no validFrom in the base rate {resource}"))?;
        let history = format!("/api/v1/base-rates/{day}/history");
        return Ok((versorgung::base_rates::model::event_id(day), Some(history)));
    }
    let id: Uuid = resource["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no id in the {kind} {resource}"))?;
    let history = match kind {
        "application" => Some(format!("/api/v1/applications/{id}/history")),
        "organisation" => Some(format!("/api/v1/organisations/{id}/history")),
        "bank_account" => Some(format!("/api/v1/organisations/{id}/bank-account/history")),
        "coordinator" => Some(format!("/api/v1/coordinators/{id}/history")),
        "referral" => Some(format!("/api/v1/referrals/{id}/timeline")),
        "committee" => Some(format!("/api/v1/committees/{id}/history")),
        "grant_notice" => Some(format!("/api/v1/grant-notices/{id}/history")),
        "proof_of_use" => Some(format!("/api/v1/proofs-of-use/{id}/history")),
        "settlement" => Some(format!("/api/v1/settlements/{id}/history")),
        "recovery_claim" => Some(format!("/api/v1/recovery-claims/{id}/history")),
        "change_request" => Some(format!("/api/v1/change-requests/{id}/history")),
        "early_start_consent" => Some(format!("/api/v1/early-start-consents/{id}/history")),
        "attachment" => Some(format!("/api/v1/attachments/{id}/history")),
        "payment_request" => Some(format!("/api/v1/payment-requests/{id}/history")),
        "knowledge_entry" => Some(format!("/api/v1/knowledge-entries/{id}/history")),
        "committee_meeting" => Some(format!("/api/v1/meetings/{id}/history")),
        "consultation" => Some(format!("/api/v1/consultations/{id}/history")),
        "action_item" => Some(format!("/api/v1/action-items/{id}/history")),
        // A subscription's history is kept (who subscribed, unsubscribed, redelivered) but not served: the table.
        "webhook" => None,
        // The same for digests (their address is personal data, their changes configuration).
        "digest" => None,
        other => return Err(format!("unknown resource kind {other:?} in the table")),
    };
    Ok((id, history))
}

#[derive(diesel::QueryableByName)]
struct Max {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Recorded {
    /// The action (history) or the type (events).
    #[diesel(sql_type = Text)]
    what: String,
    #[diesel(sql_type = Text)]
    resource_kind: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    resource_id: Uuid,
}

/// (what, kind, id) of a history entry (action) or an event (type).
type Entry = (String, String, Uuid);

/// A resource whose id the test cannot know beforehand (a time-ordered id made by the write).
const ANY_ID: Uuid = Uuid::nil();

/// Gives each expected entry with [`ANY_ID`] the id of a recorded entry of the same kind and action that no other
/// expectation names, then sorts again.
fn resolve_any(expected: &mut [Entry], recorded: &[Entry]) {
    let named: Vec<Entry> = expected.iter().filter(|e| e.2 != ANY_ID).cloned().collect();
    let mut used: Vec<Uuid> = Vec::new();
    for entry in expected.iter_mut().filter(|e| e.2 == ANY_ID) {
        if let Some(found) = recorded
            .iter()
            .find(|r| r.0 == entry.0 && r.1 == entry.1 && !named.contains(r) && !used.contains(&r.2))
        {
            entry.2 = found.2;
            used.push(found.2);
        }
    }
    expected.sort();
}

async fn last_id(app: &TestApp, table: &str) -> i64 {
    let mut conn = app.db.conn().await;
    let rows: Vec<Max> = diesel::sql_query(format!("SELECT coalesce(max(id), 0) AS n FROM {table}"))
        .load(&mut conn)
        .await
        .expect("max id");
    rows[0].n
}

/// Rows of `history` (column `action`) or `events` (column `type`) after `after`, oldest first.
async fn rows_after(app: &TestApp, table: &str, column: &str, after: i64) -> Vec<Entry> {
    let mut conn = app.db.conn().await;
    let rows: Vec<Recorded> = diesel::sql_query(format!(
        "SELECT {column} AS what, resource_kind, resource_id FROM {table} WHERE id > $1 ORDER BY id"
    ))
    .bind::<BigInt, _>(after)
    .load(&mut conn)
    .await
    .expect("new rows");
    let mut entries: Vec<Entry> = rows
        .into_iter()
        .map(|r| (r.what, r.resource_kind, r.resource_id))
        .collect();
    entries.sort();
    entries
}

fn describe(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "nothing".into();
    }
    entries
        .iter()
        .map(|(what, kind, id)| format!("{what} on {kind} {id}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The entries of a history endpoint.
async fn history_entries(app: &TestApp, path: &str) -> Result<Vec<Value>, String> {
    let res = app.get(path, Some(&ministry())).await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    match body.as_array() {
        Some(items) if status == 200 => Ok(items.clone()),
        _ => Err(format!("GET {path} answered {status}: {body}")),
    }
}

/// Performs one row's write on a fresh app and compares what it recorded with the row.
async fn check(row: Row) -> Result<(), String> {
    let app = TestApp::spawn_with(|a| {
        a.webhooks.webhook_allow_loopback = true;
        // Digests need a mail setting to be made; none is due during the test, so nothing is sent to it.
        a.mail.smtp_url = Some("smtp://127.0.0.1:9".into());
    })
    .await;
    let call = prepare(&app, &row.operation).await?;
    let kind = row.kind();
    let before = match (&kind, &call.resource) {
        (Some(kind), Some(resource)) => Some(identity(kind, resource)?),
        _ => None,
    };
    let endpoint_before = match (&row.history, &before) {
        (Some(_), Some((_, Some(path)))) => history_entries(&app, path).await.unwrap_or_default().len(),
        _ => 0,
    };
    let (history_mark, events_mark) = (last_id(&app, "history").await, last_id(&app, "events").await);

    let res = call.send(&app).await;
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    if status != call.status {
        return Err(format!("answered {status}, expected {}: {text}", call.status));
    }

    let history = rows_after(&app, "history", "action", history_mark).await;
    let events = rows_after(&app, "events", "type", events_mark).await;
    let target = match (&kind, before) {
        (None, _) => None,
        (Some(_), Some(known)) => Some(known),
        (Some(kind), None) => {
            let created: Value =
                serde_json::from_str(&text).map_err(|e| format!("answer is not JSON ({e}): {text}"))?;
            Some(identity(kind, &created)?)
        }
    };
    let resource = target.as_ref().map(|(id, _)| *id).unwrap_or_default();

    let mut expected_history: Vec<Entry> = row
        .history
        .iter()
        .map(|(kind, action)| (action.clone(), kind.clone(), resource))
        .chain(
            call.also_history
                .iter()
                .map(|(kind, action, id)| ((*action).to_owned(), (*kind).to_owned(), *id)),
        )
        .collect();
    expected_history.sort();
    let mut expected_events: Vec<Entry> = row
        .event
        .iter()
        .map(|t| (t.clone(), kind_of(t).to_owned(), resource))
        .chain(
            call.also
                .iter()
                .map(|(t, id)| ((*t).to_owned(), kind_of(t).to_owned(), *id)),
        )
        .collect();
    expected_events.sort();
    resolve_any(&mut expected_history, &history);
    resolve_any(&mut expected_events, &events);

    let mut wrong = Vec::new();
    if history != expected_history {
        wrong.push(format!(
            "history: expected {}, recorded {}",
            describe(&expected_history),
            describe(&history)
        ));
    }
    if events != expected_events {
        wrong.push(format!(
            "events: expected {}, emitted {}",
            describe(&expected_events),
            describe(&events)
        ));
    }
    if let (Some((_, action)), Some((_, Some(path))), false) = (&row.history, &target, call.gone) {
        match history_entries(&app, path).await {
            Err(e) => wrong.push(format!("history not readable: {e}")),
            Ok(entries) => {
                let last = entries.last().map(|e| e["action"].clone()).unwrap_or_default();
                if entries.len() != endpoint_before + 1 || last != json!(action) {
                    wrong.push(format!(
                        "GET {path}: expected one more entry ({} → {}) ending with {action}, found {} ending with {last}",
                        endpoint_before,
                        endpoint_before + 1,
                        entries.len()
                    ));
                }
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panicked".into())
}

/// Checks a row on a thread and runtime of its own: a panic while preparing fails that row, not the rest, and the
/// app's background workers end with the runtime instead of piling up over the rows.
fn check_alone(row: Row) -> Result<(), String> {
    std::thread::spawn(move || actix_web::rt::System::new().block_on(check(row)))
        .join()
        .unwrap_or_else(|payload| Err(format!("panicked: {}", panic_message(payload))))
}

#[test]
fn every_write_records_exactly_its_history_entry_and_its_event() {
    let rows = table();
    let mut failures = Vec::new();
    for row in rows.iter().cloned() {
        let operation = row.operation.clone();
        match check_alone(row) {
            Ok(()) => eprintln!("ok    {operation}"),
            Err(e) => {
                eprintln!("FAIL  {operation}: {e}");
                failures.push(format!("{operation}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} writes do not record exactly what docs/integration.md (\"{SECTION}\") says:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

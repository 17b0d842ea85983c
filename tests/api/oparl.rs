//! The OParl 1.1 interface: a crawler follows it from the system object through every list and object, and each
//! object validates against OParl's own JSON schema (tests/oparl/schema, from OParl/spec v1.1.1) with format checks;
//! each list page has OParl's shape. Without a token persons carry no name and meetings no files.

use crate::helpers::*;
use crate::meetings::committee_with_meeting;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn validator(kind: &str) -> jsonschema::Validator {
    let path = format!("{}/tests/oparl/schema/{kind}.json", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        // OParl's own format `url` (its schemas use it for every reference): an absolute http(s) URL.
        .with_format("url", |s: &str| {
            reqwest::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        })
        .build(&schema)
        .unwrap()
}

/// Checks an object against the schema its `type` names; returns the schema's name.
fn check(validators: &BTreeMap<String, jsonschema::Validator>, object: &Value) -> String {
    let kind = object["type"]
        .as_str()
        .and_then(|t| t.strip_prefix("https://schema.oparl.org/1.1/"))
        .unwrap_or_else(|| panic!("no OParl 1.1 type: {object}"))
        .to_owned();
    let v = validators.get(&kind).unwrap_or_else(|| panic!("no schema for {kind}"));
    let errors: Vec<String> = v
        .iter_errors(object)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{kind} does not validate: {errors:?}\n{object:#}");
    // Optional properties are left out, never null (OParl 1.1, chapter 2).
    assert!(
        object.as_object().unwrap().values().all(|v| !v.is_null()),
        "null in {object}"
    );
    kind
}

/// An OParl list page: `data`, `pagination`, `links` with absolute addresses.
fn check_list(page: &Value) {
    assert!(page["data"].is_array(), "{page}");
    assert!(page["pagination"].is_object() && page["links"].is_object(), "{page}");
    for (_, link) in page["links"].as_object().unwrap() {
        assert!(link.as_str().unwrap().starts_with("http://127.0.0.1:"), "{page}");
    }
}

async fn get(app: &TestApp, url: &str, token: Option<&str>) -> Value {
    let mut req = app.client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{url}: {body}");
    body
}

/// Follows the interface from the system object; returns every object seen by its type.
async fn crawl(app: &TestApp, token: Option<&str>) -> BTreeMap<String, Vec<Value>> {
    let validators: BTreeMap<String, jsonschema::Validator> = [
        "System",
        "Body",
        "Organization",
        "Person",
        "Membership",
        "Meeting",
        "AgendaItem",
        "Paper",
        "File",
    ]
    .into_iter()
    .map(|k| (k.to_owned(), validator(k)))
    .collect();
    let mut seen: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let note = |object: &Value, seen: &mut BTreeMap<String, Vec<Value>>| {
        let kind = check(&validators, object);
        seen.entry(kind).or_default().push(object.clone());
    };
    let system = get(app, &app.url("/oparl/v1/system"), token).await;
    note(&system, &mut seen);
    let bodies = get(app, system["body"].as_str().unwrap(), token).await;
    check_list(&bodies);
    let body = bodies["data"][0].clone();
    note(&body, &mut seen);
    assert_eq!(get(app, body["id"].as_str().unwrap(), token).await, body);
    for list in ["organization", "person", "meeting", "paper"] {
        let page = get(app, body[list].as_str().unwrap(), token).await;
        check_list(&page);
        for object in page["data"].as_array().unwrap() {
            note(object, &mut seen);
            // Each object is also served at its own address, the same.
            assert_eq!(&get(app, object["id"].as_str().unwrap(), token).await, object);
            for embedded in ["agendaItem", "membership", "auxiliaryFile"] {
                for inner in object[embedded]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| v.is_object())
                {
                    note(inner, &mut seen);
                    // Alone it is the same object, plus its back-reference (left out where it is embedded).
                    let alone = get(app, inner["id"].as_str().unwrap(), token).await;
                    for (key, value) in inner.as_object().unwrap() {
                        assert_eq!(&alone[key], value, "{key} of {alone}");
                    }
                }
            }
            if object["resultsProtocol"].is_object() {
                note(&object["resultsProtocol"], &mut seen);
            }
            if let Some(meetings) = object["meeting"].as_str() {
                let page = get(app, meetings, token).await;
                check_list(&page);
                for m in page["data"].as_array().unwrap() {
                    check(&validators, m);
                }
            }
        }
    }
    seen
}

#[actix_web::test]
async fn the_committees_read_as_oparl_and_every_object_validates_against_the_oparl_schemas() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let (committee, member, meeting) = committee_with_meeting(&app).await;
    let referral: Value = app
        .post(
            "/api/v1/referrals",
            Some(&token("municipality", Some("06535"))),
            &json!({"direction": "region_to_committee", "subject": "Telemedizinische Fallkonferenzen",
                "description": "Regelmäßige Fallkonferenzen.", "topics": ["telemedizin"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let m = format!("/api/v1/meetings/{}", meeting["id"].as_str().unwrap());
    let res = app
        .patch(
            &m,
            Some(&s),
            Some("\"1\""),
            &json!({"agenda": [{"title": "Begrüßung", "result": "noted"},
                {"title": "Telemedizinische Fallkonferenzen", "referralId": referral["id"], "result": "adopted",
                 "resolution": "Die AG empfiehlt einen Pilotversuch.", "decisions": ["Pilot in Vogelsberg"]}],
                "attendance": {"memberIds": [member["id"]], "serviceUnit": "organised"}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .post(app.url(&format!("{m}/attachments?category=protokoll&fileName=protokoll.pdf")))
        .bearer_auth(&s)
        .header("Content-Type", "application/pdf")
        .body(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());

    // With a token: everything, names and files included.
    let seen = crawl(&app, Some(&municipality())).await;
    let kinds: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        [
            "AgendaItem",
            "Body",
            "File",
            "Meeting",
            "Membership",
            "Organization",
            "Paper",
            "Person",
            "System"
        ]
        .into()
    );
    let ours = seen["Meeting"]
        .iter()
        .find(|x| x["id"].as_str().unwrap().ends_with(meeting["id"].as_str().unwrap()))
        .unwrap();
    assert_eq!(ours["agendaItem"][1]["result"], "Beschlossen");
    assert_eq!(
        ours["agendaItem"][1]["resolutionText"],
        "Die AG empfiehlt einen Pilotversuch."
    );
    assert_eq!(ours["resultsProtocol"]["fileName"], "protokoll.pdf");
    assert!(
        ours["organization"][0]
            .as_str()
            .unwrap()
            .ends_with(committee["id"].as_str().unwrap())
    );
    assert!(
        seen["Paper"]
            .iter()
            .any(|p| p["name"] == "Telemedizinische Fallkonferenzen")
    );
    let klein = seen["Person"]
        .iter()
        .find(|p| p["id"].as_str().unwrap().ends_with(member["id"].as_str().unwrap()))
        .unwrap();
    assert_eq!(klein["name"], "Dr. Paul Klein");
    // The seeded committees are there too (the six regional health conferences and the others).
    assert!(seen["Organization"].len() >= 7, "{}", seen["Organization"].len());

    // Without a token: the same objects, valid, but no names of persons and no files.
    let anonymous = crawl(&app, None).await;
    assert!(!anonymous.contains_key("File"));
    assert!(anonymous["Person"].iter().all(|p| p.get("name").is_none()));
    assert_eq!(anonymous["Meeting"].len(), seen["Meeting"].len());
    let file = &seen["File"][0];
    let res = app.client.get(file["id"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(res.status(), 401);
    // The file's accessUrl is the attachment's download.
    let res = app
        .client
        .get(file["accessUrl"].as_str().unwrap())
        .bearer_auth(municipality())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A Forwarded host does not move the ids (only the configured public address would).
    let system: Value = app
        .client
        .get(app.url("/oparl/v1/system"))
        .header("X-Forwarded-Host", "evil.example")
        .header("Forwarded", "host=evil.example;proto=https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        system["id"].as_str().unwrap().starts_with("http://127.0.0.1:"),
        "{system}"
    );
    // Unknown objects are 404; a page past the end is an empty list; a bad page number is 400.
    let res = app.client.get(app.url("/oparl/v1/bodies/other")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let page = get(&app, &app.url("/oparl/v1/bodies/hmfg/organizations?page=99"), None).await;
    assert!(page["data"].as_array().unwrap().is_empty() && page["links"].get("next").is_none());
    problem(app.get("/oparl/v1/bodies/hmfg/organizations?page=0", None).await, 400).await;
    let res = app
        .client
        .get(app.url(&format!(
            "/oparl/v1/meetings/{}/agenda-items/9",
            meeting["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[test]
fn the_schema_check_refuses_what_oparl_refuses() {
    let meeting = validator("Meeting");
    let good = json!({"id": "https://x.example/oparl/v1/meetings/1", "type": "https://schema.oparl.org/1.1/Meeting",
        "start": "2026-11-20T00:00:00+01:00"});
    assert!(meeting.is_valid(&good));
    for bad in [
        json!({"id": "keine-url", "type": "https://schema.oparl.org/1.1/Meeting"}),
        json!({"id": "https://x.example/m/1", "type": "https://schema.oparl.org/1.0/Meeting"}),
        json!({"id": "https://x.example/m/1", "type": "https://schema.oparl.org/1.1/Meeting", "start": "gestern"}),
        json!({"type": "https://schema.oparl.org/1.1/Meeting"}),
    ] {
        assert!(!meeting.is_valid(&bad), "{bad}");
    }
}

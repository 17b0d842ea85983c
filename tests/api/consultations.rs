//! The advice log: the service unit records consultations with municipalities; a municipality reads its own
//! consultations' public part (never the internal notes), in the resource and in the feed.

use crate::helpers::*;
use crate::meetings::district_org;
use serde_json::{Value, json};

async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

#[actix_web::test]
async fn the_service_unit_logs_advice_and_the_municipality_reads_its_public_part() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let org = district_org(&app, "06636").await;
    let application = ok(
        app.post(
            "/api/v1/applications",
            Some(&municipality()),
            &json!({"fundingLine": "GK", "title": "MVZ Eschwege"}),
        )
        .await,
        201,
    )
    .await;
    let body = json!({"organisationId": org, "heldOn": "2026-11-20", "channel": "video",
        "topics": ["gesundheitszentren"],
        "summary": "Beratung zur Gründung eines kommunalen MVZ; Fördermöglichkeiten erläutert.",
        "internalNotes": "Bürgermeister skeptisch wegen der Trägerschaft.",
        "followUps": [{"text": "Mustersatzung schicken", "dueOn": "2026-12-04"}],
        "applicationIds": [application["id"]]});
    problem(
        app.post("/api/v1/consultations", Some(&municipality()), &body).await,
        403,
    )
    .await;
    problem(app.post("/api/v1/consultations", Some(&ministry()), &body).await, 403).await;

    // Every wrong field at once: an application of another organisation, an unknown topic, a short follow-up.
    let other_app = ok(
        app.post(
            "/api/v1/applications",
            Some(&token("municipality", Some("06535"))),
            &json!({"fundingLine": "GK", "title": "Fremder Antrag"}),
        )
        .await,
        201,
    )
    .await;
    let mut bad = body.clone();
    merge(
        &mut bad,
        &json!({"applicationIds": [other_app["id"]], "topics": ["gibt-es-nicht"], "followUps": [{"text": "x"}]}),
    );
    let p = problem(app.post("/api/v1/consultations", Some(&s), &bad).await, 422).await;
    let mut wrong = pointers(&p);
    wrong.sort();
    assert_eq!(wrong, vec!["/followUps/0/text"], "{p}");
    merge(&mut bad, &json!({"followUps": []}));
    let p = problem(app.post("/api/v1/consultations", Some(&s), &bad).await, 422).await;
    let mut wrong = pointers(&p);
    wrong.sort();
    assert_eq!(wrong, vec!["/applicationIds/0", "/topics/0"], "{p}");
    assert_eq!(app.db_count("consultations").await, 0);

    let c = ok(app.post("/api/v1/consultations", Some(&s), &body).await, 201).await;
    let id = c["id"].as_str().unwrap();
    let path = format!("/api/v1/consultations/{id}");
    assert_eq!(c["district"], "06636");
    assert_eq!(c["internalNotes"], "Bürgermeister skeptisch wegen der Trägerschaft.");
    assert_eq!(c["followUps"][0]["done"], false);

    // The municipality reads the public part; another district's does not see it at all.
    let theirs = ok(app.get(&path, Some(&municipality())).await, 200).await;
    assert!(
        theirs["internalNotes"].is_null() && theirs["author"].is_null(),
        "{theirs}"
    );
    assert_eq!(theirs["summary"], c["summary"]);
    let other = token("municipality", Some("06535"));
    problem(app.get(&path, Some(&other)).await, 404).await;
    let page = ok(app.get("/api/v1/consultations", Some(&other)).await, 200).await;
    assert!(page["items"].as_array().unwrap().is_empty());
    let page = ok(
        app.get("/api/v1/consultations?topic=gesundheitszentren", Some(&municipality()))
            .await,
        200,
    )
    .await;
    assert_eq!(page["items"][0]["id"], id);
    assert!(page["items"][0]["internalNotes"].is_null());
    let csv = app.get_csv("/api/v1/consultations", Some(&municipality())).await;
    assert!(!csv.contains("skeptisch"), "{csv}");
    problem(app.get(&format!("{path}/history"), Some(&municipality())).await, 403).await;

    // The feed: staff see the notes, the municipality does not; another district hears nothing.
    let notes_in = |feed: &Value| {
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resourceId"] == id)
            .map(|e| e["data"]["internalNotes"].clone())
            .collect::<Vec<_>>()
    };
    let feed = ok(
        app.get("/api/v1/events?types=consultation.created", Some(&ministry()))
            .await,
        200,
    )
    .await;
    assert_eq!(
        notes_in(&feed),
        vec![json!("Bürgermeister skeptisch wegen der Trägerschaft.")]
    );
    let feed = ok(
        app.get("/api/v1/events?types=consultation.created", Some(&municipality()))
            .await,
        200,
    )
    .await;
    assert_eq!(notes_in(&feed), vec![Value::Null]);
    // Nor who in the service unit wrote it: the actor is the role, the consultation's author is null.
    assert_eq!(feed["items"][0]["actor"]["sub"], "service_unit", "{feed}");
    assert!(
        feed["items"][0]["data"].get("author").is_some_and(Value::is_null),
        "{feed}"
    );
    let feed = ok(
        app.get("/api/v1/events?types=consultation.created", Some(&other)).await,
        200,
    )
    .await;
    assert!(notes_in(&feed).is_empty());

    // Changes: a follow-up done; the organisation stays.
    problem(
        app.patch(
            &path,
            Some(&s),
            Some("\"1\""),
            &json!({"organisationId": uuid::Uuid::now_v7()}),
        )
        .await,
        400,
    )
    .await;
    let changed = ok(
        app.patch(
            &path,
            Some(&s),
            Some("\"1\""),
            &json!({"followUps": [{"text": "Mustersatzung schicken", "dueOn": "2026-12-04", "done": true}]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["followUps"][0]["done"], true);
    let history = ok(app.get(&format!("{path}/history"), Some(&s)).await, 200).await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["create", "update"]);
}

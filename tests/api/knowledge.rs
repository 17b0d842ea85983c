//! The Wissensfundament: entries written by the service unit, reviewed and published for staff, the network or
//! everyone; a municipality finds published good practice on a topic with German full-text search.

use crate::helpers::*;
use serde_json::{Value, json};

async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

async fn act(app: &TestApp, id: &str, action: &str, token: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/knowledge-entries/{id}/{action}"), Some(token), &body)
        .await
}

/// A published entry (written, submitted, published by the service unit).
async fn published(app: &TestApp, body: Value) -> Value {
    let e = ok(
        app.post("/api/v1/knowledge-entries", Some(&service_unit()), &body)
            .await,
        201,
    )
    .await;
    let id = e["id"].as_str().unwrap().to_owned();
    ok(act(app, &id, "submit", &service_unit(), json!({})).await, 200).await;
    ok(act(app, &id, "publish", &ministry(), json!({})).await, 200).await
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_municipality_finds_published_good_practice_on_a_topic_with_full_text_search() {
    let app = TestApp::spawn().await;
    let good = published(
        &app,
        json!({"kind": "good_practice", "title": "Telemedizinische Fallkonferenzen im Vogelsbergkreis",
            "body": "Die Hausarztpraxen besprechen einmal im Monat schwierige Fälle per Video mit der Klinik in Lauterbach. <script>alert(1)</script> Die Praxen sparen Fahrten.",
            "topics": ["telemedizinische-fallkonferenzen"], "visibility": "network", "reviewDueOn": "2027-11-30"}),
    )
    .await;
    let public = published(
        &app,
        json!({"kind": "faq", "title": "Wer berät zu Gesundheitszentren?",
            "body": "Die Serviceeinheit berät Kommunen zu Gesundheitszentren und zur Praxisnachfolge.",
            "topics": ["gesundheitszentren"], "visibility": "public"}),
    )
    .await;
    let internal = published(
        &app,
        json!({"kind": "lesson_learned", "title": "Interne Auswertung Telemedizin",
            "body": "Die Praxis zeigt: ohne Breitband keine Videosprechstunde.", "topics": ["telemedizin"],
            "visibility": "internal"}),
    )
    .await;
    let draft = ok(
        app.post(
            "/api/v1/knowledge-entries",
            Some(&service_unit()),
            &json!({"kind": "guidance", "title": "Entwurf zur Telemedizin", "body": "Praxis", "topics": ["telemedizin"],
                "visibility": "public"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(draft["status"], "draft");

    // The municipality: German stemming ("Praxen" in the query finds "Praxis"/"Praxen"), ranked, with a snippet,
    // only published network and public entries; the topic filter includes sub-topics.
    let m = municipality();
    let found = ok(
        app.get("/api/v1/knowledge-entries?q=Praxen&topic=telemedizin", Some(&m))
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&found), [good["id"].as_str().unwrap()]);
    let snippet = found["items"][0]["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("<mark>Praxen</mark>") || snippet.contains("<mark>Hausarztpraxen</mark>"),
        "{snippet}"
    );
    assert!(!snippet.contains("<script>"), "the body is escaped: {snippet}");
    assert_eq!(found["items"][0]["applicationIds"], json!([]));
    // Stemming: "Fall" finds "Fälle"; the FAQ says "Praxisnachfolge", which "Praxen" does not find.
    let stemmed = ok(app.get("/api/v1/knowledge-entries?q=Fall", Some(&m)).await, 200).await;
    assert_eq!(ids(&stemmed), [good["id"].as_str().unwrap()]);
    let faq = ok(
        app.get(
            "/api/v1/knowledge-entries?q=Gesundheitszentren&includeTotal=true",
            Some(&m),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (ids(&faq), &faq["total"]),
        (vec![public["id"].as_str().unwrap()], &json!(1))
    );
    // Anyone: the public entry only; the network entry is 404 without a token.
    let anyone = ok(app.get("/api/v1/knowledge-entries", None).await, 200).await;
    assert_eq!(ids(&anyone), [public["id"].as_str().unwrap()]);
    let res = app
        .get(
            &format!("/api/v1/knowledge-entries/{}", good["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(res.status(), 404);
    for hidden in [&internal, &draft] {
        let res = app
            .get(
                &format!("/api/v1/knowledge-entries/{}", hidden["id"].as_str().unwrap()),
                Some(&m),
            )
            .await;
        assert_eq!(res.status(), 404);
    }
    problem(app.get("/api/v1/knowledge-entries?status=draft", Some(&m)).await, 400).await;
    // A cursor belongs to its search.
    let first = ok(
        app.get("/api/v1/knowledge-entries?limit=1", Some(&service_unit()))
            .await,
        200,
    )
    .await;
    let cursor = first["nextCursor"].as_str().unwrap();
    let res = app
        .get(
            &format!("/api/v1/knowledge-entries?limit=1&q=Praxis&cursor={cursor}"),
            Some(&service_unit()),
        )
        .await;
    problem(res, 400).await;
    // Readers see neither the author nor the applications an entry draws on, in the API or in the feed.
    assert_eq!(found["items"][0]["author"], json!(null));
    let feed = ok(app.get("/api/v1/events?limit=200", Some(&m)).await, 200).await;
    let published: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "knowledge_entry.published")
        .collect();
    assert_eq!(published.len(), 2, "the network and the public entry: {published:?}");
    assert!(
        published
            .iter()
            .all(|e| e["data"]["author"].is_null() && e["data"]["applicationIds"] == json!([])),
        "{published:?}"
    );
    // Staff read everything, drafts too, and page through the results in relevance order.
    let staff = ok(
        app.get("/api/v1/knowledge-entries?q=Praxis&limit=1", Some(&service_unit()))
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&staff).len(), 1);
    let mut seen = ids(&staff).iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut cursor = staff["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let next = ok(
            app.get(
                &format!("/api/v1/knowledge-entries?q=Praxis&limit=1&cursor={c}"),
                Some(&service_unit()),
            )
            .await,
            200,
        )
        .await;
        seen.extend(ids(&next).iter().map(|s| s.to_string()));
        cursor = next["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen,
        [internal["id"].as_str().unwrap(), draft["id"].as_str().unwrap()]
            .map(String::from)
            .to_vec(),
        "the internal entry and the draft, each once, in relevance order then id"
    );
    let csv = app
        .get_csv("/api/v1/knowledge-entries?topic=telemedizin", Some(&service_unit()))
        .await;
    assert_eq!(csv.lines().count(), 4, "{csv}");
}

#[actix_web::test]
async fn the_service_unit_writes_and_reviews_entries() {
    let app = TestApp::spawn().await;
    let body = json!({"kind": "contact_pointer", "title": "Wer kennt sich mit MVZ aus?", "topics": ["gibt-es-nicht"],
        "visibility": "network", "applicationIds": [uuid::Uuid::now_v7()]});
    for t in [municipality(), ministry()] {
        problem(app.post("/api/v1/knowledge-entries", Some(&t), &body).await, 403).await;
    }
    let p = problem(
        app.post("/api/v1/knowledge-entries", Some(&service_unit()), &body)
            .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), ["/applicationIds/0", "/topics/0"]);
    let body = json!({"kind": "contact_pointer", "title": "Wer kennt sich mit MVZ aus?", "topics": ["mvz"],
        "visibility": "network"});
    let e = ok(
        app.post("/api/v1/knowledge-entries", Some(&service_unit()), &body)
            .await,
        201,
    )
    .await;
    let id = e["id"].as_str().unwrap().to_owned();
    assert_eq!(e["allowedActions"], json!(["submit"]));
    ok(act(&app, &id, "submit", &service_unit(), json!({})).await, 200).await;
    let p = problem(act(&app, &id, "return", &ministry(), json!({})).await, 422).await;
    assert!(!pointers(&p).is_empty());
    let back = ok(
        act(
            &app,
            &id,
            "return",
            &ministry(),
            json!({"reason": "Bitte Ansprechperson ergänzen."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(back["status"], "draft");
    let res = app
        .patch(
            &format!("/api/v1/knowledge-entries/{id}"),
            Some(&service_unit()),
            Some(&format!("\"{}\"", back["version"])),
            &json!({"body": "Die AG Gesundheitszentren der Serviceeinheit."}),
        )
        .await;
    ok(res, 200).await;
    ok(act(&app, &id, "submit", &service_unit(), json!({})).await, 200).await;
    let e = ok(act(&app, &id, "publish", &service_unit(), json!({})).await, 200).await;
    assert!(e["publishedAt"].is_string());
    assert_eq!(
        problem(act(&app, &id, "publish", &service_unit(), json!({})).await, 409).await["code"],
        "invalid_transition"
    );
    let e = ok(act(&app, &id, "archive", &service_unit(), json!({})).await, 200).await;
    assert_eq!(e["status"], "archived");
    // Readers hear that it was withdrawn; a published or archived entry is not changed (only drafts are).
    let feed = ok(app.get("/api/v1/events?limit=200", Some(&municipality())).await, 200).await;
    assert!(
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "knowledge_entry.archived"),
        "{feed}"
    );
    let res = app
        .patch(
            &format!("/api/v1/knowledge-entries/{id}"),
            Some(&service_unit()),
            Some("*"),
            &json!({"visibility": "public"}),
        )
        .await;
    assert_eq!(problem(res, 409).await["code"], "not_editable");
    let res = app
        .get(&format!("/api/v1/knowledge-entries/{id}"), Some(&municipality()))
        .await;
    assert_eq!(res.status(), 404, "archived entries are staff's");
    let history = ok(
        app.get(&format!("/api/v1/knowledge-entries/{id}/history"), Some(&ministry()))
            .await,
        200,
    )
    .await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "submit", "return", "update", "submit", "publish", "archive"]
    );
    problem(
        app.get(
            &format!("/api/v1/knowledge-entries/{id}/history"),
            Some(&municipality()),
        )
        .await,
        403,
    )
    .await;
}

#[actix_web::test]
async fn entries_take_files_while_drafts_read_as_the_entry_is() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let e = ok(
        app.post(
            "/api/v1/knowledge-entries",
            Some(&s),
            &json!({"kind": "guidance", "title": "Handreichung Gesundheitszentren", "visibility": "network"}),
        )
        .await,
        201,
    )
    .await;
    let id = e["id"].as_str().unwrap().to_owned();
    let files = format!("/api/v1/knowledge-entries/{id}/attachments");
    let upload = |token: String, category: &'static str| {
        let url = app.url(&format!("{files}?category={category}&fileName=handreichung.pdf"));
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .header("Content-Type", "application/pdf")
                .body(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec())
                .send()
                .await
                .unwrap()
        }
    };
    // A draft is invisible to a municipality: 404, as for the entry itself.
    assert_eq!(upload(municipality(), "handreichung").await.status(), 404);
    assert_eq!(upload(s.clone(), "beleg").await.status(), 422);
    assert_eq!(upload(s.clone(), "handreichung").await.status(), 201);
    // A municipality does not see a draft's files; once published for the network, it does.
    problem(app.get(&files, Some(&municipality())).await, 404).await;
    ok(act(&app, &id, "submit", &s, json!({})).await, 200).await;
    // In review, the text and its files are what is reviewed: no more files.
    assert_eq!(upload(s.clone(), "vorlage").await.status(), 409);
    ok(act(&app, &id, "publish", &ministry(), json!({})).await, 200).await;
    let list = ok(app.get(&files, Some(&municipality())).await, 200).await;
    let items = list.get("items").unwrap_or(&list).as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["category"], "handreichung");
}

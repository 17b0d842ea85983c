//! Vorzeitiger Maßnahmebeginn: only projects not yet begun are funded. A project that starts before the day of its
//! approval is approved only with the ministry's consent to the early start; a consent is never retroactive. The
//! suite's calendar day is pinned (helpers::PINNED_TODAY, 2026-11-27).

use crate::helpers::*;
use crate::payment_requests::ok;
use serde_json::{Value, json};

/// A GK application in review for a short project within one calendar year (at most December's yearly cap).
async fn in_review(app: &TestApp, start: &str, end: &str) -> String {
    let body = json!({
        "fundingLine": "GK", "title": "Gesundheitskoordination Werra-Meißner-Kreis",
        "description": "Aufbau einer kommunalen Gesundheitsstrategie.",
        "startDate": start, "endDate": end,
        "financingPlan": {"totalCostsCents": 400_000, "ownFundsCents": 100_000, "thirdPartyFundsCents": 0,
            "requestedCents": 300_000},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    });
    let created = ok(
        app.post("/api/v1/applications", Some(&municipality()), &body).await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    for (action, token) in [("submit", municipality()), ("start-review", ministry())] {
        ok(
            app.post(&format!("/api/v1/applications/{id}/{action}"), Some(&token), &json!({}))
                .await,
            200,
        )
        .await;
    }
    id
}

async fn approve(app: &TestApp, id: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/applications/{id}/approve"),
        Some(&ministry()),
        &json!({"grantedCents": 300_000}),
    )
    .await
}

async fn ask(app: &TestApp, application: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/applications/{application}/early-start-consents"),
        Some(&municipality()),
        &body,
    )
    .await
}

async fn act(app: &TestApp, id: &str, action: &str, token: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/early-start-consents/{id}/{action}"),
        Some(token),
        &body,
    )
    .await
}

async fn committed(app: &TestApp) -> i64 {
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    line["committedCents"].as_i64().unwrap()
}

/// Moves the request and its application back in time, as if asked for on 2026-11-10 for a start on `start_on`
/// and the project had begun on `project_start`: the calendar is pinned, so history is written, not waited for.
async fn backdate(app: &TestApp, consent: &str, application: &str, start_on: &str, project_start: &str) {
    app.db
        .execute(&format!(
            "UPDATE early_start_consents SET requested_on = '2026-11-10', start_on = '{start_on}' WHERE id = '{consent}'"
        ))
        .await;
    app.db
        .execute(&format!(
            "UPDATE applications SET start_date = '{project_start}' WHERE id = '{application}'"
        ))
        .await;
}

#[actix_web::test]
async fn a_project_begun_before_its_approval_is_approved_only_with_a_consent_covering_its_start() {
    let app = TestApp::spawn().await;
    // Begun on 2026-11-01, before today's approval, without a consent: refused, and nothing is committed.
    let begun = in_review(&app, "2026-11-01", "2026-12-31").await;
    let before = committed(&app).await;
    let p = problem(approve(&app, &begun).await, 409).await;
    assert_eq!(p["code"], "early_start_without_consent");
    assert!(p["detail"].as_str().unwrap().contains("2026-11-01"), "{p}");
    assert_eq!(committed(&app).await, before, "nothing committed");
    let a: Value = app
        .get(&format!("/api/v1/applications/{begun}"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["status"], "in_review");
    // A consent is never retroactive: asked today, it cannot cover a start before today.
    let p = problem(
        ask(
            &app,
            &begun,
            json!({"startOn": "2026-11-01", "reason": "Vertrag unterschrieben.", "notYetBegun": true}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/startOn"]);
    assert_eq!(p["errors"][0]["code"], "in_past");

    // A start from today on needs no consent.
    let future = in_review(&app, "2026-12-01", "2026-12-31").await;
    ok(approve(&app, &future).await, 200).await;

    // Asked on 2026-11-10 for a start on 2026-11-16, granted, and begun on 2026-11-20: approved.
    let covered = in_review(&app, "2026-12-01", "2026-12-31").await;
    let c = ok(
        ask(
            &app,
            &covered,
            json!({"startOn": "2026-12-01", "reason": "Die Stelle muss zum Dezember besetzt werden.",
            "notYetBegun": true}),
        )
        .await,
        201,
    )
    .await;
    let consent = c["id"].as_str().unwrap().to_owned();
    ok(act(&app, &consent, "grant", &ministry(), json!({})).await, 200).await;
    backdate(&app, &consent, &covered, "2026-11-16", "2026-11-20").await;
    let approved = ok(approve(&app, &covered).await, 200).await;
    assert_eq!(approved["status"], "approved");

    // A consent from a later day than the project's start does not cover it.
    let early = in_review(&app, "2026-12-01", "2026-12-31").await;
    let c = ok(
        ask(
            &app,
            &early,
            json!({"startOn": "2026-12-01", "reason": "Früher Beginn nötig.", "notYetBegun": true}),
        )
        .await,
        201,
    )
    .await;
    let later = c["id"].as_str().unwrap().to_owned();
    ok(act(&app, &later, "grant", &ministry(), json!({})).await, 200).await;
    backdate(&app, &later, &early, "2026-11-25", "2026-11-20").await;
    assert_eq!(
        problem(approve(&app, &early).await, 409).await["code"],
        "early_start_without_consent"
    );
    // Nor does a refused one.
    let refused_app = in_review(&app, "2026-12-01", "2026-12-31").await;
    let c = ok(
        ask(
            &app,
            &refused_app,
            json!({"startOn": "2026-12-01", "reason": "Früher Beginn nötig.",
            "notYetBegun": true}),
        )
        .await,
        201,
    )
    .await;
    let refused = c["id"].as_str().unwrap().to_owned();
    ok(
        act(
            &app,
            &refused,
            "refuse",
            &ministry(),
            json!({"reason": "Kein Grund für einen frühen Beginn."}),
        )
        .await,
        200,
    )
    .await;
    backdate(&app, &refused, &refused_app, "2026-11-16", "2026-11-20").await;
    assert_eq!(
        problem(approve(&app, &refused_app).await, 409).await["code"],
        "early_start_without_consent"
    );
}

#[actix_web::test]
async fn an_early_start_request_is_asked_once_decided_by_the_ministry_and_seen_by_its_owner_only() {
    let app = TestApp::spawn().await;
    let application = in_review(&app, "2027-01-01", "2027-12-31").await;
    let count = app.db_count("early_start_consents").await;
    // Every wrong field at once, nothing written.
    let p = problem(
        ask(&app, &application, json!({"reason": "x", "notYetBegun": false})).await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/notYetBegun", "/reason", "/startOn"]);
    assert_eq!(app.db_count("early_start_consents").await, count);
    // Only the applicant asks; another municipality does not see the application.
    let body = json!({"startOn": "2026-12-14", "reason": "Die Koordinatorin steht nur zum Dezember zur Verfügung.",
        "notYetBegun": true});
    let other = token("municipality", Some("06535"));
    let res = app
        .post(
            &format!("/api/v1/applications/{application}/early-start-consents"),
            Some(&other),
            &body,
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.post(
            &format!("/api/v1/applications/{application}/early-start-consents"),
            Some(&ministry()),
            &body
        )
        .await
        .status(),
        403
    );
    let res = ask(&app, &application, body.clone()).await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let c: Value = res.json().await.unwrap();
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/early-start-consents/{id}"));
    assert_eq!(
        (&c["status"], &c["startOn"], &c["requestedOn"], &c["notYetBegun"]),
        (
            &json!("requested"),
            &json!("2026-12-14"),
            &json!(PINNED_TODAY),
            &json!(true)
        )
    );
    assert_eq!(c["allowedActions"], json!(["withdraw"]));
    // One live request per application.
    let p = problem(ask(&app, &application, body.clone()).await, 409).await;
    assert_eq!(p["code"], "early_start_exists");

    // The ministry's duty: decide before the day the recipient means to begin.
    let duties: Value = app
        .get("/api/v1/obligations?duty=early_start_consent.decide", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(duties["items"][0]["resourceId"], id.as_str());
    assert_eq!(duties["items"][0]["dueOn"], "2026-12-14");
    assert_eq!(duties["items"][0]["href"], location.as_str());

    // The municipality neither grants nor sees another's; the other municipality gets 404.
    assert_eq!(act(&app, &id, "grant", &municipality(), json!({})).await.status(), 403);
    assert_eq!(
        app.get(&format!("/api/v1/early-start-consents/{id}"), Some(&other))
            .await
            .status(),
        404
    );
    let list: Value = app
        .get("/api/v1/early-start-consents", Some(&other))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    // A refusal needs its reason.
    assert_eq!(act(&app, &id, "refuse", &ministry(), json!({})).await.status(), 422);
    let granted = ok(
        act(
            &app,
            &id,
            "grant",
            &ministry(),
            json!({"reason": "Die Zustimmung begründet keinen Anspruch."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&granted["status"], &granted["decidedBy"], &granted["version"]),
        (&json!("granted"), &json!("test-ministry"), &json!(2))
    );
    let duties: Value = app
        .get("/api/v1/obligations?duty=early_start_consent.decide", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(duties["items"], json!([]), "decided: no longer a duty");
    // Lists, CSV, history and the feed.
    let mine: Value = app
        .get(
            &format!("/api/v1/early-start-consents?applicationId={application}&status=granted"),
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["id"], id.as_str());
    let csv = app.get_csv("/api/v1/early-start-consents", Some(&ministry())).await;
    assert!(csv.starts_with("id,applicationId,"), "{csv}");
    assert!(csv.contains(&format!("{id},{application},")), "{csv}");
    let history: Value = app
        .get(
            &format!("/api/v1/early-start-consents/{id}/history"),
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["create", "grant"]);
    let feed: Value = app
        .get("/api/v1/events?after=0&limit=200", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let mine: Vec<(&str, &str)> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("early_start_consent."))
        .map(|e| (e["type"].as_str().unwrap(), e["resourceId"].as_str().unwrap()))
        .collect();
    assert_eq!(
        mine,
        vec![
            ("early_start_consent.requested", id.as_str()),
            ("early_start_consent.granted", id.as_str())
        ]
    );

    // Granted once the application is approved: too late to consent to anything, but the recipient may withdraw.
    ok(approve(&app, &application).await, 200).await;
    let withdrawn = ok(act(&app, &id, "withdraw", &municipality(), json!({})).await, 200).await;
    assert_eq!(withdrawn["status"], "withdrawn");
    let p = problem(ask(&app, &application, body).await, 409).await;
    assert_eq!(p["code"], "application_decided");
}

//! Änderungen während des Projekts: the recipient reports and asks; the ministry acknowledges reports and grants or
//! refuses amendments; a granted one drafts the amending notice, which another person issues.

use crate::helpers::*;
use crate::payment_requests::{issued_notice, ok, year};
use serde_json::{Value, json};

async fn ask(app: &TestApp, notice: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/grant-notices/{notice}/change-requests"),
        Some(&municipality()),
        &body,
    )
    .await
}

async fn act(app: &TestApp, id: &str, action: &str, token: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/change-requests/{id}/{action}"), Some(token), &body)
        .await
}

#[actix_web::test]
async fn a_report_is_acknowledged_and_a_granted_extension_becomes_an_amending_notice() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, false).await;

    // A report proposes nothing; an extension names its new end; every wrong field at once.
    let p = problem(
        ask(
            &app,
            &notice,
            json!({"kind": "further_funding", "description": "Zuschuss der Kreissparkasse.",
            "proposedPeriodEnd": "2029-12-31"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/proposedPeriodEnd"]);
    let p = problem(
        ask(&app, &notice, json!({"kind": "extension", "description": "x"})).await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/description", "/proposedPeriodEnd"]);
    // The proposed years lie in the proposed period (2027–2029), each once.
    let body = json!({"kind": "extension", "description": "Verlängerung.", "proposedPeriodEnd": "2029-12-31",
        "proposedYears": [{"year": 2030, "amountCents": 1}, {"year": 2028, "amountCents": 1},
                          {"year": 2028, "amountCents": 2}]});
    let p = problem(ask(&app, &notice, body).await, 422).await;
    assert_eq!(pointers(&p), vec!["/proposedYears/0/year", "/proposedYears/2/year"]);

    let report = ok(
        ask(
            &app,
            &notice,
            json!({"kind": "further_funding", "description": "Zuschuss der Kreissparkasse: 5.000 €."}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (&report["amendment"], &report["allowedActions"]),
        (&json!(false), &json!([]))
    );
    let report_id = report["id"].as_str().unwrap();
    // The ministry's duty to answer within 30 days.
    let duties: Value = app
        .get("/api/v1/obligations?duty=change_request.decide", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(duties["items"][0]["resourceId"], report_id);
    // A report is acknowledged, never granted.
    assert_eq!(
        problem(act(&app, report_id, "grant", &ministry(), json!({})).await, 409).await["code"],
        "invalid_transition"
    );
    assert_eq!(
        act(&app, report_id, "acknowledge", &municipality(), json!({}))
            .await
            .status(),
        403
    );
    let r = ok(act(&app, report_id, "acknowledge", &ministry(), json!({})).await, 200).await;
    assert_eq!(r["status"], "acknowledged");

    // An extension by a year with 1,000,000 moved from 2028 to 2029.
    let years = json!([{"year": 2027, "amountCents": 4_000_000}, {"year": 2028, "amountCents": 3_000_000},
        {"year": 2029, "amountCents": 1_000_000}]);
    let ext = ok(
        ask(
            &app,
            &notice,
            json!({"kind": "extension", "description": "Die Stelle wurde erst im März besetzt.",
            "proposedPeriodEnd": "2029-12-31", "proposedYears": years}),
        )
        .await,
        201,
    )
    .await;
    let ext_id = ext["id"].as_str().unwrap();
    let seen: Value = app
        .get(&format!("/api/v1/change-requests/{ext_id}"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["allowedActions"],
        json!(["grant", "refuse"]),
        "an amendment is granted or refused"
    );
    let granted = ok(act(&app, ext_id, "grant", &second_reviewer(), json!({})).await, 200).await;
    assert_eq!(
        (&granted["status"], &granted["decidedBy"]),
        (&json!("granted"), &json!("test-ministry-2"))
    );
    let amending = granted["amendingNoticeId"].as_str().unwrap();
    let draft: Value = app
        .get(&format!("/api/v1/grant-notices/{amending}"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&draft["status"], &draft["number"], &draft["periodEnd"]),
        (&json!("draft"), &json!(2), &json!("2029-12-31"))
    );
    assert_eq!(draft["years"], years);
    assert!(draft["amendmentReason"].as_str().unwrap().contains("erst im März"));
    // The ledger moves when another person issues it.
    let before = year(&app, 2029).await["committedCents"].as_i64().unwrap();
    assert_eq!(
        problem(
            app.post(
                &format!("/api/v1/grant-notices/{amending}/issue"),
                Some(&second_reviewer()),
                &json!({"deliveredOn": today()})
            )
            .await,
            409
        )
        .await["code"],
        "four_eyes"
    );
    ok(
        app.post(
            &format!("/api/v1/grant-notices/{amending}/issue"),
            Some(&ministry()),
            &json!({"deliveredOn": today()}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        year(&app, 2029).await["committedCents"].as_i64().unwrap(),
        before + 1_000_000
    );

    // Refusing needs a reason; requests go to the notice in force, not the replaced one.
    let more = ok(
        ask(
            &app,
            amending,
            json!({"kind": "increase", "description": "Höhere Personalkosten.",
            "proposedYears": [{"year": 2029, "amountCents": 2_000_000}]}),
        )
        .await,
        201,
    )
    .await;
    let more_id = more["id"].as_str().unwrap();
    assert_eq!(
        problem(act(&app, more_id, "refuse", &ministry(), json!({})).await, 422).await["errors"][0]["pointer"],
        "/reason"
    );
    let refused = ok(
        act(
            &app,
            more_id,
            "refuse",
            &ministry(),
            json!({"reason": "Keine Mittel verfügbar."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&refused["status"], &refused["reason"]),
        (&json!("refused"), &json!("Keine Mittel verfügbar."))
    );
    assert_eq!(
        problem(
            ask(
                &app,
                &notice,
                json!({"kind": "other_report", "description": "Neue Anschrift."})
            )
            .await,
            409
        )
        .await["code"],
        "notice_amended"
    );
    // Another municipality sees none of it.
    let theirs: Value = app
        .get("/api/v1/change-requests", Some(&token("municipality", Some("06535"))))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["items"], json!([]));
}

//! Zwischen- und Verwendungsnachweise: scheduled when the notice is issued, written and submitted by the recipient,
//! reviewed by two different ministry people who decide every receipt.

use crate::helpers::*;
use crate::payment_requests::{issued_notice, ok};
use serde_json::{Value, json};

pub(crate) async fn proofs(app: &TestApp, token: &str) -> Vec<Value> {
    let page: Value = app
        .get("/api/v1/proofs-of-use", Some(token))
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

pub(crate) async fn patch(app: &TestApp, proof: &Value, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/proofs-of-use/{}", proof["id"].as_str().unwrap())))
        .bearer_auth(municipality())
        .header("If-Match", format!("\"{}\"", proof["version"]))
        .header("Content-Type", "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

pub(crate) async fn act(app: &TestApp, proof: &Value, action: &str, token: &str, body: Value) -> reqwest::Response {
    let id = proof["id"].as_str().unwrap();
    app.post(&format!("/api/v1/proofs-of-use/{id}/{action}"), Some(token), &body)
        .await
}

fn content() -> Value {
    json!({
        "report": {"activities": "Stelle besetzt, Gesundheitskonferenz eingerichtet.",
                   "results": "Versorgungsanalyse für den Kreis liegt vor."},
        "income": {"ownFundsCents": 500_000, "thirdPartyFundsCents": 0, "grantCents": 4_000_000},
        "receipts": [
            {"paidOn": "2027-01-31", "payee": "Personal", "reason": "Gehalt Januar", "amountCents": 450_000},
            {"paidOn": "2027-02-15", "payee": "Tagungshaus Eschwege", "reason": "Gesundheitskonferenz", "amountCents": 120_000},
            {"paidOn": "2027-03-01", "payee": "Druckerei", "reason": "Bewirtung", "amountCents": 30_000}
        ]
    })
}

#[actix_web::test]
async fn issuing_the_notice_schedules_the_proofs_with_their_due_dates() {
    let app = TestApp::spawn().await;
    issued_notice(&app, false).await;
    // A GK grant for 2027–2028: an interim proof for 2027 (4 months after the year), the final one 6 months after.
    let mut due: Vec<(String, Value, String, String)> = proofs(&app, &municipality())
        .await
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_owned(),
                p["fiscalYear"].clone(),
                p["dueOn"].as_str().unwrap().to_owned(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    due.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(
        due,
        vec![
            ("interim".into(), json!(2027), "2028-04-30".into(), "open".into()),
            ("final".into(), Value::Null, "2029-06-30".into(), "open".into()),
        ]
    );
    // Another municipality sees none of them; the service unit reads them.
    assert!(proofs(&app, &token("municipality", Some("06535"))).await.is_empty());
    assert_eq!(proofs(&app, &service_unit()).await.len(), 2);
    let csv = app.get_csv("/api/v1/proofs-of-use?kind=final", Some(&ministry())).await;
    assert_eq!(csv_records(&csv).len(), 2, "header and one proof: {csv}");
}

#[actix_web::test]
async fn two_different_people_review_a_proof_and_decide_every_receipt() {
    let app = TestApp::spawn().await;
    issued_notice(&app, false).await;
    let interim = proofs(&app, &municipality())
        .await
        .into_iter()
        .find(|p| p["kind"] == "interim")
        .unwrap();

    // The first change makes it a draft; an incomplete proof cannot be submitted, and every gap is named.
    let draft = ok(
        patch(&app, &interim, json!({"report": {"activities": "Stelle besetzt."}})).await,
        200,
    )
    .await;
    assert_eq!(draft["status"], "draft");
    let p = problem(act(&app, &draft, "submit", &municipality(), json!({})).await, 422).await;
    assert_eq!(
        pointers(&p),
        vec![
            "/income/grantCents",
            "/income/ownFundsCents",
            "/income/thirdPartyFundsCents",
            "/receipts",
            "/report/results"
        ]
    );
    let draft = ok(patch(&app, &draft, content()).await, 200).await;
    assert_eq!(draft["expenditureCents"], 600_000);
    let submitted = ok(act(&app, &draft, "submit", &municipality(), json!({})).await, 200).await;
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(
        problem(
            patch(&app, &submitted, json!({"report": {"deviations": "x"}})).await,
            409
        )
        .await["code"],
        "not_editable"
    );

    // The recipient cannot review; the ministry starts the review and signs the content.
    assert_eq!(
        act(&app, &submitted, "start-review", &municipality(), json!({}))
            .await
            .status(),
        403
    );
    let review = ok(act(&app, &submitted, "start-review", &ministry(), json!({})).await, 200).await;
    let signed = ok(act(&app, &review, "sign-content", &ministry(), json!({})).await, 200).await;
    assert_eq!(
        (&signed["status"], &signed["contentSignedBy"]),
        (&json!("in_review"), &json!("test-ministry"))
    );

    // Four eyes: the content reviewer does not sign the figures.
    let admissions = json!({"admissions": [{"index": 0, "admittedCents": 450_000},
        {"index": 1, "admittedCents": 100_000, "note": "Nur Raummiete förderfähig."},
        {"index": 2, "admittedCents": 0, "note": "Bewirtung ist nicht zuwendungsfähig."}]});
    let p = problem(
        act(&app, &signed, "sign-financial", &ministry(), admissions.clone()).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "four_eyes");
    // Every receipt is decided, never above its amount.
    let p = problem(
        act(
            &app,
            &signed,
            "sign-financial",
            &second_reviewer(),
            json!({"admissions": [{"index": 0, "admittedCents": 450_001}, {"index": 7, "admittedCents": 1}]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/admissions/0/admittedCents", "/admissions/1/index"]);
    let p = problem(
        act(
            &app,
            &signed,
            "sign-financial",
            &second_reviewer(),
            json!({"admissions": [{"index": 0, "admittedCents": 1}]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(
        (pointers(&p), &p["errors"][0]["code"]),
        (vec!["/admissions".to_owned()], &json!("undecided_receipts"))
    );

    let accepted = ok(
        act(&app, &signed, "sign-financial", &second_reviewer(), admissions).await,
        200,
    )
    .await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(
        accepted["admittedCents"], 550_000,
        "450,000 in full, 100,000 of 120,000, nothing of 30,000"
    );
    assert_eq!(accepted["financialSignedBy"], "test-ministry-2");
    assert_eq!(accepted["receipts"][1]["admissionNote"], "Nur Raummiete förderfähig.");
    assert_eq!(accepted["allowedActions"], json!([]));

    let history: Value = app
        .get(
            &format!("/api/v1/proofs-of-use/{}/history", accepted["id"].as_str().unwrap()),
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
    assert_eq!(
        actions,
        vec![
            "create",
            "update",
            "update",
            "submit",
            "start-review",
            "sign-content",
            "sign-financial"
        ]
    );
}

#[actix_web::test]
async fn changes_requested_clear_the_sign_offs_and_an_amendment_moves_what_is_not_submitted() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, false).await;
    let interim = proofs(&app, &municipality())
        .await
        .into_iter()
        .find(|p| p["kind"] == "interim")
        .unwrap();
    let draft = ok(patch(&app, &interim, content()).await, 200).await;
    let p = ok(act(&app, &draft, "submit", &municipality(), json!({})).await, 200).await;
    let p = ok(act(&app, &p, "start-review", &ministry(), json!({})).await, 200).await;
    let p = ok(act(&app, &p, "sign-content", &ministry(), json!({})).await, 200).await;
    assert_eq!(
        problem(act(&app, &p, "request-changes", &ministry(), json!({})).await, 422).await["errors"][0]["pointer"],
        "/reason"
    );
    let p = ok(
        act(
            &app,
            &p,
            "request-changes",
            &ministry(),
            json!({"reason": "Bitte die Belege für März nachreichen."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&p["status"], &p["contentSignedBy"]),
        (&json!("changes_requested"), &Value::Null)
    );
    let p = ok(
        patch(&app, &p, json!({"report": {"deviations": "Belege ergänzt."}})).await,
        200,
    )
    .await;
    assert_eq!(p["status"], "changes_requested");
    assert_eq!(
        p["report"]["activities"],
        content()["report"]["activities"],
        "a merge patch keeps the rest"
    );
    ok(act(&app, &p, "submit", &municipality(), json!({})).await, 200).await;

    // The project runs a year longer: the final proof moves, an interim proof for 2028 is added; the submitted
    // interim proof for 2027 keeps its date.
    let body = json!({"reason": "Verlängerung", "periodEnd": "2029-12-31"});
    let amendment = ok(
        app.post(
            &format!("/api/v1/grant-notices/{notice}/amend"),
            Some(&second_reviewer()),
            &body,
        )
        .await,
        201,
    )
    .await;
    let id = amendment["id"].as_str().unwrap();
    ok(
        app.post(
            &format!("/api/v1/grant-notices/{id}/issue"),
            Some(&ministry()),
            &json!({"deliveredOn": today()}),
        )
        .await,
        200,
    )
    .await;
    let mut due: Vec<(Value, String)> = proofs(&app, &ministry())
        .await
        .iter()
        .map(|p| (p["fiscalYear"].clone(), p["dueOn"].as_str().unwrap().to_owned()))
        .collect();
    due.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        due,
        vec![
            (json!(2027), "2028-04-30".to_owned()),
            (json!(2028), "2029-04-30".to_owned()),
            (Value::Null, "2030-06-30".to_owned()),
        ]
    );
    let fin = proofs(&app, &ministry())
        .await
        .into_iter()
        .find(|p| p["kind"] == "final")
        .unwrap();
    assert_eq!(fin["noticeId"], id);
}

//! Änderungsbescheide: an amending notice drafted from the notice in force, issued under four eyes, replaces it;
//! the fiscal-year ledger follows its amounts and refuses what it cannot hold.

use crate::helpers::*;
use crate::payment_requests::{act as pay_act, create, issued_notice, ok, request, year};
use serde_json::{Value, json};

async fn notice(app: &TestApp, id: &str, token: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/grant-notices/{id}"), Some(token)).await
}

async fn act(app: &TestApp, id: &str, action: &str, token: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/grant-notices/{id}/{action}"), Some(token), &body)
        .await
}

async fn line_committed(app: &TestApp) -> i64 {
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    line["committedCents"].as_i64().unwrap()
}

/// Longer by a year: 2028 gives 1,000,000 cents to 2029, which gets 2,000,000 more (9,000,000 in all).
fn extension() -> Value {
    json!({"reason": "Verlängerung um ein Jahr (Stellenbesetzung verzögert).", "periodEnd": "2029-12-31",
        "years": [{"year": 2027, "amountCents": 4_000_000}, {"year": 2028, "amountCents": 3_000_000},
                  {"year": 2029, "amountCents": 2_000_000}]})
}

#[actix_web::test]
async fn an_amending_notice_replaces_the_notice_in_force_and_the_ledger_follows() {
    let app = TestApp::spawn().await;
    let first = issued_notice(&app, true).await;
    let before = (
        year(&app, 2027).await["committedCents"].as_i64().unwrap(),
        year(&app, 2028).await["committedCents"].as_i64().unwrap(),
        year(&app, 2029).await["committedCents"].as_i64().unwrap(),
        line_committed(&app).await,
    );

    // The municipality cannot amend; the second reviewer drafts the amendment.
    let res = act(&app, &first, "amend", &municipality(), extension()).await;
    assert_eq!(res.status(), 403);
    let res = act(&app, &first, "amend", &second_reviewer(), extension()).await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let draft: Value = res.json().await.unwrap();
    let second = draft["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/grant-notices/{second}"));
    assert_eq!(
        (&draft["number"], &draft["status"], &draft["amends"]),
        (&json!(2), &json!("draft"), &json!(first))
    );
    assert_eq!(draft["amountCents"], 9_000_000);
    assert_eq!(draft["periodEnd"], "2029-12-31");
    assert_eq!(draft["approvedBy"], "test-ministry-2", "who drafted the amendment");
    assert_eq!(draft["years"], extension()["years"]);
    assert!(draft["amendmentReason"].as_str().unwrap().starts_with("Verlängerung"));

    // A draft is the ministry's: the municipality sees the notice in force only. Nothing is committed yet.
    assert_eq!(notice(&app, &second, &municipality()).await.status(), 404);
    let in_force: Value = app
        .get(
            &format!(
                "/api/v1/applications/{}/grant-notice",
                draft["applicationId"].as_str().unwrap()
            ),
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(in_force["id"], first.as_str());
    assert_eq!(year(&app, 2029).await["committedCents"].as_i64().unwrap(), before.2);
    // One draft at a time.
    let p = problem(act(&app, &first, "amend", &ministry(), extension()).await, 409).await;
    assert_eq!(p["code"], "amendment_pending");

    // Four eyes: who drafted the amendment does not issue it.
    let p = problem(
        act(
            &app,
            &second,
            "issue",
            &second_reviewer(),
            json!({"deliveredOn": today()}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "four_eyes");
    let issued = ok(
        act(&app, &second, "issue", &ministry(), json!({"deliveredOn": today()})).await,
        200,
    )
    .await;
    assert_eq!(issued["status"], "issued");
    let old: Value = notice(&app, &first, &municipality()).await.json().await.unwrap();
    assert_eq!(old["status"], "amended");
    assert_eq!(old["allowedActions"], json!([]));
    assert_eq!(old["amountCents"], 8_000_000, "every version keeps its own terms");

    // The ledger follows: 2028 gives back 1,000,000, 2029 takes 2,000,000, the line 1,000,000 more.
    assert_eq!(year(&app, 2027).await["committedCents"].as_i64().unwrap(), before.0);
    assert_eq!(
        year(&app, 2028).await["committedCents"].as_i64().unwrap(),
        before.1 - 1_000_000
    );
    assert_eq!(
        year(&app, 2029).await["committedCents"].as_i64().unwrap(),
        before.2 + 2_000_000
    );
    assert_eq!(line_committed(&app).await, before.3 + 1_000_000);
    let stats: Value = app
        .get(
            "/api/v1/statistics/funding?groupBy=fundingLine&status=approved",
            Some(&ministry()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"]["grantedCents"], 9_000_000, "the grant in force: {stats}");

    // Payments are requested under the notice in force.
    let p = problem(create(&app, &first, &request()).await, 409).await;
    assert_eq!(p["code"], "notice_amended");
    ok(create(&app, &second, &request()).await, 201).await;

    // The replaced notice's history keeps the drafting and the replacement; the recipient learns of it in its feed.
    let history: Value = app
        .get(&format!("/api/v1/grant-notices/{first}/history"), Some(&ministry()))
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
    assert_eq!(actions, vec!["create", "issue", "amend", "supersede"]);
    let feed: Value = app
        .get("/api/v1/events?limit=200", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"grant_notice.amended"), "{types:?}");
    assert!(
        !types.contains(&"grant_notice.amendment_drafted"),
        "drafts are internal: {types:?}"
    );
}

#[actix_web::test]
async fn an_amendment_takes_back_nothing_paid_and_fits_each_years_budget() {
    let app = TestApp::spawn().await;
    let first = issued_notice(&app, true).await;
    // 1,600,000 of 2027 are approved for payment.
    let r = ok(create(&app, &first, &request()).await, 201).await;
    let r = r["id"].as_str().unwrap().to_owned();
    ok(pay_act(&app, &r, "submit", &municipality(), json!({})).await, 200).await;
    ok(pay_act(&app, &r, "check", &ministry(), json!({})).await, 200).await;
    ok(pay_act(&app, &r, "approve", &second_reviewer(), json!({})).await, 200).await;

    // Bad input names every wrong field and drafts nothing.
    let bad = json!({"reason": "x", "periodEnd": "2026-01-01",
        "years": [{"year": 2027, "amountCents": 1}, {"year": 2027, "amountCents": 2}, {"year": 2031, "amountCents": 3}]});
    let p = problem(act(&app, &first, "amend", &second_reviewer(), bad).await, 422).await;
    assert_eq!(
        pointers(&p),
        vec!["/periodEnd", "/reason", "/years/1/year", "/years/2/year"],
        "{p}"
    );

    // Less than approved in 2027: refused on issue, and nothing changes.
    let shrink = json!({"reason": "Kürzung", "years": [{"year": 2027, "amountCents": 1_000_000},
        {"year": 2028, "amountCents": 4_000_000}]});
    let draft = ok(act(&app, &first, "amend", &second_reviewer(), shrink).await, 201).await;
    let second = draft["id"].as_str().unwrap().to_owned();
    let before = year(&app, 2027).await;
    let p = problem(
        act(&app, &second, "issue", &ministry(), json!({"deliveredOn": today()})).await,
        409,
    )
    .await;
    assert_eq!(
        (&p["code"], &p["year"], &p["approvedCents"]),
        (&json!("below_approved"), &json!(2027), &json!(1_600_000))
    );
    assert_eq!(year(&app, 2027).await, before);
    let still: Value = notice(&app, &first, &ministry()).await.json().await.unwrap();
    assert_eq!(still["status"], "issued");

    // The unwanted draft is deleted (If-Match required); the first notice cannot be.
    let version = format!("\"{}\"", draft["version"]);
    let del = |id: String, tag: Option<String>| {
        let app = &app;
        async move {
            let mut req = app
                .client
                .delete(app.url(&format!("/api/v1/grant-notices/{id}")))
                .bearer_auth(ministry());
            if let Some(tag) = tag {
                req = req.header("If-Match", tag);
            }
            req.send().await.unwrap()
        }
    };
    assert_eq!(del(second.clone(), None).await.status(), 428);
    assert_eq!(del(second.clone(), Some(version)).await.status(), 204);
    assert_eq!(notice(&app, &second, &ministry()).await.status(), 404);
    let p = problem(del(first.clone(), Some("*".into())).await, 409).await;
    assert_eq!(p["code"], "not_deletable");

    // More in 2029 than its budget leaves: refused on issue naming the year.
    let res = app
        .client
        .put(app.url("/api/v1/funding-lines/GK/years/2029"))
        .bearer_auth(ministry())
        .json(&json!({"budgetCents": 1_000_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let draft = ok(act(&app, &first, "amend", &second_reviewer(), extension()).await, 201).await;
    let third = draft["id"].as_str().unwrap();
    assert_eq!(draft["number"], 2, "a deleted draft leaves no gap");
    let p = problem(
        act(&app, third, "issue", &ministry(), json!({"deliveredOn": today()})).await,
        409,
    )
    .await;
    assert_eq!(
        (&p["code"], &p["year"], &p["remainingCents"]),
        (&json!("year_budget_exceeded"), &json!(2029), &json!(1_000_000))
    );
    assert_eq!(year(&app, 2029).await["committedCents"], 0);
}

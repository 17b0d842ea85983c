//! Zuwendungsbescheide: drafted by the approval, completed and issued by another ministry person, final after a
//! month or on a waiver; visible to the recipient from `issue` on.

use crate::helpers::*;
use serde_json::{Value, json};

fn application() -> Value {
    json!({
        "fundingLine": "GK", "title": "Gesundheitskoordination Werra-Meißner-Kreis",
        "description": "Aufbau einer kommunalen Gesundheitsstrategie.",
        "startDate": "2027-01-01", "endDate": "2028-12-31",
        "financingPlan": {"totalCostsCents": 10_000_000, "ownFundsCents": 1_000_000, "thirdPartyFundsCents": 0,
            "requestedCents": 9_000_000, "years": [{"year": 2027, "requestedCents": 4_500_000},
            {"year": 2028, "requestedCents": 4_500_000}]},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    })
}

/// An application approved with 8,000,000 cents by `ministry()`; returns its id.
async fn approved(app: &TestApp) -> String {
    let res = app
        .post("/api/v1/applications", Some(&municipality()), &application())
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    for (action, token, body) in [
        ("submit", municipality(), json!({})),
        ("start-review", ministry(), json!({})),
        ("approve", ministry(), json!({"grantedCents": 8_000_000})),
    ] {
        let res = app
            .post(&format!("/api/v1/applications/{id}/{action}"), Some(&token), &body)
            .await;
        assert_eq!(res.status(), 200, "{action}: {:?}", res.text().await);
    }
    id
}

async fn notice(app: &TestApp, application: &str, token: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/applications/{application}/grant-notice"), Some(token))
        .await
}

async fn act(app: &TestApp, id: &str, action: &str, token: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/grant-notices/{id}/{action}"), Some(token), &body)
        .await
}

#[actix_web::test]
async fn the_approval_drafts_the_notice_which_only_staff_see() {
    let app = TestApp::spawn().await;
    let a = approved(&app).await;
    let res = notice(&app, &a, &ministry()).await;
    assert_eq!(res.status(), 200);
    let n: Value = res.json().await.unwrap();
    assert_eq!(n["status"], "draft");
    assert_eq!(n["number"], 1);
    assert_eq!(n["amountCents"], 8_000_000);
    assert_eq!(
        n["years"],
        json!([{"year": 2027, "amountCents": 4_000_000}, {"year": 2028, "amountCents": 4_000_000}])
    );
    assert_eq!(n["financingType"], "anteilsfinanzierung");
    assert_eq!(n["rateBasisPoints"], 8000, "8 M of 10 M eligible costs");
    assert_eq!(n["eligibleCostsCents"], 10_000_000);
    assert_eq!(n["clauseSet"], "anbest_gk", "a Landkreis is a Gebietskörperschaft");
    assert_eq!(
        (n["periodStart"].as_str(), n["periodEnd"].as_str()),
        (Some("2027-01-01"), Some("2028-12-31"))
    );
    assert_eq!(n["approvedBy"], "test-ministry");
    assert!(n["legalRemedy"].as_str().unwrap().contains("innerhalb eines Monats"));
    assert_eq!(n["allowedActions"], json!(["issue"]));
    let id = n["id"].as_str().unwrap().to_owned();
    assert_eq!(
        id,
        versorgung::grant_notices::notice_id(a.parse().unwrap(), 1).to_string()
    );
    // The service unit reads it; the municipality does not see a draft, not even in the list or the feed.
    assert_eq!(notice(&app, &a, &service_unit()).await.status(), 200);
    assert_eq!(notice(&app, &a, &municipality()).await.status(), 404);
    let mine: Value = app
        .get("/api/v1/grant-notices", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"], json!([]));
    let feed: Value = app
        .get("/api/v1/events?after=0&limit=1000", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resourceKind"] == "grant_notice")
    );
    let staff: Value = app
        .get("/api/v1/events?after=0&limit=1000", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        staff["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "grant_notice.created" && e["resourceId"] == id)
    );
}

#[actix_web::test]
async fn the_ministry_completes_the_draft_and_another_person_issues_it() {
    let app = TestApp::spawn().await;
    let a = approved(&app).await;
    let n: Value = notice(&app, &a, &ministry()).await.json().await.unwrap();
    let id = n["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/grant-notices/{id}");

    // Terms: a lock-in period before the period's end is refused; a municipality may not change anything.
    let p = problem(
        app.patch(
            &path,
            Some(&ministry()),
            Some("\"1\""),
            &json!({"lockInUntil": "2028-06-30"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "before_period_end");
    problem(
        app.patch(
            &path,
            Some(&municipality()),
            Some("\"1\""),
            &json!({"purpose": "Anderer Zweck"}),
        )
        .await,
        403,
    )
    .await;
    let res = app
        .patch(
            &path,
            Some(&ministry()),
            Some("\"1\""),
            &json!({"lockInUntil": "2033-12-31", "conditions": ["Die Stelle ist bis 31.03.2027 zu besetzen."],
                "excludedClauses": ["Nr. 1.4"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let n: Value = res.json().await.unwrap();
    assert_eq!(
        (n["lockInUntil"].as_str(), n["version"].as_i64()),
        (Some("2033-12-31"), Some(2))
    );

    // Four eyes: the approver cannot issue it.
    let p = problem(
        act(&app, &id, "issue", &ministry(), json!({"deliveredOn": today()})).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "four_eyes");
    // A delivery in the future, a missing one: refused.
    let tomorrow =
        (chrono::NaiveDate::parse_from_str(&today(), "%Y-%m-%d").unwrap() + chrono::Days::new(1)).to_string();
    let p = problem(
        act(&app, &id, "issue", &second_reviewer(), json!({"deliveredOn": tomorrow})).await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/deliveredOn"]);
    problem(act(&app, &id, "issue", &second_reviewer(), json!({})).await, 422).await;
    problem(
        act(&app, &id, "issue", &municipality(), json!({"deliveredOn": today()})).await,
        403,
    )
    .await;

    let res = act(&app, &id, "issue", &second_reviewer(), json!({"deliveredOn": today()})).await;
    assert_eq!(res.status(), 200);
    let n: Value = res.json().await.unwrap();
    assert_eq!(n["status"], "issued");
    assert_eq!(n["issuedBy"], "test-ministry-2");
    assert_eq!(n["deliveredOn"], today());
    let expected_final = versorgung::grant_notices::final_on(today().parse().unwrap())
        .unwrap()
        .to_string();
    assert_eq!(n["finalOn"], expected_final);
    // An issued notice cannot be changed, nor issued again.
    let p = problem(
        app.patch(&path, Some(&ministry()), Some("\"3\""), &json!({"purpose": "Neu"}))
            .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "not_editable");
    let p = problem(
        act(&app, &id, "issue", &second_reviewer(), json!({"deliveredOn": today()})).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "invalid_transition");

    // Now the recipient sees it, in the list and in its feed.
    let mine: Value = notice(&app, &a, &municipality()).await.json().await.unwrap();
    assert_eq!(mine["status"], "issued");
    assert_eq!(mine["allowedActions"], json!(["waive-objection"]));
    let feed: Value = app
        .get("/api/v1/events?after=0&limit=1000", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resourceKind"] == "grant_notice")
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["grant_notice.issued"]);
    // Another municipality does not.
    let other = token("municipality", Some("06535"));
    assert_eq!(notice(&app, &a, &other).await.status(), 404);
    assert_eq!(app.get(&path, Some(&other)).await.status(), 404);

    // The history keeps every step.
    let history: Value = app
        .get(&format!("{path}/history"), Some(&ministry()))
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
    assert_eq!(actions, vec!["create", "update", "issue"]);
}

#[actix_web::test]
async fn a_waiver_makes_the_notice_final_at_once_and_an_old_delivery_made_it_final_already() {
    let app = TestApp::spawn().await;
    let a = approved(&app).await;
    let n: Value = notice(&app, &a, &ministry()).await.json().await.unwrap();
    let id = n["id"].as_str().unwrap().to_owned();
    act(&app, &id, "issue", &second_reviewer(), json!({"deliveredOn": today()})).await;
    let res = act(&app, &id, "waive-objection", &municipality(), json!({})).await;
    assert_eq!(res.status(), 200);
    let n: Value = res.json().await.unwrap();
    assert_eq!(n["status"], "final");
    assert_eq!(
        (n["objectionWaivedOn"].as_str(), n["finalOn"].as_str()),
        (Some(today().as_str()), Some(today().as_str()))
    );
    let p = problem(act(&app, &id, "waive-objection", &municipality(), json!({})).await, 409).await;
    assert_eq!(p["code"], "invalid_transition");

    // A notice delivered long ago is final without anyone doing anything.
    let b = approved(&app).await;
    let n: Value = notice(&app, &b, &ministry()).await.json().await.unwrap();
    let old = n["id"].as_str().unwrap().to_owned();
    let res = act(
        &app,
        &old,
        "issue",
        &second_reviewer(),
        json!({"deliveredOn": "2026-01-15"}),
    )
    .await;
    let n: Value = res.json().await.unwrap();
    assert_eq!(
        (n["status"].as_str(), n["finalOn"].as_str()),
        (Some("final"), Some("2026-02-17"))
    );

    // Lists filter by the shown state; the CSV has the same rows.
    let list = |q: &'static str| {
        let app = &app;
        async move {
            let v: Value = app
                .get(&format!("/api/v1/grant-notices?{q}"), Some(&ministry()))
                .await
                .json()
                .await
                .unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let mut finals = list("status=final").await;
    finals.sort();
    let mut both = vec![id.clone(), old.clone()];
    both.sort();
    assert_eq!(finals, both);
    assert!(list("status=issued").await.is_empty());
    assert!(list("status=draft").await.is_empty());
    let csv = app
        .get_csv("/api/v1/grant-notices?status=final", Some(&ministry()))
        .await;
    assert_eq!(csv_records(&csv).len(), 3, "{csv}");
}

#[actix_web::test]
async fn the_database_refuses_a_notice_issued_by_its_approver() {
    let app = TestApp::spawn().await;
    let a = approved(&app).await;
    let mut conn = app.db.conn().await;
    use diesel_async::RunQueryDsl;
    let refused = diesel::sql_query(format!(
        "UPDATE grant_notices SET status = 'issued', issued_by = approved_by, delivered_on = current_date,
                final_on = current_date WHERE application_id = '{a}'"
    ))
    .execute(&mut conn)
    .await;
    assert!(
        format!("{refused:?}").contains("grant_notices_four_eyes"),
        "{refused:?}"
    );
}

/// `status=issued` pages the notices still in their objection period in id order, whichever day their periods end
/// (staff read them day by day and merge, municipalities in id order): every page size gives the same sequence as
/// the notices filtered by hand, with and without the line's filter, and a final notice is never among them.
#[actix_web::test]
async fn issued_notices_page_in_id_order_across_the_days_their_periods_end() {
    let app = TestApp::spawn().await;
    let today = chrono::NaiveDate::parse_from_str(&today(), "%Y-%m-%d").unwrap();
    // Delivered today and 2 … 20 days ago: still in their objection period, ending on different days; and one
    // delivered long ago: final.
    let mut in_period = Vec::new();
    for days_ago in [0u64, 2, 5, 9, 14, 20, 400] {
        let a = approved(&app).await;
        let n: Value = notice(&app, &a, &ministry()).await.json().await.unwrap();
        let id = n["id"].as_str().unwrap().to_owned();
        let delivered = today - chrono::Days::new(days_ago);
        let res = act(
            &app,
            &id,
            "issue",
            &second_reviewer(),
            json!({"deliveredOn": delivered.to_string()}),
        )
        .await;
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
        if days_ago < 400 {
            in_period.push(id);
        }
    }
    in_period.sort();
    for (token, query) in [
        (ministry(), "status=issued"),
        (ministry(), "status=issued&fundingLine=GK"),
        (service_unit(), "status=issued"),
        (municipality(), "status=issued&fundingLine=GK"),
    ] {
        for limit in [1, 2, 4, 50] {
            let mut seen = Vec::new();
            let mut url = format!("/api/v1/grant-notices?{query}&limit={limit}");
            loop {
                let page: Value = app.get(&url, Some(&token)).await.json().await.unwrap();
                for n in page["items"].as_array().unwrap() {
                    assert_eq!(n["status"], "issued");
                    seen.push(n["id"].as_str().unwrap().to_owned());
                }
                match page["nextCursor"].as_str() {
                    Some(c) => url = format!("/api/v1/grant-notices?{query}&limit={limit}&cursor={c}"),
                    None => break,
                }
            }
            assert_eq!(seen, in_period, "{query}, {limit} per page");
        }
    }
    let other: Value = app
        .get("/api/v1/grant-notices?status=issued&fundingLine=VA", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["items"], json!([]));
}

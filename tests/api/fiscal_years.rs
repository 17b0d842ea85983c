//! Haushaltsjahre: a funding line's budget per fiscal year, approvals committing their grant per year, and the
//! rules that refuse what does not fit.

use crate::helpers::*;
use serde_json::{Value, json};

/// A GK application of Werra-Meißner-Kreis over five calendar years, with or without its yearly breakdown.
fn application(with_years: bool) -> Value {
    let mut plan = json!({"totalCostsCents": 25_000_000, "ownFundsCents": 2_500_000, "thirdPartyFundsCents": 0,
        "requestedCents": 22_500_000});
    if with_years {
        plan["years"] = json!(
            [2027, 2028, 2029, 2030, 2031]
                .iter()
                .map(|y| json!({"year": y, "requestedCents": 4_500_000}))
                .collect::<Vec<_>>()
        );
    }
    json!({
        "fundingLine": "GK", "title": "Gesundheitskoordination Werra-Meißner-Kreis",
        "description": "Aufbau einer kommunalen Gesundheitsstrategie mit einer Personalstelle.",
        "startDate": "2027-01-01", "endDate": "2031-12-31", "financingPlan": plan,
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    })
}

async fn in_review(app: &TestApp, body: &Value) -> String {
    let res = app.post("/api/v1/applications", Some(&municipality()), body).await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    for (action, token) in [("submit", municipality()), ("start-review", ministry())] {
        let res = app
            .post(&format!("/api/v1/applications/{id}/{action}"), Some(&token), &json!({}))
            .await;
        assert_eq!(res.status(), 200, "{action}: {:?}", res.text().await);
    }
    id
}

async fn years(app: &TestApp) -> Vec<Value> {
    let res = app.get("/api/v1/funding-lines/GK/years", Some(&municipality())).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["items"].as_array().unwrap().clone()
}

fn year(years: &[Value], y: i64) -> Value {
    years.iter().find(|v| v["year"] == y).cloned().unwrap_or(Value::Null)
}

async fn put_budget(app: &TestApp, token: &str, y: i64, cents: i64, if_match: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .put(app.url(&format!("/api/v1/funding-lines/GK/years/{y}")))
        .bearer_auth(token)
        .json(&json!({"budgetCents": cents}));
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    req.send().await.unwrap()
}

#[actix_web::test]
async fn the_ministry_sets_a_years_budget_and_everyone_signed_in_reads_the_years() {
    let app = TestApp::spawn().await;
    let all = years(&app).await;
    assert_eq!(all.first().unwrap()["year"], 2026);
    assert_eq!(year(&all, 2027)["committedCents"], 0);

    // A new year is created (201), a changed one answers 200 with the next version.
    let res = put_budget(&app, &ministry(), 2033, 90_000_000, None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let res = put_budget(&app, &ministry(), 2033, 80_000_000, Some("\"1\"")).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["budgetCents"].as_i64(), body["version"].as_i64()),
        (Some(80_000_000), Some(2))
    );
    assert_eq!(body["remainingCents"], 80_000_000);
    // A stale If-Match, a municipality, a year out of range, a negative budget: refused, nothing changed.
    problem(put_budget(&app, &ministry(), 2033, 1, Some("\"1\"")).await, 412).await;
    problem(put_budget(&app, &municipality(), 2033, 1, None).await, 403).await;
    problem(put_budget(&app, &service_unit(), 2033, 1, None).await, 403).await;
    let p = problem(put_budget(&app, &ministry(), 1999, 1, None).await, 400).await;
    assert_eq!(pointers(&p), vec!["/path/year"]);
    let p = problem(put_budget(&app, &ministry(), 2033, -1, None).await, 422).await;
    assert_eq!(pointers(&p), vec!["/budgetCents"]);
    assert_eq!(year(&years(&app).await, 2033)["budgetCents"], 80_000_000);
    // Without a token the years are not shown.
    assert_eq!(app.get("/api/v1/funding-lines/GK/years", None).await.status(), 401);
    assert_eq!(
        app.get("/api/v1/funding-lines/XX/years", Some(&ministry()))
            .await
            .status(),
        404
    );
    // CSV: the same rows.
    let csv = app.get_csv("/api/v1/funding-lines/GK/years", Some(&ministry())).await;
    assert!(
        csv.starts_with("fundingLine,year,budgetCents,committedCents,paidCents"),
        "{csv}"
    );
    assert!(csv.contains("GK,2033,80000000,0,0,80000000,0,2,"), "{csv}");
}

#[actix_web::test]
async fn an_approval_commits_its_grant_per_year_from_the_breakdown_scaled_to_the_grant() {
    let app = TestApp::spawn().await;
    let id = in_review(&app, &application(true)).await;
    let res = app
        .post(
            &format!("/api/v1/applications/{id}/approve"),
            Some(&ministry()),
            &json!({"grantedCents": 20_000_000}),
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let all = years(&app).await;
    // 4.5 M of 22.5 M requested in each year, scaled to 20 M: 4,000,000 each.
    for y in 2027..=2031 {
        assert_eq!(year(&all, y)["committedCents"], 4_000_000, "{y}");
        assert_eq!(year(&all, y)["unpaidCents"], 4_000_000, "{y}");
    }
    assert_eq!(year(&all, 2026)["committedCents"], 0);
}

#[actix_web::test]
async fn a_year_whose_budget_is_short_refuses_the_approval_naming_the_year_and_commits_nothing() {
    let app = TestApp::spawn().await;
    put_budget(&app, &ministry(), 2029, 3_000_000, None).await;
    let id = in_review(&app, &application(true)).await;
    let line_before: Value = app
        .get("/api/v1/funding-lines/GK", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let p = problem(
        app.post(
            &format!("/api/v1/applications/{id}/approve"),
            Some(&ministry()),
            &json!({"grantedCents": 22_500_000}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "year_budget_exceeded");
    assert_eq!(p["year"], 2029);
    assert_eq!(p["remainingCents"], 3_000_000);
    assert_eq!(p["requestedCents"], 4_500_000);
    let all = years(&app).await;
    for y in 2027..=2031 {
        assert_eq!(
            year(&all, y)["committedCents"],
            0,
            "{y}: the earlier years' commitments rolled back"
        );
    }
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(line["committedCents"], line_before["committedCents"]);
    let a: Value = app
        .get(&format!("/api/v1/applications/{id}"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["status"], "in_review");
    // A budget below what is committed is refused.
    let ok = app
        .post(
            &format!("/api/v1/applications/{id}/approve"),
            Some(&ministry()),
            &json!({"grantedCents": 22_500_000, "years": [{"year": 2027, "grantedCents": 22_500_000}]}),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let p = problem(put_budget(&app, &ministry(), 2027, 22_499_999, None).await, 409).await;
    assert_eq!(p["code"], "budget_below_committed");
}

#[actix_web::test]
async fn a_multi_year_approval_needs_a_breakdown_within_the_period_that_sums_to_the_grant() {
    let app = TestApp::spawn().await;
    let id = in_review(&app, &application(false)).await;
    let path = format!("/api/v1/applications/{id}/approve");
    let token = ministry();
    let approve = |body: Value| {
        let (path, token, app) = (path.clone(), token.clone(), &app);
        async move { app.post(&path, Some(&token), &body).await }
    };
    let p = problem(approve(json!({"grantedCents": 10_000_000})).await, 422).await;
    assert_eq!(pointers(&p), vec!["/years"]);
    assert_eq!(p["errors"][0]["code"], "years_required");
    let p = problem(
        approve(
            json!({"grantedCents": 10_000_000, "years": [{"year": 2026, "grantedCents": 5_000_000},
            {"year": 2027, "grantedCents": 4_000_000}]}),
        )
        .await,
        422,
    )
    .await;
    let codes: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["years_sum_mismatch", "year_outside_period"]);
    assert_eq!(pointers(&p), vec!["/years", "/years/0/year"]);
    let all = years(&app).await;
    assert!(all.iter().all(|y| y["committedCents"] == 0));
    let res = approve(
        json!({"grantedCents": 10_000_000, "years": [{"year": 2027, "grantedCents": 6_000_000},
        {"year": 2028, "grantedCents": 4_000_000}]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let all = years(&app).await;
    assert_eq!(year(&all, 2027)["committedCents"], 6_000_000);
    assert_eq!(year(&all, 2028)["committedCents"], 4_000_000);
}

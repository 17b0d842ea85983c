use crate::helpers::*;
use serde_json::{Value, json};

fn new_line() -> Value {
    json!({
        "code": "TM", "title": "Telemedizinische Versorgung im ländlichen Raum",
        "description": "Aufbau telemedizinischer Angebote.", "guidelineReference": "Teil II Nr. 2",
        "eligibleApplicantKinds": ["landkreis", "gemeinde", "traeger"],
        "opensOn": "2026-01-01", "closesOn": "2030-12-31", "maxAmountCents": 10_000_000,
        "minRateBasisPoints": 2000, "maxRateBasisPoints": 8000, "maxDurationMonths": 36, "budgetCents": 100_000_000
    })
}

#[actix_web::test]
async fn the_five_lines_of_the_guideline_are_seeded() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .get("/api/v1/funding-lines?includeTotal=true", None)
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["GK", "GZ", "MV", "PX", "VA"]);
    assert_eq!(body["total"], 5);

    let gk: Value = app
        .get("/api/v1/funding-lines/GK", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gk["yearlyCapCents"], 4_500_000, "45,000 € per year");
    assert_eq!(gk["maxDurationMonths"], 60, "at most five years");
    assert_eq!(gk["eligibleApplicantKinds"], json!(["landkreis", "kreisfreie_stadt"]));
    let mv: Value = app.get("/api/v1/funding-lines/MV", None).await.json().await.unwrap();
    assert_eq!(
        (mv["minRateBasisPoints"].clone(), mv["maxRateBasisPoints"].clone()),
        (json!(4000), json!(9000))
    );
}

#[actix_web::test]
async fn budget_figures_only_with_a_token() {
    let app = TestApp::spawn().await;
    let anon: Value = app.get("/api/v1/funding-lines/GK", None).await.json().await.unwrap();
    assert!(anon.get("budgetCents").is_none() && anon.get("committedCents").is_none());
    assert!(anon.get("remainingCents").is_none());
    let list: Value = app.get("/api/v1/funding-lines", None).await.json().await.unwrap();
    assert!(list["items"][0].get("budgetCents").is_none());

    app.db
        .execute("SELECT escrow_move('GK', gen_random_uuid(), 1234, '{}', '{}')")
        .await;
    for t in [municipality(), service_unit(), ministry()] {
        let res = app.get("/api/v1/funding-lines/GK", Some(&t)).await;
        assert_eq!(res.headers()["etag"], "\"1\"");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["budgetCents"], 500_000_000);
        assert_eq!(body["committedCents"], 1234);
        assert_eq!(body["remainingCents"], 500_000_000 - 1234);
    }
}

#[actix_web::test]
async fn lists_page_and_filter() {
    let app = TestApp::spawn().await;
    let p1: Value = app
        .get("/api/v1/funding-lines?limit=2", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    let cursor = p1["nextCursor"].as_str().unwrap().to_owned();
    // A line created between pages appears where it belongs and nothing repeats.
    app.post("/api/v1/funding-lines", Some(&ministry()), &new_line()).await;
    let p2: Value = app
        .get(&format!("/api/v1/funding-lines?limit=2&cursor={cursor}"), None)
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = p2["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["MV", "PX"]);

    let gemeinde: Value = app
        .get("/api/v1/funding-lines?applicantKind=gemeinde", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(gemeinde["items"].as_array().unwrap().iter().all(|l| l["code"] != "GK"));
    app.db
        .execute("UPDATE funding_lines SET closes_on = '2020-12-31', opens_on = '2020-01-01' WHERE code = 'PX'")
        .await;
    let closed: Value = app
        .get("/api/v1/funding-lines?open=false", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["items"].as_array().unwrap().len(), 1);
    assert_eq!(closed["items"][0]["code"], "PX");
    assert_eq!(closed["items"][0]["open"], false);
}

#[actix_web::test]
async fn the_ministry_creates_a_line() {
    let app = TestApp::spawn().await;
    let res = app.post("/api/v1/funding-lines", Some(&ministry()), &new_line()).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["location"], "/api/v1/funding-lines/TM");
    assert_eq!(res.headers()["etag"], "\"1\"");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "TM");
    assert_eq!(body["remainingCents"], 100_000_000);
    assert_eq!(body["committedCents"], 0);
    let fetched: Value = app.get("/api/v1/funding-lines/TM", None).await.json().await.unwrap();
    assert_eq!(fetched["title"], "Telemedizinische Versorgung im ländlichen Raum");

    let p = problem(
        app.post("/api/v1/funding-lines", Some(&ministry()), &new_line()).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "already_exists");
}

#[actix_web::test]
async fn every_invalid_field_is_named_at_once() {
    let app = TestApp::spawn().await;
    let body = json!({
        "code": "t", "title": "ab", "guidelineReference": "", "eligibleApplicantKinds": [],
        "opensOn": "2027-02-01", "closesOn": "2027-01-01", "maxAmountCents": -1,
        "minRateBasisPoints": 9000, "maxRateBasisPoints": 8000, "maxDurationMonths": 0,
        "yearlyCapCents": -5, "budgetCents": -1
    });
    let p = problem(app.post("/api/v1/funding-lines", Some(&ministry()), &body).await, 422).await;
    assert_eq!(
        pointers(&p),
        vec![
            "/budgetCents",
            "/closesOn",
            "/code",
            "/eligibleApplicantKinds",
            "/guidelineReference",
            "/maxAmountCents",
            "/maxDurationMonths",
            "/minRateBasisPoints",
            "/title",
            "/yearlyCapCents"
        ]
    );
    let rate = json!({"code": "TX", "title": "Tele", "guidelineReference": "x", "eligibleApplicantKinds": ["gemeinde"],
        "maxRateBasisPoints": 10001, "budgetCents": 1});
    let p = problem(app.post("/api/v1/funding-lines", Some(&ministry()), &rate).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/maxRateBasisPoints");
    assert_eq!(p["errors"][0]["code"], "out_of_range");
    let kinds = json!({"code": "TX", "title": "Tele", "guidelineReference": "x", "eligibleApplicantKinds": ["bund"],
        "budgetCents": 1});
    let p = problem(app.post("/api/v1/funding-lines", Some(&ministry()), &kinds).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/eligibleApplicantKinds/0");
    assert_eq!(p["errors"][0]["code"], "invalid_value");
    let missing = problem(
        app.post("/api/v1/funding-lines", Some(&ministry()), &json!({})).await,
        422,
    )
    .await;
    assert_eq!(
        pointers(&missing),
        vec![
            "/budgetCents",
            "/code",
            "/eligibleApplicantKinds",
            "/guidelineReference",
            "/title"
        ]
    );
}

#[actix_web::test]
async fn patch_needs_a_current_if_match_and_validates_the_result() {
    let app = TestApp::spawn().await;
    let m = ministry();
    let p = problem(
        app.patch("/api/v1/funding-lines/GK", Some(&m), None, &json!({"title": "Neu"}))
            .await,
        428,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("If-Match"));
    let p = problem(
        app.patch(
            "/api/v1/funding-lines/GK",
            Some(&m),
            Some("\"7\""),
            &json!({"title": "Neu"}),
        )
        .await,
        412,
    )
    .await;
    assert_eq!(p["currentVersion"], 1);

    let res = app
        .patch(
            "/api/v1/funding-lines/GK",
            Some(&m),
            Some("\"1\""),
            &json!({"budgetCents": 600_000_000, "closesOn": "2030-12-31", "maxAmountCents": null}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["budgetCents"], 600_000_000);
    assert_eq!(body["closesOn"], "2030-12-31");
    assert_eq!(body["maxAmountCents"], Value::Null);
    assert_eq!(
        body["title"], "Personalstelle Gesundheitskoordination",
        "absent fields stay"
    );
    assert_eq!(body["version"], 2);

    // The merged state must satisfy the rules: MV's maximum rate is 9000.
    let p = problem(
        app.patch(
            "/api/v1/funding-lines/MV",
            Some(&m),
            Some("*"),
            &json!({"minRateBasisPoints": 9500}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/minRateBasisPoints"]);
    let p = problem(
        app.patch(
            "/api/v1/funding-lines/MV",
            Some(&m),
            Some("*"),
            &json!({"title": null, "budgetCents": null}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/budgetCents", "/title"]);
    let p = problem(
        app.patch("/api/v1/funding-lines/MV", Some(&m), Some("*"), &json!({"code": "XX"}))
            .await,
        400,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/code"]);
    problem(
        app.patch(
            "/api/v1/funding-lines/ZZ",
            Some(&m),
            Some("*"),
            &json!({"title": "Neu"}),
        )
        .await,
        404,
    )
    .await;
}

#[actix_web::test]
async fn the_budget_cannot_drop_below_what_is_committed() {
    let app = TestApp::spawn().await;
    app.db
        .execute("SELECT escrow_move('GK', gen_random_uuid(), 300000000, '{}', '{}')")
        .await;
    let p = problem(
        app.patch(
            "/api/v1/funding-lines/GK",
            Some(&ministry()),
            Some("\"1\""),
            &json!({"budgetCents": 299_999_999}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "budget_below_committed");
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(line["budgetCents"], 500_000_000, "unchanged");
    assert_eq!(line["version"], 1);
    let ok = app
        .patch(
            "/api/v1/funding-lines/GK",
            Some(&ministry()),
            Some("\"1\""),
            &json!({"budgetCents": 300_000_000}),
        )
        .await;
    assert_eq!(ok.status(), 200);
}

#[actix_web::test]
async fn concurrent_patches_with_the_same_if_match_one_wins() {
    let app = TestApp::spawn().await;
    let m = ministry();
    let (body_a, body_b) = (
        json!({"title": "Versorgungsanalysen A"}),
        json!({"title": "Versorgungsanalysen B"}),
    );
    let (a, b) = futures_util::join!(
        app.patch("/api/v1/funding-lines/VA", Some(&m), Some("\"1\""), &body_a),
        app.patch("/api/v1/funding-lines/VA", Some(&m), Some("\"1\""), &body_b),
    );
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 412]);
    let line: Value = app.get("/api/v1/funding-lines/VA", None).await.json().await.unwrap();
    assert_eq!(line["version"], 2);
}

#[actix_web::test]
async fn funding_lines_have_a_history() {
    let app = TestApp::spawn().await;
    let m = ministry();
    let res = app
        .patch(
            "/api/v1/funding-lines/GK",
            Some(&m),
            Some("\"1\""),
            &json!({"budgetCents": 600_000_000}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let p = problem(
        app.patch(
            "/api/v1/funding-lines/GK",
            Some(&m),
            Some("\"2\""),
            &json!({"code": "GX"}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/code"]);
    let p = problem(
        app.patch(
            "/api/v1/funding-lines/GK",
            Some(&m),
            Some("\"2\""),
            &json!({"title": null, "minRateBasisPoints": null}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/minRateBasisPoints", "/title"], "{p}");
    let history: Value = app
        .get("/api/v1/funding-lines/GK/history", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let items = history.as_array().unwrap();
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(items[0]["action"], "update");
    assert_eq!(items[0]["changedFields"], json!(["/budgetCents"]));
    problem(app.get("/api/v1/funding-lines/GK/history", None).await, 401).await;
    problem(app.get("/api/v1/funding-lines/NOPE/history", Some(&m)).await, 404).await;
}

#[actix_web::test]
async fn funding_lines_export_as_csv_with_budgets_only_for_a_token() {
    let app = TestApp::spawn().await;
    let header = "code,title,description,guidelineReference,eligibleApplicantKinds,opensOn,closesOn,open,\
                  maxAmountCents,minRateBasisPoints,maxRateBasisPoints,maxDurationMonths,yearlyCapCents,budgetCents,\
                  committedCents,remainingCents,version,createdAt,updatedAt";
    let json: Value = app
        .get("/api/v1/funding-lines?includeTotal=true", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let gk = &json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "GK")
        .unwrap();
    for (token, budget) in [(None, false), (Some(ministry()), true)] {
        let csv = app.get_csv("/api/v1/funding-lines", token.as_deref()).await;
        let records = csv_records(&csv);
        assert_eq!(records[0].join(","), header);
        let rows = &records[1..];
        assert_eq!(rows.len() as u64, json["total"].as_u64().unwrap(), "{csv}");
        assert!(rows.iter().all(|r| r.len() == records[0].len()), "{csv}");
        let row = rows.iter().find(|r| r[0] == "GK").unwrap();
        assert_eq!(row[1], gk["title"].as_str().unwrap());
        assert_eq!(row[2], gk["description"].as_str().unwrap());
        assert_eq!(row[4], "landkreis kreisfreie_stadt");
        let expected_budget = if budget {
            gk["budgetCents"].to_string()
        } else {
            String::new()
        };
        assert_eq!(row[13], expected_budget, "{csv}");
    }
    let traeger = app.get_csv("/api/v1/funding-lines?applicantKind=traeger", None).await;
    let json: Value = app
        .get("/api/v1/funding-lines?applicantKind=traeger&includeTotal=true", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        csv_records(&traeger).len() as u64,
        1 + json["total"].as_u64().unwrap(),
        "{traeger}"
    );
}

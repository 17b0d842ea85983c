//! Funding applications: lifecycle, rules, budget, visibility, lists, retries.

use crate::helpers::*;
use serde_json::{Value, json};

/// A second municipality, in another district.
fn other_municipality() -> String {
    token("municipality", Some("06635"))
}

/// A complete GK application of a Landkreis that satisfies every rule.
fn complete() -> Value {
    json!({
        "fundingLine": "GK",
        "title": "Gesundheitskoordination Werra-Meißner-Kreis",
        "description": "Aufbau einer kommunalen Gesundheitsstrategie mit einer Personalstelle für Gesundheitskoordination.",
        "startDate": "2027-01-01", "endDate": "2031-12-31",
        "financingPlan": {"totalCostsCents": 25_000_000, "ownFundsCents": 2_500_000, "thirdPartyFundsCents": 0,
            "requestedCents": 22_500_000},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let res = app.post("/api/v1/applications", Some(token), body).await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    res.json().await.unwrap()
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/applications/{id}/{action}"), Some(token), &body)
        .await
}

async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// An application brought into `in_review` through the API.
async fn in_review(app: &TestApp, body: &Value) -> String {
    let id = create(app, &municipality(), body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(act(app, &municipality(), &id, "submit", json!({})).await).await;
    ok(act(app, &ministry(), &id, "start-review", json!({})).await).await;
    id
}

#[actix_web::test]
async fn the_whole_lifecycle_is_recorded_and_invisible_to_others() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let r = ministry();

    let mut draft = complete();
    draft["financingPlan"] = json!({"totalCostsCents": 25_000_000});
    let res = app.post("/api/v1/applications", Some(&m), &draft).await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/applications/{id}"));
    assert_eq!(created["status"], "draft");
    assert_eq!(created["organisation"]["ags"], "06636");
    assert_eq!(created["district"], "06636");
    assert_eq!(created["version"], 1);

    // Incomplete: submitting lists every missing piece at once.
    let p = problem(act(&app, &m, &id, "submit", json!({})).await, 422).await;
    assert_eq!(
        pointers(&p),
        vec![
            "/financingPlan/ownFundsCents",
            "/financingPlan/requestedCents",
            "/financingPlan/thirdPartyFundsCents"
        ]
    );

    let res = app
        .patch(
            &format!("/api/v1/applications/{id}"),
            Some(&m),
            Some("\"1\""),
            &json!({"financingPlan": complete()["financingPlan"]}),
        )
        .await;
    let edited = ok(res).await;
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["financingPlan"]["requestedCents"], 22_500_000);

    let submitted = ok(act(&app, &m, &id, "submit", json!({})).await).await;
    assert_eq!(submitted["status"], "submitted");
    assert!(submitted["submittedAt"].is_string());
    ok(act(&app, &r, &id, "start-review", json!({})).await).await;
    let back = ok(act(
        &app,
        &r,
        &id,
        "request-changes",
        json!({"reason": "Bitte Eigenmittel erhöhen."}),
    )
    .await)
    .await;
    assert_eq!(back["status"], "changes_requested");
    assert_eq!(back["decisionReason"], "Bitte Eigenmittel erhöhen.");

    let version = back["version"].as_i64().unwrap();
    let plan = json!({"financingPlan": {"ownFundsCents": 5_000_000, "requestedCents": 20_000_000}});
    ok(app
        .patch(
            &format!("/api/v1/applications/{id}"),
            Some(&m),
            Some(&format!("\"{version}\"")),
            &plan,
        )
        .await)
    .await;
    ok(act(&app, &m, &id, "submit", json!({})).await).await;
    ok(act(&app, &r, &id, "start-review", json!({})).await).await;
    let approved = ok(act(
        &app,
        &r,
        &id,
        "approve",
        json!({"grantedCents": 20_000_000, "note": "Bewilligt.", "years": [{"year": 2027, "grantedCents": 20_000_000}]}),
    )
    .await)
    .await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["grantedCents"], 20_000_000);
    assert!(approved["decidedAt"].is_string());
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&r))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(line["committedCents"], 20_000_000);
    assert_eq!(line["remainingCents"], 500_000_000 - 20_000_000);

    let history: Value = app
        .get(&format!("/api/v1/applications/{id}/history"), Some(&m))
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["toStatus"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("create", "draft"),
            ("update", "draft"),
            ("submit", "submitted"),
            ("start-review", "in_review"),
            ("request-changes", "changes_requested"),
            ("update", "changes_requested"),
            ("submit", "submitted"),
            ("start-review", "in_review"),
            ("approve", "approved"),
        ]
    );
    let h = history.as_array().unwrap();
    assert_eq!(h[4]["actor"]["role"], "ministry");
    assert_eq!(h[4]["reason"], "Bitte Eigenmittel erhöhen.");
    assert_eq!(h[4]["fromStatus"], "in_review");
    assert_eq!(h[0]["actor"]["organisationId"], created["organisation"]["id"]);
    assert_eq!(
        h[5]["changedFields"],
        json!(["/financingPlan/ownFundsCents", "/financingPlan/requestedCents"])
    );

    // Another municipality sees none of it, anywhere.
    let o = other_municipality();
    problem(app.get(&format!("/api/v1/applications/{id}"), Some(&o)).await, 404).await;
    problem(
        app.get(&format!("/api/v1/applications/{id}/history"), Some(&o)).await,
        404,
    )
    .await;
    problem(
        app.get(&format!("/api/v1/applications/{id}/comments"), Some(&o)).await,
        404,
    )
    .await;
    problem(
        act(&app, &o, &id, "withdraw", json!({"reason": "Nicht meins."})).await,
        404,
    )
    .await;
    let list: Value = app
        .get("/api/v1/applications?includeTotal=true", Some(&o))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    assert_eq!(list["total"], 0);
    let csv = app
        .client
        .get(app.url("/api/v1/applications"))
        .bearer_auth(&o)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.text().await.unwrap().lines().count(), 1, "header only");
    // The service unit and the ministry see it.
    for t in [service_unit(), ministry()] {
        let list: Value = app
            .get("/api/v1/applications?includeTotal=true", Some(&t))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 1);
    }
}

/// Every endpoint of the resource as each role, on the caller's own and on a foreign organisation's application.
#[actix_web::test]
async fn authorization_matrix() {
    let app = TestApp::spawn().await;
    let own = in_review(&app, &complete()).await;
    let mut foreign_body = complete();
    foreign_body["title"] = json!("Gesundheitskoordination Waldeck-Frankenberg");
    let foreign = create(&app, &other_municipality(), &foreign_body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // (method, path, body, [municipality own, municipality foreign, service_unit, ministry])
    // Lifecycle actions are called on an application in a state where they would be refused by state (409), so
    // 409 means "allowed to try", without changing anything between rows.
    let reason = json!({"reason": "Begründung"});
    let rows: Vec<(&str, String, Value, [u16; 4])> = vec![
        ("GET", "".into(), json!(null), [200, 404, 200, 200]),
        ("GET", "/history".into(), json!(null), [200, 404, 200, 200]),
        ("GET", "/comments".into(), json!(null), [200, 404, 200, 200]),
        (
            "POST",
            "/comments".into(),
            json!({"body": "Hinweis"}),
            [201, 404, 201, 201],
        ),
        (
            "PATCH",
            "".into(),
            json!({"title": "Neuer Titel"}),
            [409, 404, 403, 403],
        ),
        ("POST", "/submit".into(), json!({}), [409, 404, 403, 403]),
        ("POST", "/start-review".into(), json!({}), [403, 403, 403, 409]),
        (
            "POST",
            "/approve".into(),
            json!({"grantedCents": 1, "years": [{"year": 2027, "grantedCents": 1}]}),
            [403, 403, 403, 200],
        ),
        ("POST", "/withdraw".into(), reason.clone(), [409, 404, 403, 403]),
        ("POST", "/request-changes".into(), reason.clone(), [403, 403, 403, 409]),
        ("POST", "/reject".into(), reason.clone(), [403, 403, 403, 409]),
    ];
    let tokens = [municipality(), municipality(), service_unit(), ministry()];
    for (method, suffix, body, expected) in rows {
        for (i, t) in tokens.iter().enumerate() {
            let target = if i == 1 { &foreign } else { &own };
            let url = app.url(&format!("/api/v1/applications/{target}{suffix}"));
            let req = match method {
                "GET" => app.client.get(url),
                "POST" => app.client.post(url).json(&body),
                _ => app.client.patch(url).header("If-Match", "*").json(&body),
            };
            let res = req.bearer_auth(t).send().await.unwrap();
            let status = res.status().as_u16();
            // After the ministry approved (row "approve"), later rows still see a decided application.
            assert_eq!(
                status,
                expected[i],
                "{method} {suffix} as role #{i}: {}",
                res.text().await.unwrap()
            );
        }
    }
    // Creating is for municipalities only.
    for t in [service_unit(), ministry()] {
        problem(app.post("/api/v1/applications", Some(&t), &complete()).await, 403).await;
    }
    // Lists: each municipality sees only its own.
    let mine: Value = app
        .get("/api/v1/applications?includeTotal=true", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["id"], own.as_str());
    // Filtering by the other organisation does not get around it.
    let foreign_org: Value = app
        .get("/api/v1/organisations/06635", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let sneaky: Value = app
        .get(
            &format!(
                "/api/v1/applications?organisation={}&includeTotal=true",
                foreign_org["id"].as_str().unwrap()
            ),
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sneaky["total"], 0);
}

#[actix_web::test]
async fn each_rule_has_its_own_code_and_field() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "plan sum",
            json!({"financingPlan": {"totalCostsCents": 25_000_001}}),
            "/financingPlan/totalCostsCents",
            "plan_sum_mismatch",
        ),
        (
            "maximum amount",
            json!({"financingPlan": {"totalCostsCents": 30_000_000, "ownFundsCents": 7_000_000, "requestedCents": 23_000_000}}),
            "/financingPlan/requestedCents",
            "exceeds_max_amount",
        ),
        (
            "duration",
            json!({"endDate": "2032-01-31"}),
            "/endDate",
            "exceeds_max_duration",
        ),
        (
            "yearly cap",
            json!({"endDate": "2029-12-31"}),
            "/financingPlan/requestedCents",
            "exceeds_yearly_cap",
        ),
        (
            "yearly breakdown",
            json!({"financingPlan": {"years": [{"year": 2027, "requestedCents": 5_000_000}, {"year": 2028, "requestedCents": 17_500_000}]}}),
            "/financingPlan/years/0/requestedCents",
            "exceeds_yearly_cap",
        ),
        (
            "years add up",
            json!({"financingPlan": {"years": [{"year": 2027, "requestedCents": 4_500_000}]}}),
            "/financingPlan/years",
            "years_sum_mismatch",
        ),
        (
            "year in period",
            json!({"financingPlan": {"years": [{"year": 2035, "requestedCents": 4_500_000}, {"year": 2027, "requestedCents": 18_000_000}]}}),
            "/financingPlan/years/0/year",
            "year_outside_period",
        ),
    ];
    for (name, patch, pointer, code) in cases {
        let mut body = complete();
        crate::helpers::merge(&mut body, &patch);
        let id = create(&app, &m, &body).await["id"].as_str().unwrap().to_owned();
        let res = act(&app, &m, &id, "submit", json!({})).await;
        let p = problem(res, 422).await;
        let found = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["pointer"] == pointer && e["code"] == code);
        assert!(found, "{name}: expected {code} at {pointer}, got {p}");
        let app_now: Value = app
            .get(&format!("/api/v1/applications/{id}"), Some(&m))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(app_now["status"], "draft", "{name}: nothing changed");
    }

    // Rates: MV funds 40–90 %. A Gemeinde may apply for MV but not for GK.
    app.db.execute("INSERT INTO organisations (ags, name, kind, district_ags) VALUES ('06636001', 'Stadt Bad Sooden-Allendorf', 'gemeinde', '06636')").await;
    let g = token("municipality", Some("06636001"));
    let mut mv = complete();
    mv["fundingLine"] = json!("MV");
    mv["endDate"] = json!("2029-12-31");
    mv["financingPlan"] = json!({"totalCostsCents": 10_000_000, "ownFundsCents": 500_000, "thirdPartyFundsCents": 0, "requestedCents": 9_500_000});
    let id = create(&app, &g, &mv).await["id"].as_str().unwrap().to_owned();
    let p = problem(act(&app, &g, &id, "submit", json!({})).await, 422).await;
    assert_eq!(p["errors"][0]["code"], "exceeds_max_rate");
    mv["financingPlan"] = json!({"totalCostsCents": 10_000_000, "ownFundsCents": 7_000_000, "thirdPartyFundsCents": 0, "requestedCents": 3_000_000});
    let id = create(&app, &g, &mv).await["id"].as_str().unwrap().to_owned();
    let p = problem(act(&app, &g, &id, "submit", json!({})).await, 422).await;
    assert_eq!(p["errors"][0]["code"], "below_min_rate");
    mv["financingPlan"] = json!({"totalCostsCents": 10_000_000, "ownFundsCents": 2_000_000, "thirdPartyFundsCents": 0, "requestedCents": 8_000_000});
    let id = create(&app, &g, &mv).await["id"].as_str().unwrap().to_owned();
    ok(act(&app, &g, &id, "submit", json!({})).await).await;

    let id = create(&app, &g, &complete()).await["id"].as_str().unwrap().to_owned();
    let p = problem(act(&app, &g, &id, "submit", json!({})).await, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/fundingLine");
    assert_eq!(p["errors"][0]["code"], "ineligible_applicant");

    // The window must be open at the moment of submission.
    let id = create(&app, &m, &complete()).await["id"].as_str().unwrap().to_owned();
    app.db
        .execute("UPDATE funding_lines SET opens_on = '2020-01-01', closes_on = '2020-12-31' WHERE code = 'GK'")
        .await;
    let p = problem(act(&app, &m, &id, "submit", json!({})).await, 422).await;
    assert_eq!(p["errors"][0]["code"], "funding_line_closed");

    // Several problems are reported together.
    app.db
        .execute("UPDATE funding_lines SET closes_on = NULL WHERE code = 'GK'")
        .await;
    let mut bad = complete();
    bad["endDate"] = json!("2033-12-31");
    bad["financingPlan"]["totalCostsCents"] = json!(1);
    let id = create(&app, &m, &bad).await["id"].as_str().unwrap().to_owned();
    let p = problem(act(&app, &m, &id, "submit", json!({})).await, 422).await;
    let codes: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"plan_sum_mismatch") && codes.contains(&"exceeds_max_duration"),
        "{codes:?}"
    );
}

/// The `(pointer, code)` pairs of a 422's errors.
fn errors_of(p: &Value) -> Vec<(String, String)> {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn error(pointer: &str, code: &str) -> (String, String) {
    (pointer.to_owned(), code.to_owned())
}

#[actix_web::test]
async fn the_window_governs_the_first_submission_not_a_resubmission() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let returned = in_review(&app, &complete()).await;
    let draft = create(&app, &m, &complete()).await["id"].as_str().unwrap().to_owned();
    let back = ok(act(
        &app,
        &ministry(),
        &returned,
        "request-changes",
        json!({"reason": "Bitte Meilensteine ergänzen."}),
    )
    .await)
    .await;
    assert_eq!(back["status"], "changes_requested");

    // The window closes while the applicant works on the changes.
    app.db
        .execute("UPDATE funding_lines SET opens_on = '2020-01-01', closes_on = '2020-12-31' WHERE code = 'GK'")
        .await;
    let edited = ok(app
        .patch(
            &format!("/api/v1/applications/{returned}"),
            Some(&m),
            Some(&format!("\"{}\"", back["version"])),
            &json!({"description": "Aufbau einer kommunalen Gesundheitsstrategie; Meilensteine je Projektjahr."}),
        )
        .await)
    .await;
    let resubmitted = ok(act(&app, &m, &returned, "submit", json!({})).await).await;
    assert_eq!(resubmitted["status"], "submitted");
    assert_eq!(resubmitted["version"], edited["version"].as_i64().unwrap() + 1);

    // A first submission after the window is still refused.
    let p = problem(act(&app, &m, &draft, "submit", json!({})).await, 422).await;
    assert_eq!(errors_of(&p), vec![error("/fundingLine", "funding_line_closed")]);

    // A resubmission is still checked against every other rule.
    ok(act(&app, &ministry(), &returned, "start-review", json!({})).await).await;
    let back = ok(act(
        &app,
        &ministry(),
        &returned,
        "request-changes",
        json!({"reason": "Bitte kürzen."}),
    )
    .await)
    .await;
    ok(app
        .patch(
            &format!("/api/v1/applications/{returned}"),
            Some(&m),
            Some(&format!("\"{}\"", back["version"])),
            &json!({"endDate": "2027-12-31"}),
        )
        .await)
    .await;
    let p = problem(act(&app, &m, &returned, "submit", json!({})).await, 422).await;
    assert_eq!(
        errors_of(&p),
        vec![error("/financingPlan/requestedCents", "exceeds_yearly_cap")]
    );
}

#[actix_web::test]
async fn the_gk_cap_is_pro_rata_by_month() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let submit = |body: Value| {
        let (app, m) = (&app, &m);
        async move {
            let id = create(app, m, &body).await["id"].as_str().unwrap().to_owned();
            act(app, m, &id, "submit", json!({})).await
        }
    };
    let plan = |own: i64, requested: i64| {
        json!({"totalCostsCents": own + requested, "ownFundsCents": own, "thirdPartyFundsCents": 0,
            "requestedCents": requested})
    };

    // 13 months: 45,000 € × 13 ÷ 12 = 48,750 €, not two full years.
    let mut body = complete();
    body["startDate"] = json!("2027-01-01");
    body["endDate"] = json!("2028-01-31");
    body["financingPlan"] = plan(1_125_000, 4_875_000);
    ok(submit(body.clone()).await).await;
    body["financingPlan"] = plan(1_124_999, 4_875_001);
    let p = problem(submit(body).await, 422).await;
    assert_eq!(
        errors_of(&p),
        vec![error("/financingPlan/requestedCents", "exceeds_yearly_cap")]
    );

    // 2027-04-01 to 2028-03-31: 2027 has 9 months (33,750 €), 2028 has 3 (11,250 €).
    let mut body = complete();
    body["startDate"] = json!("2027-04-01");
    body["endDate"] = json!("2028-03-31");
    let with_years = |body: &mut Value, y2027: i64, y2028: i64| {
        let mut p = plan(500_000, y2027 + y2028);
        p["years"] = json!([{"year": 2027, "requestedCents": y2027}, {"year": 2028, "requestedCents": y2028}]);
        body["financingPlan"] = p;
    };
    with_years(&mut body, 3_375_000, 1_125_000);
    ok(submit(body.clone()).await).await;
    with_years(&mut body, 3_375_001, 1_124_999);
    let p = problem(submit(body.clone()).await, 422).await;
    assert_eq!(
        errors_of(&p),
        vec![error("/financingPlan/years/0/requestedCents", "exceeds_yearly_cap")]
    );
    with_years(&mut body, 3_000_000, 1_500_000);
    let p = problem(submit(body).await, 422).await;
    assert_eq!(
        errors_of(&p),
        vec![error("/financingPlan/years/1/requestedCents", "exceeds_yearly_cap")]
    );
}

#[actix_web::test]
async fn drafts_are_checked_for_format_and_references() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let p = problem(app.post("/api/v1/applications", Some(&m), &json!({})).await, 422).await;
    assert_eq!(pointers(&p), vec!["/fundingLine", "/title"]);
    let p = problem(
        app.post(
            "/api/v1/applications",
            Some(&m),
            &json!({"fundingLine": "ZZ", "title": "Ein Vorhaben"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_reference");
    let bad = json!({"fundingLine": "GK", "title": "ab", "financingPlan": {"requestedCents": -5, "years": [{"year": 1999, "requestedCents": 1}]}});
    let p = problem(app.post("/api/v1/applications", Some(&m), &bad).await, 422).await;
    assert_eq!(
        pointers(&p),
        vec!["/financingPlan/requestedCents", "/financingPlan/years/0/year", "/title"]
    );
    let mut inconsistent = complete();
    inconsistent["endDate"] = json!("2026-12-31");
    inconsistent["contact"]["email"] = json!("not-an-address");
    let p = problem(app.post("/api/v1/applications", Some(&m), &inconsistent).await, 422).await;
    assert_eq!(pointers(&p), vec!["/contact/email", "/endDate"]);
    assert_eq!(p["errors"][1]["code"], "dates_out_of_order");
    let p = problem(
        app.post(
            "/api/v1/applications",
            Some(&m),
            &json!({"fundingLine": "GK", "title": "Titel", "status": "approved"}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/status"]);
    assert_eq!(app.db_count("applications").await, 0);
}

/// Every action from every state: allowed ones succeed, the others are 409 naming the state and what is allowed.
#[actix_web::test]
async fn actions_with_an_optional_body_can_be_sent_bare() {
    let app = TestApp::spawn().await;
    let id = create(&app, &municipality(), &complete()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // As curl -X POST and generated clients send it: no body, no Content-Type.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/applications/{id}/submit")))
        .bearer_auth(municipality())
        .send()
        .await
        .unwrap();
    assert_eq!(ok(res).await["status"], "submitted");
    // The role is still checked first.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/applications/{id}/start-review")))
        .bearer_auth(service_unit())
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
}

#[actix_web::test]
async fn transitions_allowed_and_refused() {
    let app = TestApp::spawn().await;
    let states = [
        "draft",
        "submitted",
        "in_review",
        "changes_requested",
        "approved",
        "rejected",
        "withdrawn",
    ];
    let actions: Vec<(&str, Value, String)> = vec![
        ("submit", json!({}), municipality()),
        ("withdraw", json!({"reason": "Nicht mehr nötig"}), municipality()),
        ("start-review", json!({}), ministry()),
        ("request-changes", json!({"reason": "Bitte ergänzen"}), ministry()),
        (
            "approve",
            json!({"grantedCents": 1_000_000, "years": [{"year": 2027, "grantedCents": 1_000_000}]}),
            ministry(),
        ),
        ("reject", json!({"reason": "Nicht förderfähig"}), ministry()),
    ];
    let allowed = |state: &str, action: &str| -> bool {
        matches!(
            (state, action),
            ("draft" | "changes_requested", "submit")
                | ("draft" | "submitted" | "in_review" | "changes_requested", "withdraw")
                | ("submitted", "start-review")
                | ("in_review", "request-changes" | "approve" | "reject")
        )
    };
    for state in states {
        for (action, body, t) in &actions {
            let id = create(&app, &municipality(), &complete()).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let granted = if state == "approved" { "1000000" } else { "NULL" };
            app.db
                .execute(&format!(
                    "UPDATE applications SET status = '{state}', granted_cents = {granted} WHERE id = '{id}'"
                ))
                .await;
            let res = act(&app, t, &id, action, body.clone()).await;
            if allowed(state, action) {
                assert_eq!(
                    res.status(),
                    200,
                    "{action} from {state}: {}",
                    res.text().await.unwrap()
                );
            } else {
                let p = problem(res, 409).await;
                assert_eq!(p["code"], "invalid_transition", "{action} from {state}");
                assert_eq!(p["currentStatus"], state);
                assert!(p["allowedActions"].is_array());
                let after: Value = app
                    .get(&format!("/api/v1/applications/{id}"), Some(&ministry()))
                    .await
                    .json()
                    .await
                    .unwrap();
                assert_eq!(after["status"], state, "{action} from {state} changed nothing");
            }
        }
    }
    // Reasons are required where the lifecycle asks for one; grants never exceed the request.
    let id = in_review(&app, &complete()).await;
    let p = problem(act(&app, &ministry(), &id, "reject", json!({})).await, 422).await;
    assert_eq!(pointers(&p), vec!["/reason"]);
    let p = problem(
        act(&app, &ministry(), &id, "approve", json!({"grantedCents": 22_500_001})).await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "exceeds_requested");
    // Editing is only possible while draft or changes_requested.
    let p = problem(
        app.patch(
            &format!("/api/v1/applications/{id}"),
            Some(&municipality()),
            Some("*"),
            &json!({"title": "Neu"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "not_editable");
}

#[actix_web::test]
async fn parallel_approvals_never_overcommit_the_budget() {
    race_approvals(
        "UPDATE funding_lines SET budget_cents = 20000000 WHERE code = 'GK'",
        "budget_exceeded",
    )
    .await;
}

/// The same race where the fiscal year's budget is the one that runs out (the line's total has room): each shard of
/// the year is rebalanced in turn while approvals hold their shard of the line's total.
#[actix_web::test]
async fn parallel_approvals_never_overcommit_a_fiscal_year() {
    race_approvals(
        "UPDATE funding_line_years SET budget_cents = 20000000 WHERE funding_line_code = 'GK' AND year = 2027",
        "year_budget_exceeded",
    )
    .await;
}

/// Levels (a line's total or one of its fiscal years) whose escrow shards break the invariant: a shard committing
/// more than it is allotted, allotments beyond the budget, or a committed sum other than the grants' (read from the
/// stored rows and the shards, not through the service).
async fn escrow_violations(app: &TestApp) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = app.db.conn().await;
    let c: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM (
             SELECT s.funding_line_code, s.year, sum(s.allotted_cents) AS allotted, sum(s.committed_cents) AS committed,
                    bool_or(s.committed_cents > s.allotted_cents) AS over,
                    coalesce((SELECT l.budget_cents FROM funding_lines_stored l
                              WHERE s.year = 0 AND l.code = s.funding_line_code),
                             (SELECT y.budget_cents FROM funding_line_years_stored y
                              WHERE y.funding_line_code = s.funding_line_code AND y.year = s.year)) AS budget,
                    (SELECT coalesce(sum(g.committed_cents), 0) FROM grant_years g
                     WHERE g.funding_line_code = s.funding_line_code AND (s.year = 0 OR g.year = s.year)) AS granted
             FROM budget_shards s GROUP BY 1, 2) l
         WHERE over OR allotted > budget OR committed <> granted",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    c.n
}

/// One approval may take more than a shard's share of the budget (its shard is given what the others leave), and
/// the budget is still used to the last cent.
#[actix_web::test]
async fn an_approval_draws_on_the_whole_budget_whatever_its_shard() {
    let app = TestApp::spawn().await;
    let ids = many_in_review(&app, 3, 7_000_000, 1_000_000).await;
    app.db
        .execute("UPDATE funding_lines SET budget_cents = 8000000 WHERE code = 'GK'")
        .await;
    let r = ministry();
    let grant = |cents: i64| json!({"grantedCents": cents, "years": [{"year": 2027, "grantedCents": cents}]});
    // 7/8 of the budget in one shard, then the last eighth in (most likely) another.
    assert_eq!(act(&app, &r, &ids[0], "approve", grant(7_000_000)).await.status(), 200);
    assert_eq!(act(&app, &r, &ids[1], "approve", grant(1_000_000)).await.status(), 200);
    let p = problem(act(&app, &r, &ids[2], "approve", grant(1)).await, 409).await;
    assert_eq!(
        (p["code"].clone(), p["remainingCents"].clone()),
        (json!("budget_exceeded"), json!(0))
    );
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&r))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (line["committedCents"].clone(), line["remainingCents"].clone()),
        (json!(8_000_000), json!(0))
    );
    assert_eq!(escrow_violations(&app).await, 0);
    // The budget cannot drop below what is committed, and raising it makes room again.
    let p = problem(
        app.patch(
            "/api/v1/funding-lines/GK",
            Some(&r),
            Some("*"),
            &json!({"budgetCents": 7_999_999}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "budget_below_committed");
    assert_eq!(
        app.patch(
            "/api/v1/funding-lines/GK",
            Some(&r),
            Some("*"),
            &json!({"budgetCents": 8_000_001})
        )
        .await
        .status(),
        200
    );
    assert_eq!(act(&app, &r, &ids[2], "approve", grant(1)).await.status(), 200);
    assert_eq!(escrow_violations(&app).await, 0);
}

/// The database refuses what would break the escrow even when the service is bypassed: a shard committing beyond
/// its allotment (CHECK), allotments beyond the budget (checked at commit).
#[actix_web::test]
async fn the_escrow_invariant_is_kept_by_the_database() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    let mut conn = app.db.conn().await;
    for sql in [
        "UPDATE budget_shards SET committed_cents = allotted_cents + 1 WHERE funding_line_code = 'GK' AND year = 0
         AND shard = 3",
        "UPDATE budget_shards SET allotted_cents = allotted_cents + 1 WHERE funding_line_code = 'GK' AND year = 2027
         AND shard = 5",
    ] {
        let err = diesel::sql_query(sql).execute(&mut conn).await.unwrap_err();
        let diesel::result::Error::DatabaseError(kind, info) = err else {
            panic!("{sql}: not a database error");
        };
        assert_eq!(kind, diesel::result::DatabaseErrorKind::CheckViolation, "{sql}");
        assert!(info.constraint_name().is_some(), "{sql}");
    }
    assert_eq!(escrow_violations(&app).await, 0);
}

/// An approval whose budget statement fails with a database error — here the statement timeout, while another
/// session holds the line's escrow shards — answers with that error (503 with Retry-After) and leaves nothing behind:
/// the application is still in review, and no grant year, notice, history entry or event was written although the
/// other writes of the approval ran before it in the same pipeline. (Whether a record queued behind the failed
/// statement could have answered first with its "transaction aborted" depends on how the answers arrive; the
/// approval sends its records only after every write has answered, so none is queued behind one.)
#[actix_web::test]
async fn an_approval_whose_budget_statement_fails_answers_its_own_error_and_writes_nothing() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn_with(|a| a.db.db_statement_timeout = std::time::Duration::from_secs(1)).await;
    let id = many_in_review(&app, 1, 1_000_000, 0).await.remove(0);
    let tables = ["grant_years", "grant_notices", "history", "events"];
    let mut before = Vec::new();
    for table in tables {
        before.push(app.db_count(table).await);
    }
    let mut holder = app.db.conn().await;
    diesel::sql_query("BEGIN").execute(&mut holder).await.unwrap();
    diesel::sql_query("SELECT 1 FROM budget_shards WHERE funding_line_code = 'GK' FOR UPDATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let path = format!("/api/v1/applications/{id}/approve");
    let body = json!({"grantedCents": 1_000_000, "years": [{"year": 2027, "grantedCents": 1_000_000}]});
    let res = app.post(&path, Some(&ministry()), &body).await;
    let retry_after = res.headers().contains_key("retry-after");
    problem(res, 503).await;
    assert!(retry_after, "503 names when to try again");
    diesel::sql_query("ROLLBACK").execute(&mut holder).await.unwrap();
    for (table, n) in tables.into_iter().zip(before) {
        assert_eq!(app.db_count(table).await, n, "{table}");
    }
    let current: Value = app
        .get(&format!("/api/v1/applications/{id}"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["status"], "in_review");
    // The same approval goes through once the shards are free.
    let res = app.post(&path, Some(&ministry()), &body).await;
    assert_eq!(res.status(), 200);
}

/// `n` applications of the Werra-Meißner-Kreis in review on line GK for 2027, each asking for `requested` cents with
/// `own` cents of own funds, written directly (the states before review are not what these tests are about); their
/// ids in list order.
async fn many_in_review(app: &TestApp, n: u32, requested: i64, own: i64) -> Vec<String> {
    app.db
        .execute(&format!(
            "INSERT INTO applications (organisation_id, district_ags, funding_line_code, status, title, requested_cents,
                                       total_costs_cents, own_funds_cents, third_party_funds_cents, start_date, end_date)
             SELECT o.id, o.district_ags, 'GK', 'in_review', 'Vorhaben ' || g, {requested}, {total}, {own}, 0,
                    '2027-01-01', '2027-12-31'
             FROM organisations o, generate_series(1, {n}) g WHERE o.ags = '06636'",
            total = requested + own
        ))
        .await;
    let list: Value = app
        .get(
            &format!("/api/v1/applications?status=in_review&limit={n}"),
            Some(&ministry()),
        )
        .await
        .json()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// 50 applications of 1,000,000 cents approved at once against a budget (set by `budget_sql`) of 20,000,000: exactly
/// 20 are approved whichever escrow shard they commit in, the others get `refusal`, and the shards hold the
/// invariant (committed within allotted, allotted within budget) afterwards.
async fn race_approvals(budget_sql: &str, refusal: &str) {
    let app = TestApp::spawn_with(|a| {
        a.db.db_pool_wait_timeout = std::time::Duration::from_secs(30);
        a.http.workers = Some(2);
    })
    .await;
    // 50 applications in review, each asking for 1,000,000 cents; the budget fits exactly 20 of them.
    let ids = many_in_review(&app, 50, 1_000_000, 200_000).await;
    app.db.execute(budget_sql).await;
    assert_eq!(ids.len(), 50);
    let r = ministry();
    let body = json!({"grantedCents": 1_000_000, "years": [{"year": 2027, "grantedCents": 1_000_000}]});
    let responses =
        futures_util::future::join_all(ids.iter().map(|id| act(&app, &r, id, "approve", body.clone()))).await;
    let mut approved = 0;
    let mut exceeded = 0;
    for res in responses {
        match res.status().as_u16() {
            200 => approved += 1,
            409 => {
                let p: Value = res.json().await.unwrap();
                assert_eq!(p["code"], refusal);
                assert!(p["remainingCents"].as_i64().unwrap() < 1_000_000);
                exceeded += 1;
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!((approved, exceeded), (20, 30));
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&r))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(line["committedCents"], 20_000_000);
    let years: Value = app
        .get("/api/v1/funding-lines/GK/years", Some(&r))
        .await
        .json()
        .await
        .unwrap();
    let year = years["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|y| y["year"] == 2027)
        .unwrap();
    assert_eq!(year["committedCents"], 20_000_000);
    assert_eq!(
        line["remainingCents"]
            .as_i64()
            .unwrap()
            .min(year["remainingCents"].as_i64().unwrap()),
        0
    );
    assert_eq!(escrow_violations(&app).await, 0);
    let approved_rows: Value = app
        .get("/api/v1/applications?status=approved&includeTotal=true", Some(&r))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved_rows["total"], 20);
    let still: Value = app
        .get("/api/v1/applications?status=in_review&includeTotal=true", Some(&r))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        still["total"], 30,
        "refused approvals left their applications untouched"
    );
}

#[actix_web::test]
async fn concurrent_patches_with_one_if_match() {
    let app = TestApp::spawn().await;
    let id = create(&app, &municipality(), &complete()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = municipality();
    let path = format!("/api/v1/applications/{id}");
    let (a_body, b_body) = (json!({"title": "Fassung A"}), json!({"title": "Fassung B"}));
    let (a, b) = futures_util::join!(
        app.patch(&path, Some(&m), Some("\"1\""), &a_body),
        app.patch(&path, Some(&m), Some("\"1\""), &b_body),
    );
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 412]);
    problem(app.patch(&path, Some(&m), None, &a_body).await, 428).await;
}

#[actix_web::test]
async fn idempotency_keys_replay_and_refuse_other_bodies() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let send = |body: Value, key: &'static str, token: String| {
        app.client
            .post(app.url("/api/v1/applications"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(complete(), "create-1", m.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    let again = send(complete(), "create-1", m.clone()).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], first_location);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(app.db_count("applications").await, 1);

    let mut other = complete();
    other["title"] = json!("Ein anderes Vorhaben");
    let p = problem(send(other, "create-1", m.clone()).await.unwrap(), 422).await;
    assert_eq!(p["errors"][0]["code"], "idempotency_key_reused");
    // After its 24 hours a key is free again, for any body.
    app.db
        .execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'create-1'")
        .await;
    let mut later = complete();
    later["title"] = json!("Ein späteres Vorhaben");
    let res = send(later, "create-1", m.clone()).await.unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.db_count("applications").await, 2);
    // Keys belong to their caller: another organisation's identical key is independent.
    let mut theirs = complete();
    theirs["title"] = json!("Gesundheitskoordination Waldeck-Frankenberg");
    assert_eq!(
        send(theirs, "create-1", other_municipality()).await.unwrap().status(),
        201
    );

    // Concurrent retries of one key run once.
    let body = complete();
    let results = futures_util::future::join_all((0..5).map(|_| send(body.clone(), "create-burst", m.clone()))).await;
    let ids: std::collections::HashSet<String> = futures_util::future::join_all(results.into_iter().map(|r| async {
        r.unwrap().json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }))
    .await
    .into_iter()
    .collect();
    assert_eq!(ids.len(), 1);

    // An approval retried with its key commits the budget once.
    let id = in_review(&app, &complete()).await;
    let approve = |key: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/applications/{id}/approve")))
            .bearer_auth(ministry())
            .header("Idempotency-Key", key)
            .json(&json!({"grantedCents": 1_000_000, "years": [{"year": 2027, "grantedCents": 1_000_000}]}))
            .send()
    };
    assert_eq!(approve("approve-1").await.unwrap().status(), 200);
    let replay = approve("approve-1").await.unwrap();
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(line["committedCents"], 1_000_000);
    let p = problem(approve("approve-2").await.unwrap(), 409).await;
    assert_eq!(p["code"], "invalid_transition");
}

#[actix_web::test]
async fn comments_internal_ones_stay_internal() {
    let app = TestApp::spawn().await;
    let id = create(&app, &municipality(), &complete()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/applications/{id}/comments");
    let res = app
        .post(
            &path,
            Some(&service_unit()),
            &json!({"body": "Interne Einschätzung: förderfähig.", "internal": true}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post(
            &path,
            Some(&ministry()),
            &json!({"body": "Bitte den Zeitplan ergänzen."}),
        )
        .await;
    assert_eq!(res.status(), 201);
    problem(
        app.post(&path, Some(&municipality()), &json!({"body": "Psst", "internal": true}))
            .await,
        403,
    )
    .await;
    assert_eq!(
        app.post(&path, Some(&municipality()), &json!({"body": "Wird ergänzt."}))
            .await
            .status(),
        201
    );
    problem(app.post(&path, Some(&municipality()), &json!({"body": ""})).await, 422).await;

    let seen: Value = app.get(&path, Some(&municipality())).await.json().await.unwrap();
    let bodies: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["Bitte den Zeitplan ergänzen.", "Wird ergänzt."]);
    for t in [service_unit(), ministry()] {
        let all: Value = app.get(&path, Some(&t)).await.json().await.unwrap();
        assert_eq!(all.as_array().unwrap().len(), 3);
        assert_eq!(all[0]["internal"], true);
        assert_eq!(all[0]["author"]["role"], "service_unit");
    }
}

#[actix_web::test]
async fn lists_filter_sort_and_search() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let titles = [
        "Gesundheitszentrum Eschwege",
        "Versorgungsanalyse Witzenhausen",
        "Telemedizin in der Hausarztpraxis",
    ];
    let mut ids = Vec::new();
    for (i, title) in titles.iter().enumerate() {
        let mut body = complete();
        body["title"] = json!(title);
        body["financingPlan"]["requestedCents"] = json!(1_000_000 * (i as i64 + 1));
        ids.push(create(&app, &m, &body).await["id"].as_str().unwrap().to_owned());
    }
    let r = ministry();
    ok(act(&app, &m, &ids[0], "withdraw", json!({"reason": "Doppelt"})).await).await;
    let get = |q: &str| {
        let app = &app;
        let r = r.clone();
        let q = q.to_owned();
        async move {
            app.get(&format!("/api/v1/applications?{q}"), Some(&r))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let titles_of = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        titles_of(&get("status=withdrawn").await),
        vec!["Gesundheitszentrum Eschwege"]
    );
    assert_eq!(get("status=draft,withdrawn&includeTotal=true").await["total"], 3);
    assert_eq!(titles_of(&get("sort=title").await)[0], "Gesundheitszentrum Eschwege");
    assert_eq!(
        titles_of(&get("sort=-requestedCents").await)[0],
        "Telemedizin in der Hausarztpraxis"
    );
    assert_eq!(
        titles_of(&get("sort=-createdAt").await)[0],
        "Telemedizin in der Hausarztpraxis"
    );
    // German stemming: the plural finds the singular.
    assert_eq!(
        titles_of(&get("q=Versorgungsanalysen").await),
        vec!["Versorgungsanalyse Witzenhausen"]
    );
    assert_eq!(
        titles_of(&get("q=Gesundheitszentrums").await),
        vec!["Gesundheitszentrum Eschwege"]
    );
    assert_eq!(get("fundingLine=MV&includeTotal=true").await["total"], 0);
    assert_eq!(get("district=06636&includeTotal=true").await["total"], 3);
    assert_eq!(
        get("updatedSince=2099-01-01T00:00:00Z&includeTotal=true").await["total"],
        0
    );
    assert_eq!(
        get("submittedFrom=2000-01-01T00:00:00Z&includeTotal=true").await["total"],
        0
    );
    for bad in [
        "status=granted",
        "sort=colour",
        "district=6636",
        "submittedFrom=yesterday",
        "organisation=abc",
    ] {
        problem(app.get(&format!("/api/v1/applications?{bad}"), Some(&r)).await, 400).await;
    }
}

#[actix_web::test]
async fn paging_loses_and_repeats_nothing_while_items_arrive() {
    let app = TestApp::spawn().await;
    let m = municipality();
    for i in 0..12 {
        let mut body = complete();
        body["title"] = json!(format!("Vorhaben Nummer {i:02}"));
        create(&app, &m, &body).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut inserted = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/applications?sort=createdAt&limit=5&cursor={c}"),
            None => "/api/v1/applications?sort=createdAt&limit=5".into(),
        };
        let page: Value = app.get(&path, Some(&m)).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["title"].as_str().unwrap().to_owned());
        }
        // New applications arrive between pages.
        if inserted < 3 {
            let mut body = complete();
            body["title"] = json!(format!("Nachzügler {inserted}"));
            create(&app, &m, &body).await;
            inserted += 1;
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no repeats: {seen:?}");
    for i in 0..12 {
        assert!(seen.contains(&format!("Vorhaben Nummer {i:02}")), "lost {i}");
    }
    // In ascending order, arrivals after the reader's position are delivered too.
    assert!(
        seen.contains(&"Nachzügler 0".to_owned()) && seen.contains(&"Nachzügler 1".to_owned()),
        "{seen:?}"
    );
}

#[actix_web::test]
async fn csv_export_has_every_row_and_escapes() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let mut tricky = complete();
    tricky["title"] = json!("=HYPERLINK(\"x\"), \"Zitat\", Komma");
    create(&app, &m, &tricky).await;
    for i in 0..3 {
        let mut body = complete();
        body["title"] = json!(format!("Vorhaben {i}"));
        create(&app, &m, &body).await;
    }
    let res = app
        .client
        .get(app.url("/api/v1/applications?sort=createdAt"))
        .bearer_auth(ministry())
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("id,organisationId,organisationName"));
    assert!(
        lines[1].contains(",\"'=HYPERLINK(\"\"x\"\"), \"\"Zitat\"\", Komma\","),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",draft,"));
    assert!(lines[1].contains(",22500000,"));
    // Filters apply to the export too.
    let res = app
        .client
        .get(app.url("/api/v1/applications?q=Zitat"))
        .bearer_auth(ministry())
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap().lines().count(), 2);
}

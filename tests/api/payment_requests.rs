//! Mittelabrufe: requested by the recipient against its issued notice, checked and approved by different ministry
//! people, paid; every rule refuses what it must, and concurrent approvals never overdraw a grant's fiscal year.

use crate::helpers::*;
use crate::instances::start_with;
use serde_json::{Value, json};

fn third_reviewer() -> String {
    sign(&json!({"sub": "test-ministry-3", "role": "ministry", "exp": now() + 3600, "iat": now()}))
}

/// A GK grant of 8,000,000 cents (4 M in 2027 and in 2028, 80 % of 10 M eligible costs, own funds 1 M) approved by
/// `ministry()`: the id of the notice the approval drafted.
pub(crate) async fn drafted_notice(app: &TestApp) -> String {
    let body = json!({
        "fundingLine": "GK", "title": "Gesundheitskoordination", "description": "Aufbau einer Gesundheitsstrategie.",
        "startDate": "2027-01-01", "endDate": "2028-12-31",
        "financingPlan": {"totalCostsCents": 10_000_000, "ownFundsCents": 1_000_000, "thirdPartyFundsCents": 0,
            "requestedCents": 9_000_000, "years": [{"year": 2027, "requestedCents": 4_500_000},
            {"year": 2028, "requestedCents": 4_500_000}]},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    });
    let res = app.post("/api/v1/applications", Some(&municipality()), &body).await;
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    for (action, token, body) in [
        ("submit", municipality(), json!({})),
        ("start-review", ministry(), json!({})),
        ("approve", ministry(), json!({"grantedCents": 8_000_000})),
    ] {
        let res = app
            .post(&format!("/api/v1/applications/{id}/{action}"), Some(&token), &body)
            .await;
        assert_eq!(res.status(), 200, "{action}");
    }
    let notice: Value = app
        .get(&format!("/api/v1/applications/{id}/grant-notice"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    notice["id"].as_str().unwrap().to_owned()
}

/// The grant of [`drafted_notice`] with its notice issued today by a second ministry person, and the
/// Werra-Meißner-Kreis's bank details on record. Returns the notice id.
pub(crate) async fn issued_notice(app: &TestApp, with_bank_account: bool) -> String {
    let notice = drafted_notice(app).await;
    let res = app
        .post(
            &format!("/api/v1/grant-notices/{notice}/issue"),
            Some(&second_reviewer()),
            &json!({"deliveredOn": today()}),
        )
        .await;
    assert_eq!(res.status(), 200);
    if with_bank_account {
        let res = app
            .client
            .put(app.url("/api/v1/organisations/06636/bank-account"))
            .bearer_auth(municipality())
            .header("If-Match", "\"0\"")
            .json(
                &json!({"iban": "DE89370400440532013000", "accountHolder": "Kreisausschuss des Werra-Meißner-Kreises"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    notice
}

/// 1,600,000 cents for expenses of 2,000,000 due in January 2027 (the grant's share is 80 %).
pub(crate) fn request() -> Value {
    json!({"amountCents": 1_600_000, "fiscalYear": 2027,
        "expenses": [{"description": "Personalkosten Januar", "amountCents": 2_000_000, "dueOn": "2027-01-15"}]})
}

pub(crate) async fn create(app: &TestApp, notice: &str, body: &Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/grant-notices/{notice}/payment-requests"),
        Some(&municipality()),
        body,
    )
    .await
}

pub(crate) async fn act(app: &TestApp, id: &str, action: &str, token: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/payment-requests/{id}/{action}"), Some(token), &body)
        .await
}

pub(crate) async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

pub(crate) async fn year(app: &TestApp, y: i64) -> Value {
    let years: Value = app
        .get("/api/v1/funding-lines/GK/years", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    years["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["year"] == y)
        .cloned()
        .unwrap()
}

#[actix_web::test]
async fn a_municipality_goes_from_its_notice_to_a_paid_instalment_under_four_eyes() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, true).await;
    let r = ok(create(&app, &notice, &request()).await, 201).await;
    assert_eq!(r["status"], "draft");
    assert_eq!(r["dueExpensesCents"], 2_000_000);
    let id = r["id"].as_str().unwrap().to_owned();
    ok(act(&app, &id, "submit", &municipality(), json!({})).await, 200).await;
    let checked = ok(act(&app, &id, "check", &ministry(), json!({})).await, 200).await;
    assert_eq!(checked["checkedBy"], "test-ministry");
    // Four eyes: who checked does not approve.
    let p = problem(act(&app, &id, "approve", &ministry(), json!({})).await, 409).await;
    assert_eq!(p["code"], "four_eyes");
    let approved = ok(act(&app, &id, "approve", &second_reviewer(), json!({})).await, 200).await;
    assert_eq!(
        (approved["status"].as_str(), approved["approvedBy"].as_str()),
        (Some("approved"), Some("test-ministry-2"))
    );
    problem(
        act(
            &app,
            &id,
            "pay",
            &municipality(),
            json!({"paidOn": today(), "cashReference": "HKR-1"}),
        )
        .await,
        403,
    )
    .await;
    let paid = ok(
        act(
            &app,
            &id,
            "pay",
            &ministry(),
            json!({"paidOn": today(), "cashReference": "HKR-2027-000123"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["cashReference"], "HKR-2027-000123");
    assert_eq!(year(&app, 2027).await["paidCents"], 1_600_000);
    let stats: Value = app
        .get(
            "/api/v1/statistics/funding?groupBy=fundingLine,district",
            Some(&ministry()),
        )
        .await
        .json()
        .await
        .unwrap();
    let gk = stats["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["fundingLine"] == "GK" && r["district"] == "06636");
    assert_eq!(gk.unwrap()["paidCents"], 1_600_000, "{stats}");
    assert_eq!(stats["total"]["paidCents"], 1_600_000);
    // The recipient sees it; another municipality does not.
    assert_eq!(
        app.get(&format!("/api/v1/payment-requests/{id}"), Some(&municipality()))
            .await
            .status(),
        200
    );
    let other = token("municipality", Some("06535"));
    assert_eq!(
        app.get(&format!("/api/v1/payment-requests/{id}"), Some(&other))
            .await
            .status(),
        404
    );
    let history: Value = app
        .get(&format!("/api/v1/payment-requests/{id}/history"), Some(&municipality()))
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
    assert_eq!(actions, vec!["create", "submit", "check", "approve", "pay"]);
    let csv = app.get_csv("/api/v1/payment-requests", Some(&ministry())).await;
    assert!(csv.contains(",paid,test-ministry,,test-ministry-2,"), "{csv}");
}

#[actix_web::test]
async fn each_rule_refuses_what_it_must() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, false).await;
    let refused = |body: Value, pointer: &'static str, code: &'static str| {
        let app = &app;
        let notice = notice.clone();
        async move {
            let r = ok(create(app, &notice, &body).await, 201).await;
            let id = r["id"].as_str().unwrap().to_owned();
            let p = problem(act(app, &id, "submit", &municipality(), json!({})).await, 422).await;
            assert_eq!(pointers(&p), vec![pointer], "{p}");
            assert_eq!(p["errors"][0]["code"], code);
            id
        }
    };
    let mut b = request();
    b["amountCents"] = json!(1_600_001);
    refused(b, "/amountCents", "exceeds_share").await;
    let mut b = request();
    b["amountCents"] = json!(2_000_001);
    refused(b, "/amountCents", "exceeds_due_expenses").await;
    let mut b = request();
    b["expenses"][0]["dueOn"] = json!("2030-01-01");
    refused(b, "/expenses/0/dueOn", "outside_payout_window").await;
    let mut b = request();
    b["fiscalYear"] = json!(2026);
    let id = refused(b, "/fiscalYear", "no_commitment_in_year").await;
    // The recipient corrects it with the submission.
    let r = ok(
        act(&app, &id, "submit", &municipality(), json!({"fiscalYear": 2027})).await,
        200,
    )
    .await;
    assert_eq!(
        (r["status"].as_str(), r["fiscalYear"].as_i64()),
        (Some("submitted"), Some(2027))
    );
    // Returned with a reason, resubmitted; cancelled before the check.
    ok(act(&app, &id, "check", &ministry(), json!({})).await, 200).await;
    problem(act(&app, &id, "return", &ministry(), json!({})).await, 422).await;
    let r = ok(
        act(
            &app,
            &id,
            "return",
            &ministry(),
            json!({"reason": "Bitte Belege nachreichen."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (r["status"].as_str(), r["checkedBy"].as_str()),
        (Some("returned"), None)
    );
    ok(act(&app, &id, "submit", &municipality(), json!({})).await, 200).await;
    ok(act(&app, &id, "check", &ministry(), json!({})).await, 200).await;
    // Without bank details no payment order.
    let p = problem(act(&app, &id, "approve", &second_reviewer(), json!({})).await, 409).await;
    assert_eq!(p["code"], "no_bank_account");
    let p = problem(act(&app, &id, "cancel", &municipality(), json!({})).await, 409).await;
    assert_eq!(p["code"], "invalid_transition");

    // A notice that is not issued yet takes no requests.
    let app2 = TestApp::spawn().await;
    let draft_notice = {
        let n = issued_notice(&app2, false).await;
        app2.db
            .execute(&format!(
                "UPDATE grant_notices SET status = 'draft', issued_by = NULL WHERE id = '{n}'"
            ))
            .await;
        n
    };
    let p = problem(
        app2.post(
            &format!("/api/v1/grant-notices/{draft_notice}/payment-requests"),
            Some(&ministry()),
            &request(),
        )
        .await,
        403,
    )
    .await;
    assert_eq!(p["status"], 403);
    // The municipality does not even see a draft notice.
    problem(create(&app2, &draft_notice, &request()).await, 404).await;
    // Where the line asks for a final notice, an issued one is not enough.
    app.db
        .execute("UPDATE funding_lines SET payments_require_final = true WHERE code = 'GK'")
        .await;
    let p = problem(create(&app, &notice, &request()).await, 409).await;
    assert_eq!(p["code"], "notice_not_issued");
}

#[actix_web::test]
async fn above_the_threshold_a_third_distinct_person_signs_off() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, true).await;
    // The line's setting, through the API.
    let line: Value = app
        .get("/api/v1/funding-lines/GK", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            line["payoutWindowMonths"].as_i64(),
            line["retentionBasisPoints"].as_i64()
        ),
        (Some(2), Some(0))
    );
    let tag = format!("\"{}\"", line["version"]);
    let res = app
        .patch(
            "/api/v1/funding-lines/GK",
            Some(&ministry()),
            Some(&tag),
            &json!({"thirdSignoffAboveCents": 1_000_000}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["thirdSignoffAboveCents"], 1_000_000);
    let id = ok(create(&app, &notice, &request()).await, 201).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(act(&app, &id, "submit", &municipality(), json!({})).await, 200).await;
    ok(act(&app, &id, "check", &ministry(), json!({})).await, 200).await;
    let first = ok(act(&app, &id, "approve", &second_reviewer(), json!({})).await, 200).await;
    assert_eq!(
        (first["status"].as_str(), first["firstApprovalBy"].as_str()),
        (Some("checked"), Some("test-ministry-2"))
    );
    assert_eq!(year(&app, 2027).await["paidCents"], 0);
    let p = problem(act(&app, &id, "approve", &second_reviewer(), json!({})).await, 409).await;
    assert_eq!(p["code"], "four_eyes");
    let p = problem(act(&app, &id, "approve", &ministry(), json!({})).await, 409).await;
    assert_eq!(p["code"], "four_eyes");
    let done = ok(act(&app, &id, "approve", &third_reviewer(), json!({})).await, 200).await;
    assert_eq!(
        (done["status"].as_str(), done["approvedBy"].as_str()),
        (Some("approved"), Some("test-ministry-3"))
    );
}

#[actix_web::test]
async fn fifty_approvals_racing_on_two_instances_never_overdraw_a_grants_year() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, true).await;
    // 50 checked requests of 1,000,000 cents each against 2027, whose commitment is 4,000,000.
    app.db
        .execute(&format!(
            "INSERT INTO payment_requests (id, notice_id, application_id, organisation_id, district_ags,
                 funding_line_code, fiscal_year, amount_cents, expenses, status, checked_by, created_by)
             SELECT gen_random_uuid(), n.id, n.application_id, n.organisation_id, n.district_ags, n.funding_line_code,
                 2027, 1000000,
                 '[{{\"description\": \"Personalkosten\", \"amountCents\": 1250000, \"dueOn\": \"2027-01-15\"}}]',
                 'checked', 'test-checker', 'test-municipality'
             FROM grant_notices n, generate_series(1, 50) WHERE n.id = '{notice}'"
        ))
        .await;
    let env = [("RUST_LOG", "error")];
    let (a, b) = futures_util::join!(
        start_with(&app.db.url, free_port(), &env),
        start_with(&app.db.url, free_port(), &env)
    );
    let list: Value = app
        .get("/api/v1/payment-requests?status=checked&limit=50", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 50);
    let client = reqwest::Client::new();
    let token = second_reviewer();
    let approvals = ids.iter().enumerate().map(|(i, id)| {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        client
            .post(format!("{base}/api/v1/payment-requests/{id}/approve"))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
    });
    let mut approved = 0;
    let mut refused = 0;
    for res in futures_util::future::join_all(approvals).await {
        let res = res.unwrap();
        match res.status().as_u16() {
            200 => approved += 1,
            409 => {
                let p: Value = res.json().await.unwrap();
                assert_eq!(p["code"], "exceeds_commitment", "{p}");
                assert_eq!(p["year"], 2027);
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!((approved, refused), (4, 46));
    let mut conn = app.db.conn().await;
    #[derive(diesel::QueryableByName)]
    struct Sum {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        approved: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        requests: i64,
    }
    let sum = diesel::sql_query(
        "SELECT g.approved_cents AS approved,
                (SELECT coalesce(sum(amount_cents), 0)::bigint FROM payment_requests WHERE status = 'approved') AS requests
         FROM grant_years g WHERE g.year = 2027",
    );
    let sum: Sum = diesel_async::RunQueryDsl::get_result(sum, &mut conn).await.unwrap();
    assert_eq!((sum.approved, sum.requests), (4_000_000, 4_000_000));
}

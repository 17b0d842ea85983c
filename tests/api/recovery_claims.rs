//! Rückforderung: an overpayment found by the settlement is reclaimed after a hearing, decided under four eyes,
//! with interest at 5 points above the base rate computed day by day across a change of the base rate.

use crate::helpers::*;
use crate::payment_requests::{act as pay, create, issued_notice, ok, request};
use crate::settlements::accepted_final_proof;
use serde_json::{Value, json};

/// The recipient's repayment duties in /obligations.
async fn repay(app: &TestApp) -> Value {
    let path = "/api/v1/obligations?duty=recovery_claim.repay";
    let list: Value = app.get(path, Some(&municipality())).await.json().await.unwrap();
    list["items"].clone()
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.post(path, Some(token), &body).await
}

#[actix_web::test]
async fn an_overpayment_is_reclaimed_after_a_hearing_with_interest_across_a_base_rate_change() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, true).await;
    // 1,600,000 paid; the final proof admits only 1,000,000: 80 % of it is due, 800,000 were overpaid.
    let r = ok(create(&app, &notice, &request()).await, 201).await;
    let r = r["id"].as_str().unwrap().to_owned();
    ok(pay(&app, &r, "submit", &municipality(), json!({})).await, 200).await;
    ok(pay(&app, &r, "check", &ministry(), json!({})).await, 200).await;
    ok(pay(&app, &r, "approve", &second_reviewer(), json!({})).await, 200).await;
    ok(
        pay(
            &app,
            &r,
            "pay",
            &ministry(),
            json!({"paidOn": today(), "cashReference": "HKR-1"}),
        )
        .await,
        200,
    )
    .await;
    accepted_final_proof(&app, 1_000_000).await;
    let s = ok(
        post(
            &app,
            &format!("/api/v1/grant-notices/{notice}/settlement"),
            &ministry(),
            json!({}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (&s["dueCents"], &s["overpaidCents"]),
        (&json!(800_000), &json!(800_000))
    );
    let settlement = s["id"].as_str().unwrap().to_owned();
    let claim_path = format!("/api/v1/settlements/{settlement}/recovery-claim");
    // Before the settlement is confirmed nothing is reclaimed; the recipient never raises a claim.
    assert_eq!(
        problem(post(&app, &claim_path, &ministry(), json!({})).await, 409).await["code"],
        "nothing_overpaid"
    );
    ok(
        post(
            &app,
            &format!("/api/v1/settlements/{settlement}/confirm"),
            &second_reviewer(),
            json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(post(&app, &claim_path, &municipality(), json!({})).await.status(), 403);

    // Interest runs from 2025-05-01 (the day the notice's effect ended, for this test).
    let c = ok(
        post(&app, &claim_path, &ministry(), json!({"interestFrom": "2025-05-01"})).await,
        201,
    )
    .await;
    assert_eq!(
        (&c["status"], &c["principalCents"]),
        (&json!("hearing"), &json!(800_000))
    );
    let id = c["id"].as_str().unwrap().to_owned();
    let act = |action: &'static str, token: String, body: Value| {
        let app = &app;
        let id = id.clone();
        async move { post(app, &format!("/api/v1/recovery-claims/{id}/{action}"), &token, body).await }
    };
    // The hearing is the recipient's duty until it answers; the claim is not decided while it runs unanswered.
    let duties: Value = app
        .get("/api/v1/obligations?duty=recovery_claim.hearing", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(duties["items"][0]["resourceId"], id.as_str());
    assert_eq!(
        problem(act("decide", second_reviewer(), json!({})).await, 409).await["code"],
        "hearing_open"
    );
    let answered = ok(
        act(
            "respond",
            municipality(),
            json!({"answer": "Die Stelle war ein Jahr unbesetzt."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answered["status"], "hearing");
    let duties: Value = app
        .get("/api/v1/obligations?duty=recovery_claim.hearing", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(duties["items"], json!([]));
    // Four eyes: who raised the claim does not decide it.
    assert_eq!(
        problem(act("decide", ministry(), json!({})).await, 409).await["code"],
        "four_eyes"
    );
    ok(act("decide", second_reviewer(), json!({})).await, 200).await;
    // Decided: the recipient repays within a month of the decision (a duty in /obligations until it is recorded).
    let due = repay(&app).await;
    assert_eq!(
        (&due[0]["resourceId"], &due[0]["dueOn"]),
        (&json!(id), &json!("2026-12-27"))
    );

    // Open interest runs to today on the base-rate table as it stands: the ministry corrects the rate of the
    // half-year from 2026-07-01 (with its source) and the claim's last period follows at once.
    let last_base = |c: &Value| c["interestPeriods"].as_array().unwrap().last().unwrap()["baseRateBasisPoints"].clone();
    let open: Value = app
        .get(&format!("/api/v1/recovery-claims/{id}"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last_base(&open), json!(152), "{open}");
    let body = json!({"rateBasisPoints": 177, "source": "Deutsche Bundesbank, Berichtigung"});
    assert_eq!(
        app.put("/api/v1/base-rates/2026-07-01", Some(&municipality()), &body)
            .await
            .status(),
        403
    );
    let set = ok(
        app.put("/api/v1/base-rates/2026-07-01", Some(&ministry()), &body).await,
        200,
    )
    .await;
    assert_eq!((&set["rateBasisPoints"], &set["version"]), (&json!(177), &json!(2)));
    let corrected: Value = app
        .get(&format!("/api/v1/recovery-claims/{id}"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last_base(&corrected), json!(177));
    assert!(corrected["interestCents"].as_i64().unwrap() > open["interestCents"].as_i64().unwrap());

    // Repaid on 2025-09-01: interest for 2025-05-01 to 2025-08-31 at 5 points above the base rate, which fell from
    // 2.27 % to 1.27 % on 2025-07-01:
    //   800,000 × 7.27 % × 61/365 = 9,719.89 → 9,720;  800,000 × 6.27 % × 62/365 = 8,520.33 → 8,520.
    let paid = ok(
        act("record-payment", ministry(), json!({"paidOn": "2025-09-01"})).await,
        200,
    )
    .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(repay(&app).await, json!([]), "repaid: no longer a duty");
    assert_eq!(
        paid["interestPeriods"],
        json!([
            {"from": "2025-05-01", "until": "2025-06-30", "days": 61, "baseRateBasisPoints": 227, "rateBasisPoints": 727, "interestCents": 9720},
            {"from": "2025-07-01", "until": "2025-08-31", "days": 62, "baseRateBasisPoints": 127, "rateBasisPoints": 627, "interestCents": 8520}
        ])
    );
    assert_eq!(
        (&paid["interestCents"], &paid["totalCents"]),
        (&json!(18_240), &json!(818_240))
    );
    assert_eq!(paid["allowedActions"], json!([]));
    // The recipient reads its claim; another municipality does not see it.
    assert_eq!(
        app.get(&format!("/api/v1/recovery-claims/{id}"), Some(&municipality()))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/recovery-claims/{id}"),
            Some(&token("municipality", Some("06535")))
        )
        .await
        .status(),
        404
    );
    // The statistics: what was paid, admitted, reclaimed and charged as interest.
    let stats: Value = app
        .get(
            "/api/v1/statistics/funding?groupBy=fundingLine&status=approved",
            Some(&ministry()),
        )
        .await
        .json()
        .await
        .unwrap();
    let t = &stats["total"];
    assert_eq!(
        (
            &t["paidCents"],
            &t["admittedCents"],
            &t["reclaimedCents"],
            &t["interestCents"]
        ),
        (&json!(1_600_000), &json!(1_000_000), &json!(800_000), &json!(18_240)),
        "{stats}"
    );
    let history: Value = app
        .get(&format!("/api/v1/recovery-claims/{id}/history"), Some(&municipality()))
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
    assert_eq!(actions, vec!["create", "respond", "decide", "record-payment"]);
}

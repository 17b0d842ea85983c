//! Schlussabrechnung: proposed from the accepted final proof of use, confirmed by another ministry person; the notice
//! closes and the unused commitment goes back to the line's fiscal years.

use crate::helpers::*;
use crate::payment_requests::{act as pay, create, issued_notice, ok, request, year};
use crate::proofs_of_use::{act, patch, proofs};
use serde_json::{Value, json};

/// The final proof of the only grant, written with `expenditure` in one receipt and own funds of 1,000,000, submitted,
/// and accepted with the receipt admitted in full.
pub(crate) async fn accepted_final_proof(app: &TestApp, expenditure: i64) -> Value {
    let p = proofs(app, &municipality())
        .await
        .into_iter()
        .find(|p| p["kind"] == "final")
        .unwrap();
    let body = json!({
        "report": {"activities": "Stelle besetzt.", "results": "Gesundheitsstrategie beschlossen."},
        "income": {"ownFundsCents": 1_000_000, "thirdPartyFundsCents": 0, "grantCents": 7_200_000},
        "receipts": [{"paidOn": "2028-12-31", "payee": "Personal", "reason": "Personalkosten 2027–2028",
                      "amountCents": expenditure}]
    });
    let p = ok(patch(app, &p, body).await, 200).await;
    let p = ok(act(app, &p, "submit", &municipality(), json!({})).await, 200).await;
    let p = ok(act(app, &p, "start-review", &ministry(), json!({})).await, 200).await;
    let p = ok(act(app, &p, "sign-content", &ministry(), json!({})).await, 200).await;
    let admissions = json!({"admissions": [{"index": 0, "admittedCents": expenditure}]});
    ok(
        act(app, &p, "sign-financial", &second_reviewer(), admissions).await,
        200,
    )
    .await
}

#[actix_web::test]
async fn a_grant_is_settled_from_its_proofs_and_gives_back_what_it_does_not_need() {
    let app = TestApp::spawn().await;
    // 8,000,000 granted: 80 % of 10,000,000 eligible costs, own funds 1,000,000; 4,000,000 in 2027 and in 2028.
    let notice = issued_notice(&app, true).await;
    // 1,600,000 paid out in 2027.
    let r = ok(create(&app, &notice, &request()).await, 201).await;
    let r = r["id"].as_str().unwrap().to_owned();
    ok(pay(&app, &r, "submit", &municipality(), json!({})).await, 200).await;
    ok(pay(&app, &r, "check", &ministry(), json!({})).await, 200).await;
    ok(pay(&app, &r, "approve", &second_reviewer(), json!({})).await, 200).await;
    let paid = json!({"paidOn": today(), "cashReference": "HKR-2027-000123"});
    ok(pay(&app, &r, "pay", &ministry(), paid).await, 200).await;

    let settle = |token: String| {
        let app = &app;
        let notice = notice.clone();
        async move {
            app.post(
                &format!("/api/v1/grant-notices/{notice}/settlement"),
                Some(&token),
                &json!({}),
            )
            .await
        }
    };
    let p = problem(settle(ministry()).await, 409).await;
    assert_eq!(p["code"], "final_proof_not_accepted");
    assert_eq!(settle(municipality()).await.status(), 403);

    // 9,000,000 spent and admitted, own funds as planned: the grant shrinks to 80 % of 9,000,000 = 7,200,000.
    accepted_final_proof(&app, 9_000_000).await;
    let s = ok(settle(ministry()).await, 201).await;
    assert_eq!(
        (
            &s["status"],
            &s["eligibleCents"],
            &s["dueCents"],
            &s["reductionCents"],
            &s["reason"]
        ),
        (
            &json!("proposed"),
            &json!(9_000_000),
            &json!(7_200_000),
            &json!(800_000),
            &json!("lower_expenditure")
        )
    );
    assert_eq!(
        (&s["paidCents"], &s["outstandingCents"], &s["overpaidCents"]),
        (&json!(1_600_000), &json!(5_600_000), &json!(0))
    );
    assert_eq!(
        (&s["plannedOtherIncomeCents"], &s["actualOtherIncomeCents"]),
        (&json!(1_000_000), &json!(1_000_000))
    );
    assert_eq!(problem(settle(ministry()).await, 409).await["code"], "already_exists");

    // Four eyes: the proposer does not confirm.
    let id = s["id"].as_str().unwrap().to_owned();
    let confirm = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            app.post(&format!("/api/v1/settlements/{id}/confirm"), Some(&token), &json!({}))
                .await
        }
    };
    assert_eq!(problem(confirm(ministry()).await, 409).await["code"], "four_eyes");
    let before = (year(&app, 2027).await, year(&app, 2028).await);
    let s = ok(confirm(second_reviewer()).await, 200).await;
    assert_eq!(
        (&s["status"], &s["releasedCents"]),
        (&json!("confirmed"), &json!(800_000))
    );

    // 7,200,000 stay committed (4,000,000 in 2027, of which 1,600,000 paid; 3,200,000 in 2028); 800,000 go back.
    assert_eq!(year(&app, 2027).await["committedCents"], before.0["committedCents"]);
    assert_eq!(
        year(&app, 2028).await["committedCents"].as_i64().unwrap(),
        before.1["committedCents"].as_i64().unwrap() - 800_000
    );
    let n: Value = app
        .get(&format!("/api/v1/grant-notices/{notice}"), Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(n["status"], "closed");

    // Aufbewahrungsfrist: the grant's files (here the notice's letter) are kept ten years from the settlement, files
    // added later as long; none is deleted before, not even behind the API's back (a trigger refuses, SQLSTATE
    // 23001).
    let files: Value = app
        .get(
            &format!("/api/v1/grant-notices/{notice}/attachments"),
            Some(&ministry()),
        )
        .await
        .json()
        .await
        .unwrap();
    let letter = &files["items"][0];
    assert_eq!(letter["retainUntil"], "2036-11-27");
    let later = app
        .client
        .post(app.url(&format!(
            "/api/v1/grant-notices/{notice}/attachments?category=anlage&fileName=Vermerk.txt"
        )))
        .bearer_auth(ministry())
        .header("Content-Type", "text/plain")
        .body("Vermerk zur Schlussabrechnung.")
        .send()
        .await
        .unwrap();
    assert_eq!(ok(later, 201).await["retainUntil"], "2036-11-27");
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/attachments/{}", letter["id"].as_str().unwrap())))
        .bearer_auth(second_reviewer())
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["code"], "retained");
    let mut conn = app.db.conn().await;
    let refused = diesel_async::RunQueryDsl::execute(
        diesel::sql_query("DELETE FROM attachments WHERE retain_until IS NOT NULL"),
        &mut conn,
    )
    .await;
    match refused {
        Err(diesel::result::Error::DatabaseError(_, info)) => {
            assert_eq!(
                info.message(),
                format!("attachment {} is kept until 2036-11-27", letter["id"].as_str().unwrap())
            )
        }
        other => panic!("the trigger must refuse: {other:?}"),
    }
    assert_eq!(app.db_count("attachments").await, 2);

    // The outstanding amount is requested under the closed notice, but not beyond the settled commitment of a year.
    let more = json!({"amountCents": 3_200_001, "fiscalYear": 2028,
        "expenses": [{"description": "Restzahlung", "amountCents": 4_000_002, "dueOn": today()}]});
    let r = ok(create(&app, &notice, &more).await, 201).await;
    let r = r["id"].as_str().unwrap().to_owned();
    ok(pay(&app, &r, "submit", &municipality(), json!({})).await, 200).await;
    ok(pay(&app, &r, "check", &ministry(), json!({})).await, 200).await;
    let p = problem(pay(&app, &r, "approve", &second_reviewer(), json!({})).await, 409).await;
    assert_eq!(
        (&p["code"], &p["remainingCents"]),
        (&json!("exceeds_commitment"), &json!(3_200_000))
    );

    let history: Value = app
        .get(&format!("/api/v1/settlements/{id}/history"), Some(&municipality()))
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
    assert_eq!(actions, vec!["create", "confirm"]);
}

/// A GK application for 2028 alone, requesting 400,000 cents, brought to review; returns its id.
async fn in_review_for_2028(app: &TestApp, n: usize) -> String {
    let body = json!({
        "fundingLine": "GK", "title": format!("Gesundheitskoordination, Vorhaben {n}"),
        "description": "Aufbau einer Gesundheitsstrategie.", "startDate": "2028-01-01", "endDate": "2028-12-31",
        "financingPlan": {"totalCostsCents": 500_000, "ownFundsCents": 100_000, "thirdPartyFundsCents": 0,
            "requestedCents": 400_000},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    });
    let a = ok(
        app.post("/api/v1/applications", Some(&municipality()), &body).await,
        201,
    )
    .await;
    let id = a["id"].as_str().unwrap().to_owned();
    ok(
        app.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&municipality()),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    ok(
        app.post(
            &format!("/api/v1/applications/{id}/start-review"),
            Some(&ministry()),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    id
}

#[actix_web::test]
async fn a_settlement_releasing_a_year_races_approvals_for_it_on_two_instances() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, true).await;
    // The settlement will release 800,000 of 2028 (8,000,000 granted, 7,200,000 due, nothing paid in 2028).
    accepted_final_proof(&app, 9_000_000).await;
    let s = ok(
        app.post(
            &format!("/api/v1/grant-notices/{notice}/settlement"),
            Some(&ministry()),
            &json!({}),
        )
        .await,
        201,
    )
    .await;
    let settlement = s["id"].as_str().unwrap().to_owned();
    // Ten applications compete for 2028, whose budget is exactly what is committed: only the release makes room.
    let mut waiting = Vec::new();
    for n in 0..10 {
        waiting.push(in_review_for_2028(&app, n).await);
    }
    let committed = year(&app, 2028).await["committedCents"].as_i64().unwrap();
    let res = app
        .client
        .put(app.url("/api/v1/funding-lines/GK/years/2028"))
        .bearer_auth(ministry())
        .json(&json!({"budgetCents": committed}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let env = [("RUST_LOG", "error")];
    let (a, b) = futures_util::join!(
        crate::instances::start_with(&app.db.url, free_port(), &env),
        crate::instances::start_with(&app.db.url, free_port(), &env)
    );
    let client = reqwest::Client::new();
    let approve = |i: usize, id: &String| {
        let base = if i.is_multiple_of(2) { &a.base } else { &b.base };
        client
            .post(format!("{base}/api/v1/applications/{id}/approve"))
            .bearer_auth(ministry())
            .json(&json!({"grantedCents": 400_000}))
            .send()
    };
    let confirm = client
        .post(format!("{}/api/v1/settlements/{settlement}/confirm", a.base))
        .bearer_auth(second_reviewer())
        .json(&json!({}))
        .send();
    let (confirmed, results) = futures_util::join!(
        confirm,
        futures_util::future::join_all(waiting.iter().enumerate().map(|(i, id)| approve(i, id)))
    );
    assert_eq!(confirmed.unwrap().status(), 200);
    let mut approved = 0;
    let mut refused = Vec::new();
    for (res, id) in results.into_iter().zip(&waiting) {
        let res = res.unwrap();
        match res.status().as_u16() {
            200 => approved += 1,
            409 => {
                let p: Value = res.json().await.unwrap();
                assert_eq!(
                    (&p["code"], &p["year"]),
                    (&json!("year_budget_exceeded"), &json!(2028)),
                    "{p}"
                );
                refused.push(id.clone());
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    // Whatever the order, the release made room for exactly two: the ones refused before it now try again.
    for (i, id) in refused.iter().enumerate() {
        if approve(i, id).await.unwrap().status() == 200 {
            approved += 1;
        }
    }
    assert_eq!(approved, 2, "800,000 released = two grants of 400,000");
    let y = year(&app, 2028).await;
    assert_eq!(y["committedCents"], y["budgetCents"]);
    #[derive(diesel::QueryableByName)]
    struct Totals {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        line_year: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        grants: i64,
    }
    let mut conn = app.db.conn().await;
    let totals: Totals = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT (SELECT committed_cents FROM funding_line_years WHERE funding_line_code = 'GK' AND year = 2028) AS line_year,
                    (SELECT coalesce(sum(committed_cents), 0)::bigint FROM grant_years
                     WHERE funding_line_code = 'GK' AND year = 2028) AS grants",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(
        totals.line_year, totals.grants,
        "the line's year is the sum of its grants' years"
    );
}

/// § 49a Abs. 4 HVwVfG: money paid out and used only after the payout window (two months) bears interest from the
/// payout to the use; a settlement that finds nothing overpaid still charges it through a recovery claim.
#[actix_web::test]
async fn money_used_after_the_payout_window_bears_interest_from_the_payout_to_the_use() {
    let app = TestApp::spawn().await;
    // 8,000,000 of 10,000,000 eligible costs: the grant's share of each euro spent is 80 %.
    let notice = issued_notice(&app, true).await;
    let r = ok(create(&app, &notice, &request()).await, 201).await;
    let r = r["id"].as_str().unwrap().to_owned();
    ok(pay(&app, &r, "submit", &municipality(), json!({})).await, 200).await;
    ok(pay(&app, &r, "check", &ministry(), json!({})).await, 200).await;
    ok(pay(&app, &r, "approve", &second_reviewer(), json!({})).await, 200).await;
    let paid = json!({"paidOn": today(), "cashReference": "HKR-2026-000001"});
    ok(pay(&app, &r, "pay", &ministry(), paid).await, 200).await;
    // The calendar is pinned: the payout is dated back to 2026-01-02, as if it had happened then.
    app.db
        .execute(&format!(
            "UPDATE payment_requests SET paid_on = '2026-01-02' WHERE id = '{r}'"
        ))
        .await;
    // Spent: 1,000,000 on 2026-02-20 (within the window, which ends 2026-03-02) and 1,000,000 on 2026-05-15.
    let p = proofs(&app, &municipality())
        .await
        .into_iter()
        .find(|p| p["kind"] == "final")
        .unwrap();
    let body = json!({
        "report": {"activities": "Stelle besetzt.", "results": "Gesundheitsstrategie beschlossen."},
        "income": {"ownFundsCents": 400_000, "thirdPartyFundsCents": 0, "grantCents": 1_600_000},
        "receipts": [
            {"paidOn": "2026-02-20", "payee": "Personal", "reason": "Gehalt Februar", "amountCents": 1_000_000},
            {"paidOn": "2026-05-15", "payee": "Personal", "reason": "Gehalt Mai", "amountCents": 1_000_000}]
    });
    let p = ok(patch(&app, &p, body).await, 200).await;
    let p = ok(act(&app, &p, "submit", &municipality(), json!({})).await, 200).await;
    let p = ok(act(&app, &p, "start-review", &ministry(), json!({})).await, 200).await;
    let p = ok(act(&app, &p, "sign-content", &ministry(), json!({})).await, 200).await;
    let admissions = json!({"admissions": [{"index": 0, "admittedCents": 1_000_000},
        {"index": 1, "admittedCents": 1_000_000}]});
    ok(
        act(&app, &p, "sign-financial", &second_reviewer(), admissions).await,
        200,
    )
    .await;

    let s = ok(
        app.post(
            &format!("/api/v1/grant-notices/{notice}/settlement"),
            Some(&ministry()),
            &json!({}),
        )
        .await,
        201,
    )
    .await;
    // 80 % of 2,000,000 is due, as much as was paid: nothing overpaid. The grant's share of the first receipt
    // (800,000) was used in the window; of the second (800,000) on 2026-05-15: 133 days from the payout at 6.27 %
    // (base rate 1.27 % + 5): 800,000 × 6.27 % × 133 / 365 = 18,277.48 → 18,277.
    assert_eq!((&s["dueCents"], &s["overpaidCents"]), (&json!(1_600_000), &json!(0)));
    assert_eq!(
        s["lateUse"],
        json!([{"paidOn": "2026-01-02", "usedOn": "2026-05-15", "cents": 800_000, "interestCents": 18_277,
            "interestPeriods": [{"from": "2026-01-02", "until": "2026-05-14", "days": 133, "baseRateBasisPoints": 127,
                "rateBasisPoints": 627, "interestCents": 18_277}]}])
    );
    assert_eq!(s["lateUseInterestCents"], 18_277);
    let id = s["id"].as_str().unwrap().to_owned();
    ok(
        app.post(
            &format!("/api/v1/settlements/{id}/confirm"),
            Some(&second_reviewer()),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    // The claim charges the late-use interest alone.
    let c = ok(
        app.post(
            &format!("/api/v1/settlements/{id}/recovery-claim"),
            Some(&ministry()),
            &json!({}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (
            &c["principalCents"],
            &c["interestCents"],
            &c["lateUseInterestCents"],
            &c["totalCents"]
        ),
        (&json!(0), &json!(0), &json!(18_277), &json!(18_277))
    );
}

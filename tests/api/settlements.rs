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

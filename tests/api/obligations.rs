//! Fristen als Daten: every open duty in `/obligations` for the caller's scope, and reminders through the feed once
//! per stage, driven by an explicit "today" (no sleeps, no waiting for real dates).

use crate::helpers::*;
use crate::payment_requests::{act as pay, create, issued_notice, ok, request};
use crate::proofs_of_use::proofs;
use chrono::NaiveDate;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn duties(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let page: Value = app
        .get(&format!("/api/v1/obligations?{query}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap_or_else(|| panic!("{page}")).clone()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The reminder events of one resource in the caller's feed, as (type, stage due date).
async fn reminders(app: &TestApp, token: &str, resource: &str) -> Vec<String> {
    let feed: Value = app
        .get("/api/v1/events?limit=500", Some(token))
        .await
        .json()
        .await
        .unwrap();
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resourceKind"] == "obligation" && e["resourceId"] == resource)
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn every_open_duty_is_listed_with_its_due_date_for_the_callers_scope() {
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, true).await;
    let mine = duties(&app, &municipality(), "").await;
    let mut listed: Vec<(&str, &str)> = mine
        .iter()
        .map(|d| (d["duty"].as_str().unwrap(), d["dueOn"].as_str().unwrap()))
        .collect();
    listed.sort();
    let n: Value = app
        .get(&format!("/api/v1/grant-notices/{notice}"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let last_day_to_object = (day(n["finalOn"].as_str().unwrap()) - chrono::Days::new(1)).to_string();
    assert_eq!(
        listed,
        vec![
            ("grant_notice.objection_period", last_day_to_object.as_str()),
            ("proof_of_use.submit", "2028-04-30"),
            ("proof_of_use.submit", "2029-06-30"),
        ]
    );
    let objection = mine
        .iter()
        .find(|d| d["duty"] == "grant_notice.objection_period")
        .unwrap();
    assert_eq!(objection["href"], format!("/api/v1/grant-notices/{notice}"));
    assert_eq!(
        objection["state"], "open",
        "a month ahead is beyond the 14-day lead: {objection}"
    );
    assert!(duties(&app, &token("municipality", Some("06535")), "").await.is_empty());

    // A submitted payment request is the ministry's duty, due when its first expense falls due (2027-01-15).
    let r = ok(create(&app, &notice, &request()).await, 201).await;
    let r = r["id"].as_str().unwrap().to_owned();
    ok(pay(&app, &r, "submit", &municipality(), json!({})).await, 200).await;
    let ministry_duties = duties(&app, &ministry(), "party=ministry").await;
    assert_eq!(ministry_duties.len(), 1);
    assert_eq!(
        (
            &ministry_duties[0]["duty"],
            &ministry_duties[0]["dueOn"],
            &ministry_duties[0]["resourceId"]
        ),
        (&json!("payment_request.sign_off"), &json!("2027-01-15"), &json!(r))
    );
    // Filters: due before, and soonest first across pages.
    let early = duties(&app, &ministry(), "dueBefore=2028-05-01").await;
    assert!(
        early.iter().all(|d| d["dueOn"].as_str().unwrap() <= "2028-05-01"),
        "{early:?}"
    );
    let first: Value = app
        .get("/api/v1/obligations?limit=2", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = app
        .get(
            &format!("/api/v1/obligations?limit=2&cursor={cursor}"),
            Some(&ministry()),
        )
        .await
        .json()
        .await
        .unwrap();
    let dates: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|d| d["dueOn"].as_str().unwrap())
        .collect();
    assert_eq!(dates.len(), 4);
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
    let csv = app
        .get_csv("/api/v1/obligations?duty=proof_of_use.submit", Some(&municipality()))
        .await;
    assert_eq!(csv_records(&csv).len(), 3, "{csv}");
    // Signed off: no longer a duty.
    ok(pay(&app, &r, "check", &ministry(), json!({})).await, 200).await;
    ok(pay(&app, &r, "approve", &second_reviewer(), json!({})).await, 200).await;
    assert!(duties(&app, &ministry(), "party=ministry").await.is_empty());
}

#[actix_web::test]
async fn reminders_are_sent_once_per_stage_as_the_days_pass() {
    let app = TestApp::spawn().await;
    issued_notice(&app, false).await;
    let interim = proofs(&app, &municipality())
        .await
        .into_iter()
        .find(|p| p["kind"] == "interim")
        .unwrap();
    let interim = interim["id"].as_str().unwrap().to_owned();
    let mut conn = app.db.conn().await;
    let leads = [14, 3];
    // The interim proof is due on 2028-04-30.
    let mut sent_for = async |today: &str| {
        versorgung::obligations::remind(&mut conn, day(today), &leads)
            .await
            .unwrap()
    };
    sent_for("2028-04-01").await;
    assert!(
        reminders(&app, &municipality(), &interim).await.is_empty(),
        "29 days ahead: nothing yet"
    );
    sent_for("2028-04-20").await;
    assert_eq!(
        reminders(&app, &municipality(), &interim).await,
        vec!["obligation.due_soon"]
    );
    assert_eq!(sent_for("2028-04-21").await, 0, "the same stage is not sent again");
    sent_for("2028-04-28").await;
    sent_for("2028-04-30").await;
    sent_for("2028-05-01").await;
    sent_for("2028-05-02").await;
    assert_eq!(
        reminders(&app, &municipality(), &interim).await,
        vec!["obligation.due_soon", "obligation.due_soon", "obligation.overdue"]
    );
    // Another municipality's feed has none of them.
    assert!(
        reminders(&app, &token("municipality", Some("06535")), &interim)
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn two_instances_reminding_at_once_send_each_stage_once() {
    let app = TestApp::spawn().await;
    issued_notice(&app, false).await;
    let (mut a, mut b) = (app.db.conn().await, app.db.conn().await);
    let today = day("2029-07-01");
    let (x, y) = tokio::join!(
        versorgung::obligations::remind(&mut a, today, &[14, 3]),
        versorgung::obligations::remind(&mut b, today, &[14, 3])
    );
    // Both proofs are overdue by then (and the objection period long over): two reminders in all.
    let sent = x.unwrap() + y.unwrap();
    let again = versorgung::obligations::remind(&mut a, today, &[14, 3]).await.unwrap();
    assert_eq!((sent, again), (2, 0));
    // A round worked off one duty per transaction goes on until every due stage is sent, and sends each once: with a
    // second notice, two objection periods fall within 60 days of 2026-12-20.
    issued_notice(&app, false).await;
    let expected = duties(&app, &ministry(), "dueBefore=2027-02-18&limit=200")
        .await
        .iter()
        .filter(|d| d["dueOn"].as_str().unwrap() >= "2026-12-20")
        .count();
    assert_eq!(expected, 2);
    let soon = day("2026-12-20");
    let sent = versorgung::obligations::remind_in_batches(&mut a, soon, &[60], 1)
        .await
        .unwrap();
    let again = versorgung::obligations::remind_in_batches(&mut a, soon, &[60], 1)
        .await
        .unwrap();
    let feed: Value = app
        .get("/api/v1/events?limit=500", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let announced = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "obligation.due_soon")
        .count();
    assert_eq!((sent, again, announced), (expected, 0, expected));
}

#[actix_web::test]
async fn the_reminder_job_runs_in_the_background() {
    // Lead times wide enough that the objection period (about a month ahead) is due soon today.
    let app = TestApp::spawn_with(|a| {
        a.reminders.reminder_lead_days = vec![60];
        a.reminders.reminder_interval = Duration::from_millis(50);
    })
    .await;
    let notice = issued_notice(&app, false).await;
    let start = Instant::now();
    while reminders(&app, &municipality(), &notice).await.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no reminder from the background job"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        reminders(&app, &municipality(), &notice).await,
        vec!["obligation.due_soon"]
    );
}

/// Every page of `/obligations` for `query`, `limit` at a time, as (duty, resource, due date).
async fn all_pages(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page: Value = app
            .get(
                &format!("/api/v1/obligations?limit={limit}&{query}{after}"),
                Some(token),
            )
            .await
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap_or_else(|| panic!("{query}: {page}"));
        assert!(items.len() <= limit, "{page}");
        out.extend(items.iter().map(|d| {
            let field = |k: &str| d[k].as_str().unwrap().to_owned();
            (field("duty"), field("resourceId"), field("dueOn"))
        }));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
        assert!(out.len() < 1000, "paging does not end: {query}");
    }
}

#[actix_web::test]
async fn pages_merge_the_duties_in_the_unions_order_under_every_filter() {
    // Duties of three kinds on three tables, with dates that tie across kinds and some already past: the service
    // reads each duty's view by its own index and merges the pages, so every cut between pages is tested here
    // against the union view read whole.
    let app = TestApp::spawn().await;
    let notice = issued_notice(&app, true).await;
    for due in ["2027-01-15", "2027-01-20", "2027-01-10", "2027-01-15"] {
        let body = json!({"amountCents": 8_000, "fiscalYear": 2027,
            "expenses": [{"description": "Sachkosten", "amountCents": 10_000, "dueOn": due}]});
        let r = ok(create(&app, &notice, &body).await, 201).await;
        ok(
            pay(&app, r["id"].as_str().unwrap(), "submit", &municipality(), json!({})).await,
            200,
        )
        .await;
    }
    // A second notice whose objection period is listed, while the first one's has passed (it is no duty any more,
    // whatever the filters); proofs already overdue on the pinned day (2026-11-27) and on a payment's due date.
    let second = issued_notice(&app, false).await;
    app.db
        .execute(&format!(
            "UPDATE grant_notices SET final_on = date '2026-11-20' WHERE id = '{notice}'"
        ))
        .await;
    app.db
        .execute("UPDATE proofs_of_use SET due_on = CASE kind WHEN 'interim' THEN date '2026-11-20' ELSE date '2027-01-15' END")
        .await;
    let mut conn = app.db.conn().await;
    #[derive(diesel::QueryableByName)]
    struct Due {
        #[diesel(sql_type = diesel::sql_types::Text)]
        duty: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        due: String,
    }
    let whole: Vec<(String, String, String)> = diesel_async::RunQueryDsl::load::<Due>(
        diesel::sql_query(
            "SELECT duty, resource_id::text AS id, due_on::text AS due FROM obligations \
         WHERE duty <> 'grant_notice.objection_period' OR due_on >= date '2026-11-27' \
         ORDER BY due_on, resource_id, duty COLLATE \"C\"",
        ),
        &mut conn,
    )
    .await
    .unwrap()
    .into_iter()
    .map(|d| (d.duty, d.id, d.due))
    .collect();
    assert_eq!(whole.len(), 9, "{whole:?}");
    assert!(
        whole
            .iter()
            .any(|(duty, id, _)| duty == "grant_notice.objection_period" && *id == second)
    );
    assert!(!whole.iter().any(|(_, id, _)| *id == notice));
    for token in [ministry(), municipality()] {
        assert_eq!(all_pages(&app, &token, "", 200).await, whole);
        for query in [
            "",
            "party=ministry",
            "party=municipality",
            "overdue=true",
            "overdue=false",
            "dueBefore=2027-01-15",
            "duty=payment_request.sign_off",
            "overdue=false&dueBefore=2027-01-18&party=ministry",
            "overdue=true&dueBefore=2026-12-31",
            "overdue=true&dueBefore=2026-11-19",
        ] {
            let one_page = all_pages(&app, &token, query, 200).await;
            for limit in [1, 2, 3] {
                assert_eq!(
                    all_pages(&app, &token, query, limit).await,
                    one_page,
                    "{query}, {limit} a page"
                );
            }
            let expected: Vec<_> = whole
                .iter()
                .filter(|(duty, _, due)| match query {
                    "party=ministry" => duty == "payment_request.sign_off",
                    "party=municipality" => duty != "payment_request.sign_off",
                    "overdue=true" => due.as_str() < "2026-11-27",
                    "overdue=false" => due.as_str() >= "2026-11-27",
                    "dueBefore=2027-01-15" => due.as_str() <= "2027-01-15",
                    "duty=payment_request.sign_off" => duty == "payment_request.sign_off",
                    "overdue=false&dueBefore=2027-01-18&party=ministry" => {
                        duty == "payment_request.sign_off" && due.as_str() <= "2027-01-18"
                    }
                    "overdue=true&dueBefore=2026-12-31" => due.as_str() < "2026-11-27",
                    "overdue=true&dueBefore=2026-11-19" => due.as_str() <= "2026-11-19",
                    _ => true,
                })
                .cloned()
                .collect();
            assert_eq!(one_page, expected, "{query}");
        }
    }
    // Another municipality has none of them.
    assert!(
        all_pages(&app, &token("municipality", Some("06535")), "", 2)
            .await
            .is_empty()
    );
}

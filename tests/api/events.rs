use crate::helpers::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn feed(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/events?{query}"), Some(token)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn types(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

/// A test server on the demo data (`versorgung seed --demo`).
async fn demo_app() -> TestApp {
    let app = TestApp::spawn().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_versorgung"))
        .args(["seed", "--demo"])
        .env("DATABASE_URL", &app.db.url)
        .env_remove("VERSORGUNG_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app
}

fn draft(title: &str) -> Value {
    json!({"fundingLine": "GK", "title": title})
}

#[actix_web::test]
async fn every_change_is_an_event_with_the_resources_visibility() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let created: Value = app
        .post("/api/v1/applications", Some(&m), &draft("Ein Vorhaben"))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/applications/{id}/comments"),
        Some(&service_unit()),
        &json!({"body": "intern", "internal": true}),
    )
    .await;
    app.post(
        &format!("/api/v1/applications/{id}/comments"),
        Some(&ministry()),
        &json!({"body": "öffentlich"}),
    )
    .await;
    app.patch(
        "/api/v1/funding-lines/VA",
        Some(&ministry()),
        Some("*"),
        &json!({"title": "Versorgungsanalysen"}),
    )
    .await;
    app.post(
        "/api/v1/applications",
        Some(&token("municipality", Some("06535"))),
        &draft("Fremdes Vorhaben"),
    )
    .await;

    let all = feed(&app, &ministry(), "after=0").await;
    assert_eq!(
        types(&all),
        vec![
            "application.created",
            "application.commented",
            "application.commented",
            "funding_line.changed",
            "application.created"
        ]
    );
    let positions: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, vec![1, 2, 3, 4, 5]);
    assert_eq!(all["nextCursor"], 5);
    assert_eq!(all["items"][0]["data"]["title"], "Ein Vorhaben");
    assert_eq!(all["items"][0]["actor"]["role"], "municipality");

    // The applicant sees its own application's events and the public ones; never the internal comment or others'.
    let mine = feed(&app, &m, "after=0").await;
    assert_eq!(
        types(&mine),
        vec!["application.created", "application.commented", "funding_line.changed"]
    );
    assert_eq!(mine["items"][1]["data"]["comment"]["body"], "öffentlich");
    // Cursor and type filter.
    let later = feed(&app, &ministry(), "after=3&types=application.created").await;
    assert_eq!(later["items"].as_array().unwrap().len(), 1);
    assert_eq!(later["items"][0]["position"], 5);
    let empty = feed(&app, &ministry(), "after=5").await;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["nextCursor"], 5);
    problem(app.get("/api/v1/events?after=-1", Some(&m)).await, 400).await;
    problem(app.get("/api/v1/events?limit=5000", Some(&m)).await, 400).await;
    problem(app.get("/api/v1/events", None).await, 401).await;
}

#[actix_web::test]
async fn transitions_referrals_and_coordinators_in_the_feed() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    app.post(
        "/api/v1/coordinators",
        Some(&s),
        &json!({"name": "Jana Hoffmann", "email": "jana@example.org",
        "district": "06535", "employer": "06535", "fteBasisPoints": 10000, "startDate": "2027-01-01"}),
    )
    .await;
    let vogelsberg = token("municipality", Some("06535"));
    let r: Value = app
        .post(
            "/api/v1/referrals",
            Some(&vogelsberg),
            &json!({"direction": "region_to_committee", "subject": "Idee"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let rid = r["id"].as_str().unwrap();
    app.post(&format!("/api/v1/referrals/{rid}/triage"), Some(&s), &json!({}))
        .await;
    app.post(
        &format!("/api/v1/referrals/{rid}/forward"),
        Some(&s),
        &json!({"targets": [{"district": "06636"}, {"district": "06631"}]}),
    )
    .await;

    let for_staff = feed(&app, &ministry(), "after=0").await;
    assert_eq!(
        types(&for_staff),
        vec![
            "coordinator.created",
            "referral.created",
            "referral.triaged",
            "referral.forwarded"
        ]
    );
    // Coordinators' contact data only within their district.
    assert!(
        feed(&app, &vogelsberg, "after=0").await["items"][0]["data"]
            .get("contact")
            .is_some()
    );
    let wmk = feed(&app, &municipality(), "after=0").await;
    assert!(wmk["items"][0]["data"].get("contact").is_none());
    // Werra-Meißner was forwarded the referral: it sees that event, with only its own target.
    assert_eq!(types(&wmk), vec!["coordinator.created", "referral.forwarded"]);
    assert_eq!(wmk["items"][1]["data"]["targets"].as_array().unwrap().len(), 1);
    // The sender sees every step, with all targets.
    let sender = feed(&app, &vogelsberg, "after=0").await;
    assert_eq!(
        types(&sender),
        vec![
            "coordinator.created",
            "referral.created",
            "referral.triaged",
            "referral.forwarded"
        ]
    );
    assert_eq!(sender["items"][3]["data"]["targets"].as_array().unwrap().len(), 2);
    // Kassel, not involved, sees only the public coordinator event.
    assert_eq!(
        types(&feed(&app, &token("municipality", Some("06611")), "after=0").await),
        vec!["coordinator.created"]
    );
}

/// Many transactions commit concurrently and out of order while a reader follows the feed: the reader sees every
/// event exactly once, in strictly increasing, gap-free positions.
#[actix_web::test]
async fn a_reader_never_misses_an_event_under_concurrent_out_of_order_commits() {
    let app = TestApp::spawn_with(|a| {
        a.http.workers = Some(2);
        a.db.db_pool_wait_timeout = Duration::from_secs(30);
    })
    .await;
    let writers_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    // API writers: drafts from two organisations, each a transaction with its event.
    let api_writers = (0..4).map(|w| {
        let app = &app;
        async move {
            let t = token("municipality", Some(if w % 2 == 0 { "06636" } else { "06535" }));
            for i in 0..25 {
                let res = app
                    .post("/api/v1/applications", Some(&t), &draft(&format!("Vorhaben {w}-{i}")))
                    .await;
                assert_eq!(res.status(), 201);
            }
        }
    });
    // Raw writers: an event takes its id early and commits late, after a random pause inside the transaction.
    let raw_writers = (0..3).map(|w| {
        let url = app.db.url.clone();
        async move {
            use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
            let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
            for i in 0..20 {
                conn.batch_execute(&format!(
                    "BEGIN;
                     INSERT INTO events (type, resource_kind, resource_id, actor_sub, actor_role, public, data)
                     VALUES ('test.slow', 'test', gen_random_uuid(), 'raw-{w}', 'service_unit', true, '{{\"i\": {i}}}');
                     SELECT pg_sleep(random() * 0.03);
                     COMMIT;"
                ))
                .await
                .unwrap();
            }
        }
    });
    let reader = {
        let app = &app;
        let done = writers_done.clone();
        async move {
            let t = ministry();
            let mut after = 0i64;
            let mut seen: Vec<i64> = Vec::new();
            let mut quiet_after_done = 0;
            loop {
                let page = feed(app, &t, &format!("after={after}&limit=37")).await;
                let items = page["items"].as_array().unwrap();
                for e in items {
                    seen.push(e["position"].as_i64().unwrap());
                }
                after = page["nextCursor"].as_i64().unwrap();
                if items.is_empty() {
                    if done.load(std::sync::atomic::Ordering::SeqCst) {
                        quiet_after_done += 1;
                        if quiet_after_done >= 2 {
                            break;
                        }
                    }
                    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
                }
            }
            seen
        }
    };
    let writers = async {
        futures_util::future::join(
            futures_util::future::join_all(api_writers),
            futures_util::future::join_all(raw_writers),
        )
        .await;
        writers_done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let ((), seen) = futures_util::join!(writers, reader);

    let total = app.db_count("events").await;
    assert_eq!(total, 4 * 25 + 3 * 20);
    assert_eq!(seen.len() as i64, total, "every event read exactly once");
    let expected: Vec<i64> = (1..=total).collect();
    assert_eq!(seen, expected, "strictly increasing and gap-free");
}

/// A district IT script follows the feed from 0 and rebuilds exactly what it may see through the API.
#[actix_web::test]
async fn a_client_rebuilds_from_the_feed_exactly_what_it_may_see() {
    let app = demo_app().await;
    let m = municipality();
    let created: Value = app
        .post("/api/v1/applications", Some(&m), &draft("Nach dem Seed"))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/applications/{id}"),
        Some(&m),
        Some("\"1\""),
        &json!({"description": "Ergänzt"}),
    )
    .await;
    app.patch(
        "/api/v1/funding-lines/GK",
        Some(&ministry()),
        Some("*"),
        &json!({"budgetCents": 900_000_000}),
    )
    .await;

    // Follow the feed and keep the latest representation of each resource.
    let mut state: std::collections::BTreeMap<(String, String), Value> = Default::default();
    let mut after = 0;
    loop {
        let page = feed(&app, &m, &format!("after={after}&limit=100")).await;
        for e in page["items"].as_array().unwrap() {
            let kind = e["resourceKind"].as_str().unwrap().to_owned();
            let t = e["type"].as_str().unwrap();
            let key = match kind.as_str() {
                "funding_line" => e["data"]["code"].as_str().unwrap().to_owned(),
                _ => e["resourceId"].as_str().unwrap().to_owned(),
            };
            if t.ends_with(".deleted") {
                state.remove(&(kind, key));
            } else if !(t.ends_with(".commented") || t.contains(".member_") || t.ends_with(".meeting_recorded")) {
                state.insert((kind, key), e["data"].clone());
            }
        }
        if page["items"].as_array().unwrap().is_empty() {
            break;
        }
        after = page["nextCursor"].as_i64().unwrap();
    }
    let of_kind = |kind: &str| -> Vec<Value> {
        state
            .iter()
            .filter(|((k, _), _)| k == kind)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let api = |path: &'static str| {
        let app = &app;
        let m = m.clone();
        async move {
            app.get(path, Some(&m)).await.json::<Value>().await.unwrap()["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let sorted = |mut v: Vec<Value>, key: &str| {
        v.sort_by_key(|x| x[key].to_string());
        v
    };
    for (kind, path, key) in [
        ("application", "/api/v1/applications?limit=200", "id"),
        ("funding_line", "/api/v1/funding-lines?limit=200", "code"),
        ("organisation", "/api/v1/organisations?limit=200", "id"),
        ("committee", "/api/v1/committees?limit=200", "id"),
        ("coordinator", "/api/v1/coordinators?limit=200", "id"),
    ] {
        let from_feed = sorted(of_kind(kind), key);
        let from_api = sorted(api(path).await, key);
        assert!(!from_api.is_empty(), "{kind}");
        assert_eq!(from_feed, from_api, "{kind}: the feed rebuilds what the API shows");
    }
    // Referrals: the feed leaves out links to applications (they may be other organisations').
    let mut referrals = sorted(api("/api/v1/referrals?limit=200").await, "id");
    for r in &mut referrals {
        r.as_object_mut().unwrap().remove("applicationIds");
    }
    assert!(!referrals.is_empty());
    assert_eq!(sorted(of_kind("referral"), "id"), referrals);
}

/// A municipality's unfiltered feed is read through the audience index (migration 000035): page by page, it holds
/// exactly the events the visibility rule gives it (public, its organisation, its district; never staff-only),
/// counted straight from the events table, in order, for small and large pages alike.
#[actix_web::test]
async fn the_audience_index_gives_a_municipality_exactly_what_the_rule_gives() {
    let app = demo_app().await;
    let m = municipality();
    for title in ["Eins", "Zwei", "Drei"] {
        app.post("/api/v1/applications", Some(&m), &draft(title)).await;
    }
    let (db, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    // The first read sequences everything committed; the rule is then counted over the numbered events.
    feed(&app, &m, "after=0&limit=1").await;
    let expected: Vec<i64> = db
        .query(
            "SELECT e.position FROM events e, organisations o WHERE o.ags = '06636' AND e.position IS NOT NULL
               AND NOT e.staff_only AND (e.public OR o.id = ANY (e.org_ids) OR o.district_ags = ANY (e.districts))
             ORDER BY e.position",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        expected.len() > 10,
        "the demo data gives the municipality events to read"
    );
    for limit in [1, 7, 100] {
        let mut got = Vec::new();
        let mut after = 0;
        loop {
            let page = feed(&app, &m, &format!("after={after}&limit={limit}")).await;
            let items = page["items"].as_array().unwrap();
            if items.is_empty() {
                break;
            }
            got.extend(items.iter().map(|e| e["position"].as_i64().unwrap()));
            after = page["nextCursor"].as_i64().unwrap();
        }
        assert_eq!(got, expected, "pages of {limit}");
    }
    let audience_rows: i64 = db
        .query_one("SELECT count(*) FROM event_audience", &[])
        .await
        .unwrap()
        .get(0);
    assert!(audience_rows > 0);
}

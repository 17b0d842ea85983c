//! Webhooks against a real local receiver that verifies every delivery with the Standard Webhooks library.

use crate::helpers::*;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct Receiver {
    /// (webhook-id, verified payload) of every request received.
    pub got: Arc<Mutex<Vec<(String, Value, bool)>>>,
    /// Statuses to answer, in order; 200 once empty (or always `fallback`).
    pub script: Arc<Mutex<VecDeque<u16>>>,
    pub fallback: Arc<Mutex<u16>>,
    pub secret: Arc<Mutex<String>>,
}

impl Receiver {
    pub async fn start() -> (Self, String) {
        let r = Receiver::default();
        *r.fallback.lock().unwrap() = 200;
        let shared = r.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let r = shared.clone();
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let r = r.clone();
                    async move {
                        let mut headers = http::HeaderMap::new();
                        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
                            if let Some(v) = req.headers().get(name) {
                                headers.insert(name, http::HeaderValue::from_bytes(v.as_bytes()).unwrap());
                            }
                        }
                        let secret = r.secret.lock().unwrap().clone();
                        let verified = standardwebhooks::Webhook::new(&secret)
                            .map(|w| w.verify(&body, &headers).is_ok())
                            .unwrap_or(false);
                        let id = headers
                            .get("webhook-id")
                            .map(|v| v.to_str().unwrap().to_owned())
                            .unwrap_or_default();
                        r.got.lock().unwrap().push((
                            id,
                            serde_json::from_slice(&body).unwrap_or(Value::Null),
                            verified,
                        ));
                        let status = r
                            .script
                            .lock()
                            .unwrap()
                            .pop_front()
                            .unwrap_or(*r.fallback.lock().unwrap());
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        (r, format!("http://127.0.0.1:{port}/hook"))
    }

    pub fn received(&self) -> Vec<(String, Value, bool)> {
        self.got.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, n: usize) -> Vec<(String, Value, bool)> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > Duration::from_secs(15) {
                return got;
            }
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

pub fn fast_webhooks(a: &mut versorgung::config::ServeArgs) {
    a.webhooks.webhook_allow_loopback = true;
    a.webhooks.webhook_backoff_base = Duration::from_millis(50);
    a.webhooks.webhook_interval = Duration::from_millis(25);
    a.webhooks.webhook_disable_after = 3;
}

async fn subscribe(app: &TestApp, token: &str, url: &str, types: Value, receiver: &Receiver) -> Value {
    let res = app
        .post(
            "/api/v1/webhooks",
            Some(token),
            &json!({"url": url, "eventTypes": types}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let hook: Value = res.json().await.unwrap();
    *receiver.secret.lock().unwrap() = hook["secret"].as_str().unwrap().to_owned();
    hook
}

#[actix_web::test]
async fn deliveries_are_signed_scoped_and_retried() {
    let app = TestApp::spawn_with(fast_webhooks).await;
    let (receiver, url) = Receiver::start().await;
    let m = municipality();
    let hook = subscribe(
        &app,
        &m,
        &url,
        json!(["application.created", "application.submitted"]),
        &receiver,
    )
    .await;
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    let listed: Value = app.get("/api/v1/webhooks", Some(&m)).await.json().await.unwrap();
    assert_eq!(listed[0]["secret"], Value::Null, "the secret is shown once");
    problem(
        app.get(
            &format!("/api/v1/webhooks/{hook_id}"),
            Some(&token("municipality", Some("06535"))),
        )
        .await,
        404,
    )
    .await;

    // The first attempt fails, the retry succeeds.
    receiver.script.lock().unwrap().push_back(500);
    app.post(
        "/api/v1/applications",
        Some(&m),
        &json!({"fundingLine": "GK", "title": "Gesehen"}),
    )
    .await;
    // Another district's application is not this subscriber's business.
    app.post(
        "/api/v1/applications",
        Some(&token("municipality", Some("06535"))),
        &json!({"fundingLine": "GK", "title": "Fremd"}),
    )
    .await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, got[1].0, "a retry keeps its webhook-id");
    assert!(
        got.iter().all(|(_, _, verified)| *verified),
        "signatures verify with the standard library"
    );
    assert_eq!(got[1].1["type"], "application.created");
    assert_eq!(got[1].1["data"]["data"]["title"], "Gesehen");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "delivered exactly once after the successful retry"
    );

    let log: Value = app
        .get(&format!("/api/v1/webhooks/{hook_id}/deliveries"), Some(&m))
        .await
        .json()
        .await
        .unwrap();
    let d = &log["items"][0];
    assert_eq!(d["state"], "delivered");
    assert_eq!(d["attempts"], 2);
    assert_eq!(d["lastStatus"], 200);
    assert_eq!(d["eventType"], "application.created");

    // Manual redelivery sends the same message again.
    let res = app
        .post(
            &format!(
                "/api/v1/webhooks/{hook_id}/deliveries/{}/redeliver",
                d["id"].as_str().unwrap()
            ),
            Some(&m),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let got = receiver.wait_for(3).await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].0, got[0].0);

    // Unsubscribing stops deliveries.
    assert_eq!(
        app.client
            .delete(app.url(&format!("/api/v1/webhooks/{hook_id}")))
            .bearer_auth(&m)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    app.post(
        "/api/v1/applications",
        Some(&m),
        &json!({"fundingLine": "GK", "title": "Nach der Kündigung"}),
    )
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 3);
}

#[actix_web::test]
async fn a_run_of_failures_disables_the_subscription_and_the_feed_says_so() {
    let app = TestApp::spawn_with(fast_webhooks).await;
    let (receiver, url) = Receiver::start().await;
    *receiver.fallback.lock().unwrap() = 500;
    let hook = subscribe(&app, &service_unit(), &url, json!(["*"]), &receiver).await;
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    app.post(
        "/api/v1/applications",
        Some(&municipality()),
        &json!({"fundingLine": "GK", "title": "Vorhaben"}),
    )
    .await;
    let start = Instant::now();
    loop {
        let h: Value = app
            .get(&format!("/api/v1/webhooks/{hook_id}"), Some(&service_unit()))
            .await
            .json()
            .await
            .unwrap();
        if h["enabled"] == false {
            assert!(h["consecutiveFailures"].as_i64().unwrap() >= 3);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "not disabled: {h}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        receiver.received().len(),
        3,
        "attempts stop at the configured run of failures"
    );
    let feed: Value = app
        .get("/api/v1/events?types=webhook.disabled", Some(&service_unit()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(feed["items"][0]["resourceId"], hook_id.as_str());
    let municipality_feed: Value = app
        .get("/api/v1/events?types=webhook.disabled", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(municipality_feed["items"], json!([]));
}

#[actix_web::test]
async fn targets_are_checked() {
    let app = TestApp::spawn().await;
    let m = municipality();
    for url in [
        "http://example.org/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "http://127.0.0.1:9/hook",
        "https://user:pw@example.org/hook",
        "not a url",
    ] {
        let p = problem(
            app.post("/api/v1/webhooks", Some(&m), &json!({"url": url, "eventTypes": ["*"]}))
                .await,
            422,
        )
        .await;
        assert_eq!(pointers(&p), vec!["/url"], "{url}");
    }
    let p = problem(
        app.post(
            "/api/v1/webhooks",
            Some(&m),
            &json!({"url": "https://example.org/hook", "eventTypes": ["Bad Type"]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/eventTypes/0"]);
    assert_eq!(
        app.post(
            "/api/v1/webhooks",
            Some(&m),
            &json!({"url": "https://kreis-it.example.de/hook", "eventTypes": ["*"]})
        )
        .await
        .status(),
        201
    );
}

#[actix_web::test]
async fn webhooks_export_as_csv_each_owner_its_own_without_secrets() {
    let app = TestApp::spawn().await;
    let (m, wmk) = (ministry(), token("municipality", Some("06636")));
    for (who, url) in [
        (&m, "https://kreis-it.example.de/hooks/a"),
        (&m, "https://kreis-it.example.de/hooks/b"),
        (&wmk, "https://wmk.example.de/hook"),
    ] {
        let res = app
            .post(
                "/api/v1/webhooks",
                Some(who),
                &json!({"url": url, "eventTypes": ["application.submitted", "referral.forwarded"]}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let csv = app.get_csv("/api/v1/webhooks", Some(&m)).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,url,eventTypes,enabled,consecutiveFailures,disabledAt,createdAt"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains(",https://kreis-it.example.de/hooks/a,application.submitted referral.forwarded,true,0,,"),
        "{csv}"
    );
    assert!(lines[2].contains("/hooks/b,"), "{csv}");
    assert!(!csv.contains("whsec_"), "no secrets: {csv}");
    let own = app.get_csv("/api/v1/webhooks", Some(&wmk)).await;
    assert_eq!(own.lines().count(), 2, "{own}");
    assert!(own.contains("https://wmk.example.de/hook"), "{own}");
    let other = app
        .get_csv("/api/v1/webhooks", Some(&token("municipality", Some("06535"))))
        .await;
    assert_eq!(other.lines().count(), 1, "only the header: {other}");
}

/// A receiver that accepts a connection and never answers: the dispatcher's attempt stays in flight (its delivery
/// row locked) until the delivery timeout. Returns the URL and a flag set once a connection arrived.
async fn silent_receiver() -> (String, Arc<std::sync::atomic::AtomicBool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connected = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = connected.clone();
    actix_web::rt::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            open.push(socket);
        }
    });
    (format!("http://127.0.0.1:{port}/hook"), connected)
}

#[actix_web::test]
async fn unsubscribing_does_not_wait_for_an_attempt_in_flight() {
    // The delivery timeout (5 s) is longer than the statement timeout (2 s): a DELETE that waited for the in-flight
    // delivery's row would be cancelled and answer 503.
    let app = TestApp::spawn_with(|a| {
        fast_webhooks(a);
        a.webhooks.webhook_timeout = Duration::from_secs(5);
        a.db.db_statement_timeout = Duration::from_secs(2);
    })
    .await;
    let (url, connected) = silent_receiver().await;
    let m = municipality();
    let hook = subscribe(&app, &m, &url, json!(["application.created"]), &Receiver::default()).await;
    let res = app
        .post(
            "/api/v1/applications",
            Some(&m),
            &json!({"fundingLine": "GK", "title": "Gesundheitskoordination"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let start = Instant::now();
    while !connected.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the dispatcher never connected"
        );
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
    let id = hook["id"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&m)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204, "{:?}", res.text().await);
    // When the attempt ends, the dispatcher fails the delivery as unsubscribed instead of retrying it.
    let mut conn = app.db.conn().await;
    let start = Instant::now();
    loop {
        let rows: Vec<(String, Option<String>)> = {
            use diesel::prelude::*;
            use diesel_async::RunQueryDsl;
            use versorgung::db::schema::webhook_deliveries as d;
            d::table
                .select((d::state, d::last_error))
                .load(&mut conn)
                .await
                .unwrap()
        };
        if rows.iter().all(|(state, _)| state != "pending") {
            assert!(
                rows.iter()
                    .all(|r| r == &("failed".to_owned(), Some("unsubscribed".to_owned()))),
                "{rows:?}"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "still pending: {rows:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

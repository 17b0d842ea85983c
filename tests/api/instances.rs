//! Two service processes on one database behave as one: budgets, webhook deliveries and idempotency keys hold
//! across them.

use crate::helpers::*;
use crate::webhooks::Receiver;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Instance {
    pub child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(db_url: &str) -> Instance {
    start_at(db_url, free_port()).await
}

/// A service process from the real binary on `port`, ready when this returns.
pub async fn start_at(db_url: &str, port: u16) -> Instance {
    start_with(db_url, port, &[]).await
}

/// Like [`start_at`], with extra environment variables (they override the defaults here).
pub async fn start_with(db_url: &str, port: u16, env: &[(&str, &str)]) -> Instance {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_versorgung"))
        .env("DATABASE_URL", db_url)
        .env("VERSORGUNG_BIND", format!("127.0.0.1:{port}"))
        .env("VERSORGUNG_DATA_DIR", dir.path())
        .env("VERSORGUNG_JWT_SECRET", SECRET)
        .env("VERSORGUNG_WEBHOOK_ALLOW_LOOPBACK", "true")
        .env("VERSORGUNG_WEBHOOK_INTERVAL", "20ms")
        .env("VERSORGUNG_WEBHOOK_BACKOFF_BASE", "50ms")
        .env("VERSORGUNG_DB_POOL_WAIT_TIMEOUT", "20s")
        .env("VERSORGUNG_RATE_LIMIT_TOKEN_PER_SECOND", "0")
        .env("VERSORGUNG_RATE_LIMIT_ADDRESS_PER_SECOND", "0")
        .env("RUST_LOG", "warn")
        // The fixtures' fixed dates keep their meaning (helpers::test_args pins the in-process servers the same way).
        .env("VERSORGUNG_TODAY", PINNED_TODAY)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        // A process that exited (a port taken after all, a bad setting) says so at once instead of after the wait.
        if let Ok(Some(status)) = child.try_wait() {
            panic!("instance on port {port} exited before it was ready: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(30), "instance did not start");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    Instance { child, base, _dir: dir }
}

#[actix_web::test]
async fn two_instances_behave_as_one() {
    // The harness app only provides the database here; both service processes run from the binary.
    let app = TestApp::spawn().await;
    let (a, b) = futures_util::join!(start(&app.db.url), start(&app.db.url));
    let client = reqwest::Client::new();
    let post = |base: &str, path: &str, token: &str, body: &Value, key: Option<&str>| {
        let mut req = client.post(format!("{base}{path}")).bearer_auth(token).json(body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send()
    };

    // A subscription made on one instance; events written through both; the pair delivers each once.
    let (receiver, url) = Receiver::start().await;
    let hook: Value = post(
        &a.base,
        "/api/v1/webhooks",
        &ministry(),
        &json!({"url": url, "eventTypes": ["application.created"]}),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    *receiver.secret.lock().unwrap() = hook["secret"].as_str().unwrap().to_owned();
    let m = municipality();
    let creates = (0..20).map(|i| {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        post(
            base,
            "/api/v1/applications",
            &m,
            &json!({"fundingLine": "GK", "title": format!("Vorhaben {i}")}),
            None,
        )
    });
    for res in futures_util::future::join_all(creates).await {
        assert_eq!(res.unwrap().status(), 201);
    }
    let got = receiver.wait_for(20).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let got_after = receiver.received();
    assert_eq!(got_after.len(), got.len(), "no late duplicates");
    let mut ids: Vec<&String> = got.iter().map(|(id, _, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (got.len(), ids.len()),
        (20, 20),
        "each event delivered exactly once by the pair"
    );
    assert!(got.iter().all(|(_, _, verified)| *verified));

    // Approvals spread over both instances never overcommit: the budget fits 8 of 20.
    app.db
        .execute(
            "UPDATE applications SET status = 'in_review', total_costs_cents = 1000000, own_funds_cents = 0,
                    third_party_funds_cents = 0, requested_cents = 1000000, start_date = '2027-01-01',
                    end_date = '2027-12-31'",
        )
        .await;
    app.db
        .execute("UPDATE funding_lines SET budget_cents = 8000000 WHERE code = 'GK'")
        .await;
    let list: Value = client
        .get(format!("{}/api/v1/applications?limit=50", b.base))
        .bearer_auth(ministry())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = ministry();
    let approvals = list["items"].as_array().unwrap().iter().enumerate().map(|(i, item)| {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        post(
            base,
            &format!("/api/v1/applications/{}/approve", item["id"].as_str().unwrap()),
            &r,
            &json!({"grantedCents": 1_000_000, "years": [{"year": 2027, "grantedCents": 1_000_000}]}),
            None,
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(approvals)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 8, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 12);
    let line: Value = client
        .get(format!("{}/api/v1/funding-lines/GK", a.base))
        .bearer_auth(&r)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(line["committedCents"], 8_000_000);

    // An Idempotency-Key used on one instance replays on the other.
    let body = json!({"fundingLine": "VA", "title": "Einmal, auch bei Wiederholung"});
    let first = post(&a.base, "/api/v1/applications", &m, &body, Some("cross-instance-1"))
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = post(&b.base, "/api/v1/applications", &m, &body, Some("cross-instance-1"))
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
}

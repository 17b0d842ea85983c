//! Chaos: two service processes on one PostgreSQL under a mixed load (drafts, submissions, approvals racing on one
//! budget, comments, feed readers, webhook deliveries to loopback receivers, and grant officers taking approved
//! grants through notice, payment, change report, final proof of use, settlement and recovery claim; every POST with
//! an Idempotency-Key and retried by its client) while one service is SIGKILLed and restarted and PostgreSQL is stopped (fast or immediate)
//! and started again, at moments drawn from a seed the test prints (`CHAOS_SEED=<n>` replays a run, `CHAOS_SECONDS`
//! changes the load phase, default 60 s). Faults come one at a time, each recovered before the next, so that a
//! restarted service always finds its database.
//!
//! Afterwards: no answer was a 500 or took longer than the service's configured waits; every acknowledged write
//! exists exactly once; committed = Σ granted of approved applications − Σ released by settlements ≤ budget, and
//! the fiscal years' committed and paid equal their grants' and the payments'; the feed, read from position 0, has
//! every event exactly once and in order; every subscription received every event it may see at least once, each
//! with a valid signature; the statistics' kept figures equal a full recount for every grouping. The test prints its counts (requests, faults, 503s, retries) and the seed.

use crate::helpers::*;
use crate::instances::{Instance, start_with};
use crate::webhooks::Receiver;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use versorgung::db::local_pg::{LocalPgOptions, LocalPostgres, StopMode};

/// The services' waits: a request may wait this long for a pooled connection, and a statement may run this long.
const POOL_WAIT: Duration = Duration::from_secs(2);
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a request may take: both waits, twice (a transaction of several statements, then its commit), plus
/// slack for two busy cores. Anything longer counts as a hang.
const HANG: Duration = Duration::from_secs(2 + 2 * 5 + 8);
/// Each approval grants this much; the budget fits `FITTING` of them.
const GRANT: i64 = 1_000_000;
const FITTING: i64 = 100;

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    unavailable: AtomicU64,
    retries: AtomicU64,
    dropped: AtomicU64,
    faults: Mutex<Vec<String>>,
    /// Everything that must not happen: a 5xx other than 503, a hang, an unexpected status.
    failures: Mutex<Vec<String>>,
}

impl Stats {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }
}

#[derive(Clone)]
struct Ctx {
    bases: [String; 2],
    client: reqwest::Client,
    stats: Arc<Stats>,
}

/// Acknowledged writes, by kind.
#[derive(Default)]
struct Acked {
    created: Vec<String>,
    comments: Vec<String>,
    approved: Vec<String>,
    refused: Vec<String>,
    /// Grants taken through to a repaid recovery claim: (application, settlement, claim).
    settled: Vec<(String, String, String)>,
}

/// How many approved grants the officers take through to settlement (each is about twenty writes).
const SETTLED: usize = 8;

fn draft(n: &str) -> Value {
    json!({
        "fundingLine": "GK",
        "title": format!("Gesundheitskoordination {n}"),
        "description": "Aufbau einer kommunalen Gesundheitsstrategie mit einer Personalstelle für Gesundheitskoordination.",
        "startDate": "2027-01-01", "endDate": "2031-12-31",
        "financingPlan": {"totalCostsCents": 25_000_000, "ownFundsCents": 2_500_000, "thirdPartyFundsCents": 0,
            "requestedCents": 22_500_000},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    })
}

impl Ctx {
    /// Sends a request until it gets a final answer: a 503 or a dropped connection (the instance was killed) is
    /// retried on the other instance after a short random pause, a POST always with the same Idempotency-Key.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let started = Instant::now();
        let mut attempt: usize = key.map_or(0, |k| k.len());
        loop {
            let base = &self.bases[attempt % 2];
            attempt += 1;
            let mut req = match method {
                "POST" => self.client.post(format!("{base}{path}")),
                // A merge patch is idempotent by itself; `If-Match: *` asks for no particular version.
                "PATCH" => self
                    .client
                    .patch(format!("{base}{path}"))
                    .header("If-Match", "*")
                    .header("Content-Type", "application/merge-patch+json"),
                _ => self.client.get(format!("{base}{path}")),
            }
            .bearer_auth(token)
            .timeout(HANG);
            if let Some(k) = key {
                req = req.header("Idempotency-Key", k);
            }
            if let Some(b) = body {
                req = match method {
                    "PATCH" => req.body(b.to_string()),
                    _ => req.json(b),
                };
            }
            let sent = Instant::now();
            let res = req.send().await;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            match res {
                // 408: the service gave up waiting for the request itself (two busy cores); RFC 9110 lets the
                // client repeat it, with the same Idempotency-Key.
                Ok(res) if res.status() == 408 => {
                    self.stats.unavailable.fetch_add(1, Ordering::Relaxed);
                }
                Ok(res) if res.status() == 503 => {
                    self.stats.unavailable.fetch_add(1, Ordering::Relaxed);
                    if !res.headers().contains_key("retry-after") {
                        self.stats.fail(format!("503 without Retry-After: {method} {path}"));
                    }
                }
                Ok(res) => {
                    let status = res.status().as_u16();
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    if status >= 500 {
                        self.stats.fail(format!("{status} for {method} {path}: {body}"));
                    }
                    return (status, body);
                }
                Err(e) if e.is_timeout() => {
                    self.stats
                        .fail(format!("{method} {path} hung for {:?}", sent.elapsed()));
                }
                // The instance went away mid-request (SIGKILL) or is not listening yet.
                Err(_) => {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            if started.elapsed() > Duration::from_secs(90) {
                self.stats.fail(format!("{method} {path} found no instance for 90 s"));
                return (0, Value::Null);
            }
            let pause = 20 + (attempt as u64 * 37) % 180;
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }

    fn expect(&self, what: &str, got: (u16, Value), status: u16) -> Option<Value> {
        if got.0 == status {
            Some(got.1)
        } else {
            self.stats
                .fail(format!("{what}: expected {status}, got {} {}", got.0, got.1));
            None
        }
    }
}

/// A municipality's clerk: drafts, submits and comments, one after another; hands submitted ids to the reviewers.
async fn clerk(
    ctx: Ctx,
    w: usize,
    stop: Arc<AtomicBool>,
    submitted: tokio::sync::mpsc::UnboundedSender<String>,
) -> Acked {
    let m = municipality();
    let mut acked = Acked::default();
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        let n = format!("{w}-{i}");
        i += 1;
        let got = ctx
            .call(
                "POST",
                "/api/v1/applications",
                &m,
                Some(&format!("create-{n}")),
                Some(&draft(&n)),
            )
            .await;
        let Some(created) = ctx.expect("create", got, 201) else {
            continue;
        };
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        acked.created.push(id.clone());
        let path = format!("/api/v1/applications/{id}/submit");
        let got = ctx
            .call("POST", &path, &m, Some(&format!("submit-{n}")), Some(&json!({})))
            .await;
        if ctx.expect("submit", got, 200).is_some() {
            let _ = submitted.send(id.clone());
        }
        let path = format!("/api/v1/applications/{id}/comments");
        let body = json!({"body": format!("Rückfrage {n}")});
        let got = ctx
            .call("POST", &path, &m, Some(&format!("comment-{n}")), Some(&body))
            .await;
        if let Some(c) = ctx.expect("comment", got, 201) {
            acked.comments.push(c["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    acked
}

/// A ministry reviewer: starts the review of a submitted application and approves it; approvals race on the budget.
async fn reviewer(
    ctx: Ctx,
    stop: Arc<AtomicBool>,
    queue: Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>>,
    granted: tokio::sync::mpsc::UnboundedSender<String>,
) -> Acked {
    let r = ministry();
    let mut acked = Acked::default();
    loop {
        let next = tokio::time::timeout(Duration::from_millis(200), async { queue.lock().await.recv().await }).await;
        let id = match next {
            Ok(Some(id)) => id,
            Ok(None) => break,
            Err(_) if stop.load(Ordering::SeqCst) => break,
            Err(_) => continue,
        };
        let path = format!("/api/v1/applications/{id}/start-review");
        let got = ctx
            .call("POST", &path, &r, Some(&format!("review-{id}")), Some(&json!({})))
            .await;
        if ctx.expect("start-review", got, 200).is_none() {
            continue;
        }
        let path = format!("/api/v1/applications/{id}/approve");
        let got = ctx
            .call(
                "POST",
                &path,
                &r,
                Some(&format!("approve-{id}")),
                Some(&json!({"grantedCents": GRANT, "years": [{"year": 2027, "grantedCents": GRANT}]})),
            )
            .await;
        match got.0 {
            200 => {
                let _ = granted.send(id.clone());
                acked.approved.push(id);
            }
            409 if got.1["code"] == "budget_exceeded" => acked.refused.push(id),
            _ => ctx.stats.fail(format!("approve: {} {}", got.0, got.1)),
        }
    }
    acked
}

/// One call of a grant officer's chain: the answer's body, or `None` after recording the failure.
async fn step(ctx: &Ctx, what: &str, method: &str, path: &str, token: &str, body: Value, status: u16) -> Option<Value> {
    let key = format!("{what}-{path}");
    let got = ctx.call(method, path, token, Some(&key), Some(&body)).await;
    ctx.expect(&format!("{what} {path}"), got, status)
}

/// A grant officer: takes approved grants, up to [`SETTLED`] in all, from the notice to a repaid recovery claim.
/// The notice is issued by a second ministry person; 20,000,000 of due expenses draw 800,000 (the grant's 4 %
/// share); half of them are spent, so the settlement keeps 400,000 and the other 400,000 are reclaimed.
async fn grant_officer(
    ctx: Ctx,
    stop: Arc<AtomicBool>,
    queue: Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>>,
    taken: Arc<std::sync::atomic::AtomicUsize>,
) -> Acked {
    let (m, r, r2) = (municipality(), ministry(), second_reviewer());
    let mut acked = Acked::default();
    loop {
        let next = tokio::time::timeout(Duration::from_millis(200), async { queue.lock().await.recv().await }).await;
        let app = match next {
            Ok(Some(id)) => id,
            Ok(None) => break,
            Err(_) if stop.load(Ordering::SeqCst) => break,
            Err(_) => continue,
        };
        if taken.fetch_add(1, Ordering::SeqCst) >= SETTLED {
            continue;
        }
        let notice = versorgung::grant_notices::notice_id(app.parse().unwrap(), 1).to_string();
        let chain = async {
            let path = |p: &str| p.replace("{n}", &notice);
            step(
                &ctx,
                "issue",
                "POST",
                &path("/api/v1/grant-notices/{n}/issue"),
                &r2,
                json!({"deliveredOn": PINNED_TODAY}),
                200,
            )
            .await?;
            let body = json!({"amountCents": 800_000, "fiscalYear": 2027, "expenses": [{"description": "Personal",
                "amountCents": 20_000_000, "dueOn": "2026-12-15"}]});
            let request = step(
                &ctx,
                "request",
                "POST",
                &path("/api/v1/grant-notices/{n}/payment-requests"),
                &m,
                body,
                201,
            )
            .await?;
            let request = request["id"].as_str()?.to_owned();
            for (action, token, body) in [
                ("submit", &m, json!({})),
                ("check", &r, json!({})),
                ("approve", &r2, json!({})),
                ("pay", &r, json!({"paidOn": PINNED_TODAY, "cashReference": "HKR-1"})),
            ] {
                step(
                    &ctx,
                    action,
                    "POST",
                    &format!("/api/v1/payment-requests/{request}/{action}"),
                    token,
                    body,
                    200,
                )
                .await?;
            }
            let report = step(
                &ctx,
                "report",
                "POST",
                &path("/api/v1/grant-notices/{n}/change-requests"),
                &m,
                json!({"kind": "further_funding", "description": "Zuschuss der Kreissparkasse."}),
                201,
            )
            .await?;
            let report = report["id"].as_str()?.to_owned();
            step(
                &ctx,
                "acknowledge",
                "POST",
                &format!("/api/v1/change-requests/{report}/acknowledge"),
                &r,
                json!({}),
                200,
            )
            .await?;
            let proof = versorgung::proofs_of_use::proof_id(
                app.parse().unwrap(),
                versorgung::proofs_of_use::ProofKind::Final,
                None,
            )
            .to_string();
            let content = json!({"report": {"activities": "Stelle besetzt.", "results": "Strategie beschlossen."},
                "income": {"ownFundsCents": 2_500_000, "thirdPartyFundsCents": 0, "grantCents": 800_000},
                "receipts": [{"paidOn": PINNED_TODAY, "payee": "Personal", "reason": "Gehalt",
                    "amountCents": 10_000_000}]});
            step(
                &ctx,
                "write",
                "PATCH",
                &format!("/api/v1/proofs-of-use/{proof}"),
                &m,
                content,
                200,
            )
            .await?;
            for (action, token, body) in [
                ("submit", &m, json!({})),
                ("start-review", &r, json!({})),
                ("sign-content", &r, json!({})),
                (
                    "sign-financial",
                    &r2,
                    json!({"admissions": [{"index": 0, "admittedCents": 10_000_000}]}),
                ),
            ] {
                step(
                    &ctx,
                    action,
                    "POST",
                    &format!("/api/v1/proofs-of-use/{proof}/{action}"),
                    token,
                    body,
                    200,
                )
                .await?;
            }
            let settlement = step(
                &ctx,
                "settle",
                "POST",
                &path("/api/v1/grant-notices/{n}/settlement"),
                &r,
                json!({}),
                201,
            )
            .await?;
            let settlement = settlement["id"].as_str()?.to_owned();
            step(
                &ctx,
                "confirm",
                "POST",
                &format!("/api/v1/settlements/{settlement}/confirm"),
                &r2,
                json!({}),
                200,
            )
            .await?;
            let claim = step(
                &ctx,
                "claim",
                "POST",
                &format!("/api/v1/settlements/{settlement}/recovery-claim"),
                &r,
                json!({}),
                201,
            )
            .await?;
            let claim = claim["id"].as_str()?.to_owned();
            for (action, token, body) in [
                ("respond", &m, json!({"answer": "Stelle unbesetzt."})),
                ("decide", &r2, json!({})),
                ("record-payment", &r, json!({"paidOn": PINNED_TODAY})),
            ] {
                step(
                    &ctx,
                    action,
                    "POST",
                    &format!("/api/v1/recovery-claims/{claim}/{action}"),
                    token,
                    body,
                    200,
                )
                .await?;
            }
            Some((app.clone(), settlement, claim))
        };
        if let Some(done) = chain.await {
            acked.settled.push(done);
        }
    }
    acked
}

/// Reads a feed page by page from `after`, as `token`; checks that positions only grow. Returns the events.
async fn read_feed(ctx: &Ctx, token: &str, mut after: i64, until_empty: bool, stop: Option<&AtomicBool>) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return events;
        }
        let (status, page) = ctx
            .call(
                "GET",
                &format!("/api/v1/events?after={after}&limit=100"),
                token,
                None,
                None,
            )
            .await;
        if status != 200 {
            ctx.stats.fail(format!("feed: {status} {page}"));
            return events;
        }
        let items = page["items"].as_array().cloned().unwrap_or_default();
        for e in &items {
            let p = e["position"].as_i64().unwrap_or(-1);
            if p <= after {
                ctx.stats.fail(format!("feed went back: {p} after {after}"));
            }
            after = p;
        }
        if items.is_empty() {
            if until_empty {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        events.extend(items);
    }
}

async fn subscribe(ctx: &Ctx, token: &str) -> (Receiver, i64) {
    let (receiver, url) = Receiver::start().await;
    let got = ctx
        .call(
            "POST",
            "/api/v1/webhooks",
            token,
            Some(&format!("hook-{url}")),
            Some(&json!({"url": url, "eventTypes": ["*"]})),
        )
        .await;
    let hook = ctx.expect("subscribe", got, 201).unwrap();
    *receiver.secret.lock().unwrap() = hook["secret"].as_str().unwrap().to_owned();
    let (_, page) = ctx
        .call("GET", "/api/v1/events?after=0&limit=1", token, None, None)
        .await;
    // Everything after the newest event at this moment must reach the receiver.
    let newest = read_feed(ctx, token, page["nextCursor"].as_i64().unwrap_or(0), true, None).await;
    let cursor = newest
        .last()
        .and_then(|e| e["position"].as_i64())
        .unwrap_or(page["nextCursor"].as_i64().unwrap_or(0));
    (receiver, cursor)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

async fn scalar(db: &tokio_postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).await.unwrap().get::<_, i64>(0)
}

#[actix_web::test]
async fn two_services_under_load_survive_kills_and_database_restarts_without_losing_or_doubling_anything() {
    let seed = env_u64("CHAOS_SEED").unwrap_or_else(|| now() ^ u64::from(std::process::id()));
    let seconds = env_u64("CHAOS_SECONDS").unwrap_or(60);
    println!("chaos seed: {seed} (replay with CHAOS_SEED={seed}), load phase {seconds} s");

    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let options = LocalPgOptions::default();
    let pg = LocalPostgres::start(dir.path(), &options).unwrap();
    let db_url = pg.url("postgres");
    let pool_wait = format!("{}s", POOL_WAIT.as_secs());
    let statement_timeout = format!("{}s", STATEMENT_TIMEOUT.as_secs());
    let env: Vec<(&str, &str)> = vec![
        ("VERSORGUNG_DB_POOL_WAIT_TIMEOUT", &pool_wait),
        ("VERSORGUNG_DB_STATEMENT_TIMEOUT", &statement_timeout),
        // Deliveries that failed while a service or the database was down retry within seconds once it is back
        // (the production ceiling of two hours would outlast the test's wait for them).
        ("VERSORGUNG_WEBHOOK_BACKOFF_MAX", "2s"),
        ("RUST_LOG", "error"),
    ];
    let ports = [free_port(), free_port()];
    let (a, b) = futures_util::join!(start_with(&db_url, ports[0], &env), start_with(&db_url, ports[1], &env));
    let mut instances: [Option<Instance>; 2] = [Some(a), Some(b)];
    let ctx = Ctx {
        bases: ports.map(|p| format!("http://127.0.0.1:{p}")),
        client: reqwest::Client::new(),
        stats: Arc::new(Stats::default()),
    };

    let (db, connection) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.unwrap();
    actix_web::rt::spawn(connection);
    db.batch_execute(&format!(
        "UPDATE funding_lines SET budget_cents = {} WHERE code = 'GK'",
        GRANT * FITTING
    ))
    .await
    .unwrap();
    drop(db);

    // The recipient's bank details, which a payment needs (PUT under the If-Match of what is there).
    let account = ctx
        .client
        .get(format!("{}/api/v1/organisations/06636/bank-account", ctx.bases[0]))
        .bearer_auth(municipality())
        .send()
        .await
        .unwrap();
    let version = account.headers()["etag"].to_str().unwrap().to_owned();
    let set = ctx
        .client
        .put(format!("{}/api/v1/organisations/06636/bank-account", ctx.bases[0]))
        .bearer_auth(municipality())
        .header("If-Match", version)
        .json(&json!({"iban": "DE89370400440532013000", "accountHolder": "Werra-Meißner-Kreis"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);

    let (staff_hooks, staff_from) = subscribe(&ctx, &ministry()).await;
    let (town_hooks, town_from) = subscribe(&ctx, &municipality()).await;

    // The load.
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let queue = Arc::new(tokio::sync::Mutex::new(rx));
    let clerks: Vec<_> = (0..4)
        .map(|w| actix_web::rt::spawn(clerk(ctx.clone(), w, stop.clone(), tx.clone())))
        .collect();
    drop(tx);
    let (granted_tx, granted_rx) = tokio::sync::mpsc::unbounded_channel();
    let granted_queue = Arc::new(tokio::sync::Mutex::new(granted_rx));
    let reviewers: Vec<_> = (0..2)
        .map(|_| actix_web::rt::spawn(reviewer(ctx.clone(), stop.clone(), queue.clone(), granted_tx.clone())))
        .collect();
    drop(granted_tx);
    let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let officers: Vec<_> = (0..2)
        .map(|_| {
            actix_web::rt::spawn(grant_officer(
                ctx.clone(),
                stop.clone(),
                granted_queue.clone(),
                taken.clone(),
            ))
        })
        .collect();
    let readers: Vec<_> = [ministry(), municipality()]
        .into_iter()
        .map(|token| {
            let (ctx, stop) = (ctx.clone(), stop.clone());
            actix_web::rt::spawn(async move { read_feed(&ctx, &token, 0, false, Some(&stop)).await.len() })
        })
        .collect();

    // The faults: one at a time, at moments drawn from the seed.
    let mut rng = StdRng::seed_from_u64(seed);
    let pg = Arc::new(Mutex::new(pg));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(rng.random_range(500..2500))).await;
        let fault = rng.random_range(0..4);
        let down = Duration::from_millis(rng.random_range(100..1500));
        match fault {
            0 | 1 => {
                let mut instance = instances[fault].take().unwrap();
                actix_web::rt::task::spawn_blocking(move || {
                    instance.child.kill().unwrap(); // SIGKILL: requests cut mid-flight, nothing flushed
                    instance.child.wait().unwrap();
                })
                .await
                .unwrap();
                tokio::time::sleep(down).await;
                instances[fault] = Some(start_with(&db_url, ports[fault], &env).await);
                ctx.stats
                    .faults
                    .lock()
                    .unwrap()
                    .push(format!("SIGKILL service {fault}"));
            }
            _ => {
                let mode = if fault == 2 {
                    StopMode::Fast
                } else {
                    StopMode::Immediate
                };
                let p = pg.clone();
                actix_web::rt::task::spawn_blocking(move || p.lock().unwrap().stop_in(mode))
                    .await
                    .unwrap();
                tokio::time::sleep(down).await;
                let (p, o) = (pg.clone(), options.clone());
                actix_web::rt::task::spawn_blocking(move || p.lock().unwrap().start_again(&o))
                    .await
                    .unwrap()
                    .unwrap();
                ctx.stats
                    .faults
                    .lock()
                    .unwrap()
                    .push(format!("PostgreSQL stop {mode:?}"));
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    let mut acked = Acked::default();
    for c in clerks {
        let a = c.await.unwrap();
        acked.created.extend(a.created);
        acked.comments.extend(a.comments);
    }
    for r in reviewers {
        let a = r.await.unwrap();
        acked.approved.extend(a.approved);
        acked.refused.extend(a.refused);
    }
    for o in officers {
        acked.settled.extend(o.await.unwrap().settled);
    }
    let followed: Vec<usize> = futures_util::future::join_all(readers)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();

    // Nothing that must not happen happened.
    let failures = ctx.stats.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    let faults = ctx.stats.faults.lock().unwrap().clone();
    assert!(faults.len() >= 3, "too few faults injected: {faults:?}");
    assert!(
        acked.created.len() >= 20 && !acked.approved.is_empty(),
        "too little load"
    );

    // Every acknowledged write exists exactly once.
    let (db, connection) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.unwrap();
    actix_web::rt::spawn(connection);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM applications").await,
        acked.created.len() as i64
    );
    assert_eq!(acked.created.iter().collect::<HashSet<_>>().len(), acked.created.len());
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM application_comments").await,
        acked.comments.len() as i64
    );
    let approved = scalar(&db, "SELECT count(*) FROM applications WHERE status = 'approved'").await;
    assert_eq!(approved, acked.approved.len() as i64);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM applications WHERE status = 'in_review'").await,
        acked.refused.len() as i64,
        "a refused approval leaves its application in review"
    );

    // committed = Σ granted of approved applications − Σ released by confirmed settlements ≤ budget.
    let committed = scalar(&db, "SELECT committed_cents FROM funding_lines WHERE code = 'GK'").await;
    let granted = scalar(
        &db,
        "SELECT coalesce(sum(granted_cents), 0)::bigint FROM applications WHERE status = 'approved' AND funding_line_code = 'GK'",
    )
    .await;
    let released = scalar(
        &db,
        "SELECT coalesce(sum(released_cents), 0)::bigint FROM settlements WHERE status = 'confirmed'",
    )
    .await;
    assert_eq!(committed, granted - released);
    assert!(committed <= GRANT * FITTING);
    // The ledger agrees with itself: each fiscal year's committed and paid are its grants' sums, and paid is what
    // the paid payment requests paid.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM funding_line_years y WHERE committed_cents <> (SELECT coalesce(sum(g.committed_cents), 0) \
             FROM grant_years g WHERE g.funding_line_code = y.funding_line_code AND g.year = y.year) \
             OR paid_cents <> (SELECT coalesce(sum(g.paid_cents), 0) FROM grant_years g \
             WHERE g.funding_line_code = y.funding_line_code AND g.year = y.year)"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT coalesce(sum(paid_cents), 0)::bigint FROM funding_line_years WHERE funding_line_code = 'GK'"
        )
        .await,
        scalar(
            &db,
            "SELECT coalesce(sum(amount_cents), 0)::bigint FROM payment_requests WHERE status = 'paid'"
        )
        .await
    );
    // Every grant the officers acknowledged as done exists once, settled and repaid; no other was.
    let done = acked.settled.len() as i64;
    assert!(done > 0, "no grant was settled");
    for (sql, want) in [
        ("SELECT count(*) FROM settlements WHERE status = 'confirmed'", done),
        ("SELECT count(*) FROM recovery_claims WHERE status = 'paid'", done),
        ("SELECT count(*) FROM payment_requests WHERE status = 'paid'", done),
        ("SELECT count(*) FROM grant_notices WHERE status = 'closed'", done),
        (
            "SELECT count(*) FROM change_requests WHERE status = 'acknowledged'",
            done,
        ),
        (
            "SELECT coalesce(sum(principal_cents), 0)::bigint FROM recovery_claims",
            400_000 * done,
        ),
    ] {
        assert_eq!(scalar(&db, sql).await, want, "{sql}");
    }
    if acked.created.len() as i64 > FITTING + 2 && acked.refused.is_empty() && released == 0 {
        assert_eq!(
            committed,
            GRANT * FITTING,
            "approvals stopped before the budget ran out"
        );
    }

    // The feed from 0 has every event exactly once, in order.
    let feed = read_feed(&ctx, &ministry(), 0, true, None).await;
    let positions: Vec<i64> = feed.iter().map(|e| e["position"].as_i64().unwrap()).collect();
    let stored: Vec<i64> = db
        .query("SELECT position FROM events ORDER BY position", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, Option<i64>>(0).unwrap_or(-1))
        .collect();
    assert_eq!(
        positions, stored,
        "the feed is the events table, each once, in order, none unsequenced"
    );
    let of_type = |t: &str| -> Vec<String> {
        feed.iter()
            .filter(|e| e["type"] == t)
            .map(|e| e["resourceId"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut created_events = of_type("application.created");
    created_events.sort();
    let mut created = acked.created.clone();
    created.sort();
    assert_eq!(
        created_events, created,
        "one application.created per acknowledged create"
    );
    assert_eq!(of_type("application.commented").len(), acked.comments.len());
    let mut approved_events = of_type("application.approved");
    approved_events.sort();
    let mut approvals = acked.approved.clone();
    approvals.sort();
    assert_eq!(
        approved_events, approvals,
        "one application.approved per acknowledged approval"
    );
    // The statistics, kept by triggers through all of it (kills and database restarts included), equal a full
    // recount for every grouping.
    let groups = crate::statistics::assert_statistics_equal_recount(&ctx.client, &ctx.bases[0], &db).await;
    println!("statistics equal a full recount: {groups} groups over 32 groupings");

    // Every subscription received every event it may see, at least once, each signed correctly.
    let town_feed = read_feed(&ctx, &municipality(), town_from, true, None).await;
    let expect_staff: HashSet<i64> = positions.iter().copied().filter(|p| *p > staff_from).collect();
    let expect_town: HashSet<i64> = town_feed.iter().map(|e| e["position"].as_i64().unwrap()).collect();
    let delivered = |r: &Receiver| -> (HashSet<i64>, usize, usize) {
        let got = r.got.lock().unwrap();
        let positions = got
            .iter()
            .filter_map(|(_, p, _)| p["data"]["position"].as_i64())
            .collect();
        (
            positions,
            got.len(),
            got.iter().filter(|(_, _, verified)| !verified).count(),
        )
    };
    let waited = Instant::now();
    loop {
        let (staff, _, _) = delivered(&staff_hooks);
        let (town, _, _) = delivered(&town_hooks);
        if expect_staff.is_subset(&staff) && expect_town.is_subset(&town) {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "webhooks missing: staff {} of {}, municipality {} of {}",
            expect_staff.difference(&staff).count(),
            expect_staff.len(),
            expect_town.difference(&town).count(),
            expect_town.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (staff, staff_messages, staff_unsigned) = delivered(&staff_hooks);
    let (town, town_messages, town_unsigned) = delivered(&town_hooks);
    assert_eq!(
        (staff_unsigned, town_unsigned),
        (0, 0),
        "every delivery carries a valid signature"
    );
    assert!(
        town.is_subset(&expect_town),
        "the municipality received only what it may see"
    );
    assert!(staff.is_subset(&positions.iter().copied().collect()));

    let count = |kind: &str| faults.iter().filter(|f| f.contains(kind)).count();
    println!(
        "chaos seed {seed}: {} s, {} requests, {} answered 503, {} retries ({} on a dropped connection); faults: {} \
         (SIGKILL {}, PostgreSQL fast stop {}, immediate stop {}); acknowledged: {} drafts, {} comments, {} approvals, \
         {} refused for budget, {} grants settled and reclaimed; committed {committed} of {} cents; feed {} events (followers read {followed:?}); \
         webhooks {} + {} messages for {} + {} events",
        seconds,
        ctx.stats.requests.load(Ordering::Relaxed),
        ctx.stats.unavailable.load(Ordering::Relaxed),
        ctx.stats.retries.load(Ordering::Relaxed),
        ctx.stats.dropped.load(Ordering::Relaxed),
        faults.len(),
        count("SIGKILL"),
        count("Fast"),
        count("Immediate"),
        acked.created.len(),
        acked.comments.len(),
        acked.approved.len(),
        acked.refused.len(),
        acked.settled.len(),
        GRANT * FITTING,
        feed.len(),
        staff_messages,
        town_messages,
        expect_staff.len(),
        expect_town.len(),
    );
    drop(instances);
    pg.lock().unwrap().stop();
}

//! Faults under load: the service killed with SIGKILL, PostgreSQL restarted. Acknowledged writes survive, retries
//! with idempotency keys double nothing, an outage is a prompt 503 and the service recovers by itself.

use crate::helpers::*;
use crate::instances::{start_at, start_with};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use versorgung::db::local_pg::{LocalPgOptions, LocalPostgres};

fn draft(title: &str) -> Value {
    json!({"fundingLine": "GK", "title": title})
}

/// One logical create, retried with the same key until it is answered 2xx. Returns the id and how many answers
/// were 2xx (the first and any replay).
async fn create_until_acknowledged(client: &reqwest::Client, base: &str, key: &str) -> String {
    let started = Instant::now();
    loop {
        let res = client
            .post(format!("{base}/api/v1/applications"))
            .bearer_auth(municipality())
            .header("Idempotency-Key", key)
            .json(&draft(key))
            .send()
            .await;
        match res {
            Ok(res) if res.status().is_success() => {
                let body: Value = res.json().await.unwrap();
                return body["id"].as_str().unwrap().to_owned();
            }
            // 503 while the service starts, 409 while the first attempt is still in flight elsewhere: retry.
            Ok(res) => assert!(
                [409, 503].contains(&res.status().as_u16()),
                "unexpected {} for {key}: {:?}",
                res.status(),
                res.text().await
            ),
            // Connection refused or reset: the process is down.
            Err(_) => {}
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{key} never acknowledged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn sigkill_under_write_load_loses_no_acknowledged_write_and_retries_double_nothing() {
    let app = TestApp::spawn().await;
    let port = free_port();
    let mut instance = start_at(&app.db.url, port).await;
    let base = instance.base.clone();
    let stop = Arc::new(AtomicBool::new(false));

    // Four clients, each creating drafts one after another, every create with its own idempotency key.
    let mut writers = Vec::new();
    for w in 0..4 {
        let stop = stop.clone();
        let base = base.clone();
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut acknowledged = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let key = format!("kill9-{w}-{i}");
                let id = create_until_acknowledged(&client, &base, &key).await;
                acknowledged.push((key, id));
                i += 1;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    instance.child.kill().unwrap(); // SIGKILL: no shutdown, no flushing, requests cut mid-flight
    instance.child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let instance = start_at(&app.db.url, port).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.store(true, Ordering::SeqCst);

    let mut acknowledged: HashMap<String, String> = HashMap::new();
    for w in writers {
        for (key, id) in w.await.unwrap() {
            assert!(acknowledged.insert(key, id).is_none());
        }
    }
    assert!(acknowledged.len() >= 8, "too little load: {}", acknowledged.len());

    // Every acknowledged create is stored exactly once: one row per key, with the acknowledged id.
    let ids: HashSet<&String> = acknowledged.values().collect();
    assert_eq!(ids.len(), acknowledged.len(), "two keys answered with one id");
    assert_eq!(app.db_count("applications").await, acknowledged.len() as i64);
    let client = reqwest::Client::new();
    for (key, id) in &acknowledged {
        let res = app
            .get(&format!("/api/v1/applications/{id}"), Some(&municipality()))
            .await;
        assert_eq!(res.status(), 200, "{key} acknowledged as {id} but not stored");
        // A late retry replays the stored answer.
        let replay = client
            .post(format!("{}/api/v1/applications", instance.base))
            .bearer_auth(municipality())
            .header("Idempotency-Key", key)
            .json(&draft(key))
            .send()
            .await
            .unwrap();
        assert!(replay.status().is_success());
        assert_eq!(replay.json::<Value>().await.unwrap()["id"], id.as_str());
    }
    assert_eq!(app.db_count("applications").await, acknowledged.len() as i64);
}

#[actix_web::test]
async fn a_postgresql_restart_is_a_prompt_503_and_the_service_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let options = LocalPgOptions::default();
    let mut pg = LocalPostgres::start(dir.path(), &options).unwrap();
    let instance = start_with(
        &pg.url("postgres"),
        free_port(),
        &[("VERSORGUNG_DB_POOL_WAIT_TIMEOUT", "2s"), ("RUST_LOG", "error")],
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let get = |path: &str| {
        client
            .get(format!("{}{path}", instance.base))
            .bearer_auth(ministry())
            .send()
    };
    assert_eq!(get("/api/v1/funding-lines").await.unwrap().status(), 200);

    // Steady load while the database goes away.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        let base = instance.base.clone();
        let client = client.clone();
        tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let started = Instant::now();
                let res = client
                    .post(format!("{base}/api/v1/applications"))
                    .bearer_auth(municipality())
                    .header("Idempotency-Key", format!("outage-{i}"))
                    .json(&draft("Während der Wartung"))
                    .send()
                    .await
                    .unwrap();
                let retry_after = res.headers().get("retry-after").is_some();
                let problem = res
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
                answers.push((res.status().as_u16(), started.elapsed(), retry_after, problem));
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answers
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    pg.stop();

    // During the outage: 503 problems with Retry-After, each within the pool's wait, not a hang.
    let down = Instant::now();
    let res = get("/health/ready").await.unwrap();
    assert!(down.elapsed() < Duration::from_secs(5));
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let started = Instant::now();
    let res = get("/api/v1/funding-lines").await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 503).await;
    assert_eq!(
        get("/health/live").await.unwrap().status(),
        200,
        "the process itself is alive"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    pg.restart(&options).unwrap();
    // Recovery without restarting the service.
    let back = Instant::now();
    loop {
        if get("/health/ready").await.unwrap().status() == 200
            && get("/api/v1/funding-lines").await.unwrap().status() == 200
        {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(15), "the service did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let answers = load.await.unwrap();

    let failed: Vec<_> = answers.iter().filter(|a| a.0 != 201).collect();
    assert!(!failed.is_empty(), "the load saw no outage");
    for (status, took, retry_after, is_problem) in &failed {
        assert_eq!(*status, 503, "only 503 during the outage");
        assert!(*retry_after && *is_problem);
        assert!(*took < Duration::from_secs(5), "a request hung for {took:?}");
    }
    assert_eq!(answers.last().unwrap().0, 201, "writes succeed again after recovery");
    drop(instance);
    pg.stop();
}

/// Two transactions that lock two rows in opposite orders deadlock; PostgreSQL aborts one of them (SQLSTATE 40P01),
/// `db::transaction` runs it again after a short random pause, and both commit: no request would have seen an error.
#[actix_web::test]
async fn a_deadlock_is_retried_and_both_transactions_commit() {
    use diesel_async::RunQueryDsl;
    use std::sync::atomic::AtomicU32;
    use versorgung::db::{PoolSettings, TRANSACTION_RETRIES, build_pool, transaction};
    let db = TestDb::new().await;
    TestDb::execute(&db, "CREATE TABLE pair (id int PRIMARY KEY, n int NOT NULL)").await;
    TestDb::execute(&db, "INSERT INTO pair VALUES (1, 0), (2, 0)").await;
    let settings = PoolSettings {
        max_size: 2,
        wait_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(30),
    };
    let pool = build_pool(&db.url, &settings).unwrap();
    let retries_before = std::sync::atomic::AtomicU64::load(&TRANSACTION_RETRIES, Ordering::Relaxed);
    let both_hold_one = Arc::new(tokio::sync::Barrier::new(2));
    let run = |first: i32, second: i32| {
        let (pool, both_hold_one) = (pool.clone(), both_hold_one.clone());
        async move {
            let attempts = AtomicU32::new(0);
            let mut conn = pool.get().await.unwrap();
            let outcome = transaction(&mut conn, async |conn| {
                let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
                let bump = "UPDATE pair SET n = n + 1 WHERE id = $1";
                diesel::sql_query(bump)
                    .bind::<diesel::sql_types::Integer, _>(first)
                    .execute(conn)
                    .await?;
                if attempt == 1 {
                    // Each holds its first row before asking for the other's: a deadlock, on the first attempt only.
                    both_hold_one.wait().await;
                }
                diesel::sql_query(bump)
                    .bind::<diesel::sql_types::Integer, _>(second)
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await;
            (outcome, attempts.into_inner())
        }
    };
    let ((a, a_attempts), (b, b_attempts)) = futures_util::join!(run(1, 2), run(2, 1));
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(a_attempts + b_attempts, 3, "exactly one of the two ran again");
    assert!(std::sync::atomic::AtomicU64::load(&TRANSACTION_RETRIES, Ordering::Relaxed) > retries_before);
    let mut conn = db.conn().await;
    #[derive(diesel::QueryableByName)]
    struct Total {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        total: i64,
    }
    let total: Total = diesel::sql_query("SELECT sum(n)::bigint AS total FROM pair")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(total.total, 4, "both transactions committed, each once");
}

/// A statement whose session the server ends (pg_terminate_backend: SQLSTATE 57P01) is a 503, and its connection is
/// dropped from the pool: the next checkout gets a new session, never the dead one.
#[actix_web::test]
async fn a_connection_whose_session_was_ended_is_never_handed_out_again() {
    use actix_web::ResponseError;
    use diesel_async::RunQueryDsl;
    use versorgung::db::{PoolSettings, build_pool};
    use versorgung::error::ApiError;
    use versorgung::error::database::{Failure, classify};
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let pid_query = "SELECT pg_backend_pid() AS pid";
    let db = TestDb::new().await;
    let settings = PoolSettings {
        max_size: 1,
        wait_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(30),
    };
    let pool = build_pool(&db.url, &settings).unwrap();
    let mut conn = pool.get().await.unwrap();
    let pid = diesel::sql_query(pid_query)
        .get_result::<Pid>(&mut conn)
        .await
        .unwrap()
        .pid;
    let admin_url = db.url.clone();
    let killer = actix_web::rt::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut admin = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&admin_url)
            .await
            .unwrap();
        diesel::sql_query(format!("SELECT pg_terminate_backend({pid})"))
            .execute(&mut admin)
            .await
            .unwrap();
    });
    let err = diesel::sql_query("SELECT pg_sleep(20)")
        .execute(&mut conn)
        .await
        .unwrap_err();
    killer.await.unwrap();
    assert_eq!(classify(&err), Failure::Unavailable { discard: true }, "{err:?}");
    assert_eq!(ApiError::from(err).status_code().as_u16(), 503);
    drop(conn);
    let mut conn = pool.get().await.unwrap();
    let fresh = diesel::sql_query(pid_query)
        .get_result::<Pid>(&mut conn)
        .await
        .unwrap()
        .pid;
    assert_ne!(fresh, pid, "the dead session's connection came back from the pool");
}

//! Test harness: one PostgreSQL per test run (`TEST_DATABASE_URL`, or a throwaway cluster started here), a template
//! database migrated once, and for each test its own database cloned from the template and the real app bound to a
//! free port. Requests go over real HTTP with real JWTs.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use versorgung::auth::Verifier;
use versorgung::config::ServeArgs;
use versorgung::db::local_pg::{LocalPgOptions, LocalPostgres};
use versorgung::db::{PoolSettings, build_pool};
use versorgung::server::build_server;
use versorgung::state::AppState;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

struct Cluster {
    admin_url: String,
    template: String,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

fn cluster() -> &'static Cluster {
    let result = CLUSTER.get_or_init(|| {
        // Set-up runs on its own thread and runtime: tests each have their own runtime, and none of them may own
        // the connections used here.
        std::thread::spawn(|| {
            let admin_url = match std::env::var("TEST_DATABASE_URL") {
                Ok(url) => url,
                Err(_) => {
                    let dir = std::env::temp_dir().join(format!("versorgung-test-pg-{}", std::process::id()));
                    let pg = LocalPostgres::start(
                        &dir,
                        &LocalPgOptions {
                            ephemeral: true,
                            tls: None,
                        },
                    )
                    .map_err(|e| e.to_string())?;
                    pg.stop_when_process_exits(std::process::id(), &dir)
                        .map_err(|e| e.to_string())?;
                    let url = pg.url("postgres");
                    pg.detach();
                    url
                }
            };
            let template = format!("versorgung_template_{}", std::process::id());
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = AsyncPgConnection::establish(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {template} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                diesel::sql_query(format!("CREATE DATABASE {template}"))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                versorgung::db::run_migrations(&with_database(&admin_url, &template)).await?;
                Ok::<_, String>(())
            })?;
            Ok(Cluster { admin_url, template })
        })
        .join()
        .unwrap_or_else(|_| Err("cluster set-up panicked".into()))
    });
    match result {
        Ok(c) => c,
        Err(e) => panic!("test database unavailable: {e}"),
    }
}

/// A fresh database cloned from the migrated template; dropped when the value is dropped.
pub struct TestDb {
    pub url: String,
    pub name: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let cluster = cluster();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = AsyncPgConnection::establish(&cluster.admin_url)
            .await
            .expect("admin connection");
        diesel::sql_query(format!(
            "CREATE DATABASE {name} TEMPLATE {} STRATEGY FILE_COPY",
            cluster.template
        ))
        .execute(&mut conn)
        .await
        .expect("clone template");
        Self {
            url: with_database(&cluster.admin_url, &name),
            name,
        }
    }

    /// An empty database (not from the template), for migration tests.
    pub async fn empty() -> Self {
        let cluster = cluster();
        let name = format!("e_{}", uuid::Uuid::new_v4().simple());
        let mut conn = AsyncPgConnection::establish(&cluster.admin_url)
            .await
            .expect("admin connection");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        Self {
            url: with_database(&cluster.admin_url, &name),
            name,
        }
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("test db connection")
    }

    /// Runs SQL directly (to set up states the API does not offer, or to inspect rows).
    pub async fn execute(&self, sql: &str) {
        let mut conn = self.conn().await;
        diesel::sql_query(sql).execute(&mut conn).await.expect("sql");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(Ok(cluster)) = CLUSTER.get() else {
            return;
        };
        let admin = cluster.admin_url.clone();
        let name = self.name.clone();
        // Dropping needs async I/O, and Drop cannot await: do it on a thread of its own, and do not wait for it.
        // Waiting would block the test's runtime while the app's background worker may be halfway through opening
        // a connection to this database; DROP ... WITH (FORCE) would then wait for that stalled login until
        // PostgreSQL's authentication_timeout (60 s). A throwaway cluster is removed with everything in it anyway.
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = AsyncPgConnection::establish(&admin).await {
                    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        });
    }
}

/// The real application on a free port, with its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
}

/// Today's date in Hessen, as the service computes it (`YYYY-MM-DD`).
pub fn today() -> String {
    versorgung::core::time::today_in_hessen().to_string()
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Default arguments for a test server: HS256 with [`SECRET`], one worker.
pub fn test_args() -> ServeArgs {
    let mut args = ServeArgs::default();
    args.auth.jwt_secret = Some(SECRET.into());
    args.http.workers = Some(1);
    args.http.shutdown_timeout = Duration::from_secs(1);
    // Tests fire hundreds of requests a second from one address; the limits have their own tests.
    args.rate_limits.rate_limit_token_per_second = 0;
    args.rate_limits.rate_limit_address_per_second = 0;
    // The fixtures are written against fixed dates (projects starting 2027-01-01): the suite's calendar day is pinned
    // so that rules comparing with today (early start, payout window, final notices) keep their meaning.
    args.today = Some(PINNED_TODAY.parse().expect("date"));
    args
}

/// The calendar day every test server works on (see [`test_args`]).
pub const PINNED_TODAY: &str = "2026-11-27";

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut ServeArgs)) -> Self {
        let db = TestDb::new().await;
        let mut args = test_args();
        configure(&mut args);
        let pool = build_pool(
            &db.url,
            &PoolSettings {
                max_size: args.db.db_pool_size,
                wait_timeout: args.db.db_pool_wait_timeout,
                statement_timeout: args.db.db_statement_timeout,
            },
        )
        .expect("pool");
        let (verifier, _) = Verifier::from_config(&args.auth, &args.db.data_dir).expect("verifier");
        verifier.warm_up().await;
        let state = actix_web::web::Data::new(AppState::new(pool, verifier, &args).expect("state"));
        versorgung::server::spawn_workers(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = build_server(state, listener, &args).expect("server");
        actix_web::rt::spawn(server);
        Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            db,
        }
    }

    /// Rows in a table of this test's database.
    pub async fn db_count(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db.conn().await;
        let rows: Vec<Count> = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .load(&mut conn)
            .await
            .expect("count");
        rows[0].n
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// A GET with an `Accept` header.
    pub async fn get_accepting(&self, path: &str, token: Option<&str>, accept: &str) -> reqwest::Response {
        let mut req = self.client.get(self.url(path)).header("Accept", accept);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// A GET with `Accept: text/csv` that must answer 200 with CSV: its text.
    pub async fn get_csv(&self, path: &str, token: Option<&str>) -> String {
        let res = self.get_accepting(path, token, "text/csv").await;
        assert_eq!(res.status(), 200, "{path}");
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/csv"), "{path}: {kind}");
        res.text().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.client.put(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    pub async fn patch(
        &self,
        path: &str,
        token: Option<&str>,
        if_match: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.client.patch(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(m) = if_match {
            req = req.header("If-Match", m);
        }
        req.send().await.expect("request")
    }
}

/// Signs claims with the test secret.
pub fn sign(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign")
}

/// A valid token for a role (and organisation).
pub fn token(role: &str, org: Option<&str>) -> String {
    let mut claims = json!({"sub": format!("test-{role}"), "role": role, "exp": now() + 3600, "iat": now()});
    if let Some(org) = org {
        claims["org"] = json!(org);
    }
    sign(&claims)
}

pub fn ministry() -> String {
    token("ministry", None)
}

/// A second ministry person (another `sub`), for the four-eyes rules.
pub fn second_reviewer() -> String {
    sign(&json!({"sub": "test-ministry-2", "role": "ministry", "exp": now() + 3600, "iat": now()}))
}

pub fn service_unit() -> String {
    token("service_unit", None)
}

/// A municipality user of Werra-Meißner-Kreis.
pub fn municipality() -> String {
    token("municipality", Some("06636"))
}

/// Asserts an RFC 9457 problem with the given status and returns its body.
pub async fn problem(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let header_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = res.json().await.expect("problem json");
    assert_eq!(body["status"], status);
    assert!(
        body["type"].as_str().unwrap_or_default().starts_with("https://"),
        "{body}"
    );
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    assert_eq!(body["requestId"], header_id, "requestId equals X-Request-Id");
    body
}

/// The JSON pointers named in a problem's `errors`.
pub fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// JSON Merge Patch of test bodies (the service's own implementation).
pub fn merge(target: &mut Value, patch: &Value) {
    versorgung::http::patch::merge_patch(target, patch);
}

/// The records of an RFC 4180 text (quoted cells may hold commas, quotes and line breaks), the header first.
pub fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !record.is_empty() {
        record.push(cell);
        records.push(record);
    }
    records
}

/// A loopback port that was free a moment ago (for service processes started on a fixed port).
///
/// Chosen below the kernel's ephemeral range: a port that binding port 0 hands out comes from that range, which is
/// also where every outgoing connection of every test takes its local port, so such a port could be taken by some
/// test's client before the service bound it (CI saw "Address already in use"). Ports below the range are taken
/// only by listeners that ask for them by number.
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    // Room below the range (above the privileged ports): [first, low).
    let first: u16 = if low > 12000 { 10000 } else { 1024 };
    let span = u64::from(low.saturating_sub(first));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut seed = (u64::from(std::process::id()) << 32) ^ u64::from(nanos);
    for _ in 0..if span > 0 { 200 } else { 0 } {
        // A linear congruential step: enough spread that concurrent test processes rarely try the same port.
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let port = first + ((seed >> 33) % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    // No room below the range, or none of it free: what binding port 0 gives.
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

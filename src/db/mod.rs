//! Database access: the connection pool, embedded migrations and the private local cluster.

pub mod cached;
pub mod local_pg;
pub mod schema;
pub mod tls;

use diesel::QueryableByName;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::migration::MigrationSource;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::PoolableConnection;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::database::classify;
use crate::error::{ApiError, ApiResult};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = deadpool::managed::Pool<Manager>;
/// The connection every store function takes; handlers name it through this alias and never use diesel themselves.
pub type Connection = diesel_async::AsyncPgConnection;
pub type DbConn = deadpool::managed::Object<Manager>;

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: usize,
    pub wait_timeout: Duration,
    pub statement_timeout: Duration,
}

/// A pooled connection and whether it has seen a failure that ends its session (src/error/database.rs decides which
/// do: a connection exception, an admin shutdown, ...). Such a connection is never handed out again.
pub struct Conn {
    pg: AsyncPgConnection,
    broken: Arc<AtomicBool>,
}

impl Deref for Conn {
    type Target = AsyncPgConnection;
    fn deref(&self) -> &AsyncPgConnection {
        &self.pg
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        &mut self.pg
    }
}

/// Sees every statement's outcome on its connection (diesel's instrumentation hook) and marks the connection broken
/// when the failure's class says the session is gone. Reads outside a transaction are covered as well as writes.
struct Watch(Arc<AtomicBool>);

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error: Some(err), .. } = event
            && classify(err).discards_connection()
        {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// The pool's manager: opens connections (TLS per `sslmode`, then the session settings) and, when one comes back,
/// keeps it only if it is healthy. No `SELECT 1` before a checkout (diesel-async's default): it cost a fifth of the
/// database's capacity on the by-id benchmark (docs/performance.md, F3). A connection whose statement failed with a
/// session-ending error, whose socket is closed, or whose transaction state is unknown is dropped on its return.
pub struct Manager {
    url: String,
    setup: String,
}

impl deadpool::managed::Manager for Manager {
    type Type = Conn;
    type Error = diesel::ConnectionError;

    async fn create(&self) -> Result<Conn, diesel::ConnectionError> {
        let mut pg = tls::connect(&self.url).await?;
        pg.batch_execute(&self.setup)
            .await
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        let broken = Arc::new(AtomicBool::new(false));
        pg.set_instrumentation(Watch(broken.clone()));
        Ok(Conn { pg, broken })
    }

    async fn recycle(
        &self,
        conn: &mut Conn,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<diesel::ConnectionError> {
        if std::thread::panicking() || conn.broken.load(Ordering::Relaxed) || conn.pg.is_broken() {
            return Err(deadpool::managed::RecycleError::message("broken connection"));
        }
        Ok(())
    }
}

/// Builds the pool. Every new connection gets the configured `statement_timeout`, so that no query can hold a
/// connection (and a request) indefinitely.
pub fn build_pool(url: &str, settings: &PoolSettings) -> Result<DbPool, String> {
    let statement_timeout_ms = settings.statement_timeout.as_millis();
    let manager = Manager {
        url: url.to_owned(),
        setup: format!(
            "SET statement_timeout = {statement_timeout_ms}; SET application_name = 'versorgung'; \
             SET TIME ZONE 'UTC'"
        ),
    };
    DbPool::builder(manager)
        .max_size(settings.max_size)
        .wait_timeout(Some(settings.wait_timeout))
        .create_timeout(Some(settings.wait_timeout.max(Duration::from_secs(5))))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())
}

/// Locks the row `id` of `table` (a constant name, never input) for the rest of the transaction, if it exists: for
/// owners whose own store takes no lock where a dependent write must serialise with them.
pub async fn lock_row(conn: &mut AsyncPgConnection, table: &'static str, id: uuid::Uuid) -> ApiResult<()> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"))
        .bind::<diesel::sql_types::Uuid, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes a connection from the pool; a timeout becomes 503 with Retry-After.
pub async fn conn(pool: &DbPool) -> ApiResult<DbConn> {
    Ok(pool.get().await?)
}

/// Applies pending migrations. Diesel's migration harness is synchronous; it runs on a blocking thread through
/// `AsyncConnectionWrapper`, which drives the async connection with the runtime of the calling context.
pub async fn run_migrations(url: &str) -> Result<Vec<String>, String> {
    let conn = tls::connect(url).await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        // Instances starting together on one database take turns; the second finds nothing pending.
        diesel::sql_query("SELECT pg_advisory_lock(47112026)")
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        let applied: Result<Vec<String>, String> = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(|v| v.to_string()).collect())
            .map_err(|e| e.to_string());
        let _ = diesel::sql_query("SELECT pg_advisory_unlock(47112026)").execute(&mut conn);
        applied
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Whether the database is reachable and every embedded migration has been applied.
pub async fn readiness(pool: &DbPool) -> ApiResult<()> {
    use diesel_async::RunQueryDsl;
    let mut conn = conn(pool).await?;
    let applied: Vec<String> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
        .load::<MigrationRow>(&mut conn)
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?
        .into_iter()
        .map(|r| r.version)
        .collect();
    let missing = <EmbeddedMigrations as MigrationSource<diesel::pg::Pg>>::migrations(&MIGRATIONS)
        .map_err(ApiError::internal)?
        .iter()
        .map(|m| m.name().version().to_string())
        .filter(|v| !applied.contains(v))
        .count();
    if missing > 0 {
        return Err(ApiError::Unavailable(format!("{missing} migration(s) pending")));
    }
    Ok(())
}

#[derive(QueryableByName)]
struct MigrationRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// How often [`transaction`] runs a transaction that lost a race (serialization failure, deadlock) before the
/// client gets a 503.
pub const TRANSACTION_ATTEMPTS: u32 = 4;

/// Transactions run again after a serialization failure or deadlock, since the process started (for /metrics).
pub static TRANSACTION_RETRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs `work` in one transaction: its writes commit together or not at all. A transaction that lost a race
/// (SQLSTATE 40001 or 40P01, [`ApiError::Contended`]) is rolled back and run again, up to [`TRANSACTION_ATTEMPTS`]
/// times with a randomised pause (full jitter, so that the losers of one race do not meet again in the next); `work`
/// must therefore be repeatable, which `AsyncFn` states. Only the outermost transaction retries: a nested one is a
/// savepoint inside an aborted whole. (A request cancelled midway leaves the transaction open on its connection;
/// the pool's recycle check sees that and discards the connection, which rolls it back.)
pub async fn transaction<R>(
    conn: &mut AsyncPgConnection,
    work: impl AsyncFn(&mut AsyncPgConnection) -> ApiResult<R>,
) -> ApiResult<R> {
    use diesel_async::{AnsiTransactionManager, TransactionManager};
    let outermost = matches!(
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(None)
    );
    let mut attempt = 1;
    loop {
        match once(conn, &work).await {
            Err(ApiError::Contended(cause)) if outermost && attempt < TRANSACTION_ATTEMPTS => {
                log::info!("transaction attempt {attempt} lost a race, running it again: {cause}");
                TRANSACTION_RETRIES.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// The pause before attempt `attempt + 1`: uniformly random up to 10 ms, 20 ms, 40 ms, ...
fn backoff(attempt: u32) -> Duration {
    let ceiling_ms = 10u64 << attempt.saturating_sub(1).min(6);
    Duration::from_millis(rand::random_range(1..=ceiling_ms))
}

async fn once<R>(
    conn: &mut AsyncPgConnection,
    work: &impl AsyncFn(&mut AsyncPgConnection) -> ApiResult<R>,
) -> ApiResult<R> {
    use diesel_async::{AnsiTransactionManager, TransactionManager};
    AnsiTransactionManager::begin_transaction(conn).await?;
    let outcome = match work(conn).await {
        Ok(value) => match AnsiTransactionManager::commit_transaction(conn).await {
            Ok(()) => return Ok(value),
            Err(e) => ApiError::from(e),
        },
        Err(e) => e,
    };
    // A failed COMMIT may leave the transaction open (diesel leaves it to the caller): roll back whatever remains.
    if matches!(
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(Some(_))
    ) && let Err(rollback) = AnsiTransactionManager::rollback_transaction(conn).await
    {
        log::warn!("rollback failed: {rollback}");
    }
    Err(outcome)
}

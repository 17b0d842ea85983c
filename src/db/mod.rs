//! Database access: the connection pool, embedded migrations and the private local cluster.

pub mod local_pg;
pub mod schema;
pub mod tls;

use diesel::QueryableByName;
use diesel::migration::MigrationSource;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;
use std::time::Duration;

use crate::error::{ApiError, ApiResult};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<AsyncPgConnection>;
pub type DbConn = Object<AsyncPgConnection>;

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: usize,
    pub wait_timeout: Duration,
    pub statement_timeout: Duration,
}

/// Builds the pool. Every new connection gets the configured `statement_timeout`, so that no query can hold a
/// connection (and a request) indefinitely.
pub fn build_pool(url: &str, settings: &PoolSettings) -> Result<DbPool, String> {
    let statement_timeout_ms = settings.statement_timeout.as_millis();
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // No `SELECT 1` before every checkout (the default): it cost a fifth of the database's capacity on the by-id
    // benchmark (docs/performance.md, F3). A connection that failed is marked broken and dropped on return, and a
    // request that meets a dead one gets 503 and is retried by the client (tests/api/faults.rs).
    config.recycling_method = diesel_async::pooled_connection::RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let url = url.to_owned();
        async move {
            let mut conn = tls::connect(&url).await?;
            conn.batch_execute(&format!(
                "SET statement_timeout = {statement_timeout_ms}; SET application_name = 'versorgung'; \
                 SET TIME ZONE 'UTC'"
            ))
            .await
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(settings.max_size)
        .wait_timeout(Some(settings.wait_timeout))
        .create_timeout(Some(settings.wait_timeout.max(Duration::from_secs(5))))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())
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

/// Runs `work` in one transaction: its writes commit together or not at all. (A request cancelled midway leaves the
/// transaction open on its connection; the pool's recycle check sees that and discards the connection, which rolls
/// it back.)
pub async fn transaction<R>(
    conn: &mut AsyncPgConnection,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> ApiResult<R>,
) -> ApiResult<R> {
    use diesel_async::{AnsiTransactionManager, TransactionManager};
    AnsiTransactionManager::begin_transaction(conn).await?;
    match work(conn).await {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(conn).await {
                log::warn!("rollback failed: {rollback}");
            }
            Err(e)
        }
    }
}

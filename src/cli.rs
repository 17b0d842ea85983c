//! The subcommands: `serve`, `migrate`, `seed`, `token` (and `openapi`, printed by `main.rs` from
//! [`crate::routes::openapi_document`]). `main.rs` only parses the command line.

use actix_web::web;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::net::TcpListener;
use std::time::Duration;

use crate::auth::{Verifier, mint_hs256};
use crate::config::{AuthArgs, DbArgs, JwtAlgorithm, ServeArgs, TokenArgs};
use crate::core::identity::Role;
use crate::db::local_pg::{LocalPgOptions, LocalPostgres};
use crate::db::{DbPool, PoolSettings};
use crate::state::AppState;

/// A database for the service: the configured one, or the private local cluster (which is stopped when the
/// returned guard is dropped).
pub async fn database(db: &DbArgs) -> Result<(String, Option<LocalPostgres>), String> {
    if let Some(url) = &db.database_url {
        return Ok((url.clone(), None));
    }
    let dir = db.data_dir.clone();
    let pg = tokio::task::spawn_blocking(move || LocalPostgres::start(&dir, &LocalPgOptions::default()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    ensure_database(&pg.url("postgres"), "versorgung").await?;
    Ok((pg.url("versorgung"), Some(pg)))
}

/// Creates database `name` through the maintenance database when it does not exist yet.
pub async fn ensure_database(admin_url: &str, name: &str) -> Result<(), String> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        #[allow(dead_code)]
        one: i32,
    }
    let mut conn = AsyncPgConnection::establish(admin_url)
        .await
        .map_err(|e| format!("connecting to PostgreSQL: {e}"))?;
    let found: Vec<Found> = diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .load(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    if found.is_empty() {
        diesel::sql_query(format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn pool_settings(db: &DbArgs) -> PoolSettings {
    PoolSettings {
        max_size: db.db_pool_size,
        wait_timeout: db.db_pool_wait_timeout,
        statement_timeout: db.db_statement_timeout,
    }
}

/// `versorgung serve`.
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let (url, local_pg) = database(&args.db).await?;
    let applied = crate::db::run_migrations(&url).await?;
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    let pool = crate::db::build_pool(&url, &pool_settings(&args.db))?;
    backfill_feed(&pool).await?;
    let (verifier, generated) = Verifier::from_config(&args.auth, &args.db.data_dir)?;
    verifier.warm_up().await;
    let listener = TcpListener::bind(args.bind).map_err(|e| format!("binding {}: {e}", args.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if generated {
        print_dev_tokens(&args.auth, &args.db, addr)?;
    }
    let state = web::Data::new(AppState::new(pool, verifier, &args)?);
    crate::server::spawn_workers(state.clone());
    let server = crate::server::build_server(state, listener, &args).map_err(|e| e.to_string())?;
    log::info!("serving on http://{addr} (Swagger UI: http://{addr}/swagger-ui/)");
    let result = server.await.map_err(|e| e.to_string());
    // The local cluster stops here, after requests in flight have finished.
    drop(local_pg);
    result
}

fn print_dev_tokens(auth: &AuthArgs, db: &DbArgs, addr: std::net::SocketAddr) -> Result<(), String> {
    let (secret, _) = crate::auth::hs256_secret(auth, &db.data_dir)?;
    let ttl = Duration::from_secs(24 * 3600);
    let municipality = mint_hs256(
        &secret,
        Role::Municipality,
        Some("06636"),
        "dev-werra-meissner",
        ttl,
        auth,
    )?;
    let service_unit = mint_hs256(&secret, Role::ServiceUnit, None, "dev-serviceeinheit", ttl, auth)?;
    let ministry = mint_hs256(&secret, Role::Ministry, None, "dev-ministerium", ttl, auth)?;
    println!(
        "\nDevelopment tokens (valid 24 h, signed with the generated secret in {}):\n\n\
         municipality (06636 Werra-Meißner-Kreis):\n  {municipality}\n\n\
         service_unit (Serviceeinheit Gesundheitsversorgung):\n  {service_unit}\n\n\
         ministry (reviewer):\n  {ministry}\n\n\
         Open http://{addr}/swagger-ui/, click \"Authorize\" and paste one token (without \"Bearer \").\n\
         More: versorgung token --role ministry --data-dir {}\n",
        crate::auth::generated_secret_path(&db.data_dir).display(),
        db.data_dir.display()
    );
    Ok(())
}

/// `versorgung migrate`.
pub async fn migrate(db: DbArgs) -> Result<(), String> {
    let (url, local_pg) = database(&db).await?;
    let applied = crate::db::run_migrations(&url).await?;
    println!(
        "applied {} migration(s){}",
        applied.len(),
        if applied.is_empty() { "" } else { ":" }
    );
    for version in applied {
        println!("  {version}");
    }
    drop(local_pg);
    Ok(())
}

/// Puts rows that have no event yet (migrations, demo data) into the change feed.
async fn backfill_feed(pool: &DbPool) -> Result<(), String> {
    let mut conn = crate::db::conn(pool).await.map_err(|e| e.to_string())?;
    let added = crate::events::backfill::run(&mut conn)
        .await
        .map_err(|e| format!("feed backfill: {e}"))?;
    if added > 0 {
        log::info!("added {added} resource(s) to the change feed");
    }
    Ok(())
}

/// `versorgung seed --demo`.
pub async fn seed(args: crate::config::SeedArgs) -> Result<(), String> {
    if !args.demo {
        return Err("nothing to seed: pass --demo for the demo data set".into());
    }
    if let Some(day) = args.today {
        crate::core::time::pin_today(day)?;
    }
    let (url, local_pg) = database(&args.db).await?;
    crate::db::run_migrations(&url).await?;
    let pool = crate::db::build_pool(&url, &pool_settings(&args.db))?;
    let mut conn = crate::db::conn(&pool).await.map_err(|e| e.to_string())?;
    let storage = crate::state::storage(&args.attachments, &args.db.data_dir)?;
    let added = crate::seed::demo(&mut conn, &storage, args.attachments.retention_years)
        .await
        .map_err(|e| format!("seeding failed: {e}"))?;
    drop(conn);
    backfill_feed(&pool).await?;
    if added == 0 {
        println!("demo data is present already; nothing added");
    } else {
        println!("added the demo data: {added} applications in every state, with Gemeinden and Träger");
    }
    drop(local_pg);
    Ok(())
}

/// `versorgung token`.
pub fn token(args: TokenArgs) -> Result<String, String> {
    if args.auth.jwt_algorithm != JwtAlgorithm::Hs256 {
        return Err(
            "`token` signs with the HS256 secret; with RS256/ES256 tokens come from the identity provider".into(),
        );
    }
    let (secret, _) = crate::auth::hs256_secret(&args.auth, &args.data_dir)?;
    let sub = args.sub.unwrap_or_else(|| format!("dev-{}", args.role.as_str()));
    mint_hs256(&secret, args.role, args.org.as_deref(), &sub, args.ttl, &args.auth)
}

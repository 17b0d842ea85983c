//! Start-up: the route table, the HTTP server and the subcommands. `main.rs` only parses the command line.

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Logger, from_fn};
use actix_web::{App, HttpServer, web};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::net::TcpListener;
use std::time::Duration;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{Role, Verifier, mint_hs256};
use crate::config::{AuthArgs, DbArgs, HttpArgs, JwtAlgorithm, ServeArgs, TokenArgs};
use crate::db::local_pg::{LocalPgOptions, LocalPostgres};
use crate::db::{DbPool, PoolSettings};
use crate::error::ApiError;
use crate::middleware::{self, RouteTable};
use crate::{
    applications, committees, coordinators, districts, events, funding_lines, health, openapi, organisations,
    referrals, statistics, webhooks,
};

/// What every request handler shares.
pub struct AppState {
    pub pool: DbPool,
    pub verifier: Verifier,
    pub max_body_bytes: usize,
    pub metrics: crate::metrics::Metrics,
    pub metrics_access: crate::metrics::Access,
    pub webhooks: crate::webhooks::Settings,
    pub rate_limits: crate::ratelimit::RateLimits,
}

impl AppState {
    pub fn new(pool: DbPool, verifier: Verifier, args: &ServeArgs) -> Result<Self, String> {
        let w = &args.webhooks;
        Ok(Self {
            pool,
            verifier,
            max_body_bytes: args.http.max_body_bytes,
            metrics: crate::metrics::Metrics::default(),
            metrics_access: crate::metrics::Access {
                token: args.metrics.metrics_token.clone().filter(|t| !t.is_empty()),
                allow: crate::metrics::parse_networks(&args.metrics.metrics_allow)?,
            },
            rate_limits: crate::ratelimit::RateLimits::from_config(&args.rate_limits)?,
            webhooks: crate::webhooks::Settings {
                allow_loopback: w.webhook_allow_loopback,
                deny: crate::metrics::parse_networks(&w.webhook_deny)?,
                timeout: w.webhook_timeout,
                backoff_base: w.webhook_backoff_base,
                backoff_max: w.webhook_backoff_max,
                retry_window: w.webhook_retry_window,
                disable_after: w.webhook_disable_after.max(1),
                interval: w.webhook_interval,
            },
        })
    }
}

/// Starts the background work of an instance: the event sequencer and webhook dispatcher.
pub fn spawn_workers(state: web::Data<AppState>) {
    crate::ratelimit::spawn_housekeeping(state.clone());
    crate::webhooks::spawn(state);
}

/// The route table: every endpoint of the service, one line per resource module.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        scope::scope("/api/v1")
            .configure(districts::routes)
            .configure(organisations::routes)
            .configure(funding_lines::routes)
            .configure(applications::routes)
            .configure(coordinators::routes)
            .configure(committees::routes)
            .configure(referrals::routes)
            .configure(events::routes)
            .configure(statistics::routes)
            .configure(webhooks::routes),
    )
    .configure(health::routes)
    .configure(crate::metrics::routes);
}

/// The OpenAPI document, exactly as served at `/api-docs/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .configure(routes)
        .split_for_parts();
    openapi::finish(doc)
}

/// Builds the HTTP server on an already bound listener (tests bind port 0 and read the port back).
pub fn build_server(state: web::Data<AppState>, listener: TcpListener, http: &HttpArgs) -> std::io::Result<Server> {
    let doc = openapi_document();
    let route_table = web::Data::new(RouteTable::from_openapi(&doc));
    let origins = http.cors_allowed_origins.clone();
    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .openapi(openapi::base())
            .configure(routes)
            .split_for_parts();
        app.app_data(state.clone())
            .app_data(route_table.clone())
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .service(SwaggerUi::new("/swagger-ui/{_:.*}").url("/api-docs/openapi.json", doc.clone()))
            .default_service(web::to(middleware::fallback))
            .wrap(cors(&origins))
            .wrap(from_fn(middleware::sane_path))
            .wrap(from_fn(middleware::problems))
            .wrap(from_fn(crate::ratelimit::limit))
            .wrap(from_fn(crate::metrics::record))
            .wrap(from_fn(middleware::request_id))
            .wrap(from_fn(middleware::security_headers))
            .wrap(Logger::new("%a \"%r\" %s %b %Dms rid=%{x-request-id}o").log_target("access"))
    })
    .shutdown_timeout(http.shutdown_timeout.as_secs())
    .listen(listener)?;
    if let Some(workers) = http.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            middleware::REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            middleware::REQUEST_ID,
            crate::ratelimit::RATELIMIT_LIMIT,
            crate::ratelimit::RATELIMIT_REMAINING,
            crate::ratelimit::RATELIMIT_RESET,
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

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
    let listener = TcpListener::bind(args.bind).map_err(|e| format!("binding {}: {e}", args.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if generated {
        print_dev_tokens(&args.auth, &args.db, addr)?;
    }
    let state = web::Data::new(AppState::new(pool, verifier, &args)?);
    spawn_workers(state.clone());
    let server = build_server(state, listener, &args.http).map_err(|e| e.to_string())?;
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
    let added = crate::events::backfill(&mut conn)
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
    let (url, local_pg) = database(&args.db).await?;
    crate::db::run_migrations(&url).await?;
    let pool = crate::db::build_pool(&url, &pool_settings(&args.db))?;
    let mut conn = crate::db::conn(&pool).await.map_err(|e| e.to_string())?;
    let added = crate::seed::demo(&mut conn)
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

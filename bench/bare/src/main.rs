//! The bare lookup: `GET /applications/{id}` → one `SELECT … WHERE id = $1` (diesel's query builder, prepared and
//! cached per connection) through a diesel-async deadpool, the row as JSON. DATABASE_URL, BIND (default 127.0.0.1:18081), WORKERS (default: one
//! per core), POOL (default 16, as the service).

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::prelude::*;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::Pool;

diesel::table! {
    applications (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        district_ags -> Text,
        funding_line_code -> Text,
        status -> Text,
        title -> Text,
        description -> Text,
        requested_cents -> Nullable<Int8>,
        version -> Int8,
        created_at -> Timestamptz,
    }
}

/// The row as diesel's query builder types it: a statically typed query is prepared once per connection and
/// cached, as the service's own lookups are.
type Item = (
    uuid::Uuid,
    uuid::Uuid,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    i64,
    chrono::DateTime<chrono::Utc>,
);

type DbPool = Pool<AsyncPgConnection>;

async fn by_id(pool: web::Data<DbPool>, id: web::Path<uuid::Uuid>) -> HttpResponse {
    let Ok(mut conn) = pool.get().await else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let found: Result<Option<Item>, _> = applications::table
        .find(id.into_inner())
        .select((
            applications::id,
            applications::organisation_id,
            applications::district_ags,
            applications::funding_line_code,
            applications::status,
            applications::title,
            applications::description,
            applications::requested_cents,
            applications::version,
            applications::created_at,
        ))
        .first(&mut conn)
        .await
        .optional();
    match found {
        Ok(Some((id, org, district, line, status, title, description, requested, version, created))) => {
            HttpResponse::Ok().json(serde_json::json!({
                "id": id, "organisationId": org, "district": district, "fundingLine": line, "status": status,
                "title": title, "description": description, "requestedCents": requested, "version": version,
                "createdAt": created,
            }))
        }
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL").map_err(|_| std::io::Error::other("DATABASE_URL is not set"))?;
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:18081".into());
    let size = std::env::var("POOL").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    // Connections are checked out without a test query, as the service does (its pool uses RecyclingMethod::Fast).
    let mut config = diesel_async::pooled_connection::ManagerConfig::default();
    config.recycling_method = diesel_async::pooled_connection::RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    let pool = Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(std::io::Error::other)?;
    let pool = web::Data::new(pool);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .route("/applications/{id}", web::get().to(by_id))
    });
    if let Some(workers) = std::env::var("WORKERS").ok().and_then(|v| v.parse().ok()) {
        server = server.workers(workers);
    }
    server.bind(bind)?.run().await
}

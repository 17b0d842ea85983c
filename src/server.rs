//! The HTTP server: middleware in order, CORS, the Swagger UI, and the background workers of an instance.

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::http::header::ContentType;
use actix_web::middleware::{Logger, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::http::middleware::{self, RouteTable};
use crate::http::openapi;
use crate::http::ratelimit::{self, RateLimits};
use crate::routes::{self, openapi_document};
use crate::state::AppState;

/// Starts the background work of an instance: the event sequencer and webhook dispatcher, the reminder job, the
/// virus scan and the e-mail digests.
pub fn spawn_workers(state: web::Data<AppState>) {
    crate::obligations::spawn(state.clone());
    crate::attachments::scan::spawn(state.clone());
    crate::digests::spawn(state.clone());
    crate::webhooks::spawn(state);
}

/// Where the OpenAPI document is served (the Swagger UI loads it from there).
const OPENAPI_URL: &str = "/api-docs/openapi.json";

/// Builds the HTTP server on an already bound listener (tests bind port 0 and read the port back).
pub fn build_server(state: web::Data<AppState>, listener: TcpListener, args: &ServeArgs) -> std::io::Result<Server> {
    let http = &args.http;
    let rate_limits = web::Data::new(RateLimits::from_config(&args.rate_limits).map_err(std::io::Error::other)?);
    ratelimit::spawn_housekeeping(rate_limits.clone());
    // With an identity provider's token endpoint, the document (and so the Swagger UI) offers its client-credentials
    // login beside pasted tokens.
    // The token URL is read once here: discovered at start (`Verifier::warm_up`) or configured.
    let token_url = state.verifier.token_url();
    let doc = openapi::with_client_credentials(openapi_document(), token_url.as_deref());
    let swagger_csp = web::Data::new(middleware::SwaggerCsp::new(token_url.as_deref()));
    let route_table = web::Data::new(RouteTable::from_openapi(&doc));
    // The document is serialised once and its bytes shared by every worker (a clone is a reference count): each
    // worker holding its own copy of the document tree cost megabytes of heap per worker (docs/performance.md S5).
    let doc_json = web::Bytes::from(serde_json::to_vec(&doc).map_err(std::io::Error::other)?);
    drop(doc);
    let origins = http.cors_allowed_origins.clone();
    let mut server = HttpServer::new(move || {
        // The routes are registered through utoipa's app, which collects their documentation as it goes; the worker
        // starts from an empty document and drops what was collected (the served one is `doc_json`).
        let (app, _) = App::new().into_utoipa_app().configure(routes::routes).split_for_parts();
        let doc_json = doc_json.clone();
        app.app_data(state.clone())
            .app_data(rate_limits.clone())
            .app_data(route_table.clone())
            .app_data(swagger_csp.clone())
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .route(
                OPENAPI_URL,
                web::get().to(move || {
                    let body = doc_json.clone();
                    async move { HttpResponse::Ok().content_type(ContentType::json()).body(body) }
                }),
            )
            .service(SwaggerUi::new("/swagger-ui/{_:.*}").config(utoipa_swagger_ui::Config::new([OPENAPI_URL])))
            .default_service(web::to(middleware::fallback))
            .wrap(cors(&origins))
            .wrap(from_fn(middleware::sane_path))
            .wrap(from_fn(middleware::problems))
            .wrap(from_fn(ratelimit::limit))
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
            ratelimit::RATELIMIT_LIMIT,
            ratelimit::RATELIMIT_REMAINING,
            ratelimit::RATELIMIT_RESET,
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

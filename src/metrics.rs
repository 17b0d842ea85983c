//! `GET /metrics` in Prometheus text format: requests by route template, method and status; a latency histogram;
//! database pool usage; webhook queue depth, deliveries and failures. Counters are per process (each instance is
//! scraped on its own, as Prometheus expects); the queue depth comes from the database, so every instance reports
//! the same. Access needs the configured bearer token or a client address on the allowlist.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, get, web};
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::core::counters::{Access, BUCKETS};
use crate::core::net::contains;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(scrape);
}

/// Records every request under its route template (never the raw path: ids would explode the label set).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(state) = state {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        state
            .metrics
            .observe(&route, &method, res.status().as_u16(), started.elapsed().as_secs_f64());
    }
    Ok(res)
}

fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn allowed(req: &HttpRequest, access: &Access) -> bool {
    if let Some(token) = &access.token {
        let presented = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if presented.is_some_and(|p| constant_time_eq(p.as_bytes(), token.as_bytes())) {
            return true;
        }
    }
    let peer = req.peer_addr().map(|a| a.ip());
    peer.is_some_and(|ip| access.allow.iter().any(|n| contains(n, &ip)))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Prometheus metrics
///
/// Prometheus text exposition of this instance: `versorgung_http_requests_total{route,method,status}`,
/// `versorgung_http_request_duration_seconds` (histogram by route), `versorgung_db_pool_connections{state}`,
/// `versorgung_db_pool_waiting`, `versorgung_webhook_queue_depth`, `versorgung_webhook_deliveries_total`,
/// `versorgung_webhook_failures_total`.
///
/// **Roles:** none (not a JWT operation). Access needs the bearer token of `VERSORGUNG_METRICS_TOKEN`, or a client
/// address in `VERSORGUNG_METRICS_ALLOW` (default: loopback); others get 403.
#[utoipa::path(
    tag = "Operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4",
            body = String, example = "versorgung_http_requests_total{route=\"/api/v1/districts\",method=\"GET\",status=\"200\"} 3\n"),
        (status = 403, response = crate::http::openapi::Forbidden),
    ),
    security(())
)]
#[get("/metrics")]
async fn scrape(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    if !allowed(&req, &state.metrics_access) {
        return Err(ApiError::Forbidden);
    }
    let m = &state.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP versorgung_http_requests_total HTTP requests by route template, method and status."
    );
    let _ = writeln!(out, "# TYPE versorgung_http_requests_total counter");
    if let Ok(map) = m.requests.lock() {
        for ((route, method, status), n) in map.iter() {
            let _ = writeln!(
                out,
                "versorgung_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                label(route),
                label(method)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP versorgung_http_request_duration_seconds Request latency by route template."
    );
    let _ = writeln!(out, "# TYPE versorgung_http_request_duration_seconds histogram");
    if let Ok(map) = m.latency.lock() {
        for (route, h) in map.iter() {
            let route = label(route);
            for (bound, n) in BUCKETS.iter().zip(&h.counts) {
                let _ = writeln!(
                    out,
                    "versorgung_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "versorgung_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "versorgung_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "versorgung_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
    }
    let status = state.pool.status();
    let _ = writeln!(
        out,
        "# HELP versorgung_db_pool_connections Pooled database connections by state."
    );
    let _ = writeln!(out, "# TYPE versorgung_db_pool_connections gauge");
    let _ = writeln!(
        out,
        "versorgung_db_pool_connections{{state=\"in_use\"}} {}",
        status.size.saturating_sub(status.available)
    );
    let _ = writeln!(
        out,
        "versorgung_db_pool_connections{{state=\"idle\"}} {}",
        status.available
    );
    let _ = writeln!(
        out,
        "versorgung_db_pool_connections{{state=\"max\"}} {}",
        status.max_size
    );
    let _ = writeln!(
        out,
        "# HELP versorgung_db_pool_waiting Requests waiting for a database connection."
    );
    let _ = writeln!(out, "# TYPE versorgung_db_pool_waiting gauge");
    let _ = writeln!(out, "versorgung_db_pool_waiting {}", status.waiting);
    let _ = writeln!(
        out,
        "# HELP versorgung_db_transaction_retries_total Transactions run again after a serialization failure or \
         deadlock (SQLSTATE 40001, 40P01)."
    );
    let _ = writeln!(out, "# TYPE versorgung_db_transaction_retries_total counter");
    let _ = writeln!(
        out,
        "versorgung_db_transaction_retries_total {}",
        crate::db::TRANSACTION_RETRIES.load(std::sync::atomic::Ordering::Relaxed)
    );
    let depth = crate::webhooks::queue_depth(&state.pool).await.unwrap_or(-1);
    let _ = writeln!(
        out,
        "# HELP versorgung_webhook_queue_depth Webhook deliveries waiting (all instances; -1 if unknown)."
    );
    let _ = writeln!(out, "# TYPE versorgung_webhook_queue_depth gauge");
    let _ = writeln!(out, "versorgung_webhook_queue_depth {depth}");
    let _ = writeln!(
        out,
        "# HELP versorgung_webhook_deliveries_total Successful webhook deliveries by this instance."
    );
    let _ = writeln!(out, "# TYPE versorgung_webhook_deliveries_total counter");
    let _ = writeln!(
        out,
        "versorgung_webhook_deliveries_total {}",
        m.webhook_deliveries.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP versorgung_webhook_failures_total Failed webhook delivery attempts by this instance."
    );
    let _ = writeln!(out, "# TYPE versorgung_webhook_failures_total counter");
    let _ = writeln!(
        out,
        "versorgung_webhook_failures_total {}",
        m.webhook_failures.load(Ordering::Relaxed)
    );
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}

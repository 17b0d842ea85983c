//! `GET /metrics` in Prometheus text format: requests by route template, method and status; a latency histogram;
//! database pool usage; webhook queue depth, deliveries and failures. Counters are per process (each instance is
//! scraped on its own, as Prometheus expects); the queue depth comes from the database, so every instance reports
//! the same. Access needs the configured bearer token or a client address on the allowlist.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, get, web};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(scrape);
}

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// The process's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    pub webhook_deliveries: AtomicU64,
    pub webhook_failures: AtomicU64,
}

impl Metrics {
    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((route.to_owned(), method.to_owned(), status)).or_default() += 1;
        }
        if let Ok(mut map) = self.latency.lock() {
            let h = map.entry(route.to_owned()).or_insert_with(|| Histogram {
                counts: vec![0; BUCKETS.len()],
                ..Histogram::default()
            });
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }
}

/// Who may scrape.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub token: Option<String>,
    pub allow: Vec<(IpAddr, u8)>,
}

/// Parses `10.0.0.0/8,::1` into networks; a bare address is a single host.
pub fn parse_networks(list: &[String]) -> Result<Vec<(IpAddr, u8)>, String> {
    list.iter()
        .map(|item| {
            let (addr, len) = match item.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (item.as_str(), None),
            };
            let ip: IpAddr = addr.trim().parse().map_err(|_| format!("not an address: {item}"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = match len {
                Some(l) => l
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or(format!("bad prefix: {item}"))?,
                None => max,
            };
            Ok((ip, len))
        })
        .collect()
}

/// Whether `ip` lies in the network.
pub fn contains(network: &(IpAddr, u8), ip: &IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
        v4 => *v4,
    };
    match (network.0, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if network.1 == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(network.1))
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if network.1 == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(network.1))
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
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
        (status = 403, response = crate::openapi::Forbidden),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let nets = parse_networks(&["127.0.0.1".into(), "10.0.0.0/8".into(), "::1".into()]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(nets.iter().any(|n| contains(n, &ip("10.20.30.40"))));
        assert!(nets.iter().any(|n| contains(n, &ip("::ffff:127.0.0.1"))));
        assert!(!nets.iter().any(|n| contains(n, &ip("192.168.1.1"))));
        assert!(parse_networks(&["10.0.0.0/40".into()]).is_err());
    }
}

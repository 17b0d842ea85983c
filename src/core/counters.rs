//! The process's counters for `GET /metrics` (kept in the application state; rendered by `crate::metrics`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

/// Upper bounds of the latency histogram, in seconds.
pub const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
pub struct Histogram {
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

/// The process's counters.
#[derive(Default)]
pub struct Metrics {
    pub requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    pub latency: Mutex<BTreeMap<String, Histogram>>,
    pub webhook_deliveries: AtomicU64,
    pub webhook_failures: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
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

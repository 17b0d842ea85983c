//! Rate limits per bearer token and per client address (GCRA, in memory, per instance).
//!
//! Every request except the health probes and `/metrics` takes one cell from its client address's bucket and, when
//! it carries a bearer token, one from that token's bucket. A request that finds either bucket empty gets a 429
//! problem with `Retry-After` before it reaches authentication or the database, so a flood costs neither. Answers
//! carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` for the tighter of the two buckets.
//!
//! The buckets live in the instance's memory: with N instances behind a load balancer a client may get up to N
//! times the configured rate (docs/security.md explains why that is the chosen trade-off). Tokens are keyed by a
//! keyed hash of the whole token, so the table holds no token text; idle keys are dropped once a minute.

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::RateLimitArgs;
use crate::core::net::{contains, parse_networks};
use crate::error::ApiError;
use crate::error::i18n::Lang;
use crate::http::middleware::request_id_of;

pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

const I32_MAX: u32 = i32::MAX as u32;

type Limiter<K> = DefaultKeyedRateLimiter<K, StateInformationMiddleware>;

/// One configured bucket kind: the limiter and its figures for the response headers.
struct Bucket<K: std::hash::Hash + Eq + Clone> {
    limiter: Limiter<K>,
    burst: u32,
    per_second: u32,
}

impl<K: std::hash::Hash + Eq + Clone> Bucket<K> {
    fn new(per_second: u32, burst: u32) -> Option<Self> {
        // The headers are documented as int32: a configured figure above that is taken as i32::MAX (no limit in
        // practice either way).
        let rate = NonZeroU32::new(per_second.min(I32_MAX))?;
        let burst = NonZeroU32::new(burst.clamp(1, I32_MAX)).unwrap_or(rate);
        Some(Self {
            limiter: governor::RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
                .with_middleware::<StateInformationMiddleware>(),
            burst: burst.get(),
            per_second: rate.get(),
        })
    }

    /// Takes one cell: the headroom left, or how long to wait.
    fn take(&self, key: &K) -> Result<Headroom, Duration> {
        match self.limiter.check_key(key) {
            Ok(snapshot) => Ok(Headroom {
                limit: self.burst,
                remaining: snapshot.remaining_burst_capacity(),
                per_second: self.per_second,
            }),
            Err(not_until) => Err(not_until.wait_time_from(DefaultClock::default().now())),
        }
    }
}

/// What a passed request may still send at once.
#[derive(Debug, Clone, Copy)]
struct Headroom {
    limit: u32,
    remaining: u32,
    per_second: u32,
}

impl Headroom {
    /// Seconds until the bucket is full again.
    fn reset_secs(&self) -> u32 {
        (self.limit - self.remaining.min(self.limit)).div_ceil(self.per_second)
    }
}

/// The limits of one instance.
pub struct RateLimits {
    token: Option<Bucket<u64>>,
    address: Option<Bucket<IpAddr>>,
    trusted_proxies: Vec<(IpAddr, u8)>,
    hasher: std::collections::hash_map::RandomState,
}

impl RateLimits {
    pub fn from_config(args: &RateLimitArgs) -> Result<Self, String> {
        Ok(Self {
            token: Bucket::new(args.rate_limit_token_per_second, args.rate_limit_token_burst),
            address: Bucket::new(args.rate_limit_address_per_second, args.rate_limit_address_burst),
            trusted_proxies: parse_networks(&args.trusted_proxies)?,
            hasher: std::collections::hash_map::RandomState::new(),
        })
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the last `X-Forwarded-For` entry that
    /// is not one (entries left of it can be forged by the client).
    fn client_address(&self, req: &ServiceRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|n| contains(n, ip));
        if !trusted(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = req
            .headers()
            .get_all(HeaderName::from_static("x-forwarded-for"))
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        Some(forwarded.into_iter().rev().find(|ip| !trusted(ip)).unwrap_or(peer))
    }

    /// Takes one cell from each bucket that applies; the tighter headroom, or the longest wait.
    fn check(&self, req: &ServiceRequest) -> Result<Option<Headroom>, Duration> {
        let mut tightest: Option<Headroom> = None;
        let mut keep = |h: Headroom| {
            if tightest.is_none_or(|t| h.remaining < t.remaining) {
                tightest = Some(h);
            }
        };
        if let (Some(bucket), Some(ip)) = (&self.address, self.client_address(req)) {
            keep(bucket.take(&ip)?);
        }
        if let Some(bucket) = &self.token
            && let Some(token) = req.headers().get(header::AUTHORIZATION)
        {
            keep(bucket.take(&self.hasher.hash_one(token.as_bytes()))?);
        }
        Ok(tightest)
    }

    /// Forgets keys whose buckets are full again, so that the tables stay as small as the set of active clients.
    pub fn housekeeping(&self) {
        if let Some(b) = &self.token {
            b.limiter.retain_recent();
            b.limiter.shrink_to_fit();
        }
        if let Some(b) = &self.address {
            b.limiter.retain_recent();
            b.limiter.shrink_to_fit();
        }
    }
}

/// Paths that are never limited: orchestrator probes and the metrics scrape must work during a flood.
pub fn exempt(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

/// The middleware: 429 with `Retry-After` for a client over its limit, headroom headers on every other answer.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = match req.app_data::<web::Data<RateLimits>>() {
        Some(limits) if !exempt(req.path()) => limits.check(&req),
        _ => Ok(None),
    };
    match verdict {
        Err(wait) => {
            // Rendered here rather than by the problem middleware (which sits inside this one, so that the
            // headroom headers reach every answer, problems included).
            let retry_after = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            let api = ApiError::TooManyRequests { retry_after };
            let problem = api.to_problem(
                Lang::from_request(req.request()),
                &request_id_of(req.request()),
                req.path(),
            );
            let mut response = api.response_with(&problem);
            response
                .headers_mut()
                .insert(RATELIMIT_REMAINING, HeaderValue::from(0u32));
            Ok(req.into_response(response).map_into_right_body())
        }
        Ok(headroom) => {
            let mut res = next.call(req).await?;
            if let Some(h) = headroom {
                let headers = res.headers_mut();
                headers.insert(RATELIMIT_LIMIT, HeaderValue::from(h.limit));
                headers.insert(RATELIMIT_REMAINING, HeaderValue::from(h.remaining));
                headers.insert(RATELIMIT_RESET, HeaderValue::from(h.reset_secs()));
            }
            Ok(res.map_into_left_body())
        }
    }
}

/// Runs the housekeeping once a minute for the life of the process.
pub fn spawn_housekeeping(limits: web::Data<RateLimits>) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.housekeeping();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_lets_the_burst_through_then_asks_to_wait() {
        let bucket = Bucket::<u64>::new(1, 3).unwrap();
        let remaining: Vec<u32> = (0..3).map(|_| bucket.take(&7).unwrap().remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let wait = bucket.take(&7).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        // Another key has its own bucket.
        assert_eq!(bucket.take(&8).unwrap().remaining, 2);
    }

    #[test]
    fn zero_disables_a_bucket() {
        assert!(Bucket::<u64>::new(0, 10).is_none());
    }

    #[test]
    fn reset_is_the_time_to_refill() {
        let h = Headroom {
            limit: 100,
            remaining: 40,
            per_second: 20,
        };
        assert_eq!(h.reset_secs(), 3);
    }
}

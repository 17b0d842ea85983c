//! Rate limits per token and per client address: 429 problems with `Retry-After`, headroom headers, exemptions.

use crate::helpers::*;
use serde_json::json;

fn remaining(res: &reqwest::Response) -> Option<u32> {
    res.headers()
        .get("ratelimit-remaining")
        .and_then(|v| v.to_str().ok()?.parse().ok())
}

async fn assert_limited(res: reqwest::Response) {
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(remaining(&res), Some(0));
    assert!(res.headers().contains_key("x-request-id"));
    let p = problem(res, 429).await;
    assert_eq!(p["type"], "https://versorgung.hessen.de/problems/too-many-requests");
}

#[actix_web::test]
async fn each_token_has_its_own_bucket() {
    let app = TestApp::spawn_with(|a| {
        a.rate_limits.rate_limit_token_per_second = 1;
        a.rate_limits.rate_limit_token_burst = 3;
    })
    .await;
    let m = municipality();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let res = app.get("/api/v1/funding-lines", Some(&m)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["ratelimit-limit"], "3");
        seen.push(remaining(&res).unwrap());
    }
    assert_eq!(seen, [2, 1, 0]);
    assert_limited(app.get("/api/v1/funding-lines", Some(&m)).await).await;

    // A refused write changes nothing, and the limit applies before authentication.
    let before = app.db_count("applications").await;
    let res = app
        .post(
            "/api/v1/applications",
            Some(&m),
            &json!({"fundingLine": "GK", "title": "Zu schnell"}),
        )
        .await;
    assert_limited(res).await;
    assert_eq!(app.db_count("applications").await, before);

    // Other tokens, the probes and anonymous callers (no address limit here) are unaffected.
    assert_eq!(app.get("/api/v1/funding-lines", Some(&ministry())).await.status(), 200);
    assert_eq!(app.get("/health/live", Some(&m)).await.status(), 200);
    let anonymous = app.get("/api/v1/districts", None).await;
    assert_eq!(anonymous.status(), 200);
    assert_eq!(remaining(&anonymous), None, "no bucket applies, no headroom header");

    // The bucket refills at the sustained rate.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.get("/api/v1/funding-lines", Some(&m)).await.status(), 200);
}

#[actix_web::test]
async fn each_client_address_has_its_own_bucket_behind_trusted_proxies_only() {
    let app = TestApp::spawn_with(|a| {
        a.rate_limits.rate_limit_address_per_second = 1;
        a.rate_limits.rate_limit_address_burst = 2;
    })
    .await;
    let get = |xff: Option<&'static str>| {
        let mut req = app.client.get(app.url("/api/v1/districts"));
        if let Some(xff) = xff {
            req = req.header("X-Forwarded-For", xff);
        }
        req.send()
    };
    assert_eq!(get(None).await.unwrap().status(), 200);
    // Without trusted proxies, X-Forwarded-For is the client's own claim and is ignored.
    assert_eq!(get(Some("203.0.113.7")).await.unwrap().status(), 200);
    assert_limited(get(Some("203.0.113.8")).await.unwrap()).await;
    // Errors count too: a flood of bad tokens is limited like anything else.
    assert_limited(app.get("/api/v1/organisations/06636", Some("not.a.jwt")).await).await;

    let app = TestApp::spawn_with(|a| {
        a.rate_limits.rate_limit_address_per_second = 1;
        a.rate_limits.rate_limit_address_burst = 2;
        a.rate_limits.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let get = |xff: &'static str| {
        app.client
            .get(app.url("/api/v1/districts"))
            .header("X-Forwarded-For", xff)
            .send()
    };
    for _ in 0..2 {
        assert_eq!(get("203.0.113.7").await.unwrap().status(), 200);
    }
    assert_limited(get("203.0.113.7").await.unwrap()).await;
    // A client cannot escape by prepending addresses: the proxy appends the real one, which is what counts.
    assert_limited(get("198.51.100.1, 203.0.113.7").await.unwrap()).await;
    // Another client behind the same proxy has its own bucket.
    assert_eq!(get("203.0.113.9").await.unwrap().status(), 200);
}

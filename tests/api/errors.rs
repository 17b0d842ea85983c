//! One problem body per kind of error, and the request plumbing around them.

use crate::helpers::*;
use serde_json::{Value, json};

#[actix_web::test]
async fn unknown_routes_and_wrong_methods() {
    let app = TestApp::spawn().await;
    let p = problem(app.get("/api/v1/nothing-here", None).await, 404).await;
    assert_eq!(p["type"], "https://versorgung.hessen.de/problems/not-found");
    assert_eq!(p["instance"], "/api/v1/nothing-here");
    let res = app
        .client
        .delete(app.url("/api/v1/funding-lines/GK"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, PATCH, HEAD");
    let p = problem(res, 405).await;
    assert_eq!(p["allowedMethods"], json!(["GET", "PATCH", "HEAD"]));
    let res = app.client.put(app.url("/api/v1/districts")).send().await.unwrap();
    problem(res, 405).await;
}

#[actix_web::test]
async fn malformed_bodies() {
    let app = TestApp::spawn().await;
    let m = ministry();
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/funding-lines"))
            .bearer_auth(&m)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let p = problem(
        send("{\n  \"code\": \"TM\",\n  \"title\": ", "application/json")
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(p["type"], "https://versorgung.hessen.de/problems/malformed-json");
    assert!(p["detail"].as_str().unwrap().contains("line 3"), "{p}");
    problem(
        send("{\"code\": \"TM\"} trailing", "application/json").await.unwrap(),
        400,
    )
    .await;
    let p = problem(
        send("{\"code\": \"TM\", \"colour\": 1}", "application/json")
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/colour"]);
    assert_eq!(p["errors"][0]["code"], "unknown_field");
    let p = problem(
        send("{\"budgetCents\": \"many\"}", "application/json").await.unwrap(),
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/budgetCents"]);
    assert_eq!(p["errors"][0]["code"], "invalid_type");
    let p = problem(send("{}", "text/plain").await.unwrap(), 415).await;
    assert_eq!(
        p["type"],
        "https://versorgung.hessen.de/problems/unsupported-media-type"
    );
    let res = app
        .client
        .post(app.url("/api/v1/funding-lines"))
        .bearer_auth(&m)
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(res, 415).await;
    // No body and no media type is not a 415: the body is simply missing.
    let res = app
        .client
        .post(app.url("/api/v1/funding-lines"))
        .bearer_auth(&m)
        .send()
        .await
        .unwrap();
    problem(res, 400).await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let res = app
        .client
        .post(app.url("/api/v1/funding-lines"))
        .bearer_auth(&m)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    problem(res, 400).await;
}

#[actix_web::test]
async fn bodies_over_the_limit_get_413() {
    let app = TestApp::spawn_with(|a| a.http.max_body_bytes = 1024).await;
    let big = json!({"code": "TM", "description": "x".repeat(2000)});
    let p = problem(app.post("/api/v1/funding-lines", Some(&ministry()), &big).await, 413).await;
    assert!(p["detail"].as_str().unwrap().contains("1024"));
    // Also when the client does not announce the length (chunked).
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(vec![b' '; 800]), Ok(vec![b' '; 800])]);
    let res = app
        .client
        .post(app.url("/api/v1/funding-lines"))
        .bearer_auth(ministry())
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    problem(res, 413).await;
}

#[actix_web::test]
async fn bad_query_parameters_and_cursors() {
    let app = TestApp::spawn().await;
    let p = problem(app.get("/api/v1/districts?limit=abc", None).await, 400).await;
    assert_eq!(pointers(&p), vec!["/query/limit"]);
    let p = problem(app.get("/api/v1/districts?limit=0", None).await, 400).await;
    assert_eq!(pointers(&p), vec!["/query/limit"]);
    let p = problem(app.get("/api/v1/districts?limit=500&cursor=garbage", None).await, 400).await;
    assert_eq!(pointers(&p), vec!["/query/cursor", "/query/limit"]);
    let p = problem(app.get("/api/v1/districts?colour=red", None).await, 400).await;
    assert_eq!(pointers(&p), vec!["/query/colour"]);
    // A cursor of another list is refused rather than misread.
    let page: Value = app.get("/api/v1/districts?limit=1", None).await.json().await.unwrap();
    let cursor = page["nextCursor"].as_str().unwrap();
    problem(
        app.get(&format!("/api/v1/funding-lines?cursor={cursor}"), None).await,
        400,
    )
    .await;
}

#[actix_web::test]
async fn detail_follows_accept_language() {
    let app = TestApp::spawn().await;
    let de = app
        .client
        .get(app.url("/api/v1/organisations"))
        .header("Accept-Language", "de-DE,de;q=0.9")
        .send()
        .await
        .unwrap();
    let p = problem(de, 401).await;
    assert!(
        p["detail"].as_str().unwrap().starts_with("Diese Operation erfordert"),
        "{p}"
    );
    assert_eq!(p["title"], "Unauthorized", "titles stay stable");
    let en = app
        .client
        .get(app.url("/api/v1/organisations"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    let p = problem(en, 401).await;
    assert!(p["detail"].as_str().unwrap().starts_with("This operation needs"));
    let res = app
        .client
        .post(app.url("/api/v1/funding-lines"))
        .bearer_auth(ministry())
        .header("Accept-Language", "de")
        .json(&json!({"code": "TM", "title": "ab", "guidelineReference": "x", "eligibleApplicantKinds": ["gemeinde"], "budgetCents": 1}))
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["message"], "muss zwischen 3 und 200 Zeichen lang sein");
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/health/live"))
        .header("X-Request-Id", "district-it-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "district-it-4711");
    let res = app
        .client
        .get(app.url("/health/live"))
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&generated).unwrap().get_version_num(), 7);
    let res = app
        .client
        .get(app.url("/nowhere"))
        .header("X-Request-Id", "trace-1")
        .send()
        .await
        .unwrap();
    let p = problem(res, 404).await;
    assert_eq!(p["requestId"], "trace-1");
}

#[actix_web::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::spawn_with(|a| a.http.cors_allowed_origins = vec!["https://portal.hessen.de".into()]).await;
    let res = app
        .client
        .get(app.url("/api/v1/districts"))
        .header("Origin", "https://portal.hessen.de")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "https://portal.hessen.de");
    let res = app
        .client
        .get(app.url("/api/v1/districts"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/funding-lines/GK"))
        .header("Origin", "https://portal.hessen.de")
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization, if-match, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
}

#[actix_web::test]
async fn health_endpoints() {
    let app = TestApp::spawn().await;
    let live: Value = app.get("/health/live", None).await.json().await.unwrap();
    assert_eq!(live["status"], "ok");
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status(), 200);
    // A database without the latest migration is not ready.
    app.db.execute("DELETE FROM __diesel_schema_migrations").await;
    let p = problem(app.get("/health/ready", None).await, 503).await;
    assert!(p.get("retryAfter").is_none());
}

#[actix_web::test]
async fn internal_errors_reveal_nothing() {
    let app = TestApp::spawn().await;
    // Break the database under the service: the answer is a problem without SQL or table names.
    app.db
        .execute("ALTER TABLE funding_lines RENAME TO funding_lines_gone")
        .await;
    let res = app.get("/api/v1/funding-lines", None).await;
    let body = res.text().await.unwrap();
    assert!(!body.contains("funding_lines"), "{body}");
    assert!(!body.to_lowercase().contains("relation"), "{body}");
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["status"], 500);
}

#[actix_web::test]
async fn metrics_are_scraped_by_route_template_with_restricted_access() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/districts/06636", None).await;
    app.get("/api/v1/districts/06611", None).await;
    app.get("/api/v1/districts/6", None).await;
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"versorgung_http_requests_total{route="/api/v1/districts/{ags}",method="GET",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"versorgung_http_requests_total{route="/api/v1/districts/{ags}",method="GET",status="400"} 1"#)
    );
    assert!(text.contains(r#"versorgung_http_request_duration_seconds_count{route="/api/v1/districts/{ags}"} 3"#));
    assert!(text.contains("versorgung_db_pool_connections{state=\"max\"} 16"));
    assert!(text.contains("versorgung_webhook_queue_depth 0"));

    // Only from allowed addresses, or with the token.
    let locked = TestApp::spawn_with(|a| {
        a.metrics.metrics_allow = vec!["10.0.0.0/8".into()];
        a.metrics.metrics_token = Some("scrape-secret".into());
    })
    .await;
    problem(locked.get("/metrics", None).await, 403).await;
    problem(locked.get("/metrics", Some("wrong")).await, 403).await;
    assert_eq!(locked.get("/metrics", Some("scrape-secret")).await.status(), 200);
}

#[actix_web::test]
async fn security_headers() {
    let app = TestApp::spawn().await;
    let private = app.get("/api/v1/organisations", Some(&ministry())).await;
    assert_eq!(
        private.headers()["cache-control"],
        "no-store",
        "answers to authenticated requests are not stored"
    );
    assert_eq!(private.headers()["x-content-type-options"], "nosniff");
    assert_eq!(private.headers()["x-frame-options"], "DENY");
    let public = app.get("/api/v1/districts", None).await;
    assert!(public.headers().get("cache-control").is_none());
    assert_eq!(public.headers()["x-content-type-options"], "nosniff");
    let problem_res = app.get("/api/v1/organisations", None).await;
    assert_eq!(problem_res.headers()["cache-control"], "no-store");
    let ui = app.get("/swagger-ui/", None).await;
    let csp = ui.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-eval"));
}

/// Pool exhaustion: a request that cannot get a connection within the configured wait gets 503 with Retry-After
/// promptly, instead of piling up.
#[actix_web::test]
async fn pool_exhaustion_is_a_prompt_503_with_retry_after() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::spawn_with(|a| {
        a.db.db_pool_size = 1;
        a.db.db_pool_wait_timeout = std::time::Duration::from_millis(300);
        a.http.workers = Some(2);
    })
    .await;
    // Hold the funding line's row lock from outside, so that a PATCH keeps the only pooled connection busy.
    let mut blocker = app.db.conn().await;
    blocker
        .batch_execute("BEGIN; SELECT 1 FROM funding_lines WHERE code = 'GK' FOR UPDATE")
        .await
        .unwrap();
    let m = ministry();
    let body = json!({"title": "Gesperrt"});
    let stuck = app.patch("/api/v1/funding-lines/GK", Some(&m), Some("*"), &body);
    let second = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        let res = app.get("/api/v1/organisations", Some(&m)).await;
        (res, started.elapsed())
    };
    let release = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
        blocker.batch_execute("COMMIT").await.unwrap();
    };
    let (stuck, (res, waited), ()) = futures_util::join!(stuck, second, release);
    assert_eq!(res.headers()["retry-after"], "2");
    let p = problem(res, 503).await;
    assert_eq!(p["type"], "https://versorgung.hessen.de/problems/service-unavailable");
    assert!(
        waited < std::time::Duration::from_millis(1200),
        "answered within the wait, not after the lock: {waited:?}"
    );
    assert_eq!(
        stuck.status(),
        200,
        "the blocked request finishes once the lock is released"
    );
}

/// Formats are described in the language asked for, never with an empty or English detail inside German (issue 12),
/// and every problem says its language in `Content-Language`.
#[actix_web::test]
async fn format_messages_are_localised_and_problems_carry_content_language() {
    let app = TestApp::spawn().await;
    let send = |lang: &'static str, path: &'static str, body: serde_json::Value, token: String| {
        let req = app
            .client
            .post(app.url(path))
            .bearer_auth(token)
            .header("Accept-Language", lang)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let line = json!({"code": "tm-1", "title": "Telemedizin", "guidelineReference": "x",
        "eligibleApplicantKinds": ["gemeinde"], "budgetCents": 1});
    for (lang, expected) in [
        ("de", "hat ein ungültiges Format: erwartet einen Förderlinien-Code"),
        ("en", "has an invalid format: expected a funding line code"),
    ] {
        let res = send(lang, "/api/v1/funding-lines", line.clone(), ministry()).await;
        assert_eq!(res.headers()["content-language"], lang);
        let p = problem(res, 422).await;
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(expected), "{lang}: {message}");
        assert!(lang == "en" || !message.contains("capital letters"), "{message}");
    }
    let committee = json!({"name": "AG Test", "kind": "working_group", "owningBody": "Serviceeinheit",
        "coverage": {"scope": "hessen"}, "contact": {"name": "Geschäftsstelle", "email": "no-at-sign"}});
    for (lang, expected) in [
        ("de", "hat ein ungültiges Format: erwartet eine E-Mail-Adresse"),
        ("en", "has an invalid format: expected an e-mail address"),
    ] {
        let p = problem(
            send(lang, "/api/v1/committees", committee.clone(), service_unit()).await,
            422,
        )
        .await;
        let email = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["pointer"] == "/contact/email")
            .unwrap_or_else(|| panic!("{p}"));
        assert!(
            email["message"].as_str().unwrap().starts_with(expected),
            "{lang}: {email}"
        );
    }
    let res = app.get("/api/v1/applications", None).await;
    assert_eq!(
        res.headers()["content-language"],
        "en",
        "English when no language is asked for"
    );
}

/// `If-Match` (RFC 9110 §13.1.1): `*` or a list of entity-tags, any of which may match by the strong comparison —
/// a weak tag never matches, and a well-formed tag that names no version is 412 like a stale one. Only a value
/// that is not `*` or an entity-tag list is 400.
#[actix_web::test]
async fn if_match_is_a_list_of_strongly_compared_entity_tags() {
    let app = TestApp::spawn().await;
    let m = ministry();
    let patch = |if_match: &'static str, title: &'static str| {
        app.client
            .patch(app.url("/api/v1/funding-lines/GK"))
            .bearer_auth(&m)
            .header("If-Match", if_match)
            .json(&json!({ "title": title }))
            .send()
    };
    for stale in [
        r#"W/"1""#,
        r#""0-stale""#,
        r#""3", "4""#,
        r#"W/"1", "2""#,
        r#""", "1,""#,
    ] {
        let p = problem(patch(stale, "Neu").await.unwrap(), 412).await;
        assert_eq!(
            p["type"], "https://versorgung.hessen.de/problems/precondition-failed",
            "{stale}"
        );
        assert_eq!(p["currentVersion"], 1, "{stale}");
    }
    for malformed in [
        "abc",
        "1",
        r#""1"#,
        r#"w/"1""#,
        r#""1" "2""#,
        r#""1", *"#,
        "",
        " , ",
        r#""a b""#,
    ] {
        let p = problem(patch(malformed, "Neu").await.unwrap(), 400).await;
        assert_eq!(pointers(&p), vec!["/header/If-Match"], "{malformed}");
    }
    let long = format!("\"{}\"", "1".repeat(70));
    let res = app
        .client
        .patch(app.url("/api/v1/funding-lines/GK"))
        .bearer_auth(&m)
        .header("If-Match", long)
        .json(&json!({"title": "Neu"}))
        .send()
        .await
        .unwrap();
    let p = problem(res, 400).await;
    assert_eq!(p["errors"][0]["code"], "too_long");
    // Nothing above changed the line.
    let res = app.get("/api/v1/funding-lines/GK", Some(&m)).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    // A list matches when one of its strong tags is the current version, with or without spaces, in any order.
    let res = patch(r#""0-stale", W/"1" ,"1""#, "Neu").await.unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let res = patch(r#""2","7""#, "Neuer").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"3\"");
    let res = patch("*", "Am neuesten").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"4\"");
    // A list may be split over several header lines.
    let res = app
        .client
        .patch(app.url("/api/v1/funding-lines/GK"))
        .bearer_auth(&m)
        .header("If-Match", "\"9\"")
        .header("If-Match", "W/\"5\", \"4\"")
        .json(&json!({"title": "Zuletzt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"5\"");
    // The lifecycle actions, whose If-Match is optional, compare alike.
    let mu = municipality();
    let res = app
        .post(
            "/api/v1/applications",
            Some(&mu),
            &json!({"fundingLine": "GK", "title": "Entwurf"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let withdraw = |if_match: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/applications/{id}/withdraw")))
            .bearer_auth(&mu)
            .header("If-Match", if_match)
            .json(&json!({"reason": "Doppelt angelegt"}))
            .send()
    };
    let p = problem(withdraw(r#"W/"1""#).await.unwrap(), 412).await;
    assert_eq!(p["currentVersion"], 1);
    problem(withdraw(r#""0-stale""#).await.unwrap(), 412).await;
    problem(withdraw("abc").await.unwrap(), 400).await;
    let res = withdraw(r#""5", "1""#).await.unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
}

/// The PATCH body is required on every resource (the spec says so): no body, or an empty one, is not JSON — 400
/// `malformed-json`, as for any other operation whose body is required — and changes nothing.
#[actix_web::test]
async fn a_patch_without_a_body_is_refused_alike_on_every_resource() {
    let app = TestApp::spawn().await;
    let (m, s, mu) = (ministry(), service_unit(), municipality());
    let res = app
        .post(
            "/api/v1/applications",
            Some(&mu),
            &json!({"fundingLine": "GK", "title": "Entwurf"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let application = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let committees: Value = app
        .get("/api/v1/committees?limit=1", Some(&s))
        .await
        .json()
        .await
        .unwrap();
    let committee = committees["items"][0]["id"].as_str().unwrap().to_owned();
    let coordinator = json!({"name": "Jana Hoffmann", "email": "jana.hoffmann@vogelsbergkreis.example", "phone": "+49 6641 977-0",
        "district": "06535", "employer": "06535", "fteBasisPoints": 7500, "startDate": "2027-01-01"});
    let res = app.post("/api/v1/coordinators", Some(&s), &coordinator).await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let coordinator = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let resources = [
        (format!("/api/v1/applications/{application}"), mu.clone()),
        (format!("/api/v1/committees/{committee}"), s.clone()),
        (format!("/api/v1/coordinators/{coordinator}"), s.clone()),
        ("/api/v1/organisations/06636".to_owned(), s.clone()),
        ("/api/v1/funding-lines/GK".to_owned(), m.clone()),
    ];
    for (path, token) in &resources {
        let before = app.get(path, Some(token)).await.headers()["etag"].clone();
        let bare = app
            .client
            .patch(app.url(path))
            .bearer_auth(token)
            .header("If-Match", "*")
            .send()
            .await
            .unwrap();
        let p = problem(bare, 400).await;
        assert_eq!(
            p["type"], "https://versorgung.hessen.de/problems/malformed-json",
            "{path}"
        );
        for content_type in ["application/merge-patch+json", "application/json"] {
            let empty = app
                .client
                .patch(app.url(path))
                .bearer_auth(token)
                .header("If-Match", "*")
                .header("content-type", content_type)
                .body("  ")
                .send()
                .await
                .unwrap();
            let p = problem(empty, 400).await;
            assert_eq!(
                p["type"], "https://versorgung.hessen.de/problems/malformed-json",
                "{path}"
            );
        }
        assert_eq!(app.get(path, Some(token)).await.headers()["etag"], before, "{path}");
        // `{}` is a merge patch that changes nothing: 200, same version.
        let res = app.patch(path, Some(token), Some("*"), &json!({})).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["etag"], before, "{path}");
    }
}

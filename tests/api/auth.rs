//! Token handling: every refusal is 401 with `WWW-Authenticate`; roles are checked (403).

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const PROTECTED: &str = "/api/v1/organisations/06636";

fn claims(role: &str) -> Value {
    json!({"sub": "attacker", "role": role, "exp": now() + 3600, "iat": now()})
}

async fn assert_refused(app: &TestApp, token: &str) -> Value {
    let res = app.get(PROTECTED, Some(token)).await;
    let www = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        www.unwrap_or_default().starts_with("Bearer"),
        "WWW-Authenticate: Bearer"
    );
    problem(res, 401).await
}

#[actix_web::test]
async fn missing_malformed_expired_and_forged_tokens_are_refused() {
    let app = TestApp::spawn().await;

    let res = app.get(PROTECTED, None).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"versorgung\"");
    let p = problem(res, 401).await;
    assert_eq!(p["code"], "missing_token");

    let res = app
        .client
        .get(app.url(PROTECTED))
        .header("Authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    assert_refused(&app, "not.a.jwt").await;

    // Expired beyond the leeway.
    let mut c = claims("ministry");
    c["exp"] = json!(now() - 3600);
    let p = assert_refused(&app, &sign(&c)).await;
    assert_eq!(p["code"], "expired_token");

    // No exp at all.
    let mut c = claims("ministry");
    c.as_object_mut().unwrap().remove("exp");
    assert_refused(&app, &sign(&c)).await;

    // Not yet valid.
    let mut c = claims("ministry");
    c["nbf"] = json!(now() + 3600);
    assert_refused(&app, &sign(&c)).await;

    // Signed with another secret.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("ministry"),
        &EncodingKey::from_secret(b"some-other-secret-some-other-secret-123"),
    )
    .unwrap();
    assert_refused(&app, &forged).await;

    // alg: none, no signature.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims("ministry").to_string());
    assert_refused(&app, &format!("{header}.{payload}.")).await;
    assert_refused(&app, &format!("{header}.{payload}")).await;

    // A valid token's payload swapped for another role, keeping the signature.
    let valid = token("municipality", Some("06636"));
    let parts: Vec<&str> = valid.split('.').collect();
    let tampered_payload = URL_SAFE_NO_PAD.encode(claims("ministry").to_string());
    assert_refused(&app, &format!("{}.{}.{}", parts[0], tampered_payload, parts[2])).await;
}

#[actix_web::test]
async fn claims_must_name_a_known_role_and_organisation() {
    let app = TestApp::spawn().await;
    assert_refused(&app, &sign(&claims("admin"))).await;
    let mut c = claims("ministry");
    c.as_object_mut().unwrap().remove("role");
    assert_refused(&app, &sign(&c)).await;
    // A municipality without org, or with one that does not exist.
    assert_refused(&app, &sign(&claims("municipality"))).await;
    assert_refused(&app, &token("municipality", Some("06999"))).await;
    assert_refused(
        &app,
        &token("municipality", Some("0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1")),
    )
    .await;
    // A subject beyond the documented 255 characters (it is stored with every change) is refused; 255 is fine.
    let mut long = claims("ministry");
    long["sub"] = json!("x".repeat(256));
    assert_refused(&app, &sign(&long)).await;
    long["sub"] = json!("x".repeat(255));
    assert_eq!(app.get(PROTECTED, Some(&sign(&long))).await.status(), 200);
    // The same organisation by AGS works.
    assert_eq!(app.get(PROTECTED, Some(&municipality())).await.status(), 200);
}

#[actix_web::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = TestApp::spawn_with(|a| {
        a.auth.jwt_issuer = Some("https://idp.hessen.de/realms/versorgung".into());
        a.auth.jwt_audience = vec!["versorgung-api".into()];
    })
    .await;
    let mut c = claims("ministry");
    c["iss"] = json!("https://idp.hessen.de/realms/versorgung");
    c["aud"] = json!("versorgung-api");
    assert_eq!(app.get(PROTECTED, Some(&sign(&c))).await.status(), 200);

    let mut wrong_iss = c.clone();
    wrong_iss["iss"] = json!("https://evil.example/");
    assert_refused(&app, &sign(&wrong_iss)).await;
    let mut wrong_aud = c.clone();
    wrong_aud["aud"] = json!("another-api");
    assert_refused(&app, &sign(&wrong_aud)).await;
    let mut no_iss = c.clone();
    no_iss.as_object_mut().unwrap().remove("iss");
    assert_refused(&app, &sign(&no_iss)).await;
}

#[actix_web::test]
async fn rs256_with_a_pem_key_refuses_hs256_signed_with_the_public_key() {
    let public_pem = fixture("rsa-public.pem");
    let app = TestApp::spawn_with(|a| {
        a.auth.jwt_algorithm = versorgung::config::JwtAlgorithm::Rs256;
        a.auth.jwt_secret = None;
        a.auth.jwt_public_key_file = Some(public_pem.clone());
    })
    .await;
    let private = std::fs::read(fixture("rsa-private.pem")).unwrap();
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims("ministry"),
        &EncodingKey::from_rsa_pem(&private).unwrap(),
    )
    .unwrap();
    assert_eq!(app.get(PROTECTED, Some(&good)).await.status(), 200);

    // The classic algorithm-confusion attack: HMAC keyed with the public key's PEM bytes.
    let public = std::fs::read(&public_pem).unwrap();
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("ministry"),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert_refused(&app, &confused).await;
    // And a token of the old HS256 secret.
    assert_refused(&app, &ministry()).await;
}

#[actix_web::test]
async fn es256_with_a_pem_key() {
    let app = TestApp::spawn_with(|a| {
        a.auth.jwt_algorithm = versorgung::config::JwtAlgorithm::Es256;
        a.auth.jwt_secret = None;
        a.auth.jwt_public_key_file = Some(fixture("ec-public.pem"));
    })
    .await;
    let private = std::fs::read(fixture("ec-private.pem")).unwrap();
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims("service_unit"),
        &EncodingKey::from_ec_pem(&private).unwrap(),
    )
    .unwrap();
    assert_eq!(app.get(PROTECTED, Some(&good)).await.status(), 200);
    assert_refused(&app, &ministry()).await;
}

#[actix_web::test]
async fn jwks_keys_are_fetched_cached_and_refetched_for_unknown_kids() {
    use actix_web::{App, HttpResponse, HttpServer, web};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let fetches = Arc::new(AtomicUsize::new(0));
    let jwks = std::fs::read_to_string(fixture("jwks.json")).unwrap();
    let counter = fetches.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let idp = HttpServer::new(move || {
        let jwks = jwks.clone();
        let counter = counter.clone();
        App::new().route(
            "/jwks",
            web::get().to(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let jwks = jwks.clone();
                async move { HttpResponse::Ok().content_type("application/json").body(jwks) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let idp_handle = idp.handle();
    actix_web::rt::spawn(idp);

    let app = TestApp::spawn_with(|a| {
        a.auth.jwt_algorithm = versorgung::config::JwtAlgorithm::Rs256;
        a.auth.jwt_secret = None;
        a.auth.jwt_jwks_url = Some(format!("http://127.0.0.1:{port}/jwks"));
    })
    .await;
    let private = std::fs::read(fixture("rsa-private.pem")).unwrap();
    let key = EncodingKey::from_rsa_pem(&private).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let good = jsonwebtoken::encode(&header, &claims("ministry"), &key).unwrap();
    assert_eq!(app.get(PROTECTED, Some(&good)).await.status(), 200);
    assert_eq!(app.get(PROTECTED, Some(&good)).await.status(), 200);
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "keys are cached");

    // An unknown kid is refused; it triggers at most one refetch within the refresh interval.
    header.kid = Some("rotated-away".into());
    let unknown = jsonwebtoken::encode(&header, &claims("ministry"), &key).unwrap();
    assert_refused(&app, &unknown).await;
    assert_refused(&app, &unknown).await;
    assert!(fetches.load(Ordering::SeqCst) <= 2);
    idp_handle.stop(true).await;
}

#[actix_web::test]
async fn each_wrong_role_gets_403() {
    let app = TestApp::spawn().await;
    let line = json!({"code": "TM", "title": "Telemedizin", "guidelineReference": "Teil II Nr. 2",
        "eligibleApplicantKinds": ["gemeinde"], "budgetCents": 100});
    for t in [municipality(), service_unit()] {
        let p = problem(app.post("/api/v1/funding-lines", Some(&t), &line).await, 403).await;
        assert!(p["detail"].as_str().unwrap().contains("role"));
        problem(
            app.patch(
                "/api/v1/funding-lines/GK",
                Some(&t),
                Some("\"1\""),
                &json!({"title": "Neu"}),
            )
            .await,
            403,
        )
        .await;
    }
    // The role is checked before the body: a caller who may not create learns nothing of the rules.
    let invalid = json!({"code": "x", "minRateBasisPoints": -1, "unknown": true});
    problem(
        app.post("/api/v1/funding-lines", Some(&municipality()), &invalid).await,
        403,
    )
    .await;
    problem(
        app.patch("/api/v1/funding-lines/GK", Some(&service_unit()), None, &invalid)
            .await,
        403,
    )
    .await;
    let org = json!({"kind": "gemeinde", "ags": "06636001", "name": "Bad Sooden-Allendorf"});
    problem(
        app.post("/api/v1/organisations", Some(&municipality()), &org).await,
        403,
    )
    .await;
    problem(
        app.patch(
            "/api/v1/organisations/06636",
            Some(&municipality()),
            Some("\"1\""),
            &json!({"name": "X-Kreis"}),
        )
        .await,
        403,
    )
    .await;
    // Nothing was written.
    assert_eq!(app.get("/api/v1/funding-lines/TM", None).await.status(), 404);
    assert_eq!(
        app.get("/api/v1/organisations/06636001", Some(&ministry()))
            .await
            .status(),
        404
    );
}

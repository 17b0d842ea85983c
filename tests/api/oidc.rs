//! Tokens of a real OpenID provider: oidc-provider (OpenID Certified, from npm, pinned in tests/oidc) run on
//! loopback by the test, configured like a Keycloak realm (roles in `realm_access.roles`, the AGS in `ags`). The
//! service knows only the provider's issuer (the keys come from its discovery document) and the claim mapping. A
//! machine client gets its token with the client credentials grant, a person through the provider's login form with
//! the authorization code flow; the provider rotates its signing key while requests keep coming.

use crate::helpers::*;
use base64::Engine;
use serde_json::Value;
use sha2::Digest;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use versorgung::config::{JwtAlgorithm, ServeArgs};

/// tests/oidc installed into target/oidc-provider/<hash of its files>: installed into a temporary directory and
/// renamed into place, so tests starting at the same time never see a half-installed one.
fn provider_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let source = root.join("tests/oidc");
    let files = ["package.json", "package-lock.json", "provider.mjs"];
    let mut hash = sha2::Sha256::new();
    for file in files {
        hash.update(std::fs::read(source.join(file)).unwrap());
    }
    let hash: String = hash.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    let parent = root.join("target/oidc-provider");
    let dir = parent.join(hash);
    if dir.join("node_modules/oidc-provider").exists() {
        return dir;
    }
    std::fs::create_dir_all(&parent).unwrap();
    let tmp = tempfile::tempdir_in(&parent).unwrap();
    for file in files {
        std::fs::copy(source.join(file), tmp.path().join(file)).unwrap();
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(tmp.path())
        .status()
        .expect("npm");
    assert!(status.success(), "npm ci for tests/oidc");
    // Another test may have renamed its copy into place first: then this one is dropped.
    let _ = std::fs::rename(tmp.path(), &dir);
    assert!(dir.join("node_modules/oidc-provider").exists());
    dir
}

struct Idp {
    child: Child,
    /// Kept open: the provider must not meet a closed pipe.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
    base: String,
    issuer: String,
    http: reqwest::Client,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const CLIENTS: [&str; 7] = [
    "bezirk-it-werra-meissner",
    "ministerium-auswertung",
    "kommune-unbekannt",
    "ohne-rolle",
    "zwei-rollen",
    "kurzlebig",
    "versorgung-frontend",
];

impl Idp {
    /// Starts a provider signing with `alg`; `issuer` names another provider's issuer (a second instance with
    /// other keys).
    async fn start(alg: &str, issuer: Option<&str>) -> Idp {
        use std::io::BufRead;
        let dir = provider_dir();
        let mut command = Command::new("node");
        command
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("ALG", alg)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(issuer) = issuer {
            command.env("ISSUER", issuer);
        }
        let mut child = command.spawn().expect("node");
        // The provider picks its own port and says which (no race for a port chosen here).
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let port = loop {
            let mut line = String::new();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "oidc-provider did not start");
            if let Some(port) = line.trim().strip_prefix("listening ") {
                break port.to_owned();
            }
        };
        let base = format!("http://127.0.0.1:{port}");
        Idp {
            child,
            _stdout: stdout,
            issuer: issuer.map_or_else(|| base.clone(), str::to_owned),
            base,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// A client credentials grant (RFC 6749, 4.4) with the client's secret, for the default or another resource.
    async fn machine_token(&self, client: &str, resource: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(resource) = resource {
            form.push(("resource", resource));
        }
        self.token_at(&format!("{}/token", self.base), client, &form).await
    }

    async fn token_at(&self, url: &str, client: &str, form: &[(&str, &str)]) -> String {
        let res = self
            .http
            .post(url)
            .basic_auth(client, Some(format!("{client}-secret")))
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "token for {client}");
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A person's token: the authorization code flow with PKCE through the provider's login form, as a browser
    /// would go it (cookies kept by hand).
    async fn user_token(&self, login: &str) -> String {
        let verifier = "versorgung-test-pkce-verifier-0123456789-abcdefghij";
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
        let mut cookies: Vec<String> = Vec::new();
        let base = self.base.clone();
        let keep = |cookies: &mut Vec<String>, res: &reqwest::Response| {
            for value in res.headers().get_all("set-cookie") {
                let pair = value.to_str().unwrap().split(';').next().unwrap().to_owned();
                let name = pair.split('=').next().unwrap().to_owned();
                cookies.retain(|c| !c.starts_with(&format!("{name}=")));
                cookies.push(pair);
            }
            let location = res.headers()["location"].to_str().unwrap();
            reqwest::Url::parse(&base).unwrap().join(location).unwrap().to_string()
        };
        let authorize = format!(
            "{}/auth?client_id=versorgung-frontend&response_type=code&scope=openid%20versorgung\
             &redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&state=s1&code_challenge={challenge}\
             &code_challenge_method=S256",
            self.base
        );
        let res = self.http.get(&authorize).send().await.unwrap();
        let interaction = keep(&mut cookies, &res);
        let res = self
            .http
            .post(&interaction)
            .header("cookie", cookies.join("; "))
            .form(&[("prompt", "login"), ("login", login), ("password", "egal")])
            .send()
            .await
            .unwrap();
        let resume = keep(&mut cookies, &res);
        let res = self
            .http
            .get(&resume)
            .header("cookie", cookies.join("; "))
            .send()
            .await
            .unwrap();
        let callback = keep(&mut cookies, &res);
        let code = reqwest::Url::parse(&callback)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no code in {callback}"));
        let res = self
            .http
            .post(format!("{}/token", self.base))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", "versorgung-frontend"),
                ("code", &code),
                ("code_verifier", verifier),
                ("redirect_uri", "http://127.0.0.1/callback"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "code exchange");
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn stage(&self, n: u8) {
        let res = self
            .http
            .post(format!("{}/test/stage?n={n}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }

    async fn jwks_fetches(&self) -> u64 {
        let stats: Value = self
            .http
            .get(format!("{}/test/stats", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["jwks"].as_u64().unwrap()
    }
}

/// The service as a Keycloak realm's resource server: only the issuer, the audience, the clients and the mapping.
fn resource_server(a: &mut ServeArgs, idp: &Idp, alg: JwtAlgorithm) {
    a.auth.jwt_algorithm = alg;
    a.auth.jwt_secret = None;
    a.auth.jwt_issuer = Some(idp.issuer.clone());
    a.auth.jwt_audience = vec!["versorgung-api".into()];
    a.auth.jwt_allowed_clients = CLIENTS.iter().map(|c| (*c).to_owned()).collect();
    a.auth.jwt_role_claim = "realm_access.roles".into();
    a.auth.jwt_role_map = vec![
        "versorgung-kommune=municipality".into(),
        "versorgung-serviceeinheit=service_unit".into(),
        "versorgung-ministerium=ministry".into(),
    ];
    a.auth.jwt_org_claim = "ags".into();
    a.auth.jwt_leeway = Duration::ZERO;
}

/// The role the service gave a token, read off which role-only creation gets past the role check (422 for the
/// empty body) while the others answer 403.
async fn role_of(app: &TestApp, token: &str) -> &'static str {
    let mut passed = Vec::new();
    for (path, role) in [
        ("/api/v1/applications", "municipality"),
        ("/api/v1/topics", "service_unit"),
        ("/api/v1/funding-lines", "ministry"),
    ] {
        let status = app
            .post(path, Some(token), &serde_json::json!({}))
            .await
            .status()
            .as_u16();
        assert!(status == 422 || status == 403, "{path}: {status}");
        if status == 422 {
            passed.push(role);
        }
    }
    assert_eq!(passed.len(), 1, "{passed:?}");
    passed[0]
}

/// A municipality's draft: the district is the mapped organisation's, the history names the token's subject.
async fn drafts_as(app: &TestApp, token: &str, sub: &str) {
    let body = serde_json::json!({"fundingLine": "GK", "title": "Gesundheitskoordination"});
    let res = app.post("/api/v1/applications", Some(token), &body).await;
    assert_eq!(res.status(), 201);
    let draft: Value = res.json().await.unwrap();
    assert_eq!(draft["district"], "06636");
    let history: Value = app
        .get(
            &format!("/api/v1/applications/{}/history", draft["id"].as_str().unwrap()),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history[0]["actor"]["sub"], sub, "{history}");
    assert_eq!(history[0]["actor"]["role"], "municipality");
}

async fn refused(app: &TestApp, token: &str, code: &str) {
    let p = problem(app.get("/api/v1/applications", Some(token)).await, 401).await;
    assert_eq!(p["code"], code, "{p}");
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn end_to_end(alg: &str, jwt_alg: JwtAlgorithm) {
    let idp = Idp::start(alg, None).await;
    let impostor = Idp::start(alg, Some(&idp.issuer)).await;
    let app = TestApp::spawn_with(|a| {
        resource_server(a, &idp, jwt_alg);
        a.auth.jwt_jwks_refresh = Duration::from_secs(2);
        a.auth.jwt_jwks_min_interval = Duration::from_millis(500);
    })
    .await;

    // The Swagger UI's second scheme: client credentials at the discovered token endpoint, which really issues.
    let doc: Value = app.get("/api-docs/openapi.json", None).await.json().await.unwrap();
    let token_url = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token_url, format!("{}/token", idp.issuer));
    let security = doc["paths"]["/api/v1/applications"]["post"]["security"]
        .as_array()
        .unwrap();
    assert!(security.iter().any(|s| s.get("bearerAuth").is_some()));
    assert!(security.iter().any(|s| s.get("oauth2").is_some()));
    // The Swagger UI may ask the provider's token endpoint from the browser (and nothing else outside this origin).
    let ui = app.get("/swagger-ui/", None).await;
    let csp = ui.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains(&format!("connect-src 'self' {};", idp.base)), "{csp}");
    let from_doc = idp
        .token_at(
            &token_url,
            "ministerium-auswertung",
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(role_of(&app, &from_doc).await, "ministry");

    // Machine clients and people, each with the role and organisation the provider gave them.
    let district_it = idp.machine_token("bezirk-it-werra-meissner", None).await;
    assert_eq!(role_of(&app, &district_it).await, "municipality");
    drafts_as(&app, &district_it, "bezirk-it-werra-meissner").await;
    let person = idp.user_token("kommune.eschwege").await;
    assert_eq!(role_of(&app, &person).await, "municipality");
    drafts_as(&app, &person, "kommune.eschwege").await;
    assert_eq!(
        role_of(&app, &idp.user_token("anna.schmidt").await).await,
        "service_unit"
    );

    // Refused: another audience, another provider's keys under the same issuer name, an organisation that does not
    // exist, no mappable role, two roles, a client not on the list, an expired token.
    let ministry_other_api = idp
        .machine_token("ministerium-auswertung", Some("urn:andere:api"))
        .await;
    refused(&app, &ministry_other_api, "invalid_token").await;
    let forged = impostor.machine_token("ministerium-auswertung", None).await;
    refused(&app, &forged, "invalid_token").await;
    for client in ["kommune-unbekannt", "ohne-rolle", "zwei-rollen", "fremd"] {
        refused(&app, &idp.machine_token(client, None).await, "invalid_token").await;
    }
    let short = idp.machine_token("kurzlebig", None).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    refused(&app, &short, "expired_token").await;

    // Key rotation while requests keep coming: B published beside A, then B signs while A is still published, then
    // A is removed.
    let signed_a = idp.machine_token("ministerium-auswertung", None).await;
    let tokens = Arc::new(std::sync::Mutex::new(vec![signed_a.clone(), district_it.clone()]));
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for worker in 0..4 {
        let (tokens, stop, sent, failed) = (tokens.clone(), stop.clone(), sent.clone(), failed.clone());
        let (client, url) = (app.client.clone(), app.url("/api/v1/applications?limit=1"));
        load.push(tokio::spawn(async move {
            let mut i = worker;
            while !stop.load(Ordering::SeqCst) {
                let token = {
                    let tokens = tokens.lock().unwrap();
                    tokens[i % tokens.len()].clone()
                };
                i += 1;
                let status = client.get(&url).bearer_auth(token).send().await.unwrap().status();
                sent.fetch_add(1, Ordering::SeqCst);
                if status != 200 {
                    failed.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    idp.stage(2).await;
    // Longer than the refresh interval: the service has read the list with both keys.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    idp.stage(3).await;
    let signed_b = idp.machine_token("ministerium-auswertung", None).await;
    assert_ne!(kid(&signed_a), kid(&signed_b), "the provider signs with the new key");
    tokens.lock().unwrap().push(signed_b.clone());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    for worker in load {
        worker.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::SeqCst), 0, "no request failed during the overlap");
    assert!(
        sent.load(Ordering::SeqCst) > 50,
        "requests were sent during the overlap"
    );
    idp.stage(4).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    refused(&app, &signed_a, "invalid_token").await;
    assert_eq!(app.get("/api/v1/applications", Some(&signed_b)).await.status(), 200);
}

#[actix_web::test]
async fn rs256_tokens_of_an_openid_provider_with_key_rotation() {
    end_to_end("RS256", JwtAlgorithm::Rs256).await;
}

#[actix_web::test]
async fn es256_tokens_of_an_openid_provider_with_key_rotation() {
    end_to_end("ES256", JwtAlgorithm::Es256).await;
}

/// 1,000 requests with a `kid` the provider does not publish make the service ask for the keys at most once per
/// minimum interval.
#[actix_web::test]
async fn unknown_kids_do_not_cause_a_refetch_storm() {
    let idp = Idp::start("RS256", None).await;
    let impostor = Idp::start("RS256", Some(&idp.issuer)).await;
    let interval = Duration::from_secs(3);
    let app = TestApp::spawn_with(|a| {
        resource_server(a, &idp, JwtAlgorithm::Rs256);
        a.auth.jwt_jwks_min_interval = interval;
    })
    .await;
    let good = idp.machine_token("ministerium-auswertung", None).await;
    assert_eq!(app.get("/api/v1/applications", Some(&good)).await.status(), 200);
    let unknown = impostor.machine_token("ministerium-auswertung", None).await;
    // The minimum interval since the fetch at start has passed: the first unknown kid may fetch once.
    tokio::time::sleep(interval + Duration::from_millis(200)).await;
    let before = idp.jwks_fetches().await;
    let started = Instant::now();
    let statuses = futures_statuses(&app, &unknown, 1000, 50).await;
    let elapsed = started.elapsed();
    assert!(statuses.iter().all(|s| *s == 401), "every request refused");
    let fetches = idp.jwks_fetches().await - before;
    let allowed = 1 + (elapsed.as_millis() / interval.as_millis()) as u64;
    println!("1000 requests with an unknown kid in {elapsed:?}: {fetches} JWKS fetches (at most {allowed} allowed)");
    assert!(fetches >= 1, "the unknown kid made the service look for new keys once");
    assert!(
        fetches <= allowed,
        "{fetches} fetches in {elapsed:?} (at most {allowed})"
    );
    assert_eq!(app.get("/api/v1/applications", Some(&good)).await.status(), 200);
}

/// Sends `n` GETs with `token`, `concurrency` at a time; returns the statuses.
async fn futures_statuses(app: &TestApp, token: &str, n: usize, concurrency: usize) -> Vec<u16> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, token, next) = (
            app.client.clone(),
            app.url("/api/v1/applications"),
            token.to_owned(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while next.fetch_add(1, Ordering::SeqCst) < n {
                statuses.push(
                    client
                        .get(&url)
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16(),
                );
            }
            statuses
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all
}

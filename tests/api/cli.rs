//! The binary itself: `token` and a service started with no configuration at all.

use crate::helpers::*;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_versorgung");

fn clean_command() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("VERSORGUNG_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[actix_web::test]
async fn token_from_the_cli_is_accepted_by_a_service_on_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = clean_command()
        .args(["token", "--role", "ministry", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let secret_file = dir.path().join("jwt-secret");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&secret_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let data_dir = dir.path().to_owned();
    let app = TestApp::spawn_with(|a| {
        a.auth.jwt_secret = None;
        a.db.data_dir = data_dir;
    })
    .await;
    let res = app
        .post(
            "/api/v1/funding-lines",
            Some(&token),
            &json!({"code": "TM", "title": "Telemedizin", "guidelineReference": "Teil II Nr. 2",
                "eligibleApplicantKinds": ["gemeinde"], "budgetCents": 100}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .patch(
            "/api/v1/funding-lines/TM",
            Some(&token),
            Some("\"1\""),
            &json!({"budgetCents": 200}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // The test harness's own secret is not this one.
    problem(app.get("/api/v1/organisations", Some(&ministry())).await, 401).await;

    let refused = clean_command()
        .args(["token", "--role", "municipality", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success(), "municipality needs --org");
}

/// The README's run command: no configuration, a private PostgreSQL, dev tokens on stdout, Swagger UI, and a clean
/// shutdown that stops the cluster.
#[actix_web::test]
async fn serve_with_no_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = clean_command()
        .args(["--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(res) = client.get(format!("{base}/health/ready")).send().await
            && res.status() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "service did not become ready"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    let printed: Vec<String> = rx.try_iter().collect();
    let ministry_token = printed
        .iter()
        .skip_while(|l| !l.starts_with("ministry"))
        .nth(1)
        .map(|l| l.trim().to_owned())
        .expect("a ministry token is printed");
    assert!(
        printed.iter().any(|l| l.contains("Authorize")),
        "explains the Swagger UI"
    );
    let swagger = client.get(format!("{base}/swagger-ui/")).send().await.unwrap();
    assert_eq!(swagger.status(), 200);
    let districts: serde_json::Value = client
        .get(format!("{base}/api/v1/districts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(districts["items"].as_array().unwrap().len(), 26);
    let line = client
        .get(format!("{base}/api/v1/funding-lines/GK"))
        .bearer_auth(&ministry_token)
        .send()
        .await
        .unwrap();
    assert_eq!(line.status(), 200);
    assert!(line.text().await.unwrap().contains("budgetCents"));

    // Seeding a running system uses the service's cluster and leaves it running (it once stopped it: a command
    // must never stop a cluster it did not start).
    let seeded = clean_command()
        .args(["seed", "--demo", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    assert!(
        dir.path().join("postgres/postmaster.pid").exists(),
        "the seed left the cluster running"
    );
    let ready = client.get(format!("{base}/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "the service still reaches its database");
    let applications: serde_json::Value = client
        .get(format!("{base}/api/v1/applications?includeTotal=true"))
        .bearer_auth(&ministry_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(applications["total"], 13, "{applications}");

    // SIGTERM: graceful shutdown, then the private cluster is stopped.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!dir.path().join("postgres/postmaster.pid").exists(), "cluster stopped");
    // Private files are private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("postgres-password"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0);
}

#[actix_web::test]
async fn seed_demo_adds_applications_in_every_state_once() {
    let app = TestApp::spawn().await;
    for expected in ["added the demo data: 13 applications", "nothing added"] {
        // The demo is written against the same day the service under test is pinned to.
        let out = clean_command()
            .args(["seed", "--demo"])
            .env("DATABASE_URL", &app.db.url)
            .env("VERSORGUNG_TODAY", PINNED_TODAY)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(expected));
    }
    let all: serde_json::Value = app
        .get("/api/v1/applications?limit=200&includeTotal=true", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 13);
    let mut states: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    states.sort();
    states.dedup();
    assert_eq!(
        states,
        vec![
            "approved",
            "changes_requested",
            "draft",
            "in_review",
            "rejected",
            "submitted",
            "withdrawn"
        ]
    );
    // Approvals committed their grants; the history is real.
    let gk: serde_json::Value = app
        .get("/api/v1/funding-lines/GK", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gk["committedCents"], 22_500_000);
    let approved = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["status"] == "approved")
        .unwrap();
    let history: serde_json::Value = app
        .get(
            &format!("/api/v1/applications/{}/history", approved["id"].as_str().unwrap()),
            Some(&ministry()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().last().unwrap()["action"], "approve");
    // Grant notices in every state so far, and payment requests in every state.
    let states = |path: &'static str| {
        let app = &app;
        async move {
            let page: serde_json::Value = app.get(path, Some(&ministry())).await.json().await.unwrap();
            let mut states: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["status"].as_str().unwrap().to_owned())
                .collect();
            states.sort();
            states
        }
    };
    assert_eq!(
        states("/api/v1/grant-notices").await,
        vec!["amended", "closed", "draft", "final", "issued"]
    );
    // A settled grant with its recovery claim in the hearing; early-start requests both ways.
    assert_eq!(states("/api/v1/settlements").await, vec!["confirmed"]);
    assert_eq!(states("/api/v1/recovery-claims").await, vec!["hearing"]);
    assert_eq!(
        states("/api/v1/early-start-consents").await,
        vec!["granted", "requested"]
    );
    assert_eq!(
        states("/api/v1/payment-requests").await,
        vec![
            "approved",
            "cancelled",
            "checked",
            "draft",
            "paid",
            "paid",
            "rejected",
            "returned",
            "submitted"
        ]
    );
    // Proofs of use: open ones, a draft, an accepted interim proof under two sign-offs, a submitted final one;
    // change requests: an acknowledged report and an extension waiting for the ministry.
    let mut proofs = states("/api/v1/proofs-of-use?limit=200").await;
    proofs.dedup();
    assert_eq!(proofs, vec!["accepted", "draft", "open", "submitted"]);
    assert_eq!(
        states("/api/v1/change-requests").await,
        vec!["acknowledged", "submitted"]
    );
    let referrals: serde_json::Value = app
        .get("/api/v1/referrals?limit=50", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let mut referral_states: Vec<&str> = referrals["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    referral_states.sort();
    assert_eq!(
        referral_states,
        vec!["answered", "closed", "declined", "forwarded", "in_triage", "received"]
    );
    let coordinators: serde_json::Value = app
        .get("/api/v1/coordinators?includeTotal=true", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(coordinators["total"], 4);
    // The Werra-Meißner-Kreis user of the printed development token sees its own application.
    let own: serde_json::Value = app
        .get("/api/v1/applications?includeTotal=true", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["total"], 1);
    // The service unit's work: published knowledge (the public entry without a token), a consultation, action items
    // that are duties.
    let public: serde_json::Value = app
        .get("/api/v1/knowledge-entries?q=Fallkonferenzen", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["items"].as_array().unwrap().len(), 1, "{public}");
    let consultations: serde_json::Value = app
        .get("/api/v1/consultations?includeTotal=true", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(consultations["total"], 1);
    let items: serde_json::Value = app
        .get("/api/v1/action-items?includeTotal=true", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(items["total"], 2);
    let duties: serde_json::Value = app
        .get("/api/v1/obligations?duty=action_item.complete", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(duties["items"].as_array().unwrap().len(), 2, "{duties}");
    // A knowledge entry links the accepted proof of use of a funded project (staff see the link, others do not);
    // a proof that is not accepted is refused.
    let proofs: serde_json::Value = app
        .get("/api/v1/proofs-of-use?status=accepted", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let accepted = proofs["items"][0]["id"].clone();
    assert!(accepted.is_string(), "{proofs}");
    let open: serde_json::Value = app
        .get("/api/v1/proofs-of-use?status=open", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let body = |proof: &serde_json::Value| {
        serde_json::json!({"kind": "good_practice", "title": "Gesundheitskoordination im Kreis", "visibility": "network",
            "proofIds": [proof]})
    };
    let res = app
        .post(
            "/api/v1/knowledge-entries",
            Some(&service_unit()),
            &body(&open["items"][0]["id"]),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(pointers(&p), vec!["/proofIds/0"]);
    let res = app
        .post("/api/v1/knowledge-entries", Some(&service_unit()), &body(&accepted))
        .await;
    assert_eq!(res.status(), 201);
    let entry: serde_json::Value = res.json().await.unwrap();
    assert_eq!(entry["proofIds"], serde_json::json!([accepted]));
}

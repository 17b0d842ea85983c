//! Virus scanning with a real ClamAV daemon (Debian's clamav-daemon), started by the test on loopback with a
//! database that holds only a signature for the EICAR test string, so no signature download is needed.

use crate::helpers::*;
use crate::payment_requests::ok;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The EICAR anti-virus test string: harmless, and found by every scanner.
const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

/// A clamd on a free loopback port, stopped when dropped.
pub struct Clamd {
    child: Child,
    _dir: tempfile::TempDir,
    pub url: String,
}

impl Clamd {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        std::fs::write(
            db.join("eicar.ndb"),
            format!("Eicar-Test-Signature:0:*:{}\n", hex::encode(EICAR)),
        )
        .unwrap();
        let port = free_port();
        let config = dir.path().join("clamd.conf");
        std::fs::write(
            &config,
            format!(
                "Foreground yes\nDatabaseDirectory {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nLogFile {}\n\
                 PidFile {}\nStreamMaxLength 200M\n",
                db.display(),
                dir.path().join("clamd.log").display(),
                dir.path().join("clamd.pid").display()
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/clamd")
            .arg(format!("--config-file={}", config.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clamd (Debian package clamav-daemon; .ci/run installs it)");
        let started = Instant::now();
        loop {
            let pong = std::net::TcpStream::connect(("127.0.0.1", port))
                .ok()
                .and_then(|mut s| {
                    s.write_all(b"zPING\0").ok()?;
                    let mut answer = [0u8; 5];
                    s.read_exact(&mut answer).ok()?;
                    Some(answer)
                });
            if pong.as_ref() == Some(b"PONG\0") {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(90), "clamd did not answer PING");
            std::thread::sleep(Duration::from_millis(200));
        }
        Self {
            child,
            _dir: dir,
            url: format!("tcp://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn upload(app: &TestApp, application: &str, name: &str, media_type: &str, body: &[u8]) -> Value {
    let path = format!("/api/v1/applications/{application}/attachments?category=konzept&fileName={name}");
    let res = app
        .client
        .post(app.url(&path))
        .bearer_auth(municipality())
        .header("Content-Type", media_type)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    ok(res, 201).await
}

/// Waits for the scanning job (a round every 100 ms) to decide an attachment.
async fn scanned(app: &TestApp, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let a: Value = app
            .get(&format!("/api/v1/attachments/{id}"), Some(&municipality()))
            .await
            .json()
            .await
            .unwrap();
        if a["scanState"] != "pending" {
            return a;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still pending: {a}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn uploads_wait_for_the_scanner_and_the_eicar_string_is_refused_with_its_content_deleted() {
    let clamd = Clamd::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_owned();
    let url = clamd.url.clone();
    let app = TestApp::spawn_with(move |a| {
        a.attachments.clamav = Some(url);
        a.attachments.clamav_interval = Duration::from_millis(100);
        a.attachments.attachment_dir = Some(store);
    })
    .await;
    let body = json!({"fundingLine": "GK", "title": "Gesundheitskoordination", "description": "Aufbau."});
    let a = ok(
        app.post("/api/v1/applications", Some(&municipality()), &body).await,
        201,
    )
    .await;
    let a = a["id"].as_str().unwrap().to_owned();

    let clean = upload(&app, &a, "Konzept.pdf", "application/pdf", PDF).await;
    assert_eq!(clean["scanState"], "pending");
    let virus = upload(&app, &a, "eicar.txt", "text/plain", EICAR).await;
    assert_eq!(virus["scanState"], "pending");

    let clean = scanned(&app, clean["id"].as_str().unwrap()).await;
    assert_eq!(clean["scanState"], "clean");
    let res = app.get(clean["href"].as_str().unwrap(), Some(&municipality())).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    let virus_id = virus["id"].as_str().unwrap().to_owned();
    let virus = scanned(&app, &virus_id).await;
    assert_eq!(
        (&virus["scanState"], &virus["href"]),
        (&json!("infected"), &Value::Null)
    );
    let res = app
        .get(
            &format!("/api/v1/attachments/{virus_id}/content"),
            Some(&municipality()),
        )
        .await;
    assert_eq!(problem(res, 409).await["code"], "content_unavailable");
    // The content is gone from the store, the record stays; the recipient is told through the feed.
    let files: Vec<_> = walk(dir.path());
    assert_eq!(files.len(), 1, "only the clean file is stored: {files:?}");
    let feed: Value = app
        .get("/api/v1/events?after=0&limit=200", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let infected: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "attachment.infected")
        .collect();
    assert_eq!(infected.len(), 1);
    assert_eq!(infected[0]["resourceId"], virus_id.as_str());
    let history: Value = app
        .get(&format!("/api/v1/attachments/{virus_id}/history"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["toStatus"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(steps, vec![("create", ""), ("scan", "infected")]);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).map_or(Vec::new(), |entries| {
        entries
            .flatten()
            .flat_map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    vec![e.path()]
                }
            })
            .collect()
    })
}

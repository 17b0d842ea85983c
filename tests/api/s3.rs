//! Attachments in an S3-compatible store: a real one on loopback (moto's server mode, a Python package; no
//! container), two service processes on one database and one bucket, each serving what the other stored.

use crate::helpers::*;
use crate::instances::start_with;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's server: `MOTO_SERVER`, or installed once from .ci/requirements-s3.txt into target/moto-venv.
fn moto_server() -> PathBuf {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/moto-venv");
    let server = venv.join("bin/moto_server");
    if !server.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3");
        assert!(status.success(), "python3 -m venv");
        let status = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(root.join(".ci/requirements-s3.txt"))
            .status()
            .expect("pip");
        assert!(status.success(), "pip install moto");
    }
    server
}

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_moto() -> Moto {
    let port = free_port();
    let child = Command::new(moto_server())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(&url).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "moto did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The bucket (moto accepts unsigned requests).
    let created = client.put(format!("{url}/versorgung")).send().await.unwrap();
    assert!(created.status().is_success(), "{created:?}");
    Moto { child, url }
}

#[actix_web::test]
async fn two_instances_share_one_bucket_and_serve_each_others_files() {
    let moto = start_moto().await;
    let app = TestApp::spawn().await;
    let env = [
        ("VERSORGUNG_S3_BUCKET", "versorgung"),
        ("VERSORGUNG_S3_ENDPOINT", moto.url.as_str()),
        ("VERSORGUNG_S3_ALLOW_HTTP", "true"),
        ("VERSORGUNG_S3_ACCESS_KEY_ID", "test"),
        ("VERSORGUNG_S3_SECRET_ACCESS_KEY", "test"),
    ];
    let (a, b) = futures_util::join!(
        start_with(&app.db.url, free_port(), &env),
        start_with(&app.db.url, free_port(), &env)
    );
    let client = reqwest::Client::new();
    let body = json!({"fundingLine": "GK", "title": "Gesundheitskoordination", "description": "Aufbau."});
    let created: Value = client
        .post(format!("{}/api/v1/applications", a.base))
        .bearer_auth(municipality())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let application = created["id"].as_str().unwrap();

    // 12 MiB: more than two parts of a multipart upload, streamed through instance A into the bucket.
    let mut content = b"%PDF-1.7\n".to_vec();
    content.extend((0..12 * 1024 * 1024).map(|i| (i % 251) as u8));
    let res = client
        .post(format!(
            "{}/api/v1/applications/{application}/attachments?category=kostenplan&fileName=Kostenplan.pdf",
            a.base
        ))
        .bearer_auth(municipality())
        .header("Content-Type", "application/pdf")
        .body(content.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let attachment: Value = res.json().await.unwrap();
    let id = attachment["id"].as_str().unwrap();

    // The object is in the bucket under its key, with every byte.
    let stored = client
        .get(format!("{}/versorgung/attachments/{id}", moto.url))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    assert_eq!(stored.bytes().await.unwrap().len(), content.len());

    // Instance B serves it, byte for byte.
    let res = client
        .get(format!("{}/api/v1/attachments/{id}/content", b.base))
        .bearer_auth(municipality())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-length"], content.len().to_string().as_str());
    assert!(
        res.bytes().await.unwrap().as_ref() == content.as_slice(),
        "the same bytes"
    );

    // Deleted through B, gone from the bucket for A as well.
    let res = client
        .delete(format!("{}/api/v1/attachments/{id}", b.base))
        .bearer_auth(municipality())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let gone = client
        .get(format!("{}/versorgung/attachments/{id}", moto.url))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let res = client
        .get(format!("{}/api/v1/attachments/{id}/content", a.base))
        .bearer_auth(municipality())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

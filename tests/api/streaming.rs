//! Memory stays flat while a 100 MB upload and its download stream through the service: the resident set of the
//! service process is sampled the whole time and may grow by far less than the file (the figures are printed).

use crate::helpers::*;
use crate::instances::start_with;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

const SIZE: usize = 100_000_000;
const CHUNK: usize = 64 * 1024;

/// The resident set of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Samples the process's resident set every 20 ms until stopped; returns the highest.
fn sampler(pid: u32) -> (Arc<AtomicBool>, std::thread::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let s = stop.clone();
    let handle = std::thread::spawn(move || {
        while !s.load(Ordering::SeqCst) {
            peak.fetch_max(rss(pid), Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
        }
        peak.load(Ordering::SeqCst)
    });
    (stop, handle)
}

#[actix_web::test]
async fn a_100_mb_file_streams_in_and_out_without_the_memory_growing_with_it() {
    let app = TestApp::spawn().await;
    let service = start_with(&app.db.url, free_port(), &[]).await;
    let pid = service.child.id();
    let client = reqwest::Client::new();
    let body = json!({"fundingLine": "GK", "title": "Gesundheitskoordination", "description": "Aufbau."});
    let created: Value = client
        .post(format!("{}/api/v1/applications", service.base))
        .bearer_auth(municipality())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let application = created["id"].as_str().unwrap();
    let baseline = rss(pid);

    // The upload, generated chunk by chunk (plain text: the service checks it as such).
    let chunks = futures_util::stream::iter((0..SIZE / CHUNK + 1).map(|i| {
        let len = CHUNK.min(SIZE - (i * CHUNK).min(SIZE));
        Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a' + (i % 26) as u8; len]))
    }))
    .filter(|c| futures_util::future::ready(c.as_ref().map_or(true, |b| !b.is_empty())));
    let (stop, peak) = sampler(pid);
    let res = client
        .post(format!(
            "{}/api/v1/applications/{application}/attachments?category=sonstiges&fileName=gross.txt",
            service.base
        ))
        .bearer_auth(municipality())
        .header("Content-Type", "text/plain")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    let upload_peak = peak.join().unwrap();
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let attachment: Value = res.json().await.unwrap();
    assert_eq!(attachment["sizeBytes"], SIZE);

    // The download, consumed chunk by chunk.
    let (stop, peak) = sampler(pid);
    let res = client
        .get(format!(
            "{}/api/v1/attachments/{}/content",
            service.base,
            attachment["id"].as_str().unwrap()
        ))
        .bearer_auth(municipality())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut received = 0usize;
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        received += chunk.unwrap().len();
    }
    stop.store(true, Ordering::SeqCst);
    let download_peak = peak.join().unwrap();
    assert_eq!(received, SIZE);

    let mib = |b: u64| b as f64 / 1024.0 / 1024.0;
    println!(
        "RSS of the service: {:.1} MiB before, peak {:.1} MiB during the 100 MB upload, {:.1} MiB during the download",
        mib(baseline),
        mib(upload_peak),
        mib(download_peak)
    );
    // A file held whole would add 95 MiB; the stream keeps at most a few parts.
    let limit = baseline + 40 * 1024 * 1024;
    assert!(upload_peak < limit, "upload: {:.1} MiB", mib(upload_peak));
    assert!(download_peak < limit, "download: {:.1} MiB", mib(download_peak));
}

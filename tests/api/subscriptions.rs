//! Subscriptions by topic, district and committee: the feed's filters, webhooks' filters and e-mail digests each
//! deliver only the events about what the subscriber follows.

use crate::helpers::*;
use crate::meetings::district_org;
use crate::webhooks::{Receiver, fast_webhooks};
use serde_json::{Value, json};
use std::collections::BTreeSet;

async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// (type, resource id) of the events of a feed page.
fn events(page: &Value) -> BTreeSet<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["resourceId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &Value)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(t, v)| ((*t).to_owned(), v["id"].as_str().unwrap().to_owned()))
        .collect()
}

/// What happens in the scenario: committees, consultations and a meeting about several topics and districts.
pub struct World {
    pub tele_committee: Value,
    pub care_committee: Value,
    pub tele_vogelsberg: Value,
    pub tele_werra: Value,
    pub meeting: Value,
}

pub async fn world(app: &TestApp) -> World {
    let s = service_unit();
    let committee = |name: &str, topic: &str| {
        json!({"name": name, "kind": "working_group", "owningBody": "Serviceeinheit", "topics": [topic],
            "coverage": {"scope": "districts", "districts": ["06535"]}})
    };
    let tele_committee = ok(
        app.post(
            "/api/v1/committees",
            Some(&s),
            &committee("AG Telemedizin Vogelsberg", "telemedizin"),
        )
        .await,
        201,
    )
    .await;
    let care_committee = ok(
        app.post(
            "/api/v1/committees",
            Some(&s),
            &committee("AG Pflege Vogelsberg", "pflege"),
        )
        .await,
        201,
    )
    .await;
    let consultation = |org: &str, topic: &str| {
        json!({"organisationId": org, "heldOn": "2026-11-20", "channel": "video", "topics": [topic],
            "summary": "Beratung zu telemedizinischen Angeboten."})
    };
    let vogelsberg = district_org(app, "06535").await;
    let werra = district_org(app, "06636").await;
    let tele_vogelsberg = ok(
        app.post(
            "/api/v1/consultations",
            Some(&s),
            &consultation(&vogelsberg, "telemedizinische-fallkonferenzen"),
        )
        .await,
        201,
    )
    .await;
    let tele_werra = ok(
        app.post("/api/v1/consultations", Some(&s), &consultation(&werra, "telemedizin"))
            .await,
        201,
    )
    .await;
    let meeting = ok(
        app.post(
            &format!("/api/v1/committees/{}/meetings", tele_committee["id"].as_str().unwrap()),
            Some(&s),
            &json!({"date": "2026-11-20", "title": "Sitzung 1", "agenda": [{"title": "Begrüßung"}]}),
        )
        .await,
        201,
    )
    .await;
    ok(
        app.patch(
            &format!("/api/v1/meetings/{}", meeting["id"].as_str().unwrap()),
            Some(&s),
            Some("\"1\""),
            &json!({"attendance": {"serviceUnit": "organised"}}),
        )
        .await,
        200,
    )
    .await;
    World {
        tele_committee,
        care_committee,
        tele_vogelsberg,
        tele_werra,
        meeting,
    }
}

#[actix_web::test]
async fn the_feed_and_webhooks_deliver_only_the_followed_topics_districts_and_committees() {
    let app = TestApp::spawn_with(fast_webhooks).await;
    let r = ministry();
    // Subscriptions first: a webhook sees the events after its creation.
    let (tele_hook, tele_url) = Receiver::start().await;
    let (committee_hook, committee_url) = Receiver::start().await;
    let p = problem(
        app.post(
            "/api/v1/webhooks",
            Some(&r),
            &json!({"url": tele_url, "eventTypes": ["*"], "topics": ["gibt-es-nicht"], "districts": ["06999"],
                "committees": [uuid::Uuid::now_v7()]}),
        )
        .await,
        422,
    )
    .await;
    let mut wrong = pointers(&p);
    wrong.sort();
    assert_eq!(wrong, vec!["/committees/0", "/districts/0", "/topics/0"], "{p}");
    let tele = ok(
        app.post(
            "/api/v1/webhooks",
            Some(&r),
            &json!({"url": tele_url, "eventTypes": ["*"], "topics": ["telemedizin"], "districts": ["06535"]}),
        )
        .await,
        201,
    )
    .await;
    *tele_hook.secret.lock().unwrap() = tele["secret"].as_str().unwrap().to_owned();
    assert_eq!(tele["topics"], json!(["telemedizin"]));
    let w = world(&app).await;
    let by_committee = ok(
        app.post(
            "/api/v1/webhooks",
            Some(&r),
            &json!({"url": committee_url, "eventTypes": ["*"], "committees": [w.tele_committee["id"]]}),
        )
        .await,
        201,
    )
    .await;
    *committee_hook.secret.lock().unwrap() = by_committee["secret"].as_str().unwrap().to_owned();
    // Only the second webhook's own time counts for it: one more change of the committee after it subscribed.
    ok(
        app.patch(
            &format!("/api/v1/committees/{}", w.tele_committee["id"].as_str().unwrap()),
            Some(&service_unit()),
            Some("\"1\""),
            &json!({"owningBody": "Serviceeinheit Gesundheitsversorgung"}),
        )
        .await,
        200,
    )
    .await;
    let tele_committee_id = w.tele_committee["id"].as_str().unwrap();

    // The feed: a topic with its sub-topics; topic and district together; a committee with its meetings.
    let feed = async |q: &str| app.get(&format!("/api/v1/events?limit=1000&{q}"), Some(&r)).await;
    let topic = events(&ok(feed("topic=telemedizin").await, 200).await);
    assert_eq!(
        topic,
        set(&[
            ("committee.created", &w.tele_committee),
            ("committee.changed", &w.tele_committee),
            ("consultation.created", &w.tele_vogelsberg),
            ("consultation.created", &w.tele_werra),
        ]),
        "the care committee is about another topic; the meeting names no topic"
    );
    let here = events(&ok(feed("topic=telemedizin&district=06535").await, 200).await);
    assert_eq!(
        here,
        set(&[
            ("committee.created", &w.tele_committee),
            ("committee.changed", &w.tele_committee),
            ("consultation.created", &w.tele_vogelsberg),
        ])
    );
    let sub = events(&ok(feed("topic=telemedizinische-fallkonferenzen").await, 200).await);
    assert_eq!(
        sub,
        set(&[("consultation.created", &w.tele_vogelsberg)]),
        "a sub-topic does not find its parent's"
    );
    let committee = events(&ok(feed(&format!("committee={tele_committee_id}")).await, 200).await);
    assert_eq!(
        committee,
        set(&[
            ("committee.created", &w.tele_committee),
            ("committee.meeting_recorded", &w.tele_committee),
            ("committee.changed", &w.tele_committee),
            ("committee_meeting.changed", &w.meeting),
        ])
    );
    let care = events(&ok(feed("topic=pflege").await, 200).await);
    assert_eq!(care, set(&[("committee.created", &w.care_committee)]));
    // A municipality's filtered feed stays within what it may see: the Werra consultation is not Vogelsberg's.
    let vogelsberg = token("municipality", Some("06535"));
    let theirs = ok(
        app.get("/api/v1/events?limit=1000&topic=telemedizin", Some(&vogelsberg))
            .await,
        200,
    )
    .await;
    assert_eq!(
        events(&theirs),
        set(&[
            ("committee.created", &w.tele_committee),
            ("committee.changed", &w.tele_committee),
            ("consultation.created", &w.tele_vogelsberg),
        ])
    );
    problem(feed("topic=Tele%20Medizin").await, 400).await;
    problem(feed("district=99999").await, 400).await;

    // Webhooks: the deliveries the fan-out made (final once the feed has numbered every event), then received.
    let delivered = |hook: &Value| {
        let path = format!("/api/v1/webhooks/{}/deliveries?limit=200", hook["id"].as_str().unwrap());
        let app = &app;
        let r = r.clone();
        async move {
            let page = ok(app.get(&path, Some(&r)).await, 200).await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["eventType"].as_str().unwrap().to_owned())
                .collect::<BTreeSet<String>>()
        }
    };
    assert_eq!(
        delivered(&tele).await,
        ["committee.changed", "committee.created", "consultation.created"]
            .map(str::to_owned)
            .into(),
    );
    assert_eq!(tele_hook.wait_for(3).await.len(), 3);
    assert_eq!(
        delivered(&by_committee).await,
        BTreeSet::from(["committee.changed".to_owned()])
    );
    let got = committee_hook.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].2, "signed");
    let received: BTreeSet<(String, String)> = tele_hook
        .received()
        .iter()
        .map(|(_, body, _)| {
            (
                body["type"].as_str().unwrap().to_owned(),
                body["data"]["resourceId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(received.len(), 3, "{received:?}");
}

/// An SMTP server on a free loopback port (aiosmtpd from PyPI, in a venv of its own), writing what it receives
/// into a Maildir; stopped when dropped.
struct Smtpd {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtpd_python() -> std::path::PathBuf {
    use std::process::Command;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/smtp-venv");
    let python = venv.join("bin/python");
    if !venv.join("bin/aiosmtpd").exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3");
        assert!(status.success(), "python3 -m venv");
        let status = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(root.join(".ci/requirements-smtp.txt"))
            .status()
            .expect("pip");
        assert!(status.success(), "pip install aiosmtpd");
    }
    python
}

async fn start_smtpd() -> Smtpd {
    let port = free_port();
    let maildir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(smtpd_python())
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(maildir.path().join("box"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("aiosmtpd");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "aiosmtpd did not start"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Smtpd { child, port, maildir }
}

/// A received message: (to, subject, plain-text body), decoded as a mail client would.
fn parse(raw: &[u8]) -> (String, String, String) {
    use mailparse::MailHeaderMap;
    let mail = mailparse::parse_mail(raw).unwrap();
    let to = mail.headers.get_first_value("To").unwrap_or_default();
    let subject = mail.headers.get_first_value("Subject").unwrap_or_default();
    assert!(
        mail.ctype.mimetype == "text/plain" && mail.ctype.charset.eq_ignore_ascii_case("utf-8"),
        "{:?}",
        mail.ctype
    );
    (to, subject, mail.get_body().unwrap())
}

impl Smtpd {
    fn received(&self) -> Vec<(String, String, String)> {
        let dir = self.maildir.path().join("box/new");
        let mut out: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| parse(&std::fs::read(e.path()).unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    async fn wait_for(&self, n: usize) -> Vec<(String, String, String)> {
        let started = std::time::Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || started.elapsed() > std::time::Duration::from_secs(15) {
                return got;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

#[actix_web::test]
async fn without_a_mail_setting_there_is_no_digest() {
    let app = TestApp::spawn().await;
    let p = problem(
        app.post(
            "/api/v1/digests",
            Some(&ministry()),
            &json!({"email": "referat@example.org", "frequency": "daily"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "mail_disabled");
    assert_eq!(app.db_count("digests").await, 0);
}

#[actix_web::test]
async fn e_mail_digests_bring_each_subscriber_only_its_topics_events() {
    let smtpd = start_smtpd().await;
    let port = smtpd.port;
    let app = TestApp::spawn_with(move |a| {
        a.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        a.mail.digest_interval = std::time::Duration::from_millis(100);
    })
    .await;
    let r = ministry();
    let subscribe =
        async |body: Value, token: &str| ok(app.post("/api/v1/digests", Some(token), &body).await, 201).await;
    let p = problem(
        app.post(
            "/api/v1/digests",
            Some(&r),
            &json!({"email": "kein-mail", "frequency": "hourly", "topics": ["gibt-es-nicht"]}),
        )
        .await,
        422,
    )
    .await;
    assert!(
        pointers(&p).contains(&"/email".to_owned()) || pointers(&p).contains(&"/frequency".to_owned()),
        "{p}"
    );
    let tele = subscribe(
        json!({"email": "telemedizin@vogelsbergkreis.example", "frequency": "weekly", "topics": ["telemedizin"],
            "districts": ["06535"]}),
        &r,
    )
    .await;
    let care = subscribe(
        json!({"email": "pflege@ministerium.example", "frequency": "daily", "topics": ["pflege"]}),
        &r,
    )
    .await;
    let quiet = subscribe(
        json!({"email": "still@ministerium.example", "frequency": "daily", "topics": ["praevention"]}),
        &r,
    )
    .await;
    let vogelsberg = token("municipality", Some("06535"));
    let own = subscribe(
        json!({"email": "kreis@vogelsbergkreis.example", "frequency": "daily", "eventTypes": ["consultation.created"]}),
        &vogelsberg,
    )
    .await;
    assert_eq!(
        ok(app.get("/api/v1/digests", Some(&vogelsberg)).await, 200)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    problem(
        app.get(
            &format!("/api/v1/digests/{}", tele["id"].as_str().unwrap()),
            Some(&vogelsberg),
        )
        .await,
        404,
    )
    .await;
    let w = world(&app).await;

    // Nothing is due yet; then every digest is (as if its period had passed) and the job sends.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(smtpd.received().is_empty());
    // A digest whose address the mail server cannot take (written past the API's check) does not hold up the others.
    app.db
        .execute(
            "INSERT INTO digests (id, owner_role, created_by, email, frequency, next_due_at, created_at)
             VALUES (gen_random_uuid(), 'ministry', 'x', 'kaputt', 'daily', now() - interval '2 minutes', now() - interval '1 day')",
        )
        .await;
    app.db
        .execute("UPDATE digests SET next_due_at = now() - interval '1 minute' WHERE email <> 'kaputt'")
        .await;
    let got = smtpd.wait_for(3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    let mail = |to: &str| {
        got.iter()
            .find(|(t, _, _)| t.contains(to))
            .unwrap_or_else(|| panic!("no mail to {to}: {got:?}"))
    };
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();

    let (_, subject, body) = mail("telemedizin@vogelsbergkreis.example");
    assert_eq!(subject, "Wöchentlicher Überblick Versorgung: 2 neue Ereignisse");
    assert!(
        body.contains("Gremium angelegt") && body.contains(&id(&w.tele_committee)),
        "{body}"
    );
    assert!(
        body.contains("Beratung angelegt") && body.contains(&id(&w.tele_vogelsberg)),
        "{body}"
    );
    assert!(
        !body.contains(&id(&w.tele_werra)) && !body.contains(&id(&w.care_committee)),
        "{body}"
    );
    assert!(
        body.contains(&format!("DELETE /api/v1/digests/{}", id(&tele))),
        "{body}"
    );

    let (_, subject, body) = mail("pflege@ministerium.example");
    assert_eq!(subject, "Täglicher Überblick Versorgung: 1 neues Ereignis");
    assert!(
        body.contains(&id(&w.care_committee)) && !body.contains(&id(&w.tele_committee)),
        "{body}"
    );

    // The municipality's digest carries only what it may see: its own district's consultation, not Werra-Meißner's.
    let (_, _, body) = mail("kreis@vogelsbergkreis.example");
    assert!(
        body.contains(&id(&w.tele_vogelsberg)) && !body.contains(&id(&w.tele_werra)),
        "{body}"
    );
    let _ = own;

    // Nothing happened for the quiet one: no mail, but it is rescheduled a period ahead.
    let quiet = ok(app.get(&format!("/api/v1/digests/{}", id(&quiet)), Some(&r)).await, 200).await;
    assert!(quiet["lastSentAt"].is_null());
    let care = ok(app.get(&format!("/api/v1/digests/{}", id(&care)), Some(&r)).await, 200).await;
    assert!(!care["lastSentAt"].is_null());
    assert!(care["nextDueAt"].as_str().unwrap() > care["lastSentAt"].as_str().unwrap());

    // Unsubscribed, no more mail; the next round sends nothing new.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/digests/{}", id(&tele))))
        .bearer_auth(&r)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    app.db
        .execute("UPDATE digests SET next_due_at = now() - interval '1 minute'")
        .await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtpd.received().len(), 3, "nothing happened since, so no further mail");
}

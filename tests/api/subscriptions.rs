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

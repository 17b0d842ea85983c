//! Themen: a controlled, hierarchical vocabulary read by everyone and kept by the service unit; committees and
//! referrals carry its codes (their former free texts mapped by migration 000025), lists filtered by a topic find
//! its sub-topics, and merging two topics rewrites every record that carries one.

use crate::helpers::*;
use serde_json::{Value, json};

async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

async fn committee_named(app: &TestApp, name: &str) -> Value {
    let all: Value = app
        .get("/api/v1/committees?limit=200", Some(&service_unit()))
        .await
        .json()
        .await
        .unwrap();
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn the_register_is_read_by_everyone_and_kept_by_the_service_unit() {
    let app = TestApp::spawn().await;
    // Public, in code order, with the path from the top.
    let topics = ok(app.get("/api/v1/topics?limit=200", None).await, 200).await;
    let items = topics["items"].as_array().unwrap();
    let codes: Vec<&str> = items.iter().map(|t| t["code"].as_str().unwrap()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
    let fk = items
        .iter()
        .find(|t| t["code"] == "telemedizinische-fallkonferenzen")
        .unwrap();
    assert_eq!(
        (&fk["parent"], &fk["path"]),
        (&json!("telemedizin"), &json!(["telemedizin"]))
    );
    // The seeded committees' free texts became codes: titles and slugs of known topics map, the rest are new.
    for (name, expected) in [
        ("Landeskrankenhausausschuss", json!(["krankenhausplanung"])),
        (
            "AG Gesundheitszentren",
            json!(["gesundheitszentren", "mvz", "sektorenuebergreifende-versorgung"]),
        ),
        (
            "Pakt für Gesundheit",
            json!(["aerztliche-versorgung-im-laendlichen-raum", "nachwuchsgewinnung"]),
        ),
    ] {
        assert_eq!(committee_named(&app, name).await["topics"], expected, "{name}");
    }
    let mvz = ok(app.get("/api/v1/topics/mvz", None).await, 200).await;
    assert_eq!(
        (&mvz["title"], &mvz["parent"], &mvz["status"]),
        (&json!("MVZ"), &json!(null), &json!("active"))
    );
    let sub = ok(
        app.get("/api/v1/topics?parent=versorgungsplanung&includeTotal=true", None)
            .await,
        200,
    )
    .await;
    assert_eq!(sub["total"], 4);
    let csv = app.get_csv("/api/v1/topics?q=pflege", None).await;
    assert!(
        csv.starts_with("code,title,parent,status,mergedInto,version,updatedAt\n"),
        "{csv}"
    );
    assert!(csv.contains("pflege,Pflege,,active,,1,"), "{csv}");

    // Kept by the service unit.
    let new = json!({"code": "hausarztzentren", "title": "Hausarztzentren", "parent": "gesundheitszentren"});
    for t in [municipality(), ministry()] {
        problem(app.post("/api/v1/topics", Some(&t), &new).await, 403).await;
    }
    let created = ok(app.post("/api/v1/topics", Some(&service_unit()), &new).await, 201).await;
    assert_eq!(created["path"], json!(["gesundheitszentren"]));
    assert_eq!(
        problem(app.post("/api/v1/topics", Some(&service_unit()), &new).await, 409).await["code"],
        "already_exists"
    );
    let bad = json!({"code": "Haus Arzt", "title": "x", "parent": "gibt-es-nicht"});
    let p = problem(app.post("/api/v1/topics", Some(&service_unit()), &bad).await, 422).await;
    assert_eq!(pointers(&p), ["/code", "/title"]);
    let bad = json!({"code": "hausarzt", "title": "Hausarzt", "parent": "gibt-es-nicht"});
    let p = problem(app.post("/api/v1/topics", Some(&service_unit()), &bad).await, 422).await;
    assert_eq!(
        (pointers(&p), &p["errors"][0]["code"]),
        (vec!["/parent".to_owned()], &json!("unknown_reference"))
    );

    // The tree stays a tree: not below itself.
    let res = app
        .patch(
            "/api/v1/topics/gesundheitszentren",
            Some(&service_unit()),
            Some("*"),
            &json!({"parent": "hausarztzentren"}),
        )
        .await;
    assert_eq!(pointers(&problem(res, 422).await), ["/parent"]);
    let res = app
        .patch(
            "/api/v1/topics/hausarztzentren",
            Some(&service_unit()),
            Some("\"1\""),
            &json!({"title": "Hausärztliche Zentren", "parent": null}),
        )
        .await;
    let changed = ok(res, 200).await;
    assert_eq!((&changed["parent"], &changed["version"]), (&json!(null), &json!(2)));
    let history = ok(
        app.get("/api/v1/topics/hausarztzentren/history", Some(&municipality()))
            .await,
        200,
    )
    .await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update"]);
}

#[actix_web::test]
async fn records_carry_active_codes_and_a_filter_finds_the_sub_topics() {
    let app = TestApp::spawn().await;
    let vogelsberg = token("municipality", Some("06535"));
    let idea = |topics: Value| {
        json!({"direction": "region_to_committee", "subject": "Fallkonferenzen", "description": "Praxen und Klinik.",
            "topics": topics})
    };
    // A malformed code is refused with the body's other rules; codes of the right shape are then looked up.
    let post = |topics: Value| {
        let (app, body, token) = (&app, idea(topics), vogelsberg.clone());
        async move { app.post("/api/v1/referrals", Some(&token), &body).await }
    };
    let p = problem(post(json!(["pflege", "Pflege", "pflege"])).await, 422).await;
    assert_eq!(pointers(&p), ["/topics/1", "/topics/2"]);
    let p = problem(post(json!(["pflege", "gibt-es-nicht"])).await, 422).await;
    assert_eq!(
        (pointers(&p), &p["errors"][0]["code"]),
        (vec!["/topics/1".to_owned()], &json!("unknown_reference"))
    );
    ok(
        app.post(
            "/api/v1/referrals",
            Some(&vogelsberg),
            &idea(json!(["telemedizinische-fallkonferenzen"])),
        )
        .await,
        201,
    )
    .await;
    ok(
        app.post("/api/v1/referrals", Some(&vogelsberg), &idea(json!(["pflege"])))
            .await,
        201,
    )
    .await;
    let total = |query: &'static str| {
        let app = &app;
        async move {
            let page = ok(
                app.get(
                    &format!("/api/v1/referrals?includeTotal=true&{query}"),
                    Some(&service_unit()),
                )
                .await,
                200,
            )
            .await;
            page["total"].as_i64().unwrap()
        }
    };
    assert_eq!(total("topic=telemedizin").await, 1, "the parent finds its sub-topic");
    assert_eq!(total("topic=telemedizinische-fallkonferenzen").await, 1);
    assert_eq!(total("topic=pflege").await, 1);
    assert_eq!(total("topic=oegd").await, 0);
    assert_eq!(total("topic=gibt-es-nicht").await, 0);
    // Coordinators name their fields of expertise: who in Hessen knows about telemedicine.
    let jana = |topics: Value| {
        json!({"name": "Jana Hoffmann", "district": "06535", "employer": "06535", "fteBasisPoints": 7500,
            "startDate": "2027-01-01", "topics": topics})
    };
    let p = problem(
        app.post(
            "/api/v1/coordinators",
            Some(&service_unit()),
            &jana(json!(["gibt-es-nicht"])),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), ["/topics/0"]);
    let c = ok(
        app.post(
            "/api/v1/coordinators",
            Some(&service_unit()),
            &jana(json!(["telemedizinische-fallkonferenzen"])),
        )
        .await,
        201,
    )
    .await;
    let experts = ok(
        app.get("/api/v1/coordinators?topic=telemedizin", Some(&municipality()))
            .await,
        200,
    )
    .await;
    assert_eq!(experts["items"][0]["id"], c["id"]);
    let none = ok(
        app.get(
            "/api/v1/coordinators?topic=pflege&includeTotal=true",
            Some(&municipality()),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(none["total"], 0);
    // Applications say what they are about; a filter by the broader topic finds them.
    let draft = json!({"fundingLine": "GK", "title": "Gesundheitskoordination", "topics": ["gesundheitskoordination"]});
    let a = ok(
        app.post("/api/v1/applications", Some(&municipality()), &draft).await,
        201,
    )
    .await;
    let found = ok(
        app.get("/api/v1/applications?topic=versorgungsplanung", Some(&municipality()))
            .await,
        200,
    )
    .await;
    assert_eq!(found["items"][0]["id"], a["id"]);
    let bad = json!({"fundingLine": "GK", "title": "Gesundheitskoordination", "topics": ["gibt-es-nicht"]});
    let p = problem(app.post("/api/v1/applications", Some(&municipality()), &bad).await, 422).await;
    assert_eq!(pointers(&p), ["/topics/0"]);
    // The regional conferences carry versorgungsplanung; a filter by it finds them and nothing by a sibling.
    let page = ok(
        app.get(
            "/api/v1/committees?topic=versorgungsplanung&includeTotal=true",
            Some(&ministry()),
        )
        .await,
        200,
    )
    .await;
    assert!(page["total"].as_i64().unwrap() >= 6, "{page}");
}

#[actix_web::test]
async fn merging_rewrites_every_record_that_carries_a_topic() {
    let app = TestApp::spawn().await;
    let before = committee_named(&app, "AG Gesundheitszentren").await;
    let expert = json!({"name": "Jana Hoffmann", "district": "06535", "employer": "06535", "fteBasisPoints": 7500,
        "startDate": "2027-01-01", "topics": ["mvz", "pflege"]});
    let expert = ok(
        app.post("/api/v1/coordinators", Some(&service_unit()), &expert).await,
        201,
    )
    .await;
    let draft = json!({"fundingLine": "GZ", "title": "Gesundheitszentrum", "topics": ["mvz"]});
    let draft = ok(
        app.post("/api/v1/applications", Some(&municipality()), &draft).await,
        201,
    )
    .await;
    let merge = |token: String, body: Value| {
        let app = &app;
        async move { app.post("/api/v1/topics/mvz/merge", Some(&token), &body).await }
    };
    problem(merge(ministry(), json!({"into": "gesundheitszentren"})).await, 403).await;
    let p = problem(merge(service_unit(), json!({"into": "gibt-es-nicht"})).await, 422).await;
    assert_eq!(pointers(&p), ["/into"]);
    let entry = json!({"kind": "faq", "title": "Was ist ein MVZ?", "topics": ["mvz"], "visibility": "public"});
    let entry = ok(
        app.post("/api/v1/knowledge-entries", Some(&service_unit()), &entry)
            .await,
        201,
    )
    .await;
    let p = problem(merge(service_unit(), json!({"into": "mvz"})).await, 422).await;
    assert_eq!(pointers(&p), ["/into"]);
    let merged = ok(merge(service_unit(), json!({"into": "gesundheitszentren"})).await, 200).await;
    assert_eq!(
        (&merged["status"], &merged["mergedInto"]),
        (&json!("archived"), &json!("gesundheitszentren"))
    );
    let after = committee_named(&app, "AG Gesundheitszentren").await;
    assert_eq!(
        after["topics"],
        json!(["gesundheitszentren", "sektorenuebergreifende-versorgung"])
    );
    assert_eq!(after["version"], before["version"].as_i64().unwrap() + 1);
    let expert = ok(
        app.get(
            &format!("/api/v1/coordinators/{}", expert["id"].as_str().unwrap()),
            Some(&service_unit()),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(expert["topics"], json!(["gesundheitszentren", "pflege"]));
    let entry = ok(
        app.get(
            &format!("/api/v1/knowledge-entries/{}", entry["id"].as_str().unwrap()),
            Some(&service_unit()),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(entry["topics"], json!(["gesundheitszentren"]));
    let draft = ok(
        app.get(
            &format!("/api/v1/applications/{}", draft["id"].as_str().unwrap()),
            Some(&municipality()),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&draft["topics"], &draft["version"]),
        (&json!(["gesundheitszentren"]), &json!(2))
    );
    let history = ok(
        app.get(
            &format!("/api/v1/committees/{}/history", after["id"].as_str().unwrap()),
            Some(&ministry()),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["changedFields"],
        json!(["/topics"])
    );
    // Merged is for good: not given to new records, not reactivated, not merged twice.
    let p = problem(
        app.patch(
            &format!("/api/v1/committees/{}", after["id"].as_str().unwrap()),
            Some(&service_unit()),
            Some("*"),
            &json!({"topics": ["mvz"]}),
        )
        .await,
        422,
    )
    .await;
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("gesundheitszentren")
            || p["errors"][0]["code"] == "unknown_reference",
        "{p}"
    );
    let res = app
        .patch(
            "/api/v1/topics/mvz",
            Some(&service_unit()),
            Some("*"),
            &json!({"status": "active"}),
        )
        .await;
    assert_eq!(problem(res, 409).await["code"], "topic_merged");
    assert_eq!(
        problem(merge(service_unit(), json!({"into": "pflege"})).await, 409).await["code"],
        "topic_merged"
    );
    // The feed tells subscribers.
    let feed = ok(app.get("/api/v1/events?limit=500", Some(&service_unit())).await, 200).await;
    let types: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"topic.merged") && types.contains(&"committee.changed"),
        "{types:?}"
    );
}

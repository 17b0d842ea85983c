use crate::helpers::*;
use serde_json::{Value, json};

async fn committee_named(app: &TestApp, name: &str) -> Value {
    let all: Value = app
        .get("/api/v1/committees?limit=200", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .expect(name)
}

#[actix_web::test]
async fn the_real_bodies_are_seeded_and_filterable() {
    let app = TestApp::spawn().await;
    let all: Value = app
        .get("/api/v1/committees?includeTotal=true", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 11);
    let conferences: Value = app
        .get(
            "/api/v1/committees?kind=regional_conference&includeTotal=true",
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(conferences["total"], 6);
    let fulda = committee_named(&app, "Regionale Gesundheitskonferenz Fulda-Bad Hersfeld").await;
    assert_eq!(
        fulda["coverage"],
        json!({"scope": "versorgungsgebiet", "versorgungsgebiet": "Fulda-Bad Hersfeld", "districts": null})
    );
    committee_named(&app, "Gemeinsames Landesgremium nach § 90a SGB V").await;
    // Vogelsbergkreis lies in Fulda-Bad Hersfeld: five Hessen-wide bodies and its regional conference cover it.
    let covering: Value = app
        .get("/api/v1/committees?covers=06535&limit=50", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = covering["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.contains(&"Regionale Gesundheitskonferenz Fulda-Bad Hersfeld"));
    let topic: Value = app
        .get("/api/v1/committees?topic=krankenhausplanung", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(topic["items"][0]["name"], "Landeskrankenhausausschuss");
    problem(app.get("/api/v1/committees?covers=x", Some(&ministry())).await, 400).await;
    problem(app.get("/api/v1/committees", None).await, 401).await;
}

#[actix_web::test]
async fn the_service_unit_manages_committees_members_and_meetings() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let body = json!({"name": "AG Telemedizin", "kind": "working_group", "owningBody": "Serviceeinheit Gesundheitsversorgung",
        "topics": ["telemedizin"], "coverage": {"scope": "districts", "districts": ["06535", "06631"]},
        "contact": {"name": "Geschäftsstelle", "email": "ag-telemedizin@example.org"}});
    for t in [municipality(), ministry()] {
        problem(app.post("/api/v1/committees", Some(&t), &body).await, 403).await;
    }
    let res = app.post("/api/v1/committees", Some(&s), &body).await;
    assert_eq!(res.status(), 201);
    let c: Value = res.json().await.unwrap();
    let path = format!("/api/v1/committees/{}", c["id"].as_str().unwrap());
    problem(app.post("/api/v1/committees", Some(&s), &body).await, 409).await;

    let res = app
        .patch(
            &path,
            Some(&s),
            Some("\"1\""),
            &json!({"coverage": {"scope": "hessen", "districts": null}}),
        )
        .await;
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["coverage"]["scope"], "hessen", "{changed}");
    let p = problem(
        app.patch(
            &path,
            Some(&s),
            Some("\"2\""),
            &json!({"coverage": {"scope": "versorgungsgebiet"}}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/coverage"]);
    let p = problem(
        app.patch(
            &path,
            Some(&s),
            Some("\"2\""),
            &json!({"coverage": {"scope": "versorgungsgebiet", "versorgungsgebiet": "Atlantis"}}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/coverage/versorgungsgebiet"]);
    problem(
        app.patch(&path, Some(&ministry()), Some("\"2\""), &json!({"name": "AG X"}))
            .await,
        403,
    )
    .await;

    // Members: a coordinator from the register and an external person.
    let coordinator: Value = app
        .post(
            "/api/v1/coordinators",
            Some(&s),
            &json!({"name": "Jana Hoffmann", "district": "06535", "employer": "06535",
            "fteBasisPoints": 10000, "startDate": "2027-01-01"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post(
            &format!("{path}/members"),
            Some(&s),
            &json!({"coordinatorId": coordinator["id"], "role": "Mitglied"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post(
            &format!("{path}/members"),
            Some(&s),
            &json!({"name": "Dr. Paul Klein", "organisation": "KV Hessen", "email": "p.klein@kv.example"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    problem(
        app.post(
            &format!("{path}/members"),
            Some(&s),
            &json!({"coordinatorId": coordinator["id"]}),
        )
        .await,
        409,
    )
    .await;
    let p = problem(
        app.post(&format!("{path}/members"), Some(&s), &json!({"role": "Gast"}))
            .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/name"]);
    let for_staff: Value = app
        .get(&format!("{path}/members"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(for_staff[0]["name"], "Jana Hoffmann");
    assert_eq!(for_staff[1]["email"], "p.klein@kv.example");
    let for_municipality: Value = app
        .get(&format!("{path}/members"), Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert!(for_municipality[1].get("email").is_none());
    // An erased coordinator stays a member, anonymously.
    app.client
        .delete(app.url(&format!("/api/v1/coordinators/{}", coordinator["id"].as_str().unwrap())))
        .bearer_auth(&s)
        .send()
        .await
        .unwrap();
    let after: Value = app
        .get(&format!("{path}/members"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after[0]["name"], Value::Null);
    assert_eq!(after[0]["coordinatorId"], coordinator["id"]);
    let member_id = after[1]["id"].as_str().unwrap();
    assert_eq!(
        app.client
            .delete(app.url(&format!("{path}/members/{member_id}")))
            .bearer_auth(&s)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    problem(
        app.client
            .delete(app.url(&format!("{path}/members/{member_id}")))
            .bearer_auth(&s)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;

    // Meetings.
    let meeting = json!({"date": "2027-03-10", "title": "Sitzung 1/2027", "place": "Lauterbach", "agenda": [{"title": "Begrüßung"}]});
    let res = app.post(&format!("{path}/meetings"), Some(&s), &meeting).await;
    assert_eq!(res.status(), 201);
    let bad = json!({"date": "2027-03-10", "title": "Sitzung", "agenda": [{"title": "X", "referralId": "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1"}], "link": "kein link"});
    let p = problem(app.post(&format!("{path}/meetings"), Some(&s), &bad).await, 422).await;
    assert_eq!(pointers(&p), vec!["/link"]);
    let mut bad = bad;
    bad["link"] = json!("https://meet.example.org/ag");
    let p = problem(app.post(&format!("{path}/meetings"), Some(&s), &bad).await, 422).await;
    assert_eq!(pointers(&p), vec!["/agenda/0/referralId"]);
    let meetings: Value = app
        .get(&format!("{path}/meetings"), Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(meetings.as_array().unwrap().len(), 1);
    assert_eq!(meetings[0]["agenda"][0]["title"], "Begrüßung");

    // Removing takes members and meetings along.
    problem(
        app.client
            .delete(app.url(&path))
            .bearer_auth(ministry())
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    assert_eq!(
        app.client
            .delete(app.url(&path))
            .bearer_auth(&s)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    problem(app.get(&path, Some(&s)).await, 404).await;
    assert_eq!(app.db_count("committee_meetings").await, 0);
}

/// A committee's change is in its history and in the feed as `committee.changed` (it once wrote only the history).
#[actix_web::test]
async fn a_committee_change_is_in_the_history_and_the_feed() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let c = committee_named(&app, "AG Gesundheitszentren").await;
    let id = c["id"].as_str().unwrap();
    let version = c["version"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/committees/{id}"),
            Some(&s),
            Some(&format!("\"{version}\"")),
            &json!({"topics": ["gesundheitszentren", "telemedizin"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let history: Value = app
        .get(&format!("/api/v1/committees/{id}/history"), Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "update", "{history}");
    assert_eq!(last["changedFields"], json!(["/topics"]), "{history}");
    let feed: Value = app
        .get(
            "/api/v1/events?after=0&limit=1000&types=committee.changed",
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{feed}");
    assert_eq!(items[0]["resourceId"], id);
    assert_eq!(items[0]["data"]["topics"], json!(["gesundheitszentren", "telemedizin"]));
}

/// PATCH goes through the shared flow: a patch that changes nothing answers the committee as it is (no new version,
/// no history entry); a `null` for a field that cannot be cleared is 422 `not_null`, every wrong field at once.
#[actix_web::test]
async fn a_committee_patch_follows_the_shared_patch_rules() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let c = committee_named(&app, "AG Gesundheitszentren").await;
    let id = c["id"].as_str().unwrap();
    let path = format!("/api/v1/committees/{id}");
    let etag = format!("\"{}\"", c["version"]);
    let history = async || -> Value {
        let url = format!("{path}/history");
        app.get(&url, Some(&municipality())).await.json().await.unwrap()
    };
    let before = history().await;

    for same in [json!({}), json!({"name": c["name"]}), json!({"topics": c["topics"]})] {
        let res = app.patch(&path, Some(&s), Some(&etag), &same).await;
        assert_eq!(res.status(), 200, "{same}");
        assert_eq!(res.headers()["etag"].to_str().unwrap(), etag, "{same}");
        let unchanged: Value = res.json().await.unwrap();
        assert_eq!(unchanged, c, "{same}");
    }
    assert_eq!(history().await, before);

    let p = problem(
        app.patch(
            &path,
            Some(&s),
            Some(&etag),
            &json!({"name": null, "coverage": null, "topics": null}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/coverage", "/name", "/topics"], "{p}");
    assert!(
        p["errors"].as_array().unwrap().iter().all(|e| e["code"] == "not_null"),
        "{p}"
    );
}

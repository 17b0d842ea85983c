//! Meetings with outcomes: the service unit records resolutions, results, decisions and attendance, assigns action
//! items, and the action items remind through `/obligations` until they are done; published knowledge entries
//! surface there by their review date.

use crate::helpers::*;
use serde_json::{Value, json};

async fn ok(res: reqwest::Response, status: u16) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// The organisation id of the district a municipality token of `ags` stands for.
pub async fn district_org(app: &TestApp, ags: &str) -> String {
    let page = ok(
        app.get(
            &format!("/api/v1/organisations?district={ags}&kind=landkreis"),
            Some(&ministry()),
        )
        .await,
        200,
    )
    .await;
    page["items"][0]["id"].as_str().unwrap().to_owned()
}

/// A committee with one external member and a meeting with two agenda items: (committee, member, meeting).
pub async fn committee_with_meeting(app: &TestApp) -> (Value, Value, Value) {
    let s = service_unit();
    let c = ok(
        app.post(
            "/api/v1/committees",
            Some(&s),
            &json!({"name": "AG Fallkonferenzen", "kind": "working_group", "owningBody": "Serviceeinheit",
                "topics": ["telemedizin"], "coverage": {"scope": "hessen"}}),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/api/v1/committees/{}", c["id"].as_str().unwrap());
    let members = ok(
        app.post(
            &format!("{path}/members"),
            Some(&s),
            &json!({"name": "Dr. Paul Klein", "organisation": "KV Hessen"}),
        )
        .await,
        201,
    )
    .await;
    let member = members[0].clone();
    let meeting = ok(
        app.post(
            &format!("{path}/meetings"),
            Some(&s),
            &json!({"date": "2026-11-20", "title": "Sitzung 4/2026",
                "agenda": [{"title": "Begrüßung"}, {"title": "Telemedizinische Fallkonferenzen"}]}),
        )
        .await,
        201,
    )
    .await;
    (c, member, meeting)
}

async fn duties(app: &TestApp, token: &str) -> Vec<Value> {
    let page = ok(app.get("/api/v1/obligations?limit=200", Some(token)).await, 200).await;
    page["items"].as_array().unwrap().clone()
}

fn duty<'a>(list: &'a [Value], id: &str) -> Option<&'a Value> {
    list.iter().find(|d| d["resourceId"] == id)
}

#[actix_web::test]
async fn meeting_outcomes_are_recorded_and_action_items_remind_through_obligations() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let (c, member, meeting) = committee_with_meeting(&app).await;
    let m = format!("/api/v1/meetings/{}", meeting["id"].as_str().unwrap());
    assert_eq!(meeting["version"], 1);
    assert_eq!(meeting["attendance"]["serviceUnit"], "absent");

    // Outcomes: the agenda whole, with resolution, result and decisions; attendance with a member and guests.
    let outcomes = json!({
        "agenda": [{"title": "Begrüßung", "result": "noted"},
                   {"title": "Telemedizinische Fallkonferenzen", "result": "adopted",
                    "resolution": "Die AG empfiehlt, Fallkonferenzen in zwei Versorgungsgebieten zu erproben.",
                    "decisions": ["Pilot in Fulda-Bad Hersfeld", "Bericht in Sitzung 2/2027"]}],
        "attendance": {"memberIds": [member["id"]], "serviceUnit": "organised", "guests": ["KV Hessen"]}});
    problem(
        app.patch(&m, Some(&municipality()), Some("\"1\""), &outcomes).await,
        403,
    )
    .await;
    problem(app.patch(&m, Some(&s), None, &outcomes).await, 428).await;
    let bad = json!({"agenda": [{"title": "x", "result": "maybe"}]});
    let p = problem(app.patch(&m, Some(&s), Some("\"1\""), &bad).await, 422).await;
    assert_eq!(pointers(&p), vec!["/agenda/0/result"], "{p}");
    let bad = json!({"attendance": {"memberIds": [uuid::Uuid::now_v7(), member["id"], member["id"]],
        "serviceUnit": "attended", "guests": [""]}, "agenda": [{"title": "x", "decisions": [""]}]});
    let p = problem(app.patch(&m, Some(&s), Some("\"1\""), &bad).await, 422).await;
    let mut wrong = pointers(&p);
    wrong.sort();
    assert_eq!(
        wrong,
        vec![
            "/agenda/0/decisions/0",
            "/attendance/guests/0",
            "/attendance/memberIds/2"
        ],
        "{p}"
    );
    let unknown = json!({"attendance": {"memberIds": [uuid::Uuid::now_v7()], "serviceUnit": "attended"}});
    let p = problem(app.patch(&m, Some(&s), Some("\"1\""), &unknown).await, 422).await;
    assert_eq!(pointers(&p), vec!["/attendance/memberIds/0"]);
    let changed = ok(app.patch(&m, Some(&s), Some("\"1\""), &outcomes).await, 200).await;
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["agenda"][1]["result"], "adopted");
    assert_eq!(changed["agenda"][1]["decisions"][1], "Bericht in Sitzung 2/2027");
    assert_eq!(changed["attendance"]["memberIds"][0], member["id"]);
    problem(app.patch(&m, Some(&s), Some("\"1\""), &outcomes).await, 412).await;
    let read = ok(app.get(&m, Some(&municipality())).await, 200).await;
    assert_eq!(read, changed);
    let history = ok(app.get(&format!("{m}/history"), Some(&ministry())).await, 200).await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert!(
        history[0]["changedFields"]
            .as_array()
            .unwrap()
            .contains(&json!("/agenda")),
        "{history}"
    );

    // Action items: one for the district of Werra-Meißner, one for the service unit, one for the committee.
    let org = district_org(&app, "06636").await;
    let items = format!("{m}/action-items");
    let item = |title: &str, assignee: Value| {
        let mut body = json!({"title": title, "agendaIndex": 1, "dueOn": "2026-12-04"});
        merge(&mut body, &assignee);
        body
    };
    let p = problem(
        app.post(
            &items,
            Some(&s),
            &item(
                "Ohne Ziel",
                json!({"assignee": "organisation", "assigneeCommitteeId": c["id"]}),
            ),
        )
        .await,
        422,
    )
    .await;
    let mut wrong = pointers(&p);
    wrong.sort();
    assert_eq!(wrong, vec!["/assigneeCommitteeId", "/organisationId"]);
    let p = problem(
        app.post(
            &items,
            Some(&s),
            &item("Falscher Punkt", json!({"assignee": "service_unit", "agendaIndex": 5})),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/agendaIndex"]);
    problem(
        app.post(
            &items,
            Some(&municipality()),
            &item("Nicht erlaubt", json!({"assignee": "service_unit"})),
        )
        .await,
        403,
    )
    .await;
    let theirs = ok(
        app.post(
            &items,
            Some(&s),
            &item(
                "Pilotpraxen benennen",
                json!({"assignee": "organisation", "organisationId": org}),
            ),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(theirs["district"], "06636");
    assert_eq!(theirs["status"], "open");
    let ours = ok(
        app.post(
            &items,
            Some(&s),
            &item(
                "Bericht vorbereiten",
                json!({"assignee": "service_unit", "dueOn": "2027-02-01"}),
            ),
        )
        .await,
        201,
    )
    .await;
    let committees = ok(
        app.post(
            &items,
            Some(&s),
            &item(
                "Stellungnahme",
                json!({"assignee": "committee", "assigneeCommitteeId": c["id"]}),
            ),
        )
        .await,
        201,
    )
    .await;
    let (theirs_id, ours_id) = (theirs["id"].as_str().unwrap(), ours["id"].as_str().unwrap());
    // The agenda keeps the item the action items follow from.
    let p = problem(
        app.patch(
            &m,
            Some(&s),
            Some("\"2\""),
            &json!({"agenda": [{"title": "Begrüßung"}]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/agenda"]);

    // The municipality's obligations name its own item (due in 7 days from the pinned 2026-11-27: due soon); staff
    // see all three with who has to act.
    let mine = duties(&app, &municipality()).await;
    let d = duty(&mine, theirs_id).expect("the municipality's action item is its duty");
    assert_eq!(d["duty"], "action_item.complete");
    assert_eq!(d["party"], "municipality");
    assert_eq!(d["state"], "due_soon");
    assert_eq!(d["href"], format!("/api/v1/action-items/{theirs_id}"));
    assert!(duty(&mine, ours_id).is_none());
    let all = duties(&app, &s).await;
    assert_eq!(duty(&all, ours_id).unwrap()["party"], "service_unit");
    assert!(duty(&all, ours_id).unwrap()["organisationId"].is_null());
    assert_eq!(
        duty(&all, committees["id"].as_str().unwrap()).unwrap()["party"],
        "committee"
    );

    // The reminder reaches the municipality's feed once.
    let mut conn = app.db.conn().await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    versorgung::obligations::remind(&mut conn, today, &[14, 3])
        .await
        .unwrap();
    let feed = ok(
        app.get(
            "/api/v1/events?types=obligation.due_soon&limit=1000",
            Some(&municipality()),
        )
        .await,
        200,
    )
    .await;
    let about: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resourceId"] == theirs_id)
        .collect();
    assert_eq!(about.len(), 1, "{feed}");
    assert!(
        !feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resourceId"] == ours_id),
        "the service unit's duty is not announced to a municipality"
    );

    // Another district's municipality may not act on it; the assignee starts and completes it.
    let other = token("municipality", Some("06535"));
    let act = |id: &str, action: &str| format!("/api/v1/action-items/{id}/{action}");
    problem(app.post(&act(theirs_id, "start"), Some(&other), &json!({})).await, 403).await;
    problem(
        app.post(&act(ours_id, "start"), Some(&municipality()), &json!({}))
            .await,
        403,
    )
    .await;
    problem(
        app.post(
            &act(theirs_id, "cancel"),
            Some(&municipality()),
            &json!({"reason": "Keine Zeit"}),
        )
        .await,
        403,
    )
    .await;
    let started = ok(
        app.post(&act(theirs_id, "start"), Some(&municipality()), &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(started["status"], "in_progress");
    assert_eq!(started["allowedActions"], json!(["complete"]));
    let done = ok(
        app.post(
            &act(theirs_id, "complete"),
            Some(&municipality()),
            &json!({"reason": "Zwei Praxen benannt."}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["note"], "Zwei Praxen benannt.");
    let p = problem(app.post(&act(theirs_id, "start"), Some(&s), &json!({})).await, 409).await;
    assert_eq!(p["code"], "invalid_transition", "{p}");
    problem(
        app.patch(
            &format!("/api/v1/action-items/{theirs_id}"),
            Some(&s),
            Some("\"3\""),
            &json!({"title": "Neu"}),
        )
        .await,
        409,
    )
    .await;
    // Cancelling needs a reason; then the service unit's item is no duty either.
    let p = problem(app.post(&act(ours_id, "cancel"), Some(&s), &json!({})).await, 422).await;
    assert_eq!(pointers(&p), vec!["/reason"]);
    ok(
        app.post(
            &act(ours_id, "cancel"),
            Some(&s),
            &json!({"reason": "Erledigt sich mit dem Jahresbericht."}),
        )
        .await,
        200,
    )
    .await;
    let all = duties(&app, &s).await;
    assert!(duty(&all, theirs_id).is_none() && duty(&all, ours_id).is_none());
    assert!(duty(&duties(&app, &municipality()).await, theirs_id).is_none());

    // The list filters by meeting, assignee and state.
    let page = ok(
        app.get(
            &format!(
                "/api/v1/action-items?meeting={}&status=done",
                meeting["id"].as_str().unwrap()
            ),
            Some(&other),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], theirs_id);
    assert_eq!(page["items"][0]["allowedActions"], json!([]));
    let page = ok(app.get("/api/v1/action-items?assignee=committee", Some(&s)).await, 200).await;
    assert_eq!(page["items"][0]["id"], committees["id"]);
    let history = ok(
        app.get(
            &format!("/api/v1/action-items/{theirs_id}/history"),
            Some(&municipality()),
        )
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
    assert_eq!(actions, vec!["create", "start", "complete"]);
}

#[actix_web::test]
async fn a_published_knowledge_entry_is_due_for_review_in_obligations() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let e = ok(
        app.post(
            "/api/v1/knowledge-entries",
            Some(&s),
            &json!({"kind": "faq", "title": "Wer berät zu Gesundheitszentren?", "visibility": "public",
                "reviewDueOn": "2026-12-01"}),
        )
        .await,
        201,
    )
    .await;
    let id = e["id"].as_str().unwrap();
    assert!(
        duty(&duties(&app, &s).await, id).is_none(),
        "a draft is not due for review"
    );
    for action in ["submit", "publish"] {
        ok(
            app.post(
                &format!("/api/v1/knowledge-entries/{id}/{action}"),
                Some(&s),
                &json!({}),
            )
            .await,
            200,
        )
        .await;
    }
    let all = duties(&app, &s).await;
    let d = duty(&all, id).expect("published entry due for review");
    assert_eq!(d["duty"], "knowledge_entry.review");
    assert_eq!(d["party"], "service_unit");
    assert_eq!(d["dueOn"], "2026-12-01");
    assert!(duty(&duties(&app, &municipality()).await, id).is_none());
    ok(
        app.post(&format!("/api/v1/knowledge-entries/{id}/archive"), Some(&s), &json!({}))
            .await,
        200,
    )
    .await;
    assert!(duty(&duties(&app, &s).await, id).is_none());
}

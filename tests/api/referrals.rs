use crate::helpers::*;
use serde_json::{Value, json};

fn vogelsberg() -> String {
    token("municipality", Some("06535"))
}
fn fulda() -> String {
    token("municipality", Some("06631"))
}

async fn committee_id(app: &TestApp, name: &str) -> String {
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
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn act(app: &TestApp, t: &str, id: &str, action: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/referrals/{id}/{action}"), Some(t), &body)
        .await
}

async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

async fn idea(app: &TestApp, subject: &str) -> String {
    let res = app
        .post("/api/v1/referrals", Some(&vogelsberg()), &json!({"direction": "region_to_committee", "subject": subject,
            "description": "Regelmäßige Fallkonferenzen zwischen Praxen und Klinik.", "topics": ["telemedizin"], "dueDate": "2030-03-31"}))
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// The week: an idea from Vogelsbergkreis goes to the regional conference Fulda-Bad Hersfeld and to
/// Landkreis Fulda; both answer; the service unit closes it. The sender follows every step.
#[actix_web::test]
async fn an_idea_travels_from_vogelsberg_to_fulda_and_back() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let id = idea(&app, "Telemedizinische Fallkonferenzen").await;
    let r: Value = app
        .get(&format!("/api/v1/referrals/{id}"), Some(&vogelsberg()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "received");
    assert_eq!(r["origin"]["district"], "06535");
    assert_eq!(r["origin"]["organisation"]["name"], "Landkreis Vogelsbergkreis");

    ok(act(
        &app,
        &s,
        &id,
        "triage",
        json!({"note": "Passt zur Regionalen Gesundheitskonferenz."}),
    )
    .await)
    .await;
    let rgk = committee_id(&app, "Regionale Gesundheitskonferenz Fulda-Bad Hersfeld").await;
    let forwarded = ok(act(
        &app,
        &s,
        &id,
        "forward",
        json!({"targets": [{"committeeId": rgk}, {"district": "06631"}]}),
    )
    .await)
    .await;
    assert_eq!(forwarded["status"], "forwarded");
    let targets = forwarded["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    let rgk_target = targets.iter().find(|t| t["committee"]["id"] == rgk.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fulda_target = targets.iter().find(|t| t["district"] == "06631").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Fulda sees the referral forwarded to it, with its own part only; Werra-Meißner sees nothing.
    let seen_by_fulda: Value = app
        .get(&format!("/api/v1/referrals/{id}"), Some(&fulda()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen_by_fulda["targets"].as_array().unwrap().len(), 1);
    problem(
        app.get(&format!("/api/v1/referrals/{id}"), Some(&municipality())).await,
        404,
    )
    .await;
    problem(
        app.get(&format!("/api/v1/referrals/{id}/timeline"), Some(&municipality()))
            .await,
        404,
    )
    .await;
    let list: Value = app
        .get("/api/v1/referrals?includeTotal=true", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);

    // Answers in any order: the district first, then the conference (through the service unit).
    problem(
        act(
            &app,
            &vogelsberg(),
            &id,
            "respond",
            json!({"targetId": fulda_target, "answer": "Nicht meins"}),
        )
        .await,
        403,
    )
    .await;
    problem(
        act(
            &app,
            &s,
            &id,
            "respond",
            json!({"targetId": fulda_target, "answer": "Für Fulda"}),
        )
        .await,
        403,
    )
    .await;
    let half = ok(act(
        &app,
        &fulda(),
        &id,
        "respond",
        json!({"targetId": fulda_target, "answer": "Fulda beteiligt sich mit zwei Praxen."}),
    )
    .await)
    .await;
    assert_eq!(half["status"], "forwarded");
    let p = problem(
        act(
            &app,
            &fulda(),
            &id,
            "respond",
            json!({"targetId": fulda_target, "answer": "Noch einmal"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "already_answered");
    let answered = ok(act(
        &app,
        &s,
        &id,
        "respond",
        json!({"targetId": rgk_target, "answer": "Tagesordnung der Sitzung am 10. März."}),
    )
    .await)
    .await;
    assert_eq!(answered["status"], "answered");

    let closed = ok(act(
        &app,
        &s,
        &id,
        "close",
        json!({"outcome": "Wird als Modellvorhaben beantragt."}),
    )
    .await)
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["outcome"], "Wird als Modellvorhaben beantragt.");

    // The sender follows every step, with both answers.
    let mine: Value = app
        .get(&format!("/api/v1/referrals/{id}"), Some(&vogelsberg()))
        .await
        .json()
        .await
        .unwrap();
    let answers: Vec<&str> = mine["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["answer"].as_str().unwrap())
        .collect();
    assert_eq!(answers.len(), 2);
    let timeline: Value = app
        .get(&format!("/api/v1/referrals/{id}/timeline"), Some(&vogelsberg()))
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<(&str, &str)> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["toStatus"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("create", "received"),
            ("triage", "in_triage"),
            ("forward", "forwarded"),
            ("respond", "forwarded"),
            ("respond", "answered"),
            ("close", "closed"),
        ]
    );
    assert_eq!(timeline[1]["reason"], "Passt zur Regionalen Gesundheitskonferenz.");
    assert_eq!(timeline[3]["actor"]["role"], "municipality");

    // The conference's meeting can put the referral on its agenda.
    let res = app
        .post(
            &format!("/api/v1/committees/{rgk}/meetings"),
            Some(&s),
            &json!({"date": "2027-03-10", "title": "Sitzung 1/2027",
            "agenda": [{"title": "Telemedizinische Fallkonferenzen", "referralId": id}]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    // A committee that referrals went to cannot simply be removed.
    let p = problem(
        app.client
            .delete(app.url(&format!("/api/v1/committees/{rgk}")))
            .bearer_auth(&s)
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert_eq!(p["code"], "in_use");
}

#[actix_web::test]
async fn who_may_create_and_move_referrals() {
    let app = TestApp::spawn().await;
    let rgk = committee_id(&app, "Regionale Gesundheitskonferenz Kassel").await;
    let request = json!({"direction": "committee_to_region", "subject": "Standorte für Gesundheitszentren gesucht", "originCommitteeId": rgk});
    problem(
        app.post("/api/v1/referrals", Some(&municipality()), &request).await,
        403,
    )
    .await;
    problem(app.post("/api/v1/referrals", Some(&ministry()), &request).await, 403).await;
    let res = app.post("/api/v1/referrals", Some(&service_unit()), &request).await;
    assert_eq!(res.status(), 201);
    let r: Value = res.json().await.unwrap();
    assert_eq!(
        r["origin"]["committee"]["name"],
        "Regionale Gesundheitskonferenz Kassel"
    );
    let id = r["id"].as_str().unwrap().to_owned();
    // A committee's request is visible to the districts it is forwarded to, not before.
    problem(
        app.get(&format!("/api/v1/referrals/{id}"), Some(&municipality())).await,
        404,
    )
    .await;
    for t in [municipality(), ministry()] {
        problem(act(&app, &t, &id, "triage", json!({})).await, 403).await;
        problem(
            act(&app, &t, &id, "decline", json!({"reason": "Nein danke"})).await,
            403,
        )
        .await;
        problem(act(&app, &t, &id, "close", json!({"outcome": "Fertig"})).await, 403).await;
    }
    problem(
        act(
            &app,
            &ministry(),
            &id,
            "respond",
            json!({"targetId": id, "answer": "x"}),
        )
        .await,
        403,
    )
    .await;
    ok(act(&app, &service_unit(), &id, "triage", json!({})).await).await;
    ok(act(
        &app,
        &service_unit(),
        &id,
        "forward",
        json!({"targets": [{"district": "06636"}, {"district": "06633"}]}),
    )
    .await)
    .await;
    let seen: Value = app
        .get(&format!("/api/v1/referrals/{id}"), Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "forwarded");
    // Ministry reads everything.
    let all: Value = app
        .get("/api/v1/referrals?includeTotal=true", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 1);

    // Service-unit input rules.
    let p = problem(
        app.post(
            "/api/v1/referrals",
            Some(&service_unit()),
            &json!({"direction": "region_to_committee", "subject": "Idee"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/originOrganisation"]);
    let res = app
        .post(
            "/api/v1/referrals",
            Some(&service_unit()),
            &json!({"direction": "region_to_committee", "subject": "Idee aus Fulda", "originOrganisation": "06631"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let p = problem(
        act(
            &app,
            &service_unit(),
            &id,
            "forward",
            json!({"targets": [{"district": "06636"}, {"committeeId": rgk, "district": "06611"}]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/targets/1"]);
    let p = problem(
        act(
            &app,
            &service_unit(),
            &id,
            "forward",
            json!({"targets": [{"district": "06636"}]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "duplicate");
}

#[actix_web::test]
async fn transitions_allowed_and_refused() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let states = ["received", "in_triage", "forwarded", "answered", "closed", "declined"];
    let allowed = |state: &str, action: &str| {
        matches!(
            (state, action),
            ("received", "triage" | "decline")
                | ("in_triage", "forward" | "decline")
                | ("forwarded", "forward" | "respond")
                | ("answered", "close")
        )
    };
    for state in states {
        for action in ["triage", "forward", "decline", "respond", "close"] {
            let id = idea(&app, "Zustandstest").await;
            app.db
                .execute(&format!(
                    "INSERT INTO referral_targets (referral_id, district_ags) VALUES ('{id}', '06535')"
                ))
                .await;
            let target: Value = app
                .get(&format!("/api/v1/referrals/{id}"), Some(&s))
                .await
                .json()
                .await
                .unwrap();
            let target_id = target["targets"][0]["id"].as_str().unwrap().to_owned();
            app.db
                .execute(&format!("UPDATE referrals SET status = '{state}' WHERE id = '{id}'"))
                .await;
            let (t, body) = match action {
                "forward" => (s.clone(), json!({"targets": [{"district": "06631"}]})),
                "decline" => (s.clone(), json!({"reason": "Außerhalb der Zuständigkeit"})),
                "respond" => (vogelsberg(), json!({"targetId": target_id, "answer": "Antwort"})),
                "close" => (s.clone(), json!({"outcome": "Erledigt"})),
                _ => (s.clone(), json!({})),
            };
            let res = act(&app, &t, &id, action, body).await;
            if allowed(state, action) {
                assert_eq!(
                    res.status(),
                    200,
                    "{action} from {state}: {}",
                    res.text().await.unwrap()
                );
            } else {
                let p = problem(res, 409).await;
                assert_eq!(p["code"], "invalid_transition", "{action} from {state}");
                assert_eq!(p["currentStatus"], state);
            }
        }
    }
}

#[actix_web::test]
async fn filters_overdue_and_links_to_applications() {
    let app = TestApp::spawn().await;
    let late = idea(&app, "Überfällige Anfrage").await;
    app.db
        .execute(&format!(
            "UPDATE referrals SET due_date = '2020-01-01' WHERE id = '{late}'"
        ))
        .await;
    let other = idea(&app, "Rechtzeitige Anfrage").await;
    let get = |q: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/referrals?{q}"), Some(&service_unit()))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let overdue = get("overdue=true").await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1);
    assert_eq!(overdue["items"][0]["id"], late.as_str());
    assert_eq!(overdue["items"][0]["overdue"], true);
    assert_eq!(get("overdue=false").await["items"][0]["id"], other.as_str());
    assert_eq!(get("q=rechtzeitig").await["items"][0]["id"], other.as_str());
    assert_eq!(get("district=06535&includeTotal=true").await["total"], 2);
    assert_eq!(get("status=received,in_triage&includeTotal=true").await["total"], 2);
    assert_eq!(get("topic=telemedizin&includeTotal=true").await["total"], 2);
    problem(
        app.get("/api/v1/referrals?status=open", Some(&service_unit())).await,
        400,
    )
    .await;
    let csv = app
        .client
        .get(app.url("/api/v1/referrals"))
        .bearer_auth(service_unit())
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.text().await.unwrap().lines().count(), 3);

    // An application names the referral it grew from; the referral lists it.
    let application =
        json!({"fundingLine": "MV", "title": "Telemedizinische Fallkonferenzen (Modellvorhaben)", "referralId": late});
    let res = app
        .post("/api/v1/applications", Some(&vogelsberg()), &application)
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["referralId"], late.as_str());
    let r: Value = app
        .get(&format!("/api/v1/referrals/{late}"), Some(&vogelsberg()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["applicationIds"], json!([created["id"]]));
    // A referral the applicant cannot see cannot be named.
    let p = problem(
        app.post("/api/v1/applications", Some(&municipality()), &application)
            .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/referralId"]);
}

//! The authorization matrix of the service unit's resources: every endpoint as each role, on records of the
//! caller's own district and of another district. Each call would succeed if allowed, so the status says only
//! whether the role and scope were accepted.

use crate::helpers::*;
use serde_json::{Value, json};

/// Werra-Meißner-Kreis (06636) is "own"; Vogelsbergkreis (06535) is "foreign".
const OWN: &str = "06636";
const FOREIGN: &str = "06535";

struct Fixture {
    coordinator: [String; 2],
    committee: String,
    member: String,
    referral: [String; 2],
    target: [String; 2],
}

async fn fixture(app: &TestApp) -> Fixture {
    let s = service_unit();
    let mut coordinator = Vec::new();
    let mut referral = Vec::new();
    let mut target = Vec::new();
    for d in [OWN, FOREIGN] {
        let c: Value = app
            .post(
                "/api/v1/coordinators",
                Some(&s),
                &json!({"name": format!("Koordination {d}"), "email": format!("k{d}@example.org"),
                "district": d, "employer": d, "fteBasisPoints": 10000, "startDate": "2027-01-01"}),
            )
            .await
            .json()
            .await
            .unwrap();
        coordinator.push(c["id"].as_str().unwrap().to_owned());
        let r: Value = app
            .post(
                "/api/v1/referrals",
                Some(&token("municipality", Some(d))),
                &json!({"direction": "region_to_committee", "subject": format!("Idee aus {d}")}),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = r["id"].as_str().unwrap().to_owned();
        app.post(&format!("/api/v1/referrals/{id}/triage"), Some(&s), &json!({}))
            .await;
        let f: Value = app
            .post(
                &format!("/api/v1/referrals/{id}/forward"),
                Some(&s),
                &json!({"targets": [{"district": d}]}),
            )
            .await
            .json()
            .await
            .unwrap();
        target.push(f["targets"][0]["id"].as_str().unwrap().to_owned());
        referral.push(id);
    }
    let committee: Value = app
        .post("/api/v1/committees", Some(&s), &json!({"name": "AG Matrix", "kind": "working_group", "owningBody": "Serviceeinheit", "coverage": {"scope": "hessen"}}))
        .await
        .json()
        .await
        .unwrap();
    let committee = committee["id"].as_str().unwrap().to_owned();
    let members: Value = app
        .post(
            &format!("/api/v1/committees/{committee}/members"),
            Some(&s),
            &json!({"name": "Gast", "organisation": "KV"}),
        )
        .await
        .json()
        .await
        .unwrap();
    Fixture {
        coordinator: [coordinator[0].clone(), coordinator[1].clone()],
        member: members[0]["id"].as_str().unwrap().to_owned(),
        committee,
        referral: [referral[0].clone(), referral[1].clone()],
        target: [target[0].clone(), target[1].clone()],
    }
}

#[actix_web::test]
async fn every_endpoint_as_every_role() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    // Callers: municipality of OWN, service unit, ministry. Records: [own district, foreign district].
    let roles = [token("municipality", Some(OWN)), service_unit(), ministry()];
    let c = &f.committee;
    // (method, path template with {i} = record index, body, expected [[municipality own, foreign], [su..], [min..]])
    let rows: Vec<(&str, String, Value, [[u16; 2]; 3])> = vec![
        (
            "GET",
            "/api/v1/coordinators/{coordinator}".into(),
            json!(null),
            [[200, 200], [200, 200], [200, 200]],
        ),
        (
            "GET",
            "/api/v1/coordinators/{coordinator}/history".into(),
            json!(null),
            [[403, 403], [200, 200], [200, 200]],
        ),
        (
            "PATCH",
            "/api/v1/coordinators/{coordinator}".into(),
            json!({"fteBasisPoints": 5000}),
            [[403, 403], [200, 200], [403, 403]],
        ),
        (
            "GET",
            format!("/api/v1/committees/{c}"),
            json!(null),
            [[200, 200], [200, 200], [200, 200]],
        ),
        (
            "GET",
            format!("/api/v1/committees/{c}/members"),
            json!(null),
            [[200, 200], [200, 200], [200, 200]],
        ),
        (
            "GET",
            format!("/api/v1/committees/{c}/meetings"),
            json!(null),
            [[200, 200], [200, 200], [200, 200]],
        ),
        (
            "PATCH",
            format!("/api/v1/committees/{c}"),
            json!({"topics": ["pflege"]}),
            [[403, 403], [200, 200], [403, 403]],
        ),
        (
            "POST",
            format!("/api/v1/committees/{c}/meetings"),
            json!({"date": "2027-01-01", "title": "Sitzung"}),
            [[403, 403], [201, 201], [403, 403]],
        ),
        (
            "POST",
            format!("/api/v1/committees/{c}/members"),
            json!({"coordinatorId": "{coordinator}"}),
            [[403, 403], [201, 201], [403, 403]],
        ),
        (
            "GET",
            "/api/v1/referrals/{referral}".into(),
            json!(null),
            [[200, 404], [200, 200], [200, 200]],
        ),
        (
            "GET",
            "/api/v1/referrals/{referral}/timeline".into(),
            json!(null),
            [[200, 404], [200, 200], [200, 200]],
        ),
        (
            "POST",
            "/api/v1/referrals/{referral}/forward".into(),
            json!({"targets": [{"district": "06611"}]}),
            [[403, 403], [200, 200], [403, 403]],
        ),
        (
            "POST",
            "/api/v1/referrals/{referral}/triage".into(),
            json!({}),
            [[403, 403], [409, 409], [403, 403]],
        ),
        (
            "POST",
            "/api/v1/referrals/{referral}/decline".into(),
            json!({"reason": "Nicht zuständig"}),
            [[403, 403], [409, 409], [403, 403]],
        ),
        (
            "POST",
            "/api/v1/referrals/{referral}/close".into(),
            json!({"outcome": "Erledigt"}),
            [[403, 403], [409, 409], [403, 403]],
        ),
        // Last among the referral rows: an answer may change the state (forward added a second target above, so
        // the own district's answer leaves the referral forwarded).
        (
            "POST",
            "/api/v1/referrals/{referral}/respond".into(),
            json!({"targetId": "{target}", "answer": "Antwort"}),
            [[200, 404], [403, 403], [403, 403]],
        ),
        (
            "DELETE",
            format!("/api/v1/committees/{c}/members/{}", f.member),
            json!(null),
            [[403, 403], [204, 404], [403, 403]],
        ),
        (
            "DELETE",
            "/api/v1/coordinators/{coordinator}".into(),
            json!(null),
            [[403, 403], [204, 204], [403, 403]],
        ),
    ];
    for (method, template, body, expected) in rows {
        for (r, t) in roles.iter().enumerate() {
            for (i, want) in expected[r].iter().enumerate() {
                let fill = |s: &str| {
                    s.replace("{coordinator}", &f.coordinator[i])
                        .replace("{referral}", &f.referral[i])
                        .replace("{target}", &f.target[i])
                };
                let url = app.url(&fill(&template));
                let body: Value = serde_json::from_str(&fill(&body.to_string())).unwrap();
                let req = match method {
                    "GET" => app.client.get(url),
                    "POST" => app.client.post(url).json(&body),
                    "PATCH" => app.client.patch(url).header("If-Match", "*").json(&body),
                    _ => app.client.delete(url),
                };
                let res = req.bearer_auth(t).send().await.unwrap();
                let status = res.status().as_u16();
                let text = res.text().await.unwrap();
                assert_eq!(status, *want, "{method} {template} as role #{r} on record #{i}: {text}");
            }
        }
    }
    // Creating: coordinators and committees by the service unit only; referrals by municipalities and the service unit.
    let coordinator =
        json!({"name": "Neu", "district": OWN, "employer": OWN, "fteBasisPoints": 1, "startDate": "2027-01-01"});
    let committee =
        json!({"name": "AG Neu", "kind": "working_group", "owningBody": "SE", "coverage": {"scope": "hessen"}});
    let referral = json!({"direction": "region_to_committee", "subject": "Noch eine Idee", "originOrganisation": OWN});
    for (t, expected) in roles.iter().zip([[403, 403, 201], [201, 201, 201], [403, 403, 403]]) {
        let referral = if t == &roles[0] {
            json!({"direction": "region_to_committee", "subject": "Noch eine Idee"})
        } else {
            referral.clone()
        };
        let got = [
            app.post("/api/v1/coordinators", Some(t), &coordinator)
                .await
                .status()
                .as_u16(),
            app.post("/api/v1/committees", Some(t), &committee)
                .await
                .status()
                .as_u16(),
            app.post("/api/v1/referrals", Some(t), &referral)
                .await
                .status()
                .as_u16(),
        ];
        assert_eq!(got, expected);
        if t == &roles[1] {
            // The service unit's committee exists now; the ministry's attempt must not conflict with it.
            app.db.execute("DELETE FROM committees WHERE name = 'AG Neu'").await;
        }
    }
    // Without a token, nothing.
    for path in ["/api/v1/coordinators", "/api/v1/committees", "/api/v1/referrals"] {
        problem(app.get(path, None).await, 401).await;
    }
}

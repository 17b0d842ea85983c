use crate::helpers::*;
use serde_json::{Value, json};

#[actix_web::test]
async fn every_district_is_an_organisation() {
    let app = TestApp::spawn().await;
    let res = app
        .get(
            "/api/v1/organisations?includeTotal=true&limit=200",
            Some(&municipality()),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["total"], 26);
    let wmk: Value = app
        .get("/api/v1/organisations/06636", Some(&service_unit()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wmk["kind"], "landkreis");
    assert_eq!(wmk["district"], "06636");
    let by_id = app
        .get(
            &format!("/api/v1/organisations/{}", wmk["id"].as_str().unwrap()),
            Some(&ministry()),
        )
        .await;
    assert_eq!(by_id.status(), 200);
    assert_eq!(by_id.json::<Value>().await.unwrap()["ags"], "06636");
    let kassel: Value = app
        .get("/api/v1/organisations/06611", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kassel["kind"], "kreisfreie_stadt");
    problem(app.get("/api/v1/organisations/not-a-key", Some(&ministry())).await, 400).await;
    problem(app.get("/api/v1/organisations/06636999", Some(&ministry())).await, 404).await;
}

#[actix_web::test]
async fn the_service_unit_and_the_ministry_add_gemeinden_and_traeger() {
    let app = TestApp::spawn().await;
    let gemeinde = json!({"kind": "gemeinde", "ags": "06636001", "name": "Stadt Bad Sooden-Allendorf"});
    let res = app
        .post("/api/v1/organisations", Some(&service_unit()), &gemeinde)
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["district"], "06636");
    assert_eq!(created["kind"], "gemeinde");
    let p = problem(
        app.post("/api/v1/organisations", Some(&ministry()), &gemeinde).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "already_exists");

    let traeger = json!({"kind": "traeger", "name": "Gesundheitszentrum Eschwege gGmbH", "district": "06636"});
    let res = app.post("/api/v1/organisations", Some(&ministry()), &traeger).await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let t: Value = app.get(&location, Some(&municipality())).await.json().await.unwrap();
    assert_eq!(t["ags"], Value::Null);
    assert_eq!(t["district"], "06636");

    // The list filters by district and kind.
    let list: Value = app
        .get(
            "/api/v1/organisations?district=06636&includeTotal=true",
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 3);
    let traeger_only: Value = app
        .get("/api/v1/organisations?kind=traeger", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(traeger_only["items"].as_array().unwrap().len(), 1);
    let by_name: Value = app
        .get("/api/v1/organisations?q=sooden", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_name["items"][0]["ags"], "06636001");
}

#[actix_web::test]
async fn organisations_are_validated() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let cases = [
        (json!({"kind": "gemeinde", "name": "Ohne AGS"}), vec!["/ags"]),
        (
            json!({"kind": "gemeinde", "ags": "0663600", "name": "Kurz"}),
            vec!["/ags"],
        ),
        (
            json!({"kind": "gemeinde", "ags": "06636001", "name": "Falscher Kreis", "district": "06635"}),
            vec!["/district"],
        ),
        (
            json!({"kind": "traeger", "ags": "06636001", "name": "Mit AGS"}),
            vec!["/ags", "/district"],
        ),
        (json!({"kind": "landkreis", "name": "Noch ein Kreis"}), vec!["/kind"]),
        (
            json!({"kind": "gemeinde", "ags": "06999001", "name": "Nirgendwo"}),
            vec!["/ags"],
        ),
        (json!({}), vec!["/kind", "/name"]),
    ];
    for (body, expected) in cases {
        let p = problem(app.post("/api/v1/organisations", Some(&s), &body).await, 422).await;
        assert_eq!(pointers(&p), expected, "{body}");
    }
}

#[actix_web::test]
async fn organisations_are_renamed_with_if_match() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    problem(
        app.patch(
            "/api/v1/organisations/06636",
            Some(&s),
            None,
            &json!({"name": "Werra-Meißner-Kreis"}),
        )
        .await,
        428,
    )
    .await;
    let res = app
        .patch(
            "/api/v1/organisations/06636",
            Some(&s),
            Some("\"1\""),
            &json!({"name": "Werra-Meißner-Kreis"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "Werra-Meißner-Kreis");
    assert_eq!(body["version"], 2);
    problem(
        app.patch(
            "/api/v1/organisations/06636",
            Some(&s),
            Some("\"1\""),
            &json!({"name": "Alt"}),
        )
        .await,
        412,
    )
    .await;
    let p = problem(
        app.patch(
            "/api/v1/organisations/06636",
            Some(&s),
            Some("\"2\""),
            &json!({"kind": "gemeinde"}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/kind"]);
}

#[actix_web::test]
async fn organisations_have_a_history() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let res = app
        .post(
            "/api/v1/organisations",
            Some(&s),
            &json!({"kind": "gemeinde", "ags": "06636001", "name": "Stadt Bad Sooden-Allendorf"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let org: Value = res.json().await.unwrap();
    let id = org["id"].as_str().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/organisations/{id}"),
            Some(&s),
            Some("\"1\""),
            &json!({"name": "Stadt Bad Sooden-Allendorf (Werra)"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    // A patch that changes nothing writes nothing and keeps the version.
    let res = app
        .patch(
            &format!("/api/v1/organisations/{id}"),
            Some(&s),
            Some("\"2\""),
            &json!({"name": "Stadt Bad Sooden-Allendorf (Werra)"}),
        )
        .await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    let p = problem(
        app.patch(
            &format!("/api/v1/organisations/{id}"),
            Some(&s),
            Some("\"2\""),
            &json!({"name": null}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "not_null", "{p}");
    let history: Value = app
        .get(&format!("/api/v1/organisations/{id}/history"), Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<(&str, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["changedFields"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![("create", json!([])), ("update", json!(["/name"]))],
        "{history}"
    );
    assert_eq!(history[1]["actor"]["role"], "service_unit");
    problem(app.get("/api/v1/organisations/06999999/history", Some(&s)).await, 404).await;
}

#[actix_web::test]
async fn organisations_export_as_csv_with_the_filters() {
    let app = TestApp::spawn().await;
    let csv = app.get_csv("/api/v1/organisations", Some(&municipality())).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,ags,name,kind,district,version,createdAt,updatedAt");
    assert_eq!(lines.len(), 27, "every district is an organisation: {csv}");
    let wmk = app
        .get_csv("/api/v1/organisations?district=06636", Some(&ministry()))
        .await;
    let rows: Vec<&str> = wmk.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{wmk}");
    let cells: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(cells[1..6], ["06636", cells[2], "landkreis", "06636", "1"]);
    assert!(cells[2].contains("Werra-Meißner"), "{wmk}");
}

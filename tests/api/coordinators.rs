use crate::helpers::*;
use serde_json::{Value, json};

fn jana() -> Value {
    json!({"name": "Jana Hoffmann", "email": "jana.hoffmann@vogelsbergkreis.example", "phone": "+49 6641 977-0",
        "district": "06535", "employer": "06535", "fteBasisPoints": 7500, "startDate": "2027-01-01"})
}

async fn add(app: &TestApp, body: &Value) -> Value {
    let res = app.post("/api/v1/coordinators", Some(&service_unit()), body).await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    res.json().await.unwrap()
}

#[actix_web::test]
async fn the_service_unit_keeps_the_register() {
    let app = TestApp::spawn().await;
    let c = add(&app, &jana()).await;
    assert_eq!(c["status"], "active");
    assert_eq!(c["employer"]["name"], "Landkreis Vogelsbergkreis");
    assert_eq!(c["contact"]["email"], "jana.hoffmann@vogelsbergkreis.example");
    let id = c["id"].as_str().unwrap();
    let path = format!("/api/v1/coordinators/{id}");

    let res = app
        .patch(
            &path,
            Some(&service_unit()),
            Some("\"1\""),
            &json!({"status": "on_leave", "phone": null}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["status"], "on_leave");
    assert_eq!(changed["contact"]["phone"], Value::Null);
    assert_eq!(changed["version"], 2);
    problem(
        app.patch(
            &path,
            Some(&service_unit()),
            Some("\"1\""),
            &json!({"status": "active"}),
        )
        .await,
        412,
    )
    .await;
    let history: Value = app
        .get(&format!("{path}/history"), Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history[1]["changedFields"], json!(["/phone", "/status"]));
    assert_eq!(history[1]["fromStatus"], "active");

    // Only the service unit writes.
    for t in [municipality(), ministry()] {
        problem(app.post("/api/v1/coordinators", Some(&t), &jana()).await, 403).await;
        problem(
            app.patch(&path, Some(&t), Some("*"), &json!({"status": "left"})).await,
            403,
        )
        .await;
        problem(
            app.client.delete(app.url(&path)).bearer_auth(&t).send().await.unwrap(),
            403,
        )
        .await;
    }
    problem(app.get(&format!("{path}/history"), Some(&municipality())).await, 403).await;

    // Rules.
    let mut bad = jana();
    bad["fteBasisPoints"] = json!(0);
    bad["endDate"] = json!("2026-01-01");
    bad["district"] = json!("06999");
    bad["employer"] = json!("06999");
    let p = problem(app.post("/api/v1/coordinators", Some(&service_unit()), &bad).await, 422).await;
    assert_eq!(pointers(&p), vec!["/endDate", "/fteBasisPoints"]);
    bad["fteBasisPoints"] = json!(10_000);
    bad["endDate"] = json!(null);
    let p = problem(app.post("/api/v1/coordinators", Some(&service_unit()), &bad).await, 422).await;
    assert_eq!(pointers(&p), vec!["/district", "/employer"]);
}

#[actix_web::test]
async fn contact_fields_only_for_staff_and_the_same_district() {
    let app = TestApp::spawn().await;
    let c = add(&app, &jana()).await;
    let path = format!("/api/v1/coordinators/{}", c["id"].as_str().unwrap());
    let vogelsberg = token("municipality", Some("06535"));
    for (t, sees) in [
        (service_unit(), true),
        (ministry(), true),
        (vogelsberg, true),
        (municipality(), false),
    ] {
        let one: Value = app.get(&path, Some(&t)).await.json().await.unwrap();
        assert_eq!(one["name"], "Jana Hoffmann");
        assert_eq!(one["district"], "06535");
        assert_eq!(one.get("contact").is_some(), sees, "{one}");
        let list: Value = app.get("/api/v1/coordinators", Some(&t)).await.json().await.unwrap();
        assert_eq!(list["items"][0].get("contact").is_some(), sees);
        let csv = app
            .client
            .get(app.url("/api/v1/coordinators"))
            .bearer_auth(&t)
            .header("Accept", "text/csv")
            .send()
            .await
            .unwrap();
        let text = csv.text().await.unwrap();
        assert_eq!(text.contains("jana.hoffmann@"), sees, "{text}");
    }
    problem(app.get("/api/v1/coordinators", None).await, 401).await;
}

#[actix_web::test]
async fn lists_filter_by_district_status_and_name() {
    let app = TestApp::spawn().await;
    add(&app, &jana()).await;
    let mut kai = jana();
    kai["name"] = json!("Kai Wagner");
    kai["district"] = json!("06636");
    kai["employer"] = json!("06636");
    kai["status"] = json!("left");
    add(&app, &kai).await;
    let get = |q: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/coordinators?{q}"), Some(&ministry()))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(get("includeTotal=true").await["total"], 2);
    assert_eq!(get("district=06636").await["items"][0]["name"], "Kai Wagner");
    assert_eq!(get("status=active").await["items"][0]["name"], "Jana Hoffmann");
    assert_eq!(get("q=wag").await["items"][0]["name"], "Kai Wagner");
    assert_eq!(get("q=100%25").await["items"], json!([]));
    problem(
        app.get("/api/v1/coordinators?status=retired", Some(&ministry())).await,
        400,
    )
    .await;
    problem(app.get("/api/v1/coordinators?district=6", Some(&ministry())).await, 400).await;
}

#[actix_web::test]
async fn the_funded_post_must_be_an_approved_gk_application_of_the_district() {
    let app = TestApp::spawn().await;
    let application = json!({"fundingLine": "GK", "title": "Gesundheitskoordination Vogelsberg",
        "description": "Stelle", "startDate": "2027-01-01", "endDate": "2031-12-31",
        "financingPlan": {"totalCostsCents": 25_000_000, "ownFundsCents": 2_500_000, "thirdPartyFundsCents": 0, "requestedCents": 22_500_000},
        "contact": {"name": "A", "email": "a@example.org", "phone": "+49 1"}});
    let vogelsberg = token("municipality", Some("06535"));
    let created: Value = app
        .post("/api/v1/applications", Some(&vogelsberg), &application)
        .await
        .json()
        .await
        .unwrap();
    let app_id = created["id"].as_str().unwrap().to_owned();
    let mut body = jana();
    body["fundingApplicationId"] = json!(app_id);
    let p = problem(
        app.post("/api/v1/coordinators", Some(&service_unit()), &body).await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "invalid_funding_application");
    app.db
        .execute(&format!(
            "UPDATE applications SET status = 'approved', granted_cents = 1 WHERE id = '{app_id}'"
        ))
        .await;
    add(&app, &body).await;
    body["district"] = json!("06636");
    let p = problem(
        app.post("/api/v1/coordinators", Some(&service_unit()), &body).await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/fundingApplicationId"]);
}

/// Right to be forgotten: after DELETE, no table holds the person's name or e-mail, in plain text or as bytes.
#[actix_web::test]
async fn erasure_leaves_no_personal_data_in_any_table() {
    let app = TestApp::spawn().await;
    let name = "Friederike Quandt-Erasmus";
    let email = "f.quandt-erasmus@erase.example";
    let mut body = jana();
    body["name"] = json!(name);
    body["email"] = json!(email);
    let res = app
        .client
        .post(app.url("/api/v1/coordinators"))
        .bearer_auth(service_unit())
        .header("Idempotency-Key", "register-fqe")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let c: Value = res.json().await.unwrap();
    let id = c["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/coordinators/{id}");
    app.patch(
        &path,
        Some(&service_unit()),
        Some("\"1\""),
        &json!({"name": format!("{name} "), "phone": "+49 1"}),
    )
    .await;
    assert!(
        tables_containing(&app, name).await.len() >= 2,
        "the data is there before (record, idempotency record)"
    );

    let res = app
        .client
        .delete(app.url(&path))
        .bearer_auth(service_unit())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    for needle in [name, email, "Quandt"] {
        assert_eq!(
            tables_containing(&app, needle).await,
            Vec::<String>::new(),
            "{needle} found after erasure"
        );
    }
    let placeholder: Value = app.get(&path, Some(&ministry())).await.json().await.unwrap();
    assert_eq!(placeholder["erased"], true);
    assert_eq!(placeholder["name"], Value::Null);
    assert_eq!(placeholder["status"], "left");
    assert_eq!(placeholder["district"], "06535");
    let p = problem(
        app.patch(&path, Some(&service_unit()), Some("*"), &json!({"name": name}))
            .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "erased");
    assert_eq!(
        app.client
            .delete(app.url(&path))
            .bearer_auth(service_unit())
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let history: Value = app
        .get(&format!("{path}/history"), Some(&service_unit()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().last().unwrap()["action"], "erase");
    problem(
        app.client
            .delete(app.url("/api/v1/coordinators/0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1"))
            .bearer_auth(service_unit())
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

/// Every table of the schema whose rows contain `needle`, as text or as UTF-8 bytes.
async fn tables_containing(app: &TestApp, needle: &str) -> Vec<String> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.conn().await;
    let tables: Vec<Table> = diesel::sql_query("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")
        .load(&mut conn)
        .await
        .unwrap();
    let hex = needle.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let mut found = Vec::new();
    for t in tables {
        let sql = format!(
            "SELECT count(*) AS n FROM {0} x WHERE x::text ILIKE '%' || $1 || '%' OR x::text ILIKE '%' || $2 || '%'",
            t.name
        );
        let rows: Vec<Count> = diesel::sql_query(sql)
            .bind::<diesel::sql_types::Text, _>(needle)
            .bind::<diesel::sql_types::Text, _>(&hex)
            .load(&mut conn)
            .await
            .unwrap();
        if rows[0].n > 0 {
            found.push(t.name);
        }
    }
    found
}

/// PATCH goes through the shared flow: a patch that changes nothing (the employer given by AGS instead of id
/// included) answers the record as it is (no new version, no history entry); a `null` for a field that cannot be
/// cleared is 422 `not_null`, every wrong field at once.
#[actix_web::test]
async fn a_coordinator_patch_follows_the_shared_patch_rules() {
    let app = TestApp::spawn().await;
    let s = service_unit();
    let c = add(&app, &jana()).await;
    let path = format!("/api/v1/coordinators/{}", c["id"].as_str().unwrap());
    let etag = format!("\"{}\"", c["version"]);
    let history = async || -> Value {
        let url = format!("{path}/history");
        app.get(&url, Some(&ministry())).await.json().await.unwrap()
    };
    let before = history().await;

    for same in [
        json!({}),
        json!({"name": c["name"]}),
        json!({"employer": "06535"}),
        json!({"employer": c["employer"]["id"]}),
    ] {
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
            &json!({"name": null, "district": null, "fteBasisPoints": null}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/district", "/fteBasisPoints", "/name"], "{p}");
    assert!(
        p["errors"].as_array().unwrap().iter().all(|e| e["code"] == "not_null"),
        "{p}"
    );
}

//! An organisation's bank details (`/organisations/{id}/bank-account`): the IBAN checked by the `iban_validate` crate
//! and normalised, `If-Match`, the visibility (the organisation itself and the ministry; 404 for other
//! municipalities, 403 for the service unit), the history, and no bank field in the feed, webhooks or anything
//! public.

use crate::helpers::*;
use crate::webhooks::{Receiver, fast_webhooks};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PATH: &str = "/api/v1/organisations/06636/bank-account";
/// A valid German IBAN, as it is stored and returned, and as a person types it.
const IBAN: &str = "DE89370400440532013000";
const PRINTED: &str = "de89 3704 0044 0532 0130 00";
const HOLDER: &str = "Kreisausschuss des Werra-Meißner-Kreises";

fn vogelsberg() -> String {
    token("municipality", Some("06535"))
}

async fn put(app: &TestApp, path: &str, token: &str, if_match: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app.client.put(app.url(path)).bearer_auth(token).json(body);
    if let Some(m) = if_match {
        req = req.header("If-Match", m);
    }
    req.send().await.unwrap()
}

async fn ok(res: reqwest::Response) -> (String, Value) {
    let status = res.status();
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    (etag, serde_json::from_str(&text).unwrap())
}

/// Sets the Werra-Meißner-Kreis's bank details as its own municipality (from version 0).
async fn set(app: &TestApp) -> Value {
    let body = json!({"iban": PRINTED, "accountHolder": HOLDER});
    ok(put(app, PATH, &municipality(), Some("\"0\""), &body).await).await.1
}

#[actix_web::test]
async fn bank_details_are_set_under_if_match_and_the_iban_is_normalised() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let (etag, empty) = ok(app.get(PATH, Some(&m)).await).await;
    assert_eq!(etag, "\"0\"");
    assert_eq!(
        (
            &empty["iban"],
            &empty["accountHolder"],
            &empty["version"],
            &empty["updatedAt"]
        ),
        (&Value::Null, &Value::Null, &json!(0), &Value::Null)
    );
    let org: Value = app
        .get("/api/v1/organisations/06636", Some(&m))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["organisationId"], org["id"]);

    let body = json!({"iban": PRINTED, "accountHolder": HOLDER});
    problem(put(&app, PATH, &m, None, &body).await, 428).await;
    let (etag, set) = ok(put(&app, PATH, &m, Some("\"0\""), &body).await).await;
    assert_eq!(etag, "\"1\"");
    assert_eq!((&set["iban"], &set["accountHolder"]), (&json!(IBAN), &json!(HOLDER)));
    assert_eq!(set["version"], 1);
    assert!(set["updatedAt"].is_string(), "{set}");
    // Stored in electronic format, as the database's CHECK requires.
    let mut conn = app.db.conn().await;
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        iban: String,
    }
    let stored: Vec<Stored> = diesel_async::RunQueryDsl::load(
        diesel::sql_query("SELECT iban FROM organisations WHERE ags = '06636'"),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(stored[0].iban, IBAN);
    // The ministry reads the same, by the organisation's id as well.
    let by_id = format!("/api/v1/organisations/{}/bank-account", org["id"].as_str().unwrap());
    assert_eq!(ok(app.get(&by_id, Some(&ministry())).await).await, (etag, set.clone()));
    // The organisation's own version is not the bank details'.
    let after: Value = app
        .get("/api/v1/organisations/06636", Some(&m))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["version"], org["version"]);

    // The same details again (in electronic format this time) change nothing: the version stays.
    let same = json!({"iban": IBAN, "accountHolder": HOLDER});
    let (etag, again) = ok(put(&app, PATH, &m, Some("\"1\""), &same).await).await;
    assert_eq!((etag.as_str(), &again["version"]), ("\"1\"", &json!(1)));
    // A stale ETag is refused; the ministry changes the holder on the current one.
    let p = problem(put(&app, PATH, &ministry(), Some("\"0\""), &same).await, 412).await;
    assert_eq!(p["currentVersion"], 1);
    let renamed = json!({"iban": IBAN, "accountHolder": "Werra-Meißner-Kreis, Kreiskasse"});
    let (etag, changed) = ok(put(&app, PATH, &ministry(), Some("\"1\""), &renamed).await).await;
    assert_eq!(
        (etag.as_str(), &changed["accountHolder"]),
        ("\"2\"", &renamed["accountHolder"])
    );
    // Other countries' IBANs, in print format.
    let uk = json!({"iban": "GB82 WEST 1234 5698 7654 32", "accountHolder": HOLDER});
    let (_, changed) = ok(put(&app, PATH, &m, Some("\"2\""), &uk).await).await;
    assert_eq!(changed["iban"], "GB82WEST12345698765432");
}

#[actix_web::test]
async fn a_wrong_iban_is_422_invalid_iban_at_iban() {
    let app = TestApp::spawn().await;
    let m = municipality();
    let cases = [
        // One check digit off.
        ("DE88 3704 0044 0532 0130 00", "check digits"),
        // Right check digits for a German IBAN one digit short (Germany's IBANs have 22 characters).
        ("DE51 3704 0044 0532 0130 0", "length or format"),
        // Right check digits, but the United States use no IBAN.
        ("US41 1234 5678 9012 3", "country code"),
        // Not the shape of an IBAN at all.
        ("3704 0044 0532 0130 00", "two letters"),
        ("DE89-3704-0044-0532-0130-00", "two letters"),
    ];
    for (iban, reason) in cases {
        let body = json!({"iban": iban, "accountHolder": HOLDER});
        let p = problem(put(&app, PATH, &m, Some("\"0\""), &body).await, 422).await;
        assert_eq!(pointers(&p), vec!["/iban"], "{iban}: {p}");
        assert_eq!(p["errors"][0]["code"], "invalid_iban", "{iban}: {p}");
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{iban}: {message}");
        assert!(
            message.contains("DE89 3704 0044 0532 0130 00"),
            "the expected format: {message}"
        );
    }
    // In German, too.
    let res = app
        .client
        .put(app.url(PATH))
        .bearer_auth(&m)
        .header("If-Match", "\"0\"")
        .header("Accept-Language", "de")
        .json(&json!({"iban": "DE88370400440532013000", "accountHolder": HOLDER}))
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert_eq!(
        p["errors"][0]["message"],
        "ist keine gültige IBAN: die Prüfziffern stimmen nicht; erwartet eine IBAN wie DE89 3704 0044 0532 0130 00 \
         (Leerzeichen und Kleinbuchstaben erlaubt)"
    );
    // The holder: required, 1–200 characters, no control characters (no tab either); every wrong field at once.
    for (body, expected) in [
        (json!({}), vec!["/accountHolder", "/iban"]),
        (json!({"iban": IBAN, "accountHolder": ""}), vec!["/accountHolder"]),
        (
            json!({"iban": IBAN, "accountHolder": "x".repeat(201)}),
            vec!["/accountHolder"],
        ),
        (
            json!({"iban": "DE00", "accountHolder": "Kreis\tkasse"}),
            vec!["/accountHolder", "/iban"],
        ),
        (json!({"iban": " ".repeat(51), "accountHolder": HOLDER}), vec!["/iban"]),
    ] {
        let p = problem(put(&app, PATH, &m, Some("\"0\""), &body).await, 422).await;
        let mut got = pointers(&p);
        got.sort();
        assert_eq!(got, expected, "{body}: {p}");
    }
    let p = problem(
        put(
            &app,
            PATH,
            &m,
            Some("\"0\""),
            &json!({"iban": IBAN, "accountHolder": HOLDER, "bic": "X"}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/bic"]);
    // Nothing was stored.
    let (etag, account) = ok(app.get(PATH, Some(&m)).await).await;
    assert_eq!((etag.as_str(), &account["iban"]), ("\"0\"", &Value::Null));
}

#[actix_web::test]
async fn only_the_organisation_itself_and_the_ministry_see_and_set_bank_details() {
    let app = TestApp::spawn().await;
    set(&app).await;
    // A Gemeinde in the same district is another organisation.
    let res = app
        .post(
            "/api/v1/organisations",
            Some(&service_unit()),
            &json!({"kind": "gemeinde", "ags": "06636001", "name": "Stadt Bad Sooden-Allendorf"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let gemeinde = token("municipality", Some("06636001"));
    let body = json!({"iban": IBAN, "accountHolder": "Jemand anderes"});
    let history = format!("{PATH}/history");
    // (caller, GET, history, PUT): the organisation and the ministry; another municipality (also one in the same
    // district) does not find them; the service unit's role may not see bank details at all.
    for (who, caller, expected) in [
        ("own municipality", municipality(), [200, 200, 200]),
        ("ministry", ministry(), [200, 200, 200]),
        ("another district's municipality", vogelsberg(), [404, 404, 404]),
        ("a Gemeinde of the same district", gemeinde, [404, 404, 404]),
        ("service unit", service_unit(), [403, 403, 403]),
    ] {
        let got = [
            app.get(PATH, Some(&caller)).await,
            app.get(&history, Some(&caller)).await,
            put(&app, PATH, &caller, Some("*"), &body).await,
        ];
        for (res, want) in got.into_iter().zip(expected) {
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            assert_eq!(status, want, "{who}: {text}");
            if want != 200 {
                assert!(!text.contains(IBAN) && !text.contains("Jemand"), "{who}: {text}");
            }
        }
    }
    // The organisation itself is public and carries no bank field, for any role, in any form.
    let s = service_unit();
    let org_id = {
        let org: Value = app
            .get("/api/v1/organisations/06636", Some(&s))
            .await
            .json()
            .await
            .unwrap();
        org["id"].as_str().unwrap().to_owned()
    };
    for caller in [vogelsberg(), s.clone(), municipality(), ministry()] {
        for path in [
            "/api/v1/organisations/06636".to_owned(),
            format!("/api/v1/organisations/{org_id}"),
            "/api/v1/organisations?district=06636".to_owned(),
            "/api/v1/organisations/06636/history".to_owned(),
        ] {
            let text = app.get(&path, Some(&caller)).await.text().await.unwrap();
            assert!(
                !text.contains(IBAN) && !text.contains("iban") && !text.contains("accountHolder"),
                "{path}: {text}"
            );
        }
        let csv = app.get_csv("/api/v1/organisations", Some(&caller)).await;
        assert!(!csv.contains(IBAN) && !csv.contains("iban"), "{csv}");
    }
    // Without a token, nothing.
    problem(app.get(PATH, None).await, 401).await;
}

#[actix_web::test]
async fn bank_details_have_a_history_of_their_own_that_names_fields_never_values() {
    let app = TestApp::spawn().await;
    let before: Value = app
        .get("/api/v1/organisations/06636/history", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    set(&app).await;
    let renamed = json!({"iban": IBAN, "accountHolder": "Werra-Meißner-Kreis, Kreiskasse"});
    ok(put(&app, PATH, &ministry(), Some("\"1\""), &renamed).await).await;
    // Setting the same again records nothing.
    ok(put(&app, PATH, &ministry(), Some("\"2\""), &renamed).await).await;
    for caller in [municipality(), ministry()] {
        let res = app.get(&format!("{PATH}/history"), Some(&caller)).await;
        let (_, history) = ok(res).await;
        let steps: Vec<(&str, &str, Value)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["action"].as_str().unwrap(),
                    h["actor"]["role"].as_str().unwrap(),
                    h["changedFields"].clone(),
                )
            })
            .collect();
        assert_eq!(
            steps,
            vec![
                ("update", "municipality", json!(["/accountHolder", "/iban"])),
                ("update", "ministry", json!(["/accountHolder"])),
            ],
            "{history}"
        );
        let text = history.to_string();
        assert!(!text.contains(IBAN) && !text.contains("Kreiskasse"), "{text}");
    }
    // The organisation's public history did not change.
    let after: Value = app
        .get("/api/v1/organisations/06636/history", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after, before);
}

/// The events a caller's feed shows, from the start.
async fn feed(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app.get("/api/v1/events?after=0&limit=1000", Some(token)).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

fn of_type<'a>(events: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == event_type).collect()
}

/// A subscription of `token` to every event, delivered to a fresh receiver.
async fn subscribe(app: &TestApp, token: &str) -> (Receiver, String) {
    let (receiver, url) = Receiver::start().await;
    let res = app
        .post(
            "/api/v1/webhooks",
            Some(token),
            &json!({"url": url, "eventTypes": ["*"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let hook: Value = res.json().await.unwrap();
    *receiver.secret.lock().unwrap() = hook["secret"].as_str().unwrap().to_owned();
    (receiver, hook["id"].as_str().unwrap().to_owned())
}

/// The types of a subscription's deliveries (its log lists pending ones too).
async fn delivered_types(app: &TestApp, token: &str, hook: &str) -> Vec<String> {
    let log: Value = app
        .get(&format!("/api/v1/webhooks/{hook}/deliveries?limit=200"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["eventType"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_feed_and_webhooks_never_carry_bank_details() {
    let app = TestApp::spawn_with(fast_webhooks).await;
    let callers = [
        ("own municipality", municipality()),
        ("another municipality", vogelsberg()),
        ("service unit", service_unit()),
        ("ministry", ministry()),
    ];
    let mut hooks = Vec::new();
    for (who, caller) in &callers {
        let (receiver, hook) = subscribe(&app, caller).await;
        hooks.push((*who, caller.clone(), receiver, hook));
    }
    let account = set(&app).await;
    // A public change afterwards: once every subscriber has it, the bank event has been fanned out to all.
    let res = app
        .patch(
            "/api/v1/organisations/06535",
            Some(&service_unit()),
            Some("*"),
            &json!({"name": "Vogelsbergkreis (Kreisverwaltung)"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    // Neither the IBAN (not even its country and check digits, as a masked one would show) nor the holder.
    let leaks = |text: &str| text.contains(IBAN) || text.contains("DE89") || text.contains("Kreisausschuss");
    for (who, caller) in &callers {
        let events = feed(&app, caller).await;
        let bank = of_type(&events, "bank_account.changed");
        if *who == "another municipality" {
            assert!(bank.is_empty(), "{who}: {bank:?}");
        } else {
            assert_eq!(bank.len(), 1, "{who}: {events:?}");
            assert_eq!(bank[0]["resourceKind"], "bank_account");
            assert_eq!(bank[0]["resourceId"], account["organisationId"]);
            assert_eq!(
                bank[0]["data"],
                json!({"organisationId": account["organisationId"], "version": 1, "updatedAt": account["updatedAt"]}),
                "{who}"
            );
        }
        let text = serde_json::to_string(&events).unwrap();
        assert!(!leaks(&text), "{who}'s feed: {text}");
    }

    for (who, caller, receiver, hook) in &hooks {
        let start = Instant::now();
        let got = loop {
            let got = receiver.received();
            if got.iter().any(|(_, body, _)| body["type"] == "organisation.changed") {
                break got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{who}: no delivery of the public change"
            );
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        };
        let types = delivered_types(&app, caller, hook).await;
        let bank = types.iter().filter(|t| *t == "bank_account.changed").count();
        assert_eq!(bank, usize::from(*who != "another municipality"), "{who}: {types:?}");
        for (_, body, verified) in &got {
            assert!(verified);
            let text = body.to_string();
            assert!(!leaks(&text), "{who}'s webhook: {text}");
        }
    }

    // Nor are they kept where the feed and the deliveries come from.
    let mut conn = app.db.conn().await;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Count> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM events WHERE data::text LIKE '%{IBAN}%' OR data::text LIKE '%Kreisausschuss%'"
        )),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(rows[0].n, 0);
}

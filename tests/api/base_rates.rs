//! The base-rate table (Basiszinssatz, § 247 BGB): read by everyone, a new half-year added and a wrong rate corrected
//! by the ministry, with its source, history and event. The interest's use of it is in recovery_claims.rs.

use crate::helpers::*;
use crate::payment_requests::ok;
use serde_json::{Value, json};

#[actix_web::test]
async fn the_ministry_adds_a_new_half_year_and_corrects_a_rate_with_its_source() {
    let app = TestApp::spawn().await;
    let all: Value = app
        .get("/api/v1/base-rates", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.first().unwrap()["validFrom"], "2002-01-01");
    assert_eq!(
        (
            &items.last().unwrap()["validFrom"],
            &items.last().unwrap()["rateBasisPoints"]
        ),
        (&json!("2026-07-01"), &json!(152))
    );
    let csv = app.get_csv("/api/v1/base-rates", Some(&ministry())).await;
    assert!(
        csv.starts_with("validFrom,rateBasisPoints,source,version,updatedAt\n2002-01-01,257,"),
        "{csv}"
    );

    // Every wrong part refused, nothing written: a day that starts no half-year (400), a rate out of range and no
    // source (422), another role (403).
    let count = app.db_count("base_rates").await;
    let body = json!({"rateBasisPoints": 177, "source": "Deutsche Bundesbank, Bekanntmachung"});
    let p = problem(
        app.put("/api/v1/base-rates/2027-02-01", Some(&ministry()), &body).await,
        400,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/path/validFrom"]);
    let p = problem(
        app.put(
            "/api/v1/base-rates/2027-01-01",
            Some(&ministry()),
            &json!({"rateBasisPoints": 5000}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/rateBasisPoints", "/source"]);
    assert_eq!(
        app.put("/api/v1/base-rates/2027-01-01", Some(&service_unit()), &body)
            .await
            .status(),
        403
    );
    assert_eq!(app.db_count("base_rates").await, count);

    // The new half-year: 201; setting it again corrects it (200, version 2); a stale If-Match is 412.
    let res = app.put("/api/v1/base-rates/2027-01-01", Some(&ministry()), &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let corrected = json!({"rateBasisPoints": 152, "source": "Deutsche Bundesbank, Berichtigung"});
    let c = ok(
        app.put("/api/v1/base-rates/2027-01-01", Some(&ministry()), &corrected)
            .await,
        200,
    )
    .await;
    assert_eq!(
        (&c["rateBasisPoints"], &c["source"], &c["version"]),
        (&json!(152), &json!("Deutsche Bundesbank, Berichtigung"), &json!(2))
    );
    let stale = app
        .client
        .put(app.url("/api/v1/base-rates/2027-01-01"))
        .bearer_auth(ministry())
        .header("If-Match", "\"1\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let history: Value = app
        .get("/api/v1/base-rates/2027-01-01/history", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    assert_eq!(
        app.get("/api/v1/base-rates/2031-01-01/history", Some(&ministry()))
            .await
            .status(),
        404
    );
    // Reference data for everyone: the feed tells every reader.
    let feed: Value = app
        .get("/api/v1/events?after=0&limit=1000", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let set = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "base_rate.set")
        .count();
    assert_eq!(set, 2);
}

use crate::helpers::*;
use serde_json::{Value, json};

#[actix_web::test]
async fn counts_and_sums_by_dimension_with_filters_and_csv() {
    let app = TestApp::spawn().await;
    app.db
        .execute(
            "INSERT INTO applications (organisation_id, district_ags, funding_line_code, status, title, requested_cents, granted_cents, submitted_at)
             SELECT o.id, o.district_ags, v.line, v.status, 'Vorhaben', v.requested, v.granted, v.at::timestamptz
             FROM organisations o JOIN (VALUES
               ('06636', 'GK', 'approved', 2000000, 1500000, '2027-03-01'),
               ('06636', 'GK', 'submitted', 1000000, NULL, '2027-04-01'),
               ('06535', 'GK', 'approved', 3000000, 3000000, '2028-01-15'),
               ('06535', 'MV', 'rejected', 500000, NULL, '2027-05-01'),
               ('06611', 'VA', 'in_review', 700000, NULL, '2027-06-01')
             ) AS v(ags, line, status, requested, granted, at) ON v.ags = o.ags",
        )
        .await;
    let get = |q: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/statistics/funding?{q}"), Some(&ministry()))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let by_line = get("groupBy=fundingLine").await;
    assert_eq!(
        by_line["rows"][0],
        json!({"fundingLine": "GK", "count": 3, "requestedCents": 6000000, "grantedCents": 4500000, "paidCents": 0, "admittedCents": 0, "reclaimedCents": 0, "interestCents": 0})
    );
    assert_eq!(by_line["total"]["count"], 5);
    assert_eq!(by_line["total"]["requestedCents"], 7_200_000);
    let by_region = get("groupBy=versorgungsgebiet,status&fundingLine=GK").await;
    assert_eq!(by_region["rows"].as_array().unwrap().len(), 3, "{by_region}");
    assert_eq!(by_region["rows"][0]["versorgungsgebiet"], "Fulda-Bad Hersfeld");
    let by_year = get("groupBy=year&status=approved,submitted").await;
    assert_eq!(
        by_year["rows"],
        json!([
            {"year": "2027", "count": 2, "requestedCents": 3000000, "grantedCents": 1500000, "paidCents": 0, "admittedCents": 0, "reclaimedCents": 0, "interestCents": 0},
            {"year": "2028", "count": 1, "requestedCents": 3000000, "grantedCents": 3000000, "paidCents": 0, "admittedCents": 0, "reclaimedCents": 0, "interestCents": 0}
        ])
    );
    assert_eq!(get("groupBy=&year=2028").await["total"]["count"], 1);
    assert_eq!(
        get("groupBy=district&district=06611").await["rows"][0]["district"],
        "06611"
    );

    let csv = app
        .client
        .get(app.url("/api/v1/statistics/funding?groupBy=fundingLine,status"))
        .bearer_auth(service_unit())
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        "fundingLine,status,count,requestedCents,grantedCents,paidCents,admittedCents,reclaimedCents,interestCents"
    );
    assert!(csv.contains("GK,approved,2,5000000,4500000"), "{csv}");

    problem(app.get("/api/v1/statistics/funding", Some(&municipality())).await, 403).await;
    problem(
        app.get("/api/v1/statistics/funding?groupBy=colour", Some(&ministry()))
            .await,
        400,
    )
    .await;
    problem(
        app.get("/api/v1/statistics/funding?status=maybe", Some(&ministry()))
            .await,
        400,
    )
    .await;
}

#[actix_web::test]
async fn years_outside_the_documented_range_are_refused() {
    let app = TestApp::spawn().await;
    let m = ministry();
    for year in ["1999", "2101", "-5"] {
        let p = problem(
            app.get(&format!("/api/v1/statistics/funding?year={year}"), Some(&m))
                .await,
            400,
        )
        .await;
        assert_eq!(pointers(&p), vec!["/query/year"], "year={year}");
    }
    for year in ["2000", "2100"] {
        let res = app
            .get(&format!("/api/v1/statistics/funding?year={year}"), Some(&m))
            .await;
        assert_eq!(res.status(), 200, "year={year}");
    }
}

#[actix_web::test]
async fn the_csv_ends_with_the_total_row_of_the_json() {
    let app = TestApp::spawn().await;
    app.db
        .execute(
            "INSERT INTO applications (organisation_id, district_ags, funding_line_code, status, title, requested_cents, granted_cents, submitted_at)
             SELECT o.id, o.district_ags, v.line, v.status, 'Vorhaben', v.requested, v.granted, v.at::timestamptz
             FROM organisations o JOIN (VALUES
               ('06636', 'GK', 'approved', 2000000, 1500000, '2027-03-01'),
               ('06535', 'MV', 'rejected', 500000, NULL, '2027-05-01'),
               ('06611', 'VA', 'in_review', 700000, NULL, '2027-06-01')
             ) AS v(ags, line, status, requested, granted, at) ON v.ags = o.ags",
        )
        .await;
    let path = "/api/v1/statistics/funding?groupBy=fundingLine,status";
    let json: Value = app.get(path, Some(&ministry())).await.json().await.unwrap();
    assert_eq!(json["total"]["count"], 3);
    let csv = app.get_csv(path, Some(&ministry())).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "header, three groups, the total: {csv}");
    assert_eq!(lines[4], "total,,3,3200000,1500000,0,0,0,0");
    // Without dimensions the one row is the total.
    let csv = app
        .get_csv("/api/v1/statistics/funding?groupBy=", Some(&ministry()))
        .await;
    assert_eq!(
        csv,
        "count,requestedCents,grantedCents,paidCents,admittedCents,reclaimedCents,interestCents\n3,3200000,1500000,0,0,0,0\n"
    );
    // With no group at all the total is still there.
    let csv = app
        .get_csv(
            "/api/v1/statistics/funding?groupBy=district&year=2099",
            Some(&ministry()),
        )
        .await;
    assert_eq!(
        csv,
        "district,count,requestedCents,grantedCents,paidCents,admittedCents,reclaimedCents,interestCents\ntotal,0,0,0,0,0,0,0\n"
    );
}

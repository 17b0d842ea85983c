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

/// The dimensions as the answer names them, and how a full recount over the applications computes them (the
/// definitions the statistics had before they were kept as aggregates).
const RECOUNT_DIMENSIONS: [(&str, &str); 5] = [
    ("fundingLine", "a.funding_line_code"),
    ("district", "a.district_ags"),
    ("versorgungsgebiet", "d.versorgungsgebiet"),
    ("status", "a.status"),
    (
        "year",
        "extract(year FROM coalesce(a.submitted_at, a.created_at) AT TIME ZONE 'Europe/Berlin')::int::text",
    ),
];
const FIGURE_NAMES: [&str; 7] = [
    "count",
    "requestedCents",
    "grantedCents",
    "paidCents",
    "admittedCents",
    "reclaimedCents",
    "interestCents",
];

/// The figures recounted from every application, its grant years, accepted proofs and recovery claims.
fn recount_sql(dimensions: &[usize]) -> String {
    let mut select: Vec<String> = dimensions
        .iter()
        .enumerate()
        .map(|(i, d)| format!("({}) AS g{i}", RECOUNT_DIMENSIONS[*d].1))
        .collect();
    select.extend(
        [
            "count(*)::bigint",
            "coalesce(sum(a.requested_cents), 0)::bigint",
            "coalesce(sum(coalesce(p.committed, a.granted_cents)), 0)::bigint",
            "coalesce(sum(p.paid), 0)::bigint",
            "coalesce(sum(u.admitted), 0)::bigint",
            "coalesce(sum(c.reclaimed), 0)::bigint",
            "coalesce(sum(c.interest), 0)::bigint",
        ]
        .map(str::to_owned),
    );
    let keys: Vec<String> = (1..=dimensions.len()).map(|i| i.to_string()).collect();
    let grouping = if keys.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {0} ORDER BY {0}", keys.join(", "))
    };
    format!(
        "SELECT {} FROM applications a JOIN districts d ON d.ags = a.district_ags \
         LEFT JOIN (SELECT application_id, sum(committed_cents) AS committed, sum(paid_cents) AS paid \
                    FROM grant_years GROUP BY application_id) p ON p.application_id = a.id \
         LEFT JOIN (SELECT application_id, sum(admitted_cents) AS admitted FROM proofs_of_use \
                    WHERE status = 'accepted' GROUP BY application_id) u ON u.application_id = a.id \
         LEFT JOIN (SELECT application_id, sum(principal_cents) AS reclaimed, \
                    sum(coalesce(interest_cents, 0) + late_use_interest_cents) AS interest FROM recovery_claims \
                    WHERE status IN ('decided', 'paid', 'in_instalments') GROUP BY application_id) c \
                    ON c.application_id = a.id{grouping}",
        select.join(", ")
    )
}

/// Asserts that the statistics answer, for every grouping (all 32 subsets of the dimensions) and as CSV's source,
/// exactly what a full recount gives. Returns the number of groups compared.
pub(crate) async fn assert_statistics_equal_recount(
    client: &reqwest::Client,
    base: &str,
    db: &tokio_postgres::Client,
) -> usize {
    let mut compared = 0;
    for mask in 0u32..32 {
        let dimensions: Vec<usize> = (0..5).filter(|d| mask & (1 << d) != 0).collect();
        let names: Vec<&str> = dimensions.iter().map(|d| RECOUNT_DIMENSIONS[*d].0).collect();
        let mut url = format!("{base}/api/v1/statistics/funding");
        if !names.is_empty() {
            url.push_str(&format!("?groupBy={}", names.join(",")));
        }
        let answer: Value = client
            .get(&url)
            .bearer_auth(ministry())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let recount = db.query(&recount_sql(&dimensions), &[]).await.unwrap();
        let expected: Vec<Value> = recount
            .iter()
            .map(|r| {
                let mut row = serde_json::Map::new();
                for (i, name) in names.iter().enumerate() {
                    row.insert((*name).to_owned(), json!(r.get::<_, Option<String>>(i)));
                }
                for (j, figure) in FIGURE_NAMES.iter().enumerate() {
                    row.insert((*figure).to_owned(), json!(r.get::<_, i64>(names.len() + j)));
                }
                Value::Object(row)
            })
            .collect();
        if names.is_empty() {
            assert_eq!(answer["total"], expected[0], "the grand total");
            compared += 1;
            continue;
        }
        let mut got: Vec<String> = answer["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect();
        let mut want: Vec<String> = expected.iter().map(|r| r.to_string()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "groupBy={}", names.join(","));
        compared += want.len();
    }
    compared
}

#[actix_web::test]
async fn kept_figures_follow_every_kind_of_change_exactly() {
    let app = TestApp::spawn().await;
    let (db, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    // Changes the API does not make (bulk inserts, states, dates and amounts changed, deletions) go through the same
    // triggers as the API's own.
    app.db
        .execute(
            "INSERT INTO applications (organisation_id, district_ags, funding_line_code, status, title, requested_cents, granted_cents, submitted_at)
             SELECT o.id, o.district_ags, v.line, v.status, 'Vorhaben ' || g, v.requested + g, v.granted, v.at::timestamptz
             FROM organisations o JOIN (VALUES
               ('06636', 'GK', 'approved', 2000000, 1500000, '2027-03-01'),
               ('06636', 'GK', 'submitted', 1000000, NULL, '2027-12-31T23:30:00Z'),
               ('06535', 'MV', 'rejected', 500000, NULL, '2028-05-01'),
               ('06611', 'VA', 'draft', 700000, NULL, NULL)
             ) AS v(ags, line, status, requested, granted, at) ON v.ags = o.ags, generate_series(1, 5) g",
        )
        .await;
    assert!(assert_statistics_equal_recount(&app.client, &app.base, &db).await > 0);
    for sql in [
        "UPDATE applications SET status = 'in_review' WHERE status = 'submitted' AND requested_cents % 2 = 0",
        "UPDATE applications SET requested_cents = NULL WHERE status = 'draft' AND requested_cents % 3 = 0",
        "UPDATE applications SET submitted_at = '2029-01-01' WHERE status = 'rejected' AND requested_cents % 2 = 1",
        "DELETE FROM applications WHERE status = 'draft' AND requested_cents % 3 = 1",
    ] {
        app.db.execute(sql).await;
    }
    assert!(assert_statistics_equal_recount(&app.client, &app.base, &db).await > 0);
    // The grant resources through the API: an issued notice, a paid payment request, an accepted final proof.
    let notice = crate::payment_requests::issued_notice(&app, true).await;
    let r = crate::payment_requests::ok(
        crate::payment_requests::create(&app, &notice, &crate::payment_requests::request()).await,
        201,
    )
    .await;
    let r = r["id"].as_str().unwrap().to_owned();
    for (action, token) in [
        ("submit", municipality()),
        ("check", ministry()),
        ("approve", second_reviewer()),
    ] {
        crate::payment_requests::ok(
            crate::payment_requests::act(&app, &r, action, &token, json!({})).await,
            200,
        )
        .await;
    }
    let paid = json!({"paidOn": today(), "cashReference": "HKR-2027-000123"});
    crate::payment_requests::ok(
        crate::payment_requests::act(&app, &r, "pay", &ministry(), paid).await,
        200,
    )
    .await;
    crate::settlements::accepted_final_proof(&app, 9_000_000).await;
    let total: Value = app
        .get("/api/v1/statistics/funding", Some(&ministry()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total["total"]["paidCents"], 1_600_000);
    assert_eq!(total["total"]["admittedCents"], 9_000_000);
    assert!(assert_statistics_equal_recount(&app.client, &app.base, &db).await > 0);
    // Child rows changed directly, several in one transaction (the kept figures follow at its commit).
    db.batch_execute(
        "BEGIN; UPDATE grant_years SET paid_cents = 0 WHERE paid_cents > 0;
         UPDATE grant_years SET committed_cents = committed_cents - 1 WHERE committed_cents > 0; COMMIT",
    )
    .await
    .unwrap();
    assert!(assert_statistics_equal_recount(&app.client, &app.base, &db).await > 0);
}

use crate::helpers::*;
use serde_json::Value;

#[actix_web::test]
async fn lists_all_26_districts_without_a_token() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/districts?includeTotal=true", None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 26);
    assert_eq!(body["total"], 26);
    assert_eq!(body["nextCursor"], Value::Null);
    assert_eq!(body["items"][0]["ags"], "06411");
    let expected = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/districts.csv"));
    if let Ok(csv) = expected {
        // The migration must carry the shared reference data exactly.
        for (line, item) in csv.lines().skip(1).zip(body["items"].as_array().unwrap()) {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(item["ags"], f[0]);
            assert_eq!(item["name"], f[1]);
            assert_eq!(item["kind"], f[2]);
            assert_eq!(item["regierungsbezirk"], f[3]);
            assert_eq!(item["versorgungsgebiet"], f[4]);
        }
    }
}

#[actix_web::test]
async fn pages_through_districts_with_cursors_and_filters() {
    let app = TestApp::spawn().await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/districts?limit=10".to_owned();
    loop {
        let body: Value = app.get(&path, None).await.json().await.unwrap();
        for item in body["items"].as_array().unwrap() {
            seen.push(item["ags"].as_str().unwrap().to_owned());
        }
        match body["nextCursor"].as_str() {
            Some(c) => path = format!("/api/v1/districts?limit=10&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 26);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "ordered, no repeats");

    let body: Value = app
        .get("/api/v1/districts?versorgungsgebiet=Fulda-Bad%20Hersfeld", None)
        .await
        .json()
        .await
        .unwrap();
    let ags: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["ags"].as_str().unwrap())
        .collect();
    assert_eq!(ags, vec!["06535", "06631", "06632"]);
}

#[actix_web::test]
async fn gets_one_district_and_refuses_bad_keys() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/districts/06636", None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "Werra-Meißner-Kreis");
    assert_eq!(body["versorgungsgebiet"], "Kassel");

    problem(app.get("/api/v1/districts/06999", None).await, 404).await;
    let p = problem(app.get("/api/v1/districts/6636x", None).await, 400).await;
    assert_eq!(pointers(&p), vec!["/path/ags"]);
}

#[actix_web::test]
async fn districts_export_as_csv_with_the_filters() {
    let app = TestApp::spawn().await;
    let csv = app.get_csv("/api/v1/districts", None).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "ags,name,kind,regierungsbezirk,versorgungsgebiet");
    assert_eq!(lines.len(), 27, "{csv}");
    assert_eq!(lines[1], "06411,Darmstadt,kreisfreie_stadt,Darmstadt,Darmstadt");
    assert!(
        lines.contains(&"06636,Werra-Meißner-Kreis,landkreis,Kassel,Kassel"),
        "{csv}"
    );
    let kassel = app.get_csv("/api/v1/districts?versorgungsgebiet=Kassel", None).await;
    let json: Value = app
        .get("/api/v1/districts?versorgungsgebiet=Kassel&includeTotal=true", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        kassel.lines().count() as u64,
        1 + json["total"].as_u64().unwrap(),
        "{kassel}"
    );
    assert!(kassel.lines().skip(1).all(|l| l.ends_with(",Kassel")), "{kassel}");
}

//! Content negotiation between JSON and CSV (RFC 9110 §12.5.1): q-values decide, q=0 is "not acceptable", ties go
//! to JSON.

use crate::helpers::*;

#[actix_web::test]
async fn csv_negotiation_honours_q_values() {
    let app = TestApp::spawn().await;
    let su = service_unit();
    for path in ["/api/v1/districts", "/api/v1/committees"] {
        for (accept, csv) in [
            ("text/csv", true),
            ("text/csv;q=0.9, application/json;q=0.5", true),
            ("text/csv, */*;q=0.1", true),
            ("application/json, text/csv;q=0.1", false),
            ("text/csv;q=0", false),
            ("text/csv;q=0, */*", false),
            ("text/csv;q=0.5, */*", false),
            ("application/json, text/csv", false),
            ("*/*", false),
        ] {
            let res = app.get_accepting(path, Some(&su), accept).await;
            assert_eq!(res.status(), 200, "{path} Accept: {accept}");
            let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
            let want = if csv { "text/csv" } else { "application/json" };
            assert!(kind.starts_with(want), "{path} Accept: {accept} answered {kind}");
        }
    }
}

//! Anlagen: files attached to a resource, streamed into the store (local disk here), hashed, checked by their magic
//! bytes, listed, downloaded and deleted as their owner's visibility and state allow.

use crate::helpers::*;
use crate::payment_requests::ok;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A minimal PDF: the magic bytes are what the check reads.
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn draft(app: &TestApp) -> String {
    let body = json!({"fundingLine": "GK", "title": "Gesundheitskoordination", "description": "Aufbau.",
        "startDate": "2027-01-01", "endDate": "2027-12-31"});
    let a = ok(
        app.post("/api/v1/applications", Some(&municipality()), &body).await,
        201,
    )
    .await;
    a["id"].as_str().unwrap().to_owned()
}

async fn raw(app: &TestApp, path: &str, token: &str, media_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Content-Type", media_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn multipart(app: &TestApp, path: &str, token: &str, form: reqwest::multipart::Form) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Files (not directories) anywhere under `dir`.
fn stored_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| if e.path().is_dir() { stored_files(&e.path()) } else { 1 })
            .sum()
    })
}

#[actix_web::test]
async fn a_file_is_uploaded_raw_or_as_a_form_listed_downloaded_and_deleted_by_its_uploader() {
    let app = TestApp::spawn().await;
    let a = draft(&app).await;
    let path = format!("/api/v1/applications/{a}/attachments");

    // Raw: the body is the file; name and category in the query.
    let res = raw(
        &app,
        &format!("{path}?category=kostenplan&fileName=..%2F..%2FKostenplan%202027.pdf"),
        &municipality(),
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let k: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/attachments/{}", k["id"].as_str().unwrap()));
    assert_eq!(
        (
            &k["fileName"],
            &k["mediaType"],
            &k["sizeBytes"],
            &k["category"],
            &k["scanState"]
        ),
        (
            &json!("Kostenplan 2027.pdf"),
            &json!("application/pdf"),
            &json!(PDF.len()),
            &json!("kostenplan"),
            &json!("not_scanned")
        )
    );
    assert_eq!(k["sha256"], hex::encode(Sha256::digest(PDF)));

    // Multipart, as a browser sends it.
    let csv = b"Jahr;Betrag\n2027;45000\n".to_vec();
    let form = reqwest::multipart::Form::new().text("category", "konzept").part(
        "file",
        reqwest::multipart::Part::bytes(csv.clone())
            .file_name("Konzept.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let c = ok(multipart(&app, &path, &municipality(), form).await, 201).await;
    assert_eq!(
        (&c["fileName"], &c["mediaType"]),
        (&json!("Konzept.csv"), &json!("text/csv"))
    );

    // The ministry adds an internal note the municipality never sees.
    let i = ok(
        raw(
            &app,
            &format!("{path}?category=sonstiges&fileName=Vermerk.txt&internal=true"),
            &ministry(),
            "text/plain",
            b"Interner Vermerk".to_vec(),
        )
        .await,
        201,
    )
    .await;
    let list = |token: String| {
        let app = &app;
        let path = path.clone();
        async move {
            let l: Value = app.get(&path, Some(&token)).await.json().await.unwrap();
            l["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["fileName"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(municipality()).await, vec!["Kostenplan 2027.pdf", "Konzept.csv"]);
    assert_eq!(
        list(ministry()).await,
        vec!["Kostenplan 2027.pdf", "Konzept.csv", "Vermerk.txt"]
    );
    let internal = format!("/api/v1/attachments/{}", i["id"].as_str().unwrap());
    assert_eq!(app.get(&internal, Some(&municipality())).await.status(), 404);
    // Another municipality sees neither the application nor its files.
    let other = token("municipality", Some("06535"));
    assert_eq!(app.get(&path, Some(&other)).await.status(), 404);
    assert_eq!(app.get(&location, Some(&other)).await.status(), 404);

    // The download: the stored type, as an attachment, not to be sniffed, byte for byte.
    let res = app.get(&format!("{location}/content"), Some(&municipality())).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"Kostenplan 2027.pdf\"; filename*=UTF-8''Kostenplan%202027.pdf"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    // Only the uploader deletes, and only while the application is a draft.
    let k_id = k["id"].as_str().unwrap().to_owned();
    assert_eq!(
        problem(
            app.client
                .delete(app.url(&location))
                .bearer_auth(ministry())
                .send()
                .await
                .unwrap(),
            409
        )
        .await["code"],
        "retained"
    );
    let res = app
        .client
        .delete(app.url(&location))
        .bearer_auth(municipality())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get(&location, Some(&municipality())).await.status(), 404);
    assert_eq!(
        app.get(&format!("/api/v1/attachments/{k_id}/history"), Some(&ministry()))
            .await
            .status(),
        404,
        "a deleted attachment is gone; its history entries stay in the table"
    );
    assert_eq!(app.db_count("attachments").await, 2);
    let feed: Value = app
        .get("/api/v1/events?after=0&limit=200", Some(&municipality()))
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resourceKind"] == "attachment")
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec!["attachment.added", "attachment.added", "attachment.deleted"],
        "no internal event"
    );
}

#[actix_web::test]
async fn forged_oversized_empty_and_misplaced_uploads_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let app = TestApp::spawn_with(move |a| {
        a.attachments.attachment_dir = Some(data.join("attachments"));
        a.attachments.attachment_max_bytes = 64 * 1024;
        a.attachments.attachment_max_total_bytes = 100 * 1024;
    })
    .await;
    let a = draft(&app).await;
    let path = format!("/api/v1/applications/{a}/attachments");
    let q = |category: &str| format!("{path}?category={category}&fileName=x.pdf");
    // An executable declared as PDF, a PNG declared as PDF: the magic bytes decide.
    for (body, found) in [
        (b"MZ\x90\0\x03\0\0\0\x04\0".to_vec(), "unknown"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "image/png"),
    ] {
        let p = problem(
            raw(&app, &q("kostenplan"), &municipality(), "application/pdf", body).await,
            422,
        )
        .await;
        assert_eq!(p["errors"][0]["code"], "media_type_mismatch");
        assert!(p["errors"][0]["message"].as_str().unwrap().contains(found), "{p}");
    }
    // A type not allowed at all; an empty file; a file above the limit.
    assert_eq!(
        raw(
            &app,
            &q("kostenplan"),
            &municipality(),
            "application/x-msdownload",
            b"MZ".to_vec()
        )
        .await
        .status(),
        415
    );
    let p = problem(
        raw(&app, &q("kostenplan"), &municipality(), "application/pdf", Vec::new()).await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "empty");
    let mut big = PDF.to_vec();
    big.resize(65 * 1024, b' ');
    assert_eq!(
        raw(&app, &q("kostenplan"), &municipality(), "application/pdf", big)
            .await
            .status(),
        413
    );
    // Unknown category, internal from a municipality, a receipt line outside a proof of use: every field named.
    let p = problem(
        raw(
            &app,
            &format!("{path}?category=geheim&fileName=x.pdf&internal=true&receiptIndex=1"),
            &municipality(),
            "application/pdf",
            PDF.to_vec(),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/category", "/internal", "/receiptIndex"]);
    // A raw upload without a file name; a form without a file; a truncated form.
    let p = problem(
        raw(
            &app,
            &format!("{path}?category=kostenplan"),
            &municipality(),
            "application/pdf",
            PDF.to_vec(),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/query/fileName"]);
    let form = reqwest::multipart::Form::new().text("category", "konzept");
    let p = problem(multipart(&app, &path, &municipality(), form).await, 422).await;
    assert_eq!(pointers(&p), vec!["/file"]);
    let truncated = app
        .client
        .post(app.url(&path))
        .bearer_auth(municipality())
        .header("Content-Type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 abgebrochen")
        .send()
        .await
        .unwrap();
    assert_eq!(truncated.status(), 400);
    // The service unit reads only.
    assert_eq!(
        raw(&app, &q("kostenplan"), &service_unit(), "application/pdf", PDF.to_vec())
            .await
            .status(),
        403
    );
    assert_eq!(app.db_count("attachments").await, 0);
    assert_eq!(stored_files(dir.path()), 0, "nothing stays in the store");

    // The sum per resource: two of 40 KiB fit in 100 KiB, the third does not.
    let mut forty = PDF.to_vec();
    forty.resize(40 * 1024, b' ');
    for _ in 0..2 {
        assert_eq!(
            raw(
                &app,
                &q("kostenplan"),
                &municipality(),
                "application/pdf",
                forty.clone()
            )
            .await
            .status(),
            201
        );
    }
    assert_eq!(
        raw(&app, &q("kostenplan"), &municipality(), "application/pdf", forty)
            .await
            .status(),
        413
    );
    assert_eq!(app.db_count("attachments").await, 2);
    assert_eq!(stored_files(dir.path()), 2);

    // Submitted, the application takes no more files from the municipality.
    let full = json!({"description": "Aufbau einer kommunalen Gesundheitsstrategie.",
        "financingPlan": {"totalCostsCents": 5_000_000, "ownFundsCents": 1_000_000, "thirdPartyFundsCents": 0,
            "requestedCents": 4_000_000},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}});
    let res = app
        .patch(
            &format!("/api/v1/applications/{a}"),
            Some(&municipality()),
            Some("\"1\""),
            &full,
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    ok(
        app.post(
            &format!("/api/v1/applications/{a}/submit"),
            Some(&municipality()),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    let p = problem(
        raw(&app, &q("konzept"), &municipality(), "application/pdf", PDF.to_vec()).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "attachments_closed");
}

/// A funding line may require documents before submitting: one `required` error per missing category, like the
/// other submission rules; a file the scanner found infected would not count.
#[actix_web::test]
async fn a_funding_line_names_the_documents_an_application_needs_before_it_is_submitted() {
    let app = TestApp::spawn().await;
    let line = app.get("/api/v1/funding-lines/GK", Some(&ministry())).await;
    let version = line.headers()["etag"].to_str().unwrap().to_owned();
    let patched = app
        .patch(
            "/api/v1/funding-lines/GK",
            Some(&ministry()),
            Some(&version),
            &json!({"requiredAttachments": ["kostenplan", "konzept"]}),
        )
        .await;
    assert_eq!(patched.status(), 200, "{:?}", patched.text().await);
    let body = json!({
        "fundingLine": "GK", "title": "Gesundheitskoordination Werra-Meißner-Kreis",
        "description": "Aufbau einer kommunalen Gesundheitsstrategie.",
        "startDate": "2027-01-01", "endDate": "2031-12-31",
        "financingPlan": {"totalCostsCents": 25_000_000, "ownFundsCents": 2_500_000, "thirdPartyFundsCents": 0,
            "requestedCents": 22_500_000},
        "contact": {"name": "Anna Schmidt", "email": "anna.schmidt@werra-meissner-kreis.de", "phone": "+49 5651 302-0"}
    });
    let a = ok(
        app.post("/api/v1/applications", Some(&municipality()), &body).await,
        201,
    )
    .await;
    let a = a["id"].as_str().unwrap().to_owned();
    let submit_path = format!("/api/v1/applications/{a}/submit");
    let token = municipality();
    let empty = json!({});
    let submit = || app.post(&submit_path, Some(&token), &empty);
    let p = problem(submit().await, 422).await;
    assert_eq!(pointers(&p), vec!["/attachments/konzept", "/attachments/kostenplan"]);
    let attach = |category: &'static str| {
        app.client
            .post(app.url(&format!(
                "/api/v1/applications/{a}/attachments?category={category}&fileName={category}.pdf"
            )))
            .bearer_auth(municipality())
            .header("Content-Type", "application/pdf")
            .body(PDF)
            .send()
    };
    assert_eq!(attach("kostenplan").await.unwrap().status(), 201);
    let p = problem(submit().await, 422).await;
    assert_eq!(pointers(&p), vec!["/attachments/konzept"]);
    assert_eq!(attach("konzept").await.unwrap().status(), 201);
    ok(submit().await, 200).await;
}

/// Minutes of a committee's meeting, a referral's documents and a coordinator's personal documents: who adds them,
/// who reads them, and that erasing the person deletes their files (content included) and the file names from the
/// feed.
#[actix_web::test]
async fn meetings_referrals_and_coordinators_take_files_and_erasure_removes_a_persons() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let store = data.join("attachments");
    let app = TestApp::spawn_with(move |a| a.attachments.attachment_dir = Some(data.join("attachments"))).await;
    let pdf = |name: &str| format!("category=protokoll&fileName={name}");

    // A meeting's minutes: kept by staff, read by every role; an internal note only by staff.
    let body = json!({"name": "AG Telemedizin", "kind": "working_group", "owningBody": "Serviceeinheit Gesundheitsversorgung",
        "topics": ["telemedizin"], "coverage": {"scope": "districts", "districts": ["06535", "06631"]}});
    let c = ok(app.post("/api/v1/committees", Some(&service_unit()), &body).await, 201).await;
    let meeting = json!({"date": "2027-03-10", "title": "Sitzung 1/2027", "agenda": [{"title": "Begrüßung"}]});
    let m = ok(
        app.post(
            &format!("/api/v1/committees/{}/meetings", c["id"].as_str().unwrap()),
            Some(&service_unit()),
            &meeting,
        )
        .await,
        201,
    )
    .await;
    let files = format!("/api/v1/meetings/{}/attachments", m["id"].as_str().unwrap());
    let minutes = ok(
        raw(
            &app,
            &format!("{files}?{}", pdf("Protokoll.pdf")),
            &service_unit(),
            "application/pdf",
            PDF.to_vec(),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (&minutes["ownerKind"], &minutes["category"]),
        (&json!("committee_meeting"), &json!("protokoll"))
    );
    let note = format!("{files}?category=sonstiges&fileName=Vermerk.txt&internal=true");
    ok(
        raw(&app, &note, &ministry(), "text/plain", b"intern".to_vec()).await,
        201,
    )
    .await;
    assert_eq!(
        raw(
            &app,
            &format!("{files}?{}", pdf("x.pdf")),
            &municipality(),
            "application/pdf",
            PDF.to_vec()
        )
        .await
        .status(),
        403
    );
    let seen: Value = app.get(&files, Some(&municipality())).await.json().await.unwrap();
    assert_eq!(
        seen["items"].as_array().unwrap().len(),
        1,
        "the municipality sees the minutes, not the internal note"
    );
    let unknown = format!("/api/v1/meetings/{}/attachments", uuid::Uuid::now_v7());
    assert_eq!(app.get(&unknown, Some(&service_unit())).await.status(), 404);
    // Deleting the committee deletes its meetings' files, content included.
    assert_eq!(stored_files(&store), 2);
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/committees/{}", c["id"].as_str().unwrap())))
        .bearer_auth(service_unit())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!((stored_files(&store), app.db_count("attachments").await), (0, 0));

    // A referral: its origin adds documents while it is open; another district does not see it; staff answer.
    let vogelsberg = token("municipality", Some("06535"));
    let r = ok(
        app.post(
            "/api/v1/referrals",
            Some(&vogelsberg),
            &json!({"direction": "region_to_committee",
            "subject": "Telemedizinische Fallkonferenzen", "description": "Regelmäßige Fallkonferenzen.",
            "topics": ["telemedizin"]}),
        )
        .await,
        201,
    )
    .await;
    let id = r["id"].as_str().unwrap().to_owned();
    let files = format!("/api/v1/referrals/{id}/attachments");
    let concept = format!("{files}?category=anlage&fileName=Konzept.pdf");
    ok(
        raw(&app, &concept, &vogelsberg, "application/pdf", PDF.to_vec()).await,
        201,
    )
    .await;
    assert_eq!(
        raw(&app, &concept, &municipality(), "application/pdf", PDF.to_vec())
            .await
            .status(),
        404
    );
    let answer = format!("{files}?category=stellungnahme&fileName=Stellungnahme.pdf");
    ok(
        raw(&app, &answer, &service_unit(), "application/pdf", PDF.to_vec()).await,
        201,
    )
    .await;
    ok(
        app.post(
            &format!("/api/v1/referrals/{id}/decline"),
            Some(&service_unit()),
            &json!({"reason": "Kein Bedarf."}),
        )
        .await,
        200,
    )
    .await;
    let p = problem(
        raw(&app, &concept, &vogelsberg, "application/pdf", PDF.to_vec()).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "attachments_closed");
    let seen: Value = app.get(&files, Some(&vogelsberg)).await.json().await.unwrap();
    assert_eq!(seen["items"].as_array().unwrap().len(), 2);

    // A coordinator's documents: staff only, always internal.
    let jana = json!({"name": "Jana Hoffmann", "email": "jana.hoffmann@vogelsbergkreis.example",
        "district": "06535", "employer": "06535", "fteBasisPoints": 7500, "startDate": "2027-01-01"});
    let person = ok(
        app.post("/api/v1/coordinators", Some(&service_unit()), &jana).await,
        201,
    )
    .await;
    let person = person["id"].as_str().unwrap().to_owned();
    let files = format!("/api/v1/coordinators/{person}/attachments");
    let cv = format!("{files}?category=qualifikation&fileName=Zeugnis%20Jana%20Hoffmann.pdf");
    let doc = ok(
        raw(&app, &cv, &service_unit(), "application/pdf", PDF.to_vec()).await,
        201,
    )
    .await;
    assert_eq!(doc["internal"], true);
    assert_eq!(
        raw(&app, &cv, &vogelsberg, "application/pdf", PDF.to_vec())
            .await
            .status(),
        403
    );
    assert_eq!(app.get(&files, Some(&vogelsberg)).await.status(), 403);
    let before = stored_files(&store);

    // Erasure: the person's file goes, content and record; the feed keeps no file name.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/coordinators/{person}")))
        .bearer_auth(service_unit())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(stored_files(&store), before - 1);
    let listed: Value = app.get(&files, Some(&service_unit())).await.json().await.unwrap();
    assert_eq!(listed["items"], json!([]));
    let p = problem(
        raw(&app, &cv, &service_unit(), "application/pdf", PDF.to_vec()).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "attachments_closed");
    let feed: Value = app
        .get("/api/v1/events?limit=500", Some(&service_unit()))
        .await
        .json()
        .await
        .unwrap();
    let about: Vec<&Value> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resourceId"] == doc["id"])
        .collect();
    assert_eq!(about.len(), 2, "added and deleted");
    assert!(about.iter().all(|e| e["data"]["fileName"] == "erased"), "{about:?}");
    assert!(!feed.to_string().contains("Zeugnis"));
}

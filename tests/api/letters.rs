//! The grant notice as a letter: PDF/A-2b with embedded fonts, holding the amounts, dates and the three sections,
//! kept when the notice is issued (its SHA-256 in the `issue` history entry) and served byte for byte; a draft is a
//! preview marked ENTWURF that only staff see. Checked with poppler's pdftotext, pdffonts and pdfinfo.

use crate::helpers::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A poppler tool's output for `pdf`.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new(tool)
        .args(args)
        .arg(&path)
        .args(if tool == "pdftotext" { &["-"][..] } else { &[][..] })
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian's poppler-utils) must be installed: {e}"));
    assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// pdftotext's text with runs of blanks made one (layout columns).
fn text_of(pdf: &[u8]) -> String {
    poppler("pdftotext", &["-layout", "-enc", "UTF-8"], pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn pdf(app: &TestApp, notice: &str, token: &str) -> reqwest::Response {
    app.get_accepting(
        &format!("/api/v1/grant-notices/{notice}"),
        Some(token),
        "application/pdf",
    )
    .await
}

#[actix_web::test]
async fn the_issued_notice_is_a_pdf_a_letter_kept_with_its_sha256() {
    let app = TestApp::spawn().await;
    // The recipient's postal address for the address field.
    let res = app
        .patch(
            "/api/v1/organisations/06636",
            Some(&service_unit()),
            Some("*"),
            &json!({"postalAddress": {"street": "Schloßplatz 1", "postalCode": "37269", "city": "Eschwege"}}),
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let notice = crate::payment_requests::drafted_notice(&app).await;

    // A draft: staff see a preview marked ENTWURF; the recipient does not see the notice at all.
    let res = pdf(&app, &notice, &ministry()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.headers()["vary"].to_str().unwrap().starts_with("Accept"));
    let preview = res.bytes().await.unwrap();
    assert!(text_of(&preview).contains("ENTWURF"));
    assert_eq!(pdf(&app, &notice, &municipality()).await.status(), 404);
    // JSON stays the default, also for `*/*` and when JSON is preferred.
    for accept in ["*/*", "application/json", "application/pdf;q=0.5, application/json"] {
        let res = app
            .get_accepting(&format!("/api/v1/grant-notices/{notice}"), Some(&ministry()), accept)
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json", "{accept}");
    }

    // The ministry completes the terms (its own file number), then a second person issues it.
    let res = app
        .patch(
            &format!("/api/v1/grant-notices/{notice}"),
            Some(&ministry()),
            Some("*"),
            &json!({"fileNumber": "IV 5 - 18c 10/2026-0042", "lockInUntil": "2033-12-31",
                "excludedClauses": ["Nr. 1.4"], "conditions": ["Die Stelle ist bis zum 31.03.2027 zu besetzen."]}),
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let bad = app
        .patch(
            &format!("/api/v1/grant-notices/{notice}"),
            Some(&ministry()),
            Some("*"),
            &json!({"fileNumber": "../etc\u{202e}"}),
        )
        .await;
    assert_eq!(pointers(&problem(bad, 422).await), ["/fileNumber"]);
    // A term the notice cannot do without is not cleared; only the null one is named (schemathesis found both named).
    let cleared = app
        .patch(
            &format!("/api/v1/grant-notices/{notice}"),
            Some(&ministry()),
            Some("*"),
            &json!({"eligibleCostsCents": 629_742, "financingType": null}),
        )
        .await;
    let p = problem(cleared, 422).await;
    assert_eq!(
        (pointers(&p), &p["errors"][0]["code"]),
        (vec!["/financingType".to_owned()], &json!("not_null"))
    );
    let res = app
        .post(
            &format!("/api/v1/grant-notices/{notice}/issue"),
            Some(&second_reviewer()),
            &json!({"deliveredOn": "2026-11-20"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);

    // The recipient reads the letter; it is the one kept at issue, byte for byte.
    let res = pdf(&app, &notice, &municipality()).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let letter = res.bytes().await.unwrap().to_vec();
    let sha = hex::encode(Sha256::digest(&letter));
    let history: Value = app
        .get(
            &format!("/api/v1/grant-notices/{notice}/history"),
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    let issued = history
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "issue")
        .unwrap();
    assert_eq!(issued["document"]["sha256"], sha.as_str());
    let attachment_id = issued["document"]["attachmentId"].as_str().unwrap();
    let listed: Value = app
        .get(
            &format!("/api/v1/grant-notices/{notice}/attachments"),
            Some(&municipality()),
        )
        .await
        .json()
        .await
        .unwrap();
    let kept = &listed["items"][0];
    assert_eq!(kept["id"], attachment_id);
    assert_eq!(kept["category"], "bescheid");
    assert_eq!(kept["mediaType"], "application/pdf");
    assert_eq!(kept["sha256"], sha.as_str());
    let download = app
        .get(
            &format!("/api/v1/attachments/{attachment_id}/content"),
            Some(&municipality()),
        )
        .await;
    assert_eq!(download.bytes().await.unwrap().to_vec(), letter);
    assert_eq!(
        pdf(&app, &notice, &ministry()).await.bytes().await.unwrap().to_vec(),
        letter
    );
    // Kept for the retention period: not even its uploader deletes it.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/attachments/{attachment_id}")))
        .bearer_auth(second_reviewer())
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["code"], "retained");

    // What it says: letterhead, address, file number, date, the three sections with amounts and dates.
    let text = text_of(&letter);
    for expected in [
        "Hessisches Ministerium für Familie, Senioren, Sport, Gesundheit und Pflege",
        "Werra-Meißner-Kreis",
        "Schloßplatz 1",
        "37269 Eschwege",
        "Aktenzeichen IV 5 - 18c 10/2026-0042",
        "Datum 20.11.2026",
        "Zuwendungsbescheid",
        "I. Bewilligung",
        "vom 01.01.2027 bis 31.12.2028",
        "Zuwendung in Höhe von 80.000,00 € bewilligt",
        "Anteilsfinanzierung in Höhe von 80 % der zuwendungsfähigen Ausgaben von 100.000,00 €",
        "Haushaltsjahr 2027 40.000,00 €",
        "Haushaltsjahr 2028 40.000,00 €",
        "Summe 80.000,00 €",
        "bis zum 31.12.2033",
        "II. Nebenbestimmungen",
        "(ANBest-GK) sind Bestandteil dieses Bescheides",
        "finden keine Anwendung: Nr. 1.4",
        "Die Stelle ist bis zum 31.03.2027 zu besetzen.",
        "III. Rechtsbehelfsbelehrung",
        "innerhalb eines Monats nach seiner Bekanntgabe Widerspruch",
        "Seite 1 von",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert!(!text.contains("ENTWURF"));

    // PDF/A-2b: the identification in the XMP metadata, every font embedded.
    let meta = poppler("pdfinfo", &["-meta"], &letter);
    assert!(meta.contains("<pdfaid:part>2</pdfaid:part>"), "{meta}");
    assert!(meta.contains("<pdfaid:conformance>B</pdfaid:conformance>"), "{meta}");
    let info = poppler("pdfinfo", &[], &letter);
    assert!(info.contains("PDF version:     1.7"), "{info}");
    let fonts = poppler("pdffonts", &[], &letter);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert!(row.contains("LiberationSans"), "{row}");
        // name, type (two words), encoding, emb, sub, uni, object, generation
        assert_eq!(columns[columns.len() - 5], "yes", "not embedded: {row}");
    }

    // An amending notice is a letter of its own, naming the reason.
    let res = app
        .post(
            &format!("/api/v1/grant-notices/{notice}/amend"),
            Some(&ministry()),
            &json!({"reason": "Verlängerung des Projekts um ein Jahr."}),
        )
        .await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let amending: Value = res.json().await.unwrap();
    let amending = amending["id"].as_str().unwrap();
    // One file per grant: an amending notice keeps the number.
    let renumber = app
        .patch(
            &format!("/api/v1/grant-notices/{amending}"),
            Some(&ministry()),
            Some("*"),
            &json!({"fileNumber": "IV 5 - 99"}),
        )
        .await;
    assert_eq!(problem(renumber, 422).await["errors"][0]["code"], "not_allowed");
    let res = app
        .post(
            &format!("/api/v1/grant-notices/{amending}/issue"),
            Some(&second_reviewer()),
            &json!({"deliveredOn": today()}),
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let second = pdf(&app, amending, &municipality()).await.bytes().await.unwrap();
    let text = text_of(&second);
    assert!(text.contains("Änderungsbescheid (Bescheid Nr. 2)"), "{text}");
    assert!(
        text.contains("Grund der Änderung: Verlängerung des Projekts um ein Jahr."),
        "{text}"
    );
    assert!(
        text.contains("Aktenzeichen IV 5 - 18c 10/2026-0042"),
        "the grant's file number: {text}"
    );
    assert_eq!(app.db_count("attachments").await, 2);
}

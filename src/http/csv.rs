//! CSV for every list (`Accept: text/csv`): the same filters and visibility as the JSON list, every matching row,
//! streamed in keyset batches so that memory stays flat however many rows match.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use std::future::Future;

use crate::error::{ApiError, ApiResult};

/// Rows fetched per query while streaming.
pub const BATCH: i64 = 500;

/// Whether the client prefers CSV (RFC 9110 §12.5.1): each representation gets the quality of the most specific
/// media range that matches it (`text/csv` over `text/*` over `*/*`; no match is 0, "not acceptable"). CSV only when
/// its quality is above 0 and above JSON's (`application/json`, `application/*`, `*/*`); ties and a missing or
/// unreadable `Accept` go to JSON, the default representation.
pub fn wanted(req: &HttpRequest) -> bool {
    prefers(req, "text", "csv")
}

/// Whether the client prefers `type_/subtype` to JSON, by the rule [`wanted`] states for CSV (the grant notice's
/// letter: `application/pdf`).
pub fn prefers(req: &HttpRequest, type_: &str, subtype: &str) -> bool {
    use actix_web::http::header::Header;
    let Ok(accept) = header::Accept::parse(req) else {
        return false;
    };
    let wanted = quality(&accept, type_, subtype);
    wanted > header::Quality::ZERO && wanted > quality(&accept, "application", "json")
}

/// The quality the client gives `type_/subtype`: that of the most specific matching range (the first among equally
/// specific ones), zero when none matches.
fn quality(accept: &header::Accept, type_: &str, subtype: &str) -> header::Quality {
    accept
        .iter()
        .filter_map(|range| {
            let (t, s) = (range.item.type_().as_str(), range.item.subtype().as_str());
            let specificity = match (t, s) {
                ("*", "*") => 0,
                (t, "*") if t.eq_ignore_ascii_case(type_) => 1,
                (t, s) if t.eq_ignore_ascii_case(type_) && s.eq_ignore_ascii_case(subtype) => 2,
                _ => return None,
            };
            Some((specificity, range.quality))
        })
        .fold(None, |best: Option<(u8, header::Quality)>, (spec, q)| match best {
            Some((b, _)) if b >= spec => best,
            _ => Some((spec, q)),
        })
        .map_or(header::Quality::ZERO, |(_, q)| q)
}

/// One cell: RFC 4180 quoting; a value a spreadsheet would run as a formula is prefixed with `'` (CSV injection).
pub fn cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// An optional value as a cell.
pub fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| cell(&x.to_string())).unwrap_or_default()
}

/// Joins cells into one line.
pub fn line(cells: &[String]) -> String {
    let mut line = cells.join(",");
    line.push('\n');
    line
}

struct State<F, K> {
    fetch: F,
    after: Option<K>,
    header: Option<&'static str>,
    done: bool,
}

/// Streams `header`, then every row that `fetch` returns batch by batch (each call gets the key of the last row so
/// far and returns up to [`BATCH`] rows with their keys).
pub fn stream<T, K, F, Fut>(filename: &str, header: &'static str, fetch: F, render: fn(&T) -> String) -> HttpResponse
where
    T: 'static,
    K: Clone + 'static,
    F: FnMut(Option<K>) -> Fut + 'static,
    Fut: Future<Output = ApiResult<Vec<(T, K)>>> + 'static,
{
    let start = State {
        fetch,
        after: None,
        header: Some(header),
        done: false,
    };
    let body = futures_util::stream::unfold(start, move |mut st| async move {
        if st.done {
            return None;
        }
        if let Some(h) = st.header.take() {
            return Some((Ok::<_, ApiError>(Bytes::from_static(h.as_bytes())), st));
        }
        match (st.fetch)(st.after.clone()).await {
            Ok(rows) => {
                st.done = (rows.len() as i64) < BATCH;
                st.after = rows.last().map(|(_, k)| k.clone());
                let chunk: String = rows.iter().map(|(row, _)| render(row)).collect();
                Some((Ok(Bytes::from(chunk)), st))
            }
            Err(e) => {
                // The status line is sent already; a truncated body and the log line are all that can be done.
                log::error!("CSV export failed: {e}");
                st.done = true;
                Some((Err(e), st))
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

/// A CSV answer computed whole (a small, bounded list), with the same headers as a streamed one.
pub fn whole(filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::{cell, wanted};
    use actix_web::test::TestRequest;

    fn csv_for(accept: &str) -> bool {
        wanted(
            &TestRequest::default()
                .insert_header(("accept", accept))
                .to_http_request(),
        )
    }

    #[test]
    fn negotiation_honours_quality_values() {
        for (accept, csv) in [
            ("text/csv", true),
            ("text/csv; charset=utf-8", true),
            ("TEXT/CSV", true),
            ("text/*", true),
            ("text/csv, application/json", false),
            ("application/json, text/csv", false),
            ("application/json, text/csv;q=0.1", false),
            ("text/csv;q=0", false),
            ("text/csv;q=0, */*", false),
            ("text/csv;q=0.9, application/json;q=0.5", true),
            ("text/csv, */*;q=0.1", true),
            ("text/csv;q=0.5, */*", false),
            ("text/csv;q=0.5, application/*;q=0.4", true),
            ("text/*;q=0.5, text/csv;q=0", false),
            ("text/csv;q=0.8, text/*;q=0.1, application/json;q=0.5", true),
            ("*/*", false),
            ("application/json", false),
            ("text/html", false),
            ("garbage", false),
            ("", false),
        ] {
            assert_eq!(csv_for(accept), csv, "Accept: {accept}");
        }
        assert!(!wanted(&TestRequest::default().to_http_request()));
    }

    #[test]
    fn escaping() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("-1,5"), "\"'-1,5\"");
    }
}

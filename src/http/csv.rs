//! CSV for every list (`Accept: text/csv`): the same filters and visibility as the JSON list, every matching row,
//! streamed in keyset batches so that memory stays flat however many rows match.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use std::future::Future;

use crate::error::{ApiError, ApiResult};

/// Rows fetched per query while streaming.
pub const BATCH: i64 = 500;

/// Whether the client asked for CSV.
pub fn wanted(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("text/csv")))
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

#[cfg(test)]
mod tests {
    use super::cell;

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

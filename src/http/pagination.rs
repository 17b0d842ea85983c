//! Keyset pagination shared by every list: `?limit=` (1–200, default 50), an opaque `?cursor=` and
//! `?includeTotal=true`. A cursor carries the sort it was issued for and the sort key of the last item returned, so
//! that page 10,000 costs what page 1 costs and new rows never shift a reader's position.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, FieldError, MessageParams};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
pub use crate::core::types::MAX_UNPAGED;
/// The longest cursor the service issues or accepts. A cursor holds the sort key of an item, which may be a title of
/// 200 characters of up to four bytes each: base64 of that JSON stays below 1,300 characters.
pub const MAX_CURSOR_CHARS: usize = 2048;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[schema(max_items = 200)]
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(max_length = 2048)]
    pub next_cursor: Option<String>,
    /// Number of all matching items; only with `includeTotal=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 9223372036854775807i64)]
    pub total: Option<i64>,
}

/// The validated paging parameters of one request.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub limit: i64,
    /// The sort key of the last item of the previous page.
    pub after: Option<K>,
    pub include_total: bool,
}

#[derive(Serialize, Deserialize)]
struct CursorData<K> {
    /// Which list and sort order the cursor belongs to.
    s: String,
    /// The key after which the next page starts.
    k: K,
}

impl<K: Serialize + DeserializeOwned> PageRequest<K> {
    /// Validates `limit` and decodes `cursor`, which must have been issued for the same `sort` (a list name plus
    /// its sort order, e.g. `funding-lines:code`).
    pub fn parse(limit: Option<i64>, cursor: Option<&str>, include_total: Option<bool>, sort: &str) -> ApiResult<Self> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "/query/limit",
                "out_of_range",
                MessageParams::range(1, MAX_LIMIT),
            ));
        }
        let after = match cursor {
            None => None,
            Some(c) => match decode::<K>(c, sort) {
                Some(k) => Some(k),
                None => {
                    errors.push(FieldError::new(
                        "/query/cursor",
                        "invalid_cursor",
                        MessageParams::default(),
                    ));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(ApiError::BadRequest(errors));
        }
        Ok(Self {
            limit,
            after,
            include_total: include_total.unwrap_or(false),
        })
    }

    /// Builds the page from `limit + 1` fetched rows: the extra row only tells whether there is a next page.
    pub fn page<R, T>(
        &self,
        mut rows: Vec<R>,
        sort: &str,
        key: impl Fn(&R) -> K,
        map: impl FnMut(R) -> T,
        total: Option<i64>,
    ) -> Page<T> {
        let has_more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit.max(0) as usize);
        let next_cursor = if has_more {
            rows.last().map(|r| encode(sort, &key(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
            total,
        }
    }
}

fn encode<K: Serialize>(sort: &str, key: &K) -> String {
    let data = CursorData {
        s: sort.to_owned(),
        k: key,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
}

fn decode<K: DeserializeOwned>(cursor: &str, sort: &str) -> Option<K> {
    if cursor.len() > MAX_CURSOR_CHARS {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let data: CursorData<K> = serde_json::from_slice(&bytes).ok()?;
    (data.s == sort).then_some(data.k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_sort_binding() {
        let c = encode("x:code", &"GK".to_owned());
        assert_eq!(decode::<String>(&c, "x:code").as_deref(), Some("GK"));
        assert!(decode::<String>(&c, "x:title").is_none());
        assert!(decode::<String>("not-base64!", "x:code").is_none());
    }

    #[test]
    fn the_longest_sort_key_gives_a_cursor_the_service_accepts() {
        // A title of 200 four-byte characters, with the longest sort name and an id.
        let key = (
            "\u{1F600}".repeat(200),
            "0193a6a4-8d2e-7c41-9a57-52f3e2d0b8a1".to_owned(),
        );
        let c = encode("applications:-submittedAt", &key);
        assert!(c.len() <= MAX_CURSOR_CHARS, "{}", c.len());
        assert_eq!(decode::<(String, String)>(&c, "applications:-submittedAt"), Some(key));
    }

    #[test]
    fn limits_are_checked() {
        assert!(PageRequest::<String>::parse(Some(0), None, None, "s").is_err());
        assert!(PageRequest::<String>::parse(Some(201), None, None, "s").is_err());
        assert!(PageRequest::<String>::parse(Some(200), None, None, "s").is_ok());
    }
}

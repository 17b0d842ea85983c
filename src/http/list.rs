//! The one list flow of every collection: a keyset page as JSON (with the total on request) or, with
//! `Accept: text/csv`, every match streamed in batches. A resource states what it lists in a [`Listing`]; its
//! handler keeps the OpenAPI annotation and the role-independent query parsing.

use actix_web::{HttpRequest, HttpResponse};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::identity::Caller;
use crate::error::ApiResult;
use crate::http::csv;
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

/// What a collection lists: its query, item and page key, its CSV form, and the store's page and count.
// The futures run on actix's single-threaded runtime and are never sent between threads, so the missing `Send`
// bound that the lint warns about is not needed.
#[allow(async_fn_in_trait)]
pub trait Listing: 'static {
    type Query: 'static;
    type Item: Serialize + 'static;
    type Key: Serialize + DeserializeOwned + Clone + 'static;
    /// The list and its sort order, signed into each cursor (e.g. `proofs-of-use:id`).
    const SORT: &'static str;
    const CSV_FILE: &'static str;
    const CSV_HEADER: &'static str;

    fn csv_row(item: &Self::Item) -> String;

    /// Up to `limit` visible items after `after`, each with its key.
    async fn page(
        conn: &mut AsyncPgConnection,
        caller: &Caller,
        q: &Self::Query,
        after: Option<Self::Key>,
        limit: i64,
    ) -> ApiResult<Vec<(Self::Item, Self::Key)>>;

    /// How many items match (for `includeTotal`).
    async fn count(conn: &mut AsyncPgConnection, caller: &Caller, q: &Self::Query) -> ApiResult<i64>;
}

/// Answers a list request: the page asked for (`paging`, parsed by the handler from the query), or the CSV export.
pub async fn respond<L: Listing>(
    state: &AppState,
    req: &HttpRequest,
    caller: Caller,
    q: L::Query,
    paging: PageRequest<L::Key>,
) -> ApiResult<HttpResponse> {
    if csv::wanted(req) {
        let pool = state.pool.clone();
        let q = std::rc::Rc::new(q);
        let fetch = move |after: Option<L::Key>| {
            let (pool, caller, q) = (pool.clone(), caller.clone(), q.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                L::page(&mut conn, &caller, &q, after, csv::BATCH).await
            }
        };
        return Ok(csv::stream(L::CSV_FILE, L::CSV_HEADER, fetch, L::csv_row));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = L::page(&mut conn, &caller, &q, paging.after.clone(), paging.limit + 1).await?;
    let total = if paging.include_total {
        Some(L::count(&mut conn, &caller, &q).await?)
    } else {
        None
    };
    let result: Page<L::Item> = paging.page(rows, L::SORT, |(_, k)| k.clone(), |(item, _)| item, total);
    Ok(HttpResponse::Ok().json(result))
}

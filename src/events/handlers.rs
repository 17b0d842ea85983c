//! `GET /events`: parse the cursor and filters, number what has committed, read what the caller may see.

use actix_web::{HttpResponse, get, web};

use super::model::{EventPage, FeedQuery, SubjectQuery};
use super::store;
use crate::audit::outbox;
use crate::core::identity::Caller;
use crate::error::{ApiError, ApiResult, FieldError, MessageParams};
use crate::http::extract::Query;
use crate::state::AppState;

/// Follow the change feed
///
/// Every change the caller may see, in position order: created, changed, each transition, comments, erasures.
/// Positions are strictly increasing and gap-free for a reader: a client that stores the last position and asks
/// for `after=` it again never misses an event, even while many transactions commit concurrently. Visibility is the
/// resources' own: a municipality gets its organisation's and its district's events (never internal comments, and
/// coordinators' contact data only within its district). `topic`, `district` and `committee` follow what the events
/// are about, e.g. everything about Telemedizin in one district: `?topic=telemedizin&district=06535`.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Events",
    params(FeedQuery),
    responses(
        (status = 200, description = "The next events", body = EventPage),
    ),
    security(("bearerAuth" = []))
)]
#[get("/events")]
pub(super) async fn feed(
    state: web::Data<AppState>,
    caller: Caller,
    Query(q): Query<FeedQuery>,
) -> ApiResult<HttpResponse> {
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(100);
    let mut errors = Vec::new();
    if after < 0 {
        errors.push(FieldError::new("/query/after", "out_of_range", MessageParams::min(0)));
    }
    if !(1..=1000).contains(&limit) {
        errors.push(FieldError::new(
            "/query/limit",
            "out_of_range",
            MessageParams::range(1, 1000),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(errors));
    }
    let types: Vec<String> = q
        .types
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let mut conn = crate::db::conn(&state.pool).await?;
    // Number what has committed so far, so that a reader sees its own writes at once; but look first, without the
    // lock: when no committed event lacks a position, there is nothing to wait for, and readers need not queue
    // behind each other on the sequencer's lock (docs/performance.md, F4). An event numbered by a transaction still
    // in flight still shows as unnumbered here, so the reader then waits for that transaction as before.
    if outbox::unsequenced_exist(&mut conn).await? {
        outbox::sequence(&mut conn, true).await?;
    }
    let about = SubjectQuery {
        topics: q.topic.into_iter().collect(),
        districts: q.district.into_iter().collect(),
        committees: q.committee.into_iter().collect(),
    };
    let items = store::read(&mut conn, &caller, after, &types, &about, limit).await?;
    let next_cursor = items.last().map_or(after, |e| e.position);
    Ok(HttpResponse::Ok().json(EventPage { items, next_cursor }))
}

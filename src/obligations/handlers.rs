//! The obligations handler: the caller's open duties, soonest first.

use actix_web::{HttpRequest, HttpResponse, get, web};

use super::model::{ListObligations, Obligation};
use super::store::{self, Key};
use crate::core::identity::Caller;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageRequest};
use crate::state::AppState;

const SORT: &str = "obligations:dueOn";

/// List open duties (Fristen)
///
/// Every open duty with its due date, soonest first: proofs of use to submit, payment requests waiting for the
/// ministry's sign-off (due when the first expense they pay for falls due), the last day to object to an issued
/// notice, the hearing and repayment of recovery claims, decisions on change requests and early starts, the action
/// items of committee meetings (`party` `municipality`, `committee` or `service_unit`) and the review dates of
/// published knowledge entries (the service unit's). `state` says whether it is `open`, `due_soon` (within the longest reminder lead time) or `overdue`;
/// filterable by duty, party, due date and overdue. A municipality sees its own organisation's duties.
/// `Accept: text/csv` exports every match. Reminders arrive in the feed as `obligation.due_soon` and
/// `obligation.overdue`.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Obligations",
    params(ListObligations),
    responses(
        (status = 200, description = "One page of duties, or all of them as CSV",
            content((Page<Obligation> = "application/json"), (String = "text/csv"))),
    ),
    security(("bearerAuth" = []))
)]
#[get("/obligations")]
pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    Query(q): Query<ListObligations>,
) -> ApiResult<HttpResponse> {
    let paging = PageRequest::<Key>::parse(q.limit, q.cursor.as_deref(), q.include_total, SORT)?;
    let soon = state.reminders.widest_lead();
    if crate::http::csv::wanted(&req) {
        let pool = state.pool.clone();
        let q = std::rc::Rc::new(q);
        let fetch = move |after: Option<Key>| {
            let (pool, caller, q) = (pool.clone(), caller.clone(), q.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                store::page(&mut conn, &caller, &q, after, crate::http::csv::BATCH, soon).await
            }
        };
        return Ok(crate::http::csv::stream("obligations.csv", CSV_HEADER, fetch, csv_row));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    let rows = store::page(&mut conn, &caller, &q, paging.after.clone(), paging.limit + 1, soon).await?;
    let total = if paging.include_total {
        Some(store::count(&mut conn, &caller, &q).await?)
    } else {
        None
    };
    let result: Page<Obligation> = paging.page(rows, SORT, |(_, k)| k.clone(), |(o, _)| o, total);
    Ok(HttpResponse::Ok().json(result))
}

const CSV_HEADER: &str = "duty,resourceKind,resourceId,organisationId,district,party,dueOn,daysLeft,state\n";

fn csv_row(o: &Obligation) -> String {
    crate::http::csv::line(&[
        o.duty.as_str().to_owned(),
        o.resource_kind.clone(),
        o.resource_id.to_string(),
        crate::http::csv::opt(&o.organisation_id),
        crate::http::csv::opt(&o.district),
        o.party.as_str().to_owned(),
        o.due_on.to_string(),
        o.days_left.to_string(),
        o.state.as_str().to_owned(),
    ])
}

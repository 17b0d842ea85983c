//! The webhook handlers: role gate (every role, each on its own subscriptions), parse, call the store, respond.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use uuid::Uuid;

use super::model::{Delivery, DeliveryQuery, NewWebhook, Webhook, check_url, event_type_errors, new_secret};
use super::store;
use crate::core::identity::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, Query};
use crate::http::idempotency::{self, Stored};
use crate::http::openapi::BadRequest;
use crate::http::pagination::Page;
use crate::state::AppState;

/// List webhooks
///
/// The caller's subscriptions: its organisation's (municipalities), or its role's (service unit, ministry).
/// `Accept: text/csv` exports all of them (never their secrets).
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Webhooks",
    responses(
        (status = 200, description = "The subscriptions, or all of them as CSV",
            content((Vec<Webhook> = "application/json"), (String = "text/csv"))),
        (status = 400, response = BadRequest),
    ),
    security(("bearerAuth" = []))
)]
#[get("/webhooks")]
async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    _: crate::http::extract::Query<crate::http::extract::NoParams>,
) -> ApiResult<HttpResponse> {
    if crate::http::csv::wanted(&req) {
        let (pool, caller) = (state.pool.clone(), std::rc::Rc::new(caller));
        let fetch = move |after: Option<Uuid>| {
            let (pool, caller) = (pool.clone(), caller.clone());
            async move {
                let mut conn = crate::db::conn(&pool).await?;
                let rows = store::list_after(&mut conn, &caller, after, crate::http::csv::BATCH).await?;
                Ok(rows
                    .into_iter()
                    .map(|w| {
                        let id = w.id;
                        (w, id)
                    })
                    .collect())
            }
        };
        return Ok(crate::http::csv::stream(
            "webhooks.csv",
            "id,url,eventTypes,enabled,consecutiveFailures,disabledAt,createdAt\n",
            fetch,
            csv_row,
        ));
    }
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::list(&mut conn, &caller).await?))
}

fn csv_row(w: &Webhook) -> String {
    use crate::http::csv::{cell, line};
    line(&[
        w.id.to_string(),
        cell(&w.url),
        cell(&w.event_types.join(" ")),
        w.enabled.to_string(),
        w.consecutive_failures.to_string(),
        w.disabled_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        w.created_at.to_rfc3339(),
    ])
}

/// Subscribe
///
/// Subscribes the caller's organisation (or role) to event types, optionally only to events about some topics (with
/// their sub-topics), districts or committees (`topics`, `districts`, `committees`; each given list narrows). The
/// answer carries the signing secret, once.
/// Deliveries contain what the subscriber may see in the feed, signed as Standard Webhooks.
///
/// **Roles:** every authenticated role.
#[utoipa::path(
    tag = "Webhooks",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "The subscription, with its secret", body = Webhook, headers(("Location" = String))),
    ),
    security(("bearerAuth" = []))
)]
#[post("/webhooks")]
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    body: JsonBody<NewWebhook>,
) -> ApiResult<HttpResponse> {
    let bytes = body.bytes().to_vec();
    let input = body.parse()?;
    let mut errors = Vec::new();
    let url = match check_url(input.url.as_deref().unwrap_or(""), &state.webhooks) {
        Ok(u) => Some(u),
        Err(e) => {
            errors.push(*e);
            None
        }
    };
    let types = input.event_types.clone().unwrap_or_default();
    errors.extend(event_type_errors(&types));
    let Some(url) = url.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let mut conn = crate::db::conn(&state.pool).await?;
    idempotency::run(&mut conn, &req, &caller, &bytes, async |conn| {
        let secret = new_secret();
        let mut hook = store::create(conn, &caller, url.as_str(), &types, &input, &secret).await?;
        hook.secret = Some(secret);
        Ok(Stored::json(StatusCode::CREATED, &hook)?.header("location", format!("/api/v1/webhooks/{}", hook.id)))
    })
    .await
}

/// Get a webhook
///
/// **Roles:** the subscription's owner (organisation or role); others get 404.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription (without its secret)", body = Webhook),
    ),
    security(("bearerAuth" = []))
)]
#[get("/webhooks/{id}")]
async fn get_one(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::find(&mut conn, &caller, *id).await?.api()))
}

/// Unsubscribe
///
/// Ends the subscription; pending deliveries are dropped.
///
/// **Roles:** the subscription's owner.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Unsubscribed"),
    ),
    security(("bearerAuth" = []))
)]
#[delete("/webhooks/{id}")]
async fn remove(state: web::Data<AppState>, caller: Caller, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    let id = *id;
    crate::db::transaction(&mut conn, async |conn| store::remove(conn, &caller, id).await).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Delivery log
///
/// The deliveries of a subscription, oldest first, with attempts, status codes and times.
///
/// **Roles:** the subscription's owner.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = Uuid, Path, description = "Subscription id"), DeliveryQuery),
    responses(
        (status = 200, description = "One page of deliveries", body = Page<Delivery>),
    ),
    security(("bearerAuth" = []))
)]
#[get("/webhooks/{id}/deliveries")]
async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<HttpResponse> {
    let mut conn = crate::db::conn(&state.pool).await?;
    Ok(HttpResponse::Ok().json(store::deliveries(&mut conn, &caller, *id, &q).await?))
}

/// Redeliver
///
/// Queues a delivery again, now (for example after the receiver was fixed). Its `webhook-id` stays the same.
///
/// **Roles:** the subscription's owner.
#[utoipa::path(
    tag = "Webhooks",
    params(
        ("id" = Uuid, Path, description = "Subscription id"),
        ("deliveryId" = Uuid, Path, description = "Delivery id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry"),
    ),
    responses(
        (status = 202, description = "Queued"),
    ),
    security(("bearerAuth" = []))
)]
#[post("/webhooks/{id}/deliveries/{deliveryId}/redeliver")]
async fn redeliver(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (hook, delivery_id) = *path;
    let mut conn = crate::db::conn(&state.pool).await?;
    // With a key, a retried redelivery queues the delivery once, not again after it has been sent.
    idempotency::run(&mut conn, &req, &caller, &[], async |conn| {
        store::requeue(conn, &caller, hook, delivery_id).await?;
        Ok(Stored {
            status: StatusCode::ACCEPTED,
            headers: vec![],
            body: vec![],
        })
    })
    .await
}

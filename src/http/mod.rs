//! What every endpoint shares: extractors (the caller, bodies, queries, If-Match), idempotency, pagination, CSV,
//! middleware, rate limits and the OpenAPI helpers. Below every resource; above the core, the audit and the state.

pub mod action;
pub mod auth;
pub mod csv;
pub mod extract;
pub mod idempotency;
pub mod list;
pub mod middleware;
pub mod openapi;
pub mod openapi_fields;
pub mod pagination;
pub mod patch;
pub mod ratelimit;
pub mod transition;

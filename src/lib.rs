//! Versorgung: the JSON REST API behind Hessen's programme for health care in rural areas.
//!
//! Layout: one module per resource (handlers, request/response types and queries), shared pieces beside them.
//! The route table is [`app::routes`].

pub mod app;
pub mod applications;
pub mod auth;
pub mod committees;
pub mod config;
pub mod coordinators;
pub mod csv;
pub mod db;
pub mod districts;
pub mod error;
pub mod events;
pub mod extract;
pub mod funding_lines;
pub mod health;
pub mod history;
pub mod i18n;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod organisations;
pub mod pagination;
pub mod ratelimit;
pub mod referrals;
pub mod seed;
pub mod statistics;
pub mod types;
pub mod webhooks;

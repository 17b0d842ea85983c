//! Versorgung: the JSON REST API behind Hessen's programme for health care in rural areas.
//!
//! Layers, arrows pointing down (the README's Architecture section has the map):
//! `cli`/`server`/`routes` → resource folders (one per URL segment) → `http` → `audit` → `state`/`auth`/`db` →
//! `error` → `core`. The route table is [`routes::routes`].

pub mod action_items;
pub mod applications;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod base_rates;
pub mod change_requests;
pub mod clamav;
pub mod cli;
pub mod committees;
pub mod config;
pub mod consultations;
pub mod coordinators;
pub mod core;
pub mod db;
pub mod digests;
pub mod districts;
pub mod early_start_consents;
pub mod error;
pub mod events;
pub mod files;
pub mod funding_lines;
pub mod grant_notices;
pub mod health;
pub mod http;
pub mod knowledge;
pub mod mail;
pub mod meetings;
pub mod metrics;
pub mod obligations;
pub mod oparl;
pub mod organisations;
pub mod payment_requests;
pub mod proofs_of_use;
pub mod recovery_claims;
pub mod referrals;
pub mod routes;
pub mod seed;
pub mod server;
pub mod settlements;
pub mod state;
pub mod statistics;
pub mod topics;
pub mod vocabulary;
pub mod webhooks;

//! Integration tests: the real app over HTTP against a real PostgreSQL (one fresh database per test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod instances;
mod limits;

mod amendments;
mod applications;
mod architecture;
mod audit;
mod auth;
mod bank_accounts;
mod chaos;
mod cli;
mod committees;
mod coordinators;
mod csv;
mod districts;
mod errors;
mod events;
mod faults;
mod fiscal_years;
mod funding_lines;
mod grant_notices;
mod hostile;
mod matrix;
mod migrations;
mod obligations;
mod openapi;
mod organisations;
mod payment_requests;
mod proofs_of_use;
mod referrals;
mod settlements;
mod statistics;
mod tls;
mod webhooks;

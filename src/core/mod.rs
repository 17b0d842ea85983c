//! The core: what the domain is made of, without HTTP or SQL. Nothing here imports actix or diesel, and nothing
//! here imports another layer of the crate.

pub mod counters;
pub mod documents;
pub mod iban;
pub mod identity;
pub mod interest;
pub mod late_use;
pub mod lifecycle;
pub mod net;
pub mod settlement;
pub mod time;
pub mod types;

//! The audit trail: every mutation's history entry and its event, written in the mutation's transaction.

pub mod history;
pub mod outbox;

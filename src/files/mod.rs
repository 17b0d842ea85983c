//! Stored files below the resources: their content in the object store (`content.rs`), their records in
//! PostgreSQL (`store.rs`), the documents the service writes itself (`generated.rs`). The `attachments` resource
//! (upload, download, visibility through the owner) and the grant notice's letter build on it; nothing here knows a
//! resource beyond its kind and organisation.

pub mod content;
pub mod generated;
pub mod model;
pub mod store;

pub use store::Owner;

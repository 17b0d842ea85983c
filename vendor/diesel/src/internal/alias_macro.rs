#[doc(hidden)]
pub use crate::query_source::aliasing::AliasAliasAppearsInFromClauseSameTable;

//! Prepared statements for the hot writes.
//!
//! Diesel keeps a statement prepared on its connection only when it can prove the SQL text never varies for the
//! query's type; every `UPDATE`, every upsert, every `INSERT` with an optional column and every `sql_query` fails that
//! proof, so diesel-async prepares them anew on each execution: a Parse/Describe round trip, then the Bind/Execute
//! round trip, and PostgreSQL parses and plans the statement every time (docs/performance.md, S5, measured 9 SQL
//! statements and 13 round trips per created draft).
//!
//! [`Cached`] marks one statement as safe to keep: diesel-async then keys its statement cache by the SQL text and the
//! bind types (the query type has no static id), which is correct for any statement, so the only question is how many
//! distinct texts a call site can produce. Use it only where that number is small and fixed (a statement whose text
//! depends on which optional fields are present, at most one text per combination; never a list spliced into the
//! text).

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;

/// A statement that is prepared once per connection and then only bound and executed (see the module docs).
#[derive(Debug, Clone)]
pub struct Cached<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    // No static id: the cache is keyed by the SQL text and the bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

/// `.cached()` on any statement: [`Cached`].
pub trait CachedDsl: Sized {
    fn cached(self) -> Cached<Self> {
        Cached(self)
    }
}

impl<Q: QueryFragment<Pg>> CachedDsl for Q {}

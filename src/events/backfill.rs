//! The feed's backfill at start-up: rows loaded by migrations or the demo seed get their `<kind>.created` event.

use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::error::ApiResult;

#[derive(QueryableByName)]
struct Missing {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// Gives every resource that has no event yet — rows loaded by migrations or the demo seed — a `<kind>.created`
/// event with its current representation, so that a client following the feed from 0 rebuilds everything it may
/// see. Instances starting together take turns (advisory lock); the second finds nothing missing.
pub async fn run(conn: &mut AsyncPgConnection) -> ApiResult<usize> {
    crate::db::transaction(conn, async |conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(47112027)")
            .execute(conn)
            .await?;
        let mut added = crate::funding_lines::snapshot_missing(conn).await?;
        for (table, kind) in [
            ("organisations", "organisation"),
            ("committees", crate::committees::KIND),
            ("coordinators", crate::coordinators::KIND),
            ("referrals", crate::referrals::KIND),
        ] {
            let missing: Vec<Missing> = diesel::sql_query(format!(
                "SELECT t.id FROM {table} t WHERE NOT EXISTS \
                 (SELECT 1 FROM events e WHERE e.resource_kind = $1 AND e.resource_id = t.id) ORDER BY t.id"
            ))
            .bind::<diesel::sql_types::Text, _>(kind)
            .load(conn)
            .await?;
            for m in &missing {
                match kind {
                    "organisation" => crate::organisations::snapshot(conn, m.id).await?,
                    "committee" => crate::committees::snapshot(conn, m.id).await?,
                    "coordinator" => crate::coordinators::snapshot(conn, m.id).await?,
                    _ => crate::referrals::snapshot(conn, m.id).await?,
                }
            }
            added += missing.len();
        }
        Ok(added)
    })
    .await
}

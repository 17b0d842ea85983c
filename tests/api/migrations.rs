//! Each migration's `down.sql` undoes its `up.sql` exactly.

use crate::helpers::*;
use diesel::RunQueryDsl;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::MigrationHarness;

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

const SNAPSHOT: &str = "
SELECT line FROM (
  SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' '
         || coalesce(column_default, '') AS line
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
  UNION ALL SELECT 'index ' || indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'
  UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
     AND conrelid::regclass::text <> '__diesel_schema_migrations'
  UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
  UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'd')
  UNION ALL SELECT 'sequence ' || sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'
  UNION ALL SELECT 'view ' || viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public'
) s ORDER BY line";

fn snapshot(conn: &mut AsyncConnectionWrapper<AsyncPgConnection>) -> Vec<String> {
    diesel::sql_query(SNAPSHOT)
        .load::<Line>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[actix_web::test]
async fn each_down_reverts_its_up() {
    let db = TestDb::empty().await;
    let url = db.url.clone();
    let steps = tokio::task::spawn_blocking(move || {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url).unwrap();
        let mut steps = 0;
        loop {
            let before = snapshot(&mut conn);
            let pending = conn.pending_migrations(versorgung::db::MIGRATIONS).unwrap();
            let Some(next) = pending.into_iter().next() else { break };
            conn.run_migration(&next).unwrap();
            let after_up = snapshot(&mut conn);
            assert_ne!(before, after_up, "migration {} changes the schema", next.name());
            conn.revert_last_migration(versorgung::db::MIGRATIONS).unwrap();
            assert_eq!(
                before,
                snapshot(&mut conn),
                "down of {} restores the schema exactly",
                next.name()
            );
            conn.run_migration(&next).unwrap();
            assert_eq!(
                after_up,
                snapshot(&mut conn),
                "up of {} is repeatable after down",
                next.name()
            );
            steps += 1;
        }
        steps
    })
    .await
    .unwrap();
    assert!(steps >= 1);
}

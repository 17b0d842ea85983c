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

#[derive(diesel::QueryableByName)]
struct Carried {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    line: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    year: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    broken: i64,
}

/// Migration 000041 carries what each line and fiscal year had committed over into the escrow shards, also where it
/// is more than the grants' years (grants from before fiscal years, seeded figures), and spreads the free budget.
#[actix_web::test]
async fn the_escrow_migration_keeps_what_lines_and_years_committed() {
    let db = TestDb::empty().await;
    let url = db.url.clone();
    let carried = tokio::task::spawn_blocking(move || {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url).unwrap();
        loop {
            let pending = conn.pending_migrations(versorgung::db::MIGRATIONS).unwrap();
            let next = pending.into_iter().next().expect("migration 000041 exists");
            if next.name().to_string().contains("000041") {
                break;
            }
            conn.run_migration(&next).unwrap();
        }
        // A grant with its year (500 cents in 2027), and what the line and the year committed beyond it.
        for sql in [
            "INSERT INTO organisations (ags, name, kind, district_ags) VALUES ('06636999', 'Testgemeinde', 'gemeinde', '06636')",
            "INSERT INTO applications (organisation_id, district_ags, funding_line_code, status, title, requested_cents,
                                       granted_cents, start_date, end_date)
             SELECT id, '06636', 'VA', 'approved', 'Vorhaben', 500, 500, '2027-01-01', '2027-12-31'
             FROM organisations WHERE ags = '06636999'",
            "INSERT INTO grant_years (application_id, year, funding_line_code, committed_cents)
             SELECT id, 2027, 'VA', 500 FROM applications",
        ] {
            diesel::sql_query(sql).execute(&mut conn).unwrap();
        }
        diesel::sql_query("UPDATE funding_lines SET committed_cents = 12345 WHERE code = 'VA'")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query("UPDATE funding_line_years SET committed_cents = 777 WHERE funding_line_code = 'VA' AND year = 2027")
            .execute(&mut conn)
            .unwrap();
        conn.run_pending_migrations(versorgung::db::MIGRATIONS).unwrap();
        diesel::sql_query(
            "SELECT (SELECT committed_cents FROM funding_lines WHERE code = 'VA') AS line,
                    (SELECT committed_cents FROM funding_line_years WHERE funding_line_code = 'VA' AND year = 2027) AS year,
                    (SELECT count(*) FROM (SELECT s.funding_line_code, s.year FROM budget_shards s
                                           GROUP BY 1, 2
                                           HAVING sum(s.allotted_cents) <> coalesce(
                                               (SELECT l.budget_cents FROM funding_lines l
                                                WHERE s.year = 0 AND l.code = s.funding_line_code),
                                               (SELECT y.budget_cents FROM funding_line_years y
                                                WHERE y.funding_line_code = s.funding_line_code AND y.year = s.year))
                                              OR bool_or(s.committed_cents > s.allotted_cents)) b)
                    + (SELECT count(*) FROM applications a JOIN budget_shards s
                       ON s.funding_line_code = 'VA' AND s.year = 2027 AND s.shard = escrow_shard(a.id)
                       WHERE s.committed_cents < 500) AS broken",
        )
        .get_result::<Carried>(&mut conn)
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!((carried.line, carried.year, carried.broken), (12345, 777, 0));
}

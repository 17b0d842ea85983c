//! Encrypted connections to PostgreSQL: a private cluster serving TLS with a test CA, reached with each sslmode.

use diesel_async::RunQueryDsl;
use std::process::Command;
use versorgung::db::local_pg::{LocalPgOptions, LocalPostgres};

#[derive(diesel::QueryableByName)]
struct Ssl {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    assert!(
        status.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[actix_web::test]
async fn sslmode_require_and_verify_full_use_tls() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=Versorgung Test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(d.join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );

    let cluster_dir = d.join("cluster");
    let options = LocalPgOptions {
        ephemeral: true,
        tls: Some((d.join("server.crt"), d.join("server.key"))),
    };
    let pg = LocalPostgres::start(&cluster_dir, &options).unwrap();
    versorgung::cli::ensure_database(&pg.url("postgres"), "versorgung")
        .await
        .unwrap();
    let base = pg.url("versorgung");
    let ca = d.join("ca.crt");

    // Migrations and pooled connections both go over TLS.
    versorgung::db::run_migrations(&format!("{base}?sslmode=require"))
        .await
        .unwrap();
    for url in [
        format!("{base}?sslmode=require"),
        format!("{base}?sslmode=verify-ca&sslrootcert={}", ca.display()),
        format!("{base}?sslmode=verify-full&sslrootcert={}", ca.display()),
    ] {
        let mut conn = versorgung::db::tls::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let row: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .get_result(&mut conn)
            .await
            .unwrap();
        assert!(row.ssl, "{url}");
    }
    let pool = versorgung::db::build_pool(
        &format!("{base}?sslmode=verify-full&sslrootcert={}", ca.display()),
        &versorgung::db::PoolSettings {
            max_size: 2,
            wait_timeout: std::time::Duration::from_secs(5),
            statement_timeout: std::time::Duration::from_secs(5),
        },
    )
    .unwrap();
    versorgung::db::readiness(&pool).await.unwrap();

    // A server certificate that does not chain to the given root is refused.
    std::fs::write(d.join("other.crt"), std::fs::read(d.join("server.crt")).unwrap()).unwrap();
    let refused = versorgung::db::tls::connect(&format!(
        "{base}?sslmode=verify-full&sslrootcert={}",
        d.join("other.crt").display()
    ))
    .await;
    assert!(refused.is_err(), "a leaf is not a root");
    // The plain connection still works where the server allows it (sslmode absent).
    assert!(versorgung::db::tls::connect(&base).await.is_ok());
    drop(pg);
}

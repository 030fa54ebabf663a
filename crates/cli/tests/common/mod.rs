//! Shared by the CLI test binaries that need PostgreSQL: the server to use, a URL for another
//! database on it, and the admin connection that creates and drops per-test databases (or the
//! skip-with-a-message, which is a failure under `CI=true`).

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The PostgreSQL server the tests use unless `CORRIDOR_TEST_DATABASE_URL` names another.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn base_url() -> String {
    std::env::var("CORRIDOR_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

pub fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |q| &tail[q..]);
    format!("{scheme}://{authority}/{db}{query}")
}

pub async fn admin() -> Option<PgConnection> {
    let error = match tokio::time::timeout(
        Duration::from_secs(5),
        PgConnection::connect(&base_url()),
    )
    .await
    {
        Ok(Ok(conn)) => return Some(conn),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within 5 s".to_string(),
    };
    let msg = format!(
        "PostgreSQL is unreachable ({error}). Start it with \
         `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (as root; \
         `.ci/run` does this), or set CORRIDOR_TEST_DATABASE_URL"
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED (no PostgreSQL): {msg}");
    None
}

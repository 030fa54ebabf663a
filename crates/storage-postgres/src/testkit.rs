//! Helpers for tests that need a real PostgreSQL: a fresh database per test, dropped afterwards,
//! and the skip-with-a-message when no server answers (a failure under `CI=true`). Shared by
//! this crate's tests, the server's API tests and the CLI's, so they all find the server the
//! same way.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::redact_url;

/// The PostgreSQL server the tests use unless `CORRIDOR_TEST_DATABASE_URL` names another.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn base_url() -> String {
    std::env::var("CORRIDOR_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// The same URL naming another database (the path replaced, any query kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |q| &tail[q..]);
    format!("{scheme}://{authority}/{db}{query}")
}

/// A connection to the server to create and drop test databases; `None` (after saying why) if
/// it is unreachable and this is not CI.
pub async fn admin() -> Option<PgConnection> {
    let url = base_url();
    let error =
        match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url)).await {
            Ok(Ok(conn)) => return Some(conn),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer within 5 s".to_string(),
        };
    let msg = format!(
        "PostgreSQL is unreachable at {} ({error}). Start it with \
         `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
         (as root; `.ci/run` does this), or set CORRIDOR_TEST_DATABASE_URL",
        redact_url(&url)
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED (no PostgreSQL): {msg}");
    None
}

/// Run `test` with the URL of a fresh, empty database, dropped afterwards whatever happens.
pub async fn with_fresh_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let result = tokio::spawn(test(db.url.clone())).await;
    // Dropped (with FORCE) before a failure is passed on.
    drop(db);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A fresh PostgreSQL database for one test, dropped when the value is (from a thread of its
/// own: `Drop` cannot await). `None` (after saying why) if PostgreSQL is unreachable outside CI.
pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> Option<TestDatabase> {
        let mut admin = admin().await?;
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "corridor_test_{}_{nanos}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        Some(TestDatabase {
            url: with_database(&base_url(), &name),
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut admin) = PgConnection::connect(&base_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            });
        })
        .join();
    }
}

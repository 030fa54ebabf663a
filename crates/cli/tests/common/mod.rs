//! Shared by the CLI test binaries that need PostgreSQL: the server to use, a URL for another
//! database on it, and the admin connection that creates and drops per-test databases (or the
//! skip-with-a-message, which is a failure under `CI=true`). The same helpers as every crate's
//! PostgreSQL tests: `corridor-storage-postgres`'s `testkit`.

pub use corridor_storage_postgres::testkit::{admin, base_url, with_database};

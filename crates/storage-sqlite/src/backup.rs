//! Copies of a SQLite log, for `corridor backup` and `corridor restore`: the SQL that reads a
//! log file's size and writes a consistent copy of it lives here, beside the backend that owns
//! the tables, not in the CLI.

use std::path::Path;

use corridor_storage::BackupError;
use sqlx::Connection;

/// A plain connection to a SQLite file that creates nothing (an unknown path is an error).
/// `immutable` for a backup file that must only be read (no -wal or -shm appears beside it).
async fn connect(path: &Path, immutable: bool) -> Result<sqlx::SqliteConnection, BackupError> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .immutable(immutable)
        .busy_timeout(std::time::Duration::from_secs(10));
    sqlx::SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| {
            BackupError(format!(
                "cannot open {} as a SQLite database: {e}",
                path.display()
            ))
        })
}

/// Entries and the largest checkpoint size of the SQLite file at `path`, or an error saying it
/// holds no corridor log. `immutable` opens it read-only without touching it (a backup file).
pub async fn log_size(path: &Path, immutable: bool) -> Result<(u64, u64), BackupError> {
    let shown = path.display().to_string();
    let mut c = connect(path, immutable).await?;
    let fail = |e: sqlx::Error| BackupError(format!("{shown}: {e}"));
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('entries', 'checkpoints')",
    )
    .fetch_one(&mut c)
    .await
    .map_err(fail)?;
    if tables != 2 {
        return Err(BackupError(format!(
            "{shown} is not a corridor log (it has no entries and checkpoints tables)"
        )));
    }
    let size: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
        .fetch_one(&mut c)
        .await
        .map_err(fail)?;
    let cp: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(size), 0) FROM checkpoints")
        .fetch_one(&mut c)
        .await
        .map_err(fail)?;
    c.close().await.ok();
    Ok((size as u64, cp as u64))
}

/// Write a consistent copy of the live log at `path` to `dest` (which must not exist), while a
/// server may keep appending; returns the entries and the largest checkpoint size of the copy.
pub async fn backup_into(path: &Path, dest: &Path) -> Result<(u64, u64), BackupError> {
    let shown = path.display().to_string();
    // Why `VACUUM INTO` rather than copying the file: the log runs in WAL mode, so the file
    // alone can lack committed transactions that are still in the -wal file, and a copy taken
    // while the server writes can be torn. `VACUUM INTO` reads the database in one read
    // transaction, a consistent snapshot of the last commit, and writes it as one compact,
    // self-contained file (rollback-journal mode, no -wal needed). In WAL mode a reader does not
    // block the writer, so the server keeps sequencing meanwhile. SQLite's backup API would do
    // the same, but sqlx does not expose it; this runs through an ordinary connection.
    let to = dest.to_str().ok_or_else(|| {
        BackupError(format!(
            "{} is not a UTF-8 path; choose another --out",
            dest.display()
        ))
    })?;
    let mut c = connect(path, false).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(to)
        .execute(&mut c)
        .await
        .map_err(|e| BackupError(format!("cannot back up {shown} to {}: {e}", dest.display())))?;
    c.close().await.ok();
    // Report what the copy holds, not what the live file held a moment before.
    log_size(dest, true).await
}

//! The embedded default: one SQLite file, so `corridor serve` runs on a laptop with nothing
//! else installed.
//!
//! Durability: WAL mode with `synchronous=FULL`, so a transaction is on disk (the WAL is
//! fsynced) before `commit` returns, and the server sends a receipt only after that. Group
//! commit happens one level up: the sequencer hands a whole batch to [`Database::append`], which
//! writes it in one transaction and so pays one fsync for many commands.
//!
//! Queries are plain runtime queries (not the `query!` macros), so the crate builds without a
//! database or offline data; the same SQL shape is reused by the PostgreSQL backend.

pub mod backup;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use corridor_core::entry::{Entry, EntryHeader};
use corridor_core::merkle::Hash;
use corridor_core::state::ProjectionRow;
use corridor_storage::{
    Database, DbError, Delivery, EvidenceFile, EvidenceLink, ReadRecord, StoredCheckpoint,
    StoredRow, Webhook,
};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

/// The SQLite backend.
#[derive(Debug, Clone)]
pub struct Sqlite {
    /// Readers: WAL lets them run beside the writer.
    pool: SqlitePool,
    /// The one writer connection. SQLite allows one writer at a time; funnelling every write
    /// through one connection means a transaction never has to upgrade its lock against another
    /// writer of ours (which SQLite answers with "database is locked" rather than waiting).
    write: SqlitePool,
}

fn backend(e: sqlx::Error) -> DbError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => DbError::Conflict(d.to_string()),
        _ => DbError::Backend(e.to_string()),
    }
}

impl Sqlite {
    /// Open (creating if missing) the database file at `path` and run migrations.
    pub async fn open(path: &Path) -> Result<Self, DbError> {
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(backend)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .map_err(backend)?;
        sqlx::migrate!("./migrations")
            .run(&write)
            .await
            .map_err(|e| DbError::Backend(format!("migration failed: {e}")))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(backend)?;
        Ok(Sqlite { pool, write })
    }

    /// Read a pragma's value as text (to check the durability settings in tests and `verify`).
    pub async fn pragma(&self, name: &str) -> Result<String, DbError> {
        let sql = match name {
            "journal_mode" => "PRAGMA journal_mode",
            "synchronous" => "PRAGMA synchronous",
            _ => return Err(DbError::Backend(format!("unknown pragma {name}"))),
        };
        let row = sqlx::query(sql)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        let v: sqlx::Result<String> = row.try_get(0);
        match v {
            Ok(s) => Ok(s),
            Err(_) => Ok(row.try_get::<i64, _>(0).map_err(backend)?.to_string()),
        }
    }
}

fn stored_row((kind, id, body): (String, String, String)) -> Result<StoredRow, DbError> {
    let body = serde_json::from_str(&body)
        .map_err(|e| DbError::Corrupt(format!("projection {kind}/{id}: {e}")))?;
    Ok(StoredRow { kind, id, body })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Columns by position, in the order of `select_entries!`: looking a column up by name hashes
/// the name, ten times per row, which showed in `corridor verify` over a million rows.
fn entry_from_row(row: &SqliteRow) -> Result<Entry, DbError> {
    let idx: i64 = row.try_get(0).map_err(backend)?;
    let salt: [u8; 32] = row
        .try_get::<Vec<u8>, _>(7)
        .map_err(backend)?
        .try_into()
        .map_err(|_| DbError::Corrupt(format!("entry {idx}: salt is not 32 bytes")))?;
    Ok(Entry {
        header: EntryHeader {
            index: idx as u64,
            time: row.try_get(1).map_err(backend)?,
            commitment: row.try_get(6).map_err(backend)?,
        },
        entry_type: row.try_get(2).map_err(backend)?,
        actor: row.try_get(3).map_err(backend)?,
        key: row.try_get(4).map_err(backend)?,
        command_id: row.try_get(5).map_err(backend)?,
        salt,
        command: row.try_get(8).map_err(backend)?,
        signature: row.try_get(9).map_err(backend)?,
    })
}

/// The entry columns, as a literal so queries stay static strings (sqlx refuses dynamic SQL).
/// [`entry_from_row`] reads them by position: keep the two in step.
macro_rules! select_entries {
    ($rest:literal) => {
        concat!(
            "SELECT idx, time, type, actor, key, command_id, commitment, salt, command, signature FROM entries ",
            $rest
        )
    };
}

#[async_trait]
impl Database for Sqlite {
    async fn append(&self, entries: &[Entry], rows: &[ProjectionRow]) -> Result<(), DbError> {
        let mut tx = self.write.begin().await.map_err(backend)?;
        if let Some(first) = entries.first() {
            // MAX on the integer primary key is a b-tree look-up; COUNT(*) would scan.
            let size: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            if first.header.index != size as u64 {
                return Err(DbError::Conflict(format!(
                    "append at {} but the log has {size} entries",
                    first.header.index
                )));
            }
        }
        if entries
            .windows(2)
            .any(|w| w[1].header.index != w[0].header.index + 1)
        {
            return Err(DbError::Conflict(
                "a batch must hold consecutive entries".into(),
            ));
        }
        // One multi-row INSERT per table and chunk rather than one awaited statement per row:
        // the sequencer waits for this call, so its cost bounds ingest (BENCHMARKS.md measured
        // 6 ms per 32-entry batch row by row, under 1 ms this way). 11 parameters per entry
        // stay far below SQLite's parameter limit at 500 rows.
        for chunk in entries.chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO entries (idx, time, type, actor, key, command_id, commitment, salt, command, signature, leaf_hash) ",
            );
            q.push_values(chunk, |mut b, e| {
                let h = &e.header;
                b.push_bind(to_i64(h.index))
                    .push_bind(&h.time)
                    .push_bind(&e.entry_type)
                    .push_bind(&e.actor)
                    .push_bind(&e.key)
                    .push_bind(&e.command_id)
                    .push_bind(&h.commitment)
                    .push_bind(&e.salt[..])
                    .push_bind(&e.command)
                    .push_bind(&e.signature)
                    .push_bind(e.leaf_hash().to_vec());
            });
            q.build().execute(&mut *tx).await.map_err(backend)?;
        }
        // Later rows for the same record replace earlier ones, row by row, as SQLite applies
        // REPLACE within one statement.
        for chunk in rows.chunks(2000) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT OR REPLACE INTO projections (kind, id, body) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.kind.as_str())
                    .push_bind(&r.id)
                    .push_bind(r.body.to_string());
            });
            q.build().execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn size(&self) -> Result<u64, DbError> {
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Entry>, DbError> {
        let rows = sqlx::query(select_entries!("WHERE idx >= ? AND idx < ? ORDER BY idx"))
            .bind(to_i64(start))
            .bind(to_i64(end))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>, DbError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
        )
        .bind(to_i64(start))
        .bind(to_i64(end))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|(i, h)| {
                h.try_into()
                    .map_err(|_| DbError::Corrupt(format!("entry {i}: leaf hash is not 32 bytes")))
            })
            .collect()
    }

    async fn find_command(&self, actor: &str, command_id: &str) -> Result<Option<Entry>, DbError> {
        let row = sqlx::query(select_entries!("WHERE actor = ? AND command_id = ?"))
            .bind(actor)
            .bind(command_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(entry_from_row).transpose()
    }

    async fn add_checkpoint(&self, cp: &StoredCheckpoint) -> Result<(), DbError> {
        sqlx::query("INSERT OR IGNORE INTO checkpoints (size, note) VALUES (?, ?)")
            .bind(to_i64(cp.size))
            .bind(&cp.note)
            .execute(&self.write)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, DbError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT size, note FROM checkpoints ORDER BY size")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|(size, note)| StoredCheckpoint {
                size: size as u64,
                note,
            })
            .collect())
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, DbError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(row.map(|(size, note)| StoredCheckpoint {
            size: size as u64,
            note,
        }))
    }

    async fn add_cosigned_checkpoint(&self, cp: &StoredCheckpoint) -> Result<(), DbError> {
        sqlx::query("INSERT INTO cosigned_checkpoints (size, note) VALUES (?, ?)")
            .bind(to_i64(cp.size))
            .bind(&cp.note)
            .execute(&self.write)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn latest_cosigned_checkpoint(&self) -> Result<Option<StoredCheckpoint>, DbError> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT size, note FROM cosigned_checkpoints ORDER BY size DESC, seq DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.map(|(size, note)| StoredCheckpoint {
            size: size as u64,
            note,
        }))
    }

    async fn projection_rows(&self) -> Result<Vec<StoredRow>, DbError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT kind, id, body FROM projections ORDER BY kind, id")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.into_iter().map(stored_row).collect()
    }

    async fn projection_rows_of(&self, kind: &str) -> Result<Vec<StoredRow>, DbError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT kind, id, body FROM projections WHERE kind = ? ORDER BY id")
                .bind(kind)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.into_iter().map(stored_row).collect()
    }

    async fn projection_row(&self, kind: &str, id: &str) -> Result<Option<StoredRow>, DbError> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT kind, id, body FROM projections WHERE kind = ? AND id = ?")
                .bind(kind)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(stored_row).transpose()
    }

    async fn replace_projections(&self, rows: &[ProjectionRow]) -> Result<(), DbError> {
        let mut tx = self.write.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM projections")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for r in rows {
            sqlx::query("INSERT INTO projections (kind, id, body) VALUES (?, ?, ?)")
                .bind(r.kind.as_str())
                .bind(&r.id)
                .bind(r.body.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn record_read(&self, r: &ReadRecord) -> Result<(), DbError> {
        let (items, concerned) = r.stored_lists();
        sqlx::query(
            "INSERT INTO read_audit (at, actor, key, path, items, concerned) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.at)
        .bind(&r.actor)
        .bind(&r.key)
        .bind(&r.path)
        .bind(items)
        .bind(concerned)
        .execute(&self.write)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn add_webhook(&self, w: &Webhook) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO webhooks (id, actor, url, created_at, removed_at) VALUES (?, ?, ?, ?, NULL)",
        )
        .bind(&w.id)
        .bind(&w.actor)
        .bind(&w.url)
        .bind(&w.created_at)
        .execute(&self.write)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn remove_webhook(&self, id: &str, actor: &str, at: &str) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE webhooks SET removed_at = ? WHERE id = ? AND actor = ? AND removed_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .bind(actor)
        .execute(&self.write)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, DbError> {
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, actor, url, created_at, removed_at FROM webhooks ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|(id, actor, url, created_at, removed_at)| Webhook {
                id,
                actor,
                url,
                created_at,
                removed_at,
            })
            .collect())
    }

    async fn record_delivery(&self, d: &Delivery) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook, alert, attempt, at, outcome, http_status, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&d.webhook)
        .bind(&d.alert)
        .bind(d.attempt as i32)
        .bind(&d.at)
        .bind(&d.outcome)
        .bind(d.http_status.map(i32::from))
        .bind(&d.error)
        .execute(&self.write)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn deliveries(
        &self,
        webhook: &str,
        after: u64,
        limit: u64,
    ) -> Result<Vec<Delivery>, DbError> {
        let rows: Vec<(i64, String, String, i32, String, String, Option<i32>, Option<String>)> =
            sqlx::query_as(
                "SELECT seq, webhook, alert, attempt, at, outcome, http_status, error FROM webhook_deliveries WHERE webhook = ? AND seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(webhook)
            .bind(to_i64(after))
            .bind(to_i64(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(
                |(seq, webhook, alert, attempt, at, outcome, http_status, error)| Delivery {
                    seq: seq as u64,
                    webhook,
                    alert,
                    attempt: attempt as u32,
                    at,
                    outcome,
                    http_status: http_status.and_then(|s| u16::try_from(s).ok()),
                    error,
                },
            )
            .collect())
    }

    async fn put_evidence(
        &self,
        file: &EvidenceFile,
        link: &EvidenceLink,
    ) -> Result<bool, DbError> {
        // One transaction on the writer connection (synchronous=FULL): the file and its link
        // are on disk together, or neither is.
        let mut tx = self.write.begin().await.map_err(backend)?;
        sqlx::query("INSERT OR IGNORE INTO evidence_files (sha256, bytes) VALUES (?, ?)")
            .bind(&file.sha256)
            .bind(&file.bytes)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let linked = sqlx::query(
            "INSERT OR IGNORE INTO evidence_links (sha256, incident, salt, commitment, uploader, at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&link.sha256)
        .bind(&link.incident)
        .bind(&link.salt)
        .bind(&link.commitment)
        .bind(&link.uploader)
        .bind(&link.at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(linked.rows_affected() == 1)
    }

    async fn evidence_links(&self, sha256: &str) -> Result<Vec<EvidenceLink>, DbError> {
        let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT sha256, incident, salt, commitment, uploader, at FROM evidence_links WHERE sha256 = ? ORDER BY incident, commitment",
        )
        .bind(sha256)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(
                |(sha256, incident, salt, commitment, uploader, at)| EvidenceLink {
                    sha256,
                    incident,
                    salt,
                    commitment,
                    uploader,
                    at,
                },
            )
            .collect())
    }

    async fn evidence(&self, sha256: &str) -> Result<Option<Vec<u8>>, DbError> {
        sqlx::query_scalar("SELECT bytes FROM evidence_files WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    async fn reads(&self, after: u64, limit: u64) -> Result<Vec<ReadRecord>, DbError> {
        let rows: Vec<(i64, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, actor, key, path, items, concerned FROM read_audit WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(to_i64(after))
        .bind(to_i64(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter().map(ReadRecord::from_stored).collect()
    }
}

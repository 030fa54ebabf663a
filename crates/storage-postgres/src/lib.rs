//! The PostgreSQL backend, for an operator who already runs PostgreSQL (backups, replication,
//! monitoring) or wants the log outside the server's own disk.
//!
//! Same shape and same invariants as `corridor-storage-sqlite`, and the same story test:
//! - entries are only inserted (a trigger refuses `UPDATE`, `DELETE` and `TRUNCATE`); indices
//!   are dense from 0, guarded by the primary key and by [`Database::append`] checking, under a
//!   table lock, that a batch starts at the current size and is consecutive;
//! - `(actor, command_id)` is unique;
//! - an append is one transaction, durable when it returns `Ok`: every session sets
//!   `synchronous_commit = on` itself (so a server, role or URL default of `off` or `local`
//!   cannot weaken it), so `COMMIT` returns only once the WAL record is flushed (and, where
//!   synchronous standbys are configured, confirmed by them);
//! - checkpoints are one per size (the first one is kept); projection rows are upserted in the
//!   append's transaction, and `replace_projections` swaps them all in one transaction.
//!
//! Queries are plain runtime queries (not the `query!` macros), so the crate builds without a
//! database or offline data; migrations are embedded with `sqlx::migrate!`.
//!
//! Errors never contain the password: every message that could echo the connection URL is
//! scrubbed of it, and URLs are shown with [`redact_url`].

#[cfg(feature = "testkit")]
pub mod testkit;

pub mod backup;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use corridor_core::entry::{Entry, EntryHeader};
use corridor_core::merkle::Hash;
use corridor_core::state::ProjectionRow;
use corridor_storage::{
    AppendWaker, Database, DbError, Delivery, EvidenceFile, EvidenceLink, Lease, ReadRecord,
    StoredCheckpoint, StoredRow, Webhook,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, Row};

/// Whether a `--database` value names a PostgreSQL database.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL with its password (in the user info or a `password=` parameter) replaced by `***`,
/// for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(unparseable database URL)".into();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The secrets a connection URL holds, to scrub them from any message: the password as
/// written (percent-encoded) and decoded.
#[derive(Debug, Clone, Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn of_url(url: &str) -> Self {
        let mut found = Vec::new();
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
        {
            found.push(password.to_string());
        }
        if let Some((_, query)) = rest.split_once('?') {
            for pair in query.split(['&', '#']) {
                if let Some((k, v)) = pair.split_once('=')
                    && k.eq_ignore_ascii_case("password")
                {
                    found.push(v.to_string());
                }
            }
        }
        let decoded: Vec<String> = found.iter().map(|s| percent_decode(s)).collect();
        found.extend(decoded);
        found.retain(|s| !s.is_empty());
        // Longest first, so a password that contains another secret is scrubbed whole.
        found.sort_by_key(|s| std::cmp::Reverse(s.len()));
        found.dedup();
        Secrets(found)
    }

    fn scrub(&self, message: &str) -> String {
        let mut m = message.to_string();
        for s in &self.0 {
            m = m.replace(s.as_str(), "***");
        }
        m
    }

    fn error(&self, e: sqlx::Error) -> DbError {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                DbError::Conflict(self.scrub(&d.to_string()))
            }
            _ => DbError::Backend(self.scrub(&e.to_string())),
        }
    }
}

/// Decode `%XX` escapes in a URL component (a password in a `postgres://` URL), leaving
/// anything else as it is, so a password can be scrubbed from messages and handed to libpq
/// tools in either spelling.
pub fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The channel appends and new checkpoints are announced on (`NOTIFY`, payload: the size), so
/// other instances catch up at once. Ids only: readers fetch the entries themselves.
pub const APPEND_CHANNEL: &str = "corridor_log";

/// Connection options, shown without their password.
#[derive(Clone)]
struct ListenerOptions(PgConnectOptions);

impl std::fmt::Debug for ListenerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgConnectOptions { .. }")
    }
}

/// The PostgreSQL backend.
#[derive(Debug, Clone)]
pub struct Postgres {
    pool: PgPool,
    secrets: Secrets,
    /// How to connect, for the listener's own connection (kept out of `Debug`: it holds the
    /// password).
    options: ListenerOptions,
    /// The lease this handle appends under, once [`Database::acquire_lease`] took one.
    lease: std::sync::Arc<std::sync::Mutex<Option<(String, i64)>>>,
}

impl Postgres {
    /// Connect to the database at `url` (`postgres://user:password@host:port/db?...`) and run
    /// the migrations. The database must exist; the tables are created if missing.
    pub async fn open(url: &str) -> Result<Self, DbError> {
        let secrets = Secrets::of_url(url);
        let shown = redact_url(url);
        let mut opts = PgConnectOptions::from_str(url).map_err(|e| {
            DbError::Backend(format!(
                "invalid database URL {shown}: {}",
                secrets.scrub(&e.to_string())
            ))
        })?;
        if opts.get_application_name().is_none() {
            opts = opts.application_name("corridor");
        }
        // One direct connection first: a pool retries a refused connection until its timeout
        // and then reports only that it timed out; this says why (refused, no such database,
        // authentication failed) at once.
        let probe = opts.connect().await.map_err(|e| {
            DbError::Backend(format!(
                "cannot connect to PostgreSQL at {shown}: {}",
                secrets.scrub(&e.to_string())
            ))
        })?;
        probe.close().await.ok();
        let opts_for_listener = opts.clone();
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(15))
            // Durability is a promise of this crate, not of the server's configuration: set it
            // on every session, after anything the URL's `options` or a role default said.
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query("SET synchronous_commit = on")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| {
                DbError::Backend(format!(
                    "cannot connect to PostgreSQL at {shown}: {}",
                    secrets.scrub(&e.to_string())
                ))
            })?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| {
                DbError::Backend(format!(
                    "migration of {shown} failed: {}",
                    secrets.scrub(&e.to_string())
                ))
            })?;
        Ok(Postgres {
            pool,
            secrets,
            options: ListenerOptions(opts_for_listener),
            lease: Default::default(),
        })
    }

    /// A session setting as text (`SHOW`), to check the durability settings in tests and tools.
    pub async fn setting(&self, name: &str) -> Result<String, DbError> {
        let sql = match name {
            "synchronous_commit" => "SHOW synchronous_commit",
            "fsync" => "SHOW fsync",
            "transaction_isolation" => "SHOW transaction_isolation",
            _ => return Err(DbError::Backend(format!("unknown setting {name}"))),
        };
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.secrets.error(e))
    }

    /// Close every connection (waits for them to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn err(&self) -> impl Fn(sqlx::Error) -> DbError + '_ {
        |e| self.secrets.error(e)
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

fn entry_from_row(row: &PgRow) -> Result<Entry, DbError> {
    let get = |e: sqlx::Error| DbError::Corrupt(e.to_string());
    let idx: i64 = row.try_get("idx").map_err(get)?;
    let salt: [u8; 32] = row
        .try_get::<Vec<u8>, _>("salt")
        .map_err(get)?
        .try_into()
        .map_err(|_| DbError::Corrupt(format!("entry {idx}: salt is not 32 bytes")))?;
    Ok(Entry {
        header: EntryHeader {
            index: u64::try_from(idx)
                .map_err(|_| DbError::Corrupt(format!("entry index {idx} is negative")))?,
            time: row.try_get("time").map_err(get)?,
            commitment: row.try_get("commitment").map_err(get)?,
        },
        entry_type: row.try_get("type").map_err(get)?,
        actor: row.try_get("actor").map_err(get)?,
        key: row.try_get("key").map_err(get)?,
        command_id: row.try_get("command_id").map_err(get)?,
        salt,
        command: row.try_get("command").map_err(get)?,
        signature: row.try_get("signature").map_err(get)?,
    })
}

/// The entry columns, as a literal so queries stay static strings.
macro_rules! select_entries {
    ($rest:literal) => {
        concat!(
            "SELECT idx, time, type, actor, key, command_id, commitment, salt, command, signature FROM entries ",
            $rest
        )
    };
}

/// The last row for each (kind, id), in first-seen order: a batch may change a record twice,
/// and one `INSERT ... ON CONFLICT DO UPDATE` may not touch a row twice.
fn last_per_key(rows: &[ProjectionRow]) -> Vec<&ProjectionRow> {
    let mut last: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        last.insert((r.kind.as_str(), r.id.as_str()), i);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_unstable();
    keep.into_iter().map(|i| &rows[i]).collect()
}

/// Columns of projection rows, for one `UNNEST` insert.
fn projection_columns(rows: &[&ProjectionRow]) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        rows.iter().map(|r| r.kind.to_string()).collect(),
        rows.iter().map(|r| r.id.clone()).collect(),
        rows.iter().map(|r| r.body.to_string()).collect(),
    )
}

#[async_trait]
impl Database for Postgres {
    async fn append(&self, entries: &[Entry], rows: &[ProjectionRow]) -> Result<(), DbError> {
        if let Some(first) = entries.first() {
            let start = first.header.index;
            if let Some((i, e)) = entries
                .iter()
                .enumerate()
                .find(|(i, e)| e.header.index != start + *i as u64)
            {
                return Err(DbError::Conflict(format!(
                    "batch is not consecutive: entry {} at position {i} of a batch starting at {start}",
                    e.header.index
                )));
            }
        }
        let mut tx = self.pool.begin().await.map_err(self.err())?;
        if let Some(first) = entries.first() {
            // Serialise appenders, then check the batch starts at the current size.
            //
            // Why a table lock rather than `SELECT ... FOR UPDATE` on a one-row sequencer table:
            // the size is then read from `entries` itself, so there is no second copy of it that
            // could drift (a counter row must be updated in every append and trusted by every
            // reader), and nothing extra to migrate or repair. EXCLUSIVE mode conflicts with
            // itself and with the ROW EXCLUSIVE lock every INSERT takes, so a second appender
            // (another server process pointed at the same database by mistake, or a tool) waits
            // here until the first commits or rolls back, and then sees its entries; plain
            // SELECTs (ACCESS SHARE) are not blocked, so readers and proofs keep going. The
            // lock is taken before any query, so even under REPEATABLE READ or SERIALIZABLE
            // defaults the transaction's snapshot is taken after it and sees the last commit.
            // The primary key stays the final guard.
            sqlx::query("LOCK TABLE entries IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .map_err(self.err())?;
            let size: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
                .fetch_one(&mut *tx)
                .await
                .map_err(self.err())?;
            if first.header.index != size as u64 {
                return Err(DbError::Conflict(format!(
                    "append at {} but the log has {size} entries",
                    first.header.index
                )));
            }
            // A sequencer appends only in its own epoch. FOR SHARE holds the lease row until
            // commit, so a takeover (an UPDATE of that row) waits for this append and then loads
            // it; and once a takeover has committed, this finds no row and writes nothing.
            let held = self.lease.lock().expect("not poisoned").clone();
            if let Some((holder, epoch)) = held {
                let ours: Option<i64> = sqlx::query_scalar(
                    "SELECT epoch FROM sequencer_lease WHERE id = 1 AND holder = $1 AND epoch = $2 FOR SHARE",
                )
                .bind(&holder)
                .bind(epoch)
                .fetch_optional(&mut *tx)
                .await
                .map_err(self.err())?;
                if ours.is_none() {
                    return Err(DbError::LeaseLost(format!(
                        "epoch {epoch} was taken over by another instance"
                    )));
                }
            }
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(APPEND_CHANNEL)
                .bind((size as u64 + entries.len() as u64).to_string())
                .execute(&mut *tx)
                .await
                .map_err(self.err())?;
            let leaves: Vec<Hash> = entries.iter().map(Entry::leaf_hash).collect();
            sqlx::query(
                "INSERT INTO entries (idx, time, type, actor, key, command_id, commitment, salt, command, signature, leaf_hash) \
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                                      $7::text[], $8::bytea[], $9::bytea[], $10::bytea[], $11::bytea[])",
            )
            .bind(entries.iter().map(|e| to_i64(e.header.index)).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| e.header.time.as_str()).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| e.entry_type.as_str()).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| e.key.as_str()).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| e.command_id.as_str()).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| e.header.commitment.as_str()).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| &e.salt[..]).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| e.command.as_slice()).collect::<Vec<_>>())
            .bind(entries.iter().map(|e| e.signature.as_slice()).collect::<Vec<_>>())
            .bind(leaves.iter().map(|h| &h[..]).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(self.err())?;
        }
        if !rows.is_empty() {
            let (kinds, ids, bodies) = projection_columns(&last_per_key(rows));
            sqlx::query(
                "INSERT INTO projections (kind, id, body) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[]) \
                 ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body",
            )
            .bind(kinds)
            .bind(ids)
            .bind(bodies)
            .execute(&mut *tx)
            .await
            .map_err(self.err())?;
        }
        tx.commit().await.map_err(self.err())
    }

    async fn size(&self) -> Result<u64, DbError> {
        // MAX on the primary key is an index look-up; COUNT(*) would scan.
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
            .fetch_one(&self.pool)
            .await
            .map_err(self.err())?;
        Ok(n as u64)
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<Entry>, DbError> {
        let rows = sqlx::query(select_entries!("WHERE idx >= $1 AND idx < $2 ORDER BY idx"))
            .bind(to_i64(start))
            .bind(to_i64(end))
            .fetch_all(&self.pool)
            .await
            .map_err(self.err())?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>, DbError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT idx, leaf_hash FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(to_i64(start))
        .bind(to_i64(end))
        .fetch_all(&self.pool)
        .await
        .map_err(self.err())?;
        rows.into_iter()
            .map(|(i, h)| {
                h.try_into()
                    .map_err(|_| DbError::Corrupt(format!("entry {i}: leaf hash is not 32 bytes")))
            })
            .collect()
    }

    async fn find_command(&self, actor: &str, command_id: &str) -> Result<Option<Entry>, DbError> {
        let row = sqlx::query(select_entries!("WHERE actor = $1 AND command_id = $2"))
            .bind(actor)
            .bind(command_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err())?;
        row.as_ref().map(entry_from_row).transpose()
    }

    async fn add_checkpoint(&self, cp: &StoredCheckpoint) -> Result<(), DbError> {
        // Announced like an append: followers serve the new checkpoint at once.
        sqlx::query(
            "WITH added AS (INSERT INTO checkpoints (size, note) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING size) \
             SELECT pg_notify($3, size::text) FROM added",
        )
        .bind(to_i64(cp.size))
        .bind(&cp.note)
        .bind(APPEND_CHANNEL)
        .execute(&self.pool)
        .await
        .map_err(self.err())?;
        Ok(())
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, DbError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT size, note FROM checkpoints ORDER BY size")
                .fetch_all(&self.pool)
                .await
                .map_err(self.err())?;
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
                .map_err(self.err())?;
        Ok(row.map(|(size, note)| StoredCheckpoint {
            size: size as u64,
            note,
        }))
    }

    async fn add_cosigned_checkpoint(&self, cp: &StoredCheckpoint) -> Result<(), DbError> {
        sqlx::query("INSERT INTO cosigned_checkpoints (size, note) VALUES ($1, $2)")
            .bind(to_i64(cp.size))
            .bind(&cp.note)
            .execute(&self.pool)
            .await
            .map_err(self.err())?;
        Ok(())
    }

    async fn latest_cosigned_checkpoint(&self) -> Result<Option<StoredCheckpoint>, DbError> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT size, note FROM cosigned_checkpoints ORDER BY size DESC, seq DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(self.err())?;
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
                .map_err(self.err())?;
        rows.into_iter().map(stored_row).collect()
    }

    async fn projection_rows_of(&self, kind: &str) -> Result<Vec<StoredRow>, DbError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT kind, id, body FROM projections WHERE kind = $1 ORDER BY id")
                .bind(kind)
                .fetch_all(&self.pool)
                .await
                .map_err(self.err())?;
        rows.into_iter().map(stored_row).collect()
    }

    async fn projection_row(&self, kind: &str, id: &str) -> Result<Option<StoredRow>, DbError> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT kind, id, body FROM projections WHERE kind = $1 AND id = $2")
                .bind(kind)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(self.err())?;
        row.map(stored_row).transpose()
    }

    async fn replace_projections(&self, rows: &[ProjectionRow]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await.map_err(self.err())?;
        // DELETE, not TRUNCATE: TRUNCATE is not MVCC-safe (a concurrent reader with an older
        // snapshot would see an empty table), and readers must see the old rows or the new.
        sqlx::query("DELETE FROM projections")
            .execute(&mut *tx)
            .await
            .map_err(self.err())?;
        if !rows.is_empty() {
            let all: Vec<&ProjectionRow> = rows.iter().collect();
            let (kinds, ids, bodies) = projection_columns(&all);
            sqlx::query(
                "INSERT INTO projections (kind, id, body) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])",
            )
            .bind(kinds)
            .bind(ids)
            .bind(bodies)
            .execute(&mut *tx)
            .await
            .map_err(self.err())?;
        }
        tx.commit().await.map_err(self.err())
    }

    async fn record_read(&self, r: &ReadRecord) -> Result<(), DbError> {
        let (items, concerned) = r.stored_lists();
        sqlx::query(
            "INSERT INTO read_audit (at, actor, key, path, items, concerned) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.at)
        .bind(&r.actor)
        .bind(&r.key)
        .bind(&r.path)
        .bind(items)
        .bind(concerned)
        .execute(&self.pool)
        .await
        .map_err(self.err())?;
        Ok(())
    }

    async fn add_webhook(&self, w: &Webhook) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO webhooks (id, actor, url, created_at, removed_at) VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(&w.id)
        .bind(&w.actor)
        .bind(&w.url)
        .bind(&w.created_at)
        .execute(&self.pool)
        .await
        .map_err(self.err())?;
        Ok(())
    }

    async fn remove_webhook(&self, id: &str, actor: &str, at: &str) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE webhooks SET removed_at = $1 WHERE id = $2 AND actor = $3 AND removed_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .bind(actor)
        .execute(&self.pool)
        .await
        .map_err(self.err())?;
        Ok(done.rows_affected() == 1)
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, DbError> {
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, actor, url, created_at, removed_at FROM webhooks ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.err())?;
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
            "INSERT INTO webhook_deliveries (webhook, alert, attempt, at, outcome, http_status, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&d.webhook)
        .bind(&d.alert)
        .bind(d.attempt as i32)
        .bind(&d.at)
        .bind(&d.outcome)
        .bind(d.http_status.map(i32::from))
        .bind(&d.error)
        .execute(&self.pool)
        .await
        .map_err(self.err())?;
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
                "SELECT seq, webhook, alert, attempt, at, outcome, http_status, error FROM webhook_deliveries WHERE webhook = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(webhook)
            .bind(to_i64(after))
            .bind(to_i64(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(self.err())?;
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
        // One transaction on the writer connection (synchronous_commit=on): the file and its link
        // are on disk together, or neither is.
        let mut tx = self.pool.begin().await.map_err(self.err())?;
        sqlx::query(
            "INSERT INTO evidence_files (sha256, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&file.sha256)
        .bind(&file.bytes)
        .execute(&mut *tx)
        .await
        .map_err(self.err())?;
        let linked = sqlx::query(
            "INSERT INTO evidence_links (sha256, incident, salt, commitment, uploader, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&link.sha256)
        .bind(&link.incident)
        .bind(&link.salt)
        .bind(&link.commitment)
        .bind(&link.uploader)
        .bind(&link.at)
        .execute(&mut *tx)
        .await
        .map_err(self.err())?;
        tx.commit().await.map_err(self.err())?;
        Ok(linked.rows_affected() == 1)
    }

    async fn evidence_links(&self, sha256: &str) -> Result<Vec<EvidenceLink>, DbError> {
        let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT sha256, incident, salt, commitment, uploader, at FROM evidence_links WHERE sha256 = $1 ORDER BY incident, commitment",
        )
        .bind(sha256)
        .fetch_all(&self.pool)
        .await
        .map_err(self.err())?;
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
        sqlx::query_scalar("SELECT bytes FROM evidence_files WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err())
    }

    async fn reads(&self, after: u64, limit: u64) -> Result<Vec<ReadRecord>, DbError> {
        let rows: Vec<(i64, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, actor, key, path, items, concerned FROM read_audit WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(after))
        .bind(to_i64(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(self.err())?;
        rows.into_iter().map(ReadRecord::from_stored).collect()
    }

    fn shared(&self) -> bool {
        true
    }

    async fn acquire_lease(
        &self,
        holder: &str,
        url: &str,
        ttl_ms: u64,
    ) -> Result<Option<u64>, DbError> {
        // Taken only if absent or expired by the database's clock; the epoch rises by one.
        let epoch: Option<i64> = sqlx::query_scalar(
            "INSERT INTO sequencer_lease (id, holder, epoch, url, expires_at) \
             VALUES (1, $1, 1, $2, clock_timestamp() + $3 * interval '1 millisecond') \
             ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, epoch = sequencer_lease.epoch + 1, \
                 url = EXCLUDED.url, expires_at = EXCLUDED.expires_at \
             WHERE sequencer_lease.expires_at < clock_timestamp() \
             RETURNING epoch",
        )
        .bind(holder)
        .bind(url)
        .bind(to_i64(ttl_ms) as f64)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.err())?;
        if let Some(e) = epoch {
            *self.lease.lock().expect("not poisoned") = Some((holder.to_string(), e));
        }
        Ok(epoch.map(|e| e as u64))
    }

    async fn renew_lease(&self, holder: &str, epoch: u64, ttl_ms: u64) -> Result<bool, DbError> {
        let renewed = sqlx::query(
            "UPDATE sequencer_lease SET expires_at = clock_timestamp() + $3 * interval '1 millisecond' \
             WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at >= clock_timestamp()",
        )
        .bind(holder)
        .bind(to_i64(epoch))
        .bind(to_i64(ttl_ms) as f64)
        .execute(&self.pool)
        .await
        .map_err(self.err())?
        .rows_affected()
            == 1;
        Ok(renewed)
    }

    async fn release_lease(&self, holder: &str, epoch: u64) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE sequencer_lease SET expires_at = clock_timestamp() - interval '1 millisecond' \
             WHERE id = 1 AND holder = $1 AND epoch = $2",
        )
        .bind(holder)
        .bind(to_i64(epoch))
        .execute(&self.pool)
        .await
        .map_err(self.err())?;
        Ok(())
    }

    async fn lease(&self) -> Result<Option<Lease>, DbError> {
        let row: Option<(String, i64, String, bool)> = sqlx::query_as(
            "SELECT holder, epoch, url, expires_at >= clock_timestamp() FROM sequencer_lease WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(self.err())?;
        Ok(row.map(|(holder, epoch, url, live)| Lease {
            holder,
            epoch: epoch as u64,
            url,
            live,
        }))
    }

    async fn watch_appends(&self, wake: AppendWaker) -> Result<bool, DbError> {
        // On a pool of its own: a listener holds its connection for good, and `close` on the
        // main pool waits for every connection to come back.
        let own = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.options.0.clone())
            .await
            .map_err(self.err())?;
        let mut listener = sqlx::postgres::PgListener::connect_with(&own)
            .await
            .map_err(self.err())?;
        listener.listen(APPEND_CHANNEL).await.map_err(self.err())?;
        // `recv` reconnects by itself after a lost connection (notifications sent meanwhile are
        // missed; the follower's poll covers those).
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => wake(n.payload().parse().unwrap_or(0)),
                    Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
        });
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("postgres://corridor:s3cr%40t@db.example:5432/log?sslmode=require"),
            "postgres://corridor:***@db.example:5432/log?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://u@h/db?password=hunter2&application_name=x"),
            "postgresql://u@h/db?password=***&application_name=x"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert!(!redact_url("nonsense").contains("nonsense"));
    }

    #[test]
    fn secrets_are_scrubbed_encoded_and_decoded() {
        let s = Secrets::of_url("postgres://u:p%40ss-word@h/db?password=other");
        let m = s.scrub("bad: postgres://u:p%40ss-word@h, p@ss-word, other");
        assert!(!m.contains("p%40ss-word") && !m.contains("p@ss-word") && !m.contains("other"));
        assert!(Secrets::of_url("postgres://u@h/db").0.is_empty());
    }

    #[test]
    fn a_batch_keeps_the_last_row_per_record() {
        let row = |id: &str, n: i64| ProjectionRow {
            kind: corridor_core::state::ProjectionKind::Incident,
            id: id.into(),
            body: serde_json::json!({ "n": n }),
        };
        let rows = [row("a", 1), row("b", 1), row("a", 2)];
        let kept: Vec<_> = last_per_key(&rows)
            .into_iter()
            .map(|r| (r.id.as_str(), r.body["n"].as_i64().unwrap()))
            .collect();
        assert_eq!(kept, vec![("b", 1), ("a", 2)]);
    }
}

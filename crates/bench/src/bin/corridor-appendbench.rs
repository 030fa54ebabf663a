//! Where the sequencer's time goes in storage: the cost of one group commit through
//! `Sqlite::append` (its multi-row INSERTs, its checks and its pragmas), against the same rows
//! written by a bare multi-row statement per table in the same kind of transaction (the floor
//! SQLite itself sets); and,
//! optionally, `Sqlite::append` on a scratch copy of a large log (does the cost grow with it?).
//!
//! ```text
//! corridor-appendbench --dir /tmp --batch 32 --batches 300 [--scratch-copy COPY_OF_BIG_LOG]
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use corridor_bench::{fmt_dur, machine, percentile};
use corridor_core::entry::Entry;
use corridor_core::state::ProjectionRow;
use corridor_storage::Database;
use corridor_storage_sqlite::Sqlite;
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

#[derive(Parser)]
#[command(about = "Cost of a group commit through Sqlite::append")]
struct Args {
    /// Where to make the scratch databases (use the disk the log lives on).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Entries per batch (the server's batches under 64 clients hold about 30).
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Batches to write.
    #[arg(long, default_value_t = 300)]
    batches: usize,
    /// A scratch COPY of a large data directory: also time `Sqlite::append` there (it appends
    /// unsigned filler entries, so the copy no longer verifies).
    #[arg(long)]
    scratch_copy: Option<PathBuf>,
}

/// Entries and projection rows shaped like the server's (sizes as in the ingest mix).
fn batch(start: u64, n: usize) -> (Vec<Entry>, Vec<ProjectionRow>) {
    let mut entries = Vec::with_capacity(n);
    let mut rows = Vec::with_capacity(n);
    for k in 0..n {
        let i = start + k as u64;
        let id = format!("ab-{i}");
        let command = format!(
            "{{\"actor\":\"ua/coord-kyiv-oblast\",\"body\":{{\"description\":\"{}\",\"incident\":\"{id}\",\"type\":\"incident.report\"}},\"id\":\"{id}\"}}",
            "x".repeat(400)
        )
        .into_bytes();
        entries.push(Entry::new(
            i,
            format!(
                "2022-03-03T14:50:{:02}.{:06}Z",
                (i / 1_000_000) % 60,
                i % 1_000_000
            ),
            "incident.report",
            "ua/coord-kyiv-oblast",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            &id,
            [7; 32],
            command,
            vec![9; 64],
        ));
        rows.push(ProjectionRow {
            kind: corridor_core::state::ProjectionKind::Incident,
            id: id.clone(),
            body: json!({"id": id, "reporter": "ua/coord-kyiv-oblast", "description": "x".repeat(300), "responses": []}),
        });
    }
    (entries, rows)
}

/// The same transaction with one multi-row INSERT per table.
async fn append_multirow(
    pool: &sqlx::SqlitePool,
    entries: &[Entry],
    rows: &[ProjectionRow],
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let mut q = sqlx::QueryBuilder::new(
        "INSERT INTO entries (idx, time, type, actor, key, command_id, commitment, salt, command, signature, leaf_hash) ",
    );
    q.push_values(entries, |mut b, e| {
        let h = &e.header;
        b.push_bind(h.index as i64)
            .push_bind(h.time.clone())
            .push_bind(e.entry_type.clone())
            .push_bind(e.actor.clone())
            .push_bind(e.key.clone())
            .push_bind(e.command_id.clone())
            .push_bind(h.commitment.clone())
            .push_bind(e.salt.to_vec())
            .push_bind(e.command.clone())
            .push_bind(e.signature.clone())
            .push_bind(e.leaf_hash().to_vec());
    });
    q.build().execute(&mut *tx).await?;
    let mut q = sqlx::QueryBuilder::new("INSERT OR REPLACE INTO projections (kind, id, body) ");
    q.push_values(rows, |mut b, r| {
        b.push_bind(r.kind.as_str())
            .push_bind(r.id.clone())
            .push_bind(r.body.to_string());
    });
    q.build().execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

fn summary(label: &str, mut lat: Vec<Duration>, per: usize) {
    lat.sort_unstable();
    let total: Duration = lat.iter().sum();
    println!(
        "| {label} | {} | {} | {} | {:.1} µs |",
        fmt_dur(percentile(&lat, 50.0)),
        fmt_dur(percentile(&lat, 99.0)),
        fmt_dur(lat[lat.len() - 1]),
        total.as_secs_f64() * 1e6 / (lat.len() * per) as f64
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let tmp = tempfile::Builder::new()
        .prefix(".append-bench")
        .tempdir_in(&a.dir)?;

    // 1. Through the real backend.
    let db = Sqlite::open(&tmp.path().join("append.sqlite")).await?;
    let mut lat = Vec::with_capacity(a.batches);
    for b in 0..a.batches {
        let (entries, rows) = batch((b * a.batch) as u64, a.batch);
        let t = Instant::now();
        db.append(&entries, &rows).await?;
        lat.push(t.elapsed());
    }
    let through_backend = lat;

    // 2. The same rows, one multi-row statement per table, same pragmas and schema.
    let path = tmp.path().join("multirow.sqlite");
    drop(Sqlite::open(&path).await?); // creates the schema
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full),
        )
        .await?;
    let mut lat = Vec::with_capacity(a.batches);
    for b in 0..a.batches {
        let (entries, rows) = batch((b * a.batch) as u64, a.batch);
        let t = Instant::now();
        append_multirow(&pool, &entries, &rows).await?;
        lat.push(t.elapsed());
    }
    let multirow = lat;

    println!(
        "### group commit of {} entries + {} projection rows ({})",
        a.batch,
        a.batch,
        machine()
    );
    println!();
    println!("| how | p50 per batch | p99 | max | per entry |");
    println!("| --- | --- | --- | --- | --- |");
    summary(
        "`Sqlite::append` (as the server writes a batch)",
        through_backend,
        a.batch,
    );
    summary(
        "bare multi-row INSERT per table, same transaction (the floor)",
        multirow,
        a.batch,
    );
    if let Some(d) = &a.scratch_copy {
        let db = Sqlite::open(&d.join("corridor.sqlite")).await?;
        let start = db.size().await?;
        let mut lat = Vec::with_capacity(a.batches);
        for b in 0..a.batches {
            let (entries, rows) = batch(start + (b * a.batch) as u64, a.batch);
            let t = Instant::now();
            db.append(&entries, &rows).await?;
            lat.push(t.elapsed());
        }
        summary(
            &format!("`Sqlite::append` on a copy of a {start}-entry log"),
            lat,
            a.batch,
        );
    }
    println!();

    Ok(())
}

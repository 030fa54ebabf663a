//! Grow a demo log to N entries quickly, directly through the storage layer, without cutting
//! corners on what the entries are: every command is signed by a registered key, decided by
//! `State::execute` at a strictly increasing log time within the clock-skew limit, stored with a
//! fresh random salt and its projection rows in one transaction per batch, and a checkpoint
//! signed with the log key is stored after every batch. `corridor verify` must accept the result.
//!
//! ```text
//! corridor demo --data-dir D --no-serve
//! corridor-buildlog --data-dir D --entries 1000000
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use corridor_bench::{Mix, load_key, load_signers};
use corridor_core::checkpoint::Checkpoint;
use corridor_core::entry::Entry;
use corridor_core::envelope::{Draft, SignedCommand};
use corridor_core::merkle::MemoryTree;
use corridor_core::state::Replay;
use corridor_core::time::format_log_time;
use corridor_storage::{Database, StoredCheckpoint};
use corridor_storage_sqlite::Sqlite;
use jiff::SignedDuration;

#[derive(Parser)]
#[command(about = "Grow a demo log to N honestly signed and sequenced entries")]
struct Args {
    /// The demo data directory (prepared with `corridor demo --no-serve`).
    #[arg(long)]
    data_dir: PathBuf,
    /// Total entries wanted in the log.
    #[arg(long, default_value_t = 1_000_000)]
    entries: u64,
    /// Entries per transaction.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Short descriptions only (smaller state for very large logs).
    #[arg(long)]
    short: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let started = Instant::now();
    let db = Sqlite::open(&a.data_dir.join("corridor.sqlite")).await?;
    let (log_key, _) = load_key(&a.data_dir.join("log.key"))?;
    let signers = load_signers(&a.data_dir)?;
    if signers.is_empty() {
        bail!("no key files with actors in {}", a.data_dir.display());
    }

    // The state and tree as they are now.
    let size = db.size().await?;
    let mut replay = Replay::trusting_signatures();
    let mut tree = MemoryTree::with_capacity(a.entries as usize);
    let mut start = 0;
    while start < size {
        let end = (start + 10_000).min(size);
        for e in db.entries(start, end).await? {
            replay
                .apply(&e)
                .map_err(|r| anyhow::anyhow!("entry {} does not replay: {r}", e.header.index))?;
            tree.push(e.leaf_hash());
        }
        start = end;
    }
    let mut state = replay.into_state().context("the log is empty")?;
    let origin = state.origin().to_string();
    let mut mix = Mix::new(&signers, 0x5eed ^ size, 1, &format!("bl{size}"));
    if a.short {
        mix = mix.short();
    }
    // One entry per millisecond of log time, starting a second after the last entry.
    let mut time = state
        .last_time
        .checked_add(SignedDuration::from_secs(1))
        .expect("time in range");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut bytes = 0u64;
    let mut last_report = Instant::now();
    while state.size < a.entries {
        let n = ((a.entries - state.size) as usize).min(a.batch);
        let mut plan = Vec::with_capacity(n);
        for _ in 0..n {
            plan.push((mix.next_command(), time));
            time = time
                .checked_add(SignedDuration::from_millis(1))
                .expect("time in range");
        }
        // Sign and parse on every core.
        let cmds: Vec<(SignedCommand, jiff::Timestamp)> = std::thread::scope(|s| {
            let handles: Vec<_> = plan
                .chunks(n.div_ceil(threads).max(1))
                .map(|part| {
                    let (signers, origin) = (&signers, &origin);
                    s.spawn(move || {
                        part.iter()
                            .map(|(p, t)| {
                                let signer = &signers[p.signer];
                                let client_time = format!("{}Z", &format_log_time(*t)[..19]);
                                let env = Draft {
                                    origin,
                                    actor: &signer.actor,
                                    id: &p.id,
                                    time: &client_time,
                                    body: p.body.clone(),
                                }
                                .sign(&signer.key);
                                let cmd = SignedCommand::parse_unverified(&env, origin)
                                    .expect("our own envelopes parse");
                                (cmd, *t)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("signing thread"))
                .collect()
        });
        // Sequence: decide against the state, build entries, then one transaction.
        let mut salts = vec![0u8; 32 * n];
        getrandom::fill(&mut salts).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
        let mut entries = Vec::with_capacity(n);
        let mut rows = Vec::new();
        for (k, (cmd, t)) in cmds.into_iter().enumerate() {
            let index = state.size;
            let changed = state
                .execute(&cmd, t)
                .map_err(|r| anyhow::anyhow!("command {} refused: {r}", cmd.id))?;
            rows.extend(changed);
            let salt: [u8; 32] = salts[32 * k..32 * (k + 1)].try_into().expect("32 bytes");
            bytes += cmd.command_bytes.len() as u64 + 64;
            let e = Entry::new(
                index,
                format_log_time(t),
                cmd.body.type_name(),
                &cmd.actor,
                &cmd.key.id(),
                &cmd.id,
                salt,
                cmd.command_bytes,
                cmd.signature.to_vec(),
            );
            tree.push(e.leaf_hash());
            entries.push(e);
        }
        db.append(&entries, &rows).await?;
        let cp = Checkpoint {
            origin: origin.clone(),
            size: tree.size(),
            root: tree.root(),
        };
        db.add_checkpoint(&StoredCheckpoint {
            size: cp.size,
            note: cp.sign(&log_key),
        })
        .await?;
        if last_report.elapsed().as_secs() >= 10 || state.size >= a.entries {
            last_report = Instant::now();
            eprintln!(
                "{} entries ({:.0} entries/s so far)",
                state.size,
                (state.size - size) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let added = state.size - size;
    println!(
        "built: {} entries ({added} added, {:.0} command bytes on average) in {:.1} s ({:.0} entries/s); last log time {}",
        state.size,
        bytes as f64 / added.max(1) as f64,
        started.elapsed().as_secs_f64(),
        added as f64 / started.elapsed().as_secs_f64(),
        format_log_time(state.last_time)
    );
    Ok(())
}

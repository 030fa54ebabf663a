//! Verify benchmark: time `corridor verify --data-dir D` and, in the same run, bare
//! `verify_strict` of the same signatures on every core; report entries/s and the ratio.
//!
//! ```text
//! corridor-verifybench --data-dir D --corridor target/release/corridor
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use corridor_bench::{CpuMeter, SigItem, bare_verify_clean, genesis, machine, wait_quiet};
use corridor_core::crypto::unb64;
use corridor_core::envelope::signing_message;
use corridor_storage::Database;
use corridor_storage_sqlite::Sqlite;
use ed25519_dalek::{Signature, VerifyingKey};

#[derive(Parser)]
#[command(about = "Time `corridor verify` against bare verify_strict of the same signatures")]
struct Args {
    /// The data directory to verify.
    #[arg(long)]
    data_dir: PathBuf,
    /// The `corridor` binary (a release build).
    #[arg(long, default_value = "target/release/corridor")]
    corridor: PathBuf,
    /// Label for this run in the table.
    #[arg(long, default_value = "verify")]
    label: String,
    /// Seconds to wait at most for other processes to go quiet before each measurement.
    #[arg(long, default_value_t = 120)]
    quiet_wait: u64,
    /// Rounds of (baseline, verify), alternated; the ratio reported is the median of the
    /// rounds' ratios. Single runs on a shared 2-core VM vary by about ±10 %, and alternating
    /// keeps a slow spell of the machine from landing on one side of the ratio only.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// One round: the baseline, then `corridor verify`.
struct Round {
    bare: f64,
    threads: usize,
    bare_others: f64,
    elapsed: std::time::Duration,
    verify_cpu: String,
    stdout: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let (origin, _) = genesis(&a.data_dir)?;
    let size;
    let items: Vec<SigItem> = {
        let db = Sqlite::open(&a.data_dir.join("corridor.sqlite")).await?;
        size = db.size().await?;
        let mut keys: HashMap<String, VerifyingKey> = HashMap::new();
        let mut items = Vec::with_capacity(size as usize);
        let mut start = 1; // entry 0 is the genesis, which carries no command signature
        while start < size {
            let end = (start + 20_000).min(size);
            for e in db.entries(start, end).await? {
                let key = match keys.get(&e.key) {
                    Some(k) => *k,
                    None => {
                        let bytes: [u8; 32] = unb64("key", &e.key)
                            .map_err(|r| anyhow::anyhow!("{r}"))?
                            .try_into()
                            .map_err(|_| anyhow::anyhow!("key is not 32 bytes"))?;
                        let k = VerifyingKey::from_bytes(&bytes)?;
                        keys.insert(e.key.clone(), k);
                        k
                    }
                };
                items.push(SigItem {
                    key,
                    message: signing_message(&origin, &e.command),
                    signature: Signature::from_slice(&e.signature)?,
                });
            }
            start = end;
        }
        items
    };
    let sigs = items.len();
    let quiet = std::time::Duration::from_secs(a.quiet_wait);
    let mut rounds = Vec::new();
    for round in 1..=a.rounds.max(1) {
        eprintln!("round {round}: {sigs} signatures, bare verify_strict on every core...");
        let (bare, threads, bare_others) = bare_verify_clean(&items, quiet);
        wait_quiet(quiet, 0.25);
        let meter = CpuMeter::start(None);
        eprintln!("round {round}: running {} verify...", a.corridor.display());
        let started = Instant::now();
        let out = Command::new(&a.corridor)
            .args(["verify", "--data-dir"])
            .arg(&a.data_dir)
            .env("CORRIDOR_LOG", "warn")
            .output()
            .with_context(|| format!("cannot run {}", a.corridor.display()))?;
        let elapsed = started.elapsed();
        let verify_cpu = meter.stop();
        if !out.status.success() {
            bail!(
                "corridor verify failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        rounds.push(Round {
            bare,
            threads,
            bare_others,
            elapsed,
            verify_cpu: verify_cpu.to_string(),
            stdout: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        });
    }
    drop(items);
    let rate = |r: &Round| size as f64 / r.elapsed.as_secs_f64();
    let mut by_ratio: Vec<&Round> = rounds.iter().collect();
    by_ratio.sort_by(|x, y| (rate(x) / x.bare).total_cmp(&(rate(y) / y.bare)));
    let median = by_ratio[by_ratio.len() / 2];
    let (bare, threads, bare_others, elapsed, verify_cpu) = (
        median.bare,
        median.threads,
        median.bare_others,
        median.elapsed,
        &median.verify_cpu,
    );
    let rate = rate(median);

    println!("### {} ({})", a.label, machine());
    println!();
    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| log | {size} entries; `corridor verify`: {} |",
        median.stdout
    );
    for (n, r) in rounds.iter().enumerate() {
        let v = size as f64 / r.elapsed.as_secs_f64();
        println!(
            "| round {} | verify {:.2} s = {v:.0} entries/s; bare verify_strict {:.0} signatures/s; ratio {:.2}× |",
            n + 1,
            r.elapsed.as_secs_f64(),
            r.bare,
            v / r.bare
        );
    }
    println!(
        "| median round: `corridor verify --data-dir` (wall clock, page cache warm) | {:.2} s |",
        elapsed.as_secs_f64()
    );
    println!("| **verify** | **{rate:.0} entries/s** |");
    println!(
        "| baseline: bare verify_strict of the same {sigs} signatures, {threads} threads | {bare:.0} signatures/s |"
    );
    println!(
        "| **verify / bare verify_strict** (median of {} rounds) | **{:.2}×** (target ≥ 0.9×) |",
        rounds.len(),
        rate / bare
    );
    println!("| CPU during `corridor verify` | {verify_cpu} (its own average parallelism) |");
    println!(
        "| CPU during bare verify_strict | other processes at most {bare_others:.2} cores (measured in chunks on a quiet machine) |"
    );
    println!();
    Ok(())
}

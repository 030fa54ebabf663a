//! Ingest benchmark: sign N commands beforehand (a realistic mix), then send them to a running
//! `corridor demo` with 64 concurrent HTTP/1.1 keep-alive clients; report commands/s and
//! latency, and in the same run the baselines: bare `verify_strict` of the same commands on
//! every core this process may use, and the disk's single-row SQLite commit rate (WAL,
//! synchronous=FULL).
//!
//! ```text
//! corridor demo --data-dir D --listen 127.0.0.1:8080 &
//! corridor-loadgen --server http://127.0.0.1:8080 --data-dir D -n 40000
//! ```
//!
//! The fair comparison pins the server to one core and this generator to the other
//! (`taskset -c 0 corridor demo …`, `taskset -c 1 corridor-loadgen …`, as `scripts/bench.sh`
//! does): the baseline then runs on one core, the server has one core, and the report breaks
//! the server's CPU per command down into the parts measured here on one core of the same
//! model (the signature check, parsing the envelope, signing the receipt) and the rest.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use corridor_bench::http::{Conn, get_text};
use corridor_bench::{
    CpuMeter, Mix, SigItem, bare_verify_clean, fmt_dur, fsync_rate, genesis, host_port,
    load_signers, machine, percentile, percentile_usize, wait_quiet,
};
use corridor_core::crypto::Keypair;
use corridor_core::envelope::{Draft, SignedCommand};
use corridor_core::receipt::Receipt;
use serde_json::Value;

#[derive(Parser)]
#[command(about = "Ingest benchmark for a running corridor demo server")]
struct Args {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// More instances of the same log (several servers on one PostgreSQL), repeated: clients are
    /// spread evenly over `--server` and these. Metrics are read from `--server`.
    #[arg(long = "also-server")]
    also_servers: Vec<String>,
    /// The demo data directory (for the key files and the genesis).
    #[arg(long)]
    data_dir: PathBuf,
    /// Commands to send.
    #[arg(short, default_value_t = 40_000)]
    n: usize,
    /// Concurrent clients (one keep-alive connection each).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Directory for the fsync probe (default: the data directory, so the same disk).
    #[arg(long)]
    fsync_dir: Option<PathBuf>,
    /// Seconds to run the fsync probe.
    #[arg(long, default_value_t = 3.0)]
    fsync_seconds: f64,
    /// Label for this run in the table.
    #[arg(long, default_value = "ingest")]
    label: String,
    /// The server's pid, to report its CPU use.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seconds to wait at most for other processes to go quiet before each measurement.
    #[arg(long, default_value_t = 120)]
    quiet_wait: u64,
}

/// The parts of a command's server-side cost that can be measured apart, timed on this
/// process's thread (pinned to a core of the same model as the server's in the fair run).
struct Parts {
    parse_us: f64,
    receipt_us: f64,
}

impl Parts {
    fn measure(envelopes: &[Vec<u8>], origin: &str) -> Self {
        let sample = &envelopes[..envelopes.len().min(20_000)];
        let started = Instant::now();
        for e in sample {
            std::hint::black_box(SignedCommand::parse_unverified(e, origin).expect("parses"));
        }
        let parse_us = started.elapsed().as_secs_f64() * 1e6 / sample.len().max(1) as f64;
        let key = Keypair::from_seed([7; 32]);
        let n = 5_000;
        let started = Instant::now();
        for i in 0..n {
            let receipt = Receipt {
                log: origin.to_string(),
                index: 1_000_000 + i,
                leaf_hash: "c".repeat(44),
                time: "2022-03-04T12:00:00.000Z".into(),
                salt: "5".repeat(44),
                max_merge_delay_ms: 1000,
                actor: "actors/ukraine-coordinator".into(),
                command_id: format!("lg-{i}"),
            };
            std::hint::black_box(receipt.sign(&key));
        }
        let receipt_us = started.elapsed().as_secs_f64() * 1e6 / n as f64;
        Parts {
            parse_us,
            receipt_us,
        }
    }
}

/// The time to sign with: the log's clock, or the last entry's time if the log is ahead of its
/// clock (a restarted demo restarts its simulated clock; the log time never goes back).
async fn client_time(hp: &str) -> anyhow::Result<String> {
    let head: Value = serde_json::from_str(&get_text(hp, "/v1/log/head").await?)?;
    let now = head["clock"]["now"]
        .as_str()
        .context("head without clock.now")?
        .to_string();
    let size = head["size"].as_u64().unwrap_or(0);
    let mut t = now;
    if size > 0 {
        let leaves: Value = serde_json::from_str(
            &get_text(hp, &format!("/v1/log/leaves?start={}&end={size}", size - 1)).await?,
        )?;
        if let Some(last) = leaves["leaves"][0]["leaf"]["time"].as_str()
            && last > t.as_str()
        {
            t = last.to_string();
        }
    }
    Ok(format!("{}Z", &t[..19]))
}

/// Mean batch size and number of batches from the server's Prometheus summary, if present.
async fn batches(hp: &str) -> Option<(f64, f64)> {
    let text = get_text(hp, "/metrics").await.ok()?;
    let get = |name: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
    };
    Some((
        get("corridor_append_batch_size_sum")?,
        get("corridor_append_batch_size_count")?,
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let hp = host_port(&a.server)?;
    let mut targets = vec![hp.clone()];
    for s in &a.also_servers {
        targets.push(host_port(s)?);
    }
    let (origin, _log_key) = genesis(&a.data_dir)?;
    let signers = load_signers(&a.data_dir)?;
    if signers.is_empty() {
        bail!("no key files with actors in {}", a.data_dir.display());
    }
    let time = client_time(&hp).await?;

    // 1. Sign everything beforehand, on every core.
    let started = Instant::now();
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    let run = format!("lg{:x}", u64::from_le_bytes(seed) & 0xffff_ffff);
    let mut mix = Mix::new(&signers, u64::from_le_bytes(seed), 2000, &run);
    let plan: Vec<_> = (0..a.n).map(|_| mix.next_command()).collect();
    let reports = plan
        .iter()
        .filter(|p| p.body["type"] == "incident.report")
        .count();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let envelopes: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = plan
            .chunks(a.n.div_ceil(threads).max(1))
            .map(|part| {
                let (signers, origin, time) = (&signers, &origin, &time);
                s.spawn(move || {
                    part.iter()
                        .map(|p| {
                            let signer = &signers[p.signer];
                            Draft {
                                origin,
                                actor: &signer.actor,
                                id: &p.id,
                                time,
                                body: p.body.clone(),
                            }
                            .sign(&signer.key)
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
    eprintln!(
        "signed {} commands in {:.2?} (client time {time})",
        a.n,
        started.elapsed()
    );
    let mut sizes: Vec<usize> = envelopes.iter().map(Vec::len).collect();
    sizes.sort_unstable();

    // 2. Baseline: bare verify_strict of the same commands on every core.
    let items: Vec<SigItem> = envelopes
        .iter()
        .map(|e| {
            let c = SignedCommand::parse_unverified(e, &origin).expect("our own envelopes parse");
            SigItem::new(&origin, c.key.as_bytes(), &c.command_bytes, &c.signature)
        })
        .collect();
    let quiet = Duration::from_secs(a.quiet_wait);
    let (bare, bare_threads, bare_others) = bare_verify_clean(&items, quiet);
    drop(items);
    wait_quiet(quiet, 0.25);
    let parts = Parts::measure(&envelopes, &origin);

    // 3. Baseline: the disk's single-row commit rate.
    let fsync_dir = a.fsync_dir.clone().unwrap_or_else(|| a.data_dir.clone());
    wait_quiet(quiet, 0.25);
    let meter = CpuMeter::start(None);
    let (fsyncs, _) = fsync_rate(&fsync_dir, Duration::from_secs_f64(a.fsync_seconds)).await?;
    let fsync_cpu = meter.stop();

    // 4. Ingest: `clients` connections pull the next command from a shared counter.
    let before = batches(&hp).await;
    let requests: Arc<Vec<Vec<u8>>> = Arc::new({
        let probe = Conn::connect(&hp).await?;
        envelopes
            .iter()
            .map(|e| probe.post_json("/v1/commands", e))
            .collect()
    });
    let next = Arc::new(AtomicUsize::new(0));
    wait_quiet(quiet, 0.25);
    let meter = CpuMeter::start(a.server_pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let (requests, next, hp) = (
            requests.clone(),
            next.clone(),
            targets[c % targets.len()].clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(&hp).await?;
            let mut lat = Vec::new();
            let mut refused: Vec<String> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests.len() {
                    break;
                }
                let t = Instant::now();
                let r = conn.request(&requests[i]).await?;
                lat.push(t.elapsed());
                if r.status != 201 {
                    refused.push(format!("{} {}", r.status, String::from_utf8_lossy(&r.body)));
                }
            }
            anyhow::Ok((lat, refused))
        }));
    }
    let mut lat = Vec::with_capacity(a.n);
    let mut refused = Vec::new();
    for t in tasks {
        let (l, r) = t.await??;
        lat.extend(l);
        refused.extend(r);
    }
    let elapsed = started.elapsed();
    let ingest_cpu = meter.stop();
    let after = batches(&hp).await;
    lat.sort_unstable();
    let accepted = a.n - refused.len();
    let rate = accepted as f64 / elapsed.as_secs_f64();
    if let Some(first) = refused.first() {
        eprintln!("{} commands refused; first: {first}", refused.len());
    }
    // Before the first commit the server has no such metric yet: count from zero.
    let batch = match (before.or(Some((0.0, 0.0))), after) {
        (Some((s0, c0)), Some((s1, c1))) if c1 > c0 => {
            format!("{:.1} (over {:.0} commits)", (s1 - s0) / (c1 - c0), c1 - c0)
        }
        _ => "n/a".into(),
    };
    let mean_size = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;

    println!("### {} ({})", a.label, machine());
    println!();
    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| commands | {} ({} incident.report, {} incident.respond), {} clients over {} instance(s), HTTP/1.1 keep-alive |",
        a.n,
        reports,
        a.n - reports,
        a.clients,
        targets.len()
    );
    println!(
        "| envelope bytes | min {} / p10 {} / p50 {} / p90 {} / max {} / mean {:.0} |",
        sizes[0],
        percentile_usize(&sizes, 10.0),
        percentile_usize(&sizes, 50.0),
        percentile_usize(&sizes, 90.0),
        sizes[sizes.len() - 1],
        mean_size
    );
    println!(
        "| accepted (201) | {accepted} of {} in {:.2} s |",
        a.n,
        elapsed.as_secs_f64()
    );
    println!("| **ingest** | **{rate:.0} commands/s** |");
    println!(
        "| latency | p50 {} / p99 {} / max {} |",
        fmt_dur(percentile(&lat, 50.0)),
        fmt_dur(percentile(&lat, 99.0)),
        fmt_dur(lat[lat.len() - 1])
    );
    println!("| mean commands per commit (group commit) | {batch} |");
    println!("| baseline: bare verify_strict, {bare_threads} threads | {bare:.0} signatures/s |");
    println!(
        "| **ingest / bare verify_strict** | **{:.2}×** (target ≥ 0.4×) |",
        rate / bare
    );
    println!("| baseline: single-row commits, WAL + synchronous=FULL | {fsyncs:.0} commits/s |");
    println!(
        "| ingest / single-row commit rate | {:.1}× |",
        rate / fsyncs
    );
    println!("| CPU during ingest | {ingest_cpu} |");
    println!(
        "| CPU during bare verify_strict | other processes at most {bare_others:.2} cores (measured in chunks on a quiet machine) |"
    );
    println!("| CPU during the fsync probe | {fsync_cpu} |");
    println!();
    if let Some(server_cores) = ingest_cpu.server {
        // Server CPU per accepted command, and the parts of it measured apart on one core.
        let total = server_cores * elapsed.as_secs_f64() * 1e6 / accepted.max(1) as f64;
        let verify = bare_threads as f64 * 1e6 / bare;
        let known = verify + parts.parse_us + parts.receipt_us;
        println!(
            "Server CPU per command ({server_cores:.2} cores × {:.2} s / {accepted} commands), and what it is spent on:",
            elapsed.as_secs_f64()
        );
        println!();
        println!("| part | µs of CPU per command | share |");
        println!("| --- | --- | --- |");
        let row = |name: &str, us: f64| {
            println!("| {name} | {us:.1} | {:.0} % |", 100.0 * us / total);
        };
        row(
            "`verify_strict` of the command (the baseline's own cost, one core)",
            verify,
        );
        row(
            "parsing the envelope (strict JCS, canonical check; `SignedCommand::parse_unverified`)",
            parts.parse_us,
        );
        row("signing the receipt (`Receipt::sign`)", parts.receipt_us);
        row(
            "the rest: HTTP, sequencing, the state machine, SQLite, the answer",
            (total - known).max(0.0),
        );
        println!("| **total** | **{total:.1}** | 100 % |");
        println!();
    }
    if !refused.is_empty() {
        bail!("{} commands were refused", refused.len());
    }
    Ok(())
}

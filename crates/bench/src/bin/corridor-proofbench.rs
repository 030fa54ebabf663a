//! Proof endpoints: end-to-end latency of `/v1/log/proof/inclusion` and `/consistency` at
//! historical sizes under light, paced load, and the in-process cost of computing the same
//! proofs on a tree rebuilt from the data directory's leaf hashes. Every sampled answer is
//! checked against the root at its size.
//!
//! ```text
//! corridor demo --data-dir D --listen 127.0.0.1:8080 &
//! corridor-proofbench --server http://127.0.0.1:8080 --data-dir D
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use corridor_bench::http::{Conn, get_text};
use corridor_bench::{CpuMeter, Rng, fmt_dur, host_port, machine, percentile, wait_quiet};
use corridor_core::crypto::unb64;
use corridor_core::merkle::{Hash, MemoryTree, verify_consistency, verify_inclusion};
use corridor_storage::Database;
use corridor_storage_sqlite::Sqlite;
use serde_json::Value;

#[derive(Parser)]
#[command(about = "Latency of the proof endpoints at historical sizes")]
struct Args {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The server's data directory: rebuild the tree from its leaf hashes to check every answer
    /// and to time the proof computation alone.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Requests per endpoint.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Total request rate (requests/s), paced: light load.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Connections (keep-alive) sharing the rate.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Label for this run in the table.
    #[arg(long, default_value = "proofs")]
    label: String,
    /// The server's pid, to report its CPU use.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seconds to wait at most for other processes to go quiet before measuring.
    #[arg(long, default_value_t = 120)]
    quiet_wait: u64,
}

/// (a, b) pairs with b in the newer half of the tree and a < b: requests at historical sizes,
/// spread so look-ups miss caches as they would for real clients (as in the criterion bench).
fn pairs(n: u64, count: usize, seed: u64) -> Vec<(u64, u64)> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let b = n / 2 + 1 + rng.next_u64() % (n - n / 2);
            (rng.next_u64() % b, b)
        })
        .collect()
}

fn hashes(v: &Value) -> anyhow::Result<Vec<Hash>> {
    v["proof"]
        .as_array()
        .context("no proof")?
        .iter()
        .map(|h| {
            unb64("proof", h.as_str().unwrap_or(""))
                .ok()
                .and_then(|b| b.try_into().ok())
                .context("proof hash is not 32 bytes of base64")
        })
        .collect()
}

/// Paced requests over `connections`; latency from the moment the request is written. (Tokio's
/// timer has millisecond granularity, so timing from the scheduled instant would add up to a
/// millisecond of client-side wake-up delay; at this light rate each answer comes back long
/// before the next request is due, so no request waits behind a slow one and timing from the
/// write hides nothing.) Returns sorted latencies and the sampled bodies.
async fn run(
    hp: &str,
    paths: Vec<String>,
    rate: f64,
    connections: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<(usize, Vec<u8>)>)> {
    let per_conn = rate / connections as f64;
    let interval = Duration::from_secs_f64(1.0 / per_conn);
    let mut tasks = Vec::new();
    let paths = std::sync::Arc::new(paths);
    for c in 0..connections {
        let (hp, paths) = (hp.to_string(), paths.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(&hp).await?;
            let mine: Vec<usize> = (c..paths.len()).step_by(connections).collect();
            let reqs: Vec<Vec<u8>> = mine.iter().map(|&i| conn.get(&paths[i])).collect();
            let mut lat = Vec::with_capacity(reqs.len());
            let mut samples = Vec::new();
            // Stagger the connections within one interval.
            let t0 = Instant::now() + interval.mul_f64(c as f64 / connections as f64);
            for (k, req) in reqs.iter().enumerate() {
                let due = t0 + interval.mul_f64(k as f64);
                tokio::time::sleep_until(due.into()).await;
                let sent = Instant::now();
                let r = conn.request(req).await?;
                lat.push(sent.elapsed());
                if r.status != 200 {
                    bail!(
                        "{}: {} {}",
                        paths[mine[k]],
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    );
                }
                if k % 64 == 0 {
                    samples.push((mine[k], r.body));
                }
            }
            anyhow::Ok((lat, samples))
        }));
    }
    let mut lat = Vec::new();
    let mut samples = Vec::new();
    for t in tasks {
        let (l, s) = t.await??;
        lat.extend(l);
        samples.extend(s);
    }
    lat.sort_unstable();
    Ok((lat, samples))
}

fn timed(mut f: impl FnMut(usize), count: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let t = Instant::now();
        f(i);
        out.push(t.elapsed());
    }
    out.sort_unstable();
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let hp = host_port(&a.server)?;
    let head: Value = serde_json::from_str(&get_text(&hp, "/v1/log/head").await?)?;
    let n = head["size"].as_u64().context("head without size")?;
    if n < 4 {
        bail!("the log is too small ({n} entries)");
    }
    let inc = pairs(n, a.requests, 0x1234_5678);
    let con = pairs(n, a.requests, 0x8765_4321);
    let inc_paths: Vec<String> = inc
        .iter()
        .map(|(i, s)| format!("/v1/log/proof/inclusion?index={i}&size={s}"))
        .collect();
    let con_paths: Vec<String> = con
        .iter()
        .map(|(f, t)| format!("/v1/log/proof/consistency?from={}&to={t}", f + 1))
        .collect();

    // The tree, to check answers and to time the computation alone.
    let tree = match &a.data_dir {
        Some(d) => {
            let started = Instant::now();
            let db = Sqlite::open(&d.join("corridor.sqlite")).await?;
            let mut t = MemoryTree::with_capacity(n as usize);
            let mut start = 0;
            while start < n {
                let end = (start + 100_000).min(n);
                t.extend(db.leaf_hashes(start, end).await?);
                start = end;
            }
            eprintln!("rebuilt the {n}-leaf tree in {:.2?}", started.elapsed());
            Some(t)
        }
        None => None,
    };

    // Warm up connections and caches a little, then measure each endpoint.
    let _ = run(
        &hp,
        inc_paths[..200.min(inc_paths.len())].to_vec(),
        a.rate,
        a.connections,
    )
    .await?;
    wait_quiet(Duration::from_secs(a.quiet_wait), 0.25);
    let meter = CpuMeter::start(a.server_pid);
    let (inc_lat, inc_samples) = run(&hp, inc_paths.clone(), a.rate, a.connections).await?;
    let (con_lat, con_samples) = run(&hp, con_paths.clone(), a.rate, a.connections).await?;
    let cpu = meter.stop();

    let mut checked = 0;
    if let Some(t) = &tree {
        for (i, body) in &inc_samples {
            let v: Value = serde_json::from_slice(body)?;
            let (index, size) = inc[*i];
            let leaf = t.leaf(index).context("leaf")?;
            verify_inclusion(&leaf, index, size, &hashes(&v)?, &t.root_at(size)?)
                .map_err(|e| anyhow::anyhow!("inclusion proof {index}@{size} is wrong: {e}"))?;
            checked += 1;
        }
        for (i, body) in &con_samples {
            let v: Value = serde_json::from_slice(body)?;
            let (from, to) = (con[*i].0 + 1, con[*i].1);
            verify_consistency(from, to, &t.root_at(from)?, &t.root_at(to)?, &hashes(&v)?)
                .map_err(|e| anyhow::anyhow!("consistency proof {from}->{to} is wrong: {e}"))?;
            checked += 1;
        }
    }

    println!("### {} ({})", a.label, machine());
    println!();
    println!("| measure | p50 | p99 | max |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| `/v1/log/proof/inclusion`, end to end ({} requests at {:.0}/s over {} keep-alive connections) | {} | **{}** | {} |",
        inc_lat.len(),
        a.rate,
        a.connections,
        fmt_dur(percentile(&inc_lat, 50.0)),
        fmt_dur(percentile(&inc_lat, 99.0)),
        fmt_dur(inc_lat[inc_lat.len() - 1])
    );
    println!(
        "| `/v1/log/proof/consistency`, end to end (same load) | {} | **{}** | {} |",
        fmt_dur(percentile(&con_lat, 50.0)),
        fmt_dur(percentile(&con_lat, 99.0)),
        fmt_dur(con_lat[con_lat.len() - 1])
    );
    if let Some(t) = &tree {
        let c_inc = timed(
            |i| {
                let (index, size) = inc[i];
                std::hint::black_box(t.inclusion_proof(index, size).expect("in range"));
            },
            inc.len(),
        );
        let c_con = timed(
            |i| {
                let (from, to) = con[i];
                std::hint::black_box(t.consistency_proof(from + 1, to).expect("in range"));
            },
            con.len(),
        );
        println!(
            "| inclusion proof computation alone (`MemoryTree`, same requests) | {} | **{}** | {} |",
            fmt_dur(percentile(&c_inc, 50.0)),
            fmt_dur(percentile(&c_inc, 99.0)),
            fmt_dur(c_inc[c_inc.len() - 1])
        );
        println!(
            "| consistency proof computation alone | {} | **{}** | {} |",
            fmt_dur(percentile(&c_con, 50.0)),
            fmt_dur(percentile(&c_con, 99.0)),
            fmt_dur(c_con[c_con.len() - 1])
        );
    }
    println!();
    println!(
        "Tree size {n}; requests at historical sizes in the newer half of the tree; {checked} sampled answers checked against the root at their size. CPU during the HTTP runs: {cpu}. Targets: p99 < 1 ms end to end, < 50 µs computation."
    );
    println!();
    Ok(())
}

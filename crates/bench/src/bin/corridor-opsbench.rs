//! Running a window, read under load (#16): a window with many operations, movement events and
//! units, and the signed reads that show them: `GET /v1/operations/{id}` and the window's unit
//! confirmations (`GET /v1/windows/{id}/receipts`), at a fixed request rate, beside the proof
//! endpoint measured in the same run as the baseline.
//!
//! `build` grows a demo log, directly through the storage layer as `corridor-buildlog` does
//! (every command signed by a registered key and decided by `State::execute` at a strictly
//! increasing log time; `corridor verify` accepts the result): on one agreed window, N
//! operations notified by the demo's convoy lead and acknowledged by both parties, M movement
//! events each (departed, checkpoints, stops and resumptions, arrived, at points on the route),
//! receipts and outcomes; and U units per party, registered by their party's admin, of whom C
//! confirm the window's terms.
//!
//! `load` reads them as a party's coordinator with signed requests (RFC 9421, each with its own
//! nonce, signed before the run so the client's signing is not timed), paced at a fixed rate over
//! keep-alive connections, and reports p50/p99 for each endpoint: the proof endpoint (public,
//! unsigned) as the named baseline, a signed read of an empty list (it discloses nothing, so it
//! writes no read-audit row: the cost of the signed-read check), and the two reads of the target,
//! each of which writes its read-audit rows before it answers. The rows each read wrote are
//! counted from the database, and the disk's single-row commit rate is measured in the same run.
//!
//! ```text
//! corridor demo --no-rate-limits --data-dir D --no-serve --clock 2022-03-03T14:50:00Z
//! corridor-opsbench build --data-dir D --operations 200 --moves 10 --units 50
//! corridor demo --data-dir D --listen 127.0.0.1:8080 &
//! corridor-opsbench load --server http://127.0.0.1:8080 --data-dir D --rate 200
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use corridor_bench::http::{Conn, get_text};
use corridor_bench::{
    CpuMeter, Rng, Signer, fmt_dur, fsync_rate, genesis, host_port, load_key, load_signers,
    machine, percentile, wait_quiet,
};
use corridor_core::agreement::Status;
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::Keypair;
use corridor_core::entry::Entry;
use corridor_core::envelope::{Draft, SignedCommand, prove_key};
use corridor_core::httpsig;
use corridor_core::merkle::MemoryTree;
use corridor_core::state::{ProjectionRow, Replay, State};
use corridor_core::time::format_log_time;
use corridor_storage::{Database, StoredCheckpoint};
use corridor_storage_sqlite::Sqlite;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Operations and unit confirmations of one window, read under load")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Grow a demo log with operations, movements and units on one window.
    Build(BuildArgs),
    /// Read them with signed requests at a fixed rate, beside the proof endpoint.
    Load(LoadArgs),
}

#[derive(Args)]
struct BuildArgs {
    /// The demo data directory (prepared with `corridor demo --no-rate-limits --no-serve
    /// --clock 2022-03-03T14:50:00Z`: its 4 March window agreed, no operation or unit yet).
    #[arg(long)]
    data_dir: PathBuf,
    /// The agreed window the operations run through.
    #[arg(long, default_value = "borodianka-2022-03-04")]
    window: String,
    /// Operations to notify.
    #[arg(long, default_value_t = 200)]
    operations: usize,
    /// Movement events per operation (at least 2: departed and arrived).
    #[arg(long, default_value_t = 10)]
    moves: usize,
    /// Units to register per party.
    #[arg(long, default_value_t = 50)]
    units: usize,
    /// How many of each party's units confirm the window's terms.
    #[arg(long, default_value_t = 40)]
    confirmed: usize,
    /// Entries per transaction.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
}

#[derive(Args)]
struct LoadArgs {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The server's data directory (key files, genesis, and the read-audit table, which is
    /// counted before and after each run).
    #[arg(long)]
    data_dir: PathBuf,
    /// The reader's key file, in DATA_DIR/keys.
    #[arg(long, default_value = "ru-coord-1.key")]
    reader: String,
    /// The window whose operations and receipts are read.
    #[arg(long, default_value = "borodianka-2022-03-04")]
    window: String,
    /// Requests per second, paced, shared by the connections.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Requests per endpoint and round.
    #[arg(long, default_value_t = 6000)]
    requests: usize,
    /// Keep-alive connections sharing the rate.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Rounds: every endpoint once per round, in the same order.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Label for this run in the table.
    #[arg(long, default_value = "operations and receipts under load")]
    label: String,
    /// The server's pid, to report its CPU use.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seconds to wait at most for other processes to go quiet before each measurement.
    #[arg(long, default_value_t = 120)]
    quiet_wait: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Build(a) => build(a).await,
        Command::Load(a) => load(a).await,
    }
}

// ---------------------------------------------------------------- build

/// The log as it grows: state, tree and the entries of the open batch.
struct Builder {
    db: Sqlite,
    state: State,
    tree: MemoryTree,
    log_key: Keypair,
    origin: String,
    time: Timestamp,
    next_id: u64,
    entries: Vec<Entry>,
    rows: Vec<ProjectionRow>,
    batch: usize,
}

impl Builder {
    /// Sign `body` as `actor`, decide it at the next log time (a millisecond after the last)
    /// and add it to the batch.
    async fn exec(&mut self, key: &Keypair, actor: &str, body: Value) -> anyhow::Result<()> {
        self.time = self
            .time
            .checked_add(SignedDuration::from_millis(1))
            .expect("time in range");
        self.next_id += 1;
        let id = format!("ob-{}", self.next_id);
        let client_time = format!("{}Z", &format_log_time(self.time)[..19]);
        let env = Draft {
            origin: &self.origin,
            actor,
            id: &id,
            time: &client_time,
            body,
        }
        .sign(key);
        let cmd = SignedCommand::parse(&env, &self.origin)
            .map_err(|e| anyhow::anyhow!("command {id}: {e}"))?;
        let index = self.state.size;
        let changed = self
            .state
            .execute(&cmd, self.time)
            .map_err(|r| anyhow::anyhow!("command {id} ({actor}) refused: {r}"))?;
        self.rows.extend(changed);
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
        let e = Entry::new(
            index,
            format_log_time(self.time),
            cmd.body.type_name(),
            &cmd.actor,
            &cmd.key.id(),
            &cmd.id,
            salt,
            cmd.command_bytes,
            cmd.signature.to_vec(),
        );
        self.tree.push(e.leaf_hash());
        self.entries.push(e);
        if self.entries.len() >= self.batch {
            self.flush().await?;
        }
        Ok(())
    }

    /// Write the batch in one transaction and sign a checkpoint for it.
    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.entries.is_empty() {
            return Ok(());
        }
        self.db
            .append(
                &std::mem::take(&mut self.entries),
                &std::mem::take(&mut self.rows),
            )
            .await?;
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: self.tree.size(),
            root: self.tree.root(),
        };
        self.db
            .add_checkpoint(&StoredCheckpoint {
                size: cp.size,
                note: cp.sign(&self.log_key),
            })
            .await?;
        Ok(())
    }

    /// The log time of the last entry, to the second, as a command states an instant.
    fn now_text(&self) -> String {
        format!("{}Z", &format_log_time(self.time)[..19])
    }
}

fn signer<'a>(signers: &'a [Signer], actor: &str) -> anyhow::Result<&'a Keypair> {
    signers
        .iter()
        .find(|s| s.actor == actor)
        .map(|s| &s.key)
        .with_context(|| format!("no key file for {actor} in the data directory's keys/"))
}

/// The point a fraction `f` (0 to 1) of the way along `route` by vertex index, on a segment.
fn along(route: &[[i64; 2]], f: f64) -> Value {
    let last = route.len() - 1;
    let pos = f.clamp(0.0, 1.0) * last as f64;
    let i = (pos.floor() as usize).min(last.saturating_sub(1));
    let t = pos - i as f64;
    let (a, b) = (route[i], route[(i + 1).min(last)]);
    let lerp = |x: i64, y: i64| x + ((y - x) as f64 * t).round() as i64;
    json!({"lon_e7": lerp(a[0], b[0]), "lat_e7": lerp(a[1], b[1])})
}

/// The events of one operation's timeline: departed, then checkpoints with stops and
/// resumptions, then arrived; every transition one the rules allow.
fn timeline(moves: usize) -> Vec<&'static str> {
    let mut middle = Vec::new();
    let mut left = moves - 2;
    while left > 0 {
        if left >= 3 && left != 4 {
            middle.extend(["checkpoint", "stopped", "resumed"]);
            left -= 3;
        } else {
            middle.push("checkpoint");
            left -= 1;
        }
    }
    std::iter::once("departed")
        .chain(middle)
        .chain(std::iter::once("arrived"))
        .collect()
}

async fn build(a: BuildArgs) -> anyhow::Result<()> {
    if a.moves < 2 {
        bail!("--moves: at least 2 (departed and arrived)");
    }
    if a.confirmed > a.units {
        bail!("--confirmed is more than --units");
    }
    let started = Instant::now();
    let db = Sqlite::open(&a.data_dir.join("corridor.sqlite")).await?;
    let (log_key, _) = load_key(&a.data_dir.join("log.key"))?;
    let signers = load_signers(&a.data_dir)?;
    let size = db.size().await?;
    let mut replay = Replay::trusting_signatures();
    let mut tree = MemoryTree::new();
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
    let state = replay.into_state().context("the log is empty")?;
    let origin = state.origin().to_string();
    let w = state
        .agreements
        .windows
        .get(&a.window)
        .with_context(|| format!("no window {:?} in this log", a.window))?
        .clone();
    let (status, _) = w
        .status_at(state.last_time)
        .context("a window has a version")?;
    if status != Status::Agreed {
        bail!(
            "window {} is {} at the log's last entry; start from a demo prepared with --clock 2022-03-03T14:50:00Z",
            w.id,
            status.as_str()
        );
    }
    let before = state
        .operations
        .operations
        .values()
        .filter(|o| o.window == w.id)
        .count();
    let v = w.latest().clone();
    let corridor = state
        .agreements
        .corridors
        .get(&w.corridor)
        .and_then(|c| {
            c.versions
                .iter()
                .find(|cv| cv.version == v.corridor_version)
        })
        .context("the window's corridor version")?
        .clone();
    let route = corridor.terms.route.clone();
    let destination = corridor.terms.destination.clone();
    let mut b = Builder {
        db,
        time: state
            .last_time
            .checked_add(SignedDuration::from_secs(1))
            .expect("time in range"),
        state,
        tree,
        log_key,
        origin: origin.clone(),
        next_id: 0,
        entries: Vec::new(),
        rows: Vec::new(),
        batch: a.batch,
    };
    let lead = signer(&signers, "convoys/lead")?.clone();

    // Units: registered by their party's admin, each with its key's proof of possession.
    let mut units: Vec<(&str, String, Keypair)> = Vec::new();
    for (p, party) in ["ua", "ru"].into_iter().enumerate() {
        let admin = signer(&signers, &format!("{party}/admin"))?.clone();
        for i in 1..=a.units {
            let actor = format!("{party}/bench-unit-{i:03}");
            let mut seed = [0u8; 32];
            seed[0] = 0xb0 + p as u8;
            seed[1..9].copy_from_slice(&(i as u64).to_le_bytes());
            let k = Keypair::from_seed(seed);
            let body = json!({"type": "actor.register", "actor": actor, "role": "unit",
                "key": k.public().id(), "key_proof": prove_key(&k, &origin, &actor),
                "name": format!("Bench unit {i}")});
            b.exec(&admin, &format!("{party}/admin"), body).await?;
            units.push((party, actor, k));
        }
    }
    // Operations, notified by the convoy lead, planned inside the window.
    let (start, end) = (v.start(), v.end());
    let departure = format!(
        "{}Z",
        &format_log_time(start.checked_add(SignedDuration::from_secs(3600))?)[..19]
    );
    let arrival = format!(
        "{}Z",
        &format_log_time(end.checked_sub(SignedDuration::from_secs(3600))?)[..19]
    );
    let ops: Vec<String> = (1..=a.operations)
        .map(|k| format!("convoys/bench-{k:03}"))
        .collect();
    for (k, op) in ops.iter().enumerate() {
        let body = json!({"type": "operation.notify", "operation": op, "window": w.id,
            "kind": "both",
            "vehicles": [
                {"type": "bus", "plate": format!("BE {k:04} A"), "markings": "white, blue flag, convoy number on both sides"},
                {"type": "bus", "plate": format!("BE {k:04} B"), "markings": "white, blue flag, convoy number on both sides"},
                {"type": "truck", "plate": format!("BE {k:04} C"), "markings": "white, blue flag"}],
            "consignments": [
                {"tracking": format!("B{k:03}-MED"), "category": "medicine", "item": "insulin", "quantity": 400, "unit": "box"},
                {"tracking": format!("B{k:03}-WAT"), "category": "water", "item": "drinking water", "quantity": 2000, "unit": "l"}],
            "evacuee_capacity": 50, "departure": departure, "arrival": arrival});
        b.exec(&lead, "convoys/lead", body).await?;
    }
    // Both parties acknowledge every operation.
    for (party, coord) in [("ua", "ua/coord-kyiv-oblast"), ("ru", "ru/coord-1")] {
        let key = signer(&signers, coord)?.clone();
        for op in &ops {
            b.exec(
                &key,
                coord,
                json!({"type": "operation.ack", "operation": op, "party": party}),
            )
            .await?;
        }
    }
    // Some units of each party confirm the window's terms.
    for (_, actor, k) in &units {
        let i: usize = actor.rsplit('-').next().unwrap_or("0").parse()?;
        if i <= a.confirmed {
            b.exec(
                k,
                actor,
                json!({"type": "unit.confirm", "window": w.id, "version_hash": v.hash}),
            )
            .await?;
        }
    }
    // On the day, inside the window: the convoys move, a round of events at a time.
    let on_the_day = start.checked_add(SignedDuration::from_secs(60))?;
    if b.time < on_the_day {
        b.time = on_the_day;
    }
    let events = timeline(a.moves);
    let people = json!({"adults": 20, "children": 15, "elderly": 8, "disabled": 1, "wounded": 1});
    for (j, event) in events.iter().enumerate() {
        let at = along(&route, j as f64 / (events.len() - 1) as f64);
        for op in &ops {
            let mut body = json!({"type": "operation.move", "operation": op, "event": event,
                "occurred_at": b.now_text(), "location": at});
            match *event {
                "departed" => {
                    body["evacuees"] = people.clone();
                    body["destination"] = json!(destination);
                    body["voluntary"] = json!(true);
                }
                "arrived" => body["evacuees"] = people.clone(),
                "stopped" => body["reason"] = json!("inspection at the checkpoint"),
                _ => {}
            }
            b.exec(&lead, "convoys/lead", body).await?;
        }
    }
    for (k, op) in ops.iter().enumerate() {
        b.exec(
            &lead,
            "convoys/lead",
            json!({"type": "operation.receive", "operation": op, "receipts": [
                {"tracking": format!("B{k:03}-MED"), "delivered": 395, "damaged": 5, "lost": 0},
                {"tracking": format!("B{k:03}-WAT"), "delivered": 2000, "damaged": 0, "lost": 0}]}),
        )
        .await?;
        b.exec(
            &lead,
            "convoys/lead",
            json!({"type": "operation.outcome", "operation": op, "outcome": "facilitated",
                   "reason": "passed with inspections"}),
        )
        .await?;
    }
    b.flush().await?;
    let render = render_cost(&b.state, &w.id, &ops)?;
    let added = b.state.size - size;
    println!(
        "built: window {} with {} operations ({before} before), {} movement events, {} units per party ({} confirmed the terms); {added} entries added, {} in all, in {:.1} s; last log time {}",
        w.id,
        before + a.operations,
        a.operations * events.len(),
        a.units,
        a.confirmed,
        b.state.size,
        started.elapsed().as_secs_f64(),
        format_log_time(b.state.last_time)
    );
    println!("{render}");
    Ok(())
}

/// What the two reads cost in the server's process before any I/O: parse the stored records
/// (as the handler does, from JSON values), render the view at the demo's instant and serialize
/// it; 2,000 times each, single-threaded, with the machine otherwise idle.
fn render_cost(state: &State, window: &str, ops: &[String]) -> anyhow::Result<String> {
    use corridor_core::chain::{PartyConfirmations, confirmations_id};
    use corridor_core::command::Role;
    use corridor_core::operation::Operation;
    use corridor_core::state::Affiliation;
    use corridor_core::views::running as view;
    use std::collections::{BTreeMap, BTreeSet};
    let at: Timestamp = "2022-03-04T12:00:00Z".parse()?;
    let genesis = &state.genesis;
    let timed = |f: &mut dyn FnMut(usize) -> usize| {
        let mut out: Vec<Duration> = (0..2000)
            .map(|i| {
                let t = Instant::now();
                std::hint::black_box(f(i));
                t.elapsed()
            })
            .collect();
        out.sort_unstable();
        out
    };
    let rows: Vec<Value> = ops
        .iter()
        .map(|id| serde_json::to_value(&state.operations.operations[id]))
        .collect::<Result<_, _>>()?;
    let op_cost = timed(&mut |i| {
        let op: Operation =
            serde_json::from_value(rows[i % rows.len()].clone()).expect("a stored operation");
        serde_json::to_vec(&view::operation(&op, genesis, at))
            .expect("views serialize")
            .len()
    });
    let w = serde_json::to_value(&state.agreements.windows[window])?;
    let mut units: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in state.actors.values() {
        if let (Role::Unit, Affiliation::Party(p)) = (a.role, &a.affiliation) {
            units.entry(p.clone()).or_default().insert(a.id.clone());
        }
    }
    let confirmations: Vec<(String, Value)> = ["ua", "ru"]
        .into_iter()
        .filter_map(|p| {
            let r = state
                .chain
                .confirmations
                .get(&confirmations_id(p, window))?;
            Some((p.to_string(), serde_json::to_value(r).ok()?))
        })
        .collect();
    let readable: BTreeSet<String> = ["ru".to_string()].into();
    let receipts_cost = timed(&mut |_| {
        let w: corridor_core::agreement::Window =
            serde_json::from_value(w.clone()).expect("a stored window");
        let records: BTreeMap<String, PartyConfirmations> = confirmations
            .iter()
            .map(|(p, r)| {
                (
                    p.clone(),
                    serde_json::from_value(r.clone()).expect("stored"),
                )
            })
            .collect();
        serde_json::to_vec(&view::receipts(&w, genesis, &units, &records, &readable))
            .expect("views serialize")
            .len()
    });
    let line = |name: &str, d: &[Duration]| {
        format!(
            "{name}: p50 {}, p99 {}",
            fmt_dur(percentile(d, 50.0)),
            fmt_dur(percentile(d, 99.0))
        )
    };
    Ok(format!(
        "in process, before any I/O (parse the stored records, render the view at 2022-03-04T12:00Z, serialize; 2,000 times): {}; {}",
        line("an operation", &op_cost),
        line(
            "the window's receipts as ru/coord-1 reads them",
            &receipts_cost
        )
    ))
}

// ---------------------------------------------------------------- load

/// One endpoint's requests, ready to send.
struct Endpoint {
    name: String,
    paths: Vec<String>,
    signed: bool,
}

/// Latencies of one paced run: from writing the request, and from the instant it was due
/// (which also counts time spent waiting behind a slow answer on the same connection).
struct Run {
    from_write: Vec<Duration>,
    from_due: Vec<Duration>,
    samples: Vec<(usize, Vec<u8>)>,
}

/// Paced requests over `connections`, each connection one request at a time.
async fn paced(hp: &str, reqs: Vec<Vec<u8>>, rate: f64, connections: usize) -> anyhow::Result<Run> {
    let interval = Duration::from_secs_f64(connections as f64 / rate);
    let reqs = Arc::new(reqs);
    let mut tasks = Vec::new();
    let t0 = Instant::now() + Duration::from_millis(20);
    for c in 0..connections {
        let (hp, reqs) = (hp.to_string(), reqs.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(&hp).await?;
            let mine: Vec<usize> = (c..reqs.len()).step_by(connections).collect();
            let mut from_write = Vec::with_capacity(mine.len());
            let mut from_due = Vec::with_capacity(mine.len());
            let mut samples = Vec::new();
            let start = t0 + interval.mul_f64(c as f64 / connections as f64);
            for (k, &i) in mine.iter().enumerate() {
                let due = start + interval.mul_f64(k as f64);
                tokio::time::sleep_until(due.into()).await;
                let sent = Instant::now();
                let r = conn.request(&reqs[i]).await?;
                let done = Instant::now();
                from_write.push(done - sent);
                from_due.push(done.saturating_duration_since(due));
                if r.status != 200 {
                    bail!(
                        "request {i}: {} {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    );
                }
                if k % 50 == 0 {
                    samples.push((i, r.body));
                }
            }
            anyhow::Ok((from_write, from_due, samples))
        }));
    }
    let mut run = Run {
        from_write: Vec::new(),
        from_due: Vec::new(),
        samples: Vec::new(),
    };
    for t in tasks {
        let (w, d, s) = t.await??;
        run.from_write.extend(w);
        run.from_due.extend(d);
        run.samples.extend(s);
    }
    run.from_write.sort_unstable();
    run.from_due.sort_unstable();
    Ok(run)
}

/// The server's clock now, Unix seconds (the simulated one on an exercise).
async fn server_clock(hp: &str) -> anyhow::Result<i64> {
    let head: Value = serde_json::from_str(&get_text(hp, "/v1/log/head").await?)?;
    let now: Timestamp = head["clock"]["now"]
        .as_str()
        .context("head without clock.now")?
        .parse()?;
    Ok(now.as_second())
}

/// Request bytes for `paths`, each signed with its own nonce (`run` keeps nonces unique across
/// runs) at the server's clock now.
async fn requests(
    hp: &str,
    e: &Endpoint,
    reader: &Keypair,
    origin: &str,
    run: usize,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let conn = Conn::connect(hp).await?;
    if !e.signed {
        return Ok(e.paths.iter().map(|p| conn.get(p)).collect());
    }
    let created = server_clock(hp).await?;
    Ok(e.paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (path, query) = match p.split_once('?') {
                Some((a, q)) => (a, Some(q)),
                None => (p.as_str(), None),
            };
            let nonce = format!("opsbench-{run:04}-{i:08}");
            let (input, signature) = httpsig::sign(
                reader,
                origin,
                httpsig::Target {
                    method: "GET",
                    path,
                    query,
                },
                created,
                &nonce,
            );
            conn.get_with(p, &[("Signature-Input", &input), ("Signature", &signature)])
        })
        .collect())
}

/// Rows in the read audit, counted on a read-only connection beside the running server.
async fn audit_rows(data_dir: &Path) -> anyhow::Result<i64> {
    use sqlx::ConnectOptions;
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data_dir.join("corridor.sqlite"))
        .read_only(true)
        .connect()
        .await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM read_audit")
        .fetch_one(&mut c)
        .await?;
    Ok(n)
}

/// The time to write one read-audit row through the storage layer, as the server does before it
/// answers a confidential read: `n` rows, one after another, into a fresh database beside the
/// log (same disk, same settings). Sorted.
async fn audit_row_cost(data_dir: &Path, n: usize) -> anyhow::Result<Vec<Duration>> {
    let tmp = tempfile::Builder::new()
        .prefix(".audit-bench")
        .tempdir_in(data_dir)?;
    let db = Sqlite::open(&tmp.path().join("corridor.sqlite")).await?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let r = corridor_storage::ReadRecord {
            seq: 0,
            at: "2022-03-04T12:00:00.000000Z".into(),
            actor: "ru/coord-1".into(),
            key: "k".repeat(44),
            path: format!("/v1/operations/convoys/bench-{:03}", i % 200),
            items: vec![format!("operation convoys/bench-{:03}", i % 200)],
            concerned: vec!["ru".into()],
        };
        let t = Instant::now();
        db.record_read(&r).await?;
        out.push(t.elapsed());
    }
    out.sort_unstable();
    Ok(out)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// One line of the results: an endpoint's latencies over all rounds.
struct Measured {
    name: String,
    from_write: Vec<Duration>,
    from_due: Vec<Duration>,
    audit_per_request: f64,
    cpu: Vec<String>,
}

async fn load(a: LoadArgs) -> anyhow::Result<()> {
    let hp = host_port(&a.server)?;
    let (origin, _) = genesis(&a.data_dir)?;
    let (reader, actor) = load_key(&a.data_dir.join("keys").join(&a.reader))?;
    let actor = actor.unwrap_or_default();
    let head: Value = serde_json::from_str(&get_text(&hp, "/v1/log/head").await?)?;
    let n = head["size"].as_u64().context("head without size")?;

    // The window's operations, read once with a signed request.
    let list = Endpoint {
        name: "list".into(),
        paths: vec![format!("/v1/operations?window={}", a.window)],
        signed: true,
    };
    let req = requests(&hp, &list, &reader, &origin, 0).await?;
    let mut conn = Conn::connect(&hp).await?;
    let r = conn.request(&req[0]).await?;
    if r.status != 200 {
        bail!(
            "reading the operations as {actor}: {} {} (a genesis with read limits refuses a load test: prepare the demo with --no-rate-limits)",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    let v: Value = serde_json::from_slice(&r.body)?;
    let ops: Vec<String> = v["operations"]
        .as_array()
        .context("no operations list")?
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_string))
        .collect();
    if ops.is_empty() {
        bail!("window {} has no operation (run `build` first)", a.window);
    }
    let movements: usize = {
        let list = Endpoint {
            name: "one".into(),
            paths: vec![format!("/v1/operations/{}", ops[0])],
            signed: true,
        };
        let req = requests(&hp, &list, &reader, &origin, 1).await?;
        let r = conn.request(&req[0]).await?;
        let v: Value = serde_json::from_slice(&r.body)?;
        v["timeline"].as_array().map_or(0, Vec::len)
    };
    let receipts_path = format!("/v1/windows/{}/receipts", a.window);
    let mut rng = Rng::new(0x0b5b_e7c4);
    let endpoints = [
        Endpoint {
            name: "`GET /v1/log/proof/inclusion` (public, unsigned): **baseline**".into(),
            paths: (0..a.requests)
                .map(|_| {
                    let b = n / 2 + 1 + rng.next_u64() % (n - n / 2);
                    format!(
                        "/v1/log/proof/inclusion?index={}&size={b}",
                        rng.next_u64() % b
                    )
                })
                .collect(),
            signed: false,
        },
        Endpoint {
            name: "`GET /v1/declarations` (signed; an empty list, no audit row: the signed-read check alone)".into(),
            paths: vec!["/v1/declarations".to_string(); a.requests],
            signed: true,
        },
        Endpoint {
            name: format!(
                "`GET /v1/operations/{{id}}` (signed; {} operations in turn)",
                ops.len()
            ),
            paths: (0..a.requests)
                .map(|i| format!("/v1/operations/{}", ops[i % ops.len()]))
                .collect(),
            signed: true,
        },
        Endpoint {
            name: "`GET /v1/windows/{id}/receipts` (signed)".into(),
            paths: vec![receipts_path.clone(); a.requests],
            signed: true,
        },
    ];
    let load_before = loadavg();
    let mut measured: Vec<Measured> = endpoints
        .iter()
        .map(|e| Measured {
            name: e.name.clone(),
            from_write: Vec::new(),
            from_due: Vec::new(),
            audit_per_request: 0.0,
            cpu: Vec::new(),
        })
        .collect();
    let mut checked = 0;
    let mut run_no = 10;
    for _ in 0..a.rounds {
        for (k, e) in endpoints.iter().enumerate() {
            run_no += 1;
            // Warm the path and the connections a little, then wait for a quiet machine.
            let warm = Endpoint {
                name: e.name.clone(),
                paths: e.paths[..e.paths.len().min(100)].to_vec(),
                signed: e.signed,
            };
            let reqs = requests(&hp, &warm, &reader, &origin, run_no).await?;
            paced(&hp, reqs, a.rate, a.connections).await?;
            run_no += 1;
            wait_quiet(Duration::from_secs(a.quiet_wait), 0.25);
            let reqs = requests(&hp, e, &reader, &origin, run_no).await?;
            let rows_before = audit_rows(&a.data_dir).await?;
            let meter = CpuMeter::start(a.server_pid);
            let run = paced(&hp, reqs, a.rate, a.connections).await?;
            let cpu = meter.stop();
            let rows = audit_rows(&a.data_dir).await? - rows_before;
            for (i, body) in &run.samples {
                let v: Value = serde_json::from_slice(body)?;
                let ok = match k {
                    0 => v["proof"].is_array(),
                    1 => v["declarations"].is_array(),
                    2 => v["id"] == e.paths[*i]["/v1/operations/".len()..],
                    _ => v["window"] == a.window.as_str() && v["parties"].is_object(),
                };
                if !ok {
                    bail!("{}: unexpected answer {v}", e.paths[*i]);
                }
                checked += 1;
            }
            let m = &mut measured[k];
            m.from_write.extend(run.from_write);
            m.from_due.extend(run.from_due);
            m.audit_per_request += rows as f64 / (e.paths.len() * a.rounds) as f64;
            m.cpu.push(cpu.to_string());
        }
    }
    let load_after = loadavg();
    let (commits, _) = fsync_rate(&a.data_dir, Duration::from_secs(3)).await?;
    let audit = audit_row_cost(&a.data_dir, 2000).await?;

    // The answer sizes, for the record.
    println!("### {} ({})", a.label, machine());
    println!();
    println!(
        "Log of {n} entries; window {} with {} operations ({movements} movement events each); reader {actor}; {} requests per endpoint and round, {} round(s), paced at {:.0} requests/s over {} keep-alive connection(s); signed requests signed before each run, each with its own nonce; {checked} sampled answers checked. Load average (1, 5, 15 min) before: {load_before}; after: {load_after}.",
        a.window,
        ops.len(),
        a.requests,
        a.rounds,
        a.rate,
        a.connections
    );
    println!();
    println!(
        "| endpoint | audit rows per request | p50 | p99 | p99 from due time | max | p99 / baseline p99 |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for m in &mut measured {
        m.from_write.sort_unstable();
        m.from_due.sort_unstable();
    }
    let base = percentile(&measured[0].from_write, 99.0).as_secs_f64();
    for m in &measured {
        let p99 = percentile(&m.from_write, 99.0);
        println!(
            "| {} | {:.2} | {} | **{}** | {} | {} | {:.1}× |",
            m.name,
            m.audit_per_request,
            fmt_dur(percentile(&m.from_write, 50.0)),
            fmt_dur(p99),
            fmt_dur(percentile(&m.from_due, 99.0)),
            fmt_dur(m.from_write[m.from_write.len() - 1]),
            p99.as_secs_f64() / base
        );
    }
    println!();
    for m in &measured {
        println!("- CPU during {}: {}", m.name, m.cpu.join("; "));
    }
    println!(
        "- One read-audit row as the server writes it (`Database::record_read` on SQLite, WAL, synchronous=FULL, a fresh database in the same directory, {} rows one after another): p50 {}, p99 {}, max {}. The disk's single-row commit rate in the same run: {commits:.0} commits/s ({} per commit).",
        audit.len(),
        fmt_dur(percentile(&audit, 50.0)),
        fmt_dur(percentile(&audit, 99.0)),
        fmt_dur(audit[audit.len() - 1]),
        fmt_dur(Duration::from_secs_f64(1.0 / commits.max(1e-9)))
    );
    println!();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timelines_follow_the_rules_and_have_the_length_asked() {
        for m in 2..=20 {
            let t = timeline(m);
            assert_eq!(t.len(), m, "{t:?}");
            assert_eq!(t[0], "departed");
            assert_eq!(t[m - 1], "arrived");
            for w in t.windows(2) {
                assert!(
                    (w[0] != "stopped" || w[1] == "resumed")
                        && (w[1] != "resumed" || w[0] == "stopped"),
                    "{t:?}"
                );
            }
        }
    }

    #[test]
    fn points_along_the_route_are_on_it() {
        let route = [
            [299_220_000, 506_451_000],
            [299_000_000, 506_300_000],
            [298_300_000, 505_900_000],
        ];
        for j in 0..=10 {
            let p = along(&route, j as f64 / 10.0);
            let d = corridor_core::geo::route_distance_m(
                &route,
                [p["lon_e7"].as_i64().unwrap(), p["lat_e7"].as_i64().unwrap()],
            );
            assert!(d < 5, "{p}: {d} m");
        }
    }
}

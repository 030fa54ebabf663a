//! Shared pieces of corridor's load generators and benchmarks: demo key files, a realistic mix
//! of signed commands, the bare-`verify_strict` and fsync baselines, a lean HTTP/1.1 keep-alive
//! client, and percentiles.
//!
//! The binaries:
//! - `corridor-loadgen`: ingest throughput and latency against a running server, with the
//!   `verify_strict` and fsync baselines measured in the same run;
//! - `corridor-buildlog`: append a large, honestly signed and sequenced log to a demo data
//!   directory, directly through the storage layer;
//! - `corridor-verifybench`: time `corridor verify` against bare `verify_strict` of the same
//!   signatures;
//! - `corridor-proofbench`: end-to-end latency of the proof endpoints at historical sizes under
//!   light load, and the in-process cost of computing the same proofs;
//! - `corridor-opsbench`: a window with many operations, movements and units (`build`), read
//!   with signed requests at a fixed rate beside the proof endpoint (`load`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use corridor_core::crypto::{Keypair, PublicKey, unb64};
use corridor_core::envelope::signing_message;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};

pub mod http;

/// A person who signs commands, from `DATA_DIR/keys/*.key`.
#[derive(Clone)]
pub struct Signer {
    /// The actor id named in the key file.
    pub actor: String,
    /// The key pair.
    pub key: Keypair,
}

/// Read a key file's seed (the CLI's JSON format: `seed` base64, optional `actor`).
pub fn load_key(path: &Path) -> anyhow::Result<(Keypair, Option<String>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a key file", path.display()))?;
    let seed: [u8; 32] = unb64("seed", v["seed"].as_str().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .try_into()
        .map_err(|_| anyhow::anyhow!("{}: the seed is not 32 bytes", path.display()))?;
    Ok((
        Keypair::from_seed(seed),
        v["actor"].as_str().map(str::to_string),
    ))
}

/// Every signer in a demo data directory, by actor id.
pub fn load_signers(data_dir: &Path) -> anyhow::Result<Vec<Signer>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir.join("keys"))
        .with_context(|| {
            format!(
                "{} has no keys/ (prepare it with `corridor demo --no-serve`)",
                data_dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "key"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let (key, actor) = load_key(&f)?;
        if let Some(actor) = actor {
            out.push(Signer { actor, key });
        }
    }
    Ok(out)
}

/// The origin and log key named in `DATA_DIR/genesis.json`.
pub fn genesis(data_dir: &Path) -> anyhow::Result<(String, PublicKey)> {
    let path = data_dir.join("genesis.json");
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?,
    )?;
    let doc = &v["document"];
    let origin = doc["origin"]
        .as_str()
        .context("genesis without origin")?
        .to_string();
    let key = PublicKey::parse(doc["log_key"].as_str().context("genesis without log_key")?)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((origin, key))
}

/// xorshift64*: deterministic, fast, good enough to pick words and lengths.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

const WORDS: &[&str] = &[
    "convoy",
    "checkpoint",
    "buses",
    "evacuees",
    "shelling",
    "reported",
    "near",
    "the",
    "gathering",
    "point",
    "bridge",
    "road",
    "blocked",
    "civilians",
    "waiting",
    "since",
    "morning",
    "humanitarian",
    "corridor",
    "ceasefire",
    "window",
    "violated",
    "according",
    "to",
    "local",
    "coordinator",
    "medical",
    "supplies",
    "trucks",
    "stopped",
    "at",
    "kilometre",
    "marker",
    "north",
    "south",
    "of",
    "village",
    "колона",
    "автобуси",
    "обстріл",
    "біля",
    "пункту",
    "збору",
    "колонна",
    "обстрел",
    "у",
    "моста",
];

/// `n`-ish bytes of plausible field-report text.
pub fn text(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.range(0, WORDS.len() as u64 - 1) as usize]);
    }
    s.push('.');
    s
}

/// Which party an actor belongs to (`ua`, `ru`), if any.
fn party_of(actor: &str) -> Option<&str> {
    actor.split('/').next().filter(|p| *p == "ua" || *p == "ru")
}

/// One command of the mix, before signing.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Index into the signers.
    pub signer: usize,
    /// Command id (and incident id for reports).
    pub id: String,
    /// The body.
    pub body: Value,
}

/// A realistic mix of incident reports (about 70 %, descriptions of varying length, from every
/// actor) and responses by the accused party's coordinators or admins (about 30 %), sized so
/// envelopes fall between about 300 and 800 bytes. A response answers a report planned at least
/// `lag` commands earlier, so under concurrency the report is sequenced first.
pub struct Mix {
    rng: Rng,
    signers: Vec<String>,
    /// Reports not yet answered: (plan index, incident id, accused party).
    open: std::collections::VecDeque<(u64, String, String)>,
    planned: u64,
    lag: u64,
    prefix: String,
    /// Bias lengths towards `short` descriptions (for very large logs).
    short: bool,
}

impl Mix {
    /// A mix over `signers` (actor ids); ids start with `prefix` so runs do not collide.
    pub fn new(signers: &[Signer], seed: u64, lag: u64, prefix: &str) -> Self {
        Mix {
            rng: Rng::new(seed),
            signers: signers.iter().map(|s| s.actor.clone()).collect(),
            open: Default::default(),
            planned: 0,
            lag,
            prefix: prefix.to_string(),
            short: false,
        }
    }

    /// Short descriptions only (envelopes of about 450 bytes).
    pub fn short(mut self) -> Self {
        self.short = true;
        self
    }

    fn who(&mut self, party: &str) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.signers.len())
            .filter(|&i| party_of(&self.signers[i]) == Some(party))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        Some(candidates[self.rng.range(0, candidates.len() as u64 - 1) as usize])
    }

    /// The next command.
    pub fn next_command(&mut self) -> Planned {
        let n = self.planned;
        self.planned += 1;
        let id = format!("{}-{n}", self.prefix);
        let answer = self.rng.range(0, 9) < 3;
        if answer
            && let Some((at, incident, accused)) = self.open.front().cloned()
            && at + self.lag <= n
            && let Some(signer) = self.who(&accused)
        {
            self.open.pop_front();
            let len = self.rng.range(5, 300) as usize;
            return Planned {
                signer,
                id,
                body: json!({
                    "type": "incident.respond",
                    "incident": incident,
                    "text": text(&mut self.rng, len),
                }),
            };
        }
        let signer = self.rng.range(0, self.signers.len() as u64 - 1) as usize;
        let accused = match party_of(&self.signers[signer]) {
            Some("ua") => "ru",
            Some("ru") => "ua",
            _ => {
                if self.rng.range(0, 1) == 0 {
                    "ua"
                } else {
                    "ru"
                }
            }
        };
        let with_evidence = self.rng.range(0, 3) == 0;
        let len = if self.short {
            self.rng.range(60, 140)
        } else if with_evidence {
            self.rng.range(10, 160)
        } else {
            self.rng.range(10, 260)
        } as usize;
        let categories = ["shelling", "gunfire", "mines", "blockade", "convoy-stopped"];
        let category = categories[self.rng.range(0, categories.len() as u64 - 1) as usize];
        // Incident ids are scoped by the reporter's side.
        let side = self.signers[signer].split('/').next().unwrap_or("");
        let incident = format!("{side}/{id}");
        let mut body = json!({
            "type": "incident.report",
            "incident": incident,
            "occurred_at": "2022-03-03T13:30:00Z",
            "location": {
                "lat_e7": 500_000_000 + self.rng.range(0, 10_000_000) as i64,
                "lon_e7": 300_000_000 + self.rng.range(0, 10_000_000) as i64,
            },
            "category": category,
            "accused_party": accused,
            "description": text(&mut self.rng, len),
        });
        if with_evidence {
            let digest: String = (0..4)
                .map(|_| format!("{:016x}", self.rng.next_u64()))
                .collect();
            body["evidence"] = json!([digest]);
        }
        self.open.push_back((n, incident, accused.to_string()));
        Planned { signer, id, body }
    }
}

/// A signature to check: the key, the exact signed message and the signature.
pub struct SigItem {
    /// The public key.
    pub key: VerifyingKey,
    /// The signed message (domain prefix, origin and canonical command bytes).
    pub message: Vec<u8>,
    /// The signature.
    pub signature: Signature,
}

impl SigItem {
    /// The item for a command's canonical bytes and signature on the log `origin`.
    pub fn new(origin: &str, key: &[u8; 32], command: &[u8], signature: &[u8]) -> Self {
        SigItem {
            key: VerifyingKey::from_bytes(key).expect("registered keys are valid points"),
            message: signing_message(origin, command),
            signature: Signature::from_slice(signature).expect("64-byte signature"),
        }
    }
}

/// Bare `verify_strict` over all items on every core (keys already decompressed, messages
/// already built): the ceiling any verifying pipeline on this machine can reach. Returns
/// (signatures per second, threads, elapsed).
pub fn bare_verify(items: &[SigItem]) -> (f64, usize, Duration) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    let started = Instant::now();
    let bad: usize = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter(|i| i.key.verify_strict(&i.message, &i.signature).is_err())
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("verify thread"))
            .sum()
    });
    let elapsed = started.elapsed();
    assert_eq!(bad, 0, "every benchmark signature must verify");
    (items.len() as f64 / elapsed.as_secs_f64(), threads, elapsed)
}

/// [`bare_verify`] in chunks of about two seconds each, each started on a quiet machine and
/// measured again (up to three times) if other processes took more than a quarter of a core
/// while it ran: the baseline must not be depressed by someone else's build. Returns
/// (signatures per second over the kept chunks, threads, the most CPU other processes took
/// during a kept chunk).
pub fn bare_verify_clean(items: &[SigItem], quiet_wait: Duration) -> (f64, usize, f64) {
    let chunk = 80_000;
    let mut total = Duration::ZERO;
    let mut threads = 1;
    let mut worst: f64 = 0.0;
    for part in items.chunks(chunk) {
        for attempt in 0..3 {
            wait_quiet(quiet_wait, 0.25);
            let m = CpuMeter::start(None);
            let (_, t, elapsed) = bare_verify(part);
            let u = m.stop();
            threads = t;
            if u.others < 0.25 || attempt == 2 {
                total += elapsed;
                worst = worst.max(u.others);
                break;
            }
        }
    }
    (items.len() as f64 / total.as_secs_f64(), threads, worst)
}

/// Single-row SQLite commits per second with `journal_mode=WAL` and `synchronous=FULL` in a
/// fresh file in `dir` (so on the same disk as the log), for about `for_how_long`.
pub async fn fsync_rate(dir: &Path, for_how_long: Duration) -> anyhow::Result<(f64, u64)> {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let tmp = tempfile::Builder::new()
        .prefix(".fsync-bench")
        .tempdir_in(dir)?;
    let mut conn = SqliteConnectOptions::new()
        .filename(tmp.path().join("fsync.sqlite"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
        .execute(&mut conn)
        .await?;
    let payload = vec![7u8; 600];
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < for_how_long || n < 50 {
        sqlx::query("INSERT INTO t (v) VALUES (?)")
            .bind(&payload)
            .execute(&mut conn)
            .await?;
        n += 1;
    }
    Ok((n as f64 / started.elapsed().as_secs_f64(), n))
}

/// Percentile of sorted samples (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Percentile of sorted sizes (nearest rank).
pub fn percentile_usize(sorted: &[usize], p: f64) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A duration for tables: µs below 1 ms, else ms.
pub fn fmt_dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}

/// The machine, for the report: CPU model and core count.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {cores} cores")
}

/// CPU time in clock ticks (USER_HZ, 100 on Linux) from a `/proc/.../stat` line: utime +
/// stime, plus cutime + cstime (waited-for children) when `children`.
fn proc_ticks(stat: &str, children: bool) -> u64 {
    // The command name may contain spaces; fields restart after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // rest[0] is the state (field 3); utime is field 14, so index 11.
    let own = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    if children {
        own + f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0)
    } else {
        own
    }
}

fn machine_busy_ticks() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|t| {
            let cpu = t.lines().next()?.to_string();
            let f: Vec<u64> = cpu
                .split_whitespace()
                .skip(1)
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
            Some(
                f.iter().take(8).sum::<u64>()
                    - f.get(3).copied().unwrap_or(0)
                    - f.get(4).copied().unwrap_or(0),
            )
        })
        .unwrap_or(0)
}

fn pid_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|t| proc_ticks(&t, false))
        .unwrap_or(0)
}

/// Where the CPU went during a measurement: this process (and its waited-for children), an
/// optional server process, and everything else on the machine. The machine is shared, so every
/// figure is reported with how much CPU others took meanwhile.
pub struct CpuMeter {
    started: Instant,
    busy: u64,
    own: u64,
    server: Option<(u32, u64)>,
}

/// Average cores used over a measurement.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// Wall-clock time.
    pub wall: Duration,
    /// This process and its children.
    pub own: f64,
    /// The server process, if one was named.
    pub server: Option<f64>,
    /// Everything else: other people's work on the same machine.
    pub others: f64,
}

impl CpuMeter {
    /// Start measuring; `server` is the server's pid, if it runs apart.
    pub fn start(server: Option<u32>) -> Self {
        CpuMeter {
            started: Instant::now(),
            busy: machine_busy_ticks(),
            own: Self::own_ticks(),
            server: server.map(|p| (p, pid_ticks(p))),
        }
    }

    fn own_ticks() -> u64 {
        std::fs::read_to_string("/proc/self/stat")
            .map(|t| proc_ticks(&t, true))
            .unwrap_or(0)
    }

    /// Stop and report average cores per party.
    pub fn stop(&self) -> CpuUse {
        let wall = self.started.elapsed();
        let secs = wall.as_secs_f64().max(1e-9) * 100.0;
        let busy = machine_busy_ticks().saturating_sub(self.busy) as f64;
        let own = Self::own_ticks().saturating_sub(self.own) as f64;
        let server = self
            .server
            .map(|(p, t0)| pid_ticks(p).saturating_sub(t0) as f64);
        let others = (busy - own - server.unwrap_or(0.0)).max(0.0);
        CpuUse {
            wall,
            own: own / secs,
            server: server.map(|s| s / secs),
            others: others / secs,
        }
    }
}

impl std::fmt::Display for CpuUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} cores this bench", self.own)?;
        if let Some(s) = self.server {
            write!(f, ", {s:.2} server")?;
        }
        write!(f, ", {:.2} other processes", self.others)
    }
}

/// Wait (up to `max`) until other processes use less than `threshold` cores over a one-second
/// window, so a measurement does not start in the middle of someone else's build. Returns the
/// last window's foreign load.
pub fn wait_quiet(max: Duration, threshold: f64) -> f64 {
    let deadline = Instant::now() + max;
    loop {
        let m = CpuMeter::start(None);
        std::thread::sleep(Duration::from_secs(1));
        let u = m.stop();
        if u.others < threshold || Instant::now() >= deadline {
            if u.others >= threshold {
                eprintln!(
                    "note: the machine is still busy ({:.2} cores used by other processes); measuring anyway",
                    u.others
                );
            }
            return u.others;
        }
        eprintln!(
            "waiting for a quiet machine ({:.2} cores used by other processes)",
            u.others
        );
    }
}

/// Split a server URL `http://HOST:PORT` into a socket address string.
pub fn host_port(server: &str) -> anyhow::Result<String> {
    let rest = server
        .strip_prefix("http://")
        .context("the server must be an http:// URL")?;
    let hp = rest.trim_end_matches('/');
    if hp.contains('/') {
        bail!("give the server as http://HOST:PORT");
    }
    Ok(hp.to_string())
}

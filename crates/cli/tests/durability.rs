//! Crash durability: a receipt is a promise that survives `kill -9`.
//!
//! Prepares a demo log, then `CORRIDOR_KILL_ROUNDS` times (default 20): starts `corridor demo`,
//! fires signed `incident.report` commands from several actors with 8–32 requests in flight,
//! records every receipt that came back, and `kill -9`s the server 10–300 ms later while requests
//! are still in flight. After each restart it checks that
//!
//! - every receipt of the killed run is signed by the log key and its entry is in the log at its
//!   index with the same leaf hash, and a sample of them have valid inclusion proofs against the
//!   new checkpoint;
//! - the new checkpoint covers every receipt and is consistent (RFC 9162 proof) with the last
//!   checkpoint fetched before the kill;
//! - resending receipted commands gives 200 with the identical receipt (idempotency survives a
//!   crash), and resending commands whose fate the kill hid gives 200 or 201, never a conflict.
//!
//! At the end every receipt ever recorded is checked again and `corridor verify` must pass.
//!
//! `CORRIDOR_KILL_ROUNDS=200 cargo test --release -p corridor-cli --test durability` for the long
//! run.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{Keypair, PublicKey, unb64};
use corridor_core::envelope::Draft;
use corridor_core::merkle::{Hash, verify_consistency, verify_inclusion};
use corridor_core::receipt::SignedReceipt;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_corridor");

/// A small xorshift generator, seeded from the OS, printed so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("CORRIDOR_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let mut b = [0u8; 8];
                getrandom::fill(&mut b).expect("OS randomness");
                u64::from_le_bytes(b) | 1
            });
        eprintln!("durability: seed {seed} (set CORRIDOR_KILL_SEED to repeat)");
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// A signer from `D/keys/*.key`.
struct Signer {
    actor: String,
    key: Keypair,
}

fn load_signers(dir: &Path) -> Vec<Arc<Signer>> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("keys"))
        .expect("keys dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "key"))
        // Signatories only sign documents; everyone else here reports incidents.
        .filter(|p| !p.to_string_lossy().contains("signatory"))
        .collect();
    files.sort();
    for f in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).expect("key file"))
            .expect("key file is JSON");
        let seed: [u8; 32] = unb64("seed", v["seed"].as_str().expect("seed"))
            .expect("base64 seed")
            .try_into()
            .expect("32-byte seed");
        let actor = v["actor"].as_str().expect("actor").to_string();
        out.push(Arc::new(Signer {
            actor,
            key: Keypair::from_seed(seed),
        }));
    }
    assert!(out.len() >= 3, "the demo should write several key files");
    out
}

/// Kills the server if the test fails half-way.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn start(dir: &Path, http: &reqwest::Client) -> Server {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .expect("server log");
    for _attempt in 0..5 {
        let port = free_port();
        let child = Command::new(BIN)
            .args(["demo", "--no-rate-limits", "--data-dir"])
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("CORRIDOR_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.try_clone().expect("log handle"))
            .spawn()
            .expect("start corridor demo");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                eprintln!("durability: server exited early ({status}); retrying on another port");
                break;
            }
            if let Ok(r) = http.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not become ready; see {}",
                dir.join("server.log").display()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = server.child.wait();
    }
    panic!(
        "could not start the server; see {}",
        dir.join("server.log").display()
    );
}

/// A command sent, and its receipt once one came back.
#[derive(Clone)]
struct Sent {
    envelope: Vec<u8>,
    receipt: Option<SignedReceipt>,
}

#[derive(Default)]
struct Round {
    /// Receipted commands.
    done: Vec<Sent>,
    /// Commands in flight when the server died: fate unknown.
    unknown: Vec<Sent>,
    /// Latest checkpoint note fetched during the run.
    last_note: Option<String>,
}

fn hash(b64_text: &str) -> Hash {
    unb64("hash", b64_text)
        .expect("base64 hash")
        .try_into()
        .expect("32-byte hash")
}

fn proof(v: &Value) -> Vec<Hash> {
    v["proof"]
        .as_array()
        .expect("proof array")
        .iter()
        .map(|h| hash(h.as_str().expect("hash string")))
        .collect()
}

async fn get_json(http: &reqwest::Client, url: String) -> Value {
    let r = http.get(&url).send().await.expect("GET");
    let status = r.status();
    let text = r.text().await.expect("body");
    assert!(status.is_success(), "GET {url}: {status} {text}");
    serde_json::from_str(&text).expect("JSON")
}

async fn checkpoint(
    http: &reqwest::Client,
    s: &Server,
    origin: &str,
    key: &PublicKey,
) -> (Checkpoint, String) {
    let note = http
        .get(format!("{}/v1/log/checkpoint", s.base))
        .send()
        .await
        .expect("GET checkpoint")
        .text()
        .await
        .expect("checkpoint body");
    let cp = Checkpoint::verify(&note, origin, key).expect("checkpoint verifies with the log key");
    (cp, note)
}

/// The leaf hashes of the given indices, fetched in pages from `/v1/log/leaves`.
async fn leaves(http: &reqwest::Client, s: &Server, indices: &[u64]) -> BTreeMap<u64, String> {
    let mut pages: Vec<u64> = indices.iter().map(|i| i / 1000).collect();
    pages.sort_unstable();
    pages.dedup();
    let size = get_json(http, format!("{}/v1/log/head", s.base)).await["size"]
        .as_u64()
        .expect("size");
    let mut out = BTreeMap::new();
    for p in pages {
        let (start, end) = (p * 1000, ((p + 1) * 1000).min(size));
        assert!(
            start < end,
            "a receipted index {start}.. is beyond the log's size {size}"
        );
        let v = get_json(
            http,
            format!("{}/v1/log/leaves?start={start}&end={end}", s.base),
        )
        .await;
        for l in v["leaves"].as_array().expect("leaves") {
            out.insert(
                l["index"].as_u64().expect("index"),
                l["leaf_hash"].as_str().expect("leaf hash").to_string(),
            );
        }
    }
    out
}

/// Every receipt's entry is at its index with the same leaf hash; the sampled ones also have
/// valid inclusion proofs against `cp`.
async fn check_receipts(
    http: &reqwest::Client,
    s: &Server,
    receipts: &[&SignedReceipt],
    cp: &Checkpoint,
    log_key: &PublicKey,
    rng: &mut Rng,
    prove: usize,
) {
    let indices: Vec<u64> = receipts.iter().map(|r| r.receipt.index).collect();
    let have = leaves(http, s, &indices).await;
    for r in receipts {
        r.verify(log_key).expect("receipt signed by the log key");
        let i = r.receipt.index;
        assert!(
            i < cp.size,
            "receipted entry {i} is not covered by the checkpoint after restart (size {})",
            cp.size
        );
        assert_eq!(
            have.get(&i),
            Some(&r.receipt.leaf_hash),
            "receipted entry {i} is missing or different after kill -9"
        );
    }
    for _ in 0..prove.min(receipts.len()) {
        let r = receipts[rng.range(0, receipts.len() as u64 - 1) as usize];
        let i = r.receipt.index;
        let v = get_json(
            http,
            format!(
                "{}/v1/log/proof/inclusion?index={i}&size={}",
                s.base, cp.size
            ),
        )
        .await;
        verify_inclusion(
            &hash(&r.receipt.leaf_hash),
            i,
            cp.size,
            &proof(&v),
            &cp.root,
        )
        .expect("inclusion proof of a receipted entry");
    }
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    envelope: &[u8],
) -> Result<(u16, String), reqwest::Error> {
    let r = http
        .post(format!("{base}/v1/commands"))
        .header("content-type", "application/json")
        .body(envelope.to_vec())
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.text().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receipts_survive_kill_9() {
    run().await;
}

async fn run() {
    let rounds: usize = std::env::var("CORRIDOR_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rng = Rng::new();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");
    let out = Command::new(BIN)
        .args(["demo", "--no-serve", "--no-rate-limits", "--data-dir"])
        .arg(&dir)
        .env("CORRIDOR_LOG", "warn")
        .output()
        .expect("run corridor demo --no-serve");
    assert!(
        out.status.success(),
        "demo --no-serve failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let genesis: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("genesis.json")).expect("genesis"))
            .expect("genesis JSON");
    let origin = genesis["document"]["origin"]
        .as_str()
        .expect("origin")
        .to_string();
    let log_key = PublicKey::parse(genesis["document"]["log_key"].as_str().expect("log_key"))
        .expect("log key");
    let signers = load_signers(&dir);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");

    let started = Instant::now();
    let mut all: Vec<SignedReceipt> = Vec::new();
    let mut last_seen: Option<(Checkpoint, String)> = None;
    let mut pending: Round = Round::default();
    let mut totals = (0usize, 0usize, 0usize);
    for round in 0..=rounds {
        let s = start(&dir, &http).await;
        let (cp, note) = checkpoint(&http, &s, &origin, &log_key).await;

        // 1. The checkpoint after restart extends the last one seen before the kill.
        if let Some(last) = pending
            .last_note
            .as_ref()
            .map(|n| Checkpoint::verify(n, &origin, &log_key).expect("remembered checkpoint"))
            .or_else(|| last_seen.as_ref().map(|(c, _)| c.clone()))
        {
            assert!(
                cp.size >= last.size,
                "the log shrank across kill -9: {} < {}",
                cp.size,
                last.size
            );
            if cp.size == last.size {
                assert_eq!(
                    cp.root, last.root,
                    "same size, different root after restart"
                );
            } else {
                let v = get_json(
                    &http,
                    format!(
                        "{}/v1/log/proof/consistency?from={}&to={}",
                        s.base, last.size, cp.size
                    ),
                )
                .await;
                verify_consistency(last.size, cp.size, &last.root, &cp.root, &proof(&v))
                    .expect("checkpoint after restart is consistent with the one before the kill");
            }
        }

        // 2. Every receipt of the killed run is in the log, with the same leaf.
        let receipts: Vec<&SignedReceipt> = pending
            .done
            .iter()
            .filter_map(|s| s.receipt.as_ref())
            .collect();
        check_receipts(&http, &s, &receipts, &cp, &log_key, &mut rng, 16).await;

        // 3. Idempotency survives the crash: receipted commands resend to the same receipt, and
        //    commands whose answer the kill swallowed are either already there or accepted now.
        for _ in 0..4.min(pending.done.len()) {
            let sent = &pending.done[rng.range(0, pending.done.len() as u64 - 1) as usize];
            let (status, body) = post(&http, &s.base, &sent.envelope).await.expect("resend");
            assert_eq!(status, 200, "resending a receipted command: {body}");
            let again: SignedReceipt = serde_json::from_str(&body).expect("receipt");
            assert_eq!(
                Some(&again),
                sent.receipt.as_ref(),
                "a resent command got another receipt"
            );
        }
        for sent in pending.unknown.iter().take(8) {
            let (status, body) = post(&http, &s.base, &sent.envelope).await.expect("resend");
            assert!(
                status == 200 || status == 201,
                "resending an unanswered command: {status} {body}"
            );
            let r: SignedReceipt = serde_json::from_str(&body).expect("receipt");
            totals.2 += usize::from(status == 200);
            all.push(r);
        }
        all.extend(receipts.into_iter().cloned());
        last_seen = Some((cp, note));

        if round == rounds {
            // Final pass: every receipt ever recorded, against a checkpoint covering them all.
            // Commands resent above were sequenced after the restart checkpoint; the receipt
            // promises one covering them within the maximum merge delay (1 s in the demo).
            let need = all.iter().map(|r| r.receipt.index + 1).max().unwrap_or(0);
            let deadline = Instant::now() + Duration::from_secs(3);
            let cp = loop {
                let (cp, _) = checkpoint(&http, &s, &origin, &log_key).await;
                if cp.size >= need {
                    break cp;
                }
                assert!(
                    Instant::now() < deadline,
                    "no checkpoint covers entry {} within the maximum merge delay",
                    need - 1
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let refs: Vec<&SignedReceipt> = all.iter().collect();
            check_receipts(&http, &s, &refs, &cp, &log_key, &mut rng, 64).await;
            s.kill9();
            break;
        }

        // 4. Load, then kill -9 with requests in flight.
        let in_flight = rng.range(8, 32) as usize;
        let kill_after = Duration::from_millis(rng.range(10, 300));
        pending = load_and_kill(
            &http, s, &signers, &origin, &log_key, round, in_flight, kill_after,
        )
        .await;
        totals.0 += pending.done.len();
        totals.1 += pending.unknown.len();
    }

    let out = Command::new(BIN)
        .args(["verify", "--data-dir"])
        .arg(&dir)
        .env("CORRIDOR_LOG", "warn")
        .output()
        .expect("run corridor verify");
    assert!(
        out.status.success(),
        "corridor verify failed after {rounds} kill -9 rounds: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "durability: {rounds} kill -9 rounds in {:.1?}: {} receipts checked, {} requests cut off by the kill ({} of those turned out committed), {}",
        started.elapsed(),
        totals.0,
        totals.1,
        totals.2,
        String::from_utf8_lossy(&out.stdout).trim()
    );
}

/// Fire commands with `in_flight` concurrent senders, fetch checkpoints meanwhile, and `kill -9`
/// the server after `kill_after` with requests in flight. Returns what came back.
#[allow(clippy::too_many_arguments)]
async fn load_and_kill(
    http: &reqwest::Client,
    s: Server,
    signers: &[Arc<Signer>],
    origin: &str,
    log_key: &PublicKey,
    round: usize,
    in_flight: usize,
    kill_after: Duration,
) -> Round {
    let head = get_json(http, format!("{}/v1/log/head", s.base)).await;
    let now = head["clock"]["now"].as_str().expect("clock.now");
    // Sign with the log's (simulated) clock, as `corridor submit` does.
    let time = format!("{}Z", &now[..19]);
    let state = Arc::new(Mutex::new(Round::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for t in 0..in_flight {
        let (http, base, state, stop, counter) = (
            http.clone(),
            s.base.clone(),
            state.clone(),
            stop.clone(),
            counter.clone(),
        );
        let signer = signers[t % signers.len()].clone();
        let (origin, time) = (origin.to_string(), time.clone());
        tasks.push(tokio::spawn(async move {
            // Senders pause 0–8 ms between requests: requests stay in flight at any moment, but
            // the log grows by hundreds (not thousands) of entries per round, so restarts (which
            // replay the whole log) stay fast over 200 rounds.
            let mut pause = Rng((round as u64 + 1) * 7919 + t as u64 * 104_729 + 1);
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let id = format!("k{round}-{t}-{n}");
                let envelope = Draft {
                    origin: &origin,
                    actor: &signer.actor,
                    id: &id,
                    time: &time,
                    body: json!({
                        "type": "incident.report",
                        "incident": format!("{}/{id}", signer.actor.split('/').next().unwrap()),
                        "occurred_at": "2022-03-03T13:30:00Z",
                        "location": {"lat_e7": 506_451_000 + (n % 1000) as i64, "lon_e7": 299_220_000},
                        "category": "shelling",
                        "accused_party": "ru",
                        "description": format!("Durability test: report {id}, sent while the server may be killed."),
                    }),
                }
                .sign(&signer.key);
                let mut sent = Sent {
                    envelope,
                    receipt: None,
                };
                match post(&http, &base, &sent.envelope).await {
                    Ok((201 | 200, body)) => {
                        let r: SignedReceipt = serde_json::from_str(&body).expect("a receipt");
                        sent.receipt = Some(r);
                        state.lock().expect("lock").done.push(sent);
                        tokio::time::sleep(Duration::from_micros(pause.range(0, 8000))).await;
                    }
                    Ok((status, body)) => panic!("command {id} refused: {status} {body}"),
                    Err(_) => {
                        // The server died with this request in flight (or before it was sent).
                        state.lock().expect("lock").unknown.push(sent);
                        return;
                    }
                }
            }
        }));
    }
    // Fetch checkpoints while the load runs; remember the last one seen before the kill.
    let started = Instant::now();
    while let Some(left) = kill_after.checked_sub(started.elapsed()) {
        if let Ok(r) = http
            .get(format!("{}/v1/log/checkpoint", s.base))
            .send()
            .await
            && r.status().is_success()
            && let Ok(note) = r.text().await
        {
            Checkpoint::verify(&note, origin, log_key).expect("a live checkpoint verifies");
            state.lock().expect("lock").last_note = Some(note);
        }
        tokio::time::sleep(left.min(Duration::from_millis(20))).await;
    }
    s.kill9();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("sender task");
    }
    std::mem::take(&mut *state.lock().expect("lock"))
}

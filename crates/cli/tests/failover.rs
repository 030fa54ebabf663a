//! Failover without forks: three `corridor serve` processes on one PostgreSQL database, clients
//! sending signed commands to every instance, and the sequencer `kill -9`ed with requests in
//! flight. Afterwards:
//!
//! - a standby took over (a higher lease epoch) and the log went on;
//! - every checkpoint any instance ever served verifies, two of one size are identical, and each
//!   is consistent (RFC 9162 proof) with the next larger one: one checkpoint history;
//! - every receipt is signed by the log key, and its command is in the log exactly once, at the
//!   receipt's index with the receipt's leaf hash; commands whose answer the kill swallowed,
//!   resent as the same bytes, are accepted once or answered with their original receipt;
//! - `corridor verify --database` passes.
//!
//! Needs PostgreSQL; without it the test says so and passes, except under `CI=true`.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{Keypair, PublicKey, unb64};
use corridor_core::envelope::Draft;
use corridor_core::merkle::{Hash, verify_consistency};
use corridor_core::receipt::SignedReceipt;
use corridor_storage::Database;
use corridor_storage_postgres::Postgres;
use corridor_storage_postgres::testkit::TestDatabase;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_corridor");

struct Instance {
    child: Option<Child>,
    base: String,
}

impl Instance {
    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().expect("reap");
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn corridor(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("CORRIDOR_LOG", "warn")
        .output()
        .expect("run corridor");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "corridor {args:?} failed:\n{text}");
    text
}

async fn start(dir: &Path, url: &str, n: usize, http: &reqwest::Client) -> Instance {
    let port = free_port();
    let log = std::fs::File::create(dir.join(format!("instance-{n}.log"))).expect("log file");
    let child = Command::new(BIN)
        .args(["serve", "--data-dir", "demo", "--database", url])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--clock", "2022-03-03T14:50:00Z"])
        .args(["--lease-ttl-ms", "1500", "--poll-ms", "200"])
        .current_dir(dir)
        .env("CORRIDOR_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start corridor serve");
    let instance = Instance {
        child: Some(child),
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{}/readyz", instance.base)).send().await
            && r.status().is_success()
        {
            return instance;
        }
        assert!(
            Instant::now() < deadline,
            "instance {n} did not become ready; see instance-{n}.log"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn hash(text: &str) -> Hash {
    unb64("hash", text).unwrap().try_into().unwrap()
}

async fn get_json(http: &reqwest::Client, url: String) -> Option<Value> {
    let r = http.get(&url).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

/// A command, its bytes as signed, and its receipt once one came back.
struct Sent {
    actor: String,
    id: String,
    envelope: Vec<u8>,
    receipt: Option<SignedReceipt>,
}

/// Send `envelope` to `base`: `Some(receipt)` on 200/201, `None` if the instance did not answer
/// or answered 503 (nothing acknowledged); any other answer fails the test.
async fn post(http: &reqwest::Client, base: &str, envelope: &[u8]) -> Option<(u16, SignedReceipt)> {
    let r = http
        .post(format!("{base}/v1/commands"))
        .header("content-type", "application/json")
        .body(envelope.to_vec())
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    let body = r.text().await.ok()?;
    match status {
        200 | 201 => Some((status, serde_json::from_str(&body).expect("a receipt"))),
        503 => None,
        _ => panic!("unexpected answer {status}: {body}"),
    }
}

fn load_signers(dir: &Path) -> Vec<(String, Keypair)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "key"))
        // Signatories only sign documents; everyone else here reports incidents.
        .filter(|p| !p.to_string_lossy().contains("signatory"))
        .collect();
    files.sort();
    for f in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let seed: [u8; 32] = unb64("seed", v["seed"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        out.push((
            v["actor"].as_str().unwrap().to_string(),
            Keypair::from_seed(seed),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_sequencer_forks_nothing_and_loses_no_receipt() {
    let Some(pg) = TestDatabase::create().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    corridor(
        dir,
        &[
            "demo",
            "--no-serve",
            "--no-rate-limits",
            "--data-dir",
            "demo",
        ],
    );
    corridor(
        dir,
        &["export", "--data-dir", "demo", "--out", "demo.jsonl"],
    );
    corridor(
        dir,
        &[
            "import",
            "--in",
            "demo.jsonl",
            "--database",
            &pg.url,
            "--data-dir",
            "demo-pg",
        ],
    );
    let genesis: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo/genesis.json")).unwrap())
            .unwrap();
    let origin = genesis["document"]["origin"].as_str().unwrap().to_string();
    let log_key = PublicKey::parse(genesis["document"]["log_key"].as_str().unwrap()).unwrap();
    let signers = load_signers(&dir.join("demo"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let mut instances = Vec::new();
    for n in 0..3 {
        instances.push(start(dir, &pg.url, n, &http).await);
    }
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let mut sequencer = None;
    for (n, b) in bases.iter().enumerate() {
        let role = get_json(&http, format!("{b}/v1/cluster")).await.unwrap();
        if role["role"] == "sequencer" {
            sequencer = Some((n, role["epoch"].as_u64().unwrap()));
        }
    }
    let (victim, epoch) = sequencer.expect("one instance sequences");

    // Every checkpoint any instance serves, all along.
    let notes = Arc::new(Mutex::new(BTreeMap::<u64, Vec<String>>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (http, bases, notes, stop) = (http.clone(), bases.clone(), notes.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                for b in &bases {
                    if let Ok(r) = http.get(format!("{b}/v1/log/checkpoint")).send().await
                        && r.status().is_success()
                        && let Ok(note) = r.text().await
                    {
                        let size = note.lines().nth(1).unwrap().parse().unwrap();
                        let mut n = notes.lock().unwrap();
                        let seen = n.entry(size).or_default();
                        if !seen.contains(&note) {
                            seen.push(note);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        })
    };

    // Clients on every instance, each with requests in flight, until told to stop; a command
    // not acknowledged goes to the next instance, as the same bytes.
    let head = get_json(&http, format!("{}/v1/log/head", bases[0]))
        .await
        .unwrap();
    let now = head["clock"]["now"].as_str().unwrap();
    let time = format!("{}Z", &now[..19]);
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let counter = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for t in 0..12 {
        let (http, bases, sent, stop, counter) = (
            http.clone(),
            bases.clone(),
            sent.clone(),
            stop.clone(),
            counter.clone(),
        );
        let (actor, key) = signers[t % signers.len()].clone();
        let (origin, time) = (origin.clone(), time.clone());
        clients.push(tokio::spawn(async move {
            let mut target = t;
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let id = format!("failover-{t}-{n}");
                let envelope = Draft {
                    origin: &origin,
                    actor: &actor,
                    id: &id,
                    time: &time,
                    body: json!({
                        "type": "incident.report",
                        "incident": format!("{}/{id}", actor.split('/').next().unwrap()),
                        "occurred_at": "2022-03-03T13:30:00Z",
                        "location": {"lat_e7": 506_451_000, "lon_e7": 299_220_000},
                        "category": "shelling",
                        "accused_party": "ru",
                        "description": format!("Failover test: report {id}."),
                    }),
                }
                .sign(&key);
                let mut s = Sent {
                    actor: actor.clone(),
                    id,
                    envelope,
                    receipt: None,
                };
                for _ in 0..bases.len() {
                    if let Some((_, r)) =
                        post(&http, &bases[target % bases.len()], &s.envelope).await
                    {
                        s.receipt = Some(r);
                        break;
                    }
                    target += 1;
                }
                sent.lock().unwrap().push(s);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_kill = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.receipt.is_some())
        .count();
    assert!(before_kill > 0, "no command was accepted before the kill");
    instances[victim].kill9();
    // Load goes on until a standby has taken over and accepted more.
    let t = Instant::now();
    let survivor = loop {
        let mut found = None;
        for (n, b) in bases.iter().enumerate() {
            if n != victim
                && let Some(role) = get_json(&http, format!("{b}/v1/cluster")).await
                && role["role"] == "sequencer"
            {
                assert!(role["epoch"].as_u64().unwrap() > epoch, "{role}");
                found = Some(n);
            }
        }
        if let Some(n) = found {
            break n;
        }
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "no standby took over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!(
        "failover: instance {survivor} took over {:?} after the kill",
        t.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let base = bases[survivor].clone();

    // Commands whose answer was lost: the same bytes again, once.
    let mut sent = std::mem::take(&mut *sent.lock().unwrap());
    let mut resent = 0;
    for s in sent.iter_mut().filter(|s| s.receipt.is_none()) {
        let t = Instant::now();
        loop {
            if let Some((_, r)) = post(&http, &base, &s.envelope).await {
                s.receipt = Some(r);
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "no receipt for {}",
                s.id
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        resent += 1;
    }
    let max_index = sent
        .iter()
        .map(|s| s.receipt.as_ref().unwrap().receipt.index)
        .max()
        .unwrap();
    // The last checkpoint covers every receipt (within the merge delay).
    let t = Instant::now();
    loop {
        let head = get_json(&http, format!("{base}/v1/log/head"))
            .await
            .unwrap();
        if head["size"].as_u64().unwrap() > max_index {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no checkpoint covers {max_index}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    watcher.await.unwrap();
    eprintln!(
        "failover: {} commands ({before_kill} receipted before the kill, {resent} resent after it)",
        sent.len()
    );

    // Every receipt: signed, in the log once, at its index with its leaf.
    let db = Postgres::open(&pg.url).await.unwrap();
    let size = db.size().await.unwrap();
    let entries = db.entries(0, size).await.unwrap();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    for e in &entries {
        let k = (e.actor.clone(), e.command_id.clone());
        assert!(
            seen.insert(k, e.header.index).is_none(),
            "a command is in the log twice"
        );
    }
    for s in &sent {
        let r = s.receipt.as_ref().unwrap();
        r.verify(&log_key).expect("receipt signed by the log key");
        let i = r.receipt.index;
        assert_eq!(
            seen.get(&(s.actor.clone(), s.id.clone())),
            Some(&i),
            "{}",
            s.id
        );
        assert_eq!(
            corridor_core::crypto::b64(&entries[i as usize].leaf_hash()),
            r.receipt.leaf_hash,
            "entry {i} differs from its receipt"
        );
    }

    // One checkpoint history: same size, same note; each consistent with the next.
    let notes = notes.lock().unwrap().clone();
    assert!(notes.len() >= 2, "checkpoints seen: {notes:?}");
    let mut chain = Vec::new();
    for (size, versions) in &notes {
        assert_eq!(
            versions.len(),
            1,
            "two different checkpoints of size {size}: {versions:?}"
        );
        chain.push(
            Checkpoint::verify(&versions[0], &origin, &log_key).expect("checkpoint verifies"),
        );
    }
    for pair in chain.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let v = get_json(
            &http,
            format!(
                "{base}/v1/log/proof/consistency?from={}&to={}",
                a.size, b.size
            ),
        )
        .await
        .expect("a consistency proof");
        let proof: Vec<Hash> = v["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hash(h.as_str().unwrap()))
            .collect();
        verify_consistency(a.size, b.size, &a.root, &b.root, &proof)
            .unwrap_or_else(|e| panic!("checkpoints {} and {} fork: {e:?}", a.size, b.size));
    }
    db.close().await;
    drop(instances);
    let out = corridor(
        dir,
        &["verify", "--data-dir", "demo-pg", "--database", &pg.url],
    );
    assert!(out.contains("ok:"), "{out}");
}

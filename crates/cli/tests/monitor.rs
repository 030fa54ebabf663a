//! `corridor monitor --state DIR` against a dishonest server (#20): a harness that serves the
//! log's public read paths (`/v1/log/head`, `/v1/log/leaves`, `/v1/log/proof/consistency`) from
//! a history it can rewrite, fork, truncate or serve bad proofs for. Each lie is caught within
//! one poll, with evidence that `corridor verify-evidence` confirms where the log key's own
//! signatures prove it; an honest server passes a hundred polls with no false alarm.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::{Keypair, b64};
use corridor_core::entry::EntryHeader;
use corridor_core::merkle::MemoryTree;
use serde_json::{Value, json};

const ORIGIN: &str = "corridor.test/monitor";

/// What the harness serves: the history, how much of it, and which lie to tell.
struct View {
    history: Vec<EntryHeader>,
    size: u64,
    key: Keypair,
    /// Sign checkpoints with this key instead (a forged signature).
    forger: Option<Keypair>,
    /// Flip a byte of every consistency proof.
    bad_proof: bool,
    /// Present this origin instead of the log's.
    origin: Option<String>,
    /// Serve the note without the blank line between body and signatures.
    mangle_note: bool,
    /// Serve one leaf fewer than asked for.
    short_leaves: bool,
    /// Append a hash to every consistency proof (a proof of the wrong length).
    long_proof: bool,
}

type Shared = Arc<Mutex<View>>;

fn header(index: u64, tag: u8) -> EntryHeader {
    EntryHeader {
        index,
        time: format!(
            "2022-03-03T14:{:02}:{:02}.000000Z",
            index / 60 % 60,
            index % 60
        ),
        commitment: b64(&[tag; 32]),
    }
}

fn tree(v: &View) -> MemoryTree {
    let mut t = MemoryTree::new();
    for h in &v.history[..v.size as usize] {
        t.push(h.leaf_hash());
    }
    t
}

async fn head(State(s): State<Shared>) -> Json<Value> {
    let v = s.lock().unwrap();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: v.size,
        root: tree(&v).root(),
    };
    let mut note = cp.sign(v.forger.as_ref().unwrap_or(&v.key));
    if v.mangle_note {
        note = note.replacen("\n\n", "\n", 1);
    }
    let origin = v.origin.clone().unwrap_or_else(|| ORIGIN.into());
    let key = v.key.public().id();
    Json(
        json!({"origin": origin, "size": v.size, "root": b64(&cp.root), "note": note,
        "log_key": key, "log_keys": [{"key": key, "from_size": 0, "handover": null}],
        "exercise": true, "clock": {"simulated": true, "now": "2022-03-03T15:00:00.000000Z"}}),
    )
}

async fn leaves(
    State(s): State<Shared>,
    Query(q): Query<std::collections::BTreeMap<String, u64>>,
) -> Json<Value> {
    let v = s.lock().unwrap();
    let end = q["end"] as usize - usize::from(v.short_leaves);
    let list: Vec<Value> = v.history[q["start"] as usize..end]
        .iter()
        .map(|h| json!({"leaf": h, "leaf_hash": b64(&h.leaf_hash())}))
        .collect();
    Json(json!({"leaves": list}))
}

async fn consistency(
    State(s): State<Shared>,
    Query(q): Query<std::collections::BTreeMap<String, u64>>,
) -> Json<Value> {
    let v = s.lock().unwrap();
    // Proofs come from the whole history held, served or not (as a forking server would
    // answer from the history it keeps for this reader).
    let mut all = MemoryTree::new();
    for h in &v.history {
        all.push(h.leaf_hash());
    }
    let mut proof = all.consistency_proof(q["from"], q["to"]).unwrap();
    if v.long_proof {
        proof.push([8; 32]);
    }
    if v.bad_proof {
        if let Some(p) = proof.first_mut() {
            p[0] ^= 1;
        } else {
            proof.push([7; 32]);
        }
    }
    Json(json!({"proof": proof.iter().map(|h| b64(h)).collect::<Vec<_>>()}))
}

/// Start the harness with an honest history of `n` leaves, all served.
fn harness(n: u64) -> (Shared, String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (view, url) = serve_view(&rt, n);
    (view, url, rt)
}

/// Another listener of the same log (same key, its own history): the server as a second party
/// sees it.
fn serve_view(rt: &tokio::runtime::Runtime, n: u64) -> (Shared, String) {
    let view = Arc::new(Mutex::new(View {
        history: (0..n).map(|i| header(i, 1)).collect(),
        size: n,
        key: Keypair::from_seed([42; 32]),
        forger: None,
        bad_proof: false,
        origin: None,
        mangle_note: false,
        short_leaves: false,
        long_proof: false,
    }));
    let app = Router::new()
        .route("/v1/log/head", get(head))
        .route("/v1/log/leaves", get(leaves))
        .route("/v1/log/proof/consistency", get(consistency))
        .with_state(view.clone());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (view, format!("http://{addr}"))
}

fn corridor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corridor"))
        .current_dir(dir)
        .env("HOME", dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// One poll: (passed, output).
fn poll(dir: &Path, url: &str) -> (bool, String) {
    let o = corridor(
        dir,
        &["monitor", "--server", url, "--state", "state", "--once"],
    );
    (o.status.success(), text(&o))
}

fn evidence_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("state"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("evidence-")
        })
        .collect();
    v.sort();
    v
}

/// The log grows honestly: every poll passes, and nothing is written but checkpoints.
#[test]
fn an_honest_server_passes_a_hundred_polls() {
    let d = tempfile::tempdir().unwrap();
    let (view, url, _rt) = harness(3);
    for i in 0..100u64 {
        if i % 3 == 0 {
            let mut v = view.lock().unwrap();
            let n = v.history.len() as u64;
            v.history.push(header(n, 1));
            v.size = n + 1;
        }
        let (ok, out) = poll(d.path(), &url);
        assert!(ok, "poll {i}: {out}");
    }
    assert!(evidence_files(d.path()).is_empty());
    let kept = std::fs::read_to_string(d.path().join("state/checkpoints.jsonl")).unwrap();
    assert_eq!(kept.lines().count(), 34, "one line per new tree size");
}

/// A rewritten old entry: caught in the next poll, with evidence anyone confirms offline (and
/// that a tampered copy of does not confirm).
#[test]
fn a_rewritten_entry_is_caught_with_evidence() {
    let d = tempfile::tempdir().unwrap();
    let (view, url, _rt) = harness(5);
    assert!(poll(d.path(), &url).0);
    {
        let mut v = view.lock().unwrap();
        v.history[2] = header(2, 9);
        v.history.push(header(5, 1));
        v.size = 6;
    }
    let (ok, out) = poll(d.path(), &url);
    assert!(
        !ok && out.contains("rewrite") && out.contains("verify-evidence"),
        "{out}"
    );
    let files = evidence_files(d.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let file = files[0].to_str().unwrap();
    let key = view.lock().unwrap().key.public().id();
    let o = corridor(d.path(), &["verify-evidence", file, "--log-key", &key]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("the log was rewritten"), "{}", text(&o));
    // The evidence names its key: against another log's key it proves nothing.
    let other = Keypair::from_seed([7; 32]).public().id();
    let o = corridor(d.path(), &["verify-evidence", file, "--log-key", &other]);
    assert!(
        !o.status.success() && text(&o).contains("not by"),
        "{}",
        text(&o)
    );
    // A tampered copy (the leaf put back) no longer holds.
    let mut e: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    e["leaves"][2] = serde_json::to_value(header(2, 1)).unwrap();
    std::fs::write(d.path().join("tampered.json"), e.to_string()).unwrap();
    let o = corridor(d.path(), &["verify-evidence", "tampered.json"]);
    assert!(
        !o.status.success() && text(&o).contains("does not hold"),
        "{}",
        text(&o)
    );
    // Not evidence at all.
    std::fs::write(d.path().join("other.json"), "{\"kind\": \"rumour\"}").unwrap();
    let o = corridor(d.path(), &["verify-evidence", "other.json"]);
    assert!(
        !o.status.success() && text(&o).contains("not evidence"),
        "{}",
        text(&o)
    );
}

/// Two trees of one size (a fork shown to this monitor over time): caught, with evidence.
#[test]
fn a_fork_is_caught_with_evidence() {
    let d = tempfile::tempdir().unwrap();
    let (view, url, _rt) = harness(4);
    assert!(poll(d.path(), &url).0);
    view.lock().unwrap().history[3] = header(3, 5);
    let (ok, out) = poll(d.path(), &url);
    assert!(!ok && out.contains("forked"), "{out}");
    let files = evidence_files(d.path());
    let o = corridor(d.path(), &["verify-evidence", files[0].to_str().unwrap()]);
    assert!(
        o.status.success() && text(&o).contains("forked"),
        "{}",
        text(&o)
    );
}

/// A truncated log, a bad consistency proof, a forged signature: each fails its poll; none is
/// written up as evidence, since only the monitor saw it.
#[test]
fn truncation_bad_proofs_and_forged_signatures_fail_the_poll() {
    let d = tempfile::tempdir().unwrap();
    let (view, url, _rt) = harness(6);
    assert!(poll(d.path(), &url).0);
    view.lock().unwrap().size = 4;
    let (ok, out) = poll(d.path(), &url);
    assert!(!ok && out.contains("truncated"), "{out}");
    {
        let mut v = view.lock().unwrap();
        v.size = 6;
        v.history.push(header(6, 1));
        v.size = 7;
        v.bad_proof = true;
    }
    let (ok, out) = poll(d.path(), &url);
    assert!(!ok && out.contains("consistency proof"), "{out}");
    {
        let mut v = view.lock().unwrap();
        v.bad_proof = false;
        v.forger = Some(Keypair::from_seed([9; 32]));
    }
    let (ok, out) = poll(d.path(), &url);
    assert!(!ok && out.contains("does not verify"), "{out}");
    view.lock().unwrap().forger = None;
    let (ok, out) = poll(d.path(), &url);
    assert!(ok, "the honest answer again: {out}");
    assert!(evidence_files(d.path()).is_empty());
}

/// Tell a lie (true) or stop telling it (false).
type Lie = dyn Fn(&mut View, bool);

/// The bad input of #20, each refused in its poll and trusted in nothing: another origin than
/// the one watched, a malformed note, leaf ranges that do not match the size, a consistency
/// proof of the wrong length. After each the honest answer passes again, with no evidence.
#[test]
fn unknown_origins_malformed_notes_short_ranges_and_long_proofs_fail_the_poll() {
    let d = tempfile::tempdir().unwrap();
    let (view, url, _rt) = harness(4);
    assert!(poll(d.path(), &url).0);
    let lies: [(&Lie, &str); 4] = [
        (
            &|v, on| v.origin = on.then(|| "corridor.test/other".to_string()),
            "unknown-origin",
        ),
        (&|v, on| v.mangle_note = on, "does not verify"),
        (&|v, on| v.short_leaves = on, "leaves"),
        (&|v, on| v.long_proof = on, "consistency proof"),
    ];
    for (n, (lie, says)) in lies.iter().enumerate() {
        {
            // Grow, so each poll has a new checkpoint and a proof to ask for.
            let mut v = view.lock().unwrap();
            let next = v.history.len() as u64;
            v.history.push(header(next, 1));
            v.size = next + 1;
            lie(&mut v, true);
        }
        let (ok, out) = poll(d.path(), &url);
        assert!(!ok && out.contains(says), "lie {n}: {out}");
        lie(&mut view.lock().unwrap(), false);
        let (ok, out) = poll(d.path(), &url);
        assert!(ok, "lie {n}, then the truth: {out}");
    }
    assert!(evidence_files(d.path()).is_empty());
}

/// A leaf whose time is not after the one before it.
#[test]
fn malformed_leaves_fail_the_poll() {
    let d = tempfile::tempdir().unwrap();
    let (view, url, _rt) = harness(3);
    view.lock().unwrap().history[1].time = "2022-03-03T14:00:00.000000Z".into();
    let (ok, out) = poll(d.path(), &url);
    assert!(!ok && out.contains("leaf 1: time"), "{out}");
}

/// A monitor that keeps polling and serves what it verified for gossip; killed when dropped.
struct Watching {
    child: std::process::Child,
    gossip: String,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn watch(dir: &Path, url: &str) -> Watching {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .current_dir(dir)
        .env("HOME", dir)
        .args([
            "monitor",
            "--server",
            url,
            "--state",
            "state",
            "--interval",
            "1",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let gossip = first
        .strip_prefix("gossip: ")
        .and_then(|u| u.strip_suffix("/v1/checkpoints"))
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    // Its first poll has been kept once it prints its summary.
    let polled = lines.next().unwrap().unwrap();
    assert!(polled.contains("every leaf checked"), "{polled}");
    std::thread::spawn(move || for _ in lines {});
    Watching { child, gossip }
}

/// The server shows history A to one party's monitor and history B to the other's: the second
/// catches it in its first poll that compares notes with the first, with evidence.
#[test]
fn a_split_view_is_caught_through_gossip() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let (a, url_a, rt) = harness(5);
    let (b, url_b) = serve_view(&rt, 5);
    // The same five leaves, then each view's own sixth.
    a.lock().unwrap().history.push(header(5, 1));
    a.lock().unwrap().size = 6;
    b.lock().unwrap().history.push(header(5, 2));
    b.lock().unwrap().size = 6;
    let first = watch(one.path(), &url_a);
    let o = corridor(
        two.path(),
        &[
            "monitor",
            "--server",
            &url_b,
            "--state",
            "state",
            "--once",
            "--peer",
            &first.gossip,
        ],
    );
    assert!(
        !o.status.success() && text(&o).contains("different histories"),
        "{}",
        text(&o)
    );
    let files = evidence_files(two.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let o = corridor(two.path(), &["verify-evidence", files[0].to_str().unwrap()]);
    assert!(
        o.status.success() && text(&o).contains("forked"),
        "{}",
        text(&o)
    );

    // A shorter view B (four leaves) that the server cannot prove a prefix of what A's monitor
    // verified: a split view, caught without evidence (only the server's proof is at fault).
    let three = tempfile::tempdir().unwrap();
    let (c, url_c) = serve_view(&rt, 6);
    {
        let mut v = c.lock().unwrap();
        v.history[5] = header(5, 3);
        v.size = 4;
    }
    let o = corridor(
        three.path(),
        &[
            "monitor",
            "--server",
            &url_c,
            "--state",
            "state",
            "--once",
            "--peer",
            &first.gossip,
        ],
    );
    assert!(
        !o.status.success() && text(&o).contains("split-view"),
        "{}",
        text(&o)
    );
    // The honest view agrees with its peer.
    let four = tempfile::tempdir().unwrap();
    let o = corridor(
        four.path(),
        &[
            "monitor",
            "--server",
            &url_a,
            "--state",
            "state",
            "--once",
            "--peer",
            &first.gossip,
        ],
    );
    assert!(
        o.status.success() && text(&o).contains("checkpoints its peers verified"),
        "{}",
        text(&o)
    );
    drop(first);
}

/// The server shows history B to a party's witness (which co-signs it) and history A to a
/// monitor: the monitor that compares notes with the witness (`--peer`, the witness's
/// `GET /v1/checkpoints`) catches the fork in one poll, with evidence `verify-evidence` confirms.
#[test]
fn a_fork_is_caught_through_a_witness() {
    let d = tempfile::tempdir().unwrap();
    let (a, url_a, rt) = harness(5);
    let log = Keypair::from_seed([42; 32]);
    a.lock().unwrap().history.push(header(5, 1));
    a.lock().unwrap().size = 6;
    let mut b: Vec<EntryHeader> = (0..5).map(|i| header(i, 1)).collect();
    b.push(header(5, 2));
    let w = start_witness(d.path(), &log.public().id());
    let posted = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/add-checkpoint", w.url))
            .body(add_body(&b, 6, 0, &log))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(posted.as_u16(), 200);
    let o = corridor(
        d.path(),
        &[
            "monitor", "--server", &url_a, "--state", "state", "--once", "--peer", &w.url,
        ],
    );
    assert!(
        !o.status.success() && text(&o).contains("different histories"),
        "{}",
        text(&o)
    );
    let files = evidence_files(d.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let o = corridor(d.path(), &["verify-evidence", files[0].to_str().unwrap()]);
    assert!(
        o.status.success() && text(&o).contains("forked"),
        "{}",
        text(&o)
    );
}

/// A witness started as a process; killed when dropped.
struct WitnessProcess {
    child: std::process::Child,
    url: String,
    key: String,
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_witness(dir: &Path, log_key: &str) -> WitnessProcess {
    use std::io::BufRead;
    if !dir.join("w.key").exists() {
        let o = corridor(dir, &["keygen", "--out", "w.key"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .current_dir(dir)
        .args([
            "witness",
            "--key",
            "w.key",
            "--name",
            "witness.ua.example/w1",
            "--listen",
            "127.0.0.1:0",
            "--log",
            &format!("{ORIGIN}={log_key}"),
            "--state",
            "wstate",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let key = first
        .split("(key ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let url = first.rsplit(' ').next().unwrap().to_string();
    std::thread::spawn(move || for _ in lines {});
    WitnessProcess { child, url, key }
}

/// An add-checkpoint body for the first `size` leaves of `history`, from `old`.
fn add_body(history: &[EntryHeader], size: u64, old: u64, key: &Keypair) -> String {
    let mut t = MemoryTree::new();
    for h in history {
        t.push(h.leaf_hash());
    }
    let mut body = format!("old {old}\n");
    if old > 0 && old <= size {
        for h in t.consistency_proof(old, size).unwrap() {
            body.push_str(&format!("{}\n", b64(&h)));
        }
    }
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: t.root_at(size).unwrap(),
    };
    body.push('\n');
    body.push_str(&cp.sign(key));
    body
}

/// The witness co-signs a growing log (cosignatures that verify under its name and key, in the
/// C2SP line format), refuses a fork, a rewrite, a stale old size and a stranger's log with the
/// statuses tlog-witness assigns, and still knows after a restart what it co-signed last.
#[test]
fn a_witness_cosigns_only_what_extends_what_it_cosigned() {
    let d = tempfile::tempdir().unwrap();
    let log = Keypair::from_seed([42; 32]);
    let history: Vec<EntryHeader> = (0..8).map(|i| header(i, 1)).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let post = |url: &str, body: String| {
        rt.block_on(async {
            let r = reqwest::Client::new()
                .post(format!("{url}/add-checkpoint"))
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let mime = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, mime, r.text().await.unwrap())
        })
    };
    let w = start_witness(d.path(), &log.public().id());
    let wkey = corridor_core::crypto::PublicKey::parse(&w.key).unwrap();
    let first = add_body(&history, 5, 0, &log);
    let (status, _, line) = post(&w.url, first.clone());
    assert_eq!(status, 200, "{line}");
    assert!(line.starts_with("\u{2014} witness.ua.example/w1 ") && line.ends_with('\n'));
    let cosigned = format!("{}{line}", &first[first.find("\n\n").unwrap() + 2..]);
    assert!(
        corridor_core::witness::cosignature_of(&cosigned, "witness.ua.example/w1", &wkey).is_some(),
        "{cosigned}"
    );
    // Growth with a proof from what it co-signed.
    assert_eq!(post(&w.url, add_body(&history, 8, 5, &log)).0, 200);
    // A stale old size: 409 with the latest co-signed size, as text/x.tlog.size.
    let (status, mime, body) = post(&w.url, add_body(&history, 8, 5, &log));
    assert_eq!(
        (status, mime.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "8\n")
    );
    // A rewritten history at a larger size: the proof cannot verify.
    let mut rewritten = history.clone();
    rewritten[2] = header(2, 9);
    rewritten.push(header(8, 1));
    assert_eq!(post(&w.url, add_body(&rewritten, 9, 8, &log)).0, 422);
    // A fork at the same size.
    assert_eq!(post(&w.url, add_body(&rewritten, 8, 8, &log)).0, 409);
    // Another log, or a checkpoint the log key did not sign.
    let stranger = Keypair::from_seed([43; 32]);
    assert_eq!(post(&w.url, add_body(&history, 8, 8, &stranger)).0, 403);
    let other = add_body(&history, 8, 8, &log).replace(ORIGIN, "corridor.test/other");
    assert_eq!(post(&w.url, other).0, 404);
    assert_eq!(post(&w.url, "old five\n\nx".into()).0, 400);
    // After a restart it still knows size 8: a rollback to 5 is refused.
    drop(w);
    let w = start_witness(d.path(), &log.public().id());
    let (status, _, body) = post(&w.url, add_body(&history, 5, 0, &log));
    assert_eq!((status, body.as_str()), (409, "8\n"));
    let mut longer = history.clone();
    longer.push(header(8, 1));
    assert_eq!(post(&w.url, add_body(&longer, 9, 8, &log)).0, 200);
}

/// An entry the server gave a receipt for, later replaced: caught by a monitor holding the
/// receipt, with evidence; the receipt of an entry still in place passes.
#[test]
fn a_dropped_entry_is_caught_from_its_receipt() {
    let d = tempfile::tempdir().unwrap();
    let (view, url, _rt) = harness(5);
    let key = Keypair::from_seed([42; 32]);
    std::fs::create_dir(d.path().join("receipts")).unwrap();
    for i in [1u64, 2] {
        let h = header(i, 1);
        let r = corridor_core::receipt::Receipt {
            log: ORIGIN.into(),
            index: i,
            leaf_hash: b64(&h.leaf_hash()),
            time: h.time.clone(),
            salt: b64(&[0; 32]),
            max_merge_delay_ms: 1000,
            actor: "ua/c".into(),
            command_id: format!("cmd-{i}"),
        }
        .sign(&key);
        // As the CLI keeps it: the envelope record with the receipt beside it.
        std::fs::write(
            d.path().join(format!("receipts/{i}-cmd.json")),
            json!({"envelope": "…", "receipt": r}).to_string(),
        )
        .unwrap();
    }
    let run = |dir: &Path| {
        let o = corridor(
            dir,
            &[
                "monitor",
                "--server",
                &url,
                "--state",
                "state",
                "--once",
                "--receipts",
                "receipts",
            ],
        );
        (o.status.success(), text(&o))
    };
    let (ok, out) = run(d.path());
    assert!(
        ok && out.contains("2 receipted entries in the tree as promised"),
        "{out}"
    );
    // A new monitor (nothing kept) meets a log whose entry 2 was replaced.
    let fresh = tempfile::tempdir().unwrap();
    std::fs::rename(d.path().join("receipts"), fresh.path().join("receipts")).unwrap();
    view.lock().unwrap().history[2] = header(2, 9);
    let (ok, out) = run(fresh.path());
    assert!(
        !ok && out.contains("dropped an entry it had accepted"),
        "{out}"
    );
    let files = evidence_files(fresh.path());
    let o = corridor(
        fresh.path(),
        &[
            "verify-evidence",
            files[0].to_str().unwrap(),
            "--log-key",
            &key.public().id(),
        ],
    );
    assert!(
        o.status.success() && text(&o).contains("was dropped"),
        "{}",
        text(&o)
    );
}

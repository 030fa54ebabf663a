//! `corridor monitor --state DIR`: an outside monitor of a log server, and `corridor
//! verify-evidence`, which confirms offline what a monitor caught.
//!
//! Why a monitor of its own rather than the client's remembered checkpoint: a client protects
//! itself against its own server; the parties distrust the intermediary that runs the server as
//! much as each other, so someone who is neither must be able to watch it and prove what it saw.
//! The monitor keeps every checkpoint it verified (`checkpoints.jsonl`), and on each poll:
//!
//! 1. verifies the new checkpoint's signature by the log key it trusts (first use, or
//!    `--log-key`; a rotated key only through a handover checkpoint signed by both keys);
//! 2. fetches every public leaf up to it ([`corridor_verify::LeafChain`]: dense, times strictly
//!    increasing, hashes as served) and requires them to make its root;
//! 3. requires the leaves to make the root of **every** checkpoint kept so far (a rewrite, or a
//!    truncation that grew again, is caught however long ago it happened) and a checkpoint of a
//!    size already seen to have the same root (a fork);
//! 4. asks the server for a consistency proof from the last checkpoint kept, as light clients
//!    do, and requires it to verify.
//!
//! What the log key signed can convict the server, so steps 1–3 write **evidence**
//! ([`corridor_verify::Evidence`]) that anyone confirms offline with `verify-evidence`; what only
//! the monitor saw (a bad proof, leaves that do not make the signed root, a smaller tree) is a
//! failure reported without evidence. A failure exits non-zero, and with `--alert-webhook` is
//! also posted as JSON. Fetching every leaf each poll is simple and is what makes step 3
//! complete; for a log of millions of entries a monitor would keep the leaf hashes instead.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::PublicKey;
use corridor_verify::Evidence;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client;

/// Options of `corridor monitor` beyond the server.
#[derive(Args, Debug, Clone)]
pub struct MonitorArgs {
    /// Keep every verified checkpoint here, and write evidence here; without it, one check
    /// against the checkpoint this client last saw (as every command does).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Poll once and exit (0: all checks passed).
    #[arg(long, requires = "state")]
    pub once: bool,
    /// Seconds between polls when not `--once`.
    #[arg(long, default_value_t = 60, requires = "state")]
    pub interval: u64,
    /// Trust this log key (from the genesis, compared out of band) instead of the first one seen.
    #[arg(long, requires = "state")]
    pub log_key: Option<String>,
    /// Post each failure here as JSON (`{"kind", "message", "evidence"}`).
    #[arg(long, requires = "state")]
    pub alert_webhook: Option<String>,
    /// Serve the checkpoints this monitor verified at `http://ADDR/v1/checkpoints`, for other
    /// monitors and witnesses to compare (gossip).
    #[arg(long, value_name = "ADDR", requires = "state", conflicts_with = "once")]
    pub listen: Option<std::net::SocketAddr>,
    /// Another monitor's gossip address (repeat): each poll compares the checkpoints it
    /// verified with this monitor's, so a server that shows one history to one party and
    /// another to the other is caught as soon as they compare notes.
    #[arg(long, value_name = "URL", requires = "state")]
    pub peer: Vec<String>,
    /// A directory of receipts (each a JSON file holding a signed receipt, as the CLI keeps
    /// them in CORRIDOR_HOME/receipts): each poll checks that every entry the log promised and
    /// a checkpoint now covers is in the tree as promised.
    #[arg(long, value_name = "DIR", requires = "state")]
    pub receipts: Option<PathBuf>,
    /// Also read the entries this key's actor may read (signed reads, in the read audit like any
    /// other), check each against its leaf, its commitment and its signature, and replay the
    /// whole log when none is withheld. Ignored without --state.
    #[arg(long, env = "CORRIDOR_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,
}

/// What the monitor trusts, kept in `DIR/log.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Trusted {
    origin: String,
    log_key: String,
    /// The genesis's witnesses as first seen: a server that later reports others (or none) is
    /// hiding the ones it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    witnesses: Option<corridor_core::genesis::Witnesses>,
}

/// A poll that passed: its summary, and why the log is not witnessed, if it is not.
struct Passed {
    summary: String,
    degraded: Option<String>,
}

/// One verified checkpoint, a line of `DIR/checkpoints.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
struct Kept {
    log_key: String,
    size: u64,
    note: String,
}

/// A poll's failure: what to print, and evidence if the signed data proves it.
struct Failure {
    kind: &'static str,
    message: String,
    evidence: Option<Box<Evidence>>,
}

fn fail(kind: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        kind,
        message: message.into(),
        evidence: None,
    }
}

/// Run the monitor with a state directory: once, or every `interval` seconds until a failure.
pub async fn run(server: &str, a: &MonitorArgs) -> anyhow::Result<()> {
    let dir = a.state.as_ref().expect("called with --state");
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(addr) = a.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        println!("gossip: http://{}/v1/checkpoints", listener.local_addr()?);
        let app = axum::Router::new()
            .route("/v1/checkpoints", axum::routing::get(gossip))
            .with_state(dir.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    let reader = a
        .key
        .as_deref()
        .map(crate::keys::load)
        .transpose()?
        .map(|k| k.keypair);
    loop {
        match poll(
            server,
            dir,
            a.log_key.as_deref(),
            &a.peer,
            a.receipts.as_deref(),
            reader.as_ref(),
        )
        .await
        {
            Ok(p) => {
                println!("{}", p.summary);
                // Not a failure (the server may be honest and a witness simply down), but
                // said loudly, and posted once each time the log stops being witnessed.
                let flag = dir.join("degraded");
                match &p.degraded {
                    Some(why) => {
                        eprintln!("monitor: WARNING: the log is not witnessed: {why}");
                        if !flag.exists() {
                            let _ = fs::write(&flag, why);
                            if let Some(url) = &a.alert_webhook {
                                alert(url, &fail("degraded", why.clone())).await;
                            }
                        }
                    }
                    None => {
                        let _ = fs::remove_file(&flag);
                    }
                }
            }
            Err(f) => {
                let mut message = f.message.clone();
                if let Some(e) = &f.evidence {
                    let path = write_evidence(dir, e)?;
                    message.push_str(&format!(
                        "\nevidence written to {} (check it with `corridor verify-evidence {}`)",
                        path.display(),
                        path.display()
                    ));
                }
                if let Some(url) = &a.alert_webhook {
                    alert(url, &f).await;
                }
                bail!("monitor: {}: {message}", f.kind);
            }
        }
        if a.once {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_secs(a.interval.max(1))).await;
    }
}

/// Post a failure to the alert webhook; a webhook that is down must not stop the monitor from
/// reporting on its own output, so its error is only printed.
async fn alert(url: &str, f: &Failure) {
    let body = json!({"kind": f.kind, "message": f.message, "evidence": f.evidence});
    let sent = reqwest::Client::new().post(url).json(&body).send().await;
    if let Err(e) = sent.and_then(|r| r.error_for_status()) {
        eprintln!("monitor: the alert webhook {url} did not take the alert: {e}");
    }
}

fn write_evidence(dir: &Path, e: &Evidence) -> anyhow::Result<PathBuf> {
    let kind = match e {
        Evidence::Fork { .. } => "fork",
        Evidence::Rewrite { .. } => "rewrite",
        Evidence::Dropped { .. } => "dropped",
    };
    let stamp = jiff::Timestamp::now().as_millisecond();
    let path = dir.join(format!("evidence-{kind}-{stamp}.json"));
    fs::write(&path, serde_json::to_string_pretty(e)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn read_kept(dir: &Path) -> anyhow::Result<Vec<Kept>> {
    let file = dir.join("checkpoints.jsonl");
    let text = match fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    text.lines()
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{} line {} is damaged", file.display(), n + 1))
        })
        .collect()
}

fn keep(dir: &Path, k: &Kept) -> anyhow::Result<()> {
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("checkpoints.jsonl"))?;
    writeln!(f, "{}", serde_json::to_string(k)?)?;
    f.sync_all()?;
    Ok(())
}

/// The gossip endpoint: the trusted log and every checkpoint this monitor verified. Peers
/// check each note's signature themselves, so nothing here needs to be trusted.
async fn gossip(
    axum::extract::State(dir): axum::extract::State<PathBuf>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let trusted: Option<Trusted> = fs::read_to_string(dir.join("log.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let kept = read_kept(&dir).unwrap_or_default();
    axum::Json(json!({
        "origin": trusted.as_ref().map(|t| &t.origin),
        "log_key": trusted.as_ref().map(|t| &t.log_key),
        "checkpoints": kept.iter().map(|k| json!({"log_key": k.log_key, "note": k.note})).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// One poll. Ok is the summary line.
async fn poll(
    server: &str,
    dir: &Path,
    pinned: Option<&str>,
    peers: &[String],
    receipts: Option<&Path>,
    reader: Option<&corridor_core::crypto::Keypair>,
) -> Result<Passed, Failure> {
    let io = |e: anyhow::Error| fail("unreachable", format!("{e:#}"));
    let c = client::Client::new(server);
    let head = c.head().await.map_err(io)?;
    let trusted_file = dir.join("log.json");
    let trusted: Trusted = match fs::read_to_string(&trusted_file) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| {
            fail(
                "state",
                format!("{} is damaged: {e}", trusted_file.display()),
            )
        })?,
        Err(_) => {
            let t = Trusted {
                origin: head.origin.clone(),
                log_key: pinned.unwrap_or(&head.log_key).to_string(),
                witnesses: head.witnesses.clone(),
            };
            fs::write(
                &trusted_file,
                serde_json::to_string_pretty(&t).unwrap_or_default(),
            )
            .map_err(|e| fail("state", e.to_string()))?;
            t
        }
    };
    if head.origin != trusted.origin {
        return Err(fail(
            "unknown-origin",
            format!(
                "the server presents log {:?}; this monitor watches {:?}",
                head.origin, trusted.origin
            ),
        ));
    }
    if trusted.witnesses.is_some() && trusted.witnesses != head.witnesses {
        return Err(fail(
            "witnesses-changed",
            "the server reports other witnesses than it did when this monitor started; witnesses are fixed in the genesis",
        ));
    }
    // The key in force: the trusted one, or one it handed over to (a checkpoint signed by both).
    let mut key = trusted.log_key.clone();
    if head.log_key != key {
        let mut known = false;
        for (prev, next) in head.log_keys.iter().zip(head.log_keys.iter().skip(1)) {
            if prev.key != key {
                continue;
            }
            let handover = next.handover.as_deref().unwrap_or("");
            let signed_by = |k: &str| {
                PublicKey::parse(k)
                    .ok()
                    .and_then(|p| Checkpoint::verify(handover, &head.origin, &p).ok())
                    .is_some()
            };
            if !(signed_by(&prev.key) && signed_by(&next.key)) {
                return Err(fail(
                    "bad-handover",
                    format!(
                        "the handover to log key {} is not signed by both keys",
                        next.key
                    ),
                ));
            }
            key = next.key.clone();
            known = true;
        }
        if !known || key != head.log_key {
            return Err(fail(
                "unknown-key",
                format!(
                    "the server signs with log key {}, which no handover from the trusted key {} leads to",
                    head.log_key, trusted.log_key
                ),
            ));
        }
    }
    let public = PublicKey::parse(&key).map_err(|e| fail("unknown-key", e.to_string()))?;
    let cp = Checkpoint::verify(&head.note, &head.origin, &public).map_err(|e| {
        fail(
            "bad-signature",
            format!("the server's checkpoint does not verify: {e}"),
        )
    })?;
    let kept = read_kept(dir).map_err(|e| fail("state", format!("{e:#}")))?;
    // The kept checkpoints signed by the key in force, each verified once for this poll: only
    // those can be set against what that key signs now.
    let mine: Vec<(&Kept, Checkpoint)> = kept
        .iter()
        .filter(|k| k.log_key == key)
        .map(|k| {
            Checkpoint::verify(&k.note, &head.origin, &public)
                .map(|c| (k, c))
                .map_err(|e| {
                    fail(
                        "state",
                        format!("a kept checkpoint no longer verifies: {e}"),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    // A tree of a size already seen must be the same tree.
    for (k, old) in mine.iter().filter(|(_, c)| c.size == cp.size) {
        if old.root != cp.root {
            return Err(Failure {
                kind: "fork",
                message: format!(
                    "the server signed two different trees of size {}: the log was forked",
                    cp.size
                ),
                evidence: Some(Box::new(Evidence::Fork {
                    origin: head.origin.clone(),
                    log_key: key.clone(),
                    checkpoints: [k.note.clone(), head.note.clone()],
                })),
            });
        }
    }
    if let Some(largest) = kept.iter().map(|k| k.size).max()
        && cp.size < largest
    {
        return Err(fail(
            "smaller",
            format!(
                "the server shows a tree of {} entries, but this monitor already verified one of {largest}: the log was truncated or rolled back",
                cp.size
            ),
        ));
    }
    // Every public leaf up to the checkpoint, and the roots they make.
    let (chain, headers) = c.leaves(cp.size).await.map_err(|e| {
        let network = e.chain().any(|x| x.is::<reqwest::Error>());
        fail(
            if network { "unreachable" } else { "bad-leaves" },
            format!("{e:#}"),
        )
    })?;
    chain
        .check_root(&cp)
        .map_err(|e| fail("bad-leaves", e.to_string()))?;
    for (k, old) in mine.iter().filter(|(_, c)| c.size < cp.size) {
        if chain.root_at(old.size) != Some(old.root) {
            return Err(Failure {
                kind: "rewrite",
                message: format!(
                    "the tree of size {} the server signs now does not extend the one of size {} it signed before: the log was rewritten",
                    cp.size, old.size
                ),
                evidence: Some(Box::new(Evidence::Rewrite {
                    origin: head.origin.clone(),
                    log_key: key.clone(),
                    older: k.note.clone(),
                    newer: head.note.clone(),
                    leaves: headers,
                })),
            });
        }
    }
    // The proof a light client would rely on must verify too.
    if let Some((_, old)) = mine.last().filter(|(_, c)| c.size < cp.size) {
        let proof = consistency(&c, old.size, cp.size).await?;
        corridor_core::merkle::verify_consistency(old.size, cp.size, &old.root, &cp.root, &proof)
            .map_err(|e| {
                fail(
                    "bad-proof",
                    format!(
                        "the server's consistency proof from size {} to {} does not verify ({e}), although its leaves are consistent",
                        old.size, cp.size
                    ),
                )
            })?;
    }
    // What this reader may read: each entry its leaf's, authentic, and the whole replayed.
    let read = match reader {
        Some(k) => Some(read_entries(&c, &head, k, &headers).await?),
        None => None,
    };
    // The co-signed checkpoint must be of this same history; then count its co-signatures.
    let degraded = match &trusted.witnesses {
        None => None,
        Some(policy) => witness_check(&head, &public, &key, &cp, &chain, &headers, policy)?,
    };
    // Every entry the log promised by a receipt, and a checkpoint now covers, is as promised.
    let mut promised = 0;
    for r in read_receipts(receipts).map_err(|e| fail("state", format!("{e:#}")))? {
        let i = r.receipt.index;
        if r.receipt.log != head.origin || i >= cp.size || r.verify(&public).is_err() {
            continue;
        }
        promised += 1;
        let there = corridor_core::crypto::b64(&headers[i as usize].leaf_hash());
        if there != r.receipt.leaf_hash {
            return Err(Failure {
                kind: "dropped",
                message: format!(
                    "the server gave a receipt for entry {i} and now signs a tree of size {} holding another entry there: it dropped an entry it had accepted",
                    cp.size
                ),
                evidence: Some(Box::new(Evidence::Dropped {
                    origin: head.origin.clone(),
                    log_key: key.clone(),
                    receipt: r,
                    checkpoint: head.note.clone(),
                    leaves: headers,
                })),
            });
        }
    }
    // What other monitors verified must be the same history: compared against these leaves.
    let mut compared = 0;
    for peer in peers {
        let url = format!("{}/v1/checkpoints", peer.trim_end_matches('/'));
        let v: Value = match reqwest::get(&url).await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(e) => {
                // A peer that is down must not stop this monitor; say so and go on.
                eprintln!("monitor: peer {peer} is unreachable: {e}");
                continue;
            }
        };
        for theirs in v["checkpoints"].as_array().into_iter().flatten() {
            let note = theirs["note"].as_str().unwrap_or("");
            // Only what our trusted key signed counts; anything else proves nothing.
            let Ok(other) = Checkpoint::verify(note, &head.origin, &public) else {
                continue;
            };
            compared += 1;
            if other.size == cp.size && other.root != cp.root {
                return Err(Failure {
                    kind: "fork",
                    message: format!(
                        "peer {peer} verified a tree of size {} with another root than this monitor's: the server shows different histories to different readers",
                        cp.size
                    ),
                    evidence: Some(Box::new(Evidence::Fork {
                        origin: head.origin.clone(),
                        log_key: key.clone(),
                        checkpoints: [note.to_string(), head.note.clone()],
                    })),
                });
            }
            if other.size < cp.size && chain.root_at(other.size) != Some(other.root) {
                return Err(Failure {
                    kind: "fork",
                    message: format!(
                        "peer {peer} verified a tree of size {} that this monitor's tree of size {} does not extend: the server shows different histories to different readers",
                        other.size, cp.size
                    ),
                    evidence: Some(Box::new(Evidence::Rewrite {
                        origin: head.origin.clone(),
                        log_key: key.clone(),
                        older: note.to_string(),
                        newer: head.note.clone(),
                        leaves: headers.clone(),
                    })),
                });
            }
            if other.size > cp.size {
                // Ours must be a prefix of theirs: the server must prove it.
                let proof = consistency(&c, cp.size, other.size).await?;
                corridor_core::merkle::verify_consistency(
                    cp.size,
                    other.size,
                    &cp.root,
                    &other.root,
                    &proof,
                )
                .map_err(|e| {
                    fail(
                        "split-view",
                        format!(
                            "peer {peer} verified a tree of size {} that the server cannot prove extends the one it shows this monitor ({e}): it shows different histories to different readers",
                            other.size
                        ),
                    )
                })?;
            }
        }
    }
    let new = kept.last().is_none_or(|k| k.size != cp.size);
    if new {
        keep(
            dir,
            &Kept {
                log_key: key.clone(),
                size: cp.size,
                note: head.note.clone(),
            },
        )
        .map_err(|e| fail("state", format!("{e:#}")))?;
    }
    let mut summary = format!(
        "log {} at size {}: signed by {}, every leaf checked and making the root, consistent with all {} checkpoints kept in {}",
        head.origin,
        cp.size,
        key,
        kept.len() + usize::from(new),
        dir.display()
    );
    if !peers.is_empty() {
        summary.push_str(&format!(
            ", and with the {compared} checkpoints its peers verified"
        ));
    }
    if receipts.is_some() {
        summary.push_str(&format!(
            "; {promised} receipted entries in the tree as promised"
        ));
    }
    if let Some(r) = read {
        summary.push_str(&format!("; {r}"));
    }
    match (&trusted.witnesses, &degraded) {
        (None, _) => {}
        (Some(_), Some(why)) => summary.push_str(&format!("; NOT WITNESSED: {why}")),
        (Some(_), None) => summary.push_str(&format!(
            "; witnessed: checkpoint {} co-signed by a quorum",
            head.witnessed.as_ref().map_or(0, |w| w.size)
        )),
    }
    Ok(Passed { summary, degraded })
}

/// Entries fetched per signed read.
const ENTRY_PAGE: u64 = 500;

/// Read every entry up to the checkpoint as `key`'s actor. Each disclosed entry must hash to
/// the leaf the checkpoint covers (so its bytes are the ones committed) and carry a valid
/// signature; a withheld one must still show its leaf. With nothing withheld the whole log is
/// replayed with the verifier `corridor verify` uses, and the kept checkpoints checked against
/// it. With entries withheld no replay is possible (the state depends on them): the summary
/// says how many were checked and how many withheld, which is what this reader can vouch for.
async fn read_entries(
    c: &client::Client,
    head: &client::HeadInfo,
    key: &corridor_core::crypto::Keypair,
    headers: &[corridor_core::entry::EntryHeader],
) -> Result<String, Failure> {
    use corridor_core::entry::DisclosedEntry;
    let size = headers.len() as u64;
    let bad = |i: u64, why: String| fail("bad-entry", format!("entry {i}: {why}"));
    let mut entries = Vec::new();
    let mut withheld = 0u64;
    let mut start = 0;
    while start < size {
        let end = (start + ENTRY_PAGE).min(size);
        let body = c
            .get_signed(
                head,
                key,
                &format!("/v1/log/entries?start={start}&end={end}"),
            )
            .await
            .map_err(|e| fail("unreachable", format!("{e:#}")))?;
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| fail("bad-entry", format!("/v1/log/entries is not JSON: {e}")))?;
        let items = v["entries"].as_array().cloned().unwrap_or_default();
        if items.len() as u64 != end - start {
            return Err(fail(
                "bad-entry",
                format!(
                    "/v1/log/entries?start={start}&end={end} gave {} entries",
                    items.len()
                ),
            ));
        }
        for (n, item) in items.into_iter().enumerate() {
            let i = start + n as u64;
            let leaf = corridor_core::crypto::b64(&headers[i as usize].leaf_hash());
            if item["withheld"] == true {
                if item["leaf_hash"].as_str() != Some(leaf.as_str()) {
                    return Err(bad(
                        i,
                        "a withheld entry shows another leaf than the tree's".into(),
                    ));
                }
                withheld += 1;
                continue;
            }
            let d: DisclosedEntry =
                serde_json::from_value(item).map_err(|e| bad(i, format!("not an entry: {e}")))?;
            let e = d.to_entry().map_err(|e| bad(i, e.to_string()))?;
            if e.header.index != i || corridor_core::crypto::b64(&e.leaf_hash()) != leaf {
                return Err(bad(
                    i,
                    "its bytes do not make the leaf the signed tree holds: the server disclosed something other than what it committed".into(),
                ));
            }
            if i > 0 {
                corridor_core::envelope::SignedCommand::parse_stored(
                    &e.command,
                    &e.signature,
                    &head.origin,
                    true,
                    None,
                )
                .map_err(|r| bad(i, format!("its signature or command does not verify: {r}")))?;
            }
            entries.push(e);
        }
        start = end;
    }
    if withheld > 0 {
        return Ok(format!(
            "{} entries readable by this key checked against their leaves and signatures, {withheld} withheld from this reader (no full replay is possible without them)",
            entries.len()
        ));
    }
    // The replay: signatures again, key status at each entry, every rule. The roots need no
    // second check: each entry's leaf is the one the checked tree holds.
    let mut v = corridor_verify::Verifier::new();
    v.page(&entries)
        .map_err(|e| fail("bad-entry", format!("the log does not replay: {e}")))?;
    let state = v
        .finish(0)
        .map_err(|e| fail("bad-entry", format!("{e}")))?
        .state;
    Ok(format!(
        "all {size} entries readable by this key, checked and replayed ({} corridors, {} windows)",
        state.agreements.corridors.len(),
        state.agreements.windows.len()
    ))
}

/// The witness check of a poll: the co-signed checkpoint must be signed by the log key and be a
/// tree these leaves make (else it is evidence: the witnesses were shown another history than
/// this monitor); Ok(Some(why)) when the quorum is not met.
fn witness_check(
    head: &client::HeadInfo,
    public: &PublicKey,
    key: &str,
    cp: &Checkpoint,
    chain: &corridor_verify::LeafChain,
    headers: &[corridor_core::entry::EntryHeader],
    policy: &corridor_core::genesis::Witnesses,
) -> Result<Option<String>, Failure> {
    let Some(w) = &head.witnessed else {
        return Ok(Some("no witness has co-signed any checkpoint yet".into()));
    };
    let Ok(wcp) = Checkpoint::verify(&w.note, &head.origin, public) else {
        return Ok(Some(format!(
            "the co-signed checkpoint (size {}) is not signed by the log key in force",
            w.size
        )));
    };
    if wcp.size > cp.size {
        return Err(fail(
            "split-view",
            format!(
                "the server reports a co-signed tree of size {} but shows this monitor one of {}: the witnesses were shown more than this monitor",
                wcp.size, cp.size
            ),
        ));
    }
    if chain.root_at(wcp.size) != Some(wcp.root) {
        return Err(Failure {
            kind: "fork",
            message: format!(
                "the witnesses co-signed a tree of size {} that the tree of size {} shown to this monitor does not extend: the server shows different histories to different readers",
                wcp.size, cp.size
            ),
            evidence: Some(Box::new(Evidence::Rewrite {
                origin: head.origin.clone(),
                log_key: key.to_string(),
                older: w.note.clone(),
                newer: head.note.clone(),
                leaves: headers.to_vec(),
            })),
        });
    }
    let now = jiff::Timestamp::now().as_second().max(0) as u64;
    Ok(corridor_core::witness::assess(&w.note, policy, wcp.size, cp.size, now).err())
}

/// The signed receipts in `dir` (bare, or as the `receipt` of the CLI's kept records); files
/// that hold none are skipped.
fn read_receipts(dir: Option<&Path>) -> anyhow::Result<Vec<corridor_core::receipt::SignedReceipt>> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = e?.path();
        if path.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&fs::read(&path)?) else {
            continue;
        };
        let r = v
            .get("receipt")
            .filter(|r| r.get("signature").is_some())
            .unwrap_or(&v);
        if let Ok(r) = serde_json::from_value(r.clone()) {
            out.push(r);
        }
    }
    Ok(out)
}

async fn consistency(
    c: &client::Client,
    from: u64,
    to: u64,
) -> Result<Vec<corridor_core::merkle::Hash>, Failure> {
    c.consistency_proof(from, to)
        .await
        .map_err(|e| fail("bad-proof", format!("{e:#}")))
}

/// `corridor verify-evidence FILE`: confirm offline what a monitor caught. Exit 0 only if the
/// file proves it, with `--log-key` the key the genesis names (compared out of band).
pub fn verify_evidence(file: &Path, log_key: Option<&str>) -> anyhow::Result<()> {
    let text =
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let e: Evidence = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not evidence a corridor monitor writes (a JSON object with kind fork or rewrite)",
            file.display()
        )
    })?;
    if let Some(k) = log_key
        && e.log_key() != k
    {
        bail!(
            "the evidence is signed by log key {}, not by {k}: it says nothing about that log",
            e.log_key()
        );
    }
    let proven = e.confirm()?;
    println!("confirmed: {proven}");
    if log_key.is_none() {
        println!(
            "(signed by log key {}; compare it with the key the log's genesis names, or give --log-key)",
            e.log_key()
        );
    }
    Ok(())
}

//! Gathering the witnesses' co-signatures (C2SP tlog-witness `add-checkpoint`).
//!
//! The genesis names the witnesses and a quorum; the operator tells the server where each is
//! (`corridor serve --witness NAME=URL`: addresses change, the genesis does not). In rounds,
//! the sequencer sends its latest checkpoint to every witness at once, with a consistency proof
//! from the size that witness co-signed last, and keeps the co-signature lines that verify. All
//! witnesses are asked about the same checkpoint in a round, so their co-signatures land on one
//! note even when the log grows fast. The note with the lines is stored (every instance serves
//! it, a restart keeps it) and served: on `/v1/log/checkpoint` when it is the latest, and as
//! `witnessed` on `/v1/log/head` always.
//!
//! Nothing here holds the log up: a witness that is down or slow only leaves its line off, and
//! clients say plainly that the quorum is not met. The server never trusts what it gathers
//! either: each line is checked against the witness's key from the genesis before it is kept.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corridor_core::crypto::{PublicKey, b64};
use corridor_core::witness::{cosignature_of, with_cosignatures};
use corridor_storage::StoredCheckpoint;

use crate::log::{Head, Log};

/// How long one witness may take to answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a round may start.
const ROUND_EVERY: Duration = Duration::from_secs(1);
/// How long to wait before asking again for the same checkpoint when a witness did not co-sign.
const RETRY_AFTER: Duration = Duration::from_secs(15);

/// Where the genesis's witnesses are reached: witness name → base URL (`add-checkpoint` is
/// posted to `<url>/add-checkpoint`).
#[derive(Debug, Clone, Default)]
pub struct WitnessOptions {
    /// Base URL per witness name.
    pub urls: BTreeMap<String, String>,
}

struct Target {
    name: String,
    key: PublicKey,
    url: String,
    /// The size this witness co-signed last, as far as this server knows (`None`: not known
    /// yet; the first request says 0 and a 409 answer tells the truth).
    last: Mutex<Option<u64>>,
}

/// The gathering task's view of the witnesses.
pub struct Witnessing {
    targets: Vec<Target>,
    http: reqwest::Client,
}

impl Witnessing {
    /// Check `opts` against the genesis and start gathering. Witnesses of the genesis without
    /// a URL are never asked (a warning says so at start); a URL for a name the genesis does
    /// not list is refused, since it would be a typo or a witness nobody agreed to.
    pub fn start(log: Arc<Log>, opts: WitnessOptions) -> anyhow::Result<Arc<Witnessing>> {
        let Some(policy) = log.genesis().witnesses.clone() else {
            if !opts.urls.is_empty() {
                anyhow::bail!(
                    "--witness given, but the genesis names no witnesses: a log's witnesses are agreed in its genesis"
                );
            }
            return Ok(Arc::new(Witnessing {
                targets: vec![],
                http: reqwest::Client::new(),
            }));
        };
        for name in opts.urls.keys() {
            if !policy.members.iter().any(|m| &m.name == name) {
                let known: Vec<&str> = policy.members.iter().map(|m| m.name.as_str()).collect();
                anyhow::bail!(
                    "--witness {name}=…: the genesis names no witness {name:?} (it names {})",
                    known.join(", ")
                );
            }
        }
        let mut targets = Vec::new();
        for m in &policy.members {
            match opts.urls.get(&m.name) {
                Some(url) => targets.push(Target {
                    name: m.name.clone(),
                    key: PublicKey::parse(&m.key)
                        .map_err(|e| anyhow::anyhow!("witness {}: {e}", m.name))?,
                    url: url.trim_end_matches('/').to_string(),
                    last: Mutex::new(None),
                }),
                None => tracing::warn!(
                    witness = m.name,
                    operator = m.operator,
                    "the genesis names this witness but no --witness {}=URL was given: its co-signature will be missing",
                    m.name
                ),
            }
        }
        let w = Arc::new(Witnessing {
            targets,
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()?,
        });
        if !w.targets.is_empty() {
            tokio::spawn(w.clone().gather(Arc::downgrade(&log)));
        }
        Ok(w)
    }

    /// Rounds, for as long as the log runs. Only the sequencer gathers; followers serve what it
    /// stored.
    async fn gather(self: Arc<Self>, log: std::sync::Weak<Log>) {
        let mut tick = tokio::time::interval(ROUND_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_try: Option<(u64, Instant)> = None;
        loop {
            tick.tick().await;
            let Some(log) = log.upgrade() else { return };
            if log.is_stopped() || !log.is_sequencer() {
                continue;
            }
            let Some(head) = log.head() else { continue };
            let have = log
                .cosigned()
                .filter(|c| c.checkpoint.size == head.checkpoint.size);
            let missing: Vec<&Target> = self
                .targets
                .iter()
                .filter(|t| {
                    have.as_ref()
                        .is_none_or(|c| cosignature_of(&c.note, &t.name, &t.key).is_none())
                })
                .collect();
            if missing.is_empty() {
                continue;
            }
            // Asked already about this very checkpoint and someone did not answer: wait a
            // while before asking again, so a witness that is down is not hammered.
            if last_try.is_some_and(|(size, at)| {
                size == head.checkpoint.size && at.elapsed() < RETRY_AFTER
            }) {
                continue;
            }
            last_try = Some((head.checkpoint.size, Instant::now()));
            let asked = missing.iter().map(|t| self.ask(&log, t, &head));
            let lines: Vec<String> = futures_util::future::join_all(asked)
                .await
                .into_iter()
                .flatten()
                .collect();
            if lines.is_empty() {
                continue;
            }
            let base = have.map_or(head.note.clone(), |c| c.note);
            let note = with_cosignatures(&base, &lines);
            if let Err(e) = log.add_cosigned(&head, note).await {
                tracing::error!(error = %e, "could not store a co-signed checkpoint");
            }
        }
    }

    /// One `add-checkpoint` request (and one retry after a 409 that names the size the witness
    /// really co-signed last). The co-signature line, if the witness gave one that verifies.
    async fn ask(&self, log: &Log, t: &Target, head: &Head) -> Option<String> {
        let size = head.checkpoint.size;
        let mut old = t.last.lock().expect("not poisoned").unwrap_or(0).min(size);
        for attempt in 0..2 {
            let proof = if old == 0 || old == size {
                vec![]
            } else {
                match log.with_tree(|tree| tree.consistency_proof(old, size)) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(witness = t.name, old, size, error = %e, "no consistency proof for a witness");
                        return None;
                    }
                }
            };
            let mut body = format!("old {old}\n");
            for h in &proof {
                body.push_str(&b64(h));
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&head.note);
            let resp = match self
                .http
                .post(format!("{}/add-checkpoint", t.url))
                .body(body)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(witness = t.name, error = %e, "witness unreachable");
                    metrics::counter!("corridor_witness_failures_total", "witness" => t.name.clone()).increment(1);
                    return None;
                }
            };
            let status = resp.status();
            let size_answer = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/x.tlog.size"));
            let text = resp.text().await.unwrap_or_default();
            if status.is_success() {
                for line in text.lines() {
                    let line = format!("{line}\n");
                    let candidate = with_cosignatures(&head.note, std::slice::from_ref(&line));
                    if cosignature_of(&candidate, &t.name, &t.key).is_some() {
                        *t.last.lock().expect("not poisoned") = Some(size);
                        metrics::gauge!("corridor_witness_cosigned_size", "witness" => t.name.clone())
                            .set(size as f64);
                        return Some(line);
                    }
                }
                tracing::error!(
                    witness = t.name,
                    "the witness answered without a co-signature that verifies with its genesis key"
                );
                return None;
            }
            if status == reqwest::StatusCode::CONFLICT && size_answer && attempt == 0 {
                match text.trim().parse::<u64>() {
                    Ok(theirs) if theirs <= size && theirs != old => {
                        *t.last.lock().expect("not poisoned") = Some(theirs);
                        old = theirs;
                        continue;
                    }
                    Ok(theirs) if theirs > size => {
                        tracing::error!(
                            witness = t.name,
                            theirs,
                            ours = size,
                            "the witness co-signed a larger tree than this log has: it was shown another history, or this log was rolled back"
                        );
                        return None;
                    }
                    _ => {}
                }
            }
            tracing::warn!(witness = t.name, %status, answer = text.trim(), "the witness did not co-sign");
            metrics::counter!("corridor_witness_failures_total", "witness" => t.name.clone())
                .increment(1);
            return None;
        }
        None
    }
}

impl Log {
    /// Keep `note` (the checkpoint of `head` with co-signature lines) as the co-signed
    /// checkpoint: stored first, then served.
    pub(crate) async fn add_cosigned(
        &self,
        head: &Head,
        note: String,
    ) -> Result<(), corridor_storage::DbError> {
        self.db()
            .add_cosigned_checkpoint(&StoredCheckpoint {
                size: head.checkpoint.size,
                note: note.clone(),
            })
            .await?;
        self.set_cosigned(Head {
            checkpoint: head.checkpoint.clone(),
            note,
        });
        Ok(())
    }
}

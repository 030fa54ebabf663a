//! The verifier: every check `corridor verify` makes of a log, as a library, so that the CLI, a
//! monitor, a witness and a document bundle's checker run exactly the same checks (issue #20).
//!
//! Two levels, as a log has two kinds of reader:
//!
//! - [`LeafChain`] is what anyone, the public included, can check without reading a single
//!   entry: dense indices, strictly increasing log times in the fixed-width form, leaf hashes as
//!   served, and all of them making a signed root.
//! - [`Verifier`] is what whoever holds the entries checks: each commitment, each signature
//!   (`verify_strict`, on every core), the replay of every rule with the key status at each
//!   entry, and every checkpoint's signature (by the log key in force at its size, with the
//!   handover of a rotated key) and root. [`verify_db`] runs it over a [`Database`] and also
//!   compares the stored projection tables with the replay.
//!
//! Failures are [`Error`]s that name what failed and where (which entry, which checkpoint), so
//! a monitor can write them down as evidence and a person can act on them.

use std::collections::BTreeSet;
use std::sync::Arc;

use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::PublicKey;
use corridor_core::entry::{Entry, EntryHeader};
use corridor_core::envelope::{KeyCache, SignedCommand};
use corridor_core::merkle::{Hash, MemoryTree};
use corridor_core::state::{ProjectionRow, Replay, State};
use corridor_core::time::{format_log_time, parse_utc};
use corridor_storage::{Database, StoredCheckpoint, StoredRow};
use rayon::prelude::*;

pub mod bundle;
pub mod evidence;
pub use evidence::Evidence;

/// What failed, and where. The messages are the ones `corridor verify` prints.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No entries at all (not even the genesis).
    #[error("the log is empty")]
    Empty,
    /// An entry failed a check: its commitment, signature, key status, time or a rule.
    #[error("entry {index} is bad: {reason} ({code})")]
    BadEntry {
        /// The entry's index.
        index: u64,
        /// The rule's stable code.
        code: String,
        /// What the rule says.
        reason: String,
    },
    /// A checkpoint's note does not verify under the log key in force at its size.
    #[error("checkpoint at size {size} is bad: {reason}")]
    BadCheckpoint {
        /// Its tree size.
        size: u64,
        /// Why.
        reason: String,
    },
    /// The first checkpoint under a rotated log key lacks the previous key's signature.
    #[error(
        "checkpoint at size {size} is the first under the log key rotated to at size {from_size}, but the previous key did not sign it ({reason}): the handover is missing"
    )]
    MissingHandover {
        /// Its tree size.
        size: u64,
        /// Where the rotated key's epoch begins.
        from_size: u64,
        /// Why the previous key's signature does not verify.
        reason: String,
    },
    /// A stored checkpoint's size is not the size its note states.
    #[error("checkpoint stored as size {stored} says size {says}")]
    SizeMismatch {
        /// The size it is stored under.
        stored: u64,
        /// The size its note states.
        says: u64,
    },
    /// A checkpoint covers more entries than the log has.
    #[error("checkpoint at size {size} covers entries the log does not have: {reason}")]
    Beyond {
        /// Its tree size.
        size: u64,
        /// Why.
        reason: String,
    },
    /// A checkpoint's root is not the root of the entries: the log changed after it was signed.
    #[error(
        "checkpoint at size {size} has a root the entries do not give: the log was rewritten after it was signed"
    )]
    Rewritten {
        /// Its tree size.
        size: u64,
    },
    /// The projection tables differ from the replay (first at the named row).
    #[error(
        "the projections differ from the replay of the log (first at {0}); run `corridor rebuild`"
    )]
    Projections(String),
    /// A leaf, as the public reads it, is malformed or out of order.
    #[error("leaf {index}: {reason}")]
    Leaf {
        /// The leaf's index.
        index: u64,
        /// Why.
        reason: String,
    },
    /// The leaves served do not make the root of the signed checkpoint.
    #[error(
        "the {size} leaves the server serves do not make the root of its signed checkpoint: it shows the public another log than it signed"
    )]
    LeavesRoot {
        /// The checkpoint's size.
        size: u64,
    },
    /// Storage could not be read.
    #[error("storage: {0}")]
    Storage(String),
}

impl From<corridor_storage::DbError> for Error {
    fn from(e: corridor_storage::DbError) -> Self {
        Error::Storage(e.to_string())
    }
}

fn bad_entry(index: u64, r: &corridor_core::Rejection) -> Error {
    Error::BadEntry {
        index,
        code: r.code().to_string(),
        reason: r.to_string(),
    }
}

/// What a verification found.
#[derive(Debug)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// The state the log replays into.
    pub state: State,
}

/// Verify a sequence of entries (in pages, in log order) and then the checkpoints.
pub struct Verifier {
    replay: Replay,
    tree: MemoryTree,
    origin: Option<String>,
    /// Parsed keys, one cache per verifier thread.
    keys: Vec<KeyCache>,
    progress: Option<Box<dyn Fn(u64) + Send>>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    /// A verifier that has seen nothing yet.
    pub fn new() -> Self {
        Verifier {
            replay: Replay::trusting_signatures(),
            tree: MemoryTree::new(),
            origin: None,
            keys: Vec::new(),
            progress: None,
        }
    }

    /// Call `f` with the number of entries each page checked (for a progress bar).
    pub fn with_progress(mut self, f: impl Fn(u64) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }

    fn tick(&self, n: u64) {
        if let Some(f) = &self.progress {
            f(n);
        }
    }

    /// Entries checked so far.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The root of the first `size` entries checked so far.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        self.tree.root_at(size).ok()
    }

    /// Check one page: signatures in parallel on every core (strict), then replay in order.
    pub fn page(&mut self, entries: &[Entry]) -> Result<(), Error> {
        let origin = match &self.origin {
            Some(o) => o.clone(),
            None => {
                // Entry 0 must be the genesis; replaying it gives the origin.
                let first = entries.first().ok_or(Error::Empty)?;
                self.replay.apply(first).map_err(|e| bad_entry(0, &e))?;
                self.tree.push(first.leaf_hash());
                self.tick(1);
                let o = self
                    .replay
                    .state()
                    .expect("genesis applied")
                    .origin()
                    .to_string();
                self.origin = Some(o);
                return self.page(&entries[1..]);
            }
        };
        // Everything that does not depend on earlier entries runs on every core: the
        // commitment, parsing the envelope, the leaf hash, and the signatures, each checked
        // with verify_strict (not in random-weighted batches: see `prepare_part`).
        // On rayon's pool, whose threads live as long as the process: threads spawned per page
        // each started an allocator heap of their own, and faulting in fresh memory for every
        // page cost an eighth of the run.
        let threads = rayon::current_num_threads();
        let chunk = entries.len().div_ceil(threads).max(1);
        if self.keys.len() < threads {
            self.keys.resize_with(threads, Default::default);
        }
        let parts: Vec<Vec<_>> = entries
            .par_chunks(chunk)
            .zip(self.keys.par_iter_mut())
            .map(|(part, keys)| prepare_part(part, &origin, keys))
            .collect();
        let prepared = parts.into_iter().flatten();
        for (e, (cmd, leaf)) in entries.iter().zip(prepared) {
            let i = e.header.index;
            let row = cmd.and_then(|cmd| self.replay.apply_prepared(e, cmd));
            row.map_err(|r| bad_entry(i, &r))?;
            self.tree.push(leaf);
        }
        self.tick(entries.len() as u64);
        Ok(())
    }

    /// Check every checkpoint's signature and root against the recomputed tree. Each is signed
    /// by the log key in force at its size (the genesis's, then each `log.rotate_key`'s); the
    /// first checkpoint of a rotated key's epoch is the handover and must carry the previous
    /// key's signature too, so the chain of keys is unbroken.
    pub fn checkpoints(&self, cps: &[StoredCheckpoint]) -> Result<usize, Error> {
        let state = self.replay.state().ok_or(Error::Empty)?;
        let key_of = |text: &str, size: u64| {
            PublicKey::parse(text).map_err(|e| Error::BadCheckpoint {
                size,
                reason: format!("the log key {text:?} does not parse: {e}"),
            })
        };
        let mut handed_over = BTreeSet::new();
        for cp in cps {
            let key = key_of(state.log_key_at(cp.size), cp.size)?;
            let c = Checkpoint::verify(&cp.note, state.origin(), &key).map_err(|e| {
                Error::BadCheckpoint {
                    size: cp.size,
                    reason: e.to_string(),
                }
            })?;
            let epoch = state
                .log_keys
                .iter()
                .rposition(|e| e.from_size <= cp.size)
                .unwrap_or(0);
            if epoch > 0 && handed_over.insert(epoch) {
                let prev = key_of(&state.log_keys[epoch - 1].key, cp.size)?;
                Checkpoint::verify(&cp.note, state.origin(), &prev).map_err(|e| {
                    Error::MissingHandover {
                        size: cp.size,
                        from_size: state.log_keys[epoch].from_size,
                        reason: e.to_string(),
                    }
                })?;
            }
            if c.size != cp.size {
                return Err(Error::SizeMismatch {
                    stored: cp.size,
                    says: c.size,
                });
            }
            let root = self.tree.root_at(c.size).map_err(|e| Error::Beyond {
                size: c.size,
                reason: e.to_string(),
            })?;
            if root != c.root {
                return Err(Error::Rewritten { size: c.size });
            }
        }
        Ok(cps.len())
    }

    /// The state and counts, once every page and checkpoint has been checked.
    pub fn finish(self, checkpoints: usize) -> Result<Verified, Error> {
        let entries = self.tree.size();
        let state = self.replay.into_state().ok_or(Error::Empty)?;
        Ok(Verified {
            entries,
            checkpoints,
            state,
        })
    }
}

/// One thread's share of a page: each entry prepared (commitment, envelope) with its leaf hash,
/// and a bad signature turned into that entry's error.
fn prepare_part(
    part: &[Entry],
    origin: &str,
    keys: &mut KeyCache,
) -> Vec<(Result<SignedCommand, corridor_core::Rejection>, Hash)> {
    let mut out: Vec<_> = part
        .iter()
        .map(|e| (Replay::prepare(e, origin, keys), e.leaf_hash()))
        .collect();
    // Each signature on its own, with verify_strict, exactly as the server checked it at ingest.
    // A random-weighted batch (`corridor_core::crypto::verify_many`) is about twice as fast but
    // may accept, with some probability, a signature whose R carries a small torsion component,
    // which verify_strict refuses: the same log could then pass one run and fail the next, or
    // pass here and fail in another implementation's monitor. Two hostile parties must get the
    // same verdict from every run, so the verdict is verify_strict's.
    let prefix = corridor_core::envelope::signing_message(origin, b"");
    for (cmd, _) in out.iter_mut() {
        if let Ok(c) = cmd {
            let mut message = Vec::with_capacity(prefix.len() + c.command_bytes.len());
            message.extend_from_slice(&prefix);
            message.extend_from_slice(&c.command_bytes);
            if c.key.verify(&message, &c.signature).is_err() {
                *cmd = Err(corridor_core::Rejection::BadSignature);
            }
        }
    }
    out
}

/// Verify a whole stored log: every entry and checkpoint, then the projection tables against
/// the replay. `progress` is called with the entries each page checked.
pub async fn verify_db(
    db: Arc<dyn Database>,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<Verified, Error> {
    let size = db.size().await?;
    // The stored projections are read and parsed on another worker while the entries are
    // checked, which keeps both cores busy; they are compared with the replay at the end.
    let mut stored = AbortOnDrop(tokio::spawn({
        let db = db.clone();
        async move { db.projection_rows().await }
    }));
    // Read the next page while this one is checked on the other threads.
    const PAGE: u64 = 20_000;
    let mut v = Verifier::new().with_progress(progress);
    let mut page = db.entries(0, PAGE.min(size)).await?;
    let mut start = PAGE.min(size);
    let task = |e: tokio::task::JoinError| Error::Storage(format!("verifier thread: {e}"));
    while !page.is_empty() {
        let end = (start + PAGE).min(size);
        let check = tokio::task::spawn_blocking(move || {
            let r = v.page(&page);
            (v, r)
        });
        let (next, checked) = tokio::join!(
            async {
                if start < end {
                    db.entries(start, end).await
                } else {
                    Ok(Vec::new())
                }
            },
            check
        );
        let (back, r) = checked.map_err(task)?;
        r?;
        v = back;
        page = next?;
        start = end;
    }
    let n = v.checkpoints(&db.checkpoints().await?)?;
    let verified = v.finish(n)?;
    let stored = (&mut stored.0).await.map_err(task)??;
    // Row by row, each expected row built as it is compared and dropped: for a long log the
    // rows are a gigabyte, and building them all first cost a third of the whole verification.
    let state = verified.state;
    let (state, difference) = tokio::task::spawn_blocking(move || {
        let difference = projection_difference(&state, stored);
        (state, difference)
    })
    .await
    .map_err(task)?;
    if let Some(diff) = difference {
        return Err(Error::Projections(diff));
    }
    Ok(Verified { state, ..verified })
}

/// A task that stops when its handle goes, so a verification that fails early does not leave the
/// projection read running behind it (`import` and `restore` go on after a failed verify).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Where the stored projection rows first differ from those the state implies, if they do.
/// Both lists are in storage order (kind, then id). The stored list is cut into one part per
/// core and each part compared with the expected rows of its key range on its own thread.
pub fn projection_difference(state: &State, stored: Vec<StoredRow>) -> Option<String> {
    let parts = rayon::current_num_threads().max(1);
    let len = stored.len().div_ceil(parts).max(1);
    let starts: Vec<usize> = (0..stored.len()).step_by(len).collect();
    let key = |i: usize| stored.get(i).map(|r| (r.kind.as_str(), r.id.as_str()));
    let differences: Vec<Option<String>> = (0..starts.len().max(1))
        .into_par_iter()
        .map(|n| {
            let (start, end) = match starts.get(n) {
                Some(&s) => (s, starts.get(n + 1).copied().unwrap_or(stored.len())),
                None => (0, 0),
            };
            // The first part also answers for expected rows before the first stored one, the
            // last for those after the last stored one.
            let from = if n == 0 { None } else { key(start) };
            let until = key(end);
            let expected = state
                .projection_rows_from(from)
                .take_while(|e| until.is_none_or(|u| (e.kind.as_str(), e.id.as_str()) < u));
            first_difference(expected, &stored[start..end])
        })
        .collect();
    differences.into_iter().flatten().next()
}

/// The first row where `expected` and `stored` differ, or the first one only one of them has.
fn first_difference(
    mut expected: impl Iterator<Item = ProjectionRow>,
    stored: &[StoredRow],
) -> Option<String> {
    let mut stored = stored.iter();
    loop {
        match (expected.next(), stored.next()) {
            (None, None) => return None,
            (Some(e), Some(s)) => {
                if e.kind.as_str() != s.kind || e.id != s.id || e.body != s.body {
                    return Some(format!("{}/{}", e.kind, e.id));
                }
            }
            (Some(e), None) => {
                return Some(format!("{}/{} (not stored)", e.kind, e.id));
            }
            (None, Some(s)) => {
                return Some(format!("{}/{} (stored, not in the log)", s.kind, s.id));
            }
        }
    }
}

/// What anyone, the public included, can check of a log without reading a single entry: every
/// leaf up to a checkpoint, in order, with dense indices and strictly increasing log times in
/// the fixed-width form, each leaf hash as served, and all of them making the signed root. A
/// leaf names no actor, key or type (see `corridor_core::entry`), so this is also all a leaf
/// can tell; whoever may read entries checks them with [`Verifier`].
#[derive(Debug, Default)]
pub struct LeafChain {
    tree: MemoryTree,
    last_time: Option<String>,
}

impl LeafChain {
    /// A chain of no leaves.
    pub fn new() -> Self {
        LeafChain::default()
    }

    /// Leaves accepted so far.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// Take the next leaf as `/v1/log/leaves` serves it: `{"leaf": {index, time, commitment},
    /// "leaf_hash": base64}`. Returns the leaf taken (evidence carries the leaves).
    pub fn push(&mut self, served: &serde_json::Value) -> Result<EntryHeader, Error> {
        let index = self.tree.size();
        let bad = |reason: String| Error::Leaf { index, reason };
        let fields: Vec<&str> = served["leaf"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if fields != ["commitment", "index", "time"] {
            return Err(bad(format!(
                "holds {fields:?}, not exactly index, time and commitment"
            )));
        }
        let h: EntryHeader = serde_json::from_value(served["leaf"].clone())
            .map_err(|e| bad(format!("not a leaf: {e}")))?;
        if h.index != index {
            return Err(bad(format!("says it is leaf {}", h.index)));
        }
        let t = parse_utc("time", &h.time).map_err(|e| bad(e.to_string()))?;
        if format_log_time(t) != h.time {
            return Err(bad(format!(
                "time {:?} is not in the log's fixed-width form",
                h.time
            )));
        }
        if self.last_time.as_ref().is_some_and(|p| *p >= h.time) {
            return Err(bad(format!(
                "time {} is not after the previous leaf's",
                h.time
            )));
        }
        let hash = h.leaf_hash();
        if served["leaf_hash"] != corridor_core::crypto::b64(&hash) {
            return Err(bad(
                "the served leaf hash is not the hash of the leaf".into()
            ));
        }
        self.tree.push(hash);
        self.last_time = Some(h.time.clone());
        Ok(h)
    }

    /// The root of the first `size` leaves taken, if there are that many.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        self.tree.root_at(size).ok()
    }

    /// Check that the leaves taken make the root of `cp` (all of them, no more, no fewer).
    pub fn check_root(&self, cp: &Checkpoint) -> Result<(), Error> {
        if self.tree.size() != cp.size || self.tree.root() != cp.root {
            return Err(Error::LeavesRoot { size: cp.size });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

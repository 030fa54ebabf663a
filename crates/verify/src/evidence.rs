//! Evidence that a log server misbehaved, as a monitor writes it down and as anyone confirms it
//! offline with `corridor verify-evidence`, trusting nothing but the log key.
//!
//! Only what the log key itself signed can convict the server: a monitor could fabricate a bad
//! proof or a wrong leaf, but not a checkpoint. So each kind of evidence is signed checkpoints
//! plus data anyone can recompute against them:
//!
//! - [`Evidence::Fork`]: two checkpoints of one size with different roots. Two histories.
//! - [`Evidence::Rewrite`]: an older and a newer checkpoint, and leaves that make the newer
//!   one's root while their prefix does not make the older one's: the newer history does not
//!   extend the older. (A truncated log that grew again is caught the same way.)
//! - [`Evidence::Dropped`]: a receipt (the log key's promise of entry `i` with leaf hash `h`)
//!   and a checkpoint covering `i` whose leaves make its root but hold another leaf at `i`: the
//!   server dropped or replaced an entry it had accepted.
//!
//! What a monitor sees but cannot prove to others (a consistency proof that does not verify,
//! leaves that do not make the signed root) it reports as a failure, not as evidence.

use corridor_core::checkpoint::Checkpoint;
use corridor_core::crypto::PublicKey;
use corridor_core::entry::EntryHeader;
use corridor_core::merkle::MemoryTree;
use corridor_core::receipt::SignedReceipt;
use serde::{Deserialize, Serialize};

/// One piece of evidence, as a JSON file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Evidence {
    /// Two checkpoints of the same size with different roots, both signed by the log key.
    Fork {
        /// The log's origin.
        origin: String,
        /// The log key that signed both (`corridor` key id form).
        log_key: String,
        /// The two signed notes.
        checkpoints: [String; 2],
    },
    /// An older checkpoint, a newer one of a larger size, and the leaves (entry headers, in
    /// order, as `/v1/log/leaves` serves them) that make the newer one's root but whose first
    /// `older.size` do not make the older one's.
    Rewrite {
        /// The log's origin.
        origin: String,
        /// The log key that signed both.
        log_key: String,
        /// The older signed note.
        older: String,
        /// The newer signed note.
        newer: String,
        /// Every leaf up to the newer checkpoint's size.
        leaves: Vec<EntryHeader>,
    },
    /// A receipt the log key signed, and a checkpoint covering its index whose leaves (which
    /// make its root) hold another leaf there.
    Dropped {
        /// The log's origin.
        origin: String,
        /// The log key that signed both.
        log_key: String,
        /// The receipt.
        receipt: SignedReceipt,
        /// The signed note of the checkpoint.
        checkpoint: String,
        /// Every leaf up to the checkpoint's size.
        leaves: Vec<EntryHeader>,
    },
}

/// The tree of `leaves`, which must be exactly the leaves of `cp` (each at its own index, as
/// many as its size, making its root), or why they are not.
fn tree_of(leaves: &[EntryHeader], cp: &Checkpoint, which: &str) -> Result<MemoryTree, NotProven> {
    if leaves.len() as u64 != cp.size {
        return Err(NotProven(format!(
            "{} leaves given for a checkpoint of size {}",
            leaves.len(),
            cp.size
        )));
    }
    let mut tree = MemoryTree::new();
    for (i, h) in leaves.iter().enumerate() {
        if h.index != i as u64 {
            return Err(NotProven(format!("leaf {i} says it is leaf {}", h.index)));
        }
        tree.push(h.leaf_hash());
    }
    if tree.root() != cp.root {
        return Err(NotProven(format!(
            "the leaves do not make the {which} root"
        )));
    }
    Ok(tree)
}

/// Why a file does not prove what it claims.
#[derive(Debug, thiserror::Error)]
#[error("the evidence does not hold: {0}")]
pub struct NotProven(pub String);

impl Evidence {
    /// The log key the evidence is signed by: the one to compare with the key the genesis (or
    /// the person checking) trusts.
    pub fn log_key(&self) -> &str {
        match self {
            Evidence::Fork { log_key, .. }
            | Evidence::Rewrite { log_key, .. }
            | Evidence::Dropped { log_key, .. } => log_key,
        }
    }

    /// Check the evidence offline. Ok is a sentence saying what it proves.
    pub fn confirm(&self) -> Result<String, NotProven> {
        let no = |why: String| NotProven(why);
        let verify = |note: &str, origin: &str, key: &str| -> Result<Checkpoint, NotProven> {
            let key = PublicKey::parse(key).map_err(|e| no(format!("log key: {e}")))?;
            Checkpoint::verify(note, origin, &key)
                .map_err(|e| no(format!("a checkpoint is not signed by the log key: {e}")))
        };
        match self {
            Evidence::Fork {
                origin,
                log_key,
                checkpoints: [a, b],
            } => {
                let (a, b) = (verify(a, origin, log_key)?, verify(b, origin, log_key)?);
                if a.size != b.size {
                    return Err(no(format!(
                        "the checkpoints are of sizes {} and {}, not of one size",
                        a.size, b.size
                    )));
                }
                if a.root == b.root {
                    return Err(no("the two checkpoints have the same root".into()));
                }
                Ok(format!(
                    "the log key of {origin} signed two different trees of size {}: the log was forked",
                    a.size
                ))
            }
            Evidence::Rewrite {
                origin,
                log_key,
                older,
                newer,
                leaves,
            } => {
                let (old, new) = (
                    verify(older, origin, log_key)?,
                    verify(newer, origin, log_key)?,
                );
                if old.size >= new.size {
                    return Err(no(format!(
                        "the older checkpoint (size {}) must be smaller than the newer (size {})",
                        old.size, new.size
                    )));
                }
                let tree = tree_of(leaves, &new, "newer checkpoint's")?;
                let prefix = tree
                    .root_at(old.size)
                    .map_err(|e| no(format!("prefix root: {e}")))?;
                if prefix == old.root {
                    return Err(no(format!(
                        "the first {} leaves make the older root: the newer tree extends the older",
                        old.size
                    )));
                }
                Ok(format!(
                    "the log key of {origin} signed a tree of size {} and later one of size {} that does not extend it: the log was rewritten",
                    old.size, new.size
                ))
            }
            Evidence::Dropped {
                origin,
                log_key,
                receipt,
                checkpoint,
                leaves,
            } => {
                let key = PublicKey::parse(log_key).map_err(|e| no(format!("log key: {e}")))?;
                receipt
                    .verify(&key)
                    .map_err(|e| no(format!("the receipt is not signed by the log key: {e}")))?;
                let r = &receipt.receipt;
                if &r.log != origin {
                    return Err(no(format!("the receipt is for log {:?}", r.log)));
                }
                let cp = verify(checkpoint, origin, log_key)?;
                if r.index >= cp.size {
                    return Err(no(format!(
                        "the checkpoint (size {}) does not cover entry {}",
                        cp.size, r.index
                    )));
                }
                tree_of(leaves, &cp, "checkpoint's")?;
                let there = corridor_core::crypto::b64(&leaves[r.index as usize].leaf_hash());
                if there == r.leaf_hash {
                    return Err(no(format!(
                        "entry {} is in the tree as the receipt promised",
                        r.index
                    )));
                }
                Ok(format!(
                    "the log key of {origin} gave a receipt for entry {} and later signed a tree of size {} holding another entry there: the accepted entry was dropped",
                    r.index, cp.size
                ))
            }
        }
    }
}

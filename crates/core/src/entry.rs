//! Entries and their Merkle leaves.
//!
//! An entry is what the log stores for one accepted command: its position and log time, the
//! command's type, actor and key, and a *commitment* `SHA-256(salt ‖ command bytes ‖ signature)`
//! with a random 32-byte salt kept beside the entry.
//!
//! The Merkle leaf is only the index, the time and the commitment ([`EntryHeader`]). Leaves are
//! public (anyone checks them against the signed tree heads), so a leaf must say no more than
//! the least privileged reader may know: naming the actor, key or type in the clear told the
//! other side and the public that a party's unit (`ua/unit-93rd-brigade`) exists and when it
//! acts. The command bytes carry the actor, the key, the type and the command id, so the
//! commitment binds them all the same: the salt is unguessable, so nobody can confirm a guess at
//! a confidential command, while any one entry can be disclosed alone (type, actor, key, salt,
//! command, signature) and checked against a signed tree head. A monitor that sees only leaves
//! still checks the log's shape: dense indices, strictly increasing times, roots and proofs.
//!
//! Entry 0 is always the genesis: its command bytes are the canonical signed genesis and its
//! signature is empty (the genesis carries its own countersignatures).

use serde::{Deserialize, Serialize};

use crate::crypto::{b64, sha256};
use crate::merkle::{Hash, leaf_hash};

/// The entry type of the first entry.
pub const GENESIS_TYPE: &str = "genesis";

/// The public part of an entry, and all the Merkle leaf holds: what every reader, the public
/// included, may know of any entry (see the module documentation for why no more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryHeader {
    /// Position in the log, from 0.
    pub index: u64,
    /// Log time, strictly increasing, fixed-width RFC 3339 UTC with microseconds.
    pub time: String,
    /// `SHA-256(salt ‖ command ‖ signature)`, standard base64.
    pub commitment: String,
}

impl EntryHeader {
    /// The leaf data: canonical JSON of the header.
    pub fn leaf_data(&self) -> Vec<u8> {
        corridor_jcs::to_canonical(self).expect("headers serialize")
    }

    /// The RFC 9162 leaf hash `SHA-256(0x00 ‖ leaf data)`.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.leaf_data())
    }
}

/// The commitment to a command.
pub fn commitment(salt: &[u8; 32], command: &[u8], signature: &[u8]) -> [u8; 32] {
    sha256(&[salt, command, signature])
}

/// A whole entry as stored: header, who did what, salt, command bytes and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The public header (the leaf).
    pub header: EntryHeader,
    /// Command type (`genesis`, `incident.report`, ...), as in the command; not in the leaf.
    pub entry_type: String,
    /// The acting actor, as in the command; not in the leaf.
    pub actor: String,
    /// The key that signed, as in the command; not in the leaf.
    pub key: String,
    /// The client-chosen command id (`genesis` for entry 0).
    pub command_id: String,
    /// The per-entry random salt.
    pub salt: [u8; 32],
    /// Canonical bytes of the command (or of the signed genesis).
    pub command: Vec<u8>,
    /// The signature (empty for the genesis).
    pub signature: Vec<u8>,
}

impl Entry {
    /// Build an entry, computing the commitment.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        index: u64,
        time: String,
        entry_type: &str,
        actor: &str,
        key: &str,
        command_id: &str,
        salt: [u8; 32],
        command: Vec<u8>,
        signature: Vec<u8>,
    ) -> Self {
        let c = commitment(&salt, &command, &signature);
        Entry {
            header: EntryHeader {
                index,
                time,
                commitment: b64(&c),
            },
            entry_type: entry_type.to_string(),
            actor: actor.to_string(),
            key: key.to_string(),
            command_id: command_id.to_string(),
            salt,
            command,
            signature,
        }
    }

    /// Whether the stored commitment matches the stored content.
    pub fn commitment_matches(&self) -> bool {
        b64(&commitment(&self.salt, &self.command, &self.signature)) == self.header.commitment
    }

    /// The leaf hash.
    pub fn leaf_hash(&self) -> Hash {
        self.header.leaf_hash()
    }
}

/// A disclosed entry as exported (JSON Lines) and served to authorised readers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosedEntry {
    /// The header.
    #[serde(flatten)]
    pub header: EntryHeader,
    /// Command type.
    #[serde(rename = "type")]
    pub entry_type: String,
    /// The acting actor.
    pub actor: String,
    /// The key that signed.
    pub key: String,
    /// The command id.
    pub command_id: String,
    /// Salt, base64.
    pub salt: String,
    /// The command bytes as a JSON value (they are canonical JSON).
    pub command: serde_json::Value,
    /// Signature, base64 (empty for the genesis).
    pub signature: String,
}

impl From<&Entry> for DisclosedEntry {
    fn from(e: &Entry) -> Self {
        DisclosedEntry {
            header: e.header.clone(),
            entry_type: e.entry_type.clone(),
            actor: e.actor.clone(),
            key: e.key.clone(),
            command_id: e.command_id.clone(),
            salt: b64(&e.salt),
            command: serde_json::from_slice(&e.command).unwrap_or(serde_json::Value::Null),
            signature: b64(&e.signature),
        }
    }
}

impl DisclosedEntry {
    /// Back to an entry; the command is re-canonicalised (it was canonical when stored).
    pub fn to_entry(&self) -> Result<Entry, crate::Rejection> {
        let salt: [u8; 32] = crate::crypto::unb64("salt", &self.salt)?
            .try_into()
            .map_err(|_| crate::Rejection::invalid("salt", "must be 32 bytes"))?;
        Ok(Entry {
            header: self.header.clone(),
            entry_type: self.entry_type.clone(),
            actor: self.actor.clone(),
            key: self.key.clone(),
            command_id: self.command_id.clone(),
            salt,
            command: corridor_jcs::canonicalize(&self.command),
            signature: crate::crypto::unb64("signature", &self.signature)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(salt: [u8; 32], cmd: &[u8]) -> Entry {
        Entry::new(
            5,
            "2022-03-03T14:50:00.000000Z".into(),
            "incident.report",
            "ua/coord-1",
            "KEY",
            "c1",
            salt,
            cmd.to_vec(),
            vec![9; 64],
        )
    }

    #[test]
    fn leaf_hides_content_behind_salt() {
        let a = sample([1; 32], b"{\"x\":1}");
        let b = sample([2; 32], b"{\"x\":1}");
        // Same content, different salt: leaves differ, so hashing a guess does not match.
        assert_ne!(a.leaf_hash(), b.leaf_hash());
        assert!(a.commitment_matches());
        let mut tampered = a.clone();
        tampered.command = b"{\"x\":2}".to_vec();
        assert!(!tampered.commitment_matches());
    }

    #[test]
    fn disclosure_round_trips() {
        let a = sample([1; 32], b"{\"x\":1}");
        let d = DisclosedEntry::from(&a);
        let json = serde_json::to_string(&d).unwrap();
        let back: DisclosedEntry = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_entry().unwrap(), a);
    }
}

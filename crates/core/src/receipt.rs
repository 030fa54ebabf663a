//! Receipts: the log's signed promise that it accepted a command, like a Certificate
//! Transparency SCT. A client that holds a receipt can prove the server accepted its command if
//! the entry later goes missing, and the receipt names the maximum merge delay within which a
//! checkpoint covering the entry will be published.

use serde::{Deserialize, Serialize};

use crate::crypto::{Keypair, PublicKey, b64, unb64};
use crate::{PROTOCOL, Rejection};

/// What the log promises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The log's origin.
    pub log: String,
    /// The entry's index.
    pub index: u64,
    /// The leaf hash, base64.
    pub leaf_hash: String,
    /// The entry's log time.
    pub time: String,
    /// The entry's salt, base64, so the submitter can recompute the leaf from its own command.
    pub salt: String,
    /// A checkpoint covering `index` will be published within this many milliseconds of `time`.
    pub max_merge_delay_ms: i64,
    /// The acting actor.
    pub actor: String,
    /// The client-chosen command id.
    pub command_id: String,
}

/// A receipt with the log key's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    /// The promise.
    pub receipt: Receipt,
    /// Ed25519 over `corridor/v1/receipt\n` + canonical receipt, base64.
    pub signature: String,
}

fn message(r: &Receipt) -> Vec<u8> {
    let mut m = format!("{PROTOCOL}/receipt\n").into_bytes();
    m.extend_from_slice(&corridor_jcs::to_canonical(r).expect("receipts serialize"));
    m
}

impl Receipt {
    /// Sign with the log key.
    pub fn sign(self, log_key: &Keypair) -> SignedReceipt {
        let sig = log_key.sign(&message(&self));
        SignedReceipt {
            receipt: self,
            signature: b64(&sig),
        }
    }
}

impl SignedReceipt {
    /// Check the log key's signature.
    pub fn verify(&self, log_key: &PublicKey) -> Result<(), Rejection> {
        let sig = unb64("signature", &self.signature)?;
        log_key.verify(&message(&self.receipt), &sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_signature_binds_every_field() {
        let k = Keypair::from_seed([3; 32]);
        let r = Receipt {
            log: "o".into(),
            index: 7,
            leaf_hash: "AA==".into(),
            time: "2022-03-03T14:50:00.000000Z".into(),
            salt: "AA==".into(),
            max_merge_delay_ms: 1000,
            actor: "ua/coord-1".into(),
            command_id: "c1".into(),
        }
        .sign(&k);
        r.verify(&k.public()).unwrap();
        let mut bad = r.clone();
        bad.receipt.index = 8;
        assert!(bad.verify(&k.public()).is_err());
    }
}

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

    /// Each field the receipt promises is under the signature: a receipt whose log, index, leaf,
    /// time, salt, merge delay, actor or command id was changed no longer verifies. The fields
    /// are listed by destructuring, so a field added to `Receipt` fails to compile here until it
    /// is tampered with too.
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
        let Receipt {
            log,
            index,
            leaf_hash,
            time,
            salt,
            max_merge_delay_ms,
            actor,
            command_id,
        } = r.receipt.clone();
        let tampered: Vec<(&str, Receipt)> = vec![
            (
                "log",
                Receipt {
                    log: format!("{log}x"),
                    ..r.receipt.clone()
                },
            ),
            (
                "index",
                Receipt {
                    index: index + 1,
                    ..r.receipt.clone()
                },
            ),
            (
                "leaf_hash",
                Receipt {
                    leaf_hash: format!("B{}", &leaf_hash[1..]),
                    ..r.receipt.clone()
                },
            ),
            (
                "time",
                Receipt {
                    time: time.replace(":50:", ":51:"),
                    ..r.receipt.clone()
                },
            ),
            (
                "salt",
                Receipt {
                    salt: format!("B{}", &salt[1..]),
                    ..r.receipt.clone()
                },
            ),
            (
                "max_merge_delay_ms",
                Receipt {
                    max_merge_delay_ms: max_merge_delay_ms + 1,
                    ..r.receipt.clone()
                },
            ),
            (
                "actor",
                Receipt {
                    actor: actor.replace("ua/", "ru/"),
                    ..r.receipt.clone()
                },
            ),
            (
                "command_id",
                Receipt {
                    command_id: format!("{command_id}x"),
                    ..r.receipt.clone()
                },
            ),
        ];
        for (field, receipt) in tampered {
            assert_ne!(receipt, r.receipt, "{field} was not changed");
            let bad = SignedReceipt {
                receipt,
                signature: r.signature.clone(),
            };
            assert!(
                bad.verify(&k.public()).is_err(),
                "changed {field} still verifies"
            );
        }
        let mut bad_sig = unb64("s", &r.signature).unwrap();
        bad_sig[0] ^= 1;
        let bad = SignedReceipt {
            receipt: r.receipt.clone(),
            signature: b64(&bad_sig),
        };
        assert!(bad.verify(&k.public()).is_err());
        assert!(r.verify(&Keypair::from_seed([4; 32]).public()).is_err());
    }
}

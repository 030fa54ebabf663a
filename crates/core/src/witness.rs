//! Witnesses: C2SP `tlog-witness` (the `add-checkpoint` rules) and `tlog-cosignature` (Ed25519
//! `cosignature/v1` lines), so that existing witness software could serve a corridor log and a
//! corridor witness could serve other logs.
//!
//! Why witnesses: the parties distrust the intermediary that runs the server as much as each
//! other. A witness co-signs a checkpoint only if it is consistent with the last one it co-signed
//! for that log; a client that requires co-signatures from witnesses of both parties cannot be
//! shown a history the other party's witness never saw. The rules here are pure: the shell keeps
//! the latest co-signed tree per log (atomically with the check, as the specification demands)
//! and speaks HTTP.

use std::collections::BTreeMap;

use crate::checkpoint::Checkpoint;
use crate::crypto::{Keypair, PublicKey, b64, sha256, unb64};
use crate::merkle::{Hash, verify_consistency};

/// The signature-type byte of an Ed25519 `cosignature/v1` key id (signed-note's 0x01 is a log's).
pub const COSIGNATURE_ALG: u8 = 0x04;

/// Most consistency proof lines a request may carry (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// The four-byte key id of a cosigner: `SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4]`.
pub fn cosigner_key_id(name: &str, key: &PublicKey) -> [u8; 4] {
    let h = sha256(&[name.as_bytes(), b"\n", &[COSIGNATURE_ALG], key.as_bytes()]);
    [h[0], h[1], h[2], h[3]]
}

/// What a cosigner signs: `cosignature/v1`, `time <t>` and the checkpoint's note body
/// (its lines up to the blank line, each ending in a newline).
pub fn cosigned_message(timestamp: u64, body: &str) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// The note body of a signed note: everything before the blank line, with its final newline.
pub fn note_body(note: &str) -> Option<&str> {
    note.find("\n\n").map(|i| &note[..=i])
}

/// A cosignature line (with its newline) by `name`'s `key` at `timestamp` on `body`.
pub fn cosign(name: &str, key: &Keypair, timestamp: u64, body: &str) -> String {
    let sig = key.sign(cosigned_message(timestamp, body).as_bytes());
    let mut blob = cosigner_key_id(name, &key.public()).to_vec();
    blob.extend_from_slice(&timestamp.to_be_bytes());
    blob.extend_from_slice(&sig);
    format!("\u{2014} {name} {}\n", b64(&blob))
}

/// The timestamp of a valid cosignature by (`name`, `key`) on `note`, if the note carries one.
/// Lines by other names or keys are ignored, as the specification asks.
pub fn cosignature_of(note: &str, name: &str, key: &PublicKey) -> Option<u64> {
    let body = note_body(note)?;
    let want = cosigner_key_id(name, key);
    for line in note[body.len()..].lines() {
        let Some((n, blob)) = line
            .strip_prefix("\u{2014} ")
            .and_then(|r| r.split_once(' '))
        else {
            continue;
        };
        let Ok(blob) = unb64("cosignature", blob) else {
            continue;
        };
        if n != name || blob.len() != 4 + 8 + 64 || blob[..4] != want {
            continue;
        }
        let timestamp = u64::from_be_bytes(blob[4..12].try_into().expect("8 bytes"));
        if timestamp > i64::MAX as u64 {
            continue;
        }
        if key
            .verify(cosigned_message(timestamp, body).as_bytes(), &blob[12..])
            .is_ok()
        {
            return Some(timestamp);
        }
    }
    None
}

/// A parsed `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the last checkpoint the log believes this witness co-signed.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint.
    pub note: String,
}

/// A refusal with the HTTP status the specification assigns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 400, 403, 404, 409 or 422.
    pub status: u16,
    /// For people reading logs.
    pub message: String,
    /// For a 409 on the old size: the latest co-signed size, the body the client parses.
    pub latest_size: Option<u64>,
}

fn refuse(status: u16, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
        latest_size: None,
    }
}

/// Read an `add-checkpoint` body: `old N`, up to 63 base64 proof lines, a blank line, a note.
pub fn parse_add_checkpoint(body: &str) -> Result<AddCheckpoint, Refusal> {
    let bad = |why: &str| refuse(400, format!("add-checkpoint: {why}"));
    let (head, note) = body
        .split_once("\n\n")
        .ok_or_else(|| bad("no blank line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .ok_or_else(|| bad("the first line must be `old <size>`"))?;
    if old.is_empty() || (old.len() > 1 && old.starts_with('0')) {
        return Err(bad(
            "the old size is a decimal number without leading zeroes",
        ));
    }
    let old: u64 = old
        .parse()
        .map_err(|_| bad("the old size is a decimal number without leading zeroes"))?;
    let mut proof = Vec::new();
    for l in lines {
        let h: Hash = unb64("proof", l)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("each proof line is one base64 hash of 32 bytes"))?;
        proof.push(h);
    }
    if proof.len() > MAX_PROOF_LINES {
        return Err(bad("more than 63 proof lines"));
    }
    Ok(AddCheckpoint {
        old,
        proof,
        note: note.to_string(),
    })
}

/// The latest checkpoint a witness co-signed for one log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest {
    /// Its size.
    pub size: u64,
    /// Its root.
    pub root: Hash,
}

/// Decide an `add-checkpoint` request. `logs` are the origins this witness follows with the
/// log key it trusts for each; `latest` is what it co-signed last for the request's origin (if
/// anything). Ok is the origin and the checkpoint to co-sign, which becomes the new latest.
pub fn add_checkpoint(
    logs: &BTreeMap<String, PublicKey>,
    latest: impl Fn(&str) -> Option<Latest>,
    req: &AddCheckpoint,
) -> Result<(String, Checkpoint), Refusal> {
    let origin = req.note.split('\n').next().unwrap_or_default().to_string();
    let key = logs
        .get(&origin)
        .ok_or_else(|| refuse(404, format!("this witness does not follow log {origin:?}")))?;
    let cp = Checkpoint::verify(&req.note, &origin, key)
        .map_err(|e| refuse(403, format!("no signature by the trusted log key: {e}")))?;
    if req.old > cp.size {
        return Err(refuse(
            400,
            format!(
                "old size {} is larger than the checkpoint's {}",
                req.old, cp.size
            ),
        ));
    }
    let last = latest(&origin);
    let last_size = last.map_or(0, |l| l.size);
    if req.old != last_size {
        return Err(Refusal {
            status: 409,
            message: format!(
                "the latest checkpoint this witness co-signed for {origin} has size {last_size}, not {}",
                req.old
            ),
            latest_size: Some(last_size),
        });
    }
    match last {
        None => {
            if !req.proof.is_empty() {
                return Err(refuse(422, "the proof from size 0 must be empty"));
            }
        }
        Some(l) if l.size == cp.size => {
            if l.root != cp.root {
                return Err(refuse(
                    409,
                    format!(
                        "a different root for size {}, which this witness co-signed: a fork",
                        cp.size
                    ),
                ));
            }
        }
        Some(l) => {
            verify_consistency(l.size, cp.size, &l.root, &cp.root, &req.proof).map_err(|e| {
                refuse(
                    422,
                    format!(
                        "the consistency proof from size {} to {} does not verify: {e}",
                        l.size, cp.size
                    ),
                )
            })?;
        }
    }
    Ok((origin, cp))
}

/// How far a checkpoint is witnessed: who of the genesis's witnesses co-signed it, who did not,
/// and whether that reaches the quorum. Clients and monitors compute it from the note itself
/// (never from what the server says about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    /// Witnesses whose co-signature on the note verifies, with its timestamp, in genesis order.
    pub cosigned: Vec<(String, u64)>,
    /// Witnesses without a valid co-signature on it, with who runs each, in genesis order.
    pub missing: Vec<(String, String)>,
    /// Co-signatures the genesis requires.
    pub required: u32,
}

impl Quorum {
    /// Whether enough witnesses co-signed.
    pub fn met(&self) -> bool {
        self.cosigned.len() >= self.required as usize
    }

    /// One line for people: "co-signed by 2 of 2 witnesses (quorum 2)", naming the missing.
    pub fn describe(&self) -> String {
        let n = self.cosigned.len() + self.missing.len();
        let mut s = format!(
            "co-signed by {} of {n} witnesses (quorum {})",
            self.cosigned.len(),
            self.required
        );
        if !self.missing.is_empty() {
            let names: Vec<String> = self
                .missing
                .iter()
                .map(|(w, op)| format!("{w} (run by {op})"))
                .collect();
            s.push_str(&format!("; missing: {}", names.join(", ")));
        }
        s
    }
}

/// Count the valid co-signatures of `witnesses` on `note`.
pub fn quorum(note: &str, witnesses: &crate::genesis::Witnesses) -> Quorum {
    let mut q = Quorum {
        cosigned: Vec::new(),
        missing: Vec::new(),
        required: witnesses.quorum,
    };
    for w in &witnesses.members {
        match PublicKey::parse(&w.key)
            .ok()
            .and_then(|k| cosignature_of(note, &w.name, &k))
        {
            Some(t) => q.cosigned.push((w.name.clone(), t)),
            None => q.missing.push((w.name.clone(), w.operator.clone())),
        }
    }
    q
}

/// How old the quorum's newest co-signature may be, once the head has grown past the co-signed
/// checkpoint, before the log counts as not witnessed: a witness that stopped answering shows
/// within minutes, while a busy log's head is always a little ahead of its witnesses.
pub const STALE_AFTER_S: u64 = 600;

/// Whether the log is witnessed, given its co-signed checkpoint `note` (of size
/// `witnessed_size`, which the caller has checked is of the same history as the head of size
/// `head_size`) and the time now in seconds: Ok with who co-signed, or Err with why not, in
/// words. Clients and monitors share this, so they call the same logs degraded.
pub fn assess(
    note: &str,
    policy: &crate::genesis::Witnesses,
    witnessed_size: u64,
    head_size: u64,
    now_s: u64,
) -> Result<String, String> {
    let q = quorum(note, policy);
    if !q.met() {
        return Err(format!("checkpoint {witnessed_size} {}", q.describe()));
    }
    let newest = q.cosigned.iter().map(|(_, t)| *t).max().unwrap_or(0);
    let age = now_s.saturating_sub(newest);
    if witnessed_size < head_size && age > STALE_AFTER_S {
        return Err(format!(
            "the witnesses last co-signed at size {witnessed_size}, {age} s ago; the {} entries since are not witnessed",
            head_size - witnessed_size
        ));
    }
    Ok(format!("size {witnessed_size} {}", q.describe()))
}

/// The note with `lines` (co-signature lines, each ending in a newline) appended after its
/// signatures: the co-signed checkpoint that is served. Lines already there are not repeated.
pub fn with_cosignatures(note: &str, lines: &[String]) -> String {
    let mut out = note.to_string();
    for l in lines {
        if !note.split_inclusive('\n').any(|have| have == l) {
            out.push_str(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::{Witness, Witnesses};
    use crate::merkle::MemoryTree;

    #[test]
    fn a_witnessed_log_goes_stale_only_when_the_head_moved_on() {
        let log = Keypair::from_seed([6; 32]);
        let ua = Keypair::from_seed([10; 32]);
        let ws = Witnesses {
            members: vec![Witness {
                name: "w.ua.example".into(),
                key: ua.public().id(),
                operator: "ua".into(),
            }],
            quorum: 1,
        };
        let cp = Checkpoint {
            origin: "corridor.test/log".into(),
            size: 9,
            root: [3; 32],
        };
        let note = cp.sign(&log);
        let line = cosign("w.ua.example", &ua, 1000, note_body(&note).unwrap());
        let cosigned = with_cosignatures(&note, &[line]);
        assert!(assess(&note, &ws, 9, 9, 1000).is_err());
        assert!(assess(&cosigned, &ws, 9, 9, 1000).is_ok());
        // A quiet log stays witnessed however long nothing happens.
        assert!(assess(&cosigned, &ws, 9, 9, 1_000_000).is_ok());
        // A head ahead of its witnesses is fine for a while, then not.
        assert!(assess(&cosigned, &ws, 9, 12, 1000 + STALE_AFTER_S).is_ok());
        let stale = assess(&cosigned, &ws, 9, 12, 1001 + STALE_AFTER_S).unwrap_err();
        assert!(stale.contains("3 entries since"), "{stale}");
    }

    #[test]
    fn a_quorum_counts_only_named_witnesses_with_valid_cosignatures() {
        let log = Keypair::from_seed([6; 32]);
        let (ua, ru, stranger) = (
            Keypair::from_seed([10; 32]),
            Keypair::from_seed([11; 32]),
            Keypair::from_seed([12; 32]),
        );
        let ws = Witnesses {
            members: vec![
                Witness {
                    name: "w.ua.example".into(),
                    key: ua.public().id(),
                    operator: "ua".into(),
                },
                Witness {
                    name: "w.ru.example".into(),
                    key: ru.public().id(),
                    operator: "ru".into(),
                },
            ],
            quorum: 2,
        };
        let cp = Checkpoint {
            origin: "corridor.test/log".into(),
            size: 9,
            root: [3; 32],
        };
        let note = cp.sign(&log);
        let body = note_body(&note).unwrap();
        let q = quorum(&note, &ws);
        assert!(!q.met());
        assert_eq!(q.missing.len(), 2);
        let one = with_cosignatures(&note, &[cosign("w.ua.example", &ua, 100, body)]);
        let q = quorum(&one, &ws);
        assert_eq!(q.cosigned, vec![("w.ua.example".to_string(), 100)]);
        assert!(!q.met());
        assert!(
            q.describe().contains("missing: w.ru.example (run by ru)"),
            "{}",
            q.describe()
        );
        // A stranger's line under a witness's name, or a line for another body, counts nothing.
        let forged = with_cosignatures(&one, &[cosign("w.ru.example", &stranger, 100, body)]);
        assert!(!quorum(&forged, &ws).met());
        let elsewhere = cosign("w.ru.example", &ru, 100, "corridor.test/log\n8\nAAAA\n");
        assert!(!quorum(&with_cosignatures(&one, &[elsewhere]), &ws).met());
        let line = cosign("w.ru.example", &ru, 101, body);
        let both = with_cosignatures(&one, std::slice::from_ref(&line));
        let q = quorum(&both, &ws);
        assert!(q.met(), "{q:?}");
        assert_eq!(q.describe(), "co-signed by 2 of 2 witnesses (quorum 2)");
        // Appending again changes nothing; the log's own signature still verifies.
        assert_eq!(with_cosignatures(&both, &[line]), both);
        Checkpoint::verify(&both, "corridor.test/log", &log.public()).unwrap();
    }

    /// The example of C2SP tlog-cosignature: its signed message, byte for byte, and the
    /// structure of its cosignature line (key id, then the big-endian timestamp it states).
    #[test]
    fn the_specifications_example() {
        let body =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert_eq!(
            cosigned_message(1679315147, body),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
        let line = "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";
        let blob = unb64("x", line).unwrap();
        assert_eq!(blob.len(), 4 + 8 + 64);
        assert_eq!(
            u64::from_be_bytes(blob[4..12].try_into().unwrap()),
            1679315147
        );
    }

    #[test]
    fn a_cosignature_verifies_only_for_its_name_key_and_body() {
        let w = Keypair::from_seed([5; 32]);
        let log = Keypair::from_seed([6; 32]);
        let cp = Checkpoint {
            origin: "corridor.test/log".into(),
            size: 3,
            root: [1; 32],
        };
        let note = cp.sign(&log);
        let body = note_body(&note).unwrap();
        assert_eq!(body, cp.body());
        let cosigned = format!("{note}{}", cosign("w.example/ua", &w, 1646300000, body));
        assert_eq!(
            cosignature_of(&cosigned, "w.example/ua", &w.public()),
            Some(1646300000)
        );
        // Still the log's checkpoint: the log key's line verifies, the witness's is ignored.
        Checkpoint::verify(&cosigned, "corridor.test/log", &log.public()).unwrap();
        assert_eq!(cosignature_of(&cosigned, "w.example/ru", &w.public()), None);
        let other = Keypair::from_seed([7; 32]).public();
        assert_eq!(cosignature_of(&cosigned, "w.example/ua", &other), None);
        let moved = cosigned.replace("\n3\n", "\n4\n");
        assert_eq!(cosignature_of(&moved, "w.example/ua", &w.public()), None);
    }

    fn tree(n: u64, tag: u8) -> MemoryTree {
        let mut t = MemoryTree::new();
        for i in 0..n {
            t.push([tag.wrapping_add(i as u8); 32]);
        }
        t
    }

    fn request(t: &MemoryTree, old: u64, key: &Keypair) -> String {
        let cp = Checkpoint {
            origin: "corridor.test/log".into(),
            size: t.size(),
            root: t.root(),
        };
        let mut s = format!("old {old}\n");
        if old > 0 && old <= t.size() {
            for h in t.consistency_proof(old, t.size()).unwrap() {
                s.push_str(&b64(&h));
                s.push('\n');
            }
        }
        s.push('\n');
        s.push_str(&cp.sign(key));
        s
    }

    #[test]
    fn add_checkpoint_follows_the_specification() {
        let log = Keypair::from_seed([6; 32]);
        let logs = BTreeMap::from([("corridor.test/log".to_string(), log.public())]);
        let t5 = tree(5, 0);
        let status = |body: &str, latest: Option<Latest>| {
            let req = parse_add_checkpoint(body)?;
            add_checkpoint(&logs, |_| latest, &req).map(|(o, cp)| (o, cp.size))
        };
        // First contact: old 0, no proof.
        assert_eq!(
            status(&request(&t5, 0, &log), None).unwrap(),
            ("corridor.test/log".to_string(), 5)
        );
        let at5 = Some(Latest {
            size: 5,
            root: t5.root(),
        });
        // Growth with a valid proof.
        let t8 = tree(8, 0);
        assert_eq!(status(&request(&t8, 5, &log), at5).unwrap().1, 8);
        // The same checkpoint again is fine; another root at that size is a fork.
        assert_eq!(status(&request(&t5, 5, &log), at5).unwrap().1, 5);
        let fork = status(&request(&tree(5, 9), 5, &log), at5).unwrap_err();
        assert_eq!(fork.status, 409);
        // A rewritten history: the proof does not verify.
        let rewritten = status(&request(&tree(8, 9), 5, &log), at5).unwrap_err();
        assert_eq!(rewritten.status, 422);
        // An old size that is not the latest co-signed: 409 with the latest size.
        let stale = status(&request(&t8, 3, &log), at5).unwrap_err();
        assert_eq!((stale.status, stale.latest_size), (409, Some(5)));
        // Older than the last co-signed (a rollback): refused.
        let rollback = status(&request(&tree(4, 0), 4, &log), at5).unwrap_err();
        assert_eq!(rollback.status, 409);
        // Unknown origin, bad signature, old beyond size, malformed bodies.
        let other = Keypair::from_seed([8; 32]);
        assert_eq!(
            status(&request(&t5, 0, &other), None).unwrap_err().status,
            403
        );
        let stranger = request(&t5, 0, &log).replace("corridor.test/log", "elsewhere/log");
        assert_eq!(status(&stranger, None).unwrap_err().status, 404);
        assert_eq!(
            status(&request(&t5, 6, &log), None).unwrap_err().status,
            400
        );
        for body in [
            "old 01\n\nx",
            "new 1\n\nx",
            "old 1\nnot-base64\n\nx",
            "old 1",
        ] {
            assert_eq!(status(body, None).unwrap_err().status, 400, "{body}");
        }
        let long = format!("old 1\n{}\n", format!("{}\n", b64(&[0; 32])).repeat(64));
        let e = status(&long, None).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("63"), "{e:?}");
    }
}

//! The genesis: the first entry, naming the parties, the intermediary, the organisations, their
//! admin keys, the log's origin and key, and the policy.
//!
//! The operator (usually the intermediary) must not be able to invent a party's admin key, so the
//! genesis document is countersigned by every party's admin and by the intermediary, and the log
//! refuses to start without all of those signatures. Parties compare its [`fingerprint`] out of
//! band (read aloud over a phone line) before trusting the log.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::{Keypair, PublicKey, b64, sha256, unb64};
use crate::{PROTOCOL, Rejection};

/// Names in the three languages of the scenario. All three are required: a public page must
/// never fall back to another side's language for a party's own name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// English.
    pub en: String,
    /// Ukrainian.
    pub uk: String,
    /// Russian.
    pub ru: String,
}

/// A party to the conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Short id, also the prefix of its actors' ids (`ua` → `ua/admin`).
    pub id: String,
    /// Names in uk/ru/en.
    pub names: Names,
    /// The IANA time zone the party states times in (e.g. Europe/Kyiv, Europe/Moscow).
    pub zone: String,
    /// The party admin's public key.
    pub admin_key: String,
    /// Who may replace the admin key if it is lost or stolen. Without it, a party whose admin
    /// key is gone can no longer register or revoke its people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
}

/// A party's recovery holders: `threshold` of these keys together (each an actor
/// `<party>/recovery-<n>`, n from 1, in this order) replace the party's admin key with a new
/// one, with an `admin.recover` command each naming the same new key. One key and a threshold of
/// 1 is a plain recovery key; several keys held by different officials make it k-of-n, so no one
/// of them alone can take over the party's administration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// The holders' public keys.
    pub keys: Vec<String>,
    /// How many of them must agree.
    pub threshold: u32,
}

/// The neutral intermediary or a humanitarian organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Short id, also the prefix of its actors' ids.
    pub id: String,
    /// Names in uk/ru/en.
    pub names: Names,
    /// The admin's public key.
    pub admin_key: String,
}

/// Rules that change outcomes. They live in the genesis (never only in server configuration),
/// so every replay of the log gives the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// How far a command's client time may be from the log's time, in seconds.
    pub max_clock_skew_s: i64,
    /// The promise in every receipt: a checkpoint covering it within this many milliseconds.
    pub max_merge_delay_ms: i64,
    /// Longest ceasefire window, in seconds.
    pub max_window_s: i64,
    /// When an unacknowledged notification becomes overdue, in seconds.
    pub ack_overdue_s: i64,
    /// Abuse limits. Absent in a genesis written before they existed (its signatures cover the
    /// bytes without them): [`RateLimits::default`] applies then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimits>,
    /// Whether the intermediary's verification statuses of incident reports (the status and its
    /// reasoning, not the report) are public. Absent or false: they stay with each report's
    /// audience, as many intermediaries require (they never publish attribution). Agreed in the
    /// genesis because it decides who reads entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_status_public: Option<bool>,
    /// The IANA tz release (such as "2026e") that stated local times are judged with when a
    /// command is accepted, as the build that wrote the genesis had it. Replay never consults
    /// the tz database (see `State::execute_recorded`); `corridor verify` names this release
    /// beside its own and lists any stated local time its own would judge otherwise. Absent in
    /// a genesis written before the pin existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tzdb: Option<String>,
    /// How long a command signed on a device without a connection stays acceptable, in seconds,
    /// by role (field mode: a coordinator signs at a checkpoint with no signal and the command
    /// is sent when a connection returns, hours later). A role not named here has
    /// `max_clock_skew_s`. Only the past is widened: a command dated ahead of the log by more
    /// than `max_clock_skew_s` is still refused. The entry keeps both times (the signing time in
    /// the command, the sequencing time in the header), and every rule decides at the
    /// sequencing time, the log's; the signing time only decides whether the command is still
    /// acceptable. Absent in a genesis written before field mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_max_age_s: Option<BTreeMap<String, i64>>,
}

/// Longest offline acceptance the genesis may grant: a week. Longer, and a lost device's queue
/// could replay a stale world weeks later.
pub const MAX_OFFLINE_AGE_S: i64 = 7 * 24 * 3600;

impl Policy {
    /// The abuse limits in force.
    pub fn rate_limits(&self) -> RateLimits {
        self.rate_limits.clone().unwrap_or_default()
    }

    /// How far in the past a command of an actor of `role` may be signed and still be accepted.
    pub fn max_age_s(&self, role: crate::command::Role) -> i64 {
        self.offline_max_age_s
            .as_ref()
            .and_then(|m| m.get(role.as_str()))
            .copied()
            .unwrap_or(self.max_clock_skew_s)
            .max(self.max_clock_skew_s)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_clock_skew_s: 300,
            max_merge_delay_ms: 1000,
            max_window_s: 72 * 3600,
            ack_overdue_s: 3600,
            rate_limits: Some(RateLimits::default()),
            incident_status_public: None,
            tzdb: Some(crate::localtime::tzdb_version().to_string()),
            offline_max_age_s: None,
        }
    }
}

/// Abuse limits on the server's doors, agreed in the genesis like every other policy so that no
/// party's coordinators can be throttled by a quiet change of server configuration. Each is a
/// number per minute with a burst of the same size; 0 means no limit (for benchmarks and
/// closed test networks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Commands one actor may submit per minute (its keys share the allowance, so registering
    /// more keys does not multiply it).
    pub commands_per_actor_per_minute: u32,
    /// Signed reads of the expensive read paths (entries, queries) one actor may make per
    /// minute.
    pub reads_per_actor_per_minute: u32,
    /// Requests one client address may make per minute to the write path and the expensive read
    /// paths (the public pages and proofs are not limited: they must hold a crowd).
    pub requests_per_address_per_minute: u32,
}

impl Default for RateLimits {
    /// Far above what a person at a keyboard or a field client retrying over a bad link needs,
    /// far below what would let one key or one address starve the sequencer.
    fn default() -> Self {
        RateLimits {
            commands_per_actor_per_minute: 120,
            reads_per_actor_per_minute: 600,
            requests_per_address_per_minute: 1200,
        }
    }
}

impl RateLimits {
    /// No limits at all (benchmarks, closed test networks).
    pub fn none() -> Self {
        RateLimits {
            commands_per_actor_per_minute: 0,
            reads_per_actor_per_minute: 0,
            requests_per_address_per_minute: 0,
        }
    }
}

/// The genesis document, as countersigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisDocument {
    /// Format version.
    pub v: u64,
    /// The log's origin (C2SP checkpoint origin line), e.g. `corridor.example/march-2022`.
    pub origin: String,
    /// Whether this log is an exercise. An exercise log may run on a simulated clock and says so
    /// everywhere; a real log refuses a simulated clock.
    pub exercise: bool,
    /// The public key that signs receipts and checkpoints.
    pub log_key: String,
    /// The neutral intermediary.
    pub intermediary: Body,
    /// The parties to the conflict; each must countersign.
    pub parties: Vec<Party>,
    /// Humanitarian organisations.
    #[serde(default)]
    pub organisations: Vec<Body>,
    /// The policy.
    pub policy: Policy,
    /// The witnesses that co-sign the log's checkpoints, and how many must. Absent in a log
    /// without witnesses (and in a genesis written before they existed: its signatures cover
    /// the bytes without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witnesses: Option<Witnesses>,
}

/// The log's witnesses (C2SP tlog-witness): each co-signs a checkpoint only if it is consistent
/// with the last one it co-signed, so a client that sees a quorum of co-signatures knows those
/// witnesses were shown the same history. Named in the genesis, countersigned by every party,
/// because whoever chooses the witnesses chooses whom a split view must fool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Witnesses {
    /// The witnesses, in the order their co-signatures are listed.
    pub members: Vec<Witness>,
    /// How many co-signatures a checkpoint needs to count as witnessed. A majority at least, so
    /// two quorums always share a witness: no two histories can both be witnessed without one
    /// witness co-signing both, which it refuses. Below the quorum clients keep working and say
    /// plainly that the log is not witnessed, so no party halts everyone by switching its own
    /// witness off.
    pub quorum: u32,
}

/// One witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    /// Its name, as on its co-signature lines (a schema-less URL such as
    /// `witness.ua.example`, per C2SP signed-note).
    pub name: String,
    /// Its public key.
    pub key: String,
    /// Who runs it (a party, the intermediary or an organisation), so readers know whose
    /// witness is missing when a quorum is not met.
    pub operator: String,
}

/// One countersignature over the genesis document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSignature {
    /// Party, intermediary or organisation id.
    pub signer: String,
    /// The key that signed (must be that signer's admin key in the document).
    pub key: String,
    /// Ed25519 signature over `corridor/v1/genesis\n` + canonical document.
    pub signature: String,
}

/// The genesis file: the document and its countersignatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedGenesis {
    /// What was agreed.
    pub document: GenesisDocument,
    /// Who agreed to it.
    pub signatures: Vec<GenesisSignature>,
}

impl GenesisDocument {
    /// The parties' ids, in the genesis's order: who must consent, acknowledge and read every
    /// operation.
    pub fn party_ids(&self) -> Vec<String> {
        self.parties.iter().map(|p| p.id.clone()).collect()
    }

    /// Canonical bytes of the document.
    pub fn canonical(&self) -> Vec<u8> {
        corridor_jcs::to_canonical(self).expect("genesis serializes")
    }

    /// What each admin signs.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = format!("{PROTOCOL}/genesis\n").into_bytes();
        m.extend_from_slice(&self.canonical());
        m
    }

    /// Admin key of a party, the intermediary or an organisation.
    pub fn admin_key_of(&self, signer: &str) -> Option<&str> {
        if self.intermediary.id == signer {
            return Some(&self.intermediary.admin_key);
        }
        self.parties
            .iter()
            .find(|p| p.id == signer)
            .map(|p| p.admin_key.as_str())
            .or_else(|| {
                self.organisations
                    .iter()
                    .find(|o| o.id == signer)
                    .map(|o| o.admin_key.as_str())
            })
    }

    /// Whose countersignatures are required: every party and the intermediary.
    pub fn required_signers(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.parties.iter().map(|p| p.id.as_str()).collect();
        v.push(&self.intermediary.id);
        v
    }

    /// Check the document's own consistency: ids unique and well-formed, keys valid, zones known,
    /// policy sane.
    pub fn check(&self) -> Result<(), Rejection> {
        if self.v != 1 {
            return Err(Rejection::UnsupportedVersion(self.v));
        }
        if self.origin.is_empty() || self.origin.contains(char::is_whitespace) {
            return Err(Rejection::invalid(
                "origin",
                "must be non-empty without spaces",
            ));
        }
        if self.parties.len() < 2 {
            return Err(Rejection::invalid(
                "parties",
                "a log needs at least two parties",
            ));
        }
        PublicKey::parse(&self.log_key)?;
        let mut ids = BTreeMap::new();
        let mut keys = BTreeMap::new();
        let all = std::iter::once((&self.intermediary.id, &self.intermediary.admin_key))
            .chain(self.parties.iter().map(|p| (&p.id, &p.admin_key)))
            .chain(self.organisations.iter().map(|o| (&o.id, &o.admin_key)));
        for p in &self.parties {
            if let Some(r) = &p.recovery {
                if r.threshold == 0 || r.threshold as usize > r.keys.len() {
                    return Err(Rejection::invalid(
                        "recovery",
                        format!(
                            "{}: the threshold must be between 1 and the number of recovery keys ({})",
                            p.id,
                            r.keys.len()
                        ),
                    ));
                }
                for k in &r.keys {
                    PublicKey::parse(k)?;
                    if keys.insert(k.clone(), ()).is_some() || *k == self.log_key {
                        return Err(Rejection::invalid(
                            "recovery",
                            format!(
                                "a recovery key of {:?} is used twice; a key belongs to one actor",
                                p.id
                            ),
                        ));
                    }
                }
            }
        }
        for (id, key) in all {
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            {
                return Err(Rejection::invalid(
                    "id",
                    format!("{id:?}: ids are lowercase letters, digits and '-'"),
                ));
            }
            if ids.insert(id.clone(), ()).is_some() {
                return Err(Rejection::invalid("id", format!("{id:?} appears twice")));
            }
            PublicKey::parse(key)?;
            if keys.insert(key.clone(), ()).is_some() || *key == self.log_key {
                return Err(Rejection::invalid(
                    "admin_key",
                    format!("the key of {id:?} is used twice; a key belongs to one actor"),
                ));
            }
        }
        for p in &self.parties {
            if crate::localtime::zone(&p.zone).is_err() {
                return Err(Rejection::invalid(
                    "zone",
                    format!("{:?} is not an IANA time zone", p.zone),
                ));
            }
        }
        let pol = &self.policy;
        if pol.max_clock_skew_s <= 0 || pol.max_merge_delay_ms <= 0 || pol.max_window_s <= 0 {
            return Err(Rejection::invalid("policy", "limits must be positive"));
        }
        if let Some(m) = &pol.offline_max_age_s {
            for (role, s) in m {
                let known = crate::access::ALL_ROLES.iter().any(|r| r.as_str() == role);
                if !known || *s < 0 || *s > MAX_OFFLINE_AGE_S {
                    return Err(Rejection::invalid(
                        "policy.offline_max_age_s",
                        format!(
                            "{role}={s}: a role (coordinator, unit, ...) and 0 to {MAX_OFFLINE_AGE_S} seconds"
                        ),
                    ));
                }
            }
        }
        if let Some(w) = &self.witnesses {
            self.check_witnesses(w, &ids, &keys)?;
        }
        Ok(())
    }

    fn check_witnesses(
        &self,
        w: &Witnesses,
        ids: &BTreeMap<String, ()>,
        keys: &BTreeMap<String, ()>,
    ) -> Result<(), Rejection> {
        let bad = |why: String| Rejection::invalid("witnesses", why);
        let n = w.members.len();
        if n == 0 {
            return Err(bad(
                "name at least one witness, or leave witnesses out".into()
            ));
        }
        if w.quorum as usize > n || (w.quorum as usize) * 2 <= n {
            return Err(bad(format!(
                "the quorum must be a majority of the {n} witnesses (at least {}, at most {n}), so that no two histories can both be witnessed",
                n / 2 + 1
            )));
        }
        let mut names = BTreeMap::new();
        let mut seen = BTreeMap::new();
        for m in &w.members {
            if m.name.is_empty()
                || m.name.contains(|c: char| c.is_whitespace() || c == '+')
                || m.name == self.origin
            {
                return Err(bad(format!(
                    "{:?}: a witness name is non-empty, without spaces or '+', and not the log's origin",
                    m.name
                )));
            }
            if names.insert(m.name.clone(), ()).is_some() {
                return Err(bad(format!("{:?} appears twice", m.name)));
            }
            PublicKey::parse(&m.key)?;
            if seen.insert(m.key.clone(), ()).is_some()
                || keys.contains_key(&m.key)
                || m.key == self.log_key
            {
                return Err(bad(format!(
                    "the key of witness {:?} is used elsewhere; a witness has its own key",
                    m.name
                )));
            }
            if !ids.contains_key(&m.operator) {
                return Err(bad(format!(
                    "witness {:?}: its operator {:?} is not a party, the intermediary or an organisation of this genesis",
                    m.name, m.operator
                )));
            }
        }
        Ok(())
    }
}

impl SignedGenesis {
    /// Add (or replace) the countersignature of `signer`, made with `key`.
    pub fn sign(&mut self, signer: &str, key: &Keypair) -> Result<(), Rejection> {
        let expected = self.document.admin_key_of(signer).ok_or_else(|| {
            Rejection::invalid("signer", format!("{signer:?} is not named in the genesis"))
        })?;
        if expected != key.public().id() {
            return Err(Rejection::KeyActorMismatch {
                key: key.public().id(),
                actor: signer.to_string(),
                owner: "nobody in this genesis".into(),
            });
        }
        let sig = key.sign(&self.document.signing_message());
        self.signatures.retain(|s| s.signer != signer);
        self.signatures.push(GenesisSignature {
            signer: signer.to_string(),
            key: key.public().id(),
            signature: b64(&sig),
        });
        self.signatures.sort_by(|a, b| a.signer.cmp(&b.signer));
        Ok(())
    }

    /// Find the signer whose admin key is `key`.
    pub fn signer_for_key(&self, key: &PublicKey) -> Option<String> {
        let id = key.id();
        std::iter::once(&self.document.intermediary.id)
            .chain(self.document.parties.iter().map(|p| &p.id))
            .chain(self.document.organisations.iter().map(|o| &o.id))
            .find(|s| self.document.admin_key_of(s) == Some(id.as_str()))
            .cloned()
    }

    /// Check the document and that every required signer countersigned it with its admin key.
    pub fn verify(&self) -> Result<(), Rejection> {
        self.document.check()?;
        let msg = self.document.signing_message();
        for s in &self.signatures {
            let expected = self.document.admin_key_of(&s.signer).ok_or_else(|| {
                Rejection::invalid(
                    "signatures",
                    format!("{:?} is not in the genesis", s.signer),
                )
            })?;
            if expected != s.key {
                return Err(Rejection::rule(
                    "genesis-signature-invalid",
                    format!("{:?} signed with a key that is not its admin key", s.signer),
                ));
            }
            let sig = unb64("signatures.signature", &s.signature)?;
            PublicKey::parse(&s.key)?.verify(&msg, &sig).map_err(|_| {
                Rejection::rule(
                    "genesis-signature-invalid",
                    format!("the signature of {:?} does not verify", s.signer),
                )
            })?;
        }
        for req in self.document.required_signers() {
            if !self.signatures.iter().any(|s| s.signer == req) {
                return Err(Rejection::rule(
                    "genesis-unsigned",
                    format!(
                        "the genesis lacks the signature of {req:?}; every party and the intermediary must sign it"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Canonical bytes of the whole signed genesis: the command bytes of entry 0.
    pub fn canonical(&self) -> Vec<u8> {
        corridor_jcs::to_canonical(self).expect("genesis serializes")
    }
}

/// A short fingerprint of the document for comparing out of band: the first 16 bytes of its
/// SHA-256 as eight groups of four hex digits.
pub fn fingerprint(doc: &GenesisDocument) -> String {
    let h = sha256(&[&doc.canonical()]);
    h[..16]
        .chunks(2)
        .map(|c| format!("{:02x}{:02x}", c[0], c[1]))
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A genesis with fixed seeds: intermediary 1, log 2, ua 3, ru 4, org 5.
    pub fn sample() -> (SignedGenesis, Vec<(&'static str, Keypair)>) {
        let kp = |n: u8| Keypair::from_seed([n; 32]);
        let names = |s: &str| Names {
            en: s.into(),
            uk: s.into(),
            ru: s.into(),
        };
        let doc = GenesisDocument {
            v: 1,
            origin: "corridor.test/log".into(),
            exercise: true,
            log_key: kp(2).public().id(),
            intermediary: Body {
                id: "icrc".into(),
                names: names("ICRC"),
                admin_key: kp(1).public().id(),
            },
            parties: vec![
                Party {
                    id: "ua".into(),
                    names: names("Ukraine"),
                    zone: "Europe/Kyiv".into(),
                    admin_key: kp(3).public().id(),
                    // Two of three officials holding recovery keys can replace the admin key.
                    recovery: Some(Recovery {
                        keys: (40..43).map(|n| kp(n).public().id()).collect(),
                        threshold: 2,
                    }),
                },
                Party {
                    id: "ru".into(),
                    names: names("Russian Federation"),
                    zone: "Europe/Moscow".into(),
                    admin_key: kp(4).public().id(),
                    recovery: None,
                },
            ],
            organisations: vec![Body {
                id: "urcs".into(),
                names: names("Red Cross"),
                admin_key: kp(5).public().id(),
            }],
            policy: Policy::default(),
            witnesses: None,
        };
        let mut g = SignedGenesis {
            document: doc,
            signatures: vec![],
        };
        let signers = vec![("icrc", kp(1)), ("ua", kp(3)), ("ru", kp(4))];
        for (s, k) in &signers {
            g.sign(s, k).unwrap();
        }
        (g, signers)
    }

    #[test]
    fn fully_signed_genesis_verifies() {
        let (g, _) = sample();
        g.verify().unwrap();
        assert_eq!(fingerprint(&g.document).len(), 39);
    }

    #[test]
    fn missing_party_signature_is_refused() {
        let (mut g, _) = sample();
        g.signatures.retain(|s| s.signer != "ru");
        assert_eq!(g.verify().unwrap_err().code(), "genesis-unsigned");
    }

    #[test]
    fn recovery_needs_a_sane_threshold_and_fresh_keys() {
        for (threshold, keys, why) in [
            (0, vec![40, 41], "threshold 0"),
            (3, vec![40, 41], "threshold above the keys"),
            (1, vec![40, 40], "a key twice"),
            (1, vec![3], "the admin key as recovery key"),
        ] {
            let (mut g, _) = sample();
            g.document.parties[0].recovery = Some(Recovery {
                keys: keys
                    .iter()
                    .map(|n| Keypair::from_seed([*n; 32]).public().id())
                    .collect(),
                threshold,
            });
            assert_eq!(
                g.document.check().unwrap_err().code(),
                "invalid-field",
                "{why}"
            );
        }
    }

    #[test]
    fn witnesses_need_a_majority_quorum_own_keys_and_known_operators() {
        let w = |name: &str, seed: u8, operator: &str| Witness {
            name: name.into(),
            key: Keypair::from_seed([seed; 32]).public().id(),
            operator: operator.into(),
        };
        let good = || {
            vec![
                w("w.ua", 60, "ua"),
                w("w.ru", 61, "ru"),
                w("w.icrc", 62, "icrc"),
            ]
        };
        let (mut g, _) = sample();
        g.document.witnesses = Some(Witnesses {
            members: good(),
            quorum: 2,
        });
        g.document.check().unwrap();
        // An old genesis without witnesses keeps its bytes (and so its signatures).
        let (plain, _) = sample();
        assert!(
            !String::from_utf8(plain.document.canonical())
                .unwrap()
                .contains("witnesses")
        );
        let cases: Vec<(Vec<Witness>, u32, &str)> = vec![
            (vec![], 1, "no witnesses"),
            (good(), 1, "a minority quorum"),
            (good(), 4, "a quorum above the witnesses"),
            (
                vec![w("w.ua", 60, "ua"), w("w.ru", 61, "ru")],
                1,
                "half of two",
            ),
            (
                vec![w("w.ua", 60, "ua"), w("w.ua", 61, "ru")],
                2,
                "a name twice",
            ),
            (
                vec![w("w.ua", 60, "ua"), w("w.ru", 60, "ru")],
                2,
                "a key twice",
            ),
            (
                vec![w("w.ua", 3, "ua"), w("w.ru", 61, "ru")],
                2,
                "an admin key",
            ),
            (
                vec![w("w.ua", 2, "ua"), w("w.ru", 61, "ru")],
                2,
                "the log key",
            ),
            (
                vec![w("w.ua", 60, "xx"), w("w.ru", 61, "ru")],
                2,
                "an unknown operator",
            ),
            (
                vec![w("w ua", 60, "ua"), w("w.ru", 61, "ru")],
                2,
                "a space in a name",
            ),
            (
                vec![w("corridor.test/log", 60, "ua"), w("w.ru", 61, "ru")],
                2,
                "the origin",
            ),
        ];
        for (members, quorum, why) in cases {
            let (mut g, _) = sample();
            g.document.witnesses = Some(Witnesses { members, quorum });
            assert_eq!(
                g.document.check().unwrap_err().code(),
                "invalid-field",
                "{why}"
            );
        }
    }

    #[test]
    fn forged_party_key_is_refused() {
        // The operator swaps in a key of its own for "ru" after the parties signed.
        let (mut g, _) = sample();
        g.document.parties[1].admin_key = Keypair::from_seed([9; 32]).public().id();
        assert_eq!(g.verify().unwrap_err().code(), "genesis-signature-invalid");
        // ...and re-signs as "ru" with the forged key: the real ua signature no longer verifies.
        let forged = Keypair::from_seed([9; 32]);
        g.sign("ru", &forged).unwrap();
        assert_eq!(g.verify().unwrap_err().code(), "genesis-signature-invalid");
    }

    #[test]
    fn fingerprint_changes_with_any_edit() {
        let (g, _) = sample();
        let mut doc = g.document.clone();
        doc.parties[0].names.uk = "Україна".into();
        assert_ne!(fingerprint(&g.document), fingerprint(&doc));
    }
}

//! Document bundles: a document every party signed, with everything needed to check it offline
//! against nothing but the genesis fingerprint the parties compared out of band.
//!
//! A bundle holds the document's version (title, texts, binding language, its points by version
//! hash), the entries that matter (the genesis; each signatory's `actor.register`; the entry
//! that registered the key each signatory used, and so on back to the genesis through whoever
//! registered it; each party's `document.sign`; any `log.rotate_key` up to the checkpoint), an
//! inclusion proof for each of those entries, and a checkpoint signed by the log key.
//! [`verify`] trusts none of the keys in it: the genesis must hash to the given fingerprint, the
//! log key comes from the genesis (and rotations proved in the log), each signatory's key is
//! followed back through registrations to a party admin key the genesis names, and every entry
//! is proved to be in the tree the checkpoint signs.
//!
//! What a bundle cannot prove is an absence: that no entry revoked a signatory's key before it
//! signed. A monitor holding the whole log checks that; the bundle says so in its output.

use std::collections::BTreeMap;

use corridor_core::checkpoint::Checkpoint;
use corridor_core::command::{Body, Role};
use corridor_core::crypto::{PublicKey, b64, unb64};
use corridor_core::entry::DisclosedEntry;
use corridor_core::envelope::SignedCommand;
use corridor_core::genesis::{SignedGenesis, fingerprint};
use corridor_core::merkle::{Hash, verify_inclusion};
use corridor_core::negotiation::{DocumentVersion, document_hash};
use serde::{Deserialize, Serialize};

/// The format name in every bundle.
pub const FORMAT: &str = "corridor-document-bundle/v1";

/// A document bundle as served by `GET /v1/documents/{id}/bundle`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// [`FORMAT`].
    pub format: String,
    /// The log's origin.
    pub origin: String,
    /// The document id.
    pub document: String,
    /// The version every party signed.
    pub version: DocumentVersion,
    /// The entries the checks need, genesis first, in log order.
    pub entries: Vec<DisclosedEntry>,
    /// An inclusion proof per entry (base64 hashes), in the order of `entries`.
    pub proofs: Vec<Vec<String>>,
    /// The checkpoint the proofs are against (a signed note, maybe with witnesses' lines).
    pub checkpoint: String,
}

/// What a bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// The document id.
    pub document: String,
    /// The version.
    pub version: u32,
    /// Its hash.
    pub hash: String,
    /// Each party's signatory (actor id) and the index of its signing entry.
    pub signed: BTreeMap<String, (String, u64)>,
    /// The checkpoint's tree size.
    pub size: u64,
}

/// Why a bundle does not verify, naming the part at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    /// Not a bundle of this format.
    #[error("not a corridor document bundle: {0}")]
    Format(String),
    /// The genesis in the bundle is not the one the parties compared.
    #[error(
        "the genesis in the bundle has fingerprint {found}, not {expected}: this is not the log you named"
    )]
    Genesis {
        /// Its fingerprint.
        found: String,
        /// The one given.
        expected: String,
    },
    /// The checkpoint is not signed by the log key in force.
    #[error("the checkpoint does not verify with the log key the genesis names: {0}")]
    Checkpoint(String),
    /// An entry's inclusion proof does not verify.
    #[error("entry {index}: its inclusion proof does not verify against the checkpoint ({why})")]
    Proof {
        /// The entry's index.
        index: u64,
        /// Why.
        why: String,
    },
    /// An entry's signature or bytes do not verify.
    #[error("entry {index}: {why}")]
    Entry {
        /// The entry's index.
        index: u64,
        /// Why.
        why: String,
    },
    /// A signatory's key does not chain to the genesis.
    #[error("the key of {actor} does not chain to the genesis: {why}")]
    KeyChain {
        /// The signatory.
        actor: String,
        /// Why.
        why: String,
    },
    /// The document's text does not hash to what was signed, or a party did not sign.
    #[error("the document: {0}")]
    Document(String),
}

fn entry_err(index: u64, why: impl Into<String>) -> BundleError {
    BundleError::Entry {
        index,
        why: why.into(),
    }
}

/// Check `bundle` against the genesis fingerprint the parties compared out of band.
pub fn verify(bundle: &Bundle, genesis_fingerprint: &str) -> Result<Proven, BundleError> {
    if bundle.format != FORMAT {
        return Err(BundleError::Format(format!(
            "format {:?}, expected {FORMAT}",
            bundle.format
        )));
    }
    if bundle.entries.len() != bundle.proofs.len() {
        return Err(BundleError::Format("one inclusion proof per entry".into()));
    }
    // The genesis, checked against the fingerprint and its own countersignatures.
    let first = bundle
        .entries
        .first()
        .filter(|e| e.header.index == 0)
        .ok_or_else(|| BundleError::Format("the genesis entry (index 0) comes first".into()))?;
    let genesis: SignedGenesis = serde_json::from_value(first.command.clone())
        .map_err(|e| entry_err(0, format!("not a genesis: {e}")))?;
    let found = fingerprint(&genesis.document);
    if found != genesis_fingerprint.trim() {
        return Err(BundleError::Genesis {
            found,
            expected: genesis_fingerprint.trim().to_string(),
        });
    }
    genesis
        .verify()
        .map_err(|e| entry_err(0, format!("the genesis does not verify: {e}")))?;
    let origin = genesis.document.origin.clone();
    if bundle.origin != origin {
        return Err(BundleError::Format(format!(
            "the bundle says log {:?}, its genesis {origin:?}",
            bundle.origin
        )));
    }
    // Every other entry: its own signature, then parsed.
    let mut commands: BTreeMap<u64, SignedCommand> = BTreeMap::new();
    let mut leaves: Vec<(u64, Hash)> = Vec::new();
    let mut last = None;
    for d in &bundle.entries {
        let i = d.header.index;
        if last.is_some_and(|l| i <= l) {
            return Err(BundleError::Format(
                "entries in log order, each once".into(),
            ));
        }
        last = Some(i);
        let e = d.to_entry().map_err(|r| entry_err(i, r.to_string()))?;
        leaves.push((i, e.leaf_hash()));
        if i == 0 {
            if e.command != genesis.canonical() {
                return Err(entry_err(0, "the genesis bytes are not canonical"));
            }
            continue;
        }
        let cmd = SignedCommand::parse_stored(&e.command, &e.signature, &origin, true, None)
            .map_err(|r| entry_err(i, format!("its signature or command does not verify: {r}")))?;
        if cmd.actor != e.actor || cmd.key.id() != e.key {
            return Err(entry_err(i, "its actor or key differs from what it signed"));
        }
        commands.insert(i, cmd);
    }
    // The log key in force at the checkpoint: the genesis's, then each proved rotation.
    let (cp_size, cp_root) = checkpoint(bundle, &genesis, &commands)?;
    for ((i, leaf), proof) in leaves.iter().zip(&bundle.proofs) {
        let proof: Vec<Hash> = proof
            .iter()
            .map(|h| unb64("proof", h).ok().and_then(|b| b.try_into().ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| BundleError::Proof {
                index: *i,
                why: "a proof line is not a base64 hash".into(),
            })?;
        verify_inclusion(leaf, *i, cp_size, &proof, &cp_root).map_err(|e| BundleError::Proof {
            index: *i,
            why: e.to_string(),
        })?;
    }
    // The document: its text is what was signed, and every party's signatory signed it.
    let hash = document_hash(&bundle.document, &bundle.version);
    if hash != bundle.version.hash {
        return Err(BundleError::Document(format!(
            "its text hashes to {hash}, not to the {} it claims",
            bundle.version.hash
        )));
    }
    let mut signed = BTreeMap::new();
    for (i, cmd) in &commands {
        if let Body::DocumentSign(b) = &cmd.body
            && b.document == bundle.document
            && b.version_hash == hash
        {
            let party = corridor_core::access::affiliation_of(&cmd.actor);
            if party != b.party {
                return Err(entry_err(
                    *i,
                    format!("{} signed for {}", cmd.actor, b.party),
                ));
            }
            signatory(&genesis, &commands, &cmd.actor, &cmd.key.id(), *i)?;
            signed.insert(b.party.clone(), (cmd.actor.clone(), *i));
        }
    }
    for p in genesis.document.party_ids() {
        if !signed.contains_key(&p) {
            return Err(BundleError::Document(format!(
                "no signature of {p} on version {} ({hash})",
                bundle.version.version
            )));
        }
    }
    Ok(Proven {
        document: bundle.document.clone(),
        version: bundle.version.version,
        hash,
        signed,
        size: cp_size,
    })
}

/// The checkpoint's size and root, its signature checked with the log key in force at its size.
fn checkpoint(
    bundle: &Bundle,
    genesis: &SignedGenesis,
    commands: &BTreeMap<u64, SignedCommand>,
) -> Result<(u64, Hash), BundleError> {
    let origin = &genesis.document.origin;
    let mut key = genesis.document.log_key.clone();
    let size = bundle
        .checkpoint
        .split('\n')
        .nth(1)
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| BundleError::Checkpoint("no tree size".into()))?;
    for (i, cmd) in commands {
        if let Body::LogRotateKey(r) = &cmd.body
            && *i < size
        {
            key = r.new_key.clone();
        }
    }
    let public = PublicKey::parse(&key).map_err(|e| BundleError::Checkpoint(e.to_string()))?;
    let cp = Checkpoint::verify(&bundle.checkpoint, origin, &public)
        .map_err(|e| BundleError::Checkpoint(e.to_string()))?;
    Ok((cp.size, cp.root))
}

/// `actor` is a signatory whose `key` was registered by an entry of the bundle, signed by a key
/// that itself chains back to a party admin key the genesis names.
fn signatory(
    genesis: &SignedGenesis,
    commands: &BTreeMap<u64, SignedCommand>,
    actor: &str,
    key: &str,
    signed_at: u64,
) -> Result<(), BundleError> {
    let chain_err = |why: String| BundleError::KeyChain {
        actor: actor.to_string(),
        why,
    };
    let role = commands
        .iter()
        .filter(|(i, _)| **i < signed_at)
        .find_map(|(_, c)| match &c.body {
            Body::ActorRegister(b) if b.actor == actor => Some(b.role),
            _ => None,
        })
        .ok_or_else(|| chain_err("the bundle holds no registration of the actor".into()))?;
    if role != Role::Signatory {
        return Err(chain_err(format!(
            "registered as {}, not as a signatory",
            role.as_str()
        )));
    }
    chained(genesis, commands, actor, key, signed_at, 0).map_err(chain_err)
}

/// Whether `key` of `actor` was in force before entry `before`: a party admin key the genesis
/// names, or registered (for `actor`) by an earlier entry whose own key chains the same way.
fn chained(
    genesis: &SignedGenesis,
    commands: &BTreeMap<u64, SignedCommand>,
    actor: &str,
    key: &str,
    before: u64,
    depth: usize,
) -> Result<(), String> {
    if depth > 16 {
        return Err("the chain of registrations is too long".into());
    }
    let party = corridor_core::access::affiliation_of(actor);
    if actor == format!("{party}/admin")
        && genesis
            .document
            .parties
            .iter()
            .any(|p| p.id == party && p.admin_key == key)
    {
        return Ok(());
    }
    let (at, by) = commands
        .iter()
        .filter(|(i, _)| **i < before)
        .find_map(|(i, c)| match &c.body {
            Body::ActorRegister(b) if b.actor == actor && b.key == key => Some((*i, c)),
            Body::KeyRegister(b) if b.actor == actor && b.key == key => Some((*i, c)),
            _ => None,
        })
        .ok_or_else(|| format!("no entry of the bundle registers key {key} for {actor}"))?;
    // Registered by the party's own admin, or by the actor itself with a key already in force.
    let registrar = &by.actor;
    let same_side = corridor_core::access::affiliation_of(registrar) == party;
    let admin = *registrar == format!("{party}/admin");
    if !(same_side && (admin || registrar == actor)) {
        return Err(format!(
            "entry {at} that registered it was signed by {registrar}, who may not"
        ));
    }
    chained(genesis, commands, registrar, &by.key.id(), at, depth + 1)
        .map_err(|why| format!("{why} (via entry {at})"))
}

/// The base64 lines of a proof, as bundles carry them.
pub fn proof_lines(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(|h| b64(h)).collect()
}

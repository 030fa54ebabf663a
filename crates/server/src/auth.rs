//! Who is reading: the signed-request check of every HTTP read.
//!
//! A request that carries `Signature-Input` and `Signature` (RFC 9421, see
//! [`corridor_core::httpsig`]) is checked against the log: the signature and tag, `created`
//! against the log's clock and the genesis policy's skew limit, the nonce against the ones seen
//! within that window, and the key against the [`Directory`] the sequencer publishes (registered,
//! not revoked). A request without them reads as the public. Handlers then ask the audience
//! ([`corridor_core::access`]) whether this reader may see each item.
//!
//! The nonce memory is per server instance: a captured request could be replayed once against
//! another instance within the skew window, and would read exactly what its signer could read
//! (the reply goes to whoever sent it, so this matters only without TLS). Behind a reverse
//! proxy that rewrites paths, requests must be signed over the path the server sees.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use corridor_core::access::{Audience, Facts, Reader};
use corridor_core::genesis::GenesisDocument;
use corridor_core::httpsig::{self, AuthError, Target};
use corridor_core::state::{Actor, State};

use corridor_storage::ReadRecord;

use crate::log::Log;
use crate::problem::Problem;

/// What the read paths need of the state: every actor, and every key with its owner and
/// whether it is revoked. Published by the sequencer after each batch that registered or
/// revoked a key; small (one row per person), unlike the state.
#[derive(Debug, Default)]
pub struct Directory {
    /// Actors by id.
    pub actors: BTreeMap<String, Actor>,
    /// Key id → (owner, revoked).
    pub keys: BTreeMap<String, (String, bool)>,
}

impl Directory {
    /// The directory of a state.
    pub fn of(state: &State) -> Directory {
        Directory {
            actors: state.actors.clone(),
            keys: state
                .keys
                .iter()
                .map(|(k, v)| (k.clone(), (v.actor.clone(), v.revoked.is_some())))
                .collect(),
        }
    }

    /// Whether the actor holds a key that is not revoked: an actor without one can sign
    /// nothing more, so it neither receives alerts nor counts among a party's units.
    pub fn actor_in_force(&self, actor: &str) -> bool {
        self.keys
            .values()
            .any(|(owner, revoked)| owner == actor && !revoked)
    }

    /// The actor, if `key` is its own and not revoked: what a grant given to that key may
    /// still be used for.
    pub fn key_in_force(&self, actor: &str, key: &str) -> Option<&Actor> {
        match self.keys.get(key) {
            Some((owner, false)) if owner == actor => self.actors.get(actor),
            _ => None,
        }
    }
}

/// [`Facts`] for the read paths: the directory, and the incidents a page of entries refers to
/// (fetched from the projection by the handler).
pub struct ReadFacts<'a> {
    /// Actors and keys.
    pub directory: &'a Directory,
    /// Incident id → (reporter, accused party).
    pub incidents: BTreeMap<String, (String, Option<String>)>,
    /// The parties of the genesis.
    pub parties: Vec<String>,
    /// Whether the genesis publishes verification statuses.
    pub incident_status_public: bool,
    /// Thread id → participants, for the threads a page of entries refers to.
    pub threads: BTreeMap<String, BTreeSet<String>>,
}

impl<'a> ReadFacts<'a> {
    /// Facts with nothing looked up yet beyond the directory and the genesis.
    pub fn new(directory: &'a Directory, genesis: &GenesisDocument) -> Self {
        ReadFacts {
            directory,
            incidents: BTreeMap::new(),
            parties: genesis.party_ids(),
            incident_status_public: genesis.policy.incident_status_public == Some(true),
            threads: BTreeMap::new(),
        }
    }
}

impl Facts for ReadFacts<'_> {
    fn actor(&self, id: &str) -> Option<Actor> {
        self.directory.actors.get(id).cloned()
    }

    fn key_owner(&self, key: &str) -> Option<String> {
        self.directory.keys.get(key).map(|(a, _)| a.clone())
    }

    fn incident(&self, id: &str) -> Option<(String, Option<String>)> {
        self.incidents.get(id).cloned()
    }

    fn parties(&self) -> Vec<String> {
        self.parties.clone()
    }

    fn incident_status_public(&self) -> bool {
        self.incident_status_public
    }

    fn thread(&self, id: &str) -> Option<BTreeSet<String>> {
        self.threads.get(id).cloned()
    }
}

/// Nonces seen within the freshness window, so a signed request is good once.
///
/// Kept per key, each key's bounded on its own: a member who floods signed reads can only
/// ever crowd out its own nonces, never another key's. (One global cap, refusing everyone when
/// full, let two members lock every other actor out of signed reads, consent included.) Only
/// requests that passed the signature check and the rate limits are recorded, and only keys the
/// log registered get a slot, so memory is at most the registered keys times
/// [`MAX_NONCES_PER_KEY`], and in practice a key's rate limit over the freshness window.
#[derive(Debug, Default)]
pub struct Nonces {
    by_key: Mutex<HashMap<String, KeyNonces>>,
}

/// One key's nonces: nonce → expiry, and the same ordered by expiry for eviction.
#[derive(Debug, Default)]
struct KeyNonces {
    seen: HashMap<String, i64>,
    by_expiry: BTreeSet<(i64, String)>,
}

/// Most nonces remembered for one key. A key's rate limit (the genesis policy's signed reads
/// per actor and minute, 600 by default, over a freshness window of twice the skew limit, ten
/// minutes by default) keeps an honest client below it; beyond it the key's own oldest nonce is
/// forgotten, which at worst lets that key's oldest request be replayed within its window.
pub const MAX_NONCES_PER_KEY: usize = 8_192;

impl Nonces {
    /// Remember `(key, nonce)` until `expires` (Unix seconds of the log clock); false if it was
    /// already there and unexpired.
    fn first_use(&self, key: &str, nonce: &str, now: i64, expires: i64) -> bool {
        let mut all = self.by_key.lock().expect("not poisoned");
        let mine = all.entry(key.to_string()).or_default();
        // Forget what expired.
        while let Some((exp, _)) = mine.by_expiry.first()
            && *exp < now
        {
            let (_, n) = mine.by_expiry.pop_first().expect("just seen");
            mine.seen.remove(&n);
        }
        if let Some(exp) = mine.seen.get(nonce)
            && *exp >= now
        {
            return false;
        }
        while mine.seen.len() >= MAX_NONCES_PER_KEY {
            let (_, n) = mine.by_expiry.pop_first().expect("as many as seen");
            mine.seen.remove(&n);
        }
        mine.seen.insert(nonce.to_string(), expires);
        mine.by_expiry.insert((expires, nonce.to_string()));
        true
    }

    /// How many nonces are remembered for `key` (for tests and metrics).
    pub fn held_for(&self, key: &str) -> usize {
        let all = self.by_key.lock().expect("not poisoned");
        all.get(key).map_or(0, |k| k.seen.len())
    }

    /// Drop keys whose nonces have all expired, so memory follows the active readers.
    pub fn forget_expired(&self, now: i64) {
        let mut all = self.by_key.lock().expect("not poisoned");
        all.retain(|_, k| k.by_expiry.last().is_some_and(|(exp, _)| *exp >= now));
    }
}

/// The reader of a request: the public, or an authenticated actor.
#[derive(Debug, Clone)]
pub enum Who {
    /// No signature.
    Public,
    /// A verified signature by an active key (the second field) of this actor.
    Actor(Actor, String),
}

impl Who {
    /// As the core's [`Reader`].
    pub fn reader(&self) -> Reader<'_> {
        match self {
            Who::Public => Reader::Public,
            Who::Actor(a, _) => Reader::Actor(a),
        }
    }

    /// Whether this reader may see what `audience` covers.
    pub fn may_read(&self, audience: &Audience) -> bool {
        audience.admits(self.reader())
    }

    /// Require an authenticated actor (any member of the log).
    pub fn member(&self) -> Result<&Actor, Problem> {
        match self {
            Who::Actor(a, _) if a.role == corridor_core::command::Role::Recovery => {
                Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "read-not-allowed",
                    format!(
                        "{} is a recovery holder: it may only vote to replace its party's admin key, which needs nothing beyond the public log (checkpoints, leaves, proofs)",
                        a.id
                    ),
                ))
            }
            Who::Actor(a, _) => Ok(a),
            Who::Public => Err(auth_problem(&AuthError::Missing)),
        }
    }
}

/// Record, before the data leaves, that `who` read confidential items at `path`: each disclosed
/// item with the audience that admitted it; items open to every member (or the public) are not
/// confidential and leave no record. If the record cannot be written, nothing is disclosed.
///
/// One record per side concerned, naming only the items that concern that side: a side reads
/// the records about itself, and one record listing a whole page of items would have shown it
/// the ids of the other sides' confidential items read in the same request.
pub async fn audit(
    log: &Log,
    who: &Who,
    path: &str,
    disclosed: &[(String, Audience)],
) -> Result<(), Problem> {
    let Who::Actor(actor, key) = who else {
        return Ok(());
    };
    let mut by_side: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (item, audience) in disclosed {
        if let Audience::Affiliations(set) = audience {
            for side in set {
                by_side.entry(side).or_default().push(item.clone());
            }
        }
    }
    let at = corridor_core::time::format_log_time(log.clock().now());
    for (side, items) in by_side {
        let record = ReadRecord {
            seq: 0,
            at: at.clone(),
            actor: actor.id.clone(),
            key: key.clone(),
            path: path.to_string(),
            items,
            concerned: vec![side.to_string()],
        };
        log.db().record_read(&record).await.map_err(|e| {
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage-unavailable",
                format!("the read could not be recorded in the audit trail, so nothing was sent ({e}); retry later"),
            )
        })?;
    }
    Ok(())
}

/// The problem document for a refused signature.
pub fn auth_problem(e: &AuthError) -> Problem {
    let p = Problem::new(StatusCode::UNAUTHORIZED, e.code(), e.to_string());
    match e {
        AuthError::Missing => p.with_header("accept-signature", ACCEPT_SIGNATURE),
        _ => p,
    }
}

/// What a 401 asks for (RFC 9421 §5.1): corridor's label, components and parameters.
pub const ACCEPT_SIGNATURE: &str =
    r#"corridor=("@method" "@path" "@query");created;keyid;nonce;alg="ed25519";tag"#;

impl FromRequestParts<Arc<Log>> for Who {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, log: &Arc<Log>) -> Result<Who, Problem> {
        let header = |name: &str| {
            parts.headers.get(name).map(|v| {
                v.to_str()
                    .map_err(|_| AuthError::Malformed(format!("{name} is not ASCII")))
            })
        };
        let (input, signature) = match (header("signature-input"), header("signature")) {
            (None, None) => return Ok(Who::Public),
            (Some(i), Some(s)) => (
                i.map_err(|e| auth_problem(&e))?,
                s.map_err(|e| auth_problem(&e))?,
            ),
            _ => {
                return Err(auth_problem(&AuthError::Malformed(
                    "send both Signature-Input and Signature".into(),
                )));
            }
        };
        let target = Target {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
        };
        // Cheapest refusals first, so that a flood of signed requests costs the server little
        // and the flooder alone: the address limit before any parsing or curve arithmetic, then
        // the profile, freshness and the key's status, then the signature, then the actor's
        // read limit, and only then is the nonce spent.
        log.limits()
            .address(crate::limits::peer_of(&parts.extensions))?;
        let request =
            httpsig::parse(log.origin(), target, input, signature).map_err(|e| auth_problem(&e))?;
        let now = log.clock().now().as_second();
        let limit = log.genesis().policy.max_clock_skew_s;
        httpsig::check_fresh(request.created, now, limit).map_err(|e| auth_problem(&e))?;
        let key_id = request.keyid.clone();
        let directory = log.directory();
        let actor = match directory.keys.get(&key_id) {
            None => return Err(auth_problem(&AuthError::UnknownKey(key_id))),
            Some((_, true)) => return Err(auth_problem(&AuthError::KeyRevoked(key_id))),
            Some((actor, false)) => directory.actors[actor].clone(),
        };
        let signed = request.verify().map_err(|e| auth_problem(&e))?;
        log.limits().read(&actor.id)?;
        // Remember the nonce until the request could no longer be fresh.
        if !log
            .nonces()
            .first_use(&key_id, &signed.nonce, now, signed.created + limit)
        {
            return Err(auth_problem(&AuthError::Replayed));
        }
        Ok(Who::Actor(actor, key_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One key filling its nonce memory crowds out only its own oldest nonces: another key's
    /// requests are untouched, and the flooder's recent requests are still good once.
    #[test]
    fn nonces_are_bounded_per_key() {
        let n = Nonces::default();
        let (now, exp) = (1_000, 1_600);
        for i in 0..MAX_NONCES_PER_KEY + 100 {
            assert!(n.first_use("flooder", &format!("n{i}"), now, exp + i as i64));
        }
        assert_eq!(n.held_for("flooder"), MAX_NONCES_PER_KEY);
        assert!(
            n.first_use("other", "n0", now, exp),
            "another key is not refused"
        );
        assert!(
            !n.first_use("other", "n0", now, exp),
            "and its nonce is good once"
        );
        let last = format!("n{}", MAX_NONCES_PER_KEY + 99);
        assert!(
            !n.first_use("flooder", &last, now, exp),
            "recent nonces are kept"
        );
        // The oldest went first.
        assert!(n.first_use("flooder", "n0", now, exp));
        // Expired nonces are forgotten, and keys with nothing left are dropped.
        n.forget_expired(exp + MAX_NONCES_PER_KEY as i64 + 1_000);
        assert_eq!(n.held_for("flooder"), 0);
        assert_eq!(n.held_for("other"), 0);
    }
}

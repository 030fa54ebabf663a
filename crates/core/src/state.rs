//! State: a pure fold of the log's entries.
//!
//! [`State::execute`] decides whether the state accepts a signed command sequenced at a given
//! log time, and if so applies it. It checks everything that depends on the state — the key is
//! registered to this actor and active *at the moment of sequencing*, the client's clock is within
//! the genesis policy's skew limit, the role may issue the command, the domain rules hold — and
//! it changes nothing when it refuses. The server runs it live; `corridor verify`, `rebuild` and
//! every monitor run it again over the stored entries and must reach the same state. All maps
//! are `BTreeMap`s so iteration order never depends on hashing.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::Rejection;
use crate::agreement::{Agreements, Ctx};
use crate::chain::Chain;
use crate::channel::Channels;
use crate::command::{Body, Role};
use crate::crypto::PublicKey;
use crate::entry::{Entry, GENESIS_TYPE};
use crate::envelope::SignedCommand;
use crate::genesis::{GenesisDocument, SignedGenesis};
use crate::operation::Operations;
use crate::time::{format_log_time, parse_utc};

/// Which body an actor belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Affiliation {
    /// A party to the conflict.
    Party(String),
    /// The intermediary.
    Intermediary(String),
    /// A humanitarian organisation.
    Organisation(String),
}

impl Affiliation {
    /// The affiliation's id, also its actors' id prefix.
    pub fn id(&self) -> &str {
        match self {
            Affiliation::Party(s) | Affiliation::Intermediary(s) | Affiliation::Organisation(s) => {
                s
            }
        }
    }

    fn allows(&self, role: Role) -> bool {
        match self {
            Affiliation::Party(_) => matches!(
                role,
                Role::PartyAdmin | Role::Coordinator | Role::Unit | Role::Signatory
            ),
            Affiliation::Intermediary(_) => matches!(role, Role::Intermediary | Role::Observer),
            Affiliation::Organisation(_) => {
                matches!(role, Role::OrganisationAdmin | Role::OrganisationMember)
            }
        }
    }
}

/// A person (or unit) who signs commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `<affiliation>/<name>`.
    pub id: String,
    /// Whom the actor acts for.
    pub affiliation: Affiliation,
    /// What the actor may do.
    pub role: Role,
    /// Display name or function.
    pub name: String,
    /// Entry that registered the actor.
    pub registered_at: u64,
}

impl Actor {
    /// Whether this actor administers the affiliation's people.
    pub fn is_admin_of(&self, aff: &Affiliation) -> bool {
        &self.affiliation == aff
            && matches!(
                self.role,
                Role::PartyAdmin | Role::Intermediary | Role::OrganisationAdmin
            )
    }
}

/// A registered key and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Key {
    /// The key id (base64 public key).
    pub key: String,
    /// The one actor it belongs to.
    pub actor: String,
    /// Entry that registered it.
    pub registered_at: u64,
    /// Set once the key is revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
    /// Entries this key signed, with their log times (to flag them if it turns out compromised).
    #[serde(skip)]
    pub signed: Vec<(u64, Timestamp)>,
}

/// When and why a key was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// Entry that revoked it.
    pub at_index: u64,
    /// Log time of that entry.
    pub at_time: String,
    /// Why.
    pub reason: String,
    /// If the key was compromised, from when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compromised_since: Option<String>,
}

pub use crate::incident::{Incident, Response};

/// One row of a query projection: a record of some kind, as JSON. Storage keeps these in
/// tables written in the same transaction as the entry; they can always be rebuilt from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionRow {
    /// Which table.
    pub kind: ProjectionKind,
    /// The record's id.
    pub id: String,
    /// The record.
    pub body: Value,
}

/// A log key and the tree sizes it signs: checkpoints of size `from_size` and above, until the
/// next epoch (the handover checkpoint at a later epoch's `from_size` carries both signatures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogKeyEpoch {
    /// The log public key.
    pub key: String,
    /// The first tree size it signs: 1 for the genesis key, the size just after the
    /// `log.rotate_key` entry for a later one.
    pub from_size: u64,
}

/// A party's open recovery votes: (new admin key, compromised since) → the holders who voted
/// for exactly that.
pub type RecoveryVotes = BTreeMap<(String, Option<String>), BTreeSet<String>>;

/// Everything the log means, as of its last entry.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The genesis document.
    pub genesis: GenesisDocument,
    /// Actors by id.
    pub actors: BTreeMap<String, Actor>,
    /// Keys by key id.
    pub keys: BTreeMap<String, Key>,
    /// Incidents by id.
    pub incidents: BTreeMap<String, Incident>,
    /// Entries signed by a key after its stated compromise.
    pub flagged: BTreeSet<u64>,
    /// Settlements, corridors, windows, declarations.
    pub agreements: Agreements,
    /// Evacuations and aid convoys.
    pub operations: Operations,
    /// Units' confirmations down the chain of command.
    pub chain: Chain,
    /// Threads and messages.
    pub channels: Channels,
    /// Rounds, agenda points and documents of the talks.
    pub register: crate::negotiation::Register,
    /// Open votes of recovery holders, per party.
    pub recoveries: BTreeMap<String, RecoveryVotes>,
    /// The log keys in order: the genesis's, then each handover's.
    pub log_keys: Vec<LogKeyEpoch>,
    /// Number of entries applied.
    pub size: u64,
    /// Log time of the last entry.
    pub last_time: Timestamp,
}

impl State {
    /// The state after entry 0. Refuses a genesis that is not signed by every party and the
    /// intermediary.
    pub fn from_genesis(genesis: &SignedGenesis, time: Timestamp) -> Result<State, Rejection> {
        genesis.verify()?;
        let doc = &genesis.document;
        let mut s = State {
            genesis: doc.clone(),
            actors: BTreeMap::new(),
            keys: BTreeMap::new(),
            incidents: BTreeMap::new(),
            flagged: BTreeSet::new(),
            agreements: Agreements::default(),
            operations: Operations::default(),
            chain: Chain::default(),
            channels: Channels::default(),
            register: Default::default(),
            recoveries: BTreeMap::new(),
            log_keys: vec![LogKeyEpoch {
                key: doc.log_key.clone(),
                from_size: 1,
            }],
            size: 1,
            last_time: time,
        };
        // The people the genesis names: each body's admin, and each party's recovery holders.
        let mut named = |id: String, aff: Affiliation, role: Role, name: String, key: &str| {
            s.keys.insert(
                key.to_string(),
                Key {
                    key: key.to_string(),
                    actor: id.clone(),
                    registered_at: 0,
                    revoked: None,
                    signed: vec![],
                },
            );
            s.actors.insert(
                id.clone(),
                Actor {
                    id,
                    affiliation: aff,
                    role,
                    name,
                    registered_at: 0,
                },
            );
        };
        let bodies = std::iter::once((
            Affiliation::Intermediary(doc.intermediary.id.clone()),
            Role::Intermediary,
            &doc.intermediary.names.en,
            &doc.intermediary.admin_key,
        ))
        .chain(doc.parties.iter().map(|p| {
            let aff = Affiliation::Party(p.id.clone());
            (aff, Role::PartyAdmin, &p.names.en, &p.admin_key)
        }))
        .chain(doc.organisations.iter().map(|o| {
            let aff = Affiliation::Organisation(o.id.clone());
            (aff, Role::OrganisationAdmin, &o.names.en, &o.admin_key)
        }));
        for (aff, role, name, key) in bodies {
            let id = format!("{}/admin", aff.id());
            named(id, aff, role, format!("Administrator, {name}"), key);
        }
        for p in &doc.parties {
            for (n, key) in p.recovery.iter().flat_map(|r| &r.keys).enumerate() {
                let id = format!("{}/recovery-{}", p.id, n + 1);
                let name = format!("Recovery key {} of {}", n + 1, p.names.en);
                named(
                    id,
                    Affiliation::Party(p.id.clone()),
                    Role::Recovery,
                    name,
                    key,
                );
            }
        }
        Ok(s)
    }

    /// The log key that signs checkpoints (and receipts) of tree size `size`.
    pub fn log_key_at(&self, size: u64) -> &str {
        &self
            .log_keys
            .iter()
            .rev()
            .find(|e| e.from_size <= size)
            .unwrap_or(&self.log_keys[0])
            .key
    }

    /// The log key in force now.
    pub fn log_key(&self) -> &str {
        &self
            .log_keys
            .last()
            .expect("the genesis key is always there")
            .key
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.genesis.origin
    }

    /// Decide and, if accepted, apply `cmd` as entry `self.size` at log time `time`. Returns the
    /// projection rows that changed. On refusal nothing changes.
    pub fn execute(
        &mut self,
        cmd: &SignedCommand,
        time: Timestamp,
    ) -> Result<Vec<ProjectionRow>, Rejection> {
        self.decide(cmd, time, false)
    }

    /// [`State::execute`] for an entry already in the log ([`Replay`]): every rule is decided
    /// again from the log alone, but the few checks that consult data from outside the log (the
    /// tz database: whether a zone name exists, whether a stated local time is the signed
    /// instant) are not. They were decided when the entry was accepted, which the entry's place
    /// in the log records; decided again by a build with another tz release they could come out
    /// otherwise (a zone renamed, a country's DST abolished) and one log would replay into two
    /// states. `corridor verify` reports such differences rather than failing on them.
    pub fn execute_recorded(
        &mut self,
        cmd: &SignedCommand,
        time: Timestamp,
    ) -> Result<Vec<ProjectionRow>, Rejection> {
        self.decide(cmd, time, true)
    }

    fn decide(
        &mut self,
        cmd: &SignedCommand,
        time: Timestamp,
        recorded: bool,
    ) -> Result<Vec<ProjectionRow>, Rejection> {
        let index = self.size;
        // The key: registered, to this actor, active now.
        let key_id = cmd.key.id();
        let key = self
            .keys
            .get(&key_id)
            .ok_or_else(|| Rejection::UnknownKey(key_id.clone()))?;
        if key.actor != cmd.actor {
            return Err(Rejection::KeyActorMismatch {
                key: key_id,
                actor: cmd.actor.clone(),
                owner: key.actor.clone(),
            });
        }
        if key.revoked.is_some() {
            return Err(Rejection::KeyRevoked(key_id));
        }
        let actor = self
            .actors
            .get(&cmd.actor)
            .expect("every key belongs to a registered actor")
            .clone();
        // Clock skew, against the genesis policy: ahead of the log by at most the skew; behind
        // it by at most what the policy allows the actor's role for commands signed offline.
        // The signing time decides only this; every rule below decides at `time`, the log's.
        let policy = &self.genesis.policy;
        let ahead = cmd.client_time.as_second() - time.as_second();
        let limit = if ahead > 0 {
            policy.max_clock_skew_s
        } else {
            policy.max_age_s(actor.role)
        };
        if ahead.abs() > limit {
            return Err(Rejection::ClockSkew {
                client: format_log_time(cmd.client_time),
                server: format_log_time(time),
                skew_s: ahead.abs(),
                limit_s: limit,
            });
        }
        crate::access::check_issue(&actor, cmd.body.type_name())?;
        let rows = self.decide_and_apply(&actor, &cmd.body, index, time, recorded)?;
        self.keys
            .get_mut(&key_id)
            .expect("checked above")
            .signed
            .push((index, time));
        self.size += 1;
        self.last_time = time;
        Ok(rows)
    }

    fn not_allowed(actor: &Actor, action: &str) -> Rejection {
        Rejection::RoleNotAllowed {
            actor: actor.id.clone(),
            role: actor.role.as_str().to_string(),
            action: action.to_string(),
        }
    }

    fn decide_and_apply(
        &mut self,
        actor: &Actor,
        body: &Body,
        index: u64,
        time: Timestamp,
        recorded: bool,
    ) -> Result<Vec<ProjectionRow>, Rejection> {
        match body {
            Body::ActorRegister(b) => {
                let (prefix, _) = b.actor.split_once('/').ok_or_else(|| {
                    Rejection::invalid("command.body.actor", "must be <affiliation>/<name>")
                })?;
                let aff = self.affiliation(prefix).ok_or_else(|| {
                    Rejection::rule(
                        "unknown-affiliation",
                        format!("{prefix:?} is not a party, organisation or the intermediary"),
                    )
                })?;
                if !actor.is_admin_of(&aff) {
                    return Err(Self::not_allowed(
                        actor,
                        &format!("register people of {prefix:?}"),
                    ));
                }
                if !aff.allows(b.role) {
                    return Err(Rejection::rule(
                        "role-not-for-affiliation",
                        format!("{prefix:?} cannot have a {}", b.role.as_str()),
                    ));
                }
                if self.actors.contains_key(&b.actor) {
                    return Err(Rejection::rule(
                        "actor-exists",
                        format!("{} is already registered", b.actor),
                    ));
                }
                let key = self.proven_key(&b.key, &b.actor, &b.key_proof)?;
                self.actors.insert(
                    b.actor.clone(),
                    Actor {
                        id: b.actor.clone(),
                        affiliation: aff,
                        role: b.role,
                        name: b.name.clone(),
                        registered_at: index,
                    },
                );
                self.insert_key(key, &b.actor, index);
                Ok(vec![
                    self.row(ProjectionKind::Actor, &b.actor),
                    self.row(ProjectionKind::Key, &b.key),
                ])
            }
            Body::KeyRegister(b) => {
                // Authority first, from the id alone: whether another side's actor exists is
                // not for this actor to learn from the answer.
                let own = b.actor == actor.id;
                let admin_here = crate::access::affiliation_of(&b.actor) == actor.affiliation.id()
                    && actor.is_admin_of(&actor.affiliation);
                if !own && !admin_here {
                    return Err(Self::not_allowed(
                        actor,
                        &format!("add keys for {}", b.actor),
                    ));
                }
                if !self.actors.contains_key(&b.actor) {
                    return Err(Rejection::rule(
                        "unknown-actor",
                        format!("{} is not registered", b.actor),
                    ));
                }
                let key = self.proven_key(&b.key, &b.actor, &b.key_proof)?;
                self.insert_key(key, &b.actor, index);
                Ok(vec![self.row(ProjectionKind::Key, &b.key)])
            }
            Body::KeyRevoke(b) => {
                let target = self
                    .keys
                    .get(&b.key)
                    .ok_or_else(|| Rejection::UnknownKey(b.key.clone()))?;
                let owner = &self.actors[&target.actor];
                if owner.id != actor.id && !actor.is_admin_of(&owner.affiliation) {
                    return Err(Self::not_allowed(
                        actor,
                        &format!("revoke keys of {}", owner.id),
                    ));
                }
                if target.revoked.is_some() {
                    return Err(Rejection::KeyRevoked(b.key.clone()));
                }
                let rows = self.revoke(
                    &b.key,
                    index,
                    time,
                    &b.reason,
                    b.compromised_since.as_deref(),
                )?;
                Ok(rows)
            }
            Body::LogRotateKey(b) => {
                let new = PublicKey::parse(&b.new_key)?;
                if self.keys.contains_key(&b.new_key)
                    || self.log_keys.iter().any(|e| e.key == b.new_key)
                {
                    return Err(Rejection::rule(
                        "key-in-use",
                        "the new log key must be a fresh key, never used in this log",
                    ));
                }
                self.log_keys.push(LogKeyEpoch {
                    key: new.id(),
                    from_size: index + 1,
                });
                Ok(vec![])
            }
            Body::AdminRecover(b) => {
                let Affiliation::Party(party) = actor.affiliation.clone() else {
                    return Err(Self::not_allowed(actor, "recover a party's admin key"));
                };
                let new_key =
                    self.proven_key(&b.new_key, &format!("{party}/admin"), &b.key_proof)?;
                let vote = (b.new_key.clone(), b.compromised_since.clone());
                let votes = self.recoveries.entry(party.clone()).or_default();
                let holders = votes.entry(vote.clone()).or_default();
                if !holders.insert(actor.id.clone()) {
                    return Err(Rejection::rule(
                        "recovery-vote-repeated",
                        format!("{} already voted for this new admin key", actor.id),
                    ));
                }
                let threshold = self
                    .genesis
                    .parties
                    .iter()
                    .find(|p| p.id == party)
                    .and_then(|p| p.recovery.as_ref())
                    .map_or(u32::MAX, |r| r.threshold);
                if (holders.len() as u64) < u64::from(threshold) {
                    return Ok(vec![]);
                }
                // Enough holders agree: the old admin keys go, the new one comes.
                self.recoveries.remove(&party);
                let admin = format!("{party}/admin");
                let old: Vec<String> = self
                    .keys
                    .values()
                    .filter(|k| k.actor == admin && k.revoked.is_none())
                    .map(|k| k.key.clone())
                    .collect();
                let reason = format!("replaced by the party's recovery holders: {}", b.reason);
                let mut rows = Vec::new();
                for k in old {
                    rows.extend(self.revoke(&k, index, time, &reason, vote.1.as_deref())?);
                }
                self.insert_key(new_key, &admin, index);
                rows.push(self.row(ProjectionKind::Key, &b.new_key));
                rows.push(self.row(ProjectionKind::Actor, &admin));
                Ok(rows)
            }
            Body::IncidentReport(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id =
                    crate::incident::report(&mut self.incidents, &self.agreements, &ctx, actor, b)?;
                Ok(vec![self.row(ProjectionKind::Incident, &id)])
            }
            Body::IncidentCorrect(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = crate::incident::correct(
                    &mut self.incidents,
                    &self.agreements,
                    &ctx,
                    actor,
                    b,
                )?;
                Ok(vec![self.row(ProjectionKind::Incident, &id)])
            }
            Body::IncidentVerify(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = crate::incident::verify(&mut self.incidents, &ctx, actor, b)?;
                Ok(vec![self.row(ProjectionKind::Incident, &id)])
            }
            Body::IncidentDuplicate(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = crate::incident::duplicate(&mut self.incidents, &ctx, actor, b)?;
                Ok(vec![self.row(ProjectionKind::Incident, &id)])
            }
            Body::SettlementImport(_)
            | Body::CorridorPropose(_)
            | Body::CorridorAmend(_)
            | Body::WindowPropose(_)
            | Body::WindowAmend(_)
            | Body::WindowConsent(_)
            | Body::WindowWithdraw(_)
            | Body::WindowCancel(_)
            | Body::WindowSuspend(_)
            | Body::WindowResume(_)
            | Body::DeclarationPublish(_) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let changed = self.agreements.execute(&ctx, body)?;
                Ok(changed.iter().map(|(k, id)| self.row(*k, id)).collect())
            }
            Body::OperationNotify(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.operations.notify(&ctx, &self.agreements, b)?;
                Ok(vec![self.row(ProjectionKind::Operation, &id)])
            }
            Body::OperationAck(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.operations.ack(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Operation, &id)])
            }
            Body::OperationMove(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.operations.movement(&ctx, &self.agreements, b)?;
                Ok(vec![self.row(ProjectionKind::Operation, &id)])
            }
            Body::OperationReceive(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.operations.receive(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Operation, &id)])
            }
            Body::OperationOutcome(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.operations.outcome(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Operation, &id)])
            }
            Body::UnitConfirm(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.chain.confirm(&ctx, &self.agreements, b)?;
                Ok(vec![self.row(ProjectionKind::Confirmation, &id)])
            }
            Body::ThreadOpen(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self
                    .channels
                    .open(&ctx, &self.agreements, &self.operations, b)?;
                Ok(vec![self.row(ProjectionKind::Thread, &id)])
            }
            Body::MessageSend(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let [thread, message] = self.channels.send(&ctx, b)?;
                Ok(vec![
                    self.row(ProjectionKind::Thread, &thread),
                    self.row(ProjectionKind::Message, &message),
                ])
            }
            Body::MessageAck(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.channels.ack(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Message, &id)])
            }
            Body::IncidentRespond(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = crate::incident::respond(&mut self.incidents, &ctx, actor, b)?;
                Ok(vec![self.row(ProjectionKind::Incident, &id)])
            }
            Body::RoundRecord(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.record_round(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Round, &id)])
            }
            Body::RoundConclude(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.conclude_round(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Round, &id)])
            }
            Body::PointPropose(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.propose_point(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Point, &id)])
            }
            Body::PointRevise(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.revise_point(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Point, &id)])
            }
            Body::PointPosition(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.record_position(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Point, &id)])
            }
            Body::PointStatus(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.set_status(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Point, &id)])
            }
            Body::PointLink(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.link_point(&ctx, &self.agreements, b)?;
                Ok(vec![self.row(ProjectionKind::Point, &id)])
            }
            Body::DocumentDraft(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.draft(&ctx, b, false)?;
                Ok(vec![self.row(ProjectionKind::Document, &id)])
            }
            Body::DocumentRevise(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.draft(&ctx, b, true)?;
                Ok(vec![self.row(ProjectionKind::Document, &id)])
            }
            Body::DocumentSign(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.sign(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Document, &id)])
            }
            Body::DocumentPublish(b) => {
                let ctx = ctx(&self.genesis, actor, index, time, recorded);
                let id = self.register.publish(&ctx, b)?;
                Ok(vec![self.row(ProjectionKind::Document, &id)])
            }
        }
    }

    /// Revoke `key` at entry `index`; with `since`, flag what it signed from then on (and void
    /// the consents among those entries). The projection rows that changed.
    fn revoke(
        &mut self,
        key: &str,
        index: u64,
        time: Timestamp,
        reason: &str,
        since: Option<&str>,
    ) -> Result<Vec<ProjectionRow>, Rejection> {
        let since_t = match since {
            Some(t) => Some(parse_utc("command.body.compromised_since", t)?),
            None => None,
        };
        let target = self.keys.get_mut(key).expect("the caller checked the key");
        target.revoked = Some(Revocation {
            at_index: index,
            at_time: format_log_time(time),
            reason: reason.to_string(),
            compromised_since: since.map(str::to_string),
        });
        let mut newly = BTreeSet::new();
        if let Some(since) = since_t {
            for (i, t) in &target.signed {
                if *t >= since && self.flagged.insert(*i) {
                    newly.insert(*i);
                }
            }
        }
        let mut rows = vec![self.row(ProjectionKind::Key, key)];
        for (kind, id) in self.agreements.void_entries(&newly) {
            rows.push(self.row(kind, &id));
        }
        Ok(rows)
    }

    fn affiliation(&self, id: &str) -> Option<Affiliation> {
        let g = &self.genesis;
        if g.intermediary.id == id {
            Some(Affiliation::Intermediary(id.to_string()))
        } else if g.parties.iter().any(|p| p.id == id) {
            Some(Affiliation::Party(id.to_string()))
        } else if g.organisations.iter().any(|o| o.id == id) {
            Some(Affiliation::Organisation(id.to_string()))
        } else {
            None
        }
    }

    /// A fresh key whose holder proved possession of it as `actor` on this log.
    fn proven_key(&self, key: &str, actor: &str, proof: &str) -> Result<PublicKey, Rejection> {
        let k = PublicKey::parse(key)?;
        crate::envelope::check_key_proof(self.origin(), actor, &k, proof)?;
        self.fresh_key(key)
    }

    fn fresh_key(&self, key: &str) -> Result<PublicKey, Rejection> {
        let k = PublicKey::parse(key)?;
        if self.keys.contains_key(key) || self.log_keys.iter().any(|e| e.key == key) {
            return Err(Rejection::rule(
                "key-in-use",
                "this key is already registered; a key belongs to one actor",
            ));
        }
        Ok(k)
    }

    fn insert_key(&mut self, key: PublicKey, actor: &str, index: u64) {
        self.keys.insert(
            key.id(),
            Key {
                key: key.id(),
                actor: actor.to_string(),
                registered_at: index,
                revoked: None,
                signed: vec![],
            },
        );
    }

    fn row(&self, kind: ProjectionKind, id: &str) -> ProjectionRow {
        use ProjectionKind as K;
        let body = match kind {
            K::Actor => serde_json::to_value(&self.actors[id]),
            K::Key => serde_json::to_value(&self.keys[id]),
            K::Incident => serde_json::to_value(&self.incidents[id]),
            K::Settlement => serde_json::to_value(&self.agreements.settlements[id]),
            K::Corridor => serde_json::to_value(&self.agreements.corridors[id]),
            K::Window => serde_json::to_value(&self.agreements.windows[id]),
            K::Declaration => serde_json::to_value(&self.agreements.declarations[id]),
            K::Operation => serde_json::to_value(&self.operations.operations[id]),
            K::Confirmation => serde_json::to_value(&self.chain.confirmations[id]),
            K::Thread => serde_json::to_value(&self.channels.threads[id]),
            K::Message => serde_json::to_value(&self.channels.messages[id]),
            K::Round => serde_json::to_value(&self.register.rounds[id]),
            K::Point => serde_json::to_value(&self.register.points[id]),
            K::Document => serde_json::to_value(&self.register.documents[id]),
        }
        .expect("records serialize");
        ProjectionRow {
            kind,
            id: id.to_string(),
            body,
        }
    }

    /// Every projection row the state implies, in the order storage lists them (by kind, then
    /// by id, both as bytes): what the projection tables must hold. `verify` compares the stored
    /// tables with this row by row as it goes, so a million-record state is never held twice
    /// over as rows; `rebuild` writes it.
    pub fn projection_rows(&self) -> impl Iterator<Item = ProjectionRow> + '_ {
        self.projection_rows_from(None)
    }

    /// [`State::projection_rows`] from the row (kind, id) on, that row included if it exists:
    /// so that several threads can each compare a part of a long list.
    pub fn projection_rows_from<'a>(
        &'a self,
        from: Option<(&str, &str)>,
    ) -> impl Iterator<Item = ProjectionRow> + 'a {
        fn rows<'a, T: serde::Serialize>(
            kind: ProjectionKind,
            records: &'a BTreeMap<String, T>,
            from: Option<(&str, &str)>,
        ) -> Box<dyn Iterator<Item = ProjectionRow> + 'a> {
            let range = match from {
                Some((k, _)) if kind.as_str() < k => return Box::new(std::iter::empty()),
                Some((k, id)) if kind.as_str() == k => records
                    .range::<str, _>((std::ops::Bound::Included(id), std::ops::Bound::Unbounded)),
                _ => records.range::<str, _>(..),
            };
            Box::new(range.map(move |(id, record)| ProjectionRow {
                kind,
                id: id.clone(),
                body: serde_json::to_value(record).expect("records serialize"),
            }))
        }
        let a = &self.agreements;
        // Kinds in byte order (a test checks it).
        let r = &self.register;
        let [
            actor,
            confirmation,
            corridor,
            declaration,
            document,
            incident,
            key,
            message,
            operation,
            point,
            round,
            settlement,
            thread,
            window,
        ] = ProjectionKind::ALL;
        rows(actor, &self.actors, from)
            .chain(rows(confirmation, &self.chain.confirmations, from))
            .chain(rows(corridor, &a.corridors, from))
            .chain(rows(declaration, &a.declarations, from))
            .chain(rows(document, &r.documents, from))
            .chain(rows(incident, &self.incidents, from))
            .chain(rows(key, &self.keys, from))
            .chain(rows(message, &self.channels.messages, from))
            .chain(rows(operation, &self.operations.operations, from))
            .chain(rows(point, &r.points, from))
            .chain(rows(round, &r.rounds, from))
            .chain(rows(settlement, &a.settlements, from))
            .chain(rows(thread, &self.channels.threads, from))
            .chain(rows(window, &a.windows, from))
    }
}

/// The kinds of projection row: one table of records each. An enum so that a row can only be
/// of a kind storage has a table for. Declared in byte order of their names, the order storage
/// lists them and [`State::projection_rows`] gives them (a test checks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProjectionKind {
    /// `actor` rows.
    Actor,
    /// `confirmation` rows.
    Confirmation,
    /// `corridor` rows.
    Corridor,
    /// `declaration` rows.
    Declaration,
    /// `document` rows.
    Document,
    /// `incident` rows.
    Incident,
    /// `key` rows.
    Key,
    /// `message` rows.
    Message,
    /// `operation` rows.
    Operation,
    /// `point` rows.
    Point,
    /// `round` rows.
    Round,
    /// `settlement` rows.
    Settlement,
    /// `thread` rows.
    Thread,
    /// `window` rows.
    Window,
}

impl ProjectionKind {
    /// Every kind, in byte order of the names.
    pub const ALL: [ProjectionKind; 14] = [
        ProjectionKind::Actor,
        ProjectionKind::Confirmation,
        ProjectionKind::Corridor,
        ProjectionKind::Declaration,
        ProjectionKind::Document,
        ProjectionKind::Incident,
        ProjectionKind::Key,
        ProjectionKind::Message,
        ProjectionKind::Operation,
        ProjectionKind::Point,
        ProjectionKind::Round,
        ProjectionKind::Settlement,
        ProjectionKind::Thread,
        ProjectionKind::Window,
    ];

    /// The name storage keeps in its `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionKind::Actor => "actor",
            ProjectionKind::Confirmation => "confirmation",
            ProjectionKind::Corridor => "corridor",
            ProjectionKind::Declaration => "declaration",
            ProjectionKind::Document => "document",
            ProjectionKind::Incident => "incident",
            ProjectionKind::Key => "key",
            ProjectionKind::Message => "message",
            ProjectionKind::Operation => "operation",
            ProjectionKind::Point => "point",
            ProjectionKind::Round => "round",
            ProjectionKind::Settlement => "settlement",
            ProjectionKind::Thread => "thread",
            ProjectionKind::Window => "window",
        }
    }
}

impl std::fmt::Display for ProjectionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule needs to know of the actor and the moment, for the command families that keep
/// their rules in modules of their own (agreements, operations, the chain, channels).
fn ctx<'a>(
    genesis: &'a GenesisDocument,
    actor: &'a Actor,
    index: u64,
    time: Timestamp,
    recorded: bool,
) -> Ctx<'a> {
    let party = match &actor.affiliation {
        Affiliation::Party(p) => Some(p.as_str()),
        _ => None,
    };
    Ctx {
        actor: &actor.id,
        party,
        affiliation: actor.affiliation.id(),
        role: actor.role,
        index,
        time,
        genesis,
        recorded,
    }
}

impl crate::access::Facts for State {
    fn actor(&self, id: &str) -> Option<Actor> {
        self.actors.get(id).cloned()
    }

    fn key_owner(&self, key: &str) -> Option<String> {
        self.keys.get(key).map(|k| k.actor.clone())
    }

    fn incident(&self, id: &str) -> Option<(String, Option<String>)> {
        self.incidents
            .get(id)
            .map(|i| (i.reporter.clone(), i.accused_party.clone()))
    }

    fn parties(&self) -> Vec<String> {
        self.genesis.party_ids()
    }

    fn incident_status_public(&self) -> bool {
        self.genesis.policy.incident_status_public == Some(true)
    }

    fn thread(&self, id: &str) -> Option<BTreeSet<String>> {
        self.channels
            .threads
            .get(id)
            .map(|t| t.participants.clone())
    }
}

/// Replays stored entries: the one place that turns the log back into state, shared by server
/// start-up, `verify` and `rebuild`, so they cannot disagree.
#[derive(Debug)]
pub struct Replay {
    state: Option<State>,
    verify_signatures: bool,
}

impl Default for Replay {
    fn default() -> Self {
        Replay::new()
    }
}

impl Replay {
    /// A replay that has seen no entry yet and checks every signature.
    pub fn new() -> Self {
        Replay {
            state: None,
            verify_signatures: true,
        }
    }

    /// A replay that trusts signatures: for a server reloading its own log at start-up, or a
    /// verifier that has already checked them in parallel. Everything else is still checked.
    pub fn trusting_signatures() -> Self {
        Replay {
            state: None,
            verify_signatures: false,
        }
    }

    /// A replay that goes on from `state` (trusting signatures, as
    /// [`Replay::trusting_signatures`]): for a server instance that follows a log another one
    /// writes, applying each new committed entry to the state it already has.
    pub fn resume_trusting(state: State) -> Self {
        Replay {
            state: Some(state),
            verify_signatures: false,
        }
    }

    /// The state so far (None before the genesis).
    pub fn state(&self) -> Option<&State> {
        self.state.as_ref()
    }

    /// Take the state out.
    pub fn into_state(self) -> Option<State> {
        self.state
    }

    /// The part of replaying an entry that does not depend on the entries before it: the
    /// commitment, and parsing the stored envelope (signature not checked). A verifier runs this
    /// on every core, checks the signatures in batches, then calls [`Replay::apply_prepared`] in
    /// log order. Not for entry 0 (the genesis has no envelope).
    pub fn prepare(
        entry: &Entry,
        origin: &str,
        keys: &mut crate::envelope::KeyCache,
    ) -> Result<SignedCommand, Rejection> {
        if !entry.commitment_matches() {
            return Err(commitment_mismatch());
        }
        SignedCommand::parse_stored(&entry.command, &entry.signature, origin, false, Some(keys))
    }

    /// Apply the next stored entry, checking everything the server checked when it accepted it:
    /// position, strictly increasing time, commitment, signature, key status, role and rules.
    pub fn apply(&mut self, entry: &Entry) -> Result<Vec<ProjectionRow>, Rejection> {
        self.apply_inner(entry, None)
    }

    /// Apply an entry whose commitment was checked and whose envelope was parsed by
    /// [`Replay::prepare`] (from this very entry, for this log), and whose signature the caller
    /// verified or chose to trust. Everything that depends on the state is checked here.
    pub fn apply_prepared(
        &mut self,
        entry: &Entry,
        cmd: SignedCommand,
    ) -> Result<Vec<ProjectionRow>, Rejection> {
        self.apply_inner(entry, Some(cmd))
    }

    fn apply_inner(
        &mut self,
        entry: &Entry,
        prepared: Option<SignedCommand>,
    ) -> Result<Vec<ProjectionRow>, Rejection> {
        let h = &entry.header;
        let time = parse_utc("time", &h.time)?;
        if format_log_time(time) != h.time {
            return Err(Rejection::invalid(
                "time",
                "not in the log's fixed-width form",
            ));
        }
        if prepared.is_none() && !entry.commitment_matches() {
            return Err(commitment_mismatch());
        }
        match &mut self.state {
            None => {
                if h.index != 0 || entry.entry_type != GENESIS_TYPE || !entry.signature.is_empty() {
                    return Err(Rejection::rule(
                        "not-genesis",
                        "entry 0 must be the genesis",
                    ));
                }
                let value = corridor_jcs::parse_canonical(&entry.command)?;
                let genesis: SignedGenesis = serde_json::from_value(value)
                    .map_err(|e| Rejection::invalid("genesis", e.to_string()))?;
                let s = State::from_genesis(&genesis, time)?;
                let intermediary = format!("{}/admin", genesis.document.intermediary.id);
                if entry.actor != intermediary
                    || entry.key != genesis.document.intermediary.admin_key
                {
                    return Err(Rejection::rule(
                        "header-mismatch",
                        "the genesis header must name the intermediary's admin",
                    ));
                }
                let rows: Vec<ProjectionRow> = s.projection_rows().collect();
                self.state = Some(s);
                Ok(rows)
            }
            Some(s) => {
                if h.index != s.size {
                    return Err(Rejection::rule(
                        "index-gap",
                        format!("expected entry {}, found {}", s.size, h.index),
                    ));
                }
                if time <= s.last_time {
                    return Err(Rejection::rule(
                        "time-not-increasing",
                        "entry time is not after the previous entry's",
                    ));
                }
                let cmd = match prepared {
                    Some(cmd) => cmd,
                    None => SignedCommand::parse_stored(
                        &entry.command,
                        &entry.signature,
                        s.origin(),
                        self.verify_signatures,
                        None,
                    )?,
                };
                if entry.entry_type != cmd.body.type_name()
                    || entry.actor != cmd.actor
                    || entry.key != cmd.key.id()
                    || entry.command_id != cmd.id
                {
                    return Err(Rejection::rule(
                        "header-mismatch",
                        "the entry header does not match its command",
                    ));
                }
                s.execute_recorded(&cmd, time)
            }
        }
    }
}

fn commitment_mismatch() -> Rejection {
    Rejection::rule(
        "commitment-mismatch",
        "the commitment does not match the salt, command and signature",
    )
}

#[cfg(test)]
mod tests;

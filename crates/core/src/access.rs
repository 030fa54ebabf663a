//! Who may issue which command, and who may read what: the two tables of corridor's access
//! control, each written down once, here, as a pure function of the log's facts.
//!
//! Why one place: the parties do not trust each other, and some records (unit identities,
//! incident reports with evidence) can put people in danger if the wrong side reads them. A rule
//! that lives in one table can be read, reviewed and tested cell by cell; a rule spread over
//! handlers cannot. The server consults these functions on every read path and the reducer on
//! every command; a monitor holding the log can recompute every decision.
//!
//! - [`may_issue`] is the *role gate*: which roles may issue a command type at all. The reducer
//!   applies it before any domain rule; the domain rules ([`crate::state`],
//!   [`crate::agreement`]) then narrow it further (own party only, the proposer only, the
//!   accused party only).
//! - [`Audience`] says who may read an entry or a record. [`entry_audience`] derives it from the
//!   command and facts that never change once recorded (an actor's affiliation and role, an
//!   incident's reporter and accused party), so the answer for an entry is the same whenever it
//!   is asked.
//!
//! Both tables are tested cell by cell in `state/tests/matrix.rs`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::Rejection;
use crate::command::{Body, Role};
use crate::state::{Actor, Affiliation};

use Role::*;

/// The role gate, one row per command type: the roles that may issue it at all.
///
/// Party acts (consent, withdraw, suspend, resume) are for a party's coordinators, its admin and
/// its authorised signatories; the intermediary proposes and mediates but never acts for a party.
/// Observers never act on the substance; they may only manage their own keys.
pub const ISSUERS: &[(&str, &[Role])] = &[
    (
        "actor.register",
        &[PartyAdmin, Intermediary, OrganisationAdmin],
    ),
    // Recovery holders are named in the genesis: they cannot add keys for themselves.
    ("key.register", ALL_BUT_RECOVERY),
    ("key.revoke", ALL_ROLES),
    (
        "incident.report",
        &[
            PartyAdmin,
            Coordinator,
            Unit,
            Intermediary,
            OrganisationAdmin,
            OrganisationMember,
        ],
    ),
    ("incident.respond", &[PartyAdmin, Coordinator]),
    // The reporter's side corrects its own report (a unit only its own: the rule checks).
    (
        "incident.correct",
        &[
            PartyAdmin,
            Coordinator,
            Unit,
            Intermediary,
            OrganisationAdmin,
            OrganisationMember,
        ],
    ),
    // Verification is the neutral intermediary's judgement, never a party's.
    ("incident.verify", &[Intermediary]),
    ("incident.duplicate", CORRESPONDENTS),
    ("settlement.import", &[Intermediary]),
    ("corridor.propose", PROPOSERS),
    ("corridor.amend", PROPOSERS),
    ("window.propose", PROPOSERS),
    ("window.amend", PROPOSERS),
    ("window.cancel", PROPOSERS),
    ("window.consent", PARTY_ACTORS),
    ("window.withdraw", PARTY_ACTORS),
    ("window.suspend", PARTY_ACTORS),
    ("window.resume", PARTY_ACTORS),
    ("declaration.publish", &[PartyAdmin, Coordinator]),
    ("admin.recover", &[Recovery]),
    ("log.rotate_key", &[Intermediary]),
    // HNS: an organisation notifies its movement; the intermediary may notify its own.
    ("operation.notify", OPERATORS),
    ("operation.ack", PARTY_ACTORS),
    ("operation.move", OPERATORS),
    ("operation.receive", OPERATORS),
    ("operation.outcome", OPERATORS),
    ("unit.confirm", &[Unit]),
    // Units never post: a message would name the unit to the other side.
    ("thread.open", CORRESPONDENTS),
    ("message.send", CORRESPONDENTS),
    ("message.ack", CORRESPONDENTS),
    // The negotiation register: the intermediary and the parties' people keep the record of
    // the talks; a position only by the party's own people (the rule checks the party), a
    // signature only by a signatory.
    ("round.record", PROPOSERS),
    ("round.conclude", PROPOSERS),
    ("point.propose", NEGOTIATORS),
    ("point.revise", NEGOTIATORS),
    ("point.position", PARTY_ACTORS),
    ("point.status", NEGOTIATORS),
    ("point.link", PROPOSERS),
    ("document.draft", NEGOTIATORS),
    ("document.revise", NEGOTIATORS),
    ("document.sign", &[Signatory]),
    ("document.publish", PARTY_ACTORS),
];

/// Every role, for rows that any actor may use on their own behalf. `Recovery` stays last (the
/// `key.register` row takes all but it).
pub const ALL_ROLES: &[Role] = &[
    PartyAdmin,
    Coordinator,
    Unit,
    Signatory,
    Intermediary,
    OrganisationAdmin,
    OrganisationMember,
    Observer,
    Recovery,
];

const ALL_BUT_RECOVERY: &[Role] = match ALL_ROLES.split_last() {
    Some((_, rest)) => rest,
    None => &[],
};
const PROPOSERS: &[Role] = &[Intermediary, PartyAdmin, Coordinator];
const PARTY_ACTORS: &[Role] = &[PartyAdmin, Coordinator, Signatory];
const NEGOTIATORS: &[Role] = &[Intermediary, PartyAdmin, Coordinator, Signatory];
const OPERATORS: &[Role] = &[Intermediary, OrganisationAdmin, OrganisationMember];
const CORRESPONDENTS: &[Role] = &[
    PartyAdmin,
    Coordinator,
    Intermediary,
    OrganisationAdmin,
    OrganisationMember,
];

/// Whether `role` may issue commands of `command_type` at all (see [`ISSUERS`]).
pub fn may_issue(role: Role, command_type: &str) -> bool {
    ISSUERS
        .iter()
        .find(|(t, _)| *t == command_type)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

/// The role gate as the reducer applies it: a refusal that names the rule.
pub fn check_issue(actor: &Actor, command_type: &str) -> Result<(), Rejection> {
    if may_issue(actor.role, command_type) {
        return Ok(());
    }
    let party_act = [
        "window.consent",
        "window.withdraw",
        "window.suspend",
        "window.resume",
        "operation.ack",
        "point.position",
        "document.publish",
    ];
    if command_type == "document.sign" {
        return Err(Rejection::rule(
            "document-signatory-only",
            format!(
                "{} is a {}; only a party's signatory signs a document for it",
                actor.id,
                actor.role.as_str()
            ),
        ));
    }
    if command_type == "incident.verify" {
        return Err(Rejection::rule(
            "incident-verify-intermediary-only",
            "only the intermediary's staff set a report's verification status; a party answers a report (incident respond) or reports what it saw",
        ));
    }
    if actor.role == Intermediary && party_act.contains(&command_type) {
        return Err(Rejection::rule(
            "intermediary-cannot-act-for-party",
            "the intermediary may propose and mediate but never acts on a party's behalf",
        ));
    }
    Err(Rejection::RoleNotAllowed {
        actor: actor.id.clone(),
        role: actor.role.as_str().to_string(),
        action: format!("issue {command_type}"),
    })
}

/// Who may read an entry or a record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "affiliations", rename_all = "kebab-case")]
pub enum Audience {
    /// Anyone, the public included: the genesis (it names the parties and the log key that
    /// everyone needs to check checkpoints).
    Public,
    /// Every registered actor of the log, observers included: the agreements (settlements,
    /// corridors, windows, consents, declarations) and the registration of coordinators and
    /// admins, since every party and organisation operating in a corridor must know them, and a
    /// monitor must be able to check them.
    Members,
    /// Only the actors of these affiliations, and the intermediary's own staff (the mediator of
    /// record). Observers are not included, even the intermediary's. For incident reports (the
    /// reporter's side and the accused party) and for units of a party (the party alone).
    Affiliations(BTreeSet<String>),
}

/// Who may read the genesis entry: everyone, since it names the parties and the log key that
/// anyone checking a checkpoint needs.
pub const GENESIS_AUDIENCE: Audience = Audience::Public;

/// Who is asking to read.
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    /// An unauthenticated request.
    Public,
    /// An authenticated actor (its key verified and active).
    Actor(&'a Actor),
}

impl Audience {
    /// An audience of the given affiliations.
    pub fn of<'a>(affiliations: impl IntoIterator<Item = &'a str>) -> Audience {
        Audience::Affiliations(affiliations.into_iter().map(str::to_string).collect())
    }

    /// Whether `reader` may read what this audience covers.
    pub fn admits(&self, reader: Reader<'_>) -> bool {
        match (self, reader) {
            (Audience::Public, _) => true,
            (_, Reader::Public) => false,
            // A recovery holder's one act is a vote to replace its party's admin key, which
            // needs nothing but the public log: it reads what the public reads, no more.
            (_, Reader::Actor(a)) if a.role == Recovery => false,
            (Audience::Members, Reader::Actor(_)) => true,
            (Audience::Affiliations(set), Reader::Actor(a)) => {
                if a.role == Observer {
                    return false;
                }
                matches!(a.affiliation, Affiliation::Intermediary(_))
                    || set.contains(a.affiliation.id())
            }
        }
    }

    /// The parties and organisations this audience is confined to (none for wider audiences):
    /// whom a read of such data concerns, for the read audit.
    pub fn concerned(&self) -> Vec<String> {
        match self {
            Audience::Affiliations(set) => set.iter().cloned().collect(),
            _ => vec![],
        }
    }
}

/// The affiliation id of an actor id (`ua/coord-1` → `ua`). Actor ids always start with their
/// affiliation, which the reducer enforces at registration.
pub fn affiliation_of(actor: &str) -> &str {
    actor.split_once('/').map_or(actor, |(a, _)| a)
}

/// Who may read an incident report and the answers beside it: the reporter's side, the accused
/// party if any, and the intermediary. A report can name positions and carry evidence; the other
/// party sees it only when it is the one accused (it must be able to answer).
pub fn incident_audience(reporter: &str, accused_party: Option<&str>) -> Audience {
    Audience::of(std::iter::once(affiliation_of(reporter)).chain(accused_party))
}

/// Who may read an actor's registration and keys: a party's units are known to their own party
/// (and the intermediary) only; everyone else's registration is known to every member, because
/// every member verifies their signatures.
pub fn actor_audience(affiliation: &Affiliation, role: Role) -> Audience {
    if role == Unit {
        Audience::of([affiliation.id()])
    } else {
        Audience::Members
    }
}

/// The recorded facts [`entry_audience`] looks up. The [`crate::state::State`] implements it;
/// the server implements it over what it keeps of the state.
pub trait Facts {
    /// A registered actor.
    fn actor(&self, id: &str) -> Option<Actor>;
    /// The actor a registered key belongs to.
    fn key_owner(&self, key: &str) -> Option<String>;
    /// An incident's reporter and accused party.
    fn incident(&self, id: &str) -> Option<(String, Option<String>)>;
    /// The parties of the genesis.
    fn parties(&self) -> Vec<String>;
    /// Whether the genesis publishes the intermediary's verification statuses.
    fn incident_status_public(&self) -> bool;
    /// A thread's participants.
    fn thread(&self, id: &str) -> Option<BTreeSet<String>>;
}

/// Who may read an operation and everything recorded about it: every party (each must know the
/// vehicles at its checkpoints and acknowledge them), the notifying side and the intermediary.
/// Other organisations and observers do not read plates and manifests. From the operation id
/// alone (scoped by the notifying side), so it never changes.
pub fn operation_audience(parties: &[String], operation: &str) -> Audience {
    Audience::of(
        parties
            .iter()
            .map(String::as_str)
            .chain([affiliation_of(operation)]),
    )
}

/// Who may read the entry that recorded `body`, issued by `author`. Depends only on facts that
/// never change once recorded, so it gives the same answer however late it is asked. A fact
/// that cannot be found (a damaged projection) gives the narrowest audience: the author's side.
pub fn entry_audience(facts: &impl Facts, author: &str, body: &Body) -> Audience {
    let narrow = || Audience::of([affiliation_of(author)]);
    match body {
        Body::ActorRegister(b) => match facts.actor(&b.actor) {
            Some(a) => actor_audience(&a.affiliation, a.role),
            None if b.role == Unit => Audience::of([affiliation_of(&b.actor)]),
            None => Audience::Members,
        },
        Body::KeyRegister(b) => match facts.actor(&b.actor) {
            Some(a) => actor_audience(&a.affiliation, a.role),
            None => narrow(),
        },
        Body::KeyRevoke(b) => match facts.key_owner(&b.key).and_then(|o| facts.actor(&o)) {
            Some(a) => actor_audience(&a.affiliation, a.role),
            None => narrow(),
        },
        // Everyone checking checkpoints, the public included, must learn the new log key.
        Body::LogRotateKey(_) => Audience::Public,
        Body::IncidentReport(b) => incident_audience(author, b.accused_party.as_deref()),
        Body::IncidentRespond(crate::command::IncidentRespond { incident, .. })
        | Body::IncidentCorrect(crate::command::IncidentCorrect { incident, .. })
        // A duplicate mark is only allowed on the report with the narrower audience, so the
        // marked report's audience reads both.
        | Body::IncidentDuplicate(crate::command::IncidentDuplicate { incident, .. }) => {
            match facts.incident(incident) {
                Some((reporter, accused)) => incident_audience(&reporter, accused.as_deref()),
                None => narrow(),
            }
        }
        // Under a genesis that publishes verification, the status and its reasoning are public
        // (the report itself stays with its audience); otherwise the report's audience.
        Body::IncidentVerify(_) if facts.incident_status_public() => Audience::Public,
        Body::IncidentVerify(b) => match facts.incident(&b.incident) {
            Some((reporter, accused)) => incident_audience(&reporter, accused.as_deref()),
            None => narrow(),
        },
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
        | Body::DeclarationPublish(_)
        // Everyone must learn that a party's admin key changed.
        | Body::AdminRecover(_) => Audience::Members,
        Body::OperationNotify(b) => operation_audience(&facts.parties(), &b.operation),
        Body::OperationAck(b) => operation_audience(&facts.parties(), &b.operation),
        Body::OperationMove(b) => operation_audience(&facts.parties(), &b.operation),
        Body::OperationReceive(b) => operation_audience(&facts.parties(), &b.operation),
        Body::OperationOutcome(b) => operation_audience(&facts.parties(), &b.operation),
        // A unit's confirmation names the unit: its own party alone.
        Body::UnitConfirm(_) => narrow(),
        Body::ThreadOpen(b) => Audience::Affiliations(
            b.participants
                .iter()
                .map(String::as_str)
                .chain([affiliation_of(author)])
                .map(str::to_string)
                .collect(),
        ),
        Body::MessageSend(b) => facts
            .thread(&b.thread)
            .map_or_else(narrow, Audience::Affiliations),
        Body::MessageAck(b) => facts
            .thread(&b.thread)
            .map_or_else(narrow, Audience::Affiliations),
        // The register is the parties' and the intermediary's alone, entries included, also
        // once a document is published (the public reads the published document, not the log
        // of how it was reached).
        Body::RoundRecord(_)
        | Body::RoundConclude(_)
        | Body::PointPropose(_)
        | Body::PointRevise(_)
        | Body::PointPosition(_)
        | Body::PointStatus(_)
        | Body::PointLink(_)
        | Body::DocumentDraft(_)
        | Body::DocumentRevise(_)
        | Body::DocumentSign(_)
        | Body::DocumentPublish(_) => register_audience(&facts.parties()),
    }
}

/// Who reads the negotiation register: the parties and the intermediary.
pub fn register_audience(parties: &[String]) -> Audience {
    Audience::of(parties.iter().map(String::as_str))
}

/// Who may read a projection record (`kind` as in [`crate::state::ProjectionRow`]), from the
/// record itself and, for keys, the owner's registration.
pub fn record_audience(facts: &impl Facts, kind: &str, body: &serde_json::Value) -> Audience {
    let s = |f: &str| body.get(f).and_then(|v| v.as_str());
    match kind {
        "incident" => incident_audience(s("reporter").unwrap_or(""), s("accused_party")),
        "actor" => match s("id").and_then(|id| facts.actor(id)) {
            Some(a) => actor_audience(&a.affiliation, a.role),
            None => Audience::of([affiliation_of(s("id").unwrap_or(""))]),
        },
        "key" => match s("actor").and_then(|id| facts.actor(id)) {
            Some(a) => actor_audience(&a.affiliation, a.role),
            None => Audience::of([affiliation_of(s("actor").unwrap_or(""))]),
        },
        "operation" => operation_audience(&facts.parties(), s("id").unwrap_or("")),
        // A party's unit confirmations: that party alone.
        "confirmation" => Audience::of([s("party").unwrap_or("")]),
        "thread" | "message" => {
            let set = body
                .get("participants")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str()).map(str::to_string))
                .into_iter()
                .flatten()
                .collect();
            Audience::Affiliations(set)
        }
        "round" | "point" => register_audience(&facts.parties()),
        // A document every party agreed to publish is public; until then, the register's.
        "document" if body.get("published") == Some(&serde_json::Value::Bool(true)) => {
            Audience::Public
        }
        "document" => register_audience(&facts.parties()),
        _ => Audience::Members,
    }
}

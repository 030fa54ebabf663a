//! Command bodies: what an actor asks the log to record.
//!
//! The body's `type` picks the command; the other fields are checked here for shape only.
//! Whether the state accepts the command is for [`crate::state`]. Signed data carries no
//! floats: coordinates are integers in units of 1e-7 degree, instants RFC 3339 UTC strings.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Rejection;
use crate::agreement as A;
use crate::chain as U;
use crate::channel as C;
use crate::envelope::{into_object, take};
use crate::negotiation as N;
use crate::operation as O;

/// The role an actor holds. One actor, one role; a person with two roles has two actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Registers and revokes the keys of the party's own people.
    PartyAdmin,
    /// A party's humanitarian coordinator: proposes, consents, reports, answers.
    Coordinator,
    /// A sub-actor of a party, confirming from the chain of command.
    Unit,
    /// Signs documents on behalf of its party.
    Signatory,
    /// The neutral intermediary's staff (and its admin).
    Intermediary,
    /// Registers the people of a humanitarian organisation.
    OrganisationAdmin,
    /// Operates convoys for an organisation.
    OrganisationMember,
    /// Reads and monitors; never acts on the substance.
    Observer,
    /// Holds one of a party's recovery keys named in the genesis: may only, together with
    /// enough other holders, replace the party's admin key.
    Recovery,
}

impl Role {
    /// The role's wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::PartyAdmin => "party-admin",
            Role::Coordinator => "coordinator",
            Role::Unit => "unit",
            Role::Signatory => "signatory",
            Role::Intermediary => "intermediary",
            Role::OrganisationAdmin => "organisation-admin",
            Role::OrganisationMember => "organisation-member",
            Role::Observer => "observer",
            Role::Recovery => "recovery",
        }
    }
}

/// A point on the ground, WGS 84, in integer units of 1e-7 degree (about 1 cm), so that signed
/// bytes never depend on float formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Latitude × 10^7.
    pub lat_e7: i64,
    /// Longitude × 10^7.
    pub lon_e7: i64,
}

impl Point {
    pub(crate) fn check(&self, field: &str) -> Result<(), Rejection> {
        if !(-900_000_000..=900_000_000).contains(&self.lat_e7)
            || !(-1_800_000_000..=1_800_000_000).contains(&self.lon_e7)
        {
            return Err(Rejection::invalid(
                field,
                "latitude must be within ±90° and longitude within ±180° (units of 1e-7 degree)",
            ));
        }
        Ok(())
    }
}

/// What an incident report says happened. A report is a claim by its reporter, not a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentCategory {
    /// Artillery or rocket fire.
    Shelling,
    /// Small-arms fire.
    Gunfire,
    /// Air strike.
    AirStrike,
    /// Mines or unexploded ordnance.
    Mines,
    /// Passage blocked.
    Blockade,
    /// A convoy was stopped.
    ConvoyStopped,
    /// People detained or held.
    Detention,
    /// Anything else; the description says what.
    Other,
}

/// Register a new actor with their first key. Issued by the admin of the actor's affiliation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorRegister {
    /// New actor id, `<affiliation>/<name>`, e.g. `ua/coord-kyiv`.
    pub actor: String,
    /// The actor's role.
    pub role: Role,
    /// The actor's first public key.
    pub key: String,
    /// The new key's proof of possession ([`crate::envelope::prove_key`]).
    pub key_proof: String,
    /// Display name or function, e.g. "Humanitarian coordinator, Kyiv oblast".
    pub name: String,
}

/// Add another key to an existing actor (rotation: add the new key, then revoke the old).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRegister {
    /// The actor who gets the key.
    pub actor: String,
    /// The new public key.
    pub key: String,
    /// The new key's proof of possession ([`crate::envelope::prove_key`]).
    pub key_proof: String,
}

/// Revoke a key from the moment it is sequenced; with `compromised_since`, also flag what it
/// signed from that instant on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRevoke {
    /// The key to revoke.
    pub key: String,
    /// Why, for the record.
    pub reason: String,
    /// If set, entries signed by this key at or after this instant are flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised_since: Option<String>,
}

/// One recovery holder's vote to replace its party's admin key. When the genesis threshold of
/// holders has voted for the same new key (and the same `compromised_since`), the party's admin
/// keys are revoked and the new key becomes the admin's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRecover {
    /// The new admin public key.
    pub new_key: String,
    /// The new key's proof of possession as `<party>/admin` ([`crate::envelope::prove_key`]).
    pub key_proof: String,
    /// Why, for the record.
    pub reason: String,
    /// If the old admin key was stolen, from when: what it signed from then on is flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised_since: Option<String>,
}

/// Hand the log over to a new log key (the key that signs receipts and checkpoints), issued by
/// the intermediary that runs the server. The entry is committed under the old key; the next
/// checkpoint, at the size just after it, is signed by both keys, and everything after by the
/// new one. A monitor that trusted the old key reads the new one here, covered by a checkpoint
/// it can check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRotateKey {
    /// The new log public key.
    pub new_key: String,
}

/// Report an incident: when, where and how precisely, what, who is accused if anyone, and
/// evidence as salted commitments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentReport {
    /// Client-chosen incident id, `<side>/<name>`, unique in the log.
    pub incident: String,
    /// When it happened (RFC 3339 UTC), or when it began.
    pub occurred_at: String,
    /// When it ended, for an incident known only to a range (a shelling "between 09:00 and
    /// 10:30"). Absent for an instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_until: Option<String>,
    /// Where it happened.
    pub location: Point,
    /// How far the true place may be from `location`, in metres (a phone's fix, a grid square,
    /// "near the bridge"). Absent in reports made before the field existed: such a report is
    /// never "certainly inside" a corridor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<i64>,
    /// What kind of incident.
    pub category: IncidentCategory,
    /// What the reporter says happened.
    pub description: String,
    /// The party the reporter holds responsible, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accused_party: Option<String>,
    /// Evidence, as salted commitments ([`crate::evidence::commitment`]): lowercase hex of
    /// 32 bytes each. Salted so that the accused, who reads the report, cannot test which photo
    /// or video the source holds by hashing candidates; the file and its salt open the
    /// commitment when the reporter uploads them.
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// A new version of one's own report: every field again, as it now stands, with the reason.
/// Nothing is deleted: the earlier versions stay in the record. The accused party cannot
/// change (it decides who reads the report and every entry about it); file a new report and
/// mark the old one as its duplicate instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentCorrect {
    /// The report corrected.
    pub incident: String,
    /// When it happened, or began.
    pub occurred_at: String,
    /// When it ended, for a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_until: Option<String>,
    /// Where.
    pub location: Point,
    /// How precisely, in metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<i64>,
    /// What kind.
    pub category: IncidentCategory,
    /// What the reporter now says happened.
    pub description: String,
    /// Evidence commitments, as now stated.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Why the report changed.
    pub reason: String,
}

/// What the intermediary, having looked, says of a report. A status is the intermediary's
/// judgement with its reasoning beside it, never the log's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerificationStatus {
    /// Not looked at yet, or not possible to check (every report starts here).
    Unverified,
    /// Other sources agree with it.
    Corroborated,
    /// The intermediary established it.
    Verified,
    /// Sources contradict each other.
    Disputed,
    /// The intermediary found it did not happen as reported.
    Unfounded,
}

impl VerificationStatus {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            VerificationStatus::Unverified => "unverified",
            VerificationStatus::Corroborated => "corroborated",
            VerificationStatus::Verified => "verified",
            VerificationStatus::Disputed => "disputed",
            VerificationStatus::Unfounded => "unfounded",
        }
    }
}

/// The intermediary's verification status for a report, with its reasoning. Each is a new
/// record; the last one stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentVerify {
    /// The report.
    pub incident: String,
    /// The status.
    pub status: VerificationStatus,
    /// Why: what was checked and how.
    pub reasoning: String,
}

/// Mark a report as a duplicate of another (the same event reported twice, often by both
/// sides). Both stay in the record; readers see them linked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentDuplicate {
    /// The report that repeats another.
    pub incident: String,
    /// The report it repeats.
    pub duplicate_of: String,
}

/// The accused party's answer, which stands beside the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRespond {
    /// The incident answered.
    pub incident: String,
    /// The answer.
    pub text: String,
}

/// Longest free text in a command, to bound entry size.
pub const MAX_TEXT: usize = 8192;

/// A typed command body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `actor.register`
    ActorRegister(ActorRegister),
    /// `key.register`
    KeyRegister(KeyRegister),
    /// `key.revoke`
    KeyRevoke(KeyRevoke),
    /// `incident.report`
    IncidentReport(IncidentReport),
    /// `incident.respond`
    IncidentRespond(IncidentRespond),
    /// `incident.correct`
    IncidentCorrect(IncidentCorrect),
    /// `incident.verify`
    IncidentVerify(IncidentVerify),
    /// `incident.duplicate`
    IncidentDuplicate(IncidentDuplicate),
    /// `settlement.import`
    SettlementImport(A::SettlementImport),
    /// `corridor.propose`
    CorridorPropose(A::CorridorPropose),
    /// `corridor.amend`
    CorridorAmend(A::CorridorAmend),
    /// `window.propose`
    WindowPropose(A::WindowPropose),
    /// `window.amend`
    WindowAmend(A::WindowAmend),
    /// `window.consent`
    WindowConsent(A::WindowConsent),
    /// `window.withdraw`
    WindowWithdraw(A::WindowPartyAct),
    /// `window.cancel`
    WindowCancel(A::WindowCancel),
    /// `window.suspend`
    WindowSuspend(A::WindowPartyAct),
    /// `window.resume`
    WindowResume(A::WindowConsent),
    /// `declaration.publish`
    DeclarationPublish(A::DeclarationPublish),
    /// `admin.recover`
    AdminRecover(AdminRecover),
    /// `log.rotate_key`
    LogRotateKey(LogRotateKey),
    /// `operation.notify`
    OperationNotify(O::OperationNotify),
    /// `operation.ack`
    OperationAck(O::OperationAck),
    /// `operation.move`
    OperationMove(O::OperationMove),
    /// `operation.receive`
    OperationReceive(O::OperationReceive),
    /// `operation.outcome`
    OperationOutcome(O::OperationOutcome),
    /// `unit.confirm`
    UnitConfirm(U::UnitConfirm),
    /// `thread.open`
    ThreadOpen(C::ThreadOpen),
    /// `message.send`
    MessageSend(C::MessageSend),
    /// `message.ack`
    MessageAck(C::MessageAck),
    /// `round.record`
    RoundRecord(N::RoundRecord),
    /// `round.conclude`
    RoundConclude(N::RoundConclude),
    /// `point.propose`
    PointPropose(N::PointPropose),
    /// `point.revise`
    PointRevise(N::PointRevise),
    /// `point.position`
    PointPosition(N::PointPosition),
    /// `point.status`
    PointStatus(N::PointStatusSet),
    /// `point.link`
    PointLink(N::PointLink),
    /// `document.draft`
    DocumentDraft(N::DocumentDraft),
    /// `document.revise`
    DocumentRevise(N::DocumentDraft),
    /// `document.sign`
    DocumentSign(N::DocumentAct),
    /// `document.publish`
    DocumentPublish(N::DocumentAct),
}

/// Every command type this version knows, for error messages and docs.
pub const COMMAND_TYPES: &[&str] = &[
    "actor.register",
    "key.register",
    "key.revoke",
    "incident.report",
    "incident.respond",
    "incident.correct",
    "incident.verify",
    "incident.duplicate",
    "settlement.import",
    "corridor.propose",
    "corridor.amend",
    "window.propose",
    "window.amend",
    "window.consent",
    "window.withdraw",
    "window.cancel",
    "window.suspend",
    "window.resume",
    "declaration.publish",
    "admin.recover",
    "log.rotate_key",
    "operation.notify",
    "operation.ack",
    "operation.move",
    "operation.receive",
    "operation.outcome",
    "unit.confirm",
    "thread.open",
    "message.send",
    "message.ack",
    "round.record",
    "round.conclude",
    "point.propose",
    "point.revise",
    "point.position",
    "point.status",
    "point.link",
    "document.draft",
    "document.revise",
    "document.sign",
    "document.publish",
];

impl Body {
    /// The command type, also the entry type in the log.
    pub fn type_name(&self) -> &'static str {
        match self {
            Body::ActorRegister(_) => "actor.register",
            Body::KeyRegister(_) => "key.register",
            Body::KeyRevoke(_) => "key.revoke",
            Body::IncidentReport(_) => "incident.report",
            Body::IncidentRespond(_) => "incident.respond",
            Body::IncidentCorrect(_) => "incident.correct",
            Body::IncidentVerify(_) => "incident.verify",
            Body::IncidentDuplicate(_) => "incident.duplicate",
            Body::SettlementImport(_) => "settlement.import",
            Body::CorridorPropose(_) => "corridor.propose",
            Body::CorridorAmend(_) => "corridor.amend",
            Body::WindowPropose(_) => "window.propose",
            Body::WindowAmend(_) => "window.amend",
            Body::WindowConsent(_) => "window.consent",
            Body::WindowWithdraw(_) => "window.withdraw",
            Body::WindowCancel(_) => "window.cancel",
            Body::WindowSuspend(_) => "window.suspend",
            Body::WindowResume(_) => "window.resume",
            Body::DeclarationPublish(_) => "declaration.publish",
            Body::AdminRecover(_) => "admin.recover",
            Body::LogRotateKey(_) => "log.rotate_key",
            Body::OperationNotify(_) => "operation.notify",
            Body::OperationAck(_) => "operation.ack",
            Body::OperationMove(_) => "operation.move",
            Body::OperationReceive(_) => "operation.receive",
            Body::OperationOutcome(_) => "operation.outcome",
            Body::UnitConfirm(_) => "unit.confirm",
            Body::ThreadOpen(_) => "thread.open",
            Body::MessageSend(_) => "message.send",
            Body::MessageAck(_) => "message.ack",
            Body::RoundRecord(_) => "round.record",
            Body::RoundConclude(_) => "round.conclude",
            Body::PointPropose(_) => "point.propose",
            Body::PointRevise(_) => "point.revise",
            Body::PointPosition(_) => "point.position",
            Body::PointStatus(_) => "point.status",
            Body::PointLink(_) => "point.link",
            Body::DocumentDraft(_) => "document.draft",
            Body::DocumentRevise(_) => "document.revise",
            Body::DocumentSign(_) => "document.sign",
            Body::DocumentPublish(_) => "document.publish",
        }
    }

    /// Type the `body` object, telling apart an unknown type, a missing field and a bad value.
    pub fn from_value(value: Value) -> Result<Self, Rejection> {
        let mut m = into_object(value, "command.body")?;
        let ty = match take(&mut m, "command.body", "type")? {
            Value::String(s) => s,
            _ => return Err(Rejection::invalid("command.body.type", "must be a string")),
        };
        let rest = Value::Object(m);
        let body = match ty.as_str() {
            "actor.register" => Body::ActorRegister(typed(rest)?),
            "key.register" => Body::KeyRegister(typed(rest)?),
            "key.revoke" => Body::KeyRevoke(typed(rest)?),
            "incident.report" => Body::IncidentReport(typed(rest)?),
            "incident.respond" => Body::IncidentRespond(typed(rest)?),
            "incident.correct" => Body::IncidentCorrect(typed(rest)?),
            "incident.verify" => Body::IncidentVerify(typed(rest)?),
            "incident.duplicate" => Body::IncidentDuplicate(typed(rest)?),
            "settlement.import" => Body::SettlementImport(typed(rest)?),
            "corridor.propose" => Body::CorridorPropose(typed(rest)?),
            "corridor.amend" => Body::CorridorAmend(typed(rest)?),
            "window.propose" => Body::WindowPropose(typed(rest)?),
            "window.amend" => Body::WindowAmend(typed(rest)?),
            "window.consent" => Body::WindowConsent(typed(rest)?),
            "window.withdraw" => Body::WindowWithdraw(typed(rest)?),
            "window.cancel" => Body::WindowCancel(typed(rest)?),
            "window.suspend" => Body::WindowSuspend(typed(rest)?),
            "window.resume" => Body::WindowResume(typed(rest)?),
            "declaration.publish" => Body::DeclarationPublish(typed(rest)?),
            "admin.recover" => Body::AdminRecover(typed(rest)?),
            "log.rotate_key" => Body::LogRotateKey(typed(rest)?),
            "operation.notify" => Body::OperationNotify(typed(rest)?),
            "operation.ack" => Body::OperationAck(typed(rest)?),
            "operation.move" => Body::OperationMove(typed(rest)?),
            "operation.receive" => Body::OperationReceive(typed(rest)?),
            "operation.outcome" => Body::OperationOutcome(typed(rest)?),
            "unit.confirm" => Body::UnitConfirm(typed(rest)?),
            "thread.open" => Body::ThreadOpen(typed(rest)?),
            "message.send" => Body::MessageSend(typed(rest)?),
            "message.ack" => Body::MessageAck(typed(rest)?),
            "round.record" => Body::RoundRecord(typed(rest)?),
            "round.conclude" => Body::RoundConclude(typed(rest)?),
            "point.propose" => Body::PointPropose(typed(rest)?),
            "point.revise" => Body::PointRevise(typed(rest)?),
            "point.position" => Body::PointPosition(typed(rest)?),
            "point.status" => Body::PointStatus(typed(rest)?),
            "point.link" => Body::PointLink(typed(rest)?),
            "document.draft" => Body::DocumentDraft(typed(rest)?),
            "document.revise" => Body::DocumentRevise(typed(rest)?),
            "document.sign" => Body::DocumentSign(typed(rest)?),
            "document.publish" => Body::DocumentPublish(typed(rest)?),
            _ => return Err(Rejection::UnknownCommandType(ty)),
        };
        body.check_ids()?;
        body.check_shape()?;
        Ok(body)
    }

    /// The body as JSON, with its `type`.
    pub fn to_value(&self) -> Value {
        let mut v = match self {
            Body::ActorRegister(b) => serde_json::to_value(b),
            Body::KeyRegister(b) => serde_json::to_value(b),
            Body::KeyRevoke(b) => serde_json::to_value(b),
            Body::IncidentReport(b) => serde_json::to_value(b),
            Body::IncidentRespond(b) => serde_json::to_value(b),
            Body::IncidentCorrect(b) => serde_json::to_value(b),
            Body::IncidentVerify(b) => serde_json::to_value(b),
            Body::IncidentDuplicate(b) => serde_json::to_value(b),
            Body::SettlementImport(b) => serde_json::to_value(b),
            Body::CorridorPropose(b) => serde_json::to_value(b),
            Body::CorridorAmend(b) => serde_json::to_value(b),
            Body::WindowPropose(b) => serde_json::to_value(b),
            Body::WindowAmend(b) => serde_json::to_value(b),
            Body::WindowConsent(b) | Body::WindowResume(b) => serde_json::to_value(b),
            Body::WindowWithdraw(b) | Body::WindowSuspend(b) => serde_json::to_value(b),
            Body::WindowCancel(b) => serde_json::to_value(b),
            Body::DeclarationPublish(b) => serde_json::to_value(b),
            Body::AdminRecover(b) => serde_json::to_value(b),
            Body::LogRotateKey(b) => serde_json::to_value(b),
            Body::OperationNotify(b) => serde_json::to_value(b),
            Body::OperationAck(b) => serde_json::to_value(b),
            Body::OperationMove(b) => serde_json::to_value(b),
            Body::OperationReceive(b) => serde_json::to_value(b),
            Body::OperationOutcome(b) => serde_json::to_value(b),
            Body::UnitConfirm(b) => serde_json::to_value(b),
            Body::ThreadOpen(b) => serde_json::to_value(b),
            Body::MessageSend(b) => serde_json::to_value(b),
            Body::MessageAck(b) => serde_json::to_value(b),
            Body::RoundRecord(b) => serde_json::to_value(b),
            Body::RoundConclude(b) => serde_json::to_value(b),
            Body::PointPropose(b) => serde_json::to_value(b),
            Body::PointRevise(b) => serde_json::to_value(b),
            Body::PointPosition(b) => serde_json::to_value(b),
            Body::PointStatus(b) => serde_json::to_value(b),
            Body::PointLink(b) => serde_json::to_value(b),
            Body::DocumentDraft(b) | Body::DocumentRevise(b) => serde_json::to_value(b),
            Body::DocumentSign(b) | Body::DocumentPublish(b) => serde_json::to_value(b),
        }
        .expect("command bodies always serialize");
        let ty = self.type_name();
        if let Value::Object(m) = &mut v {
            m.insert("type".into(), Value::String(ty.into()));
        }
        v
    }

    /// Every identifier the body names follows the one grammar ([`crate::ids`]).
    fn check_ids(&self) -> Result<(), Rejection> {
        use crate::ids::{check_actor_id, check_id};
        let window_and_party = |window: &str, party: &str| {
            check_id("command.body.window", window)?;
            check_id("command.body.party", party)
        };
        match self {
            Body::ActorRegister(b) => check_actor_id("command.body.actor", &b.actor),
            Body::KeyRegister(b) => check_actor_id("command.body.actor", &b.actor),
            Body::IncidentReport(b) => check_id("command.body.incident", &b.incident),
            Body::IncidentRespond(b) => check_id("command.body.incident", &b.incident),
            Body::IncidentCorrect(b) => check_id("command.body.incident", &b.incident),
            Body::IncidentVerify(b) => check_id("command.body.incident", &b.incident),
            Body::IncidentDuplicate(b) => {
                check_id("command.body.incident", &b.incident)?;
                check_id("command.body.duplicate_of", &b.duplicate_of)
            }
            Body::SettlementImport(b) => b.settlements.iter().enumerate().try_for_each(|(i, s)| {
                check_id(&format!("command.body.settlements[{i}].id"), &s.id)
            }),
            Body::CorridorPropose(b) => check_id("command.body.corridor", &b.corridor),
            Body::CorridorAmend(b) => check_id("command.body.corridor", &b.corridor),
            Body::WindowPropose(b) => {
                check_id("command.body.window", &b.window)?;
                check_id("command.body.corridor", &b.corridor)
            }
            Body::WindowAmend(b) => check_id("command.body.window", &b.window),
            Body::WindowConsent(b) | Body::WindowResume(b) => window_and_party(&b.window, &b.party),
            Body::WindowWithdraw(b) | Body::WindowSuspend(b) => {
                window_and_party(&b.window, &b.party)
            }
            Body::WindowCancel(b) => check_id("command.body.window", &b.window),
            Body::DeclarationPublish(b) => {
                check_id("command.body.declaration", &b.declaration)?;
                b.corridor
                    .as_deref()
                    .map_or(Ok(()), |c| check_id("command.body.corridor", c))
            }
            Body::KeyRevoke(_) | Body::AdminRecover(_) | Body::LogRotateKey(_) => Ok(()),
            Body::OperationNotify(b) => {
                check_id("command.body.operation", &b.operation)?;
                check_id("command.body.window", &b.window)
            }
            Body::OperationAck(b) => {
                check_id("command.body.operation", &b.operation)?;
                check_id("command.body.party", &b.party)
            }
            Body::OperationMove(b) => check_id("command.body.operation", &b.operation),
            Body::OperationReceive(b) => check_id("command.body.operation", &b.operation),
            Body::OperationOutcome(b) => check_id("command.body.operation", &b.operation),
            Body::UnitConfirm(b) => check_id("command.body.window", &b.window),
            Body::ThreadOpen(b) => {
                check_id("command.body.thread", &b.thread)?;
                for (i, p) in b.participants.iter().enumerate() {
                    check_id(&format!("command.body.participants[{i}]"), p)?;
                }
                let about = [("corridor", &b.corridor), ("operation", &b.operation)];
                about.iter().try_for_each(|(f, v)| {
                    v.as_deref()
                        .map_or(Ok(()), |v| check_id(&format!("command.body.{f}"), v))
                })
            }
            Body::MessageSend(b) => {
                check_id("command.body.thread", &b.thread)?;
                check_id("command.body.message", &b.message)?;
                for (i, p) in b.ack_required.iter().enumerate() {
                    check_id(&format!("command.body.ack_required[{i}]"), p)?;
                }
                Ok(())
            }
            Body::MessageAck(b) => {
                check_id("command.body.thread", &b.thread)?;
                check_id("command.body.message", &b.message)
            }
            Body::RoundRecord(b) => {
                check_id("command.body.round", &b.round)?;
                b.delegations
                    .keys()
                    .try_for_each(|p| check_id("command.body.delegations", p))
            }
            Body::RoundConclude(b) => check_id("command.body.round", &b.round),
            Body::PointPropose(b) => {
                check_id("command.body.point", &b.point)?;
                check_id("command.body.round", &b.round)
            }
            Body::PointRevise(b) => {
                check_id("command.body.point", &b.point)?;
                check_id("command.body.round", &b.round)
            }
            Body::PointPosition(b) => {
                check_id("command.body.point", &b.point)?;
                check_id("command.body.round", &b.round)?;
                check_id("command.body.party", &b.party)
            }
            Body::PointStatus(b) => {
                check_id("command.body.point", &b.point)?;
                check_id("command.body.round", &b.round)
            }
            Body::PointLink(b) => {
                check_id("command.body.point", &b.point)?;
                for (i, c) in b.corridors.iter().enumerate() {
                    check_id(&format!("command.body.corridors[{i}]"), c)?;
                }
                for (i, w) in b.windows.iter().enumerate() {
                    check_id(&format!("command.body.windows[{i}]"), w)?;
                }
                Ok(())
            }
            Body::DocumentDraft(b) | Body::DocumentRevise(b) => {
                check_id("command.body.document", &b.document)?;
                for (i, p) in b.points.iter().enumerate() {
                    check_id(&format!("command.body.points[{i}]"), p)?;
                }
                Ok(())
            }
            Body::DocumentSign(b) | Body::DocumentPublish(b) => {
                check_id("command.body.document", &b.document)?;
                check_id("command.body.party", &b.party)
            }
        }
    }

    fn check_shape(&self) -> Result<(), Rejection> {
        match self {
            Body::ActorRegister(b) => {
                text("command.body.name", &b.name)?;
                text("command.body.actor", &b.actor)
            }
            Body::KeyRegister(_) => Ok(()),
            Body::KeyRevoke(b) => {
                text("command.body.reason", &b.reason)?;
                if let Some(t) = &b.compromised_since {
                    crate::time::parse_utc("command.body.compromised_since", t)?;
                }
                Ok(())
            }
            Body::IncidentReport(b) => {
                text("command.body.incident", &b.incident)?;
                text("command.body.description", &b.description)?;
                crate::incident::check_claim(&crate::incident::Claim::of_report(b))
            }
            Body::IncidentCorrect(b) => {
                text("command.body.description", &b.description)?;
                text("command.body.reason", &b.reason)?;
                crate::incident::check_claim(&crate::incident::Claim::of_correction(b))
            }
            Body::IncidentVerify(b) => text("command.body.reasoning", &b.reasoning),
            Body::IncidentDuplicate(_) => Ok(()),
            Body::IncidentRespond(b) => text("command.body.text", &b.text),
            Body::WindowWithdraw(b) | Body::WindowSuspend(b) => {
                text("command.body.reason", &b.reason)
            }
            Body::WindowCancel(b) => text("command.body.reason", &b.reason),
            Body::AdminRecover(b) => {
                text("command.body.reason", &b.reason)?;
                if let Some(t) = &b.compromised_since {
                    crate::time::parse_utc("command.body.compromised_since", t)?;
                }
                Ok(())
            }
            Body::OperationNotify(b) => b.check_shape(),
            Body::OperationMove(b) => b.check_shape(),
            Body::OperationReceive(b) => b.check_shape(),
            _ => Ok(()),
        }
    }
}

fn text(field: &str, s: &str) -> Result<(), Rejection> {
    text_within(field, s, MAX_TEXT)
}

/// Free text must say something and stay within `max` bytes (short fields such as a plate
/// have their own limit).
pub(crate) fn text_within(field: &str, s: &str, max: usize) -> Result<(), Rejection> {
    if s.trim().is_empty() || s.len() > max {
        return Err(Rejection::invalid(
            field,
            format!("must be non-empty text of at most {max} bytes"),
        ));
    }
    Ok(())
}

fn typed<T: DeserializeOwned>(v: Value) -> Result<T, Rejection> {
    serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        // serde's message for an absent field is "missing field `name`".
        if let Some(rest) = msg.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or(rest);
            Rejection::MissingField(format!("command.body.{name}"))
        } else {
            Rejection::invalid("command.body", msg)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_round_trips_through_json() {
        let v = json!({"type":"incident.report","incident":"i1","occurred_at":"2022-03-05T08:00:00Z",
            "location":{"lat_e7":506451000,"lon_e7":299220000},"category":"shelling",
            "description":"shelling near the gathering point","accused_party":"ru","evidence":[]});
        let b = Body::from_value(v.clone()).unwrap();
        assert_eq!(b.type_name(), "incident.report");
        assert_eq!(b.to_value(), v);
    }

    #[test]
    fn shape_errors() {
        let bad_point = json!({"type":"incident.report","incident":"i1","occurred_at":"2022-03-05T08:00:00Z",
            "location":{"lat_e7":950000000,"lon_e7":0},"category":"shelling","description":"x"});
        assert_eq!(
            Body::from_value(bad_point).unwrap_err().code(),
            "incident-location-out-of-range"
        );
        let bad_cat = json!({"type":"incident.report","incident":"i1","occurred_at":"2022-03-05T08:00:00Z",
            "location":{"lat_e7":0,"lon_e7":0},"category":"rumour","description":"x"});
        assert_eq!(
            Body::from_value(bad_cat).unwrap_err().code(),
            "invalid-field"
        );
        let extra = json!({"type":"incident.respond","incident":"i1","text":"no","extra":1});
        assert_eq!(Body::from_value(extra).unwrap_err().code(), "invalid-field");
    }
}

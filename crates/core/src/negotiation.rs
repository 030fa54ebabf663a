//! The negotiation register: rounds of talks, agenda points in three baskets with each party's
//! position point by point, and documents for signing.
//!
//! In February and March 2022 the delegations met in rounds and said their positions were
//! "written down point by point" in three baskets (military, humanitarian, a future political
//! settlement), with "mutual understanding" on some points and the aim of "documents for
//! signing". The humanitarian corridors were the first agreed point. Here that record is kept
//! on the log like everything else, so no delegation can later deny what it put on the table:
//!
//! - a **round** has a date and time as stated in a zone, a venue, a format, the delegations,
//!   an outcome and a communiqué in uk/ru/en (each marked original or translation); rounds are
//!   recorded in order;
//! - an **agenda point** has a versioned text; every change is a new version naming who changed
//!   it and in which round; each party's **position** is recorded by that party's own people
//!   against one exact version; its **status** (open, mutual understanding, agreed text,
//!   rejected, deferred) changes in a round, and "agreed text" needs every party to have
//!   accepted the current version;
//! - a **document** assembles agreed points into one text, names the language whose text binds,
//!   and is signed by each party's signatory over the hash of the exact version; a new version
//!   voids the signatures (as a new window version voids consents). The parties may jointly
//!   publish a document every party signed.
//!
//! The register is confidential to the parties and the intermediary: entries and records are
//! read by them alone, except a document all parties published.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Rejection;
use crate::agreement::{Agreements, Ctx, LocalText};
use crate::crypto::{b64, sha256};
use crate::genesis::Names;
use crate::time::{format_log_time, parse_utc};

/// The languages texts are kept in.
pub const LANGUAGES: [&str; 3] = ["uk", "ru", "en"];

/// Longest text of a point or a document, in bytes.
pub const MAX_REGISTER_TEXT: usize = 64 * 1024;

/// The three baskets of the talks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basket {
    /// Ceasefire, withdrawal, the military questions.
    Military,
    /// Corridors, evacuations, aid, prisoners.
    Humanitarian,
    /// A future political settlement.
    Political,
}

impl Basket {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Basket::Military => "military",
            Basket::Humanitarian => "humanitarian",
            Basket::Political => "political",
        }
    }
}

/// How a round met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoundFormat {
    /// The delegations in one room.
    InPerson,
    /// By video link.
    Video,
}

/// A point's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PointStatus {
    /// Under discussion.
    Open,
    /// The parties understand each other on it; no agreed text yet.
    MutualUnderstanding,
    /// Every party accepted the current text: it may go into a document.
    AgreedText,
    /// Rejected.
    Rejected,
    /// Put off to a later round.
    Deferred,
}

impl PointStatus {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PointStatus::Open => "open",
            PointStatus::MutualUnderstanding => "mutual-understanding",
            PointStatus::AgreedText => "agreed-text",
            PointStatus::Rejected => "rejected",
            PointStatus::Deferred => "deferred",
        }
    }

    /// Parse an API name.
    pub fn parse(s: &str) -> Option<PointStatus> {
        [
            PointStatus::Open,
            PointStatus::MutualUnderstanding,
            PointStatus::AgreedText,
            PointStatus::Rejected,
            PointStatus::Deferred,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// What a party says of a version of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stance {
    /// It accepts this text.
    Accepts,
    /// It accepts with reservations, stated in the position's text (not yet agreement).
    Reserves,
    /// It rejects this text.
    Rejects,
}

/// One member of a delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegate {
    /// Name as the delegation gave it.
    pub name: String,
    /// Role in the delegation (head, member, expert...).
    pub role: String,
}

/// A communiqué in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Communique {
    /// `uk`, `ru` or `en`.
    pub lang: String,
    /// The text.
    pub text: String,
    /// True for the original, false for a translation: a reader must know which text was
    /// issued and which was rendered from it.
    pub original: bool,
}

/// `round.record`: a round of talks, scheduled or held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundRecord {
    /// New round id.
    pub round: String,
    /// Its number in the talks (1, 2, ...).
    pub number: u32,
    /// When it starts, UTC (RFC 3339).
    pub starts: String,
    /// The start as announced, in the zone it was announced in (e.g. 17:50 Moscow time).
    pub starts_local: LocalText,
    /// Where.
    pub venue: Names,
    /// In person or by video.
    pub format: RoundFormat,
    /// Each party's delegation, by party id.
    pub delegations: BTreeMap<String, Vec<Delegate>>,
    /// What came of it, once held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The communiqué, in one or more languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communique: Vec<Communique>,
}

/// `round.conclude`: the outcome and communiqué of a round recorded before it was held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundConclude {
    /// The round.
    pub round: String,
    /// What came of it.
    pub outcome: String,
    /// The communiqué.
    #[serde(default)]
    pub communique: Vec<Communique>,
}

/// `point.propose`: a new agenda point, its first version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointPropose {
    /// New point id (e.g. `h-1`).
    pub point: String,
    /// Its basket.
    pub basket: Basket,
    /// The round it is put forward in.
    pub round: String,
    /// Its text by language (at least one of uk, ru, en).
    pub text: BTreeMap<String, String>,
}

/// `point.revise`: a new version of a point's text. Its status goes back to open: an agreement
/// on the old text is not one on the new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointRevise {
    /// The point.
    pub point: String,
    /// The version this revises (must be the latest).
    pub base_version: u32,
    /// The round it is revised in.
    pub round: String,
    /// The new text by language.
    pub text: BTreeMap<String, String>,
}

/// `point.position`: a party's position on one version of a point, recorded by its own people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointPosition {
    /// The point.
    pub point: String,
    /// The version (must be the latest).
    pub version: u32,
    /// The party whose position it is (the actor's own).
    pub party: String,
    /// The round it is stated in.
    pub round: String,
    /// Accepts, reserves or rejects.
    pub stance: Stance,
    /// The position in the party's words.
    pub text: String,
}

/// `point.status`: a point's status changes, in a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointStatusSet {
    /// The point.
    pub point: String,
    /// The version it is about (must be the latest).
    pub version: u32,
    /// The round.
    pub round: String,
    /// The new status.
    pub status: PointStatus,
}

/// `point.link`: an agreed humanitarian point is implemented by these corridors and windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointLink {
    /// The point.
    pub point: String,
    /// Corridors that implement it.
    #[serde(default)]
    pub corridors: Vec<String>,
    /// Windows that implement it.
    #[serde(default)]
    pub windows: Vec<String>,
}

/// `document.draft` (a new document) and `document.revise` (a new version of one, voiding its
/// signatures): agreed points assembled into one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentDraft {
    /// The document id.
    pub document: String,
    /// For a revision: the version it revises (must be the latest); absent for a new document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<u32>,
    /// Its title by language.
    pub title: BTreeMap<String, String>,
    /// The agreed points it includes, in order.
    pub points: Vec<String>,
    /// The language whose text binds if the texts differ.
    pub binding_language: String,
    /// Its text by language; the binding language's is required.
    pub text: BTreeMap<String, String>,
}

/// `document.sign` (a party's signatory signs the exact version) and `document.publish` (a
/// party agrees to publish the signed document; published once every party did).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentAct {
    /// The document.
    pub document: String,
    /// The party (the actor's own).
    pub party: String,
    /// The hash of the version signed or published (must be the latest's).
    pub version_hash: String,
}

// ---------------------------------------------------------------- records

/// When and by whom something was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The actor.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// A round as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// Id.
    pub id: String,
    /// Number.
    pub number: u32,
    /// Start, UTC.
    pub starts: String,
    /// Start as announced.
    pub starts_local: LocalText,
    /// Venue.
    pub venue: Names,
    /// Format.
    pub format: RoundFormat,
    /// Delegations.
    pub delegations: BTreeMap<String, Vec<Delegate>>,
    /// Outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Communiqué.
    #[serde(default)]
    pub communique: Vec<Communique>,
    /// Recorded.
    pub recorded: Stamp,
    /// Concluded (outcome recorded afterwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concluded: Option<Stamp>,
}

/// One version of a point's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointVersion {
    /// 1, 2, ...
    pub version: u32,
    /// The text by language.
    pub text: BTreeMap<String, String>,
    /// What documents and positions bind to.
    pub hash: String,
    /// The round it was put forward in.
    pub round: String,
    /// Who wrote it, when.
    pub by: Stamp,
}

/// A party's position, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The version it is on.
    pub version: u32,
    /// The round.
    pub round: String,
    /// Accepts, reserves, rejects.
    pub stance: Stance,
    /// In the party's words.
    pub text: String,
    /// Who recorded it, when.
    pub by: Stamp,
}

/// A status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The version it was about.
    pub version: u32,
    /// The round.
    pub round: String,
    /// The status.
    pub status: PointStatus,
    /// Who, when.
    pub by: Stamp,
}

/// An agenda point with its whole history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// Id.
    pub id: String,
    /// Basket.
    pub basket: Basket,
    /// Versions, oldest first.
    pub versions: Vec<PointVersion>,
    /// Positions by party, in log order (on any version).
    pub positions: BTreeMap<String, Vec<Position>>,
    /// The current status.
    pub status: PointStatus,
    /// Every status change, in log order (a revision back to open included).
    pub statuses: Vec<StatusChange>,
    /// Corridors that implement it.
    #[serde(default)]
    pub corridors: BTreeSet<String>,
    /// Windows that implement it.
    #[serde(default)]
    pub windows: BTreeSet<String>,
}

impl Point {
    /// The current version.
    pub fn latest(&self) -> &PointVersion {
        self.versions.last().expect("a point has a first version")
    }

    /// Each party's latest position on the current version.
    pub fn current_positions(&self) -> BTreeMap<&str, &Position> {
        let v = self.latest().version;
        self.positions
            .iter()
            .filter_map(|(p, list)| {
                list.iter()
                    .rev()
                    .find(|x| x.version == v)
                    .map(|x| (p.as_str(), x))
            })
            .collect()
    }
}

/// A point as a document includes it: the exact version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncludedPoint {
    /// The point.
    pub point: String,
    /// Its version.
    pub version: u32,
    /// That version's hash.
    pub hash: String,
}

/// One version of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentVersion {
    /// 1, 2, ...
    pub version: u32,
    /// Title by language.
    pub title: BTreeMap<String, String>,
    /// The points, each at its exact version.
    pub points: Vec<IncludedPoint>,
    /// The binding language.
    pub binding_language: String,
    /// Text by language.
    pub text: BTreeMap<String, String>,
    /// What signatories sign.
    pub hash: String,
    /// Who drafted it, when.
    pub by: Stamp,
}

/// A signature or a publication consent by a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartySeal {
    /// The version.
    pub version: u32,
    /// Its hash.
    pub hash: String,
    /// Who, when (the entry index is the signed command to put in a bundle).
    pub by: Stamp,
}

/// A document for signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Id.
    pub id: String,
    /// Versions, oldest first.
    pub versions: Vec<DocumentVersion>,
    /// Signatures on the current version, by party.
    pub signatures: BTreeMap<String, PartySeal>,
    /// Signatures a later version voided, in log order.
    #[serde(default)]
    pub voided: Vec<PartySeal>,
    /// Parties that agreed to publish the current version.
    #[serde(default)]
    pub publication: BTreeMap<String, PartySeal>,
    /// Whether every party signed the current version.
    pub signed_by_all: bool,
    /// Whether every party agreed to publish it: then the public reads it.
    pub published: bool,
}

impl Document {
    /// The current version.
    pub fn latest(&self) -> &DocumentVersion {
        self.versions
            .last()
            .expect("a document has a first version")
    }
}

/// Everything of the register.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Register {
    /// Rounds by id.
    pub rounds: BTreeMap<String, Round>,
    /// Points by id.
    pub points: BTreeMap<String, Point>,
    /// Documents by id.
    pub documents: BTreeMap<String, Document>,
}

/// The hash a position, a status or a document binds to: the point, its version, basket and
/// text, as canonical JSON.
pub fn point_hash(
    point: &str,
    version: u32,
    basket: Basket,
    text: &BTreeMap<String, String>,
) -> String {
    let doc = serde_json::json!({
        "point": point, "version": version, "basket": basket, "text": text,
    });
    b64(&sha256(&[&corridor_jcs::canonicalize(&doc)]))
}

/// The hash signatories sign: everything of the version, each point by its version hash.
pub fn document_hash(id: &str, v: &DocumentVersion) -> String {
    let doc = serde_json::json!({
        "document": id, "version": v.version, "title": v.title, "points": v.points,
        "binding_language": v.binding_language, "text": v.text,
    });
    b64(&sha256(&[&corridor_jcs::canonicalize(&doc)]))
}

fn stamp(ctx: &Ctx<'_>) -> Stamp {
    Stamp {
        actor: ctx.actor.to_string(),
        at_index: ctx.index,
        at_time: format_log_time(ctx.time),
    }
}

fn texts(field: &str, t: &BTreeMap<String, String>, max: usize) -> Result<(), Rejection> {
    if t.is_empty() {
        return Err(Rejection::invalid(
            field,
            "give the text in at least one of uk, ru, en",
        ));
    }
    for (lang, s) in t {
        if !LANGUAGES.contains(&lang.as_str()) {
            return Err(Rejection::invalid(
                format!("{field}.{lang}"),
                "languages are uk, ru and en",
            ));
        }
        crate::command::text_within(&format!("{field}.{lang}"), s, max)?;
    }
    Ok(())
}

/// A position is its party's own word: recorded by that party's people only, never by the
/// other party or the intermediary (its own problem code, since a forged position is the one
/// lie the register exists to prevent).
fn own_position(ctx: &Ctx<'_>, party: &str) -> Result<(), Rejection> {
    if ctx.party != Some(party) {
        return Err(Rejection::rule(
            "position-other-party",
            format!(
                "{} may not record a position for {party:?}: only a party's own people record its positions",
                ctx.actor
            ),
        ));
    }
    Ok(())
}

impl Register {
    fn round(&self, id: &str) -> Result<&Round, Rejection> {
        self.rounds
            .get(id)
            .ok_or_else(|| Rejection::rule("unknown-round", format!("no round {id:?} is recorded")))
    }

    fn point_mut(&mut self, id: &str) -> Result<&mut Point, Rejection> {
        self.points
            .get_mut(id)
            .ok_or_else(|| Rejection::rule("unknown-point", format!("no agenda point {id:?}")))
    }

    /// `round.record`.
    pub fn record_round(&mut self, ctx: &Ctx<'_>, b: &RoundRecord) -> Result<String, Rejection> {
        if self.rounds.contains_key(&b.round) {
            return Err(Rejection::rule(
                "round-exists",
                format!("round {:?} is already recorded", b.round),
            ));
        }
        let starts = parse_utc("command.body.starts", &b.starts)?;
        if !ctx.recorded {
            crate::localtime::check_stated(&b.starts_local.local, &b.starts_local.zone, starts)?;
        }
        // Rounds are recorded in order: a round before the latest one is a mistake in the
        // date, or an attempt to slip a round into a history the other side already read.
        if let Some(last) = self
            .rounds
            .values()
            .max_by_key(|r| (r.starts.clone(), r.number))
        {
            let last_t = parse_utc("starts", &last.starts)?;
            if starts <= last_t || b.number <= last.number {
                return Err(Rejection::rule(
                    "round-out-of-order",
                    format!(
                        "round {} at {} would come before round {} ({}, {}): rounds are recorded in order",
                        b.number, b.starts, last.number, last.id, last.starts
                    ),
                ));
            }
        }
        if b.delegations.is_empty() {
            return Err(Rejection::invalid(
                "command.body.delegations",
                "name at least one party's delegation",
            ));
        }
        for (party, members) in &b.delegations {
            if !ctx.genesis.parties.iter().any(|p| &p.id == party) {
                return Err(Rejection::rule(
                    "unknown-party",
                    format!("{party:?} is not a party to this log"),
                ));
            }
            if members.is_empty() {
                return Err(Rejection::invalid(
                    format!("command.body.delegations.{party}"),
                    "a delegation has at least one member",
                ));
            }
            for (i, m) in members.iter().enumerate() {
                let f = format!("command.body.delegations.{party}[{i}]");
                crate::command::text_within(&format!("{f}.name"), &m.name, 200)?;
                crate::command::text_within(&format!("{f}.role"), &m.role, 200)?;
            }
        }
        if let Some(o) = &b.outcome {
            crate::command::text_within("command.body.outcome", o, MAX_REGISTER_TEXT)?;
        }
        check_communique(&b.communique)?;
        self.rounds.insert(
            b.round.clone(),
            Round {
                id: b.round.clone(),
                number: b.number,
                starts: b.starts.clone(),
                starts_local: b.starts_local.clone(),
                venue: b.venue.clone(),
                format: b.format,
                delegations: b.delegations.clone(),
                outcome: b.outcome.clone(),
                communique: b.communique.clone(),
                recorded: stamp(ctx),
                concluded: None,
            },
        );
        Ok(b.round.clone())
    }

    /// `round.conclude`.
    pub fn conclude_round(
        &mut self,
        ctx: &Ctx<'_>,
        b: &RoundConclude,
    ) -> Result<String, Rejection> {
        let r = self.round(&b.round)?;
        if r.outcome.is_some() {
            return Err(Rejection::rule(
                "round-concluded",
                format!("round {:?} already has its outcome", b.round),
            ));
        }
        crate::command::text_within("command.body.outcome", &b.outcome, MAX_REGISTER_TEXT)?;
        check_communique(&b.communique)?;
        let r = self.rounds.get_mut(&b.round).expect("checked");
        r.outcome = Some(b.outcome.clone());
        r.communique = b.communique.clone();
        r.concluded = Some(stamp(ctx));
        Ok(b.round.clone())
    }

    /// `point.propose`.
    pub fn propose_point(&mut self, ctx: &Ctx<'_>, b: &PointPropose) -> Result<String, Rejection> {
        if self.points.contains_key(&b.point) {
            return Err(Rejection::rule(
                "point-exists",
                format!("agenda point {:?} already exists", b.point),
            ));
        }
        self.round(&b.round)?;
        texts("command.body.text", &b.text, MAX_REGISTER_TEXT)?;
        let hash = point_hash(&b.point, 1, b.basket, &b.text);
        self.points.insert(
            b.point.clone(),
            Point {
                id: b.point.clone(),
                basket: b.basket,
                versions: vec![PointVersion {
                    version: 1,
                    text: b.text.clone(),
                    hash,
                    round: b.round.clone(),
                    by: stamp(ctx),
                }],
                positions: BTreeMap::new(),
                status: PointStatus::Open,
                statuses: vec![],
                corridors: BTreeSet::new(),
                windows: BTreeSet::new(),
            },
        );
        Ok(b.point.clone())
    }

    /// `point.revise`.
    pub fn revise_point(&mut self, ctx: &Ctx<'_>, b: &PointRevise) -> Result<String, Rejection> {
        self.round(&b.round)?;
        texts("command.body.text", &b.text, MAX_REGISTER_TEXT)?;
        let p = self.point_mut(&b.point)?;
        let latest = p.latest().version;
        if b.base_version != latest {
            return Err(superseded("point", &b.point, b.base_version, latest));
        }
        let version = latest + 1;
        let hash = point_hash(&b.point, version, p.basket, &b.text);
        p.versions.push(PointVersion {
            version,
            text: b.text.clone(),
            hash,
            round: b.round.clone(),
            by: stamp(ctx),
        });
        if p.status != PointStatus::Open {
            p.status = PointStatus::Open;
            p.statuses.push(StatusChange {
                version,
                round: b.round.clone(),
                status: PointStatus::Open,
                by: stamp(ctx),
            });
        }
        Ok(b.point.clone())
    }

    /// `point.position`.
    pub fn record_position(
        &mut self,
        ctx: &Ctx<'_>,
        b: &PointPosition,
    ) -> Result<String, Rejection> {
        own_position(ctx, &b.party)?;
        self.round(&b.round)?;
        crate::command::text_within("command.body.text", &b.text, MAX_REGISTER_TEXT)?;
        let p = self.point_mut(&b.point)?;
        let latest = p.latest().version;
        if b.version != latest {
            return Err(superseded("point", &b.point, b.version, latest));
        }
        p.positions
            .entry(b.party.clone())
            .or_default()
            .push(Position {
                version: b.version,
                round: b.round.clone(),
                stance: b.stance,
                text: b.text.clone(),
                by: stamp(ctx),
            });
        Ok(b.point.clone())
    }

    /// `point.status`.
    pub fn set_status(&mut self, ctx: &Ctx<'_>, b: &PointStatusSet) -> Result<String, Rejection> {
        self.round(&b.round)?;
        let parties = ctx.genesis.party_ids();
        let p = self.point_mut(&b.point)?;
        let latest = p.latest().version;
        if b.version != latest {
            return Err(superseded("point", &b.point, b.version, latest));
        }
        if b.status == PointStatus::AgreedText {
            let current = p.current_positions();
            let missing: Vec<&String> = parties
                .iter()
                .filter(|party| {
                    current
                        .get(party.as_str())
                        .is_none_or(|pos| pos.stance != Stance::Accepts)
                })
                .collect();
            if !missing.is_empty() {
                return Err(Rejection::rule(
                    "point-not-accepted",
                    format!(
                        "point {:?} version {latest} is agreed text only once every party accepted it; not yet: {}",
                        b.point,
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        p.status = b.status;
        p.statuses.push(StatusChange {
            version: b.version,
            round: b.round.clone(),
            status: b.status,
            by: stamp(ctx),
        });
        Ok(b.point.clone())
    }

    /// `point.link`.
    pub fn link_point(
        &mut self,
        _ctx: &Ctx<'_>,
        agreements: &Agreements,
        b: &PointLink,
    ) -> Result<String, Rejection> {
        if b.corridors.is_empty() && b.windows.is_empty() {
            return Err(Rejection::invalid(
                "command.body",
                "name at least one corridor or window",
            ));
        }
        for c in &b.corridors {
            if !agreements.corridors.contains_key(c) {
                return Err(Rejection::rule(
                    "unknown-corridor",
                    format!("no corridor {c:?}"),
                ));
            }
        }
        for w in &b.windows {
            if !agreements.windows.contains_key(w) {
                return Err(Rejection::rule(
                    "unknown-window",
                    format!("no window {w:?}"),
                ));
            }
        }
        let p = self.point_mut(&b.point)?;
        if p.basket != Basket::Humanitarian || p.status != PointStatus::AgreedText {
            return Err(Rejection::rule(
                "point-not-agreed",
                format!(
                    "only an agreed humanitarian point is implemented by corridors and windows; {:?} is a {} point, {}",
                    b.point,
                    p.basket.as_str(),
                    p.status.as_str()
                ),
            ));
        }
        p.corridors.extend(b.corridors.iter().cloned());
        p.windows.extend(b.windows.iter().cloned());
        Ok(b.point.clone())
    }

    /// `document.draft` and `document.revise` (with `base_version`).
    pub fn draft(
        &mut self,
        ctx: &Ctx<'_>,
        b: &DocumentDraft,
        revise: bool,
    ) -> Result<String, Rejection> {
        texts("command.body.title", &b.title, 1000)?;
        texts("command.body.text", &b.text, MAX_REGISTER_TEXT)?;
        if !b.text.contains_key(&b.binding_language) {
            return Err(Rejection::rule(
                "document-binding-text-missing",
                format!(
                    "the binding language is {:?}, but the document has no text in it",
                    b.binding_language
                ),
            ));
        }
        if b.points.is_empty() {
            return Err(Rejection::invalid(
                "command.body.points",
                "a document includes at least one agreed point",
            ));
        }
        let mut points = Vec::new();
        let mut seen = BTreeSet::new();
        for id in &b.points {
            let p = self.points.get(id).ok_or_else(|| {
                Rejection::rule("unknown-point", format!("no agenda point {id:?}"))
            })?;
            if p.status != PointStatus::AgreedText {
                return Err(Rejection::rule(
                    "document-point-not-agreed",
                    format!(
                        "point {id:?} is {}, not agreed text: only agreed points go into a document for signing",
                        p.status.as_str()
                    ),
                ));
            }
            if !seen.insert(id) {
                return Err(Rejection::invalid(
                    "command.body.points",
                    format!("{id:?} twice"),
                ));
            }
            let v = p.latest();
            points.push(IncludedPoint {
                point: id.clone(),
                version: v.version,
                hash: v.hash.clone(),
            });
        }
        let existing = self.documents.get(&b.document);
        let version = match (revise, existing, b.base_version) {
            (false, None, None) => 1,
            (false, Some(_), _) => {
                return Err(Rejection::rule(
                    "document-exists",
                    format!("document {:?} exists; revise it instead", b.document),
                ));
            }
            (false, None, Some(_)) | (true, _, None) => {
                return Err(Rejection::invalid(
                    "command.body.base_version",
                    "give base_version when revising a document, and only then",
                ));
            }
            (true, None, Some(_)) => {
                return Err(Rejection::rule(
                    "unknown-document",
                    format!("no document {:?}", b.document),
                ));
            }
            (true, Some(d), Some(base)) => {
                let latest = d.latest().version;
                if base != latest {
                    return Err(superseded("document", &b.document, base, latest));
                }
                latest + 1
            }
        };
        let mut v = DocumentVersion {
            version,
            title: b.title.clone(),
            points,
            binding_language: b.binding_language.clone(),
            text: b.text.clone(),
            hash: String::new(),
            by: stamp(ctx),
        };
        v.hash = document_hash(&b.document, &v);
        let d = self
            .documents
            .entry(b.document.clone())
            .or_insert_with(|| Document {
                id: b.document.clone(),
                versions: vec![],
                signatures: BTreeMap::new(),
                voided: vec![],
                publication: BTreeMap::new(),
                signed_by_all: false,
                published: false,
            });
        // A new version voids every signature and publication consent, as a new window
        // version voids consents: nobody signed this text.
        let old = std::mem::take(&mut d.signatures);
        d.voided.extend(old.into_values());
        d.publication.clear();
        d.signed_by_all = false;
        d.published = false;
        d.versions.push(v);
        Ok(b.document.clone())
    }

    fn document_act<'a>(&'a mut self, b: &DocumentAct) -> Result<&'a mut Document, Rejection> {
        let points = &self.points;
        let d = self.documents.get_mut(&b.document).ok_or_else(|| {
            Rejection::rule("unknown-document", format!("no document {:?}", b.document))
        })?;
        let latest = d.latest();
        if b.version_hash != latest.hash {
            return Err(match d.versions.iter().find(|v| v.hash == b.version_hash) {
                Some(v) => Rejection::rule(
                    "document-version-superseded",
                    format!(
                        "that is version {} of {:?}; the current version is {}: read it and sign its hash",
                        v.version, b.document, latest.version
                    ),
                ),
                None => Rejection::rule(
                    "document-hash-mismatch",
                    format!("no version of {:?} has that hash", b.document),
                ),
            });
        }
        // Every included point must still be the agreed text it was.
        for ip in &latest.points {
            let p = &points[&ip.point];
            if p.latest().hash != ip.hash || p.status != PointStatus::AgreedText {
                return Err(Rejection::rule(
                    "document-point-changed",
                    format!(
                        "point {:?} changed since this version was drafted (now version {}, {}); revise the document",
                        ip.point,
                        p.latest().version,
                        p.status.as_str()
                    ),
                ));
            }
        }
        Ok(d)
    }

    /// `document.sign`: the actor's party's signatory signs the current version.
    pub fn sign(&mut self, ctx: &Ctx<'_>, b: &DocumentAct) -> Result<String, Rejection> {
        // Only signatories pass the role gate (`access::ISSUERS`).
        ctx.own_party(&b.party)?;
        let parties = ctx.genesis.party_ids();
        let d = self.document_act(b)?;
        if d.signatures.contains_key(&b.party) {
            return Err(Rejection::rule(
                "document-already-signed",
                format!("{} already signed this version", b.party),
            ));
        }
        let version = d.latest().version;
        d.signatures.insert(
            b.party.clone(),
            PartySeal {
                version,
                hash: b.version_hash.clone(),
                by: stamp(ctx),
            },
        );
        d.signed_by_all = parties.iter().all(|p| d.signatures.contains_key(p));
        Ok(b.document.clone())
    }

    /// `document.publish`: a party agrees to publish the version every party signed.
    pub fn publish(&mut self, ctx: &Ctx<'_>, b: &DocumentAct) -> Result<String, Rejection> {
        ctx.own_party(&b.party)?;
        let parties = ctx.genesis.party_ids();
        let d = self.document_act(b)?;
        if !d.signed_by_all {
            return Err(Rejection::rule(
                "document-not-signed",
                format!(
                    "{:?} is published only once every party signed it",
                    b.document
                ),
            ));
        }
        let version = d.latest().version;
        d.publication.insert(
            b.party.clone(),
            PartySeal {
                version,
                hash: b.version_hash.clone(),
                by: stamp(ctx),
            },
        );
        d.published = parties.iter().all(|p| d.publication.contains_key(p));
        Ok(b.document.clone())
    }
}

fn superseded(what: &str, id: &str, given: u32, latest: u32) -> Rejection {
    Rejection::rule(
        "register-version-superseded",
        format!("{what} {id:?} is at version {latest}, not {given}: read the latest and act on it"),
    )
}

fn check_communique(c: &[Communique]) -> Result<(), Rejection> {
    let mut langs = BTreeSet::new();
    for (i, x) in c.iter().enumerate() {
        let f = format!("command.body.communique[{i}]");
        if !LANGUAGES.contains(&x.lang.as_str()) || !langs.insert(x.lang.as_str()) {
            return Err(Rejection::invalid(
                format!("{f}.lang"),
                "one text per language: uk, ru or en",
            ));
        }
        crate::command::text_within(&format!("{f}.text"), &x.text, MAX_REGISTER_TEXT)?;
    }
    if !c.is_empty() && c.iter().filter(|x| x.original).count() != 1 {
        return Err(Rejection::invalid(
            "command.body.communique",
            "exactly one text is the original; the others are translations",
        ));
    }
    Ok(())
}

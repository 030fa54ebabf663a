//! Settlements, corridors, ceasefire windows, consents and unilateral declarations.
//!
//! The rules here exist because corridors failed in March 2022: agreements stopped at "in
//! principle", one side's announcement was taken for agreed terms, and times were given in
//! different zones. So:
//! - everything the public will read (route, times, who may leave, instructions in three
//!   languages) is part of the *version* the parties sign, identified by its hash;
//! - a window is agreed only when every required party has consented to that same hash, and any
//!   amendment makes a new hash that needs fresh consents; every party of the genesis is a
//!   required party of every window (a ceasefire binds both sides), so no proposal can name fewer;
//! - consent is refused until the proposal is complete (the completeness gate);
//! - a party's own declaration is kept apart and never becomes an agreed window;
//! - every status is a pure function of the records and an instant ([`Window::status_at`]), so
//!   a window opens and closes without any new entry, and replay at any instant agrees.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Rejection;
use crate::command::{Point, Role};
use crate::crypto::{b64, sha256};
use crate::genesis::{GenesisDocument, Names};
use crate::state::ProjectionKind;
use crate::time::format_log_time;

mod corridor;
mod declaration;
mod settlement;
mod window;

/// The records a command changed, as (projection kind, id).
pub type Changed = Vec<(ProjectionKind, String)>;

/// Narrowest and widest corridor buffer, in metres.
pub const BUFFER_RANGE_M: (i64, i64) = (50, 20_000);
/// Most points in a route.
pub const MAX_ROUTE_POINTS: usize = 1000;
/// Longest route, in metres.
pub const MAX_ROUTE_M: f64 = 1_000_000.0;

// ---------------------------------------------------------------- commands

/// A settlement as imported (from the scenario's HXL CSV, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementSpec {
    /// Stable id, e.g. `borodianka`.
    pub id: String,
    /// Names in uk/ru/en.
    pub names: Names,
    /// Where it is.
    pub location: Point,
    /// OCHA P-code, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcode: Option<String>,
    /// The IANA zone the settlement keeps (places under occupation moved to Moscow time).
    pub zone: String,
    /// Whether the position is only approximate.
    #[serde(default)]
    pub approximate: bool,
}

/// `settlement.import`: the intermediary records settlements. Importing the same data again
/// changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementImport {
    /// The settlements.
    pub settlements: Vec<SettlementSpec>,
}

/// What a corridor is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Civilians leave.
    Evacuation,
    /// Aid goes in.
    Aid,
    /// Both.
    Both,
}

/// A language of the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Ukrainian.
    Uk,
    /// Russian.
    Ru,
    /// English.
    En,
}

/// A named point along the route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteCheckpoint {
    /// Names in uk/ru/en.
    pub names: Names,
    /// Where.
    pub location: Point,
}

/// What civilians are told, in three languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instructions {
    /// What to bring.
    pub bring: Names,
    /// Where to gather.
    pub gather: Names,
    /// What to do if the corridor is suspended.
    pub if_suspended: Names,
}

/// The terms of one corridor version: all of it is signed, so no public text is one nobody
/// agreed to. Optional fields may be filled in by an amendment; consent waits until they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorridorTerms {
    /// Names of the corridor, uk/ru/en.
    pub names: Names,
    /// The route, `[longitude, latitude]` pairs in 1e-7 degree (GeoJSON order), WGS 84.
    pub route: Vec<[i64; 2]>,
    /// Buffer either side of the route, in metres.
    pub buffer_m: i64,
    /// Origin settlement id.
    pub origin: String,
    /// Destination settlement id.
    pub destination: String,
    /// Named checkpoints along the route.
    #[serde(default)]
    pub checkpoints: Vec<RouteCheckpoint>,
    /// Evacuation, aid or both.
    pub purpose: Purpose,
    /// Who may leave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who_may_leave: Option<Names>,
    /// Whether aid may enter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aid_may_enter: Option<bool>,
    /// The reception point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reception: Option<Names>,
    /// Instructions to civilians.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<Instructions>,
    /// The language whose text is binding.
    pub binding_language: Lang,
}

/// `corridor.propose`: a new corridor at version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorridorPropose {
    /// New corridor id.
    pub corridor: String,
    /// The terms.
    pub terms: CorridorTerms,
}

/// `corridor.amend`: a new version; the old stays readable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorridorAmend {
    /// The corridor.
    pub corridor: String,
    /// The version this amends (must be the latest: no silent overwrite of a concurrent one).
    pub base_version: u32,
    /// The new terms.
    pub terms: CorridorTerms,
}

/// A local time as a person stated it, kept for display beside the signed UTC instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalText {
    /// The local date-time, e.g. `2022-03-05T10:00`.
    pub local: String,
    /// Its IANA zone.
    pub zone: String,
}

/// What this build's tz database says of the local times people stated in the log: how many
/// there are, and each one it would judge otherwise than the server did on acceptance (as
/// `"window w1 version 2 start: <why>"`), and each settlement zone it does not know. Replay never
/// asks (see [`crate::state::State::execute_recorded`]); `corridor verify` prints this beside
/// the release the genesis pins, so a difference is seen and explained, not a failure.
pub fn local_time_findings(agreements: &Agreements) -> (usize, Vec<String>) {
    let mut stated = 0;
    let mut findings = Vec::new();
    for w in agreements.windows.values() {
        for v in &w.versions {
            for (which, lt, at) in [
                ("start", &v.terms.start_local, &v.terms.start),
                ("end", &v.terms.end_local, &v.terms.end),
            ] {
                let Some(lt) = lt else { continue };
                stated += 1;
                let judged = crate::time::parse_utc(which, at)
                    .and_then(|t| crate::localtime::check_stated(&lt.local, &lt.zone, t));
                if let Err(e) = judged {
                    findings.push(format!(
                        "window {} version {} {which}: {e}",
                        w.id, v.version
                    ));
                }
            }
        }
    }
    for s in agreements.settlements.values() {
        stated += 1;
        if let Err(e) = crate::localtime::zone(&s.zone) {
            findings.push(format!("settlement {}: {e}", s.id));
        }
    }
    (stated, findings)
}

/// The terms of one window version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowTerms {
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// End, RFC 3339 UTC.
    pub end: String,
    /// The start as originally stated, if in local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_local: Option<LocalText>,
    /// The end as originally stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_local: Option<LocalText>,
    /// Parties whose consent is required.
    pub required_parties: Vec<String>,
    /// Each party's stated security guarantee, by party id. Only a party may state its own.
    #[serde(default)]
    pub guarantees: BTreeMap<String, String>,
}

/// `window.propose`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowPropose {
    /// New window id.
    pub window: String,
    /// The corridor.
    pub corridor: String,
    /// The corridor version the window is for (must be the latest).
    pub corridor_version: u32,
    /// The terms.
    pub terms: WindowTerms,
}

/// `window.amend`: a new window version, which voids every consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowAmend {
    /// The window.
    pub window: String,
    /// The version this amends (must be the latest).
    pub base_version: u32,
    /// The corridor version (must be the corridor's latest).
    pub corridor_version: u32,
    /// The new terms.
    pub terms: WindowTerms,
}

/// `window.consent` / `window.resume`: a party signs the hash of the exact version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConsent {
    /// The window.
    pub window: String,
    /// The party consenting (the actor's own).
    pub party: String,
    /// The version hash consented to.
    pub version_hash: String,
}

/// The reason the public reads when a party suspends or withdraws from a window: one of a fixed
/// list, shown in the reader's language. The party's own free text (`reason`) is kept for the
/// log's members only, so no party can use the public page as a megaphone against the other,
/// and a civilian reads the same neutral words whichever side acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublicReason {
    /// Shelling or gunfire on or near the route.
    Shelling,
    /// Mines on or near the route.
    Mines,
    /// The road is damaged or blocked.
    RoadDamage,
    /// Any other reason.
    Other,
}

impl PublicReason {
    /// Every reason, in the order a form lists them.
    pub const ALL: [PublicReason; 4] = [
        PublicReason::Shelling,
        PublicReason::Mines,
        PublicReason::RoadDamage,
        PublicReason::Other,
    ];

    /// The wire name (also the key of its translations).
    pub fn as_str(self) -> &'static str {
        match self {
            PublicReason::Shelling => "shelling",
            PublicReason::Mines => "mines",
            PublicReason::RoadDamage => "road-damage",
            PublicReason::Other => "other",
        }
    }
}

/// `window.withdraw` / `window.suspend`: a party takes back consent, or declares the window
/// broken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowPartyAct {
    /// The window.
    pub window: String,
    /// The party acting (the actor's own).
    pub party: String,
    /// Why, in the party's words: for the log's members, never published.
    pub reason: String,
    /// Why, for the public: one of a fixed list. Optional on the wire because commands signed
    /// before it existed must still replay; the public then reads no reason at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_reason: Option<PublicReason>,
}

/// `window.cancel`: the proposer withdraws the proposal before anyone consented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowCancel {
    /// The window.
    pub window: String,
    /// Why.
    pub reason: String,
}

/// `declaration.publish`: one party's own statement ("we will observe a ceasefire on route X
/// from 10:00 Moscow time"). Shown as that party's statement; never an agreed window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationPublish {
    /// New declaration id.
    pub declaration: String,
    /// The corridor it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corridor: Option<String>,
    /// From when, RFC 3339 UTC.
    pub start: String,
    /// Until when, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// The statement in uk/ru/en.
    pub text: Names,
}

// ---------------------------------------------------------------- records

/// A settlement as recorded.
pub type Settlement = SettlementSpec;

/// One version of a corridor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorridorVersion {
    /// 1, 2, ...
    pub version: u32,
    /// The terms.
    pub terms: CorridorTerms,
    /// Who proposed this version.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// A corridor with every version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corridor {
    /// Id.
    pub id: String,
    /// Versions, oldest first.
    pub versions: Vec<CorridorVersion>,
}

impl Corridor {
    /// The latest version.
    pub fn latest(&self) -> &CorridorVersion {
        self.versions.last().expect("a corridor has a version")
    }
}

/// One version of a window, with its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowVersion {
    /// 1, 2, ...
    pub version: u32,
    /// The corridor version it is for.
    pub corridor_version: u32,
    /// The terms.
    pub terms: WindowTerms,
    /// Hash of window and corridor terms: what parties consent to.
    pub hash: String,
    /// Who proposed this version.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// What an act did to a window. An enum, not a string, so that a misspelt kind is a compile
/// error rather than a consent that silently never counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActKind {
    /// A party agrees to the exact version named by its hash.
    Consent,
    /// A party takes its consent back before the start.
    Withdraw,
    /// The proposer cancels a window nobody consented to.
    Cancel,
    /// A party halts a window that is under way.
    Suspend,
    /// A party lifts a suspension (every required party must).
    Resume,
}

impl ActKind {
    /// The name used in the log's JSON and in the views.
    pub fn as_str(self) -> &'static str {
        match self {
            ActKind::Consent => "consent",
            ActKind::Withdraw => "withdraw",
            ActKind::Cancel => "cancel",
            ActKind::Suspend => "suspend",
            ActKind::Resume => "resume",
        }
    }
}

/// Something a party or actor did to a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowAct {
    /// What was done.
    pub kind: ActKind,
    /// The party (absent for cancel by the intermediary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// Who.
    pub actor: String,
    /// The version hash, for consent and resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_hash: Option<String>,
    /// Why, for withdraw, cancel and suspend, in the actor's words (members only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why, for the public, from the fixed list (withdraw and suspend, when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_reason: Option<PublicReason>,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
    /// Set when the signing key was later declared compromised from before this act: it no
    /// longer counts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub void: bool,
}

/// A ceasefire window with its versions and everything done to it, in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Id.
    pub id: String,
    /// The corridor.
    pub corridor: String,
    /// Who proposed it first.
    pub proposer: String,
    /// Versions, oldest first.
    pub versions: Vec<WindowVersion>,
    /// Acts, in log order.
    pub acts: Vec<WindowAct>,
}

/// A window's status at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not every required party has consented to the current version yet.
    Proposed,
    /// Every required party consented to the current version; not started yet.
    Agreed,
    /// Inside the window, agreed, not suspended.
    Active,
    /// A party declared it broken; waits for every party to resume.
    Suspended,
    /// Agreed, and its end has passed.
    Completed,
    /// A party took back its consent before the start. Final.
    Withdrawn,
    /// The proposer withdrew it before any consent. Final.
    Cancelled,
    /// Not agreed by its start. Final.
    Expired,
}

impl Status {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Agreed => "agreed",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Completed => "completed",
            Status::Withdrawn => "withdrawn",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
        }
    }

    /// Statuses that hold the corridor's time: two of these may not overlap.
    pub fn holds_time(&self) -> bool {
        matches!(
            self,
            Status::Agreed | Status::Active | Status::Suspended | Status::Completed
        )
    }
}

/// A party's own statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    /// Id.
    pub id: String,
    /// The declaring party.
    pub party: String,
    /// Who published it.
    pub actor: String,
    /// The corridor it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corridor: Option<String>,
    /// From.
    pub start: String,
    /// Until.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// The statement.
    pub text: Names,
    /// Entry index.
    pub at_index: u64,
}

fn ts(s: &str) -> Timestamp {
    // Stored times were validated when the command was accepted.
    s.parse().unwrap_or(Timestamp::MIN)
}

impl WindowVersion {
    /// Start instant.
    pub fn start(&self) -> Timestamp {
        ts(&self.terms.start)
    }
    /// End instant.
    pub fn end(&self) -> Timestamp {
        ts(&self.terms.end)
    }
}

impl WindowAct {
    /// Whether this act is a consent by `party` to the version with `hash` that still counts
    /// (not voided by a compromised key): the one predicate every consent rule asks.
    pub fn is_consent(&self, party: &str, hash: &str) -> bool {
        !self.void
            && self.kind == ActKind::Consent
            && self.party.as_deref() == Some(party)
            && self.version_hash.as_deref() == Some(hash)
    }
}

impl Window {
    /// The standing consent of `party` to the version with `hash`, if it gave one.
    pub fn consent_of(&self, party: &str, hash: &str) -> Option<&WindowAct> {
        self.acts.iter().find(|a| a.is_consent(party, hash))
    }

    /// The version in force at `at` (the latest proposed at or before it).
    pub fn version_at(&self, at: Timestamp) -> Option<&WindowVersion> {
        self.versions.iter().rev().find(|v| ts(&v.at_time) <= at)
    }

    /// The latest version.
    pub fn latest(&self) -> &WindowVersion {
        self.versions.last().expect("a window has a version")
    }

    fn acts_until(&self, at: Timestamp) -> impl Iterator<Item = &WindowAct> {
        self.acts
            .iter()
            .filter(move |a| !a.void && ts(&a.at_time) <= at)
    }

    /// When every required party had consented to `v` (as of `at`), if they have.
    pub fn agreed_at(&self, v: &WindowVersion, at: Timestamp) -> Option<Timestamp> {
        let mut latest = None;
        for p in &v.terms.required_parties {
            let first = self
                .acts_until(at)
                .find(|a| a.is_consent(p, &v.hash))
                .map(|a| ts(&a.at_time))?;
            latest = latest.max(Some(first));
        }
        latest
    }

    /// The status at `at`: a pure function of the records and the instant, so the window opens
    /// and closes without any new entry and every replay gives the same answer.
    pub fn status_at(&self, at: Timestamp) -> Option<(Status, Option<String>)> {
        let v = self.version_at(at)?;
        for a in self.acts_until(at) {
            match a.kind {
                ActKind::Cancel => return Some((Status::Cancelled, a.reason.clone())),
                ActKind::Withdraw => return Some((Status::Withdrawn, a.reason.clone())),
                _ => {}
            }
        }
        let (start, end) = (v.start(), v.end());
        if self.agreed_at(v, at).is_none() {
            return Some(if at < start {
                (Status::Proposed, None)
            } else {
                (Status::Expired, None)
            });
        }
        if at < start {
            return Some((Status::Agreed, None));
        }
        if at >= end {
            return Some((Status::Completed, None));
        }
        // Inside the window: suspended since the last suspension until every required party
        // has resumed after it.
        let last_suspension = self
            .acts_until(at)
            .filter(|a| a.kind == ActKind::Suspend)
            .last();
        if let Some(s) = last_suspension {
            let after = s.at_index;
            let all_resumed = v.terms.required_parties.iter().all(|p| {
                self.acts_until(at).any(|a| {
                    a.kind == ActKind::Resume && a.at_index > after && a.party.as_deref() == Some(p)
                })
            });
            if !all_resumed {
                return Some((Status::Suspended, s.reason.clone()));
            }
        }
        Some((Status::Active, None))
    }
}

/// The hash parties consent to: window terms and the corridor terms they rest on.
pub fn version_hash(
    window: &str,
    version: u32,
    terms: &WindowTerms,
    corridor: &str,
    cv: &CorridorVersion,
) -> String {
    let doc = serde_json::json!({
        "window": window,
        "window_version": version,
        "window_terms": terms,
        "corridor": corridor,
        "corridor_version": cv.version,
        "corridor_terms": cv.terms,
    });
    b64(&sha256(&[&corridor_jcs::canonicalize(&doc)]))
}

// ---------------------------------------------------------------- state and rules

/// Everything about agreements in the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agreements {
    /// Settlements by id.
    pub settlements: BTreeMap<String, Settlement>,
    /// Corridors by id.
    pub corridors: BTreeMap<String, Corridor>,
    /// Windows by id.
    pub windows: BTreeMap<String, Window>,
    /// Declarations by id.
    pub declarations: BTreeMap<String, Declaration>,
}

/// Who is acting, and when: what the rules need from the rest of the state.
pub struct Ctx<'a> {
    /// Actor id.
    pub actor: &'a str,
    /// The actor's party, if they belong to one.
    pub party: Option<&'a str>,
    /// The actor's side: its party, organisation or the intermediary.
    pub affiliation: &'a str,
    /// The actor's role.
    pub role: Role,
    /// The entry's index.
    pub index: u64,
    /// The entry's log time.
    pub time: Timestamp,
    /// The genesis (parties, policy).
    pub genesis: &'a GenesisDocument,
    /// The entry is replayed from the log ([`crate::state::State::execute_recorded`]): checks
    /// that consult the tz database were decided when it was accepted and are not taken again.
    pub recorded: bool,
}

impl Ctx<'_> {
    fn at(&self) -> String {
        format_log_time(self.time)
    }

    fn deny(&self, action: &str) -> Rejection {
        Rejection::RoleNotAllowed {
            actor: self.actor.to_string(),
            role: self.role.as_str().to_string(),
            action: action.to_string(),
        }
    }

    /// A party act (consent, withdraw, suspend, resume, acknowledge) names the party it is for:
    /// it must be the actor's own. Which roles may act for a party at all, and that the
    /// intermediary never does, is the role gate's ([`crate::access::ISSUERS`]), already passed.
    pub(crate) fn own_party(&self, party: &str) -> Result<(), Rejection> {
        if self.party != Some(party) {
            return Err(Rejection::rule(
                "not-your-party",
                format!(
                    "{} acts for {:?}, not for {party:?}",
                    self.actor,
                    self.party.unwrap_or("no party")
                ),
            ));
        }
        Ok(())
    }
}

fn names_ok(field: &str, n: &Names) -> Result<(), Rejection> {
    for (lang, t) in [("en", &n.en), ("uk", &n.uk), ("ru", &n.ru)] {
        if t.trim().is_empty() || t.len() > crate::command::MAX_TEXT {
            return Err(Rejection::invalid(
                format!("{field}.{lang}"),
                "must be non-empty text in each of uk, ru and en",
            ));
        }
    }
    Ok(())
}

/// Great-circle distance in metres between two points in 1e-7 degrees (haversine). For views
/// and tests only: it uses the platform's `sin`, `cos` and `asin`, whose last bits differ
/// between math libraries, so no rule may decide with it ([`crate::geo`] is for rules).
pub fn distance_m(a: [i64; 2], b: [i64; 2]) -> f64 {
    let to_rad = |e7: i64| (e7 as f64 / 1e7).to_radians();
    let (lon1, lat1, lon2, lat2) = (to_rad(a[0]), to_rad(a[1]), to_rad(b[0]), to_rad(b[1]));
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

impl Agreements {
    fn settlement(&self, id: &str) -> Result<&Settlement, Rejection> {
        self.settlements.get(id).ok_or_else(|| {
            Rejection::rule(
                "unknown-settlement",
                format!("no settlement {id:?}; import it first"),
            )
        })
    }

    fn window(&self, id: &str) -> Result<&Window, Rejection> {
        self.windows
            .get(id)
            .ok_or_else(|| Rejection::rule("unknown-window", format!("no window {id:?}")))
    }

    fn corridor(&self, id: &str) -> Result<&Corridor, Rejection> {
        self.corridors
            .get(id)
            .ok_or_else(|| Rejection::rule("unknown-corridor", format!("no corridor {id:?}")))
    }

    /// What is missing before anyone may consent: route, start, duration, who may leave, aid in
    /// or not, destination, reception, instructions and every required party's guarantee.
    pub fn missing(&self, w: &Window) -> Vec<String> {
        let v = w.latest();
        let mut missing = Vec::new();
        if let Ok(c) = self.corridor(&w.corridor)
            && let Some(cv) = c.versions.iter().find(|x| x.version == v.corridor_version)
        {
            let t = &cv.terms;
            if t.who_may_leave.is_none() {
                missing.push("who_may_leave".to_string());
            }
            if t.aid_may_enter.is_none() {
                missing.push("aid_may_enter".to_string());
            }
            if t.reception.is_none() {
                missing.push("reception".to_string());
            }
            if t.instructions.is_none() {
                missing.push("instructions".to_string());
            }
        }
        for p in &v.terms.required_parties {
            if !v.terms.guarantees.contains_key(p) {
                missing.push(format!("guarantee of {p}"));
            }
        }
        missing
    }

    /// Decide and apply one agreement command: one method per command, in a module per
    /// family (settlements, corridors, windows, declarations). The role gate ([`crate::access::ISSUERS`])
    /// has already run; the rules here are the ones that depend on the records. Returns the ids of
    /// changed records as (projection kind, id).
    pub fn execute(
        &mut self,
        ctx: &Ctx,
        body: &crate::command::Body,
    ) -> Result<Changed, Rejection> {
        use crate::command::Body as B;
        match body {
            B::SettlementImport(b) => self.import_settlements(b, ctx.recorded),
            B::CorridorPropose(b) => self.propose_corridor(ctx, b),
            B::CorridorAmend(b) => self.amend_corridor(ctx, b),
            B::WindowPropose(b) => self.propose_window(ctx, b),
            B::WindowAmend(b) => self.amend_window(ctx, b),
            B::WindowConsent(b) => self.consent(ctx, b),
            B::WindowWithdraw(b) => self.withdraw(ctx, b),
            B::WindowCancel(b) => self.cancel(ctx, b),
            B::WindowSuspend(b) => self.suspend(ctx, b),
            B::WindowResume(b) => self.resume(ctx, b),
            B::DeclarationPublish(b) => self.publish_declaration(ctx, b),
            _ => unreachable!("only agreement commands are routed here"),
        }
    }

    /// Void every act signed in the given entries (a key declared compromised): consents given
    /// with it stop counting until the party consents again. Returns the windows changed.
    pub fn void_entries(&mut self, entries: &std::collections::BTreeSet<u64>) -> Changed {
        let mut changed = Vec::new();
        for w in self.windows.values_mut() {
            let mut touched = false;
            for a in &mut w.acts {
                if !a.void && entries.contains(&a.at_index) {
                    a.void = true;
                    touched = true;
                }
            }
            if touched {
                changed.push((ProjectionKind::Window, w.id.clone()));
            }
        }
        changed
    }
}

/// A route from GeoJSON (RFC 7946: a LineString geometry, a Feature holding one, or a
/// FeatureCollection with exactly one LineString feature, as drawing tools export; WGS 84,
/// `[longitude, latitude]`) to the integer 1e-7 degree pairs signed commands carry. Positions
/// with more than seven decimals are rounded to the nearest 1e-7 degree (about 1 cm). A
/// collection with two lines is refused: which one is the corridor is for a person to say. The
/// console reads files the same way (`console/assets/js/map.js`, checked with shared vectors).
pub fn route_from_geojson(v: &serde_json::Value) -> Result<Vec<[i64; 2]>, Rejection> {
    let bad = |why: &str| Rejection::rule("invalid-geometry", why.to_string());
    let v = if v["type"] == "FeatureCollection" {
        let lines: Vec<&serde_json::Value> = v["features"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter(|f| f["geometry"]["type"] == "LineString")
                    .collect()
            })
            .unwrap_or_default();
        match lines[..] {
            [one] => one,
            [] => return Err(bad("the collection holds no LineString feature")),
            _ => {
                return Err(bad(
                    "the collection holds more than one LineString: keep only the corridor's route",
                ));
            }
        }
    } else {
        v
    };
    let geometry = if v["type"] == "Feature" {
        &v["geometry"]
    } else {
        v
    };
    if geometry["type"] != "LineString" {
        return Err(bad("the route must be a GeoJSON LineString"));
    }
    let coords = geometry["coordinates"]
        .as_array()
        .ok_or_else(|| bad("a LineString needs a coordinates array"))?;
    let e7 = |n: &serde_json::Value| -> Option<i64> {
        let text = n.as_number()?.to_string();
        crate::hxl::degrees_e7(&text).or_else(|| {
            let f = n.as_f64()?;
            f.is_finite().then(|| (f * 1e7).round() as i64)
        })
    };
    let route = coords
        .iter()
        .map(|p| {
            let p = p
                .as_array()
                .filter(|p| p.len() >= 2)
                .ok_or_else(|| bad("each position is [longitude, latitude]"))?;
            Ok([
                e7(&p[0]).ok_or_else(|| bad("longitude is not a number"))?,
                e7(&p[1]).ok_or_else(|| bad("latitude is not a number"))?,
            ])
        })
        .collect::<Result<Vec<_>, Rejection>>()?;
    corridor::check_route(&route)?;
    Ok(route)
}

#[cfg(test)]
mod geojson_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_scenario_route_converts_exactly() {
        let f: serde_json::Value = serde_json::from_str(include_str!(
            "../../../scenario/borodianka-berestianka.geojson"
        ))
        .unwrap();
        let r = route_from_geojson(&f).unwrap();
        assert_eq!(r[0], [299_220_000, 506_451_000]);
        assert_eq!(r.len(), 4);
    }

    #[test]
    fn only_a_linestring_is_a_route() {
        let point = json!({"type": "Point", "coordinates": [29.9, 50.6]});
        assert_eq!(
            route_from_geojson(&point).unwrap_err().code(),
            "invalid-geometry"
        );
        let one = json!({"type": "LineString", "coordinates": [[29.9, 50.6], [29.9, 50.6]]});
        assert_eq!(
            route_from_geojson(&one).unwrap_err().code(),
            "invalid-geometry"
        );
        let out = json!({"type": "LineString", "coordinates": [[190.0, 50.6], [29.9, 50.6]]});
        assert_eq!(
            route_from_geojson(&out).unwrap_err().code(),
            "invalid-geometry"
        );
        let text = json!({"type": "LineString", "coordinates": [["29.9", 50.6], [29.8, 50.6]]});
        assert_eq!(
            route_from_geojson(&text).unwrap_err().code(),
            "invalid-geometry"
        );
        let fine =
            json!({"type": "LineString", "coordinates": [[29.123456789, 50.6], [29.8, 50.6]]});
        assert_eq!(route_from_geojson(&fine).unwrap()[0][0], 291_234_568);
    }

    #[test]
    fn a_collection_with_one_line_is_its_route_and_with_two_is_refused() {
        let line = |lon: f64| {
            json!({"type": "Feature", "properties": {},
                "geometry": {"type": "LineString", "coordinates": [[lon, 50.6], [29.8, 50.5]]}})
        };
        let pin = json!({"type": "Feature", "properties": {},
            "geometry": {"type": "Point", "coordinates": [29.9, 50.6]}});
        let one = json!({"type": "FeatureCollection", "features": [pin, line(29.9)]});
        assert_eq!(
            route_from_geojson(&one).unwrap(),
            vec![[299_000_000, 506_000_000], [298_000_000, 505_000_000]]
        );
        for features in [json!([line(29.9), line(29.7)]), json!([pin]), json!(null)] {
            let v = json!({"type": "FeatureCollection", "features": features});
            assert_eq!(
                route_from_geojson(&v).unwrap_err().code(),
                "invalid-geometry",
                "{v}"
            );
        }
    }
}

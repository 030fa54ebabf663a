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
use crate::time::{format_log_time, parse_utc};

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

/// Something a party or actor did to a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowAct {
    /// `consent`, `withdraw`, `cancel`, `suspend`, `resume`.
    pub kind: String,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

impl Window {
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
                .find(|a| {
                    a.kind == "consent"
                        && a.party.as_deref() == Some(p)
                        && a.version_hash.as_deref() == Some(&v.hash)
                })
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
            match a.kind.as_str() {
                "cancel" => return Some((Status::Cancelled, a.reason.clone())),
                "withdraw" => return Some((Status::Withdrawn, a.reason.clone())),
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
        let last_suspension = self.acts_until(at).filter(|a| a.kind == "suspend").last();
        if let Some(s) = last_suspension {
            let after = s.at_index;
            let all_resumed = v.terms.required_parties.iter().all(|p| {
                self.acts_until(at).any(|a| {
                    a.kind == "resume" && a.at_index > after && a.party.as_deref() == Some(p)
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
}

impl Ctx<'_> {
    fn at(&self) -> String {
        format_log_time(self.time)
    }

    fn is_intermediary(&self) -> bool {
        self.role == Role::Intermediary
    }

    fn is_party_coordinator(&self) -> bool {
        self.party.is_some() && matches!(self.role, Role::Coordinator | Role::PartyAdmin)
    }

    fn deny(&self, action: &str) -> Rejection {
        Rejection::RoleNotAllowed {
            actor: self.actor.to_string(),
            role: self.role.as_str().to_string(),
            action: action.to_string(),
        }
    }

    pub(crate) fn own_party(&self, party: &str, action: &str) -> Result<(), Rejection> {
        if self.is_intermediary() {
            return Err(Rejection::rule(
                "intermediary-cannot-act-for-party",
                format!(
                    "the intermediary may propose and mediate but never {action} on a party's behalf"
                ),
            ));
        }
        if !self.is_party_coordinator() && self.role != Role::Signatory {
            return Err(self.deny(action));
        }
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

/// Great-circle distance in metres between two points in 1e-7 degrees. A haversine is a few
/// lines; the `geo` crate comes in with buffers and maps (public pages).
pub fn distance_m(a: [i64; 2], b: [i64; 2]) -> f64 {
    let to_rad = |e7: i64| (e7 as f64 / 1e7).to_radians();
    let (lon1, lat1, lon2, lat2) = (to_rad(a[0]), to_rad(a[1]), to_rad(b[0]), to_rad(b[1]));
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

fn check_route(route: &[[i64; 2]]) -> Result<(), Rejection> {
    let bad = |why: String| Rejection::rule("invalid-geometry", why);
    if route.len() > MAX_ROUTE_POINTS {
        return Err(bad(format!(
            "a route has at most {MAX_ROUTE_POINTS} points"
        )));
    }
    for (i, p) in route.iter().enumerate() {
        if !(-1_800_000_000..=1_800_000_000).contains(&p[0])
            || !(-900_000_000..=900_000_000).contains(&p[1])
        {
            return Err(bad(format!(
                "point {i} is out of range: longitude within ±180°, latitude within ±90°, in 1e-7 degree"
            )));
        }
    }
    let mut distinct = route.to_vec();
    distinct.dedup();
    if distinct.len() < 2 {
        return Err(bad("a route needs at least two distinct points".into()));
    }
    let length: f64 = route.windows(2).map(|w| distance_m(w[0], w[1])).sum();
    if length > MAX_ROUTE_M {
        return Err(bad(format!(
            "the route is {:.0} km long; the limit is {:.0} km",
            length / 1000.0,
            MAX_ROUTE_M / 1000.0
        )));
    }
    Ok(())
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

    fn check_corridor_terms(&self, t: &CorridorTerms) -> Result<(), Rejection> {
        names_ok("terms.names", &t.names)?;
        check_route(&t.route)?;
        if !(BUFFER_RANGE_M.0..=BUFFER_RANGE_M.1).contains(&t.buffer_m) {
            return Err(Rejection::rule(
                "buffer-out-of-range",
                format!(
                    "buffer_m must be {} to {} metres",
                    BUFFER_RANGE_M.0, BUFFER_RANGE_M.1
                ),
            ));
        }
        self.settlement(&t.origin)?;
        self.settlement(&t.destination)?;
        if t.origin == t.destination {
            return Err(Rejection::invalid(
                "terms.destination",
                "must differ from the origin",
            ));
        }
        for (i, c) in t.checkpoints.iter().enumerate() {
            names_ok(&format!("terms.checkpoints[{i}].names"), &c.names)?;
        }
        if let Some(n) = &t.who_may_leave {
            names_ok("terms.who_may_leave", n)?;
        }
        if let Some(n) = &t.reception {
            names_ok("terms.reception", n)?;
        }
        if let Some(i) = &t.instructions {
            names_ok("terms.instructions.bring", &i.bring)?;
            names_ok("terms.instructions.gather", &i.gather)?;
            names_ok("terms.instructions.if_suspended", &i.if_suspended)?;
        }
        Ok(())
    }

    fn check_window_terms(
        &self,
        ctx: &Ctx,
        t: &WindowTerms,
        previous: Option<&WindowTerms>,
    ) -> Result<(), Rejection> {
        let start = parse_utc("terms.start", &t.start)?;
        let end = parse_utc("terms.end", &t.end)?;
        if end <= start {
            return Err(Rejection::rule(
                "end-before-start",
                "the window must end after it starts",
            ));
        }
        if start <= ctx.time {
            return Err(Rejection::rule(
                "window-in-past",
                format!(
                    "the window starts at {} but the log's time is already {}",
                    t.start,
                    ctx.at()
                ),
            ));
        }
        let max = ctx.genesis.policy.max_window_s;
        if end.as_second() - start.as_second() > max {
            return Err(Rejection::rule(
                "window-too-long",
                format!("a window may last at most {max} s under the genesis policy"),
            ));
        }
        for (lt, at) in [(&t.start_local, start), (&t.end_local, end)] {
            if let Some(lt) = lt {
                crate::localtime::check_stated(&lt.local, &lt.zone, at)?;
            }
        }
        if t.required_parties.is_empty() {
            return Err(Rejection::invalid(
                "terms.required_parties",
                "name at least one party",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &t.required_parties {
            if !ctx.genesis.parties.iter().any(|x| &x.id == p) {
                return Err(Rejection::rule(
                    "unknown-party",
                    format!("{p:?} is not a party to this log"),
                ));
            }
            if !seen.insert(p) {
                return Err(Rejection::invalid(
                    "terms.required_parties",
                    format!("{p:?} is named twice"),
                ));
            }
        }
        // A ceasefire binds every side: a window that some party of the genesis need not consent
        // to would be published as agreed on one side's word. A one-party act is a declaration.
        let missing: Vec<&str> = ctx
            .genesis
            .parties
            .iter()
            .map(|x| x.id.as_str())
            .filter(|id| !t.required_parties.iter().any(|p| p == id))
            .collect();
        if !missing.is_empty() {
            return Err(Rejection::rule(
                "window-missing-party",
                format!(
                    "every party of the genesis must consent to a window; terms.required_parties lacks {}",
                    missing.join(", ")
                ),
            ));
        }
        for (p, text) in &t.guarantees {
            if !t.required_parties.contains(p) {
                return Err(Rejection::invalid(
                    "terms.guarantees",
                    format!("{p:?} is not a required party"),
                ));
            }
            if text.trim().is_empty() {
                return Err(Rejection::invalid(
                    "terms.guarantees",
                    "a guarantee must say something",
                ));
            }
            let unchanged = previous.and_then(|prev| prev.guarantees.get(p)) == Some(text);
            if !unchanged && ctx.party != Some(p.as_str()) {
                return Err(Rejection::rule(
                    "guarantee-of-another-party",
                    format!("only {p:?} may state its own security guarantee"),
                ));
            }
        }
        if let Some(prev) = previous {
            for (p, text) in &prev.guarantees {
                if t.required_parties.contains(p)
                    && t.guarantees.get(p) != Some(text)
                    && ctx.party != Some(p.as_str())
                {
                    return Err(Rejection::rule(
                        "guarantee-of-another-party",
                        format!("only {p:?} may change or drop its own security guarantee"),
                    ));
                }
            }
        }
        Ok(())
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

    fn final_or_started(&self, w: &Window, ctx: &Ctx) -> Result<(), Rejection> {
        let (status, _) = w.status_at(ctx.time).expect("the window has a version");
        if matches!(
            status,
            Status::Cancelled | Status::Withdrawn | Status::Expired | Status::Completed
        ) {
            return Err(Rejection::rule(
                "window-closed",
                format!(
                    "window {} is {}; propose a new window",
                    w.id,
                    status.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// Decide and apply one agreement command. Returns the ids of changed records as
    /// (projection kind, id).
    pub fn execute(
        &mut self,
        ctx: &Ctx,
        body: &crate::command::Body,
    ) -> Result<Vec<(&'static str, String)>, Rejection> {
        use crate::command::Body as B;
        match body {
            B::SettlementImport(b) => {
                if !ctx.is_intermediary() {
                    return Err(ctx.deny("import settlements (the intermediary does)"));
                }
                if b.settlements.is_empty() {
                    return Err(Rejection::invalid(
                        "settlements",
                        "import at least one settlement",
                    ));
                }
                for s in &b.settlements {
                    names_ok(&format!("settlements[{}].names", s.id), &s.names)?;
                    crate::localtime::zone(&s.zone)?;
                    if s.id.is_empty() || s.id.len() > 64 {
                        return Err(Rejection::invalid("settlements.id", "1 to 64 characters"));
                    }
                    s.location
                        .check(&format!("settlements[{}].location", s.id))?;
                }
                let mut changed = Vec::new();
                for s in &b.settlements {
                    if self.settlements.get(&s.id) != Some(s) {
                        self.settlements.insert(s.id.clone(), s.clone());
                        changed.push(("settlement", s.id.clone()));
                    }
                }
                Ok(changed)
            }
            B::CorridorPropose(b) => {
                if !(ctx.is_intermediary() || ctx.is_party_coordinator()) {
                    return Err(ctx.deny("propose corridors"));
                }
                if self.corridors.contains_key(&b.corridor) {
                    return Err(Rejection::rule(
                        "corridor-exists",
                        format!("corridor {:?} exists; amend it", b.corridor),
                    ));
                }
                self.check_corridor_terms(&b.terms)?;
                self.corridors.insert(
                    b.corridor.clone(),
                    Corridor {
                        id: b.corridor.clone(),
                        versions: vec![CorridorVersion {
                            version: 1,
                            terms: b.terms.clone(),
                            actor: ctx.actor.into(),
                            at_index: ctx.index,
                            at_time: ctx.at(),
                        }],
                    },
                );
                Ok(vec![("corridor", b.corridor.clone())])
            }
            B::CorridorAmend(b) => {
                if !(ctx.is_intermediary() || ctx.is_party_coordinator()) {
                    return Err(ctx.deny("amend corridors"));
                }
                let latest = self.corridor(&b.corridor)?.latest().version;
                if b.base_version != latest {
                    return Err(Rejection::rule(
                        "stale-version",
                        format!(
                            "corridor {} is at version {latest}, not {}",
                            b.corridor, b.base_version
                        ),
                    ));
                }
                self.check_corridor_terms(&b.terms)?;
                let c = self.corridors.get_mut(&b.corridor).expect("checked");
                c.versions.push(CorridorVersion {
                    version: latest + 1,
                    terms: b.terms.clone(),
                    actor: ctx.actor.into(),
                    at_index: ctx.index,
                    at_time: ctx.at(),
                });
                Ok(vec![("corridor", b.corridor.clone())])
            }
            B::WindowPropose(b) => {
                if !(ctx.is_intermediary() || ctx.is_party_coordinator()) {
                    return Err(ctx.deny("propose windows"));
                }
                if self.windows.contains_key(&b.window) {
                    return Err(Rejection::rule(
                        "window-exists",
                        format!("window {:?} exists; amend it", b.window),
                    ));
                }
                let cv = self.corridor_version(&b.corridor, b.corridor_version)?;
                self.check_window_terms(ctx, &b.terms, None)?;
                let hash = version_hash(&b.window, 1, &b.terms, &b.corridor, &cv);
                self.windows.insert(
                    b.window.clone(),
                    Window {
                        id: b.window.clone(),
                        corridor: b.corridor.clone(),
                        proposer: ctx.actor.into(),
                        versions: vec![WindowVersion {
                            version: 1,
                            corridor_version: cv.version,
                            terms: b.terms.clone(),
                            hash,
                            actor: ctx.actor.into(),
                            at_index: ctx.index,
                            at_time: ctx.at(),
                        }],
                        acts: vec![],
                    },
                );
                Ok(vec![("window", b.window.clone())])
            }
            B::WindowAmend(b) => {
                if !(ctx.is_intermediary() || ctx.is_party_coordinator()) {
                    return Err(ctx.deny("amend windows"));
                }
                let w = self.window(&b.window)?;
                self.final_or_started(w, ctx)?;
                let latest = w.latest();
                if b.base_version != latest.version {
                    return Err(Rejection::rule(
                        "stale-version",
                        format!(
                            "window {} is at version {}, not {}",
                            b.window, latest.version, b.base_version
                        ),
                    ));
                }
                if latest.start() <= ctx.time {
                    return Err(Rejection::rule(
                        "window-started",
                        "a window cannot be amended after its start; propose a new one",
                    ));
                }
                let corridor = w.corridor.clone();
                let prev_terms = latest.terms.clone();
                let next = latest.version + 1;
                let cv = self.corridor_version(&corridor, b.corridor_version)?;
                self.check_window_terms(ctx, &b.terms, Some(&prev_terms))?;
                let hash = version_hash(&b.window, next, &b.terms, &corridor, &cv);
                let w = self.windows.get_mut(&b.window).expect("checked");
                w.versions.push(WindowVersion {
                    version: next,
                    corridor_version: cv.version,
                    terms: b.terms.clone(),
                    hash,
                    actor: ctx.actor.into(),
                    at_index: ctx.index,
                    at_time: ctx.at(),
                });
                Ok(vec![("window", b.window.clone())])
            }
            B::WindowConsent(b) => {
                ctx.own_party(&b.party, "consent")?;
                let w = self.window(&b.window)?;
                self.final_or_started(w, ctx)?;
                let v = w.latest();
                if !v.terms.required_parties.contains(&b.party) {
                    return Err(Rejection::rule(
                        "party-not-required",
                        format!(
                            "{:?} is not a required party of window {}",
                            b.party, b.window
                        ),
                    ));
                }
                if b.version_hash != v.hash {
                    let known = w.versions.iter().any(|x| x.hash == b.version_hash);
                    return Err(Rejection::rule(
                        if known {
                            "superseded-version"
                        } else {
                            "unknown-version"
                        },
                        format!(
                            "window {} is at version {} with hash {}; consent to that exact version",
                            b.window, v.version, v.hash
                        ),
                    ));
                }
                if v.start() <= ctx.time {
                    return Err(Rejection::rule(
                        "window-started",
                        "consent must come before the window starts",
                    ));
                }
                let missing = self.missing(w);
                if !missing.is_empty() {
                    return Err(Rejection::rule(
                        "incomplete-proposal",
                        format!(
                            "consent is refused until the proposal is complete; missing: {}",
                            missing.join(", ")
                        ),
                    ));
                }
                if w.acts.iter().any(|a| {
                    !a.void
                        && a.kind == "consent"
                        && a.party.as_deref() == Some(&b.party)
                        && a.version_hash.as_deref() == Some(&v.hash)
                }) {
                    return Err(Rejection::rule(
                        "already-consented",
                        format!("{} already consented to this version", b.party),
                    ));
                }
                // Would this consent complete the agreement? Then it must not overlap another
                // agreed window on the same corridor.
                let others_done = v
                    .terms
                    .required_parties
                    .iter()
                    .filter(|p| **p != b.party)
                    .all(|p| {
                        w.acts.iter().any(|a| {
                            !a.void
                                && a.kind == "consent"
                                && a.party.as_deref() == Some(p)
                                && a.version_hash.as_deref() == Some(&v.hash)
                        })
                    });
                if others_done {
                    let (s, e) = (v.start(), v.end());
                    for other in self
                        .windows
                        .values()
                        .filter(|o| o.corridor == w.corridor && o.id != w.id)
                    {
                        let Some((st, _)) = other.status_at(ctx.time) else {
                            continue;
                        };
                        let ov = other.version_at(ctx.time).expect("has status");
                        if st.holds_time() && ov.start() < e && s < ov.end() {
                            return Err(Rejection::rule(
                                "overlapping-window",
                                format!(
                                    "window {} on the same corridor is {} from {} to {}, which overlaps",
                                    other.id,
                                    st.as_str(),
                                    ov.terms.start,
                                    ov.terms.end
                                ),
                            ));
                        }
                    }
                }
                let hash = v.hash.clone();
                self.push_act(&b.window, ctx, "consent", Some(&b.party), Some(hash), None);
                Ok(vec![("window", b.window.clone())])
            }
            B::WindowWithdraw(b) => {
                ctx.own_party(&b.party, "withdraw consent")?;
                let w = self.window(&b.window)?;
                self.final_or_started(w, ctx)?;
                let v = w.latest();
                if v.start() <= ctx.time {
                    return Err(Rejection::rule(
                        "withdrawal-after-start",
                        "consent can be taken back only before the start; once inside the window, suspend it instead",
                    ));
                }
                if !w.acts.iter().any(|a| {
                    !a.void
                        && a.kind == "consent"
                        && a.party.as_deref() == Some(&b.party)
                        && a.version_hash.as_deref() == Some(&v.hash)
                }) {
                    return Err(Rejection::rule(
                        "no-consent",
                        format!("{} has not consented to the current version", b.party),
                    ));
                }
                self.push_act(
                    &b.window,
                    ctx,
                    "withdraw",
                    Some(&b.party),
                    None,
                    Some(b.reason.clone()),
                );
                self.set_public_reason(&b.window, b.public_reason);
                Ok(vec![("window", b.window.clone())])
            }
            B::WindowCancel(b) => {
                let w = self.window(&b.window)?;
                if w.proposer != ctx.actor {
                    return Err(ctx.deny("cancel a window someone else proposed"));
                }
                self.final_or_started(w, ctx)?;
                if w.acts.iter().any(|a| a.kind == "consent") {
                    return Err(Rejection::rule(
                        "has-consents",
                        "a party already consented; only a party can withdraw now",
                    ));
                }
                self.push_act(&b.window, ctx, "cancel", None, None, Some(b.reason.clone()));
                Ok(vec![("window", b.window.clone())])
            }
            B::WindowSuspend(b) => {
                ctx.own_party(&b.party, "suspend")?;
                let w = self.window(&b.window)?;
                if !w.latest().terms.required_parties.contains(&b.party) {
                    return Err(Rejection::rule(
                        "party-not-required",
                        format!("{:?} is not a party to window {}", b.party, b.window),
                    ));
                }
                let (st, _) = w.status_at(ctx.time).expect("has a version");
                if st != Status::Active {
                    return Err(Rejection::rule(
                        "not-active",
                        format!("window {} is {}, not active", b.window, st.as_str()),
                    ));
                }
                self.push_act(
                    &b.window,
                    ctx,
                    "suspend",
                    Some(&b.party),
                    None,
                    Some(b.reason.clone()),
                );
                self.set_public_reason(&b.window, b.public_reason);
                Ok(vec![("window", b.window.clone())])
            }
            B::WindowResume(b) => {
                ctx.own_party(&b.party, "resume")?;
                let w = self.window(&b.window)?;
                let v = w.latest();
                if !v.terms.required_parties.contains(&b.party) {
                    return Err(Rejection::rule(
                        "party-not-required",
                        format!("{:?} is not a party to window {}", b.party, b.window),
                    ));
                }
                let (st, _) = w.status_at(ctx.time).expect("has a version");
                if st != Status::Suspended {
                    return Err(Rejection::rule(
                        "not-suspended",
                        format!("window {} is {}, not suspended", b.window, st.as_str()),
                    ));
                }
                if b.version_hash != v.hash {
                    return Err(Rejection::rule(
                        "superseded-version",
                        "resume names the exact current version hash",
                    ));
                }
                self.push_act(
                    &b.window,
                    ctx,
                    "resume",
                    Some(&b.party),
                    Some(v.hash.clone()),
                    None,
                );
                Ok(vec![("window", b.window.clone())])
            }
            B::DeclarationPublish(b) => {
                let Some(party) = ctx.party.filter(|_| ctx.is_party_coordinator()) else {
                    return Err(ctx.deny("publish a party declaration"));
                };
                if self.declarations.contains_key(&b.declaration) {
                    return Err(Rejection::rule(
                        "declaration-exists",
                        format!("declaration {:?} exists", b.declaration),
                    ));
                }
                if let Some(c) = &b.corridor {
                    self.corridor(c)?;
                }
                let start = parse_utc("start", &b.start)?;
                if let Some(e) = &b.end
                    && parse_utc("end", e)? <= start
                {
                    return Err(Rejection::rule(
                        "end-before-start",
                        "the declaration must end after it starts",
                    ));
                }
                names_ok("text", &b.text)?;
                self.declarations.insert(
                    b.declaration.clone(),
                    Declaration {
                        id: b.declaration.clone(),
                        party: party.into(),
                        actor: ctx.actor.into(),
                        corridor: b.corridor.clone(),
                        start: b.start.clone(),
                        end: b.end.clone(),
                        text: b.text.clone(),
                        at_index: ctx.index,
                    },
                );
                Ok(vec![("declaration", b.declaration.clone())])
            }
            _ => unreachable!("only agreement commands are routed here"),
        }
    }

    fn corridor_version(&self, corridor: &str, version: u32) -> Result<CorridorVersion, Rejection> {
        let c = self.corridor(corridor)?;
        let latest = c.latest();
        if latest.version != version {
            return Err(Rejection::rule(
                if c.versions.iter().any(|v| v.version == version) {
                    "superseded-version"
                } else {
                    "unknown-version"
                },
                format!(
                    "corridor {corridor} is at version {}; windows are proposed on the latest version",
                    latest.version
                ),
            ));
        }
        Ok(latest.clone())
    }

    fn push_act(
        &mut self,
        window: &str,
        ctx: &Ctx,
        kind: &str,
        party: Option<&str>,
        version_hash: Option<String>,
        reason: Option<String>,
    ) {
        let w = self.windows.get_mut(window).expect("checked by the caller");
        w.acts.push(WindowAct {
            kind: kind.into(),
            party: party.map(str::to_string),
            actor: ctx.actor.into(),
            version_hash,
            reason,
            public_reason: None,
            at_index: ctx.index,
            at_time: ctx.at(),
            void: false,
        });
    }

    /// Record the public reason on the act just pushed.
    fn set_public_reason(&mut self, window: &str, reason: Option<PublicReason>) {
        if let Some(a) = self.windows.get_mut(window).and_then(|w| w.acts.last_mut()) {
            a.public_reason = reason;
        }
    }

    /// Void every act signed in the given entries (a key declared compromised): consents given
    /// with it stop counting until the party consents again. Returns the windows changed.
    pub fn void_entries(
        &mut self,
        entries: &std::collections::BTreeSet<u64>,
    ) -> Vec<(&'static str, String)> {
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
                changed.push(("window", w.id.clone()));
            }
        }
        changed
    }
}

/// A route from GeoJSON (RFC 7946: a LineString geometry, or a Feature holding one; WGS 84,
/// `[longitude, latitude]`) to the integer 1e-7 degree pairs signed commands carry. Positions
/// with more than seven decimals are rounded to the nearest 1e-7 degree (about 1 cm).
pub fn route_from_geojson(v: &serde_json::Value) -> Result<Vec<[i64; 2]>, Rejection> {
    let bad = |why: &str| Rejection::rule("invalid-geometry", why.to_string());
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
    check_route(&route)?;
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
}

//! Incident reports: claims attributed to their reporter, with the accused party's answers, the
//! intermediary's verification and each claim matched against what was agreed for that place
//! and hour.
//!
//! Why the rules take this shape: after the March 2022 agreement each side accused the other of
//! firing on people in the corridors and nobody could check. A report here is never a verdict.
//! It says who claims what, when and where, how precisely, and with which evidence (committed
//! to, not disclosed). The accused answers beside it. The intermediary may set a status with its
//! reasoning. And the log says, for the instant and the place claimed, which corridor and which
//! window were agreed then: the window suspended at 09:40 was still agreed at 09:30.
//!
//! Who reads a report (its audience) follows from the reporter's side and the accused party
//! alone ([`crate::access::incident_audience`]), so nothing recorded later may change either:
//! a correction keeps the accused party, and a duplicate mark is allowed only where it tells no
//! reader of a report about another report it may not read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::access::{Audience, Reader, incident_audience};
use crate::agreement::{Agreements, Ctx, Status};
use crate::command::{
    IncidentCategory, IncidentCorrect, IncidentDuplicate, IncidentReport, IncidentRespond,
    IncidentVerify, Point, Role, VerificationStatus,
};
use crate::error::Rejection;
use crate::state::Actor;
use crate::time::{format_log_time, parse_utc};
use jiff::Timestamp;

/// Largest accuracy a report may state, in metres. A claim placed no better than within 50 km
/// says nothing about any corridor, and an absurd figure is far more often a typing slip (a
/// value in centimetres, a stray zero) than an honest statement.
pub const MAX_ACCURACY_M: i64 = 50_000;

/// Most evidence commitments one report may carry: enough for a photo set, small enough to bound
/// an entry.
pub const MAX_EVIDENCE: usize = 64;

/// The domain-separation prefix of an evidence commitment, so that a commitment can never be
/// confused with any other hash the log carries.
const EVIDENCE_DOMAIN: &[u8] = b"corridor/v1 evidence\0";

/// The salted commitment to one evidence file: lowercase hex of
/// SHA-256(`"corridor/v1 evidence\0"` ‖ salt ‖ SHA-256(file)). Why salted: the accused party
/// reads every report that accuses it; a bare hash would let it test which of the photos it
/// suspects the source holds. Why over the file's SHA-256 rather than the file: so a client can
/// commit to a large video without hashing it twice, and the server can open a commitment from
/// the content address it stores the file under.
pub fn commitment(salt: &[u8; 32], file_sha256: &[u8; 32]) -> String {
    hex(&crate::crypto::sha256(&[
        EVIDENCE_DOMAIN,
        salt,
        file_sha256,
    ]))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// What a report claims, as the reporter states it: shared by the first version and every
/// correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// When it happened, or began (RFC 3339 UTC).
    pub occurred_at: String,
    /// When it ended, for a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_until: Option<String>,
    /// Where.
    pub location: Point,
    /// How precisely, in metres; absent in reports made before the field existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<i64>,
    /// What kind.
    pub category: IncidentCategory,
    /// The reporter's words.
    pub description: String,
    /// Evidence commitments ([`commitment`]).
    pub evidence: Vec<String>,
}

impl Claim {
    /// The claim of a first report.
    pub fn of_report(b: &IncidentReport) -> Claim {
        Claim {
            occurred_at: b.occurred_at.clone(),
            occurred_until: b.occurred_until.clone(),
            location: b.location,
            accuracy_m: b.accuracy_m,
            category: b.category,
            description: b.description.clone(),
            evidence: b.evidence.clone(),
        }
    }

    /// The claim of a correction.
    pub fn of_correction(b: &IncidentCorrect) -> Claim {
        Claim {
            occurred_at: b.occurred_at.clone(),
            occurred_until: b.occurred_until.clone(),
            location: b.location,
            accuracy_m: b.accuracy_m,
            category: b.category,
            description: b.description.clone(),
            evidence: b.evidence.clone(),
        }
    }

    /// The instant the claim refers to (its start for a range).
    pub fn from(&self) -> Timestamp {
        ts(&self.occurred_at)
    }

    /// The end of the claimed range (the instant itself when there is no range).
    pub fn until(&self) -> Timestamp {
        self.occurred_until.as_deref().map_or(self.from(), ts)
    }

    /// The point as `[lon, lat]` in 1e-7 degree, the order routes use.
    pub fn lon_lat(&self) -> [i64; 2] {
        [self.location.lon_e7, self.location.lat_e7]
    }
}

/// The checks a claim passes on its own, before any state is consulted. Each failure has its own
/// code, because a field client tells the user which field to fix.
pub fn check_claim(c: &Claim) -> Result<(), Rejection> {
    let p = &c.location;
    if !(-900_000_000..=900_000_000).contains(&p.lat_e7)
        || !(-1_800_000_000..=1_800_000_000).contains(&p.lon_e7)
    {
        return Err(Rejection::rule(
            "incident-location-out-of-range",
            "location: latitude must be within ±90° and longitude within ±180°, in units of 1e-7 degree (50.45° is 504500000)",
        ));
    }
    if let Some(a) = c.accuracy_m
        && !(0..=MAX_ACCURACY_M).contains(&a)
    {
        return Err(Rejection::rule(
            "incident-accuracy-invalid",
            format!(
                "accuracy_m is {a}: it must be a distance in metres from 0 to {MAX_ACCURACY_M}"
            ),
        ));
    }
    let from = parse_utc("command.body.occurred_at", &c.occurred_at)?;
    if let Some(u) = &c.occurred_until {
        let until = parse_utc("command.body.occurred_until", u)?;
        if until < from {
            return Err(Rejection::rule(
                "incident-time-reversed",
                format!(
                    "occurred_until ({u}) is before occurred_at ({})",
                    c.occurred_at
                ),
            ));
        }
    }
    if c.evidence.len() > MAX_EVIDENCE {
        return Err(Rejection::rule(
            "evidence-too-many",
            format!("a report carries at most {MAX_EVIDENCE} evidence commitments"),
        ));
    }
    for (i, h) in c.evidence.iter().enumerate() {
        if h.len() != 64 || !h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(Rejection::rule(
                "evidence-commitment-invalid",
                format!(
                    "evidence[{i}] must be a salted commitment: 32 bytes as 64 lowercase hex digits (corridor incident report computes it from the file)"
                ),
            ));
        }
    }
    Ok(())
}

/// One version of a report: the claim as it then stood, who recorded it and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportVersion {
    /// 1 for the report, 2, 3, ... for corrections.
    pub version: u32,
    /// Who recorded it.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
    /// Why it was corrected (absent for the first version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The claim.
    #[serde(flatten)]
    pub claim: Claim,
}

/// An answer to an incident report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// Who answered.
    pub actor: String,
    /// Entry of the answer.
    pub index: u64,
    /// The answer.
    pub text: String,
}

/// One verification status the intermediary set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The status.
    pub status: VerificationStatus,
    /// Its reasoning.
    pub reasoning: String,
    /// Who set it.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
    /// Log time.
    pub at_time: String,
}

/// A mark that a report repeats another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateMark {
    /// The report it repeats.
    pub of: String,
    /// Who marked it.
    pub actor: String,
    /// Entry index.
    pub at_index: u64,
}

/// One corridor (and window, if one was scheduled then) that a report's place and time fall in,
/// as they stood at the incident's time. A derived view of the log, recomputed identically by
/// every replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The corridor.
    pub corridor: String,
    /// The corridor version whose route was measured: the one the window was agreed for, or
    /// the corridor's version at the incident's time when no window covered it.
    pub corridor_version: u32,
    /// A window whose time covered (or, for a range, overlapped) the incident, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// That window's version at the incident's time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_version: Option<u32>,
    /// That window's status at the incident's time (not now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_status_at_incident: Option<Status>,
    /// Whether an agreed window was open there at that instant (status active).
    pub agreed_and_open: bool,
    /// Metres from the route's nearest segment, to the decimetre.
    pub distance_m: f64,
    /// Distance plus accuracy within the half width: inside wherever in its accuracy the
    /// incident was. Never true when the report states no accuracy.
    pub certainly_inside: bool,
    /// Distance minus accuracy within the half width: inside for some place within its
    /// accuracy.
    pub possibly_inside: bool,
}

/// An incident report with everything recorded about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Incident id.
    pub id: String,
    /// Who reported it (a claim attributed to them, never a fact).
    pub reporter: String,
    /// Entry of the report.
    pub reported_at: u64,
    /// The party accused, if any. Fixed at the report: it decides who reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accused_party: Option<String>,
    /// The current version's number.
    pub version: u32,
    /// The claim as it now stands (the last version's).
    #[serde(flatten)]
    pub claim: Claim,
    /// Every version, oldest first: nothing is deleted.
    pub versions: Vec<ReportVersion>,
    /// Answers by the accused party, in log order.
    pub responses: Vec<Response>,
    /// The intermediary's current status ("unverified" until it sets one).
    pub status: VerificationStatus,
    /// Every status it set, oldest first.
    pub verifications: Vec<Verification>,
    /// Set when the report was marked as repeating another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<DuplicateMark>,
    /// The corridors and windows the current claim falls in.
    pub matches: Vec<Match>,
}

impl Incident {
    /// Who may read this report and everything recorded about it.
    pub fn audience(&self) -> Audience {
        incident_audience(&self.reporter, self.accused_party.as_deref())
    }
}

/// Incident reports by id.
pub type Incidents = BTreeMap<String, Incident>;

fn ts(s: &str) -> Timestamp {
    // Stored times were validated when the command was accepted.
    s.parse().unwrap_or(Timestamp::MIN)
}

/// A claim may not lie in the future by the log's clock: a report of what has not happened yet
/// is a typing slip (a wrong date or zone), and matching needs the agreements as they stood.
fn check_not_future(c: &Claim, now: Timestamp) -> Result<(), Rejection> {
    if c.until() > now {
        return Err(Rejection::rule(
            "incident-time-future",
            format!(
                "the incident's time ({}) is after the log's clock ({}): check the date and that the time is UTC",
                c.occurred_until.as_deref().unwrap_or(&c.occurred_at),
                format_log_time(now)
            ),
        ));
    }
    Ok(())
}

/// The answer to a report this actor may not read, or that does not exist: the same, so that a
/// refusal never tells another side that a confidential report is there.
fn unknown(id: &str) -> Rejection {
    Rejection::rule(
        "unknown-incident",
        format!("no incident {id:?} that you may read in this log"),
    )
}

/// The report `id`, if `actor` may read it.
fn readable<'a>(
    incidents: &'a Incidents,
    actor: &Actor,
    id: &str,
) -> Result<&'a Incident, Rejection> {
    incidents
        .get(id)
        .filter(|i| i.audience().admits(Reader::Actor(actor)))
        .ok_or_else(|| unknown(id))
}

/// `incident.report`.
pub fn report(
    incidents: &mut Incidents,
    agreements: &Agreements,
    ctx: &Ctx<'_>,
    actor: &Actor,
    b: &IncidentReport,
) -> Result<String, Rejection> {
    // Incident ids are scoped by side, like actor ids, so that a collision can only be with
    // one's own side's reports: a global namespace told one side whether the other had filed a
    // confidential report under a guessed id.
    let side = ctx.affiliation;
    if b.incident.split_once('/').map(|(p, _)| p) != Some(side) {
        return Err(Rejection::rule(
            "incident-id-not-scoped",
            format!(
                "an incident id starts with your side's id: use \"{side}/{}\"",
                b.incident.rsplit('/').next().unwrap_or(&b.incident)
            ),
        ));
    }
    if incidents.contains_key(&b.incident) {
        return Err(Rejection::rule(
            "incident-exists",
            format!("incident {:?} was already reported", b.incident),
        ));
    }
    // The accused party reads every report that accuses it, reporter included, and a party's
    // units are known to that party and the intermediary only: a unit that accused the other
    // side would name itself to it. Its coordinators file the accusation; the unit may still
    // report without accusing anyone.
    if ctx.role == Role::Unit && b.accused_party.is_some() {
        return Err(Rejection::rule(
            "unit-cannot-accuse",
            "a unit's report may not name an accused party (the accused would learn the unit exists): report without accused_party, and your coordinators file the accusation",
        ));
    }
    if let Some(p) = &b.accused_party
        && !ctx.genesis.parties.iter().any(|x| &x.id == p)
    {
        return Err(Rejection::rule(
            "unknown-party",
            format!("{p:?} is not a party to this log"),
        ));
    }
    let claim = Claim::of_report(b);
    check_not_future(&claim, ctx.time)?;
    let matches = matches(agreements, &claim);
    incidents.insert(
        b.incident.clone(),
        Incident {
            id: b.incident.clone(),
            reporter: actor.id.clone(),
            reported_at: ctx.index,
            accused_party: b.accused_party.clone(),
            version: 1,
            versions: vec![ReportVersion {
                version: 1,
                actor: actor.id.clone(),
                at_index: ctx.index,
                at_time: format_log_time(ctx.time),
                reason: None,
                claim: claim.clone(),
            }],
            claim,
            responses: vec![],
            status: VerificationStatus::Unverified,
            verifications: vec![],
            duplicate_of: None,
            matches,
        },
    );
    Ok(b.incident.clone())
}

/// `incident.correct`: a new version by the reporter's side (a unit corrects only its own).
pub fn correct(
    incidents: &mut Incidents,
    agreements: &Agreements,
    ctx: &Ctx<'_>,
    actor: &Actor,
    b: &IncidentCorrect,
) -> Result<String, Rejection> {
    let inc = readable(incidents, actor, &b.incident)?;
    let own_side = crate::access::affiliation_of(&inc.reporter) == ctx.affiliation;
    if !own_side || (ctx.role == Role::Unit && inc.reporter != actor.id) {
        return Err(Rejection::rule(
            "incident-not-yours",
            format!(
                "only {}'s side may correct this report (a unit only its own); to dispute it, answer it or report what you saw",
                inc.reporter
            ),
        ));
    }
    let claim = Claim::of_correction(b);
    check_not_future(&claim, ctx.time)?;
    let matches = matches(agreements, &claim);
    let inc = incidents.get_mut(&b.incident).expect("checked");
    inc.version += 1;
    inc.versions.push(ReportVersion {
        version: inc.version,
        actor: actor.id.clone(),
        at_index: ctx.index,
        at_time: format_log_time(ctx.time),
        reason: Some(b.reason.clone()),
        claim: claim.clone(),
    });
    inc.claim = claim;
    inc.matches = matches;
    Ok(b.incident.clone())
}

/// `incident.respond`: only the accused party's coordinators and admin answer.
pub fn respond(
    incidents: &mut Incidents,
    ctx: &Ctx<'_>,
    actor: &Actor,
    b: &IncidentRespond,
) -> Result<String, Rejection> {
    let inc = readable(incidents, actor, &b.incident)?;
    if ctx.party.is_none() || ctx.party != inc.accused_party.as_deref() {
        return Err(Rejection::rule(
            "incident-answer-not-accused",
            match &inc.accused_party {
                Some(p) => format!("only the accused party ({p}) answers this report"),
                None => "this report accuses no party: there is no one to answer it".into(),
            },
        ));
    }
    let inc = incidents.get_mut(&b.incident).expect("checked");
    inc.responses.push(Response {
        actor: actor.id.clone(),
        index: ctx.index,
        text: b.text.clone(),
    });
    Ok(b.incident.clone())
}

/// `incident.verify`: the intermediary's status (the role gate admits only its staff).
pub fn verify(
    incidents: &mut Incidents,
    ctx: &Ctx<'_>,
    actor: &Actor,
    b: &IncidentVerify,
) -> Result<String, Rejection> {
    readable(incidents, actor, &b.incident)?;
    let inc = incidents.get_mut(&b.incident).expect("checked");
    inc.status = b.status;
    inc.verifications.push(Verification {
        status: b.status,
        reasoning: b.reasoning.clone(),
        actor: actor.id.clone(),
        at_index: ctx.index,
        at_time: format_log_time(ctx.time),
    });
    Ok(b.incident.clone())
}

/// `incident.duplicate`: by someone who reads both; only the report with the narrower (or the
/// same) audience may be marked, so the mark on it names nothing its readers may not read.
pub fn duplicate(
    incidents: &mut Incidents,
    ctx: &Ctx<'_>,
    actor: &Actor,
    b: &IncidentDuplicate,
) -> Result<String, Rejection> {
    let marked = readable(incidents, actor, &b.incident)?;
    let original = readable(incidents, actor, &b.duplicate_of)?;
    if marked.id == original.id {
        return Err(Rejection::rule(
            "incident-duplicate-invalid",
            "a report cannot repeat itself",
        ));
    }
    if let Some(m) = &marked.duplicate_of {
        return Err(Rejection::rule(
            "incident-duplicate-invalid",
            format!("{} is already marked as repeating {}", marked.id, m.of),
        ));
    }
    if let Some(m) = &original.duplicate_of {
        return Err(Rejection::rule(
            "incident-duplicate-invalid",
            format!(
                "{} itself repeats {}: mark {} as repeating {} instead",
                original.id, m.of, marked.id, m.of
            ),
        ));
    }
    if !narrower_or_same(&marked.audience(), &original.audience()) {
        return Err(Rejection::rule(
            "incident-duplicate-wider",
            format!(
                "some who read {} may not read {}: mark the other one as the duplicate (the report fewer people read)",
                marked.id, original.id
            ),
        ));
    }
    let inc = incidents.get_mut(&b.incident).expect("checked");
    inc.duplicate_of = Some(DuplicateMark {
        of: b.duplicate_of.clone(),
        actor: actor.id.clone(),
        at_index: ctx.index,
    });
    Ok(b.incident.clone())
}

/// Whether every reader `a` admits is admitted by `b`.
fn narrower_or_same(a: &Audience, b: &Audience) -> bool {
    match (a, b) {
        (_, Audience::Public) => true,
        (Audience::Public, _) => false,
        (_, Audience::Members) => true,
        (Audience::Members, _) => false,
        (Audience::Affiliations(x), Audience::Affiliations(y)) => x.is_subset(y),
    }
}

/// Every corridor (and scheduled window) the claim falls in, as they stood at the claim's
/// time. The exact test is [`crate::matching::hit`] (IEEE basic operations only), so the server
/// and `corridor verify` give the same matches to the bit. A log holds tens of corridors, so each
/// report scans them; the R-tree of [`crate::matching::Index`] is for the many-corridor case.
pub fn matches(agreements: &Agreements, claim: &Claim) -> Vec<Match> {
    let (from, until) = (claim.from(), claim.until());
    let point = claim.lon_lat();
    let accuracy = claim.accuracy_m.unwrap_or(0);
    let mut out = Vec::new();
    for corridor in agreements.corridors.values() {
        // The corridor as it stood: its last version recorded by then.
        let Some(standing) = corridor
            .versions
            .iter()
            .rev()
            .find(|v| ts(&v.at_time) <= from)
        else {
            continue;
        };
        let measure = |version: u32| {
            let v = corridor
                .versions
                .iter()
                .find(|v| v.version == version)
                .unwrap_or(standing);
            crate::matching::hit(&v.terms.route, v.terms.buffer_m, point, accuracy)
                .map(|h| (v.version, h))
        };
        let mut windowed = false;
        for w in agreements
            .windows
            .values()
            .filter(|w| w.corridor == corridor.id)
        {
            let Some(v) = w.version_at(from) else {
                continue;
            };
            if !(from < v.end() && until >= v.start()) {
                continue;
            }
            windowed = true;
            let Some((corridor_version, hit)) = measure(v.corridor_version) else {
                continue;
            };
            let status = w.status_at(from).map(|(s, _)| s);
            out.push(Match {
                corridor: corridor.id.clone(),
                corridor_version,
                window: Some(w.id.clone()),
                window_version: Some(v.version),
                agreed_and_open: status == Some(Status::Active),
                window_status_at_incident: status,
                distance_m: decimetres(hit.distance_m),
                certainly_inside: hit.certainly_inside && claim.accuracy_m.is_some(),
                possibly_inside: hit.possibly_inside,
            });
        }
        if !windowed && let Some((corridor_version, hit)) = measure(standing.version) {
            out.push(Match {
                corridor: corridor.id.clone(),
                corridor_version,
                window: None,
                window_version: None,
                window_status_at_incident: None,
                agreed_and_open: false,
                distance_m: decimetres(hit.distance_m),
                certainly_inside: hit.certainly_inside && claim.accuracy_m.is_some(),
                possibly_inside: hit.possibly_inside,
            });
        }
    }
    out
}

/// A distance rounded to the decimetre: finer than any position fix, and short in JSON.
fn decimetres(m: f64) -> f64 {
    (m * 10.0).round() / 10.0
}

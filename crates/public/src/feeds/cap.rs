//! OASIS CAP 1.2 alerts, one per public change of a window.
//!
//! Alert hubs, broadcasters and phone alert systems speak CAP, so every change civilians must
//! know about is an alert: **Alert** for the first (the window becomes agreed), **Update** for
//! every later one (new terms agreed, terms being changed, opened or closed by the clock,
//! suspended, resumed, withdrawn, cancelled, expired unagreed). Each Update references every
//! earlier alert of its window.
//!
//! Never **Cancel**: CAP's Cancel withdraws the referenced alerts, and a hub or a phone may
//! simply drop "the corridor is open" and show nothing, when what people must hear is "do not
//! set out". A suspension is news that needs action, so it is an Update that supersedes the
//! earlier alerts and says what to do.
//!
//! The history is recomputed from the records and the instant ([`history`]): alerts are never
//! stored, so a replay publishes the same alerts, and an identifier names the change that caused
//! it (`{origin}/{window}/opened`, `.../suspended-{entry}`), not a counter, so it stays the same
//! whatever else happens later.
//!
//! Mapping from the public status of the window (after the change) to the CAP fields:
//!
//! | status    | msgType | responseType       | urgency                          | severity | certainty | expires    | instruction starts with |
//! |-----------|---------|--------------------|----------------------------------|----------|-----------|------------|-------------------------|
//! | upcoming  | Alert (first) / Update | Prepare | Expected within 1 h, else Future | Severe | Likely   | window end | what to bring, where to gather |
//! | open      | Update  | Evacuate (Monitor for aid only) | Immediate           | Severe   | Likely    | window end | what to bring, where to gather |
//! | pending   | Update  | Monitor            | Expected within 1 h, else Future | Severe   | Possible  | window end | do not rely on these times |
//! | suspended | Update  | Shelter, Avoid     | Immediate                        | Severe   | Observed  | window end | do not use the corridor now |
//! | cancelled | Update  | Avoid              | Immediate                        | Severe   | Observed  | window end | the corridor will not open: do not set out |
//! | closed    | Update  | Avoid              | Immediate                        | Severe   | Observed  | (none)     | the ceasefire has ended: do not set out |
//!
//! Why: Severe everywhere because moving through a front line is a threat to life even under
//! an agreed ceasefire; Likely, not Observed, for a window that is to hold, because March 2022
//! showed agreed windows failing. A suspended corridor means "stay where you are safe, keep off
//! the route": Shelter and Avoid, Immediate, because someone may be on the way. A closed
//! corridor is **not** AllClear: its ceasefire has ended, which is not "safe"; the route must be
//! avoided as before the window, and the alert says so. A closed alert carries no `expires`
//! (it would be expired when sent and a hub could discard it unseen). The instruction is always
//! present: first a fixed sentence in the reader's language saying what to do now (for every
//! status where the answer is "do not go"), then the signed text: what to bring and where to
//! gather only while the window is upcoming or open, otherwise only what to do if it is
//! suspended, so no alert tells people to gather for a corridor they cannot use.

use std::collections::BTreeSet;

use corridor_core::agreement::{ActKind, Corridor, Purpose, Status, Window, WindowAct};
use jiff::{SignedDuration, Timestamp};

use super::buffer_polygon;
use super::text::{cap_time, cap_token, page_url, party_name, pct, window_times};
use super::xml::Xml;
use crate::i18n::{Arg, t, t_args};
use crate::model::{LANGS, Lang, Public, PublicStatus, PublicWindow, code, name, public_window};
use crate::pages::when;

/// CAP's message type. There is deliberately no Cancel (see the module documentation): a
/// suspension or an end must be shown, not withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgType {
    /// The first alert of a window.
    Alert,
    /// Supersedes the earlier alerts of the window, whatever the change.
    Update,
}

impl MsgType {
    /// The CAP value.
    pub fn as_str(self) -> &'static str {
        match self {
            MsgType::Alert => "Alert",
            MsgType::Update => "Update",
        }
    }
}

/// What changed: decides the headline, the message type and the identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Every required party consented for the first time.
    Agreed,
    /// Every required party consented to amended terms.
    NewTerms,
    /// Amended terms were proposed and are not agreed yet: the window is pending.
    Amending,
    /// The window's start passed.
    Opened,
    /// Every party resumed after a suspension.
    Resumed,
    /// A party suspended the window.
    Suspended,
    /// The window's end passed.
    Closed,
    /// A party took back its consent before the start.
    Withdrawn,
    /// The proposer cancelled it.
    Cancelled,
    /// Amended terms were not agreed by the start.
    Expired,
}

impl Change {
    /// Stable name, used in identifiers, file names and Fluent ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Agreed => "agreed",
            Change::NewTerms => "new-terms",
            Change::Amending => "amending",
            Change::Opened => "opened",
            Change::Resumed => "resumed",
            Change::Suspended => "suspended",
            Change::Closed => "closed",
            Change::Withdrawn => "withdrawn",
            Change::Cancelled => "cancelled",
            Change::Expired => "expired",
        }
    }
}

/// One CAP alert, with the window as the public saw it when the alert was sent.
#[derive(Debug, Clone)]
pub struct Alert<'a> {
    /// The CAP identifier: `{origin}/{window}/{event}`.
    pub identifier: String,
    /// Its last segment, naming the change (`agreed-v1`, `opened`, `suspended-20`, ...).
    pub event: String,
    /// When the change happened (the entry's log time, or the boundary crossed by the clock).
    pub sent: Timestamp,
    /// Alert, Update or Cancel.
    pub msg_type: MsgType,
    /// What changed.
    pub change: Change,
    /// The window at `sent`: the terms then agreed and the status then.
    pub view: PublicWindow<'a>,
    /// The corridor record.
    pub corridor: &'a Corridor,
    /// The party whose act caused the change (suspension, withdrawal), if any.
    pub party: Option<&'a str>,
    /// Every earlier alert of the same window: identifier and sent.
    pub references: Vec<(String, Timestamp)>,
}

fn ts(s: &str) -> Timestamp {
    // Times in records were validated when their commands were accepted.
    s.parse().unwrap_or(Timestamp::MIN)
}

fn acts_until(w: &Window, t: Timestamp) -> impl Iterator<Item = &WindowAct> {
    w.acts
        .iter()
        .filter(move |a| !a.void && ts(&a.at_time) <= t)
}

/// The log's origin as CAP `sender`.
pub fn sender(p: &Public) -> String {
    cap_token(&p.input.genesis.origin)
}

/// Every alert up to `p.input.at`, oldest first (ties by window id, then in the window's
/// order); the last is the newest.
///
/// A window's public state can only change at an instant some record names: a version's or an
/// act's log time, or a version's start or end. So the history is the public view at each of
/// those instants, keeping the ones where the status or the agreed version changed.
pub fn history<'a>(p: &Public<'a>) -> Vec<Alert<'a>> {
    let a = p.input.agreements;
    let origin = sender(p);
    let mut all = Vec::new();
    for w in a.windows.values() {
        let Some(c) = a.corridors.get(&w.corridor) else {
            continue;
        };
        let mut instants: Vec<Timestamp> = w
            .versions
            .iter()
            .flat_map(|v| [ts(&v.at_time), v.start(), v.end()])
            .chain(w.acts.iter().filter(|x| !x.void).map(|x| ts(&x.at_time)))
            .filter(|t| *t <= p.input.at)
            .collect();
        instants.sort();
        instants.dedup();
        let mut mine: Vec<Alert<'a>> = Vec::new();
        let mut used = BTreeSet::new();
        let mut prev: Option<(&'static str, String)> = None;
        for t in instants {
            let Some(view) = public_window(w, c, p.input.genesis, t) else {
                continue;
            };
            let key = (view.status.as_str(), view.version.hash.clone());
            if prev.as_ref() == Some(&key) {
                continue;
            }
            let change = classify(prev.as_ref().map(|p| p.0), &view, w, t);
            let cause = cause(w, change, t);
            let mut event = match change {
                Change::Agreed | Change::NewTerms => format!("agreed-v{}", view.version.version),
                Change::Amending => {
                    format!("amending-v{}", w.version_at(t).map_or(0, |v| v.version))
                }
                _ => match cause {
                    Some(act) => format!("{}-{}", change.as_str(), act.at_index),
                    None => change.as_str().to_string(),
                },
            };
            // Cannot happen with records the reducer accepts; keeps identifiers unique anyway.
            if used.contains(&event) {
                event = format!("{event}-{}", mine.len() + 1);
            }
            used.insert(event.clone());
            let msg_type = if mine.is_empty() {
                MsgType::Alert
            } else {
                MsgType::Update
            };
            mine.push(Alert {
                identifier: format!("{origin}/{}/{event}", pct(&w.id)),
                event,
                sent: t,
                msg_type,
                change,
                references: mine
                    .iter()
                    .map(|x| (x.identifier.clone(), x.sent))
                    .collect(),
                view,
                corridor: c,
                party: cause.and_then(|x| x.party.as_deref()),
            });
            prev = Some(key);
        }
        all.extend(mine);
    }
    // Stable: within a window the order of the changes is kept.
    all.sort_by(|x, y| (x.sent, &x.view.window.id).cmp(&(y.sent, &y.view.window.id)));
    all
}

fn classify(prev: Option<&str>, view: &PublicWindow, w: &Window, t: Timestamp) -> Change {
    match &view.status {
        PublicStatus::Upcoming if prev.is_none() => Change::Agreed,
        PublicStatus::Upcoming => Change::NewTerms,
        PublicStatus::Open if prev == Some("suspended") => Change::Resumed,
        PublicStatus::Open => Change::Opened,
        PublicStatus::Pending => Change::Amending,
        PublicStatus::Suspended { .. } => Change::Suspended,
        PublicStatus::Closed => Change::Closed,
        PublicStatus::Cancelled { .. } => match w.status_at(t).map(|s| s.0) {
            Some(Status::Withdrawn) => Change::Withdrawn,
            Some(Status::Cancelled) => Change::Cancelled,
            _ => Change::Expired,
        },
    }
}

/// The act that caused a change made by a party or the proposer.
fn cause(w: &Window, change: Change, t: Timestamp) -> Option<&WindowAct> {
    let kind = match change {
        Change::Suspended => ActKind::Suspend,
        Change::Resumed => ActKind::Resume,
        Change::Withdrawn => ActKind::Withdraw,
        Change::Cancelled => ActKind::Cancel,
        _ => return None,
    };
    let mut acts = acts_until(w, t).filter(|a| a.kind == kind);
    match change {
        // Withdrawal and cancellation are final: the first one counts (as in `status_at`).
        Change::Withdrawn | Change::Cancelled => acts.next(),
        _ => acts.last(),
    }
}

/// Where an alert is published on its own: `/feeds/cap/{window}.{event}.xml`. Events contain no
/// dot, so the file name splits back unambiguously.
pub fn path(a: &Alert) -> String {
    format!("/feeds/cap/{}.{}.xml", pct(&a.view.window.id), a.event)
}

fn corridor_name<'a>(a: &Alert<'a>, lang: Lang) -> &'a str {
    name(&a.view.terms.terms.names, lang)
}

/// The origin's zone, in which headlines give times; UTC if the origin is unknown.
fn origin_zone<'a>(p: &Public<'a>, a: &Alert) -> &'a str {
    p.input
        .agreements
        .settlements
        .get(&a.view.terms.terms.origin)
        .map_or("UTC", |s| s.zone.as_str())
}

/// The alert's headline in a language (CAP asks for 160 characters at most; ours stay well
/// under for any corridor name the parties are likely to sign).
pub(crate) fn headline(p: &Public, a: &Alert, lang: Lang) -> String {
    let zone = origin_zone(p, a);
    // In words with the zone's name, as on the pages; every headline names the window's date,
    // so two windows' alerts never read the same.
    let start = when::at(lang, a.view.start, zone);
    let end = when::at(lang, a.view.end, zone);
    let span = when::span(lang, a.view.start, a.view.end, zone);
    let h = t_args(
        lang,
        &format!("feed-headline-{}", a.change.as_str()),
        &[
            ("corridor", Arg::Str(corridor_name(a, lang))),
            ("start", Arg::Str(&start)),
            ("end", Arg::Str(&end)),
            ("span", Arg::Str(&span)),
        ],
    );
    if p.input.genesis.exercise {
        t_args(
            lang,
            "feed-exercise-headline",
            &[("headline", Arg::Str(&h))],
        )
    } else {
        h
    }
}

/// The status sentence, the window in every relevant zone, and the stated reason if any.
pub(crate) fn description(p: &Public, a: &Alert, lang: Lang) -> String {
    let mut lines = Vec::new();
    if p.input.genesis.exercise {
        lines.push(t(lang, "exercise-banner"));
    }
    let party = a
        .party
        .map(|x| party_name(p, x, lang))
        .unwrap_or_else(|| t(lang, "feed-a-party"));
    lines.push(t_args(
        lang,
        &format!("feed-status-{}", a.change.as_str()),
        &[("party", Arg::Str(&party))],
    ));
    let times = window_times(p, &a.view.terms.terms, a.view.start, a.view.end);
    lines.push(t_args(lang, "feed-window", &[("times", Arg::Str(&times))]));
    if let Some(reason) = a.view.status.reason() {
        let reason = crate::i18n::public_reason(lang, reason);
        lines.push(t_args(
            lang,
            "feed-reason",
            &[("party", Arg::Str(&party)), ("reason", Arg::Str(&reason))],
        ));
    }
    lines.join("\n")
}

/// What to do now, in the reader's language, when the answer is "do not go" (suspended,
/// cancelled, closed) or "do not rely on it" (pending): the first words of the instruction.
pub(crate) fn action(status: &PublicStatus, lang: Lang) -> Option<String> {
    let id = match status {
        PublicStatus::Upcoming | PublicStatus::Open => return None,
        PublicStatus::Pending => "feed-do-pending",
        PublicStatus::Suspended { .. } => "feed-do-suspended",
        PublicStatus::Cancelled { .. } => "feed-do-cancelled",
        PublicStatus::Closed => "feed-do-closed",
    };
    Some(t(lang, id))
}

/// The instruction (see the module documentation for which parts): `None` only for a usable
/// window whose terms carry no instructions.
pub(crate) fn instruction(a: &Alert, lang: Lang) -> Option<String> {
    let mut lines: Vec<String> = action(&a.view.status, lang).into_iter().collect();
    let usable = matches!(a.view.status, PublicStatus::Upcoming | PublicStatus::Open);
    if let Some(i) = a.view.terms.terms.instructions.as_ref() {
        if usable {
            for (id, text) in [("feed-bring", &i.bring), ("feed-gather", &i.gather)] {
                lines.push(t_args(lang, id, &[("text", Arg::Str(name(text, lang)))]));
            }
        }
        lines.push(t_args(
            lang,
            "feed-if-suspended",
            &[("text", Arg::Str(name(&i.if_suspended, lang)))],
        ));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The CAP codes of a status (the table in the module documentation).
pub struct Codes {
    /// `responseType`, one element each, in this order.
    pub response: &'static [&'static str],
    /// `urgency`.
    pub urgency: &'static str,
    /// `severity`.
    pub severity: &'static str,
    /// `certainty`.
    pub certainty: &'static str,
    /// Whether `expires` (the window's end) is given: not for a closed window, whose end has
    /// passed when the alert is sent.
    pub expires: bool,
}

/// The CAP codes of an alert, from its window's status (and, for upcoming and pending, how soon
/// the window starts).
pub fn codes(a: &Alert) -> Codes {
    let soon = if a.view.start.duration_since(a.sent) <= SignedDuration::from_hours(1) {
        "Expected"
    } else {
        "Future"
    };
    let (response, urgency, severity, certainty, expires): (&'static [&'static str], _, _, _, _) =
        match a.view.status {
            PublicStatus::Upcoming => (&["Prepare"], soon, "Severe", "Likely", true),
            PublicStatus::Open => {
                let response: &'static [&'static str] = match a.view.terms.terms.purpose {
                    Purpose::Evacuation | Purpose::Both => &["Evacuate"],
                    Purpose::Aid => &["Monitor"],
                };
                (response, "Immediate", "Severe", "Likely", true)
            }
            PublicStatus::Pending => (&["Monitor"], soon, "Severe", "Possible", true),
            PublicStatus::Suspended { .. } => (
                &["Shelter", "Avoid"],
                "Immediate",
                "Severe",
                "Observed",
                true,
            ),
            PublicStatus::Cancelled { .. } => (&["Avoid"], "Immediate", "Severe", "Observed", true),
            PublicStatus::Closed => (&["Avoid"], "Immediate", "Severe", "Observed", false),
        };
    Codes {
        response,
        urgency,
        severity,
        certainty,
        expires,
    }
}

/// CAP polygon text: "lat,lon" pairs separated by spaces, latitude first as CAP wants, six
/// decimals (about 10 cm).
pub fn cap_polygon(ring: &[[f64; 2]]) -> String {
    ring.iter()
        .map(|p| format!("{:.6},{:.6}", p[1], p[0]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The alert as a CAP 1.2 document.
pub fn xml(p: &Public, a: &Alert) -> String {
    let origin = sender(p);
    let mut x = Xml::new();
    x.open(
        "alert",
        &[("xmlns", "urn:oasis:names:tc:emergency:cap:1.2")],
    );
    x.text("identifier", &[], &a.identifier);
    x.text("sender", &[], &origin);
    x.text("sent", &[], &cap_time(a.sent));
    let exercise = p.input.genesis.exercise;
    x.text("status", &[], if exercise { "Exercise" } else { "Actual" });
    x.text("msgType", &[], a.msg_type.as_str());
    x.text("scope", &[], "Public");
    if exercise {
        let note: Vec<String> = LANGS.iter().map(|l| t(*l, "feed-exercise-note")).collect();
        x.text("note", &[], &note.join(" / "));
    }
    if !a.references.is_empty() {
        let refs: Vec<String> = a
            .references
            .iter()
            .map(|(id, sent)| format!("{origin},{id},{}", cap_time(*sent)))
            .collect();
        x.text("references", &[], &refs.join(" "));
    }
    x.text(
        "incidents",
        &[],
        &format!("{origin}/{}", pct(&a.view.window.id)),
    );
    let codes = codes(a);
    let ring = buffer_polygon(&a.view.terms.terms.route, a.view.terms.terms.buffer_m);
    let polygon = (ring.len() >= 4).then(|| cap_polygon(&ring));
    for lang in LANGS {
        x.open("info", &[]);
        x.text("language", &[], code(lang));
        x.text("category", &[], "Safety");
        x.text("event", &[], &t(lang, "feed-event"));
        for r in codes.response {
            x.text("responseType", &[], r);
        }
        x.text("urgency", &[], codes.urgency);
        x.text("severity", &[], codes.severity);
        x.text("certainty", &[], codes.certainty);
        x.text("onset", &[], &cap_time(a.view.start));
        if codes.expires {
            x.text("expires", &[], &cap_time(a.view.end));
        }
        x.text(
            "senderName",
            &[],
            name(&p.input.genesis.intermediary.names, lang),
        );
        x.text("headline", &[], &headline(p, a, lang));
        x.text("description", &[], &description(p, a, lang));
        if let Some(i) = instruction(a, lang) {
            x.text("instruction", &[], &i);
        }
        x.text("web", &[], &page_url(p, lang, &a.corridor.id));
        for (k, v) in [
            ("corridor-window", a.view.window.id.as_str()),
            ("corridor-status", a.view.status.as_str()),
            ("corridor-version-hash", a.view.version.hash.as_str()),
        ] {
            x.open("parameter", &[]);
            x.text("valueName", &[], k);
            x.text("value", &[], v);
            x.close();
        }
        x.open("area", &[]);
        let buffer = a.view.terms.terms.buffer_m;
        x.text(
            "areaDesc",
            &[],
            &t_args(
                lang,
                "feed-area",
                &[
                    ("corridor", Arg::Str(corridor_name(a, lang))),
                    ("buffer", Arg::Num(buffer)),
                ],
            ),
        );
        if let Some(polygon) = &polygon {
            x.text("polygon", &[], polygon);
        }
        x.close();
        x.close();
    }
    x.close();
    x.finish()
}

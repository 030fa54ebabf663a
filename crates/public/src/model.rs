//! What the public sees, before any language or format: which windows are public corridors,
//! their status at the instant, and when that status next changes by the clock alone.
//!
//! Only windows that every required party agreed to appear as corridors. A window that was
//! agreed and then amended stays public with the terms last agreed, marked as pending, so the
//! public never sees terms nobody signed and never loses sight of a corridor under
//! renegotiation. Declarations are listed apart, as one party's statement.

use corridor_core::agreement::{
    ActKind, Corridor, CorridorVersion, Declaration, PublicReason, Settlement, Status, Window,
    WindowAct, WindowVersion,
};
use corridor_core::genesis::GenesisDocument;
use corridor_core::time::format_log_time;
use jiff::Timestamp;
use serde_json::{Value, json};

pub use corridor_core::agreement::Lang;

use crate::Input;

/// Every language of the public site, in the order the switch shows them.
pub const LANGS: [Lang; 3] = [Lang::Uk, Lang::Ru, Lang::En];

/// The path segment and `lang` attribute of a language.
pub fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::Uk => "uk",
        Lang::Ru => "ru",
        Lang::En => "en",
    }
}

/// A language by its path segment.
pub fn lang_from_code(code: &str) -> Option<Lang> {
    LANGS.into_iter().find(|l| self::code(*l) == code)
}

/// A name in one language.
pub fn name(names: &corridor_core::genesis::Names, lang: Lang) -> &str {
    match lang {
        Lang::Uk => &names.uk,
        Lang::Ru => &names.ru,
        Lang::En => &names.en,
    }
}

/// A public corridor's status, as civilians need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicStatus {
    /// Inside an agreed window, not suspended: people may move now.
    Open,
    /// Agreed, not started yet.
    Upcoming,
    /// A party declared the window broken; waits until every party resumes.
    Suspended {
        /// The suspending party's public reason, from the fixed list (never its free text).
        reason: Option<PublicReason>,
    },
    /// Agreed terms are being changed and the new terms are not agreed yet: do not rely on it.
    Pending,
    /// The window ended.
    Closed,
    /// The agreement was withdrawn or cancelled, or new terms were not agreed by the start.
    Cancelled {
        /// The withdrawing party's public reason, from the fixed list, if it gave one.
        reason: Option<PublicReason>,
    },
}

impl PublicStatus {
    /// Stable machine name (status.json, CSS classes, SSE).
    pub fn as_str(&self) -> &'static str {
        match self {
            PublicStatus::Open => "open",
            PublicStatus::Upcoming => "upcoming",
            PublicStatus::Suspended { .. } => "suspended",
            PublicStatus::Pending => "pending",
            PublicStatus::Closed => "closed",
            PublicStatus::Cancelled { .. } => "cancelled",
        }
    }

    /// The public reason, for suspended and cancelled.
    pub fn reason(&self) -> Option<PublicReason> {
        match self {
            PublicStatus::Suspended { reason } | PublicStatus::Cancelled { reason } => *reason,
            _ => None,
        }
    }

    /// Which window a corridor's headline shows: lower is more telling.
    fn rank(&self) -> u8 {
        match self {
            PublicStatus::Open => 0,
            PublicStatus::Suspended { .. } => 1,
            PublicStatus::Upcoming => 2,
            PublicStatus::Pending => 3,
            PublicStatus::Closed => 4,
            PublicStatus::Cancelled { .. } => 5,
        }
    }
}

/// A window the parties agreed to, with the terms they last agreed.
#[derive(Debug, Clone)]
pub struct PublicWindow<'a> {
    /// The window record.
    pub window: &'a Window,
    /// The latest version every required party consented to (by `at`).
    pub version: &'a WindowVersion,
    /// The corridor version that window version rests on: its text is the agreed text.
    pub terms: &'a CorridorVersion,
    /// When the last required consent to `version` was given.
    pub agreed_at: Timestamp,
    /// Status at the instant.
    pub status: PublicStatus,
    /// Start of the agreed window.
    pub start: Timestamp,
    /// End of the agreed window.
    pub end: Timestamp,
}

/// A corridor with at least one agreed window.
#[derive(Debug, Clone)]
pub struct PublicCorridor<'a> {
    /// The corridor record.
    pub corridor: &'a Corridor,
    /// Its agreed windows, by start.
    pub windows: Vec<PublicWindow<'a>>,
    /// Index into `windows` of the one the headline shows (open, else suspended, else the next
    /// upcoming, else pending, else the last closed, else cancelled).
    pub headline: usize,
    /// Origin settlement, if recorded.
    pub origin: Option<&'a Settlement>,
    /// Destination settlement, if recorded.
    pub destination: Option<&'a Settlement>,
}

impl<'a> PublicCorridor<'a> {
    /// The window the headline shows.
    pub fn current(&self) -> &PublicWindow<'a> {
        &self.windows[self.headline]
    }

    /// The agreed terms shown: those of the headline window.
    pub fn terms(&self) -> &'a CorridorVersion {
        self.windows[self.headline].terms
    }
}

/// The public view of the log at an instant.
#[derive(Debug, Clone)]
pub struct Public<'a> {
    /// What it was built from.
    pub input: Input<'a>,
    /// Public corridors, by id.
    pub corridors: Vec<PublicCorridor<'a>>,
    /// Unilateral declarations, newest first.
    pub declarations: Vec<&'a Declaration>,
    /// When some status next changes by the clock alone.
    pub next_boundary: Option<Timestamp>,
}

fn ts(s: &str) -> Timestamp {
    // Times in records were validated when their commands were accepted.
    s.parse().unwrap_or(Timestamp::MIN)
}

/// Whether every party of the genesis had to consent to `v`. The core refuses a window naming
/// fewer (`window-missing-party`); this second check keeps a log written before that rule from
/// publishing one party's consent as an agreed ceasefire: such a window is one party's act,
/// never a public corridor.
pub fn binds_every_party(v: &WindowVersion, genesis: &GenesisDocument) -> bool {
    genesis
        .parties
        .iter()
        .all(|p| v.terms.required_parties.contains(&p.id))
}

/// The agreed view of one window at `at`, if any version of it was agreed by then by every
/// party of the genesis.
pub fn public_window<'a>(
    w: &'a Window,
    c: &'a Corridor,
    genesis: &GenesisDocument,
    at: Timestamp,
) -> Option<PublicWindow<'a>> {
    let (version, agreed_at) = w
        .versions
        .iter()
        .rev()
        .filter(|v| ts(&v.at_time) <= at && binds_every_party(v, genesis))
        .find_map(|v| w.agreed_at(v, at).map(|t| (v, t)))?;
    let terms = c
        .versions
        .iter()
        .find(|cv| cv.version == version.corridor_version)?;
    // The free-text reason `status_at` gives is for members; the public reads the fixed one.
    let (status, _) = w.status_at(at)?;
    let public = |s: Status| cause(w, &s, at).and_then(|a| a.public_reason);
    let status = match status {
        Status::Active => PublicStatus::Open,
        Status::Agreed => PublicStatus::Upcoming,
        Status::Suspended => PublicStatus::Suspended {
            reason: public(Status::Suspended),
        },
        Status::Completed => PublicStatus::Closed,
        Status::Proposed => PublicStatus::Pending,
        s @ (Status::Withdrawn | Status::Cancelled | Status::Expired) => {
            PublicStatus::Cancelled { reason: public(s) }
        }
    };
    Some(PublicWindow {
        window: w,
        version,
        terms,
        agreed_at,
        status,
        start: version.start(),
        end: version.end(),
    })
}

/// The act that put a window in `status` at `at`, if an act did (mirrors `Window::status_at`:
/// the first cancel or withdrawal, else the last suspension).
pub fn cause<'a>(w: &'a Window, status: &Status, at: Timestamp) -> Option<&'a WindowAct> {
    let mut acts = w
        .acts
        .iter()
        .filter(move |a| !a.void && ts(&a.at_time) <= at);
    match status {
        Status::Suspended => acts.rev().find(|a| a.kind == ActKind::Suspend),
        Status::Withdrawn | Status::Cancelled => {
            acts.find(|a| matches!(a.kind, ActKind::Cancel | ActKind::Withdraw))
        }
        _ => None,
    }
}

/// The earliest window start or end after `at`: the next moment a status can change without a
/// new log entry. The server rebuilds the site then.
pub fn next_boundary<'a>(
    windows: impl IntoIterator<Item = &'a Window>,
    at: Timestamp,
) -> Option<Timestamp> {
    windows
        .into_iter()
        .flat_map(|w| w.versions.iter())
        .flat_map(|v| [v.start(), v.end()])
        .filter(|t| *t > at)
        .min()
}

impl<'a> Public<'a> {
    /// Work out the public view.
    pub fn new(input: &Input<'a>) -> Public<'a> {
        let a = input.agreements;
        let at = input.at;
        let mut corridors = Vec::new();
        for c in a.corridors.values() {
            let mut windows: Vec<PublicWindow> = a
                .windows
                .values()
                .filter(|w| w.corridor == c.id)
                .filter_map(|w| public_window(w, c, input.genesis, at))
                .collect();
            if windows.is_empty() {
                continue;
            }
            windows.sort_by(|x, y| (x.start, &x.window.id).cmp(&(y.start, &y.window.id)));
            let headline = (0..windows.len())
                .min_by_key(|&i| {
                    let w = &windows[i];
                    let rank = w.status.rank();
                    // Among upcoming windows the soonest; among closed ones the latest.
                    let when = match w.status {
                        PublicStatus::Closed | PublicStatus::Cancelled { .. } => -w.end.as_second(),
                        _ => w.start.as_second(),
                    };
                    (rank, when)
                })
                .expect("at least one window");
            let terms = windows[headline].terms;
            corridors.push(PublicCorridor {
                corridor: c,
                origin: a.settlements.get(&terms.terms.origin),
                destination: a.settlements.get(&terms.terms.destination),
                windows,
                headline,
            });
        }
        let mut declarations: Vec<&Declaration> = a.declarations.values().collect();
        declarations.sort_by_key(|d| std::cmp::Reverse(d.at_index));
        Public {
            input: *input,
            corridors,
            declarations,
            next_boundary: next_boundary(a.windows.values(), at),
        }
    }

    /// A public corridor by id.
    pub fn corridor(&self, id: &str) -> Option<&PublicCorridor<'a>> {
        self.corridors.iter().find(|c| c.corridor.id == id)
    }

    /// The zones a window is shown in: the origin's first (what people on the spot read), then
    /// each party's.
    pub fn zones(&self, c: &PublicCorridor) -> Vec<String> {
        let mut z = Vec::new();
        if let Some(o) = c.origin {
            z.push(o.zone.clone());
        }
        for p in &self.input.genesis.parties {
            if !z.contains(&p.zone) {
                z.push(p.zone.clone());
            }
        }
        z
    }
}

/// `status.json`: the cacheable document a page polls when it cannot hold an event stream, and
/// what other tools read. Machine names only; the pages carry the words.
pub fn status_json(p: &Public) -> Vec<u8> {
    let corridors: Vec<Value> = p
        .corridors
        .iter()
        .map(|c| {
            let w = c.current();
            json!({
                "id": c.corridor.id,
                "names": c.terms().terms.names,
                "status": w.status.as_str(),
                "reason": w.status.reason().map(PublicReason::as_str),
                "window": window_json(p, c, w),
                "windows": c.windows.iter().map(|w| window_json(p, c, w)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "as_of": format_log_time(p.input.at),
        "exercise": p.input.genesis.exercise,
        "origin": p.input.genesis.origin,
        "checkpoint": {"size": p.input.checkpoint.size, "root": p.input.checkpoint.root},
        "witnessed": p.input.checkpoint.witnessed.as_ref().map(|w| json!({
            "size": w.size, "root": w.root, "cosigned_by": w.by, "quorum": w.quorum,
            "quorum_met": w.by.len() >= w.quorum as usize,
        })),
        "next_change": p.next_boundary.map(format_log_time),
        "corridors": corridors,
        "declarations": p.declarations.iter().map(|d| json!({
            "id": d.id, "party": d.party, "corridor": d.corridor, "start": d.start,
            "end": d.end, "text": d.text, "entry": d.at_index,
        })).collect::<Vec<_>>(),
    });
    // Compact: it is polled by crowds and pushed to every event subscriber.
    let mut out = serde_json::to_vec(&doc).expect("JSON values serialise");
    out.push(b'\n');
    out
}

fn window_json(p: &Public, c: &PublicCorridor, w: &PublicWindow) -> Value {
    let mut local = serde_json::Map::new();
    for z in p.zones(c) {
        if let (Ok(s), Ok(e)) = (
            corridor_core::localtime::show(w.start, &z),
            corridor_core::localtime::show(w.end, &z),
        ) {
            local.insert(z, json!({"start": s, "end": e}));
        }
    }
    json!({
        "id": w.window.id,
        "status": w.status.as_str(),
        "reason": w.status.reason().map(PublicReason::as_str),
        "start": w.version.terms.start,
        "end": w.version.terms.end,
        "local": local,
        "version": w.version.version,
        "version_hash": w.version.hash,
        "corridor_version": w.terms.version,
        "agreed_at": format_log_time(w.agreed_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{self, at};

    fn view(
        a: &corridor_core::agreement::Agreements,
        g: &corridor_core::genesis::GenesisDocument,
        c: &crate::Cited,
        t: &str,
    ) -> (Vec<(String, &'static str)>, Option<Timestamp>) {
        let input = Input {
            genesis: g,
            agreements: a,
            at: at(t),
            checkpoint: c,
            base_url: "https://corridors.example",
            documents: &[],
        };
        let p = Public::new(&input);
        let s = p
            .corridors
            .iter()
            .map(|c| (c.current().window.id.clone(), c.current().status.as_str()))
            .collect();
        (s, p.next_boundary)
    }

    #[test]
    fn the_headline_follows_the_clock_without_new_entries() {
        let (a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        let cases = [
            (
                "2022-03-03T14:00:00Z",
                "w-0304",
                "upcoming",
                "2022-03-04T07:00:00Z",
            ),
            (
                "2022-03-04T07:00:00Z",
                "w-0304",
                "open",
                "2022-03-04T15:00:00Z",
            ),
            (
                "2022-03-04T14:59:59Z",
                "w-0304",
                "open",
                "2022-03-04T15:00:00Z",
            ),
            (
                "2022-03-04T15:00:00Z",
                "w-0305",
                "upcoming",
                "2022-03-05T07:00:00Z",
            ),
            (
                "2022-03-05T08:00:00Z",
                "w-0305",
                "open",
                "2022-03-05T15:00:00Z",
            ),
            (
                "2022-03-05T16:00:00Z",
                "w-0305",
                "closed",
                "2022-03-06T07:00:00Z",
            ),
        ];
        for (t, w, status, next) in cases {
            let (s, n) = view(&a, &g, &c, t);
            assert_eq!(s, vec![(w.to_string(), status)], "at {t}");
            assert_eq!(n, Some(at(next)), "next boundary at {t}");
        }
    }

    #[test]
    fn a_window_not_agreed_is_not_a_corridor() {
        let (mut a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        a.windows.remove("w-0304");
        a.windows.remove("w-0305");
        let (s, _) = view(&a, &g, &c, "2022-03-03T14:00:00Z");
        assert!(s.is_empty(), "only the proposed w-0306 is left: {s:?}");
        // Before the consents were given, w-0304 was not public either.
        let (a, _, _) = (fixture::agreements(), (), ());
        let (s, _) = view(&a, &g, &c, "2022-03-03T12:59:00Z");
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn a_window_one_party_consented_to_alone_is_not_a_corridor() {
        // As a log written before `window-missing-party` could hold it: proposed naming only
        // Ukraine, consented by Ukraine alone.
        let (mut a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        a.windows.clear();
        let mut w = fixture::window(
            "w-ua",
            "2022-03-04T07:00:00Z",
            "2022-03-04T15:00:00Z",
            "2022-03-03T12:10:00.000000Z",
            3,
        );
        w.versions[0].terms.required_parties = vec!["ua".into()];
        fixture::act(
            &mut w,
            ActKind::Consent,
            Some("ua"),
            "2022-03-03T13:00:00.000000Z",
            4,
        );
        a.windows.insert(w.id.clone(), w);
        for t in ["2022-03-03T14:00:00Z", "2022-03-04T08:00:00Z"] {
            let (s, _) = view(&a, &g, &c, t);
            assert!(s.is_empty(), "at {t}: {s:?}");
            let input = Input {
                genesis: &g,
                agreements: &a,
                at: at(t),
                checkpoint: &c,
                base_url: "https://corridors.example",
                documents: &[],
            };
            let site = crate::build(&input);
            assert!(
                !site
                    .files
                    .keys()
                    .any(|k| k.contains("w-ua") || k.contains("/corridors/b")),
                "{:?}",
                site.files.keys().collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn suspension_and_withdrawal_show_with_their_reason() {
        let (mut a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        let w = a.windows.get_mut("w-0304").unwrap();
        fixture::act(
            w,
            ActKind::Suspend,
            Some("ua"),
            "2022-03-04T09:00:00.000000Z",
            20,
        );
        let (s, _) = view(&a, &g, &c, "2022-03-04T09:30:00Z");
        assert_eq!(s, vec![("w-0304".to_string(), "suspended")]);
        let w = a.windows.get_mut("w-0305").unwrap();
        fixture::act(
            w,
            ActKind::Withdraw,
            Some("ru"),
            "2022-03-04T20:00:00.000000Z",
            21,
        );
        let input = Input {
            genesis: &g,
            agreements: &a,
            at: at("2022-03-04T21:00:00Z"),
            checkpoint: &c,
            base_url: "",
            documents: &[],
        };
        let p = Public::new(&input);
        let w2 = p.corridors[0]
            .windows
            .iter()
            .find(|w| w.window.id == "w-0305")
            .unwrap();
        assert_eq!(w2.status.as_str(), "cancelled");
        assert_eq!(w2.status.reason(), Some(PublicReason::Shelling));
    }

    #[test]
    fn the_public_reads_the_listed_reason_never_the_free_text() {
        let (mut a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        let w = a.windows.get_mut("w-0304").unwrap();
        fixture::act(
            w,
            ActKind::Suspend,
            Some("ua"),
            "2022-03-04T09:00:00.000000Z",
            20,
        );
        w.acts.last_mut().unwrap().reason = Some("The other side is lying murderers".into());
        w.acts.last_mut().unwrap().public_reason = Some(PublicReason::Mines);
        let input = Input {
            genesis: &g,
            agreements: &a,
            at: at("2022-03-04T09:30:00Z"),
            checkpoint: &c,
            base_url: "https://corridors.example",
            documents: &[],
        };
        let site = crate::build(&input);
        let mut seen = 0;
        for (path, f) in &site.files {
            let body = String::from_utf8_lossy(&f.body);
            assert!(
                !body.contains("lying murderers"),
                "{path} publishes the free text"
            );
            if path == "/en/corridors/borodianka-berestianka/" {
                assert!(body.contains("mines near the route"), "{body}");
                seen += 1;
            }
            if path == "/uk/corridors/borodianka-berestianka/" {
                assert!(body.contains("міни поблизу маршруту"), "{body}");
                seen += 1;
            }
        }
        assert_eq!(seen, 2);
        let v: Value = serde_json::from_slice(&site.files["/status.json"].body).unwrap();
        assert_eq!(v["corridors"][0]["reason"], "mines");
    }

    /// On a log with witnesses every page and status.json cite the latest co-signed checkpoint,
    /// and say so plainly in each language when too few witnesses co-signed it.
    #[test]
    fn pages_cite_the_cosigned_checkpoint_and_a_missing_quorum() {
        use corridor_core::checkpoint::Checkpoint;
        use corridor_core::crypto::Keypair;
        use corridor_core::genesis::{Witness, Witnesses};
        use corridor_core::witness::{cosign, note_body, with_cosignatures};
        let (a, mut g) = (fixture::agreements(), fixture::genesis());
        let (wua, wru) = (Keypair::from_seed([70; 32]), Keypair::from_seed([71; 32]));
        g.witnesses = Some(Witnesses {
            members: vec![
                Witness {
                    name: "witness.ua.example".into(),
                    key: wua.public().id(),
                    operator: "ua".into(),
                },
                Witness {
                    name: "witness.ru.example".into(),
                    key: wru.public().id(),
                    operator: "ru".into(),
                },
            ],
            quorum: 2,
        });
        let cp = Checkpoint {
            origin: g.origin.clone(),
            size: 10,
            root: [9; 32],
        };
        let note = cp.sign(&Keypair::from_seed([2; 32]));
        let body = note_body(&note).unwrap().to_string();
        let one = with_cosignatures(&note, &[cosign("witness.ua.example", &wua, 1, &body)]);
        let both = with_cosignatures(&one, &[cosign("witness.ru.example", &wru, 2, &body)]);
        let build = |note: &str| {
            let mut c = fixture::cited();
            c.witnessed = crate::CitedWitnesses::of(g.witnesses.as_ref(), Some((&cp, note)));
            let input = Input {
                genesis: &g,
                agreements: &a,
                at: at("2022-03-04T08:00:00Z"),
                checkpoint: &c,
                base_url: "",
                documents: &[],
            };
            crate::build(&input)
        };
        let page = |site: &crate::Site, path: &str| {
            String::from_utf8(site.files[path].body.clone()).unwrap()
        };
        let site = build(&both);
        let v: Value = serde_json::from_slice(&site.files["/status.json"].body).unwrap();
        assert_eq!(v["witnessed"]["size"], 10);
        assert_eq!(v["witnessed"]["quorum_met"], true);
        assert_eq!(v["witnessed"]["cosigned_by"][1], "witness.ru.example");
        let en = page(&site, "/en/");
        assert!(
            en.contains("Co-signed by 2 of 2 witnesses (witness.ua.example, witness.ru.example) at tree size 10"),
            "{en}"
        );
        assert!(page(&site, "/uk/").contains("Співпідписано 2 з 2 свідків"));
        assert!(page(&site, "/ru/").contains("Подписано 2 из 2 свидетелей"));
        let site = build(&one);
        let v: Value = serde_json::from_slice(&site.files["/status.json"].body).unwrap();
        assert_eq!(v["witnessed"]["quorum_met"], false);
        let en = page(&site, "/en/");
        assert!(en.contains("NOT co-signed by enough witnesses"), "{en}");
        assert!(en.contains("(1 of 2: witness.ua.example)"), "{en}");
        assert!(page(&site, "/uk/").contains("НЕ співпідписано"));
        // Without witnesses in the genesis, pages say nothing about them.
        let plain = fixture::cited();
        assert!(plain.witnessed.is_none());
    }

    #[test]
    fn status_json_cites_the_checkpoint_and_local_times() {
        let (a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        let input = Input {
            genesis: &g,
            agreements: &a,
            at: at("2022-03-04T08:00:00Z"),
            checkpoint: &c,
            base_url: "",
            documents: &[],
        };
        let v: Value = serde_json::from_slice(&status_json(&Public::new(&input))).unwrap();
        assert_eq!(v["checkpoint"]["size"], 11);
        assert_eq!(v["exercise"], true);
        assert_eq!(v["corridors"][0]["status"], "open");
        assert_eq!(
            v["corridors"][0]["window"]["local"]["Europe/Moscow"]["start"],
            "2022-03-04T10:00:00+03:00"
        );
        assert_eq!(
            v["corridors"][0]["window"]["local"]["Europe/Kyiv"]["start"],
            "2022-03-04T09:00:00+02:00"
        );
        assert_eq!(v["next_change"], "2022-03-04T15:00:00.000000Z");
    }
}

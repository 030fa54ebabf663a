//! The feeds over the March 2022 fixture: the alert history as the clock moves and the records
//! grow, and every document against its published schema.

use std::path::Path;
use std::process::Command;

use corridor_core::agreement::{ActKind, Agreements, Window, WindowVersion};
use corridor_core::genesis::GenesisDocument;

use super::cap::{self, Change, MsgType};
use super::*;
use crate::fixture::{self, act, agree, at};
use crate::{Cited, Input};

const BASE: &str = "https://corridors.example";

/// An alert reduced to what the tests compare, owning its data.
#[derive(Debug, Clone)]
struct Seen {
    identifier: String,
    window: String,
    msg_type: MsgType,
    change: Change,
    sent: String,
    references: Vec<String>,
    path: String,
    xml: String,
}

fn with_public<T>(a: &Agreements, g: &GenesisDocument, t: &str, f: impl FnOnce(&Public) -> T) -> T {
    let c: Cited = fixture::cited();
    let input = Input {
        genesis: g,
        agreements: a,
        at: at(t),
        checkpoint: &c,
        base_url: BASE,
        documents: &[],
    };
    f(&Public::new(&input))
}

fn alerts(a: &Agreements, g: &GenesisDocument, t: &str) -> Vec<Seen> {
    with_public(a, g, t, |p| {
        cap::history(p)
            .iter()
            .map(|x| Seen {
                identifier: x.identifier.clone(),
                window: x.view.window.id.clone(),
                msg_type: x.msg_type,
                change: x.change,
                sent: text::cap_time(x.sent),
                references: x.references.iter().map(|r| r.0.clone()).collect(),
                path: cap::path(x),
                xml: cap::xml(p, x),
            })
            .collect()
    })
}

fn site(a: &Agreements, g: &GenesisDocument, t: &str) -> Site {
    with_public(a, g, t, |p| {
        let mut s = Site::default();
        render(p, &mut s);
        s
    })
}

fn of<'a>(all: &'a [Seen], window: &str) -> Vec<&'a Seen> {
    all.iter().filter(|x| x.window == window).collect()
}

/// The text of the first `<name>` element (the feeds write no nested same-name elements).
fn el<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + len])
}

fn amend(w: &mut Window, start: &str, end: &str, at_time: &str, index: u64) {
    let mut v: WindowVersion = w.latest().clone();
    v.version += 1;
    v.terms.start = start.into();
    v.terms.end = end.into();
    v.hash = format!("hash-of-{}-v{}", w.id, v.version);
    v.at_index = index;
    v.at_time = at_time.into();
    w.versions.push(v);
}

/// Every kind of change: w-0304 opens, is suspended, resumes and closes; w-0305 is amended,
/// re-agreed and withdrawn; w-0306 is agreed, amended and expires unagreed.
fn eventful() -> Agreements {
    let mut a = fixture::agreements();
    let w = a.windows.get_mut("w-0304").unwrap();
    act(
        w,
        ActKind::Suspend,
        Some("ua"),
        "2022-03-04T09:00:00.000000Z",
        20,
    );
    act(
        w,
        ActKind::Resume,
        Some("ua"),
        "2022-03-04T09:50:00.000000Z",
        21,
    );
    act(
        w,
        ActKind::Resume,
        Some("ru"),
        "2022-03-04T10:00:00.000000Z",
        22,
    );
    let w = a.windows.get_mut("w-0305").unwrap();
    amend(
        w,
        "2022-03-05T08:00:00Z",
        "2022-03-05T15:00:00Z",
        "2022-03-04T20:00:00.000000Z",
        23,
    );
    agree(w, "2022-03-04T21:00:00.000000Z", 24);
    act(
        w,
        ActKind::Withdraw,
        Some("ru"),
        "2022-03-05T06:00:00.000000Z",
        26,
    );
    let w = a.windows.get_mut("w-0306").unwrap();
    agree(w, "2022-03-05T10:00:00.000000Z", 27);
    amend(
        w,
        "2022-03-06T08:00:00Z",
        "2022-03-06T15:00:00Z",
        "2022-03-05T12:00:00.000000Z",
        29,
    );
    a
}

// ---------------------------------------------------------------- the sequence over time

#[test]
fn nothing_is_alerted_before_the_agreement() {
    let (a, g) = (fixture::agreements(), fixture::genesis());
    assert!(alerts(&a, &g, "2022-03-03T12:59:59Z").is_empty());
    let s = site(&a, &g, "2022-03-03T12:59:59Z");
    assert!(!s.files.contains_key("/feeds/cap.xml"));
    assert!(!s.files.keys().any(|k| k.starts_with("/feeds/cap/")));
    let atom = String::from_utf8(s.files["/feeds/atom.xml"].body.clone()).unwrap();
    assert!(!atom.contains("<entry>"));
    assert_eq!(el(&atom, "updated"), Some("2022-03-03T12:59:59Z"));
}

#[test]
fn the_agreement_is_an_alert() {
    let (a, g) = (fixture::agreements(), fixture::genesis());
    let all = alerts(&a, &g, "2022-03-03T14:00:00Z");
    let w = of(&all, "w-0304");
    assert_eq!(w.len(), 1);
    let x = w[0];
    assert_eq!(
        x.identifier,
        "corridor.demo/march-2022-exercise/w-0304/agreed-v1"
    );
    assert_eq!((x.msg_type, x.change), (MsgType::Alert, Change::Agreed));
    assert_eq!(x.sent, "2022-03-03T13:00:00-00:00");
    assert!(x.references.is_empty());
    assert!(!x.xml.contains("<references>"));
    assert_eq!(el(&x.xml, "msgType"), Some("Alert"));
    assert_eq!(el(&x.xml, "responseType"), Some("Prepare"));
    assert_eq!(el(&x.xml, "urgency"), Some("Future"));
    assert_eq!(el(&x.xml, "onset"), Some("2022-03-04T07:00:00-00:00"));
    assert_eq!(el(&x.xml, "expires"), Some("2022-03-04T15:00:00-00:00"));
    // Upcoming: the full signed instructions.
    let i = el(&x.xml, "instruction").unwrap();
    assert!(i.contains("Документи, що посвідчують особу"), "{i}");
    assert!(i.contains("Центральна площа Бородянки"), "{i}");
    // Both windows were agreed by then; /feeds/cap.xml is the newest (w-0305, 13:30).
    let s = site(&a, &g, "2022-03-03T14:00:00Z");
    let newest = String::from_utf8(s.files["/feeds/cap.xml"].body.clone()).unwrap();
    assert_eq!(
        el(&newest, "identifier"),
        Some("corridor.demo/march-2022-exercise/w-0305/agreed-v1")
    );
    assert_eq!(s.files["/feeds/cap.xml"].content_type, CAP);
}

#[test]
fn the_window_start_is_an_update_referencing_the_alert() {
    let (a, g) = (fixture::agreements(), fixture::genesis());
    let all = alerts(&a, &g, "2022-03-04T07:00:00Z");
    let w = of(&all, "w-0304");
    assert_eq!(w.len(), 2);
    let x = w[1];
    assert_eq!((x.msg_type, x.change), (MsgType::Update, Change::Opened));
    assert_eq!(x.sent, "2022-03-04T07:00:00-00:00");
    assert_eq!(x.references, vec![w[0].identifier.clone()]);
    assert_eq!(
        el(&x.xml, "references"),
        Some(
            "corridor.demo/march-2022-exercise,corridor.demo/march-2022-exercise/w-0304/agreed-v1,\
             2022-03-03T13:00:00-00:00"
        )
    );
    assert_eq!(el(&x.xml, "responseType"), Some("Evacuate"));
    assert_eq!(el(&x.xml, "urgency"), Some("Immediate"));
    // A second before the start it was still only the Alert.
    assert_eq!(
        of(&alerts(&a, &g, "2022-03-04T06:59:59Z"), "w-0304").len(),
        1
    );
}

#[test]
fn a_suspension_is_an_update_saying_do_not_go_with_its_reason_and_references() {
    let (a, g) = (eventful(), fixture::genesis());
    let all = alerts(&a, &g, "2022-03-04T09:30:00Z");
    let w = of(&all, "w-0304");
    let x = w.last().unwrap();
    // Not Cancel: a hub may drop a cancelled alert and show nothing, when people must read
    // "do not set out".
    assert_eq!((x.msg_type, x.change), (MsgType::Update, Change::Suspended));
    assert_eq!(el(&x.xml, "msgType"), Some("Update"));
    assert!(!x.xml.contains("<msgType>Cancel</msgType>"));
    assert_eq!(
        x.identifier,
        "corridor.demo/march-2022-exercise/w-0304/suspended-20"
    );
    assert_eq!(x.references.len(), 2);
    assert_eq!(el(&x.xml, "responseType"), Some("Shelter"));
    assert!(x.xml.contains("<responseType>Avoid</responseType>"));
    assert_eq!(el(&x.xml, "urgency"), Some("Immediate"));
    assert_eq!(el(&x.xml, "severity"), Some("Severe"));
    let d = el(&x.xml, "description").unwrap();
    // The public reason from the fixed list, never the party's own words.
    assert!(d.contains("обстріли поблизу маршруту"), "{d}");
    assert!(!d.contains("shelling reported near the route"), "{d}");
    assert!(d.contains("Україна"), "the suspending party is named: {d}");
    // Suspended: what to do first, then the signed advice, never where to gather.
    let i = el(&x.xml, "instruction").unwrap();
    assert!(
        i.starts_with("Не користуйтеся коридором зараз: не виходьте на маршрут."),
        "{i}"
    );
    assert!(i.contains("Залишайтеся в укритті"), "{i}");
    assert!(!i.contains("Центральна площа"), "{i}");
    // One resume is not enough; both are.
    assert_eq!(
        of(&alerts(&a, &g, "2022-03-04T09:55:00Z"), "w-0304").len(),
        3
    );
    let later = alerts(&a, &g, "2022-03-04T16:00:00Z");
    let w = of(&later, "w-0304");
    let kinds: Vec<_> = w.iter().map(|x| (x.msg_type, x.change)).collect();
    assert_eq!(
        kinds,
        vec![
            (MsgType::Alert, Change::Agreed),
            (MsgType::Update, Change::Opened),
            (MsgType::Update, Change::Suspended),
            (MsgType::Update, Change::Resumed),
            (MsgType::Update, Change::Closed),
        ]
    );
    assert_eq!(w[4].sent, "2022-03-04T15:00:00-00:00");
    // Closed is not "all clear": the ceasefire has ended.
    assert_eq!(el(&w[4].xml, "responseType"), Some("Avoid"));
    assert!(!w[4].xml.contains("AllClear"));
    assert_eq!(w[4].references.len(), 4);
}

#[test]
fn amendments_withdrawals_and_expiry() {
    let (a, g) = (eventful(), fixture::genesis());
    let all = alerts(&a, &g, "2022-03-06T12:00:00Z");
    let kinds = |w: &str| -> Vec<(MsgType, Change, String)> {
        of(&all, w)
            .iter()
            .map(|x| {
                (
                    x.msg_type,
                    x.change,
                    x.identifier.rsplit('/').next().unwrap().to_string(),
                )
            })
            .collect()
    };
    use Change::*;
    use MsgType::*;
    assert_eq!(
        kinds("w-0305"),
        vec![
            (Alert, Agreed, "agreed-v1".into()),
            (Update, Amending, "amending-v2".into()),
            (Update, NewTerms, "agreed-v2".into()),
            (Update, Withdrawn, "withdrawn-26".into()),
        ]
    );
    assert_eq!(
        kinds("w-0306"),
        vec![
            (Alert, Agreed, "agreed-v1".into()),
            (Update, Amending, "amending-v2".into()),
            (Update, Expired, "expired".into()),
        ]
    );
    let w = of(&all, "w-0305");
    // The new terms carry the new start.
    assert_eq!(el(&w[2].xml, "onset"), Some("2022-03-05T08:00:00-00:00"));
    assert_eq!(el(&w[1].xml, "certainty"), Some("Possible"));
    let d = el(&w[3].xml, "description").unwrap();
    assert!(d.contains("обстріли поблизу маршруту"), "{d}");
    assert!(!d.contains("withdraw: shelling"), "{d}");
    assert!(d.contains("Російська Федерація"), "{d}");
    assert_eq!(
        of(&all, "w-0306")[2].sent,
        "2022-03-06T08:00:00-00:00",
        "expired at the amended start"
    );
}

#[test]
fn identifiers_are_unique_and_do_not_change_as_time_passes() {
    let (a, g) = (eventful(), fixture::genesis());
    let instants = [
        "2022-03-03T14:00:00Z",
        "2022-03-04T07:00:00Z",
        "2022-03-04T09:30:00Z",
        "2022-03-04T21:30:00Z",
        "2022-03-05T12:30:00Z",
        "2022-03-06T12:00:00Z",
    ];
    let mut before: Vec<(String, String, String)> = Vec::new();
    for t in instants {
        let all = alerts(&a, &g, t);
        let now: Vec<_> = all
            .iter()
            .map(|x| (x.identifier.clone(), x.sent.clone(), x.xml.clone()))
            .collect();
        for old in &before {
            let same = now
                .iter()
                .find(|n| n.0 == old.0)
                .expect("an alert never disappears");
            assert_eq!(same, old, "an alert never changes once sent (at {t})");
        }
        let ids: std::collections::BTreeSet<_> = all.iter().map(|x| &x.identifier).collect();
        assert_eq!(ids.len(), all.len(), "unique identifiers at {t}");
        let paths: std::collections::BTreeSet<_> = all.iter().map(|x| &x.path).collect();
        assert_eq!(paths.len(), all.len(), "unique files at {t}");
        for x in &all {
            assert!(
                !x.identifier.contains([' ', ',', '<', '&']),
                "{}",
                x.identifier
            );
        }
        before = now;
    }
    assert_eq!(before.len(), 12);
}

// ---------------------------------------------------------------- the alert document

#[test]
fn an_exercise_says_so_and_a_real_log_does_not() {
    let a = fixture::agreements();
    let g = fixture::genesis();
    let x = &alerts(&a, &g, "2022-03-04T08:00:00Z")[0];
    assert_eq!(el(&x.xml, "status"), Some("Exercise"));
    assert!(el(&x.xml, "note").unwrap().contains("not a real corridor"));
    assert!(el(&x.xml, "headline").unwrap().starts_with("НАВЧАННЯ: "));
    let mut real = fixture::genesis();
    real.exercise = false;
    let x = &alerts(&a, &real, "2022-03-04T08:00:00Z")[0];
    assert_eq!(el(&x.xml, "status"), Some("Actual"));
    assert!(!x.xml.contains("<note>"));
    assert!(!x.xml.contains("НАВЧАННЯ") && !x.xml.contains("EXERCISE"));
}

#[test]
fn one_info_per_language_with_an_area_around_the_route() {
    let (a, g) = (fixture::agreements(), fixture::genesis());
    let all = alerts(&a, &g, "2022-03-04T08:00:00Z");
    let x = all.iter().find(|x| x.change == Change::Opened).unwrap();
    let infos: Vec<&str> = x.xml.split("<info>").skip(1).collect();
    assert_eq!(infos.len(), 3);
    let want = [
        (
            "uk",
            "Гуманітарний коридор",
            "Міжнародний комітет Червоного Хреста",
            "Коридор Бородянка – Берестянка відкрито до 4 березня 2022, 17:00 (за київським часом, UTC+2)",
        ),
        (
            "ru",
            "Гуманитарный коридор",
            "Международный комитет Красного Креста",
            "Коридор Бородянка – Берестянка открыт до 4 марта 2022, 17:00 (по киевскому времени, UTC+2)",
        ),
        (
            "en",
            "Humanitarian corridor",
            "International Committee of the Red Cross",
            "Corridor Borodianka – Berestianka is open until 4 March 2022, 17:00 (Kyiv time, UTC+2)",
        ),
    ];
    for (info, (lang, event, sender, headline)) in infos.iter().zip(want) {
        assert_eq!(el(info, "language"), Some(lang));
        assert_eq!(el(info, "category"), Some("Safety"));
        assert_eq!(el(info, "event"), Some(event));
        assert_eq!(el(info, "senderName"), Some(sender));
        assert!(el(info, "headline").unwrap().ends_with(headline), "{info}");
        assert_eq!(
            el(info, "web").unwrap(),
            format!("{BASE}/{lang}/corridors/{}", fixture::CORRIDOR)
        );
        let d = el(info, "description").unwrap();
        assert!(
            d.contains("2022-03-04 09:00–17:00 Europe/Kyiv (UTC+2)")
                && d.contains("2022-03-04 10:00–18:00 Europe/Moscow (UTC+3)")
                && d.contains("2022-03-04 07:00–15:00 UTC"),
            "{d}"
        );
        assert!(!info.contains(">feed-"), "a missing message: {info}");
        let polygon = el(info, "polygon").unwrap();
        let pts: Vec<&str> = polygon.split(' ').collect();
        assert!(pts.len() >= 4);
        assert_eq!(pts.first(), pts.last(), "closed");
        for pt in &pts {
            let (lat, lon) = pt.split_once(',').unwrap();
            let (lat, lon): (f64, f64) = (lat.parse().unwrap(), lon.parse().unwrap());
            // Latitude first: Borodianka is near 50.6 N, 29.9 E.
            assert!(
                (50.5..50.7).contains(&lat) && (29.7..30.0).contains(&lon),
                "{pt}"
            );
        }
    }
}

/// Every `<name>` element's text, in order (one `<info>` may repeat `responseType`).
fn all_el<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let from = i + open.len();
        let Some(len) = rest[from..].find(&close) else {
            break;
        };
        out.push(&rest[from..from + len]);
        rest = &rest[from + len..];
    }
    out
}

#[test]
fn every_status_maps_to_the_documented_cap_fields() {
    // The table in `cap`'s documentation, field by field, for an alert of every status; and
    // every one of them valid CAP 1.2.
    let (a, g) = (eventful(), fixture::genesis());
    let all = alerts(&a, &g, "2022-03-06T12:00:00Z");
    let mut seen = std::collections::BTreeSet::new();
    for x in &all {
        let info = x.xml.split("<info>").nth(1).unwrap();
        let status = match x.change {
            Change::Agreed | Change::NewTerms => "upcoming",
            Change::Amending => "pending",
            Change::Opened | Change::Resumed => "open",
            Change::Suspended => "suspended",
            Change::Closed => "closed",
            Change::Withdrawn | Change::Cancelled | Change::Expired => "cancelled",
        }
        .to_string();
        assert!(
            info.contains(&format!("<value>{status}</value>")),
            "{}: {info}",
            x.identifier
        );
        let (msg, response, urgency, certainty, expires, first): (
            &str,
            &[&str],
            &[&str],
            &str,
            bool,
            Option<&str>,
        ) = match status.as_str() {
            "upcoming" => (
                if x.change == Change::Agreed {
                    "Alert"
                } else {
                    "Update"
                },
                &["Prepare"],
                &["Expected", "Future"],
                "Likely",
                true,
                Some("Що взяти з собою"),
            ),
            "open" => (
                "Update",
                &["Evacuate"],
                &["Immediate"],
                "Likely",
                true,
                Some("Що взяти з собою"),
            ),
            "pending" => (
                "Update",
                &["Monitor"],
                &["Expected", "Future"],
                "Possible",
                true,
                Some("Не покладайтеся на оголошений час"),
            ),
            "suspended" => (
                "Update",
                &["Shelter", "Avoid"],
                &["Immediate"],
                "Observed",
                true,
                Some("Не користуйтеся коридором зараз"),
            ),
            "cancelled" => (
                "Update",
                &["Avoid"],
                &["Immediate"],
                "Observed",
                true,
                Some("Коридор не відкриється в оголошений час"),
            ),
            "closed" => (
                "Update",
                &["Avoid"],
                &["Immediate"],
                "Observed",
                false,
                Some("Погоджений режим тиші на цьому маршруті закінчився"),
            ),
            other => panic!("unexpected status {other}"),
        };
        let what = format!("{} ({status})", x.identifier);
        assert_eq!(el(&x.xml, "msgType"), Some(msg), "{what}");
        assert_eq!(all_el(info, "responseType"), response, "{what}");
        assert!(
            urgency.contains(&el(info, "urgency").unwrap()),
            "{what}: {info}"
        );
        assert_eq!(el(info, "severity"), Some("Severe"), "{what}");
        assert_eq!(el(info, "certainty"), Some(certainty), "{what}");
        assert_eq!(el(info, "expires").is_some(), expires, "{what}");
        assert!(
            !x.xml.contains("AllClear") && !x.xml.contains("Cancel<"),
            "{what}"
        );
        if let Some(first) = first {
            let i = el(info, "instruction").unwrap();
            assert!(i.starts_with(first), "{what}: {i}");
        }
        assert!(el(&x.xml, "sent").unwrap().ends_with("-00:00"), "{what}");
        xmllint("--schema", "CAP-v1.2.xsd", &x.xml, &x.identifier);
        seen.insert(status);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            "cancelled",
            "closed",
            "open",
            "pending",
            "suspended",
            "upcoming"
        ]
    );
}

#[test]
fn headlines_name_the_window_in_words_so_two_windows_never_read_the_same() {
    let (a, g) = (fixture::agreements(), fixture::genesis());
    // Both windows have closed by 6 March.
    let all = alerts(&a, &g, "2022-03-06T00:00:00Z");
    let closed: Vec<&Seen> = all.iter().filter(|x| x.change == Change::Closed).collect();
    assert_eq!(closed.len(), 2);
    let h: Vec<&str> = closed
        .iter()
        .map(|x| el(&x.xml, "headline").unwrap())
        .collect();
    assert_ne!(h[0], h[1]);
    assert!(
        h[0].contains("4 березня 2022, 09:00–17:00 (за київським часом, UTC+2)"),
        "{}",
        h[0]
    );
    for x in &all {
        for hl in all_el(&x.xml, "headline") {
            assert!(!hl.contains("2022-03-"), "an ISO date in a headline: {hl}");
        }
    }
    let s = site(&a, &g, "2022-03-06T00:00:00Z");
    let atom = String::from_utf8(s.files["/feeds/atom.xml"].body.clone()).unwrap();
    let titles = all_el(&atom, "title");
    let unique: std::collections::BTreeSet<_> = titles.iter().collect();
    assert_eq!(unique.len(), titles.len(), "{titles:?}");
}

// ---------------------------------------------------------------- schemas

/// Validate with xmllint against a schema in `shared/schemas`, or skip (panic on CI) when the
/// schemas or xmllint are not there.
fn xmllint(flag: &str, schema: &str, doc: &str, what: &str) {
    let schema = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/schemas"
    ))
    .join(schema);
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let skip = |why: String| {
        assert!(!ci, "CI=true, so not skipping: {why}");
        eprintln!("skipping the schema check of {what}: {why}");
    };
    if !schema.exists() {
        return skip(format!("{} is missing", schema.display()));
    }
    if Command::new("xmllint").arg("--version").output().is_err() {
        return skip("xmllint is not installed (Debian: libxml2-utils)".into());
    }
    // The Atom schema in shared/ is RELAX NG *compact* syntax, which xmllint cannot read:
    // convert it to the XML syntax with rnc2rng (PyPI; scripts/test.sh installs it).
    let text = std::fs::read_to_string(&schema).unwrap();
    let converted = tempfile::NamedTempFile::new().unwrap();
    let schema = if text.trim_start().starts_with('<') {
        schema
    } else {
        match Command::new("rnc2rng")
            .arg(&schema)
            .arg(converted.path())
            .output()
        {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!("rnc2rng failed: {}", String::from_utf8_lossy(&o.stderr)),
            Err(_) => return skip(
                "rnc2rng is not installed (scripts/test.sh installs it into tools/interop/.venv)"
                    .into(),
            ),
        }
        // rnc2rng declares an empty `local` prefix, which XML namespaces forbid.
        let rng = std::fs::read_to_string(converted.path()).unwrap();
        std::fs::write(converted.path(), rng.replace("xmlns:local=\"\"", "")).unwrap();
        converted.path().to_path_buf()
    };
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, doc.as_bytes()).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", flag])
        .arg(&schema)
        .arg(f.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what} does not validate against {}:\n{}\n{doc}",
        schema.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_cap_alert_validates_against_the_cap_schema() {
    let (a, g) = (eventful(), fixture::genesis());
    let all = alerts(&a, &g, "2022-03-06T12:00:00Z");
    let mut real = fixture::genesis();
    real.exercise = false;
    let actual = alerts(&a, &real, "2022-03-06T12:00:00Z");
    for x in all.iter().chain(&actual) {
        xmllint("--schema", "CAP-v1.2.xsd", &x.xml, &x.identifier);
    }
    // The harness itself: the standard's own example passes.
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/schemas/cap-1.2-example.xml"
    );
    match std::fs::read_to_string(example) {
        Ok(doc) => xmllint("--schema", "CAP-v1.2.xsd", &doc, "the CAP 1.2 example"),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true, so not skipping: {example}: {e}"
            );
            eprintln!("skipping the check of the harness on the CAP 1.2 example: {example}: {e}");
        }
    }
}

#[test]
fn markup_in_signed_text_cannot_break_an_alert() {
    let (mut a, g) = (eventful(), fixture::genesis());
    let c = a.corridors.get_mut(fixture::CORRIDOR).unwrap();
    c.versions[0].terms.names.en = "A <b> & \"C\" ]]> \u{1}".into();
    let w = a.windows.get_mut("w-0304").unwrap();
    w.acts
        .iter_mut()
        .find(|x| x.kind == ActKind::Suspend)
        .unwrap()
        .reason = Some("</description><script>&".into());
    for x in alerts(&a, &g, "2022-03-04T12:00:00Z") {
        xmllint("--schema", "CAP-v1.2.xsd", &x.xml, &x.identifier);
        assert!(!x.xml.contains("<script>"));
    }
}

#[test]
fn the_atom_feed_validates_and_links_every_alert() {
    let (a, g) = (eventful(), fixture::genesis());
    let s = site(&a, &g, "2022-03-06T12:00:00Z");
    let atom = &s.files["/feeds/atom.xml"];
    assert_eq!(atom.content_type, ATOM);
    let atom = String::from_utf8(atom.body.clone()).unwrap();
    xmllint("--relaxng", "atom-rfc4287.rng", &atom, "the Atom feed");
    let all = alerts(&a, &g, "2022-03-06T12:00:00Z");
    assert_eq!(atom.matches("<entry>").count(), all.len());
    for x in &all {
        let href = format!(
            "<link rel=\"alternate\" type=\"application/cap+xml\" href=\"{BASE}{}\"/>",
            x.path
        );
        assert!(atom.contains(&href), "{href}");
        assert_eq!(s.files[&x.path].content_type, CAP);
        assert_eq!(
            String::from_utf8(s.files[&x.path].body.clone()).unwrap(),
            x.xml
        );
    }
    // Newest first; the feed is as new as its newest entry.
    let newest = all.iter().max_by_key(|x| &x.sent).unwrap();
    let first_entry = &atom[atom.find("<entry>").unwrap()..];
    assert!(first_entry.contains(&atom::urn_uuid(&newest.identifier)));
    assert_eq!(el(&atom, "updated"), Some("2022-03-06T08:00:00Z"));
    assert!(el(&atom, "title").unwrap().starts_with("EXERCISE: "));
    assert!(atom.contains("<link rel=\"self\" type=\"application/atom+xml\" href=\"https://corridors.example/feeds/atom.xml\"/>"));
    // The three languages are in the content.
    assert!(atom.contains("<div lang=\"uk\" xml:lang=\"uk\">"));
    assert!(atom.contains("Коридор Бородянка – Берестянка, 4 марта 2022, 09:00–17:00 (по киевскому времени, UTC+2): закрыт"));
    // An empty feed validates too.
    let empty = site(&fixture::agreements(), &g, "2022-03-01T00:00:00Z");
    let empty = String::from_utf8(empty.files["/feeds/atom.xml"].body.clone()).unwrap();
    xmllint(
        "--relaxng",
        "atom-rfc4287.rng",
        &empty,
        "an empty Atom feed",
    );
}

#[test]
fn atom_ids_are_version_8_uuids() {
    let id = atom::urn_uuid("corridor.demo/x/w/opened");
    assert_eq!(id.len(), "urn:uuid:".len() + 36);
    assert_eq!(&id[9 + 14..9 + 15], "8");
    assert!("89ab".contains(&id[9 + 19..9 + 20]));
    assert_ne!(id, atom::urn_uuid("corridor.demo/x/w/closed"));
}

// ---------------------------------------------------------------- GeoJSON

#[test]
fn the_geojson_has_each_route_and_its_buffer() {
    let (a, g) = (fixture::agreements(), fixture::genesis());
    let s = site(&a, &g, "2022-03-04T08:00:00Z");
    let f = &s.files["/feeds/corridors.geojson"];
    assert_eq!(f.content_type, GEOJSON);
    let v: serde_json::Value = serde_json::from_slice(&f.body).unwrap();
    assert_eq!(v["type"], "FeatureCollection");
    assert_eq!(v["exercise"], true);
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    let route = &features[0];
    assert_eq!(route["geometry"]["type"], "LineString");
    assert_eq!(
        route["geometry"]["coordinates"][0],
        serde_json::json!([29.922, 50.6451])
    );
    let p = &route["properties"];
    assert_eq!(p["corridor"], fixture::CORRIDOR);
    assert_eq!(p["status"], "open");
    assert_eq!(p["start"], "2022-03-04T07:00:00Z");
    assert_eq!(p["end"], "2022-03-04T15:00:00Z");
    assert_eq!(p["buffer_m"], 500);
    assert_eq!(p["names"]["uk"], "Бородянка – Берестянка");
    let buffer = &features[1];
    assert_eq!(buffer["geometry"]["type"], "Polygon");
    let ring = buffer["geometry"]["coordinates"][0].as_array().unwrap();
    assert!(ring.len() >= 4);
    assert_eq!(ring.first(), ring.last());
    // Each agreed checkpoint as a point, numbered as on the page and the map.
    let cp = &features[2];
    assert_eq!(cp["geometry"]["type"], "Point");
    assert_eq!(
        cp["geometry"]["coordinates"],
        serde_json::json!([29.87, 50.61])
    );
    assert_eq!(cp["properties"]["kind"], "checkpoint");
    assert_eq!(cp["properties"]["number"], 1);
    assert_eq!(
        cp["properties"]["checkpoint_names"]["en"],
        "Checkpoint on the Berestianka road"
    );
    // Before any agreement there is nothing to map.
    let s = site(&a, &g, "2022-03-01T00:00:00Z");
    let v: serde_json::Value =
        serde_json::from_slice(&s.files["/feeds/corridors.geojson"].body).unwrap();
    assert!(v["features"].as_array().unwrap().is_empty());
}

#[test]
fn build_includes_the_feeds() {
    let (a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
    let input = Input {
        genesis: &g,
        agreements: &a,
        at: at("2022-03-04T08:00:00Z"),
        checkpoint: &c,
        base_url: BASE,
        documents: &[],
    };
    let s = crate::build(&input);
    for path in [
        "/feeds/cap.xml",
        "/feeds/atom.xml",
        "/feeds/corridors.geojson",
    ] {
        assert!(s.files.contains_key(path), "{path}");
    }
}

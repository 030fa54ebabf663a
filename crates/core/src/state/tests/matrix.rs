//! The authorisation matrices: every command type × every actor of the fixture (each role, of
//! the party the command concerns, of the other party, and of no party), and every entry type ×
//! every reader. The expected outcome of each cell is written in the tables below, one row per
//! command or entry type, so a change of rule shows up as a changed cell in review.

use super::*;
use crate::access::{Audience, GENESIS_AUDIENCE, Reader, affiliation_of, entry_audience};

/// The fixture's actors, in the tables' column order: `(actor, role, key seed)`.
/// The commands of the matrix concern party `ua`, so the `ua/*` columns are "own party", the
/// `ru/*` columns "other party" and the rest "no party".
const ACTORS: &[(&str, &str, u8)] = &[
    ("ua/admin", "party-admin", 3),
    ("ua/c", "coordinator", 10),
    ("ua/unit", "unit", 20),
    ("ua/sign", "signatory", 21),
    ("ru/admin", "party-admin", 4),
    ("ru/c", "coordinator", 11),
    ("ru/unit", "unit", 22),
    ("ru/sign", "signatory", 23),
    ("icrc/admin", "intermediary", 1),
    ("icrc/staff", "intermediary", 24),
    ("icrc/obs", "observer", 25),
    ("urcs/admin", "organisation-admin", 5),
    ("urcs/member", "organisation-member", 26),
];

/// Expected outcome per command type and actor (columns as in [`ACTORS`]): `ok` = accepted;
/// `role` = role-not-allowed; `party` = not-your-party; `int` =
/// intermediary-cannot-act-for-party; `unit` = unit-cannot-accuse (the matrix's report accuses
/// a party); `acc` = incident-answer-not-accused; `mine` = incident-not-yours; `unk` =
/// unknown-incident (a report this actor may not read); `vint` = incident-verify-intermediary-only;
/// `opp` = position-other-party; `sig` = document-signatory-only.
#[rustfmt::skip]
const COMMANDS: &[(&str, &str)] = &[
    //                     ua: admin coord unit sign | ru: admin coord unit sign | icrc: admin staff obs | urcs: admin member
    ("actor.register",     "ok role role role   role role role role   role role role   role role"),
    ("key.register",       "ok ok role role     role role role role   role role role   role role"),
    ("key.revoke",         "ok ok role role     role role role role   role role role   role role"),
    ("incident.report",    "ok ok unit role     ok ok unit role       ok ok role       ok ok"),
    ("incident.respond",   "ok ok role role     acc acc role role     role role role   role role"),
    ("incident.correct",   "mine mine mine role ok ok mine role       mine mine role   unk unk"),
    ("incident.verify",    "vint vint vint vint vint vint vint vint   ok ok vint       vint vint"),
    ("incident.duplicate", "ok ok role role     ok ok role role       ok ok role       unk unk"),
    ("settlement.import",  "role role role role role role role role   ok ok role       role role"),
    ("corridor.propose",   "ok ok role role     ok ok role role       ok ok role       role role"),
    ("corridor.amend",     "ok ok role role     ok ok role role       ok ok role       role role"),
    ("window.propose",     "ok ok role role     ok ok role role       ok ok role       role role"),
    ("window.amend",       "ok ok role role     ok ok role role       ok ok role       role role"),
    ("window.cancel",      "role ok role role   role role role role   role role role   role role"),
    ("window.consent",     "ok ok role ok       party party role party int int role    role role"),
    ("window.withdraw",    "ok ok role ok       party party role party int int role    role role"),
    ("window.suspend",     "ok ok role ok       party party role party int int role    role role"),
    ("window.resume",      "ok ok role ok       party party role party int int role    role role"),
    ("declaration.publish","ok ok role role     ok ok role role       role role role   role role"),
    ("admin.recover",      "role role role role role role role role   role role role   role role"),
    ("log.rotate_key",     "role role role role role role role role   ok ok role       role role"),
    ("operation.notify",   "role role role role role role role role   ok ok role       ok ok"),
    ("operation.ack",      "ok ok role ok       party party role party int int role    role role"),
    ("operation.move",     "role role role role role role role role   ok ok role       ok ok"),
    ("operation.receive",  "role role role role role role role role   ok ok role       ok ok"),
    ("operation.outcome",  "role role role role role role role role   ok ok role       ok ok"),
    ("unit.confirm",       "role role ok role   role role ok role     role role role   role role"),
    ("thread.open",        "ok ok role role     ok ok role role       ok ok role       ok ok"),
    ("message.send",       "ok ok role role     ok ok role role       ok ok role       ok ok"),
    ("message.ack",        "ok ok role role     ok ok role role       ok ok role       ok ok"),
    ("round.record",       "ok ok role role     ok ok role role       ok ok role       role role"),
    ("round.conclude",     "ok ok role role     ok ok role role       ok ok role       role role"),
    ("point.propose",      "ok ok role ok       ok ok role ok         ok ok role       role role"),
    ("point.revise",       "ok ok role ok       ok ok role ok         ok ok role       role role"),
    ("point.position",     "ok ok role ok       opp opp role opp      int int role     role role"),
    ("point.status",       "ok ok role ok       ok ok role ok         ok ok role       role role"),
    ("point.link",         "ok ok role role     ok ok role role       ok ok role       role role"),
    ("document.draft",     "ok ok role ok       ok ok role ok         ok ok role       role role"),
    ("document.revise",    "ok ok role ok       ok ok role ok         ok ok role       role role"),
    ("document.sign",      "sig sig sig ok      sig sig sig party     sig sig sig      sig sig"),
    ("document.publish",   "ok ok role ok       party party role party int int role    role role"),
];

fn code_of(cell: &str) -> Option<&'static str> {
    match cell {
        "ok" => None,
        "role" => Some("role-not-allowed"),
        "party" => Some("not-your-party"),
        "int" => Some("intermediary-cannot-act-for-party"),
        "unit" => Some("unit-cannot-accuse"),
        "acc" => Some("incident-answer-not-accused"),
        "mine" => Some("incident-not-yours"),
        "unk" => Some("unknown-incident"),
        "vint" => Some("incident-verify-intermediary-only"),
        "opp" => Some("position-other-party"),
        "sig" => Some("document-signatory-only"),
        other => panic!("unknown cell {other:?}"),
    }
}

fn g2() -> Value {
    json!({"ua": "ua will not fire on the route", "ru": "ru will not fire on the route"})
}

fn propose(w: &str, c: &str, start: &str, end: &str) -> Value {
    json!({"type": "window.propose", "window": w, "corridor": c, "corridor_version": 1,
           "terms": window_terms(start, end, json!({}))})
}

/// A window proposed by the intermediary, then amended by each party to state its guarantee.
fn complete_window(h: &mut Harness, w: &str, c: &str, start: &str, end: &str) {
    h.submit(&kp(1), "icrc/admin", propose(w, c, start, end))
        .unwrap();
    let ua = json!({"ua": g2()["ua"]});
    for (seed, actor, base, g) in [(10, "ua/c", 1, ua), (11, "ru/c", 2, g2())] {
        let amend = json!({"type": "window.amend", "window": w, "base_version": base,
            "corridor_version": 1, "terms": window_terms(start, end, g)});
        h.submit(&kp(seed), actor, amend).unwrap();
    }
}

/// The fixture: every actor of [`ACTORS`]; corridors c1, c2; on 4 March 2022 at 08:00 UTC:
/// `w1` (5 March) proposed, nobody consented; `w-wd` (7 March) with ua's consent; `w-cancel`
/// (6 March) proposed by ua/c; `w-active` on c1 agreed and active; `w-susp` on c2 agreed and
/// suspended by ru; incidents `ru/inc-ua` and `ru/inc-ua2`, reported by ru/c, accusing ua.
fn fixture() -> Harness {
    let mut h = agreement_log();
    for (actor, role, seed) in ACTORS {
        if h.state.actors.contains_key(*actor) {
            continue;
        }
        let admin = match affiliation_of(actor) {
            "ua" => (3, "ua/admin"),
            "ru" => (4, "ru/admin"),
            "icrc" => (1, "icrc/admin"),
            _ => (5, "urcs/admin"),
        };
        h.submit(&kp(admin.0), admin.1, register(actor, role, &kp(*seed)))
            .unwrap();
    }
    for id in ["ru/inc-ua", "ru/inc-ua2"] {
        h.submit(&kp(11), "ru/c", report(id, Some("ua"))).unwrap();
    }
    let c2 = json!({"type": "corridor.propose", "corridor": "c2", "terms": corridor_terms(true)});
    h.submit(&kp(1), "icrc/admin", c2).unwrap();
    for (w, c, start, end) in [
        (
            "w-active",
            "c1",
            "2022-03-04T07:00:00Z",
            "2022-03-04T17:00:00Z",
        ),
        (
            "w-susp",
            "c2",
            "2022-03-04T07:00:00Z",
            "2022-03-04T17:00:00Z",
        ),
        ("w-wd", "c1", "2022-03-07T07:00:00Z", "2022-03-07T17:00:00Z"),
    ] {
        complete_window(&mut h, w, c, start, end);
    }
    let cancel = propose(
        "w-cancel",
        "c1",
        "2022-03-06T07:00:00Z",
        "2022-03-06T17:00:00Z",
    );
    h.submit(&kp(10), "ua/c", cancel).unwrap();
    agree(&mut h, "w-active");
    agree(&mut h, "w-susp");
    let v = hash(&h, "w-wd");
    h.submit(&kp(10), "ua/c", consent("w-wd", "ua", &v))
        .unwrap();
    jump_to(&mut h, "2022-03-04T08:00:00Z");
    h.submit(
        &kp(11),
        "ru/c",
        json!({"type": "window.suspend", "window": "w-susp", "party": "ru",
        "reason": "shelling on the route"}),
    )
    .unwrap();
    // Operations on w-active, by the organisation: `urcs/op` notified, `urcs/op-arrived`
    // notified, departed and arrived; a thread of every side with a message all must acknowledge.
    for op in ["urcs/op", "urcs/op-arrived"] {
        h.submit(&kp(5), "urcs/admin", notify_aid(op, &format!("{op}-t")))
            .unwrap();
    }
    for (event, at) in [
        ("departed", "2022-03-04T07:58:00Z"),
        ("arrived", "2022-03-04T07:59:00Z"),
    ] {
        h.submit(&kp(5), "urcs/admin", json!({"type": "operation.move", "operation": "urcs/op-arrived",
            "event": event, "occurred_at": at, "location": {"lat_e7": 506300000, "lon_e7": 299000000}}))
            .unwrap();
    }
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "thread.open", "thread": "icrc/t-all",
        "corridor": "c1", "participants": ["ua", "ru", "urcs"], "subject": "Corridor c1"}),
    )
    .unwrap();
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "message.send", "thread": "icrc/t-all",
        "message": "m0", "text": "Convoy at 08:30", "ack_required": ["ua", "ru", "icrc", "urcs"]}),
    )
    .unwrap();
    register_fixture(&mut h);
    h
}

/// The register of the fixture: round `r1` held, round `r-open` without its outcome; point
/// `h-open` (open) and `h-agreed` (both parties accepted, agreed text); document `doc1` (with
/// h-agreed, unsigned) and `doc-signed` (signed by both parties' signatories).
fn register_fixture(h: &mut Harness) {
    let round = |id: &str, n: u32, starts: &str, local: &str| {
        json!({"type": "round.record", "round": id, "number": n, "starts": starts,
            "starts_local": {"local": local, "zone": "Europe/Moscow"},
            "venue": names("Belovezhskaya Pushcha"), "format": "in-person",
            "delegations": {"ua": [{"name": "Head of delegation", "role": "head"}],
                            "ru": [{"name": "Head of delegation", "role": "head"}]},
            "outcome": "Humanitarian corridors agreed"})
    };
    h.submit(
        &kp(1),
        "icrc/admin",
        round("r1", 1, "2022-03-03T14:50:00Z", "2022-03-03T17:50"),
    )
    .unwrap();
    let mut open = round("r-open", 2, "2022-03-07T12:00:00Z", "2022-03-07T15:00");
    open.as_object_mut().unwrap().remove("outcome");
    h.submit(&kp(1), "icrc/admin", open).unwrap();
    for p in ["h-open", "h-agreed"] {
        h.submit(
            &kp(1),
            "icrc/admin",
            json!({"type": "point.propose", "point": p,
            "basket": "humanitarian", "round": "r1", "text": {"en": "Humanitarian corridors"}}),
        )
        .unwrap();
    }
    for (seed, actor, party) in [(10, "ua/c", "ua"), (11, "ru/c", "ru")] {
        h.submit(
            &kp(seed),
            actor,
            json!({"type": "point.position", "point": "h-agreed",
            "version": 1, "party": party, "round": "r1", "stance": "accepts", "text": "Agreed"}),
        )
        .unwrap();
    }
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "point.status", "point": "h-agreed",
        "version": 1, "round": "r1", "status": "agreed-text"}),
    )
    .unwrap();
    for d in ["doc1", "doc-signed"] {
        h.submit(&kp(1), "icrc/admin", draft(d)).unwrap();
    }
    let signed = doc_hash(h, "doc-signed");
    for (seed, actor, party) in [(21, "ua/sign", "ua"), (23, "ru/sign", "ru")] {
        h.submit(
            &kp(seed),
            actor,
            json!({"type": "document.sign", "document": "doc-signed",
            "party": party, "version_hash": signed}),
        )
        .unwrap();
    }
}

fn draft(id: &str) -> Value {
    json!({"type": "document.draft", "document": id, "title": {"en": "Protocol"},
        "points": ["h-agreed"], "binding_language": "en", "text": {"en": "The parties agree."}})
}

fn doc_hash(h: &Harness, id: &str) -> String {
    h.state.register.documents[id].latest().hash.clone()
}

/// A valid notification of an aid delivery through w-active.
fn notify_aid(op: &str, tracking: &str) -> Value {
    json!({"type": "operation.notify", "operation": op, "window": "w-active", "kind": "aid-delivery",
        "vehicles": [{"type": "truck", "plate": "AA 0001 KB", "markings": "Red Cross emblem"}],
        "consignments": [{"tracking": tracking, "category": "food", "item": "flour",
                          "quantity": 100, "unit": "kg"}],
        "departure": "2022-03-04T08:30:00Z", "arrival": "2022-03-04T16:00:00Z"})
}

/// A valid command of each type concerning party `ua`, against [`fixture`]. `n` makes ids fresh.
fn command(h: &Harness, ty: &str, n: usize) -> Value {
    let fresh_kp = || {
        let mut seed = [200u8; 32];
        seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
        Keypair::from_seed(seed)
    };
    let fresh = fresh_kp().public().id();
    let ua_c_key = kp(10).public().id();
    match ty {
        "actor.register" => register(&format!("ua/new-{n}"), "coordinator", &fresh_kp()),
        "key.register" => key_register("ua/c", &fresh_kp()),
        "key.revoke" => json!({"type": ty, "key": ua_c_key, "reason": "lost"}),
        "incident.report" => report(&format!("inc-{n}"), Some("ua")),
        "incident.respond" => json!({"type": ty, "incident": "ru/inc-ua", "text": "not us"}),
        "incident.correct" => {
            let mut v = report("ru/inc-ua", None);
            v["type"] = json!(ty);
            v["reason"] = json!("the time was an hour off");
            v["occurred_at"] = json!("2022-03-03T07:00:00Z");
            v
        }
        "incident.verify" => json!({"type": ty, "incident": "ru/inc-ua", "status": "corroborated",
            "reasoning": "two independent witnesses"}),
        "incident.duplicate" => {
            json!({"type": ty, "incident": "ru/inc-ua2", "duplicate_of": "ru/inc-ua"})
        }
        "settlement.import" => {
            let mut s = settlements();
            s["settlements"][0]["names"]["en"] = json!(format!("Borodianka {n}"));
            s
        }
        "corridor.propose" => {
            json!({"type": ty, "corridor": format!("c-{n}"), "terms": corridor_terms(true)})
        }
        "corridor.amend" => {
            json!({"type": ty, "corridor": "c1", "base_version": 1, "terms": corridor_terms(true)})
        }
        "window.propose" => propose(
            &format!("w-{n}"),
            "c1",
            "2022-03-08T07:00:00Z",
            "2022-03-08T17:00:00Z",
        ),
        "window.amend" => {
            let base = h.state.agreements.windows["w1"].latest().version;
            json!({"type": ty, "window": "w1", "base_version": base, "corridor_version": 1,
                   "terms": window_terms("2022-03-05T07:00:00Z", "2022-03-05T16:00:00Z", g2())})
        }
        "window.cancel" => json!({"type": ty, "window": "w-cancel", "reason": "not needed"}),
        "window.consent" => consent("w1", "ua", &hash(h, "w1")),
        "window.withdraw" => {
            json!({"type": ty, "window": "w-wd", "party": "ua", "reason": "no guarantee"})
        }
        "window.suspend" => {
            json!({"type": ty, "window": "w-active", "party": "ua", "reason": "gunfire"})
        }
        "window.resume" => {
            json!({"type": ty, "window": "w-susp", "party": "ua", "version_hash": hash(h, "w-susp")})
        }
        "admin.recover" => json!({"type": ty, "new_key": fresh, "reason": "admin key lost",
            "key_proof": prove(&fresh_kp(), "ua/admin")}),
        "log.rotate_key" => json!({"type": ty, "new_key": fresh}),
        "declaration.publish" => {
            json!({"type": ty, "declaration": format!("d-{n}"), "start": "2022-03-05T07:00:00Z",
                   "text": names("We will hold fire on the route")})
        }
        "operation.notify" => notify_aid(&format!("op-{n}"), &format!("t-{n}")),
        "operation.ack" => json!({"type": ty, "operation": "urcs/op", "party": "ua"}),
        "operation.move" => json!({"type": ty, "operation": "urcs/op", "event": "departed",
            "occurred_at": "2022-03-04T08:00:00Z", "location": {"lat_e7": 506300000, "lon_e7": 299000000}}),
        "operation.receive" => json!({"type": ty, "operation": "urcs/op-arrived",
            "receipts": [{"tracking": "urcs/op-arrived-t", "delivered": 100, "damaged": 0, "lost": 0}]}),
        "operation.outcome" => json!({"type": ty, "operation": "urcs/op", "outcome": "postponed",
            "reason": "the road is mined"}),
        "unit.confirm" => {
            json!({"type": ty, "window": "w-active", "version_hash": hash(h, "w-active")})
        }
        "thread.open" => json!({"type": ty, "thread": format!("t-{n}"), "corridor": "c1",
            "participants": ["ua", "ru"], "subject": "Timing"}),
        "message.send" => json!({"type": ty, "thread": "icrc/t-all", "message": format!("m-{n}"),
            "text": "Noted"}),
        "message.ack" => json!({"type": ty, "thread": "icrc/t-all", "message": "m0"}),
        "round.record" => {
            // Rounds are recorded in order: each cell's after the fixture's.
            let at = jiff::Timestamp::from_second(1_646_870_400 + 60 * n as i64).unwrap();
            let utc = crate::time::format_log_time(at);
            json!({"type": ty, "round": format!("r-{n}"), "number": 100 + n,
                "starts": format!("{}Z", &utc[..19]),
                "starts_local": {"local": &utc[..16], "zone": "UTC"},
                "venue": names("Online"), "format": "video",
                "delegations": {"ua": [{"name": "Deputy", "role": "member"}]}})
        }
        "round.conclude" => json!({"type": ty, "round": "r-open", "outcome": "No agreement",
            "communique": [{"lang": "ru", "text": "Переговоры продолжатся", "original": true},
                           {"lang": "en", "text": "The talks will go on", "original": false}]}),
        "point.propose" => json!({"type": ty, "point": format!("m-{n}"), "basket": "military",
            "round": "r1", "text": {"ru": "Прекращение огня"}}),
        "point.revise" => json!({"type": ty, "point": "h-open", "base_version": 1, "round": "r1",
            "text": {"en": "Humanitarian corridors, with guarantees"}}),
        "point.position" => json!({"type": ty, "point": "h-open", "version": 1, "party": "ua",
            "round": "r1", "stance": "reserves", "text": "With guarantees only"}),
        "point.status" => json!({"type": ty, "point": "h-open", "version": 1, "round": "r1",
            "status": "deferred"}),
        "point.link" => json!({"type": ty, "point": "h-agreed", "corridors": ["c1"],
            "windows": ["w-active"]}),
        "document.draft" => {
            let mut d = draft(&format!("doc-{n}"));
            d["type"] = json!(ty);
            d
        }
        "document.revise" => {
            let mut d = draft("doc1");
            d["type"] = json!(ty);
            d["base_version"] = json!(1);
            d["text"] = json!({"en": "The parties agree as follows."});
            d
        }
        "document.sign" => json!({"type": ty, "document": "doc1", "party": "ua",
            "version_hash": doc_hash(h, "doc1")}),
        "document.publish" => json!({"type": ty, "document": "doc-signed", "party": "ua",
            "version_hash": doc_hash(h, "doc-signed")}),
        other => panic!("no command for {other}"),
    }
}

#[test]
fn command_matrix() {
    let base = fixture();
    fn sorted(v: impl Iterator<Item = &'static str>) -> Vec<&'static str> {
        let mut v: Vec<_> = v.collect();
        v.sort();
        v
    }
    let known = sorted(crate::command::COMMAND_TYPES.iter().copied());
    let rows = sorted(COMMANDS.iter().map(|(t, _)| *t));
    let gated = sorted(crate::access::ISSUERS.iter().map(|(t, _)| *t));
    assert_eq!(rows, known, "a row per command type");
    assert_eq!(gated, known, "a role-gate row per command type");
    let mut failures = Vec::new();
    for (row, (ty, cells)) in COMMANDS.iter().enumerate() {
        let cells: Vec<&str> = cells.split_whitespace().collect();
        assert_eq!(cells.len(), ACTORS.len(), "row {ty} has a cell per actor");
        for (col, ((actor, _, seed), cell)) in ACTORS.iter().zip(cells).enumerate() {
            let mut h = Harness {
                state: base.state.clone(),
                entries: vec![],
                now: base.now,
                n: base.n,
            };
            let mut body = command(&h, ty, row * ACTORS.len() + col);
            // Incident, operation and thread ids are scoped by the author's side.
            for field in ["incident", "operation", "thread"] {
                let scoped = matches!(
                    (*ty, field),
                    ("incident.report", "incident")
                        | ("operation.notify", "operation")
                        | ("thread.open", "thread")
                );
                if scoped {
                    let id = format!(
                        "{}/{}",
                        affiliation_of(actor),
                        body[field].as_str().unwrap()
                    );
                    body[field] = json!(id);
                }
            }
            let got = h.submit(&kp(*seed), actor, body).err().map(|e| e.code());
            if got != code_of(cell) {
                failures.push(format!(
                    "{ty} by {actor}: expected {:?}, got {got:?}",
                    code_of(cell)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Expected readers per entry of [`fixture`]'s kinds (columns as in [`ACTORS`], then the
/// public): `y` = may read the full entry, `-` = leaf data only.
#[rustfmt::skip]
const READS: &[(&str, &str)] = &[
    //                               ua: admin coord unit sign | ru: admin coord unit sign | icrc: admin staff obs | urcs: admin member | public
    ("genesis",                      "y y y y   y y y y   y y y   y y   y"),
    ("actor.register coordinator",   "y y y y   y y y y   y y y   y y   -"),
    ("actor.register unit",          "y y y y   - - - -   y y -   - -   -"),
    ("incident.report ru→ua",        "y y y y   y y y y   y y -   - -   -"),
    ("incident.respond ua",          "y y y y   y y y y   y y -   - -   -"),
    ("incident.correct ru",          "y y y y   y y y y   y y -   - -   -"),
    ("incident.verify icrc",         "y y y y   y y y y   y y -   - -   -"),
    ("incident.duplicate ua",        "y y y y   y y y y   y y -   - -   -"),
    ("incident.report urcs",         "- - - -   - - - -   y y -   y y   -"),
    ("settlement.import",            "y y y y   y y y y   y y y   y y   -"),
    ("window.consent",               "y y y y   y y y y   y y y   y y   -"),
    ("operation.notify urcs",        "y y y y   y y y y   y y -   y y   -"),
    ("unit.confirm ua",              "y y y y   - - - -   y y -   - -   -"),
    ("message.send to every side",   "y y y y   y y y y   y y -   y y   -"),
    ("thread.open ua–icrc",          "y y y y   - - - -   y y -   - -   -"),
    ("message.send ua–icrc",         "y y y y   - - - -   y y -   - -   -"),
    ("point.position ua",            "y y y y   y y y y   y y -   - -   -"),
    ("document.sign ru",             "y y y y   y y y y   y y -   - -   -"),
];

#[test]
fn read_matrix() {
    let mut h = fixture();
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "incident.respond", "incident": "ru/inc-ua", "text": "not us"}),
    )
    .unwrap();
    for (seed, actor, ty) in [
        (11, "ru/c", "incident.correct"),
        (24, "icrc/staff", "incident.verify"),
        (10, "ua/c", "incident.duplicate"),
    ] {
        let body = command(&h, ty, 0);
        h.submit(&kp(seed), actor, body).unwrap();
    }
    h.submit(&kp(26), "urcs/member", report("urcs/inc-urcs", None))
        .unwrap();
    h.submit(
        &kp(20),
        "ua/unit",
        json!({"type": "unit.confirm", "window": "w-active",
        "version_hash": hash(&h, "w-active")}),
    )
    .unwrap();
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "thread.open", "thread": "ua/t-bi", "corridor": "c1",
        "participants": [], "subject": "Bilateral"}),
    )
    .unwrap();
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "message.send", "thread": "ua/t-bi", "message": "m1",
        "text": "For the intermediary only"}),
    )
    .unwrap();
    let find = |pred: &dyn Fn(&SignedCommand) -> bool| -> Audience {
        for e in h.entries.iter().skip(1) {
            let env = crate::envelope::envelope_bytes(&e.command, &e.signature);
            let cmd = SignedCommand::parse(&env, "corridor.test/log").unwrap();
            if pred(&cmd) {
                return entry_audience(&h.state, &cmd.actor, &cmd.body);
            }
        }
        panic!("no such entry in the fixture");
    };
    let is = |ty: &'static str, actor: &'static str| {
        move |c: &SignedCommand| c.body.type_name() == ty && c.actor == actor
    };
    let registers = |who: &'static str| move |c: &SignedCommand| matches!(&c.body, Body::ActorRegister(b) if b.actor == who);
    let audiences = [
        GENESIS_AUDIENCE,
        find(&registers("ua/c")),
        find(&registers("ua/unit")),
        find(&is("incident.report", "ru/c")),
        find(&is("incident.respond", "ua/c")),
        find(&is("incident.correct", "ru/c")),
        find(&is("incident.verify", "icrc/staff")),
        find(&is("incident.duplicate", "ua/c")),
        find(&is("incident.report", "urcs/member")),
        find(&is("settlement.import", "icrc/admin")),
        find(&is("window.consent", "ua/c")),
        find(&is("operation.notify", "urcs/admin")),
        find(&is("unit.confirm", "ua/unit")),
        find(&is("message.send", "icrc/admin")),
        find(&is("thread.open", "ua/c")),
        find(&is("message.send", "ua/c")),
        find(&is("point.position", "ua/c")),
        find(&is("document.sign", "ru/sign")),
    ];
    assert_eq!(audiences.len(), READS.len());
    let mut failures = Vec::new();
    for ((what, cells), audience) in READS.iter().zip(&audiences) {
        let cells: Vec<&str> = cells.split_whitespace().collect();
        assert_eq!(
            cells.len(),
            ACTORS.len() + 1,
            "row {what} has a cell per reader"
        );
        for (i, cell) in cells.iter().enumerate() {
            let (who, admits) = match ACTORS.get(i) {
                Some((actor, _, _)) => (
                    *actor,
                    audience.admits(Reader::Actor(&h.state.actors[*actor])),
                ),
                None => ("the public", audience.admits(Reader::Public)),
            };
            if admits != (*cell == "y") {
                failures.push(format!(
                    "{what} read by {who}: expected {cell}, got {admits}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

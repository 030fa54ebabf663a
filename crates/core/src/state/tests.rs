use jiff::Timestamp;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::crypto::Keypair;
use crate::entry::Entry;
use crate::envelope::Draft;
use crate::genesis::tests::sample;

const T0: &str = "2022-03-03T14:50:00Z";

/// A miniature log: runs commands live like the server does and keeps the entries, so tests can
/// replay them and compare.
struct Harness {
    state: State,
    entries: Vec<Entry>,
    now: Timestamp,
    n: u64,
}

impl Harness {
    fn new() -> Self {
        Harness::with_policy(|_| {})
    }

    /// A harness on the sample genesis with its policy changed by `f` (and signed again).
    fn with_policy(f: impl FnOnce(&mut crate::genesis::Policy)) -> Self {
        let (mut g, signers) = sample();
        f(&mut g.document.policy);
        for (s, k) in &signers {
            g.sign(s, k).unwrap();
        }
        let now: Timestamp = T0.parse().unwrap();
        let state = State::from_genesis(&g, now).unwrap();
        let genesis = Entry::new(
            0,
            crate::time::format_log_time(now),
            "genesis",
            "icrc/admin",
            &g.document.intermediary.admin_key,
            "genesis",
            [0; 32],
            g.canonical(),
            vec![],
        );
        Harness {
            state,
            entries: vec![genesis],
            now,
            n: 0,
        }
    }

    fn tick(&mut self, secs: i64) {
        self.now = self
            .now
            .checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap();
    }

    fn submit_at(
        &mut self,
        key: &Keypair,
        actor: &str,
        body: Value,
        client: Timestamp,
    ) -> Result<(), Rejection> {
        self.append(key, actor, body, client, false)
    }

    /// Append `body` as a server with another tz release would have accepted it: decided by
    /// [`State::execute_recorded`], which asks nothing of the tz database.
    fn record(&mut self, key: &Keypair, actor: &str, body: Value) -> Result<(), Rejection> {
        let now = self.now;
        self.append(key, actor, body, now, true)
    }

    fn append(
        &mut self,
        key: &Keypair,
        actor: &str,
        body: Value,
        client: Timestamp,
        recorded: bool,
    ) -> Result<(), Rejection> {
        self.n += 1;
        let id = format!("cmd-{}", self.n);
        let time = crate::time::format_log_time(client);
        let bytes = Draft {
            origin: "corridor.test/log",
            actor,
            id: &id,
            time: &time,
            body,
        }
        .sign(key);
        let cmd = SignedCommand::parse(&bytes, "corridor.test/log")?;
        self.tick(1);
        let t = crate::time::next_log_time(self.now, Some(self.state.last_time));
        if recorded {
            self.state.execute_recorded(&cmd, t)?;
        } else {
            self.state.execute(&cmd, t)?;
        }
        self.entries.push(Entry::new(
            self.entries.len() as u64,
            crate::time::format_log_time(t),
            cmd.body.type_name(),
            &cmd.actor,
            &cmd.key.id(),
            &cmd.id,
            [self.n as u8; 32],
            cmd.command_bytes.clone(),
            cmd.signature.to_vec(),
        ));
        Ok(())
    }

    fn submit(&mut self, key: &Keypair, actor: &str, body: Value) -> Result<(), Rejection> {
        let now = self.now;
        self.submit_at(key, actor, body, now)
    }

    fn replay(&self) -> State {
        let mut r = Replay::new();
        for e in &self.entries {
            r.apply(e).unwrap();
        }
        r.into_state().unwrap()
    }
}

fn kp(n: u8) -> Keypair {
    Keypair::from_seed([n; 32])
}

fn register(actor: &str, role: &str, key: &Keypair) -> Value {
    json!({"type":"actor.register","actor":actor,"role":role,"key":key.public().id(),
        "key_proof": prove(key, actor),"name":"Coordinator"})
}

/// The proof of possession of `key` as `actor` on the test log.
fn prove(key: &Keypair, actor: &str) -> String {
    crate::envelope::prove_key(key, "corridor.test/log", actor)
}

/// A `key.register` of `key` for `actor`, with its proof of possession.
fn key_register(actor: &str, key: &Keypair) -> Value {
    json!({"type": "key.register", "actor": actor, "key": key.public().id(), "key_proof": prove(key, actor)})
}

fn report(id: &str, accused: Option<&str>) -> Value {
    let mut v = json!({"type":"incident.report","incident":id,"occurred_at":"2022-03-03T08:00:00Z",
        "location":{"lat_e7":506451000,"lon_e7":299220000},"category":"shelling",
        "description":"shelling near the gathering point in Borodianka"});
    if let Some(p) = accused {
        v["accused_party"] = json!(p);
    }
    v
}

#[test]
fn admin_registers_own_people_only() {
    let mut h = Harness::new();
    h.submit(
        &kp(3),
        "ua/admin",
        register("ua/coord-1", "coordinator", &kp(10)),
    )
    .unwrap();
    let e = h
        .submit(
            &kp(3),
            "ua/admin",
            register("ru/coord-1", "coordinator", &kp(11)),
        )
        .unwrap_err();
    assert_eq!(e.code(), "role-not-allowed");
    let e = h
        .submit(
            &kp(10),
            "ua/coord-1",
            register("ua/coord-2", "coordinator", &kp(12)),
        )
        .unwrap_err();
    assert_eq!(e.code(), "role-not-allowed");
    let e = h
        .submit(&kp(3), "ua/admin", register("ua/obs", "observer", &kp(12)))
        .unwrap_err();
    assert_eq!(e.code(), "role-not-for-affiliation");
    let e = h
        .submit(
            &kp(3),
            "ua/admin",
            register("ua/coord-1", "coordinator", &kp(12)),
        )
        .unwrap_err();
    assert_eq!(e.code(), "actor-exists");
    let e = h
        .submit(
            &kp(3),
            "ua/admin",
            register("ua/coord-3", "coordinator", &kp(10)),
        )
        .unwrap_err();
    assert_eq!(e.code(), "key-in-use");
    assert_eq!(h.state.actors["ua/coord-1"].role, Role::Coordinator);
    assert_eq!(h.replay(), h.state);
}

#[test]
fn key_checks_happen_at_sequencing() {
    let mut h = Harness::new();
    h.submit(
        &kp(3),
        "ua/admin",
        register("ua/coord-1", "coordinator", &kp(10)),
    )
    .unwrap();
    // Unknown key.
    assert_eq!(
        h.submit(&kp(20), "ua/coord-1", report("ua/i0", None))
            .unwrap_err()
            .code(),
        "unknown-key"
    );
    // Key of another actor.
    assert_eq!(
        h.submit(&kp(10), "ua/coord-2", report("ua/i0", None))
            .unwrap_err()
            .code(),
        "key-actor-mismatch"
    );
    h.submit(&kp(10), "ua/coord-1", report("ua/i1", Some("ru")))
        .unwrap();
    h.submit(
        &kp(3),
        "ua/admin",
        json!({"type":"key.revoke","key":kp(10).public().id(),"reason":"lost phone"}),
    )
    .unwrap();
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", report("ua/i2", None))
            .unwrap_err()
            .code(),
        "key-revoked"
    );
    // Rotation: a new key for the same actor works.
    h.submit(&kp(3), "ua/admin", key_register("ua/coord-1", &kp(13)))
        .unwrap();
    h.submit(&kp(13), "ua/coord-1", report("ua/i2", None))
        .unwrap();
    assert_eq!(h.replay(), h.state);
}

#[test]
fn compromised_key_flags_later_entries() {
    let mut h = Harness::new();
    h.submit(
        &kp(3),
        "ua/admin",
        register("ua/coord-1", "coordinator", &kp(10)),
    )
    .unwrap();
    h.submit(&kp(10), "ua/coord-1", report("ua/i1", None))
        .unwrap(); // entry 2
    let since = crate::time::format_log_time(
        h.now
            .checked_add(jiff::SignedDuration::from_millis(500))
            .unwrap(),
    );
    h.submit(&kp(10), "ua/coord-1", report("ua/i2", None))
        .unwrap(); // entry 3
    h.submit(&kp(3), "ua/admin", json!({"type":"key.revoke","key":kp(10).public().id(),"reason":"captured","compromised_since":since})).unwrap();
    assert_eq!(h.state.flagged.iter().copied().collect::<Vec<_>>(), vec![3]);
    assert_eq!(h.replay(), h.state);
}

#[test]
fn clock_skew_is_judged_against_policy() {
    let mut h = Harness::new();
    let late = h
        .now
        .checked_sub(jiff::SignedDuration::from_secs(600))
        .unwrap();
    let e = h
        .submit_at(&kp(1), "icrc/admin", report("icrc/i1", None), late)
        .unwrap_err();
    assert_eq!(e.code(), "clock-skew");
    let near = h
        .now
        .checked_sub(jiff::SignedDuration::from_secs(100))
        .unwrap();
    h.submit_at(&kp(1), "icrc/admin", report("icrc/i1", None), near)
        .unwrap();
}

/// Field mode (#17 item 5): a command signed offline hours ago is accepted for a role the
/// genesis grants it, refused beyond that and for other roles; a command dated ahead of the log
/// is refused whatever the policy; the replay agrees.
#[test]
fn offline_signed_commands_are_accepted_within_the_roles_policy() {
    let mut h = Harness::with_policy(|p| {
        p.offline_max_age_s = Some([("coordinator".to_string(), 6 * 3600)].into());
    });
    h.submit(
        &kp(3),
        "ua/admin",
        register("ua/coord-1", "coordinator", &kp(10)),
    )
    .unwrap();
    let ago = |s: i64| {
        h.now
            .checked_sub(jiff::SignedDuration::from_secs(s))
            .unwrap()
    };
    let (two_hours, seven_hours) = (ago(2 * 3600), ago(7 * 3600));
    h.submit_at(&kp(10), "ua/coord-1", report("ua/i1", None), two_hours)
        .unwrap();
    let e = h
        .submit_at(&kp(10), "ua/coord-1", report("ua/i2", None), seven_hours)
        .unwrap_err();
    assert_eq!(e.code(), "clock-skew");
    // The admin's role has no offline allowance: the skew limit.
    let e = h
        .submit_at(&kp(3), "ua/admin", report("ua/i3", None), two_hours)
        .unwrap_err();
    assert_eq!(e.code(), "clock-skew");
    // Ahead of the log: refused whatever the role's allowance.
    let ahead = h
        .now
        .checked_add(jiff::SignedDuration::from_secs(3600))
        .unwrap();
    let e = h
        .submit_at(&kp(10), "ua/coord-1", report("ua/i4", None), ahead)
        .unwrap_err();
    assert_eq!(e.code(), "clock-skew");
    // Rules decide at the log's time: the report's entry is dated now, its command then.
    let at = h.state.incidents["ua/i1"].reported_at as usize;
    assert!(h.entries[at].header.time > crate::time::format_log_time(two_hours));
    assert_eq!(h.replay(), h.state);
    // A genesis may not grant more than a week, or an unknown role.
    let (mut g, _) = sample();
    g.document.policy.offline_max_age_s = Some([("coordinator".to_string(), 8 * 24 * 3600)].into());
    assert_eq!(g.document.check().unwrap_err().code(), "invalid-field");
    g.document.policy.offline_max_age_s = Some([("general".to_string(), 60)].into());
    assert_eq!(g.document.check().unwrap_err().code(), "invalid-field");
}

#[test]
fn only_the_accused_party_answers() {
    let mut h = Harness::new();
    h.submit(
        &kp(3),
        "ua/admin",
        register("ua/coord-1", "coordinator", &kp(10)),
    )
    .unwrap();
    h.submit(
        &kp(4),
        "ru/admin",
        register("ru/coord-1", "coordinator", &kp(11)),
    )
    .unwrap();
    h.submit(&kp(10), "ua/coord-1", report("ua/i1", Some("ru")))
        .unwrap();
    let answer =
        json!({"type":"incident.respond","incident":"ua/i1","text":"Our units did not fire."});
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", answer.clone())
            .unwrap_err()
            .code(),
        "incident-answer-not-accused"
    );
    h.submit(&kp(11), "ru/coord-1", answer).unwrap();
    let unknown = json!({"type":"incident.respond","incident":"nope","text":"?"});
    assert_eq!(
        h.submit(&kp(11), "ru/coord-1", unknown).unwrap_err().code(),
        "unknown-incident"
    );
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", report("ua/i1", None))
            .unwrap_err()
            .code(),
        "incident-exists"
    );
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", report("ua/i9", Some("xx")))
            .unwrap_err()
            .code(),
        "unknown-party"
    );
    assert_eq!(h.state.incidents["ua/i1"].responses.len(), 1);
    assert_eq!(h.replay(), h.state);
}

#[test]
fn replay_refuses_tampered_logs() {
    let mut h = Harness::new();
    h.submit(
        &kp(3),
        "ua/admin",
        register("ua/coord-1", "coordinator", &kp(10)),
    )
    .unwrap();
    h.submit(&kp(10), "ua/coord-1", report("ua/i1", None))
        .unwrap();
    // An entry no later one depends on: dropping it leaves a log that is valid in every
    // respect but its indices, so only the `index-gap` rule can refuse it.
    h.submit(
        &kp(4),
        "ru/admin",
        register("ru/coord-1", "coordinator", &kp(11)),
    )
    .unwrap();
    h.submit(&kp(10), "ua/coord-1", report("ua/i2", None))
        .unwrap();
    let check = |entries: &[Entry]| {
        let mut r = Replay::new();
        entries.iter().try_for_each(|e| r.apply(e).map(|_| ()))
    };
    check(&h.entries).unwrap();
    let mut gap = h.entries.clone();
    gap.remove(3);
    assert_eq!(check(&gap).unwrap_err().code(), "index-gap");
    // The same entries numbered densely replay: the gap was the only fault.
    let mut renumbered = gap.clone();
    renumbered[3].header.index = 3;
    check(&renumbered).unwrap();
    // An index that repeats, or skips ahead, without any entry removed.
    for index in [2, 4, 5] {
        let mut wrong_index = h.entries.clone();
        wrong_index[3].header.index = index;
        assert_eq!(check(&wrong_index).unwrap_err().code(), "index-gap");
    }
    let mut wrong_time = h.entries.clone();
    wrong_time[2].header.time = wrong_time[1].header.time.clone();
    assert_eq!(
        check(&wrong_time).unwrap_err().code(),
        "time-not-increasing"
    );
    let mut wrong_content = h.entries.clone();
    wrong_content[2].command[20] ^= 1;
    assert_eq!(
        check(&wrong_content).unwrap_err().code(),
        "commitment-mismatch"
    );
}

/// An arbitrary step: who acts, with which key, doing what. Many are invalid on purpose.
fn step() -> impl Strategy<Value = (u8, u8, u8, u8)> {
    (0u8..6, 0u8..6, 0u8..5, 0u8..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random sequences of valid and invalid commands give the same state live and on replay,
    /// and refused commands change nothing.
    #[test]
    fn live_equals_replay(steps in proptest::collection::vec(step(), 1..40)) {
        let actors = ["ua/admin", "ru/admin", "icrc/admin", "ua/c", "ru/c", "urcs/admin"];
        let seeds = [3u8, 4, 1, 10, 11, 5];
        let mut h = Harness::new();
        for (who, keyi, what, arg) in steps {
            let actor = actors[who as usize];
            let key = kp(seeds[keyi as usize]);
            let body = match what {
                0 => register(["ua/c", "ru/c", "ua/d", "icrc/x"][arg as usize], "coordinator", &kp(10 + arg)),
                1 => report(&format!("i{arg}"), [None, Some("ua"), Some("ru"), Some("zz")][arg as usize]),
                2 => json!({"type":"incident.respond","incident":format!("i{arg}"),"text":"answer"}),
                3 => json!({"type":"key.revoke","key":kp(10 + arg).public().id(),"reason":"r"}),
                _ => key_register(actor, &kp(20 + arg)),
            };
            let before = h.state.clone();
            if h.submit(&key, actor, body).is_err() {
                prop_assert_eq!(&h.state, &before);
            }
        }
        prop_assert_eq!(h.replay(), h.state.clone());
        let rows: Vec<ProjectionRow> = h.state.projection_rows().collect();
        let mut sorted = rows.clone();
        sorted.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        prop_assert_eq!(&rows, &sorted, "projection rows come in storage order");
        for (i, r) in rows.iter().enumerate() {
            let from: Vec<ProjectionRow> = h.state.projection_rows_from(Some((r.kind.as_str(), &r.id))).collect();
            prop_assert_eq!(&from[..], &rows[i..]);
            // An id that is not there starts at the next one.
            let just_after = format!("{}\u{0}", r.id);
            let from: Vec<ProjectionRow> = h.state.projection_rows_from(Some((r.kind.as_str(), &just_after))).collect();
            prop_assert_eq!(&from[..], &rows[i + 1..]);
        }
        prop_assert_eq!(rows.len(), h.state.actors.len() + h.state.keys.len() + h.state.incidents.len());
    }
}

// ------------------------------------------------------------------ agreements

fn names(s: &str) -> Value {
    json!({"en": s, "uk": s, "ru": s})
}

fn settlements() -> Value {
    json!({"type": "settlement.import", "settlements": [
        {"id": "borodianka", "names": {"en": "Borodianka", "uk": "Бородянка", "ru": "Бородянка"},
         "location": {"lat_e7": 506451000, "lon_e7": 299220000}, "zone": "Europe/Kyiv"},
        {"id": "berestianka", "names": {"en": "Berestianka", "uk": "Берестянка", "ru": "Берестянка"},
         "location": {"lat_e7": 505900000, "lon_e7": 298300000}, "zone": "Europe/Kyiv"}]})
}

fn corridor_terms(complete: bool) -> Value {
    let mut t = json!({
        "names": names("Borodianka – Berestianka"),
        "route": [[299220000, 506451000], [299000000, 506300000], [298300000, 505900000]],
        "buffer_m": 500, "origin": "borodianka", "destination": "berestianka",
        "checkpoints": [{"names": names("Checkpoint 1"), "location": {"lat_e7": 506300000, "lon_e7": 299000000}}],
        "purpose": "evacuation", "binding_language": "uk"});
    if complete {
        t["who_may_leave"] = names("Civilians");
        t["aid_may_enter"] = json!(true);
        t["reception"] = names("School No. 1, Berestianka");
        t["instructions"] = json!({"bring": names("Documents, water"), "gather": names("Central square"),
            "if_suspended": names("Return to shelter")});
    }
    t
}

/// Window terms as the announcements stated them: the start also in Moscow time.
fn window_terms(start: &str, end: &str, guarantees: Value) -> Value {
    let moscow = crate::localtime::show(start.parse().unwrap(), "Europe/Moscow").unwrap();
    json!({"start": start, "end": end, "required_parties": ["ua", "ru"], "guarantees": guarantees,
           "start_local": {"local": &moscow[..16], "zone": "Europe/Moscow"}})
}

/// A log with the people, settlements, a complete corridor and a window `w1` proposed by the
/// intermediary for 5 March 2022, 07:00–17:00 UTC, with both guarantees.
fn agreement_log() -> Harness {
    let mut h = Harness::new();
    h.submit(&kp(3), "ua/admin", register("ua/c", "coordinator", &kp(10)))
        .unwrap();
    h.submit(&kp(4), "ru/admin", register("ru/c", "coordinator", &kp(11)))
        .unwrap();
    h.submit(&kp(1), "icrc/admin", settlements()).unwrap();
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "corridor.propose", "corridor": "c1", "terms": corridor_terms(true)}),
    )
    .unwrap();
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "window.propose", "window": "w1", "corridor": "c1", "corridor_version": 1,
        "terms": window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({}))}),
    )
    .unwrap();
    // Each party states its own guarantee: two amendments, each a new version.
    for (key, actor, party, base) in [(10u8, "ua/c", "ua", 1), (11, "ru/c", "ru", 2)] {
        let mut g = h.state.agreements.windows["w1"]
            .latest()
            .terms
            .guarantees
            .clone();
        g.insert(
            party.to_string(),
            format!("{party} will not fire on the route"),
        );
        h.submit(&kp(key), actor, json!({"type": "window.amend", "window": "w1", "base_version": base, "corridor_version": 1,
            "terms": window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", serde_json::to_value(g).unwrap())})).unwrap();
    }
    h
}

fn hash(h: &Harness, w: &str) -> String {
    h.state.agreements.windows[w].latest().hash.clone()
}

fn consent(w: &str, party: &str, hash: &str) -> Value {
    json!({"type": "window.consent", "window": w, "party": party, "version_hash": hash})
}

fn status(h: &Harness, w: &str, at: &str) -> &'static str {
    h.state.agreements.windows[w]
        .status_at(at.parse().unwrap())
        .unwrap()
        .0
        .as_str()
}

fn jump_to(h: &mut Harness, at: &str) {
    let t: Timestamp = at.parse().unwrap();
    h.now = t;
}

#[test]
fn agreed_only_when_every_party_signed_the_same_version() {
    let mut h = agreement_log();
    let v3 = hash(&h, "w1");
    h.submit(&kp(10), "ua/c", consent("w1", "ua", &v3)).unwrap();
    assert_eq!(status(&h, "w1", "2022-03-04T00:00:00Z"), "proposed");
    // An amendment voids the consent: a new version needs fresh consents.
    let terms = h.state.agreements.windows["w1"].latest().terms.clone();
    let mut t = serde_json::to_value(&terms).unwrap();
    t["end"] = json!("2022-03-05T15:00:00Z");
    h.submit(&kp(1), "icrc/admin", json!({"type": "window.amend", "window": "w1", "base_version": 3, "corridor_version": 1, "terms": t})).unwrap();
    let v4 = hash(&h, "w1");
    assert_ne!(v3, v4);
    // A consent to the superseded version is refused; to the new one it counts.
    assert_eq!(
        h.submit(&kp(11), "ru/c", consent("w1", "ru", &v3))
            .unwrap_err()
            .code(),
        "superseded-version"
    );
    h.submit(&kp(11), "ru/c", consent("w1", "ru", &v4)).unwrap();
    assert_eq!(
        status(&h, "w1", "2022-03-04T00:00:00Z"),
        "proposed",
        "ua's consent was to version 3"
    );
    h.submit(&kp(10), "ua/c", consent("w1", "ua", &v4)).unwrap();
    assert_eq!(
        h.submit(&kp(10), "ua/c", consent("w1", "ua", &v4))
            .unwrap_err()
            .code(),
        "already-consented"
    );
    // Statuses at frozen instants, live and on replay.
    let replayed = h.replay();
    for (at, want) in [
        ("2022-03-03T14:49:00Z", None),
        ("2022-03-05T06:59:59Z", Some("agreed")),
        ("2022-03-05T07:00:00Z", Some("active")),
        ("2022-03-05T14:59:59Z", Some("active")),
        ("2022-03-05T15:00:00Z", Some("completed")),
    ] {
        let t: Timestamp = at.parse().unwrap();
        let live = h.state.agreements.windows["w1"]
            .status_at(t)
            .map(|s| s.0.as_str());
        let again = replayed.agreements.windows["w1"]
            .status_at(t)
            .map(|s| s.0.as_str());
        assert_eq!(live, want, "at {at}");
        assert_eq!(again, want, "replayed at {at}");
    }
    // Earlier, between the versions, the window was proposed under version 3.
    let v3_time = h.state.agreements.windows["w1"].versions[2].at_time.clone();
    assert_eq!(status(&h, "w1", &v3_time), "proposed");
    assert_eq!(replayed, h.state);
}

#[test]
fn consent_rules() {
    let mut h = agreement_log();
    let v = hash(&h, "w1");
    // The intermediary never consents for a party.
    assert_eq!(
        h.submit(&kp(1), "icrc/admin", consent("w1", "ua", &v))
            .unwrap_err()
            .code(),
        "intermediary-cannot-act-for-party"
    );
    // A coordinator consents only for their own party.
    assert_eq!(
        h.submit(&kp(10), "ua/c", consent("w1", "ru", &v))
            .unwrap_err()
            .code(),
        "not-your-party"
    );
    assert_eq!(
        h.submit(&kp(10), "ua/c", consent("w1", "ua", "bm90IGEgaGFzaA=="))
            .unwrap_err()
            .code(),
        "unknown-version"
    );
    assert_eq!(
        h.submit(&kp(10), "ua/c", consent("nope", "ua", &v))
            .unwrap_err()
            .code(),
        "unknown-window"
    );
    // Only a party states its own guarantee.
    let mut t = serde_json::to_value(&h.state.agreements.windows["w1"].latest().terms).unwrap();
    t["guarantees"]["ru"] = json!("ru promises something else");
    let e = h.submit(&kp(10), "ua/c", json!({"type": "window.amend", "window": "w1", "base_version": 3, "corridor_version": 1, "terms": t})).unwrap_err();
    assert_eq!(e.code(), "guarantee-of-another-party");
    let e = h.submit(&kp(10), "ua/c", json!({"type": "window.amend", "window": "w1", "base_version": 2, "corridor_version": 1, "terms": window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({}))})).unwrap_err();
    assert_eq!(e.code(), "stale-version");
}

#[test]
fn completeness_gate() {
    let mut h = Harness::new();
    h.submit(&kp(3), "ua/admin", register("ua/c", "coordinator", &kp(10)))
        .unwrap();
    h.submit(&kp(1), "icrc/admin", settlements()).unwrap();
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "corridor.propose", "corridor": "c1", "terms": corridor_terms(false)}),
    )
    .unwrap();
    h.submit(&kp(10), "ua/c", json!({"type": "window.propose", "window": "w1", "corridor": "c1", "corridor_version": 1,
        "terms": window_terms("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z", json!({"ua": "we hold fire"}))})).unwrap();
    let e = h
        .submit(&kp(10), "ua/c", consent("w1", "ua", &hash(&h, "w1")))
        .unwrap_err();
    assert_eq!(e.code(), "incomplete-proposal");
    let msg = e.to_string();
    for m in [
        "who_may_leave",
        "aid_may_enter",
        "reception",
        "instructions",
        "guarantee of ru",
    ] {
        assert!(msg.contains(m), "{msg} names {m}");
    }
}

#[test]
fn proposal_rules() {
    let mut h = Harness::new();
    h.submit(&kp(3), "ua/admin", register("ua/c", "coordinator", &kp(10)))
        .unwrap();
    h.submit(&kp(1), "icrc/admin", settlements()).unwrap();
    let propose =
        |terms: Value| json!({"type": "corridor.propose", "corridor": "c1", "terms": terms});
    let mut t = corridor_terms(true);
    t["buffer_m"] = json!(20);
    assert_eq!(
        h.submit(&kp(10), "ua/c", propose(t)).unwrap_err().code(),
        "buffer-out-of-range"
    );
    let mut t = corridor_terms(true);
    t["route"] = json!([[299220000, 506451000], [299220000, 506451000]]);
    assert_eq!(
        h.submit(&kp(10), "ua/c", propose(t)).unwrap_err().code(),
        "invalid-geometry"
    );
    let mut t = corridor_terms(true);
    t["route"] = json!([[2992200000i64, 506451000], [1, 2]]);
    assert_eq!(
        h.submit(&kp(10), "ua/c", propose(t)).unwrap_err().code(),
        "invalid-geometry"
    );
    let mut t = corridor_terms(true);
    t["route"] = json!([[0, 0], [300000000, 0]]);
    assert_eq!(
        h.submit(&kp(10), "ua/c", propose(t)).unwrap_err().code(),
        "invalid-geometry",
        "3300 km is over the length limit"
    );
    let mut t = corridor_terms(true);
    t["destination"] = json!("atlantis");
    assert_eq!(
        h.submit(&kp(10), "ua/c", propose(t)).unwrap_err().code(),
        "unknown-settlement"
    );
    // Settlements are the intermediary's to import.
    assert_eq!(
        h.submit(&kp(10), "ua/c", settlements()).unwrap_err().code(),
        "role-not-allowed"
    );
    h.submit(&kp(10), "ua/c", propose(corridor_terms(true)))
        .unwrap();
    let window = |start: &str, end: &str| {
        json!({"type": "window.propose", "window": "w9", "corridor": "c1", "corridor_version": 1,
        "terms": window_terms(start, end, json!({}))})
    };
    assert_eq!(
        h.submit(
            &kp(10),
            "ua/c",
            window("2022-03-05T17:00:00Z", "2022-03-05T07:00:00Z")
        )
        .unwrap_err()
        .code(),
        "end-before-start"
    );
    assert_eq!(
        h.submit(
            &kp(10),
            "ua/c",
            window("2022-03-01T07:00:00Z", "2022-03-01T17:00:00Z")
        )
        .unwrap_err()
        .code(),
        "window-in-past"
    );
    assert_eq!(
        h.submit(
            &kp(10),
            "ua/c",
            window("2022-03-05T07:00:00Z", "2022-03-09T07:00:00Z")
        )
        .unwrap_err()
        .code(),
        "window-too-long"
    );
    // A window that one party alone would agree: refused, whoever proposes it.
    for (key, actor) in [(kp(10), "ua/c"), (kp(1), "icrc/admin")] {
        let mut w = window("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z");
        w["terms"]["required_parties"] = json!(["ua"]);
        assert_eq!(
            h.submit(&key, actor, w).unwrap_err().code(),
            "window-missing-party"
        );
    }
    let mut w = window("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z");
    w["terms"]["required_parties"] = json!(["ru"]);
    assert_eq!(
        h.submit(&kp(10), "ua/c", w).unwrap_err().code(),
        "window-missing-party"
    );
    let mut w = window("2022-03-05T07:00:00Z", "2022-03-05T17:00:00Z");
    w["terms"]["start_local"]["zone"] = json!("Europe/Atlantis");
    assert_eq!(
        h.submit(&kp(10), "ua/c", w).unwrap_err().code(),
        "unknown-zone"
    );
    // Settlement import is idempotent: the same data again changes nothing.
    let before = h.state.agreements.settlements.clone();
    h.submit(&kp(1), "icrc/admin", settlements()).unwrap();
    assert_eq!(h.state.agreements.settlements, before);
    assert_eq!(h.replay(), h.state);
}

fn agree(h: &mut Harness, w: &str) {
    let v = hash(h, w);
    h.submit(&kp(10), "ua/c", consent(w, "ua", &v)).unwrap();
    h.submit(&kp(11), "ru/c", consent(w, "ru", &v)).unwrap();
}

#[test]
fn lifecycle_withdraw_suspend_resume_expire() {
    let mut h = agreement_log();
    agree(&mut h, "w1");
    // No two agreed windows on one corridor overlap.
    let g = json!({"ua": "ua holds fire", "ru": "ru holds fire"});
    h.submit(&kp(10), "ua/c", json!({"type": "window.propose", "window": "w2", "corridor": "c1", "corridor_version": 1,
        "terms": window_terms("2022-03-05T16:00:00Z", "2022-03-05T20:00:00Z", json!({"ua": "ua holds fire"}))})).unwrap();
    let mut t = window_terms("2022-03-05T16:00:00Z", "2022-03-05T20:00:00Z", g.clone());
    t["guarantees"] = g;
    h.submit(&kp(11), "ru/c", json!({"type": "window.amend", "window": "w2", "base_version": 1, "corridor_version": 1, "terms": t})).unwrap();
    let v2 = hash(&h, "w2");
    h.submit(&kp(10), "ua/c", consent("w2", "ua", &v2)).unwrap();
    assert_eq!(
        h.submit(&kp(11), "ru/c", consent("w2", "ru", &v2))
            .unwrap_err()
            .code(),
        "overlapping-window"
    );
    // The proposer may cancel only before any consent.
    assert_eq!(
        h.submit(
            &kp(10),
            "ua/c",
            json!({"type": "window.cancel", "window": "w2", "reason": "overlap"})
        )
        .unwrap_err()
        .code(),
        "has-consents"
    );
    // Withdrawal before the start is final.
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "window.withdraw", "window": "w2", "party": "ua", "reason": "overlaps w1"}),
    )
    .unwrap();
    assert_eq!(status(&h, "w2", "2022-03-05T10:00:00Z"), "withdrawn");
    assert_eq!(
        h.submit(&kp(10), "ua/c", consent("w2", "ua", &v2))
            .unwrap_err()
            .code(),
        "window-closed"
    );
    // Inside w1: withdrawal is too late; suspension works and needs every party to resume.
    jump_to(&mut h, "2022-03-05T08:00:00Z");
    assert_eq!(
        h.submit(
            &kp(11),
            "ru/c",
            json!({"type": "window.withdraw", "window": "w1", "party": "ru", "reason": "late"})
        )
        .unwrap_err()
        .code(),
        "withdrawal-after-start"
    );
    let v1 = hash(&h, "w1");
    assert_eq!(
        h.submit(
            &kp(10),
            "ua/c",
            json!({"type": "window.resume", "window": "w1", "party": "ua", "version_hash": v1})
        )
        .unwrap_err()
        .code(),
        "not-suspended"
    );
    // The public reason comes from a fixed list; anything else is refused.
    let bad = h
        .submit(&kp(10), "ua/c", json!({"type": "window.suspend", "window": "w1", "party": "ua", "reason": "x", "public_reason": "the enemy lies"}))
        .unwrap_err();
    assert_eq!(bad.code(), "invalid-field", "{bad}");
    h.submit(&kp(10), "ua/c", json!({"type": "window.suspend", "window": "w1", "party": "ua", "reason": "shelling at the gathering point", "public_reason": "shelling"})).unwrap();
    assert_eq!(
        h.state.agreements.windows["w1"]
            .acts
            .last()
            .unwrap()
            .public_reason,
        Some(crate::agreement::PublicReason::Shelling)
    );
    let now = crate::time::format_log_time(h.state.last_time);
    assert_eq!(status(&h, "w1", &now), "suspended");
    assert_eq!(
        h.state.agreements.windows["w1"]
            .status_at(h.state.last_time)
            .unwrap()
            .1
            .as_deref(),
        Some("shelling at the gathering point")
    );
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "window.resume", "window": "w1", "party": "ua", "version_hash": v1}),
    )
    .unwrap();
    let now = crate::time::format_log_time(h.state.last_time);
    assert_eq!(
        status(&h, "w1", &now),
        "suspended",
        "resume without every party"
    );
    h.submit(
        &kp(11),
        "ru/c",
        json!({"type": "window.resume", "window": "w1", "party": "ru", "version_hash": v1}),
    )
    .unwrap();
    let now = crate::time::format_log_time(h.state.last_time);
    assert_eq!(status(&h, "w1", &now), "active");
    assert_eq!(status(&h, "w1", "2022-03-05T17:00:00Z"), "completed");
    // A window never agreed expires at its start.
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "window.propose", "window": "w3", "corridor": "c1", "corridor_version": 1,
        "terms": window_terms("2022-03-06T07:00:00Z", "2022-03-06T09:00:00Z", json!({}))}),
    )
    .unwrap();
    assert_eq!(status(&h, "w3", "2022-03-06T06:00:00Z"), "proposed");
    assert_eq!(status(&h, "w3", "2022-03-06T07:00:00Z"), "expired");
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "window.cancel", "window": "w3", "reason": "no longer needed"}),
    )
    .unwrap();
    assert_eq!(status(&h, "w3", "2022-03-06T06:00:00Z"), "cancelled");
    assert_eq!(h.replay(), h.state);
}

#[test]
fn declarations_stay_a_partys_own_statement() {
    let mut h = agreement_log();
    h.submit(&kp(11), "ru/c", json!({"type": "declaration.publish", "declaration": "d1", "corridor": "c1",
        "start": "2022-03-05T07:00:00Z", "text": names("We will observe a ceasefire on this route from 10:00 Moscow time")})).unwrap();
    let d = &h.state.agreements.declarations["d1"];
    assert_eq!(d.party, "ru");
    assert_eq!(
        h.state.agreements.windows.len(),
        1,
        "a declaration never becomes a window"
    );
    assert_eq!(
        h.submit(
            &kp(1),
            "icrc/admin",
            json!({"type": "declaration.publish", "declaration": "d2",
        "start": "2022-03-05T07:00:00Z", "text": names("x")})
        )
        .unwrap_err()
        .code(),
        "role-not-allowed"
    );
}

#[test]
fn a_compromised_key_s_consent_stops_counting() {
    let mut h = agreement_log();
    let since = crate::time::format_log_time(h.now);
    agree(&mut h, "w1");
    assert_eq!(status(&h, "w1", "2022-03-05T06:00:00Z"), "agreed");
    h.submit(&kp(4), "ru/admin", json!({"type": "key.revoke", "key": kp(11).public().id(), "reason": "captured", "compromised_since": since})).unwrap();
    assert_eq!(
        status(&h, "w1", "2022-03-05T06:00:00Z"),
        "proposed",
        "ru must consent again with a good key"
    );
    h.submit(&kp(4), "ru/admin", key_register("ru/c", &kp(12)))
        .unwrap();
    let v = hash(&h, "w1");
    h.submit(&kp(12), "ru/c", consent("w1", "ru", &v)).unwrap();
    assert_eq!(status(&h, "w1", "2022-03-05T06:00:00Z"), "agreed");
    assert_eq!(h.replay(), h.state);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Random sequences of valid and invalid agreement commands, with the clock jumping across
    /// window boundaries, give the same state live and on replay; refusals change nothing.
    #[test]
    fn agreements_live_equals_replay(steps in proptest::collection::vec((0u8..8, 0u8..3, 0u8..3, 0u32..14), 1..30)) {
        let mut h = agreement_log();
        let actors = [("ua/c", 10u8, "ua"), ("ru/c", 11, "ru"), ("icrc/admin", 1, "ua")];
        for (what, who, w, hours) in steps {
            let (actor, key, party) = actors[who as usize];
            let wid = ["w1", "w2", "w3"][w as usize];
            let current = h.state.agreements.windows.get(wid).map(|x| x.latest().hash.clone()).unwrap_or_default();
            let g = json!({"ua": "ua holds fire", "ru": "ru holds fire"});
            let body = match what {
                0 => consent(wid, party, &current),
                1 => json!({"type": "window.propose", "window": wid, "corridor": "c1", "corridor_version": 1,
                    "terms": window_terms("2022-03-05T12:00:00Z", "2022-03-05T20:00:00Z", json!({}))}),
                2 => json!({"type": "window.withdraw", "window": wid, "party": party, "reason": "r"}),
                3 => json!({"type": "window.suspend", "window": wid, "party": party, "reason": "r"}),
                4 => json!({"type": "window.resume", "window": wid, "party": party, "version_hash": current}),
                5 => json!({"type": "window.cancel", "window": wid, "reason": "r"}),
                6 => json!({"type": "window.amend", "window": wid, "base_version": h.state.agreements.windows.get(wid).map_or(1, |x| x.latest().version), "corridor_version": 1,
                    "terms": window_terms("2022-03-05T09:00:00Z", "2022-03-05T13:00:00Z", g[party].clone().as_str().map(|s| json!({party: s})).unwrap_or(json!({})))}),
                _ => { h.tick(i64::from(hours) * 3600); continue; }
            };
            let before = h.state.clone();
            if h.submit(&kp(key), actor, body).is_err() {
                prop_assert_eq!(&h.state, &before);
            }
        }
        let replayed = h.replay();
        prop_assert_eq!(&replayed, &h.state);
        for hour in 0..72 {
            let t = Timestamp::from_second(1_646_319_000 + hour * 3600).unwrap();
            for (id, w) in &h.state.agreements.windows {
                prop_assert_eq!(w.status_at(t), replayed.agreements.windows[id].status_at(t));
            }
        }
    }
}

#[test]
fn window_json_shows_utc_and_every_zone_across_dst() {
    let mut h = agreement_log();
    agree(&mut h, "w1");
    let a = &h.state.agreements;
    let at: Timestamp = "2022-03-05T08:00:00Z".parse().unwrap();
    let v = crate::views::window(
        &a.windows["w1"],
        &a.settlements,
        a.corridors.get("c1"),
        &h.state.genesis,
        at,
    );
    // "10:00 Europe/Moscow" on 5 March 2022: 07:00 UTC, 09:00 in Kyiv.
    assert_eq!(v["start"], "2022-03-05T07:00:00Z");
    assert_eq!(
        v["local"]["Europe/Moscow"]["start"],
        "2022-03-05T10:00:00+03:00"
    );
    assert_eq!(
        v["local"]["Europe/Kyiv"]["start"],
        "2022-03-05T09:00:00+02:00"
    );
    assert_eq!(v["status"], "active");
    assert_eq!(v["consents"]["ru"]["consented"], true);
    // A window across 27 March 2022 shows Kyiv's change from +02:00 to +03:00.
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "window.propose", "window": "w-dst", "corridor": "c1", "corridor_version": 1,
        "terms": window_terms("2022-03-26T20:00:00Z", "2022-03-27T08:00:00Z", json!({}))}),
    )
    .unwrap();
    let a = &h.state.agreements;
    let v = crate::views::window(
        &a.windows["w-dst"],
        &a.settlements,
        a.corridors.get("c1"),
        &h.state.genesis,
        at,
    );
    assert_eq!(
        v["local"]["Europe/Kyiv"]["start"],
        "2022-03-26T22:00:00+02:00"
    );
    assert_eq!(
        v["local"]["Europe/Kyiv"]["end"],
        "2022-03-27T11:00:00+03:00"
    );
    assert_eq!(
        v["local"]["Europe/Moscow"]["end"],
        "2022-03-27T11:00:00+03:00"
    );
    let g = crate::views::corridors_geojson(
        &[a.corridors["c1"].clone()],
        &a.windows.values().cloned().collect::<Vec<_>>(),
        at,
    );
    assert_eq!(g["features"][0]["properties"]["status"], "active");
    assert_eq!(g["features"][0]["geometry"]["coordinates"][0][0], 29.922);
}

/// Two of Ukraine's three recovery holders replace its lost admin key; one alone cannot; the old
/// key stops working and what it signed after the stated compromise is flagged; the new key
/// administers the party; live and replayed states agree.
#[test]
fn recovery_holders_replace_a_lost_admin_key() {
    let mut h = Harness::new();
    assert_eq!(h.state.actors["ua/recovery-2"].role, Role::Recovery);
    // The old admin key signs something after it was stolen.
    h.tick(60);
    h.submit(&kp(3), "ua/admin", register("ua/c", "coordinator", &kp(10)))
        .unwrap();
    h.tick(60);
    let stolen_at = crate::time::format_log_time(h.now);
    h.submit(
        &kp(3),
        "ua/admin",
        register("ua/mole", "coordinator", &kp(11)),
    )
    .unwrap();
    let mole_entry = h.state.size - 1;
    let new_admin = kp(50).public().id();
    let vote = |reason: &str| {
        json!({"type": "admin.recover", "new_key": new_admin, "reason": reason,
               "key_proof": prove(&kp(50), "ua/admin"), "compromised_since": stolen_at})
    };
    h.submit(
        &kp(40),
        "ua/recovery-1",
        vote("the admin's laptop was taken"),
    )
    .unwrap();
    // One holder is not enough; voting twice does not count twice.
    assert!(h.state.keys[&kp(3).public().id()].revoked.is_none());
    let e = h
        .submit(&kp(40), "ua/recovery-1", vote("again"))
        .unwrap_err();
    assert_eq!(e.code(), "recovery-vote-repeated");
    // A vote for another key, or other terms, is another vote.
    let other = json!({"type": "admin.recover", "new_key": kp(51).public().id(), "reason": "x",
        "key_proof": prove(&kp(51), "ua/admin")});
    h.submit(&kp(41), "ua/recovery-2", other).unwrap();
    assert!(h.state.keys[&kp(3).public().id()].revoked.is_none());
    // The second holder for the same key and terms: the key is replaced.
    h.submit(&kp(42), "ua/recovery-3", vote("confirmed by the ministry"))
        .unwrap();
    let old = &h.state.keys[&kp(3).public().id()];
    assert!(old.revoked.is_some());
    assert_eq!(h.state.keys[&new_admin].actor, "ua/admin");
    assert!(
        h.state.flagged.contains(&mole_entry),
        "signed after the theft"
    );
    assert!(
        !h.state.flagged.contains(&(mole_entry - 1)),
        "signed before it"
    );
    let e = h
        .submit(&kp(3), "ua/admin", register("ua/x", "coordinator", &kp(12)))
        .unwrap_err();
    assert_eq!(e.code(), "key-revoked");
    h.submit(
        &kp(50),
        "ua/admin",
        register("ua/x", "coordinator", &kp(12)),
    )
    .unwrap();
    // Recovery holders do nothing else, and another party's holders do not exist.
    let e = h
        .submit(&kp(40), "ua/recovery-1", report("ua/r1", None))
        .unwrap_err();
    assert_eq!(e.code(), "role-not-allowed");
    let e = h
        .submit(
            &kp(4),
            "ru/admin",
            json!({"type": "admin.recover", "new_key": kp(52).public().id(), "reason": "x",
                "key_proof": prove(&kp(52), "ru/admin")}),
        )
        .unwrap_err();
    assert_eq!(e.code(), "role-not-allowed");
    assert_eq!(h.replay(), h.state);
}

/// A log-key handover is an entry: the new key signs from the size after it; a key used once
/// (as log key or actor key) cannot come back; live and replayed states agree.
#[test]
fn log_key_rotation_is_recorded_in_the_log() {
    let mut h = Harness::new();
    assert_eq!(h.state.log_key(), kp(2).public().id());
    h.submit(
        &kp(1),
        "icrc/admin",
        json!({"type": "log.rotate_key", "new_key": kp(60).public().id()}),
    )
    .unwrap();
    let rotated_at = h.state.size - 1;
    assert_eq!(h.state.log_key(), kp(60).public().id());
    assert_eq!(
        h.state.log_key_at(rotated_at),
        kp(2).public().id(),
        "the rotation entry is under the old key"
    );
    assert_eq!(h.state.log_key_at(rotated_at + 1), kp(60).public().id());
    for key in [kp(2), kp(60), kp(3)] {
        let e = h
            .submit(
                &kp(1),
                "icrc/admin",
                json!({"type": "log.rotate_key", "new_key": key.public().id()}),
            )
            .unwrap_err();
        assert_eq!(e.code(), "key-in-use");
    }
    let e = h
        .submit(
            &kp(3),
            "ua/admin",
            json!({"type": "log.rotate_key", "new_key": kp(61).public().id()}),
        )
        .unwrap_err();
    assert_eq!(e.code(), "role-not-allowed");
    assert_eq!(h.replay(), h.state);
}

/// Item 4 of #18: whatever replay recomputes must come out the same on every build. A server
/// whose tz release judged a stated local time (or a zone name) otherwise than this build does
/// wrote entries this build would refuse live; replay still gives one state, and verify's report
/// names each difference.
#[test]
fn replay_never_consults_the_tz_database() {
    let mut h = agreement_log();
    // Moscow is UTC+3 on 5 March 2022; "09:00" Moscow time is not 07:00 UTC under this build's
    // release, as it would be under a release in which Moscow kept UTC+2 (a rule change).
    let mut w = json!({"type": "window.propose", "window": "w9", "corridor": "c1", "corridor_version": 1,
        "terms": window_terms("2022-03-06T07:00:00Z", "2022-03-06T17:00:00Z", json!({}))});
    w["terms"]["start_local"]["local"] = json!("2022-03-06T09:00");
    let mut settled = settlements();
    settled["settlements"][0]["id"] = json!("olympus");
    settled["settlements"][0]["zone"] = json!("Europe/Newzone");
    let before = h.state.clone();
    assert_eq!(
        h.submit(&kp(1), "icrc/admin", w.clone())
            .unwrap_err()
            .code(),
        "local-time-mismatch"
    );
    assert_eq!(
        h.submit(&kp(1), "icrc/admin", settled.clone())
            .unwrap_err()
            .code(),
        "unknown-zone"
    );
    assert_eq!(h.state, before, "refused live, nothing recorded");
    // The other server accepted both; the log holds them.
    h.record(&kp(1), "icrc/admin", w).unwrap();
    h.record(&kp(1), "icrc/admin", settled).unwrap();
    // Every rule not about the tz database is still decided on replay.
    let mut late = json!({"type": "window.propose", "window": "w10", "corridor": "c1",
        "corridor_version": 1,
        "terms": window_terms("2022-03-01T07:00:00Z", "2022-03-01T17:00:00Z", json!({}))});
    late["terms"]["start_local"] = Value::Null;
    assert_eq!(
        h.record(&kp(1), "icrc/admin", late).unwrap_err().code(),
        "window-in-past"
    );
    // Replay gives the one state, and never asks the tz database.
    assert_eq!(h.replay(), h.state);
    let (stated, findings) = crate::agreement::local_time_findings(&h.state.agreements);
    assert!(stated >= 6, "{stated}");
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(
        findings[0].starts_with("window w9 version 1 start:")
            && findings[0].contains("not the signed instant"),
        "{findings:?}"
    );
    assert!(
        findings[1].starts_with("settlement olympus:") && findings[1].contains("Europe/Newzone"),
        "{findings:?}"
    );
    // The genesis names the release stated local times are judged with on acceptance.
    assert_eq!(
        h.state.genesis.policy.tzdb.as_deref(),
        Some(crate::localtime::tzdb_version())
    );
}

mod alerts;
mod incidents;
mod matrix;
mod negotiation;
mod operations;

#[test]
fn projection_kinds_are_in_byte_order() {
    let names = ProjectionKind::ALL.map(ProjectionKind::as_str);
    let mut sorted = names;
    sorted.sort();
    assert_eq!(sorted, names, "declared in byte order of the names");
    let mut by_enum = ProjectionKind::ALL;
    by_enum.sort();
    assert_eq!(
        by_enum,
        ProjectionKind::ALL,
        "the enum's order is the names' order"
    );
}

/// What a refusal says must not tell one side about the other's confidential records: the
/// authority to act is decided before existence, an incident another side may not read answers
/// as absent, and incident ids are scoped by side so an id collision is always one's own.
#[test]
fn refusals_are_no_existence_oracle() {
    let mut h = Harness::new();
    for (seed, admin, actor, role, key) in [
        (3, "ua/admin", "ua/unit-7", "unit", 14),
        (4, "ru/admin", "ru/coord-1", "coordinator", 11),
        (3, "ua/admin", "ua/coord-1", "coordinator", 10),
    ] {
        h.submit(&kp(seed), admin, register(actor, role, &kp(key)))
            .unwrap();
    }
    // Russia's admin adds a key for Ukraine's unit, which exists, and for one that does not:
    // the same refusal.
    let key_for = |actor: &str| key_register(actor, &kp(77));
    let exists = h
        .submit(&kp(4), "ru/admin", key_for("ua/unit-7"))
        .unwrap_err();
    let absent = h
        .submit(&kp(4), "ru/admin", key_for("ua/unit-8"))
        .unwrap_err();
    assert_eq!(exists.code(), "role-not-allowed");
    assert_eq!(absent.code(), exists.code());
    assert_eq!(
        absent.to_string().replace("unit-8", "unit-7"),
        exists.to_string()
    );
    // Ukraine reports an incident accusing nobody: Russia may not read it, so answering it is
    // the same as answering one that does not exist.
    h.submit(&kp(10), "ua/coord-1", report("ua/i1", None))
        .unwrap();
    let answer = |id: &str| json!({"type": "incident.respond", "incident": id, "text": "not us"});
    let hidden = h
        .submit(&kp(11), "ru/coord-1", answer("ua/i1"))
        .unwrap_err();
    let absent = h
        .submit(&kp(11), "ru/coord-1", answer("ua/i2"))
        .unwrap_err();
    assert_eq!(hidden.code(), "unknown-incident");
    assert_eq!(
        hidden.to_string().replace("ua/i1", "X"),
        absent.to_string().replace("ua/i2", "X")
    );
    // Russia cannot even try the id Ukraine used: its ids start with "ru/".
    assert_eq!(
        h.submit(&kp(11), "ru/coord-1", report("ua/i1", None))
            .unwrap_err()
            .code(),
        "incident-id-not-scoped"
    );
    assert_eq!(
        h.submit(&kp(11), "ru/coord-1", report("i1", None))
            .unwrap_err()
            .code(),
        "incident-id-not-scoped"
    );
    h.submit(&kp(11), "ru/coord-1", report("ru/i1", None))
        .unwrap();
}

/// One id grammar everywhere, no control characters or bidirectional overrides in signed text,
/// and instants within a sane range.
#[test]
fn ids_texts_and_times_are_sane() {
    let mut h = Harness::new();
    for bad in [
        "ua/coord 1",
        "ua/coord\n1",
        "ua/\u{202E}1-dro",
        "ua/",
        "ua/a/b",
    ] {
        let e = h
            .submit(&kp(3), "ua/admin", register(bad, "coordinator", &kp(10)))
            .unwrap_err();
        assert_eq!(e.code(), "invalid-field", "{bad:?}: {e}");
    }
    let mut nul = register("ua/coord-1", "coordinator", &kp(10));
    nul["name"] = json!("Coordinator\u{0}");
    let e = h.submit(&kp(3), "ua/admin", nul).unwrap_err();
    assert!(e.to_string().contains("command.body.name"), "{e}");
    let mut bidi = report("ua/i1", None);
    bidi["description"] = json!("shelling \u{202E}near the school");
    h.submit(&kp(3), "ua/admin", bidi).unwrap_err();
    for t in ["0001-03-05T08:00:00Z", "9999-03-05T08:00:00Z"] {
        let mut old = report("ua/i1", None);
        old["occurred_at"] = json!(t);
        let e = h.submit(&kp(3), "ua/admin", old).unwrap_err();
        assert!(e.to_string().contains("1970 to 2199"), "{e}");
    }
    // Text in any script, with line breaks, is fine.
    let mut ok = register("ua/coord-1", "coordinator", &kp(10));
    ok["name"] = json!("Координатор\nКиївська область");
    h.submit(&kp(3), "ua/admin", ok).unwrap();
}

/// A registration must carry the new key's proof of possession: a party cannot register
/// someone else's public key under its own actor to block the rightful registration.
#[test]
fn registering_a_key_needs_its_proof_of_possession() {
    let mut h = Harness::new();
    let victim = kp(10);
    // Russia's admin saw Ukraine's coordinator's public key and tries to take it first.
    let mut squat = register("ru/squatter", "coordinator", &victim);
    squat["key_proof"] = json!(prove(&kp(4), "ru/squatter"));
    let e = h.submit(&kp(4), "ru/admin", squat).unwrap_err();
    assert_eq!(e.code(), "key-proof-invalid", "{e}");
    // A genuine proof for another actor, or for another log, does not carry over.
    let mut other_actor = register("ru/squatter", "coordinator", &victim);
    other_actor["key_proof"] = json!(prove(&victim, "ua/coord-1"));
    assert_eq!(
        h.submit(&kp(4), "ru/admin", other_actor)
            .unwrap_err()
            .code(),
        "key-proof-invalid"
    );
    let mut other_log = register("ua/coord-1", "coordinator", &victim);
    other_log["key_proof"] = json!(crate::envelope::prove_key(
        &victim,
        "other.test/log",
        "ua/coord-1"
    ));
    assert_eq!(
        h.submit(&kp(3), "ua/admin", other_log).unwrap_err().code(),
        "key-proof-invalid"
    );
    let mut missing = register("ua/coord-1", "coordinator", &victim);
    missing.as_object_mut().unwrap().remove("key_proof");
    assert_eq!(
        h.submit(&kp(3), "ua/admin", missing).unwrap_err().code(),
        "missing-field"
    );
    // The rightful registration goes through; a second key for the same actor needs its own.
    h.submit(
        &kp(3),
        "ua/admin",
        register("ua/coord-1", "coordinator", &victim),
    )
    .unwrap();
    let mut second = key_register("ua/coord-1", &kp(13));
    second["key_proof"] = json!(prove(&kp(14), "ua/coord-1"));
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", second).unwrap_err().code(),
        "key-proof-invalid"
    );
    h.submit(&kp(10), "ua/coord-1", key_register("ua/coord-1", &kp(13)))
        .unwrap();
    assert_eq!(h.replay(), h.state);
}

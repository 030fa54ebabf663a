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
        let (g, _) = sample();
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
        self.state.execute(&cmd, t)?;
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
    json!({"type":"actor.register","actor":actor,"role":role,"key":key.public().id(),"name":"Coordinator"})
}

fn report(id: &str, accused: Option<&str>) -> Value {
    let mut v = json!({"type":"incident.report","incident":id,"occurred_at":"2022-03-05T08:00:00Z",
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
        h.submit(&kp(20), "ua/coord-1", report("i0", None))
            .unwrap_err()
            .code(),
        "unknown-key"
    );
    // Key of another actor.
    assert_eq!(
        h.submit(&kp(10), "ua/coord-2", report("i0", None))
            .unwrap_err()
            .code(),
        "key-actor-mismatch"
    );
    h.submit(&kp(10), "ua/coord-1", report("i1", Some("ru")))
        .unwrap();
    h.submit(
        &kp(3),
        "ua/admin",
        json!({"type":"key.revoke","key":kp(10).public().id(),"reason":"lost phone"}),
    )
    .unwrap();
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", report("i2", None))
            .unwrap_err()
            .code(),
        "key-revoked"
    );
    // Rotation: a new key for the same actor works.
    h.submit(
        &kp(3),
        "ua/admin",
        json!({"type":"key.register","actor":"ua/coord-1","key":kp(13).public().id()}),
    )
    .unwrap();
    h.submit(&kp(13), "ua/coord-1", report("i2", None)).unwrap();
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
    h.submit(&kp(10), "ua/coord-1", report("i1", None)).unwrap(); // entry 2
    let since = crate::time::format_log_time(
        h.now
            .checked_add(jiff::SignedDuration::from_millis(500))
            .unwrap(),
    );
    h.submit(&kp(10), "ua/coord-1", report("i2", None)).unwrap(); // entry 3
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
        .submit_at(&kp(1), "icrc/admin", report("i1", None), late)
        .unwrap_err();
    assert_eq!(e.code(), "clock-skew");
    let near = h
        .now
        .checked_sub(jiff::SignedDuration::from_secs(100))
        .unwrap();
    h.submit_at(&kp(1), "icrc/admin", report("i1", None), near)
        .unwrap();
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
    h.submit(&kp(10), "ua/coord-1", report("i1", Some("ru")))
        .unwrap();
    let answer =
        json!({"type":"incident.respond","incident":"i1","text":"Our units did not fire."});
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", answer.clone())
            .unwrap_err()
            .code(),
        "role-not-allowed"
    );
    h.submit(&kp(11), "ru/coord-1", answer).unwrap();
    let unknown = json!({"type":"incident.respond","incident":"nope","text":"?"});
    assert_eq!(
        h.submit(&kp(11), "ru/coord-1", unknown).unwrap_err().code(),
        "unknown-incident"
    );
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", report("i1", None))
            .unwrap_err()
            .code(),
        "incident-exists"
    );
    assert_eq!(
        h.submit(&kp(10), "ua/coord-1", report("i9", Some("xx")))
            .unwrap_err()
            .code(),
        "unknown-party"
    );
    assert_eq!(h.state.incidents["i1"].responses.len(), 1);
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
    h.submit(&kp(10), "ua/coord-1", report("i1", None)).unwrap();
    let check = |entries: &[Entry]| {
        let mut r = Replay::new();
        entries.iter().try_for_each(|e| r.apply(e).map(|_| ()))
    };
    check(&h.entries).unwrap();
    let mut gap = h.entries.clone();
    gap.remove(1);
    assert!(check(&gap).is_err());
    let mut wrong_time = h.entries.clone();
    wrong_time[2].header.time = wrong_time[1].header.time.clone();
    assert!(check(&wrong_time).is_err());
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
                _ => json!({"type":"key.register","actor":actor,"key":kp(20 + arg).public().id()}),
            };
            let before = h.state.clone();
            if h.submit(&key, actor, body).is_err() {
                prop_assert_eq!(&h.state, &before);
            }
        }
        prop_assert_eq!(h.replay(), h.state.clone());
        let mut rows = h.state.projection_rows();
        rows.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        prop_assert_eq!(rows.len(), h.state.actors.len() + h.state.keys.len() + h.state.incidents.len());
    }
}

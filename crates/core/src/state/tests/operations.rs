//! Operations, unit confirmations and channels (#16): each rule and each refusal, with its
//! stable code, and live equals replay.

use super::*;
use crate::access::{Reader, entry_audience};
use crate::operation::{AckStatus, Progress};

/// [`agreement_log`] with `w1` agreed, the organisation's member `urcs/m` (seed 26), a unit of
/// each party (`ua/unit` seed 20, `ru/unit` seed 22), on 4 March 2022 at 08:00 UTC.
pub(super) fn operations_log() -> Harness {
    let mut h = agreement_log();
    agree(&mut h, "w1");
    h.submit(
        &kp(5),
        "urcs/admin",
        register("urcs/m", "organisation-member", &kp(26)),
    )
    .unwrap();
    h.submit(&kp(3), "ua/admin", register("ua/unit", "unit", &kp(20)))
        .unwrap();
    h.submit(&kp(4), "ru/admin", register("ru/unit", "unit", &kp(22)))
        .unwrap();
    jump_to(&mut h, "2022-03-04T08:00:00Z");
    h
}

/// A valid notification of an evacuation with aid for `w1`.
pub(super) fn notify(id: &str, tracking: &str) -> Value {
    json!({"type": "operation.notify", "operation": id, "window": "w1", "kind": "both",
        "vehicles": [{"type": "bus", "plate": "AA 1234 KB", "markings": "Red Cross emblem, white"},
                     {"type": "truck", "plate": "AA 5678 KB", "markings": "Red Cross emblem"}],
        "consignments": [{"tracking": tracking, "category": "medicine", "item": "insulin",
                          "quantity": 400, "unit": "box"},
                         {"tracking": format!("{tracking}-2"), "category": "food",
                          "item": "wheat flour", "quantity": 2000, "unit": "kg"}],
        "evacuee_capacity": 100,
        "departure": "2022-03-05T08:00:00Z", "arrival": "2022-03-05T11:00:00Z"})
}

fn code(r: Result<(), Rejection>) -> &'static str {
    r.expect_err("refused").code()
}

/// A point on the test corridor's route (its middle vertex), and one 5 km off it.
pub(super) const ON_ROUTE: (i64, i64) = (506_300_000, 299_000_000);
const OFF_ROUTE: (i64, i64) = (506_750_000, 299_000_000);

pub(super) fn mv(op: &str, event: &str, at: &str, p: (i64, i64), extra: Value) -> Value {
    let mut v = json!({"type": "operation.move", "operation": op, "event": event,
        "occurred_at": at, "location": {"lat_e7": p.0, "lon_e7": p.1}});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

pub(super) fn people(adults: i64, children: i64) -> Value {
    json!({"adults": adults, "children": children, "elderly": 0, "disabled": 0, "wounded": 0})
}

#[test]
fn a_notification_is_checked_before_anything_is_written() {
    let mut h = operations_log();
    let before = h.state.clone();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = notify("urcs/op-x", "RC-X");
        f(&mut v);
        v
    };
    let cases: Vec<(&str, Value)> = vec![
        ("operation-id-not-scoped", notify("op-1", "RC-1")),
        ("operation-id-not-scoped", notify("ua/op-1", "RC-1")),
        (
            "outside-window",
            with(&|v| v["departure"] = json!("2022-03-05T06:00:00Z")),
        ),
        (
            "outside-window",
            with(&|v| v["arrival"] = json!("2022-03-05T18:00:00Z")),
        ),
        (
            "arrival-before-departure",
            with(&|v| v["arrival"] = json!("2022-03-05T07:30:00Z")),
        ),
        (
            "quantity-out-of-range",
            with(&|v| v["consignments"][0]["quantity"] = json!(0)),
        ),
        (
            "quantity-out-of-range",
            with(&|v| v["consignments"][0]["quantity"] = json!(-5)),
        ),
        (
            "quantity-out-of-range",
            with(&|v| v["consignments"][0]["quantity"] = json!(5_000_000_000i64)),
        ),
        (
            "quantity-out-of-range",
            with(&|v| v["evacuee_capacity"] = json!(0)),
        ),
        (
            "unknown-unit-of-measure",
            with(&|v| v["consignments"][0]["unit"] = json!("tons")),
        ),
        (
            "tracking-number-duplicate",
            with(&|v| v["consignments"][1]["tracking"] = json!("RC-X")),
        ),
        (
            "manifest-empty",
            with(&|v| {
                v["kind"] = json!("aid-delivery");
                v["evacuee_capacity"] = json!(0);
                v["consignments"] = json!([]);
            }),
        ),
        ("invalid-field", with(&|v| v["vehicles"] = json!([]))),
        ("unknown-window", with(&|v| v["window"] = json!("w-none"))),
    ];
    for (want, body) in cases {
        let got = code(h.submit(&kp(26), "urcs/m", body.clone()));
        assert_eq!(got, want, "{body}");
    }
    // Parties and observers do not notify; the intermediary may.
    assert_eq!(
        code(h.submit(&kp(10), "ua/c", notify("ua/op-1", "RC-1"))),
        "role-not-allowed"
    );
    assert_eq!(h.state, before, "nothing written by a refusal");
    h.submit(&kp(26), "urcs/m", notify("urcs/op-1", "RC-1"))
        .unwrap();
    assert_eq!(
        code(h.submit(&kp(5), "urcs/admin", notify("urcs/op-1", "RC-9"))),
        "operation-exists"
    );
    // A tracking number is unique among the side's operations.
    assert_eq!(
        code(h.submit(&kp(5), "urcs/admin", notify("urcs/op-2", "RC-1"))),
        "tracking-number-duplicate"
    );
    let op = &h.state.operations.operations["urcs/op-1"];
    assert_eq!(op.notifier, "urcs");
    assert_eq!(op.corridor, "c1");
    assert_eq!(op.required_parties, ["ua", "ru"]);
    assert_eq!(h.replay(), h.state);
}

#[test]
fn only_an_agreed_window_that_is_not_over_takes_operations() {
    let mut h = operations_log();
    // w2: proposed, never agreed.
    h.submit(&kp(1), "icrc/admin", json!({"type": "window.propose", "window": "w2", "corridor": "c1",
        "corridor_version": 1, "terms": window_terms("2022-03-06T07:00:00Z", "2022-03-06T17:00:00Z", json!({}))})).unwrap();
    let mut on_w2 = notify("urcs/op-2", "RC-2");
    on_w2["window"] = json!("w2");
    on_w2["departure"] = json!("2022-03-06T08:00:00Z");
    on_w2["arrival"] = json!("2022-03-06T10:00:00Z");
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", on_w2)),
        "window-not-agreed"
    );
    // w1 over.
    jump_to(&mut h, "2022-03-05T18:00:00Z");
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", notify("urcs/op-1", "RC-1"))),
        "window-over"
    );
}

#[test]
fn every_required_party_acknowledges_once_and_silence_becomes_overdue() {
    let mut h = operations_log();
    h.submit(&kp(26), "urcs/m", notify("urcs/op-1", "RC-1"))
        .unwrap();
    let ack =
        |party: &str| json!({"type": "operation.ack", "operation": "urcs/op-1", "party": party});
    assert_eq!(code(h.submit(&kp(10), "ua/c", ack("ru"))), "not-your-party");
    assert_eq!(
        code(h.submit(&kp(1), "icrc/admin", ack("ua"))),
        "intermediary-cannot-act-for-party"
    );
    assert_eq!(
        code(h.submit(&kp(5), "urcs/admin", ack("ua"))),
        "role-not-allowed"
    );
    assert_eq!(
        code(h.submit(&kp(20), "ua/unit", ack("ua"))),
        "role-not-allowed"
    );
    h.submit(&kp(10), "ua/c", ack("ua")).unwrap();
    assert_eq!(code(h.submit(&kp(10), "ua/c", ack("ua"))), "ack-repeated");
    // An operation a side may not read answers as one that does not exist.
    let ghost = json!({"type": "operation.ack", "operation": "urcs/op-none", "party": "ua"});
    assert_eq!(code(h.submit(&kp(10), "ua/c", ghost)), "unknown-operation");

    let op = &h.state.operations.operations["urcs/op-1"];
    let delay = h.state.genesis.policy.ack_overdue_s;
    let notified: Timestamp = op.at_time.parse().unwrap();
    let at = |s: i64| {
        notified
            .checked_add(jiff::SignedDuration::from_secs(s))
            .unwrap()
    };
    let before = op.ack_status_at(at(delay - 1), delay);
    assert_eq!(before["ua"], AckStatus::Acknowledged);
    assert_eq!(before["ru"], AckStatus::Pending);
    let after = op.ack_status_at(at(delay), delay);
    assert_eq!(after["ru"], AckStatus::Overdue);
    assert_eq!(after["ua"], AckStatus::Acknowledged);
    // Asked about an instant before ua acknowledged, ua was pending then.
    assert_eq!(op.ack_status_at(at(0), delay)["ua"], AckStatus::Pending);
    h.submit(&kp(11), "ru/c", ack("ru")).unwrap();
    assert_eq!(h.replay(), h.state);
}

#[test]
fn the_movement_timeline_keeps_its_order_its_route_and_its_people() {
    let mut h = operations_log();
    h.submit(&kp(26), "urcs/m", notify("urcs/op-1", "RC-1"))
        .unwrap();
    jump_to(&mut h, "2022-03-05T08:10:00Z");
    let op = "urcs/op-1";
    // Nothing before the departure.
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(
                op,
                "checkpoint",
                "2022-03-05T08:05:00Z",
                ON_ROUTE,
                json!({})
            )
        )),
        "not-departed"
    );
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(op, "arrived", "2022-03-05T08:05:00Z", ON_ROUTE, json!({}))
        )),
        "arrival-before-departure"
    );
    // The departure of an evacuation counts the people, their free will and their choice.
    let dep = |extra: Value| mv(op, "departed", "2022-03-05T08:00:00Z", ON_ROUTE, extra);
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", dep(json!({})))),
        "missing-field"
    );
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            dep(
                json!({"evacuees": people(90, 20), "voluntary": true, "destination": "berestianka"})
            )
        )),
        "evacuees-over-capacity"
    );
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            dep(json!({"evacuees": people(40, 20), "destination": "berestianka"}))
        )),
        "departure-not-voluntary"
    );
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            dep(json!({"evacuees": people(40, 20), "voluntary": true, "destination": "nowhere"}))
        )),
        "unknown-settlement"
    );
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(
                op,
                "departed",
                "2022-03-05T08:00:00Z",
                OFF_ROUTE,
                json!({"evacuees": people(40, 20), "voluntary": true, "destination": "berestianka"})
            )
        )),
        "point-off-route"
    );
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(
                op,
                "departed",
                "2022-03-05T09:00:00Z",
                ON_ROUTE,
                json!({"evacuees": people(40, 20), "voluntary": true, "destination": "berestianka"})
            )
        )),
        "event-in-future"
    );
    // Only the notifying side and the intermediary report the movement.
    assert_eq!(
        code(h.submit(
            &kp(10),
            "ua/c",
            dep(
                json!({"evacuees": people(40, 20), "voluntary": true, "destination": "berestianka"})
            )
        )),
        "role-not-allowed"
    );
    h.submit(
        &kp(26),
        "urcs/m",
        dep(json!({"evacuees": people(40, 20), "voluntary": true, "destination": "berestianka"})),
    )
    .unwrap();
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            dep(
                json!({"evacuees": people(40, 20), "voluntary": true, "destination": "berestianka"})
            )
        )),
        "already-departed"
    );
    // Counts that differ from the departure's need a reason.
    let cp = |extra: Value| mv(op, "checkpoint", "2022-03-05T08:05:00Z", ON_ROUTE, extra);
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", cp(json!({"evacuees": people(39, 20)})))),
        "evacuee-count-mismatch"
    );
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(
                op,
                "checkpoint",
                "2022-03-05T07:59:00Z",
                ON_ROUTE,
                json!({})
            )
        )),
        "event-before-previous"
    );
    h.submit(&kp(26), "urcs/m", cp(json!({"evacuees": people(39, 20), "reason": "one man stayed with his mother at the checkpoint"})))
        .unwrap();
    // A stop says why; nothing but a resumption follows it.
    let stop = mv(op, "stopped", "2022-03-05T08:06:00Z", ON_ROUTE, json!({}));
    assert_eq!(code(h.submit(&kp(26), "urcs/m", stop)), "missing-field");
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(op, "resumed", "2022-03-05T08:06:00Z", ON_ROUTE, json!({}))
        )),
        "not-stopped"
    );
    h.submit(
        &kp(26),
        "urcs/m",
        mv(
            op,
            "stopped",
            "2022-03-05T08:06:00Z",
            ON_ROUTE,
            json!({"reason": "held at the checkpoint for inspection"}),
        ),
    )
    .unwrap();
    assert_eq!(
        h.state.operations.operations[op].progress(),
        Progress::Stopped
    );
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(
                op,
                "checkpoint",
                "2022-03-05T08:07:00Z",
                ON_ROUTE,
                json!({})
            )
        )),
        "convoy-stopped"
    );
    h.submit(
        &kp(1),
        "icrc/admin",
        mv(op, "resumed", "2022-03-05T08:08:00Z", ON_ROUTE, json!({})),
    )
    .unwrap();
    // Receipts come after the arrival.
    let receive = |receipts: Value| json!({"type": "operation.receive", "operation": op, "receipts": receipts});
    let r = |t: &str, d: i64, dmg: i64, l: i64| json!({"tracking": t, "delivered": d, "damaged": dmg, "lost": l});
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", receive(json!([r("RC-1", 400, 0, 0)])))),
        "not-arrived"
    );
    // The arrival's counts are held against the departure's, not the last checkpoint's.
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(
                op,
                "arrived",
                "2022-03-05T08:09:00Z",
                (505_900_000, 298_300_000),
                json!({"evacuees": people(39, 20)})
            )
        )),
        "evacuee-count-mismatch"
    );
    h.submit(
        &kp(26),
        "urcs/m",
        mv(
            op,
            "arrived",
            "2022-03-05T08:09:00Z",
            (505_900_000, 298_300_000),
            json!({"evacuees": people(39, 20), "reason": "as at the checkpoint"}),
        ),
    )
    .unwrap();
    assert_eq!(
        code(h.submit(
            &kp(26),
            "urcs/m",
            mv(
                op,
                "checkpoint",
                "2022-03-05T08:09:30Z",
                ON_ROUTE,
                json!({})
            )
        )),
        "already-arrived"
    );
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", receive(json!([r("RC-9", 1, 0, 0)])))),
        "unknown-tracking-number"
    );
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", receive(json!([r("RC-1", 390, 5, 0)])))),
        "receipt-does-not-add-up"
    );
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", receive(json!([r("RC-1", -1, 401, 0)])))),
        "quantity-out-of-range"
    );
    h.submit(&kp(26), "urcs/m", receive(json!([r("RC-1", 380, 20, 0)])))
        .unwrap();
    let mut short = r("RC-1-2", 1900, 0, 0);
    short["reason"] = json!("100 kg taken at the checkpoint");
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", receive(json!([r("RC-1", 380, 20, 0)])))),
        "receipt-repeated"
    );
    h.submit(&kp(26), "urcs/m", receive(json!([short])))
        .unwrap();
    let outcome = json!({"type": "operation.outcome", "operation": op, "outcome": "impeded",
        "reason": "held two minutes at the checkpoint"});
    assert_eq!(
        code(h.submit(&kp(11), "ru/c", outcome.clone())),
        "role-not-allowed"
    );
    h.submit(&kp(26), "urcs/m", outcome.clone()).unwrap();
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", outcome)),
        "outcome-repeated"
    );
    let o = &h.state.operations.operations[op];
    assert_eq!(o.progress(), Progress::Arrived);
    assert_eq!(o.departed_with().unwrap().total(), 60);
    assert_eq!(o.arrived_with().unwrap().total(), 59);
    assert_eq!(o.received["RC-1"].receipt.damaged, 20);
    assert_eq!(o.movements.len(), 5);
    assert_eq!(h.replay(), h.state);
}

#[test]
fn units_confirm_the_terms_and_every_act_and_only_their_party_reads_it() {
    let mut h = operations_log();
    let v = hash(&h, "w1");
    let terms = json!({"type": "unit.confirm", "window": "w1", "version_hash": v});
    assert_eq!(
        code(h.submit(&kp(10), "ua/c", terms.clone())),
        "role-not-allowed"
    );
    h.submit(&kp(20), "ua/unit", terms.clone()).unwrap();
    assert_eq!(
        code(h.submit(&kp(20), "ua/unit", terms.clone())),
        "confirmation-repeated"
    );
    h.submit(&kp(22), "ru/unit", terms).unwrap();
    let bad = json!({"type": "unit.confirm", "window": "w1", "version_hash": "AAAA"});
    assert_eq!(code(h.submit(&kp(20), "ua/unit", bad)), "unknown-version");
    let old = h.state.agreements.windows["w1"].versions[0].hash.clone();
    let stale = json!({"type": "unit.confirm", "window": "w1", "version_hash": old});
    assert_eq!(
        code(h.submit(&kp(20), "ua/unit", stale)),
        "superseded-version"
    );
    let both = json!({"type": "unit.confirm", "window": "w1", "version_hash": v, "act_index": 3});
    assert_eq!(code(h.submit(&kp(20), "ua/unit", both)), "invalid-field");
    // A consent is not an act a unit confirms; a suspension is.
    let consent_index = h.state.agreements.windows["w1"].acts[0].at_index;
    let act = |i: u64| json!({"type": "unit.confirm", "window": "w1", "act_index": i});
    assert_eq!(
        code(h.submit(&kp(20), "ua/unit", act(consent_index))),
        "unknown-act"
    );
    jump_to(&mut h, "2022-03-05T08:00:00Z");
    h.submit(
        &kp(11),
        "ru/c",
        json!({"type": "window.suspend", "window": "w1", "party": "ru",
        "reason": "shelling", "public_reason": "shelling"}),
    )
    .unwrap();
    let suspension = h.state.agreements.windows["w1"]
        .acts
        .last()
        .unwrap()
        .at_index;
    h.submit(&kp(22), "ru/unit", act(suspension)).unwrap();
    let record = &h.state.chain.confirmations["ru/w1"];
    assert_eq!(record.confirmations.len(), 2);
    assert_eq!(record.party, "ru");
    // The confirmation entries are the unit's party's alone (and the intermediary's).
    let last = h.entries.last().unwrap();
    let env = crate::envelope::envelope_bytes(&last.command, &last.signature);
    let cmd = SignedCommand::parse(&env, "corridor.test/log").unwrap();
    let audience = entry_audience(&h.state, &cmd.actor, &cmd.body);
    assert!(audience.admits(Reader::Actor(&h.state.actors["ru/c"])));
    assert!(!audience.admits(Reader::Actor(&h.state.actors["ua/c"])));
    assert!(!audience.admits(Reader::Actor(&h.state.actors["urcs/m"])));
    assert_eq!(h.replay(), h.state);
}

#[test]
fn a_thread_is_read_and_written_by_its_participants_only() {
    let mut h = operations_log();
    let open = json!({"type": "thread.open", "thread": "ua/t1", "corridor": "c1",
        "participants": [], "subject": "Gathering point in Borodianka"});
    let mut unscoped = open.clone();
    unscoped["thread"] = json!("t1");
    assert_eq!(
        code(h.submit(&kp(10), "ua/c", unscoped)),
        "thread-id-not-scoped"
    );
    let mut neither = open.clone();
    neither.as_object_mut().unwrap().remove("corridor");
    assert_eq!(code(h.submit(&kp(10), "ua/c", neither)), "invalid-field");
    let mut stranger = open.clone();
    stranger["participants"] = json!(["xx"]);
    assert_eq!(
        code(h.submit(&kp(10), "ua/c", stranger)),
        "unknown-affiliation"
    );
    assert_eq!(
        code(h.submit(&kp(20), "ua/unit", open.clone())),
        "role-not-allowed"
    );
    h.submit(&kp(10), "ua/c", open.clone()).unwrap();
    assert_eq!(code(h.submit(&kp(10), "ua/c", open)), "thread-exists");
    let t = &h.state.channels.threads["ua/t1"];
    assert_eq!(
        t.participants
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["icrc", "ua"],
        "the opener's side and the intermediary"
    );
    let send = |id: &str, ack: Value| {
        json!({"type": "message.send", "thread": "ua/t1",
        "message": id, "text": "The gathering point moves to the school yard", "ack_required": ack})
    };
    // The other party answers as for a thread that does not exist.
    let e1 = h
        .submit(&kp(11), "ru/c", send("m1", json!([])))
        .unwrap_err();
    let mut ghost = send("m1", json!([]));
    ghost["thread"] = json!("ua/t-none");
    let e2 = h.submit(&kp(11), "ru/c", ghost).unwrap_err();
    assert_eq!(e1.code(), "not-a-participant");
    assert_eq!(e2.code(), "not-a-participant");
    assert_eq!(
        e1.to_string().replace("ua/t1", "X"),
        e2.to_string().replace("ua/t-none", "X")
    );
    assert_eq!(
        code(h.submit(&kp(1), "icrc/admin", send("m1", json!(["ru"])))),
        "ack-party-not-participant"
    );
    h.submit(&kp(1), "icrc/admin", send("m1", json!(["ua"])))
        .unwrap();
    assert_eq!(
        code(h.submit(&kp(1), "icrc/admin", send("m1", json!([])))),
        "message-exists"
    );
    let ack = json!({"type": "message.ack", "thread": "ua/t1", "message": "m1"});
    assert_eq!(
        code(h.submit(&kp(1), "icrc/admin", ack.clone())),
        "ack-not-required"
    );
    assert_eq!(
        code(h.submit(&kp(11), "ru/c", ack.clone())),
        "not-a-participant"
    );
    h.submit(&kp(10), "ua/c", ack.clone()).unwrap();
    assert_eq!(code(h.submit(&kp(3), "ua/admin", ack)), "ack-repeated");
    let m = &h.state.channels.messages["ua/t1#m1"];
    assert_eq!(m.acks["ua"].actor, "ua/c");
    assert_eq!(h.state.channels.threads["ua/t1"].messages, 1);
    // Every entry of the thread is withheld from the other party and the organisation.
    for e in h.entries.iter().rev().take(3) {
        let env = crate::envelope::envelope_bytes(&e.command, &e.signature);
        let cmd = SignedCommand::parse(&env, "corridor.test/log").unwrap();
        let audience = entry_audience(&h.state, &cmd.actor, &cmd.body);
        assert!(audience.admits(Reader::Actor(&h.state.actors["ua/c"])));
        assert!(audience.admits(Reader::Actor(&h.state.actors["icrc/admin"])));
        assert!(!audience.admits(Reader::Actor(&h.state.actors["ru/c"])));
        assert!(!audience.admits(Reader::Actor(&h.state.actors["urcs/m"])));
    }
    // A thread about an operation another side may not read answers as for an unknown one.
    let about_op = json!({"type": "thread.open", "thread": "urcs/t2", "operation": "urcs/op-9",
        "participants": ["ua", "ru"], "subject": "Convoy timing"});
    assert_eq!(
        code(h.submit(&kp(26), "urcs/m", about_op)),
        "unknown-operation"
    );
    assert_eq!(h.replay(), h.state);
}

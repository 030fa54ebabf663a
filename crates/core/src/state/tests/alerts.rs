//! Alerts (#16 item 5): each kind appears when its condition becomes true, at the instant it
//! does, for its audience only, carries nothing confidential beyond that audience's records, and
//! is the same after a replay.

use super::operations::{ON_ROUTE, mv, notify, operations_log, people};
use super::*;
use crate::access::Reader;
use crate::alerts::{About, Alert, CONFIRMATION_LEAD_S, Running, alerts, next_change};

fn at(h: &Harness, t: &str) -> Vec<Alert> {
    alerts(&Running::of(&h.state), t.parse().unwrap())
}

/// A log time `secs` later.
fn plus(t: &str, secs: i64) -> String {
    let t: Timestamp = t.parse().unwrap();
    crate::time::format_log_time(
        t.checked_add(jiff::SignedDuration::from_secs(secs))
            .unwrap(),
    )
}

fn ids(list: &[Alert]) -> Vec<&str> {
    list.iter().map(|a| a.id.as_str()).collect()
}

fn admits(h: &Harness, a: &Alert, actor: &str) -> bool {
    a.audience.admits(Reader::Actor(&h.state.actors[actor]))
}

#[test]
fn an_unacknowledged_operation_falls_overdue_at_the_policy_delay_and_leaves_with_its_outcome() {
    let mut h = operations_log();
    h.submit(&kp(26), "urcs/m", notify("urcs/op-1", "RC-1"))
        .unwrap();
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "operation.ack", "operation": "urcs/op-1", "party": "ua"}),
    )
    .unwrap();
    let r = Running::of(&h.state);
    let due = plus(&h.state.operations.operations["urcs/op-1"].at_time, 3600);
    // Notified at 08:00 on 4 March; the default delay is an hour.
    assert_eq!(h.state.genesis.policy.ack_overdue_s, 3600);
    assert!(alerts(&r, plus(&due, -1).parse().unwrap()).is_empty());
    assert_eq!(
        next_change(&r, "2022-03-04T08:30:00Z".parse().unwrap()),
        Some(due.parse().unwrap())
    );
    let now = at(&h, &due);
    assert_eq!(ids(&now), ["ack-overdue/urcs/op-1/ru"], "ua acknowledged");
    let a = &now[0];
    assert_eq!(a.since, due);
    assert_eq!(a.entry, None);
    for reader in ["ru/c", "ua/c", "urcs/m", "icrc/admin"] {
        assert!(admits(&h, a, reader), "{reader} reads the operation");
    }
    // Acknowledged late: no longer overdue.
    jump_to(&mut h, "2022-03-04T09:30:00Z");
    h.submit(
        &kp(11),
        "ru/c",
        json!({"type": "operation.ack", "operation": "urcs/op-1", "party": "ru"}),
    )
    .unwrap();
    assert!(
        at(&h, "2022-03-04T09:31:00Z")
            .iter()
            .all(|a| a.kind() != "ack-overdue")
    );
    // An operation that ended is not chased.
    h.submit(&kp(26), "urcs/m", notify("urcs/op-2", "RC-2"))
        .unwrap();
    assert_eq!(
        ids(&at(&h, "2022-03-04T10:31:00Z")),
        ["ack-overdue/urcs/op-2/ru", "ack-overdue/urcs/op-2/ua"]
    );
    h.submit(
        &kp(26),
        "urcs/m",
        json!({"type": "operation.outcome", "operation": "urcs/op-2",
        "outcome": "postponed", "reason": "the window moved"}),
    )
    .unwrap();
    assert!(at(&h, "2022-03-04T10:31:00Z").is_empty());
    assert_eq!(h.replay(), h.state);
}

#[test]
fn missing_unit_confirmations_alert_their_own_party_from_the_lead_before_the_start() {
    let mut h = operations_log();
    let r = Running::of(&h.state);
    assert_eq!(
        r.units["ua"].iter().collect::<Vec<_>>(),
        ["ua/unit"],
        "units in force per party"
    );
    // w1 starts at 07:00 on 5 March.
    let lead: Timestamp = "2022-03-05T07:00:00Z".parse().unwrap();
    let lead = lead
        .checked_sub(jiff::SignedDuration::from_secs(CONFIRMATION_LEAD_S))
        .unwrap();
    assert_eq!(
        next_change(&r, "2022-03-04T08:00:00Z".parse().unwrap()),
        Some(lead)
    );
    assert!(
        alerts(
            &r,
            lead.checked_sub(jiff::SignedDuration::from_secs(1))
                .unwrap()
        )
        .is_empty()
    );
    let v = hash(&h, "w1");
    h.submit(
        &kp(20),
        "ua/unit",
        json!({"type": "unit.confirm", "window": "w1", "version_hash": v}),
    )
    .unwrap();
    let now = alerts(&Running::of(&h.state), lead);
    assert_eq!(
        ids(&now),
        ["confirmations-missing/ru/w1/v3"],
        "ua/unit confirmed"
    );
    let a = &now[0];
    let About::ConfirmationsMissing {
        pending, confirmed, ..
    } = &a.about
    else {
        panic!("{a:?}")
    };
    assert_eq!(
        (pending.as_slice(), *confirmed),
        (&["ru/unit".to_string()][..], 0)
    );
    // It names the units: for their own party and the intermediary only.
    assert!(admits(&h, a, "ru/c"));
    assert!(admits(&h, a, "icrc/admin"));
    assert!(!admits(&h, a, "ua/c"));
    assert!(!admits(&h, a, "urcs/m"));
    // Still true once the window has started, gone once it is over.
    assert_eq!(at(&h, "2022-03-05T12:00:00Z").len(), 1);
    assert!(at(&h, "2022-03-05T17:00:00Z").is_empty());
    h.submit(
        &kp(22),
        "ru/unit",
        json!({"type": "unit.confirm", "window": "w1", "version_hash": v}),
    )
    .unwrap();
    assert!(at(&h, "2022-03-05T12:00:00Z").is_empty());
}

#[test]
fn halts_stops_and_messages_alert_their_readers_without_texts_plates_or_positions() {
    let mut h = operations_log();
    h.submit(&kp(26), "urcs/m", notify("urcs/op-1", "RC-1"))
        .unwrap();
    for (k, a) in [(10u8, "ua/c"), (11, "ru/c")] {
        h.submit(
            &kp(k),
            a,
            json!({"type": "operation.ack", "operation": "urcs/op-1", "party": &a[..2]}),
        )
        .unwrap();
    }
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "thread.open", "thread": "ua/t1", "corridor": "c1",
        "participants": ["urcs"], "subject": "Gathering point"}),
    )
    .unwrap();
    h.submit(
        &kp(10),
        "ua/c",
        json!({"type": "message.send", "thread": "ua/t1", "message": "m1",
        "text": "Gather behind the school at number 12", "ack_required": ["urcs"]}),
    )
    .unwrap();
    jump_to(&mut h, "2022-03-05T08:10:00Z");
    let op = "urcs/op-1";
    h.submit(
        &kp(26),
        "urcs/m",
        mv(
            op,
            "departed",
            "2022-03-05T08:00:00Z",
            ON_ROUTE,
            json!({"evacuees": people(40, 20), "voluntary": true, "destination": "berestianka"}),
        ),
    )
    .unwrap();
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
    h.submit(
        &kp(11),
        "ru/c",
        json!({"type": "window.suspend", "window": "w1", "party": "ru",
        "reason": "artillery battery moving near kilometre 12", "public_reason": "shelling"}),
    )
    .unwrap();
    let now = at(&h, "2022-03-05T08:11:00Z");
    let kinds: Vec<&str> = now.iter().map(Alert::kind).collect();
    assert_eq!(
        kinds,
        [
            "message",
            "confirmations-missing",
            "confirmations-missing",
            "convoy-stopped",
            "window-halted"
        ],
        "oldest first: {:?}",
        ids(&now)
    );
    let g = &h.state.genesis;
    let text =
        serde_json::to_string(&now.iter().map(|a| a.to_json(g)).collect::<Vec<_>>()).unwrap();
    for secret in [
        "school at number 12",
        "AA 1234 KB",
        "held at the checkpoint",
        "artillery",
        &ON_ROUTE.0.to_string(),
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked into {text}");
    }
    let by_kind = |k: &str| now.iter().find(|a| a.kind() == k).unwrap();
    let message = by_kind("message");
    assert_eq!(message.id, "message/ua/t1#m1");
    assert!(admits(&h, message, "urcs/m"));
    assert!(admits(&h, message, "icrc/admin"));
    assert!(!admits(&h, message, "ru/c"), "not a participant");
    let halted = by_kind("window-halted");
    assert!(admits(&h, halted, "urcs/m") && admits(&h, halted, "ru/c"));
    assert!(text.contains("\"public_reason\":\"shelling\""));
    let stopped = by_kind("convoy-stopped");
    let m = h.state.operations.operations[op].movements.last().unwrap();
    assert_eq!(
        (stopped.since.as_str(), stopped.entry),
        (m.at_time.as_str(), Some(m.at_index)),
        "the entry's log time"
    );
    // Every alert is the same after a replay.
    let replayed = h.replay();
    assert_eq!(
        alerts(
            &Running::of(&replayed),
            "2022-03-05T08:11:00Z".parse().unwrap()
        ),
        now
    );
    // Nothing from the future: before the entries, none of these.
    assert!(at(&h, "2022-03-04T07:00:00Z").is_empty());
}

#[test]
fn alert_times_carry_every_party_zone() {
    let mut h = operations_log();
    h.submit(&kp(26), "urcs/m", notify("urcs/op-1", "RC-1"))
        .unwrap();
    let due = plus(&h.state.operations.operations["urcs/op-1"].at_time, 3600);
    let a = &at(&h, &due)[0];
    let v = a.to_json(&h.state.genesis);
    assert_eq!(v["kind"], "ack-overdue");
    assert_eq!(v["since"]["utc"], due.as_str());
    assert!(v["since"].as_object().unwrap().len() > 1, "{v}");
}

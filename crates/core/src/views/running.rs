//! Read models for what runs through a window: operations, unit confirmations, threads, and the
//! operations report (JSON and HXL-tagged CSV). Pure functions of the records, the genesis and
//! an instant, like the window views; every time is shown in UTC and in each party's zone.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::agreement::Window;
use crate::chain::{CONFIRMED_ACTS, Notice, PartyConfirmations};
use crate::channel::{Message, Thread};
use crate::genesis::GenesisDocument;
use crate::localtime::show;
use crate::operation::{AckStatus, Evacuees, MoveEvent, Operation};

/// An instant in UTC and in each party's zone, keyed by zone name.
pub fn instant(genesis: &GenesisDocument, utc: &str) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("utc".into(), json!(utc));
    if let Ok(t) = utc.parse::<Timestamp>() {
        for z in super::zones(genesis, None) {
            if let Ok(s) = show(t, &z) {
                m.insert(z, json!(s));
            }
        }
    }
    Value::Object(m)
}

/// One line of the operations list: enough to see at a glance what moves, and who has not
/// acknowledged it.
pub fn operation_summary(op: &Operation, genesis: &GenesisDocument, at: Timestamp) -> Value {
    let acks = op.ack_status_at(at, genesis.policy.ack_overdue_s);
    json!({
        "id": op.id,
        "notifier": op.notifier,
        "window": op.window,
        "corridor": op.corridor,
        "kind": op.kind,
        "vehicles": op.vehicles.len(),
        "consignments": op.consignments.len(),
        "evacuee_capacity": op.evacuee_capacity,
        "departure": instant(genesis, &op.departure),
        "arrival": instant(genesis, &op.arrival),
        "progress": op.progress(),
        "acknowledgements": acks,
        "overdue": acks.values().any(|s| *s == AckStatus::Overdue),
        "outcome": op.outcome.as_ref().map(|o| o.outcome),
    })
}

/// An operation in full: the notification, each party's acknowledgement at `at`, the movement
/// timeline, evacuee counts, receipts against the manifest, and the outcome.
pub fn operation(op: &Operation, genesis: &GenesisDocument, at: Timestamp) -> Value {
    let delay = genesis.policy.ack_overdue_s;
    let status = op.ack_status_at(at, delay);
    let due = op
        .at_time
        .parse::<Timestamp>()
        .ok()
        .and_then(|t| t.checked_add(jiff::SignedDuration::from_secs(delay)).ok())
        .map(crate::time::format_log_time);
    let acks: BTreeMap<&String, Value> = op
        .required_parties
        .iter()
        .map(|p| {
            let a = op.acks.get(p);
            (
                p,
                json!({
                    "status": status.get(p),
                    "actor": a.map(|a| &a.actor),
                    "at": a.map(|a| instant(genesis, &a.at_time)),
                    "entry": a.map(|a| a.at_index),
                }),
            )
        })
        .collect();
    let timeline: Vec<Value> = op
        .movements
        .iter()
        .map(|m| {
            json!({
                "event": m.event,
                "occurred_at": instant(genesis, &m.occurred_at),
                "location": super::lonlat([m.location.lon_e7, m.location.lat_e7]),
                "off_route_m": m.off_route_m,
                "reason": m.reason,
                "evacuees": m.evacuees.map(|e| evacuees(&e)),
                "destination": m.destination,
                "voluntary": m.voluntary,
                "actor": m.actor,
                "recorded_at": m.at_time,
                "entry": m.at_index,
            })
        })
        .collect();
    let at_checkpoints: Vec<Value> = op
        .movements
        .iter()
        .filter(|m| m.event == MoveEvent::Checkpoint)
        .filter_map(|m| m.evacuees.map(|e| evacuees(&e)))
        .collect();
    json!({
        "id": op.id,
        "notifier": op.notifier,
        "actor": op.actor,
        "window": op.window,
        "corridor": op.corridor,
        "kind": op.kind,
        "notified_at": instant(genesis, &op.at_time),
        "entry": op.at_index,
        "as_of": crate::time::format_log_time(at),
        "vehicles": op.vehicles,
        "vehicle_count": op.vehicles.len(),
        "evacuee_capacity": op.evacuee_capacity,
        "departure": instant(genesis, &op.departure),
        "arrival": instant(genesis, &op.arrival),
        "acknowledgement_due": due.map(|d| instant(genesis, &d)),
        "acknowledgements": acks,
        "progress": op.progress(),
        "timeline": timeline,
        "evacuees": {
            "departed": op.departed_with().map(|e| evacuees(&e)),
            "at_checkpoints": at_checkpoints,
            "arrived": op.arrived_with().map(|e| evacuees(&e)),
        },
        "manifest": manifest(op),
        "outcome": op.outcome.as_ref().map(|o| json!({
            "outcome": o.outcome, "reason": o.reason, "actor": o.actor,
            "at": instant(genesis, &o.at_time), "entry": o.at_index,
        })),
    })
}

fn evacuees(e: &Evacuees) -> Value {
    json!({"adults": e.adults, "children": e.children, "elderly": e.elderly,
           "disabled": e.disabled, "wounded": e.wounded, "total": e.total()})
}

/// The manifest with what was received of each line: planned against delivered.
fn manifest(op: &Operation) -> Vec<Value> {
    op.consignments
        .iter()
        .map(|c| {
            let r = op.received.get(&c.tracking);
            json!({
                "tracking": c.tracking, "category": c.category, "item": c.item,
                "unit": c.unit, "sent": c.quantity,
                "delivered": r.map(|r| r.receipt.delivered),
                "damaged": r.map(|r| r.receipt.damaged),
                "lost": r.map(|r| r.receipt.lost),
                "reason": r.and_then(|r| r.receipt.reason.clone()),
                "received_at": r.map(|r| &r.at_time),
            })
        })
        .collect()
}

/// What a window's units must confirm: the terms in force and every act that changes whether
/// they may fire, in log order.
pub fn notices(w: &Window) -> Vec<Notice> {
    let v = w.latest();
    let mut out = vec![Notice::Terms {
        version: v.version,
        hash: v.hash.clone(),
    }];
    out.extend(
        w.acts
            .iter()
            .filter(|a| !a.void && CONFIRMED_ACTS.contains(&a.kind))
            .map(|a| Notice::Act {
                index: a.at_index,
                kind: a.kind,
            }),
    );
    out
}

/// A window's unit confirmations per party. `units` are each party's unit actors; `readable`
/// the parties whose own records the reader may see by name. For the others only counts are
/// shown: which of a party's units exist, and where, is never for the other side.
pub fn receipts(
    w: &Window,
    genesis: &GenesisDocument,
    units: &BTreeMap<String, BTreeSet<String>>,
    records: &BTreeMap<String, PartyConfirmations>,
    readable: &BTreeSet<String>,
) -> Value {
    let notices = notices(w);
    let mut parties = serde_json::Map::new();
    for p in &w.latest().terms.required_parties {
        let empty = BTreeSet::new();
        let all = units.get(p).unwrap_or(&empty);
        let confirmations = records.get(p).map(|r| &r.confirmations[..]).unwrap_or(&[]);
        let per_notice: Vec<Value> = notices
            .iter()
            .map(|n| {
                let done: Vec<_> = confirmations
                    .iter()
                    .filter(|c| &c.notice == n && all.contains(&c.unit))
                    .collect();
                let confirmed: BTreeSet<&str> = done.iter().map(|c| c.unit.as_str()).collect();
                let mut v = serde_json::to_value(n).expect("notices serialize");
                v["confirmed_count"] = json!(confirmed.len());
                v["pending_count"] = json!(all.len() - confirmed.len());
                if readable.contains(p) {
                    v["confirmed"] = done
                        .iter()
                        .map(|c| json!({"unit": c.unit, "at": instant(genesis, &c.at_time), "entry": c.at_index}))
                        .collect();
                    v["pending"] = all
                        .iter()
                        .filter(|u| !confirmed.contains(u.as_str()))
                        .cloned()
                        .collect();
                }
                v
            })
            .collect();
        parties.insert(
            p.clone(),
            json!({"units": all.len(), "named": readable.contains(p), "notices": per_notice}),
        );
    }
    json!({"window": w.id, "version": w.latest().version, "parties": parties})
}

/// A thread with its messages in log order and, for each, who has and has not acknowledged.
pub fn thread(t: &Thread, messages: &[&Message], genesis: &GenesisDocument) -> Value {
    let list: Vec<Value> = messages
        .iter()
        .map(|m| {
            let acks: BTreeMap<&String, Value> = m
                .ack_required
                .iter()
                .map(|p| {
                    let a = m.acks.get(p);
                    (p, json!({
                        "acknowledged": a.is_some(),
                        "actor": a.map(|a| &a.actor),
                        "at": a.map(|a| instant(genesis, &a.at_time)),
                        "entry": a.map(|a| a.at_index),
                    }))
                })
                .collect();
            json!({
                "id": m.id, "actor": m.actor, "text": m.text,
                "at": instant(genesis, &m.at_time), "entry": m.at_index,
                "acknowledgements": acks,
                "awaiting": m.ack_required.iter().filter(|p| !m.acks.contains_key(*p)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "id": t.id, "subject": t.subject, "corridor": t.corridor, "operation": t.operation,
        "participants": t.participants, "opened_by": t.actor,
        "opened_at": instant(genesis, &t.at_time), "entry": t.at_index,
        "messages": list,
    })
}

/// HXL hashtags of the operations report, one per column, in order.
pub const REPORT_COLUMNS: &[(&str, &str)] = &[
    ("operation", "#activity+code"),
    ("notifier", "#org+code"),
    ("window", "#activity+window+code"),
    ("corridor", "#activity+corridor+code"),
    ("kind", "#activity+type"),
    ("departure_planned", "#date+departure+planned"),
    ("arrival_planned", "#date+arrival+planned"),
    ("progress", "#status+progress"),
    ("outcome", "#status+outcome"),
    ("acknowledged_by", "#org+acknowledged"),
    ("overdue", "#org+overdue"),
    ("tracking", "#item+code"),
    ("category", "#item+type"),
    ("item", "#item+name"),
    ("unit", "#indicator+unit"),
    ("sent", "#indicator+num+sent"),
    ("delivered", "#indicator+num+delivered"),
    ("damaged", "#indicator+num+damaged"),
    ("lost", "#indicator+num+lost"),
    ("evacuees_departed", "#affected+num+departed"),
    ("evacuees_arrived", "#affected+num+arrived"),
];

/// The operations report as rows of [`REPORT_COLUMNS`]: one per consignment, or one per
/// operation that carries none (an evacuation). All UTC.
pub fn report_rows(
    ops: &[&Operation],
    genesis: &GenesisDocument,
    at: Timestamp,
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for op in ops {
        let acks = op.ack_status_at(at, genesis.policy.ack_overdue_s);
        let by = |s: AckStatus| {
            acks.iter()
                .filter(|(_, x)| **x == s)
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let total = |e: Option<Evacuees>| e.map_or(String::new(), |e| e.total().to_string());
        let head = [
            op.id.clone(),
            op.notifier.clone(),
            op.window.clone(),
            op.corridor.clone(),
            wire(&op.kind),
            op.departure.clone(),
            op.arrival.clone(),
            wire(&op.progress()),
            op.outcome
                .as_ref()
                .map_or(String::new(), |o| o.outcome.as_str().into()),
            by(AckStatus::Acknowledged),
            by(AckStatus::Overdue),
        ];
        let tail = [total(op.departed_with()), total(op.arrived_with())];
        let lines: Vec<[String; 8]> = if op.consignments.is_empty() {
            vec![Default::default()]
        } else {
            op.consignments
                .iter()
                .map(|c| {
                    let r = op.received.get(&c.tracking).map(|r| &r.receipt);
                    let n = |f: fn(&crate::operation::ConsignmentReceipt) -> i64| {
                        r.map_or(String::new(), |r| f(r).to_string())
                    };
                    [
                        c.tracking.clone(),
                        c.category.as_str().into(),
                        c.item.clone(),
                        c.unit.clone(),
                        c.quantity.to_string(),
                        n(|r| r.delivered),
                        n(|r| r.damaged),
                        n(|r| r.lost),
                    ]
                })
                .collect()
        };
        for line in lines {
            rows.push(head.iter().chain(&line).chain(&tail).cloned().collect());
        }
    }
    rows
}

fn wire(v: &impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

//! Read models: how corridors and windows are shown in JSON and GeoJSON, as pure functions of
//! the records and an instant. The HTTP shell loads records and calls these; nothing here knows
//! where the records came from.
//!
//! Every window shows its start and end in UTC and in the local time of each party's zone and
//! of the corridor's origin (keyed by zone name), computed from the tz database built into the
//! binary, so the same window reads the same everywhere and across DST changes.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::agreement::{Corridor, CorridorVersion, Settlement, Window};
use crate::genesis::GenesisDocument;
use crate::localtime::show;

/// Zones a window is shown in: each party's, then the corridor origin's.
pub fn zones(genesis: &GenesisDocument, origin: Option<&Settlement>) -> Vec<String> {
    let mut z: Vec<String> = genesis.parties.iter().map(|p| p.zone.clone()).collect();
    if let Some(s) = origin {
        z.push(s.zone.clone());
    }
    z.sort();
    z.dedup();
    z
}

fn local(zones: &[String], start: Timestamp, end: Timestamp) -> Value {
    let mut m = serde_json::Map::new();
    for z in zones {
        if let (Ok(s), Ok(e)) = (show(start, z), show(end, z)) {
            m.insert(z.clone(), json!({"start": s, "end": e}));
        }
    }
    Value::Object(m)
}

/// A point in 1e-7 degrees as GeoJSON floats.
pub fn lonlat(p: [i64; 2]) -> Value {
    json!([p[0] as f64 / 1e7, p[1] as f64 / 1e7])
}

/// A window as JSON, with its status at `at`.
pub fn window(
    w: &Window,
    settlements: &BTreeMap<String, Settlement>,
    corridor: Option<&Corridor>,
    genesis: &GenesisDocument,
    at: Timestamp,
) -> Value {
    let v = w.version_at(at).unwrap_or_else(|| w.latest());
    let (status, reason) = w
        .status_at(at)
        .map(|(s, r)| (s.as_str(), r))
        .unwrap_or(("not-yet-proposed", None));
    let origin = corridor
        .and_then(|c| c.versions.iter().find(|x| x.version == v.corridor_version))
        .and_then(|cv| settlements.get(&cv.terms.origin));
    let zones = zones(genesis, origin);
    let mut consents = serde_json::Map::new();
    for p in &v.terms.required_parties {
        let c = w.acts.iter().find(|a| {
            !a.void
                && a.kind == crate::agreement::ActKind::Consent
                && a.party.as_deref() == Some(p)
                && a.version_hash.as_deref() == Some(&v.hash)
                && a.at_time.parse::<Timestamp>().is_ok_and(|t| t <= at)
        });
        consents.insert(
            p.clone(),
            match c {
                Some(a) => json!({"consented": true, "actor": a.actor, "at": a.at_time, "entry": a.at_index}),
                None => json!({"consented": false}),
            },
        );
    }
    json!({
        "id": w.id,
        "corridor": w.corridor,
        "corridor_version": v.corridor_version,
        "version": v.version,
        "version_hash": v.hash,
        "status": status,
        "status_reason": reason,
        "as_of": crate::time::format_log_time(at),
        "start": v.terms.start,
        "end": v.terms.end,
        "local": local(&zones, v.start(), v.end()),
        "stated_start": v.terms.start_local,
        "stated_end": v.terms.end_local,
        "required_parties": v.terms.required_parties,
        "guarantees": v.terms.guarantees,
        "consents": consents,
        "proposer": w.proposer,
        "versions": w.versions.iter().map(|x| json!({
            "version": x.version, "hash": x.hash, "actor": x.actor, "at": x.at_time,
            "entry": x.at_index, "start": x.terms.start, "end": x.terms.end,
            "corridor_version": x.corridor_version,
            // Every version's full terms and local times, so a reader (the console's consent
            // screen) can show what changed from one version to the next before anyone signs.
            "terms": x.terms, "local": local(&zones, x.start(), x.end()),
        })).collect::<Vec<_>>(),
        "acts": w.acts,
    })
}

fn settlement(s: Option<&Settlement>, id: &str) -> Value {
    match s {
        Some(s) => json!({"id": s.id, "names": s.names, "zone": s.zone,
            "location": lonlat([s.location.lon_e7, s.location.lat_e7]), "pcode": s.pcode}),
        None => json!({"id": id}),
    }
}

/// One corridor version as JSON (route as a GeoJSON LineString).
pub fn corridor_version(
    c: &Corridor,
    cv: &CorridorVersion,
    settlements: &BTreeMap<String, Settlement>,
) -> Value {
    let t = &cv.terms;
    json!({
        "id": c.id,
        "version": cv.version,
        "latest_version": c.latest().version,
        "proposed_by": cv.actor,
        "at": cv.at_time,
        "names": t.names,
        "route": {"type": "LineString", "coordinates": t.route.iter().map(|p| lonlat(*p)).collect::<Vec<_>>()},
        "buffer_m": t.buffer_m,
        "origin": settlement(settlements.get(&t.origin), &t.origin),
        "destination": settlement(settlements.get(&t.destination), &t.destination),
        "checkpoints": t.checkpoints.iter().map(|k| json!({"names": k.names,
            "location": lonlat([k.location.lon_e7, k.location.lat_e7])})).collect::<Vec<_>>(),
        "purpose": t.purpose,
        "who_may_leave": t.who_may_leave,
        "aid_may_enter": t.aid_may_enter,
        "reception": t.reception,
        "instructions": t.instructions,
        "binding_language": t.binding_language,
        "versions": c.versions.iter().map(|x| json!({"version": x.version, "actor": x.actor, "at": x.at_time, "entry": x.at_index})).collect::<Vec<_>>(),
    })
}

/// The corridor's status at `at`, from its windows: the most telling one wins (active, then
/// suspended, agreed, proposed; otherwise closed).
pub fn corridor_status<'a>(
    windows: impl Iterator<Item = &'a Window>,
    at: Timestamp,
) -> &'static str {
    let mut best = ("closed", 0);
    for w in windows {
        if let Some((s, _)) = w.status_at(at) {
            let rank = match s.as_str() {
                "active" => 4,
                "suspended" => 3,
                "agreed" => 2,
                "proposed" => 1,
                _ => 0,
            };
            if rank > best.1 {
                best = (s.as_str(), rank);
            }
        }
    }
    best.0
}

/// All corridors as a GeoJSON FeatureCollection with their current status.
pub fn corridors_geojson(corridors: &[Corridor], windows: &[Window], at: Timestamp) -> Value {
    let features: Vec<Value> = corridors
        .iter()
        .map(|c| {
            let cv = c.latest();
            json!({
                "type": "Feature",
                "id": c.id,
                "geometry": {"type": "LineString", "coordinates": cv.terms.route.iter().map(|p| lonlat(*p)).collect::<Vec<_>>()},
                "properties": {
                    "id": c.id, "version": cv.version, "names": cv.terms.names,
                    "buffer_m": cv.terms.buffer_m, "origin": cv.terms.origin,
                    "destination": cv.terms.destination, "purpose": cv.terms.purpose,
                    "status": corridor_status(windows.iter().filter(|w| w.corridor == c.id), at),
                    "as_of": crate::time::format_log_time(at),
                },
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}
pub mod incidents;
pub mod register;
pub mod running;

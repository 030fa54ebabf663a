//! `/feeds/corridors.geojson`: the public corridors for GIS tools (QGIS, OCHA's maps, uMap).
//!
//! Features per corridor, one geometry type each because GIS layers hold one: the signed route
//! as a LineString, its buffer as a Polygon and each agreed checkpoint as a Point, all with the
//! headline window's status and times in UTC. Coordinates come from the signed integers (1e-7 degree) without rounding
//! through anything else; the buffer is [`super::buffer_polygon`], the same area as the CAP
//! alerts.

use corridor_core::time::format_log_time;
use serde_json::{Value, json};

use super::buffer_polygon;
use super::text::page_url;
use crate::model::{LANGS, Public, PublicCorridor, code};

/// A signed coordinate in degrees: the shortest decimal that reads back as the same double,
/// which for a value of 1e-7 degree resolution is at most seven decimals.
fn deg(e7: i64) -> f64 {
    e7 as f64 / 1e7
}

/// A computed coordinate, rounded to 1e-7 degree (about 1 cm), as the signed ones.
fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

fn properties(p: &Public, c: &PublicCorridor, kind: &str) -> Value {
    let w = c.current();
    let terms = &w.terms.terms;
    let pages: serde_json::Map<String, Value> = LANGS
        .iter()
        .map(|l| (code(*l).to_string(), json!(page_url(p, *l, &c.corridor.id))))
        .collect();
    json!({
        "kind": kind,
        "corridor": c.corridor.id,
        "names": terms.names,
        "status": w.status.as_str(),
        "reason": w.status.reason(),
        "window": w.window.id,
        "start": w.version.terms.start,
        "end": w.version.terms.end,
        "buffer_m": terms.buffer_m,
        "origin": terms.origin,
        "destination": terms.destination,
        "exercise": p.input.genesis.exercise,
        "pages": pages,
    })
}

/// The FeatureCollection, with the instant, the exercise flag and the cited checkpoint as
/// foreign members (RFC 7946 §6.1) so a downloaded copy still says what it is.
pub fn document(p: &Public) -> Vec<u8> {
    let mut features = Vec::new();
    for c in &p.corridors {
        let terms = &c.current().terms.terms;
        let line: Vec<Value> = terms
            .route
            .iter()
            .map(|q| json!([deg(q[0]), deg(q[1])]))
            .collect();
        features.push(json!({
            "type": "Feature",
            "id": format!("{}/route", c.corridor.id),
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": properties(p, c, "route"),
        }));
        let ring: Vec<Value> = buffer_polygon(&terms.route, terms.buffer_m)
            .iter()
            .map(|q| json!([round7(q[0]), round7(q[1])]))
            .collect();
        if ring.len() >= 4 {
            features.push(json!({
                "type": "Feature",
                "id": format!("{}/buffer", c.corridor.id),
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": properties(p, c, "buffer"),
            }));
        }
        // The agreed checkpoints, numbered as on the page and the map: where people will be
        // stopped is as much a part of the route as the line.
        for (i, cp) in terms.checkpoints.iter().enumerate() {
            let mut props = properties(p, c, "checkpoint");
            props["number"] = json!(i + 1);
            props["checkpoint_names"] = json!(cp.names);
            features.push(json!({
                "type": "Feature",
                "id": format!("{}/checkpoint-{}", c.corridor.id, i + 1),
                "geometry": {"type": "Point", "coordinates": [deg(cp.location.lon_e7), deg(cp.location.lat_e7)]},
                "properties": props,
            }));
        }
    }
    let doc = json!({
        "type": "FeatureCollection",
        "as_of": format_log_time(p.input.at),
        "exercise": p.input.genesis.exercise,
        "checkpoint": {"size": p.input.checkpoint.size, "root": p.input.checkpoint.root},
        "witnessed": p.input.checkpoint.witnessed.as_ref().map(|w| json!({
            "size": w.size, "root": w.root, "cosigned_by": w.by, "quorum": w.quorum,
            "quorum_met": w.by.len() >= w.quorum as usize,
        })),
        "features": features,
    });
    let mut out = serde_json::to_vec(&doc).expect("JSON values serialise");
    out.push(b'\n');
    out
}

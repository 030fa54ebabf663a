//! The negotiation register as JSON: rounds with their start in UTC and in every party's zone,
//! points with each party's position on the current version, a point's history with a
//! word-level diff between versions (so "what changed in round 2" reads at a glance), and
//! documents with who signed which version.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use similar::{Algorithm, ChangeTag};

use crate::genesis::GenesisDocument;
use crate::localtime::show;
use crate::negotiation::{Document, Point, Round};

/// A round, with its start in each party's zone beside the zone it was announced in.
pub fn round(r: &Round, genesis: &GenesisDocument) -> Value {
    let mut local = serde_json::Map::new();
    if let Ok(t) = crate::time::parse_utc("starts", &r.starts) {
        for p in &genesis.parties {
            if let Ok(s) = show(t, &p.zone) {
                local.insert(p.zone.clone(), json!(s));
            }
        }
    }
    json!({
        "id": r.id, "number": r.number,
        "starts": {"utc": r.starts, "as_announced": r.starts_local, "local": local},
        "venue": r.venue, "format": r.format, "delegations": r.delegations,
        "outcome": r.outcome, "communique": r.communique,
        "recorded": r.recorded, "concluded": r.concluded,
    })
}

/// A point as listed: its current version and status, each party's position on that version
/// (and which parties have none yet), and what implements it.
pub fn point(p: &Point, genesis: &GenesisDocument) -> Value {
    let v = p.latest();
    let current = p.current_positions();
    let positions: BTreeMap<&str, Value> = current
        .iter()
        .map(|(party, pos)| {
            (
                *party,
                json!({"stance": pos.stance, "text": pos.text, "round": pos.round, "by": pos.by}),
            )
        })
        .collect();
    let awaiting: Vec<&str> = genesis
        .parties
        .iter()
        .map(|x| x.id.as_str())
        .filter(|x| !current.contains_key(x))
        .collect();
    json!({
        "id": p.id, "basket": p.basket, "status": p.status,
        "version": v.version, "hash": v.hash, "text": v.text, "round": v.round,
        "versions": p.versions.len(),
        "positions": positions, "awaiting_position": awaiting,
        "corridors": p.corridors, "windows": p.windows,
    })
}

/// How a corridor or window names the agreed point it implements: "agreed in round 2, point
/// h-1" (the round of the latest change to agreed text).
pub fn agreed_in(p: &Point) -> Value {
    let round = p
        .statuses
        .iter()
        .rev()
        .find(|s| s.status == crate::negotiation::PointStatus::AgreedText)
        .map(|s| s.round.clone());
    json!({"point": p.id, "basket": p.basket, "status": p.status,
           "version": p.latest().version, "agreed_in_round": round})
}

/// A point's whole history: every version with the change from the one before, language by
/// language, word by word; every position on every version; every status change.
pub fn point_history(p: &Point) -> Value {
    let versions: Vec<Value> = p
        .versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let before = i.checked_sub(1).map(|j| &p.versions[j]);
            let changes: BTreeMap<&str, Value> = v
                .text
                .iter()
                .map(|(lang, text)| {
                    let old = before
                        .and_then(|b| b.text.get(lang))
                        .map_or("", String::as_str);
                    (lang.as_str(), json!(word_diff(old, text)))
                })
                .collect();
            json!({"version": v.version, "hash": v.hash, "round": v.round, "by": v.by,
                   "text": v.text, "changes": changes})
        })
        .collect();
    json!({
        "id": p.id, "basket": p.basket, "status": p.status,
        "versions": versions, "positions": p.positions, "statuses": p.statuses,
        "corridors": p.corridors, "windows": p.windows,
    })
}

/// The word-level difference from `old` to `new`: runs of `{"same"|"removed"|"added": text}`
/// that, read in order, spell the old text (same and removed) and the new (same and added).
pub fn word_diff(old: &str, new: &str) -> Vec<Value> {
    similar::utils::diff_words(Algorithm::Myers, old, new)
        .into_iter()
        .map(|(tag, text)| {
            let op = match tag {
                ChangeTag::Equal => "same",
                ChangeTag::Delete => "removed",
                ChangeTag::Insert => "added",
            };
            json!({ op: text })
        })
        .collect()
}

/// A document with its versions, who signed the current one, the signatures a revision
/// voided, and whether it is published.
pub fn document(d: &Document, genesis: &GenesisDocument) -> Value {
    let v = d.latest();
    let awaiting: Vec<&str> = genesis
        .parties
        .iter()
        .map(|x| x.id.as_str())
        .filter(|x| !d.signatures.contains_key(*x))
        .collect();
    json!({
        "id": d.id, "version": v.version, "hash": v.hash, "title": v.title,
        "binding_language": v.binding_language, "text": v.text, "points": v.points,
        "drafted": v.by,
        "signatures": d.signatures, "awaiting_signature": awaiting,
        "signed_by_all": d.signed_by_all, "voided_signatures": d.voided,
        "publication": d.publication, "published": d.published,
        "versions": d.versions.iter().map(|x| json!({"version": x.version, "hash": x.hash, "by": x.by})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_diff_spells_both_texts() {
        let old = "Humanitarian corridors from Mariupol";
        let new = "Humanitarian corridors with guarantees from Mariupol and Volnovakha";
        let d = word_diff(old, new);
        let spell = |keep: &[&str]| -> String {
            d.iter()
                .flat_map(|v| v.as_object().unwrap().iter())
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .map(|(_, t)| t.as_str().unwrap())
                .collect()
        };
        assert_eq!(spell(&["same", "removed"]), old);
        assert_eq!(spell(&["same", "added"]), new);
        assert!(d.iter().any(|v| {
            v.get("added")
                .is_some_and(|t| t.as_str().unwrap().contains("guarantees"))
        }));
        assert!(!d.iter().any(|v| v.get("removed").is_some()), "{d:?}");
        // A first version is all added.
        assert_eq!(
            word_diff("", "Прекращение огня"),
            vec![json!({"added": "Прекращение огня"})]
        );
    }
}

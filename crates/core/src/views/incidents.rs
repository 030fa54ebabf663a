//! Read models for incident reports: the filters of `GET /v1/incidents`, counts per party, the
//! GeoJSON export and the flags a corridor or window carries. Pure functions of the records (as
//! the projection holds them) and of who reported them.
//!
//! Why everything here says "claim": a report is attributed to its reporter and never turned
//! into a verdict by counting. A party that reported forty incidents has made forty claims; the
//! counts say exactly that, and the intermediary's verification status stands beside each.
//!
//! The caller passes only the reports the reader may read (the audience check is the shell's,
//! with the read audit), so nothing here can count what a reader may not see.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use crate::Rejection;
use crate::command::{IncidentCategory, VerificationStatus};
use crate::hxl::degrees_e7;
use crate::incident::Incident;
use crate::time::parse_utc;

/// What a reader asks of the incident list. Every field narrows; an empty filter admits all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Reports matched to this corridor (possibly inside it).
    pub corridor: Option<String>,
    /// Reports matched to this window.
    pub window: Option<String>,
    /// Reports made by this party's people or accusing this party.
    pub party: Option<String>,
    /// Reports of this category.
    pub category: Option<IncidentCategory>,
    /// Reports whose current verification status is this.
    pub status: Option<VerificationStatus>,
    /// Reports whose point lies in `[west, south, east, north]`, 1e-7 degree, edges included.
    pub bbox: Option<[i64; 4]>,
    /// Reports whose time (instant or range) reaches this instant or later.
    pub from: Option<Timestamp>,
    /// Reports whose time begins at this instant or earlier.
    pub to: Option<Timestamp>,
}

/// The query's text, as a URL carries it: parsed by [`IncidentFilter::parse`], so the server
/// and the CLI read filters the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct IncidentQuery {
    /// `corridor=`
    pub corridor: Option<String>,
    /// `window=`
    pub window: Option<String>,
    /// `party=`
    pub party: Option<String>,
    /// `category=` (shelling, gunfire, air-strike, mines, blockade, convoy-stopped, detention,
    /// other)
    pub category: Option<String>,
    /// `status=` (unverified, corroborated, verified, disputed, unfounded)
    pub status: Option<String>,
    /// `bbox=west,south,east,north` in decimal degrees (GeoJSON's order).
    pub bbox: Option<String>,
    /// `from=` RFC 3339 UTC instant.
    pub from: Option<String>,
    /// `to=` RFC 3339 UTC instant.
    pub to: Option<String>,
}

fn enum_value<T: serde::de::DeserializeOwned>(
    field: &str,
    text: &str,
    allowed: &str,
) -> Result<T, Rejection> {
    serde_json::from_value(Value::String(text.to_string()))
        .map_err(|_| Rejection::invalid(field, format!("{text:?} is not one of: {allowed}")))
}

impl IncidentFilter {
    /// Read a filter from its query text; each malformed field is named in the rejection.
    pub fn parse(q: &IncidentQuery) -> Result<IncidentFilter, Rejection> {
        let category = q
            .category
            .as_deref()
            .map(|c| {
                enum_value(
                    "category",
                    c,
                    "shelling, gunfire, air-strike, mines, blockade, convoy-stopped, detention, other",
                )
            })
            .transpose()?;
        let status = q
            .status
            .as_deref()
            .map(|s| {
                enum_value(
                    "status",
                    s,
                    "unverified, corroborated, verified, disputed, unfounded",
                )
            })
            .transpose()?;
        let bbox = q.bbox.as_deref().map(parse_bbox).transpose()?;
        let from = q
            .from
            .as_deref()
            .map(|t| parse_utc("from", t))
            .transpose()?;
        let to = q.to.as_deref().map(|t| parse_utc("to", t)).transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            return Err(Rejection::invalid(
                "to",
                "the range ends before it begins: give to= at or after from=",
            ));
        }
        Ok(IncidentFilter {
            corridor: q.corridor.clone(),
            window: q.window.clone(),
            party: q.party.clone(),
            category,
            status,
            bbox,
            from,
            to,
        })
    }

    /// Whether the filter admits `incident`, reported by someone of `reporter_side` (a party,
    /// an organisation or the intermediary).
    pub fn admits(&self, incident: &Incident, reporter_side: &str) -> bool {
        let c = &incident.claim;
        if self
            .corridor
            .as_deref()
            .is_some_and(|id| !incident.matches.iter().any(|m| m.corridor == id))
        {
            return false;
        }
        if self.window.as_deref().is_some_and(|id| {
            !incident
                .matches
                .iter()
                .any(|m| m.window.as_deref() == Some(id))
        }) {
            return false;
        }
        if self
            .party
            .as_deref()
            .is_some_and(|p| reporter_side != p && incident.accused_party.as_deref() != Some(p))
        {
            return false;
        }
        if self.category.is_some_and(|k| k != c.category) {
            return false;
        }
        if self.status.is_some_and(|s| s != incident.status) {
            return false;
        }
        if let Some([w, s, e, n]) = self.bbox {
            let [lon, lat] = c.lon_lat();
            let lon_in = if w <= e {
                (w..=e).contains(&lon)
            } else {
                // A box across the antimeridian: GeoJSON's west > east.
                lon >= w || lon <= e
            };
            if !lon_in || !(s..=n).contains(&lat) {
                return false;
            }
        }
        if self.from.is_some_and(|f| c.until() < f) {
            return false;
        }
        if self.to.is_some_and(|t| c.from() > t) {
            return false;
        }
        true
    }
}

/// `west,south,east,north` in decimal degrees, read exactly into 1e-7 degree.
fn parse_bbox(text: &str) -> Result<[i64; 4], Rejection> {
    let bad = |why: &str| {
        Rejection::invalid(
            "bbox",
            format!(
                "{text:?}: {why}; give west,south,east,north in decimal degrees, e.g. 29.9,50.4,30.6,50.7"
            ),
        )
    };
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() != 4 {
        return Err(bad("four numbers are needed"));
    }
    let mut v = [0i64; 4];
    for (i, p) in parts.iter().enumerate() {
        v[i] = degrees_e7(p).ok_or_else(|| bad("each must be a decimal number of degrees"))?;
    }
    let [w, s, e, n] = v;
    let lon_ok = |x: i64| (-1_800_000_000..=1_800_000_000).contains(&x);
    let lat_ok = |x: i64| (-900_000_000..=900_000_000).contains(&x);
    if !lon_ok(w) || !lon_ok(e) || !lat_ok(s) || !lat_ok(n) {
        return Err(bad("longitudes lie within ±180 and latitudes within ±90"));
    }
    if s > n {
        return Err(bad("south is north of north"));
    }
    Ok(v)
}

/// Reports made and received by one side: claims, not findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClaimCounts {
    /// Reports its people made.
    pub claims_made: u64,
    /// Reports that accuse it.
    pub claims_received: u64,
}

/// Counts per side (party, organisation or the intermediary) over the reports given, each
/// with the side its reporter belongs to.
pub fn counts<'a>(
    reports: impl IntoIterator<Item = (&'a Incident, &'a str)>,
) -> BTreeMap<String, ClaimCounts> {
    let mut out: BTreeMap<String, ClaimCounts> = BTreeMap::new();
    for (incident, side) in reports {
        out.entry(side.to_string()).or_default().claims_made += 1;
        if let Some(p) = &incident.accused_party {
            out.entry(p.clone()).or_default().claims_received += 1;
        }
    }
    out
}

/// The flags a corridor or a window carries: how many readable reports were matched to it, how
/// many were possibly or certainly inside, and how many fell in an agreed window while it was
/// open. Labelled as claims wherever shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Flags {
    /// Reports matched (possibly inside).
    pub claims: u64,
    /// Reports certainly inside the corridor given their accuracy.
    pub certainly_inside: u64,
    /// Reports at a time an agreed window was open.
    pub while_open: u64,
}

/// [`Flags`] for a corridor (`window` None) or one of its windows.
pub fn flags<'a>(
    reports: impl IntoIterator<Item = &'a Incident>,
    corridor: &str,
    window: Option<&str>,
) -> Flags {
    let mut f = Flags::default();
    for incident in reports {
        let mine: Vec<_> = incident
            .matches
            .iter()
            .filter(|m| {
                m.corridor == corridor && (window.is_none() || m.window.as_deref() == window)
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        f.claims += 1;
        if mine.iter().any(|m| m.certainly_inside) {
            f.certainly_inside += 1;
        }
        if mine.iter().any(|m| m.agreed_and_open) {
            f.while_open += 1;
        }
    }
    f
}

/// A GeoJSON FeatureCollection of the reports given: one Point feature each (RFC 7946: `[lon,
/// lat]`, as the corridors' export writes them), with what a map legend needs.
pub fn geojson<'a>(reports: impl IntoIterator<Item = (&'a Incident, &'a str)>) -> Value {
    let features: Vec<Value> = reports
        .into_iter()
        .map(|(i, side)| {
            let c = &i.claim;
            json!({
                "type": "Feature",
                "id": i.id,
                "geometry": {"type": "Point", "coordinates": super::lonlat(c.lon_lat())},
                "properties": {
                    "kind": "claim",
                    "reporter": i.reporter,
                    "reporter_side": side,
                    "accused_party": i.accused_party,
                    "category": c.category,
                    "occurred_at": c.occurred_at,
                    "occurred_until": c.occurred_until,
                    "accuracy_m": c.accuracy_m,
                    "version": i.version,
                    "status": i.status,
                    "answered": !i.responses.is_empty(),
                    "duplicate_of": i.duplicate_of.as_ref().map(|d| &d.of),
                    "corridors": i.matches.iter().map(|m| &m.corridor).collect::<std::collections::BTreeSet<_>>(),
                    "possibly_inside": i.matches.iter().any(|m| m.possibly_inside),
                    "certainly_inside": i.matches.iter().any(|m| m.certainly_inside),
                    "while_open": i.matches.iter().any(|m| m.agreed_and_open),
                },
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bbox_is_read_exactly_and_checked() {
        assert_eq!(
            parse_bbox("29.9,50.4,30.6,50.7").unwrap(),
            [299_000_000, 504_000_000, 306_000_000, 507_000_000]
        );
        for bad in [
            "29.9,50.4,30.6",
            "a,b,c,d",
            "29.9,50.7,30.6,50.4",
            "181,0,182,1",
            "0,-91,1,0",
        ] {
            let e = parse_bbox(bad).unwrap_err();
            assert_eq!(e.code(), "invalid-field", "{bad}");
            assert!(e.to_string().contains("bbox"), "{e}");
        }
    }

    #[test]
    fn a_reversed_range_and_unknown_names_are_refused() {
        let q = |f: fn(&mut IncidentQuery)| {
            let mut q = IncidentQuery::default();
            f(&mut q);
            IncidentFilter::parse(&q)
        };
        assert!(q(|_| {}).unwrap() == IncidentFilter::default());
        let e = q(|q| {
            q.from = Some("2022-03-05T10:00:00Z".into());
            q.to = Some("2022-03-05T09:00:00Z".into());
        })
        .unwrap_err();
        assert!(e.to_string().contains("to"), "{e}");
        assert!(q(|q| q.category = Some("rumour".into())).is_err());
        assert!(q(|q| q.status = Some("true".into())).is_err());
        assert!(q(|q| q.from = Some("yesterday".into())).is_err());
        let f = q(|q| {
            q.category = Some("convoy-stopped".into());
            q.status = Some("disputed".into());
        })
        .unwrap();
        assert_eq!(f.category, Some(IncidentCategory::ConvoyStopped));
        assert_eq!(f.status, Some(VerificationStatus::Disputed));
    }
}

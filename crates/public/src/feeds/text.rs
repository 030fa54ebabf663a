//! Small formatting shared by the feeds: instants, zones, URL segments.

use std::fmt::Write;

use corridor_core::agreement::CorridorTerms;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::model::{Lang, Public, code, name};

/// An instant as CAP 1.2 writes it: seconds and `-00:00` for UTC (CAP 1.2 §3.3.2: "the
/// timezone for UTC MUST be represented as -00:00"; the schema's pattern refuses `Z` and
/// fractions of a second).
pub(crate) fn cap_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S-00:00").to_string()
}

/// An instant as Atom writes it (RFC 3339, UTC, whole seconds).
pub(crate) fn atom_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A URL path segment: every byte outside RFC 3986's unreserved set percent-encoded, so ids with
/// unusual characters still make one segment, and distinct ids distinct segments.
pub(crate) fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Text CAP allows in `sender`, `identifier` and `references` items: no whitespace, commas, `<`
/// or `&` (those separate or break the lists). Such characters, and `%` itself, are
/// percent-encoded, so distinct inputs stay distinct.
pub(crate) fn cap_token(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() || matches!(c, ',' | '<' | '&' | '%' | '>') {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The absolute address of a corridor's page in a language.
pub(crate) fn page_url(p: &Public, lang: Lang, corridor: &str) -> String {
    format!(
        "{}/{}/corridors/{}",
        p.input.base_url,
        code(lang),
        pct(corridor)
    )
}

/// The zones a window is stated in: the origin's first (what people on the spot read), then
/// each party's, as on the pages. UTC is added by [`window_times`].
pub(crate) fn zones(p: &Public, terms: &CorridorTerms) -> Vec<String> {
    let mut z = Vec::new();
    if let Some(o) = p.input.agreements.settlements.get(&terms.origin) {
        z.push(o.zone.clone());
    }
    for party in &p.input.genesis.parties {
        if !z.contains(&party.zone) {
            z.push(party.zone.clone());
        }
    }
    z.retain(|z| z != "UTC" && corridor_core::localtime::zone(z).is_ok());
    z
}

/// "UTC+2", "UTC+5:30".
fn offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    if m == 0 {
        format!("UTC{sign}{h}")
    } else {
        format!("UTC{sign}{h}:{m:02}")
    }
}

fn in_zone(t: Timestamp, zone: &str) -> jiff::Zoned {
    let tz = corridor_core::localtime::zone(zone).unwrap_or(TimeZone::UTC);
    t.to_zoned(tz)
}

/// "2022-03-04 09:00–17:00 Europe/Kyiv (UTC+2); 2022-03-04 10:00–18:00 Europe/Moscow (UTC+3);
/// 2022-03-04 07:00–15:00 UTC". Numeric dates and IANA zone names read the same in every
/// language and cannot be misread as another zone's time.
pub(crate) fn window_times(
    p: &Public,
    terms: &CorridorTerms,
    start: Timestamp,
    end: Timestamp,
) -> String {
    let range = |zone: &str| {
        let (s, e) = (in_zone(start, zone), in_zone(end, zone));
        let end = if s.date() == e.date() {
            e.strftime("%H:%M").to_string()
        } else {
            e.strftime("%Y-%m-%d %H:%M").to_string()
        };
        let (so, eo) = (s.offset().seconds(), e.offset().seconds());
        let off = if so == eo {
            offset(so)
        } else {
            format!("{}/{}", offset(so), offset(eo))
        };
        if zone == "UTC" {
            format!("{}–{end} UTC", s.strftime("%Y-%m-%d %H:%M"))
        } else {
            format!("{}–{end} {zone} ({off})", s.strftime("%Y-%m-%d %H:%M"))
        }
    };
    let mut parts: Vec<String> = zones(p, terms).iter().map(|z| range(z)).collect();
    parts.push(range("UTC"));
    parts.join("; ")
}

/// A party's name in a language; its id if the genesis does not know it.
pub(crate) fn party_name(p: &Public, id: &str, lang: Lang) -> String {
    p.input
        .genesis
        .parties
        .iter()
        .find(|x| x.id == id)
        .map(|x| name(&x.names, lang).to_string())
        .unwrap_or_else(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_tokens_and_segments_are_injective_and_clean() {
        assert_eq!(cap_token("a b,c<d&e%f/g"), "a%20b%2Cc%3Cd%26e%25f/g");
        assert_eq!(pct("w 1/ї"), "w%201%2F%D1%97");
        let t: Timestamp = "2022-03-04T07:00:00.123456Z".parse().unwrap();
        assert_eq!(cap_time(t), "2022-03-04T07:00:00-00:00");
        assert_eq!(atom_time(t), "2022-03-04T07:00:00Z");
        assert_eq!(offset(19800), "UTC+5:30");
    }
}

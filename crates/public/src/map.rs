//! The corridor's map, drawn on the server as inline SVG: no tile server, so it works offline,
//! on a printed sheet and in a cached copy of the page, and costs a few hundred bytes compressed.
//!
//! Equirectangular projection with the longitude scaled by the cosine of the middle latitude:
//! over the few tens of kilometres of a corridor that is accurate to well under a percent, so
//! the buffer band drawn at the map's scale is as wide as the agreed buffer in metres.

use std::fmt::Write;

use crate::i18n::{Arg, t_args};
use crate::model::{Lang, Public, PublicCorridor, name};
use crate::pages::esc;

/// Width of the drawing in SVG units; the page scales it to the screen.
const W: f64 = 400.0;
/// Metres per degree of latitude (mean Earth radius 6 371 008.8 m).
const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// The map's background.
pub(crate) const BACKGROUND: &str = "#f5f5f0";
/// The buffer band's fill.
pub(crate) const BAND: &str = "#ffd54a";
/// The buffer band's edge.
pub(crate) const EDGE: &str = "#6b4f00";
/// The route (and its direction arrow).
pub(crate) const ROUTE: &str = "#b00000";

/// An arrowhead at half the route's drawn length, pointing along it (`None` for a route with
/// no length on the map).
fn arrow(pts: &[(f64, f64)]) -> Option<String> {
    let seg = |i: usize| (pts[i].0 - pts[i - 1].0).hypot(pts[i].1 - pts[i - 1].1);
    let total: f64 = (1..pts.len()).map(seg).sum();
    if total < 1.0 {
        return None;
    }
    let mut left = total / 2.0;
    for i in 1..pts.len() {
        let l = seg(i);
        if l > 0.0 && left <= l {
            let (ux, uy) = ((pts[i].0 - pts[i - 1].0) / l, (pts[i].1 - pts[i - 1].1) / l);
            let (x, y) = (pts[i - 1].0 + ux * left, pts[i - 1].1 + uy * left);
            // Tip 9 units ahead, base 7 behind, 7 either side.
            let tip = (x + ux * 9.0, y + uy * 9.0);
            let a = (x - ux * 7.0 - uy * 7.0, y - uy * 7.0 + ux * 7.0);
            let b = (x - ux * 7.0 + uy * 7.0, y - uy * 7.0 - ux * 7.0);
            return Some(format!(
                "<polygon class=\"direction\" points=\"{},{} {},{} {},{}\" fill=\"{ROUTE}\" \
stroke=\"#fff\" stroke-width=\"1.5\"/>",
                n(tip.0),
                n(tip.1),
                n(a.0),
                n(a.1),
                n(b.0),
                n(b.1)
            ));
        }
        left -= l;
    }
    None
}

/// One decimal is a tenth of a pixel: enough, and it keeps the SVG small.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == 0.0 {
        "0".into()
    } else if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The projection of one map: degrees to SVG units.
struct Proj {
    lon0: f64,
    lat1: f64,
    k: f64,
    /// SVG units per metre.
    s: f64,
    h: f64,
}

impl Proj {
    fn xy(&self, p: [i64; 2]) -> (f64, f64) {
        let (lon, lat) = (p[0] as f64 / 1e7, p[1] as f64 / 1e7);
        (
            (lon - self.lon0) * self.k * M_PER_DEG * self.s,
            (self.lat1 - lat) * M_PER_DEG * self.s,
        )
    }

    fn inside(&self, p: [i64; 2]) -> bool {
        let (x, y) = self.xy(p);
        (0.0..=W).contains(&x) && (0.0..=self.h).contains(&y)
    }
}

/// The corridor's map: route, buffer band, checkpoints (numbered as in the page's list), origin,
/// destination and the other recorded settlements in view, with names in `lang`, and a scale
/// bar.
pub fn svg(p: &Public, c: &PublicCorridor, lang: Lang) -> String {
    let terms = &c.terms().terms;
    let mut pts: Vec<[i64; 2]> = terms.route.clone();
    pts.extend(
        terms
            .checkpoints
            .iter()
            .map(|cp| [cp.location.lon_e7, cp.location.lat_e7]),
    );
    for s in [c.origin, c.destination].into_iter().flatten() {
        pts.push([s.location.lon_e7, s.location.lat_e7]);
    }
    if pts.is_empty() {
        return String::new();
    }
    let deg = |v: i64| v as f64 / 1e7;
    let (mut lon0, mut lon1, mut lat0, mut lat1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for q in &pts {
        lon0 = lon0.min(deg(q[0]));
        lon1 = lon1.max(deg(q[0]));
        lat0 = lat0.min(deg(q[1]));
        lat1 = lat1.max(deg(q[1]));
    }
    let k = ((lat0 + lat1) / 2.0).to_radians().cos().max(0.01);
    // Extent in metres, padded so the buffer and the labels fit, and kept between a wide strip
    // and a square-ish box so a north-south route still reads on a phone.
    let (mut wm, mut hm) = ((lon1 - lon0) * k * M_PER_DEG, (lat1 - lat0) * M_PER_DEG);
    let pad = (terms.buffer_m as f64 * 1.5)
        .max(0.12 * wm.max(hm))
        .max(500.0);
    wm += 2.0 * pad;
    hm += 2.0 * pad;
    let (cx, cy) = ((lon0 + lon1) / 2.0, (lat0 + lat1) / 2.0);
    if hm < 0.55 * wm {
        hm = 0.55 * wm;
    }
    if hm > 1.1 * wm {
        wm = hm / 1.1;
    }
    let s = W / wm;
    let h = hm * s;
    let proj = Proj {
        lon0: cx - wm / 2.0 / (k * M_PER_DEG),
        lat1: cy + hm / 2.0 / M_PER_DEG,
        k,
        s,
        h,
    };

    let place = |id: &str| {
        c.origin
            .filter(|o| o.id == id)
            .or(c.destination.filter(|d| d.id == id))
            .map(|s| name(&s.names, lang).to_string())
            .unwrap_or_else(|| id.to_string())
    };
    let label = t_args(
        lang,
        "map-label",
        &[
            ("origin", Arg::Str(&place(&terms.origin))),
            ("destination", Arg::Str(&place(&terms.destination))),
            ("buffer", Arg::Str(&terms.buffer_m.to_string())),
        ],
    );
    let mut o = String::with_capacity(4096);
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
aria-label=\"{label}\" class=\"map\" font-size=\"13\" font-family=\"sans-serif\">\
<rect width=\"{w}\" height=\"{h}\" fill=\"{BACKGROUND}\" stroke=\"#000\"/>",
        w = n(W),
        h = n(h),
        label = esc(&label),
    );
    let mut drawn: Vec<(f64, f64)> = Vec::new();
    let mut line = String::new();
    let mut last = None;
    for q in &terms.route {
        let (x, y) = proj.xy(*q);
        drawn.push((x, y));
        let xy = format!("{},{}", n(x), n(y));
        if last.as_ref() != Some(&xy) {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&xy);
            last = Some(xy);
        }
    }
    // The buffer: a stroke with round caps and joins, as wide as the buffer on both sides, is
    // exactly the set of points within buffer_m of the route. A pale band alone is hard to see
    // (1.24:1 against the background when it was translucent), so it has a dark edge, drawn as
    // a slightly wider stroke underneath: the edge stands out from the background and the route
    // from the band by well over the 3:1 asked of graphics (WCAG 2.2, 1.4.11).
    let bw = 2.0 * terms.buffer_m as f64 * s;
    let _ = write!(
        o,
        "<polyline class=\"buffer-edge\" points=\"{line}\" fill=\"none\" stroke=\"{EDGE}\" \
stroke-width=\"{ew}\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>\
<polyline class=\"buffer\" points=\"{line}\" fill=\"none\" stroke=\"{BAND}\" \
stroke-width=\"{bw}\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>\
<polyline class=\"route\" points=\"{line}\" fill=\"none\" stroke=\"{ROUTE}\" stroke-width=\"3\" \
stroke-linecap=\"round\" stroke-linejoin=\"round\"/>",
        ew = n(bw + 4.0),
        bw = n(bw),
    );
    // The direction of travel: an arrowhead halfway along the route, pointing from the origin
    // to the destination, so nobody walks the route the wrong way from a printed map.
    if let Some(arrow) = arrow(&drawn) {
        o.push_str(&arrow);
    }
    let text =
        |o: &mut String, drawn: &mut Vec<(f64, f64)>, (x, y): (f64, f64), txt: &str, bold: bool| {
            let (dx, anchor) = if x > W * 0.65 {
                (-8.0, " text-anchor=\"end\"")
            } else {
                (8.0, "")
            };
            // Roughly where the label ends, so the scale bar keeps clear of it.
            drawn.push((x + dx + dx * 0.9 * txt.chars().count() as f64, y));
            let _ = write!(
                o,
                "<text x=\"{}\" y=\"{}\"{anchor}{}>{}</text>",
                n(x + dx),
                n(y + 4.0),
                if bold { " font-weight=\"700\"" } else { "" },
                esc(txt)
            );
        };
    // Labels get a white halo so they read over the route.
    o.push_str("<g paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\">");
    let ends: Vec<&str> = [&terms.origin, &terms.destination]
        .into_iter()
        .map(|s| s.as_str())
        .collect();
    for st in p.input.agreements.settlements.values() {
        let q = [st.location.lon_e7, st.location.lat_e7];
        if ends.contains(&st.id.as_str()) || !proj.inside(q) {
            continue;
        }
        let xy = proj.xy(q);
        drawn.push(xy);
        let _ = write!(
            o,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"#555\" stroke=\"none\"/>",
            n(xy.0),
            n(xy.1)
        );
        text(&mut o, &mut drawn, xy, name(&st.names, lang), false);
    }
    for (i, cp) in terms.checkpoints.iter().enumerate() {
        let xy = proj.xy([cp.location.lon_e7, cp.location.lat_e7]);
        let _ = write!(
            o,
            "<rect class=\"checkpoint\" x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"#000\" \
stroke=\"#fff\" stroke-width=\"1.5\"><title>{}</title></rect>",
            n(xy.0 - 5.0),
            n(xy.1 - 5.0),
            esc(name(&cp.names, lang))
        );
        text(&mut o, &mut drawn, xy, &(i + 1).to_string(), true);
    }
    for st in [c.origin, c.destination].into_iter().flatten() {
        let xy = proj.xy([st.location.lon_e7, st.location.lat_e7]);
        drawn.push(xy);
        let _ = write!(
            o,
            "<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"#fff\" stroke=\"#000\" stroke-width=\"3\"/>",
            n(xy.0),
            n(xy.1)
        );
        text(&mut o, &mut drawn, xy, name(&st.names, lang), true);
    }
    o.push_str("</g>");
    // Scale bar: the largest 1, 2 or 5 × 10^k metres within a quarter of the width.
    let target = wm / 4.0;
    let mag = 10f64.powf(target.log10().floor());
    let len = [5.0, 2.0, 1.0]
        .into_iter()
        .map(|f| f * mag)
        .find(|l| *l <= target)
        .unwrap_or(mag);
    let bar = len * s;
    // In the corner farthest from anything drawn, so it never covers a place or the route.
    let corners = [
        (10.0, h - 12.0),
        (W - 10.0 - bar, h - 12.0),
        (10.0, 28.0),
        (W - 10.0 - bar, 28.0),
    ];
    let clearance = |(x, y): (f64, f64)| {
        drawn
            .iter()
            .map(|&(px, py)| {
                let dx = (x - px).max(px - (x + bar)).max(0.0);
                let dy = (y - 20.0 - py).max(py - y).max(0.0);
                dx.hypot(dy)
            })
            .fold(f64::MAX, f64::min)
    };
    let (x0, y0) = corners
        .into_iter()
        .max_by(|a, b| clearance(*a).total_cmp(&clearance(*b)))
        .unwrap_or(corners[0]);
    let words = if len >= 1000.0 {
        t_args(
            lang,
            "map-km",
            &[("n", Arg::Str(&((len / 1000.0).round() as i64).to_string()))],
        )
    } else {
        t_args(
            lang,
            "map-m",
            &[("n", Arg::Str(&(len.round() as i64).to_string()))],
        )
    };
    let _ = write!(
        o,
        "<path class=\"scale\" d=\"M{x} {ya}V{y}H{x2}V{ya}\" fill=\"none\" stroke=\"#000\" \
stroke-width=\"2\"/><text x=\"{x}\" y=\"{yt}\">{words}</text></svg>",
        x = n(x0),
        x2 = n(x0 + bar),
        y = n(y0),
        ya = n(y0 - 6.0),
        yt = n(y0 - 9.0),
        words = esc(&words),
    );
    o
}

/// The map's scale: SVG units per metre, for tests that check the buffer width.
#[cfg(test)]
fn units_per_metre(svg: &str, buffer_m: i64) -> f64 {
    let w: f64 = svg
        .split("stroke-width=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    w / (2.0 * buffer_m as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use crate::{Input, model::Public};

    fn map(lang: Lang) -> String {
        let (a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        let input = Input {
            genesis: &g,
            agreements: &a,
            at: fixture::at("2022-03-04T08:00:00Z"),
            checkpoint: &c,
            base_url: "",
            documents: &[],
        };
        let p = Public::new(&input);
        svg(&p, &p.corridors[0], lang)
    }

    #[test]
    fn the_map_draws_route_buffer_checkpoints_places_and_scale() {
        let m = map(Lang::Uk);
        assert!(m.starts_with("<svg") && m.ends_with("</svg>"));
        assert!(m.contains("role=\"img\"") && m.contains("aria-label=\""));
        assert!(m.contains("<polyline class=\"route\" points=\""));
        assert_eq!(
            m.matches("<polyline class=\"route\" points=\"").count(),
            1,
            "one route"
        );
        assert!(m.contains("class=\"buffer\""));
        assert!(m.contains("class=\"checkpoint\""));
        assert!(m.contains(">Бородянка</text>") && m.contains(">Берестянка</text>"));
        assert!(m.contains("class=\"scale\"") && m.contains(" км</text>"));
        assert!(map(Lang::En).contains(">Borodianka</text>"));
        // Far-away settlements stay off this map.
        assert!(!m.contains("Маріуполь"));
        // No coordinate has more than one decimal.
        assert!(
            !m.split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .any(|t| t.split_once('.').is_some_and(|(_, f)| f.len() > 1)),
            "{m}"
        );
        assert!(m.len() < 4000, "{} bytes", m.len());
    }

    /// WCAG 2.2 relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let c = |i: usize| {
            let v = u8::from_str_radix(&hex[i..i + 2], 16).unwrap() as f64 / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// The stroke colour of the element with this class in the map, and its opacity.
    fn stroke_of(m: &str, class: &str) -> (String, Option<String>) {
        let el = m
            .split(&format!("class=\"{class}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no {class} in {m}"));
        let el = el.split("/>").next().unwrap();
        let attr = |name: &str| {
            el.split(&format!(" {name}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .map(str::to_string)
        };
        (attr("stroke").unwrap(), attr("stroke-opacity"))
    }

    #[test]
    fn the_band_and_the_route_stand_out_and_the_direction_is_shown() {
        let m = map(Lang::En);
        let bg = m
            .split("<rect width=")
            .nth(1)
            .and_then(|r| r.split("fill=\"").nth(1))
            .and_then(|r| r.split('"').next())
            .unwrap();
        // What meets the background at the band's border: the band's edge if it has one,
        // else the band itself; no translucency, which would blend into the background.
        let (edge, opacity) = if m.contains("class=\"buffer-edge\"") {
            stroke_of(&m, "buffer-edge")
        } else {
            stroke_of(&m, "buffer")
        };
        assert_eq!(opacity, None, "a translucent band");
        assert!(
            contrast(&edge, bg) >= 3.0,
            "band edge {edge} on {bg}: {:.2}:1",
            contrast(&edge, bg)
        );
        let (band, _) = stroke_of(&m, "buffer");
        let (route, _) = stroke_of(&m, "route");
        assert!(
            contrast(&route, &band) >= 3.0,
            "route {route} on band {band}: {:.2}:1",
            contrast(&route, &band)
        );
        // An arrowhead on the route, pointing from Borodianka (north-east) towards
        // Berestianka (south-west).
        let a = m
            .split("class=\"direction\" points=\"")
            .nth(1)
            .expect("a direction arrow");
        let pts: Vec<(f64, f64)> = a
            .split('"')
            .next()
            .unwrap()
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        let base = ((pts[1].0 + pts[2].0) / 2.0, (pts[1].1 + pts[2].1) / 2.0);
        assert!(pts[0].0 < base.0 && pts[0].1 > base.1, "{pts:?}");
    }

    #[test]
    fn the_buffer_band_is_as_wide_as_agreed_at_the_maps_scale() {
        let m = map(Lang::En);
        // The scale bar's length in units divided by its metres must match the buffer's units
        // per metre.
        let d = m.split("class=\"scale\" d=\"M").nth(1).unwrap();
        let nums: Vec<f64> = d
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|s| !s.is_empty())
            .take(4)
            .map(|s| s.parse().unwrap())
            .collect();
        let bar_units = nums[3] - nums[0];
        let label = m.rsplit("\">").next().unwrap();
        let km: f64 = label.split(' ').next().unwrap().parse().unwrap();
        let per_m_scale = bar_units / (km * 1000.0);
        let per_m_buffer = units_per_metre(m.split("class=\"buffer\"").nth(1).unwrap(), 500);
        assert!(
            (per_m_scale - per_m_buffer).abs() / per_m_scale < 0.02,
            "{per_m_scale} vs {per_m_buffer}"
        );
    }
}

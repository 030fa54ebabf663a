//! Geometry that decides whether a command is accepted, computed the same way on every
//! platform.
//!
//! Why a module of its own: a rule that accepts or refuses a command is re-run by every replay
//! and by `corridor verify`, possibly on another machine or with another build, and must reach
//! the same verdict to the bit. So everything here uses only IEEE 754 basic operations
//! (addition, subtraction, multiplication, division and square root are correctly rounded on
//! every platform, and Rust never fuses them into FMA), never the platform's `sin`, `cos` or
//! `asin`, whose last bits differ between math libraries. Views (maps, GeoJSON, the public
//! buffer polygon) may use any floats; decisions use this.

/// Mean Earth radius, metres (IUGG).
pub const EARTH_R_M: f64 = 6_371_008.8;

/// Radians per 1e-7 degree, the unit of signed coordinates.
const RAD_PER_E7: f64 = std::f64::consts::PI / 180.0 / 1e7;

/// cos(x) for |x| ≤ π/2 by its Taylor series, with IEEE basic operations only. Why not
/// `f64::cos`: the platform's libm decides its last bits (see the module doc). Exact to the bit
/// across platforms; its error against the true cosine is below 1e-15.
pub fn cos_exact(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=12 {
        let k2 = (2 * k) as f64;
        term = -term * x2 / ((k2 - 1.0) * k2);
        sum += term;
    }
    sum
}

/// Length in metres of the segment from `a` to `b` (`[lon, lat]` in 1e-7 degree), on an
/// equirectangular projection at the segment's mean latitude. For the segments of a corridor
/// route (metres to tens of kilometres) this is within a fraction of a per mille of the
/// great-circle distance (a property test checks 0.5 % up to 200 km at latitudes within 70°);
/// it is used to bound a route's length, where the bound must be deterministic rather than
/// geodesically exact. A segment across the antimeridian counts the long way round (no route
/// of this log crosses it, and a bound that errs long only refuses).
pub fn segment_m(a: [i64; 2], b: [i64; 2]) -> f64 {
    let k = cos_exact((a[1] + b[1]) as f64 / 2.0 * RAD_PER_E7);
    let dx = (b[0] - a[0]) as f64 * RAD_PER_E7 * k * EARTH_R_M;
    let dy = (b[1] - a[1]) as f64 * RAD_PER_E7 * EARTH_R_M;
    (dx * dx + dy * dy).sqrt()
}

/// A route's length in metres: its segments' [`segment_m`] summed in order (the order is part
/// of the specification: float addition is not associative).
pub fn route_length_m(route: &[[i64; 2]]) -> f64 {
    route
        .windows(2)
        .fold(0.0, |length, w| length + segment_m(w[0], w[1]))
}

/// Distance in whole metres (rounded down) from `p` to the polyline `route` (points
/// `[lon, lat]` in 1e-7 degree): [`route_distance_exact_m`] floored, and 0 for an empty route.
/// Whole metres because a rule compares it with whole-metre limits from signed commands.
pub fn route_distance_m(route: &[[i64; 2]], p: [i64; 2]) -> i64 {
    let best = route_distance_exact_m(route, p);
    if best.is_finite() { best as i64 } else { 0 }
}

/// Distance in metres from `p` to the polyline `route` (points `[lon, lat]` in 1e-7 degree),
/// measured to the segments, not to the vertices: each segment in an equirectangular
/// projection centred on `p`, so a segment is the straight line between its vertices in
/// longitude and latitude (as a map draws it). Over the tens of kilometres of a corridor the
/// projection's error is far below a position fix's; the answer is the same on every platform,
/// to the bit (see [`cos_exact`]). Not rounded, so that a derived view (the incident matcher)
/// can tell how far inside or outside an edge a point is. Infinite for an empty route; a
/// one-point route is that point.
pub fn route_distance_exact_m(route: &[[i64; 2]], p: [i64; 2]) -> f64 {
    route_distance_in_plane(route, p, plane_scale(p))
}

/// The longitude scale of the plane centred on `p` (the cosine of its latitude), as
/// [`route_distance_exact_m`] computes it: for callers that measure one point against many
/// routes and would otherwise pay the series once per route.
pub(crate) fn plane_scale(p: [i64; 2]) -> f64 {
    cos_exact(p[1] as f64 * RAD_PER_E7)
}

/// [`route_distance_exact_m`] with the plane's scale `k` given: the same bits when `k` is
/// [`plane_scale`]`(p)`.
pub(crate) fn route_distance_in_plane(route: &[[i64; 2]], p: [i64; 2], k: f64) -> f64 {
    let deg = RAD_PER_E7;
    let xy = |q: [i64; 2]| {
        (
            (q[0] - p[0]) as f64 * deg * k * EARTH_R_M,
            (q[1] - p[1]) as f64 * deg * EARTH_R_M,
        )
    };
    // The order of operations is part of the specification (rules floor this value): each
    // segment a..b, then the last vertex alone, minimum taken in route order. Projected on the
    // fly rather than into a vector, so the matcher allocates nothing per route.
    let mut best = f64::INFINITY;
    let mut next = route.first().map(|q| xy(*q));
    for i in 0..route.len() {
        let a = next.expect("a vertex at every index");
        let b = route.get(i + 1).map(|q| xy(*q)).unwrap_or(a);
        next = Some(b);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        let t = if len2 == 0.0 {
            0.0
        } else {
            (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
        };
        let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
        best = best.min((cx * cx + cy * cy).sqrt());
    }
    best
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::agreement::distance_m;

    #[test]
    fn cosine_matches_the_platform_to_rounding() {
        for i in -900..=900 {
            let x = (i as f64 / 10.0).to_radians();
            assert!((cos_exact(x) - x.cos()).abs() < 1e-14, "at {i}");
        }
    }

    #[test]
    fn distance_is_to_the_segment_not_the_vertices() {
        // A 20 km east-west segment at 50°N; a point 1 km north of its middle is 1 km away,
        // though 10 km from either vertex.
        let lat = 500_000_000;
        let route = [[300_000_000, lat], [302_800_000, lat]];
        let d_mid = route_distance_m(&route, [301_400_000, lat + 89_932]);
        assert!((995..=1005).contains(&d_mid), "{d_mid}");
        // Beyond the end, the distance is to the end point.
        let d_end = route_distance_m(&route, [303_000_000, lat]);
        assert!((1425..=1440).contains(&d_end), "{d_end}");
        // On the route.
        assert_eq!(route_distance_m(&route, [301_000_000, lat]), 0);
    }

    /// The scenario's route, Borodianka to Berestianka: the length a replay must compute, to
    /// the bit. If this changes, the rule that bounds a route's length has changed, and a log
    /// whose corridors were accepted under the old one may not replay: change it only with a
    /// new rule version, never in place.
    #[test]
    fn the_scenario_route_has_one_length_everywhere() {
        let f: serde_json::Value = serde_json::from_str(include_str!(
            "../../../scenario/borodianka-berestianka.geojson"
        ))
        .unwrap();
        let route = crate::agreement::route_from_geojson(&f).unwrap();
        let length = route_length_m(&route);
        assert_eq!(length.to_bits(), SCENARIO_ROUTE_BITS, "{length} m");
        let great_circle: f64 = route.windows(2).map(|w| distance_m(w[0], w[1])).sum();
        assert!(
            (length - great_circle).abs() < 1.0,
            "{length} against {great_circle}"
        );
    }

    /// `route_length_m` of the scenario route, as computed by the rule (8,950.04 m).
    const SCENARIO_ROUTE_BITS: u64 = 4_666_145_950_575_746_458;

    /// `route_distance_exact_m` as it was first written (projected into a vector first): the
    /// refactoring that stopped allocating must give the same bits, or rules that floor it
    /// could decide differently on replay.
    fn distance_as_first_written(route: &[[i64; 2]], p: [i64; 2]) -> f64 {
        let deg = RAD_PER_E7;
        let k = cos_exact(p[1] as f64 * deg);
        let xy = |q: [i64; 2]| {
            (
                (q[0] - p[0]) as f64 * deg * k * EARTH_R_M,
                (q[1] - p[1]) as f64 * deg * EARTH_R_M,
            )
        };
        let mut best = f64::INFINITY;
        let pts: Vec<(f64, f64)> = route.iter().map(|q| xy(*q)).collect();
        for (i, a) in pts.iter().enumerate() {
            let b = pts.get(i + 1).unwrap_or(a);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len2 = dx * dx + dy * dy;
            let t = if len2 == 0.0 {
                0.0
            } else {
                (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
            };
            let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
            best = best.min((cx * cx + cy * cy).sqrt());
        }
        best
    }

    #[test]
    fn empty_and_one_point_routes() {
        assert_eq!(route_distance_exact_m(&[], [0, 0]), f64::INFINITY);
        assert_eq!(route_distance_m(&[], [0, 0]), 0);
        let lat = 500_000_000;
        let d = route_distance_exact_m(&[[300_000_000, lat]], [300_000_000, lat + 89_932]);
        assert!((999.0..1001.0).contains(&d), "{d}");
    }

    proptest! {
        /// The deterministic segment length stays within 0.5 % of the great-circle distance
        /// for segments up to about 200 km at latitudes within 70°: close enough to bound a
        /// route, exact enough that the bound means what it says.
        #[test]
        fn segments_are_close_to_the_great_circle(
            lon in -1_790_000_000i64..1_790_000_000,
            lat in -700_000_000i64..700_000_000,
            dlon in -18_000_000i64..18_000_000,
            dlat in -18_000_000i64..18_000_000,
        ) {
            let (a, b) = ([lon, lat], [lon + dlon, lat + dlat]);
            let exact = distance_m(a, b);
            let ours = segment_m(a, b);
            prop_assert!((ours - exact).abs() <= 0.005 * exact + 1e-6, "{ours} against {exact}");
        }

        /// The exact distance is bit for bit the first implementation's, and the whole-metre
        /// distance is its floor.
        #[test]
        fn exact_distance_is_unchanged_and_floors_to_the_rule(
            route in proptest::collection::vec(
                (220_000_000i64..400_000_000, 440_000_000i64..520_000_000), 0..6),
            p in (220_000_000i64..400_000_000, 440_000_000i64..520_000_000),
        ) {
            let route: Vec<[i64; 2]> = route.into_iter().map(|(x, y)| [x, y]).collect();
            let p = [p.0, p.1];
            let exact = route_distance_exact_m(&route, p);
            prop_assert_eq!(exact.to_bits(), distance_as_first_written(&route, p).to_bits());
            let floored = route_distance_m(&route, p);
            if route.is_empty() {
                prop_assert_eq!(floored, 0);
            } else {
                prop_assert_eq!(floored, exact.floor() as i64);
            }
        }
    }
}

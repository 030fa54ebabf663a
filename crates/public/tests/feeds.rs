//! The corridor area every feed and the map share ([`buffer_polygon`]), checked on the sphere.
//!
//! The buffer is computed in a plane; these properties are measured with the haversine
//! distance, so a projection mistake (metres against degrees, latitude against longitude)
//! cannot pass. The feeds themselves are tested inside the crate, where the March 2022 fixture
//! is available (`src/feeds/tests.rs`).

use corridor_core::agreement::distance_m;
use corridor_public::feeds::buffer_polygon;
use proptest::prelude::*;

/// Degrees to the signed integer form.
fn e7(lon: f64, lat: f64) -> [i64; 2] {
    [(lon * 1e7).round() as i64, (lat * 1e7).round() as i64]
}

/// Haversine distance in metres from `p` (degrees) to the route: for each segment the nearest
/// point is found in a plane tangent at `p` (exact enough near `p`, where the nearest point is),
/// then measured on the sphere.
fn distance_to_route(p: [f64; 2], route: &[[i64; 2]]) -> f64 {
    let k = p[1].to_radians().cos();
    let local = |q: [i64; 2]| {
        let (lon, lat) = (q[0] as f64 / 1e7, q[1] as f64 / 1e7);
        [(lon - p[0]) * k, lat - p[1]]
    };
    let from = e7(p[0], p[1]);
    let mut best = f64::INFINITY;
    let segments: Vec<([i64; 2], [i64; 2])> = if route.len() == 1 {
        vec![(route[0], route[0])]
    } else {
        route.windows(2).map(|w| (w[0], w[1])).collect()
    };
    for (a, b) in segments {
        let (la, lb) = (local(a), local(b));
        let d = [lb[0] - la[0], lb[1] - la[1]];
        let len2 = d[0] * d[0] + d[1] * d[1];
        let s = if len2 == 0.0 {
            0.0
        } else {
            (-(la[0] * d[0] + la[1] * d[1]) / len2).clamp(0.0, 1.0)
        };
        let q = [la[0] + s * d[0], la[1] + s * d[1]];
        let nearest = e7(p[0] + q[0] / k, p[1] + q[1]);
        best = best.min(distance_m(from, nearest));
    }
    best
}

/// Even-odd point in polygon, in degrees (the ring is fine-grained: edges are at most a few
/// hundred metres, where degrees and metres are proportional).
fn inside(p: [f64; 2], ring: &[[f64; 2]]) -> bool {
    let mut c = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                c = !c;
            }
        }
    }
    c
}

/// A route of 1 to 12 points starting somewhere in Ukraine, each step up to about 5 km in any
/// direction (sharp turns and repeated points included), with a buffer within the reducer's
/// limits.
fn route_and_buffer() -> impl Strategy<Value = (Vec<[i64; 2]>, i64)> {
    (
        (22.0f64..40.0, 44.5f64..52.0),
        prop::collection::vec((-0.07f64..0.07, -0.045f64..0.045), 0..12),
        50i64..=20_000,
    )
        .prop_map(|((lon, lat), steps, buffer)| {
            let mut p = (lon, lat);
            let mut route = vec![e7(p.0, p.1)];
            for (dx, dy) in steps {
                p = (p.0 + dx, p.1 + dy);
                route.push(e7(p.0, p.1));
            }
            (route, buffer)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_buffer_holds_the_route_at_the_agreed_distance((route, buffer) in route_and_buffer()) {
        let ring = buffer_polygon(&route, buffer);
        prop_assert!(ring.len() >= 4);
        prop_assert_eq!(ring.first(), ring.last());
        for v in &route {
            let p = [v[0] as f64 / 1e7, v[1] as f64 / 1e7];
            prop_assert!(inside(p, &ring), "route vertex {:?} outside the buffer", p);
        }
        let b = buffer as f64;
        for p in &ring {
            let d = distance_to_route(*p, &route);
            prop_assert!(
                (0.9 * b..=1.5 * b).contains(&d),
                "polygon vertex {:?} is {:.1} m from the route, buffer {} m", p, d, buffer
            );
        }
    }
}

#[test]
fn the_scenario_route_gets_a_500_m_band() {
    let route = [
        e7(29.9220, 50.6451),
        e7(29.9000, 50.6300),
        e7(29.8700, 50.6100),
        e7(29.8300, 50.5900),
    ];
    let ring = buffer_polygon(&route, 500);
    assert_eq!(ring.first(), ring.last());
    // Round ends: the far ends of the band are 500 m beyond the route's ends.
    let far = ring
        .iter()
        .map(|p| distance_m(e7(p[0], p[1]), route[0]))
        .fold(0.0, f64::max);
    let length = distance_m(route[0], route[3]);
    assert!(
        far > length + 400.0,
        "the band runs the whole route and beyond its end: {far} m against {length} m"
    );
    for p in &ring {
        let d = distance_to_route(*p, &route);
        assert!((495.0..=505.0).contains(&d), "{p:?} at {d} m");
    }
}

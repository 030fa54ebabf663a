//! Which corridors an incident point falls in: an exact test per route ([`hit`]) and an R-tree
//! ([`Index`]) that finds the few routes worth testing among thousands.
//!
//! Why floats are allowed here when [`crate::geo`] is strict about them: a match is a derived
//! view (which corridors an incident concerns, whom to alert), never a verdict stored in the
//! log, so nothing replays *from* it. But the server and `corridor verify` must still derive the
//! same matches from the same log, so the exact test uses [`geo::route_distance_exact_m`]
//! (IEEE basic operations only, the same bits on every platform) and compares with plain
//! additions. The index is only a filter in front of it: its boxes are conservative (wider than
//! any distance `hit` could accept), so which routes it offers never changes the answer, only
//! how fast it comes; and results come back in insertion order, not the tree's.

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::geo::{self, EARTH_R_M};

/// Result of the exact test for one route.
///
/// Why three fields rather than a yes/no: a reported position has an accuracy, so a point can
/// be in a corridor for certain, possibly, or not at all, and those who read an incident need
/// to tell the first two apart; the distance says by how much.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measure {
    /// Metres from the point to the route's centre line ([`geo::route_distance_exact_m`]).
    pub distance_m: f64,
    /// The whole accuracy disc is within the corridor: `distance + accuracy <= buffer`.
    pub certainly_inside: bool,
    /// Some of the accuracy disc is within the corridor: `distance - accuracy <= buffer`.
    pub possibly_inside: bool,
}

/// Exact test: distance = [`geo::route_distance_exact_m`]; certainly_inside = distance +
/// accuracy_m <= buffer_m; possibly_inside = distance - accuracy_m <= buffer_m. Returns None
/// when not possibly inside.
///
/// Why this is the one definition of a match: the [`Index`] only narrows the routes it is asked
/// about, so the index and a brute-force scan agree by construction; and the comparisons are
/// single IEEE additions of exactly representable whole metres, so they come out the same on
/// every machine. `buffer_m` is the corridor's half width.
pub fn hit(route: &[[i64; 2]], buffer_m: i64, point: [i64; 2], accuracy_m: i64) -> Option<Measure> {
    hit_in_plane(route, buffer_m, point, accuracy_m, geo::plane_scale(point))
}

/// [`hit`] with the point's plane scale computed once by the caller ([`Index::matches`] tests
/// several routes against one point); the same answer, to the bit.
fn hit_in_plane(
    route: &[[i64; 2]],
    buffer_m: i64,
    point: [i64; 2],
    accuracy_m: i64,
    k: f64,
) -> Option<Measure> {
    let distance_m = geo::route_distance_in_plane(route, point, k);
    let (buffer, accuracy) = (buffer_m as f64, accuracy_m as f64);
    let possibly_inside = distance_m - accuracy <= buffer;
    possibly_inside.then_some(Measure {
        distance_m,
        certainly_inside: distance_m + accuracy <= buffer,
        possibly_inside,
    })
}

/// Metres per 1e-7 degree of latitude (and of longitude at the equator), as
/// [`geo::route_distance_exact_m`] measures them.
const M_PER_E7: f64 = EARTH_R_M * std::f64::consts::PI / 180.0 / 1e7;

/// How much wider than needed the index's boxes are (1 %), on top of [`SLACK_E7`]: room for the
/// rounding of the conversions, so no box is ever a hair too small.
const SAFETY: f64 = 1.01;

/// Absolute slack added to every box, in 1e-7 degree (about 2 cm).
const SLACK_E7: f64 = 2.0;

/// Extra latitude, beyond the route's extremes and its buffer, at which a box's longitude
/// margin is computed (1°, about 111 km): see [`Index::matches`] for why it makes the margin
/// enough for every point with an accuracy below [`INDEXED_ACCURACY_M`].
const LAT_MARGIN_E7: i64 = 10_000_000;

/// Accuracies from this many metres up are answered by scanning every route (a position that
/// vague is rare and matches much of the map anyway); below it the tree's boxes are provably
/// wide enough.
const INDEXED_ACCURACY_M: i64 = 100_000;

/// Latitude beyond which a degree of longitude is treated as no distance at all (the box spans
/// every longitude).
const POLAR_E7: f64 = 899_000_000.0;

/// A longitude margin wide enough for any longitude (the box spans the world).
const WORLD_E7: f64 = 1e15;

/// Half widths in 1e-7 degree of a box that holds everything within `metres` (plane distance as
/// [`geo::route_distance_exact_m`] measures it around a point at absolute latitude up to
/// `abs_lat_e7`): (longitude, latitude).
fn margins_e7(metres: f64, abs_lat_e7: f64) -> (f64, f64) {
    let lat = metres / M_PER_E7 * SAFETY + SLACK_E7;
    if abs_lat_e7 >= POLAR_E7 {
        return (WORLD_E7, lat);
    }
    // The distance function scales longitude by cos_exact(latitude of the point); the smallest
    // cosine over the latitudes allowed gives the widest (safe) margin.
    let k = geo::cos_exact(abs_lat_e7 * (std::f64::consts::PI / 180.0 / 1e7));
    let lon = (metres / (M_PER_E7 * k) * SAFETY + SLACK_E7).min(WORLD_E7);
    (lon, lat)
}

/// One route in the index.
#[derive(Clone, Debug)]
struct Entry<K> {
    key: K,
    route: Vec<[i64; 2]>,
    buffer_m: i64,
}

/// A box in the tree, in 1e-7 degree, naming its route's slot in insertion order.
type Boxed = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// R-tree (rstar) over each route's envelope buffered by buffer_m (+ generous margin for the
/// degree/metre conversion at the route's latitude), then the exact [`hit`] test.
///
/// Why an index: an incident is matched against every corridor on record (thousands), and the
/// exact test costs a projection per vertex; the tree leaves a handful of candidates. Why boxes
/// per route rather than per segment: corridor routes have few vertices, so the box is a tight
/// enough filter, and one box per route keeps the tree small. `K` is whatever names a corridor
/// to the caller (its id and version, say).
#[derive(Clone, Debug)]
pub struct Index<K> {
    entries: Vec<Entry<K>>,
    tree: RTree<Boxed>,
}

impl<K: Clone> Default for Index<K> {
    /// An empty index, as [`Index::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Clone> Index<K> {
    /// An empty index, to fill with [`Index::insert`] as corridors are agreed.
    pub fn new() -> Self {
        Index {
            entries: Vec::new(),
            tree: RTree::new(),
        }
    }

    /// An index of many routes at once, `(key, route, buffer_m)` each, in this order: why: the
    /// tree's bulk load packs the boxes better and faster than inserting them one by one (what
    /// a server starting on a long log, or a benchmark, wants). Matches are the same either way.
    pub fn bulk(items: Vec<(K, Vec<[i64; 2]>, i64)>) -> Self {
        let entries: Vec<Entry<K>> = items
            .into_iter()
            .map(|(key, route, buffer_m)| Entry {
                key,
                route,
                buffer_m,
            })
            .collect();
        let boxes = entries
            .iter()
            .enumerate()
            .filter_map(|(slot, e)| envelope(&e.route, e.buffer_m).map(|b| Boxed::new(b, slot)))
            .collect();
        Index {
            entries,
            tree: RTree::bulk_load(boxes),
        }
    }

    /// Add a route with its buffer (the corridor's half width, metres), under `key`. Why the
    /// route is taken by value: the index keeps it for the exact test. An empty route is kept
    /// (it counts in [`Index::len`]) but never matches.
    pub fn insert(&mut self, key: K, route: Vec<[i64; 2]>, buffer_m: i64) {
        let slot = self.entries.len();
        if let Some(b) = envelope(&route, buffer_m) {
            self.tree.insert(Boxed::new(b, slot));
        }
        self.entries.push(Entry {
            key,
            route,
            buffer_m,
        });
    }

    /// How many routes were added: why: callers report the size of what they match against.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no route was added (so every point matches nothing).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// every (key, Measure) whose corridor the point is possibly inside; candidates from the
    /// tree must be expanded by accuracy_m too.
    ///
    /// The answer is exactly `hit` over every route, in insertion order (a property test holds
    /// it to a brute-force scan). Why the boxes suffice: if `hit` accepts, the nearest point of
    /// the route is within d <= buffer + accuracy of the point in the plane centred on the
    /// point, whose longitude scale is the cosine of the *point's* latitude. Latitude: the
    /// route's box adds buffer, the query box accuracy (each 1 % wider). Longitude: the query
    /// box adds accuracy at the point's own latitude; the route's box adds buffer at the
    /// route's highest absolute latitude plus buffer plus 1°, and a point with an accuracy
    /// below 100 km that is possibly inside lies within that latitude, so its cosine is no
    /// smaller than the one the box assumed. Vaguer points are matched by a scan.
    pub fn matches(&self, point: [i64; 2], accuracy_m: i64) -> Vec<(K, Measure)> {
        let mut found: Vec<(usize, Measure)> = Vec::new();
        let k = geo::plane_scale(point);
        if accuracy_m >= INDEXED_ACCURACY_M {
            for (slot, e) in self.entries.iter().enumerate() {
                if let Some(m) = hit_in_plane(&e.route, e.buffer_m, point, accuracy_m, k) {
                    found.push((slot, m));
                }
            }
        } else {
            let (lon, lat) = margins_e7(accuracy_m.max(0) as f64, (point[1] as f64).abs());
            let (x, y) = (point[0] as f64, point[1] as f64);
            let query = AABB::from_corners([x - lon, y - lat], [x + lon, y + lat]);
            for b in self.tree.locate_in_envelope_intersecting(&query) {
                let e = &self.entries[b.data];
                if let Some(m) = hit_in_plane(&e.route, e.buffer_m, point, accuracy_m, k) {
                    found.push((b.data, m));
                }
            }
            found.sort_unstable_by_key(|(slot, _)| *slot);
        }
        found
            .into_iter()
            .map(|(slot, m)| (self.entries[slot].key.clone(), m))
            .collect()
    }
}

/// The route's box in the tree: its vertices' extremes widened by its buffer (see
/// [`Index::matches`] for why the margins are enough). None for an empty route.
fn envelope(route: &[[i64; 2]], buffer_m: i64) -> Option<Rectangle<[f64; 2]>> {
    let first = route.first()?;
    let (mut lo, mut hi) = (*first, *first);
    for q in route {
        lo = [lo[0].min(q[0]), lo[1].min(q[1])];
        hi = [hi[0].max(q[0]), hi[1].max(q[1])];
    }
    let buffer = buffer_m.max(0) as f64;
    let (_, lat_margin) = margins_e7(buffer, 0.0);
    let abs_lat = lo[1].saturating_abs().max(hi[1].saturating_abs()) as f64;
    let (lon, lat) = margins_e7(buffer, abs_lat + lat_margin + LAT_MARGIN_E7 as f64);
    Some(Rectangle::from_corners(
        [lo[0] as f64 - lon, lo[1] as f64 - lat],
        [hi[0] as f64 + lon, hi[1] as f64 + lat],
    ))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Metres north of a point, in 1e-7 degree, for placing test points.
    fn north_e7(m: f64) -> i64 {
        (m / M_PER_E7).round() as i64
    }

    // ---- the oracle: written apart from geo.rs, with the platform's trigonometry ----

    /// Great-circle distance (haversine) between two points in degrees.
    fn haversine_deg(a: (f64, f64), b: (f64, f64)) -> f64 {
        let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
        let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
        let h = ((lat2 - lat1) / 2.0).sin().powi(2)
            + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
        2.0 * 6_371_008.8 * h.sqrt().min(1.0).asin()
    }

    /// Distance from `p` to `route` by brute force: every segment sampled in longitude and
    /// latitude at most every metre, the nearest sample by haversine.
    fn oracle_m(route: &[[i64; 2]], p: [i64; 2]) -> f64 {
        let deg = |q: [i64; 2]| (q[0] as f64 / 1e7, q[1] as f64 / 1e7);
        let p = deg(p);
        let mut best = f64::INFINITY;
        for w in route.windows(2) {
            let (a, b) = (deg(w[0]), deg(w[1]));
            let n = haversine_deg(a, b).ceil().max(1.0) as usize;
            for i in 0..=n {
                let t = i as f64 / n as f64;
                let s = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                best = best.min(haversine_deg(s, p));
            }
        }
        best
    }

    /// A point `m` metres from `from` in direction `bearing_deg` (0 = north), by a local flat
    /// approximation (good to well under a metre per km here; the tests only need plausible
    /// shapes, not exact offsets).
    fn offset(from: [i64; 2], bearing_deg: f64, m: f64) -> [i64; 2] {
        let lat = from[1] as f64 / 1e7;
        let per_deg = 6_371_008.8 * std::f64::consts::PI / 180.0;
        let (s, c) = bearing_deg.to_radians().sin_cos();
        let dlat = m * c / per_deg;
        let dlon = m * s / (per_deg * lat.to_radians().cos());
        [
            from[0] + (dlon * 1e7).round() as i64,
            from[1] + (dlat * 1e7).round() as i64,
        ]
    }

    /// A plausible corridor route in Ukraine's box: `headings.len()` legs of roughly equal
    /// length summing to `length_m`, each bending by the given heading.
    fn route_from(start: (i64, i64), length_m: f64, headings: &[u16]) -> Vec<[i64; 2]> {
        let leg = length_m / headings.len() as f64;
        let mut route = vec![[start.0, start.1]];
        for h in headings {
            let last = *route.last().unwrap();
            route.push(offset(last, *h as f64, leg));
        }
        route
    }

    /// A point along the route (leg `leg`, fraction `t`) moved `off_m` metres in `bearing`.
    fn near(route: &[[i64; 2]], leg: usize, t: f64, bearing: u16, off_m: f64) -> [i64; 2] {
        let leg = leg % (route.len() - 1);
        let (a, b) = (route[leg], route[leg + 1]);
        let on = [
            a[0] + ((b[0] - a[0]) as f64 * t).round() as i64,
            a[1] + ((b[1] - a[1]) as f64 * t).round() as i64,
        ];
        offset(on, bearing as f64, off_m)
    }

    // Start points leave room for a 60 km route inside lon 22–40, lat 44–52.
    fn ukraine_start() -> impl Strategy<Value = (i64, i64)> {
        (230_000_000i64..390_000_000, 450_000_000i64..510_000_000)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// `hit`'s distance agrees with the densely sampled haversine oracle within 0.5 % +
        /// 2 m, for routes of 5 to 60 km and points from on the route to 10 km off it.
        #[test]
        fn distance_agrees_with_a_dense_haversine(
            start in ukraine_start(),
            length_m in 5_000.0f64..60_000.0,
            headings in proptest::collection::vec(0u16..360, 1..5),
            leg in 0usize..4,
            t in 0.0f64..1.0,
            bearing in 0u16..360,
            off_m in prop_oneof![0.0f64..300.0, 0.0f64..10_000.0],
        ) {
            let route = route_from(start, length_m, &headings);
            let p = near(&route, leg, t, bearing, off_m);
            let m = hit(&route, 1_000_000, p, 0).expect("within a 1000 km buffer");
            let want = oracle_m(&route, p);
            prop_assert!(
                (m.distance_m - want).abs() <= 0.005 * want + 2.0,
                "hit {} m, oracle {} m", m.distance_m, want
            );
        }
    }

    #[test]
    fn a_long_segment_passing_close_matches_though_its_vertices_are_far() {
        // 40 km east-west at 48.5°N; the point 100 m north of its middle, 20 km from either end.
        let lat = 485_000_000;
        let route = vec![[340_000_000, lat], [345_400_000, lat]];
        let p = [342_700_000, lat + north_e7(100.0)];
        for v in &route {
            assert!(hit(&[*v], 250, p, 0).is_none(), "a vertex alone is far");
        }
        let m = hit(&route, 250, p, 0).expect("100 m from the segment, buffer 250 m");
        assert!((m.distance_m - 100.0).abs() < 0.05, "{m:?}");
        assert!(m.certainly_inside && m.possibly_inside);
        assert!(hit(&route, 99, p, 0).is_none());
        // The same through the index, among routes that do not match.
        let mut index = Index::new();
        index.insert(
            "far",
            vec![[300_000_000, 450_000_000], [301_000_000, 451_000_000]],
            2_500,
        );
        index.insert("long", route.clone(), 250);
        index.insert("narrow", route, 50);
        let got = index.matches(p, 0);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "long");
        // And a 40 km north-south segment, the point 100 m east of its middle.
        let lon = 300_000_000;
        let route = vec![[lon, 470_000_000], [lon, 473_600_000]];
        let k = (47.18f64).to_radians().cos();
        let p = [lon + (100.0 / (M_PER_E7 * k)).round() as i64, 471_800_000];
        let m = hit(&route, 250, p, 0).expect("100 m east");
        assert!((m.distance_m - 100.0).abs() < 0.2, "{m:?}");
    }

    #[test]
    fn points_just_inside_and_outside_the_half_width() {
        // An east-west route at 50°N, buffer (half width) 1,000 m; points due north of its
        // middle, so the distance is the latitude difference exactly.
        let lat = 500_000_000;
        let route = [[300_000_000, lat], [302_000_000, lat]];
        let inside = [301_000_000, lat + north_e7(990.0)];
        let outside = [301_000_000, lat - north_e7(1_010.0)];
        let d_in = geo::route_distance_exact_m(&route, inside);
        let d_out = geo::route_distance_exact_m(&route, outside);
        assert!((d_in - 990.0).abs() < 0.01 && (d_out - 1_010.0).abs() < 0.01);

        let at =
            |p, acc| hit(&route, 1_000, p, acc).map(|m| (m.certainly_inside, m.possibly_inside));
        // Exact positions: 10 m inside is certainly inside, 10 m outside is no match.
        assert_eq!(at(inside, 0), Some((true, true)));
        assert_eq!(at(outside, 0), None);
        // 5 m accuracy changes neither.
        assert_eq!(at(inside, 5), Some((true, true)));
        assert_eq!(at(outside, 5), None);
        // The points are 10 m (and a few millimetres) from the edge: 9 m of accuracy keeps
        // the verdicts, 11 m makes both uncertain.
        assert_eq!(at(inside, 9), Some((true, true)));
        assert_eq!(at(outside, 9), None);
        assert_eq!(at(inside, 11), Some((false, true)));
        assert_eq!(at(outside, 11), Some((false, true)));
        // 20 m accuracy: inside only possibly (the disc crosses the edge), outside possibly.
        assert_eq!(at(inside, 20), Some((false, true)));
        assert_eq!(at(outside, 20), Some((false, true)));
        // The measure carries the distance itself.
        assert_eq!(hit(&route, 1_000, outside, 20).unwrap().distance_m, d_out);
        // No route, no match.
        assert_eq!(hit(&[], 1_000_000, inside, 1_000_000), None);
    }

    #[test]
    fn an_empty_index_and_an_empty_route() {
        let mut index: Index<u32> = Index::default();
        assert!(index.is_empty());
        assert!(index.matches([300_000_000, 500_000_000], 1_000).is_empty());
        index.insert(1, Vec::new(), 1_000);
        assert_eq!(index.len(), 1);
        assert!(!index.is_empty());
        assert!(
            index
                .matches([300_000_000, 500_000_000], 200_000)
                .is_empty()
        );
    }

    /// Every route's `hit`, in order: what the index must return.
    fn brute(
        routes: &[(usize, Vec<[i64; 2]>, i64)],
        p: [i64; 2],
        acc: i64,
    ) -> Vec<(usize, Measure)> {
        routes
            .iter()
            .filter_map(|(k, r, b)| hit(r, *b, p, acc).map(|m| (*k, m)))
            .collect()
    }

    /// Points due east, west, north and south of the route's easternmost, westernmost,
    /// northernmost and southernmost vertices, `buffer + accuracy` metres from them as
    /// [`geo::route_distance_exact_m`] measures (rounded towards the vertex).
    fn cardinal_edges(route: &[[i64; 2]], buffer_m: i64, accuracy_m: i64) -> Vec<[i64; 2]> {
        let reach = (buffer_m + accuracy_m) as f64;
        let by = |f: fn(&[i64; 2]) -> i64| route.iter().copied().max_by_key(f).unwrap();
        let (e, w) = (by(|q| q[0]), by(|q| -q[0]));
        let (n, s) = (by(|q| q[1]), by(|q| -q[1]));
        let dlat = (reach / M_PER_E7).floor() as i64;
        let dlon = |v: [i64; 2]| {
            let k = geo::cos_exact(v[1] as f64 * std::f64::consts::PI / 180.0 / 1e7);
            (reach / (M_PER_E7 * k)).floor() as i64
        };
        vec![
            [e[0] + dlon(e), e[1]],
            [w[0] - dlon(w), w[1]],
            [n[0], n[1] + dlat],
            [s[0], s[1] - dlat],
        ]
    }

    #[test]
    fn a_vague_point_near_the_pole_is_found() {
        // Why the boxes' longitude margin is taken 1° beyond the route's latitude: near the
        // pole a point north of the route has a much shorter degree of longitude than the
        // route. Route at 89°N, buffer 50 km; a point with 99 km accuracy, 90 km north and
        // 118 km east in its own plane: 148.4 km away, so possibly inside.
        let v = [0, 890_000_000];
        let lat_p = v[1] + (90_000.0 / M_PER_E7).round() as i64;
        let k = geo::cos_exact(lat_p as f64 * std::f64::consts::PI / 180.0 / 1e7);
        let p = [(118_000.0 / (M_PER_E7 * k)).round() as i64, lat_p];
        let m = hit(&[v], 50_000, p, 99_000).expect("possibly inside");
        assert!((m.distance_m - 148_400.0).abs() < 100.0, "{m:?}");
        let mut index = Index::new();
        index.insert((), vec![v], 50_000);
        assert_eq!(index.matches(p, 99_000), vec![((), m)]);
    }

    fn corridor() -> impl Strategy<Value = (Vec<[i64; 2]>, i64)> {
        (
            // Mostly Ukraine, some far north where a degree of longitude is short.
            prop_oneof![
                4 => ukraine_start(),
                1 => (-1_790_000_000i64..1_790_000_000, 600_000_000i64..850_000_000),
            ],
            500.0f64..60_000.0,
            proptest::collection::vec(0u16..360, 1..5),
            prop_oneof![0i64..3_000, 100i64..2_500, 0i64..50_000],
        )
            .prop_map(|(s, len, h, buffer)| (route_from(s, len, &h), buffer))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The index returns exactly what `hit` over every route returns, in insertion order,
        /// whether built by inserts or in bulk: points are placed near routes and right at
        /// their edges (buffer plus accuracy away, give or take a metre), where a box a hair
        /// too small would show.
        #[test]
        fn index_matches_equal_brute_force(
            corridors in proptest::collection::vec(corridor(), 1..30),
            probes in proptest::collection::vec(
                (any::<prop::sample::Index>(), 0usize..4, 0.0f64..1.0, 0u16..360, -3.0f64..3.0,
                 prop_oneof![Just(0i64), 0i64..100, 0i64..5_000, 90_000i64..150_000]),
                1..40),
            randoms in proptest::collection::vec(
                (230_000_000i64..390_000_000, 450_000_000i64..510_000_000, 0i64..20_000), 0..20),
        ) {
            let routes: Vec<(usize, Vec<[i64; 2]>, i64)> = corridors
                .into_iter()
                .enumerate()
                .map(|(i, (r, b))| (i, r, b))
                .collect();
            let mut inserted = Index::new();
            for (k, r, b) in &routes {
                inserted.insert(*k, r.clone(), *b);
            }
            let bulk = Index::bulk(routes.clone());
            prop_assert_eq!(bulk.len(), routes.len());
            let mut points: Vec<([i64; 2], i64)> = probes
                .iter()
                .map(|(which, leg, t, bearing, delta, acc)| {
                    let (_, r, b) = &routes[which.index(routes.len())];
                    let edge = (*b + *acc) as f64 + delta;
                    (near(r, *leg, *t, *bearing, edge.max(0.0)), *acc)
                })
                .collect();
            points.extend(randoms.iter().map(|(x, y, acc)| ([*x, *y], *acc)));
            // Right at each box's edge: due east, west, north and south of the route's
            // extreme vertices, buffer plus accuracy away to the millimetre (those points
            // are possibly inside, so a box even 0.1 % short would lose them).
            for (i, (_, r, b)) in routes.iter().enumerate() {
                let acc = [0, 7, 900, 20_000][i % 4];
                points.extend(cardinal_edges(r, *b, acc).into_iter().map(|p| (p, acc)));
            }
            for (p, acc) in points {
                let want = brute(&routes, p, acc);
                prop_assert_eq!(&inserted.matches(p, acc), &want, "inserted, at {:?} ± {}", p, acc);
                prop_assert_eq!(&bulk.matches(p, acc), &want, "bulk, at {:?} ± {}", p, acc);
            }
        }
    }
}

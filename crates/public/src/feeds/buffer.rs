//! The corridor's area: the route widened by its agreed buffer on both sides.
//!
//! CAP areas, map overlays and GeoJSON consumers all want a polygon, while the parties sign a
//! line and a width. The polygon is computed here, once, so every format shows the same area.
//!
//! The buffer itself is planar (`geo`'s, which merges the overlaps of sharp turns and loops into
//! one simple outline), so the route is first projected to metres with an azimuthal equidistant
//! projection centred on the route: distances from the centre are exact and sideways distances
//! are off by less than 0.1 % within 250 km, far better than an equirectangular approximation
//! over a long route. Routes crossing the antimeridian are not supported (none are near).

use geo::algorithm::buffer::{BufferStyle, LineCap, LineJoin};
use geo::orient::Direction;
use geo::{Area, Buffer, Coord, LineString, Orient};

/// Mean Earth radius, metres (as `corridor_core::agreement::distance_m`).
const R: f64 = 6_371_008.8;

/// Angle between the vertices of round caps and joins, radians: 32 vertices a full circle, so
/// the chords stay within 0.5 % of the buffer and a CAP polygon stays small.
const ARC_STEP: f64 = 0.2;

/// An azimuthal equidistant projection about a centre, in radians.
struct Aeqd {
    lon0: f64,
    lat0: f64,
}

impl Aeqd {
    fn forward(&self, lon: f64, lat: f64) -> Coord<f64> {
        let (lon, lat) = (lon.to_radians(), lat.to_radians());
        let dl = lon - self.lon0;
        let cos_c = self.lat0.sin() * lat.sin() + self.lat0.cos() * lat.cos() * dl.cos();
        let c = cos_c.clamp(-1.0, 1.0).acos();
        let k = if c < 1e-9 { 1.0 } else { c / c.sin() };
        Coord {
            x: R * k * lat.cos() * dl.sin(),
            y: R * k * (self.lat0.cos() * lat.sin() - self.lat0.sin() * lat.cos() * dl.cos()),
        }
    }

    /// Back to `[lon, lat]` in degrees.
    fn inverse(&self, p: Coord<f64>) -> [f64; 2] {
        let rho = p.x.hypot(p.y);
        if rho < 1e-9 {
            return [self.lon0.to_degrees(), self.lat0.to_degrees()];
        }
        let c = rho / R;
        let lat = (c.cos() * self.lat0.sin() + p.y * c.sin() * self.lat0.cos() / rho)
            .clamp(-1.0, 1.0)
            .asin();
        let lon = self.lon0
            + (p.x * c.sin())
                .atan2(rho * self.lat0.cos() * c.cos() - p.y * self.lat0.sin() * c.sin());
        [lon.to_degrees(), lat.to_degrees()]
    }
}

/// The outline of everything within `buffer_m` metres of `route` (`[lon_e7, lat_e7]`, as
/// signed), as a closed ring of `[lon, lat]` degrees, counter-clockwise (RFC 7946), first point
/// repeated last. Ends are round. A public function so the map and every feed draw the same
/// area. Empty for an empty route or a width that is not positive, which the reducer never
/// accepts.
///
/// If the route crosses itself, the holes it encloses are filled: for an alert area, a little
/// too much is better than a hole people may read as "outside the corridor".
pub fn buffer_polygon(route: &[[i64; 2]], buffer_m: i64) -> Vec<[f64; 2]> {
    if route.is_empty() || buffer_m <= 0 {
        return Vec::new();
    }
    let deg: Vec<[f64; 2]> = route
        .iter()
        .map(|p| [p[0] as f64 / 1e7, p[1] as f64 / 1e7])
        .collect();
    let (mut lo, mut hi) = (deg[0], deg[0]);
    for p in &deg {
        lo = [lo[0].min(p[0]), lo[1].min(p[1])];
        hi = [hi[0].max(p[0]), hi[1].max(p[1])];
    }
    let proj = Aeqd {
        lon0: ((lo[0] + hi[0]) / 2.0).to_radians(),
        lat0: ((lo[1] + hi[1]) / 2.0).to_radians(),
    };
    let mut line: Vec<Coord<f64>> = deg.iter().map(|p| proj.forward(p[0], p[1])).collect();
    line.dedup();
    let style = BufferStyle::new(buffer_m as f64)
        .line_join(LineJoin::Round(ARC_STEP))
        .line_cap(LineCap::Round(ARC_STEP));
    let areas = LineString::new(line).buffer_with_style(style);
    // A connected line buffers to one polygon; should rounding ever split off a sliver, the
    // largest part is the corridor.
    let Some(polygon) = areas
        .0
        .into_iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
    else {
        return Vec::new();
    };
    let polygon = polygon.orient(Direction::Default);
    let mut ring: Vec<[f64; 2]> = polygon
        .exterior()
        .0
        .iter()
        .map(|c| proj.inverse(*c))
        .collect();
    if ring.first() != ring.last() {
        ring.push(ring[0]);
    }
    ring
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projection_round_trips_and_keeps_distances() {
        let proj = Aeqd {
            lon0: 29.9f64.to_radians(),
            lat0: 50.6f64.to_radians(),
        };
        for (lon, lat) in [(29.9, 50.6), (29.922, 50.6451), (31.0, 49.0), (28.1, 52.3)] {
            let q = proj.inverse(proj.forward(lon, lat));
            assert!(
                (q[0] - lon).abs() < 1e-9 && (q[1] - lat).abs() < 1e-9,
                "{q:?}"
            );
        }
        // Distance from the centre is exact: 1° of latitude due north.
        let p = proj.forward(29.9, 51.6);
        assert!((p.y - R * 1f64.to_radians()).abs() < 1e-6 && p.x.abs() < 1e-6);
    }

    #[test]
    fn a_straight_route_gets_a_closed_ring_around_it() {
        let ring = buffer_polygon(
            &[[299_220_000, 506_451_000], [298_300_000, 505_900_000]],
            500,
        );
        assert!(ring.len() >= 4);
        assert_eq!(ring.first(), ring.last());
        // Counter-clockwise: positive shoelace area in lon/lat.
        let area: f64 = ring
            .windows(2)
            .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
            .sum();
        assert!(area > 0.0);
    }

    #[test]
    fn a_single_point_or_no_width_is_handled() {
        let ring = buffer_polygon(&[[299_220_000, 506_451_000]; 3], 500);
        assert!(ring.len() > 8);
        assert!(buffer_polygon(&[], 500).is_empty());
        assert!(buffer_polygon(&[[0, 0], [10, 10]], 0).is_empty());
    }
}

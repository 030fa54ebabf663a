//! The cost of matching one incident point against corridors: the exact test on one route
//! (`hit`), and `Index::matches` among 10,000 plausible corridors in Ukraine (routes of 5 to
//! 60 km, widths 200 m to 5 km), with points half near a route and half anywhere. The
//! comparison with PostGIS is `corridor-matchbench` (crates/bench), which builds the same kind
//! of data.
//!
//! `cargo bench -p corridor-core --bench matching -- --warm-up-time 1 --measurement-time 3`

use corridor_core::matching::{Index, hit};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

fn step(from: [i64; 2], bearing: f64, m: f64) -> [i64; 2] {
    let k = (from[1] as f64 / 1e7).to_radians().cos();
    [
        from[0] + (m * bearing.sin() / (M_PER_DEG * k) * 1e7) as i64,
        from[1] + (m * bearing.cos() / M_PER_DEG * 1e7) as i64,
    ]
}

fn corridors(rng: &mut Rng, n: usize) -> Vec<(usize, Vec<[i64; 2]>, i64)> {
    (0..n)
        .map(|i| {
            let mut p = [
                rng.range(225_000_000, 395_000_000),
                rng.range(445_000_000, 515_000_000),
            ];
            let legs = rng.range(1, 6) as usize;
            let leg = rng.range(5_000, 60_001) as f64 / legs as f64;
            let mut bearing = rng.unit() * std::f64::consts::TAU;
            let mut route = vec![p];
            for _ in 0..legs {
                p = step(p, bearing, leg);
                route.push(p);
                bearing += (rng.unit() - 0.5) * 1.5;
            }
            (i, route, rng.range(200, 5_001) / 2)
        })
        .collect()
}

fn points(rng: &mut Rng, routes: &[(usize, Vec<[i64; 2]>, i64)], n: usize) -> Vec<[i64; 2]> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let (_, r, b) = &routes[rng.range(0, routes.len() as i64) as usize];
                let v = r[rng.range(0, r.len() as i64 - 1) as usize];
                let off = rng.unit() * 2.0 * *b as f64;
                step(v, rng.unit() * std::f64::consts::TAU, off)
            } else {
                [
                    rng.range(220_000_000, 400_000_000),
                    rng.range(440_000_000, 520_000_000),
                ]
            }
        })
        .collect()
}

fn matching(c: &mut Criterion) {
    let mut rng = Rng(0x5eed_c0de);
    let routes = corridors(&mut rng, 10_000);
    let pts = points(&mut rng, &routes, 4_096);

    let mut g = c.benchmark_group("matching");
    g.throughput(Throughput::Elements(pts.len() as u64));
    let (_, route, buffer) = &routes[0];
    g.bench_function("hit_one_route", |b| {
        b.iter(|| {
            for p in &pts {
                black_box(hit(black_box(route), *buffer, *p, 0));
            }
        })
    });
    for n in [1_000, 10_000] {
        let index = Index::bulk(routes[..n].to_vec());
        g.bench_with_input(BenchmarkId::new("index_matches", n), &index, |b, index| {
            b.iter(|| {
                for p in &pts {
                    black_box(index.matches(black_box(*p), 0));
                }
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("matching_build");
    g.sample_size(10);
    g.bench_function("bulk_10000", |b| {
        b.iter(|| Index::bulk(black_box(routes.clone())))
    });
    g.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);

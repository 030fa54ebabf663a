//! Proof computation at historical sizes (the server's hot read path) in 1M- and 10M-leaf trees,
//! and the cost of appending a leaf (the sequencer's write path).
//!
//! `cargo bench -p corridor-merkle -- --warm-up-time 1 --measurement-time 2` for a quick look.
//! Set `CORRIDOR_BENCH_SKIP_10M=1` to skip the 10M tree (about 1 GB of RAM).

use corridor_merkle::{Hash, MemoryTree, leaf_hash};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;

fn tree(n: u64) -> MemoryTree {
    let started = Instant::now();
    let mut t = MemoryTree::with_capacity(n as usize);
    t.extend((0..n).map(|i| leaf_hash(&i.to_be_bytes())));
    eprintln!("built a {n}-leaf MemoryTree in {:.2?}", started.elapsed());
    t
}

/// Deterministic pseudo-random (a, b) pairs with 1 <= b in the newer half of the tree and
/// a < b: requests at historical sizes, spread so that look-ups miss the cache as they would
/// for real clients.
fn pairs(n: u64, count: usize) -> Vec<(u64, u64)> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..count)
        .map(|_| {
            let b = n / 2 + 1 + next() % (n - n / 2);
            (next() % b, b)
        })
        .collect()
}

fn proofs(c: &mut Criterion) {
    let mut sizes = vec![1_000_000u64];
    if std::env::var_os("CORRIDOR_BENCH_SKIP_10M").is_none() {
        sizes.push(10_000_000);
    }
    let mut g = c.benchmark_group("proofs");
    for n in sizes {
        let t = tree(n);
        let reqs = pairs(n, 4096);
        let label = format!("{}M", n / 1_000_000);
        g.bench_with_input(
            BenchmarkId::new("inclusion_historical", &label),
            &reqs,
            |b, reqs| {
                let mut i = 0;
                b.iter(|| {
                    let (index, size) = reqs[i % reqs.len()];
                    i += 1;
                    black_box(t.inclusion_proof(index, size).unwrap())
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("consistency_historical", &label),
            &reqs,
            |b, reqs| {
                let mut i = 0;
                b.iter(|| {
                    let (from, to) = reqs[i % reqs.len()];
                    i += 1;
                    black_box(t.consistency_proof(from + 1, to).unwrap())
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("root_at_historical", &label),
            &reqs,
            |b, reqs| {
                let mut i = 0;
                b.iter(|| {
                    let (_, size) = reqs[i % reqs.len()];
                    i += 1;
                    black_box(t.root_at(size).unwrap())
                })
            },
        );
    }
    g.finish();
}

fn push(c: &mut Criterion) {
    let mut g = c.benchmark_group("push");
    g.throughput(Throughput::Elements(1));
    g.bench_function("push", |b| {
        // Start afresh every 2^20 leaves so memory stays bounded however long criterion runs;
        // reallocation and the hashes of completed nodes are amortised in, as in the server.
        let mut t = MemoryTree::new();
        let h: Hash = leaf_hash(b"entry");
        b.iter(|| {
            if t.size() == 1 << 20 {
                t = MemoryTree::new();
            }
            t.push(black_box(h))
        })
    });
    g.finish();
}

criterion_group!(benches, proofs, push);
criterion_main!(benches);

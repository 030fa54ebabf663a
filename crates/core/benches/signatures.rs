//! The cost per signature of the three ways corridor could check a log's signatures: one by one
//! with `verify_strict` (the server, and the baseline of BENCHMARKS.md), ed25519-dalek's
//! `verify_batch`, and [`verify_many`] (batches whose key terms are summed per key first), on
//! the shape of a real log: seven keys, messages of about 600 bytes.
//!
//! `cargo bench -p corridor-core --bench signatures -- --warm-up-time 1 --measurement-time 3`

use corridor_core::crypto::{Keypair, PublicKey, verify_many};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, VerifyingKey};
use std::hint::black_box;

const SIGNATURES: usize = 4096;

struct Log {
    keys: Vec<PublicKey>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<[u8; 64]>,
}

fn log(distinct_keys: usize) -> Log {
    let pairs: Vec<Keypair> = (0..distinct_keys)
        .map(|i| Keypair::from_seed([i as u8 + 1; 32]))
        .collect();
    let messages: Vec<Vec<u8>> = (0..SIGNATURES)
        .map(|i| {
            let mut m =
                format!("corridor/v1\nexercise.corridor.example/log\n{{\"n\":{i},\"text\":\"")
                    .into_bytes();
            m.resize(600, b'x');
            m
        })
        .collect();
    let signatures = messages
        .iter()
        .enumerate()
        .map(|(i, m)| pairs[i % distinct_keys].sign(m))
        .collect();
    Log {
        keys: (0..SIGNATURES)
            .map(|i| pairs[i % distinct_keys].public())
            .collect(),
        messages,
        signatures,
    }
}

fn signatures(c: &mut Criterion) {
    let mut g = c.benchmark_group("signatures");
    g.throughput(Throughput::Elements(SIGNATURES as u64));
    for distinct in [7, SIGNATURES] {
        let l = log(distinct);
        let items: Vec<(&PublicKey, &[u8], &[u8; 64])> = l
            .keys
            .iter()
            .zip(&l.messages)
            .zip(&l.signatures)
            .map(|((k, m), s)| (k, m.as_slice(), s))
            .collect();
        g.bench_with_input(BenchmarkId::new("verify_strict", distinct), &l, |b, l| {
            b.iter(|| {
                for ((k, m), s) in l.keys.iter().zip(&l.messages).zip(&l.signatures) {
                    k.verify(m, s).expect("valid");
                }
            })
        });
        let dalek_keys: Vec<VerifyingKey> = l
            .keys
            .iter()
            .map(|k| VerifyingKey::from_bytes(k.as_bytes()).expect("valid"))
            .collect();
        let sigs: Vec<Signature> = l.signatures.iter().map(Signature::from_bytes).collect();
        g.bench_with_input(
            BenchmarkId::new("dalek_verify_batch_64", distinct),
            &l,
            |b, l| {
                b.iter(|| {
                    for ((m, s), k) in l
                        .messages
                        .chunks(64)
                        .zip(sigs.chunks(64))
                        .zip(dalek_keys.chunks(64))
                    {
                        let m: Vec<&[u8]> = m.iter().map(|m| m.as_slice()).collect();
                        ed25519_dalek::verify_batch(&m, s, k).expect("valid");
                    }
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("verify_many", distinct),
            &items,
            |b, items| b.iter(|| assert!(verify_many(b"", black_box(items), &[7; 32]).is_empty())),
        );
    }
    g.finish();
}

criterion_group!(benches, signatures);
criterion_main!(benches);

//! The prover checked against a naive reference written straight from RFC 9162 §2.1.1 (MTH),
//! §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF), recursion and all, at every historical size:
//! exhaustively up to 256 leaves, and sampled up to 100 000. Every proof must also verify, and
//! tampered ones must not.

use corridor_merkle::{
    EMPTY_ROOT, Hash, MemoryTree, VerifyError, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// The reference, independent of the crate (its own hashing too).

fn ref_leaf(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn ref_node(l: &Hash, r: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// Largest power of two strictly smaller than `n` (n > 1): the RFC's `k`.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) over already-hashed leaves: MTH({d}) = leaf hash.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => Sha256::digest(b"").into(),
        1 => d[0],
        n => {
            let k = split(n);
            ref_node(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// PROOF(m, D[n]).
fn consistency(m: usize, d: &[Hash]) -> Vec<Hash> {
    subproof(m, d, true)
}

// ---------------------------------------------------------------------------------------------

fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| ref_leaf(&i.to_le_bytes())).collect()
}

fn tree_of(leaves: &[Hash]) -> MemoryTree {
    let mut t = MemoryTree::new();
    t.extend(leaves.iter().copied());
    t
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[(bit / 8) % 32] ^= 1 << (bit % 8);
    h
}

const JUNK: Hash = [0xa5; 32];

/// Every way of tampering with an inclusion proof we know; each must be rejected.
fn assert_inclusion_tamper_fails(leaves: &[Hash], m: usize, proof: &[Hash], root: &Hash) {
    let n = leaves.len();
    let (mu, nu) = (m as u64, n as u64);
    let leaf = &leaves[m];
    let bad = |what: &str, r: Result<(), VerifyError>| {
        assert!(
            r.is_err(),
            "tampered inclusion proof ({what}) verified: m={m} n={n}"
        );
    };
    for (i, _) in proof.iter().enumerate() {
        let mut p = proof.to_vec();
        p[i] = flip(&p[i], i * 37 + m);
        bad("flipped bit", verify_inclusion(leaf, mu, nu, &p, root));
    }
    if !proof.is_empty() {
        bad(
            "dropped last",
            verify_inclusion(leaf, mu, nu, &proof[..proof.len() - 1], root),
        );
        bad(
            "dropped first",
            verify_inclusion(leaf, mu, nu, &proof[1..], root),
        );
    }
    let mut p = proof.to_vec();
    p.push(JUNK);
    bad("added last", verify_inclusion(leaf, mu, nu, &p, root));
    let mut p = vec![*root];
    p.extend_from_slice(proof);
    bad("added first", verify_inclusion(leaf, mu, nu, &p, root));
    for wrong in [mu ^ 1, mu + 1, mu.wrapping_sub(1), mu ^ 2, nu] {
        if wrong != mu {
            bad(
                "wrong index",
                verify_inclusion(leaf, wrong, nu, proof, root),
            );
        }
    }
    bad(
        "flipped leaf",
        verify_inclusion(&flip(leaf, m), mu, nu, proof, root),
    );
    if n > 1 {
        bad(
            "other leaf",
            verify_inclusion(&leaves[(m + 1) % n], mu, nu, proof, root),
        );
    }
    bad(
        "flipped root",
        verify_inclusion(leaf, mu, nu, proof, &flip(root, 3)),
    );
    bad(
        "empty root",
        verify_inclusion(leaf, mu, nu, proof, &EMPTY_ROOT),
    );
}

/// Every way of tampering with a consistency proof from `m` to `n`; each must be rejected.
fn assert_consistency_tamper_fails(roots: &[Hash], m: usize, n: usize, proof: &[Hash]) {
    let (mu, nu) = (m as u64, n as u64);
    let (r1, r2) = (&roots[m], &roots[n]);
    let bad = |what: &str, r: Result<(), VerifyError>| {
        assert!(
            r.is_err(),
            "tampered consistency proof ({what}) verified: m={m} n={n}"
        );
    };
    for (i, _) in proof.iter().enumerate() {
        let mut p = proof.to_vec();
        p[i] = flip(&p[i], i * 41 + n);
        bad("flipped bit", verify_consistency(mu, nu, r1, r2, &p));
    }
    if !proof.is_empty() {
        bad(
            "dropped last",
            verify_consistency(mu, nu, r1, r2, &proof[..proof.len() - 1]),
        );
        bad(
            "dropped first",
            verify_consistency(mu, nu, r1, r2, &proof[1..]),
        );
        bad("empty", verify_consistency(mu, nu, r1, r2, &[]));
    }
    let mut p = proof.to_vec();
    p.push(*r1);
    bad("added last", verify_consistency(mu, nu, r1, r2, &p));
    let mut p = vec![*r2];
    p.extend_from_slice(proof);
    bad("added first", verify_consistency(mu, nu, r1, r2, &p));
    bad(
        "flipped root1",
        verify_consistency(mu, nu, &flip(r1, 5), r2, proof),
    );
    bad(
        "flipped root2",
        verify_consistency(mu, nu, r1, &flip(r2, 5), proof),
    );
    if m != n {
        bad("swapped roots", verify_consistency(mu, nu, r2, r1, proof));
    }
    // Not tampered with here: the sizes. RFC 9162 verification binds the sizes only through the
    // roots (a checkpoint signs size and root together), so e.g. the proof from 1 to 3 leaves
    // also "proves" 1 to 4 leaves against the root of 3 leaves: it has the same shape.
}

#[test]
fn exhaustive_up_to_256_leaves_at_every_historical_size() {
    const N: usize = 256;
    let leaves = leaves(N);
    let tree = tree_of(&leaves);
    let roots: Vec<Hash> = (0..=N).map(|n| mth(&leaves[..n])).collect();
    assert_eq!(roots[0], EMPTY_ROOT);

    let mut proofs = 0usize;
    for n in 0..=N {
        assert_eq!(tree.root_at(n as u64), Ok(roots[n]), "root at {n}");
        for m in 0..n {
            let got = tree.inclusion_proof(m as u64, n as u64).unwrap();
            assert_eq!(got, path(m, &leaves[..n]), "inclusion m={m} n={n}");
            verify_inclusion(&leaves[m], m as u64, n as u64, &got, &roots[n])
                .unwrap_or_else(|e| panic!("inclusion m={m} n={n}: {e}"));
            assert_inclusion_tamper_fails(&leaves[..n], m, &got, &roots[n]);
            proofs += 1;
        }
        for m in 1..=n {
            let got = tree.consistency_proof(m as u64, n as u64).unwrap();
            assert_eq!(got, consistency(m, &leaves[..n]), "consistency m={m} n={n}");
            verify_consistency(m as u64, n as u64, &roots[m], &roots[n], &got)
                .unwrap_or_else(|e| panic!("consistency m={m} n={n}: {e}"));
            assert_consistency_tamper_fails(&roots, m, n, &got);
            proofs += 1;
        }
    }
    assert_eq!(proofs, 2 * N * (N + 1) / 2);
}

/// A tree built only up to size n answers exactly like a larger tree asked at size n.
#[test]
fn historical_answers_equal_answers_of_a_tree_that_size() {
    let leaves = leaves(100);
    let big = tree_of(&leaves);
    for n in 0..=100usize {
        let small = tree_of(&leaves[..n]);
        assert_eq!(small.size(), n as u64);
        assert_eq!(small.root(), big.root_at(n as u64).unwrap());
        for m in 0..n as u64 {
            assert_eq!(
                small.inclusion_proof(m, n as u64),
                big.inclusion_proof(m, n as u64)
            );
            assert_eq!(
                small.consistency_proof(m + 1, n as u64),
                big.consistency_proof(m + 1, n as u64)
            );
        }
    }
}

const BIG: usize = 100_000;

fn big() -> &'static (Vec<Hash>, MemoryTree) {
    static BIG_TREE: OnceLock<(Vec<Hash>, MemoryTree)> = OnceLock::new();
    BIG_TREE.get_or_init(|| {
        let l = leaves(BIG);
        let t = tree_of(&l);
        (l, t)
    })
}

/// (size, index, from): a historical size, a leaf below it and an older size.
fn historical() -> impl Strategy<Value = (usize, usize, usize)> {
    prop_oneof![
        1..=BIG,
        Just(BIG),
        (1u32..17).prop_map(|k| 1usize << k),
        (1u32..17).prop_map(|k| (1usize << k) + 1),
        (1u32..17).prop_map(|k| (1usize << k) - 1),
    ]
    .prop_flat_map(|n| (Just(n), 0..n, 1..=n))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn sampled_up_to_100k_leaves((n, m, from) in historical()) {
        let (leaves, tree) = big();
        let d = &leaves[..n];
        let root = mth(d);
        prop_assert_eq!(tree.root_at(n as u64), Ok(root));

        let p = tree.inclusion_proof(m as u64, n as u64).unwrap();
        prop_assert_eq!(&p, &path(m, d));
        prop_assert_eq!(verify_inclusion(&leaves[m], m as u64, n as u64, &p, &root), Ok(()));
        assert_inclusion_tamper_fails(d, m, &p, &root);

        let root1 = tree.root_at(from as u64).unwrap();
        let c = tree.consistency_proof(from as u64, n as u64).unwrap();
        prop_assert_eq!(&c, &consistency(from, d));
        prop_assert_eq!(verify_consistency(from as u64, n as u64, &root1, &root, &c), Ok(()));
        let mut roots = vec![EMPTY_ROOT; n + 1];
        roots[from] = root1;
        roots[n] = root;
        assert_consistency_tamper_fails(&roots, from, n, &c);
    }
}

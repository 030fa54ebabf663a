//! Requests and proofs come from the network: arbitrary `u64` inputs must give errors, never
//! panics (no overflow, no out-of-bounds node look-up), up to sizes near `u64::MAX`.

use corridor_merkle::{
    Hash, MemoryTree, NodeSource, ProofError, consistency_proof, consistency_proof_len,
    inclusion_proof, inclusion_proof_len, leaf_hash, node_hash, root_at, verify_consistency,
    verify_inclusion,
};
use proptest::prelude::*;

/// Sizes, indices: mostly small (so that some requests are in range), some anywhere in `u64`,
/// some at the edges.
fn num() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..80,
        any::<u64>(),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        (0u32..64).prop_map(|k| 1u64 << k),
        (0u32..64).prop_map(|k| (1u64 << k).wrapping_sub(1)),
    ]
}

fn tree(n: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    t.extend((0..n).map(|i| leaf_hash(&i.to_le_bytes())));
    t
}

/// A log of up to `u64::MAX` identical leaves: every node on a level has the same hash, so a
/// consistent node source for astronomically large trees fits in 64 hashes. It checks that the
/// index and size arithmetic holds up at the top of the `u64` range, and that it only asks for
/// nodes that exist.
struct Uniform {
    size: u64,
    levels: [Hash; 64],
}

impl Uniform {
    fn new(size: u64) -> Self {
        let mut levels = [leaf_hash(b"same"); 64];
        for l in 1..64 {
            levels[l] = node_hash(&levels[l - 1], &levels[l - 1]);
        }
        Uniform { size, levels }
    }
}

impl NodeSource for Uniform {
    fn size(&self) -> u64 {
        self.size
    }
    fn node(&self, level: u32, index: u64) -> Hash {
        let end = (u128::from(index) + 1) << level;
        assert!(
            end <= u128::from(self.size),
            "node ({level}, {index}) beyond size {}",
            self.size
        );
        self.levels[level as usize]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn memory_tree_requests_never_panic(n in 0u64..40, a in num(), b in num()) {
        let t = tree(n);
        match t.root_at(a) {
            Ok(_) => prop_assert!(a <= n),
            Err(e) => prop_assert_eq!(e, ProofError::SizeOutOfRange { size: a, tree_size: n }),
        }
        match t.inclusion_proof(a, b) {
            Ok(p) => {
                prop_assert!(a < b && b <= n);
                let root = t.root_at(b).unwrap();
                prop_assert_eq!(verify_inclusion(&t.leaf(a).unwrap(), a, b, &p, &root), Ok(()));
            }
            Err(ProofError::SizeOutOfRange { size, tree_size }) => {
                prop_assert!(b > n && size == b && tree_size == n);
            }
            Err(ProofError::IndexOutOfRange { index, size }) => {
                prop_assert!(b <= n && a >= b && index == a && size == b);
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
        match t.consistency_proof(a, b) {
            Ok(p) => {
                prop_assert!(0 < a && a <= b && b <= n);
                let (r1, r2) = (t.root_at(a).unwrap(), t.root_at(b).unwrap());
                prop_assert_eq!(verify_consistency(a, b, &r1, &r2, &p), Ok(()));
            }
            Err(ProofError::SizeOutOfRange { size, tree_size }) => {
                prop_assert!(b > n && size == b && tree_size == n);
            }
            Err(ProofError::InvalidRange { from, to }) => {
                prop_assert!(b <= n && (a == 0 || a > b) && from == a && to == b);
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
        prop_assert_eq!(t.leaf(a).is_some(), a < n);
    }

    #[test]
    fn huge_trees_prove_and_verify(size in num(), a in num(), b in num()) {
        let src = Uniform::new(size);
        let (index, small) = (a.min(b), a.max(b).min(size));
        let root = root_at(&src, size).unwrap();
        if index < size {
            let p = inclusion_proof(&src, index, size).unwrap();
            prop_assert_eq!(Some(p.len()), inclusion_proof_len(index, size));
            prop_assert!(p.len() <= 64);
            prop_assert_eq!(verify_inclusion(&src.levels[0], index, size, &p, &root), Ok(()));
        } else {
            prop_assert!(inclusion_proof(&src, index, size).is_err());
        }
        if small > 0 {
            let p = consistency_proof(&src, small, size).unwrap();
            prop_assert_eq!(Some(p.len()), consistency_proof_len(small, size));
            let r1 = root_at(&src, small).unwrap();
            prop_assert_eq!(verify_consistency(small, size, &r1, &root, &p), Ok(()));
        } else {
            prop_assert!(consistency_proof(&src, small, size).is_err());
        }
        prop_assert!(root_at(&src, size.saturating_add(1)).is_err() || size == u64::MAX);
    }

    #[test]
    fn verifiers_never_panic(
        a in num(),
        b in num(),
        hashes in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
        r1 in any::<[u8; 32]>(),
        r2 in any::<[u8; 32]>(),
    ) {
        // Random proofs essentially never verify; what matters is an answer without a panic.
        let inc = verify_inclusion(&r1, a, b, &hashes, &r2);
        let con = verify_consistency(a, b, &r1, &r2, &hashes);
        prop_assert!(inc.is_err());
        if !(a == b && a > 0 && hashes.is_empty() && r1 == r2) {
            prop_assert!(con.is_err());
        }
        let _ = (inclusion_proof_len(a, b), consistency_proof_len(a, b));
    }
}

//! RFC 9162 (Certificate Transparency 2.0) Merkle tree maths for corridor's log: tree heads,
//! inclusion proofs and consistency proofs, and their verification. Pure: no I/O, no clock.
//!
//! Hashing follows RFC 9162 §2.1.1 with SHA-256: a leaf is `SHA-256(0x00 ‖ data)`, an interior
//! node `SHA-256(0x01 ‖ left ‖ right)`, and the empty tree's root is `SHA-256("")`. The distinct
//! prefixes stop a leaf from ever posing as an interior node (second-preimage attacks).
//!
//! # Why not `ct-merkle`
//!
//! Monitors, witnesses and field clients hold *old* signed tree heads and must be able to ask
//! for proofs at exactly those sizes: "is entry 17 in the tree of size 40 000 you signed last
//! week?", "is today's tree an extension of that one?". The `ct-merkle` crate keeps its leaves in
//! memory and proves only at its current size, so it cannot answer. This crate proves at **any
//! historical size**.
//!
//! # How
//!
//! Every root and proof at size `n` is made of *perfect* subtrees (complete subtrees of `2^k`
//! leaves starting at a multiple of `2^k`) plus at most one *ragged* right-edge subtree, whose
//! hash is recomputed from at most `log2(n)` perfect nodes. Perfect nodes never change once the
//! leaves under them exist, so a store that keeps them (a [`NodeSource`]; [`MemoryTree`] in
//! memory, a database table elsewhere) serves every historical size with `O(log n)` look-ups and
//! at most `2·log2(n)` hashes per proof.
//!
//! # Edge cases (decided per RFC 9162 and the transparency-dev/merkle reference)
//!
//! * Inclusion: needs `index < size`; the tree of size 0 has no proofs.
//! * Consistency from size 0 is refused ([`ProofError::InvalidRange`],
//!   [`VerifyError::EmptyFirstTree`]): RFC 9162 §2.1.4 defines proofs for `0 < m ≤ n` only, and
//!   the empty tree is trivially a prefix of every tree, so such a "proof" proves nothing and
//!   the reference vectors require verifiers to reject it, even with `to == 0`.
//! * Consistency between equal sizes `m == n > 0` is the empty proof, and verifies exactly when
//!   the two roots are equal (as in the reference implementation).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use sha2::{Digest, Sha256};

/// A SHA-256 digest: leaf hashes, node hashes and tree roots are all this type, so they cannot be
/// confused with variable-length byte strings of unknown provenance.
pub type Hash = [u8; 32];

/// Root of the empty tree, `SHA-256("")` (RFC 9162 §2.1.1): a constant so that the log's very first
/// tree head needs no hashing and clients can recognise it.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Hash of a log entry's bytes, prefixed with `0x00` so that no leaf can collide with an interior
/// node (whose prefix is `0x01`).
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0x00])
        .chain_update(data)
        .finalize()
        .into()
}

/// Hash of an interior node from its two children, prefixed with `0x01` for the same domain
/// separation as [`leaf_hash`].
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([0x01])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// A root or proof the tree cannot give. Requests come from the network, so bad ones are errors
/// the server can turn into a 4xx, never panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf does not exist in the tree of the requested size (`index >= size`, including any
    /// index in the empty tree).
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// Requested leaf index.
        index: u64,
        /// Requested tree size.
        size: u64,
    },
    /// The requested tree size is in the future: more leaves than are stored.
    #[error("tree size {size} is larger than the log ({tree_size} leaves)")]
    SizeOutOfRange {
        /// Requested tree size.
        size: u64,
        /// Leaves actually stored.
        tree_size: u64,
    },
    /// A consistency proof needs `0 < from <= to`: a tree cannot be proven to extend a larger one,
    /// and a proof from the empty tree proves nothing (RFC 9162 §2.1.4).
    #[error("consistency proof needs 0 < from <= to, got from={from} to={to}")]
    InvalidRange {
        /// Older tree size.
        from: u64,
        /// Newer tree size.
        to: u64,
    },
}

/// Why a proof was rejected. Distinct variants let monitors log *what* was wrong when a log
/// misbehaves, while any variant means "do not trust".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The leaf index is not below the tree size, so no proof can exist.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// Claimed leaf index.
        index: u64,
        /// Claimed tree size.
        size: u64,
    },
    /// The first tree is larger than the second: logs only grow.
    #[error("tree size {size1} is larger than {size2}")]
    InvalidSizes {
        /// Claimed older size.
        size1: u64,
        /// Claimed newer size.
        size2: u64,
    },
    /// A consistency proof from the empty tree is meaningless and refused (see the crate docs).
    #[error("consistency proof from the empty tree is meaningless")]
    EmptyFirstTree,
    /// The proof does not have the number of hashes the sizes and index dictate.
    #[error("proof has {got} hashes, expected {expected}")]
    WrongProofLength {
        /// Length dictated by the sizes (and index).
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// The root recomputed from an inclusion proof differs from the claimed root.
    #[error("recomputed root does not match the claimed root")]
    RootMismatch,
    /// The older root recomputed from a consistency proof differs from the claimed one.
    #[error("recomputed first root does not match the claimed first root")]
    FirstRootMismatch,
    /// The newer root recomputed from a consistency proof differs from the claimed one (or, for
    /// equal sizes, the two claimed roots differ).
    #[error("recomputed second root does not match the claimed second root")]
    SecondRootMismatch,
}

/// A source of *perfect* subtree hashes, the only thing proofs at any historical size need.
///
/// Node `(level, index)` is the root of the complete subtree over leaves
/// `[index << level, (index + 1) << level)`; level 0 holds the leaf hashes. Only nodes whose
/// whole range lies below [`size`](NodeSource::size) exist, and the functions of this crate ask
/// for no others. Every proof at size `n` is built from perfect nodes plus at most `log2(n)`
/// hashes of the ragged right edge, recomputed from perfect nodes, so a store only has to keep
/// perfect nodes, which never change once written.
pub trait NodeSource {
    /// Number of leaves stored: the largest size roots and proofs can be asked for.
    fn size(&self) -> u64;
    /// The perfect node `(level, index)`. Implementations may assume the node exists
    /// (`(index + 1) << level <= size()`) and panic otherwise.
    fn node(&self, level: u32, index: u64) -> Hash;
}

/// Lets a borrowed store (for example a read guard or `&dyn NodeSource`) be passed where an owned
/// one is expected.
impl<T: NodeSource + ?Sized> NodeSource for &T {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn node(&self, level: u32, index: u64) -> Hash {
        (**self).node(level, index)
    }
}

/// Number of significant bits of `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// Hash of the ragged right-edge subtree of the tree of size `n` at `level`: the leaves
/// `[(n >> level) << level, n)`, i.e. the perfect nodes for the bits of `n` below `level`, folded
/// right to left. `None` when `n` is a multiple of `2^level` (no ragged part). `level` may be 64
/// to get the root of the whole tree.
fn ragged<S: NodeSource + ?Sized>(src: &S, n: u64, level: u32) -> Option<Hash> {
    let mut bits = n & low_mask(level);
    let mut acc: Option<Hash> = None;
    while bits != 0 {
        let b = bits.trailing_zeros();
        let h = src.node(b, (n >> b) - 1);
        acc = Some(match acc {
            None => h,
            Some(right) => node_hash(&h, &right),
        });
        bits &= bits - 1;
    }
    acc
}

/// Mask of the bits below `level` (all bits for `level >= 64`).
fn low_mask(level: u32) -> u64 {
    1u64.checked_shl(level).map_or(u64::MAX, |p| p - 1)
}

/// Length of the path from the perfect node `(level, index)` to the root of the tree of size
/// `n`: how many non-empty siblings it has. This is the RFC 9162 audit path length generalised to
/// a node above the leaves. Requires `n > 0`.
fn path_len(level: u32, index: u64, n: u64) -> usize {
    // Above `level` the tree of size n looks like a tree of ceil(n / 2^level) leaves.
    let last = (n - 1) >> level;
    let inner = bit_len(index ^ last);
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Appends to `out` the siblings on the path from the perfect node `(level, index)` up to the
/// root of the tree of size `n`, lowest first. Empty siblings (beyond `n`) are skipped, as the
/// RFC's unbalanced tree promotes the lone child; the one sibling that straddles `n`, if any, is
/// the ragged-edge hash.
fn push_path<S: NodeSource + ?Sized>(src: &S, level: u32, index: u64, n: u64, out: &mut Vec<Hash>) {
    let height = bit_len(n - 1); // levels until a single node covers [0, n)
    let mut idx = index;
    for l in level..height {
        let sib = idx ^ 1;
        if sib < (n >> l) {
            out.push(src.node(l, sib));
        } else if sib <= (n - 1) >> l {
            // sib straddles n: [sib << l, n), a ragged subtree (n is not a multiple of 2^l here).
            if let Some(h) = ragged(src, n, l) {
                out.push(h);
            }
        }
        idx >>= 1;
    }
}

fn check_size<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<(), ProofError> {
    let tree_size = src.size();
    if size > tree_size {
        return Err(ProofError::SizeOutOfRange { size, tree_size });
    }
    Ok(())
}

/// The tree head at a historical `size`, so that signed checkpoints can be re-derived and old
/// ones checked. `O(log n)` look-ups and hashes.
pub fn root_at<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Hash, ProofError> {
    check_size(src, size)?;
    Ok(ragged(src, size, u64::BITS).unwrap_or(EMPTY_ROOT))
}

/// The RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf `index` in the tree of `size`
/// leaves, leaf-side first, so a client holding a checkpoint of that size can check its entry is
/// in it. Errors when the size is in the future or the index is not below it.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_size(src, size)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::with_capacity(path_len(0, index, size));
    push_path(src, 0, index, size, &mut proof);
    Ok(proof)
}

/// The RFC 9162 §2.1.4.1 consistency proof that the tree of size `to` extends the tree of size
/// `from`, so a client holding an old checkpoint can check the log never rewrote history.
/// `from == to` gives the empty proof; `from == 0` or `from > to` is [`ProofError::InvalidRange`].
pub fn consistency_proof<S: NodeSource + ?Sized>(
    src: &S,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_size(src, to)?;
    if from == 0 || from > to {
        return Err(ProofError::InvalidRange { from, to });
    }
    if from == to {
        return Ok(Vec::new());
    }
    // The largest perfect subtree ending at `from`: node (level, index). The proof is that node
    // (omitted when it is the whole old tree, i.e. `from` is a power of two: the verifier has it
    // as the old root) followed by its audit path in the tree of size `to`.
    let level = from.trailing_zeros();
    let index = (from - 1) >> level;
    let seed = usize::from(index != 0);
    let mut proof = Vec::with_capacity(seed + path_len(level, index, to));
    if index != 0 {
        proof.push(src.node(level, index));
    }
    push_path(src, level, index, to, &mut proof);
    Ok(proof)
}

/// Expected inclusion proof length for leaf `index` in a tree of `size` leaves, or `None` when
/// `index >= size`; lets servers and clients reject malformed proofs before hashing anything.
pub fn inclusion_proof_len(index: u64, size: u64) -> Option<usize> {
    (index < size).then(|| path_len(0, index, size))
}

/// Expected consistency proof length between sizes `from` and `to`, or `None` when no proof is
/// defined (`from == 0` or `from > to`); for the same early rejection as [`inclusion_proof_len`].
pub fn consistency_proof_len(from: u64, to: u64) -> Option<usize> {
    if from == 0 || from > to {
        return None;
    }
    if from == to {
        return Some(0);
    }
    let level = from.trailing_zeros();
    let index = (from - 1) >> level;
    Some(usize::from(index != 0) + path_len(level, index, to))
}

/// The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–4), for callers that look the
/// root up afterwards (for example, among several known checkpoints) rather than holding it.
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    let expected =
        inclusion_proof_len(index, size).ok_or(VerifyError::IndexOutOfRange { index, size })?;
    if proof.len() != expected {
        return Err(VerifyError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            // Unreachable after the length check; kept because it is step 4a of the RFC.
            return Err(VerifyError::WrongProofLength {
                expected,
                got: proof.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(VerifyError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    Ok(r)
}

/// Check that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2): how a client confirms the log really holds its command.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    let r = root_from_inclusion_proof(leaf_hash, index, size, proof)?;
    if r != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Check that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves
/// with root `root1` (RFC 9162 §2.1.4.2): how a client or monitor confirms the log is append-only
/// between two checkpoints it holds. Equal sizes need an empty proof and equal roots; a first size
/// of 0 is always refused (see the crate docs).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if size1 > size2 {
        return Err(VerifyError::InvalidSizes { size1, size2 });
    }
    if size1 == 0 {
        return Err(VerifyError::EmptyFirstTree);
    }
    let expected = consistency_proof_len(size1, size2).unwrap_or(0);
    if proof.len() != expected {
        return Err(VerifyError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    if size1 == size2 {
        return if root1 == root2 {
            Ok(())
        } else {
            Err(VerifyError::SecondRootMismatch)
        };
    }
    // RFC 9162 §2.1.4.2, step 2: when size1 is a power of two the proof starts implicitly with
    // root1. Iterate without building the prepended array.
    let (first, rest) = if size1.is_power_of_two() {
        (root1, proof)
    } else {
        // Non-empty: `expected >= 1` here because the seed node is included.
        (&proof[0], &proof[1..])
    };
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return Err(VerifyError::WrongProofLength {
                expected,
                got: proof.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(VerifyError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    if fr != *root1 {
        return Err(VerifyError::FirstRootMismatch);
    }
    if sr != *root2 {
        return Err(VerifyError::SecondRootMismatch);
    }
    Ok(())
}

/// Every perfect node of the log in memory, so the server answers roots and proofs at any
/// historical size without touching the database.
///
/// Level `l` holds the `size >> l` perfect nodes of that level: about two hashes per leaf in
/// total (10M leaves ≈ 640 MB). Appending is amortised one hash per leaf; proofs cost `O(log n)`
/// look-ups and at most `2·log2(n)` hashes.
#[derive(Debug, Default, Clone)]
pub struct MemoryTree {
    /// `levels[l][i]` is node `(l, i)`; `levels[0]` are the leaf hashes.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree (size 0, root [`EMPTY_ROOT`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tree with room for `leaves` leaves, so that loading a large log at start-up does
    /// not repeatedly reallocate (and transiently double) hundreds of megabytes.
    pub fn with_capacity(leaves: usize) -> Self {
        let mut levels = Vec::new();
        let mut n = leaves;
        while n > 0 {
            levels.push(Vec::with_capacity(n));
            n /= 2;
        }
        Self { levels }
    }

    /// Append a leaf hash (the sequencer's one write), completing the perfect nodes it closes:
    /// one new node on average, so amortised O(1) hashes.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut h = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(h);
            let n = row.len();
            if n % 2 == 1 {
                return;
            }
            h = node_hash(&row[n - 2], &row[n - 1]);
            level += 1;
        }
    }

    /// Append many leaf hashes, as when replaying the log from storage at start-up.
    pub fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaves: I) {
        for leaf in leaves {
            self.push(leaf);
        }
    }

    /// Number of leaves: the size of the newest tree this store can prove at.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |row| row.len() as u64)
    }

    /// The current tree head, for signing a checkpoint.
    pub fn root(&self) -> Hash {
        ragged(self, self.size(), u64::BITS).unwrap_or(EMPTY_ROOT)
    }

    /// The tree head at a historical size; see [`root_at`].
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        root_at(self, size)
    }

    /// Inclusion proof at a historical size; see [`inclusion_proof`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        inclusion_proof(self, index, size)
    }

    /// Consistency proof between historical sizes; see [`consistency_proof`].
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
        consistency_proof(self, from, to)
    }

    /// The leaf hash at `index`, served alongside inclusion proofs; `None` if out of range.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.first()?.get(i).copied()
    }
}

impl NodeSource for MemoryTree {
    fn size(&self) -> u64 {
        MemoryTree::size(self)
    }

    fn node(&self, level: u32, index: u64) -> Hash {
        self.levels[level as usize][index as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u64) -> MemoryTree {
        let mut t = MemoryTree::new();
        t.extend((0..n).map(|i| leaf_hash(&i.to_be_bytes())));
        t
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        let h: Hash = Sha256::digest(b"").into();
        assert_eq!(h, EMPTY_ROOT);
        assert_eq!(MemoryTree::new().root(), EMPTY_ROOT);
        assert_eq!(tree(5).root_at(0), Ok(EMPTY_ROOT));
    }

    #[test]
    fn known_leaf_hash() {
        // RFC 6962 / transparency-dev test data: leaf hash of the empty string.
        let want = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
        let got: String = leaf_hash(b"").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn push_stores_two_hashes_per_leaf() {
        let t = tree(1000);
        let stored: usize = t.levels.iter().map(Vec::len).sum();
        assert_eq!(stored, 1000 + 500 + 250 + 125 + 62 + 31 + 15 + 7 + 3 + 1);
        assert_eq!(t.levels[9], vec![t.node(9, 0)]);
        assert_eq!(t.leaf(999), Some(leaf_hash(&999u64.to_be_bytes())));
        assert_eq!(t.leaf(1000), None);
        assert_eq!(t.leaf(u64::MAX), None);
    }

    #[test]
    fn small_roots_by_hand() {
        let t = tree(3);
        let l: Vec<Hash> = (0..3).map(|i| t.leaf(i).unwrap()).collect();
        assert_eq!(t.root_at(1), Ok(l[0]));
        assert_eq!(t.root_at(2), Ok(node_hash(&l[0], &l[1])));
        assert_eq!(t.root(), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
        assert_eq!(t.inclusion_proof(2, 3), Ok(vec![node_hash(&l[0], &l[1])]));
        assert_eq!(t.inclusion_proof(0, 3), Ok(vec![l[1], l[2]]));
        assert_eq!(t.consistency_proof(2, 3), Ok(vec![l[2]]));
    }

    #[test]
    fn with_capacity_behaves_like_new() {
        let mut a = MemoryTree::with_capacity(100);
        a.extend((0..77u64).map(|i| leaf_hash(&i.to_be_bytes())));
        assert_eq!(a.root(), tree(77).root());
        assert_eq!(MemoryTree::with_capacity(10).root(), EMPTY_ROOT);
    }

    #[test]
    fn proof_lengths_match_generated_proofs() {
        let t = tree(70);
        for size in 1..=70 {
            for index in 0..size {
                let p = t.inclusion_proof(index, size).unwrap();
                assert_eq!(inclusion_proof_len(index, size), Some(p.len()));
            }
            for from in 1..=size {
                let p = t.consistency_proof(from, size).unwrap();
                assert_eq!(consistency_proof_len(from, size), Some(p.len()));
            }
        }
        assert_eq!(inclusion_proof_len(0, 0), None);
        assert_eq!(consistency_proof_len(0, 5), None);
        assert_eq!(consistency_proof_len(6, 5), None);
        assert_eq!(inclusion_proof_len(0, u64::MAX), Some(64));
    }

    #[test]
    fn out_of_range_is_an_error() {
        let t = tree(5);
        let e = |index, size| Err(ProofError::IndexOutOfRange { index, size });
        assert_eq!(t.inclusion_proof(5, 5), e(5, 5));
        assert_eq!(t.inclusion_proof(0, 0), e(0, 0));
        assert_eq!(
            t.inclusion_proof(0, 6),
            Err(ProofError::SizeOutOfRange {
                size: 6,
                tree_size: 5
            })
        );
        assert_eq!(
            t.root_at(u64::MAX),
            Err(ProofError::SizeOutOfRange {
                size: u64::MAX,
                tree_size: 5
            })
        );
        let r = |from, to| Err(ProofError::InvalidRange { from, to });
        assert_eq!(t.consistency_proof(0, 3), r(0, 3));
        assert_eq!(t.consistency_proof(0, 0), r(0, 0));
        assert_eq!(t.consistency_proof(4, 3), r(4, 3));
        assert_eq!(
            t.consistency_proof(3, u64::MAX),
            Err(ProofError::SizeOutOfRange {
                size: u64::MAX,
                tree_size: 5
            })
        );
        assert_eq!(t.consistency_proof(3, 3), Ok(vec![]));
        assert_eq!(MemoryTree::new().consistency_proof(0, 0), r(0, 0));
    }

    #[test]
    fn verify_rejects_bad_sizes() {
        let h = leaf_hash(b"x");
        assert_eq!(
            verify_inclusion(&h, 0, 0, &[], &h),
            Err(VerifyError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            verify_consistency(2, 1, &h, &h, &[]),
            Err(VerifyError::InvalidSizes { size1: 2, size2: 1 })
        );
        assert_eq!(
            verify_consistency(0, 0, &EMPTY_ROOT, &EMPTY_ROOT, &[]),
            Err(VerifyError::EmptyFirstTree)
        );
        assert_eq!(verify_consistency(1, 1, &h, &h, &[]), Ok(()));
        assert_eq!(
            verify_consistency(1, 1, &h, &h, &[h]),
            Err(VerifyError::WrongProofLength {
                expected: 0,
                got: 1
            })
        );
    }

    #[test]
    fn borrowed_and_dyn_sources_work() {
        let t = tree(9);
        let d: &dyn NodeSource = &t;
        assert_eq!(root_at(d, 9), Ok(t.root()));
        assert_eq!(inclusion_proof(&d, 3, 7), t.inclusion_proof(3, 7));
    }
}

//! Keys and signatures.
//!
//! A key is named by its own public key (standard base64, 44 characters). Using the key itself as
//! its id means a signature can be checked without looking anything up, so the shell can verify
//! signatures on every core before the single sequencer sees the command. The server verifies
//! with `verify_strict`, and small-order ("weak") public keys are refused at parse time, so the
//! server and other implementations cannot disagree about a signature. `corridor verify` checks a
//! whole log in batches ([`verify_many`]) and re-checks a failing batch with `verify_strict`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Rejection;

/// Standard base64 with padding: the one encoding of binary data in corridor's JSON.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decode standard base64, naming the field on error.
pub fn unb64(field: &str, text: &str) -> Result<Vec<u8>, Rejection> {
    B64.decode(text)
        .map_err(|e| Rejection::invalid(field, format!("not standard base64: {e}")))
}

/// SHA-256, as a fixed array.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// An Ed25519 public key that has passed the weak-key check. It keeps the decompressed point
/// beside the bytes: decompression costs a field inversion, and a verifier that checks a million
/// signatures by a handful of keys should pay it once per key, not once per signature.
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; 32],
    point: VerifyingKey,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}
impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl PublicKey {
    /// Parse a key id (standard base64 of the 32-byte key), refusing malformed and weak keys.
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        let bytes = B64
            .decode(text)
            .map_err(|e| Rejection::InvalidKey(format!("{text:?} is not standard base64: {e}")))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Rejection::InvalidKey(format!("{text:?} is not 32 bytes")))?;
        Self::from_bytes(arr)
    }

    /// Check raw bytes: a valid curve point, not of small order, canonically encoded.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, Rejection> {
        let point = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| Rejection::InvalidKey("not a valid Ed25519 point".into()))?;
        if point.is_weak() {
            return Err(Rejection::InvalidKey("small-order key refused".into()));
        }
        Ok(PublicKey { bytes, point })
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The key id: standard base64 of the key.
    pub fn id(&self) -> String {
        b64(&self.bytes)
    }

    /// Strict Ed25519 verification of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Rejection> {
        let sig: [u8; 64] = signature.try_into().map_err(|_| Rejection::BadSignature)?;
        self.point
            .verify_strict(message, &Signature::from_bytes(&sig))
            .map_err(|_| Rejection::BadSignature)
    }
}

/// How many signatures one multi-scalar multiplication checks. Larger batches cost less per
/// signature (the multiplication is Pippenger's, whose cost per point falls with the count), and a
/// valid log never pays for the one-by-one re-check a failed batch triggers.
pub const BATCH: usize = 1024;

/// Check many signatures at once, and say which ones fail under `verify_strict`. Each item's
/// message is `prefix` followed by the item's bytes: a log's signatures all cover the same
/// domain-separation prefix, so it is hashed in place rather than copied in front of every
/// command.
///
/// Each batch is checked with one multi-scalar multiplication of the Ed25519 equation weighted
/// by random 128-bit scalars `z` (derived from `seed`, which the caller draws afresh from the
/// operating system, so whoever made the signatures cannot predict them):
///
/// `[−Σ z·s]B + Σ z·R + Σ_keys (Σ z·k) A = 0`
///
/// We write this instead of calling ed25519-dalek's `verify_batch` because that function gives
/// every signature its own `A` term, while a log has a handful of keys signing thousands of
/// entries: summing the scalars of each key first makes the multiplication about half as long
/// (`n + keys + 1` points instead of `2n + 1`). Everything `verify_strict` checks besides the
/// equation is checked here too: `s` canonical, `R` canonically encoded, on the curve and not of
/// small order (small-order keys never get here: [`PublicKey::from_bytes`] refuses them).
///
/// A batch that fails, or that holds anything unusual, is re-checked one by one with
/// `verify_strict`, so every index returned is one `verify_strict` refuses. The converse has one
/// gap, as with every batch verifier: a signature whose `R` was deliberately given a torsion
/// component fails `verify_strict` but passes a batch with probability up to 1/2 (over `z`), so
/// the verdict is not deterministic. That is why neither the server nor `corridor verify` uses
/// this: both check each signature with `verify_strict`. It stays for the benchmark that
/// measures what batching would save.
pub fn verify_many(
    prefix: &[u8],
    items: &[(&PublicKey, &[u8], &[u8; 64])],
    seed: &[u8; 32],
) -> Vec<usize> {
    let mut weights = Weights::new(seed);
    let mut bad = Vec::new();
    for (n, chunk) in items.chunks(BATCH).enumerate() {
        if !batch_holds(prefix, chunk, &mut weights) {
            for (i, (k, m, s)) in chunk.iter().enumerate() {
                if k.verify(&[prefix, m].concat(), *s).is_err() {
                    bad.push(n * BATCH + i);
                }
            }
        }
    }
    bad
}

/// Whether the weighted equation holds for every signature of `chunk` (false also when anything
/// would make `verify_strict` refuse one of them, or for a batch of one: the caller then checks
/// each with `verify_strict`).
#[allow(non_snake_case)]
fn batch_holds(
    prefix: &[u8],
    chunk: &[(&PublicKey, &[u8], &[u8; 64])],
    weights: &mut Weights,
) -> bool {
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
    use sha2::Sha512;

    if chunk.len() < 2 {
        return false;
    }
    let mut scalars: Vec<Scalar> = Vec::with_capacity(chunk.len() + 9);
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(chunk.len() + 9);
    // One term per distinct key: (key, Σ z·k over its signatures).
    let mut keys: Vec<(&PublicKey, Scalar)> = Vec::new();
    let mut key_slot: std::collections::BTreeMap<&[u8; 32], usize> = Default::default();
    let mut b_coefficient = Scalar::ZERO;
    for (key, message, signature) in chunk {
        let (r_bytes, s_bytes) = signature.split_at(32);
        let r_bytes: [u8; 32] = r_bytes.try_into().expect("32 bytes");
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(
            s_bytes.try_into().expect("32 bytes"),
        )) else {
            return false;
        };
        // verify_strict compares encodings, so a non-canonical R (y ≥ p) never verifies; the
        // two encodings with x = 0 and the sign bit set are of small-order points, refused below.
        if !y_is_canonical(&r_bytes) {
            return false;
        }
        let Some(R) = CompressedEdwardsY(r_bytes).decompress() else {
            return false;
        };
        if R.is_small_order() {
            return false;
        }
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(r_bytes)
                .chain_update(key.as_bytes())
                .chain_update(prefix)
                .chain_update(message),
        );
        let z = weights.next();
        b_coefficient += z * s;
        scalars.push(z);
        points.push(R);
        let slot = *key_slot.entry(key.as_bytes()).or_insert_with(|| {
            keys.push((key, Scalar::ZERO));
            keys.len() - 1
        });
        keys[slot].1 += z * k;
    }
    scalars.push(-b_coefficient);
    points.push(curve25519_dalek::constants::ED25519_BASEPOINT_POINT);
    for (key, coefficient) in keys {
        scalars.push(coefficient);
        points.push(key.point.to_edwards());
    }
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).is_identity()
}

/// Whether the y coordinate of a compressed point (sign bit aside) is below p = 2^255 − 19.
fn y_is_canonical(bytes: &[u8; 32]) -> bool {
    // y ≥ p only if the top 250 bits are all ones and the low byte is at least 0xed.
    !(bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[0] >= 0xed)
}

/// The random weights of a batch equation: 128-bit scalars from SHA-512 of the seed and a counter
/// (four per hash). 128 bits is what ed25519-dalek and the literature use: a wrong signature
/// slips through only if its weight hits one value in 2^128.
struct Weights {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 64],
    used: usize,
}

impl Weights {
    fn new(seed: &[u8; 32]) -> Self {
        Weights {
            seed: *seed,
            counter: 0,
            block: [0; 64],
            used: 4,
        }
    }

    fn next(&mut self) -> curve25519_dalek::scalar::Scalar {
        if self.used == 4 {
            let h = sha2::Sha512::new()
                .chain_update(b"corridor/v1/batch-weights")
                .chain_update(self.seed)
                .chain_update(self.counter.to_le_bytes())
                .finalize();
            self.block.copy_from_slice(&h);
            self.counter += 1;
            self.used = 0;
        }
        let mut z = [0u8; 32];
        z[..16].copy_from_slice(&self.block[self.used * 16..self.used * 16 + 16]);
        self.used += 1;
        curve25519_dalek::scalar::Scalar::from_bytes_mod_order(z)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.id())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

/// A private key held by a person (CLI, browser) or by the log itself (receipts, checkpoints).
/// The core never creates one from randomness: the shell supplies the 32-byte seed.
#[derive(Clone)]
pub struct Keypair(SigningKey);

impl Keypair {
    /// A keypair from a 32-byte seed (RFC 8032 private key).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Keypair(SigningKey::from_bytes(&seed))
    }

    /// The seed, for writing the key file.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let point = self.0.verifying_key();
        PublicKey {
            bytes: point.to_bytes(),
            point,
        }
    }

    /// Sign raw bytes (callers add their domain-separation prefix).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair(public {})", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signature whose `R` carries a torsion component of order 8, made with the signing key:
    /// `verify_strict` (what the server and `corridor verify` use) refuses it in every run,
    /// while a random-weighted batch accepts it whenever the weight happens to be a multiple
    /// of 8. That gap is why verification is not batched.
    #[test]
    fn torsioned_r_is_refused_by_verify_strict_in_every_run_but_not_by_batches() {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
        use curve25519_dalek::scalar::Scalar;
        use sha2::Sha512;
        let seed = [7u8; 32];
        let key = Keypair::from_seed(seed);
        let h = Sha512::digest(seed);
        let mut a_bytes = [0u8; 32];
        a_bytes.copy_from_slice(&h[..32]);
        a_bytes[0] &= 248;
        a_bytes[31] &= 127;
        a_bytes[31] |= 64;
        let a = Scalar::from_bytes_mod_order(a_bytes);
        let public = key.public();
        assert_eq!(&(B * a).compress().to_bytes(), public.as_bytes());
        let message = b"corridor/v1\ntest\n{\"a\":1}";
        let r = Scalar::from_bytes_mod_order([3; 32]);
        let big_r = (B * r + EIGHT_TORSION[1]).compress();
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(big_r.as_bytes())
                .chain_update(public.as_bytes())
                .chain_update(message),
        );
        let s = r + k * a;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(big_r.as_bytes());
        sig[32..].copy_from_slice(s.as_bytes());
        let mut batch_accepted = 0;
        for run in 0..64u8 {
            assert!(public.verify(message, &sig).is_err(), "run {run}");
            let honest_messages: Vec<[u8; 1]> = (0..8u8).map(|i| [i]).collect();
            let honest: Vec<[u8; 64]> = honest_messages.iter().map(|m| key.sign(m)).collect();
            let mut items: Vec<(&PublicKey, &[u8], &[u8; 64])> = (0..8)
                .map(|i| (&public, honest_messages[i].as_slice(), &honest[i]))
                .collect();
            items.push((&public, message.as_slice(), &sig));
            if verify_many(b"", &items, &[run; 32]).is_empty() {
                batch_accepted += 1;
            }
        }
        assert!(
            batch_accepted > 0,
            "the batch never accepted the torsioned signature in 64 runs: the test no longer shows the gap"
        );
    }

    #[test]
    fn verify_many_names_exactly_the_bad_signatures() {
        let keys: Vec<Keypair> = (1..=5u8).map(|n| Keypair::from_seed([n; 32])).collect();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
        let count = 2 * BATCH + 22;
        let messages: Vec<Vec<u8>> = (0..count)
            .map(|i| format!("entry {i}").into_bytes())
            .collect();
        let mut sigs: Vec<[u8; 64]> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % 5].sign(m))
            .collect();
        let items = |sigs: &[[u8; 64]]| -> Vec<usize> {
            let v: Vec<(&PublicKey, &[u8], &[u8; 64])> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| (&publics[i % 5], m.as_slice(), &sigs[i]))
                .collect();
            verify_many(b"", &v, &[9; 32])
        };
        assert_eq!(items(&sigs), Vec::<usize>::new());
        sigs[3][0] ^= 1; // first batch
        sigs[BATCH + 70][40] ^= 1; // second batch, in S
        sigs[count - 1] = keys[0].sign(b"another message"); // the last batch, of 22
        assert_eq!(items(&sigs), vec![3, BATCH + 70, count - 1]);
        // A batch of one is checked with verify_strict alone.
        let one = [(&publics[0], b"x".as_slice(), &keys[0].sign(b"y"))];
        assert_eq!(verify_many(b"", &one, &[9; 32]), vec![0]);
    }

    /// Signatures `verify_strict` refuses for something other than the equation: each must be
    /// named by `verify_many` too, whatever batch it sits in.
    #[test]
    fn verify_many_refuses_what_verify_strict_refuses_besides_the_equation() {
        let key = Keypair::from_seed([4; 32]);
        let public = key.public();
        let prefix = b"corridor/v1\ntest\n";
        let messages: Vec<Vec<u8>> = (0..40u32).map(|i| format!("m{i}").into_bytes()).collect();
        let mut sigs: Vec<[u8; 64]> = messages
            .iter()
            .map(|m| key.sign(&[prefix.as_slice(), m].concat()))
            .collect();
        // s + ℓ: the same residue, not canonical.
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let ell: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(sigs[5][32 + i]) + u16::from(ell[i]) + carry;
            sigs[5][32 + i] = sum as u8;
            carry = sum >> 8;
        }
        // R the identity (small order), and R with y ≥ p (not canonical).
        sigs[17][..32].copy_from_slice(&{
            let mut r = [0u8; 32];
            r[0] = 1;
            r
        });
        sigs[30][..32].copy_from_slice(&{
            let mut r = [0xff; 32];
            r[0] = 0xee;
            r[31] = 0x7f;
            r
        });
        let items: Vec<(&PublicKey, &[u8], &[u8; 64])> = messages
            .iter()
            .zip(&sigs)
            .map(|(m, s)| (&public, m.as_slice(), s))
            .collect();
        let strict: Vec<usize> = (0..items.len())
            .filter(|&i| {
                public
                    .verify(&[prefix.as_slice(), &messages[i]].concat(), &sigs[i])
                    .is_err()
            })
            .collect();
        assert_eq!(strict, vec![5, 17, 30]);
        assert_eq!(verify_many(prefix, &items, &[1; 32]), strict);
    }

    proptest::proptest! {
        /// Whatever is flipped, in whichever signatures, by however many keys, `verify_many`
        /// names exactly the signatures `verify_strict` refuses.
        #[test]
        fn verify_many_agrees_with_verify_strict(
            count in 1usize..40,
            keys in 1u8..5,
            flips in proptest::collection::vec((0usize..40, 0usize..64, 1u8..=255), 0..4),
            seed in proptest::array::uniform32(0u8..),
        ) {
            let pairs: Vec<Keypair> = (0..keys).map(|n| Keypair::from_seed([n + 1; 32])).collect();
            let publics: Vec<PublicKey> = pairs.iter().map(Keypair::public).collect();
            let messages: Vec<Vec<u8>> = (0..count).map(|i| vec![i as u8; i + 1]).collect();
            let mut sigs: Vec<[u8; 64]> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| pairs[i % pairs.len()].sign(&[b"p".as_slice(), m].concat()))
                .collect();
            for (which, byte, mask) in flips {
                if which < count {
                    sigs[which][byte] ^= mask;
                }
            }
            let items: Vec<(&PublicKey, &[u8], &[u8; 64])> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| (&publics[i % publics.len()], m.as_slice(), &sigs[i]))
                .collect();
            let strict: Vec<usize> = (0..count)
                .filter(|&i| items[i].0.verify(&[b"p".as_slice(), &messages[i]].concat(), &sigs[i]).is_err())
                .collect();
            proptest::prop_assert_eq!(verify_many(b"p", &items, &seed), strict);
        }
    }

    #[test]
    fn sign_verify_and_tamper() {
        let kp = Keypair::from_seed([7; 32]);
        let sig = kp.sign(b"hello");
        let pk = PublicKey::parse(&kp.public().id()).unwrap();
        pk.verify(b"hello", &sig).unwrap();
        assert_eq!(pk.verify(b"hellp", &sig), Err(Rejection::BadSignature));
        let mut bad = sig;
        bad[3] ^= 1;
        assert_eq!(pk.verify(b"hello", &bad), Err(Rejection::BadSignature));
        assert_eq!(
            pk.verify(b"hello", &sig[..63]),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (0, 1) encodes as 1 followed by zeros: small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            PublicKey::from_bytes(identity).unwrap_err().code(),
            "invalid-key"
        );
        assert_eq!(PublicKey::parse("AAAA").unwrap_err().code(), "invalid-key");
        assert_eq!(
            PublicKey::parse("not base64!").unwrap_err().code(),
            "invalid-key"
        );
    }
}

//! Keys and signatures.
//!
//! A key is named by its own public key (standard base64, 44 characters). Using the key itself as
//! its id means a signature can be checked without looking anything up, so the shell can verify
//! signatures on every core before the single sequencer sees the command. All verification uses
//! `verify_strict`, and small-order ("weak") public keys are refused at parse time, so the server,
//! `corridor verify` and other implementations cannot disagree about a signature.

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

/// Check many signatures at once, and say which ones fail under `verify_strict`.
///
/// A batch is checked with one multi-scalar multiplication (ed25519-dalek's `verify_batch`,
/// roughly twice as fast per signature); a batch that fails is re-checked one by one with
/// `verify_strict`, so the indices returned are exactly those `verify_strict` refuses, and
/// `corridor verify` cannot refuse what the server accepted. Small-order keys never get here
/// (`PublicKey::from_bytes` refuses them). The converse has one gap, as with every batch
/// verifier: a signature whose `R` was deliberately given a small torsion component fails
/// `verify_strict` but passes a batch with probability up to 1/2. Making one takes the signing
/// key (it is a mangled copy of a valid signature on the same message), and the server accepts
/// only what `verify_strict` accepts, so it could only be in a log written by another program.
pub fn verify_many(items: &[(&PublicKey, &[u8], &[u8; 64])]) -> Vec<usize> {
    const BATCH: usize = 64;
    let mut bad = Vec::new();
    for (n, chunk) in items.chunks(BATCH).enumerate() {
        let batch_ok = chunk.len() > 1 && {
            let messages: Vec<&[u8]> = chunk.iter().map(|(_, m, _)| *m).collect();
            let sigs: Vec<Signature> = chunk
                .iter()
                .map(|(_, _, s)| Signature::from_bytes(s))
                .collect();
            let keys: Vec<VerifyingKey> = chunk.iter().map(|(k, _, _)| k.point).collect();
            ed25519_dalek::verify_batch(&messages, &sigs, &keys).is_ok()
        };
        if !batch_ok {
            for (i, (k, m, s)) in chunk.iter().enumerate() {
                if k.verify(m, *s).is_err() {
                    bad.push(n * BATCH + i);
                }
            }
        }
    }
    bad
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

    #[test]
    fn verify_many_names_exactly_the_bad_signatures() {
        let keys: Vec<Keypair> = (1..=5u8).map(|n| Keypair::from_seed([n; 32])).collect();
        let publics: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
        let messages: Vec<Vec<u8>> = (0..150u32)
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
            verify_many(&v)
        };
        assert_eq!(items(&sigs), Vec::<usize>::new());
        sigs[3][0] ^= 1; // first batch
        sigs[70][40] ^= 1; // second batch, in S
        sigs[149] = keys[0].sign(b"another message"); // the last batch, of 22
        assert_eq!(items(&sigs), vec![3, 70, 149]);
        // A batch of one is checked with verify_strict alone.
        let one = [(&publics[0], b"x".as_slice(), &keys[0].sign(b"y"))];
        assert_eq!(verify_many(&one), vec![0]);
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

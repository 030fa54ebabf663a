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

/// An Ed25519 public key that has passed the weak-key check.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

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
        let vk = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| Rejection::InvalidKey("not a valid Ed25519 point".into()))?;
        if vk.is_weak() {
            return Err(Rejection::InvalidKey("small-order key refused".into()));
        }
        Ok(PublicKey(bytes))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key id: standard base64 of the key.
    pub fn id(&self) -> String {
        b64(&self.0)
    }

    /// Strict Ed25519 verification of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Rejection> {
        let sig: [u8; 64] = signature.try_into().map_err(|_| Rejection::BadSignature)?;
        let vk = VerifyingKey::from_bytes(&self.0).map_err(|_| Rejection::BadSignature)?;
        vk.verify_strict(message, &Signature::from_bytes(&sig))
            .map_err(|_| Rejection::BadSignature)
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
        PublicKey(self.0.verifying_key().to_bytes())
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

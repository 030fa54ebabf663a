//! Passphrase-encrypted key backups, one format for the CLI and the browser console.
//!
//! A coordinator's key lives on one device; losing the device must not mean losing the key, and
//! a copy of the key must be useless to whoever finds it. So a key travels only as a backup
//! encrypted under a passphrase, and the same file has to open on either side: a key made in the
//! browser console is backed up there and later used by `corridor` on a laptop, and the other
//! way round.
//!
//! That fixes the primitives. The console has only what the browser's WebCrypto offers, which
//! includes PBKDF2 and AES-GCM but neither Argon2 nor scrypt (and shipping a JavaScript or
//! WebAssembly implementation of a memory-hard KDF would put unreviewed crypto into the page that
//! holds the keys). So the key is derived with PBKDF2-HMAC-SHA256 at a high iteration count
//! ([`ITERATIONS`], the current OWASP figure for PBKDF2-SHA256) and the seed is sealed with
//! AES-256-GCM:
//!
//! ```json
//! {
//!   "kind": "corridor-ed25519-key-encrypted",
//!   "public": "<base64 of the 32-byte Ed25519 public key>",
//!   "actor": "ua/coord-2",
//!   "kdf": {"name": "PBKDF2-HMAC-SHA256", "iterations": 600000, "salt": "<base64 of 16 bytes>"},
//!   "cipher": {"name": "AES-256-GCM", "nonce": "<base64 of 12 bytes>"},
//!   "ciphertext": "<base64 of the sealed 32-byte seed and the 16-byte tag>"
//! }
//! ```
//!
//! Choices that keep the two sides agreeing:
//! - the passphrase is NFC-normalised before it is UTF-8 encoded, so "é" typed as one code point
//!   on one keyboard and as "e" plus a combining accent on another opens the same file;
//! - the additional authenticated data is `KIND`, a line feed and the `public` field exactly as
//!   written, so a file whose public key was swapped for someone else's fails to open rather
//!   than showing the wrong identity; `actor` is a label and is not authenticated (the key, not
//!   the label, is what the log checks);
//! - after decryption the seed's public key must equal `public`, so a file that was built wrong
//!   is reported as damaged instead of yielding a key nobody registered;
//! - [`encrypt`] takes the salt and nonce as arguments: the core draws no randomness, and fixed
//!   inputs give test vectors that both implementations check.
//!
//! Reading accepts iteration counts from [`MIN_ITERATIONS`] to [`MAX_ITERATIONS`]: fewer would make
//! guessing cheap, more would let a hostile file make the reader spin for minutes.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

use crate::crypto::{Keypair, b64, unb64};

/// The `kind` of an encrypted key backup.
pub const KIND: &str = "corridor-ed25519-key-encrypted";
/// The one key-derivation function, as named in `kdf.name`.
pub const KDF: &str = "PBKDF2-HMAC-SHA256";
/// The one cipher, as named in `cipher.name`.
pub const CIPHER: &str = "AES-256-GCM";
/// The PBKDF2 iteration count new backups are written with.
pub const ITERATIONS: u32 = 600_000;
/// The fewest PBKDF2 iterations a backup may use.
pub const MIN_ITERATIONS: u32 = 100_000;
/// The most PBKDF2 iterations a backup may use.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// An encrypted key backup, as written to the file (serde_json keeps this field order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedKey {
    /// Always [`KIND`].
    pub kind: String,
    /// The public key (standard base64), readable without the passphrase; authenticated.
    pub public: String,
    /// The actor this key signs for, if known. A label, not authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// How the encryption key is derived from the passphrase.
    pub kdf: Kdf,
    /// How the seed is sealed.
    pub cipher: Cipher,
    /// Standard base64 of the AES-GCM ciphertext of the 32-byte seed followed by the 16-byte tag.
    pub ciphertext: String,
}

/// The key-derivation parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kdf {
    /// Always [`KDF`].
    pub name: String,
    /// PBKDF2 iterations, [`MIN_ITERATIONS`] ..= [`MAX_ITERATIONS`].
    pub iterations: u32,
    /// Standard base64 of the 16-byte salt.
    pub salt: String,
}

/// The cipher parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cipher {
    /// Always [`CIPHER`].
    pub name: String,
    /// Standard base64 of the 12-byte nonce.
    pub nonce: String,
}

/// Why a backup could not be read or opened. Each has a stable [`code`](BackupError::code).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BackupError {
    /// The file is not a corridor key backup (another tool's file, or another corridor kind).
    #[error("not a corridor key backup (kind {0:?}, expected \"{KIND}\")")]
    NotCorridor(String),
    /// The backup names a key-derivation function or cipher this version does not know.
    #[error("unsupported {what} {name:?} (this version reads only {expected})")]
    Unsupported {
        /// "kdf" or "cipher".
        what: &'static str,
        /// The name in the file.
        name: String,
        /// The name this version reads.
        expected: &'static str,
    },
    /// The iteration count is outside [`MIN_ITERATIONS`] ..= [`MAX_ITERATIONS`].
    #[error(
        "kdf.iterations is {0}; a backup must use between {MIN_ITERATIONS} and {MAX_ITERATIONS}"
    )]
    Iterations(u32),
    /// A field is missing, not base64, or of the wrong length.
    #[error("{field}: {reason}")]
    Malformed {
        /// The field, e.g. "kdf.salt".
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The AEAD tag did not verify: a wrong passphrase, or an altered file.
    #[error("the passphrase does not open this backup (or the file was altered)")]
    WrongPassphrase,
    /// The decrypted seed's public key is not the one the file names.
    #[error("the backup is damaged: the decrypted key does not match its public key")]
    Damaged,
}

impl BackupError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::NotCorridor(_) => "backup-not-corridor",
            BackupError::Unsupported { .. } => "backup-unsupported",
            BackupError::Iterations(_) => "backup-iterations",
            BackupError::Malformed { .. } => "backup-malformed",
            BackupError::WrongPassphrase => "backup-wrong-passphrase",
            BackupError::Damaged => "backup-damaged",
        }
    }
}

/// Parse a backup file's text, telling another tool's file (or a plain corridor key file) apart
/// from a damaged backup: anything that is not a JSON object with `kind` [`KIND`] is
/// [`BackupError::NotCorridor`]; a backup with missing or mistyped fields is
/// [`BackupError::Malformed`].
pub fn parse(text: &str) -> Result<EncryptedKey, BackupError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| BackupError::NotCorridor(String::new()))?;
    match value.get("kind").and_then(|k| k.as_str()) {
        Some(KIND) => {}
        Some(other) => return Err(BackupError::NotCorridor(other.to_string())),
        None => return Err(BackupError::NotCorridor(String::new())),
    }
    serde_json::from_value(value).map_err(|e| BackupError::Malformed {
        field: "backup".into(),
        reason: e.to_string(),
    })
}

/// Encrypt a key's seed under a passphrase. Deterministic given `salt` and `nonce`, which the
/// caller draws fresh from the operating system for every backup (a nonce must never be reused
/// under the same key, and a fresh salt gives a fresh key).
///
/// # Panics
///
/// If `iterations` is outside [`MIN_ITERATIONS`] ..= [`MAX_ITERATIONS`]: such a file could not
/// be read back.
pub fn encrypt(
    seed: &[u8; 32],
    actor: Option<&str>,
    passphrase: &str,
    iterations: u32,
    salt: [u8; 16],
    nonce: [u8; 12],
) -> EncryptedKey {
    assert!(
        (MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations),
        "a backup must use between {MIN_ITERATIONS} and {MAX_ITERATIONS} PBKDF2 iterations"
    );
    let public = Keypair::from_seed(*seed).public().id();
    let key = derive_key(passphrase, &salt, iterations);
    let ciphertext = Aes256Gcm::new(&key)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: seed,
                aad: associated_data(&public).as_bytes(),
            },
        )
        .expect("AES-GCM encrypts 32 bytes");
    EncryptedKey {
        kind: KIND.into(),
        public,
        actor: actor.map(str::to_string),
        kdf: Kdf {
            name: KDF.into(),
            iterations,
            salt: b64(&salt),
        },
        cipher: Cipher {
            name: CIPHER.into(),
            nonce: b64(&nonce),
        },
        ciphertext: b64(&ciphertext),
    }
}

/// Open a backup with its passphrase. Everything that can be checked without the passphrase
/// (kind, algorithms, iteration bounds, field sizes) is checked before the slow key derivation.
pub fn decrypt(file: &EncryptedKey, passphrase: &str) -> Result<Keypair, BackupError> {
    if file.kind != KIND {
        return Err(BackupError::NotCorridor(file.kind.clone()));
    }
    if file.kdf.name != KDF {
        return Err(BackupError::Unsupported {
            what: "kdf",
            name: file.kdf.name.clone(),
            expected: KDF,
        });
    }
    if file.cipher.name != CIPHER {
        return Err(BackupError::Unsupported {
            what: "cipher",
            name: file.cipher.name.clone(),
            expected: CIPHER,
        });
    }
    if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&file.kdf.iterations) {
        return Err(BackupError::Iterations(file.kdf.iterations));
    }
    let public: [u8; 32] = bytes("public", &file.public)?;
    let salt: [u8; 16] = bytes("kdf.salt", &file.kdf.salt)?;
    let nonce: [u8; 12] = bytes("cipher.nonce", &file.cipher.nonce)?;
    let ciphertext: [u8; 48] = bytes("ciphertext", &file.ciphertext)?;

    let key = derive_key(passphrase, &salt, file.kdf.iterations);
    let seed = Aes256Gcm::new(&key)
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad: associated_data(&file.public).as_bytes(),
            },
        )
        .map_err(|_| BackupError::WrongPassphrase)?;
    let seed: [u8; 32] = seed.try_into().map_err(|_| BackupError::Damaged)?;
    let keypair = Keypair::from_seed(seed);
    if keypair.public().as_bytes() != &public {
        return Err(BackupError::Damaged);
    }
    Ok(keypair)
}

/// PBKDF2-HMAC-SHA256 over the NFC-normalised UTF-8 passphrase.
fn derive_key(passphrase: &str, salt: &[u8], iterations: u32) -> Key<Aes256Gcm> {
    let passphrase: String = passphrase.nfc().collect();
    Key::<Aes256Gcm>::from(pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(
        passphrase.as_bytes(),
        salt,
        iterations,
    ))
}

/// The additional authenticated data: binds the ciphertext to the kind and the public key.
fn associated_data(public: &str) -> String {
    format!("{KIND}\n{public}")
}

/// Decode a base64 field of exactly `N` bytes.
fn bytes<const N: usize>(field: &str, text: &str) -> Result<[u8; N], BackupError> {
    let raw = unb64(field, text).map_err(|_| BackupError::Malformed {
        field: field.into(),
        reason: "not standard base64".into(),
    })?;
    let len = raw.len();
    raw.try_into().map_err(|_| BackupError::Malformed {
        field: field.into(),
        reason: format!("{len} bytes, expected {N}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The smallest accepted count keeps the tests quick; the format is the same at any count.
    const FAST: u32 = MIN_ITERATIONS;
    const SEED: [u8; 32] = [7; 32];
    const SALT: [u8; 16] = [1; 16];
    const NONCE: [u8; 12] = [2; 12];

    fn sample() -> EncryptedKey {
        encrypt(
            &SEED,
            Some("ua/coord-2"),
            "correct horse",
            FAST,
            SALT,
            NONCE,
        )
    }

    #[test]
    fn a_backup_opens_with_its_passphrase_and_gives_the_same_key() {
        let file = sample();
        assert_eq!(file.kind, KIND);
        assert_eq!(file.public, Keypair::from_seed(SEED).public().id());
        assert_eq!(file.actor.as_deref(), Some("ua/coord-2"));
        assert_eq!(file.kdf.iterations, FAST);
        assert_eq!(unb64("c", &file.ciphertext).unwrap().len(), 48);
        let kp = decrypt(&file, "correct horse").unwrap();
        assert_eq!(kp.seed(), SEED);
        // Deterministic given salt and nonce, so both implementations can share vectors.
        assert_eq!(sample(), file);
    }

    /// A known answer computed with WebCrypto (Node 20's `crypto.subtle`: PBKDF2 `deriveKey`
    /// into AES-GCM 256, `encrypt` with `additionalData`), not with this code, so the two
    /// implementations are checked against each other rather than each against itself.
    #[test]
    fn a_backup_matches_webcrypto_byte_for_byte() {
        let file = encrypt(&SEED, None, "caf\u{e9} horse", FAST, SALT, NONCE);
        assert_eq!(file.public, "6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=");
        assert_eq!(
            file.ciphertext,
            "YavtkXVimnoYxlODVzDBEO0q0rZvMDxBmBXXcWadopX8xC6hwcbKskQkuiPBHbQu"
        );
        assert_eq!(file.kdf.salt, "AQEBAQEBAQEBAQEBAQEBAQ==");
        assert_eq!(file.cipher.nonce, "AgICAgICAgICAgIC");
        assert_eq!(decrypt(&file, "cafe\u{301} horse").unwrap().seed(), SEED);
    }

    #[test]
    fn the_file_round_trips_through_json_in_the_fixed_field_order() {
        let file = sample();
        let text = serde_json::to_string(&file).unwrap();
        let order: Vec<usize> = [
            "\"kind\"",
            "\"public\"",
            "\"actor\"",
            "\"kdf\"",
            "\"name\"",
            "\"iterations\"",
            "\"salt\"",
            "\"cipher\"",
            "\"nonce\"",
            "\"ciphertext\"",
        ]
        .iter()
        .map(|k| text.find(k).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(parse(&text).unwrap(), file);

        let no_actor = encrypt(&SEED, None, "p", FAST, SALT, NONCE);
        let text = serde_json::to_string(&no_actor).unwrap();
        assert!(!text.contains("actor"), "{text}");
        assert_eq!(parse(&text).unwrap(), no_actor);
    }

    #[test]
    fn a_wrong_passphrase_does_not_open_it() {
        let err = decrypt(&sample(), "correct horse ").unwrap_err();
        assert_eq!(err, BackupError::WrongPassphrase);
        assert_eq!(err.code(), "backup-wrong-passphrase");
        assert_eq!(
            err.to_string(),
            "the passphrase does not open this backup (or the file was altered)"
        );
    }

    #[test]
    fn the_passphrase_is_compared_after_nfc_normalisation() {
        let decomposed = encrypt(&SEED, None, "caf\u{65}\u{301}", FAST, SALT, NONCE);
        let composed = encrypt(&SEED, None, "caf\u{e9}", FAST, SALT, NONCE);
        assert_eq!(decomposed, composed);
        assert_eq!(decrypt(&decomposed, "caf\u{e9}").unwrap().seed(), SEED);
        assert_eq!(decrypt(&composed, "caf\u{65}\u{301}").unwrap().seed(), SEED);
    }

    #[test]
    fn an_altered_public_key_fails_but_the_actor_label_is_not_authenticated() {
        let mut file = sample();
        file.public = Keypair::from_seed([8; 32]).public().id();
        assert_eq!(
            decrypt(&file, "correct horse").unwrap_err(),
            BackupError::WrongPassphrase
        );

        let mut file = sample();
        file.actor = Some("ru/someone".into());
        assert_eq!(decrypt(&file, "correct horse").unwrap().seed(), SEED);

        let mut file = sample();
        let mut ct = unb64("c", &file.ciphertext).unwrap();
        ct[0] ^= 1;
        file.ciphertext = b64(&ct);
        assert_eq!(
            decrypt(&file, "correct horse").unwrap_err().code(),
            "backup-wrong-passphrase"
        );
    }

    #[test]
    fn a_seed_that_does_not_match_the_public_key_is_damaged() {
        // Sealed correctly under the AAD of another key's public half: opens, does not match.
        let other = Keypair::from_seed([9; 32]).public().id();
        let key = derive_key("pw", &SALT, FAST);
        let ct = Aes256Gcm::new(&key)
            .encrypt(
                &Nonce::from(NONCE),
                Payload {
                    msg: &SEED,
                    aad: associated_data(&other).as_bytes(),
                },
            )
            .unwrap();
        let mut file = encrypt(&SEED, None, "pw", FAST, SALT, NONCE);
        file.public = other;
        file.ciphertext = b64(&ct);
        let err = decrypt(&file, "pw").unwrap_err();
        assert_eq!(err, BackupError::Damaged);
        assert_eq!(err.code(), "backup-damaged");
    }

    #[test]
    fn iterations_outside_the_bounds_are_refused_before_any_work() {
        for n in [0, 1, MIN_ITERATIONS - 1, MAX_ITERATIONS + 1, u32::MAX] {
            let mut file = sample();
            file.kdf.iterations = n;
            let err = decrypt(&file, "correct horse").unwrap_err();
            assert_eq!(err, BackupError::Iterations(n));
            assert_eq!(err.code(), "backup-iterations");
        }
        // The bounds themselves are accepted (a wrong count only fails the tag).
        let mut file = sample();
        file.kdf.iterations = MIN_ITERATIONS + 1;
        assert_eq!(
            decrypt(&file, "correct horse").unwrap_err(),
            BackupError::WrongPassphrase
        );
    }

    #[test]
    #[should_panic(expected = "PBKDF2 iterations")]
    fn encrypt_refuses_a_count_it_could_not_read_back() {
        encrypt(&SEED, None, "p", 1_000, SALT, NONCE);
    }

    #[test]
    fn unknown_algorithms_and_kinds_are_named() {
        let mut file = sample();
        file.kdf.name = "scrypt".into();
        let err = decrypt(&file, "correct horse").unwrap_err();
        assert_eq!(err.code(), "backup-unsupported");
        assert!(err.to_string().contains("scrypt"), "{err}");

        let mut file = sample();
        file.cipher.name = "ChaCha20-Poly1305".into();
        assert_eq!(
            decrypt(&file, "correct horse").unwrap_err().code(),
            "backup-unsupported"
        );

        let mut file = sample();
        file.kind = "corridor-ed25519-key".into();
        let err = decrypt(&file, "correct horse").unwrap_err();
        assert_eq!(err, BackupError::NotCorridor("corridor-ed25519-key".into()));
        assert_eq!(err.code(), "backup-not-corridor");
    }

    #[test]
    fn malformed_fields_are_named() {
        type Alter = fn(&mut EncryptedKey);
        let cases: [(&str, Alter); 5] = [
            ("public", |f| f.public = "not base64!".into()),
            ("public", |f| f.public = b64(&[0; 31])),
            ("kdf.salt", |f| f.kdf.salt = b64(&[0; 8])),
            ("cipher.nonce", |f| f.cipher.nonce = b64(&[0; 16])),
            ("ciphertext", |f| f.ciphertext = b64(&[0; 32])),
        ];
        for (field, alter) in cases {
            let mut file = sample();
            alter(&mut file);
            match decrypt(&file, "correct horse").unwrap_err() {
                BackupError::Malformed { field: f, .. } => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let err =
            parse(r#"{"kind": "corridor-ed25519-key-encrypted", "public": "x"}"#).unwrap_err();
        assert_eq!(err.code(), "backup-malformed");
    }

    #[test]
    fn another_tools_file_is_not_a_corridor_backup() {
        for text in [
            "age-encryption.org/v1\n-> X25519 abc\n",
            r#"{"version": 3, "crypto": {"cipher": "aes-128-ctr"}}"#,
            r#"{"kind": "something-else", "public": "x"}"#,
            r#"{"kind": "corridor-ed25519-key", "public": "x", "seed": "y"}"#,
            "[1, 2]",
            "",
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.code(), "backup-not-corridor", "{text}");
        }
    }
}

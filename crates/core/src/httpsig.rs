//! Authenticated reads: HTTP Message Signatures (RFC 9421) with Ed25519, in the one profile
//! corridor accepts.
//!
//! Why signed requests rather than bearer tokens: every actor already holds an Ed25519 key on
//! their own device and the log already says which keys are active, so a signed request needs
//! no session, no password and no server-side secret, works the same against every server
//! instance, and a revoked key stops reading at the entry that revoked it. The request carries
//!
//! ```text
//! Signature-Input: corridor=("@method" "@path" "@query");created=1646319000;keyid="<key id>";nonce="<random>";alg="ed25519";tag="corridor/v1/read:<origin>"
//! Signature: corridor=:<base64 Ed25519 signature over the signature base>:
//! ```
//!
//! The `tag` names the protocol and the log's origin, so a signed request cannot be replayed
//! against another log; `created` must be within the genesis policy's clock-skew limit of the
//! log's clock, and the server refuses a nonce it has seen within that window. This module is
//! pure: it builds and checks signature bases; the shell supplies the clock and the nonce
//! memory.
//!
//! Why not an RFC 9421 crate: those on crates.io are pre-1.0 and each brings a second Ed25519
//! implementation (ed25519-compact, aws-lc-rs); corridor checks every signature, of commands
//! and of reads, with the same `verify_strict` and weak-key rule ([`crate::crypto`]). The
//! structured-field parsing (RFC 9651) is the `sfv` crate's; the signature base is built here
//! and tested against RFC 9421 Appendix B.2.6.

use sfv::{BareItem, Dictionary, FieldType, InnerList, Item, ListEntry, Parser};

use crate::PROTOCOL;
use crate::crypto::{Keypair, PublicKey, b64};

/// The signature label corridor uses (and the only one it reads).
pub const LABEL: &str = "corridor";
/// The covered components, in order: method, path and query string.
pub const COMPONENTS: [&str; 3] = ["@method", "@path", "@query"];
/// Shortest nonce accepted: enough randomness that two clients never pick the same one.
pub const MIN_NONCE: usize = 16;
/// Longest nonce accepted.
pub const MAX_NONCE: usize = 128;

/// Why a signed request was refused. Each has a stable code, used as the problem `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Signature-Input`/`Signature` headers on a path that needs them.
    #[error(
        "this read needs a signed request (RFC 9421 Signature-Input and Signature headers); the corridor CLI signs its reads with --key"
    )]
    Missing,
    /// The headers are there but not in corridor's profile.
    #[error("malformed request signature: {0}")]
    Malformed(String),
    /// The signature is for another log or protocol version.
    #[error("the request was signed for {got:?}, this log expects {expected:?}")]
    WrongTag {
        /// What this log expects.
        expected: String,
        /// What the request carried.
        got: String,
    },
    /// The signature does not verify.
    #[error("the request signature does not verify over this method, path and query")]
    BadSignature,
    /// `created` is too far from the log's clock.
    #[error(
        "the request was signed at {created}, the log's clock reads {now} (limit {limit_s} s): set your clock"
    )]
    Stale {
        /// The request's `created`, Unix seconds.
        created: i64,
        /// The log's clock, Unix seconds.
        now: i64,
        /// The allowed difference.
        limit_s: i64,
    },
    /// The nonce was used before within the freshness window.
    #[error("this signed request was already used (same nonce); sign each request afresh")]
    Replayed,
    /// The key is not registered in this log.
    #[error("key {0} is not registered in this log")]
    UnknownKey(String),
    /// The key was revoked.
    #[error("key {0} was revoked")]
    KeyRevoked(String),
}

impl AuthError {
    /// The stable problem code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "auth-required",
            AuthError::Malformed(_) => "auth-malformed",
            AuthError::WrongTag { .. } => "auth-wrong-log",
            AuthError::BadSignature => "auth-bad-signature",
            AuthError::Stale { .. } => "auth-stale",
            AuthError::Replayed => "auth-replayed",
            AuthError::UnknownKey(_) => "auth-unknown-key",
            AuthError::KeyRevoked(_) => "auth-key-revoked",
        }
    }
}

/// The `tag` a request for the log `origin` carries.
pub fn tag(origin: &str) -> String {
    format!("{PROTOCOL}/read:{origin}")
}

/// The request being signed or checked: method, path (no query) and query string (without `?`,
/// `None` if absent).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The path, e.g. `/v1/log/entries`.
    pub path: &'a str,
    /// The query string without the leading `?`.
    pub query: Option<&'a str>,
}

impl Target<'_> {
    fn components(&self) -> [(&'static str, String); 3] {
        [
            ("@method", self.method.to_ascii_uppercase()),
            ("@path", self.path.to_string()),
            // RFC 9421 §2.2.7: an absent or empty query is "?".
            ("@query", format!("?{}", self.query.unwrap_or(""))),
        ]
    }
}

/// The signature base of RFC 9421 §2.5 for already-derived component values and the serialized
/// signature parameters (the `@signature-params` value).
pub fn signature_base(components: &[(&str, String)], params: &str) -> String {
    let mut base = String::new();
    for (name, value) in components {
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    base
}

/// What a verified request signature says.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The key that signed.
    pub key: PublicKey,
    /// When, Unix seconds (the signer's clock).
    pub created: i64,
    /// The nonce, for the replay check.
    pub nonce: String,
}

fn string_item(s: &str) -> Result<BareItem, AuthError> {
    sfv::String::from_string(s.to_string())
        .map(BareItem::String)
        .map_err(|_| AuthError::Malformed(format!("{s:?} cannot be a structured-field string")))
}

fn key(s: &str) -> sfv::Key {
    sfv::Key::from_string(s.to_string()).expect("constant keys are valid")
}

/// Serialize the inner list of covered components with its parameters, as it appears in
/// `Signature-Input` and in the `@signature-params` line.
fn serialize_params(list: &InnerList) -> String {
    let mut d = Dictionary::new();
    d.insert(key(LABEL), ListEntry::InnerList(list.clone()));
    let s = d.serialize().expect("a one-member dictionary serializes");
    s[LABEL.len() + 1..].to_string()
}

/// Sign a request for log `origin`: the `Signature-Input` and `Signature` header values.
pub fn sign(
    signer: &Keypair,
    origin: &str,
    target: Target<'_>,
    created: i64,
    nonce: &str,
) -> (String, String) {
    let mut params = sfv::Parameters::new();
    params.insert(
        key("created"),
        BareItem::Integer(created.try_into().unwrap_or_default()),
    );
    let strings = [
        ("keyid", signer.public().id()),
        ("nonce", nonce.to_string()),
        ("alg", "ed25519".to_string()),
        ("tag", tag(origin)),
    ];
    for (k, v) in strings {
        params.insert(
            key(k),
            string_item(&v).expect("key ids, nonces and origins are ASCII"),
        );
    }
    let list = InnerList {
        items: COMPONENTS
            .iter()
            .map(|c| Item::new(string_item(c).expect("ASCII")))
            .collect(),
        params,
    };
    let serialized = serialize_params(&list);
    let base = signature_base(&target.components(), &serialized);
    let sig = signer.sign(base.as_bytes());
    (
        format!("{LABEL}={serialized}"),
        format!("{LABEL}=:{}:", b64(&sig)),
    )
}

fn parse_dict(field: &str, value: &str) -> Result<Dictionary, AuthError> {
    Parser::new(value)
        .parse::<Dictionary>()
        .map_err(|e| AuthError::Malformed(format!("{field}: {e}")))
}

/// Check the `Signature-Input` and `Signature` headers of a request to log `origin`: corridor's
/// profile (label, components, parameters), the tag, and the Ed25519 signature (strict). The
/// caller then checks freshness ([`check_fresh`]), the nonce, and the key's status in the log.
pub fn verify(
    origin: &str,
    target: Target<'_>,
    signature_input: &str,
    signature: &str,
) -> Result<Signed, AuthError> {
    parse(origin, target, signature_input, signature)?.verify()
}

/// A request signature whose headers are well-formed for corridor's profile and this log, not
/// yet checked. Parsing costs microseconds and the signature check about fifty, so a server
/// parses first, refuses what it can cheaply (over its limits, stale, a key the log does not
/// know or has revoked) and only then spends the check.
#[derive(Debug, Clone)]
pub struct Unverified {
    /// The key id (`keyid`, standard base64 of the 32-byte key), not yet parsed as a point.
    pub keyid: String,
    /// When, Unix seconds (the signer's clock).
    pub created: i64,
    /// The nonce.
    pub nonce: String,
    base: String,
    signature: Vec<u8>,
}

impl Unverified {
    /// Check the Ed25519 signature (strict) over the signature base.
    pub fn verify(self) -> Result<Signed, AuthError> {
        let key = PublicKey::parse(&self.keyid)
            .map_err(|e| AuthError::Malformed(format!("keyid: {e}")))?;
        key.verify(self.base.as_bytes(), &self.signature)
            .map_err(|_| AuthError::BadSignature)?;
        Ok(Signed {
            key,
            created: self.created,
            nonce: self.nonce,
        })
    }
}

/// Read the `Signature-Input` and `Signature` headers of a request to log `origin` in
/// corridor's profile (label, components, parameters, tag) without any curve arithmetic: see
/// [`Unverified`].
pub fn parse(
    origin: &str,
    target: Target<'_>,
    signature_input: &str,
    signature: &str,
) -> Result<Unverified, AuthError> {
    let inputs = parse_dict("Signature-Input", signature_input)?;
    let sigs = parse_dict("Signature", signature)?;
    let Some(ListEntry::InnerList(list)) = inputs.get(LABEL) else {
        return Err(AuthError::Malformed(format!(
            "Signature-Input needs a {LABEL:?} member with the covered components"
        )));
    };
    let Some(ListEntry::Item(sig_item)) = sigs.get(LABEL) else {
        return Err(AuthError::Malformed(format!(
            "Signature needs a {LABEL:?} member"
        )));
    };
    let names: Vec<Option<&str>> = list
        .items
        .iter()
        .map(|i| i.bare_item.as_string().map(|s| s.as_str()))
        .collect();
    if names != COMPONENTS.map(Some) || list.items.iter().any(|i| !i.params.is_empty()) {
        return Err(AuthError::Malformed(format!(
            "cover exactly {COMPONENTS:?}, in that order"
        )));
    }
    let param = |k: &str| list.params.get(k);
    let text = |k: &str| -> Result<&str, AuthError> {
        param(k)
            .and_then(|v| v.as_string())
            .map(|s| s.as_str())
            .ok_or_else(|| AuthError::Malformed(format!("parameter {k:?} must be a string")))
    };
    for (k, _) in list.params.iter() {
        if !["created", "keyid", "nonce", "alg", "tag"].contains(&k.as_str()) {
            return Err(AuthError::Malformed(format!(
                "unknown parameter {:?}",
                k.as_str()
            )));
        }
    }
    let created = param("created")
        .and_then(|v| v.as_integer())
        .map(i64::from)
        .ok_or_else(|| AuthError::Malformed("parameter \"created\" must be an integer".into()))?;
    if let Some(alg) = param("alg")
        && alg.as_string().map(|s| s.as_str()) != Some("ed25519")
    {
        return Err(AuthError::Malformed("alg must be \"ed25519\"".into()));
    }
    let expected = tag(origin);
    let got = text("tag")?;
    if got != expected {
        return Err(AuthError::WrongTag {
            expected,
            got: got.to_string(),
        });
    }
    let nonce = text("nonce")?;
    if !(MIN_NONCE..=MAX_NONCE).contains(&nonce.len()) {
        return Err(AuthError::Malformed(format!(
            "the nonce must be {MIN_NONCE} to {MAX_NONCE} characters"
        )));
    }
    let keyid = text("keyid")?;
    if crate::crypto::unb64("keyid", keyid).ok().map(|k| k.len()) != Some(32) {
        return Err(AuthError::Malformed(
            "keyid: must be the standard base64 of a 32-byte Ed25519 public key".into(),
        ));
    }
    let sig = sig_item
        .bare_item
        .as_byte_sequence()
        .ok_or_else(|| AuthError::Malformed("Signature must be a byte sequence".into()))?;
    Ok(Unverified {
        keyid: keyid.to_string(),
        created,
        nonce: nonce.to_string(),
        base: signature_base(&target.components(), &serialize_params(list)),
        signature: sig.to_vec(),
    })
}

/// Whether `created` is within `limit_s` seconds of the log's clock `now` (both Unix seconds).
pub fn check_fresh(created: i64, now: i64, limit_s: i64) -> Result<(), AuthError> {
    if (created - now).abs() > limit_s {
        return Err(AuthError::Stale {
            created,
            now,
            limit_s,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const ORIGIN: &str = "corridor.test/log";

    fn target<'a>(path: &'a str, query: Option<&'a str>) -> Target<'a> {
        Target {
            method: "GET",
            path,
            query,
        }
    }

    /// RFC 9421 Appendix B.2.6: the signature base and the Ed25519 signature over it, with the
    /// test key of Appendix B.1.4 (Ed25519 is deterministic, so signing must give the RFC's
    /// bytes).
    #[test]
    fn rfc9421_b26_known_answer() {
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU")
            .unwrap()
            .try_into()
            .unwrap();
        let kp = Keypair::from_seed(seed);
        let public = URL_SAFE_NO_PAD
            .decode("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs")
            .unwrap();
        assert_eq!(kp.public().as_bytes().as_slice(), public.as_slice());
        let input = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
        let dict = parse_dict("Signature-Input", input).unwrap();
        let Some(ListEntry::InnerList(list)) = dict.get("sig-b26") else {
            panic!()
        };
        let params = {
            let mut d = Dictionary::new();
            d.insert(key("sig-b26"), ListEntry::InnerList(list.clone()));
            d.serialize().unwrap()["sig-b26=".len()..].to_string()
        };
        let components = [
            ("date", "Tue, 20 Apr 2021 02:07:55 GMT".to_string()),
            ("@method", "POST".to_string()),
            ("@path", "/foo".to_string()),
            ("@authority", "example.com".to_string()),
            ("content-type", "application/json".to_string()),
            ("content-length", "18".to_string()),
        ];
        let base = signature_base(&components, &params);
        let want = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\"@authority\": example.com\n\"content-type\": application/json\n\"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
        assert_eq!(base, want);
        let sig = kp.sign(base.as_bytes());
        assert_eq!(
            b64(&sig),
            "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
        );
        kp.public().verify(base.as_bytes(), &sig).unwrap();
    }

    #[test]
    fn signed_request_round_trips_and_binds_method_path_query_and_log() {
        let kp = Keypair::from_seed([7; 32]);
        let t = target("/v1/log/entries", Some("start=0&end=5"));
        let (input, sig) = sign(&kp, ORIGIN, t, 1_646_319_000, "0123456789abcdef");
        assert!(
            input.starts_with("corridor=(\"@method\" \"@path\" \"@query\");created=1646319000;")
        );
        let ok = verify(ORIGIN, t, &input, &sig).unwrap();
        assert_eq!(ok.key, kp.public());
        assert_eq!(ok.created, 1_646_319_000);
        assert_eq!(ok.nonce, "0123456789abcdef");
        // Any change of method, path or query breaks the signature.
        for other in [
            Target {
                method: "POST",
                ..t
            },
            target("/v1/log/leaves", Some("start=0&end=5")),
            target("/v1/log/entries", Some("start=0&end=6")),
            target("/v1/log/entries", None),
        ] {
            assert_eq!(
                verify(ORIGIN, other, &input, &sig).unwrap_err().code(),
                "auth-bad-signature"
            );
        }
        // Another log's server refuses it before looking at the signature.
        assert_eq!(
            verify("corridor.test/other", t, &input, &sig)
                .unwrap_err()
                .code(),
            "auth-wrong-log"
        );
        // An absent query signs as "?".
        let t2 = target("/v1/corridors", None);
        let (i2, s2) = sign(&kp, ORIGIN, t2, 1, "0123456789abcdef");
        verify(ORIGIN, t2, &i2, &s2).unwrap();
        verify(ORIGIN, target("/v1/corridors", Some("")), &i2, &s2).unwrap();
    }

    #[test]
    fn profile_violations_are_malformed() {
        let kp = Keypair::from_seed([7; 32]);
        let t = target("/v1/corridors", None);
        let (input, sig) = sign(&kp, ORIGIN, t, 1, "0123456789abcdef");
        let cases = [
            (input.replace("corridor=", "other="), sig.clone()),
            (input.replace(" \"@query\"", ""), sig.clone()),
            (
                input.replace("\"ed25519\"", "\"rsa-pss-sha512\""),
                sig.clone(),
            ),
            (input.replace("0123456789abcdef", "short"), sig.clone()),
            (input.replace("created=1", "created=\"1\""), sig.clone()),
            (format!("{input};expires=9"), sig.clone()),
            (input.clone(), "corridor=\"not bytes\"".to_string()),
            ("corridor=(".to_string(), sig.clone()),
        ];
        for (i, s) in cases {
            let e = verify(ORIGIN, t, &i, &s).unwrap_err();
            assert_eq!(e.code(), "auth-malformed", "{i} / {s}: {e}");
        }
    }

    #[test]
    fn freshness_is_judged_against_the_limit() {
        check_fresh(1000, 1300, 300).unwrap();
        check_fresh(1300, 1000, 300).unwrap();
        assert_eq!(
            check_fresh(1000, 1301, 300).unwrap_err().code(),
            "auth-stale"
        );
    }
}

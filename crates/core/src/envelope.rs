//! The signed envelope: what a client sends and what the log keeps verbatim.
//!
//! Wire form (and stored form) is canonical JSON (RFC 8785):
//!
//! ```json
//! {"command":{"actor":"ua/coord-1","body":{"type":"incident.report",...},"id":"<client id>",
//!   "key":"<base64 public key>","log":"<origin>","time":"2022-03-03T14:50:00Z","v":1},
//!  "signature":"<base64 Ed25519 signature>"}
//! ```
//!
//! The signature covers `corridor/v1\n<origin>\n` followed by the canonical bytes of `command`.
//! Naming the origin in the prefix means a command signed for one log can never be replayed
//! on another; naming it also inside the command lets the server say precisely that this is
//! what went wrong. The server refuses bytes that are not already canonical, so the bytes a
//! client signed and the bytes the log stores are the same bytes.

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::command::Body;
use crate::crypto::{Keypair, PublicKey, b64, unb64};
use crate::{PROTOCOL, Rejection};

pub use crate::ids::MAX_ID_LEN;

/// The message an actor signs for a command on the log named `origin`.
pub fn signing_message(origin: &str, command_bytes: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(PROTOCOL.len() + origin.len() + 2 + command_bytes.len());
    m.extend_from_slice(PROTOCOL.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(origin.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(command_bytes);
    m
}

/// What the holder of a new key signs to show it holds the key and agrees to be `actor` on the
/// log `origin`: `corridor/v1/key-proof\n<origin>\n<actor>\n<key id>`.
///
/// Why: a registration names a public key, and public keys travel openly. Without a proof of
/// possession a party could register someone else's public key under its own actor first, and
/// the rightful registration would then be refused as `key-in-use`. The distinct prefix keeps a
/// key proof from ever being a valid command signature, and naming the log and the actor keeps
/// it from being reused for another.
pub fn key_proof_message(origin: &str, actor: &str, key_id: &str) -> Vec<u8> {
    format!("{PROTOCOL}/key-proof\n{origin}\n{actor}\n{key_id}").into_bytes()
}

/// The proof that `key` is held by whoever will act as `actor` on `origin` (standard base64 of
/// the Ed25519 signature over [`key_proof_message`]): made on the key holder's device, put in the
/// `key_proof` field of `actor.register`, `key.register` or `admin.recover`.
pub fn prove_key(key: &Keypair, origin: &str, actor: &str) -> String {
    b64(&key.sign(&key_proof_message(origin, actor, &key.public().id())))
}

/// Check a proof of possession made by [`prove_key`].
pub fn check_key_proof(
    origin: &str,
    actor: &str,
    key: &PublicKey,
    proof: &str,
) -> Result<(), Rejection> {
    let refused = || {
        Rejection::rule(
            "key-proof-invalid",
            format!(
                "key_proof must be the new key's signature over its registration as {actor} on this log: \
                 the key's holder makes it with `corridor key prove --key FILE --actor {actor}`"
            ),
        )
    };
    let sig = unb64("command.body.key_proof", proof).map_err(|_| refused())?;
    key.verify(&key_proof_message(origin, actor, &key.id()), &sig)
        .map_err(|_| refused())
}

/// Re-assemble the canonical envelope from the canonical command bytes and the signature. Both
/// keys sort as `command` < `signature`, so this is exactly the canonical form.
pub fn envelope_bytes(command_bytes: &[u8], signature: &[u8]) -> Vec<u8> {
    let sig = b64(signature);
    let mut out = Vec::with_capacity(command_bytes.len() + sig.len() + 30);
    out.extend_from_slice(b"{\"command\":");
    out.extend_from_slice(command_bytes);
    out.extend_from_slice(b",\"signature\":\"");
    out.extend_from_slice(sig.as_bytes());
    out.extend_from_slice(b"\"}");
    out
}

/// Keys already parsed, by key id.
pub type KeyCache = std::collections::BTreeMap<String, PublicKey>;

/// Somewhere to keep keys already parsed. Parsing a key is a point decompression, a fifth of a
/// signature check, and a log meets the same few hundred keys over and over: a replay keeps them
/// in a [`KeyCache`], a server in a map its request handlers share.
pub trait KeyLookup {
    /// The key with this id, if parsed before.
    fn lookup(&mut self, id: &str) -> Option<PublicKey>;
    /// Keep a key just parsed.
    fn remember(&mut self, id: String, key: PublicKey);
}

impl KeyLookup for KeyCache {
    fn lookup(&mut self, id: &str) -> Option<PublicKey> {
        self.get(id).copied()
    }
    fn remember(&mut self, id: String, key: PublicKey) {
        self.insert(id, key);
    }
}

/// A command whose envelope parsed, whose fields are well-formed and whose signature verifies
/// for this log. Whether the state accepts it (key status, role, rules) is decided later, by the
/// sequencer, against the state at the moment it is sequenced.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCommand {
    /// Client-chosen id; idempotency is per (actor, id).
    pub id: String,
    /// The actor the command claims to come from.
    pub actor: String,
    /// The key that signed.
    pub key: PublicKey,
    /// The client's clock when it signed.
    pub client_time: Timestamp,
    /// The typed body.
    pub body: Body,
    /// Canonical bytes of the `command` object: what was signed after the prefix.
    pub command_bytes: Vec<u8>,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

impl SignedCommand {
    /// Parse and check an envelope received for the log `origin`.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, Rejection> {
        Self::parse_inner(bytes, origin, true, None)
    }

    /// Parse an envelope whose signature is checked elsewhere: by the caller in a batch, or
    /// not at all when a server reloads its own log at start-up (`corridor verify` checks it).
    pub fn parse_unverified(bytes: &[u8], origin: &str) -> Result<Self, Rejection> {
        Self::parse_inner(bytes, origin, false, None)
    }

    /// The message this command's signature covers.
    pub fn signing_message(&self, origin: &str) -> Vec<u8> {
        signing_message(origin, &self.command_bytes)
    }

    /// Like [`SignedCommand::parse`], looking keys up in `keys` first.
    pub fn parse_with(
        bytes: &[u8],
        origin: &str,
        keys: &mut dyn KeyLookup,
    ) -> Result<Self, Rejection> {
        Self::parse_inner(bytes, origin, true, Some(keys))
    }

    /// Parse a command as a log stores it: the canonical bytes of `command` and the raw
    /// signature, as kept in an entry. Gives exactly what parsing the envelope they make up
    /// would give (the envelope is canonical exactly when the command bytes are), without
    /// building that envelope, encoding the signature in base64 and decoding it again, or
    /// canonicalising the command a second time: a replay of a long log does this per entry.
    /// The signature is checked only if `verify` (a verifier that batches signatures checks
    /// them itself); keys are looked up in `keys` first when given.
    pub fn parse_stored(
        command_bytes: &[u8],
        signature: &[u8],
        origin: &str,
        verify: bool,
        keys: Option<&mut dyn KeyLookup>,
    ) -> Result<Self, Rejection> {
        let command = corridor_jcs::parse_canonical(command_bytes)?;
        let signature = signature
            .try_into()
            .map_err(|_| Rejection::invalid("signature", "must be 64 bytes"));
        Self::from_parts(
            command,
            command_bytes.to_vec(),
            signature,
            origin,
            verify,
            keys,
        )
    }

    fn parse_inner(
        bytes: &[u8],
        origin: &str,
        verify: bool,
        keys: Option<&mut dyn KeyLookup>,
    ) -> Result<Self, Rejection> {
        let value = corridor_jcs::parse_canonical(bytes)?;
        let mut top = into_object(value, "")?;
        let command = take(&mut top, "", "command")?;
        let signature = take(&mut top, "", "signature")?;
        refuse_extra(&top, "")?;
        let command_bytes = corridor_jcs::canonicalize(&command);
        let signature = signature
            .as_str()
            .ok_or_else(|| Rejection::invalid("signature", "must be a base64 string"))
            .and_then(|text| unb64("signature", text))
            .and_then(|raw| {
                raw.try_into()
                    .map_err(|_| Rejection::invalid("signature", "must be 64 bytes"))
            });
        Self::from_parts(command, command_bytes, signature, origin, verify, keys)
    }

    /// The checks both forms share. `signature` is decoded by the caller but its error, if
    /// any, is reported here, after the command's own fields, as it always has been.
    fn from_parts(
        command: Value,
        command_bytes: Vec<u8>,
        signature: Result<[u8; 64], Rejection>,
        origin: &str,
        verify: bool,
        keys: Option<&mut dyn KeyLookup>,
    ) -> Result<Self, Rejection> {
        let mut cmd = into_object(command, "command")?;
        let v = take(&mut cmd, "command", "v")?;
        let log = take_str(&mut cmd, "command", "log")?;
        let id = take_str(&mut cmd, "command", "id")?;
        let actor = take_str(&mut cmd, "command", "actor")?;
        let key = take_str(&mut cmd, "command", "key")?;
        let time = take_str(&mut cmd, "command", "time")?;
        let body = take(&mut cmd, "command", "body")?;
        refuse_extra(&cmd, "command")?;

        match v.as_u64() {
            Some(1) => {}
            Some(other) => return Err(Rejection::UnsupportedVersion(other)),
            None => return Err(Rejection::invalid("command.v", "must be the integer 1")),
        }
        if log != origin {
            return Err(Rejection::WrongLog {
                expected: origin.to_string(),
                got: log,
            });
        }
        crate::ids::check_id("command.id", &id)?;
        crate::ids::check_actor_id("command.actor", &actor)?;
        let key = match keys {
            None => PublicKey::parse(&key)?,
            Some(cache) => match cache.lookup(&key) {
                Some(k) => k,
                None => {
                    let k = PublicKey::parse(&key)?;
                    cache.remember(key, k);
                    k
                }
            },
        };
        let client_time = crate::time::parse_utc("command.time", &time)?;
        let signature = signature?;
        if verify {
            key.verify(&signing_message(origin, &command_bytes), &signature)?;
        }
        crate::ids::check_text_in("command.body", &body)?;
        let body = Body::from_value(body)?;
        Ok(SignedCommand {
            id,
            actor,
            key,
            client_time,
            body,
            command_bytes,
            signature,
        })
    }

    /// The canonical envelope bytes (what the client sent).
    pub fn envelope_bytes(&self) -> Vec<u8> {
        envelope_bytes(&self.command_bytes, &self.signature)
    }
}

/// What a client needs to sign a command. Kept apart from the I/O of key files.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// The log's origin.
    pub origin: &'a str,
    /// The acting actor's id.
    pub actor: &'a str,
    /// The client-chosen command id (a UUID or similar; reuse it when retrying).
    pub id: &'a str,
    /// The client's clock, RFC 3339 UTC.
    pub time: &'a str,
    /// The body, with its `type`.
    pub body: Value,
}

impl Draft<'_> {
    /// Sign and return the canonical envelope bytes.
    pub fn sign(&self, key: &Keypair) -> Vec<u8> {
        let command = serde_json::json!({
            "v": 1,
            "log": self.origin,
            "id": self.id,
            "actor": self.actor,
            "key": key.public().id(),
            "time": self.time,
            "body": self.body,
        });
        let command_bytes = corridor_jcs::canonicalize(&command);
        let sig = key.sign(&signing_message(self.origin, &command_bytes));
        envelope_bytes(&command_bytes, &sig)
    }
}

pub(crate) fn into_object(value: Value, at: &str) -> Result<Map<String, Value>, Rejection> {
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(Rejection::invalid(
            if at.is_empty() { "(document)" } else { at },
            "must be a JSON object",
        )),
    }
}

fn path(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}

pub(crate) fn take(m: &mut Map<String, Value>, at: &str, name: &str) -> Result<Value, Rejection> {
    m.remove(name)
        .ok_or_else(|| Rejection::MissingField(path(at, name)))
}

fn take_str(m: &mut Map<String, Value>, at: &str, name: &str) -> Result<String, Rejection> {
    match take(m, at, name)? {
        Value::String(s) => Ok(s),
        _ => Err(Rejection::invalid(path(at, name), "must be a string")),
    }
}

fn refuse_extra(m: &Map<String, Value>, at: &str) -> Result<(), Rejection> {
    match m.keys().next() {
        Some(k) => Err(Rejection::invalid(path(at, k), "unknown field")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ORIGIN: &str = "corridor.test/log";

    fn body() -> Value {
        json!({"type": "incident.respond", "incident": "inc-1", "text": "we deny it"})
    }

    fn draft(body: Value) -> Draft<'static> {
        Draft {
            origin: ORIGIN,
            actor: "ru/coord-1",
            id: "c-1",
            time: "2022-03-03T14:50:00Z",
            body,
        }
    }

    #[test]
    fn signed_envelope_parses() {
        let kp = Keypair::from_seed([1; 32]);
        let bytes = draft(body()).sign(&kp);
        let cmd = SignedCommand::parse(&bytes, ORIGIN).unwrap();
        assert_eq!(cmd.actor, "ru/coord-1");
        assert_eq!(cmd.key, kp.public());
        assert_eq!(cmd.envelope_bytes(), bytes);
    }

    #[test]
    fn a_stored_command_parses_as_its_envelope_does() {
        let kp = Keypair::from_seed([1; 32]);
        let bytes = draft(body()).sign(&kp);
        let cmd = SignedCommand::parse(&bytes, ORIGIN).unwrap();
        let stored = |sig: &[u8], verify| {
            SignedCommand::parse_stored(&cmd.command_bytes, sig, ORIGIN, verify, None)
        };
        assert_eq!(stored(&cmd.signature, true).unwrap(), cmd);
        assert_eq!(stored(&cmd.signature, false).unwrap(), cmd);
        let mut bad = cmd.signature;
        bad[9] ^= 1;
        assert_eq!(stored(&bad, true).unwrap_err().code(), "bad-signature");
        assert!(stored(&bad, false).is_ok(), "checked by the caller then");
        assert_eq!(
            stored(&bad[..63], false).unwrap_err().code(),
            "invalid-field"
        );
        let spaced = String::from_utf8(cmd.command_bytes.clone())
            .unwrap()
            .replacen(':', ": ", 1);
        assert_eq!(
            SignedCommand::parse_stored(spaced.as_bytes(), &cmd.signature, ORIGIN, false, None)
                .unwrap_err()
                .code(),
            "non-canonical-json"
        );
    }

    #[test]
    fn another_logs_signature_is_refused() {
        let kp = Keypair::from_seed([1; 32]);
        let mut d = draft(body());
        d.origin = "other.test/log";
        let bytes = d.sign(&kp);
        assert_eq!(
            SignedCommand::parse(&bytes, ORIGIN).unwrap_err().code(),
            "wrong-log"
        );
        // Same bytes, but claiming our origin while signed under another: bad signature.
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("other.test/log", ORIGIN);
        assert_eq!(
            SignedCommand::parse(text.as_bytes(), ORIGIN)
                .unwrap_err()
                .code(),
            "bad-signature"
        );
    }

    #[test]
    fn tampered_body_is_refused() {
        let kp = Keypair::from_seed([1; 32]);
        let text = String::from_utf8(draft(body()).sign(&kp)).unwrap();
        let text = text.replace("we deny it", "we admit it");
        assert_eq!(
            SignedCommand::parse(text.as_bytes(), ORIGIN)
                .unwrap_err()
                .code(),
            "bad-signature"
        );
    }

    #[test]
    fn structural_errors_have_their_codes() {
        let kp = Keypair::from_seed([1; 32]);
        let ok = String::from_utf8(draft(body()).sign(&kp)).unwrap();
        let cases = [
            (ok.replace("\"id\":\"c-1\",", ""), "missing-field"),
            (ok.replace("\"v\":1", "\"v\":2"), "unsupported-version"),
            (ok.replace("\"v\":1", "\"v\":1.5"), "float-not-allowed"),
            (
                ok.replace("{\"command\"", "{ \"command\""),
                "non-canonical-json",
            ),
            (
                ok.replace("2022-03-03T14:50:00Z", "March 3"),
                "invalid-field",
            ),
            ("[1,".to_string(), "malformed-json"),
        ];
        for (text, code) in cases {
            assert_eq!(
                SignedCommand::parse(text.as_bytes(), ORIGIN)
                    .unwrap_err()
                    .code(),
                code,
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_type_and_missing_body_field() {
        let kp = Keypair::from_seed([1; 32]);
        let bytes = draft(json!({"type": "corridor.teleport"})).sign(&kp);
        assert_eq!(
            SignedCommand::parse(&bytes, ORIGIN).unwrap_err().code(),
            "unknown-command-type"
        );
        let bytes = draft(json!({"type": "incident.respond", "incident": "x"})).sign(&kp);
        assert_eq!(
            SignedCommand::parse(&bytes, ORIGIN).unwrap_err(),
            Rejection::MissingField("command.body.text".into())
        );
    }
}

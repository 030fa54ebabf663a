//! Why a command or request was refused.
//!
//! Each variant has a stable, machine-readable code (used as the RFC 9457 problem `code` by the
//! HTTP shell, and in CLI messages), because field clients and other implementations branch on
//! the reason, not on English prose.

use corridor_jcs::StrictError;

/// A refusal. Refusals write nothing to the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The bytes failed the strict canonical-JSON rules (malformed, duplicate key, float, ...).
    #[error(transparent)]
    Json(#[from] StrictError),
    /// A required field is absent.
    #[error("missing field: {0}")]
    MissingField(String),
    /// A field is present but has the wrong shape or an invalid value.
    #[error("invalid field {field}: {reason}")]
    InvalidField {
        /// JSON path or name of the field.
        field: String,
        /// What is wrong with it, for a human.
        reason: String,
    },
    /// The command's `body.type` names no command this server knows.
    #[error("unknown command type: {0}")]
    UnknownCommandType(String),
    /// The envelope's `v` is not a protocol version we speak.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u64),
    /// The command names another log than this one.
    #[error("command is for log {got:?}, this log is {expected:?}")]
    WrongLog {
        /// The origin this server's log has.
        expected: String,
        /// The origin the command named.
        got: String,
    },
    /// The Ed25519 signature does not verify (strictly) over the prefix and canonical bytes.
    #[error("signature does not verify over this command for this log")]
    BadSignature,
    /// The public key is malformed or of small order (weak keys would let `verify` and the server disagree).
    #[error("invalid public key: {0}")]
    InvalidKey(String),
    /// The key is not registered in this log.
    #[error("key {0} is not registered in this log")]
    UnknownKey(String),
    /// The key was revoked before this command was sequenced.
    #[error("key {0} was revoked")]
    KeyRevoked(String),
    /// The key is registered, but to another actor than the one the command names.
    #[error("key {key} belongs to {owner}, not to {actor}")]
    KeyActorMismatch {
        /// The key that signed.
        key: String,
        /// The actor the command claims.
        actor: String,
        /// The actor the key is registered to.
        owner: String,
    },
    /// The actor's role may not issue this command (or not for this party).
    #[error("{actor} ({role}) may not {action}")]
    RoleNotAllowed {
        /// Who tried.
        actor: String,
        /// Their role.
        role: String,
        /// What they tried to do.
        action: String,
    },
    /// The same (actor, command id) was used before with different bytes.
    #[error("command id {id:?} of {actor} was already used for a different command")]
    CommandIdConflict {
        /// The actor.
        actor: String,
        /// The reused id.
        id: String,
    },
    /// The client's clock is too far from the log's clock.
    #[error(
        "client time {client} is {skew_s} s from the log's time {server}; the limit is {limit_s} s"
    )]
    ClockSkew {
        /// The time the client put in the command.
        client: String,
        /// The log's time when sequencing.
        server: String,
        /// The difference in seconds.
        skew_s: i64,
        /// The genesis policy's limit in seconds.
        limit_s: i64,
    },
    /// A domain rule refused the command (unknown incident, duplicate actor, ...).
    #[error("{message}")]
    Rule {
        /// Stable code of the rule.
        code: &'static str,
        /// What went wrong, for a human.
        message: String,
    },
}

impl Rejection {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Json(e) => e.code(),
            Rejection::MissingField(_) => "missing-field",
            Rejection::InvalidField { .. } => "invalid-field",
            Rejection::UnknownCommandType(_) => "unknown-command-type",
            Rejection::UnsupportedVersion(_) => "unsupported-version",
            Rejection::WrongLog { .. } => "wrong-log",
            Rejection::BadSignature => "bad-signature",
            Rejection::InvalidKey(_) => "invalid-key",
            Rejection::UnknownKey(_) => "unknown-key",
            Rejection::KeyRevoked(_) => "key-revoked",
            Rejection::KeyActorMismatch { .. } => "key-actor-mismatch",
            Rejection::RoleNotAllowed { .. } => "role-not-allowed",
            Rejection::CommandIdConflict { .. } => "command-id-conflict",
            Rejection::ClockSkew { .. } => "clock-skew",
            Rejection::Rule { code, .. } => code,
        }
    }

    /// Shorthand for a domain-rule refusal.
    pub fn rule(code: &'static str, message: impl Into<String>) -> Self {
        Rejection::Rule {
            code,
            message: message.into(),
        }
    }

    /// Shorthand for an invalid field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Rejection::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

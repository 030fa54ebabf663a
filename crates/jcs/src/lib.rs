//! Canonical JSON for corridor: RFC 8785 (JCS) output, and the strict input rules for signed data.
//!
//! A signature covers bytes, not values. For a signed command to verify everywhere, every
//! implementation (this server, a field client in JavaScript, an auditor's Python script) must
//! turn the same value into the same bytes. RFC 8785 defines those bytes: members sorted by their
//! UTF-16 code units, strings escaped minimally the way ECMAScript's `JSON.stringify` does, numbers
//! printed the way ECMAScript's `Number::toString` does, no whitespace. [`canonicalize`] produces
//! them for any JSON value.
//!
//! Going the other way, the server must not accept input that different parsers read
//! differently, or that cannot survive a round trip through a JavaScript number. So
//! [`parse_strict`] refuses duplicate keys (parsers disagree on which one wins), fractions and
//! exponents (binary floats in signed data invite rounding disputes), integers beyond
//! ±(2^53 − 1) (JavaScript would silently round them) and text that is not Unicode NFC (visually
//! identical strings with different bytes). [`parse_canonical`] additionally demands that the
//! bytes already *are* canonical, so that what was signed is exactly what is stored and hashed.
//!
//! To check a value this process is about to sign by the same rules the server applies, run it
//! through both directions: `parse_canonical(&to_canonical(&x)?)`.
//!
//! The crate does no I/O.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod canon;
mod strict;

pub use canon::{canonicalize, to_canonical};
pub use strict::{parse_canonical, parse_strict};

/// The largest integer magnitude corridor accepts in signed data, 2^53 − 1.
///
/// Every integer up to this magnitude is exactly representable as an IEEE 754 double, so it
/// means the same number in JavaScript, Python and Rust; larger ones must travel as strings.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// How deeply arrays and objects may nest in strictly parsed input.
///
/// The parser is recursive, so an unbounded depth would let a small hostile request exhaust the
/// stack. Corridor's commands are a few levels deep; 128 matches serde_json's own default.
pub const MAX_DEPTH: usize = 128;

/// Why input was refused by the strict parser.
///
/// Each variant maps to a stable API problem code ([`StrictError::code`]), because clients branch
/// on the reason; keep them distinct. `path` fields are JSON Pointers (RFC 6901) to the offending
/// member or element, e.g. `/command/body/qty`; the empty string is the whole document.
///
/// When input breaks several rules, a malformed document is always reported as [`Malformed`]
/// (nothing else about it can be trusted); otherwise the violation that comes first in the
/// document is reported, so the answer does not depend on hash-map iteration order.
///
/// [`Malformed`]: StrictError::Malformed
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictError {
    /// Not JSON at all: a syntax error, trailing garbage, invalid UTF-8, an escaped lone surrogate,
    /// or nesting deeper than [`MAX_DEPTH`].
    ///
    /// `line` and `column` are 1-based; the column counts bytes, so it is exact even when the
    /// offending bytes are not valid UTF-8.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Malformed {
        /// 1-based line of the first offending byte.
        line: usize,
        /// 1-based byte column of the first offending byte within its line.
        column: usize,
        /// What was wrong, for a human.
        message: String,
    },
    /// An object names the same member twice (after decoding escapes); parsers disagree on
    /// which value wins, so a signature over such text would mean different things to different
    /// readers.
    #[error("duplicate object key at JSON pointer {path:?}")]
    DuplicateKey {
        /// Pointer to the second occurrence of the member.
        path: String,
    },
    /// A number has a fraction or an exponent (`1.0`, `1e2`, `-0.5`). Corridor forbids floats in
    /// signed data; decimal quantities travel as integers of a smaller unit or as strings.
    #[error("number at JSON pointer {path:?} has a fraction or exponent; floats are not allowed")]
    Float {
        /// Pointer to the number.
        path: String,
    },
    /// An integer's magnitude exceeds [`MAX_SAFE_INTEGER`]; such integers must travel as strings.
    #[error("integer at JSON pointer {path:?} is outside ±(2^53 - 1); send it as a string")]
    IntegerOutOfRange {
        /// Pointer to the number.
        path: String,
    },
    /// A string value or object key is not in Unicode Normalization Form C.
    #[error("text at JSON pointer {path:?} is not Unicode NFC")]
    NotNfc {
        /// Pointer to the string, or to the member whose key is not NFC.
        path: String,
    },
    /// The input is acceptable JSON, but its bytes are not the RFC 8785 canonical form of the
    /// value they encode (whitespace, member order, escapes or number spelling differ).
    #[error("JSON is not in RFC 8785 canonical form (first difference at byte {offset})")]
    NotCanonical {
        /// Byte offset of the first byte where the input and the canonical form differ.
        offset: usize,
    },
}

impl StrictError {
    /// The stable, machine-readable problem code for this refusal.
    ///
    /// These strings are part of the public API (HTTP problem details, CLI output); never change
    /// one once released.
    pub fn code(&self) -> &'static str {
        match self {
            StrictError::Malformed { .. } => "malformed-json",
            StrictError::DuplicateKey { .. } => "duplicate-key",
            StrictError::Float { .. } => "float-not-allowed",
            StrictError::IntegerOutOfRange { .. } => "integer-out-of-range",
            StrictError::NotNfc { .. } => "text-not-nfc",
            StrictError::NotCanonical { .. } => "non-canonical-json",
        }
    }
}

//! The strict parser for signed input.
//!
//! Why a small hand parser rather than a serde `Visitor` over `serde_json::Deserializer`:
//! - serde_json hands a visitor only the parsed number, not its spelling: `1e30` and
//!   `1000000000000000000000000000000` both arrive as the same `f64`, and `-0` arrives as `-0.0`,
//!   so "float" and "integer out of range" could not be told apart as the rules require. Here the
//!   number's lexeme decides, and no float is ever parsed.
//! - The rules need "malformed first, then the first violation in document order". A visitor
//!   would have to abort at the first violation (losing a later syntax error) or stash violations
//!   and still have serde_json finish; a parser that records the first violation and keeps going
//!   gives exactly that ordering, with exact byte positions for the error.
//! - Its behaviour does not change when some other crate in the build turns on serde_json's
//!   `arbitrary_precision` or `preserve_order` feature (Cargo unifies features workspace-wide).
//!
//! The grammar is RFC 8259's, nothing more: no comments, no trailing commas, no byte order mark,
//! no leading zeros or `+`, whitespace only space/tab/LF/CR. Its agreement with serde_json on what
//! is JSON at all is checked by a differential property test (`tests/props.rs`).

use crate::canon::canonicalize;
use crate::{MAX_DEPTH, MAX_SAFE_INTEGER, StrictError};
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// Parse JSON by corridor's strict rules, accepting any whitespace and member order.
///
/// Use this where the bytes themselves are not signed but must still hold only data that means
/// the same in every language: no duplicate keys, no floats, integers within ±(2^53 − 1), only
/// NFC text. On refusal, a malformed document is reported as such; otherwise the first violation
/// in document order is (see [`StrictError`]).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, StrictError> {
    let mut parser = Parser {
        src: bytes,
        pos: 0,
        depth: 0,
        path: String::new(),
        violation: None,
    };
    let value = parser.document().map_err(|e| e.into_strict(bytes))?;
    match parser.violation {
        Some(violation) => Err(violation),
        None => Ok(value),
    }
}

/// [`parse_strict`], then require the input bytes to be exactly the canonical form of the value.
///
/// The server stores, hashes and verifies signatures over the bytes a client sent. Requiring them
/// to be canonical already means there is exactly one byte string per command, so a signature
/// over it is a signature over the value, and nobody can produce a second, differently spelled
/// copy of a logged command.
pub fn parse_canonical(bytes: &[u8]) -> Result<Value, StrictError> {
    let value = parse_strict(bytes)?;
    let canonical = canonicalize(&value);
    if canonical != bytes {
        let offset = canonical
            .iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| canonical.len().min(bytes.len()));
        return Err(StrictError::NotCanonical { offset });
    }
    Ok(value)
}

/// A syntax error: where, and what. Turned into [`StrictError::Malformed`] only at the end,
/// because line and column are computed from the position only when needed.
struct Syntax {
    pos: usize,
    message: String,
}

impl Syntax {
    fn into_strict(self, src: &[u8]) -> StrictError {
        let before = &src[..self.pos.min(src.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        StrictError::Malformed {
            line,
            column: before.len() - line_start + 1,
            message: self.message,
        }
    }
}

type Parsed<T> = Result<T, Syntax>;

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
    /// JSON Pointer of the value being parsed; segments are appended on the way down and
    /// truncated on the way up, so recording a violation costs one clone.
    path: String,
    /// The first rule violation met, reported only if the whole document turns out well formed.
    violation: Option<StrictError>,
}

impl Parser<'_> {
    fn document(&mut self) -> Parsed<Value> {
        let value = self.value()?;
        self.skip_ws();
        if self.pos < self.src.len() {
            return self.fail(
                self.pos,
                format!(
                    "trailing characters after the JSON value, starting with {}",
                    self.describe(self.pos)
                ),
            );
        }
        Ok(value)
    }

    fn value(&mut self) -> Parsed<Value> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(|s| {
                self.check_nfc(&s);
                Value::String(s)
            }),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            _ => self.fail(
                self.pos,
                format!("expected a JSON value, found {}", self.describe(self.pos)),
            ),
        }
    }

    fn object(&mut self) -> Parsed<Value> {
        self.enter()?;
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return self.fail(
                    self.pos,
                    format!(
                        "expected a string key in an object, found {}",
                        self.describe(self.pos)
                    ),
                );
            }
            let key = self.string()?;
            let mark = self.push_key(&key);
            self.check_nfc(&key);
            if map.contains_key(&key) {
                self.record(|path| StrictError::DuplicateKey { path });
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return self.fail(
                    self.pos,
                    format!(
                        "expected ':' after an object key, found {}",
                        self.describe(self.pos)
                    ),
                );
            }
            self.pos += 1;
            let value = self.value()?;
            self.path.truncate(mark);
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return self.fail(
                        self.pos,
                        format!(
                            "expected ',' or '}}' in an object, found {}",
                            self.describe(self.pos)
                        ),
                    );
                }
            }
        }
        self.depth -= 1;
        Ok(Value::Object(map))
    }

    fn array(&mut self) -> Parsed<Value> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            let mark = self.path.len();
            // Writing to a String cannot fail.
            let _ = write!(self.path, "/{}", items.len());
            let item = self.value()?;
            self.path.truncate(mark);
            items.push(item);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return self.fail(
                        self.pos,
                        format!(
                            "expected ',' or ']' in an array, found {}",
                            self.describe(self.pos)
                        ),
                    );
                }
            }
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    /// Parse a string at the opening quote, decoding escapes.
    fn string(&mut self) -> Parsed<String> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run = self.pos;
            while let Some(&b) = self.src.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The stop bytes are ASCII, which never occurs inside a valid multi-byte sequence,
            // so validating each run on its own validates the whole string.
            match std::str::from_utf8(&self.src[run..self.pos]) {
                Ok(text) => out.push_str(text),
                Err(e) => {
                    return self.fail(run + e.valid_up_to(), "invalid UTF-8 in a string");
                }
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                Some(b) => {
                    return self.fail(
                        self.pos,
                        format!("control character U+{b:04X} must be escaped in a string"),
                    );
                }
                None => return self.fail(open, "unterminated string"),
            }
        }
    }

    /// Decode one escape sequence at its backslash.
    fn escape(&mut self) -> Parsed<char> {
        let start = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4()?;
                return match unit {
                    0xd800..=0xdbff => {
                        if !self.src[self.pos..].starts_with(b"\\u") {
                            return self.fail(start, "lone leading surrogate in a \\u escape");
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return self.fail(start, "lone leading surrogate in a \\u escape");
                        }
                        let scalar = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                        self.scalar(start, scalar)
                    }
                    0xdc00..=0xdfff => self.fail(start, "lone trailing surrogate in a \\u escape"),
                    _ => self.scalar(start, unit),
                };
            }
            None => return self.fail(start, "unterminated string"),
            Some(_) => {
                return self.fail(
                    self.pos,
                    format!("invalid escape sequence \\{}", self.describe(self.pos)),
                );
            }
        };
        self.pos += 1;
        Ok(c)
    }

    fn scalar(&self, at: usize, scalar: u32) -> Parsed<char> {
        char::from_u32(scalar).map_or_else(|| self.fail(at, "invalid \\u escape"), Ok)
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => {
                    return self.fail(
                        self.pos,
                        format!(
                            "expected a hex digit in a \\u escape, found {}",
                            self.describe(self.pos)
                        ),
                    );
                }
            };
            unit = unit * 16 + u32::from(digit);
            self.pos += 1;
        }
        Ok(unit)
    }

    /// Parse a number by its spelling: any fraction or exponent makes it a float, whatever its
    /// value; otherwise its digits must be within ±(2^53 − 1).
    fn number(&mut self) -> Parsed<Value> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return self.fail(self.pos, "leading zeros are not allowed in numbers");
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => {
                return self.fail(
                    self.pos,
                    format!("expected a digit, found {}", self.describe(self.pos)),
                );
            }
        }
        let digits_end = self.pos;
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.require_digit("after a decimal point")?;
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.require_digit("in an exponent")?;
            float = true;
        }
        if float {
            self.record(|path| StrictError::Float { path });
            return Ok(Value::Null);
        }
        let digits = &self.src[digits_start..digits_end];
        // 2^53 - 1 has 16 digits; more cannot fit, and 16 always fit in a u64.
        let magnitude = if digits.len() <= 16 {
            digits
                .iter()
                .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
        } else {
            u64::MAX
        };
        if magnitude > MAX_SAFE_INTEGER {
            self.record(|path| StrictError::IntegerOutOfRange { path });
            return Ok(Value::Null);
        }
        // In range, so the cast is exact; `-0` becomes plain 0, as in every JSON reader.
        let n = magnitude as i64;
        Ok(Value::from(if negative { -n } else { n }))
    }

    fn require_digit(&mut self, context: &str) -> Parsed<()> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return self.fail(
                self.pos,
                format!(
                    "expected a digit {context}, found {}",
                    self.describe(self.pos)
                ),
            );
        }
        self.digits();
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &'static [u8], value: Value) -> Parsed<Value> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            return Ok(value);
        }
        let len = self.src[self.pos..]
            .iter()
            .zip(word)
            .take_while(|(a, b)| a == b)
            .count();
        self.fail(
            self.pos + len,
            format!(
                "invalid literal (expected `{}`), found {}",
                String::from_utf8_lossy(word),
                self.describe(self.pos + len)
            ),
        )
    }

    fn enter(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(
                self.pos,
                format!("arrays and objects nest deeper than {MAX_DEPTH} levels"),
            );
        }
        self.pos += 1;
        Ok(())
    }

    fn check_nfc(&mut self, text: &str) {
        if !text.is_ascii() && !unicode_normalization::is_nfc(text) {
            self.record(|path| StrictError::NotNfc { path });
        }
    }

    /// Remember a violation at the current path unless an earlier one is already known.
    fn record(&mut self, violation: impl FnOnce(String) -> StrictError) {
        if self.violation.is_none() {
            self.violation = Some(violation(self.path.clone()));
        }
    }

    /// Append `/key` (escaped per RFC 6901) to the path; returns the length to truncate back to.
    fn push_key(&mut self, key: &str) -> usize {
        let mark = self.path.len();
        self.path.push('/');
        for c in key.chars() {
            match c {
                '~' => self.path.push_str("~0"),
                '/' => self.path.push_str("~1"),
                c => self.path.push(c),
            }
        }
        mark
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn describe(&self, pos: usize) -> String {
        match self.src.get(pos) {
            None => "end of input".to_owned(),
            Some(&b) if b.is_ascii_graphic() => format!("'{}'", char::from(b)),
            Some(&b) => format!("byte 0x{b:02x}"),
        }
    }

    fn fail<T>(&self, pos: usize, message: impl Into<String>) -> Parsed<T> {
        Err(Syntax {
            pos,
            message: message.into(),
        })
    }
}

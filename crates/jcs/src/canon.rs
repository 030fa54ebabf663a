//! RFC 8785 serialisation of a `serde_json::Value`.
//!
//! Why this is written here rather than taken whole from a JCS crate: apart from numbers, JCS is
//! three small rules (sort by UTF-16 code units, escape like `JSON.stringify`, no whitespace) that
//! are easier to audit in fifty lines than to trust in a dependency, and the crate has to own the
//! strict parser anyway. Numbers are the hard part: ECMAScript's `Number::toString` needs the
//! shortest round-tripping digits plus its own layout rules (`1e+21`, `0.000001`, `1e-7`). For that
//! we use `ryu-js`, the Ryū port maintained by the Boa JavaScript engine, which uses it for its own
//! `Number.prototype.toString`; it is checked here against the RFC 8785 Appendix B table
//! (`tests/rfc8785_vectors.rs`) and, on generated doubles, against Node's V8 and Trail of Bits'
//! Python implementation (`tests/cross_impl.rs`). `serde_json_canonicalizer` was the alternative; it
//! is built on the same `ryu-js`, so it would add a dependency without removing a risk.

use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// Canonical bytes of any JSON value per RFC 8785, numbers included, formatted as ECMAScript does.
///
/// This is the only way corridor turns a value into bytes that get hashed or signed, so every
/// implementation that signs commands must produce exactly these bytes; the cross-implementation
/// test holds it to Node's `canonicalize` and Python's `rfc8785`.
///
/// Every number is treated as an IEEE 754 double, as RFC 8785 requires: an integer beyond 2^53 in
/// the value is rounded to the nearest double (`9007199254740993` prints as `9007199254740992`),
/// exactly as a JavaScript signer would see it. The strict parser refuses such integers on input,
/// so they never reach a signature through the server.
pub fn canonicalize(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out);
    out
}

/// Serialize a value to `serde_json::Value` and canonicalize it.
///
/// Lets Rust structs be signed and hashed without a hand-built `Value`. The error is serde_json's:
/// it fails only where `serde_json::to_value` fails (e.g. a map with non-string keys).
pub fn to_canonical<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_value(value).map(|v| canonicalize(&v))
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, out),
    }
}

fn write_object(map: &Map<String, Value>, out: &mut Vec<u8>) {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    // Whatever order the map keeps (sorted by UTF-8 bytes, or insertion order when serde_json's
    // `preserve_order` is on), JCS wants UTF-16 code-unit order.
    members.sort_by(|a, b| cmp_utf16(a.0, b.0));
    out.push(b'{');
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(key, out);
        out.push(b':');
        write_value(value, out);
    }
    out.push(b'}');
}

/// Order of two strings by their UTF-16 code units (RFC 8785 section 3.2.3).
///
/// This differs from UTF-8 byte (= code point) order only when a character above U+FFFF (a
/// surrogate pair, 0xD800..) meets one in U+E000..=U+FFFF: UTF-16 puts the former first.
pub(crate) fn cmp_utf16(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_number(n: &Number, out: &mut Vec<u8>) {
    // u64 and i64 convert with round-to-nearest-even, like JavaScript's parse of the same digits;
    // with serde_json's `arbitrary_precision`, as_f64 parses the digits with correct rounding.
    match n.as_f64() {
        Some(f) if f.is_finite() => {
            let mut buf = ryu_js::Buffer::new();
            out.extend_from_slice(buf.format_finite(f).as_bytes());
        }
        // Unreachable with serde_json's default features (a Number is always a finite double
        // or an integer). Should a feature let a non-finite number in, print what
        // JSON.stringify prints for it rather than panic inside a signing path.
        _ => out.extend_from_slice(b"null"),
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Write `s` as a JSON string escaped exactly as ECMAScript's `JSON.stringify` does: only `"`,
/// `\` and U+0000..=U+001F are escaped, the latter as `\b \t \n \f \r` or `\u00xx` (lowercase);
/// everything else, including U+007F, U+2028 and non-ASCII, is written as literal UTF-8.
pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        // Bytes that need escaping are all ASCII, and ASCII bytes never occur inside a multi-byte
        // UTF-8 sequence, so scanning bytes is safe and copies unescaped runs whole.
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: Value) -> String {
        String::from_utf8(canonicalize(&v)).unwrap()
    }

    #[test]
    fn utf16_order_differs_from_utf8_order_above_the_bmp() {
        // U+E000 < U+1F600 by code point, but 0xE000 > 0xD83D (the emoji's high surrogate).
        assert_eq!(cmp_utf16("\u{e000}", "\u{1f600}"), Ordering::Greater);
        assert!("\u{e000}" < "\u{1f600}");
        assert_eq!(
            canon(json!({"\u{e000}": 1, "\u{1f600}": 2})),
            "{\"\u{1f600}\":2,\"\u{e000}\":1}"
        );
        // A prefix sorts first.
        assert_eq!(cmp_utf16("a", "ab"), Ordering::Less);
        assert_eq!(
            canon(json!({"ab": 1, "a": 2, "": 3})),
            r#"{"":3,"a":2,"ab":1}"#
        );
    }

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        let s: String = (0u8..0x20).map(char::from).collect();
        assert_eq!(
            canon(json!(s)),
            r#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#
        );
        assert_eq!(
            canon(json!("q\"b\\s/\u{7f}\u{2028}\u{2029}é😀")),
            "\"q\\\"b\\\\s/\u{7f}\u{2028}\u{2029}é😀\""
        );
    }

    #[test]
    fn integers_and_doubles_print_as_ecmascript_numbers() {
        assert_eq!(canon(json!(0)), "0");
        assert_eq!(canon(json!(-0.0)), "0");
        assert_eq!(canon(json!(9007199254740991i64)), "9007199254740991");
        assert_eq!(canon(json!(-9007199254740991i64)), "-9007199254740991");
        // Beyond 2^53 an integer is the double nearest to it, as in JavaScript.
        assert_eq!(canon(json!(9007199254740993u64)), "9007199254740992");
        assert_eq!(canon(json!(u64::MAX)), "18446744073709552000");
        assert_eq!(canon(json!(i64::MIN)), "-9223372036854776000");
        assert_eq!(canon(json!(1e21)), "1e+21");
        assert_eq!(canon(json!(1e20)), "100000000000000000000");
        assert_eq!(canon(json!(1e-7)), "1e-7");
        assert_eq!(canon(json!(1e-6)), "0.000001");
        assert_eq!(canon(json!(4.0)), "4");
        assert_eq!(canon(json!(0.1)), "0.1");
    }

    #[test]
    fn to_canonical_sorts_struct_fields() {
        #[derive(serde::Serialize)]
        struct S {
            zeta: u32,
            alpha: &'static str,
        }
        assert_eq!(
            to_canonical(&S {
                zeta: 1,
                alpha: "x"
            })
            .unwrap(),
            br#"{"alpha":"x","zeta":1}"#
        );
    }
}

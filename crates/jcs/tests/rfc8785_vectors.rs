//! Known-answer tests: the examples published in RFC 8785 and in its reference implementation's
//! test data (github.com/cyberphone/json-canonicalization, `testdata/`). Expected outputs are
//! copied from those sources, never produced by this crate.

use corridor_jcs::{StrictError, canonicalize, parse_strict};
use serde_json::Value;

/// Parse with serde_json (these inputs contain floats, which the strict parser refuses by design)
/// and canonicalize.
fn canon_text(input: &str) -> String {
    let value: Value = serde_json::from_str(input).expect("test input is JSON");
    String::from_utf8(canonicalize(&value)).expect("canonical output is UTF-8")
}

/// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical serialisation. (The table's two
/// non-finite rows, NaN and Infinity, have no JSON form and cannot occur in a serde_json Value.)
#[test]
fn appendix_b_number_serialization_samples() {
    let table: &[(u64, &str)] = &[
        (0x0000000000000000, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0xffefffffffffffff, "-1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0xc340000000000000, "-9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
        (0x444b1ae4d6e2ef4e, "999999999999999700000"),
        (0x444b1ae4d6e2ef4f, "999999999999999900000"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x41b3de4355555553, "333333333.3333332"),
        (0x41b3de4355555554, "333333333.33333325"),
        (0x41b3de4355555555, "333333333.3333333"),
        (0x41b3de4355555556, "333333333.3333334"),
        (0x41b3de4355555557, "333333333.33333343"),
        (0xbecbf647612f3696, "-0.0000033333333333333333"),
        (0x43143ff3c1cb0959, "1424953923781206.2"),
    ];
    for &(bits, expected) in table {
        let value = Value::from(f64::from_bits(bits));
        assert_eq!(
            String::from_utf8(canonicalize(&value)).unwrap(),
            expected,
            "IEEE 754 0x{bits:016x}"
        );
    }
}

/// RFC 8785 section 3.2.2: the sample input and its canonical form.
#[test]
fn section_3_2_2_sample() {
    let input = r#"{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
    let expected = r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
    assert_eq!(canon_text(input), expected);
}

/// RFC 8785 section 3.2.3: sorting by UTF-16 code units puts the emoji (a surrogate pair) before
/// U+FB33, the opposite of code-point order.
#[test]
fn section_3_2_3_sorting_sample() {
    let input = r#"{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"#;
    let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(canon_text(input), expected);
}

/// Reference test data `french.json`: the sort ignores locale collation.
#[test]
fn testdata_french() {
    let input = r#"{
  "peach": "This sorting order",
  "péché": "is wrong according to French",
  "pêche": "but canonicalization MUST",
  "sin":   "ingnore locale"
}"#;
    let expected = r#"{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ingnore locale"}"#;
    assert_eq!(canon_text(input), expected);
}

/// Reference test data `weird.json`; the expected output is the published hex of the UTF-8 bytes.
#[test]
fn testdata_weird() {
    let input = r#"{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\u000a": "Newline",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}"#;
    let expected_hex = "7b225c6e223a224e65776c696e65222c225c72223a2243617272696167652052657475726e222c2231223a224f6e65222c223c2f7363726970743e223a2242726f77736572204368616c6c656e6765222c22c280223a22436f6e74726f6c7f222c22c3b6223a224c6174696e20536d616c6c204c6574746572204f205769746820446961657265736973222c22e282ac223a224575726f205369676e222c22f09f9882223a22536d696c6579222c22efacb3223a22486562726577204c65747465722044616c6574205769746820446167657368227d";
    let value: Value = serde_json::from_str(input).unwrap();
    let hex: String = canonicalize(&value)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, expected_hex);
}

/// Reference test data `structures.json`.
#[test]
fn testdata_structures() {
    let input = "{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56.0},\n  \"10\": { },\n  \"\": \"empty\",\n  \"a\": { },\n  \"111\": [ { } ],\n  \"A\": { }\n}";
    let expected =
        r#"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}"#;
    assert_eq!(canon_text(input), expected);
}

/// Reference test data `values.json`.
#[test]
fn testdata_values() {
    let input = r#"{
  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],
  "escaping": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
    let expected = r#"{"escaping":"€$\u000f\nA'B\"\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}"#;
    assert_eq!(canon_text(input), expected);
}

/// Reference test data `unicode.json`: canonicalisation must NOT normalise text; it keeps the
/// code points it is given. (That input, U+1E0D U+0307, happens to be NFC already; the same text
/// decomposed is not, and there the strict parser, not the canonicaliser, is what refuses it.)
#[test]
fn testdata_unicode_is_not_normalized() {
    let input = "{\n  \"Unnormalized Unicode\":\"\\u1e0d\\u0307\"\n}\n";
    assert_eq!(
        canon_text(input),
        "{\"Unnormalized Unicode\":\"\u{1e0d}\u{307}\"}"
    );
    assert!(parse_strict(input.as_bytes()).is_ok());

    let decomposed = "{\"Unnormalized Unicode\":\"d\\u0323\\u0307\"}";
    assert_eq!(
        canon_text(decomposed),
        "{\"Unnormalized Unicode\":\"d\u{323}\u{307}\"}"
    );
    assert_eq!(
        parse_strict(decomposed.as_bytes()),
        Err(StrictError::NotNfc {
            path: "/Unnormalized Unicode".into()
        })
    );
}

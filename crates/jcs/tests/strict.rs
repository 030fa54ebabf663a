//! One test per refusal rule of the strict parser, each written to fail if that rule breaks, plus
//! the ordering between rules.

use corridor_jcs::{MAX_DEPTH, StrictError, canonicalize, parse_canonical, parse_strict};
use serde_json::{Value, json};

fn malformed(input: &[u8]) -> (usize, usize, String) {
    match parse_strict(input) {
        Err(StrictError::Malformed {
            line,
            column,
            message,
        }) => (line, column, message),
        other => panic!(
            "{:?} should be malformed, got {other:?}",
            String::from_utf8_lossy(input)
        ),
    }
}

fn path_of(e: StrictError) -> (&'static str, String) {
    let code = e.code();
    match e {
        StrictError::DuplicateKey { path }
        | StrictError::Float { path }
        | StrictError::IntegerOutOfRange { path }
        | StrictError::NotNfc { path } => (code, path),
        other => panic!("expected a violation with a path, got {other:?}"),
    }
}

fn violation(input: &str) -> (&'static str, String) {
    path_of(parse_strict(input.as_bytes()).expect_err(input))
}

#[test]
fn codes_are_stable_and_distinct() {
    let all = [
        StrictError::Malformed {
            line: 1,
            column: 1,
            message: String::new(),
        },
        StrictError::DuplicateKey {
            path: String::new(),
        },
        StrictError::Float {
            path: String::new(),
        },
        StrictError::IntegerOutOfRange {
            path: String::new(),
        },
        StrictError::NotNfc {
            path: String::new(),
        },
        StrictError::NotCanonical { offset: 0 },
    ];
    let codes: Vec<_> = all.iter().map(StrictError::code).collect();
    assert_eq!(
        codes,
        [
            "malformed-json",
            "duplicate-key",
            "float-not-allowed",
            "integer-out-of-range",
            "text-not-nfc",
            "non-canonical-json"
        ]
    );
}

#[test]
fn accepts_ordinary_json_with_any_layout() {
    let input = br#" { "b" : [ 1 , -2 , true , false , null , "x\ty" ] ,
        "a" : { } , "c" : [ ] , "d": "\u00e9\ud83d\ude00\/" }
    "#;
    assert_eq!(
        parse_strict(input),
        Ok(json!({"a": {}, "b": [1, -2, true, false, null, "x\ty"], "c": [], "d": "é😀/"}))
    );
    for scalar in ["0", "-1", "\"\"", "true", "null", "9007199254740991"] {
        assert!(parse_strict(scalar.as_bytes()).is_ok(), "{scalar}");
    }
}

#[test]
fn malformed_inputs_are_refused() {
    let cases: &[&[u8]] = &[
        b"",
        b"   ",
        b"{",
        b"[1,]",
        b"[,1]",
        b"{\"a\":1,}",
        b"{\"a\" 1}",
        b"{a:1}",
        b"{\"a\":}",
        b"{1:1}",
        b"'a'",
        b"01",
        b"-01",
        b"1.",
        b".5",
        b"+1",
        b"-",
        b"1e",
        b"1e+",
        b"0x10",
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b"tru",
        b"nul",
        b"True",
        b"{} x",
        b"{}{}",
        b"1 2",
        b"\xef\xbb\xbf{}", // byte order mark
        b"{} // comment",
        b"/* c */ {}",
        b"\"abc",    // unterminated
        b"\"a\nb\"", // raw control character
        b"\"a\x00b\"",
        b"\"\\x41\"", // invalid escape
        b"\"\\u12\"", // short \u escape
        b"\"\\u12G4\"",
        b"\"\\ud800\"", // lone leading surrogate
        b"\"\\ud800x\"",
        b"\"\\ud800\\u0041\"",   // leading surrogate + non-surrogate
        b"\"\\udc00\"",          // lone trailing surrogate
        b"\"\\udc00\\ud800\"",   // pair in the wrong order
        b"\"\xff\"",             // invalid UTF-8
        b"\"\xc3\"",             // truncated sequence
        b"\"\xc0\xaf\"",         // overlong encoding
        b"\"\xed\xa0\x80\"",     // UTF-8-encoded surrogate
        b"\"\xf4\x90\x80\x80\"", // beyond U+10FFFF
        b"[1]\x00",
        b"\x0c[]", // form feed is not JSON whitespace
    ];
    for &input in cases {
        malformed(input);
    }
}

#[test]
fn serde_json_also_rejects_escaped_lone_surrogates() {
    // The brief asked to check serde_json's behaviour; we parse by hand, but the two must agree.
    for input in [r#""\ud800""#, r#""\udc00""#, r#""\ud800\u0041""#] {
        assert!(serde_json::from_str::<Value>(input).is_err(), "{input}");
        malformed(input.as_bytes());
    }
}

#[test]
fn malformed_reports_line_and_byte_column() {
    let (line, column, message) = malformed(b"{\n  \"a\": tru\n}");
    assert_eq!((line, column), (2, 11), "{message}");
    let (line, column, _) = malformed(b"[1,\n2,\n]");
    assert_eq!((line, column), (3, 1));
    let (line, column, _) = malformed(b"{\"a\":\"\xff\"}");
    assert_eq!((line, column), (1, 7));
    let (line, column, _) = malformed(b"{} x");
    assert_eq!((line, column), (1, 4));
    // Multi-byte characters before the error count by bytes.
    let (line, column, _) = malformed("\"é\" x".as_bytes());
    assert_eq!((line, column), (1, 6));
    let (line, column, message) = malformed(b"");
    assert_eq!((line, column), (1, 1), "{message}");
}

#[test]
fn nesting_is_bounded() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse_strict(ok.as_bytes()).is_ok());
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    malformed(deep.as_bytes());
    // A hostile depth fails fast instead of overflowing the stack.
    malformed("[".repeat(1_000_000).as_bytes());
    malformed("{\"a\":".repeat(100_000).as_bytes());
}

#[test]
fn duplicate_keys_are_refused_with_their_path() {
    assert_eq!(
        violation(r#"{"a":1,"a":2}"#),
        ("duplicate-key", "/a".into())
    );
    assert_eq!(
        violation(r#"{"a":{"b":[0,{"c":1,"d":{},"c":2}]}}"#),
        ("duplicate-key", "/a/b/1/c".into())
    );
    // Duplicates are found after decoding escapes.
    assert_eq!(
        violation(r#"{"x":{"é":1,"\u00e9":2}}"#),
        ("duplicate-key", "/x/é".into())
    );
    // RFC 6901 escaping of '~' and '/' in the pointer.
    assert_eq!(
        violation(r#"{"a/b":{"m~n":1,"m~n":2}}"#),
        ("duplicate-key", "/a~1b/m~0n".into())
    );
    // The same key in different objects is fine.
    assert!(parse_strict(br#"{"a":{"a":1},"b":{"a":2}}"#).is_ok());
    // Even when both values are equal.
    assert_eq!(
        violation(r#"{"a":1,"a":1}"#),
        ("duplicate-key", "/a".into())
    );
    // Empty keys too; the pointer to the member "" is "/".
    assert_eq!(violation(r#"{"":1,"":2}"#), ("duplicate-key", "/".into()));
}

#[test]
fn duplicate_key_deep_down() {
    let mut input = String::new();
    let mut path = String::new();
    for i in 0..50 {
        input.push_str(&format!("{{\"k{i}\":["));
        path.push_str(&format!("/k{i}/0"));
    }
    input.push_str(r#"{"z":1,"z":2}"#);
    for _ in 0..50 {
        input.push_str("]}");
    }
    assert_eq!(violation(&input), ("duplicate-key", format!("{path}/z")));
}

#[test]
fn floats_are_refused_whatever_their_value() {
    for number in [
        "1.0", "1e2", "1E2", "1e+2", "1e-2", "-0.5", "0.0", "-0.0", "0e0", "1.5e300", "1e400",
    ] {
        assert_eq!(
            violation(&format!(r#"{{"command":{{"body":{{"qty":{number}}}}}}}"#)),
            ("float-not-allowed", "/command/body/qty".into()),
            "{number}"
        );
    }
    assert_eq!(violation("[0, 2.5]"), ("float-not-allowed", "/1".into()));
    assert_eq!(violation("2.5"), ("float-not-allowed", String::new()));
}

#[test]
fn integers_beyond_two_to_the_53_are_refused() {
    assert_eq!(
        parse_strict(b"[9007199254740991,-9007199254740991]"),
        Ok(json!([9007199254740991i64, -9007199254740991i64]))
    );
    for number in [
        "9007199254740992",
        "-9007199254740992",
        "18446744073709551616",
        "100000000000000000000000000000",
        "-99999999999999999999999999999999999999999999999999",
    ] {
        assert_eq!(
            violation(&format!(r#"{{"n":[{number}]}}"#)),
            ("integer-out-of-range", "/n/0".into()),
            "{number}"
        );
    }
}

#[test]
fn minus_zero_is_an_integer_but_not_canonical() {
    assert_eq!(parse_strict(b"-0"), Ok(json!(0)));
    assert_eq!(
        parse_canonical(b"-0"),
        Err(StrictError::NotCanonical { offset: 0 })
    );
}

#[test]
fn text_must_be_nfc() {
    // "é" as e + U+0301 COMBINING ACUTE ACCENT, literally and escaped.
    assert_eq!(
        violation("{\"name\":\"Cafe\u{301}\"}"),
        ("text-not-nfc", "/name".into())
    );
    assert_eq!(
        violation(r#"{"name":["ok","Cafe\u0301"]}"#),
        ("text-not-nfc", "/name/1".into())
    );
    // Keys too; the path names the member.
    assert_eq!(
        violation("{\"a\":{\"e\u{301}\":1}}"),
        ("text-not-nfc", "/a/e\u{301}".into())
    );
    // A singleton decomposition: U+212B ANGSTROM SIGN normalises to U+00C5.
    assert_eq!(violation("\"\u{212b}\""), ("text-not-nfc", String::new()));
    // U+FB33 (from the RFC 8785 sorting example) is a composition exclusion: its NFC is
    // U+05D3 U+05BC, so the precomposed form is refused.
    assert_eq!(violation("\"\u{fb33}\""), ("text-not-nfc", String::new()));
    assert!(parse_strict("\"\u{5d3}\u{5bc}\"".as_bytes()).is_ok());
    // NFC text of all kinds is fine.
    let fine = "\"Café 😀 Ångström 日本語 Дніпро \u{e000} \u{ffff} \u{10ffff}\"";
    assert!(parse_strict(fine.as_bytes()).is_ok());
}

#[test]
fn first_violation_in_document_order_wins() {
    // Member order in the text decides, not key order.
    assert_eq!(
        violation(r#"{"z":1.5,"a":99999999999999999}"#),
        ("float-not-allowed", "/z".into())
    );
    assert_eq!(
        violation(r#"{"z":99999999999999999,"a":1.5}"#),
        ("integer-out-of-range", "/z".into())
    );
    assert_eq!(
        violation("[\"e\u{301}\", 1.5, {\"a\":1,\"a\":2}]"),
        ("text-not-nfc", "/0".into())
    );
    assert_eq!(
        violation("[{\"a\":1,\"a\":2}, \"e\u{301}\"]"),
        ("duplicate-key", "/0/a".into())
    );
    // A key's own problem comes before its value's.
    assert_eq!(
        violation("{\"e\u{301}\":1.5}"),
        ("text-not-nfc", "/e\u{301}".into())
    );
    assert_eq!(
        violation(r#"{"a":1,"a":1.5}"#),
        ("duplicate-key", "/a".into())
    );
}

#[test]
fn malformed_wins_over_any_earlier_violation() {
    for input in [
        r#"{"a":1.5,"b":}"#,
        r#"{"a":1,"a":2,}"#,
        r#"[99999999999999999999, "\ud800"]"#,
        "[\"e\u{301}\"] x",
    ] {
        malformed(input.as_bytes());
    }
}

#[test]
fn canonical_input_is_accepted() {
    let value = json!({"b": [1, -2, "x\u{1f}"], "a": {"\u{e000}": null, "\u{1f600}": true}});
    let bytes = canonicalize(&value);
    assert_eq!(parse_canonical(&bytes), Ok(value));
}

#[test]
fn non_canonical_input_is_refused_with_the_offset() {
    let cases: &[(&str, usize)] = &[
        (r#"{"a":1, "b":2}"#, 7),
        (r#"{"b":2,"a":1}"#, 2),
        (" {}", 0),
        ("{}\n", 2),
        (r#"{"a" :1}"#, 4),
        (r#"["\u0041"]"#, 2),
        (r#"["\/"]"#, 2),
        (r#"["\u001F"]"#, 7),
        ("[\"\\u00e9\"]", 2),
        // U+1F600 must come before U+E000.
        ("{\"\u{e000}\":1,\"\u{1f600}\":2}", 2),
    ];
    for &(input, offset) in cases {
        assert!(parse_strict(input.as_bytes()).is_ok(), "{input}");
        assert_eq!(
            parse_canonical(input.as_bytes()),
            Err(StrictError::NotCanonical { offset }),
            "{input}"
        );
    }
}

#[test]
fn strict_violations_come_before_canonical_form() {
    // Non-canonical layout does not hide a strict violation.
    assert_eq!(
        parse_canonical(br#"{ "a": 1.5 }"#).map_err(|e| e.code()),
        Err("float-not-allowed")
    );
}

#[test]
fn errors_display_for_humans() {
    let e = parse_strict(br#"{"a":{"b":1.5}}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        "number at JSON pointer \"/a/b\" has a fraction or exponent; floats are not allowed"
    );
    let e = parse_strict(b"[1,]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "malformed JSON at line 1, column 4: expected a JSON value, found ']'"
    );
}

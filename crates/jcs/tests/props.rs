//! Property tests: canonical round trip, what makes bytes non-canonical, duplicate keys at any
//! depth, and agreement with serde_json on what is JSON at all.

use corridor_jcs::{MAX_SAFE_INTEGER, StrictError, canonicalize, parse_canonical, parse_strict};
use proptest::prelude::*;
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

const MAX: i64 = MAX_SAFE_INTEGER as i64;

/// Text the strict parser accepts: anything, normalised to NFC. Mixes plain ASCII, the
/// characters JCS escapes, the ones whose UTF-16 order differs from UTF-8 order, combining marks
/// (which NFC composes) and arbitrary scalar values.
fn text() -> impl Strategy<Value = String> {
    let interesting = prop::sample::select(
        "\"\\/~\u{0}\u{8}\t\n\u{c}\r\u{1f}\u{7f}\u{80}ée\u{301}\u{2028}\u{e000}\u{fb33}\u{ffff}\u{10000}😀\u{10ffff}Б日"
            .chars()
            .collect::<Vec<_>>(),
    );
    let c = prop_oneof![
        4 => prop::char::range('a', 'z'),
        3 => interesting,
        2 => any::<char>(),
    ];
    prop::collection::vec(c, 0..8).prop_map(|cs| cs.into_iter().collect::<String>().nfc().collect())
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => -1000i64..1000,
        2 => -MAX..=MAX,
        1 => prop::sample::select(vec![0, 1, -1, MAX, -MAX, MAX - 1, 1 << 32, -(1 << 31)]),
    ]
}

/// Values the strict parser accepts: no floats, safe integers, NFC text.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        int().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Positions between tokens of canonical JSON text, where whitespace would be legal.
fn token_boundaries(canonical: &[u8]) -> Vec<usize> {
    let mut out = vec![0, canonical.len()];
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in canonical.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    in_string = false;
                    out.push(i + 1);
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(i);
            }
            b'{' | b'[' | b',' | b':' => out.extend([i, i + 1]),
            b'}' | b']' => out.extend([i, i + 1]),
            _ => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// JSON text of `v` with every object's members in *reverse* canonical order.
fn reversed_members(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                reversed_members(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<_> = map.iter().collect();
            members.sort_by(|a, b| b.0.encode_utf16().cmp(a.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(canonicalize(&Value::String(k.clone())));
                out.push(b':');
                reversed_members(item, out);
            }
            out.push(b'}');
        }
        scalar => out.extend(canonicalize(scalar)),
    }
}

fn has_object_with_two_members(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(has_object_with_two_members),
        Value::Object(map) => map.len() >= 2 || map.values().any(has_object_with_two_members),
        _ => false,
    }
}

fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// One step down from the root of a document: into an object member or an array element.
#[derive(Debug, Clone)]
enum Step {
    Member { key: String, before: Value },
    Element { before: Vec<Value> },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (text(), value()).prop_map(|(key, before)| Step::Member { key, before }),
        prop::collection::vec(value(), 0..3).prop_map(|before| Step::Element { before }),
    ]
}

/// Bytes JSON-ish enough that mutations land on interesting parser states.
fn mutation_byte() -> impl Strategy<Value = u8> {
    prop::sample::select(
        b"{}[],:\"\\/u0123456789aAbefEnrtls.-+ \n\t\x00\x1f\x7f\xc3\xa9\xed\xa0\xff".to_vec(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn canonical_bytes_round_trip(v in value()) {
        let bytes = canonicalize(&v);
        prop_assert_eq!(parse_canonical(&bytes), Ok(v.clone()));
        // Canonicalisation is idempotent through the strict parser.
        prop_assert_eq!(canonicalize(&parse_strict(&bytes).unwrap()), bytes);
    }

    #[test]
    fn pretty_printing_parses_but_is_not_canonical(v in value()) {
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        prop_assert_eq!(parse_strict(&pretty), Ok(v.clone()));
        let canonical = canonicalize(&v);
        if pretty == canonical {
            prop_assert_eq!(parse_canonical(&pretty), Ok(v));
        } else {
            let refused = parse_canonical(&pretty).map_err(|e| e.code());
            prop_assert_eq!(refused, Err("non-canonical-json"));
        }
    }

    #[test]
    fn any_inserted_whitespace_is_not_canonical(
        v in value(),
        pick in any::<prop::sample::Index>(),
        ws in prop::sample::select(vec![b' ', b'\t', b'\n', b'\r']),
    ) {
        let canonical = canonicalize(&v);
        let boundaries = token_boundaries(&canonical);
        let at = *pick.get(&boundaries);
        let mut bytes = canonical.clone();
        bytes.insert(at, ws);
        prop_assert_eq!(parse_strict(&bytes), Ok(v));
        prop_assert_eq!(parse_canonical(&bytes), Err(StrictError::NotCanonical { offset: at }));
    }

    #[test]
    fn any_member_reordering_is_not_canonical(v in value()) {
        prop_assume!(has_object_with_two_members(&v));
        let mut bytes = Vec::new();
        reversed_members(&v, &mut bytes);
        prop_assert_eq!(parse_strict(&bytes), Ok(v));
        let refused = parse_canonical(&bytes).map_err(|e| e.code());
        prop_assert_eq!(refused, Err("non-canonical-json"));
    }

    #[test]
    fn duplicate_keys_at_any_depth_are_found_with_their_path(
        steps in prop::collection::vec(step(), 0..6),
        key in text(),
        first in value(),
        between in prop::collection::vec((text(), value()), 0..3),
        second in value(),
    ) {
        // The innermost object: `key` twice, other members (with other keys) in between.
        let mut doc = String::from("{");
        doc += &String::from_utf8(canonicalize(&Value::String(key.clone()))).unwrap();
        doc.push(':');
        doc += &String::from_utf8(canonicalize(&first)).unwrap();
        let mut seen = std::collections::HashSet::from([key.clone()]);
        for (k, v) in between.iter().filter(|(k, _)| seen.insert(k.clone())) {
            doc.push(',');
            doc += &String::from_utf8(canonicalize(&Value::String(k.clone()))).unwrap();
            doc.push(':');
            doc += &String::from_utf8(canonicalize(v)).unwrap();
        }
        doc.push(',');
        doc += &String::from_utf8(canonicalize(&Value::String(key.clone()))).unwrap();
        doc.push(':');
        doc += &String::from_utf8(canonicalize(&second)).unwrap();
        doc.push('}');
        let mut path = format!("/{}", pointer_token(&key));
        // Wrap it, innermost step last; valid siblings come before it in document order.
        for step in steps.iter().rev() {
            match step {
                Step::Member { key, before } => {
                    let sibling = format!("{key}\u{0}sibling");
                    doc = format!(
                        "{{{}:{},{}:{}}}",
                        String::from_utf8(canonicalize(&Value::String(sibling))).unwrap(),
                        String::from_utf8(canonicalize(before)).unwrap(),
                        String::from_utf8(canonicalize(&Value::String(key.clone()))).unwrap(),
                        doc,
                    );
                    path = format!("/{}{path}", pointer_token(key));
                }
                Step::Element { before } => {
                    let mut items: Vec<String> = before
                        .iter()
                        .map(|v| String::from_utf8(canonicalize(v)).unwrap())
                        .collect();
                    path = format!("/{}{path}", items.len());
                    items.push(doc);
                    doc = format!("[{}]", items.join(","));
                }
            }
        }
        prop_assert_eq!(
            parse_strict(doc.as_bytes()),
            Err(StrictError::DuplicateKey { path }),
            "{}", doc
        );
    }

    /// The hand parser and serde_json agree on what is JSON: mutate canonical text at random and
    /// compare. (serde_json accepts duplicates, floats, big integers and non-NFC text, which the
    /// strict rules refuse, so those only require serde_json to call the text JSON at all.)
    #[test]
    fn agrees_with_serde_json_on_what_is_json(
        v in value(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, mutation_byte()), 1..4),
    ) {
        let mut bytes = canonicalize(&v);
        for (at, kind, b) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 => bytes.insert(i, b),
                1 if i < bytes.len() => { bytes.remove(i); }
                _ if i < bytes.len() => bytes[i] = b,
                _ => bytes.push(b),
            }
        }
        let ours = parse_strict(&bytes);
        let theirs = serde_json::from_slice::<Value>(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => prop_assert_eq!(canonicalize(a), canonicalize(b), "{}", text),
            (Err(StrictError::Malformed { .. }), Err(_)) => {}
            // serde_json refuses floats that overflow a double (1e400); we refuse every float.
            (Err(StrictError::Float { .. }), _) => {}
            // Nor is a number beyond a double's range (1E400) malformed JSON: serde_json refuses
            // it, and we may refuse the text for a strict rule found before it (non-NFC text).
            (Err(e), Err(t)) if e.code() != "malformed-json" && t.to_string().starts_with("number out of range") => {}
            (Err(e), Ok(_)) if e.code() != "malformed-json" => {}
            _ => prop_assert!(false, "{:?}: ours {:?}, serde_json {:?}", text, ours, theirs),
        }
    }
}

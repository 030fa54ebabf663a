//! Cross-implementation test: `corridor_jcs::canonicalize` must produce the same bytes as two
//! independent RFC 8785 implementations, npm `canonicalize` (run by Node, so numbers are printed
//! by V8's own `Number::toString`) and PyPI `rfc8785` (Trail of Bits), on a deterministic corpus of
//! edge cases: UTF-16 key order, every escape, non-ASCII text, and the awkward doubles.
//!
//! The references live in `tools/interop/` (`canon.mjs`, `canon.py`). Each test is skipped, with
//! instructions, when its runtime or package is missing, unless `CI=true`, where a missing
//! reference is a failure:
//!
//! ```text
//! npm ci --prefix tools/interop
//! scripts/test.sh (installs tools/interop/requirements.txt into tools/interop/.venv, first on PATH)
//! ```
//!
//! Values reach Node and Python as JSON text written by serde_json. That is lossless here: floats
//! are written in shortest round-trip form (each side parses them back to the same double), and
//! integers are kept within ±(2^53 − 1); larger magnitudes are generated as floats.

use std::path::{Path, PathBuf};
use std::process::Command;

use corridor_jcs::{MAX_SAFE_INTEGER, canonicalize};
use serde_json::{Map, Value, json};

/// Randomly generated values on top of the hand-picked ones.
const GENERATED: usize = 600;
/// Fixed, so a failure reproduces; change it to explore, not to make a failure go away.
const SEED: u64 = 0x636f_7272_6964_6f72; // "corridor"

#[test]
fn matches_npm_canonicalize() {
    let dir = interop_dir();
    let script = dir.join("canon.mjs");
    let mut missing = Vec::new();
    if !runs("node", &["--version"]) {
        missing.push(
            "`node` (Node.js >= 20) is not on PATH: install it, e.g. from https://nodejs.org"
                .to_string(),
        );
    }
    if !dir.join("node_modules/canonicalize/package.json").is_file() {
        missing.push(format!(
            "npm package `canonicalize` is not installed in {}: run `npm ci --prefix tools/interop`",
            dir.display()
        ));
    }
    if skip("npm canonicalize", &missing) {
        return;
    }
    check_against("npm canonicalize", |file| {
        let mut c = Command::new("node");
        c.arg(&script).arg(file);
        c
    });
}

#[test]
fn matches_python_rfc8785() {
    let dir = interop_dir();
    let script = dir.join("canon.py");
    let mut missing = Vec::new();
    if !runs("python3", &["--version"]) {
        missing.push("`python3` is not on PATH: install Python 3.9 or newer".to_string());
    } else if !runs("python3", &["-c", "import rfc8785"]) {
        missing.push(
            "Python module `rfc8785` is not importable by `python3`: run \
             `scripts/test.sh`, which installs tools/interop/requirements.txt into tools/interop/.venv and puts it first on PATH"
                .to_string(),
        );
    }
    if skip("Python rfc8785", &missing) {
        return;
    }
    check_against("Python rfc8785", |file| {
        let mut c = Command::new("python3");
        c.arg(&script).arg(file);
        c
    });
}

/// The corpus is what the cross-check is worth: make sure it stays big and keeps its edge cases.
#[test]
fn corpus_is_large_and_deterministic() {
    let a = corpus();
    assert!(a.len() >= 500, "only {} test values", a.len());
    assert_eq!(
        a,
        corpus(),
        "the corpus must not depend on anything but SEED"
    );
    let text = serde_json::to_string(&a).unwrap();
    for needle in [
        "\\u0000",
        "\\u001f",
        "\u{7f}",
        "\u{2028}",
        "\u{e000}",
        "\u{1f600}",
        "Бородянка",
    ] {
        assert!(text.contains(needle), "corpus lost {needle:?}");
    }
    // Lossless transport: every value survives the JSON text the references read.
    let back: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(back.len(), a.len());
    for (v, w) in a.iter().zip(&back) {
        assert_eq!(
            canonicalize(v),
            canonicalize(w),
            "{v} does not survive serde_json text"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Running a reference and comparing.

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/interop")
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Report missing prerequisites; true means "skip". Under CI they are a failure instead.
fn skip(reference: &str, missing: &[String]) -> bool {
    if missing.is_empty() {
        return false;
    }
    let list = missing.join("\n  - ");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("cross-implementation check against {reference} cannot run (CI=true):\n  - {list}");
    }
    eprintln!("SKIPPED cross-implementation check against {reference}:\n  - {list}");
    true
}

fn check_against(reference: &str, command: impl Fn(&Path) -> Command) {
    let values = corpus();
    let theirs = run_reference(reference, &command, &values);
    let mismatches: Vec<usize> = (0..values.len())
        .filter(|&i| canonicalize(&values[i]) != theirs[i])
        .collect();
    let Some(&first) = mismatches.first() else {
        eprintln!("{} values agree with {reference}", values.len());
        return;
    };
    // Narrow the first failure down to its smallest disagreeing part, so the report is readable.
    let mut parts = Vec::new();
    subvalues(&values[first], &mut parts);
    let part_theirs = run_reference(reference, &command, &parts);
    let smallest = (0..parts.len())
        .filter(|&i| canonicalize(&parts[i]) != part_theirs[i])
        .min_by_key(|&i| serde_json::to_string(&parts[i]).unwrap().len());
    let mut report = format!(
        "corridor_jcs::canonicalize disagrees with {reference} on {} of {} values (invisible \
         characters shown as \\u{{..}}); first at index {first}:\n{}",
        mismatches.len(),
        values.len(),
        describe(&values[first], &theirs[first]),
    );
    if let Some(i) = smallest.filter(|&i| i > 0) {
        report += &format!(
            "smallest disagreeing part of it:\n{}",
            describe(&parts[i], &part_theirs[i])
        );
    }
    panic!("{report}");
}

fn describe(value: &Value, theirs: &[u8]) -> String {
    format!(
        "  value:  {}\n  ours:   {}\n  theirs: {}\n",
        visible(&serde_json::to_vec(value).unwrap()),
        visible(&canonicalize(value)),
        visible(theirs),
    )
}

/// Write `values` to a temp file, run the reference on it, return one byte string per value.
fn run_reference(
    reference: &str,
    command: &impl Fn(&Path) -> Command,
    values: &[Value],
) -> Vec<Vec<u8>> {
    let file = TempFile::new(reference);
    std::fs::write(&file.0, serde_json::to_vec(values).unwrap()).unwrap();
    let mut cmd = command(&file.0);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {reference} ({cmd:?}): {e}"));
    assert!(
        out.status.success(),
        "{reference} failed ({cmd:?}, {}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let hexes: Vec<String> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{reference} printed something that is not a JSON array of strings ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(
        hexes.len(),
        values.len(),
        "{reference} returned the wrong number of results"
    );
    hexes.iter().map(|h| unhex(h)).collect()
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let tag: String = tag.chars().filter(char::is_ascii_alphanumeric).collect();
        let n = N.fetch_add(1, Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!(
            "corridor-jcs-cross-{}-{tag}-{n}.json",
            std::process::id()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(
        s.len().is_multiple_of(2),
        "odd-length hex from reference: {s:?}"
    );
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16)
                .unwrap_or_else(|_| panic!("bad hex from reference: {s:?}"))
        })
        .collect()
}

/// Bytes as text with the invisible characters (controls, line separators, format characters)
/// spelled out as `\u{..}`, so a difference in them can be seen.
fn visible(bytes: &[u8]) -> String {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return format!("(not UTF-8) {bytes:02x?}");
    };
    s.chars()
        .map(|c| {
            let invisible = c.is_control()
                || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}')
                || matches!(c, '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{e000}'..='\u{f8ff}')
                || matches!(c, '\u{fff0}'..='\u{ffff}' | '\u{f0000}'..);
            if invisible {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `v` and everything nested in it, containers before their contents.
fn subvalues(v: &Value, out: &mut Vec<Value>) {
    out.push(v.clone());
    match v {
        Value::Array(items) => items.iter().for_each(|x| subvalues(x, out)),
        Value::Object(map) => {
            for (k, x) in map {
                out.push(Value::String(k.clone()));
                subvalues(x, out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The corpus.

fn corpus() -> Vec<Value> {
    let mut values = fixed_cases();
    let mut rng = Rng(SEED);
    for i in 0..GENERATED {
        // Mostly containers (they exercise sorting and nesting), some bare scalars.
        let v = match i % 10 {
            0 => rng.number(),
            1 => Value::String(rng.string(16)),
            2..=5 => rng.object(4),
            _ => rng.value(4),
        };
        values.push(v);
    }
    values
}

/// Keys that order differently by UTF-16 code units than by code points (UTF-8 bytes), and
/// other keys that trip up naive implementations.
const TRICKY_KEYS: &[&str] = &[
    "",
    "a",
    "aa",
    "ab",
    "b",
    "A",
    "Z",
    "_",
    "1",
    "10",
    "2",
    "é",
    "e\u{301}",
    "\u{7f}",
    "\u{80}",
    "\u{ff}",
    "\u{100}",
    "\u{d7ff}",
    "\u{e000}",
    "\u{ff61}",
    "\u{fffd}",
    "\u{ffff}",
    "\u{10000}",
    "\u{1f600}",
    "\u{1f4a9}",
    "\u{10ffff}",
    "\u{e000}a",
    "\u{1f600}a",
    "\u{0}",
    "\n",
    "\"",
    "\\",
    "/",
    "__proto__",
    "constructor",
    "toJSON",
    "Київ",
    "Москва",
];

const WORDS: &[&str] = &[
    "Бородянка",
    "Берестянка",
    "Київ",
    "ґанок",
    "їжак",
    "Єнакієве",
    "пʼять",
    "Съешь же ещё этих мягких французских булок",
    "Щёлково",
    "naïve café",
    "中文",
    "日本語",
    "한국어",
    "עברית",
    "العربية",
    "😀👍🏽👨‍👩‍👧",
    "🇺🇦",
    "</script>",
    "http://example.com/a/b",
    "\u{feff}bom",
    "null",
    "true",
    "0",
    "-0",
    "1e21",
];

/// RFC 8785's example of a literal with more digits than the double holds.
#[allow(clippy::excessive_precision)]
const RFC_THIRDS: f64 = 333333333.33333329;

/// Doubles whose ECMAScript spelling is easy to get wrong.
fn special_floats() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.2,
        0.3,
        0.1 + 0.2,
        0.5,
        1.5,
        -1.5,
        4.5,
        2e-3,
        1e-27,
        1e30,
        1e21,
        1e20,
        999999999999999900000.0,
        999999999999999999999.0,
        123456789012345680000.0,
        1e-7,
        1e-6,
        1.5e-7,
        1.5e-6,
        0.000001234,
        0.0000001234,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        2.225073858507201e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        123456789.123,
        RFC_THIRDS,
        1e16,
        1e17,
        12345678901234567.0,
        9007199254740992.0,
        9007199254740994.0,
        -9007199254740992.0,
        18446744073709551616.0,
        9223372036854775808.0,
        1e100,
        1.23e-100,
        295147905179352830000.0,
        4.35,
        0.000035,
        1.0000000000000002,
        0.9999999999999999,
        std::f64::consts::PI,
        std::f64::consts::E,
        -std::f64::consts::LN_2,
        f64::EPSILON,
        f64::MIN_POSITIVE,
    ];
    // Neighbours of the thresholds where ECMAScript switches notation.
    for t in [1e21_f64, 1e-6, 1e-7, 1e16, 1e15] {
        v.push(f64::from_bits(t.to_bits() - 1));
        v.push(f64::from_bits(t.to_bits() + 1));
    }
    // Every power of ten a double can hold, and its neighbours at the edges.
    for e in -324..=308 {
        let x: f64 = format!("1e{e}").parse().unwrap();
        if x != 0.0 {
            v.push(x);
        }
    }
    v
}

fn fixed_cases() -> Vec<Value> {
    let safe = MAX_SAFE_INTEGER as i64;
    let mut v = vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(1),
        json!(-1),
        json!(safe),
        json!(-safe),
        json!(safe - 1),
        json!(1_i64 << 31),
        json!(-(1_i64 << 31)),
        json!(1_i64 << 32),
        json!(999_999_999_999_999_i64),
        json!(""),
        json!([]),
        json!({}),
        json!([[]]),
        json!({"": {}}),
        json!([[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]),
        // RFC 8785 section 3.2.2 example (numbers, escapes, literals).
        json!({
            "numbers": [333333333.333_333_3, 1e30, 4.50, 2e-3, 1e-27],
            "string": "\u{20ac}$\u{f}\nA'B\"\\\\\"/",
            "literals": [null, true, false]
        }),
        // RFC 8785 section 3.2.3 example (sorting).
        json!({
            "\u{20ac}": "Euro Sign",
            "\r": "Carriage Return",
            "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\u{1f600}": "Emoji: Grinning Face",
            "\u{80}": "Control",
            "\u{f6}": "Latin Small Letter O With Diaeresis"
        }),
        json!({"\u{e000}": 1, "\u{1f600}": 2}),
        json!({"\u{ff61}": 1, "\u{10000}": 2}),
        json!({"\u{ffff}": 1, "\u{10ffff}": 2, "\u{d7ff}": 3}),
        json!({"a\u{e000}": 1, "a\u{1f600}": 2, "a": 3}),
        json!("/"),
        json!("a/b\\c\"d"),
        json!("\u{7f}\u{80}\u{9f}\u{a0}\u{ad}"),
        json!("\u{2028}\u{2029}"),
        json!("\u{fffd}\u{feff}\u{ffff}\u{10ffff}"),
        json!("😀💩𝄞\u{10000}"),
        json!("Бородянка — Берестянка"),
        json!("Съешь же ещё этих мягких французских булок"),
        json!(TRICKY_KEYS),
        json!(WORDS),
    ];
    // Every control character, alone, in a row, and as a key.
    let controls: String = (0u8..0x20).map(char::from).chain(['\u{7f}']).collect();
    v.push(json!(controls));
    let mut keys = Map::new();
    for c in controls.chars() {
        v.push(json!(c.to_string()));
        keys.insert(c.to_string(), json!(u32::from(c)));
    }
    v.push(Value::Object(keys));
    // An object holding every tricky key at once.
    let all: Map<String, Value> = TRICKY_KEYS
        .iter()
        .enumerate()
        .map(|(i, k)| (k.to_string(), json!(i)))
        .collect();
    v.push(Value::Object(all));
    // The special doubles, one by one and together.
    let floats = special_floats();
    v.extend(floats.iter().map(|&f| json!(f)));
    v.push(json!(floats));
    v
}

/// SplitMix64: tiny, good enough, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 6 } else { 9 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.next() & 1 == 1),
            2 | 3 => self.number(),
            4 | 5 => Value::String(self.string(12)),
            6 => self.array(depth - 1),
            _ => self.object(depth - 1),
        }
    }

    fn array(&mut self, depth: u32) -> Value {
        let n = self.below(6);
        Value::Array((0..n).map(|_| self.value(depth)).collect())
    }

    fn object(&mut self, depth: u32) -> Value {
        let n = self.below(8);
        let mut map = Map::new();
        for _ in 0..n {
            let key = if self.below(2) == 0 {
                self.pick(TRICKY_KEYS).to_string()
            } else {
                self.string(6)
            };
            map.insert(key, self.value(depth));
        }
        Value::Object(map)
    }

    fn number(&mut self) -> Value {
        let safe = MAX_SAFE_INTEGER as i64;
        match self.below(10) {
            0 => json!(self.below(21) as i64 - 10),
            1 => json!((self.below(2 * MAX_SAFE_INTEGER + 1)) as i64 - safe),
            // Integers of every magnitude up to the limit.
            2 => {
                let bits = self.below(54);
                let x = (self.next() >> (64 - bits.max(1))) as i64;
                json!(if self.next() & 1 == 1 { -x } else { x })
            }
            3 => json!(*self.pick(&special_floats())),
            // Any finite double, subnormals and huge integral ones included.
            4 => loop {
                let f = f64::from_bits(self.next());
                if f.is_finite() {
                    break json!(f);
                }
            },
            // Short decimals at every scale: what people actually write.
            5 | 6 => {
                let digits = 1 + self.below(17) as u32;
                let mantissa = self.below(10u64.pow(digits));
                let exp = self.below(80) as i64 - 40;
                let f: f64 = format!("{mantissa}e{exp}").parse().unwrap();
                json!(if self.next() & 1 == 1 { -f } else { f })
            }
            // Integral doubles beyond 2^53 (integers that large only exist as doubles).
            7 => {
                let f = (self.next() >> self.below(11)) as f64 * 2f64.powi(self.below(200) as i32);
                json!(if f.is_finite() { f } else { 1e300 })
            }
            // Subnormals.
            8 => json!(f64::from_bits(self.below(1 << 52) | 1)),
            _ => {
                // Uniform in [0, 1) with full precision, scaled.
                let f = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
                json!(f * 10f64.powi(self.below(50) as i32 - 25))
            }
        }
    }

    fn string(&mut self, max_pieces: u64) -> String {
        let mut s = String::new();
        for _ in 0..self.below(max_pieces + 1) {
            match self.below(12) {
                0..=2 => s.push(char::from(0x20 + self.below(0x5f) as u8)),
                3 => s.push(char::from(self.below(0x20) as u8)),
                4 => s.push(*self.pick(&[
                    '"', '\\', '/', '\u{7f}', '\u{2028}', '\u{2029}', '\u{85}', '\u{a0}',
                ])),
                5 => s.push(*self.pick(&[
                    'é', 'ї', 'ґ', 'є', 'і', 'ё', 'щ', 'ъ', 'Ж', '€', '中', '\u{e000}', '\u{ff61}',
                    '\u{fb33}', '\u{fffd}', '\u{ffff}',
                ])),
                6 => s.push(*self.pick(&[
                    '😀',
                    '💩',
                    '𝄞',
                    '\u{10000}',
                    '\u{10ffff}',
                    '\u{1f1fa}',
                    '\u{1f1e6}',
                ])),
                7 | 8 => s.push_str(self.pick::<&str>(WORDS)),
                9 => s.push_str(self.pick::<&str>(TRICKY_KEYS)),
                // Any Unicode scalar value.
                _ => loop {
                    if let Some(c) = char::from_u32(self.below(0x11_0000) as u32) {
                        s.push(c);
                        break;
                    }
                },
            }
        }
        s
    }
}

//! One grammar for identifiers, and what text in a signed command may contain.
//!
//! Identifiers (command ids, actor ids, and the ids of incidents, corridors, windows,
//! settlements and declarations) are read by people on pages and in logs, typed into the CLI and
//! compared byte for byte by every replay. An actor registered as `ua/coord 1`, or with a
//! newline, could never sign (the CLI and HTTP headers cannot carry it); one with a right-to-left
//! override (U+202E) reads as something else than it is. So every id follows one grammar:
//! ASCII letters and digits, with `-`, `_`, `.`, `:` and `@` inside a segment, segments joined
//! by single `/`, each starting with a letter or digit, 1 to [`MAX_ID_LEN`] bytes in all. An
//! actor id is exactly `<affiliation>/<name>`.
//!
//! Free text (names, descriptions, reasons, answers) may be in any script, but no control
//! characters other than line feed and tab, and no bidirectional overrides or isolates
//! (U+202A–U+202E, U+2066–U+2069): they can make a signed statement display differently from
//! what was signed. A signed command cannot be altered, so such text is refused, not stripped.

use serde_json::Value;

use crate::Rejection;

/// Longest identifier, in bytes, to keep rows and leaves small.
pub const MAX_ID_LEN: usize = 128;

fn segment_ok(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'))
}

/// Check an identifier against the one grammar (see the module documentation).
pub fn check_id(field: &str, id: &str) -> Result<(), Rejection> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(Rejection::invalid(
            field,
            format!("must be 1 to {MAX_ID_LEN} bytes"),
        ));
    }
    if !id.split('/').all(segment_ok) {
        return Err(Rejection::invalid(
            field,
            format!(
                "{:?} is not an identifier: use ASCII letters, digits and - _ . : @, in segments \
                 joined by single / and each starting with a letter or digit",
                id.escape_debug().to_string()
            ),
        ));
    }
    Ok(())
}

/// Check an actor id: an identifier of exactly two segments, `<affiliation>/<name>`.
pub fn check_actor_id(field: &str, id: &str) -> Result<(), Rejection> {
    check_id(field, id)?;
    if id.matches('/').count() != 1 {
        return Err(Rejection::invalid(
            field,
            format!("{id:?} must be <affiliation>/<name>, e.g. ua/coord-kyiv"),
        ));
    }
    Ok(())
}

/// Whether a character may not appear in signed text: controls other than line feed and tab,
/// and bidirectional overrides and isolates.
pub fn forbidden_in_text(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Check every string in a JSON value (keys included) for characters [`forbidden_in_text`],
/// naming the field where one was found. Runs on every command at ingest and in every replay,
/// so the field's path is only spelled out when something is wrong.
pub fn check_text_in(field: &str, value: &Value) -> Result<(), Rejection> {
    match first_forbidden(value) {
        None => Ok(()),
        Some((path, c)) => Err(Rejection::invalid(
            format!("{field}{path}"),
            format!(
                "contains U+{:04X}: control characters (other than line feed and tab) and \
                 bidirectional overrides are not allowed in signed text",
                c as u32
            ),
        )),
    }
}

/// The first forbidden character below `value`, with its path (`.key`, `[i]`).
fn first_forbidden(value: &Value) -> Option<(String, char)> {
    let bad = |s: &str| s.chars().find(|c| forbidden_in_text(*c));
    match value {
        Value::String(s) => bad(s).map(|c| (String::new(), c)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_forbidden(v).map(|(p, c)| (format!("[{i}]{p}"), c))),
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            bad(k)
                .map(|c| (format!(".{k}"), c))
                .or_else(|| first_forbidden(v).map(|(p, c)| (format!(".{k}{p}"), c)))
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_follow_one_grammar() {
        for ok in [
            "ua/coord-kyiv",
            "r-1",
            "borodianka-2022-03-05",
            "UA3222010010",
            "a",
            "icrc/obs.1",
            "x:y@z_w",
        ] {
            check_id("id", ok).unwrap();
        }
        for bad in [
            "",
            "ua/coord 1",
            "ua/coord\n1",
            "ua/\u{202E}tinu",
            "/ua",
            "ua/",
            "ua//x",
            "-x",
            "ua/-x",
            "ключ",
            "a\0b",
            "a\"b",
            &"x".repeat(MAX_ID_LEN + 1),
        ] {
            assert!(check_id("id", bad).is_err(), "{bad:?} accepted");
        }
        check_actor_id("actor", "ua/coord-1").unwrap();
        assert!(check_actor_id("actor", "ua").is_err());
        assert!(check_actor_id("actor", "ua/x/y").is_err());
    }

    #[test]
    fn text_refuses_controls_and_bidi_overrides_only() {
        let ok = serde_json::json!({"name": "Координатор, Київська обл.\nline two\ttab", "n": 1});
        check_text_in("body", &ok).unwrap();
        for bad in [
            "a\u{0}b",
            "a\u{7}",
            "a\u{202E}b",
            "\u{2066}x",
            "a\rb",
            "a\u{85}b",
        ] {
            let v = serde_json::json!({"list": [{"text": bad}]});
            let e = check_text_in("body", &v).unwrap_err();
            assert!(e.to_string().contains("body.list[0].text"), "{e}");
        }
        let key = serde_json::json!({"a\u{202E}": 1});
        assert!(check_text_in("body", &key).is_err());
    }

    proptest! {
        /// Whatever passes the grammar is printable ASCII without spaces or quotes, so it can be
        /// typed, put in a header or a path, and compared byte for byte.
        #[test]
        fn accepted_ids_are_plain_ascii(id in "\\PC{0,20}") {
            if check_id("id", &id).is_ok() {
                prop_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:@/".contains(&b)));
            }
        }
    }
}

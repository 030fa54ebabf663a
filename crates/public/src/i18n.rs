//! Every word the public site shows that the parties did not sign: Fluent files under
//! `locales/{uk,ru,en}/`, compiled into the binary. Fluent, rather than format strings, because
//! Ukrainian and Russian plurals have three forms (1 коридор, 2 коридори, 5 коридорів) and word
//! order differs between the languages.
//!
//! Signed text (corridor names, instructions, reasons) never goes through here: it is shown as
//! the parties signed it, in the language asked for.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

use crate::model::Lang;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would end up in SMS texts and
        // feeds, and the three languages all run left to right.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

fn langid(lang: Lang) -> LanguageIdentifier {
    match lang {
        Lang::Uk => langid!("uk"),
        Lang::Ru => langid!("ru"),
        Lang::En => langid!("en"),
    }
}

/// An argument to a message.
pub enum Arg<'a> {
    /// Text.
    Str(&'a str),
    /// A number (plural rules apply).
    Num(i64),
}

/// The message `id` in `lang`. A missing message is a bug caught by the tests (every id in every
/// language); at run time it shows the id rather than failing the whole site.
pub fn t(lang: Lang, id: &str) -> String {
    t_args(lang, id, &[])
}

/// The message `id` in `lang` with arguments.
pub fn t_args(lang: Lang, id: &str, args: &[(&str, Arg)]) -> String {
    let map: HashMap<Cow<'static, str>, FluentValue> = args
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Arg::Str(s) => FluentValue::from(s.to_string()),
                Arg::Num(n) => FluentValue::from(*n),
            };
            (Cow::Owned(k.to_string()), v)
        })
        .collect();
    LOCALES
        .try_lookup_complete(&langid(lang), id, Some(&map))
        .unwrap_or_else(|| id.to_string())
}

/// A public reason (suspension, withdrawal) in words, from the fixed translated list.
pub fn public_reason(lang: Lang, r: corridor_core::agreement::PublicReason) -> String {
    t(lang, &format!("public-reason-{}", r.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LANGS;

    #[test]
    fn plurals_follow_each_language() {
        let n = |lang, count| t_args(lang, "corridors-count", &[("count", Arg::Num(count))]);
        assert_eq!(n(Lang::En, 1), "1 corridor");
        assert_eq!(n(Lang::En, 2), "2 corridors");
        assert_eq!(n(Lang::Uk, 1), "1 коридор");
        assert_eq!(n(Lang::Uk, 3), "3 коридори");
        assert_eq!(n(Lang::Uk, 5), "5 коридорів");
        assert_eq!(n(Lang::Uk, 21), "21 коридор");
        assert_eq!(n(Lang::Ru, 2), "2 коридора");
        assert_eq!(n(Lang::Ru, 11), "11 коридоров");
    }

    /// Every language defines exactly the same message ids (read from the files, so a message
    /// missing in one language cannot hide behind the English fallback).
    #[test]
    fn every_message_exists_in_every_language() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let ids = |lang| {
            let mut ids = std::collections::BTreeSet::new();
            for f in std::fs::read_dir(dir.join(crate::model::code(lang))).unwrap() {
                let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
                for line in text.lines() {
                    if let Some((id, _)) = line.split_once(" =")
                        && !id.is_empty()
                        && !id.starts_with([' ', '#', '*', '['])
                    {
                        ids.insert(id.trim().to_string());
                    }
                }
            }
            ids
        };
        let en = ids(Lang::En);
        assert!(en.len() > 5);
        for lang in LANGS {
            assert_eq!(ids(lang), en, "message ids of {}", crate::model::code(lang));
        }
    }
}

//! SMS texts: where there is no data connection, a text message still arrives. One per corridor
//! and language: its name, status and window in the origin's local time.
//!
//! An SMS is 140 bytes. Text the GSM 03.38 alphabet can carry takes 7 bits a character (160 in
//! one message, 153 per part of a longer one, characters of the extension table counting
//! twice); anything else, Cyrillic included, goes as UCS-2 (70 in one message, 67 per part).
//! Each part costs the sender and can arrive late or not at all, so the English text must fit
//! one message and the Ukrainian and Russian ones use as few parts as the facts allow: the text
//! is assembled from the most informative variant down, and the most informative one with the
//! fewest parts wins.

use std::fmt::Write;

use serde_json::{Map, Value, json};

use crate::i18n::{Arg, t, t_args};
use crate::model::{LANGS, Lang, Public, PublicCorridor, code, name};
use crate::pages::when;
use crate::{JSON, Site, TEXT};

/// How a message is encoded on the air, which decides how many characters fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GSM 03.38 default alphabet, 7 bits a character.
    Gsm7,
    /// UCS-2 (UTF-16 code units), 16 bits a character.
    Ucs2,
}

impl Encoding {
    /// The name in `sms.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm-7",
            Encoding::Ucs2 => "ucs-2",
        }
    }
}

/// The GSM 03.38 basic character set, in table order, without the escape code.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: each is sent as escape + code, two septets.
const GSM_EXT: &str = "\u{c}^{}\\[~]|€";

/// Septets a character takes in GSM-7, if it can be sent at all.
fn septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXT.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Parts needed for `units` (sizes of indivisible characters): one message of `single`, else
/// parts of `multi`, never splitting a character (an escape pair or a surrogate pair) across
/// two parts.
fn parts(units: impl Iterator<Item = usize> + Clone, single: usize, multi: usize) -> usize {
    if units.clone().sum::<usize>() <= single {
        return 1;
    }
    let (mut n, mut used) = (1, 0);
    for u in units {
        if used + u > multi {
            n += 1;
            used = 0;
        }
        used += u;
    }
    n
}

/// The encoding a phone would choose for `text` and how many message parts it takes, so a
/// sender knows the cost before sending to many thousands of people. An empty text is one
/// (empty) message.
pub fn encoding_and_segments(text: &str) -> (Encoding, usize) {
    if text.chars().all(|c| septets(c).is_some()) {
        let units = text.chars().map(|c| septets(c).unwrap_or(2));
        (Encoding::Gsm7, parts(units, 160, 153))
    } else {
        let units = text.chars().map(char::len_utf16);
        (Encoding::Ucs2, parts(units, 70, 67))
    }
}

/// Typographic characters replaced by their GSM-7 look-alikes in English texts, so a dash in a
/// corridor's name does not turn the whole message into UCS-2 (and 70 characters). `None` if
/// some character has no look-alike.
fn gsm_clean(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '–' | '—' | '‒' | '−' | '‐' | '‑' => out.push('-'),
            '‘' | '’' | '‚' | '′' => out.push('\''),
            '“' | '”' | '„' | '«' | '»' | '″' => out.push('"'),
            '…' => out.push_str("..."),
            '\u{a0}' | '\u{2009}' | '\u{202f}' | '\t' => out.push(' '),
            c if septets(c).is_some() => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// [`gsm_clean`], with `?` for what cannot be sent: the last resort for English text.
fn fold_gsm(s: &str) -> String {
    s.chars()
        .map(|c| gsm_clean(c.encode_utf8(&mut [0; 4])).unwrap_or_else(|| "?".into()))
        .collect()
}

/// "4 Mar 09:00-17:00", or both dates when the window spans days; each time with its offset
/// when the clocks change inside the window.
fn window(lang: Lang, c: &PublicCorridor, zone: &str, full: bool) -> String {
    let w = c.current();
    let (s, zone) = when::local(w.start, zone);
    let (e, _) = when::local(w.end, zone);
    let day = |z: &jiff::Zoned| {
        t_args(
            lang,
            "sms-date",
            &[
                ("day", Arg::Str(&z.day().to_string())),
                (
                    "month",
                    Arg::Str(&t(lang, &format!("month-short-{}", z.month()))),
                ),
            ],
        )
    };
    let times = if s.offset() != e.offset() {
        format!(
            "{} {} {} - {} {} {}",
            day(&s),
            when::hm(&s),
            when::offset(&s),
            day(&e),
            when::hm(&e),
            when::offset(&e)
        )
    } else if s.date() == e.date() {
        format!("{} {}-{}", day(&s), when::hm(&s), when::hm(&e))
    } else {
        format!(
            "{} {} - {} {}",
            day(&s),
            when::hm(&s),
            day(&e),
            when::hm(&e)
        )
    };
    let args = [
        ("window", Arg::Str(&times)),
        ("zone", Arg::Str(&when::zone_name(lang, zone))),
        ("offset", Arg::Str(&when::offset(&s))),
    ];
    match (full, s.offset() != e.offset(), zone == "UTC") {
        // Each time already carries its own offset.
        (_, true, _) => times,
        (true, _, false) => t_args(lang, "sms-zone", &args),
        _ => t_args(lang, "sms-zone-short", &args),
    }
}

/// The SMS text of a corridor in a language: the exercise marker, name, status (with the
/// stated reason when it costs no extra part), window in the origin's local time, and the page's
/// address when it fits. Exactly the facts of the page, in the fewest parts.
pub fn text(p: &Public, c: &PublicCorridor, lang: Lang) -> String {
    let w = c.current();
    let zone = c
        .origin
        .map(|o| o.zone.as_str())
        .or_else(|| p.input.genesis.parties.first().map(|x| x.zone.as_str()))
        .unwrap_or("UTC");
    let exercise = p.input.genesis.exercise.then(|| t(lang, "sms-exercise"));
    let status = t(lang, &format!("sms-{}", w.status.as_str()));
    let link = (!p.input.base_url.is_empty()).then(|| {
        format!(
            "{}/{}/corridors/{}",
            p.input.base_url,
            code(lang),
            c.corridor.id
        )
    });
    // The public reason from the fixed list, in the reader's language (never a party's text).
    let reason_text = w
        .status
        .reason()
        .map(|r| crate::i18n::public_reason(lang, r));
    let compose = |name: &str, reason: bool, full: bool, link_on: bool| {
        let mut s = String::new();
        if let Some(x) = &exercise {
            let _ = write!(s, "{x}. ");
        }
        let _ = write!(s, "{name}: {status}");
        if let (true, Some(r)) = (reason, reason_text.as_deref()) {
            let _ = write!(s, " ({r})");
        }
        let _ = write!(s, ". {}.", window(lang, c, zone, full));
        if let (true, Some(l)) = (link_on, &link) {
            let _ = write!(s, " {l}");
        }
        if lang == Lang::En { fold_gsm(&s) } else { s }
    };
    let full_name = name(&c.terms().terms.names, lang);
    // Most informative first: the reason matters more than the link. The zone's name in words
    // is always kept ("UTC+2" alone is read as "whose time?"), even at the cost of a part.
    let candidates: Vec<String> = (0..4u8)
        .rev()
        .map(|bits| compose(full_name, bits & 2 != 0, true, bits & 1 != 0))
        .collect();
    let cost = |s: &str| encoding_and_segments(s).1;
    let fewest = candidates.iter().map(|s| cost(s)).min().unwrap_or(1);
    let best = candidates
        .into_iter()
        .find(|s| cost(s) == fewest)
        .unwrap_or_default();
    if lang != Lang::En || fewest == 1 {
        return best;
    }
    // English must fit one message: shorten the (signed) name, visibly, until it does.
    let chars: Vec<char> = full_name.chars().collect();
    for keep in (0..chars.len()).rev() {
        let short: String = chars[..keep].iter().collect::<String>() + "...";
        let s = compose(short.trim_start(), false, true, false);
        if cost(&s) == 1 {
            return s;
        }
    }
    best
}

/// Add `/{lang}/corridors/{id}/sms.txt` and `/sms.json` (every text with its encoding and number
/// of parts, so whoever sends them knows the cost).
pub fn render(p: &Public, site: &mut Site) {
    let mut all = Map::new();
    for c in &p.corridors {
        let mut per = Map::new();
        for lang in LANGS {
            let s = text(p, c, lang);
            let (enc, n) = encoding_and_segments(&s);
            per.insert(
                code(lang).into(),
                json!({"text": s, "encoding": enc.as_str(), "segments": n}),
            );
            site.put(
                format!("/{}/corridors/{}/sms.txt", code(lang), c.corridor.id),
                TEXT,
                s.into_bytes(),
            );
        }
        all.insert(c.corridor.id.clone(), Value::Object(per));
    }
    let mut body = serde_json::to_vec_pretty(&Value::Object(all)).expect("JSON values serialise");
    body.push(b'\n');
    site.put("/sms.json", JSON, body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;
    use crate::{Input, model::Public};
    use corridor_core::agreement::ActKind;

    #[test]
    fn the_gsm_tables_are_complete() {
        assert_eq!(GSM_BASIC.chars().count(), 127, "128 codes less the escape");
        assert_eq!(GSM_EXT.chars().count(), 10);
    }

    #[test]
    fn segments_follow_3gpp_23_040() {
        let g = |n: usize| encoding_and_segments(&"a".repeat(n));
        assert_eq!(g(0), (Encoding::Gsm7, 1));
        assert_eq!(g(160), (Encoding::Gsm7, 1));
        assert_eq!(g(161), (Encoding::Gsm7, 2));
        assert_eq!(g(306), (Encoding::Gsm7, 2));
        assert_eq!(g(307), (Encoding::Gsm7, 3));
        // Extension characters take two septets.
        assert_eq!(
            encoding_and_segments(&format!("{}€", "a".repeat(158))),
            (Encoding::Gsm7, 1)
        );
        assert_eq!(
            encoding_and_segments(&format!("{}€", "a".repeat(159))),
            (Encoding::Gsm7, 2)
        );
        // An escape pair is never split across parts: 152 + € does not fit 153.
        assert_eq!(
            encoding_and_segments(&format!("{}€{}", "a".repeat(152), "a".repeat(152))),
            (Encoding::Gsm7, 3)
        );
        let u = |n: usize| encoding_and_segments(&"ж".repeat(n));
        assert_eq!(u(70), (Encoding::Ucs2, 1));
        assert_eq!(u(71), (Encoding::Ucs2, 2));
        assert_eq!(u(134), (Encoding::Ucs2, 2));
        assert_eq!(u(135), (Encoding::Ucs2, 3));
        // One character outside GSM makes the whole message UCS-2.
        assert_eq!(
            encoding_and_segments(&format!("{}–", "a".repeat(69))),
            (Encoding::Ucs2, 1)
        );
        // A character outside the BMP takes two UTF-16 units.
        assert_eq!(
            encoding_and_segments(&format!("{}😀", "ж".repeat(68))),
            (Encoding::Ucs2, 1)
        );
        assert_eq!(
            encoding_and_segments(&format!("{}😀", "ж".repeat(69))),
            (Encoding::Ucs2, 2)
        );
        assert_eq!(encoding_and_segments("Ça coûte 5 €").0, Encoding::Ucs2, "û");
        assert_eq!(encoding_and_segments("Ça coute 5 €"), (Encoding::Gsm7, 1));
    }

    fn public_at<'a>(
        a: &'a corridor_core::agreement::Agreements,
        g: &'a corridor_core::genesis::GenesisDocument,
        c: &'a crate::Cited,
        t: &str,
    ) -> Public<'a> {
        Public::new(&Input {
            genesis: g,
            agreements: a,
            at: fixture::at(t),
            checkpoint: c,
            base_url: "https://corridors.example",
            documents: &[],
        })
    }

    #[test]
    fn english_fits_one_message_and_the_others_are_counted() {
        let (a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        let p = public_at(&a, &g, &c, "2022-03-04T08:00:00Z");
        let en = text(&p, &p.corridors[0], Lang::En);
        assert_eq!(encoding_and_segments(&en), (Encoding::Gsm7, 1), "{en}");
        assert!(
            en.starts_with("EXERCISE. Borodianka - Berestianka: OPEN NOW."),
            "{en}"
        );
        assert!(en.contains("4 Mar 09:00-17:00"), "origin local time: {en}");
        for lang in [Lang::Uk, Lang::Ru] {
            let s = text(&p, &p.corridors[0], lang);
            let (enc, n) = encoding_and_segments(&s);
            assert_eq!(enc, Encoding::Ucs2);
            assert!(n <= 2, "{s}: {n}");
            assert!(s.contains("09:00-17:00"), "{s}");
        }
        let mut site = Site::default();
        render(&p, &mut site);
        let j: Value = serde_json::from_slice(&site.files["/sms.json"].body).unwrap();
        let e = &j[fixture::CORRIDOR]["en"];
        assert_eq!(e["text"], en);
        assert_eq!(e["encoding"], "gsm-7");
        assert_eq!(e["segments"], 1);
        assert_eq!(j[fixture::CORRIDOR]["uk"]["encoding"], "ucs-2");
        let uk = &site.files[&format!("/uk/corridors/{}/sms.txt", fixture::CORRIDOR)];
        assert_eq!(uk.content_type, TEXT);
        assert_eq!(
            uk.body,
            j[fixture::CORRIDOR]["uk"]["text"]
                .as_str()
                .unwrap()
                .as_bytes()
        );
    }

    #[test]
    fn fewest_parts_win_and_english_stays_in_one() {
        let (mut a, g, c) = (fixture::agreements(), fixture::genesis(), fixture::cited());
        let p = public_at(&a, &g, &c, "2022-03-04T08:00:00Z");
        // The zone's name in words is kept even though the offset alone would fit one part:
        // "UTC+2" alone does not say whose time it is.
        let uk = text(&p, &p.corridors[0], Lang::Uk);
        assert_eq!(
            uk,
            "НАВЧАННЯ. Бородянка – Берестянка: ВІДКРИТО. 4 бер 09:00-17:00 за київським часом (UTC+2)."
        );
        assert_eq!(encoding_and_segments(&uk), (Encoding::Ucs2, 2));
        // English has room for the zone in words and the link.
        let en = text(&p, &p.corridors[0], Lang::En);
        assert!(en.contains("Kyiv time (UTC+2). https://corridors.example/en/corridors/"));
        // Suspended: what to do is in the status itself, the reason is the listed one in the
        // reader's language, and the zone keeps its name.
        let w = a.windows.get_mut("w-0304").unwrap();
        fixture::act(
            w,
            ActKind::Suspend,
            Some("ua"),
            "2022-03-04T09:00:00.000000Z",
            20,
        );
        let p = public_at(&a, &g, &c, "2022-03-04T09:30:00Z");
        let ru = text(&p, &p.corridors[0], Lang::Ru);
        // (The reason would take a third part, so it stays on the page.)
        assert_eq!(
            ru,
            "УЧЕНИЯ. Бородянка – Берестянка: ПРИОСТАНОВЛЕН, НЕ ВЫХОДИТЕ НА МАРШРУТ. 4 мар \
09:00-17:00 по киевскому времени (UTC+2)."
        );
        assert_eq!(encoding_and_segments(&ru), (Encoding::Ucs2, 2));
        let uk = text(&p, &p.corridors[0], Lang::Uk);
        assert!(
            uk.contains("ПРИЗУПИНЕНО, НЕ ВИХОДЬТЕ НА МАРШРУТ") && uk.contains("за київським часом"),
            "{uk}"
        );
        let en = text(&p, &p.corridors[0], Lang::En);
        assert_eq!(encoding_and_segments(&en), (Encoding::Gsm7, 1), "{en}");
        assert!(
            en.contains("SUSPENDED, DO NOT SET OUT (shelling or gunfire near the route)")
                && en.contains("Kyiv time (UTC+2)"),
            "{en}"
        );
        assert!(!en.contains("suspend: shelling"), "{en}");
        // A very long English name is shortened, never sent as two messages.
        let mut a = fixture::agreements();
        a.corridors.get_mut(fixture::CORRIDOR).unwrap().versions[0]
            .terms
            .names
            .en = "Borodianka – Berestianka ".repeat(10);
        let p = public_at(&a, &g, &c, "2022-03-04T08:00:00Z");
        let en = text(&p, &p.corridors[0], Lang::En);
        assert_eq!(encoding_and_segments(&en), (Encoding::Gsm7, 1), "{en}");
        assert!(
            en.contains("...: OPEN NOW") && en.contains("09:00-17:00"),
            "{en}"
        );
    }
}

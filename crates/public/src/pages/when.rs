//! Times as people read them: "4 March 2022, 10:00 (Moscow time, UTC+3)". March 2022 corridors
//! failed partly because times were announced in different zones without saying which, so every
//! time shown carries its zone's name and its UTC offset at that instant, and dates use the
//! grammar of the language (genitive month names in Ukrainian and Russian).

use corridor_core::localtime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::i18n::{Arg, t, t_args};
use crate::model::Lang;

/// An instant in a zone. An unknown zone (which the reducer should never have accepted) falls
/// back to UTC and is labelled as UTC, so a time is never shown with the wrong zone name.
pub(crate) fn local(ts: Timestamp, zone: &str) -> (Zoned, &str) {
    match localtime::zone(zone) {
        Ok(tz) => (ts.to_zoned(tz), zone),
        Err(_) => (ts.to_zoned(TimeZone::UTC), "UTC"),
    }
}

/// The zone's name in words ("Kyiv time", "за київським часом"); the IANA name when no
/// translation exists, which is still unambiguous.
pub(crate) fn zone_name(lang: Lang, zone: &str) -> String {
    let id = format!("zone-{}", zone.to_lowercase().replace(['/', '_'], "-"));
    let s = t(lang, &id);
    if s == id { zone.to_string() } else { s }
}

/// "UTC+2", "UTC+5:30", "UTC" (for a zero offset).
pub(crate) fn offset(z: &Zoned) -> String {
    let secs = z.offset().seconds();
    if secs == 0 {
        return "UTC".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    if m == 0 {
        format!("UTC{sign}{h}")
    } else {
        format!("UTC{sign}{h}:{m:02}")
    }
}

/// "Kyiv time, UTC+2", or just "UTC".
pub(crate) fn label(lang: Lang, zone: &str, z: &Zoned) -> String {
    if zone == "UTC" {
        return "UTC".into();
    }
    t_args(
        lang,
        "zone-label",
        &[
            ("zone", Arg::Str(&zone_name(lang, zone))),
            ("offset", Arg::Str(&offset(z))),
        ],
    )
}

/// A table header naming a zone: the noun form ("Kyiv time, UTC+2", "Київський час, UTC+2"),
/// since a header names the zone rather than saying in which zone something happens.
pub(crate) fn header(lang: Lang, zone: &str, z: &Zoned) -> String {
    if zone == "UTC" {
        return "UTC".into();
    }
    let id = format!("zone-noun-{}", zone.to_lowercase().replace(['/', '_'], "-"));
    let noun = t(lang, &id);
    let noun = if noun == id { zone.to_string() } else { noun };
    t_args(
        lang,
        "zone-label",
        &[("zone", Arg::Str(&noun)), ("offset", Arg::Str(&offset(z)))],
    )
}

/// "4 March 2022", "4 березня 2022".
pub(crate) fn date(lang: Lang, z: &Zoned) -> String {
    let month = t(lang, &format!("month-{}", z.month()));
    t_args(
        lang,
        "date",
        &[
            ("day", Arg::Str(&z.day().to_string())),
            ("month", Arg::Str(&month)),
            ("year", Arg::Str(&z.year().to_string())),
        ],
    )
}

/// "09:00": 24-hour clock in all three languages.
pub(crate) fn hm(z: &Zoned) -> String {
    z.strftime("%H:%M").to_string()
}

/// "4 March 2022, 09:00", without the zone (table cells whose row names it).
pub(crate) fn plain(lang: Lang, z: &Zoned) -> String {
    t_args(
        lang,
        "datetime",
        &[
            ("date", Arg::Str(&date(lang, z))),
            ("time", Arg::Str(&hm(z))),
        ],
    )
}

/// "4 March 2022, 10:00 (Moscow time, UTC+3)".
pub(crate) fn at(lang: Lang, ts: Timestamp, zone: &str) -> String {
    let (z, zone) = local(ts, zone);
    t_args(
        lang,
        "zoned",
        &[
            ("when", Arg::Str(&plain(lang, &z))),
            ("label", Arg::Str(&label(lang, zone, &z))),
        ],
    )
}

/// A window in one zone, as short as stays unambiguous: "4 March 2022, 09:00–17:00 (Kyiv time,
/// UTC+2)" on one day; both dates when it spans days; both offsets when the clocks change
/// inside it.
pub(crate) fn span(lang: Lang, start: Timestamp, end: Timestamp, zone: &str) -> String {
    let (s, zone) = local(start, zone);
    let (e, _) = local(end, zone);
    if s.offset() != e.offset() {
        return t_args(
            lang,
            "span-apart",
            &[
                ("from", Arg::Str(&at(lang, start, zone))),
                ("to", Arg::Str(&at(lang, end, zone))),
            ],
        );
    }
    let label = label(lang, zone, &s);
    if s.date() == e.date() {
        t_args(
            lang,
            "span-same-day",
            &[
                ("date", Arg::Str(&date(lang, &s))),
                ("from", Arg::Str(&hm(&s))),
                ("to", Arg::Str(&hm(&e))),
                ("label", Arg::Str(&label)),
            ],
        )
    } else {
        t_args(
            lang,
            "span",
            &[
                ("from", Arg::Str(&plain(lang, &s))),
                ("to", Arg::Str(&plain(lang, &e))),
                ("label", Arg::Str(&label)),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::at as ts;

    #[test]
    fn times_carry_zone_offset_and_genitive_months() {
        let t = ts("2022-03-04T07:00:00Z");
        assert_eq!(
            at(Lang::En, t, "Europe/Moscow"),
            "4 March 2022, 10:00 (Moscow time, UTC+3)"
        );
        assert_eq!(
            at(Lang::Uk, t, "Europe/Kyiv"),
            "4 березня 2022, 09:00 (за київським часом, UTC+2)"
        );
        assert_eq!(
            at(Lang::Ru, t, "Europe/Moscow"),
            "4 марта 2022, 10:00 (по московскому времени, UTC+3)"
        );
        assert_eq!(at(Lang::En, t, "UTC"), "4 March 2022, 07:00 (UTC)");
        // An unknown zone is shown as UTC, never under a name it is not.
        assert_eq!(at(Lang::En, t, "Mars/Olympus"), "4 March 2022, 07:00 (UTC)");
        assert_eq!(
            at(Lang::En, t, "Asia/Kolkata"),
            "4 March 2022, 12:30 (Asia/Kolkata, UTC+5:30)"
        );
    }

    #[test]
    fn spans_say_each_date_and_offset_only_when_needed() {
        let (a, b) = (ts("2022-03-04T07:00:00Z"), ts("2022-03-04T15:00:00Z"));
        assert_eq!(
            span(Lang::En, a, b, "Europe/Kyiv"),
            "4 March 2022, 09:00–17:00 (Kyiv time, UTC+2)"
        );
        let (a, b) = (ts("2022-03-04T20:00:00Z"), ts("2022-03-05T06:00:00Z"));
        assert_eq!(
            span(Lang::Ru, a, b, "Europe/Kyiv"),
            "4 марта 2022, 22:00 – 5 марта 2022, 08:00 (по киевскому времени, UTC+2)"
        );
        // Kyiv moved to summer time at 03:00 on 27 March 2022.
        let (a, b) = (ts("2022-03-26T20:00:00Z"), ts("2022-03-27T06:00:00Z"));
        assert_eq!(
            span(Lang::En, a, b, "Europe/Kyiv"),
            "26 March 2022, 22:00 (Kyiv time, UTC+2) – 27 March 2022, 09:00 (Kyiv time, UTC+3)"
        );
    }
}

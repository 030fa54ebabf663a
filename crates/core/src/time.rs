//! Instants as they appear in signed data.
//!
//! Signed commands carry instants as RFC 3339 strings in UTC (`Z`), never as local times or
//! floats, so that every implementation reads the same instant from the same bytes. The log's
//! own times are written with exactly six fractional digits, so they sort as text too.

use jiff::Timestamp;

use crate::Rejection;

/// Parse an instant from signed data: RFC 3339, UTC only (trailing `Z`).
pub fn parse_utc(field: &str, text: &str) -> Result<Timestamp, Rejection> {
    if !text.ends_with('Z') {
        return Err(Rejection::invalid(
            field,
            format!("{text:?} must be an RFC 3339 instant in UTC ending in Z"),
        ));
    }
    let t = text.parse::<Timestamp>().map_err(|e| {
        Rejection::invalid(field, format!("{text:?} is not an RFC 3339 instant: {e}"))
    })?;
    if !(EARLIEST..=LATEST).contains(&t.as_second()) {
        return Err(Rejection::invalid(
            field,
            format!("{text:?} is outside the years 1970 to 2199 that a log's instants may take"),
        ));
    }
    Ok(t)
}

/// The earliest instant a signed command may name: 1970-01-01T00:00:00Z. Instants in year 1 or
/// 9999 are typing errors that would sort and display absurdly on every page and feed.
pub const EARLIEST: i64 = 0;
/// The latest: 2199-12-31T23:59:59Z.
pub const LATEST: i64 = 7_258_118_399;

/// The log's fixed-width form of an instant (microseconds, UTC), used in entries and receipts.
pub fn format_log_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The next log time: the shell's clock reading, but strictly after the previous entry's time,
/// because entry times must strictly increase even if the clock stalls or steps back.
pub fn next_log_time(clock: Timestamp, previous: Option<Timestamp>) -> Timestamp {
    // Entry times carry microseconds; truncate the clock so what we sign equals what we store.
    let clock = Timestamp::from_microsecond(clock.as_microsecond()).unwrap_or(clock);
    match previous {
        Some(prev) if clock <= prev => prev
            .checked_add(jiff::SignedDuration::from_micros(1))
            .unwrap_or(prev),
        _ => clock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_time_has_six_digits_and_round_trips() {
        let ts: Timestamp = "2022-03-03T14:50:00Z".parse().unwrap();
        let s = format_log_time(ts);
        assert_eq!(s, "2022-03-03T14:50:00.000000Z");
        assert_eq!(parse_utc("t", &s).unwrap(), ts);
    }

    #[test]
    fn non_utc_is_refused() {
        assert_eq!(
            parse_utc("time", "2022-03-03T17:50:00+03:00")
                .unwrap_err()
                .code(),
            "invalid-field"
        );
        assert!(parse_utc("time", "yesterday").is_err());
    }

    #[test]
    fn next_time_strictly_increases() {
        let a: Timestamp = "2022-03-03T14:50:00Z".parse().unwrap();
        let b = next_log_time(a, Some(a));
        assert!(b > a);
        let earlier: Timestamp = "2022-03-03T14:00:00Z".parse().unwrap();
        assert!(next_log_time(earlier, Some(b)) > b);
        let later: Timestamp = "2022-03-03T15:00:00Z".parse().unwrap();
        assert_eq!(next_log_time(later, Some(b)), later);
    }
}

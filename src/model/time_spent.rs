//! Time spent on tickets: durations as people type them, and the running timer.

use jiff::{Span, Unit};

/// The most one entry may hold: a week of minutes (a typo guard, not a policy).
pub const MINUTES_MAX: u64 = 7 * 24 * 60;

/// A user's running timer: on which ticket, since when (seconds since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    pub ticket: u64,
    pub started: i64,
}

/// Minutes in a duration written `1h30m`, `45m`, `2h` or `1.5h` (jiff's friendly
/// format, or ISO 8601 `PT1H30M`). Days and longer units are refused: a working day
/// is not 24 hours, so they would mislead.
pub fn parse_minutes(text: &str) -> Result<u64, String> {
    let bad = |why: &str| format!("'{text}' is not a duration: {why}");
    let span: Span = text
        .trim()
        .parse()
        .map_err(|_| bad("write hours and minutes, as 1h30m, 45m or 2h"))?;
    if span.get_years() != 0
        || span.get_months() != 0
        || span.get_weeks() != 0
        || span.get_days() != 0
    {
        return Err(bad(
            "give it in hours and minutes (a working day is not 24h)",
        ));
    }
    let minutes = span
        .total(Unit::Minute)
        .map_err(|_| bad("write hours and minutes, as 1h30m"))?
        .round();
    if minutes < 1.0 {
        return Err(bad("it must be at least one minute"));
    }
    if minutes > MINUTES_MAX as f64 {
        return Err(bad("at most 168h (a week) fit in one entry"));
    }
    Ok(minutes as u64)
}

/// `1h30m`, `45m`, `2h`: how `parse_minutes` reads it back; empty for none.
pub fn format_minutes(minutes: u64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, 0) => String::new(),
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_minutes_and_format_back() {
        for (text, minutes) in [
            ("1h30m", 90),
            ("45m", 45),
            ("2h", 120),
            ("1.5h", 90),
            ("PT1H5M", 65),
        ] {
            assert_eq!(parse_minutes(text), Ok(minutes), "{text}");
        }
        for minutes in [1, 59, 60, 61, 600] {
            assert_eq!(parse_minutes(&format_minutes(minutes)), Ok(minutes));
        }
        assert_eq!(format_minutes(0), "");
    }

    #[test]
    fn a_bad_duration_is_refused_naming_it() {
        for text in ["soon", "1d", "0m", "20s", "200h", ""] {
            let err = parse_minutes(text).unwrap_err();
            assert!(
                err.starts_with(&format!("'{text}' is not a duration")),
                "{err}"
            );
        }
    }
}

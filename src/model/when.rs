//! Times as people type them: `7d`, `3h`, `2h30m`, `2026-11-24`, or RFC 3339.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};

/// Parses a point in time for filters such as `--created-since`.
///
/// A duration means that long before `now`; a bare date means its start in `tz`.
pub fn parse_instant(text: &str, now: Timestamp, tz: &TimeZone) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts.as_second());
    }
    if let Ok(date) = text.parse::<Date>() {
        let zoned = date
            .to_zoned(tz.clone())
            .map_err(|e| format!("date '{text}': {e}"))?;
        return Ok(zoned.timestamp().as_second());
    }
    let span: Span = text.parse().map_err(|_| {
        format!("'{text}' is neither a date (2026-11-24), a time (2026-11-24T10:00:00Z) nor a duration (7d, 3h, 2h30m)")
    })?;
    let zoned: Zoned = now.to_zoned(tz.clone());
    let then = zoned
        .checked_sub(span.abs())
        .map_err(|e| format!("'{text}': {e}"))?;
    Ok(then.timestamp().as_second())
}

/// A duration as people type it (`4h`, `2h30m`, `45m`, `2d`, `1w`, or ISO 8601
/// `PT4H`): its seconds (a day is 24 hours, a week 7 days) and whether it names
/// days or weeks. Refused: years, months, and anything under a second or negative.
pub fn parse_duration(text: &str) -> Result<(i64, bool), String> {
    let bad = |why: &str| format!("'{text}' is not a duration: {why}");
    let span: Span = text
        .trim()
        .parse()
        .map_err(|_| bad("write it as 4h, 2h30m, 45m or 2d"))?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(bad("give it in weeks, days, hours or minutes"));
    }
    let seconds = span
        .total((
            jiff::Unit::Second,
            jiff::SpanRelativeTo::days_are_24_hours(),
        ))
        .map_err(|_| bad("write it as 4h, 2h30m, 45m or 2d"))?;
    if seconds < 1.0 {
        return Err(bad("it must be longer than that"));
    }
    let days = span.get_days() != 0 || span.get_weeks() != 0;
    Ok((seconds as i64, days))
}

/// ISO 8601 UTC, the form used in JSON and CSV: `2026-11-24T21:12:53Z`.
pub fn iso_utc(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Local time for tables: `2026-11-24 22:12`.
pub fn local_short(seconds: i64, tz: &TimeZone) -> String {
    Timestamp::from_second(seconds)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn relative_durations_count_back_from_now() {
        let tz = TimeZone::UTC;
        let base = now().as_second();
        assert_eq!(parse_instant("3h", now(), &tz), Ok(base - 3 * 3600));
        assert_eq!(parse_instant("7d", now(), &tz), Ok(base - 7 * 86400));
        assert_eq!(parse_instant("2h30m", now(), &tz), Ok(base - 9000));
    }

    #[test]
    fn dates_start_at_midnight_in_the_zone() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let t = parse_instant("2026-11-24", now(), &tz).unwrap();
        assert_eq!(iso_utc(t), "2026-11-23T23:00:00Z");
        assert_eq!(
            parse_instant("2026-11-24T10:00:00Z", now(), &tz).map(iso_utc),
            Ok("2026-11-24T10:00:00Z".to_string())
        );
    }

    #[test]
    fn durations_read_as_seconds_and_say_whether_they_name_days() {
        assert_eq!(parse_duration("4h"), Ok((4 * 3600, false)));
        assert_eq!(parse_duration("2h30m"), Ok((9000, false)));
        assert_eq!(parse_duration("PT45M"), Ok((2700, false)));
        assert_eq!(parse_duration("2d"), Ok((2 * 86400, true)));
        assert_eq!(parse_duration("1w"), Ok((7 * 86400, true)));
        for bad in ["soon", "1 month", "0m", "-2h", ""] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("'{bad}' is not a duration")),
                "{err}"
            );
        }
    }

    #[test]
    fn nonsense_names_the_accepted_forms() {
        let err = parse_instant("yesterdayish", now(), &TimeZone::UTC).unwrap_err();
        assert!(err.contains("yesterdayish") && err.contains("7d"), "{err}");
    }
}

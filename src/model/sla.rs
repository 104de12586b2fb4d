//! Service levels: business time (working hours in a time zone, less holidays) and
//! a ticket's due times for first response and resolution.
//!
//! A ticket's clock starts at its creation and stops while it is pending or closed;
//! the business time it spent stopped is added to its targets, so leaving pending
//! pushes both due times by that much. Due times are a function of the ticket's
//! creation, its service's targets for its priority and the time spent stopped, so a
//! change of priority or service computes them again from the start ([`follow`]).

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::ticket::{Status, Ticket};

/// Minutes in a day: the end of a range that runs to midnight (`24:00`).
pub const DAY_MINUTES: u16 = 24 * 60;

/// When business time runs: every instant (24/7), or working hours per weekday in a
/// time zone, less holidays.
#[derive(Clone, Debug)]
pub struct Calendar {
    tz: TimeZone,
    /// Monday first: sorted, disjoint ranges of minutes since local midnight,
    /// `[start, end)`, end at most [`DAY_MINUTES`]. Empty for 24/7.
    week: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<Date>,
    always: bool,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::always()
    }
}

impl Calendar {
    /// Every instant counts: business time is clock time.
    pub fn always() -> Calendar {
        Calendar {
            tz: TimeZone::UTC,
            week: Default::default(),
            holidays: BTreeSet::new(),
            always: true,
        }
    }

    /// Working hours per weekday (Monday first) in `tz`, less `holidays`. Refused
    /// when a range is empty, reversed, past midnight or overlaps another, and when
    /// no day has working time (business time would never pass).
    pub fn new(
        tz: TimeZone,
        mut week: [Vec<(u16, u16)>; 7],
        holidays: BTreeSet<Date>,
    ) -> Result<Calendar, String> {
        for (day, ranges) in week.iter_mut().enumerate() {
            ranges.sort_unstable();
            for &(start, end) in ranges.iter() {
                if start >= end || end > DAY_MINUTES {
                    return Err(format!(
                        "{}: {} is not a range of the day",
                        WEEKDAYS[day],
                        range_text(start, end)
                    ));
                }
            }
            if let Some(pair) = ranges.windows(2).find(|w| w[0].1 > w[1].0) {
                return Err(format!(
                    "{}: {} overlaps {}",
                    WEEKDAYS[day],
                    range_text(pair[0].0, pair[0].1),
                    range_text(pair[1].0, pair[1].1)
                ));
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err("no working hours on any day: business time would never pass".into());
        }
        Ok(Calendar {
            tz,
            week,
            holidays,
            always: false,
        })
    }

    /// The instant `seconds` of business time after `start`.
    pub fn add(&self, start: i64, seconds: i64) -> i64 {
        if self.always || seconds <= 0 {
            return start.saturating_add(seconds.max(0));
        }
        let Some(mut date) = self.date_of(start) else {
            return start.saturating_add(seconds);
        };
        let mut left = seconds;
        // Every week has working time, so this many days always suffice: the
        // weeks the time fills, plus the holidays, plus a margin for DST days.
        let week = self.week_seconds().max(60);
        let days = (seconds / week + 2) * 7 + self.holidays.len() as i64 + 14;
        for _ in 0..days {
            for (from, to) in self.working(date) {
                if to <= start {
                    continue;
                }
                let from = from.max(start);
                if left <= to - from {
                    return from + left;
                }
                left -= to - from;
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        start.saturating_add(seconds)
    }

    /// Seconds of business time in `[from, to)`; 0 when `to` is not after `from`.
    pub fn between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        if self.always {
            return to - from;
        }
        let (Some(mut date), Some(last)) = (self.date_of(from), self.date_of(to)) else {
            return 0;
        };
        let mut total = 0;
        while date <= last {
            for (start, end) in self.working(date) {
                let (start, end) = (start.max(from), end.min(to));
                if end > start {
                    total += end - start;
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }

    /// The local date of an instant.
    fn date_of(&self, seconds: i64) -> Option<Date> {
        let at = Timestamp::from_second(seconds).ok()?;
        Some(self.tz.to_datetime(at).date())
    }

    /// The working ranges of a local date as instants (none on a holiday). A DST
    /// change inside a range makes it an hour shorter or longer, as a clock on the
    /// wall shows it.
    fn working(&self, date: Date) -> impl Iterator<Item = (i64, i64)> + '_ {
        let day = date.weekday().to_monday_zero_offset() as usize;
        let ranges: &[(u16, u16)] = if self.holidays.contains(&date) {
            &[]
        } else {
            &self.week[day]
        };
        ranges.iter().filter_map(move |&(start, end)| {
            let (from, to) = (self.instant(date, start)?, self.instant(date, end)?);
            (to > from).then_some((from, to))
        })
    }

    /// The instant of a local date and minute of the day (`24:00`: the next
    /// midnight); a time a DST gap skips is taken after the gap.
    fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = match minute {
            DAY_MINUTES => (date.tomorrow().ok()?, 0),
            m => (date, m),
        };
        let at = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        Some(self.tz.to_timestamp(at).ok()?.as_second())
    }

    /// Seconds of working time in a week, holidays and DST aside.
    fn week_seconds(&self) -> i64 {
        self.week
            .iter()
            .flatten()
            .map(|(s, e)| i64::from(e - s) * 60)
            .sum()
    }
}

/// Monday first, as [`Calendar::new`] takes the week.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `HH:MM-HH:MM`.
fn range_text(start: u16, end: u16) -> String {
    format!(
        "{:02}:{:02}-{:02}:{:02}",
        start / 60,
        start % 60,
        end / 60,
        end % 60
    )
}

/// Parses `09:00-17:00` (`24:00` ends a range at midnight) into minutes of the day.
pub fn parse_range(text: &str) -> Result<(u16, u16), String> {
    let bad = || format!("'{text}' is not a range of the day such as 09:00-17:00");
    let (start, end) = text.trim().split_once('-').ok_or_else(bad)?;
    let minute = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && h * 60 + m <= DAY_MINUTES).then_some(h * 60 + m)
    };
    let (start, end) = (minute(start).ok_or_else(bad)?, minute(end).ok_or_else(bad)?);
    if start >= end {
        return Err(format!("'{text}' ends before it starts"));
    }
    Ok((start, end))
}

/// Parses `mon`, `mon-fri` or `sat-sun` into weekdays (Monday 0).
pub fn parse_days(text: &str) -> Result<Vec<usize>, String> {
    let day = |d: &str| {
        let d = d.trim().to_ascii_lowercase();
        WEEKDAYS
            .iter()
            .position(|w| is_day_name(&d) && d.get(..3) == Some(*w))
    };
    let bad = || {
        format!(
            "'{text}' is not a day or a range of days such as mon-fri (days: {})",
            WEEKDAYS.join(", ")
        )
    };
    match text.split_once('-') {
        None => Ok(vec![day(text).ok_or_else(bad)?]),
        Some((a, b)) => {
            let (a, b) = (day(a).ok_or_else(bad)?, day(b).ok_or_else(bad)?);
            if a > b {
                return Err(format!("'{text}': the week runs mon to sun"));
            }
            Ok((a..=b).collect())
        }
    }
}

/// `mon`, `monday`, ...: a three-letter name or the whole English one.
fn is_day_name(d: &str) -> bool {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    d.len() == 3 || FULL.contains(&d)
}

/// A service's targets for one priority, in seconds of business time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub response: Option<i64>,
    pub resolution: Option<i64>,
}

/// What a ticket's service asks of it: the calendar its time runs by and the
/// targets for its priority.
#[derive(Clone, Copy, Debug)]
pub struct Plan<'a> {
    pub calendar: &'a Calendar,
    pub target: Target,
}

/// A ticket's service-level state. All times are seconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sla {
    pub response_due: Option<i64>,
    pub resolution_due: Option<i64>,
    /// The first reply to the requester (or request for information).
    pub first_response: Option<i64>,
    /// When the clock stopped (the ticket went pending or closed); None while it runs.
    pub paused_since: Option<i64>,
    /// Seconds of business time spent stopped before `paused_since`.
    pub paused: i64,
}

/// Whether a status stops the clock.
pub fn stops_clock(status: Status) -> bool {
    matches!(status, Status::Pending | Status::Closed)
}

/// Brings a ticket's due times up to date with a change at `at` from `old` (None:
/// the ticket is new): the one place the clock follows a ticket. `plan` is what
/// the ticket's service asks for its priority as it is now (None: no targets).
///
/// - new: due times from its creation; created pending, the clock starts stopped;
/// - entering pending or closed: the clock stops at `at`;
/// - leaving them: the business time stopped is added, and the due times move
///   (a ticket without due times keeps none);
/// - another priority or service: the due times are computed again.
///
/// Time stopped is counted in the calendar of the ticket's service when the clock
/// starts again; after a transfer, what it counted before stays as counted.
pub fn follow(old: Option<&Ticket>, t: &mut Ticket, at: i64, plan: Option<Plan>) {
    let always = Calendar::always();
    let calendar = plan.map_or(&always, |p| p.calendar);
    let stopped = stops_clock(t.status);
    let mut schedule = match old {
        None => true,
        Some(o) => o.priority != t.priority || o.service != t.service,
    };
    match (old.map(|o| stops_clock(o.status)), stopped) {
        (None, true) => t.sla.paused_since = Some(t.created),
        (Some(false), true) => t.sla.paused_since = Some(at),
        (Some(true), false) => {
            if let Some(since) = t.sla.paused_since.take() {
                t.sla.paused += calendar.between(since, at);
                // Moved, not given: a ticket without due times (made before its
                // service had targets) gets them only from a change of priority
                // or service.
                schedule |= t.sla.response_due.is_some() || t.sla.resolution_due.is_some();
            }
        }
        _ => {}
    }
    if schedule {
        let target = plan.map(|p| p.target).unwrap_or_default();
        let due = |target: Option<i64>| {
            target.map(|seconds| calendar.add(t.created, seconds.saturating_add(t.sla.paused)))
        };
        t.sla.response_due = due(target.response);
        t.sla.resolution_due = due(target.resolution);
    }
}

/// Records the first response to the requester at `at`, once: later ones change
/// nothing. Called by `take --request-info`, `ticket reply` when it reaches the
/// requester, and an agent's mail to the ticket addressed to the requester too.
pub fn record_first_response(t: &mut Ticket, at: i64) {
    t.sla.first_response.get_or_insert(at);
}

impl Ticket {
    /// The due time that counts next: the response due until the first response,
    /// and the resolution due, whichever is earlier; None without targets and while
    /// the clock is stopped (pending, closed). What `--overdue` and `--due-within`
    /// look at, and what the index keeps.
    pub fn next_due(&self) -> Option<i64> {
        if stops_clock(self.status) {
            return None;
        }
        let response = self
            .sla
            .response_due
            .filter(|_| self.sla.first_response.is_none());
        response.into_iter().chain(self.sla.resolution_due).min()
    }

    /// Whether a due time that counts has passed at `now`.
    pub fn overdue(&self, now: i64) -> bool {
        self.next_due().is_some_and(|due| due < now)
    }

    /// Where the clock stands: `now`, or when it stopped (pending, closed).
    fn clock(&self, now: i64) -> i64 {
        match self.sla.paused_since {
            Some(since) if stops_clock(self.status) => since,
            _ => now,
        }
    }

    /// Whether the first response came (or, none yet, the clock went) past its due time.
    pub fn response_breached(&self, now: i64) -> bool {
        let Some(due) = self.sla.response_due else {
            return false;
        };
        self.sla.first_response.unwrap_or_else(|| self.clock(now)) > due
    }

    /// Whether the clock went past the resolution due time (for a closed ticket: at
    /// its closing).
    pub fn resolution_breached(&self, now: i64) -> bool {
        self.sla
            .resolution_due
            .is_some_and(|due| self.clock(now) > due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Priority;

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }

    /// Mon-Fri 09:00-17:00 in Paris, with Christmas off.
    fn office() -> Calendar {
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for day in &mut week[..5] {
            day.push(parse_range("09:00-17:00").unwrap());
        }
        let holidays = ["2026-12-25".parse().unwrap()].into();
        Calendar::new(paris(), week, holidays).unwrap()
    }

    fn at(text: &str) -> i64 {
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        paris().to_timestamp(dt).unwrap().as_second()
    }

    fn local(seconds: i64) -> String {
        Timestamp::from_second(seconds)
            .unwrap()
            .to_zoned(paris())
            .strftime("%a %Y-%m-%d %H:%M")
            .to_string()
    }

    const H: i64 = 3600;

    #[test]
    fn friday_afternoon_plus_four_hours_is_monday_noon() {
        let cal = office();
        assert_eq!(
            local(cal.add(at("2026-11-27T16:00"), 4 * H)),
            "Mon 2026-11-30 12:00"
        );
        assert_eq!(
            cal.between(at("2026-11-27T16:00"), at("2026-11-30T12:00")),
            4 * H
        );
    }

    #[test]
    fn evenings_and_weekends_start_at_the_next_opening() {
        let cal = office();
        assert_eq!(
            local(cal.add(at("2026-11-25T20:30"), H)),
            "Thu 2026-11-26 10:00"
        );
        assert_eq!(
            local(cal.add(at("2026-11-28T11:00"), 30 * 60)),
            "Mon 2026-11-30 09:30"
        );
        assert_eq!(
            local(cal.add(at("2026-11-26T07:00"), 8 * H)),
            "Thu 2026-11-26 17:00",
            "a whole day fits, ending at closing time"
        );
        assert_eq!(
            cal.between(at("2026-11-27T18:00"), at("2026-11-30T08:00")),
            0
        );
        assert_eq!(
            cal.between(at("2026-11-30T08:00"), at("2026-11-27T18:00")),
            0
        );
    }

    #[test]
    fn a_holiday_is_skipped() {
        let cal = office();
        // Thursday 24 December 16:00 + 2h: Friday 25 is Christmas, then the weekend.
        assert_eq!(
            local(cal.add(at("2026-12-24T16:00"), 2 * H)),
            "Mon 2026-12-28 10:00"
        );
        assert_eq!(
            cal.between(at("2026-12-24T00:00"), at("2026-12-29T00:00")),
            16 * H
        );
    }

    #[test]
    fn daylight_saving_changes_keep_local_hours() {
        let cal = office();
        // Paris leaves summer time on Sunday 25 October 2026: Friday 16:00 + 2h is
        // Monday 10:00 local, 67 hours of clock time later rather than 66.
        let start = at("2026-10-23T16:00");
        let due = cal.add(start, 2 * H);
        assert_eq!(local(due), "Mon 2026-10-26 10:00");
        assert_eq!(due - start, 67 * H);
        // A 24-hour calendar counts the short spring day as 23 hours.
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        week.iter_mut().for_each(|d| d.push((0, DAY_MINUTES)));
        let round = Calendar::new(paris(), week, BTreeSet::new()).unwrap();
        assert_eq!(
            round.between(at("2026-03-29T00:00"), at("2026-03-30T00:00")),
            23 * H
        );
        assert_eq!(
            local(round.add(at("2026-03-28T12:00"), 24 * H)),
            "Sun 2026-03-29 13:00"
        );
    }

    #[test]
    fn always_is_clock_time() {
        let cal = Calendar::always();
        assert_eq!(cal.add(1000, 60), 1060);
        assert_eq!(cal.between(1000, 1060), 60);
    }

    #[test]
    fn a_long_target_and_a_long_pause_end() {
        let cal = office();
        let start = at("2026-11-27T16:00");
        // A year of business time: some 260 working days of 8 hours.
        let due = cal.add(start, 2080 * H);
        assert!(due > start + 360 * 24 * H, "{}", local(due));
        assert_eq!(cal.between(start, due), 2080 * H);
    }

    #[test]
    fn calendars_without_working_time_or_with_bad_ranges_are_refused() {
        let week: [Vec<(u16, u16)>; 7] = Default::default();
        let err = Calendar::new(paris(), week, BTreeSet::new()).unwrap_err();
        assert!(err.contains("no working hours"), "{err}");
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        week[0] = vec![(540, 720), (700, 800)];
        let err = Calendar::new(paris(), week, BTreeSet::new()).unwrap_err();
        assert_eq!(err, "mon: 09:00-12:00 overlaps 11:40-13:20");
        assert_eq!(parse_range("09:00-24:00"), Ok((540, DAY_MINUTES)));
        for bad in ["9-17", "17:00-09:00", "09:00-24:30", "09:60-10:00", "nine"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_days("mon-fri"), Ok(vec![0, 1, 2, 3, 4]));
        assert_eq!(parse_days("Saturday"), Ok(vec![5]));
        assert!(parse_days("fri-mon").is_err());
        assert!(parse_days("mo").is_err());
        assert!(parse_days("monkey").is_err());
    }

    fn plan(cal: &Calendar, response: i64, resolution: i64) -> Plan<'_> {
        Plan {
            calendar: cal,
            target: Target {
                response: Some(response),
                resolution: Some(resolution),
            },
        }
    }

    #[test]
    fn due_times_follow_creation_priority_and_pending() {
        let cal = office();
        let created = at("2026-11-27T16:00");
        let mut t = Ticket::new(1, "printer", created);
        follow(None, &mut t, created, Some(plan(&cal, 4 * H, 16 * H)));
        assert_eq!(local(t.sla.response_due.unwrap()), "Mon 2026-11-30 12:00");
        assert_eq!(local(t.sla.resolution_due.unwrap()), "Tue 2026-12-01 16:00");
        assert_eq!(t.next_due(), t.sla.response_due);

        // Urgent: tighter targets, counted from creation again.
        let old = t.clone();
        t.priority = Priority::Urgent;
        follow(
            Some(&old),
            &mut t,
            at("2026-11-30T09:00"),
            Some(plan(&cal, H, 4 * H)),
        );
        assert_eq!(local(t.sla.response_due.unwrap()), "Fri 2026-11-27 17:00");
        assert!(t.overdue(at("2026-11-30T09:00")));
        assert!(t.response_breached(at("2026-11-30T09:00")));
        assert!(!t.resolution_breached(at("2026-11-30T09:00")));

        // Pending for two business hours (Monday 10:00 to 12:00): nothing is
        // due meanwhile, and both due times move by two hours.
        let old = t.clone();
        t.status = Status::Pending;
        follow(
            Some(&old),
            &mut t,
            at("2026-11-30T10:00"),
            Some(plan(&cal, H, 4 * H)),
        );
        assert_eq!(t.next_due(), None);
        assert!(!t.overdue(at("2026-11-30T11:00")));
        assert!(
            !t.resolution_breached(at("2026-12-30T11:00")),
            "a pending ticket's clock stands still"
        );
        let old = t.clone();
        t.status = Status::Open;
        follow(
            Some(&old),
            &mut t,
            at("2026-11-30T12:00"),
            Some(plan(&cal, H, 4 * H)),
        );
        assert_eq!(t.sla.paused, 2 * H);
        assert_eq!(t.sla.paused_since, None);
        assert_eq!(local(t.sla.response_due.unwrap()), "Mon 2026-11-30 11:00");
        assert_eq!(local(t.sla.resolution_due.unwrap()), "Mon 2026-11-30 14:00");

        // Answered: the response due no longer counts.
        record_first_response(&mut t, at("2026-11-30T12:30"));
        record_first_response(&mut t, at("2026-11-30T13:00"));
        assert_eq!(t.sla.first_response, Some(at("2026-11-30T12:30")));
        assert_eq!(t.next_due(), t.sla.resolution_due);
    }

    #[test]
    fn leaving_pending_moves_due_times_but_gives_none() {
        let cal = office();
        let plan = Some(plan(&cal, H, 4 * H));
        let created = at("2026-11-30T09:00");
        // Stored before its service had targets: pending, no due times.
        let mut t = Ticket::new(1, "old", created);
        t.status = Status::Pending;
        t.sla.paused_since = Some(created);
        let old = t.clone();
        t.status = Status::Open;
        follow(Some(&old), &mut t, at("2026-11-30T10:00"), plan);
        assert_eq!((t.sla.response_due, t.sla.resolution_due), (None, None));
        let old = t.clone();
        t.priority = Priority::High;
        follow(Some(&old), &mut t, at("2026-11-30T10:00"), plan);
        assert_eq!(local(t.sla.response_due.unwrap()), "Mon 2026-11-30 11:00");
    }

    #[test]
    fn without_targets_nothing_is_ever_due() {
        let mut t = Ticket::new(1, "printer", 0);
        follow(None, &mut t, 0, None);
        assert_eq!(t.sla, Sla::default());
        assert_eq!(t.next_due(), None);
        assert!(!t.overdue(i64::MAX));
    }
}

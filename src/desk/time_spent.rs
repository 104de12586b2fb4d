//! `ticket time`: time spent on a ticket, logged as `time-spent` events (their sum
//! kept on the ticket for `ticket list`), and one running timer per user, stored so
//! it outlives the process that started it.

use anyhow::{bail, Result};
use jiff::civil::Date;
use jiff::Timestamp;

use super::roles::Action;
use super::workflow::{update_ticket, Change, Updated};
use super::{now, Desk};
use crate::model::time_spent::Timer;
use crate::model::when::local_short;
use crate::model::{Event, EventKind, Ticket};
use crate::store::Writer;

/// One entry of time spent, as `ticket time add` gives it.
#[derive(Debug)]
pub struct Spent {
    pub minutes: u64,
    pub billable: bool,
    pub note: String,
    /// The day it was spent; None: today, in the desk's time zone.
    pub date: Option<Date>,
}

/// `ticket time N add`.
pub fn add(desk: &Desk, number: u64, spent: Spent) -> Result<Updated> {
    let date = spent.date.unwrap_or_else(|| today(desk, now()));
    let change = TimeChange::Add(EventKind::TimeSpent {
        minutes: spent.minutes,
        billable: spent.billable,
        note: spent.note,
        date: date.to_string(),
    });
    update_ticket(desk, number, &change)
}

/// `ticket time N start`: refused while the actor has a timer running anywhere.
pub fn start(desk: &Desk, number: u64) -> Result<Updated> {
    update_ticket(desk, number, &TimeChange::Start { desk, at: now() })
}

/// `ticket time N stop`: the time since `start` becomes a (non-billable) entry.
pub fn stop(desk: &Desk, number: u64) -> Result<Updated> {
    update_ticket(desk, number, &TimeChange::Stop { desk, at: now() })
}

/// The `time-spent` events of a ticket's log, oldest first.
pub fn entries(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::TimeSpent { .. }))
        .collect()
}

fn today(desk: &Desk, at: i64) -> Date {
    Timestamp::from_second(at)
        .unwrap_or_default()
        .to_zoned(desk.tz().clone())
        .date()
}

enum TimeChange<'a> {
    /// A `time-spent` event to log.
    Add(EventKind),
    Start {
        desk: &'a Desk,
        at: i64,
    },
    Stop {
        desk: &'a Desk,
        at: i64,
    },
}

impl Change for TimeChange<'_> {
    fn action(&self, _: &Ticket) -> Action {
        Action::LogTime
    }

    fn apply(&self, tx: &dyn Writer, actor: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        let number = t.number;
        let event = match self {
            TimeChange::Add(event) => event.clone(),
            TimeChange::Start { desk, at } => {
                if let Some(running) = tx.running_timer(actor)? {
                    bail!(
                        "{actor} has a timer running on #{} since {}: stop it first (postdesk ticket time {} stop)",
                        running.ticket,
                        local_short(running.started, desk.tz()),
                        running.ticket
                    );
                }
                let timer = Timer {
                    ticket: number,
                    started: *at,
                };
                tx.set_running_timer(actor, Some(&timer))?;
                return Ok(vec![EventKind::TimerStarted]);
            }
            TimeChange::Stop { desk, at } => {
                let running = match tx.running_timer(actor)? {
                    Some(running) if running.ticket == number => running,
                    Some(running) => bail!(
                        "{actor}'s timer runs on #{}, not #{number}: postdesk ticket time {} stop",
                        running.ticket,
                        running.ticket
                    ),
                    None => bail!(
                        "{actor} has no timer running: start one with postdesk ticket time {number} start"
                    ),
                };
                tx.set_running_timer(actor, None)?;
                // Rounded to the minute; a timer stopped at once still counts one.
                let minutes = ((at - running.started).max(0) as u64 + 30) / 60;
                EventKind::TimeSpent {
                    minutes: minutes.max(1),
                    billable: false,
                    note: "timer".to_string(),
                    date: today(desk, running.started).to_string(),
                }
            }
        };
        if let EventKind::TimeSpent { minutes, .. } = &event {
            t.minutes_spent += minutes;
        }
        Ok(vec![event])
    }
}

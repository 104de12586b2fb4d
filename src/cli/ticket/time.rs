//! `postdesk ticket time N add|start|stop|list`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use jiff::civil::Date;
use serde::Serialize;

use super::{parse_number, updated};
use crate::cli::output::{self, Format};
use crate::desk::time_spent::{self, Spent};
use crate::desk::verbs::flag_comment;
use crate::desk::{tickets, Desk};
use crate::model::time_spent::{format_minutes, parse_minutes};
use crate::model::EventKind;

/// Time spent on a ticket: log it, or run a timer (one per user, across all tickets).
///
/// Each entry is a `time-spent` event in the ticket's log; `ticket list --columns
/// ...,time` shows each ticket's total. The managers and agents of its service, or
/// an admin.
#[derive(Debug, Args)]
pub struct TimeArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    #[command(subcommand)]
    command: TimeCommand,
}

#[derive(Debug, Subcommand)]
enum TimeCommand {
    /// Log time spent: 1h30m, 45m, 2h, 1.5h
    Add {
        /// How long, in hours and minutes
        #[arg(value_parser = parse_minutes, value_name = "DURATION")]
        minutes: u64,
        /// Billable to the customer
        #[arg(long)]
        billable: bool,
        /// A note kept with the entry
        #[arg(short = 'm', long = "message", value_name = "NOTE")]
        note: Option<String>,
        /// The day it was spent, YYYY-MM-DD [default: today]
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        date: Option<Date>,
    },
    /// Start your timer on this ticket (refused while one of yours runs)
    Start,
    /// Stop your timer on this ticket and log the time since start
    Stop,
    /// The entries of time spent, with the total
    List,
}

fn parse_date(text: &str) -> Result<Date, String> {
    text.parse()
        .map_err(|_| format!("'{text}' is not a date: write it YYYY-MM-DD"))
}

pub fn run(args: TimeArgs, desk: &Desk, format: Format) -> Result<()> {
    let number = args.number;
    let done = match args.command {
        TimeCommand::Add {
            minutes,
            billable,
            note,
            date,
        } => {
            let note = flag_comment("-m", note.as_deref())?.unwrap_or_default();
            let spent = Spent {
                minutes,
                billable,
                note,
                date,
            };
            time_spent::add(desk, number, spent)?
        }
        TimeCommand::Start => time_spent::start(desk, number)?,
        TimeCommand::Stop => time_spent::stop(desk, number)?,
        TimeCommand::List => return list(desk, number, format),
    };
    updated::print(&done, format)
}

/// `time N list` in JSON.
#[derive(Serialize)]
struct TimeJson<'a> {
    number: u64,
    minutes: u64,
    billable_minutes: u64,
    entries: Vec<EntryJson<'a>>,
}

#[derive(Serialize)]
struct EntryJson<'a> {
    date: &'a str,
    actor: &'a str,
    minutes: u64,
    billable: bool,
    note: &'a str,
}

fn list(desk: &Desk, number: u64, format: Format) -> Result<()> {
    let (ticket, events) =
        tickets::show(desk, number, false).with_context(|| format!("ticket #{number}"))?;
    let entries: Vec<EntryJson> = time_spent::entries(&events)
        .into_iter()
        .filter_map(|e| match &e.kind {
            EventKind::TimeSpent {
                minutes,
                billable,
                note,
                date,
            } => Some(EntryJson {
                date,
                actor: &e.actor,
                minutes: *minutes,
                billable: *billable,
                note,
            }),
            _ => None,
        })
        .collect();
    let billable = entries
        .iter()
        .filter(|e| e.billable)
        .map(|e| e.minutes)
        .sum();
    let all = TimeJson {
        number,
        minutes: ticket.minutes_spent,
        billable_minutes: billable,
        entries,
    };
    match format {
        Format::Json => output::json(&all),
        Format::Csv => output::csv(
            &["date", "actor", "minutes", "billable", "note"],
            all.entries.iter().map(|e| {
                vec![
                    e.date.to_string(),
                    e.actor.to_string(),
                    e.minutes.to_string(),
                    e.billable.to_string(),
                    e.note.to_string(),
                ]
            }),
        ),
        Format::Table if all.entries.is_empty() => {
            output::line(format!("no time spent on #{number}"))
        }
        Format::Table => {
            let mut table = output::table(&["date", "who", "time", "billable", "note"]);
            for e in &all.entries {
                table.add_row([
                    e.date,
                    e.actor,
                    &format_minutes(e.minutes),
                    if e.billable { "yes" } else { "" },
                    e.note,
                ]);
            }
            output::print_table(&table)?;
            output::line(format!(
                "total {} (billable {})",
                format_minutes(all.minutes),
                match all.billable_minutes {
                    0 => "0m".to_string(),
                    m => format_minutes(m),
                }
            ))
        }
    }
}

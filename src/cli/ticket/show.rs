//! `postdesk ticket show N`.

use anyhow::Result;
use clap::Args;

use super::parse_number;
use super::view::{cell, TicketJson, ALL_COLUMNS};
use crate::cli::output::{self, Format};
use crate::cli::plural::plural;
use crate::cli::terminal;
use crate::desk::tickets;
use crate::desk::Desk;
use crate::model::time_spent::format_minutes;
use crate::model::when::local_short;
use crate::model::{EventKind, LinkKind};

/// Show a ticket: every field, then its activity log as a timeline.
///
/// The timeline shows the first 15 lines (1 KB) of each mail; `--full` shows
/// every mail whole. `--format json` prints the ticket with an `events` array,
/// every text whole; `--format csv` prints the ticket as one row under a header
/// of every column.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,

    /// Show every mail's whole text in the timeline, not its first lines
    #[arg(long)]
    full: bool,
}

pub fn run(args: ShowArgs, desk: &Desk, format: Format) -> Result<()> {
    let whole_mail = args.full || format == Format::Json;
    let (ticket, events) = tickets::show(desk, args.number, whole_mail)?;
    match format {
        Format::Json => output::json(&TicketJson::new(&ticket, Some(&events))),
        Format::Csv => output::csv(
            ALL_COLUMNS,
            [ALL_COLUMNS.iter().map(|c| cell(&ticket, c, None)).collect()],
        ),
        Format::Table => {
            let tz = desk.tz();
            // Fitted to the terminal (or COLUMNS): long lines wrap under their start.
            let width = terminal::width();
            let number = format!("#{} ", ticket.number);
            output::line(terminal::wrap(
                &number,
                &" ".repeat(number.len()),
                &terminal::inline(&ticket.subject),
                width,
            ))?;
            let mut fields = output::plain_table();
            for column in ALL_COLUMNS.iter().filter(|c| {
                !matches!(
                    **c,
                    "number" | "subject" | "description" | "requester_name" | "requester_email"
                )
            }) {
                let value = cell(&ticket, column, Some(tz));
                if !value.is_empty() {
                    fields.add_row([column.replace('_', " "), value]);
                }
            }
            if !ticket.links.is_empty() {
                let links: Vec<String> = ticket
                    .links
                    .iter()
                    .map(|(n, kind)| match kind {
                        LinkKind::Relates => format!("#{n}"),
                        kind => format!("#{n} ({kind})"),
                    })
                    .collect();
                fields.add_row(["links".to_string(), links.join(" ")]);
            }
            if ticket.minutes_spent > 0 {
                fields.add_row([
                    "time spent".to_string(),
                    format_minutes(ticket.minutes_spent),
                ]);
            }
            for (name, value) in &ticket.fields {
                fields.add_row([name, value]);
            }
            output::print_table(&fields)?;
            let mut text = String::new();
            // A quoted line of a comment or mail: its continuations are quoted too.
            let quote = |text: &mut String, line: &str| {
                text.push_str(&terminal::wrap("      | ", "      | ", line, width));
                text.push('\n');
            };
            if !ticket.description.trim().is_empty() {
                text.push('\n');
                for line in ticket.description.trim_end().lines() {
                    text.push_str(&terminal::wrap("", "", line, width));
                    text.push('\n');
                }
            }
            text.push_str("\nActivity:\n");
            for e in &events {
                let at = format!("  {}  ", local_short(e.at, tz));
                let what = format!(
                    "{}: {}",
                    terminal::inline(&e.actor),
                    terminal::inline(&e.kind.describe())
                );
                text.push_str(&terminal::wrap(&at, &" ".repeat(at.len()), &what, width));
                text.push('\n');
                if let Some(comment) = e.kind.comment() {
                    for line in comment.lines() {
                        quote(&mut text, line);
                    }
                }
                // Replies carry text of their own; the first message is the description.
                if let EventKind::Mail(mail) = &e.kind {
                    if mail.text.trim() != ticket.description.trim() {
                        for line in mail.text.trim_end().lines() {
                            quote(&mut text, line);
                        }
                        if mail.is_cut() {
                            let more = mail.text_size - mail.text.len() as u64;
                            text.push_str(&format!(
                                "      | [... {}: postdesk ticket show {} --full]\n",
                                plural(more, "more byte", "more bytes"),
                                ticket.number
                            ));
                        }
                    }
                }
            }
            // The description and mail texts keep their lines; `line` escapes the rest.
            output::line(text.trim_end())
        }
    }
}

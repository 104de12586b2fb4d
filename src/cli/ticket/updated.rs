//! What a workflow verb prints: the events it wrote, or the ticket with them in JSON.

use anyhow::Result;

use super::view::TicketJson;
use crate::cli::output::{self, Format};
use crate::cli::terminal;
use crate::desk::workflow::Updated;

/// One line per event written (`#4: took the ticket (was @support)`), "unchanged"
/// when none; with `--format json` the ticket, `events` holding only those written.
pub fn print(done: &Updated, format: Format) -> Result<()> {
    let number = done.ticket.number;
    if let Some(note) = &done.mail_note {
        eprintln!(
            "postdesk: #{number}: {}: `postdesk outbox send` sends it",
            terminal::inline(note)
        );
    }
    if format == Format::Json {
        return output::json(&TicketJson::new(&done.ticket, Some(&done.events)));
    }
    if done.events.is_empty() {
        return output::line(format!("ticket #{number} unchanged"));
    }
    let lines: Vec<String> = done
        .events
        .iter()
        .map(|e| {
            format!(
                "#{number}: {}{}",
                by_rule(&e.actor),
                terminal::inline(&e.kind.describe())
            )
        })
        .collect();
    output::line(lines.join("\n"))
}

/// `rule 'x': ` before what a rule did; nothing before the actor's own events.
fn by_rule(actor: &str) -> String {
    match actor.starts_with("rule '") {
        true => format!("{}: ", terminal::inline(actor)),
        false => String::new(),
    }
}

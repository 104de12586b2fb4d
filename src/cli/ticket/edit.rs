//! `postdesk ticket edit N`.

use anyhow::Result;
use clap::Args;

use super::fields::FieldArgs;
use super::parse_number;
use super::view::TicketJson;
use crate::cli::output::{self, Format};
use crate::cli::plural::plural;
use crate::desk::tickets;
use crate::desk::Desk;

/// Change any field of a ticket; every change is recorded in its activity log.
///
/// Tags and followers take `+x` to add and `-x` to remove (a bare value adds).
/// `--field KEY=` (empty value) removes a custom field; `--category ""` clears the category.
/// A ticket with open sub-tickets closes only with --force.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    #[command(flatten)]
    fields: FieldArgs,
    /// With --status closed: close even though sub-tickets are still open
    #[arg(long)]
    force: bool,
}

pub fn run(args: EditArgs, desk: &Desk, format: Format) -> Result<()> {
    let number = args.number;
    let (ticket, changed) = tickets::edit(desk, number, args.fields.into_patch()?, args.force)?;
    match format {
        Format::Json => output::json(&TicketJson::new(&ticket, None)),
        _ if changed == 0 => output::line(format!("ticket #{number} unchanged")),
        _ => output::line(format!(
            "updated ticket #{number} ({})",
            plural(changed as u64, "change", "changes")
        )),
    }
}

//! `postdesk ticket create`.

use anyhow::Result;
use clap::Args;

use super::fields::FieldArgs;
use super::parse_number;
use super::view::{cell, TicketJson, ALL_COLUMNS};
use crate::cli::output::{self, Format};
use crate::desk::tickets;
use crate::desk::Desk;

/// Create a ticket.
///
/// Unset fields take defaults: status open, priority medium, the service from
/// `settings.default_service`, the assignee from the service, subject and
/// description from the category's template. Prints the new ticket's number
/// (`--format json` prints the ticket).
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    fields: FieldArgs,
    /// Make it a sub-ticket of this ticket (42 or #42): linked as parent and child
    #[arg(long, value_name = "N", value_parser = parse_number)]
    parent: Option<u64>,
}

pub fn run(args: CreateArgs, desk: &Desk, format: Format) -> Result<()> {
    let ticket = tickets::create(desk, args.fields.into_patch()?, args.parent)?;
    match format {
        Format::Table => output::line(format!("created ticket #{}", ticket.number)),
        Format::Json => output::json(&TicketJson::new(&ticket, None)),
        Format::Csv => output::csv(
            ALL_COLUMNS,
            [ALL_COLUMNS.iter().map(|c| cell(&ticket, c, None)).collect()],
        ),
    }
}

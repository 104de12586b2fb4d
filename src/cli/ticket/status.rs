//! `postdesk ticket status N STATUS`.

use anyhow::Result;
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::verbs;
use crate::desk::Desk;
use crate::model::Status;

/// Move a ticket to open, in-progress, pending or closed (`start` is in-progress,
/// `wait` is pending).
///
/// A closed ticket only reopens (to open); in-progress needs a user holding the
/// ticket. Closing and other moves: the user holding it, a manager of its service,
/// or an admin; reopening: its agents too. A ticket with open sub-tickets closes
/// only with --force.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// open, in-progress (start), pending (wait) or closed
    #[arg(value_parser = parse_status, value_name = "STATUS")]
    status: Status,
    /// Close even though sub-tickets are still open
    #[arg(long)]
    force: bool,
}

fn parse_status(text: &str) -> Result<Status, String> {
    match text {
        "start" => Ok(Status::InProgress),
        "wait" => Ok(Status::Pending),
        other => other.parse().map_err(|_| {
            format!("'{other}' is not a status (open, in-progress, pending, closed, start or wait)")
        }),
    }
}

pub fn run(args: StatusArgs, desk: &Desk, format: Format) -> Result<()> {
    updated::print(
        &verbs::set_status(desk, args.number, args.status, args.force)?,
        format,
    )
}

//! `postdesk ticket transfer N SERVICE[/CATEGORY]`.

use anyhow::Result;
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::transfer::{self, Transfer};
use crate::desk::verbs::flag_comment;
use crate::desk::Desk;

/// Move a ticket to another service (a manager of its service, or an admin).
///
/// No assignee is chosen: the new service's default assignee takes it. The old
/// service's guests stop following it and the new service's start;
/// `--stay-as-guest` makes the mover a follower.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// The service to move it to, with a category of that service if wanted
    #[arg(value_name = "SERVICE[/CATEGORY]")]
    to: String,
    /// Why, kept with the event (internal)
    #[arg(short = 'm', long = "message", value_name = "REASON")]
    reason: Option<String>,
    /// Keep following the ticket
    #[arg(long)]
    stay_as_guest: bool,
}

pub fn run(args: TransferArgs, desk: &Desk, format: Format) -> Result<()> {
    let move_to = Transfer {
        comment: flag_comment("-m", args.reason.as_deref())?,
        stay_as_guest: args.stay_as_guest,
        ..Transfer::to(&args.to)
    };
    updated::print(&transfer::transfer(desk, args.number, move_to)?, format)
}

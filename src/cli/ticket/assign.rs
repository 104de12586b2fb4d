//! `postdesk ticket assign N WHO`.

use anyhow::Result;
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::verbs::{self, flag_comment};
use crate::desk::Desk;

/// Give a ticket to a user, a group or no one (a manager of its service, or an admin).
///
/// Someone who is not an agent or a manager of the ticket's service (a group other
/// than its default assignee) is refused unless `--force`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// A login, @group, none, or me
    #[arg(value_name = "USER|@GROUP|none")]
    who: String,
    /// A comment kept with the event (internal)
    #[arg(short = 'm', long = "message", value_name = "COMMENT")]
    comment: Option<String>,
    /// Assign even to someone outside the service
    #[arg(long)]
    force: bool,
}

pub fn run(args: AssignArgs, desk: &Desk, format: Format) -> Result<()> {
    let comment = flag_comment("-m", args.comment.as_deref())?;
    let done = verbs::assign(desk, args.number, &args.who, comment, args.force)?;
    updated::print(&done, format)
}

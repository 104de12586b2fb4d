//! `postdesk ticket release N`.

use anyhow::Result;
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::verbs::{self, flag_comment};
use crate::desk::Desk;

/// Stop holding a ticket: it goes back to its service's default assignee (or no one).
///
/// By the user holding it, a manager of its service, or an admin.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// A comment kept with the event (internal)
    #[arg(short = 'm', long = "message", value_name = "COMMENT")]
    comment: Option<String>,
}

pub fn run(args: ReleaseArgs, desk: &Desk, format: Format) -> Result<()> {
    let comment = flag_comment("-m", args.comment.as_deref())?;
    updated::print(&verbs::release(desk, args.number, comment)?, format)
}

//! `postdesk ticket close`, `approve`, `reject` and `reopen`.

use anyhow::Result;
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::close;
use crate::desk::verbs::flag_comment;
use crate::desk::Desk;

/// Close a ticket and ask its requester to approve (its assignee, a manager of its
/// service, or an admin).
///
/// The ticket records `approval: pending` until `approve` or `reject`; with no answer
/// in `settings.approval_days` (default 7) it counts as approved. `status N closed`
/// and `take --close` close the same way.
#[derive(Debug, Args)]
pub struct CloseArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// A comment kept with the closing (internal)
    #[arg(short = 'm', long = "message", value_name = "COMMENT")]
    comment: Option<String>,
    /// Close even what a check refuses to close
    #[arg(long)]
    force: bool,
}

/// Record that the requester approved the closing (an agent or a manager of the
/// ticket's service, or an admin, on the requester's behalf).
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
}

/// Record that the requester rejected the closing: the ticket reopens (an agent or a
/// manager of the ticket's service, or an admin, on the requester's behalf).
#[derive(Debug, Args)]
pub struct RejectArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// Why the requester rejected it
    #[arg(short = 'm', long = "message", value_name = "WHY")]
    why: Option<String>,
}

/// Reopen a closed ticket (an agent or a manager of its service, or an admin, also on
/// the requester's behalf).
#[derive(Debug, Args)]
pub struct ReopenArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// Why, kept as a comment (internal)
    #[arg(short = 'm', long = "message", value_name = "WHY")]
    why: Option<String>,
}

pub fn run_close(args: CloseArgs, desk: &Desk, format: Format) -> Result<()> {
    let comment = flag_comment("-m", args.comment.as_deref())?;
    let done = close::close(desk, args.number, comment, args.force)?;
    updated::print(&done, format)
}

pub fn run_approve(args: ApproveArgs, desk: &Desk, format: Format) -> Result<()> {
    updated::print(&close::approve(desk, args.number)?, format)
}

pub fn run_reject(args: RejectArgs, desk: &Desk, format: Format) -> Result<()> {
    let why = flag_comment("-m", args.why.as_deref())?;
    updated::print(&close::reject(desk, args.number, why)?, format)
}

pub fn run_reopen(args: ReopenArgs, desk: &Desk, format: Format) -> Result<()> {
    let why = flag_comment("-m", args.why.as_deref())?;
    updated::print(&close::reopen(desk, args.number, why)?, format)
}

//! `postdesk ticket take N`.

use anyhow::Result;
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::verbs::{self, flag_comment, Take};
use crate::desk::Desk;

/// Become the assignee of a ticket (an agent or a manager of its service).
///
/// `--close` takes and closes it in one step; `--request-info` takes it and sets it
/// pending, recording the question for the requester (sent once mail out exists).
/// A ticket with open sub-tickets closes only with --force.
/// Prints what was recorded; `--format json` prints the ticket with those events.
#[derive(Debug, Args)]
pub struct TakeArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// A comment kept with the event (internal)
    #[arg(short = 'm', long = "message", value_name = "COMMENT")]
    comment: Option<String>,
    /// Take and close
    #[arg(long, conflicts_with = "request_info")]
    close: bool,
    /// Take, set pending, and record this question for the requester
    #[arg(long, value_name = "MESSAGE")]
    request_info: Option<String>,
    /// With --close: close even though sub-tickets are still open
    #[arg(long, requires = "close")]
    force: bool,
}

pub fn run(args: TakeArgs, desk: &Desk, format: Format) -> Result<()> {
    let take = Take {
        comment: flag_comment("-m", args.comment.as_deref())?,
        close: args.close,
        request_info: flag_comment("--request-info", args.request_info.as_deref())?,
        force: args.force,
    };
    updated::print(&verbs::take(desk, args.number, take)?, format)
}

//! `postdesk ticket follow N WHO` and `postdesk ticket unfollow N WHO`.

use anyhow::Result;
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::follow;
use crate::desk::verbs::flag_comment;
use crate::desk::Desk;

/// Make a user or an address follow a ticket (any user of the config).
///
/// WHO is a login of the config or one e-mail address. Already following: unchanged.
#[derive(Debug, Args)]
pub struct FollowArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// A login or an e-mail address
    #[arg(value_name = "ADDRESS|LOGIN")]
    who: String,
    /// A message kept with the event (internal)
    #[arg(short = 'm', long = "message", value_name = "MESSAGE")]
    message: Option<String>,
}

/// Stop a user or an address following a ticket (any user of the config).
#[derive(Debug, Args)]
pub struct UnfollowArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// A login or an e-mail address that follows it
    #[arg(value_name = "ADDRESS|LOGIN")]
    who: String,
}

pub fn run_follow(args: FollowArgs, desk: &Desk, format: Format) -> Result<()> {
    let message = flag_comment("-m", args.message.as_deref())?;
    updated::print(
        &follow::follow(desk, args.number, &args.who, message)?,
        format,
    )
}

pub fn run_unfollow(args: UnfollowArgs, desk: &Desk, format: Format) -> Result<()> {
    updated::print(&follow::unfollow(desk, args.number, &args.who)?, format)
}

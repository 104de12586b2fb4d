//! `postdesk ticket ...`

mod assign;
mod attachment;
mod close;
mod comment;
mod create;
mod edit;
mod fields;
mod follow;
mod link;
mod list;
mod release;
mod reply;
mod show;
mod status;
mod take;
mod time;
mod transfer;
mod updated;
pub mod view;

use anyhow::Result;
use clap::Subcommand;

use super::Global;
use crate::desk::Desk;

#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    Create(create::CreateArgs),
    List(list::ListArgs),
    Show(show::ShowArgs),
    Edit(edit::EditArgs),
    Attachment(attachment::AttachmentArgs),
    Take(take::TakeArgs),
    Assign(assign::AssignArgs),
    Release(release::ReleaseArgs),
    Status(status::StatusArgs),
    Comment(comment::CommentArgs),
    Reply(reply::ReplyArgs),
    Link(link::LinkArgs),
    Unlink(link::UnlinkArgs),
    Time(time::TimeArgs),
    Transfer(transfer::TransferArgs),
    Follow(follow::FollowArgs),
    Unfollow(follow::UnfollowArgs),
    Close(close::CloseArgs),
    Approve(close::ApproveArgs),
    Reject(close::RejectArgs),
    Reopen(close::ReopenArgs),
}

pub fn run(cmd: TicketCommand, global: &Global) -> Result<()> {
    let desk = global.desk()?;
    let result = dispatch(cmd, &desk, global);
    if global.dry_run && result.is_ok() {
        print_previews(&desk, global.format)?;
    }
    result
}

/// With `--dry-run`: each message the action would have queued, headers and body,
/// made safe for a terminal; then that nothing was written.
/// On stderr when stdout is JSON.
fn print_previews(desk: &Desk, format: crate::cli::Format) -> Result<()> {
    let previews = desk.previews.borrow();
    let mut text = String::new();
    for bytes in previews.iter() {
        let message = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
        text.push_str("--- mail that would be queued ---\n");
        text.push_str(&crate::cli::terminal::block(&message));
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    text.push_str(&format!(
        "--dry-run: nothing written; {} would be queued",
        crate::cli::plural::plural(previews.len(), "message", "messages")
    ));
    match format {
        crate::cli::Format::Json => {
            eprintln!("{text}");
            Ok(())
        }
        _ => crate::cli::output::line(text),
    }
}

fn dispatch(cmd: TicketCommand, desk: &Desk, global: &Global) -> Result<()> {
    match cmd {
        TicketCommand::Create(args) => create::run(args, desk, global.format),
        TicketCommand::List(args) => list::run(args, desk, global.format),
        TicketCommand::Show(args) => show::run(args, desk, global.format),
        TicketCommand::Edit(args) => edit::run(args, desk, global.format),
        TicketCommand::Attachment(args) => attachment::run(args, desk, global.format),
        TicketCommand::Take(args) => take::run(args, desk, global.format),
        TicketCommand::Assign(args) => assign::run(args, desk, global.format),
        TicketCommand::Release(args) => release::run(args, desk, global.format),
        TicketCommand::Status(args) => status::run(args, desk, global.format),
        TicketCommand::Comment(args) => comment::run(args, desk, global.format),
        TicketCommand::Reply(args) => reply::run(args, desk, global.format),
        TicketCommand::Link(args) => link::run(args, desk, global.format),
        TicketCommand::Unlink(args) => link::run_unlink(args, desk, global.format),
        TicketCommand::Time(args) => time::run(args, desk, global.format),
        TicketCommand::Transfer(args) => transfer::run(args, desk, global.format),
        TicketCommand::Follow(args) => follow::run_follow(args, desk, global.format),
        TicketCommand::Unfollow(args) => follow::run_unfollow(args, desk, global.format),
        TicketCommand::Close(args) => close::run_close(args, desk, global.format),
        TicketCommand::Approve(args) => close::run_approve(args, desk, global.format),
        TicketCommand::Reject(args) => close::run_reject(args, desk, global.format),
        TicketCommand::Reopen(args) => close::run_reopen(args, desk, global.format),
    }
}

/// Parses a ticket number written `42` or `#42`.
pub fn parse_number(text: &str) -> Result<u64, String> {
    text.trim_start_matches('#')
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{text}' is not a ticket number"))
}

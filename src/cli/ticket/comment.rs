//! `postdesk ticket comment N`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::verbs::{self, COMMENT_MAX};
use crate::desk::Desk;

/// Add an internal comment to a ticket: never sent to the requester.
///
/// The text comes from -m, from --file, or from standard input with `-`; at most
/// 4096 bytes. Any user of the config may comment.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("text").required(true))]
pub struct CommentArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// `-`: read the comment from standard input
    #[arg(value_name = "-", group = "text", value_parser = ["-"])]
    stdin: Option<String>,
    /// The comment
    #[arg(short = 'm', long = "message", value_name = "TEXT", group = "text")]
    message: Option<String>,
    /// Read the comment from this file
    #[arg(long, value_name = "FILE", group = "text")]
    file: Option<PathBuf>,
}

pub fn run(args: CommentArgs, desk: &Desk, format: Format) -> Result<()> {
    let text = match (args.message, args.file) {
        (Some(text), _) => text,
        (None, Some(path)) => {
            let name = path.display().to_string();
            read_bounded(std::fs::File::open(&path), &name, "comment", COMMENT_MAX)?
        }
        (None, None) => read_bounded(
            Ok(std::io::stdin()),
            "standard input",
            "comment",
            COMMENT_MAX,
        )?,
    };
    updated::print(&verbs::comment(desk, args.number, &text)?, format)
}

/// The text of `source`, reading no more than one byte past what a `what` (comment,
/// reply) may hold, `max` (the check of its size says how long it may be).
pub(super) fn read_bounded<R: Read>(
    source: std::io::Result<R>,
    name: &str,
    what: &str,
    max: usize,
) -> Result<String> {
    let mut bytes = Vec::new();
    source
        .and_then(|r| r.take(max as u64 + 1).read_to_end(&mut bytes))
        .with_context(|| format!("cannot read the {what} from {name}"))?;
    String::from_utf8(bytes).with_context(|| format!("the {what} in {name} is not UTF-8"))
}

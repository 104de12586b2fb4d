//! `postdesk ticket attachment N [ID] [-o FILE]`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::parse_number;
use crate::cli::output::{self, Format};
use crate::desk::tickets;
use crate::desk::Desk;

/// List a ticket's attachments, or extract one.
///
/// Without ID, lists the attachments of every message on the ticket, numbered.
/// With ID, writes that attachment to FILE (`-o`), or to stdout: exact to a pipe,
/// as text with control characters escaped to a terminal.
#[derive(Debug, Args)]
pub struct AttachmentArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// Attachment number, as listed
    id: Option<usize>,
    /// Write the attachment to this file instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: AttachmentArgs, desk: &Desk, format: Format) -> Result<()> {
    let Some(id) = args.id else {
        let all = tickets::attachments(desk, args.number)?;
        return match format {
            Format::Json => output::json(&all.iter().enumerate().map(|(n, a)| serde_json::json!({"id": n + 1, "name": a.name, "mime": a.mime, "size": a.size})).collect::<Vec<_>>()),
            _ => {
                let mut table = output::table(&["id", "name", "type", "size"]);
                for (n, a) in all.iter().enumerate() {
                    table.add_row([(n + 1).to_string(), a.name.clone(), a.mime.clone(), a.size.to_string()]);
                }
                output::print_table(&table)
            }
        };
    };
    let (attachment, bytes) = tickets::attachment(desk, args.number, id)?;
    match &args.output {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => output::bytes(&bytes)?,
    }
    if args.output.is_some() {
        output::note(format!("wrote {} ({} bytes)", attachment.name, bytes.len()));
    }
    Ok(())
}

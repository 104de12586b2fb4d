//! `postdesk ticket attachment N [ID] [-o FILE]`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::parse_number;
use crate::cli::output::{self, Format};
use crate::cli::plural::plural;
use crate::desk::tickets;
use crate::desk::Desk;

/// List a ticket's attachments, or extract one.
///
/// Without ID, lists the attachments of every message on the ticket, numbered.
/// With ID, writes that attachment to stdout (`-o -`, the default): exact to a
/// pipe, as text with control characters escaped to a terminal; or to a new FILE
/// (`-o FILE`), which must not exist yet unless `--force` is given.
#[derive(Debug, Args)]
pub struct AttachmentArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// Attachment number, as listed
    id: Option<usize>,
    /// Write the attachment to this new file (`-` for stdout)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// With -o FILE: replace FILE if it exists
    #[arg(long, requires = "output")]
    force: bool,
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
    match args.output.filter(|p| p.as_os_str() != "-") {
        None => output::bytes(&bytes),
        Some(path) => {
            write_new(&path, &bytes, args.force)?;
            output::done(
                format!(
                    "wrote {} ({}): attachment {id} of ticket #{}, {}",
                    path.display(),
                    plural(bytes.len() as u64, "byte", "bytes"),
                    args.number,
                    attachment.name
                ),
                format,
            )
        }
    }
}

/// Writes `bytes` to `path`, which must not exist unless `force`: an attachment
/// named like a file the user keeps must not silently replace it.
fn write_new(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = match options.open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "{} exists: pass --force to replace it, another -o FILE, or -o - for stdout",
            path.display()
        ),
        opened => opened.with_context(|| format!("cannot write {}", path.display()))?,
    };
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

//! `postdesk import FILE.csv|FILE.json`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::output::{self, Format};
use super::plural::plural;
use super::{exchange, import_csv};
use crate::desk::{export, Desk};

/// Import an export into an empty desk: all of it, or nothing.
///
/// FILE.json: the array `export --format json` writes, tickets with their events.
/// FILE.csv: a header row naming the columns (those of `export --format csv`), one
/// ticket a row, no events. Numbers are kept, so they must run 1, 2, 3, ... in
/// order; a desk with tickets is refused. Every ticket is checked against the
/// config as the shell would (service, category, assignee, custom fields). An
/// error names the line, the ticket and the field, and nothing is written.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import: .json or .csv
    file: PathBuf,
}

pub fn run(args: ImportArgs, desk: &Desk, format: Format) -> Result<()> {
    let path = args.file.display();
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {path}"))?;
    let extension = args.file.extension().and_then(|e| e.to_str());
    let count = match extension.map(str::to_ascii_lowercase).as_deref() {
        Some("json") => {
            let tickets = exchange::JsonTickets::new(&text).with_context(|| format!("{path}"))?;
            export::import(desk, || tickets.read())
        }
        Some("csv") => {
            let tickets = import_csv::parse_csv(&text).with_context(|| format!("{path}"))?;
            export::import(desk, || tickets.iter().cloned().map(Ok))
        }
        _ => bail!("{path}: import reads FILE.json or FILE.csv"),
    }
    .with_context(|| format!("{path}"))?;
    output::done(
        format!("imported {}", plural(count as u64, "ticket", "tickets")),
        format,
    )
}

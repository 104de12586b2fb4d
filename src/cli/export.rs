//! `postdesk export`: every ticket with its activity log, for `import`.

use std::cell::RefCell;

use anyhow::Result;
use clap::Args;

use super::exchange::{approval_asked, ExportTicket};
use super::output::{self, Format, JsonArray};
use super::ticket::view::{cell, ALL_COLUMNS};
use crate::desk::{export, Desk};

/// Write every ticket, in order of number, for `postdesk import` or a spreadsheet.
///
/// `--format json` (the default here) writes an array of tickets as `ticket show
/// --format json` prints them, one a line, each event with its stored `record`:
/// everything an import needs. `--format csv` writes one row per ticket with every
/// column of `ticket show`, `approval_asked` (when a pending approval was asked)
/// and a `field.NAME` column per custom field; events are
/// in JSON only. An export is of the database: raw mail and attachments stay in
/// the mail store.
#[derive(Debug, Args)]
pub struct ExportArgs {}

pub fn run(_args: ExportArgs, desk: &Desk, format: Format) -> Result<()> {
    match format {
        Format::Csv => csv(desk),
        Format::Json | Format::Table => json(desk),
    }
}

fn json(desk: &Desk) -> Result<()> {
    let mut array = JsonArray::begin()?;
    for item in export::tickets(desk) {
        let (ticket, events) = item?;
        array.item(&ExportTicket::new(&ticket, &events))?;
    }
    array.end()
}

fn csv(desk: &Desk) -> Result<()> {
    let mut columns: Vec<String> = ALL_COLUMNS.iter().map(|c| c.to_string()).collect();
    columns.push("approval_asked".to_string());
    columns.extend(
        desk.config
            .fields
            .iter()
            .map(|f| format!("field.{}", f.name)),
    );
    // Rows are streamed: the first error stops them and is returned after.
    let failed = RefCell::new(None);
    let rows = export::tickets(desk).map_while(|item| match item {
        Ok((ticket, _)) => Some(
            columns
                .iter()
                .map(|c| match c.as_str() {
                    "approval_asked" => approval_asked(&ticket).unwrap_or_default(),
                    c => cell(&ticket, c, None),
                })
                .collect(),
        ),
        Err(e) => {
            failed.replace(Some(e));
            None
        }
    });
    output::csv(&columns, rows)?;
    match failed.into_inner() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

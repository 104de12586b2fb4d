//! Rendering: table for people, JSON and CSV for scripts. Data goes to stdout only.

use std::io::{BufWriter, IsTerminal, Write};

use anyhow::Result;
use clap::ValueEnum;
use comfy_table::{presets, ContentArrangement, LineStyle, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, fitted to the terminal
    Table,
    /// JSON (stable field names, ISO 8601 UTC times)
    Json,
    /// CSV with a header row
    Csv,
}

/// Colour only on a terminal, and never when NO_COLOR is set.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A table with our look, wrapped to the terminal width when there is one.
pub fn table(header: &[&str]) -> Table {
    let mut table = plain_table();
    table.set_header(header.iter().map(|h| h.to_uppercase()));
    table
}

/// A table without a header: a line under the header only, no borders.
pub fn plain_table() -> Table {
    let mut table = Table::new();
    let style = presets::NOTHING.header_separator(LineStyle::new('─', '─', '─', '─'));
    table
        .load_style(style)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !colour() {
        table.force_no_tty();
    }
    table
}

/// Stdout behind a large buffer: the standard lock flushes at every newline, which
/// made a 10 MB JSON listing cost one system call per line.
fn buffered_stdout() -> BufWriter<std::io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// Prints a value as JSON and a newline: indented on a terminal, compact for pipes.
pub fn json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = buffered_stdout();
    if std::io::stdout().is_terminal() {
        serde_json::to_writer_pretty(&mut out, value)?;
    } else {
        serde_json::to_writer(&mut out, value)?;
    }
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints rows as CSV under a header.
pub fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<()> {
    let mut writer = ::csv::Writer::from_writer(buffered_stdout());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}

/// Prints a line of text on stdout.
pub fn line(text: impl std::fmt::Display) -> Result<()> {
    let mut out = buffered_stdout();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

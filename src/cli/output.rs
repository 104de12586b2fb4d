//! Rendering: table for people, JSON and CSV for scripts. Data goes to stdout only.
//!
//! Which stream a line goes to (issue 18), so that success never reads as an error:
//! - stdout: data, and a command's result (`created ticket #3`, `10 rules in 2 files:
//!   OK`, `dropped 1 quarantined message`): `line`, or `done` for a result line.
//! - stderr without a prefix (`aside`): a note beside data that stdout carries, such
//!   as a message written to stdout, or JSON/CSV output: `done` sends a result line
//!   there with `--format json|csv`, where stdout must hold that format only.
//! - stderr with `postdesk: ` (`diagnostic`): errors and warnings, nothing else.
//!
//! `ingest` on stdin from an MTA prints none of these on success: its silence is
//! decided where it prints (`cli::ingest`).
//!
//! Whatever is meant for a terminal (tables, lines, notes on stderr) goes through
//! `terminal`, here and nowhere else, so no command can forget it: a table's cells
//! as they are added, a line as it is printed.

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use clap::ValueEnum;
use comfy_table::{presets, Cell, Color, ContentArrangement, LineStyle, Table};
use serde_json::ser::{CompactFormatter, PrettyFormatter};

use super::json_text::TerminalSafe;
use super::{formula, terminal};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, fitted to the terminal
    Table,
    /// JSON (stable field names, ISO 8601 UTC times)
    Json,
    /// CSV with a header row
    Csv,
}

/// `--csv-raw`: set once by `cli::run` before anything is printed.
static CSV_RAW: AtomicBool = AtomicBool::new(false);

/// Write CSV cells exactly as stored, formula-like ones included.
pub fn set_csv_raw(raw: bool) {
    CSV_RAW.store(raw, Ordering::Relaxed);
}

/// Colour only on a terminal, and never when NO_COLOR is set.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A table for a terminal. Its cells can only be added through its own methods,
/// which escape them; print it with `print_table`.
pub struct TextTable(Table);

impl TextTable {
    /// A row of plain cells.
    pub fn add_row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.add_coloured_row(cells.into_iter().map(|c| (c, None)))
    }

    /// A row whose cells may have a colour, shown only when `colour()` allows.
    pub fn add_coloured_row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = (S, Option<Color>)>,
    ) -> &mut Self {
        let colour = colour();
        self.0.add_row(cells.into_iter().map(|(text, fg)| {
            let cell = Cell::new(terminal::inline(text.as_ref()));
            match fg {
                Some(fg) if colour => cell.fg(fg),
                _ => cell,
            }
        }));
        self
    }
}

/// A table with our look, wrapped to the terminal width when there is one.
pub fn table<S: AsRef<str>>(header: &[S]) -> TextTable {
    let mut table = plain_table();
    table.0.set_header(
        header
            .iter()
            .map(|h| terminal::inline(h.as_ref()).to_uppercase()),
    );
    table
}

/// A table without a header: a line under the header only, no borders.
pub fn plain_table() -> TextTable {
    let mut table = Table::new();
    let style = presets::NOTHING.header_separator(LineStyle::new('─', '─', '─', '─'));
    table
        .load_style(style)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !colour() {
        table.force_no_tty();
    }
    if let Some(width) = terminal::width() {
        table.set_width(u16::try_from(width).unwrap_or(u16::MAX));
    }
    TextTable(table)
}

/// Prints a table on stdout. Not through `line`: its cells are escaped already,
/// and the colours comfy-table adds are escape sequences meant to work.
pub fn print_table(table: &TextTable) -> Result<()> {
    let mut out = buffered_stdout();
    // comfy-table pads the last column to its width: no line ends in spaces.
    for line in table.0.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    out.flush()?;
    Ok(())
}

/// Stdout behind a large buffer: the standard lock flushes at every newline, which
/// made a 10 MB JSON listing cost one system call per line.
fn buffered_stdout() -> BufWriter<std::io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// Prints a value as JSON and a newline: indented on a terminal, compact for pipes.
/// Strings are escaped so that no character in them acts on a terminal.
pub fn json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = buffered_stdout();
    if std::io::stdout().is_terminal() {
        let formatter = TerminalSafe(PrettyFormatter::new());
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))?;
    } else {
        let formatter = TerminalSafe(CompactFormatter);
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))?;
    }
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints rows as CSV under a header. Cells a spreadsheet would run as formulas get
/// a leading `'` unless `--csv-raw`; on a terminal, control characters are escaped
/// (whoever reads CSV there is a person, and the bytes would reach the terminal).
pub fn csv<S: AsRef<str>>(header: &[S], rows: impl IntoIterator<Item = Vec<String>>) -> Result<()> {
    let raw = CSV_RAW.load(Ordering::Relaxed);
    let on_terminal = std::io::stdout().is_terminal();
    let cell = |text: &str| -> String {
        let text = if on_terminal {
            terminal::block(text)
        } else {
            text.into()
        };
        match raw {
            true => text.into_owned(),
            false => formula::neutralise(&text).into_owned(),
        }
    };
    let mut writer = ::csv::Writer::from_writer(buffered_stdout());
    writer.write_record(header.iter().map(|h| cell(h.as_ref())))?;
    for row in rows {
        writer.write_record(row.iter().map(|c| cell(c)))?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes bytes from mail (a message, an attachment) as they are to a pipe or file;
/// on a terminal as text, invalid UTF-8 as U+FFFD and control characters escaped.
pub fn bytes(raw: &[u8]) -> Result<()> {
    let mut out = buffered_stdout();
    if std::io::stdout().is_terminal() {
        out.write_all(terminal::block(&String::from_utf8_lossy(raw)).as_bytes())?;
    } else {
        out.write_all(raw)?;
    }
    out.flush()?;
    Ok(())
}

/// Prints text on stdout, escaped for a terminal (line breaks and tabs kept).
pub fn line(text: impl std::fmt::Display) -> Result<()> {
    let mut out = buffered_stdout();
    writeln!(out, "{}", terminal::block(&text.to_string()))?;
    out.flush()?;
    Ok(())
}

/// Prints a command's result line (`wrote ...`, `... OK`): on stdout, unless stdout
/// carries JSON or CSV (`format`), then on stderr beside it, without a prefix.
pub fn done(text: impl std::fmt::Display, format: Format) -> Result<()> {
    match format {
        Format::Table => line(text),
        Format::Json | Format::Csv => {
            aside(text);
            Ok(())
        }
    }
}

/// Prints a note beside the data on stdout (not an error) on stderr, escaped for a
/// terminal and without the `postdesk: ` of errors.
pub fn aside(text: impl std::fmt::Display) {
    eprintln!("{}", terminal::block(&text.to_string()));
}

/// Prints `postdesk: ` and an error or warning on stderr, escaped for a terminal.
/// Never a success: that is `done`, `line` or `aside`.
pub fn diagnostic(text: impl std::fmt::Display) {
    eprintln!("postdesk: {}", terminal::block(&text.to_string()));
}

/// A JSON array written an item at a time, one item a line, so a large export
/// never holds more than one item: `begin`, `item` for each, `end`.
pub struct JsonArray {
    out: BufWriter<std::io::StdoutLock<'static>>,
    first: bool,
}

impl JsonArray {
    pub fn begin() -> Result<JsonArray> {
        let mut out = buffered_stdout();
        write!(out, "[")?;
        Ok(JsonArray { out, first: true })
    }

    /// One item, compact, terminal-safe as `json` writes strings.
    pub fn item<T: serde::Serialize>(&mut self, value: &T) -> Result<()> {
        let separator = if self.first { "\n" } else { ",\n" };
        self.first = false;
        self.out.write_all(separator.as_bytes())?;
        let formatter = TerminalSafe(CompactFormatter);
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut self.out,
            formatter,
        ))?;
        Ok(())
    }

    pub fn end(mut self) -> Result<()> {
        let close = if self.first { "]\n" } else { "\n]\n" };
        self.out.write_all(close.as_bytes())?;
        self.out.flush()?;
        Ok(())
    }
}

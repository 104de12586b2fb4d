//! `postdesk ingest quarantine`: mail that could not be parsed.

use std::io::IsTerminal;

use anyhow::Result;
use clap::Subcommand;

use super::print_summary;
use crate::cli::output::{self, Format};
use crate::cli::plural::plural;
use crate::cli::Global;
use crate::desk::ingest::{Processed, Summary};
use crate::desk::Desk;
use crate::mail::quarantine::Entry;
use crate::model::when::{iso_utc, local_short};

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined messages with the reason
    List,
    /// Print a quarantined message's reason (stderr), then on a terminal its header
    /// block and the start of the rest, escaped; to a pipe or file, its bytes exactly
    Show {
        id: String,
        /// Write the whole message on a terminal too (escaped there)
        #[arg(long)]
        raw: bool,
    },
    /// Feed quarantined messages through ingest again (all when no ID is given); one
    /// that still cannot be used stays in the quarantine under its ID
    Retry { ids: Vec<String> },
    /// Delete quarantined messages for good
    Drop {
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

pub fn run(cmd: QuarantineCommand, global: &Global) -> Result<()> {
    let desk = global.desk()?;
    let q = desk.storage.quarantine();
    match cmd {
        QuarantineCommand::List => list(&q.list()?, &desk, global.format),
        QuarantineCommand::Show { id, raw: whole } => {
            let raw = q.get(&id)?;
            // Stdout carries the message: the reason goes beside it.
            output::aside(format!("quarantined because: {}", q.reason_of(&id)?));
            if whole || !std::io::stdout().is_terminal() {
                output::bytes(&raw)
            } else {
                output::line(glance(&id, &raw))
            }
        }
        QuarantineCommand::Retry { ids } => {
            let ids = if ids.is_empty() {
                q.list()?.into_iter().map(|e| e.id).collect()
            } else {
                ids
            };
            let results = crate::desk::intake::retry_quarantined(&desk, &ids)?;
            print_retried(&results, global.format)
        }
        QuarantineCommand::Drop { ids } => {
            // All or nothing: a mistyped ID must not leave the others half dropped.
            for id in &ids {
                q.existing(id)?;
            }
            for id in &ids {
                q.remove(id)?;
            }
            let count = ids.len() as u64;
            output::done(
                format!(
                    "dropped {}",
                    plural(count, "quarantined message", "quarantined messages")
                ),
                global.format,
            )
        }
    }
}

/// Lines of the rest shown after the header block on a terminal.
const GLANCE_LINES: usize = 15;
/// Header lines shown on a terminal: a hostile message may have thousands.
const GLANCE_HEADERS: usize = 40;

/// A quarantined message for a person: its header block and the first lines of
/// the rest, as text (`output::line` escapes them), and how to get the whole of it.
fn glance(id: &str, raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split_inclusive('\n');
    let mut out = String::new();
    let mut shown = 0;
    let mut in_headers = true;
    let (mut headers, mut body) = (0, 0);
    for line in lines.by_ref() {
        if in_headers && line.trim_end().is_empty() {
            in_headers = false;
        } else if in_headers {
            headers += 1;
            if headers > GLANCE_HEADERS {
                continue;
            }
        } else {
            body += 1;
            if body > GLANCE_LINES {
                break;
            }
        }
        out.push_str(line);
        shown += line.len();
    }
    if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    if headers > GLANCE_HEADERS {
        out.push_str(&format!(
            "[{} not shown]\n",
            plural(
                (headers - GLANCE_HEADERS) as u64,
                "more header line",
                "more header lines"
            )
        ));
    }
    let rest = text.len().saturating_sub(shown) as u64;
    if rest > 0 {
        out.push_str(&format!(
            "[... {}]\n",
            plural(rest, "more byte", "more bytes")
        ));
    }
    out.push_str(&format!(
        "[the message exactly: postdesk ingest quarantine show {id} > {id}.eml]"
    ));
    out
}

/// The quarantined messages: ID, when, sender and subject (as far as they can be
/// read), size and reason; times in ISO 8601 UTC in JSON and CSV.
fn list(entries: &[Entry], desk: &Desk, format: Format) -> Result<()> {
    const COLUMNS: [&str; 6] = ["id", "at", "from", "subject", "size", "reason"];
    let row = |e: &Entry, at: String| {
        vec![
            e.id.clone(),
            at,
            e.from.clone(),
            e.subject.clone(),
            e.size.to_string(),
            e.reason.clone(),
        ]
    };
    match format {
        Format::Json => output::json(
            &entries
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "id": e.id, "at": iso_utc(e.at), "from": e.from, "subject": e.subject,
                        "size": e.size, "reason": e.reason,
                    })
                })
                .collect::<Vec<_>>(),
        ),
        Format::Csv => output::csv(&COLUMNS, entries.iter().map(|e| row(e, iso_utc(e.at)))),
        Format::Table if entries.is_empty() => output::line("the quarantine is empty"),
        Format::Table => {
            let mut table = output::table(&COLUMNS);
            for e in entries {
                table.add_row(row(e, local_short(e.at, desk.tz())));
            }
            output::print_table(&table)
        }
    }
}

/// What a retry did with each ID: `{summary, messages: [{retried, outcome, ...}]}` in
/// JSON, a line per ID and the summary in a table.
pub(super) fn print_retried(results: &[(String, Processed)], format: Format) -> Result<()> {
    let mut summary = Summary::default();
    results.iter().for_each(|(_, p)| summary.add(&p.outcome));
    match format {
        Format::Table => {
            let mut text = String::new();
            for (id, p) in results {
                text.push_str(&format!("{id}: {}\n", super::done(p)));
            }
            text.push_str(&super::summary_line(&summary));
            output::line(text)
        }
        Format::Json => {
            #[derive(serde::Serialize)]
            struct Retried<'a> {
                retried: &'a str,
                #[serde(flatten)]
                processed: &'a Processed,
            }
            let messages: Vec<Retried> = results
                .iter()
                .map(|(retried, processed)| Retried { retried, processed })
                .collect();
            output::json(&serde_json::json!({"summary": summary, "messages": messages}))
        }
        Format::Csv => print_summary(&summary, &[], format),
    }
}

#[cfg(test)]
mod tests {
    use super::glance;

    #[test]
    fn a_glance_shows_the_headers_and_the_start_of_the_rest() {
        let body: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let raw = format!("From: ann@example.com\nSubject: hi\n\n{body}");
        let shown: String = (1..=15).map(|n| format!("line {n}\n")).collect();
        assert_eq!(
            glance("q1", raw.as_bytes()),
            format!(
                "From: ann@example.com\nSubject: hi\n\n{shown}[... 40 more bytes]\n\
                 [the message exactly: postdesk ingest quarantine show q1 > q1.eml]"
            )
        );
    }

    #[test]
    fn a_glance_at_a_message_without_headers_shows_its_start() {
        assert_eq!(
            glance("q2", b"\nno headers here\n"),
            "\nno headers here\n[the message exactly: postdesk ingest quarantine show q2 > q2.eml]"
        );
    }
}

//! `postdesk ingest quarantine`: mail that could not be parsed.

use anyhow::Result;
use clap::Subcommand;

use super::print_summary;
use crate::cli::output::{self, Format};
use crate::cli::plural::plural;
use crate::cli::Global;
use crate::desk::ingest::{Processed, Summary};

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined messages with the reason
    List,
    /// Print a quarantined message's reason (stderr) and raw bytes (stdout; escaped
    /// on a terminal)
    Show { id: String },
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
        QuarantineCommand::List => {
            let entries = q.list()?;
            match global.format {
                Format::Json => output::json(&entries),
                Format::Csv => output::csv(
                    &["id", "size", "reason"],
                    entries
                        .iter()
                        .map(|e| vec![e.id.clone(), e.size.to_string(), e.reason.clone()]),
                ),
                Format::Table if entries.is_empty() => {
                    output::note("the quarantine is empty");
                    Ok(())
                }
                Format::Table => {
                    let mut table = output::table(&["id", "size", "reason"]);
                    for e in &entries {
                        table.add_row([e.id.clone(), e.size.to_string(), e.reason.clone()]);
                    }
                    output::print_table(&table)
                }
            }
        }
        QuarantineCommand::Show { id } => {
            let raw = q.get(&id)?;
            output::note(format!("quarantined because: {}", q.reason_of(&id)?));
            output::bytes(&raw)
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
            output::note(format!(
                "dropped {}",
                plural(count, "quarantined message", "quarantined messages")
            ));
            Ok(())
        }
    }
}

/// What a retry did with each ID: `{summary, messages: [{retried, outcome, ...}]}` in
/// JSON, a line per ID and the summary in a table.
fn print_retried(results: &[(String, Processed)], format: Format) -> Result<()> {
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

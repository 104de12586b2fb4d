//! `postdesk ingest ignored`: the mail that made no ticket, and why.

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::cli::output::{self, Format};
use crate::cli::Global;
use crate::desk::Desk;
use crate::model::when::local_short;

#[derive(Debug, Args)]
pub struct IgnoredArgs {
    #[command(subcommand)]
    command: Option<IgnoredCommand>,
}

#[derive(Debug, Subcommand)]
enum IgnoredCommand {
    /// List the mail that made no ticket, with its ID and why (the default)
    List,
    /// Make a ticket of ignored mail, past the filter or rule that ignored it
    ///
    /// The stored message goes through ingest again, past the filter or rule that
    /// ignored it (a rule's `ignore` is passed over, and the rules after it are not
    /// run); it joins a ticket it names if its sender may, like any mail. The record
    /// leaves the list once the ticket is stored; a retry that fails changes nothing
    /// and keeps the ID. IDs are done in order, each stored on its own; a copy of mail
    /// already on a ticket is refused.
    Retry {
        /// IDs from `postdesk ingest ignored`
        #[arg(required = true, value_name = "ID")]
        ids: Vec<u64>,
    },
}

pub fn run(args: IgnoredArgs, global: &Global) -> Result<()> {
    let desk = global.desk()?;
    match args.command {
        None | Some(IgnoredCommand::List) => list(&desk, global.format),
        Some(IgnoredCommand::Retry { ids }) => retry(&desk, &ids, global.format),
    }
}

/// Each ID in turn; the outcomes of those done are printed before an error.
fn retry(desk: &Desk, ids: &[u64], format: Format) -> Result<()> {
    let mut results = Vec::new();
    let mut failure = None;
    for id in ids {
        match crate::desk::intake::retry_ignored(desk, *id) {
            Ok(processed) => results.push((id.to_string(), processed)),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if !results.is_empty() {
        super::quarantine::print_retried(&results, format)?;
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn list(desk: &Desk, format: Format) -> Result<()> {
    let list = desk.storage.read(|store| store.ignored())?;
    match format {
        Format::Json => {
            let rows: Vec<_> = list
                .iter()
                .map(|(id, m)| {
                    serde_json::json!({
                        "id": id,
                        "at": crate::model::when::iso_utc(m.at),
                        "reason": m.reason, "from": m.from, "subject": m.subject,
                        "message_id": m.message_id, "hash": m.hash,
                    })
                })
                .collect();
            output::json(&rows)
        }
        Format::Csv => output::csv(
            &["id", "at", "reason", "from", "subject", "message_id"],
            list.iter().map(|(id, m)| {
                vec![
                    id.to_string(),
                    crate::model::when::iso_utc(m.at),
                    m.reason.clone(),
                    m.from.clone(),
                    m.subject.clone(),
                    m.message_id.clone(),
                ]
            }),
        ),
        Format::Table => {
            let mut table = output::table(&["id", "at", "reason", "from", "subject"]);
            for (id, m) in &list {
                table.add_row([
                    id.to_string(),
                    local_short(m.at, desk.tz()),
                    m.reason.clone(),
                    m.from.clone(),
                    m.subject.clone(),
                ]);
            }
            output::print_table(&table)
        }
    }
}

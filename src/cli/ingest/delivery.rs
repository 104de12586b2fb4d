//! What `postdesk ingest` on stdin prints about its message, when asked: which
//! ticket it made or joined, or why it made none, or that it waits in the spool.

use anyhow::Result;
use serde::Serialize;

use super::{done, print_summary, summary_line};
use crate::cli::output::{self, Format};
use crate::desk::ingest::{Processed, Summary};
use crate::desk::intake::Delivered;

/// The message's fate: processed here, or waiting in the spool and why.
#[derive(Serialize)]
#[serde(untagged)]
enum Fate<'a> {
    Processed(&'a Processed),
    Spooled {
        outcome: &'static str,
        spooled: String,
        reason: String,
    },
}

/// Prints the outcome of a delivery: a line for a person, or `{summary, messages:
/// [one]}` in JSON (the summary counts everything this process drained).
pub fn print(delivered: &Delivered, format: Format) -> Result<()> {
    let (summary, fate) = fate(delivered);
    match format {
        Format::Json => output::json(&serde_json::json!({
            "summary": summary,
            "messages": [fate],
        })),
        Format::Csv => print_summary(&summary, &[], format),
        Format::Table => {
            let line = match &fate {
                Fate::Processed(p) => done(p),
                Fate::Spooled {
                    spooled, reason, ..
                } => format!("spooled as {spooled}: {reason}"),
            };
            output::line(format!("{line}\n{}", summary_line(&summary)))
        }
    }
}

fn fate(delivered: &Delivered) -> (Summary, Fate<'_>) {
    let spooled = |spooled: &std::path::Path, reason: String| Fate::Spooled {
        outcome: "spooled",
        spooled: spooled.display().to_string(),
        reason,
    };
    match delivered {
        Delivered::Processed { settled, spooled: path } => (
            settled.summary,
            match &settled.mine {
                Some(p) => Fate::Processed(p),
                None => spooled(
                    path,
                    "another postdesk process drains the spool and processes it".into(),
                ),
            },
        ),
        Delivered::SpooledConfigBroken { spooled: path, .. } => (
            Summary::default(),
            spooled(
                path,
                "the config does not load (stderr says why); `postdesk ingest spool` processes it once the config is fixed".into(),
            ),
        ),
        Delivered::SpooledSettleFailed {
            spooled: path,
            error,
        } => (
            Summary::default(),
            spooled(
                path,
                format!("{error:#}; `postdesk ingest spool` processes it"),
            ),
        ),
    }
}

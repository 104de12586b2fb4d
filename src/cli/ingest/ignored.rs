//! `postdesk ingest ignored`: the mail that made no ticket, and why.

use anyhow::Result;

use crate::cli::output::{self, Format};
use crate::cli::Global;
use crate::model::when::local_short;

pub fn run(global: &Global) -> Result<()> {
    let desk = global.desk()?;
    let list = desk.storage.read(|store| store.ignored())?;
    match global.format {
        Format::Json => {
            let rows: Vec<_> = list
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "at": crate::model::when::iso_utc(m.at),
                        "reason": m.reason, "from": m.from, "subject": m.subject,
                        "message_id": m.message_id, "hash": m.hash,
                    })
                })
                .collect();
            output::json(&rows)
        }
        Format::Csv => output::csv(
            &["at", "reason", "from", "subject", "message_id"],
            list.iter().map(|m| {
                vec![
                    crate::model::when::iso_utc(m.at),
                    m.reason.clone(),
                    m.from.clone(),
                    m.subject.clone(),
                    m.message_id.clone(),
                ]
            }),
        ),
        Format::Table => {
            let mut table = output::table(&["at", "reason", "from", "subject"]);
            for m in &list {
                table.add_row([
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

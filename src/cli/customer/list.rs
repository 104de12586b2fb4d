//! `postdesk customer list`.

use anyhow::Result;
use clap::Args;

use super::CustomerJson;
use crate::cli::output::{self, Format};
use crate::desk::{customers, Desk};
use crate::model::when::{iso_utc, local_short};

/// List everyone who wrote to the desk, by address, with their first and last mail.
///
/// Scripts: `--format json` prints an array of customers, `--format csv` a header
/// row (email, name, first_contact, last_contact) and one row per customer.
#[derive(Debug, Args)]
pub struct ListArgs {}

const COLUMNS: &[&str] = &["email", "name", "first_contact", "last_contact"];

pub fn run(_args: ListArgs, desk: &Desk, format: Format) -> Result<()> {
    let all = customers::list(desk)?;
    match format {
        Format::Json => {
            let list: Vec<_> = all.iter().map(CustomerJson::new).collect();
            output::json(&list)
        }
        Format::Csv => output::csv(
            COLUMNS,
            all.iter().map(|c| {
                vec![
                    c.email.clone(),
                    c.name.clone().unwrap_or_default(),
                    iso_utc(c.first_seen),
                    iso_utc(c.last_seen),
                ]
            }),
        ),
        Format::Table => {
            if all.is_empty() {
                return output::line("no customers yet");
            }
            let tz = desk.tz();
            let mut table = output::table(COLUMNS);
            for c in &all {
                table.add_row([
                    c.email.clone(),
                    c.name.clone().unwrap_or_default(),
                    local_short(c.first_seen, tz),
                    local_short(c.last_seen, tz),
                ]);
            }
            output::print_table(&table)
        }
    }
}

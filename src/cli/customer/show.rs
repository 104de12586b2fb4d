//! `postdesk customer show EMAIL`.

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::CustomerJson;
use crate::cli::output::{self, Format};
use crate::cli::ticket::view::{cell, TicketJson, DEFAULT_COLUMNS};
use crate::desk::{customers, Desk};
use crate::model::when::local_short;

/// Show a customer: first and last mail, how many tickets are not closed, and
/// their tickets.
///
/// `--format json` prints the customer with `open` and a `tickets` array (as
/// `ticket list` prints them); `--format csv` prints the tickets only, with the
/// columns of `ticket list`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The customer's e-mail address (any case)
    email: String,
}

#[derive(Serialize)]
struct CustomerShowJson<'a> {
    #[serde(flatten)]
    customer: CustomerJson<'a>,
    /// Tickets not closed.
    open: usize,
    tickets: Vec<TicketJson<'a>>,
}

pub fn run(args: ShowArgs, desk: &Desk, format: Format) -> Result<()> {
    let found = customers::show(desk, &args.email)?;
    let open = found.open_count();
    match format {
        Format::Json => output::json(&CustomerShowJson {
            customer: CustomerJson::new(&found.customer),
            open,
            tickets: found
                .tickets
                .iter()
                .map(|t| TicketJson::new(t, None))
                .collect(),
        }),
        Format::Csv => output::csv(
            DEFAULT_COLUMNS,
            found
                .tickets
                .iter()
                .map(|t| DEFAULT_COLUMNS.iter().map(|c| cell(t, c, None)).collect()),
        ),
        Format::Table => {
            let tz = desk.tz();
            let c = &found.customer;
            output::line(match &c.name {
                Some(name) => format!("{name} <{}>", c.email),
                None => c.email.clone(),
            })?;
            let mut fields = output::plain_table();
            fields.add_row(["first contact".to_string(), local_short(c.first_seen, tz)]);
            fields.add_row(["last contact".to_string(), local_short(c.last_seen, tz)]);
            fields.add_row(["tickets".to_string(), found.tickets.len().to_string()]);
            fields.add_row(["open".to_string(), open.to_string()]);
            output::print_table(&fields)?;
            if found.tickets.is_empty() {
                return Ok(());
            }
            let mut table = output::table(DEFAULT_COLUMNS);
            for t in &found.tickets {
                table.add_row(DEFAULT_COLUMNS.iter().map(|col| {
                    let text = cell(t, col, Some(tz));
                    match *col {
                        "number" => format!("#{text}"),
                        _ => text,
                    }
                }));
            }
            output::print_table(&table)
        }
    }
}

//! Tickets from CSV as `export --format csv` writes them: a header row naming the
//! columns, one ticket a row, no events.

use anyhow::{anyhow, bail, Context, Result};

use super::exchange::{instant, optional_instant};
use crate::desk::export::Imported;
use crate::model::{Assignee, Requester, Ticket};

/// The tickets of a CSV export, each with its line.
pub fn parse_csv(text: &str) -> Result<Vec<Imported>> {
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .context("line 1: no header row")?
        .iter()
        .map(unquote)
        .collect();
    if !header.iter().any(|h| h == "number") {
        bail!("line 1: the header row names no 'number' column");
    }
    let mut tickets = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| anyhow!("{e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let ticket = row(&header, &record).with_context(|| format!("line {line}"))?;
        tickets.push(Imported {
            ticket,
            events: Vec::new(),
            line,
        });
    }
    Ok(tickets)
}

fn row(header: &[String], record: &::csv::StringRecord) -> Result<Ticket> {
    let mut t = Ticket::new(0, "", 0);
    let mut requester = Requester::default();
    let mut approval = String::new();
    let mut asked = String::new();
    let mut updated = String::new();
    let some = |v: String| (!v.is_empty()).then_some(v);
    let set = |v: &str| -> std::collections::BTreeSet<String> {
        v.split_whitespace().map(str::to_string).collect()
    };
    for (name, raw) in header.iter().zip(record.iter()) {
        let value = unquote(raw);
        match name.as_str() {
            "number" => {
                t.number = value
                    .parse()
                    .map_err(|_| anyhow!("number: '{value}' is not a ticket number"))?
            }
            "subject" => t.subject = value,
            "description" => t.description = value,
            "status" => t.status = value.parse().map_err(|e: String| anyhow!(e))?,
            "priority" => t.priority = value.parse().map_err(|e: String| anyhow!(e))?,
            "assignee" => t.assignee = Assignee::parse(&value),
            "service" => t.service = some(value),
            "category" => t.category = some(value),
            "tags" => t.tags = set(&value),
            "followers" => t.followers = set(&value),
            "requester_name" => requester.name = some(value),
            "requester_email" => requester.email = some(value),
            "requester_phone" => requester.phone = some(value),
            "created" => t.created = instant(&value).context("created")?,
            "updated" => {
                t.updated = instant(&value).context("updated")?;
                updated = value
            }
            "approval" => approval = value,
            "approval_asked" => asked = value,
            "response_due" => {
                t.sla.response_due = optional_instant(&some(value)).context("response_due")?
            }
            "resolution_due" => {
                t.sla.resolution_due = optional_instant(&some(value)).context("resolution_due")?
            }
            "first_response" => {
                t.sla.first_response = optional_instant(&some(value)).context("first_response")?
            }
            // Shown only: made of the requester's name and address.
            "requester" => {}
            other => match other.strip_prefix("field.") {
                Some(field) if !value.is_empty() => {
                    t.fields.insert(field.to_string(), value);
                }
                Some(_) => {}
                None => bail!("unknown column '{other}'"),
            },
        }
    }
    t.requester = requester;
    if !approval.is_empty() {
        let asked = (!asked.is_empty()).then_some(asked.as_str());
        t.approval = Some(super::exchange::approval(&approval, asked, &updated)?);
    }
    Ok(t)
}

/// A cell as stored: export's `'` before a cell a spreadsheet would run is taken off.
fn unquote(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if super::formula::neutralise(rest).len() != rest.len() => rest.to_string(),
        _ => cell.to_string(),
    }
}

//! Export and import of the database's tickets with their activity logs.
//!
//! An export is of the database, not of the mail store: mail events keep their
//! excerpt and the hash of their raw message, so the raw mail and attachments come
//! back only if the mail store is copied beside the imported desk.

use anyhow::{bail, Context, Result};

use super::Desk;
use crate::config::Config;
use crate::model::{Event, EventKind, Ticket};
use crate::store::Indexing;

/// Every ticket with its log, in order of number, read one at a time (numbers are
/// dense from 1, so the first missing number ends the desk).
pub fn tickets(desk: &Desk) -> impl Iterator<Item = Result<(Ticket, Vec<Event>)>> + '_ {
    (1u64..).map_while(move |n| {
        desk.storage
            .read(|store| {
                let Some(ticket) = store.ticket(n)? else {
                    return Ok(None);
                };
                Ok(Some((ticket, store.events(n)?)))
            })
            .transpose()
    })
}

/// A ticket to import, and where it was read (for errors: `line 7`).
pub struct Imported {
    pub ticket: Ticket,
    pub events: Vec<Event>,
    pub line: u64,
}

/// Writes every ticket in one write, so an import lands whole or not at all.
/// Every ticket is first checked against the config as the shell would ([`check`]).
/// Refused on a desk that has tickets, and when the numbers are not the ones the
/// desk would give (1, 2, 3, ... in order): an import keeps numbers, since mail
/// and people refer to tickets by them. Returns how many were imported.
pub fn import(desk: &Desk, tickets: &[Imported]) -> Result<usize> {
    for item in tickets {
        check(&desk.config, &item.ticket)
            .with_context(|| format!("line {}: ticket #{}", item.line, item.ticket.number))?;
    }
    let count = desk.storage.write(|w| {
        if w.ticket(1)?.is_some() {
            bail!("the desk has tickets already: import only into an empty desk (a new --db)")
        }
        w.defer_words();
        for item in tickets {
            let number = w.next_number()?;
            if item.ticket.number != number {
                bail!(
                    "line {}: ticket #{} where #{number} comes next: numbers must run 1, 2, 3, ... in order, as export writes them",
                    item.line,
                    item.ticket.number
                )
            }
            w.save_ticket(&item.ticket)?;
            for event in &item.events {
                w.append_event(number, event)?;
                if let EventKind::Mail(m) = &event.kind {
                    w.queue_message_words(number, &format!("{}\n{}", m.subject, m.text))?;
                }
            }
        }
        Ok(tickets.len())
    })?;
    desk.storage.index_deferred_words(Indexing::All)?;
    Ok(count)
}

/// Whether `ticket` could stand in this desk as the shell makes tickets: its service
/// and category exist (the category in its service), its assignee is a login, a
/// `@group` or nobody, and each custom field is declared and holds a value of its
/// type. Status and priority are checked when read. The error names the field.
pub fn check(config: &Config, ticket: &Ticket) -> Result<()> {
    let service = match &ticket.service {
        Some(name) => Some(super::tickets::find_service_in(config, name).context("service")?),
        None => None,
    };
    if let Some(category) = &ticket.category {
        let Some(service) = service else {
            bail!("category: '{category}' without a service");
        };
        super::tickets::find_category(service, category).context("category")?;
    }
    if let Some(label) = ticket.assignee.label() {
        config
            .check_assignee(&label)
            .map_err(anyhow::Error::msg)
            .context("assignee")?;
    }
    for (name, value) in &ticket.fields {
        super::fields::normalise(config, name, value).with_context(|| format!("field.{name}"))?;
    }
    Ok(())
}

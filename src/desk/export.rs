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
#[derive(Clone)]
pub struct Imported {
    pub ticket: Ticket,
    pub events: Vec<Event>,
    pub line: u64,
}

/// Tickets an import writes in one write: a batch's writes are held in memory
/// until it commits.
const BATCH: usize = 500;

/// Imports the tickets `read` gives (called once a pass, each time reading them
/// afresh, so a large file is never held whole as tickets). Refused on a desk that
/// has tickets, and when the numbers are not the ones the desk would give (1, 2,
/// 3, ... in order): an import keeps numbers, since mail and people refer to
/// tickets by them. A first pass reads and checks every ticket against the config
/// as the shell would ([`check`]) and writes nothing, so an error in the file
/// leaves the desk unchanged; the second writes them in batches of [`BATCH`]. Only
/// a failure of the database itself (a full disk) or a ticket made by someone else
/// meanwhile can stop that pass part way, which the error says. Returns how many
/// were imported.
pub fn import<I>(desk: &Desk, read: impl Fn() -> I) -> Result<usize>
where
    I: Iterator<Item = Result<Imported>>,
{
    let has_tickets = desk.storage.read(|r| Ok(r.ticket(1)?.is_some()))?;
    if has_tickets {
        bail!("the desk has tickets already: import only into an empty desk (a new --db)")
    }
    let mut count = 0u64;
    for item in read() {
        let item = item?;
        count += 1;
        if item.ticket.number != count {
            bail!(
                "line {}: ticket #{} where #{count} comes next: numbers must run 1, 2, 3, ... in order, as export writes them",
                item.line,
                item.ticket.number
            )
        }
        check(&desk.config, &item.ticket)
            .with_context(|| format!("line {}: ticket #{}", item.line, item.ticket.number))?;
    }
    let mut written = 0usize;
    let mut tickets = read();
    loop {
        let batch: Vec<Imported> = tickets.by_ref().take(BATCH).collect::<Result<_>>()?;
        if batch.is_empty() {
            break;
        }
        write_batch(desk, &batch).with_context(|| match written {
            0 => "nothing was imported".to_string(),
            n => format!("the import stopped after ticket #{n}: remove this desk (it was empty) and import again"),
        })?;
        written += batch.len();
        desk.storage.index_deferred_words(Indexing::WhenDue)?;
    }
    desk.storage.index_deferred_words(Indexing::All)?;
    Ok(written)
}

/// One batch of checked tickets, in one write.
fn write_batch(desk: &Desk, batch: &[Imported]) -> Result<()> {
    desk.storage.write(|w| {
        w.defer_words();
        for item in batch {
            let number = w.next_number()?;
            if item.ticket.number != number {
                bail!(
                    "line {}: ticket #{} where #{number} comes next: was a ticket made meanwhile?",
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
        Ok(())
    })
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

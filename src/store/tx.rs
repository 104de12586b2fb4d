//! One atomic write over all trees.

use anyhow::{Context, Result};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use super::{decode, keys, Store};
use crate::model::{Event, Ticket};

const NEXT_TICKET_KEY: &[u8] = b"next_ticket";

/// The write side of a transaction; see [`Store::transact`].
pub struct Tx<'a> {
    meta: &'a TransactionalTree,
    tickets: &'a TransactionalTree,
    events: &'a TransactionalTree,
    index: &'a TransactionalTree,
}

pub fn run<R>(store: &Store, f: impl Fn(&Tx) -> Result<R>) -> Result<R> {
    let trees = (&store.meta, &store.tickets, &store.events, &store.index);
    let result = trees.transaction(|(meta, tickets, events, index)| {
        let tx = Tx {
            meta,
            tickets,
            events,
            index,
        };
        f(&tx).map_err(ConflictableTransactionError::Abort)
    });
    match result {
        Ok(r) => Ok(r),
        Err(TransactionError::Abort(e)) => Err(e),
        Err(TransactionError::Storage(e)) => Err(e).with_context(|| {
            format!(
                "database {}: write failed, nothing was changed",
                store.path.display()
            )
        }),
    }
}

impl Tx<'_> {
    /// Takes the next ticket number. Numbers are dense and never reused: the counter
    /// only moves forward, inside the same transaction that stores the ticket.
    pub fn next_number(&self) -> Result<u64> {
        let next = match self.meta.get(NEXT_TICKET_KEY)? {
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().context("corrupt ticket counter")?),
            None => 1,
        };
        self.meta
            .insert(NEXT_TICKET_KEY, &(next + 1).to_be_bytes())?;
        Ok(next)
    }

    pub fn ticket(&self, number: u64) -> Result<Option<Ticket>> {
        match self.tickets.get(number.to_be_bytes())? {
            Some(bytes) => Ok(Some(decode(&bytes, number)?)),
            None => Ok(None),
        }
    }

    /// Stores a ticket and brings its index up to date; `old` is what was stored before.
    pub fn put_ticket(&self, ticket: &Ticket, old: Option<&Ticket>) -> Result<()> {
        let bytes = postcard::to_allocvec(ticket).context("cannot encode ticket")?;
        self.tickets.insert(&ticket.number.to_be_bytes(), bytes)?;
        let new_terms = keys::ticket_terms(ticket);
        let old_terms = old.map(keys::ticket_terms).unwrap_or_default();
        for term in old_terms.difference(&new_terms) {
            self.set_posting(term, ticket.number, false)?;
        }
        for term in new_terms.difference(&old_terms) {
            self.set_posting(term, ticket.number, true)?;
        }
        let new_times = keys::ticket_time_keys(ticket);
        if let Some(old) = old {
            for stale in keys::ticket_time_keys(old) {
                if !new_times.contains(&stale) {
                    self.index.remove(stale)?;
                }
            }
        }
        for key in new_times {
            self.index.insert(key, &[])?;
        }
        Ok(())
    }

    fn set_posting(&self, term: &[u8], number: u64, on: bool) -> Result<()> {
        let (key, bit) = keys::posting(term, number);
        let mut value = self
            .index
            .get(&key)?
            .map(|v| v.to_vec())
            .unwrap_or_default();
        keys::set_bit(&mut value, bit, on);
        if value.is_empty() {
            self.index.remove(key)?;
        } else {
            self.index.insert(key, value)?;
        }
        Ok(())
    }

    /// Appends to a ticket's activity log.
    pub fn append_event(&self, number: u64, event: &Event) -> Result<()> {
        // Ids from sled's monotonic generator keep the log in order of writing.
        let id = self.events.generate_id()?;
        let mut key = number.to_be_bytes().to_vec();
        key.extend(id.to_be_bytes());
        let bytes = postcard::to_allocvec(event).context("cannot encode event")?;
        self.events.insert(key, bytes)?;
        Ok(())
    }
}

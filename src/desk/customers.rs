//! Customer use cases: the people who wrote to us, from the records ingest keeps.

use anyhow::{bail, Result};

use super::Desk;
use crate::model::{Customer, Status, Ticket, TicketFilter};

/// A customer and the tickets they asked, oldest first.
pub struct CustomerTickets {
    pub customer: Customer,
    pub tickets: Vec<Ticket>,
}

impl CustomerTickets {
    /// Tickets not closed yet (open, in progress or pending).
    pub fn open_count(&self) -> usize {
        self.tickets
            .iter()
            .filter(|t| t.status != Status::Closed)
            .count()
    }
}

/// Every customer, by address.
pub fn list(desk: &Desk) -> Result<Vec<Customer>> {
    desk.storage.read(|store| store.customers())
}

/// One customer (any case of the address) and the tickets they are the requester of.
pub fn show(desk: &Desk, email: &str) -> Result<CustomerTickets> {
    desk.storage.read(|store| {
        let Some(customer) = store.customer(email)? else {
            bail!("no customer {email}: no mail from this address was ever received")
        };
        let filter = TicketFilter {
            customer: Some(customer.email.clone()),
            ..TicketFilter::default()
        };
        let tickets = store.query(&filter, false, None)?;
        Ok(CustomerTickets { customer, tickets })
    })
}

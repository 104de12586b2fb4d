//! The template context of a ticket as stored: what `template render` shows, and
//! what mail-out builds inside its write with [`crate::templates::build_context`].

use anyhow::{Context as _, Result};

use super::Desk;
use crate::model::{Event, Ticket};
use crate::store::Reader;
use crate::templates::{build_context, context, Context, Parts};

/// The context of a mail about ticket `number`, read from `store`: to `to` (else
/// the requester), caused by `actor`, with `message` (may be empty).
pub fn read(
    desk: &Desk,
    store: &dyn Reader,
    number: u64,
    to: Option<&str>,
    actor: &str,
    message: &str,
) -> Result<Context> {
    let ticket = store
        .ticket(number)?
        .with_context(|| format!("ticket #{number} not found"))?;
    let events = store.events(number)?;
    let linked = linked(store, &ticket)?;
    Ok(of(desk, &ticket, &events, &linked, to, actor, message))
}

/// The linked tickets of `ticket` a context shows (the first [`context::LINKS`]
/// that can be read).
pub fn linked(store: &dyn Reader, ticket: &Ticket) -> Result<Vec<Ticket>> {
    let mut linked = Vec::new();
    for other in ticket.links.keys().take(context::LINKS) {
        if let Some(t) = store.ticket(*other)? {
            linked.push(t);
        }
    }
    Ok(linked)
}

/// The context of a mail about `ticket` as read already (see [`read`]).
pub fn of(
    desk: &Desk,
    ticket: &Ticket,
    events: &[Event],
    linked: &[Ticket],
    to: Option<&str>,
    actor: &str,
    message: &str,
) -> Context {
    let to = to
        .map(str::to_string)
        .or_else(|| ticket.requester.email.clone())
        .unwrap_or_default();
    let recipient = context::recipient(&desk.config, ticket, &to);
    build_context(
        &desk.config,
        desk.tz(),
        Parts {
            ticket,
            events,
            linked,
            actor,
            recipient,
            message,
        },
    )
}

/// [`read`] in a read of its own.
pub fn load(
    desk: &Desk,
    number: u64,
    to: Option<&str>,
    actor: &str,
    message: &str,
) -> Result<Context> {
    desk.storage
        .read(|store| read(desk, store, number, to, actor, message))
}

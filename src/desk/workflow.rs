//! The one path by which the shell changes a ticket: inside one write, read it for
//! update, check the actor's role, apply the change, append one event per action
//! (actor, time), run the rules for the ticket event, and return what happened.
//! Anything outside the database (mail) happens only after the write commits.

use anyhow::{Context, Result};

use super::roles::{self, Action};
use super::{now, Desk};
use crate::model::{Event, EventKind, Status, Ticket};
use crate::rules::RuleEvent;
use crate::store::Writer;

/// A change to one ticket, as a verb asks for it.
pub trait Change {
    /// The role the change needs, judged on the ticket as it stands.
    fn action(&self, ticket: &Ticket) -> Action;

    /// The ticket events the rules see, in order, given the ticket `before` and
    /// `after` the actor's change (before the rules). By default the status move's
    /// event (see [`status_event`]), else `updated`.
    fn rule_events(&self, before: &Ticket, after: &Ticket) -> Vec<RuleEvent> {
        vec![status_event(before, after).unwrap_or(RuleEvent::Updated)]
    }

    /// Makes the change to `ticket` and returns the actor's events, none when it
    /// changes nothing. May run more than once (a write can be retried), each time on
    /// a fresh copy: it must not act outside `tx`.
    fn apply(&self, tx: &dyn Writer, actor: &str, ticket: &mut Ticket) -> Result<Vec<EventKind>>;
}

/// `closed` when a change closed the ticket, `reopened` when it took a closed
/// ticket out of closed, whatever verb did it (`close`, `status`, `edit --status`,
/// `take --close`, `reopen`, `reject`).
pub fn status_event(before: &Ticket, after: &Ticket) -> Option<RuleEvent> {
    match (before.status, after.status) {
        (Status::Closed, Status::Closed) => None,
        (_, Status::Closed) => Some(RuleEvent::Closed),
        (Status::Closed, _) => Some(RuleEvent::Reopened),
        _ => None,
    }
}

/// Whether `ticket` may close. Every closing asks this (`close`, `status N closed`,
/// `take --close`, `edit --status closed`), inside the write, before it moves: open
/// sub-tickets need `force`.
pub fn check_close(tx: &dyn Writer, ticket: &Ticket, force: bool) -> Result<()> {
    super::links::check_closing(tx, ticket, force)
}

/// What [`update_ticket`] did.
#[derive(Debug)]
pub struct Updated {
    /// The ticket as it was committed (or as it stands, when nothing changed).
    pub ticket: Ticket,
    /// Every event appended: the actor's, then the rules'. Empty: nothing was written.
    pub events: Vec<Event>,
    /// The automatic mail (notifications, rules' mail) queued with the change.
    pub mail: Vec<u64>,
    /// Why that mail was not sent right away, when it was not and should have been.
    pub mail_note: Option<String>,
}

/// Applies `change` to ticket `number` as the acting user, in one write.
pub fn update_ticket(desk: &Desk, number: u64, change: &dyn Change) -> Result<Updated> {
    let actor = desk.actor()?.to_string();
    let at = now();
    desk.write(|tx| {
        let old = tx
            .ticket_for_update(number)?
            .with_context(|| format!("ticket #{number} not found"))?;
        roles::check(&desk.config, &actor, change.action(&old), &old)?;
        let mut ticket = old.clone();
        let mine = change
            .apply(tx, &actor, &mut ticket)
            .with_context(|| format!("ticket #{number}"))?;
        if mine.is_empty() {
            return Ok(Updated {
                ticket: old,
                events: Vec::new(),
                mail: Vec::new(),
                mail_note: None,
            });
        }
        let fired = change.rule_events(&old, &ticket);
        let (by_rules, _) = desk.apply_rules(&fired, None, false, &mut ticket)?;
        let (by_rules, mut mail) =
            super::notify::rule_mail(desk, tx, &ticket, &actor, by_rules, None)?;
        ticket.updated = at;
        desk.follow_sla(Some(&old), &mut ticket, at);
        tx.save_ticket(&ticket)?;
        let events: Vec<Event> = mine
            .into_iter()
            .map(|kind| (actor.clone(), kind))
            .chain(by_rules)
            .map(|(actor, kind)| Event { at, actor, kind })
            .collect();
        for event in &events {
            tx.append_event(number, event)?;
        }
        mail.extend(super::notify::on_change(
            desk,
            tx,
            Some(&old),
            &ticket,
            &events,
            &actor,
        )?);
        Ok(Updated {
            ticket,
            events,
            mail,
            mail_note: None,
        })
    })
    .map(|mut updated| {
        updated.mail_note = super::notify::send_after(desk, &updated.mail);
        updated
    })
}

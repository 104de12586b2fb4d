//! Links between tickets (`ticket link`, `unlink`, `create --parent`), made on both
//! tickets in one write with an event on each, and the check every way of closing a
//! ticket makes: not while it has open sub-tickets, unless forced.

use anyhow::{bail, Context, Result};

use super::roles::{self, Action};
use super::workflow::{update_ticket, Change, Updated};
use super::{now, Desk};
use crate::model::{Event, EventKind, LinkKind, Status, Ticket};
use crate::rules::RuleEvent;
use crate::store::Writer;

/// `ticket link N M --kind K`: M is K to N (`parent`: N is a sub-ticket of M).
pub fn link(desk: &Desk, number: u64, other: u64, kind: LinkKind) -> Result<Updated> {
    let change = Link {
        desk,
        other,
        kind: Some(kind),
        at: now(),
    };
    update_ticket(desk, number, &change)
}

/// `ticket unlink N M`.
pub fn unlink(desk: &Desk, number: u64, other: u64) -> Result<Updated> {
    let change = Link {
        desk,
        other,
        kind: None,
        at: now(),
    };
    update_ticket(desk, number, &change)
}

/// The sub-tickets of `ticket` that are not closed, by number.
pub fn open_children(tx: &dyn Writer, ticket: &Ticket) -> Result<Vec<u64>> {
    let mut open = Vec::new();
    for (&number, _) in ticket.links.iter().filter(|(_, k)| **k == LinkKind::Child) {
        let child = tx
            .ticket(number)?
            .with_context(|| format!("sub-ticket #{number} of #{} not found", ticket.number))?;
        if child.status != Status::Closed {
            open.push(number);
        }
    }
    Ok(open)
}

/// Refuses to close `ticket` while it has open sub-tickets, unless `force`: every
/// way of closing a ticket calls this, with the ticket as it stands before closing.
pub fn check_closing(tx: &dyn Writer, ticket: &Ticket, force: bool) -> Result<()> {
    if force || ticket.status == Status::Closed {
        return Ok(());
    }
    let open = open_children(tx, ticket)?;
    if open.is_empty() {
        return Ok(());
    }
    bail!("{}", open_children_refusal(ticket.number, &open))
}

/// "#1 has open sub-tickets #2, #3: close them first, or give --force to close it anyway".
pub fn open_children_refusal(number: u64, open: &[u64]) -> String {
    let list: Vec<String> = open.iter().map(|n| format!("#{n}")).collect();
    let what = match open.len() {
        1 => "an open sub-ticket",
        _ => "open sub-tickets",
    };
    format!(
        "#{number} has {what} {}: close {} first, or give --force to close it anyway",
        list.join(", "),
        if open.len() == 1 { "it" } else { "them" }
    )
}

/// Links `other` to `ticket` from the other side: `other` keeps `kind` for `ticket`
/// (already read for update, roles checked), logs it, runs its `updated` rules, and
/// is saved.
pub fn link_other_side(
    tx: &dyn Writer,
    desk: &Desk,
    other: &mut Ticket,
    ticket: u64,
    kind: LinkKind,
    actor: &str,
    at: i64,
) -> Result<()> {
    other.links.insert(ticket, kind);
    save_with_event(
        tx,
        desk,
        other,
        EventKind::LinkAdded {
            number: ticket,
            kind,
        },
        actor,
        at,
    )
}

/// The other side of a link change, as [`update_ticket`] does for the ticket itself:
/// the actor's event, then what the `updated` rules did to it.
fn save_with_event(
    tx: &dyn Writer,
    desk: &Desk,
    ticket: &mut Ticket,
    kind: EventKind,
    actor: &str,
    at: i64,
) -> Result<()> {
    let (by_rules, _) = desk.apply_rules(&[RuleEvent::Updated], None, false, ticket)?;
    // The other side's rule mail waits in the outbox for `outbox send`.
    let (by_rules, _) = super::notify::rule_mail(desk, tx, ticket, actor, by_rules, None)?;
    ticket.updated = ticket.updated.max(at);
    tx.save_ticket(ticket)?;
    let mine = (actor.to_string(), kind);
    for (actor, kind) in std::iter::once(mine).chain(by_rules) {
        tx.append_event(ticket.number, &Event { at, actor, kind })?;
    }
    Ok(())
}

/// Adds (`kind` Some) or removes (None) the link between the ticket being updated
/// and `other`, on both; the role is checked on both tickets, and both run their
/// `updated` rules.
struct Link<'a> {
    desk: &'a Desk,
    other: u64,
    kind: Option<LinkKind>,
    at: i64,
}

impl Change for Link<'_> {
    fn action(&self, _: &Ticket) -> Action {
        Action::Link
    }

    fn apply(&self, tx: &dyn Writer, actor: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        let number = t.number;
        let other = self.other;
        if other == number {
            bail!("a ticket cannot be linked to itself");
        }
        let was = t.links.get(&other).copied();
        if self.kind.is_some() && was == self.kind {
            return Ok(Vec::new());
        }
        let Some(was) = was.or(self.kind.map(|_| LinkKind::Relates)) else {
            bail!("#{number} is not linked to #{other}: nothing to unlink");
        };
        let mut o = tx
            .ticket_for_update(other)?
            .with_context(|| format!("ticket #{other} not found"))?;
        roles::check(&self.desk.config, actor, Action::Link, &o)?;
        match self.kind {
            Some(kind) => {
                if kind == LinkKind::Parent && o.links.get(&number) == Some(&LinkKind::Parent) {
                    bail!("#{other} is a sub-ticket of #{number}: it cannot be its parent too");
                }
                link_other_side(
                    tx,
                    self.desk,
                    &mut o,
                    number,
                    kind.other_side(),
                    actor,
                    self.at,
                )?;
                t.links.insert(other, kind);
                Ok(vec![EventKind::LinkAdded {
                    number: other,
                    kind,
                }])
            }
            None => {
                if let Some(theirs) = o.links.remove(&number) {
                    let event = EventKind::LinkRemoved {
                        number,
                        kind: theirs,
                    };
                    save_with_event(tx, self.desk, &mut o, event, actor, self.at)?;
                }
                t.links.remove(&other);
                Ok(vec![EventKind::LinkRemoved {
                    number: other,
                    kind: was,
                }])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_open_sub_tickets_and_force() {
        assert_eq!(
            open_children_refusal(1, &[2]),
            "#1 has an open sub-ticket #2: close it first, or give --force to close it anyway"
        );
        assert_eq!(
            open_children_refusal(4, &[5, 7]),
            "#4 has open sub-tickets #5, #7: close them first, or give --force to close it anyway"
        );
    }
}

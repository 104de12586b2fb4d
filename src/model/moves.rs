//! Which status moves a ticket may make, and why the others are refused.
//!
//! open, in-progress and pending move freely among themselves and to closed, with
//! one condition: in-progress means someone is working on it, so the ticket must be
//! held by a user (not a group, not nobody). A closed ticket only reopens (to open).

use super::{Assignee, Status, Ticket};

/// Why `ticket` may not move to `to`, or None when it may. Staying put is no move.
pub fn refusal(ticket: &Ticket, to: Status) -> Option<String> {
    let number = ticket.number;
    match (ticket.status, to) {
        (from, to) if from == to => None,
        (Status::Closed, Status::Open) => None,
        (Status::Closed, to) => Some(format!(
            "#{number} is closed: reopen it first (status {number} open), then set it {to}"
        )),
        (_, Status::InProgress) if !matches!(ticket.assignee, Assignee::User(_)) => {
            let holder = ticket.assignee.label().unwrap_or_else(|| "nobody".into());
            Some(format!(
                "#{number} cannot be in-progress while no one person holds it (assignee: {holder}): take it or assign it to a user first"
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(status: Status, assignee: &str) -> Ticket {
        let mut t = Ticket::new(7, "printer", 0);
        t.status = status;
        t.assignee = Assignee::parse(assignee);
        t
    }

    #[test]
    fn a_closed_ticket_only_reopens() {
        assert_eq!(refusal(&ticket(Status::Closed, "bob"), Status::Open), None);
        let why = refusal(&ticket(Status::Closed, "bob"), Status::Pending).unwrap();
        assert_eq!(
            why,
            "#7 is closed: reopen it first (status 7 open), then set it pending"
        );
    }

    #[test]
    fn in_progress_needs_a_person_holding_it() {
        assert!(refusal(&ticket(Status::Open, "@desk"), Status::InProgress).is_some());
        assert!(refusal(&ticket(Status::Open, "none"), Status::InProgress).is_some());
        assert_eq!(
            refusal(&ticket(Status::Open, "bob"), Status::InProgress),
            None
        );
    }

    #[test]
    fn the_open_states_move_freely_and_close() {
        for from in [Status::Open, Status::InProgress, Status::Pending] {
            for to in [Status::Open, Status::Pending, Status::Closed] {
                assert_eq!(refusal(&ticket(from, "bob"), to), None, "{from} -> {to}");
            }
        }
    }
}

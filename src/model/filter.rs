//! Which tickets a listing wants, and in what order.

use std::cmp::Ordering;
use std::str::FromStr;

use super::choices::or_list;
use super::ticket::{Assignee, Priority, Status, Ticket};

/// A resolved ticket query: every field narrows the result; empty means "any".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketFilter {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub assignee: Option<Assignee>,
    pub service: Option<String>,
    pub category: Option<String>,
    /// Every tag must be present.
    pub tags: Vec<String>,
    /// A lowercase e-mail address, or a domain (no `@`).
    pub customer: Option<String>,
    /// Lowercase words; each must start a word of the ticket's text or messages.
    pub search: Vec<String>,
    pub created_since: Option<i64>,
    pub created_until: Option<i64>,
    pub updated_since: Option<i64>,
    /// Tickets whose next due time (`Ticket::next_due`) is at or before this:
    /// `--overdue` (now) and `--due-within` (now plus the duration).
    pub due_by: Option<i64>,
}

impl TicketFilter {
    /// Checks every condition but `search`, which only the word index can answer
    /// (it also covers messages, which a ticket alone does not carry).
    pub fn matches(&self, t: &Ticket) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&t.status))
            && (self.priorities.is_empty() || self.priorities.contains(&t.priority))
            && self.assignee.as_ref().is_none_or(|a| *a == t.assignee)
            && self
                .service
                .as_ref()
                .is_none_or(|s| t.service.as_ref() == Some(s))
            && self
                .category
                .as_ref()
                .is_none_or(|c| t.category.as_ref() == Some(c))
            && self.tags.iter().all(|tag| t.tags.contains(tag))
            && self
                .customer
                .as_ref()
                .is_none_or(|c| customer_matches(c, t))
            && self.created_since.is_none_or(|s| t.created >= s)
            && self.created_until.is_none_or(|u| t.created < u)
            && self.updated_since.is_none_or(|s| t.updated >= s)
            && self
                .due_by
                .is_none_or(|by| t.next_due().is_some_and(|due| due <= by))
    }
}

fn customer_matches(customer: &str, t: &Ticket) -> bool {
    if customer.contains('@') {
        t.requester
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(customer))
    } else {
        t.requester.domain().as_deref() == Some(customer)
    }
}

/// The fields a listing can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortField {
    Number,
    Created,
    Updated,
    /// The next due time (`Ticket::next_due`); none sorts last.
    Due,
    Priority,
    Status,
    Subject,
    Assignee,
    Service,
    Category,
}

/// Every name `--sort` takes (`id` is `number`), in the order errors list them.
const SORT_NAMES: &[&str] = &[
    "number", "id", "created", "updated", "due", "priority", "status", "subject", "assignee",
    "service", "category",
];

/// One key of `--sort`, such as `-priority`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

impl FromStr for SortKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let field = match name {
            "number" | "id" => SortField::Number,
            "created" => SortField::Created,
            "updated" => SortField::Updated,
            "due" => SortField::Due,
            "priority" => SortField::Priority,
            "status" => SortField::Status,
            "subject" => SortField::Subject,
            "assignee" => SortField::Assignee,
            "service" => SortField::Service,
            "category" => SortField::Category,
            _ => {
                return Err(format!(
                    "cannot sort by '{name}' (expected {})",
                    or_list(SORT_NAMES)
                ))
            }
        };
        Ok(SortKey { field, descending })
    }
}

/// The statuses a listing's `--status` value names: one status, or `unresolved`
/// (every status but closed).
pub fn statuses_named(name: &str) -> Result<Vec<Status>, String> {
    if name.eq_ignore_ascii_case(UNRESOLVED) {
        return Ok(Status::ALL
            .into_iter()
            .filter(|s| *s != Status::Closed)
            .collect());
    }
    name.parse::<Status>().map(|s| vec![s]).map_err(|_| {
        let mut names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        names.push(UNRESOLVED);
        format!("unknown status '{name}' (expected {})", or_list(&names))
    })
}

/// The `--status` of a listing that means every status but closed.
const UNRESOLVED: &str = "unresolved";

/// Orders two tickets by the keys in turn, then by number so the order is total.
pub fn compare(keys: &[SortKey], a: &Ticket, b: &Ticket) -> Ordering {
    for key in keys {
        let ord = match key.field {
            SortField::Number => a.number.cmp(&b.number),
            SortField::Created => a.created.cmp(&b.created),
            SortField::Updated => a.updated.cmp(&b.updated),
            SortField::Due => match (a.next_due(), b.next_due()) {
                (Some(x), Some(y)) => x.cmp(&y),
                (x, y) => x.is_none().cmp(&y.is_none()),
            },
            SortField::Priority => a.priority.cmp(&b.priority),
            SortField::Status => a.status.cmp(&b.status),
            SortField::Subject => a.subject.to_lowercase().cmp(&b.subject.to_lowercase()),
            SortField::Assignee => a.assignee.cmp(&b.assignee),
            SortField::Service => a.service.cmp(&b.service),
            SortField::Category => a.category.cmp(&b.category),
        };
        let ord = if key.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.number.cmp(&b.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_take_a_minus_for_descending() {
        let k: SortKey = "-priority".parse().unwrap();
        assert_eq!(k.field, SortField::Priority);
        assert!(k.descending);
        assert!("colour".parse::<SortKey>().unwrap_err().contains("colour"));
    }
}

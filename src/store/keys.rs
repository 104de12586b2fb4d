//! Secondary index keys. Every key ends with the ticket number (8 bytes, big-endian),
//! so a prefix scan yields ticket numbers without reading any ticket.

use std::collections::BTreeSet;

use crate::model::ticket::words;
use crate::model::Ticket;

pub const STATUS: u8 = b's';
pub const PRIORITY: u8 = b'p';
pub const ASSIGNEE: u8 = b'a';
/// service \0 category
pub const SERVICE: u8 = b'v';
pub const CATEGORY: u8 = b'k';
pub const TAG: u8 = b't';
pub const CUSTOMER: u8 = b'c';
pub const DOMAIN: u8 = b'd';
pub const WORD: u8 = b'w';
pub const CREATED: u8 = b'C';
pub const UPDATED: u8 = b'U';

/// `kind value \0`: the prefix of every key for one exact value.
pub fn exact(kind: u8, value: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(value.len() + 10);
    key.push(kind);
    key.extend(value.bytes().filter(|b| *b != 0));
    key.push(0);
    key
}

/// `kind value`: the prefix of every key whose value starts with `value`.
pub fn starting(kind: u8, value: &str) -> Vec<u8> {
    let mut key = exact(kind, value);
    key.pop();
    key
}

/// `kind seconds`: time keys sort by time (sign bit flipped so negatives sort first).
pub fn time(kind: u8, seconds: i64) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(kind);
    key.extend(((seconds as u64) ^ (1 << 63)).to_be_bytes());
    key
}

/// The ticket number at the end of an index key.
pub fn number_of(key: &[u8]) -> u64 {
    let tail: [u8; 8] = key[key.len() - 8..]
        .try_into()
        .expect("index key too short");
    u64::from_be_bytes(tail)
}

fn with_number(mut prefix: Vec<u8>, number: u64) -> Vec<u8> {
    prefix.extend(number.to_be_bytes());
    prefix
}

/// Every index key a ticket has; an update removes the old set's extras and adds the new.
pub fn ticket_keys(t: &Ticket) -> BTreeSet<Vec<u8>> {
    let n = t.number;
    let mut keys = BTreeSet::new();
    keys.insert(with_number(exact(STATUS, t.status.as_str()), n));
    keys.insert(with_number(exact(PRIORITY, t.priority.as_str()), n));
    let assignee = t.assignee.label().unwrap_or_else(|| "none".into());
    keys.insert(with_number(exact(ASSIGNEE, &assignee), n));
    let mut service = exact(SERVICE, t.service.as_deref().unwrap_or(""));
    if let Some(category) = &t.category {
        service.extend(exact(0, category).into_iter().skip(1));
        keys.insert(with_number(exact(CATEGORY, category), n));
    }
    keys.insert(with_number(service, n));
    for tag in &t.tags {
        keys.insert(with_number(exact(TAG, tag), n));
    }
    if let Some(email) = &t.requester.email {
        keys.insert(with_number(exact(CUSTOMER, &email.to_lowercase()), n));
    }
    if let Some(domain) = t.requester.domain() {
        keys.insert(with_number(exact(DOMAIN, &domain), n));
    }
    for text in t.searchable_text() {
        for word in words(text) {
            keys.insert(with_number(exact(WORD, &word), n));
        }
    }
    keys.insert(with_number(time(CREATED, t.created), n));
    keys.insert(with_number(time(UPDATED, t.updated), n));
    keys
}

/// The prefix for tickets of a service, and of one of its categories if given.
pub fn service_prefix(service: &str, category: Option<&str>) -> Vec<u8> {
    let mut prefix = exact(SERVICE, service);
    if let Some(category) = category {
        prefix.extend(exact(0, category).into_iter().skip(1));
    }
    prefix
}

//! Secondary index keys.
//!
//! Set-like indexes (status, tag, word, ...) are posting bitmaps: for each term
//! (`kind value \0`) and each bucket of 1,024 ticket numbers, one key
//! `term ++ bucket (u32 BE)` whose value has bit `number % 1024` set for every ticket
//! with that term. A ticket write touches only the terms that changed, and the index
//! stays small (per-ticket keys made a 100k-ticket database several hundred MB and
//! slowed every open). Time indexes are per-ticket keys `kind time ++ number` so
//! they can be range-scanned.

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
/// A word of a message on the ticket (kept apart: edits never remove these).
pub const MESSAGE_WORD: u8 = b'm';
pub const CREATED: u8 = b'C';
pub const UPDATED: u8 = b'U';

const BUCKET_BITS: u32 = 10;

/// `kind value \0`: one exact term.
pub fn exact(kind: u8, value: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(value.len() + 6);
    key.push(kind);
    key.extend(value.bytes().filter(|b| *b != 0));
    key.push(0);
    key
}

/// `kind value`: the prefix of every term whose value starts with `value`.
pub fn starting(kind: u8, value: &str) -> Vec<u8> {
    let mut key = exact(kind, value);
    key.pop();
    key
}

/// The posting key of `number` under `term`, and the bit to set in its value.
pub fn posting(term: &[u8], number: u64) -> (Vec<u8>, usize) {
    let mut key = term.to_vec();
    key.extend(((number >> BUCKET_BITS) as u32).to_be_bytes());
    (key, (number & ((1 << BUCKET_BITS) - 1)) as usize)
}

/// Sets or clears one bit of a posting value; trailing zero bytes are trimmed.
pub fn set_bit(value: &mut Vec<u8>, bit: usize, on: bool) {
    let byte = bit / 8;
    if on {
        if value.len() <= byte {
            value.resize(byte + 1, 0);
        }
        value[byte] |= 1 << (bit % 8);
    } else if byte < value.len() {
        value[byte] &= !(1 << (bit % 8));
        while value.last() == Some(&0) {
            value.pop();
        }
    }
}

/// Appends the ticket numbers of one posting key/value pair.
pub fn decode_posting(key: &[u8], value: &[u8], out: &mut Vec<u64>) {
    let bucket: [u8; 4] = key[key.len() - 4..]
        .try_into()
        .expect("posting key too short");
    let base = (u32::from_be_bytes(bucket) as u64) << BUCKET_BITS;
    for (i, byte) in value.iter().enumerate() {
        let mut bits = *byte;
        while bits != 0 {
            let b = bits.trailing_zeros() as u64;
            out.push(base + i as u64 * 8 + b);
            bits &= bits - 1;
        }
    }
}

/// `kind seconds ++ number`: time keys sort by time (sign bit flipped so negatives sort first).
pub fn time(kind: u8, seconds: i64) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(kind);
    key.extend(((seconds as u64) ^ (1 << 63)).to_be_bytes());
    key
}

fn time_key(kind: u8, seconds: i64, number: u64) -> Vec<u8> {
    let mut key = time(kind, seconds);
    key.extend(number.to_be_bytes());
    key
}

/// The ticket number at the end of a time key.
pub fn number_of(key: &[u8]) -> u64 {
    let tail: [u8; 8] = key[key.len() - 8..]
        .try_into()
        .expect("index key too short");
    u64::from_be_bytes(tail)
}

/// Every posting term of a ticket: a pure function of the ticket.
pub fn ticket_terms(t: &Ticket) -> BTreeSet<Vec<u8>> {
    let mut terms = BTreeSet::new();
    terms.insert(exact(STATUS, t.status.as_str()));
    terms.insert(exact(PRIORITY, t.priority.as_str()));
    let assignee = t.assignee.label().unwrap_or_else(|| "none".into());
    terms.insert(exact(ASSIGNEE, &assignee));
    terms.insert(service_prefix(
        t.service.as_deref().unwrap_or(""),
        t.category.as_deref(),
    ));
    if let Some(category) = &t.category {
        terms.insert(exact(CATEGORY, category));
    }
    for tag in &t.tags {
        terms.insert(exact(TAG, tag));
    }
    if let Some(email) = &t.requester.email {
        terms.insert(exact(CUSTOMER, &email.to_lowercase()));
    }
    if let Some(domain) = t.requester.domain() {
        terms.insert(exact(DOMAIN, &domain));
    }
    for text in t.searchable_text() {
        for word in words(text) {
            terms.insert(exact(WORD, &word));
        }
    }
    terms
}

/// The time keys of a ticket.
pub fn ticket_time_keys(t: &Ticket) -> [Vec<u8>; 2] {
    [
        time_key(CREATED, t.created, t.number),
        time_key(UPDATED, t.updated, t.number),
    ]
}

/// The term for tickets of a service and, if given, one of its categories.
/// Without a category it is a prefix of the service's category terms.
pub fn service_prefix(service: &str, category: Option<&str>) -> Vec<u8> {
    let mut prefix = exact(SERVICE, service);
    if let Some(category) = category {
        prefix.extend(exact(0, category).into_iter().skip(1));
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posting_bits_round_trip() {
        let mut value = Vec::new();
        let term = exact(TAG, "x");
        let mut keys = Vec::new();
        for n in [1u64, 7, 8, 1023, 1024, 5000] {
            let (key, bit) = posting(&term, n);
            keys.push(key.clone());
            if n < 1024 {
                set_bit(&mut value, bit, true);
            }
        }
        let mut out = Vec::new();
        decode_posting(&keys[0], &value, &mut out);
        assert_eq!(out, [1, 7, 8, 1023]);
        let (_, bit) = posting(&term, 1023);
        set_bit(&mut value, bit, false);
        assert_eq!(value.len(), 2, "trailing zero bytes are trimmed");
        let (key, bit) = posting(&term, 5000);
        let mut v = Vec::new();
        set_bit(&mut v, bit, true);
        out.clear();
        decode_posting(&key, &v, &mut out);
        assert_eq!(out, [5000]);
    }
}

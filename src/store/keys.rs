//! Secondary index keys.
//!
//! Set-like indexes (status, tag, word, ...) are posting lists: for each term
//! (`kind value \0`) and each bucket of 65,536 ticket numbers, one key
//! `term ++ bucket (u32 BE)` whose value holds the low 16 bits of every ticket with
//! that term, as a sorted list or as a bitmap, whichever is smaller (see
//! [`Posting`]). A ticket write touches only the terms that changed, and the index
//! has few keys: sled's open time grows with the number of keys. Words join the index
//! in batches (the pending set `P`, see `Tx::save_ticket`).
//!
//! Time indexes are columns: `kind ++ bucket (u32 BE)` for each bucket of 1,024
//! ticket numbers, holding one i64 BE per ticket (`i64::MIN` for none), scanned
//! whole for a range (800 KB at 100,000 tickets): created, updated, and the next
//! due time of the service levels.

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
/// Tickets whose words are not in the index yet (see `Tx::save_ticket`).
pub const PENDING: u8 = b'P';
pub const CREATED: u8 = b'C';
pub const UPDATED: u8 = b'U';
/// The ticket's next due time (`Ticket::next_due`): `i64::MIN` when none, pending
/// or closed. Tickets stored before service levels have no slot here, which reads
/// as none, as their records do: nothing to migrate.
pub const DUE: u8 = b'D';

const BUCKET_BITS: u32 = 16;
const COLUMN_BITS: u32 = 10;

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

/// The posting key of `number` under `term`, and its slot in that key's value.
pub fn posting(term: &[u8], number: u64) -> (Vec<u8>, u16) {
    let mut key = term.to_vec();
    key.extend(((number >> BUCKET_BITS) as u32).to_be_bytes());
    (key, (number & ((1 << BUCKET_BITS) - 1)) as u16)
}

fn bucket_base(key: &[u8], bits: u32) -> u64 {
    let bucket: [u8; 4] = key[key.len() - 4..]
        .try_into()
        .expect("index key too short");
    (u32::from_be_bytes(bucket) as u64) << bits
}

/// Appends the ticket numbers of one posting key/value pair.
pub fn decode_posting(key: &[u8], value: &[u8], out: &mut Vec<u64>) {
    let base = bucket_base(key, BUCKET_BITS);
    Posting::decode(value).for_each(|slot| out.push(base + slot as u64));
}

const SPARSE: u8 = 0;
const BITMAP: u8 = 1;

/// The slots of one posting value: a sorted list of u16 (tag 0) or a bitmap (tag 1),
/// encoded in whichever form is smaller. A rare word costs two bytes per ticket, a
/// status at most 8 KB per 65,536 tickets.
#[derive(Debug, PartialEq)]
pub enum Posting {
    Sparse(Vec<u16>),
    Bitmap(Vec<u8>),
}

impl Posting {
    pub fn decode(value: &[u8]) -> Posting {
        match value.split_first() {
            Some((&BITMAP, bits)) => Posting::Bitmap(bits.to_vec()),
            Some((_, list)) => Posting::Sparse(
                list.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect(),
            ),
            None => Posting::Sparse(Vec::new()),
        }
    }

    pub fn set(&mut self, slot: u16, on: bool) {
        match self {
            Posting::Sparse(list) => match (list.binary_search(&slot), on) {
                (Err(i), true) => list.insert(i, slot),
                (Ok(i), false) => {
                    list.remove(i);
                }
                _ => {}
            },
            Posting::Bitmap(bits) => {
                let byte = slot as usize / 8;
                if on && bits.len() <= byte {
                    bits.resize(byte + 1, 0);
                }
                if let Some(b) = bits.get_mut(byte) {
                    if on {
                        *b |= 1 << (slot % 8);
                    } else {
                        *b &= !(1 << (slot % 8));
                    }
                }
            }
        }
    }

    pub fn for_each(&self, mut f: impl FnMut(u16)) {
        match self {
            Posting::Sparse(list) => list.iter().copied().for_each(f),
            Posting::Bitmap(bits) => {
                for (i, byte) in bits.iter().enumerate() {
                    let mut rest = *byte;
                    while rest != 0 {
                        f(i as u16 * 8 + rest.trailing_zeros() as u16);
                        rest &= rest - 1;
                    }
                }
            }
        }
    }

    /// The value to store, in the smaller form; empty when no slot is set.
    pub fn encode(&self) -> Vec<u8> {
        let (count, last) = match self {
            Posting::Sparse(list) => (list.len(), list.last().copied()),
            Posting::Bitmap(bits) => {
                let count = bits.iter().map(|b| b.count_ones() as usize).sum();
                let last = bits
                    .iter()
                    .rposition(|b| *b != 0)
                    .map(|i| i as u16 * 8 + 7 - bits[i].leading_zeros() as u16);
                (count, last)
            }
        };
        let Some(last) = last else {
            return Vec::new();
        };
        let bitmap_len = last as usize / 8 + 1;
        if count * 2 <= bitmap_len {
            let mut out = Vec::with_capacity(1 + count * 2);
            out.push(SPARSE);
            self.for_each(|s| out.extend(s.to_be_bytes()));
            out
        } else {
            let mut out = vec![0; 1 + bitmap_len];
            out[0] = BITMAP;
            match self {
                Posting::Bitmap(bits) => out[1..].copy_from_slice(&bits[..bitmap_len]),
                Posting::Sparse(_) => self.for_each(|s| out[1 + s as usize / 8] |= 1 << (s % 8)),
            }
            out
        }
    }
}

/// The column key holding `number`'s time of `kind`, and its slot in the value.
pub fn column(kind: u8, number: u64) -> (Vec<u8>, usize) {
    let mut key = vec![kind];
    key.extend(((number >> COLUMN_BITS) as u32).to_be_bytes());
    (key, (number & ((1 << COLUMN_BITS) - 1)) as usize)
}

/// Puts `seconds` in slot `slot` of a column value.
pub fn set_time(value: &mut Vec<u8>, slot: usize, seconds: i64) {
    let at = slot * 8;
    while value.len() < at + 8 {
        value.extend(i64::MIN.to_be_bytes());
    }
    value[at..at + 8].copy_from_slice(&seconds.to_be_bytes());
}

/// Appends the numbers in one column whose time is in `since..until` (either open).
pub fn decode_column(
    key: &[u8],
    value: &[u8],
    since: Option<i64>,
    until: Option<i64>,
    out: &mut Vec<u64>,
) {
    let base = bucket_base(key, COLUMN_BITS);
    for (slot, chunk) in value.chunks_exact(8).enumerate() {
        let t = i64::from_be_bytes(chunk.try_into().expect("eight bytes"));
        if t != i64::MIN && since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u) {
            out.push(base + slot as u64);
        }
    }
}

/// The posting terms of a ticket's fields (not its words): a pure function of the ticket.
pub fn field_terms(t: &Ticket) -> BTreeSet<Vec<u8>> {
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
    terms
}

/// The word terms of a ticket's subject and description.
pub fn word_terms(t: &Ticket) -> BTreeSet<Vec<u8>> {
    t.searchable_text()
        .flat_map(words)
        .map(|w| exact(WORD, &w))
        .collect()
}

/// Whether a word of `text` starts with `prefix` (folded: `model::ticket::fold`),
/// as `--search` matches.
pub fn text_has_word_starting(text: &str, prefix: &str) -> bool {
    words(text).any(|w| w.starts_with(prefix))
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

    fn numbers(term: &[u8], set: &[u64]) -> Vec<u64> {
        let mut values = std::collections::BTreeMap::<Vec<u8>, Posting>::new();
        for &n in set {
            let (key, slot) = posting(term, n);
            let posting = values.entry(key).or_insert(Posting::Sparse(Vec::new()));
            posting.set(slot, true);
        }
        let mut out = Vec::new();
        for (key, posting) in values {
            decode_posting(&key, &posting.encode(), &mut out);
        }
        out
    }

    #[test]
    fn postings_round_trip_across_buckets() {
        let term = exact(TAG, "x");
        let set = [1u64, 7, 8, 1023, 65_535, 65_536, 200_000];
        assert_eq!(numbers(&term, &set), set);
    }

    #[test]
    fn dense_postings_become_bitmaps_and_shrink_back() {
        let mut p = Posting::Sparse(Vec::new());
        for slot in 0..1000 {
            p.set(slot, true);
        }
        let dense = p.encode();
        assert_eq!(dense[0], BITMAP);
        assert_eq!(dense.len(), 1 + 125);
        let mut p = Posting::decode(&dense);
        for slot in 0..999 {
            p.set(slot, false);
        }
        assert_eq!(p.encode(), [SPARSE, 0x03, 0xe7]);
        p.set(999, false);
        assert!(p.encode().is_empty(), "an empty posting is removed");
    }

    #[test]
    fn columns_answer_ranges() {
        let mut value = Vec::new();
        let (key, slot) = column(CREATED, 1027);
        set_time(&mut value, slot, 100);
        set_time(&mut value, slot + 2, 300);
        let mut out = Vec::new();
        decode_column(&key, &value, Some(100), Some(300), &mut out);
        assert_eq!(out, [1027], "the gap slot and the end of the range are out");
    }
}

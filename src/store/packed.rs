//! Values that pack several entries, so that sled holds few keys: its open reads a
//! page table entry per leaf of at most 16 keys, and a scan pays per key (a key per
//! ticket and per event made `ticket show` half as fast again at 20,000 tickets).
//!
//! - Tickets four to a value (a *group*, keyed `number >> 2`, u64 BE):
//!   `[number u64 BE][length u32 BE][record]...` in number order. Records are small
//!   (a description's first 1 KB), so a leaf of 16 groups stays far below sled's
//!   128 KB blob threshold.
//! - The activity logs of the same four tickets in *chunks*, keyed `group ++ index
//!   (u32 BE)`, entries of the same form in order of writing: sealed chunks `0, 1,
//!   ...` and last the open chunk, index [`OPEN_CHUNK`], which starts with the count
//!   of sealed chunks (u32 BE). An append rewrites only the open chunk; past
//!   [`LOG_CHUNK`] bytes it is sealed under the next index and a new one opened. So
//!   an append costs the same on the thousandth event as on the first, and no value
//!   grows with a conversation.
//! - Message keys (Message-IDs) in 4,096 buckets by their SHA-256:
//!   `[length u32 BE][key][length u32 BE][value]...`.
//! - Read only by the migration: schema 2's groups of eight tickets and of their
//!   logs, in the group form.

use anyhow::{bail, Result};

const GROUP_BITS: u32 = 2;

/// The key of the group holding ticket `number`.
pub fn group_key(number: u64) -> [u8; 8] {
    (number >> GROUP_BITS).to_be_bytes()
}

/// The number of the first ticket a group key can hold.
pub fn group_first(key: &[u8]) -> u64 {
    key_number(key) << GROUP_BITS
}

/// The record of `number` in a group.
pub fn group_find(value: &[u8], number: u64) -> Result<Option<&[u8]>> {
    Ok(group_entries(value)?
        .into_iter()
        .find(|(n, _)| *n == number)
        .map(|(_, record)| record))
}

/// The group with the record of `number` put in (replacing any it had).
pub fn group_with(value: &[u8], number: u64, record: &[u8]) -> Result<Vec<u8>> {
    let mut entries = group_entries(value)?;
    match entries.binary_search_by_key(&number, |(n, _)| *n) {
        Ok(i) => entries[i].1 = record,
        Err(i) => entries.insert(i, (number, record)),
    }
    let mut out = Vec::with_capacity(value.len() + record.len() + 12);
    for (n, r) in entries {
        push_entry(&mut out, n, r);
    }
    Ok(out)
}

fn push_entry(out: &mut Vec<u8>, number: u64, record: &[u8]) {
    out.extend(number.to_be_bytes());
    push_record(out, record);
}

/// The big-endian u64 of an eight-byte key (0 for any other length).
pub fn key_number(key: &[u8]) -> u64 {
    key.try_into().map(u64::from_be_bytes).unwrap_or_default()
}

/// The (number, record) entries of a group, in number order.
pub fn group_entries(value: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    let mut entries = Vec::with_capacity(8);
    let mut rest = value;
    while !rest.is_empty() {
        let (number, after) = split_u64(rest)?;
        let (record, after) = split_record(after)?;
        entries.push((number, record));
        rest = after;
    }
    Ok(entries)
}

/// Bytes of events in a chunk before it is sealed (a leaf of 16 stays far below
/// sled's 128 KB blob threshold).
pub const LOG_CHUNK: usize = 6 * 1024;

/// The index of a ticket's open log chunk.
pub const OPEN_CHUNK: u32 = u32::MAX;

/// The key of a log chunk of the group holding ticket `number`.
pub fn chunk_key(number: u64, index: u32) -> [u8; 12] {
    let mut key = [0; 12];
    key[..8].copy_from_slice(&group_key(number));
    key[8..].copy_from_slice(&index.to_be_bytes());
    key
}

/// A chunk to seal: its index and its events.
pub type Sealed = (u32, Vec<u8>);

/// What appending an event of ticket `number` does to its group's open chunk
/// (`None`: it has none yet): the new open chunk, and the chunk to seal first when
/// this one is full.
pub fn chunk_append(
    open: Option<&[u8]>,
    number: u64,
    record: &[u8],
) -> Result<(Vec<u8>, Option<Sealed>)> {
    let (sealed, events) = match open {
        None => (0, &[][..]),
        Some(open) => match open.split_first_chunk::<4>() {
            Some((head, events)) => (u32::from_be_bytes(*head), events),
            None => bail!("truncated log chunk"),
        },
    };
    let fresh = |sealed: u32, events: &[u8]| {
        let mut chunk = sealed.to_be_bytes().to_vec();
        chunk.extend_from_slice(events);
        push_entry(&mut chunk, number, record);
        chunk
    };
    if !events.is_empty() && events.len() + record.len() + 12 > LOG_CHUNK {
        Ok((fresh(sealed + 1, &[]), Some((sealed, events.to_vec()))))
    } else {
        Ok((fresh(sealed, events), None))
    }
}

/// The event records of ticket `number` in one chunk (sealed or open), in order of
/// writing.
pub fn chunk_records<'a>(key: &[u8], chunk: &'a [u8], number: u64) -> Result<Vec<&'a [u8]>> {
    let mut entries = chunk;
    if key.ends_with(&OPEN_CHUNK.to_be_bytes()) {
        match entries.split_first_chunk::<4>() {
            Some((_, events)) => entries = events,
            None => bail!("truncated log chunk"),
        }
    }
    Ok(group_entries(entries)?
        .into_iter()
        .filter(|(n, _)| *n == number)
        .map(|(_, record)| record)
        .collect())
}

/// The key of the bucket holding a message key: 12 bits of its SHA-256.
pub fn message_bucket(key: &str) -> [u8; 2] {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    [digest[0] & 0x0f, digest[1]]
}

/// The (key, value) entries of a message bucket.
fn bucket_entries(bucket: &[u8]) -> Result<Vec<(&[u8], &[u8])>> {
    let mut entries = Vec::new();
    let mut rest = bucket;
    while !rest.is_empty() {
        let (key, after) = split_record(rest)?;
        let (value, after) = split_record(after)?;
        entries.push((key, value));
        rest = after;
    }
    Ok(entries)
}

/// The value stored for a message key in its bucket.
pub fn bucket_find<'a>(bucket: &'a [u8], key: &str) -> Result<Option<&'a [u8]>> {
    Ok(bucket_entries(bucket)?
        .into_iter()
        .find(|(k, _)| *k == key.as_bytes())
        .map(|(_, v)| v))
}

/// Adds an entry for a key the bucket does not have yet.
pub fn bucket_push(bucket: &mut Vec<u8>, key: &str, value: &[u8]) {
    push_record(bucket, key.as_bytes());
    push_record(bucket, value);
}

/// The bucket with `key` set to `value` (replacing any it had).
pub fn bucket_with(bucket: &[u8], key: &str, value: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bucket.len() + key.len() + value.len() + 8);
    for (k, v) in bucket_entries(bucket)? {
        if k != key.as_bytes() {
            push_record(&mut out, k);
            push_record(&mut out, v);
        }
    }
    bucket_push(&mut out, key, value);
    Ok(out)
}

fn push_record(out: &mut Vec<u8>, record: &[u8]) {
    let len = u32::try_from(record.len()).expect("a record over 4 GB");
    out.extend(len.to_be_bytes());
    out.extend_from_slice(record);
}

fn split_u64(bytes: &[u8]) -> Result<(u64, &[u8])> {
    match bytes.split_first_chunk::<8>() {
        Some((head, rest)) => Ok((u64::from_be_bytes(*head), rest)),
        None => bail!("truncated record header"),
    }
}

fn split_record(bytes: &[u8]) -> Result<(&[u8], &[u8])> {
    let Some((head, rest)) = bytes.split_first_chunk::<4>() else {
        bail!("truncated record length");
    };
    let len = u32::from_be_bytes(*head) as usize;
    if rest.len() < len {
        bail!("record of {len} bytes cut short at {}", rest.len());
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_number_order_and_replace_in_place() {
        let mut group = Vec::new();
        for (n, r) in [(10u64, &b"ten"[..]), (8, b"eight"), (11, b""), (10, b"TEN")] {
            group = group_with(&group, n, r).unwrap();
        }
        let entries = group_entries(&group).unwrap();
        assert_eq!(
            entries,
            [(8, &b"eight"[..]), (10, &b"TEN"[..]), (11, &b""[..])]
        );
        assert_eq!(group_find(&group, 10).unwrap(), Some(&b"TEN"[..]));
        assert_eq!(group_find(&group, 9).unwrap(), None);
        assert_eq!(group_key(8), group_key(11));
        assert_ne!(group_key(7), group_key(8));
    }

    #[test]
    fn groups_of_older_schemas_read_in_order_and_catch_truncation() {
        let mut group = Vec::new();
        for (n, r) in [(9u64, &b"first"[..]), (8, b"other"), (9, b"second")] {
            group.extend(n.to_be_bytes());
            push_record(&mut group, r);
        }
        let entries = group_entries(&group).unwrap();
        assert_eq!(entries, [(9, &b"first"[..]), (8, b"other"), (9, b"second")]);
        group.pop();
        assert!(group_entries(&group).is_err());
    }

    #[test]
    fn log_chunks_seal_when_full_and_keep_the_order() {
        let record = [7u8; 1000];
        let (mut open, mut sealed) = (None::<Vec<u8>>, Vec::new());
        for i in 0..20u64 {
            let (next, seal) = chunk_append(open.as_deref(), 4 + i % 2, &record).unwrap();
            sealed.extend(seal);
            open = Some(next);
        }
        let open = open.unwrap();
        assert_eq!(sealed.len(), 3, "six events of 1 KB a chunk");
        assert_eq!(
            sealed.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(u32::from_be_bytes(open[..4].try_into().unwrap()), 3);
        let key = chunk_key(4, OPEN_CHUNK);
        assert_eq!(key, chunk_key(5, OPEN_CHUNK), "one group");
        let mut count = chunk_records(&key, &open, 4).unwrap().len();
        for (i, chunk) in &sealed {
            let records = chunk_records(&chunk_key(4, *i), chunk, 4).unwrap();
            assert!(records.iter().all(|r| *r == record));
            count += records.len();
        }
        assert_eq!(count, 10, "ticket 4's half of the twenty");
        assert!(sealed.iter().all(|(_, c)| c.len() <= LOG_CHUNK));
    }

    #[test]
    fn message_buckets_find_and_replace_keys() {
        let mut bucket = Vec::new();
        for (k, v) in [("<a@x>", &b"1"[..]), ("<b@x>", b"2"), ("<a@x>", b"3")] {
            bucket = bucket_with(&bucket, k, v).unwrap();
        }
        assert_eq!(bucket_find(&bucket, "<a@x>").unwrap(), Some(&b"3"[..]));
        assert_eq!(bucket_find(&bucket, "<b@x>").unwrap(), Some(&b"2"[..]));
        assert_eq!(bucket_find(&bucket, "<c@x>").unwrap(), None);
        assert_eq!(bucket_entries(&bucket).unwrap().len(), 2);
        assert!(message_bucket("<a@x>")[0] < 16, "4,096 buckets");
    }
}

//! How records are packed into sled values.
//!
//! sled's open time grows with the number of keys it holds, and a scan pays per
//! key, so postdesk keeps few of them: tickets eight to a value (a *group*, keyed by
//! `number >> 3`), and a ticket's whole activity log in one value (a *log*).
//!
//! A group is `[number u64 BE][length u32 BE][record]...` in number order; a log is
//! `[length u32 BE][record]...` in order of writing. Records are postcard bytes.

use anyhow::{bail, Result};

const GROUP_BITS: u32 = 3;

/// The key of the group holding ticket `number`.
pub fn group_key(number: u64) -> [u8; 8] {
    (number >> GROUP_BITS).to_be_bytes()
}

/// The number of the first ticket a group key can hold.
pub fn group_first(key: &[u8]) -> u64 {
    key_number(key) << GROUP_BITS
}

/// The big-endian u64 of an eight-byte key (0 for any other length).
pub fn key_number(key: &[u8]) -> u64 {
    key.try_into().map(u64::from_be_bytes).unwrap_or_default()
}

/// The (number, record) entries of a group, in number order.
pub fn group_entries(value: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    let mut entries = Vec::with_capacity(1 << GROUP_BITS);
    let mut rest = value;
    while !rest.is_empty() {
        let (number, after) = split_u64(rest)?;
        let (record, after) = split_record(after)?;
        entries.push((number, record));
        rest = after;
    }
    Ok(entries)
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
        out.extend(n.to_be_bytes());
        push_record(&mut out, r);
    }
    Ok(out)
}

/// Adds a record at the end of a log.
pub fn log_push(log: &mut Vec<u8>, record: &[u8]) {
    push_record(log, record);
}

/// The records of a log, oldest first.
pub fn log_records(value: &[u8]) -> Result<Vec<&[u8]>> {
    let mut records = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let (record, after) = split_record(rest)?;
        records.push(record);
        rest = after;
    }
    Ok(records)
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
        for (n, r) in [(10u64, &b"ten"[..]), (8, b"eight"), (15, b""), (10, b"TEN")] {
            group = group_with(&group, n, r).unwrap();
        }
        let entries = group_entries(&group).unwrap();
        assert_eq!(
            entries,
            [(8, &b"eight"[..]), (10, &b"TEN"[..]), (15, &b""[..])]
        );
        assert_eq!(group_find(&group, 10).unwrap(), Some(&b"TEN"[..]));
        assert_eq!(group_find(&group, 9).unwrap(), None);
        assert_eq!(group_key(8), group_key(15));
        assert_ne!(group_key(7), group_key(8));
    }

    #[test]
    fn logs_keep_order_and_catch_truncation() {
        let mut log = Vec::new();
        log_push(&mut log, b"first");
        log_push(&mut log, b"second");
        assert_eq!(log_records(&log).unwrap(), [&b"first"[..], b"second"]);
        log.pop();
        assert!(log_records(&log).is_err());
    }
}

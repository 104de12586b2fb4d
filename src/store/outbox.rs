//! The outbox in sled: the tree `outbox` holds `r` ++ id (u64 BE) -> an
//! [`OutboxRecord`], `q` ++ id -> nothing for each entry still queued, so that
//! `outbox send` reads only what waits however many were sent before, and `n` ->
//! the next ID (u64 BE), moved in the write that queues: IDs are small and dense,
//! for people to type (sled's `generate_id` jumps by a million at each open),
//! and `s` ++ lowercase address -> a [`SuppressionRecord`] for each suppressed
//! address.

use anyhow::{bail, Result};

use super::records::{self, OutboxRecord, SuppressionRecord};
use super::{Store, Tx};
use crate::model::{OutboxEntry, OutboxState, Suppression};

const RECORD: u8 = b'r';
const QUEUED: u8 = b'q';
const NEXT_ID: &[u8] = b"n";
const SUPPRESSED: u8 = b's';

fn suppression_key(address: &str) -> Vec<u8> {
    [&[SUPPRESSED][..], address.trim().to_lowercase().as_bytes()].concat()
}

fn decode_suppression(bytes: &[u8], address: &str) -> Result<Suppression> {
    let record: SuppressionRecord =
        records::decode(bytes, || format!("suppressed address {address}"))?;
    Ok(record.into())
}

fn key(kind: u8, id: u64) -> [u8; 9] {
    let mut key = [kind; 9];
    key[1..].copy_from_slice(&id.to_be_bytes());
    key
}

fn decode(bytes: &[u8], id: u64) -> Result<OutboxEntry> {
    let record: OutboxRecord = records::decode(bytes, || format!("outbox entry {id}"))?;
    Ok(record.into())
}

impl Tx<'_> {
    pub(super) fn queue_outbox(&self, entry: &OutboxEntry) -> Result<u64> {
        // IDs start at 1: 0 is "not queued yet".
        let id = match self.outbox.get(NEXT_ID)? {
            Some(v) => super::tx::decode_u64(&v).max(1),
            None => 1,
        };
        self.outbox.insert(NEXT_ID, &(id + 1).to_be_bytes())?;
        let mut entry = entry.clone();
        entry.id = id;
        self.put_outbox(&entry)?;
        Ok(id)
    }

    pub(super) fn outbox_entry(&self, id: u64) -> Result<Option<OutboxEntry>> {
        self.outbox
            .get(key(RECORD, id))?
            .map(|v| decode(&v, id))
            .transpose()
    }

    pub(super) fn save_outbox_entry(&self, entry: &OutboxEntry) -> Result<()> {
        if self.outbox.get(key(RECORD, entry.id))?.is_none() {
            bail!("outbox entry {} not found", entry.id);
        }
        self.put_outbox(entry)
    }

    pub(super) fn suppression(&self, address: &str) -> Result<Option<Suppression>> {
        self.outbox
            .get(suppression_key(address))?
            .map(|v| decode_suppression(&v, address))
            .transpose()
    }

    pub(super) fn suppress(&self, suppression: &Suppression) -> Result<()> {
        let mut record = SuppressionRecord::from(suppression);
        record.address = suppression.address.trim().to_lowercase();
        self.outbox
            .insert(suppression_key(&record.address), records::encode(&record)?)?;
        Ok(())
    }

    pub(super) fn unsuppress(&self, address: &str) -> Result<bool> {
        Ok(self.outbox.remove(suppression_key(address))?.is_some())
    }

    fn put_outbox(&self, entry: &OutboxEntry) -> Result<()> {
        let bytes = records::encode(&OutboxRecord::from(entry))?;
        self.outbox.insert(&key(RECORD, entry.id), bytes)?;
        match entry.state {
            OutboxState::Queued => self.outbox.insert(&key(QUEUED, entry.id), &[][..])?,
            _ => self.outbox.remove(&key(QUEUED, entry.id))?,
        };
        Ok(())
    }
}

impl Store {
    /// Every outbox entry, or only those queued, in order of ID.
    pub(super) fn outbox(&self, queued_only: bool) -> Result<Vec<OutboxEntry>> {
        let mut entries = Vec::new();
        if queued_only {
            for item in self.outbox.scan_prefix([QUEUED]) {
                let (k, _) = item?;
                let id = super::tx::decode_u64(&k[1..]);
                entries.extend(self.outbox_entry(id)?);
            }
        } else {
            for item in self.outbox.scan_prefix([RECORD]) {
                let (k, v) = item?;
                entries.push(decode(&v, super::tx::decode_u64(&k[1..]))?);
            }
        }
        Ok(entries)
    }

    pub(super) fn outbox_entry(&self, id: u64) -> Result<Option<OutboxEntry>> {
        self.outbox
            .get(key(RECORD, id))?
            .map(|v| decode(&v, id))
            .transpose()
    }

    /// Every suppressed address, in order of address.
    pub(super) fn suppressions(&self) -> Result<Vec<Suppression>> {
        self.outbox
            .scan_prefix([SUPPRESSED])
            .map(|item| {
                let (k, v) = item?;
                decode_suppression(&v, &String::from_utf8_lossy(&k[1..]))
            })
            .collect()
    }

    pub(super) fn suppression(&self, address: &str) -> Result<Option<Suppression>> {
        self.outbox
            .get(suppression_key(address))?
            .map(|v| decode_suppression(&v, address))
            .transpose()
    }
}

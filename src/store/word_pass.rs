//! Indexing the words a bulk import left waiting, in writes of bounded size.
//!
//! An import lets the words of its mail wait in the pending set
//! ([`Writer::defer_words`](super::Writer::defer_words)) and indexes them once
//! [`DUE`] texts wait. A pass rewrites every posting it touches, and sled keeps what
//! a write replaced until it cleans the segment, which it seldom gets to during an
//! import: at 100,000 tickets, passes of 2,048 texts inside the batches' writes left
//! a 1,030 MB database file and peaked at 116 MB of memory. So passes are few and
//! large, and to keep their memory small a pass gathers only the slots to set,
//! sorted by posting key, and writes them in slices of [`KEYS_PER_WRITE`] postings,
//! then removes the texts' stored words in slices as well, and last takes the texts
//! out of the pending set. Passes of 8,192 texts: a 709 MB file and 70 MB of memory
//! (90 MB while one write removed all the stored words; 4,096 texts: 776 MB).
//! Setting a slot twice is harmless, so a pass cut short (a crash) is done again
//! by the next one, and searches read the pending texts until then (the words a
//! slice removed are in the index by then).
//!
//! The pass reads the pending texts outside its writes: sled admits one process, and
//! this one is the importing process, so nothing changes them in between.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use super::keys;
use super::tx::Pending;
use super::{Indexing, Store};

/// Texts waiting that make a pass due in an import.
pub const DUE: usize = 8192;

/// Postings changed by one write of a pass: at most 8 MB of values (a bitmap of
/// 65,536 tickets is 8 KB), about 300 KB in a typical one.
const KEYS_PER_WRITE: usize = 1024;

impl Store {
    /// Indexes the pending texts: all of them, or, [`Indexing::WhenDue`], only once
    /// [`DUE`] wait. Durable when it returns.
    pub(super) fn index_deferred_words(&self, how: Indexing) -> Result<()> {
        let pending = Pending::decode_all(&self.index.get([keys::PENDING])?.unwrap_or_default());
        if pending.is_empty() || (how == Indexing::WhenDue && pending.len() < DUE) {
            return Ok(());
        }
        let slots: Vec<(Vec<u8>, Vec<u16>)> = self.slots_to_set(&pending)?.into_iter().collect();
        for slice in slots.chunks(KEYS_PER_WRITE) {
            self.transact(|tx| {
                slice
                    .iter()
                    .try_for_each(|(key, slots)| tx.set_slots(key.clone(), slots))
            })?;
        }
        // The words are in the index: their chunks go, in slices too (one write
        // removing 8,192 of them was the peak of an import's memory), then the entries.
        let entries: Vec<Pending> = pending.iter().copied().collect();
        for slice in entries.chunks(KEYS_PER_WRITE) {
            self.transact(|tx| slice.iter().try_for_each(|entry| tx.drop_words(entry)))?;
        }
        self.transact(|tx| tx.unqueue(&pending))?;
        self.flush()
    }

    /// The slots each posting key gains from the words of `pending`.
    fn slots_to_set(&self, pending: &BTreeSet<Pending>) -> Result<BTreeMap<Vec<u8>, Vec<u16>>> {
        let mut slots: BTreeMap<Vec<u8>, Vec<u16>> = BTreeMap::new();
        let mut add = |term: &[u8], number: u64| {
            let (key, slot) = keys::posting(term, number);
            slots.entry(key).or_default().push(slot);
        };
        for entry in pending {
            if entry.id == 0 {
                if let Some(ticket) = self.ticket(entry.number)? {
                    keys::word_terms(&ticket)
                        .iter()
                        .for_each(|term| add(term, entry.number));
                }
                continue;
            }
            for i in 0..entry.chunks {
                if let Some(words) = self.pending.get(entry.chunk_key(i))? {
                    // Words already folded and distinct, one a line.
                    for word in String::from_utf8_lossy(&words).lines() {
                        add(&keys::exact(keys::MESSAGE_WORD, word), entry.number);
                    }
                }
            }
        }
        Ok(slots)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Writer;
    use super::*;

    fn deferred(store: &Store, number: u64, text: &str) {
        store
            .transact(|tx| {
                Writer::defer_words(tx);
                tx.queue_message_words(number, text)
            })
            .unwrap();
    }

    #[test]
    fn an_import_indexes_its_words_when_due_or_told() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
        for i in 0..100 {
            deferred(&store, 1, &format!("word{i}"));
        }
        assert_eq!(
            store.pending_words().unwrap(),
            100,
            "past 32, still pending"
        );
        store.index_deferred_words(Indexing::WhenDue).unwrap();
        assert_eq!(store.pending_words().unwrap(), 100, "not due at 100");
        store.index_deferred_words(Indexing::All).unwrap();
        assert_eq!(store.pending_words().unwrap(), 0);
        assert_eq!(store.pending.len(), 0, "no chunk left behind");
        let (key, _) = keys::posting(&keys::exact(keys::MESSAGE_WORD, "word42"), 1);
        let mut numbers = Vec::new();
        keys::decode_posting(&key, &store.index.get(&key).unwrap().unwrap(), &mut numbers);
        assert_eq!(numbers, [1]);
    }

    #[test]
    fn a_pass_over_more_postings_than_one_write_takes_sets_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
        let words = KEYS_PER_WRITE * 2 + 7;
        let text: Vec<String> = (0..words).map(|i| format!("w{i:05}")).collect();
        deferred(&store, 3, &text.join(" "));
        deferred(&store, 70_000, "w00000 other");
        store.index_deferred_words(Indexing::All).unwrap();
        assert_eq!(store.pending_words().unwrap(), 0);
        let mut numbers = Vec::new();
        for item in store
            .index
            .scan_prefix(keys::starting(keys::MESSAGE_WORD, "w"))
        {
            let (key, value) = item.unwrap();
            keys::decode_posting(&key, &value, &mut numbers);
        }
        numbers.sort_unstable();
        assert_eq!(
            numbers.len(),
            words + 1,
            "every word of #3, and #70000's w00000"
        );
        assert_eq!(numbers.first(), Some(&3));
        assert_eq!(numbers.last(), Some(&70_000));
    }
}

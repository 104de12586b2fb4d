//! One atomic write over all trees.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use super::backend::{Claim, Writer};
use super::records::{self, CustomerRecord, EventRecord, IgnoredRecord, TicketRecord, TimerRecord};
use super::{keys, packed, Store};
use crate::model::time_spent::Timer;
use crate::model::{Customer, Event, Fingerprint, IgnoredMail, Ticket};

/// The big-endian u64 that starts a value (0 when malformed).
pub fn decode_u64(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// The error of a message bucket that cannot be read, naming the message looked up.
pub(super) fn corrupt_bucket(key: &str) -> String {
    format!("message {key}: its bucket in the database is corrupt")
}

/// Marks a `messages` entry as one we sent (a ninth byte after the ticket number).
const OUTGOING: u8 = 1;
/// Marks a received message's entry that carries its content fingerprint after it.
const RECEIVED: u8 = 0;

/// What the database knows of a message key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRecord {
    /// 0 for mail that made no ticket.
    pub ticket: u64,
    /// One of our own outgoing messages.
    pub outgoing: bool,
    /// The content fingerprint of the received message filed under the key (see
    /// `mail::fingerprint`); `None` in entries written before it was kept.
    pub content: Option<Fingerprint>,
}

const NEXT_TICKET_KEY: &[u8] = b"next_ticket";

/// The write side of a transaction; see [`Store::transact`].
pub struct Tx<'a> {
    /// Schema version, counters, marks of migrations under way.
    pub(super) meta: &'a TransactionalTree,
    tickets: &'a TransactionalTree,
    events: &'a TransactionalTree,
    index: &'a TransactionalTree,
    pending: &'a TransactionalTree,
    messages: &'a TransactionalTree,
    customers: &'a TransactionalTree,
    ignored: &'a TransactionalTree,
    imap: &'a TransactionalTree,
    /// The outbox (see `store::outbox`).
    pub(super) outbox: &'a TransactionalTree,
    /// Index values changed so far, written once when the transaction's work is done:
    /// a batch of 500 messages touches a status posting 500 times.
    index_changes: RefCell<BTreeMap<Vec<u8>, IndexValue>>,
    /// Word chunks queued by this transaction: written to `pending_words` only if
    /// they are not indexed before it commits.
    fresh_words: RefCell<BTreeMap<Pending, Vec<String>>>,
    /// How many pending texts make the words due in this write: [`PENDING_MAX`],
    /// never in a bulk import's (its own passes index them: `word_pass`).
    pending_max: std::cell::Cell<usize>,
}

enum IndexValue {
    Posting(keys::Posting),
    Column(Vec<u8>),
    Pending(BTreeSet<Pending>),
}

/// Pending texts that make their words due for the index (see [`Tx::save_ticket`]).
const PENDING_MAX: usize = 32;

/// Bytes of words in one `pending_words` value: records stay small (see `records`).
const CHUNK_BYTES: usize = 4096;

/// A text whose words wait for the index: a ticket's own (`id` 0: subject and
/// description, read from its record) or a mail's (`id` from the database, its
/// words in `chunks` values of `pending_words` keyed `number ++ id ++ chunk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pending {
    pub number: u64,
    pub id: u64,
    pub chunks: u16,
}

impl Pending {
    const SIZE: usize = 18;

    /// The entries of the index's pending value.
    pub fn decode_all(value: &[u8]) -> BTreeSet<Pending> {
        value
            .chunks_exact(Pending::SIZE)
            .map(|c| Pending {
                number: decode_u64(&c[..8]),
                id: decode_u64(&c[8..16]),
                chunks: u16::from_be_bytes([c[16], c[17]]),
            })
            .collect()
    }

    fn encode_all(set: &BTreeSet<Pending>) -> Vec<u8> {
        let mut out = Vec::with_capacity(set.len() * Pending::SIZE);
        for p in set {
            out.extend(p.number.to_be_bytes());
            out.extend(p.id.to_be_bytes());
            out.extend(p.chunks.to_be_bytes());
        }
        out
    }

    /// The `pending_words` key of chunk `i`.
    pub fn chunk_key(&self, i: u16) -> [u8; 18] {
        let mut key = [0; 18];
        key[..8].copy_from_slice(&self.number.to_be_bytes());
        key[8..16].copy_from_slice(&self.id.to_be_bytes());
        key[16..].copy_from_slice(&i.to_be_bytes());
        key
    }
}

/// The distinct words of `text`, newline-separated, in values of at most [`CHUNK_BYTES`].
fn word_chunks(text: &str) -> Vec<String> {
    let words: BTreeSet<String> = crate::model::ticket::words(text).collect();
    let mut chunks = vec![String::new()];
    for word in words {
        let last = chunks.last_mut().expect("one chunk at least");
        if !last.is_empty() && last.len() + word.len() + 1 > CHUNK_BYTES {
            chunks.push(String::new());
        }
        let last = chunks.last_mut().expect("one chunk at least");
        last.push_str(&word);
        last.push('\n');
    }
    chunks
}

pub fn run<R>(store: &Store, f: impl Fn(&Tx) -> Result<R>) -> Result<R> {
    let trees = (
        &store.meta,
        &store.tickets,
        &store.events,
        &store.index,
        &store.pending,
        &store.messages,
        &store.customers,
        &store.ignored,
        &store.imap,
        &store.outbox,
    );
    let result = trees.transaction(
        |(meta, tickets, events, index, pending, messages, customers, ignored, imap, outbox)| {
            let tx = Tx {
                meta,
                tickets,
                events,
                index,
                pending,
                messages,
                customers,
                ignored,
                imap,
                outbox,
                index_changes: RefCell::default(),
                fresh_words: RefCell::default(),
                pending_max: std::cell::Cell::new(PENDING_MAX),
            };
            let result = f(&tx).map_err(ConflictableTransactionError::Abort)?;
            tx.write_index()
                .map_err(ConflictableTransactionError::Abort)?;
            Ok(result)
        },
    );
    match result {
        Ok(r) => Ok(r),
        Err(TransactionError::Abort(e)) => Err(e),
        Err(TransactionError::Storage(e)) => Err(e).with_context(|| {
            format!(
                "database {}: write failed, nothing was changed",
                store.path.display()
            )
        }),
    }
}

/// Aborts a rehearsal's transaction once its result is kept aside.
#[derive(Debug, thiserror::Error)]
#[error("rehearsal rolled back")]
struct RolledBack;

pub fn rehearse<R>(store: &Store, f: impl Fn(&Tx) -> Result<R>) -> Result<R> {
    // The closure may run more than once: the last run's result is the one.
    let outcome = RefCell::new(None);
    let rolled_back = run(store, |tx| -> Result<()> {
        *outcome.borrow_mut() = Some(f(tx)?);
        Err(RolledBack.into())
    });
    match rolled_back {
        Err(e) if e.is::<RolledBack>() => Ok(outcome
            .into_inner()
            .expect("a rehearsal rolls back only after it ran")),
        Err(e) => Err(e),
        Ok(()) => unreachable!("a rehearsal always rolls back"),
    }
}

impl Tx<'_> {
    /// Takes the next ticket number. Numbers are dense and never reused: the counter
    /// only moves forward, inside the same transaction that stores the ticket.
    pub fn next_number(&self) -> Result<u64> {
        let next = match self.meta.get(NEXT_TICKET_KEY)? {
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().context("corrupt ticket counter")?),
            None => 1,
        };
        self.meta
            .insert(NEXT_TICKET_KEY, &(next + 1).to_be_bytes())?;
        Ok(next)
    }

    pub fn ticket(&self, number: u64) -> Result<Option<Ticket>> {
        super::ticket_in(
            self.tickets.get(packed::group_key(number))?.as_deref(),
            number,
        )
    }

    /// Stores a ticket and brings its index up to date, diffing against the record
    /// stored before (read here, inside the write, so a caller's stale copy cannot
    /// make a wrong diff).
    ///
    /// The words of a new ticket (and of its messages, [`Tx::queue_message_words`])
    /// are not indexed at once: the ticket joins the pending set, indexed as a whole once it
    /// holds [`PENDING_MAX`] tickets. A lone delivery
    /// would load some 200 index leaves for its words; a batch shares them (GIN
    /// indexes in PostgreSQL keep a pending list for the same reason). Searches read
    /// the pending tickets directly. Edits update the words at once.
    pub fn save_ticket(&self, ticket: &Ticket) -> Result<()> {
        let number = ticket.number;
        let bytes = records::encode(&TicketRecord::from(ticket))?;
        let key = packed::group_key(number);
        let group = self.tickets.get(key)?.unwrap_or_default();
        let old = super::ticket_in(Some(&group), number)?;
        let old = old.as_ref();
        let group = packed::group_with(&group, number, &bytes)
            .with_context(|| super::corrupt_group(number))?;
        self.tickets.insert(&key, group)?;
        let (new_terms, old_terms) = match old {
            None => {
                self.queue_pending(Pending {
                    number,
                    id: 0,
                    chunks: 0,
                })?;
                (keys::field_terms(ticket), BTreeSet::new())
            }
            Some(old) => {
                let mut new_terms = keys::field_terms(ticket);
                let mut old_terms = keys::field_terms(old);
                if old.searchable_text().ne(ticket.searchable_text()) {
                    new_terms.extend(keys::word_terms(ticket));
                    old_terms.extend(keys::word_terms(old));
                }
                (new_terms, old_terms)
            }
        };
        for term in old_terms.difference(&new_terms) {
            self.set_posting(term, number, false)?;
        }
        for term in new_terms.difference(&old_terms) {
            self.set_posting(term, number, true)?;
        }
        if old.is_none_or(|o| o.created != ticket.created) {
            self.set_time(keys::CREATED, number, ticket.created)?;
        }
        if old.is_none_or(|o| o.updated != ticket.updated) {
            self.set_time(keys::UPDATED, number, ticket.updated)?;
        }
        // A slot never set reads as none: a new ticket without due times, or one
        // stored before service levels, costs no column write.
        let due = ticket.next_due().unwrap_or(i64::MIN);
        let was = old.map_or(i64::MIN, |o| o.next_due().unwrap_or(i64::MIN));
        if due != was {
            self.set_time(keys::DUE, number, due)?;
        }
        Ok(())
    }

    /// Keeps the words of a mail's text (subject and body) for the index, searchable
    /// at once through the pending set and indexed with the next batch. The words,
    /// not the text: the text is in the mail store, and a value here stays small.
    pub fn queue_message_words(&self, number: u64, text: &str) -> Result<()> {
        let chunks = word_chunks(text);
        let pending = Pending {
            number,
            id: self.pending.generate_id()? + 1,
            chunks: u16::try_from(chunks.len()).context("too many words in one mail")?,
        };
        self.fresh_words.borrow_mut().insert(pending, chunks);
        self.queue_pending(pending)
    }

    fn queue_pending(&self, pending: Pending) -> Result<()> {
        self.change_index(
            vec![keys::PENDING],
            |old| IndexValue::Pending(Pending::decode_all(old)),
            |v| {
                if let IndexValue::Pending(set) = v {
                    set.insert(pending);
                }
            },
        )
    }

    /// Indexes the words of every pending ticket once the set is full: a bulk batch
    /// fills it at once, and a drain of a few spooled messages leaves them pending
    /// (indexing them per small batch rewrote some 200 postings each time, and made
    /// a burst's drainer spend ~3 ms a message).
    fn index_pending_if_due(&self) -> Result<()> {
        let pending = match self.index_changes.borrow().get(&[keys::PENDING][..]) {
            Some(IndexValue::Pending(set)) => set.clone(),
            _ => return Ok(()),
        };
        if pending.len() < self.pending_max.get() {
            return Ok(());
        }
        for entry in &pending {
            let terms = match entry.id {
                0 => self
                    .ticket(entry.number)?
                    .map(|t| keys::word_terms(&t))
                    .unwrap_or_default(),
                _ => {
                    let chunks = match self.fresh_words.borrow_mut().remove(entry) {
                        Some(chunks) => chunks,
                        None => self.take_stored_words(entry)?,
                    };
                    // Words already folded and distinct, one a line.
                    chunks
                        .iter()
                        .flat_map(|chunk| chunk.lines())
                        .map(|word| keys::exact(keys::MESSAGE_WORD, word))
                        .collect()
                }
            };
            for term in terms {
                self.set_posting(&term, entry.number, true)?;
            }
        }
        if let Some(IndexValue::Pending(set)) = self
            .index_changes
            .borrow_mut()
            .get_mut(&[keys::PENDING][..])
        {
            set.clear();
        }
        Ok(())
    }

    /// The word chunks of a pending entry an earlier write stored, removed.
    fn take_stored_words(&self, entry: &Pending) -> Result<Vec<String>> {
        let mut chunks = Vec::with_capacity(entry.chunks as usize);
        for i in 0..entry.chunks {
            if let Some(words) = self.pending.remove(&entry.chunk_key(i))? {
                chunks.push(String::from_utf8_lossy(&words).into_owned());
            }
        }
        Ok(chunks)
    }

    fn set_posting(&self, term: &[u8], number: u64, on: bool) -> Result<()> {
        let (key, slot) = keys::posting(term, number);
        self.change_index(
            key,
            |old| IndexValue::Posting(keys::Posting::decode(old)),
            |v| {
                if let IndexValue::Posting(p) = v {
                    p.set(slot, on);
                }
            },
        )
    }

    /// Sets `slots` in the posting under `key` (a pass over deferred words).
    pub(super) fn set_slots(&self, key: Vec<u8>, slots: &[u16]) -> Result<()> {
        self.change_index(
            key,
            |old| IndexValue::Posting(keys::Posting::decode(old)),
            |v| {
                if let IndexValue::Posting(p) = v {
                    slots.iter().for_each(|slot| p.set(*slot, true));
                }
            },
        )
    }

    /// Moves the slots of the posting under `from` into the one under `to` (a
    /// union) and removes `from` (a migration merging terms).
    pub(super) fn move_posting(&self, from: &[u8], to: Vec<u8>) -> Result<()> {
        let mut slots = Vec::new();
        self.change_index(
            from.to_vec(),
            |old| IndexValue::Posting(keys::Posting::decode(old)),
            |v| {
                if let IndexValue::Posting(p) = v {
                    p.for_each(|slot| slots.push(slot));
                }
                *v = IndexValue::Posting(keys::Posting::Sparse(Vec::new()));
            },
        )?;
        self.set_slots(to, &slots)
    }

    /// Replaces a stored chunk of pending words (a migration folding them).
    pub(super) fn put_word_chunk(&self, key: &[u8], words: &str) -> Result<()> {
        self.pending.insert(key, words.as_bytes())?;
        Ok(())
    }

    /// Removes the stored words of a pending text whose words are in the index.
    pub(super) fn drop_words(&self, entry: &Pending) -> Result<()> {
        for i in 0..entry.chunks {
            self.pending.remove(&entry.chunk_key(i))?;
        }
        Ok(())
    }

    /// Takes texts whose words are in the index out of the pending set.
    pub(super) fn unqueue(&self, done: &BTreeSet<Pending>) -> Result<()> {
        self.change_index(
            vec![keys::PENDING],
            |old| IndexValue::Pending(Pending::decode_all(old)),
            |v| {
                if let IndexValue::Pending(set) = v {
                    set.retain(|entry| !done.contains(entry));
                }
            },
        )
    }

    fn set_time(&self, kind: u8, number: u64, seconds: i64) -> Result<()> {
        let (key, slot) = keys::column(kind, number);
        self.change_index(
            key,
            |old| IndexValue::Column(old.to_vec()),
            |v| {
                if let IndexValue::Column(c) = v {
                    keys::set_time(c, slot, seconds);
                }
            },
        )
    }

    /// Changes an index value among this transaction's changes, loading it first if needed.
    fn change_index(
        &self,
        key: Vec<u8>,
        load: impl FnOnce(&[u8]) -> IndexValue,
        change: impl FnOnce(&mut IndexValue),
    ) -> Result<()> {
        let mut pending = self.index_changes.borrow_mut();
        let value = match pending.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let old = self.index.get(e.key())?.unwrap_or_default();
                e.insert(load(&old))
            }
        };
        change(value);
        Ok(())
    }

    fn write_index(&self) -> Result<()> {
        self.index_pending_if_due()?;
        for (entry, chunks) in std::mem::take(&mut *self.fresh_words.borrow_mut()) {
            for (i, chunk) in (0..).zip(&chunks) {
                self.pending.insert(&entry.chunk_key(i), chunk.as_bytes())?;
            }
        }
        for (key, value) in std::mem::take(&mut *self.index_changes.borrow_mut()) {
            let bytes = match value {
                IndexValue::Posting(p) => p.encode(),
                IndexValue::Column(c) => c,
                IndexValue::Pending(set) => Pending::encode_all(&set),
            };
            if bytes.is_empty() {
                self.index.remove(key)?;
            } else {
                self.index.insert(key, bytes)?;
            }
        }
        Ok(())
    }

    /// Appends to a ticket's activity log: rewrites its open chunk only (at most
    /// [`packed::LOG_CHUNK`] bytes, sealed when full; see [`packed`]), so an append
    /// costs the same however long the log is.
    pub fn append_event(&self, number: u64, event: &Event) -> Result<()> {
        let record = records::encode(&EventRecord::from(event))?;
        let open_key = packed::chunk_key(number, packed::OPEN_CHUNK);
        let open = self.events.get(open_key)?;
        let (open, sealed) = packed::chunk_append(open.as_deref(), number, &record)
            .with_context(|| super::corrupt_log(number))?;
        if let Some((index, chunk)) = sealed {
            self.events
                .insert(&packed::chunk_key(number, index), chunk)?;
        }
        self.events.insert(&open_key, open)?;
        Ok(())
    }
}

impl Writer for Tx<'_> {
    fn next_number(&self) -> Result<u64> {
        Tx::next_number(self)
    }

    fn ticket(&self, number: u64) -> Result<Option<Ticket>> {
        Tx::ticket(self, number)
    }

    /// sled runs one write at a time: what a write reads cannot change under it.
    fn ticket_for_update(&self, number: u64) -> Result<Option<Ticket>> {
        Tx::ticket(self, number)
    }

    fn save_ticket(&self, ticket: &Ticket) -> Result<()> {
        Tx::save_ticket(self, ticket)
    }

    fn append_event(&self, number: u64, event: &Event) -> Result<()> {
        Tx::append_event(self, number, event)
    }

    fn queue_message_words(&self, number: u64, text: &str) -> Result<()> {
        Tx::queue_message_words(self, number, text)
    }

    fn defer_words(&self) {
        // Indexed by a pass of their own (`Store::index_deferred_words`).
        self.pending_max.set(usize::MAX);
    }

    fn claim_message(&self, key: &str, content: &Fingerprint) -> Result<Claim> {
        if let Some(record) = self.message_record(key)? {
            return Ok(Claim::Existing(record));
        }
        self.record_message(key, 0, content)?;
        Ok(Claim::Claimed)
    }

    fn file_message(&self, key: &str, ticket: u64, content: &Fingerprint) -> Result<()> {
        self.record_message(key, ticket, content)
    }

    fn message_ticket(&self, key: &str) -> Result<Option<u64>> {
        Tx::message_ticket(self, key)
    }

    fn outgoing_ticket(&self, key: &str) -> Result<Option<u64>> {
        Tx::outgoing_ticket(self, key)
    }

    fn record_outgoing(&self, key: &str, ticket: u64) -> Result<()> {
        Tx::record_outgoing(self, key, ticket)
    }

    fn upsert_customer(&self, email: &str, name: Option<&str>, at: i64) -> Result<()> {
        Tx::upsert_customer(self, email, name, at)
    }

    fn record_ignored(&self, record: &IgnoredMail) -> Result<()> {
        Tx::record_ignored(self, record)
    }

    fn ignored_mail(&self, id: u64) -> Result<Option<IgnoredMail>> {
        self.ignored
            .get(id.to_be_bytes())?
            .map(|v| {
                records::decode::<IgnoredRecord>(&v, || format!("ignored mail {id}"))
                    .map(IgnoredMail::from)
            })
            .transpose()
    }

    fn remove_ignored(&self, id: u64) -> Result<bool> {
        Ok(self.ignored.remove(&id.to_be_bytes())?.is_some())
    }

    fn set_imap_state(&self, account: &str, mailbox: &str, validity: u32, last: u32) -> Result<()> {
        Tx::set_imap_state(self, account, mailbox, validity, last)
    }

    // Timers live in `meta` (a tree every write already joins): one small record per user.
    fn running_timer(&self, login: &str) -> Result<Option<Timer>> {
        let Some(bytes) = self.meta.get(records::timer_key(login))? else {
            return Ok(None);
        };
        let record: TimerRecord = records::decode(&bytes, || format!("timer of {login}"))?;
        Ok(Some(Timer {
            ticket: record.ticket,
            started: record.started,
        }))
    }

    fn queue_outbox(&self, entry: &crate::model::OutboxEntry) -> Result<u64> {
        Tx::queue_outbox(self, entry)
    }

    fn outbox_entry(&self, id: u64) -> Result<Option<crate::model::OutboxEntry>> {
        Tx::outbox_entry(self, id)
    }

    fn save_outbox_entry(&self, entry: &crate::model::OutboxEntry) -> Result<()> {
        Tx::save_outbox_entry(self, entry)
    }

    fn auto_replies(&self, sender: &str, day: &str) -> Result<u32> {
        let Some(bytes) = self.meta.get(records::auto_reply_key(sender))? else {
            return Ok(0);
        };
        let record: records::AutoReplyRecord =
            records::decode(&bytes, || format!("auto-replies to {sender}"))?;
        Ok(if record.day == day { record.count } else { 0 })
    }

    fn set_auto_replies(&self, sender: &str, day: &str, count: u32) -> Result<()> {
        let record = records::AutoReplyRecord {
            day: day.to_string(),
            count,
        };
        self.meta
            .insert(records::auto_reply_key(sender), records::encode(&record)?)?;
        Ok(())
    }

    fn suppression(&self, address: &str) -> Result<Option<crate::model::Suppression>> {
        Tx::suppression(self, address)
    }

    fn suppress(&self, suppression: &crate::model::Suppression) -> Result<()> {
        Tx::suppress(self, suppression)
    }

    fn unsuppress(&self, address: &str) -> Result<bool> {
        Tx::unsuppress(self, address)
    }

    fn set_running_timer(&self, login: &str, timer: Option<&Timer>) -> Result<()> {
        let key = records::timer_key(login);
        match timer {
            Some(t) => {
                let record = TimerRecord {
                    ticket: t.ticket,
                    started: t.started,
                };
                self.meta.insert(key, records::encode(&record)?)?;
            }
            None => {
                self.meta.remove(key)?;
            }
        }
        Ok(())
    }
}

impl Tx<'_> {
    /// The ticket a message key (Message-ID or hash) was filed under; Some(0): ignored mail.
    pub fn message_ticket(&self, key: &str) -> Result<Option<u64>> {
        Ok(self.message_value(key)?.map(|v| decode_u64(&v)))
    }

    /// What is known of a message key, if it was seen.
    pub fn message_record(&self, key: &str) -> Result<Option<MessageRecord>> {
        Ok(self.message_value(key)?.map(|v| MessageRecord {
            ticket: decode_u64(&v),
            outgoing: v.get(8) == Some(&OUTGOING),
            content: v
                .get(9..9 + std::mem::size_of::<Fingerprint>())
                .filter(|_| v[8] == RECEIVED)
                .and_then(|c| c.try_into().ok()),
        }))
    }

    /// Remembers a received message's key and content, for threading and dedupe
    /// (`ticket` 0 for ignored mail).
    pub fn record_message(&self, key: &str, ticket: u64, content: &Fingerprint) -> Result<()> {
        let mut value = ticket.to_be_bytes().to_vec();
        value.push(RECEIVED);
        value.extend_from_slice(content);
        self.put_message(key, &value)
    }

    /// Remembers the Message-ID of a message we sent about a ticket.
    pub fn record_outgoing(&self, key: &str, ticket: u64) -> Result<()> {
        let mut value = ticket.to_be_bytes().to_vec();
        value.push(OUTGOING);
        self.put_message(key, &value)
    }

    /// The ticket of a message we sent, if `key` is one.
    pub fn outgoing_ticket(&self, key: &str) -> Result<Option<u64>> {
        Ok(self
            .message_value(key)?
            .filter(|v| v.get(8) == Some(&OUTGOING))
            .map(|v| decode_u64(&v)))
    }

    fn message_value(&self, key: &str) -> Result<Option<Vec<u8>>> {
        super::message_in(self.messages.get(packed::message_bucket(key))?, key)
    }

    fn put_message(&self, key: &str, value: &[u8]) -> Result<()> {
        let bucket_key = packed::message_bucket(key);
        let bucket = self.messages.get(bucket_key)?.unwrap_or_default();
        let bucket =
            packed::bucket_with(&bucket, key, value).with_context(|| corrupt_bucket(key))?;
        self.messages.insert(&bucket_key, bucket)?;
        Ok(())
    }

    /// Creates or refreshes a customer record by address; a known name is kept
    /// unless a new one is given.
    pub fn upsert_customer(&self, email: &str, name: Option<&str>, at: i64) -> Result<()> {
        let mut customer = match self.customers.get(email.as_bytes())? {
            Some(v) => {
                records::decode::<CustomerRecord>(&v, || format!("customer {email}"))?.into()
            }
            None => Customer {
                email: email.to_string(),
                name: None,
                first_seen: at,
                last_seen: at,
            },
        };
        if let Some(name) = name {
            customer.name = Some(name.to_string());
        }
        customer.first_seen = customer.first_seen.min(at);
        customer.last_seen = customer.last_seen.max(at);
        let bytes = records::encode(&CustomerRecord::from(&customer))?;
        self.customers.insert(email.as_bytes(), bytes)?;
        Ok(())
    }

    /// Records how far an IMAP mailbox has been fetched, in the write that stores
    /// what was fetched: a crash leaves both or neither.
    pub fn set_imap_state(
        &self,
        account: &str,
        mailbox: &str,
        validity: u32,
        last: u32,
    ) -> Result<()> {
        self.imap.insert(
            super::imap_key(account, mailbox).as_bytes(),
            &super::imap_value(validity, last)[..],
        )?;
        Ok(())
    }

    /// Keeps a record of mail that made no ticket, so an admin can see why.
    pub fn record_ignored(&self, record: &IgnoredMail) -> Result<()> {
        let id = self.ignored.generate_id()?;
        let bytes = records::encode(&IgnoredRecord::from(record))?;
        self.ignored.insert(&id.to_be_bytes(), bytes)?;
        Ok(())
    }
}

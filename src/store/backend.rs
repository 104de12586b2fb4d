//! The seam between the desk and a database: what the use cases read and write, in
//! domain terms, each with the contract a backend must keep. sled (`Store` for
//! reads, `Tx` inside a write) is the first implementation; another backend (a
//! PostgreSQL one, for a desk shared by several mail hosts) implements the same
//! traits and must pass the same conformance suite (`store::conformance`).
//!
//! A write is one transaction: all of it commits or none does, and it may run more
//! than once (a conflict with another writer retries it), so the closure given to
//! a write must have no effect outside it.

use anyhow::Result;

use crate::model::time_spent::Timer;
use crate::model::{
    Customer, Event, EventKind, Fingerprint, IgnoredMail, OutboxEntry, Suppression, Ticket,
    TicketFilter,
};

pub use super::tx::MessageRecord;

/// An open database: reads, durable writes and rehearsals, usable from several
/// threads at once (a backend with a server: from several connections).
pub trait Backend: Sync {
    /// Runs `f` on the database as last committed.
    fn read<R>(&self, f: impl FnOnce(&dyn Reader) -> Result<R>) -> Result<R>;

    /// Runs `f` as one transaction, durable when this returns. `f` may run more
    /// than once (on a conflict with another writer); an error from it rolls
    /// everything back and is returned as it is.
    fn write<R>(&self, f: impl Fn(&dyn Writer) -> Result<R>) -> Result<R>;

    /// Runs `f` as [`Backend::write`] would and rolls it back: what the write
    /// would return, with nothing written.
    fn rehearse<R>(&self, f: impl Fn(&dyn Writer) -> Result<R>) -> Result<R>;

    /// Indexes the words that writes deferred ([`Writer::defer_words`]): all of them,
    /// or only once the backend finds enough waiting ([`Indexing::WhenDue`], after
    /// each batch of an import). It may take several writes; words are searchable
    /// throughout, and durable in the index when it returns. A backend that never
    /// defers does nothing.
    fn index_deferred_words(&self, how: Indexing) -> Result<()>;
}

/// How much of the deferred words [`Backend::index_deferred_words`] indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indexing {
    /// All of them, now (the end of an import).
    All,
    /// All of them if the backend finds enough waiting; else none.
    WhenDue,
}

/// What the desk reads, outside a write, as last committed.
pub trait Reader {
    /// The ticket numbered `number`.
    fn ticket(&self, number: u64) -> Result<Option<Ticket>>;

    /// A ticket's activity log, in the order its events were appended.
    fn events(&self, number: u64) -> Result<Vec<Event>>;

    /// Tickets matching every condition of `filter` (its `search` words matching
    /// word starts of the ticket's text or of its mail), in order of number,
    /// descending if asked; with a limit, the first `limit` in that order.
    fn query(
        &self,
        filter: &TicketFilter,
        descending: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Ticket>>;

    /// Mail that made no ticket, oldest first, each with its ID: a number the
    /// backend gives the record when it is kept, never given to another.
    fn ignored(&self) -> Result<Vec<(u64, IgnoredMail)>>;

    /// How far an IMAP account's mailbox has been fetched: (UIDVALIDITY, last UID).
    fn imap_state(&self, account: &str, mailbox: &str) -> Result<Option<(u32, u32)>>;

    /// Every customer [`Writer::upsert_customer`] recorded, in order of address
    /// (byte order of the lowercase address), each once.
    fn customers(&self) -> Result<Vec<Customer>>;

    /// The customer recorded under `email`, found in any case (addresses are
    /// recorded lowercase); None if no mail from it was ever recorded.
    fn customer(&self, email: &str) -> Result<Option<Customer>>;

    /// Outbox entries in order of ID: all of them, or only those still queued (a
    /// backend finds those without reading the sent ones).
    fn outbox(&self, queued_only: bool) -> Result<Vec<OutboxEntry>>;

    /// Outbox entry `id`, if there is one.
    fn outbox_entry(&self, id: u64) -> Result<Option<OutboxEntry>>;

    /// Every suppressed address ([`Writer::suppress`]), in order of address (byte
    /// order of the lowercase address), each once.
    fn suppressions(&self) -> Result<Vec<Suppression>>;

    /// The suppression of `address`, found in any case; None if it is not suppressed.
    fn suppression(&self, address: &str) -> Result<Option<Suppression>>;
}

/// Whether a message key was free.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This write filed the key (on no ticket yet: see [`Writer::file_message`]).
    Claimed,
    /// Filed before, by a committed write or earlier in this one.
    Existing(MessageRecord),
}

/// What the desk does inside a write. Reads here see this write's own changes.
pub trait Writer {
    /// The next ticket number. Numbers are dense and never reused: a number is
    /// taken only by a write that commits (a backend's counter moves inside the
    /// write; a sequence that skips on rollback does not keep this).
    fn next_number(&self) -> Result<u64>;

    /// A ticket, for reading only.
    fn ticket(&self, number: u64) -> Result<Option<Ticket>>;

    /// A ticket this write is going to change: no other write changes it between
    /// this read and this write's commit (sled: one writer at a time; PostgreSQL:
    /// `SELECT ... FOR UPDATE`). Changes made from it are never lost.
    fn ticket_for_update(&self, number: u64) -> Result<Option<Ticket>>;

    /// Stores a ticket (new or changed). Whatever the backend indexes follows from
    /// the record stored before this call and this one, never from a caller's copy.
    fn save_ticket(&self, ticket: &Ticket) -> Result<()>;

    /// Appends an event to a ticket's log, after every event already there, writing
    /// only the event: the cost of an append does not grow with the log.
    fn append_event(&self, number: u64, event: &Event) -> Result<()>;

    /// Makes the words of a mail's text (its subject and whole body) find the ticket
    /// in a search, at once (or, batched, read directly by searches until indexed).
    /// Stored events keep only the start of a text; the whole is in the mail store.
    fn queue_message_words(&self, number: u64, text: &str) -> Result<()>;

    /// A hint from a bulk import: the words this write queues may wait for the
    /// index (they stay searchable) until [`Backend::index_deferred_words`]. A
    /// backend may ignore it.
    fn defer_words(&self) {}

    /// Appends entries made by one actor each, all at time `at`.
    fn append_entries(&self, number: u64, at: i64, entries: &[(String, EventKind)]) -> Result<()> {
        for (actor, kind) in entries {
            let event = Event {
                at,
                actor: actor.clone(),
                kind: kind.clone(),
            };
            self.append_event(number, &event)?;
        }
        Ok(())
    }

    /// Files a received message's key (a Message-ID, or `sha256:` of the bytes) with
    /// its content, unless it is filed already. Exactly once: of any number of
    /// writes claiming one key, at once or not, exactly one gets [`Claim::Claimed`].
    fn claim_message(&self, key: &str, content: &Fingerprint) -> Result<Claim>;

    /// Sets the ticket of a message key this write claimed (0: it made none).
    fn file_message(&self, key: &str, ticket: u64, content: &Fingerprint) -> Result<()>;

    /// The ticket filed under a message key, received or sent (0: it made none).
    fn message_ticket(&self, key: &str) -> Result<Option<u64>>;

    /// The ticket of one of our own outgoing messages, by its Message-ID.
    fn outgoing_ticket(&self, key: &str) -> Result<Option<u64>>;

    /// Remembers the Message-ID of a message we sent about a ticket.
    fn record_outgoing(&self, key: &str, ticket: u64) -> Result<()>;

    /// Creates or refreshes a customer by address (lowercase): a name given
    /// replaces the one known; first seen is the earliest `at` given, last seen the
    /// latest (an archive's mail comes in any order).
    fn upsert_customer(&self, email: &str, name: Option<&str>, at: i64) -> Result<()>;

    /// Keeps a record of mail that made no ticket, under a new ID (see
    /// [`Reader::ignored`]).
    fn record_ignored(&self, record: &IgnoredMail) -> Result<()>;

    /// The record of ignored mail `id` as this write sees it; None if there never
    /// was one or it was removed.
    fn ignored_mail(&self, id: u64) -> Result<Option<IgnoredMail>>;

    /// Removes the record of ignored mail `id` with this write (once it made a
    /// ticket); returns whether it was there. Exactly once: of any number of writes
    /// removing one record, at once or not, exactly one that commits gets true, so
    /// the mail it stands for is acted on once.
    fn remove_ignored(&self, id: u64) -> Result<bool>;

    /// Records how far an IMAP mailbox has been fetched, committed with this write
    /// (the batch it fetched): both or neither.
    fn set_imap_state(&self, account: &str, mailbox: &str, validity: u32, last: u32) -> Result<()>;

    /// The timer `login` has running, as this write sees it. Writes serialise the
    /// reads and sets of one user's timer: of two writes starting a timer for one
    /// user, at once or not, the second sees the first's (one timer per user).
    fn running_timer(&self, login: &str) -> Result<Option<Timer>>;

    /// Starts (Some) or clears (None) the timer of `login`, committed with this
    /// write; a timer set outlives the process, until a write clears it.
    fn set_running_timer(&self, login: &str, timer: Option<&Timer>) -> Result<()>;

    /// How many automatic replies went to `sender` (any case) on `day` (UTC,
    /// `YYYY-MM-DD`), as this write sees it: 0 on another day or never.
    fn auto_replies(&self, sender: &str, day: &str) -> Result<u32>;

    /// Records that `sender` got `count` automatic replies on `day`, committed with
    /// this write (one small record per sender: a new day replaces the old).
    fn set_auto_replies(&self, sender: &str, day: &str, count: u32) -> Result<()>;

    /// Queues an outbox entry with this write (its `id` is ignored) and returns its
    /// ID: a number given to no other entry, greater than every ID given before.
    /// Nothing is sent here: a write may run twice. The bytes (`hash`) must be in
    /// the mail store before the write commits.
    fn queue_outbox(&self, entry: &OutboxEntry) -> Result<u64>;

    /// Outbox entry `id` as this write sees it. Writes serialise the reads and saves
    /// of one entry: of two writes that read it queued and save it otherwise, at
    /// once or not, the second sees the first's (so one sender claims an attempt).
    fn outbox_entry(&self, id: u64) -> Result<Option<OutboxEntry>>;

    /// Saves a changed outbox entry (state, attempts, next attempt, error); an
    /// error if there is no entry `id`.
    fn save_outbox_entry(&self, entry: &OutboxEntry) -> Result<()>;

    /// The suppression of `address` as this write sees it, found in any case.
    fn suppression(&self, address: &str) -> Result<Option<Suppression>>;

    /// Suppresses `suppression.address` (kept lowercase) with this write, replacing
    /// any suppression of it: one record per address.
    fn suppress(&self, suppression: &Suppression) -> Result<()>;

    /// Ends the suppression of `address` (any case) with this write; returns
    /// whether it was suppressed.
    fn unsuppress(&self, address: &str) -> Result<bool>;
}

/// The raw bytes of every message, content-addressed by SHA-256 (lowercase hex),
/// write-once, kept beside the database: the database records hashes, these hold
/// the bytes. The first implementation is the pack files (`mail::files::MailStore`).
pub trait MailBlobs {
    /// Stores messages under their hashes, durably, before the write that records
    /// them commits; a hash stored twice is harmless.
    fn put_all(&self, messages: &[(&str, &[u8])]) -> Result<()>;

    /// The bytes stored under `hash`, checked against it.
    fn get(&self, hash: &str) -> Result<Vec<u8>>;

    /// Upkeep that makes lookups cheaper (`ingest spool`, from cron); returns how
    /// much it did. Safe to run beside writers and other upkeep.
    fn maintain(&self) -> Result<usize>;
}

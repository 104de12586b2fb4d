//! sled storage: trees, keys, schema version, transactions and the process lock.
//!
//! The database lives in `<data dir>/sled`; the data directory also holds the mail
//! store, the spool and the quarantine (see `mail`), reached through [`Storage`].
//!
//! Trees (schema 6, the layout of 4): `meta` (schema version, ticket counter, users'
//! running timers), `ticket_records`
//! (four tickets to a value), `event_log` (their activity logs in chunks: an append
//! rewrites the last chunk only; see [`packed`]), `ticket_index` (posting lists and time columns, see [`keys`]),
//! `pending_words` (words waiting for the index, see `Tx::queue_message_words`),
//! `message_buckets` (Message-ID -> ticket number, 0 for ignored mail, in 4,096
//! buckets; see [`packed`]), `customer_records` (address -> customer),
//! `ignored_mail` (id -> ignored mail record) and `imap` (account \0 mailbox ->
//! UIDVALIDITY, last UID) and `outbox` (outgoing mail and suppressed addresses, see [`outbox`]). Values are [`records`], never the model types.
//! Every command's writes go through one [`Store::transact`] call and [`Store::flush`].

mod backend;
mod keys;
mod legacy;
mod migrate;
mod open;
mod outbox;
mod packed;
mod query;
mod records;
mod secret;
mod storage;
mod tx;
mod word_pass;

#[cfg(test)]
mod conformance;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::model::{Event, Ticket};

pub use backend::{Backend, Claim, Indexing, MailBlobs, MessageRecord, Reader, Writer};
pub use open::{probe_lock, LockProbe, Locked, SCHEMA_VERSION};
pub use storage::{Storage, Teardown};
pub use tx::Tx;

/// An open database. Hold it only as long as a command needs it: sled admits one process.
pub struct Store {
    db: sled::Db,
    meta: sled::Tree,
    tickets: sled::Tree,
    events: sled::Tree,
    index: sled::Tree,
    pending: sled::Tree,
    messages: sled::Tree,
    customers: sled::Tree,
    ignored: sled::Tree,
    imap: sled::Tree,
    outbox: sled::Tree,
    path: PathBuf,
    /// A little before the open: blob files written since then are ours to sync.
    opened_at: std::time::SystemTime,
}

impl Store {
    /// Opens (creating if needed) the database in the data directory `data_dir`,
    /// waiting up to `lock_wait` while another process holds it ([`Locked`] after that).
    /// A database of an older schema is migrated (long texts go to the mail store).
    pub fn open(data_dir: &Path, lock_wait: Duration) -> Result<Store> {
        // File times come from a coarse clock: a second of margin.
        let opened_at = std::time::SystemTime::now() - Duration::from_secs(1);
        let path = &data_dir.join("sled");
        let db = open::open_locked(data_dir, path, lock_wait)?;
        let tree = |name: &str| {
            db.open_tree(name)
                .with_context(|| format!("database {}: cannot open tree {name}", path.display()))
        };
        let store = Store {
            meta: tree("meta")?,
            tickets: tree("ticket_records")?,
            events: tree("event_log")?,
            index: tree("ticket_index")?,
            pending: tree("pending_words")?,
            messages: tree("message_buckets")?,
            customers: tree("customer_records")?,
            ignored: tree("ignored_mail")?,
            imap: tree("imap")?,
            outbox: tree("outbox")?,
            db,
            path: data_dir.to_path_buf(),
            opened_at,
        };
        open::check_schema(&store, &crate::mail::files::MailStore::new(data_dir))?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes every write so far durable. Call before exiting 0.
    ///
    /// sled 0.34 keeps its log in `sled/db` and writes it with `sync_file_range`
    /// only, which persists neither a grown file's size nor the disk's write cache;
    /// a page too big for a quarter segment goes to a file in `sled/blobs/` with no
    /// sync at all. So after sled's flush: fdatasync the log (any descriptor will do),
    /// and the blob files written since the open, and their directory.
    pub fn flush(&self) -> Result<()> {
        let failed = || format!("database {}: flush failed", self.path.display());
        self.db.flush().with_context(failed)?;
        let (log, blobs) = (self.path.join("sled/db"), self.path.join("sled/blobs"));
        let cannot_sync =
            |path: &Path| format!("database flush failed: cannot sync {}", path.display());
        std::fs::File::open(&log)
            .and_then(|f| f.sync_data())
            .with_context(|| cannot_sync(&log))?;
        sync_new_files(&blobs, self.opened_at).with_context(|| cannot_sync(&blobs))?;
        Ok(())
    }

    /// Runs `f` as one atomic transaction over all trees.
    ///
    /// `f` may run more than once (sled retries on conflict), so it must not have side
    /// effects outside the transaction.
    pub fn transact<R>(&self, f: impl Fn(&Tx) -> Result<R>) -> Result<R> {
        tx::run(self, f)
    }

    /// One ticket, or None.
    pub fn ticket(&self, number: u64) -> Result<Option<Ticket>> {
        ticket_in(
            self.tickets.get(packed::group_key(number))?.as_deref(),
            number,
        )
    }

    /// A ticket's activity log, oldest first.
    pub fn events(&self, number: u64) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        for item in self.events.scan_prefix(packed::group_key(number)) {
            let (key, chunk) = item?;
            let records =
                packed::chunk_records(&key, &chunk, number).with_context(|| corrupt_log(number))?;
            for record in records {
                events.extend(decode_event(record, number)?);
            }
        }
        Ok(events)
    }

    /// Number of tickets stored (reads every group).
    pub fn ticket_count(&self) -> Result<usize> {
        let mut count = 0;
        for item in self.tickets.iter() {
            let (key, group) = item?;
            count += packed::group_entries(&group)
                .with_context(|| corrupt_group(packed::group_first(&key)))?
                .len();
        }
        Ok(count)
    }

    /// Texts whose words wait for the index (searches read them directly).
    pub fn pending_words(&self) -> Result<usize> {
        let value = self.index.get([keys::PENDING])?.unwrap_or_default();
        Ok(tx::Pending::decode_all(&value).len())
    }

    /// Lets go of the database as the process ends, skipping sled's teardown: the
    /// kernel frees the lock at exit. The teardown frees the cache (5-30 ms at 100,000
    /// tickets) and fsyncs the whole file; run on a thread, it still held up the exit
    /// (the kernel waits for a thread in fsync). Call [`Store::flush`] first if
    /// anything was written, and do not open the database again in this process: the
    /// lock stays held until exit.
    pub fn close_for_exit(self) {
        std::mem::forget(self);
    }

    /// The ticket a Message-ID belongs to: Some(0) for mail that was ignored.
    pub fn message_ticket(&self, message_key: &str) -> Result<Option<u64>> {
        let bucket = self.messages.get(packed::message_bucket(message_key))?;
        Ok(message_in(bucket, message_key)?.map(|v| tx::decode_u64(&v)))
    }

    /// Ignored mail, oldest first.
    pub fn ignored(&self) -> Result<Vec<(u64, crate::model::IgnoredMail)>> {
        self.ignored
            .iter()
            .map(|item| {
                let (k, v) = item?;
                let id = tx::decode_u64(&k);
                let record: records::IgnoredRecord =
                    records::decode(&v, || format!("ignored mail {id}"))?;
                Ok((id, record.into()))
            })
            .collect()
    }

    /// The UIDVALIDITY and last UID fetched from an IMAP account's mailbox.
    pub fn imap_state(&self, account: &str, mailbox: &str) -> Result<Option<(u32, u32)>> {
        Ok(self.imap.get(imap_key(account, mailbox))?.and_then(|v| {
            let bytes: [u8; 8] = v.as_ref().try_into().ok()?;
            let validity = u32::from_be_bytes(bytes[..4].try_into().ok()?);
            let last = u32::from_be_bytes(bytes[4..].try_into().ok()?);
            Some((validity, last))
        }))
    }

    /// Approximate size of the database on disk, in bytes.
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }
}

impl Backend for Store {
    fn read<R>(&self, f: impl FnOnce(&dyn Reader) -> Result<R>) -> Result<R> {
        f(self)
    }

    fn write<R>(&self, f: impl Fn(&dyn Writer) -> Result<R>) -> Result<R> {
        let result = self.transact(|tx| f(tx))?;
        self.flush()?;
        Ok(result)
    }

    fn rehearse<R>(&self, f: impl Fn(&dyn Writer) -> Result<R>) -> Result<R> {
        tx::rehearse(self, |tx| f(tx))
    }

    fn index_deferred_words(&self, how: Indexing) -> Result<()> {
        Store::index_deferred_words(self, how)
    }
}

impl Reader for Store {
    fn ticket(&self, number: u64) -> Result<Option<Ticket>> {
        Store::ticket(self, number)
    }

    fn events(&self, number: u64) -> Result<Vec<Event>> {
        Store::events(self, number)
    }

    fn query(
        &self,
        filter: &crate::model::TicketFilter,
        descending: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Ticket>> {
        self.query_by_number(filter, descending, limit)
    }

    fn ignored(&self) -> Result<Vec<(u64, crate::model::IgnoredMail)>> {
        Store::ignored(self)
    }

    fn imap_state(&self, account: &str, mailbox: &str) -> Result<Option<(u32, u32)>> {
        Store::imap_state(self, account, mailbox)
    }

    fn customers(&self) -> Result<Vec<crate::model::Customer>> {
        self.customers
            .iter()
            .map(|item| {
                let (key, value) = item?;
                decode_customer(&value, &String::from_utf8_lossy(&key))
            })
            .collect()
    }

    fn customer(&self, email: &str) -> Result<Option<crate::model::Customer>> {
        let email = email.to_lowercase();
        self.customers
            .get(email.as_bytes())?
            .map(|value| decode_customer(&value, &email))
            .transpose()
    }

    fn outbox(&self, queued_only: bool) -> Result<Vec<crate::model::OutboxEntry>> {
        Store::outbox(self, queued_only)
    }

    fn outbox_entry(&self, id: u64) -> Result<Option<crate::model::OutboxEntry>> {
        Store::outbox_entry(self, id)
    }

    fn suppressions(&self) -> Result<Vec<crate::model::Suppression>> {
        Store::suppressions(self)
    }

    fn suppression(&self, address: &str) -> Result<Option<crate::model::Suppression>> {
        Store::suppression(self, address)
    }
}

fn decode_customer(bytes: &[u8], email: &str) -> Result<crate::model::Customer> {
    let record: records::CustomerRecord = records::decode(bytes, || format!("customer {email}"))?;
    Ok(record.into())
}

/// The `imap` tree's key of an account's mailbox.
fn imap_key(account: &str, mailbox: &str) -> String {
    format!("{account}\0{mailbox}")
}

/// UIDVALIDITY and last UID, big-endian.
fn imap_value(validity: u32, last: u32) -> [u8; 8] {
    let mut value = [0; 8];
    value[..4].copy_from_slice(&validity.to_be_bytes());
    value[4..].copy_from_slice(&last.to_be_bytes());
    value
}

/// The error of a ticket group that cannot be read, naming a ticket it holds.
fn corrupt_group(number: u64) -> String {
    format!("ticket #{number}: its group of four in the database is corrupt")
}

/// The error of a log chunk that cannot be read.
fn corrupt_log(number: u64) -> String {
    format!("ticket #{number}: corrupt activity log in the database")
}

/// Ticket `number` from the group value that should hold it.
fn ticket_in(group: Option<&[u8]>, number: u64) -> Result<Option<Ticket>> {
    let Some(group) = group else {
        return Ok(None);
    };
    packed::group_find(group, number)
        .with_context(|| corrupt_group(number))?
        .map(|bytes| decode_ticket(bytes, number))
        .transpose()
}

fn decode_ticket(bytes: &[u8], number: u64) -> Result<Ticket> {
    records::decode::<records::TicketRecord>(bytes, || format!("ticket #{number}"))?.into_ticket()
}

/// An event, or None for a kind of a newer postdesk (skipped).
fn decode_event(bytes: &[u8], number: u64) -> Result<Option<Event>> {
    let record: records::EventRecord =
        records::decode(bytes, || format!("ticket #{number}: an event"))?;
    Ok(record.into_event())
}

/// The value stored for a message key, from the bucket that should hold it.
fn message_in(bucket: Option<sled::IVec>, key: &str) -> Result<Option<Vec<u8>>> {
    let Some(bucket) = bucket else {
        return Ok(None);
    };
    Ok(packed::bucket_find(&bucket, key)
        .with_context(|| tx::corrupt_bucket(key))?
        .map(<[u8]>::to_vec))
}

/// Fsyncs the files of `dir` modified since `since` (skipping any removed meanwhile),
/// then `dir` if there were any.
fn sync_new_files(dir: &Path, since: std::time::SystemTime) -> std::io::Result<()> {
    // sled creates each blob file anew, which moves the directory's time: one stat
    // spares reading every entry (86 in the ingest bench's databases) on most flushes.
    match std::fs::metadata(dir).and_then(|m| m.modified()) {
        Ok(changed) if changed < since => return Ok(()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut synced = false;
    for entry in entries {
        // sled removes blobs it no longer needs, on its own threads: skip the vanished.
        let sync = |entry: std::fs::DirEntry| -> std::io::Result<bool> {
            if entry.metadata()?.modified()? < since {
                return Ok(false);
            }
            std::fs::File::open(entry.path())?.sync_data()?;
            Ok(true)
        };
        match entry.and_then(sync) {
            Ok(done) => synced |= done,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if synced {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

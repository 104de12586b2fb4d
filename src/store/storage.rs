//! The data directory's database and mail as one owned thing: the database opened
//! on first use, held until released, flushed after every write, closed without
//! sled's teardown when the process is about to end anyway; the raw mail through
//! [`MailBlobs`]; the spool and the quarantine beside them. Nothing outside `store`
//! opens, flushes or closes the database, or names a path in the data directory.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use super::{Backend, MailBlobs, Reader, Store, Writer};
use crate::mail::files::{remove_stale_temps, MailStore};
use crate::mail::quarantine::Quarantine;
use crate::mail::spool::Spool;

/// What dropping the [`Storage`] does with an open database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Teardown {
    /// Close it properly: the process may open it again.
    Now,
    /// Leave it to the process's exit ([`Store::close_for_exit`]): a command's
    /// storage is dropped as the command ends, and sled's teardown (5-30 ms at
    /// 100,000 tickets, then an fsync) would only delay that.
    AtExit,
}

/// The database of a data directory, opened lazily and held until [`Storage::release`].
pub struct Storage {
    dir: PathBuf,
    mail: MailStore,
    spool: Spool,
    quarantine: Quarantine,
    lock_wait: Duration,
    teardown: Teardown,
    open: RefCell<Option<Store>>,
}

impl Storage {
    /// Nothing is opened yet; the first read or write opens the database, waiting up
    /// to `lock_wait` while another process holds it.
    pub fn new(dir: &Path, lock_wait: Duration, teardown: Teardown) -> Storage {
        Storage {
            dir: dir.to_path_buf(),
            mail: MailStore::new(dir),
            spool: Spool::new(dir),
            quarantine: Quarantine::new(dir),
            lock_wait,
            teardown,
            open: RefCell::new(None),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The raw mail beside the database.
    pub fn mail(&self) -> &dyn MailBlobs {
        &self.mail
    }

    /// The secret that signs our Message-IDs (`<data>/message-id.key`), made on
    /// first need (see `store::secret`).
    pub fn message_id_key(&self) -> Result<Vec<u8>> {
        super::secret::message_id_key(&self.dir)
    }

    /// The secret that signs our Message-IDs if there is one yet (never made here:
    /// mail intake only checks).
    pub fn existing_message_id_key(&self) -> Result<Option<Vec<u8>>> {
        super::secret::existing_message_id_key(&self.dir)
    }

    /// Deliveries not yet processed (`<data>/spool/`).
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// Mail that could not be parsed (`<data>/quarantine/`).
    pub fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }

    /// Removes the temp files that crashed writers left in the spool, the quarantine
    /// and the mail store, once not modified for `older_than`; returns how many.
    pub fn remove_stale_temps(&self, older_than: Duration) -> Result<usize> {
        let dirs = [
            self.spool.dir().to_path_buf(),
            self.quarantine.dir().to_path_buf(),
            self.mail.packs(),
        ];
        dirs.iter()
            .try_fold(0, |n, dir| Ok(n + remove_stale_temps(dir, older_than)?))
    }

    /// Opens the database now if it is not open (waiting as `new` says). Fails with
    /// [`super::Locked`] when the wait ran out.
    pub fn hold(&self) -> Result<()> {
        if self.open.borrow().is_none() {
            let store = Store::open(&self.dir, self.lock_wait)?;
            *self.open.borrow_mut() = Some(store);
        }
        Ok(())
    }

    /// Lets other processes have the database; the next read or write opens it again.
    pub fn release(&self) {
        drop(self.open.borrow_mut().take());
    }

    /// Runs `f` on the database as last committed.
    pub fn read<R>(&self, f: impl FnOnce(&dyn Reader) -> Result<R>) -> Result<R> {
        self.with_store(|store| Backend::read(store, f))
    }

    fn with_store<R>(&self, f: impl FnOnce(&Store) -> Result<R>) -> Result<R> {
        self.hold()?;
        let open = self.open.borrow();
        f(open.as_ref().expect("held above"))
    }

    /// Runs `f` as one transaction and makes it durable before returning. `f` may
    /// run more than once, so it must not send mail or run commands: do those after.
    pub fn write<R>(&self, f: impl Fn(&dyn Writer) -> Result<R>) -> Result<R> {
        self.with_store(|store| Backend::write(store, f))
    }

    /// Runs `f` as [`Storage::write`] would, then rolls it back: what the write would
    /// return, with nothing written (dry runs).
    pub fn rehearse<R>(&self, f: impl Fn(&dyn Writer) -> Result<R>) -> Result<R> {
        self.with_store(|store| Backend::rehearse(store, f))
    }
}

impl Storage {
    /// Indexes words a bulk import deferred (see [`Backend::index_deferred_words`]).
    pub fn index_deferred_words(&self, how: super::Indexing) -> Result<()> {
        self.with_store(|store| Backend::index_deferred_words(store, how))
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Some(store) = self.open.get_mut().take() {
            match self.teardown {
                Teardown::Now => drop(store),
                Teardown::AtExit => store.close_for_exit(),
            }
        }
    }
}

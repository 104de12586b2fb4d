//! Opening the database: the cross-process lock with backoff, and the schema version.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::Store;

/// Version of the on-disk layout. A database with a higher one is refused. 5: the
/// workflow's event kinds (schema 4's postdesk cannot read them); same layout as 4.
/// 6: the `mail-queued` events of rules' mail from before mail out have dropped
/// outbox entries (`migrate::finish_rule_mail`); same layout as 5.
pub const SCHEMA_VERSION: u32 = 6;

pub(super) const SCHEMA_KEY: &[u8] = b"schema_version";

/// The database is held by another process and did not come free within the wait.
#[derive(Debug, thiserror::Error)]
#[error(
    "database {path} is held by another postdesk process (waited {waited:.1} s; see --lock-wait)"
)]
pub struct Locked {
    pub path: String,
    pub waited: f64,
}

/// Opens sled, retrying with jittered backoff while another process holds the lock.
pub fn open_locked(data_dir: &Path, path: &Path, lock_wait: Duration) -> Result<sled::Db> {
    create_private_dir(data_dir)?;
    create_private_dir(path)?;
    let deadline = Instant::now() + lock_wait;
    let mut pause = Duration::from_millis(5);
    loop {
        // sled's own lock is taken only after it has read (or, for a new database,
        // written) its files, so two processes opening a new database at once can see
        // each other's half-written files ("Read corrupted data", seen in the
        // 50-delivery test). Our lock file serialises just the open.
        let guard = OpenGuard::take(data_dir)?;
        // A bounded cache: with the default (1 GB) a 10k-message mbox import grew past
        // 150 MB; 16 MB keeps it near 75 MB at the same speed.
        let opened = sled::Config::new()
            .path(path)
            .flush_every_ms(None)
            .cache_capacity(16 * 1024 * 1024)
            .open();
        drop(guard);
        match opened {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e)) if is_lock_error(&e) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(Locked {
                        path: data_dir.display().to_string(),
                        waited: lock_wait.as_secs_f64(),
                    }
                    .into());
                }
                let jitter = Duration::from_micros(fastrand::u64(0..=pause.as_micros() as u64));
                std::thread::sleep((pause + jitter).min(deadline - now));
                // A short cap: a reader that reopens every few ms (a script polling)
                // holds the database most of the time, and a waiter backing off to
                // 100 ms lost to it for seconds (the watcher, in benches/ingest.rs).
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot open database {}", path.display()))
            }
        }
    }
}

/// An exclusive flock on `<data dir>/.open-lock`, held while sled opens.
struct OpenGuard {
    _file: std::fs::File,
}

impl OpenGuard {
    fn take(data_dir: &Path) -> Result<OpenGuard> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        let path = data_dir.join(".open-lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(crate::sharing::file_mode())
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: flock on a descriptor we own; released when the file is closed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot lock {}", path.display()));
        }
        Ok(OpenGuard { _file: file })
    }
}

/// sled's "could not acquire lock": its flock's error, whose kind the vendored sled
/// keeps (vendor/sled/PATCHES.md, change 8).
fn is_lock_error(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock
}

/// Creates the database directory (and parents) mode 0700 so mail stays private
/// (2770 on a group desk: `crate::sharing`).
fn create_private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(crate::sharing::dir_mode())
        .create(path)
        .with_context(|| format!("cannot create database directory {}", path.display()))
}

/// Records the schema version in a new database, migrates one from an older
/// postdesk, and refuses one from a newer postdesk.
pub fn check_schema(store: &Store, mail: &dyn super::MailBlobs) -> Result<()> {
    let mut older = false;
    match store.meta.get(SCHEMA_KEY)? {
        Some(v) => {
            let found = u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0xff; 4]));
            if found > SCHEMA_VERSION {
                bail!(
                    "database {} has schema version {found}, written by a newer postdesk; this one understands up to {SCHEMA_VERSION}: upgrade postdesk",
                    store.path.display()
                );
            }
            if found < SCHEMA_VERSION {
                super::migrate::from(store, found, mail).with_context(|| {
                    format!(
                        "database {}: cannot migrate it from schema {found} to {SCHEMA_VERSION}; it is unchanged",
                        store.path.display()
                    )
                })?;
                older = true;
            }
        }
        None => record_schema(store)?,
    }
    if store.meta.contains_key(super::migrate::FOLDING_KEY)? {
        super::migrate::finish_folding(store).with_context(|| {
            format!(
                "database {}: cannot finish folding accents in its word index (the step to schema 4); the next open tries again",
                store.path.display()
            )
        })?;
    }
    // Last, on the layout of 5 with its words folded: `migrate::from` left the
    // version at 5, and this records 6 once done.
    if older {
        super::migrate::finish_rule_mail(store).with_context(|| {
            format!(
                "database {}: cannot make outbox entries of its `mail-queued` events (the step to schema 6); the next open goes on from where this one stopped",
                store.path.display()
            )
        })?;
    }
    Ok(())
}

/// Records the current schema version.
pub fn record_schema(store: &Store) -> Result<()> {
    store
        .meta
        .insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
    Ok(())
}

impl Store {
    /// Overwrites the recorded schema version (for tests and future migrations).
    pub fn set_schema_version(&self, version: u32) -> Result<()> {
        self.meta.insert(SCHEMA_KEY, &version.to_be_bytes())?;
        Ok(())
    }
}

/// What [`probe_lock`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockProbe {
    /// No database in the data directory yet.
    NoDatabase,
    Free,
    /// Held past the wait; `inode` is the locked file's, to find its holder.
    Held {
        inode: u64,
    },
}

/// Whether another process holds the database, waiting up to `wait` for it to let
/// go, without opening (or changing) anything: a shared flock tried on sled's file.
pub fn probe_lock(data_dir: &Path, wait: Duration) -> Result<LockProbe> {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::io::AsRawFd;
    let path = data_dir.join("sled").join("db");
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LockProbe::NoDatabase),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    let inode = file.metadata().map(|m| m.ino()).unwrap_or(0);
    let deadline = Instant::now() + wait;
    loop {
        // SAFETY: flock on a descriptor we own; released when the file is closed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0 {
            return Ok(LockProbe::Free);
        }
        if Instant::now() >= deadline {
            return Ok(LockProbe::Held { inode });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

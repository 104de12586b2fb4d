//! The spool: every piped delivery lands here durably before anything else, so the
//! MTA can be told "stored" even while another process holds the database.
//! `<data>/spool/<arrival-ordered name>.eml`, with the lock files `.watch.lock` and
//! `.drain.lock`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::files::{unique_name, write_durably, write_durably_with};

/// Held by `ingest spool --watch` while it runs.
const WATCH_LOCK: &str = ".watch.lock";
/// Held by the process draining the spool (see [`Spool::try_drain_lock`]).
const DRAIN_LOCK: &str = ".drain.lock";
/// Rewritten when mail is queued in the outbox and left there: a watcher sends it
/// (see [`Spool::poke_outbox`]).
const OUTBOX_POKE: &str = ".outbox";

pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn new(data_dir: &Path) -> Spool {
        Spool {
            dir: data_dir.join("spool"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a message durably; returns its path.
    pub fn put(&self, raw: &[u8]) -> Result<PathBuf> {
        write_durably(&self.dir, &format!("{}.eml", unique_name()), raw)
    }

    /// Writes a message durably as it is read, never whole in memory (a delivery
    /// on stdin can be any size; the drain quarantines one over the size limit
    /// unread); returns its path.
    pub fn put_from(&self, message: &mut dyn std::io::Read) -> Result<PathBuf> {
        write_durably_with(&self.dir, &format!("{}.eml", unique_name()), |out| {
            std::io::copy(message, out).map(|_| ())
        })
    }

    /// Spooled messages, oldest first.
    pub fn list(&self) -> Result<Vec<PathBuf>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read spool {}", self.dir.display()))
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "eml")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        Ok(paths)
    }

    /// Marks the spool as watched by a drainer (`ingest spool --watch`) for as long as
    /// the returned lock lives; fails if another drainer already watches it.
    pub fn watch_lock(&self) -> Result<std::fs::File> {
        super::files::private_dir(&self.dir)?;
        let file = self.open_lock(WATCH_LOCK, true)?;
        if !try_flock(&file)? {
            anyhow::bail!(
                "another `postdesk ingest spool --watch` is already watching {}",
                self.dir.display()
            );
        }
        Ok(file)
    }

    /// Whether a drainer is watching: deliveries then only spool and leave.
    pub fn is_watched(&self) -> bool {
        // Only a watcher creates the lock file, so its absence means nobody watches
        // (and, on every delivery's path, costs no error value). Free means nobody
        // watches either; the test lock is released when `file` drops.
        match self.open_lock_file(WATCH_LOCK, false) {
            Ok(file) => matches!(try_flock(&file), Ok(false)),
            Err(_) => false,
        }
    }

    /// Takes the drain lock without waiting: `None` when another process drains.
    ///
    /// The protocol that keeps spooled mail from being stranded: a drainer looks at
    /// the spool again after letting go of this lock, and drains once more (if it can
    /// take the lock back) when anything is there. So a delivery that spooled its
    /// message and then found the lock held can leave at once: the holder, or whoever
    /// takes the lock after it, lists the spool after that message landed.
    pub fn try_drain_lock(&self) -> Result<Option<std::fs::File>> {
        let file = self.open_lock(DRAIN_LOCK, true)?;
        Ok(try_flock(&file)?.then_some(file))
    }

    fn open_lock(&self, name: &str, create: bool) -> Result<std::fs::File> {
        self.open_lock_file(name, create)
            .with_context(|| format!("cannot open {}", self.dir.join(name).display()))
    }

    fn open_lock_file(&self, name: &str, create: bool) -> std::io::Result<std::fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(create)
            .truncate(false)
            .write(true)
            .mode(crate::sharing::file_mode())
            .open(self.dir.join(name))
    }

    /// Tells a watcher (`ingest spool --watch`) that mail waits in the outbox: the
    /// file `.outbox` is rewritten, which wakes it and changes its modification
    /// time. Only when a watcher runs; a failure is only a later send.
    pub fn poke_outbox(&self) {
        if !self.is_watched() {
            return;
        }
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(crate::sharing::file_mode())
            .open(self.dir.join(OUTBOX_POKE))
            .and_then(|mut f| f.write_all(stamp.to_string().as_bytes()));
    }

    /// What the last [`Spool::poke_outbox`] wrote (None: never poked): a watcher
    /// sends when it changes.
    pub fn outbox_poked(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join(OUTBOX_POKE)).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.list().map(|l| l.is_empty()).unwrap_or(true)
    }
}

/// A non-blocking exclusive flock: Ok(true) when taken, Ok(false) when held elsewhere.
fn try_flock(file: &std::fs::File) -> Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor we own; released when the file is closed.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.kind() == std::io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(err).context("cannot lock the spool")
    }
}

//! Durable files: write-once with fsync of the file and its directory, so a message
//! counts as stored only once it would survive a crash.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

use super::pack;
use super::parse::hash_hex;

/// Creates a directory (and parents) mode 0700, or 2770 on a group desk (`crate::sharing`).
pub fn private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(crate::sharing::dir_mode())
        .create(path)
        .with_context(|| format!("cannot create directory {}", path.display()))
}

/// Temp files of durable writes start with this; a crash (SIGKILL, power cut) between
/// creating one and renaming it leaves it behind.
const TEMP_PREFIX: &str = ".tmp.";

/// Removes the temp files in `dir` not modified for `older_than` (a live writer's are
/// seconds old); returns how many. A missing directory has none.
pub fn remove_stale_temps(dir: &Path, older_than: std::time::Duration) -> Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age >= older_than) {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot remove {}", entry.path().display()))
                }
            }
        }
    }
    Ok(removed)
}

/// Writes `bytes` to `dir/name` atomically: a temp file, fsync, rename, fsync of the dir.
pub fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    write_durably_with(dir, name, |out| out.write_all(bytes))
}

/// Writes a file with `fill` atomically and durably: a temp file, fsync, rename, fsync
/// of the directory. A failed write leaves nothing behind.
pub fn write_durably_with(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<PathBuf> {
    let target = write_file_durably(dir, name, fill)?;
    sync_dir(dir).with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(target)
}

/// As [`write_durably_with`] without the directory fsync, for callers that write
/// several files and sync the directory once.
pub fn write_file_durably(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<PathBuf> {
    private_dir(dir)?;
    let target = dir.join(name);
    let tmp = dir.join(format!("{TEMP_PREFIX}{name}"));
    let write = || -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(crate::sharing::file_mode())
            .open(&tmp)?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, &target)
    };
    write()
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
        .with_context(|| format!("cannot store {}", target.display()))?;
    Ok(target)
}

/// fsync of a directory, making renames and unlinks in it durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The content-addressed store of raw messages, write-once: one pack file per batch
/// in `<data>/mail/packs/` (see [`super::pack`]). Stores written before packs hold
/// one `<data>/mail/<sha256>.eml` per message; those are still read.
pub struct MailStore {
    dir: PathBuf,
}

impl MailStore {
    pub fn new(data_dir: &Path) -> MailStore {
        MailStore {
            dir: data_dir.join("mail"),
        }
    }

    /// `mail/packs/`.
    pub fn packs(&self) -> PathBuf {
        self.dir.join("packs")
    }

    /// Where a store from before packs kept a message.
    fn loose_path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{hash}.eml"))
    }

    /// Stores one message durably, in a pack of its own.
    pub fn put(&self, hash: &str, raw: &[u8]) -> Result<()> {
        self.put_all(&[(hash, raw)])
    }

    /// Stores messages (sha256 hex, bytes) durably: when this returns, the files and
    /// their directory entries are on disk. A batch of [`pack::BATCH_PACK_MIN`] or more
    /// goes into one pack; fewer (a lone delivery, a short drain, a delivery with its
    /// notifications) into one pack named by each hash (hard links), so a lookup
    /// finds it at once however many mails came one by one. Not checked for messages already stored: the database filters
    /// duplicates, and a second copy is harmless.
    pub fn put_all(&self, messages: &[(&str, &[u8])]) -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        self.create_dirs_durably()?;
        if messages.len() >= pack::BATCH_PACK_MIN {
            pack::write(&self.packs(), messages).map(|_| ())
        } else {
            pack::write_each(&self.packs(), messages)
        }
    }

    /// Creates `mail/packs/` once, and syncs the parents so the new directories survive
    /// a crash along with the first pack.
    fn create_dirs_durably(&self) -> Result<()> {
        let packs = self.packs();
        if packs.is_dir() {
            return Ok(());
        }
        private_dir(&packs)?;
        for dir in [Some(self.dir.as_path()), self.dir.parent()]
            .into_iter()
            .flatten()
        {
            sync_dir(dir).with_context(|| format!("cannot sync {}", dir.display()))?;
        }
        Ok(())
    }

    /// Brings the multi-pack index up to date once 16 batch packs are not in it
    /// ([`super::midx`]); returns how many it added. `ingest spool` (cron) calls it.
    pub fn update_index(&self) -> Result<usize> {
        super::midx::update(&self.packs(), 16)
    }

    /// The bytes stored under `hash`, checked against it: from the packs, else from a
    /// loose file of an older store.
    pub fn get(&self, hash: &str) -> Result<Vec<u8>> {
        if let Some(bytes) = pack::find(&self.packs(), hash)? {
            return Ok(bytes);
        }
        let loose = self.loose_path(hash);
        let bytes = match fs::read(&loose) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "stored mail {hash} not found: in no pack in {} and no {}",
                self.packs().display(),
                loose.display()
            ),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read stored mail {}", loose.display()))
            }
        };
        let actual = hash_hex(&bytes);
        ensure!(
            actual == hash,
            "stored mail {} is corrupt: its bytes hash to {actual}",
            loose.display()
        );
        Ok(bytes)
    }
}

/// A unique file name: time, pid and randomness, sortable by arrival.
pub fn unique_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}.{:09}.{}.{:08x}",
        now.as_secs(),
        now.subsec_nanos(),
        std::process::id(),
        fastrand::u32(..)
    )
}

impl crate::store::MailBlobs for MailStore {
    fn put_all(&self, messages: &[(&str, &[u8])]) -> Result<()> {
        MailStore::put_all(self, messages)
    }

    fn get(&self, hash: &str) -> Result<Vec<u8>> {
        MailStore::get(self, hash)
    }

    /// Brings the multi-pack index up to date.
    fn maintain(&self) -> Result<usize> {
        self.update_index()
    }
}

/// An exclusive flock on `path` (created 0600 if missing), waiting for it; held
/// until the returned file is dropped.
pub fn exclusive_lock(path: &Path) -> Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock on a descriptor we own; released when the file is closed.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("cannot lock {}", path.display()));
    }
    Ok(file)
}

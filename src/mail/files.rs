//! Durable files: write-once with fsync of the file and its directory, so a message
//! counts as stored only once it would survive a crash.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Creates a directory (and parents) mode 0700.
pub fn private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("cannot create directory {}", path.display()))
}

/// Writes `bytes` to `dir/name` atomically: a temp file, fsync, rename, fsync of the dir.
pub fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    private_dir(dir)?;
    let target = dir.join(name);
    let tmp = dir.join(format!(".tmp.{name}"));
    let write = || -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, &target)?;
        sync_dir(dir)
    };
    write()
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
        .with_context(|| format!("cannot store {}", target.display()))?;
    Ok(target)
}

/// Flushes the whole filesystem holding `dir` (data and metadata) and waits for it.
fn syncfs(dir: &Path) -> Result<()> {
    use std::os::unix::io::AsRawFd;
    let handle = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    // SAFETY: syncfs on a descriptor we own.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("cannot sync the filesystem of {}", dir.display()));
    }
    Ok(())
}

/// fsync of a directory, making renames and unlinks in it durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The content-addressed store of raw messages: `<data>/mail/<sha256>.eml`, write-once.
pub struct MailStore {
    dir: PathBuf,
}

impl MailStore {
    pub fn new(data_dir: &Path) -> MailStore {
        MailStore {
            dir: data_dir.join("mail"),
        }
    }

    pub fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(format!("{hash}.eml"))
    }

    /// Stores the raw bytes under their hash unless already there.
    pub fn put(&self, hash: &str, raw: &[u8]) -> Result<()> {
        if self.path(hash).exists() {
            return Ok(());
        }
        write_durably(&self.dir, &format!("{hash}.eml"), raw).map(|_| ())
    }

    /// Stores many messages durably at once: every file is written, then one
    /// `syncfs` makes them all durable (one flush instead of one fsync each), then
    /// they are renamed into place and the directory is synced once. Few messages
    /// take the per-file path.
    pub fn put_all(&self, messages: &[(&str, &[u8])]) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        let new: Vec<&(&str, &[u8])> = messages
            .iter()
            .filter(|(hash, _)| seen.insert(*hash) && !self.path(hash).exists())
            .collect();
        if new.len() <= 2 {
            return new.iter().try_for_each(|(hash, raw)| self.put(hash, raw));
        }
        private_dir(&self.dir)?;
        let mut pending = Vec::with_capacity(new.len());
        for (hash, raw) in &new {
            use std::os::unix::fs::OpenOptionsExt;
            let tmp = self.dir.join(format!(".tmp.{hash}.eml"));
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .with_context(|| format!("cannot store {}", tmp.display()))?;
            file.write_all(raw)
                .with_context(|| format!("cannot store {}", tmp.display()))?;
            pending.push((tmp, self.path(hash)));
        }
        syncfs(&self.dir)?;
        for (tmp, target) in &pending {
            fs::rename(tmp, target)
                .with_context(|| format!("cannot store {}", target.display()))?;
        }
        sync_dir(&self.dir).with_context(|| format!("cannot sync {}", self.dir.display()))?;
        Ok(())
    }

    pub fn get(&self, hash: &str) -> Result<Vec<u8>> {
        let path = self.path(hash);
        fs::read(&path).with_context(|| format!("cannot read stored mail {}", path.display()))
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

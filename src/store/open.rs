//! Opening the database: the cross-process lock with backoff, and the schema version.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::Store;

/// Version of the on-disk layout. A database with a higher one is refused.
pub const SCHEMA_VERSION: u32 = 1;

const SCHEMA_KEY: &[u8] = b"schema_version";

/// Opens sled, retrying with jittered backoff while another process holds the lock.
pub fn open_locked(path: &Path, lock_wait: Duration) -> Result<sled::Db> {
    create_private_dir(path)?;
    let deadline = Instant::now() + lock_wait;
    let mut pause = Duration::from_millis(5);
    loop {
        match sled::Config::new().path(path).flush_every_ms(None).open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e)) if is_lock_error(&e) => {
                let now = Instant::now();
                if now >= deadline {
                    bail!(
                        "database {} is held by another postdesk process (waited {:.1} s; see --lock-wait)",
                        path.display(),
                        lock_wait.as_secs_f64()
                    );
                }
                let jitter = Duration::from_micros(fastrand::u64(0..=pause.as_micros() as u64));
                std::thread::sleep((pause + jitter).min(deadline - now));
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot open database {}", path.display()))
            }
        }
    }
}

fn is_lock_error(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Other && e.to_string().contains("could not acquire lock")
}

/// Creates the database directory (and parents) mode 0700 so mail stays private.
fn create_private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("cannot create database directory {}", path.display()))
}

/// Records the schema version in a new database and refuses one from a newer postdesk.
pub fn check_schema(store: &Store) -> Result<()> {
    match store.meta.get(SCHEMA_KEY)? {
        Some(v) => {
            let found = u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0xff; 4]));
            if found > SCHEMA_VERSION {
                bail!(
                    "database {} has schema version {found}, written by a newer postdesk; this one understands up to {SCHEMA_VERSION}: upgrade postdesk",
                    store.path.display()
                );
            }
        }
        None => {
            store
                .meta
                .insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
        }
    }
    Ok(())
}

impl Store {
    /// Overwrites the recorded schema version (for tests and future migrations).
    pub fn set_schema_version(&self, version: u32) -> Result<()> {
        self.meta.insert(SCHEMA_KEY, &version.to_be_bytes())?;
        Ok(())
    }
}

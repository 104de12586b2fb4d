//! The desk's secret for Message-IDs (`mail::compose::message_id`): 32 random bytes
//! in `<data>/message-id.key`, mode 0600 (0660 on a group desk), made by `init` or
//! on first need. Made race-free: written whole to a temp file, then linked to its
//! name, which fails if another process linked first; everyone then reads the file
//! that won.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// Its file name in the data directory.
pub const KEY_FILE: &str = "message-id.key";
const KEY_LEN: usize = 32;

/// The key of the desk in `dir`, made now if there is none.
pub fn message_id_key(dir: &Path) -> Result<Vec<u8>> {
    let path = dir.join(KEY_FILE);
    match fs::read(&path) {
        Ok(key) => return checked(key, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    crate::mail::files::private_dir(dir)?;
    let mut key = [0u8; KEY_LEN];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .context("cannot read /dev/urandom for the Message-ID key")?;
    let tmp = dir.join(format!(
        ".{KEY_FILE}.{}.{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(crate::sharing::file_mode())
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(&key)?;
            f.sync_all()
        });
    let linked = written.and_then(|()| match fs::hard_link(&tmp, &path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let _ = fs::remove_file(&tmp);
    linked.with_context(|| format!("cannot create {}", path.display()))?;
    crate::mail::files::sync_dir(dir).with_context(|| format!("cannot sync {}", dir.display()))?;
    let key = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    checked(key, &path)
}

/// The key of the desk in `dir`, None if it has none yet.
pub fn existing_message_id_key(dir: &Path) -> Result<Option<Vec<u8>>> {
    let path = dir.join(KEY_FILE);
    match fs::read(&path) {
        Ok(key) => checked(key, &path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn checked(key: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if key.len() != KEY_LEN {
        bail!(
            "{}: {} bytes, not the {KEY_LEN} of a Message-ID key: remove it and a new one is made (replies to mail sent before then still thread by their references)",
            path.display(),
            key.len()
        );
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_made_once_and_read_back_by_everyone() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..8)
                .map(|_| s.spawn(|| message_id_key(dir.path()).unwrap()))
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| *k == keys[0] && k.len() == 32));
        let meta = fs::metadata(dir.path().join(KEY_FILE)).unwrap();
        assert_eq!(
            meta.permissions().mode() & 0o077 & !0o060,
            0,
            "no access for others"
        );
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp file left");
        assert_eq!(message_id_key(dir.path()).unwrap(), keys[0]);
    }

    #[test]
    fn a_damaged_key_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(KEY_FILE), b"short").unwrap();
        let err = format!("{:#}", message_id_key(dir.path()).unwrap_err());
        assert!(err.contains("remove it"), "{err}");
    }
}

//! The spool: every piped delivery lands here durably before anything else, so the
//! MTA can be told "stored" even while another process holds the database.
//! `<data>/spool/<arrival-ordered name>.eml`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::files::{unique_name, write_durably};

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

    pub fn is_empty(&self) -> bool {
        self.list().map(|l| l.is_empty()).unwrap_or(true)
    }
}

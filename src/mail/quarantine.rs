//! Mail that could not be parsed: kept as `<data>/quarantine/<id>.eml` with the
//! reason beside it in `<id>.reason`, never dropped until an admin says so.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::files::{sync_dir, unique_name, write_durably, write_durably_with};
use super::parse::strip_envelope;

pub struct Quarantine {
    dir: PathBuf,
}

/// One quarantined message.
#[derive(Debug, serde::Serialize)]
pub struct Entry {
    pub id: String,
    pub reason: String,
    pub size: u64,
    /// When it was quarantined (seconds UTC; the file's time).
    pub at: i64,
    /// From and Subject as far as its head can be read (empty when it cannot).
    pub from: String,
    pub subject: String,
}

impl Quarantine {
    pub fn new(data_dir: &Path) -> Quarantine {
        Quarantine {
            dir: data_dir.join("quarantine"),
        }
    }

    /// `<data>/quarantine/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores a message and its reason durably; returns the id.
    pub fn put(&self, raw: &[u8], reason: &str) -> Result<String> {
        let id = unique_name();
        write_durably(&self.dir, &format!("{id}.reason"), reason.as_bytes())?;
        write_durably(&self.dir, &format!("{id}.eml"), raw)?;
        Ok(id)
    }

    /// Stores a copy of the message in the file `path` (streamed, however large) and
    /// its reason durably; returns the id.
    pub fn put_file(&self, path: &Path, reason: &str) -> Result<String> {
        let id = unique_name();
        let mut file =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        write_durably(&self.dir, &format!("{id}.reason"), reason.as_bytes())?;
        write_durably_with(&self.dir, &format!("{id}.eml"), |out| {
            std::io::copy(&mut file, out).map(drop)
        })?;
        Ok(id)
    }

    pub fn list(&self) -> Result<Vec<Entry>> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).context("cannot read the quarantine"),
        };
        let mut entries = Vec::new();
        for item in rd {
            let path = item?.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".eml"))
            else {
                continue;
            };
            if id.starts_with('.') {
                continue;
            }
            let meta = path.metadata().ok();
            let (from, subject) = glimpse(&path);
            entries.push(Entry {
                id: id.to_string(),
                reason: self.reason(id).unwrap_or_default(),
                size: meta.as_ref().map_or(0, |m| m.len()),
                at: meta
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs() as i64),
                from,
                subject,
            });
        }
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(entries)
    }

    fn reason(&self, id: &str) -> Result<String> {
        Ok(std::fs::read_to_string(
            self.dir.join(format!("{id}.reason")),
        )?)
    }

    /// The raw bytes of a quarantined message.
    pub fn get(&self, id: &str) -> Result<Vec<u8>> {
        check_id(id)?;
        std::fs::read(self.dir.join(format!("{id}.eml"))).map_err(|e| missing_or(e, id))
    }

    /// Why the message `id` was quarantined.
    pub fn reason_of(&self, id: &str) -> Result<String> {
        self.existing(id)?;
        self.reason(id)
            .with_context(|| format!("quarantined message {id}: cannot read its reason"))
    }

    /// Replaces the reason of the message `id`: a retry that fails again keeps the
    /// message under its ID, with why it failed this time.
    pub fn set_reason(&self, id: &str, reason: &str) -> Result<()> {
        self.existing(id)?;
        write_durably(&self.dir, &format!("{id}.reason"), reason.as_bytes())
            .with_context(|| format!("quarantined message {id}: cannot write its reason"))?;
        Ok(())
    }

    /// Fails, naming `id` and what to do, unless the message `id` is quarantined.
    pub fn existing(&self, id: &str) -> Result<PathBuf> {
        check_id(id)?;
        let path = self.dir.join(format!("{id}.eml"));
        std::fs::metadata(&path).map_err(|e| missing_or(e, id))?;
        Ok(path)
    }

    /// Deletes a quarantined message for good.
    pub fn remove(&self, id: &str) -> Result<()> {
        check_id(id)?;
        std::fs::remove_file(self.dir.join(format!("{id}.eml"))).map_err(|e| missing_or(e, id))?;
        let _ = std::fs::remove_file(self.dir.join(format!("{id}.reason")));
        sync_dir(&self.dir)?;
        Ok(())
    }
}

/// From and Subject of a quarantined message, read leniently from its first 64 KB
/// (it is quarantined because it could not be parsed): empty when there are none.
fn glimpse(path: &Path) -> (String, String) {
    use mailparse::MailHeaderMap;
    use std::io::Read;
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(64 * 1024).read_to_end(&mut head));
    if read.is_err() {
        return Default::default();
    }
    let Ok((headers, _)) = mailparse::parse_headers(strip_envelope(&head)) else {
        return Default::default();
    };
    let value = |name| headers.get_first_value(name).unwrap_or_default();
    (value("From"), value("Subject"))
}

/// The error for a message that cannot be read: missing (a clean message, no OS
/// error, since the ID is what is wrong) or unreadable, named either way.
fn missing_or(error: std::io::Error, id: &str) -> anyhow::Error {
    if error.kind() == std::io::ErrorKind::NotFound {
        anyhow!("no quarantined message {id}: `postdesk ingest quarantine list` shows the IDs")
    } else {
        anyhow::Error::new(error).context(format!("cannot read quarantined message {id}"))
    }
}

fn check_id(id: &str) -> Result<()> {
    if id.is_empty() || id.contains('/') || id.starts_with('.') {
        bail!("'{id}' is not a quarantine ID: `postdesk ingest quarantine list` shows the IDs");
    }
    Ok(())
}

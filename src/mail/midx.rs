//! The multi-pack index of the mail store: one table, sorted by hash, of the
//! messages in the batch packs it covers. A lookup binary-searches it (a few dozen
//! small reads) instead of opening every batch pack's own index: with 5,000 batch
//! packs that scan took 8-48 ms, and IMAP polls and busy drains add packs daily.
//! `ingest spool` (cron) rewrites it once enough packs are not covered yet, and
//! lookups scan only those. Packs are never removed, so the index never names a
//! missing pack; a damaged or missing index only means a scan.
//!
//! Integers are little-endian:
//!
//! ```text
//! header   b"PDMIDX01", pack count (u32)
//! packs    per covered pack: name length (u16), its file name in mail/packs/
//! entries  sorted by sha256: sha256 (32), pack ordinal (u32), record offset (u64),
//!          length (u64)
//! trailer  entries offset (u64), entry count (u64), b"PDMIDXND"
//! ```

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{ensure, Context, Result};

use super::files::write_durably_with;
use super::pack::{self, u64_at, Entry};

/// The index's file name in `mail/packs/` (not a `.pack`, so never taken for one).
/// Held while the index is rewritten (a blocking flock).
const LOCK: &str = ".multi-pack.lock";
pub const FILE_NAME: &str = "multi-pack.idx";

const MAGIC: &[u8; 8] = b"PDMIDX01";
const END_MAGIC: &[u8; 8] = b"PDMIDXND";
const ENTRY_LEN: u64 = 32 + 4 + 8 + 8;
const TRAILER_LEN: u64 = 8 + 8 + 8;

/// An open multi-pack index.
pub struct MultiIndex {
    file: File,
    packs: Vec<String>,
    entries_at: u64,
    count: u64,
}

impl MultiIndex {
    /// The index in `dir`, if there is one; an error if it is damaged.
    pub fn open(dir: &Path) -> Result<Option<MultiIndex>> {
        let path = dir.join(FILE_NAME);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        let damaged = || format!("multi-pack index {} is damaged", path.display());
        let size = file.metadata().with_context(damaged)?.len();
        ensure!(
            size >= MAGIC.len() as u64 + 4 + TRAILER_LEN,
            "{}",
            damaged()
        );
        let trailer = read_at(&mut file, size - TRAILER_LEN, TRAILER_LEN).with_context(damaged)?;
        let entries_at = u64_at(&trailer, 0);
        let count = u64_at(&trailer, 8);
        let entries_end = count
            .checked_mul(ENTRY_LEN)
            .and_then(|len| len.checked_add(entries_at));
        ensure!(
            &trailer[16..] == END_MAGIC && entries_end == Some(size - TRAILER_LEN),
            "{}",
            damaged()
        );
        let head = read_at(&mut file, 0, entries_at).with_context(damaged)?;
        let packs = parse_packs(&head).with_context(damaged)?;
        Ok(Some(MultiIndex {
            file,
            packs,
            entries_at,
            count,
        }))
    }

    /// The file names of the packs it covers.
    pub fn packs(&self) -> &[String] {
        &self.packs
    }

    /// Where `hash` is: the name of its pack and its entry there.
    pub fn find(&mut self, hash: &[u8; 32]) -> Result<Option<(&str, Entry)>> {
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let mid = low + (high - low) / 2;
            let (entry, ordinal) = self.entry(mid)?;
            match entry.hash.cmp(hash) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => {
                    let pack = self
                        .packs
                        .get(ordinal as usize)
                        .context("multi-pack index names a pack it does not list")?;
                    return Ok(Some((pack, entry)));
                }
            }
        }
        Ok(None)
    }

    fn entry(&mut self, i: u64) -> Result<(Entry, u32)> {
        let bytes = read_at(&mut self.file, self.entries_at + i * ENTRY_LEN, ENTRY_LEN)?;
        Ok(parse_entry(&bytes))
    }

    /// Every entry, for a rewrite.
    fn entries(&mut self) -> Result<Vec<(Entry, u32)>> {
        let bytes = read_at(&mut self.file, self.entries_at, self.count * ENTRY_LEN)?;
        Ok(bytes
            .chunks_exact(ENTRY_LEN as usize)
            .map(parse_entry)
            .collect())
    }
}

/// Rewrites the index of the batch packs in `dir` if at least `min_new` of them are
/// not covered yet; returns how many packs it added. A pack whose own index cannot
/// be read is left out, and lookups keep scanning it. Callers hold the database, so
/// two rewrites never share the temp file.
pub fn update(dir: &Path, min_new: usize) -> Result<usize> {
    // One writer at a time, whoever holds the database: two would each rename a
    // whole index into place, and the later one could drop packs the other added.
    if !dir.is_dir() {
        return Ok(0);
    }
    let _lock = super::files::exclusive_lock(&dir.join(LOCK))?;
    // None yet, or damaged: build it afresh.
    let (mut packs, mut entries) = MultiIndex::open(dir)
        .ok()
        .flatten()
        .and_then(|mut index| {
            let entries = index.entries().ok()?;
            Some((index.packs, entries))
        })
        .unwrap_or_default();
    let covered: HashSet<String> = packs.iter().cloned().collect();
    let new: Vec<_> = pack::list_batch(dir)?
        .into_iter()
        .filter(|path| !covered.contains(&file_name(path)))
        .collect();
    if new.len() < min_new {
        return Ok(0);
    }
    let mut added = 0;
    for path in &new {
        let Ok(index) = File::open(path)
            .map_err(anyhow::Error::from)
            .and_then(|mut file| pack::read_index(&mut file, path))
        else {
            continue;
        };
        let ordinal = u32::try_from(packs.len()).context("too many packs to index")?;
        packs.push(file_name(path));
        entries.extend(index.into_iter().map(|entry| (entry, ordinal)));
        added += 1;
    }
    entries.sort_by_key(|(entry, _)| entry.hash);
    entries.dedup_by_key(|(entry, _)| entry.hash);
    write_durably_with(dir, FILE_NAME, |out| write_index(out, &packs, &entries))?;
    Ok(added)
}

fn write_index(
    out: &mut dyn Write,
    packs: &[String],
    entries: &[(Entry, u32)],
) -> std::io::Result<()> {
    let too_long = || std::io::Error::other("a pack name is too long");
    out.write_all(MAGIC)?;
    out.write_all(&(packs.len() as u32).to_le_bytes())?;
    let mut entries_at = MAGIC.len() as u64 + 4;
    for name in packs {
        let len = u16::try_from(name.len()).map_err(|_| too_long())?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(name.as_bytes())?;
        entries_at += 2 + name.len() as u64;
    }
    for (entry, ordinal) in entries {
        out.write_all(&entry.hash)?;
        out.write_all(&ordinal.to_le_bytes())?;
        out.write_all(&entry.offset.to_le_bytes())?;
        out.write_all(&entry.len.to_le_bytes())?;
    }
    out.write_all(&entries_at.to_le_bytes())?;
    out.write_all(&(entries.len() as u64).to_le_bytes())?;
    out.write_all(END_MAGIC)
}

fn parse_packs(head: &[u8]) -> Result<Vec<String>> {
    ensure!(
        head.len() >= MAGIC.len() + 4 && &head[..8] == MAGIC,
        "bad header"
    );
    let count = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    let mut rest = &head[12..];
    let mut packs = Vec::new();
    for _ in 0..count {
        ensure!(rest.len() >= 2, "pack list cut short");
        let len = u16::from_le_bytes([rest[0], rest[1]]) as usize;
        ensure!(rest.len() >= 2 + len, "pack list cut short");
        let name = String::from_utf8(rest[2..2 + len].to_vec()).context("pack name")?;
        // A name, never a path: the index must not send a lookup out of packs/.
        ensure!(
            name.ends_with(".pack") && !name.contains('/'),
            "bad pack name"
        );
        packs.push(name);
        rest = &rest[2 + len..];
    }
    ensure!(rest.is_empty(), "pack list longer than its count");
    Ok(packs)
}

fn parse_entry(bytes: &[u8]) -> (Entry, u32) {
    let entry = Entry {
        hash: bytes[..32].try_into().expect("32 bytes"),
        offset: u64_at(bytes, 36),
        len: u64_at(bytes, 44),
    };
    (
        entry,
        u32::from_le_bytes(bytes[32..36].try_into().expect("4 bytes")),
    )
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_at(file: &mut File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; len as usize];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::files::MailStore;
    use crate::mail::parse::hash_hex;

    /// Stores `packs` batches of 5 messages, each batch in a pack of its own.
    fn store_batches(store: &MailStore, first: usize, packs: usize) -> Vec<(String, Vec<u8>)> {
        let mut all = Vec::new();
        for p in first..first + packs {
            let messages: Vec<(String, Vec<u8>)> = (0..5)
                .map(|i| format!("Subject: pack {p} message {i}\r\n\r\nbody\r\n").into_bytes())
                .map(|raw| (hash_hex(&raw), raw))
                .collect();
            let batch: Vec<(&str, &[u8])> = messages
                .iter()
                .map(|(h, r)| (h.as_str(), r.as_slice()))
                .collect();
            store.put_all(&batch).unwrap();
            all.extend(messages);
        }
        all
    }

    /// Breaks the trailer of every batch pack, so that only the multi-pack index
    /// can still locate their messages.
    fn break_pack_indexes(dir: &Path) {
        for path in pack::list_batch(dir).unwrap() {
            let len = std::fs::metadata(&path).unwrap().len();
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(len - 1).unwrap();
        }
    }

    #[test]
    fn lookups_go_through_the_index_and_scan_only_newer_packs() {
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        let dir = store.packs();
        let old = store_batches(&store, 0, 20);
        assert_eq!(update(&dir, 16).unwrap(), 20);
        break_pack_indexes(&dir);
        for (hash, raw) in &old {
            assert_eq!(&store.get(hash).unwrap(), raw, "found through the index");
        }
        // A pack written after the index is found by scanning it.
        let new = store_batches(&store, 20, 1);
        assert_eq!(&store.get(&new[3].0).unwrap(), &new[3].1);
        // Below the threshold the index is left alone; at it, extended.
        assert_eq!(update(&dir, 2).unwrap(), 0);
        store_batches(&store, 21, 1);
        assert_eq!(update(&dir, 2).unwrap(), 2);
        let index = MultiIndex::open(&dir).unwrap().unwrap();
        assert_eq!(index.packs().len(), 22);
        let unknown = hash_hex(b"never stored");
        let err = format!("{:#}", store.get(&unknown).unwrap_err());
        assert!(err.contains("not found"), "{err}");
    }

    #[test]
    fn a_damaged_index_means_a_scan_and_is_rebuilt() {
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        let dir = store.packs();
        let messages = store_batches(&store, 0, 3);
        update(&dir, 1).unwrap();
        let path = dir.join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        let err = MultiIndex::open(&dir).err().expect("damaged");
        assert!(format!("{err:#}").contains("is damaged"), "{err:#}");
        assert_eq!(&store.get(&messages[7].0).unwrap(), &messages[7].1);
        assert_eq!(update(&dir, 1).unwrap(), 3, "rebuilt from the packs");
        assert_eq!(MultiIndex::open(&dir).unwrap().unwrap().packs().len(), 3);
    }
}

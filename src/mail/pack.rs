//! Pack files of the mail store: the raw messages of one `put_all` in one file, so a
//! batch costs one file creation and one fsync instead of one per message.
//!
//! A pack is written once and never changed. Integers are little-endian:
//!
//! ```text
//! header   b"PDPACK01"
//! records  b"PDM1", sha256 of the bytes (32), length (u64), the bytes
//! index    one entry per record, sorted by sha256: sha256 (32), record offset (u64),
//!          length (u64)
//! trailer  index offset (u64), entry count (u64), b"PDINDEX1"
//! ```
//!
//! The records alone describe the messages (see [`scan`]), so the database can be
//! checked against, or rebuilt from, the packs; the index lets a lookup read a few
//! KB per pack instead of the whole pack.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};

use super::files::{sync_dir, unique_name, write_durably_with, write_file_durably};
use super::midx::MultiIndex;
use super::parse::hash_hex;

const PACK_MAGIC: &[u8; 8] = b"PDPACK01";
const RECORD_MAGIC: &[u8; 4] = b"PDM1";
const INDEX_MAGIC: &[u8; 8] = b"PDINDEX1";
const RECORD_HEADER_LEN: u64 = 4 + 32 + 8;
const ENTRY_LEN: u64 = 32 + 8 + 8;
const TRAILER_LEN: u64 = 8 + 8 + 8;

/// Where one message sits in a pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub hash: [u8; 32],
    /// Offset of the record header.
    pub offset: u64,
    /// Length of the message bytes.
    pub len: u64,
}

/// Batches this large share one pack; smaller ones get a pack under each message's
/// name (one file, linked: see [`write_each`]).
pub const BATCH_PACK_MIN: usize = 4;

/// Writes `messages` (sha256 hex, bytes) as a new pack in `dir`, durably; returns its path.
pub fn write(dir: &Path, messages: &[(&str, &[u8])]) -> Result<PathBuf> {
    write_durably_with(dir, &format!("{}.pack", unique_name()), fill(messages)?)
}

/// Writes the messages as one pack, `<sha256 of the first>.pack`, synced once, and
/// links it under each other message's name, `<sha256>.pack` (a name already there
/// holds that message already), then syncs `dir` once: each is found at once by
/// its name, and a delivery with its notifications costs one file sync, not one
/// a message.
pub fn write_each(dir: &Path, messages: &[(&str, &[u8])]) -> Result<()> {
    let Some((first, rest)) = messages.split_first() else {
        return Ok(());
    };
    let path = write_file_durably(dir, &format!("{}.pack", first.0), fill(messages)?)?;
    for (hash, _) in rest {
        let name = dir.join(format!("{hash}.pack"));
        match std::fs::hard_link(&path, &name) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(e).with_context(|| format!("cannot link {}", name.display()));
            }
            _ => {}
        }
    }
    sync_dir(dir).with_context(|| format!("cannot sync {}", dir.display()))
}

/// What writes a pack of `messages`: header, records, index.
fn fill<'a>(
    messages: &'a [(&str, &[u8])],
) -> Result<impl FnOnce(&mut dyn Write) -> std::io::Result<()> + 'a> {
    let entries = layout(messages)?;
    Ok(move |out: &mut dyn Write| {
        out.write_all(PACK_MAGIC)?;
        for (entry, (_, raw)) in entries.iter().zip(messages) {
            write_record_header(out, entry)?;
            out.write_all(raw)?;
        }
        write_index(out, &entries)
    })
}

/// The entries of `messages` in file order, offsets counted from the pack header.
fn layout(messages: &[(&str, &[u8])]) -> Result<Vec<Entry>> {
    let mut offset = PACK_MAGIC.len() as u64;
    messages
        .iter()
        .map(|(hash, raw)| {
            let entry = Entry {
                hash: parse_hash(hash)?,
                offset,
                len: raw.len() as u64,
            };
            offset += RECORD_HEADER_LEN + entry.len;
            Ok(entry)
        })
        .collect()
}

fn write_record_header(out: &mut dyn Write, entry: &Entry) -> std::io::Result<()> {
    out.write_all(RECORD_MAGIC)?;
    out.write_all(&entry.hash)?;
    out.write_all(&entry.len.to_le_bytes())
}

/// The sorted index and the trailer, after the last record.
fn write_index(out: &mut dyn Write, entries: &[Entry]) -> std::io::Result<()> {
    let index_offset = entries.last().map_or(PACK_MAGIC.len() as u64, |e| {
        e.offset + RECORD_HEADER_LEN + e.len
    });
    let mut sorted = entries.to_vec();
    sorted.sort_by_key(|e| e.hash);
    for entry in &sorted {
        out.write_all(&entry.hash)?;
        out.write_all(&entry.offset.to_le_bytes())?;
        out.write_all(&entry.len.to_le_bytes())?;
    }
    out.write_all(&index_offset.to_le_bytes())?;
    out.write_all(&(sorted.len() as u64).to_le_bytes())?;
    out.write_all(INDEX_MAGIC)
}

/// The packs in `dir`, by name (arrival order); none if the directory is missing.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut packs = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Temp files of unfinished writes start with a dot.
        if name.ends_with(".pack") && !name.starts_with('.') {
            packs.push(entry.path());
        }
    }
    packs.sort();
    Ok(packs)
}

/// The packs in `dir` that hold a batch; packs named by a hash hold that message only.
pub fn list_batch(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(list(dir)?
        .into_iter()
        .filter(|p| !named_by_hash(p))
        .collect())
}

/// Looks `hash` up in the packs in `dir` and returns its verified bytes: its own
/// pack, else the multi-pack index, else the indexes of the batch packs that index
/// does not cover. A pack whose index cannot be read is skipped, and named if the
/// hash is not found.
pub fn find(dir: &Path, hash: &str) -> Result<Option<Vec<u8>>> {
    let wanted = parse_hash(hash)?;
    let own = dir.join(format!("{hash}.pack"));
    if let Some(bytes) = find_in(&own, &wanted, hash)? {
        return Ok(Some(bytes));
    }
    // The multi-pack index answers for the batch packs it covers; a damaged one,
    // or a pack it names that cannot be read, only means scanning them.
    let mut covered = std::collections::HashSet::new();
    if let Ok(Some(mut index)) = MultiIndex::open(dir) {
        match index.find(&wanted) {
            Ok(Some((pack, entry))) => {
                let path = dir.join(pack);
                let found = File::open(&path)
                    .map_err(anyhow::Error::from)
                    .and_then(|mut file| read_record(&mut file, &path, &entry, hash));
                if let Ok(bytes) = found {
                    return Ok(Some(bytes));
                }
            }
            Ok(None) => covered.extend(index.packs().iter().map(|name| dir.join(name))),
            Err(_) => {}
        }
    }
    let mut unreadable = Vec::new();
    let batch_packs = list_batch(dir)?
        .into_iter()
        .filter(|p| !covered.contains(p));
    for path in batch_packs {
        let mut file =
            File::open(&path).with_context(|| format!("cannot open pack {}", path.display()))?;
        match read_index(&mut file, &path) {
            Ok(index) => {
                if let Ok(i) = index.binary_search_by_key(&wanted, |e| e.hash) {
                    return read_record(&mut file, &path, &index[i], hash).map(Some);
                }
            }
            Err(e) => unreadable.push(format!("{e:#}")),
        }
    }
    if !unreadable.is_empty() {
        bail!(
            "stored mail {hash} not found; unreadable packs: {}",
            unreadable.join("; ")
        );
    }
    Ok(None)
}

/// The message `wanted` from the one-message pack `path`, if that pack exists.
fn find_in(path: &Path, wanted: &[u8; 32], hash: &str) -> Result<Option<Vec<u8>>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open pack {}", path.display())),
    };
    let index = read_index(&mut file, path)?;
    match index.iter().find(|e| &e.hash == wanted) {
        Some(entry) => read_record(&mut file, path, entry, hash).map(Some),
        None => bail!(
            "pack {} does not hold the message it is named after",
            path.display()
        ),
    }
}

fn named_by_hash(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The index of the pack open as `file`, sorted by hash.
pub fn read_index(file: &mut File, path: &Path) -> Result<Vec<Entry>> {
    let (index_offset, count) = read_trailer(file, path)?;
    let index = read_at(file, path, index_offset, count * ENTRY_LEN)?;
    Ok(index
        .chunks_exact(ENTRY_LEN as usize)
        .map(|chunk| Entry {
            hash: chunk[..32].try_into().expect("32 bytes"),
            offset: u64_at(chunk, 32),
            len: u64_at(chunk, 40),
        })
        .collect())
}

/// The index offset and entry count, checked against the magic and the file's size.
fn read_trailer(file: &mut File, path: &Path) -> Result<(u64, u64)> {
    let size = file_size(file, path)?;
    let broken = || format!("pack {} has no valid index", path.display());
    ensure!(
        size >= PACK_MAGIC.len() as u64 + TRAILER_LEN,
        "{}",
        broken()
    );
    let trailer = read_at(file, path, size - TRAILER_LEN, TRAILER_LEN)?;
    let index_offset = u64_at(&trailer, 0);
    let count = u64_at(&trailer, 8);
    let index_end = count
        .checked_mul(ENTRY_LEN)
        .and_then(|len| len.checked_add(index_offset));
    let valid = &trailer[16..] == INDEX_MAGIC && index_end == Some(size - TRAILER_LEN);
    ensure!(valid, "{}", broken());
    Ok((index_offset, count))
}

/// The bytes of the record at `entry`, checked against its header and its hash.
fn read_record(file: &mut File, path: &Path, entry: &Entry, hash: &str) -> Result<Vec<u8>> {
    let corrupt = |what: &str| {
        format!(
            "stored mail {hash} in pack {} is corrupt: {what}",
            path.display()
        )
    };
    let header = read_at(file, path, entry.offset, RECORD_HEADER_LEN)
        .with_context(|| corrupt("its record is cut short"))?;
    let header_matches = &header[..4] == RECORD_MAGIC
        && header[4..36] == entry.hash
        && u64_at(&header, 36) == entry.len;
    ensure!(
        header_matches,
        "{}",
        corrupt("its record header does not match the index")
    );
    let bytes = read_at(file, path, entry.offset + RECORD_HEADER_LEN, entry.len)
        .with_context(|| corrupt("its record is cut short"))?;
    let actual = hash_hex(&bytes);
    ensure!(
        actual == hash,
        "{}",
        corrupt(&format!("its bytes hash to {actual}"))
    );
    Ok(bytes)
}

/// The records of a pack read one after the other, without its index: what a check
/// or a rebuild of the database walks. Up to the index; in a pack whose index is
/// damaged, up to the first bytes that are not a whole record.
pub fn scan(path: &Path) -> Result<Vec<Entry>> {
    let mut file =
        File::open(path).with_context(|| format!("cannot open pack {}", path.display()))?;
    let magic = read_at(&mut file, path, 0, PACK_MAGIC.len() as u64)?;
    ensure!(magic == PACK_MAGIC, "{} is not a mail pack", path.display());
    let (end, indexed) = match read_trailer(&mut file, path) {
        Ok((index_offset, _)) => (index_offset, true),
        Err(_) => (file_size(&file, path)?, false),
    };
    let mut entries = Vec::new();
    let mut offset = PACK_MAGIC.len() as u64;
    while offset < end {
        match record_at(&mut file, path, offset, end) {
            Some(entry) => entries.push(entry),
            None if indexed => bail!("pack {}: no record at offset {offset}", path.display()),
            None => break,
        }
        offset += RECORD_HEADER_LEN + entries[entries.len() - 1].len;
    }
    Ok(entries)
}

/// The record whose header is at `offset`, if it is one and ends by `end`.
fn record_at(file: &mut File, path: &Path, offset: u64, end: u64) -> Option<Entry> {
    let header = read_at(file, path, offset, RECORD_HEADER_LEN).ok()?;
    let entry = Entry {
        hash: header[4..36].try_into().expect("32 bytes"),
        offset,
        len: u64_at(&header, 36),
    };
    let whole = (offset + RECORD_HEADER_LEN)
        .checked_add(entry.len)
        .is_some_and(|record_end| record_end <= end);
    (&header[..4] == RECORD_MAGIC && whole).then_some(entry)
}

fn file_size(file: &File, path: &Path) -> Result<u64> {
    Ok(file
        .metadata()
        .with_context(|| format!("cannot read pack {}", path.display()))?
        .len())
}

/// `len` bytes at `offset`; an error, not a huge allocation, if the file is shorter.
fn read_at(file: &mut File, path: &Path, offset: u64, len: u64) -> Result<Vec<u8>> {
    let size = file_size(file, path)?;
    ensure!(
        offset.checked_add(len).is_some_and(|end| end <= size),
        "pack {} is cut short: {len} bytes at offset {offset} past its end ({size})",
        path.display()
    );
    let mut buf = vec![0; len as usize];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut buf))
        .with_context(|| format!("cannot read pack {} at offset {offset}", path.display()))?;
    Ok(buf)
}

pub(super) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// A sha256 in lowercase hex (as the database records it) as raw bytes.
fn parse_hash(hex: &str) -> Result<[u8; 32]> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut hash = [0; 32];
    let valid = hex.len() == 64
        && hash
            .iter_mut()
            .zip(hex.as_bytes().chunks_exact(2))
            .all(|(byte, pair)| match (digit(pair[0]), digit(pair[1])) {
                (Some(high), Some(low)) => {
                    *byte = high << 4 | low;
                    true
                }
                _ => false,
            });
    ensure!(valid, "not a sha256 hash: {hex:?}");
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::files::MailStore;

    fn message(i: usize) -> Vec<u8> {
        format!("Subject: message {i}\r\n\r\n{}\r\n", "body ".repeat(i % 50)).into_bytes()
    }

    /// Stores `count` messages in one batch; returns them with their hashes.
    fn stored(store: &MailStore, count: usize) -> Vec<(String, Vec<u8>)> {
        let messages: Vec<(String, Vec<u8>)> = (0..count)
            .map(message)
            .map(|raw| (hash_hex(&raw), raw))
            .collect();
        let batch: Vec<(&str, &[u8])> = messages
            .iter()
            .map(|(hash, raw)| (hash.as_str(), raw.as_slice()))
            .collect();
        store.put_all(&batch).unwrap();
        messages
    }

    /// The one batch pack in the store.
    fn only_pack(db: &Path) -> PathBuf {
        let packs = list_batch(&db.join("mail/packs")).unwrap();
        assert_eq!(packs.len(), 1, "{packs:?}");
        packs[0].clone()
    }

    #[test]
    fn many_messages_round_trip_through_one_pack() {
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        let messages = stored(&store, 700);
        let pack = only_pack(db.path());
        for (hash, raw) in &messages {
            assert_eq!(&store.get(hash).unwrap(), raw);
        }
        // The records alone say what the index says.
        let mut scanned = scan(&pack).unwrap();
        scanned.sort_by_key(|e| e.hash);
        let index = read_index(&mut File::open(&pack).unwrap(), &pack).unwrap();
        assert_eq!(scanned, index);
    }

    #[test]
    fn packs_are_private_and_no_temp_file_is_left() {
        use std::os::unix::fs::PermissionsExt;
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        stored(&store, 3);
        let (hash, raw) = (hash_hex(b"one"), b"one".as_slice());
        store.put(&hash, raw).unwrap();
        assert_eq!(store.get(&hash).unwrap(), raw);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = db.path().join("mail/packs");
        assert_eq!(mode(&dir), 0o700);
        let names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(
            names.len(),
            4,
            "below {BATCH_PACK_MIN} messages, a pack per message: {names:?}"
        );
        for name in names {
            assert!(named_by_hash(&name), "{name:?}");
            assert_eq!(mode(&name), 0o600);
        }
    }

    #[test]
    fn an_unknown_hash_is_an_error_naming_it() {
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        let unknown = hash_hex(b"never stored");
        let err = format!("{:#}", store.get(&unknown).unwrap_err());
        assert!(err.contains(&unknown) && err.contains("not found"), "{err}");
        stored(&store, 5);
        let err = format!("{:#}", store.get(&unknown).unwrap_err());
        assert!(err.contains(&unknown) && err.contains("not found"), "{err}");
        let err = format!("{:#}", store.get("../../etc/passwd").unwrap_err());
        assert!(err.contains("not a sha256"), "{err}");
    }

    #[test]
    fn a_corrupted_record_is_detected_and_named() {
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        let messages = stored(&store, 40);
        let pack = only_pack(db.path());
        let (hash, raw) = &messages[4];
        let mut bytes = std::fs::read(&pack).unwrap();
        let at = bytes
            .windows(raw.len())
            .position(|w| w == raw.as_slice())
            .unwrap();
        bytes[at + 3] ^= 0x20;
        std::fs::write(&pack, &bytes).unwrap();
        let err = format!("{:#}", store.get(hash).unwrap_err());
        assert!(
            err.contains(hash.as_str())
                && err.contains(&pack.display().to_string())
                && err.contains("corrupt"),
            "{err}"
        );
        assert_eq!(&store.get(&messages[5].0).unwrap(), &messages[5].1);
    }

    #[test]
    fn a_pack_without_its_index_is_named_when_a_hash_is_missing() {
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        let messages = stored(&store, 40);
        let pack = only_pack(db.path());
        let size = std::fs::metadata(&pack).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&pack).unwrap();
        file.set_len(size - 10).unwrap();
        let err = format!("{:#}", store.get(&messages[0].0).unwrap_err());
        assert!(err.contains(&pack.display().to_string()), "{err}");
        // The records still say what the pack held.
        assert_eq!(scan(&pack).unwrap().len(), 40);
    }

    #[test]
    fn a_lone_message_is_found_by_its_name_without_reading_batch_packs() {
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        stored(&store, 40);
        let batch = only_pack(db.path());
        let raw = b"Subject: alone\r\n\r\nhi\r\n";
        let hash = hash_hex(raw);
        store.put(&hash, raw).unwrap();
        assert!(db.path().join(format!("mail/packs/{hash}.pack")).is_file());
        // A batch pack with a broken index is not even looked at.
        std::fs::write(&batch, b"PDPACK01 broken").unwrap();
        assert_eq!(store.get(&hash).unwrap(), raw);
    }

    #[test]
    fn loose_files_of_an_older_store_are_still_read() {
        let db = tempfile::tempdir().unwrap();
        let store = MailStore::new(db.path());
        stored(&store, 3);
        let raw = b"Subject: from before packs\r\n\r\nhi\r\n";
        let hash = hash_hex(raw);
        let loose = db.path().join("mail").join(format!("{hash}.eml"));
        std::fs::write(&loose, raw).unwrap();
        assert_eq!(store.get(&hash).unwrap(), raw);
        std::fs::write(&loose, b"tampered").unwrap();
        let err = format!("{:#}", store.get(&hash).unwrap_err());
        assert!(
            err.contains(&loose.display().to_string()) && err.contains("corrupt"),
            "{err}"
        );
    }

    #[test]
    fn a_failed_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let failed = write_durably_with(dir.path(), "x.pack", |out| {
            out.write_all(PACK_MAGIC)?;
            Err(std::io::Error::other("disk full"))
        });
        let err = format!("{:#}", failed.unwrap_err());
        assert!(err.contains("x.pack") && err.contains("disk full"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

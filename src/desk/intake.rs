//! Feeding sources to the pipeline: batches, the spool drain, and the MTA delivery path.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};

use super::ingest::{Outcome, Pipeline, Processed, Summary};
use super::Desk;
use crate::mail::files::sync_dir;
use crate::mail::mbox::Entry;
use crate::mail::spool::Spool;
use crate::store::{Indexing, Locked};

/// Messages per transaction (and per flush) in bulk ingest.
pub const BATCH: usize = 500;
/// Bytes of messages per batch: a batch ends once it holds this much, so memory
/// follows bytes, not the count of messages (47 large messages took 6.8 GB).
pub const BATCH_BYTES: usize = 16 << 20;

/// A message from a source.
pub enum Item {
    /// Its bytes, and the file it came from, if any.
    Mail(Vec<u8>, Option<PathBuf>),
    /// A message over `ingest.max_message_size`, never read whole: quarantined with
    /// the reason, as a copy of its file or, without one, its head.
    TooLarge {
        reason: String,
        head: Vec<u8>,
        file: Option<PathBuf>,
    },
}

impl Item {
    /// The message in the file at `path`, read only if it is `limit` bytes or less.
    pub fn read_file(path: PathBuf, limit: u64) -> std::io::Result<Item> {
        use std::io::Read;
        let file = std::fs::File::open(&path)?;
        let size = file.metadata()?.len();
        if size <= limit {
            // Bounded even if the file grows meanwhile.
            let mut raw = Vec::with_capacity(size as usize);
            file.take(limit + 1).read_to_end(&mut raw)?;
            if raw.len() as u64 <= limit {
                return Ok(Item::Mail(raw, Some(path)));
            }
        }
        Ok(Item::TooLarge {
            reason: too_large(&path.display().to_string(), size.max(limit + 1), limit),
            head: Vec::new(),
            file: Some(path),
        })
    }

    /// A message read by [`MboxReader`](crate::mail::mbox::MboxReader) from `mbox`.
    pub fn from_mbox(entry: Entry, mbox: &std::path::Path, limit: u64) -> Item {
        match entry {
            Entry::Message(raw) => Item::Mail(raw, None),
            Entry::TooLarge { head, size, offset } => Item::TooLarge {
                reason: format!(
                    "{}; only its first {} KB are kept here, the whole message is in the mbox",
                    too_large(
                        &format!("the message at byte {offset} of {}", mbox.display()),
                        size,
                        limit
                    ),
                    head.len() / 1024
                ),
                head,
                file: None,
            },
        }
    }
}

/// The reason a message over the size limit is quarantined unparsed.
pub fn too_large(what: &str, size: u64, limit: u64) -> String {
    format!("{what} has {size} bytes, over ingest.max_message_size ({limit}): not parsed")
}

/// Ingests `items` in batches of at most [`BATCH`] messages and about [`BATCH_BYTES`]
/// (a message over `ingest.max_message_size` is quarantined unread). After each
/// batch is durable, `finish` is called with the source files of that batch (never
/// in a dry run); `seen` gets every result, with the file it came from, if any.
pub fn ingest_all(
    pipeline: &Pipeline,
    items: impl Iterator<Item = Result<Item>>,
    dry_run: bool,
    mut finish: impl FnMut(&[PathBuf]) -> Result<()>,
    mut seen: impl FnMut(&Processed, Option<&Path>),
) -> Result<Summary> {
    let mut summary = Summary::default();
    let mut raws = Vec::with_capacity(BATCH);
    // The file of each of `raws`, to tell `seen`.
    let mut raw_files: Vec<Option<PathBuf>> = Vec::with_capacity(BATCH);
    let mut paths = Vec::new();
    let mut items = items.peekable();
    while items.peek().is_some() {
        raws.clear();
        raw_files.clear();
        paths.clear();
        let (mut count, mut bytes) = (0, 0);
        while count < BATCH && bytes < BATCH_BYTES {
            let Some(item) = items.next() else { break };
            count += 1;
            match item? {
                Item::Mail(raw, path) => {
                    bytes += raw.len();
                    raws.push(raw);
                    raw_files.push(path.clone());
                    paths.extend(path);
                }
                Item::TooLarge { reason, head, file } => {
                    let processed = pipeline.quarantine_unparsed(&head, file.as_deref(), reason)?;
                    summary.add(&processed.outcome);
                    seen(&processed, file.as_deref());
                    paths.extend(file);
                }
            }
        }
        if !raws.is_empty() {
            // One result per message, in order.
            for (processed, file) in pipeline.run_batch(&raws)?.iter().zip(&raw_files) {
                summary.add(&processed.outcome);
                seen(processed, file.as_deref());
            }
        }
        if !dry_run {
            finish(&paths)?;
        }
    }
    Ok(summary)
}

/// Processes everything in the spool.
pub fn drain(pipeline: &Pipeline, spool: &Spool) -> Result<Summary> {
    drain_until(pipeline, spool, None, &mut |_, _| {})
}

/// Tells a drain's caller what became of each spooled file.
type Seen<'s> = &'s mut dyn FnMut(&Processed, Option<&Path>);

/// Processes the spool until it is empty or, between listings, `deadline` has
/// passed: while mail keeps arriving, an undated drain would never end.
fn drain_until(
    pipeline: &Pipeline,
    spool: &Spool,
    deadline: Option<Instant>,
    seen: Seen,
) -> Result<Summary> {
    let mut total = Summary::default();
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(total);
        }
        let files = spool.list()?;
        if files.is_empty() {
            return Ok(total);
        }
        // A file can vanish if an admin cleans up meanwhile: skip it. Any other
        // failure (say, a spool file another user wrote 0600) must stop the drain
        // rather than leave it looping over a file it cannot read.
        let limit = pipeline.max_message_size();
        let items = files
            .into_iter()
            .filter_map(|p| match Item::read_file(p.clone(), limit) {
                Ok(item) => Some(Ok(item)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => Some(Err(anyhow::Error::new(e)
                    .context(format!("cannot read spooled message {}", p.display())))),
            });
        let summary = ingest_all(pipeline, items, false, remove_all, &mut *seen)?;
        total.merge(summary);
    }
}

fn remove_all(paths: &[PathBuf]) -> Result<()> {
    for path in paths {
        std::fs::remove_file(path)
            .with_context(|| format!("cannot remove spooled {}", path.display()))?;
    }
    if let Some(dir) = paths.first().and_then(|p| p.parent()) {
        sync_dir(dir)?;
    }
    Ok(())
}

/// A bulk import (`ingest mbox`, `ingest maildir`): the database held from before
/// the first message is read until the end, batches as [`ingest_all`] makes them,
/// words indexed at the end ([`Pipeline::importing`]); `seen` is told of each
/// message processed.
pub fn import(
    desk: &Desk,
    items: impl Iterator<Item = Result<Item>>,
    dry_run: bool,
    finish: impl FnMut(&[PathBuf]) -> Result<()>,
    mut seen: impl FnMut(&Processed),
) -> Result<Summary> {
    let pipeline = Pipeline::new(desk, dry_run)?.importing().dated_by_mail();
    desk.storage.hold()?;
    let summary = ingest_all(&pipeline, items, dry_run, finish, |p, _| seen(p))?;
    if !dry_run {
        desk.storage.index_deferred_words(Indexing::All)?;
    }
    Ok(summary)
}

/// `ingest quarantine retry`: the quarantined messages `ids` through the pipeline
/// again, each removed from the quarantine only once the batch is stored. One that
/// still cannot be used stays in the quarantine under its ID, with the new reason,
/// so the ID the admin holds keeps working. Returns each ID with its outcome.
pub fn retry_quarantined(desk: &Desk, ids: &[String]) -> Result<Vec<(String, Processed)>> {
    let quarantine = desk.storage.quarantine();
    let mut ids = ids.to_vec();
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    let raws = ids
        .iter()
        .map(|id| quarantine.get(id))
        .collect::<Result<Vec<_>>>()?;
    let pipeline = Pipeline::new(desk, false)?;
    let mut outcomes: Vec<Option<Processed>> = vec![None; ids.len()];
    let (mut usable, mut usable_at) = (Vec::new(), Vec::new());
    for (i, raw) in raws.into_iter().enumerate() {
        match pipeline.quarantine_reason(&raw) {
            Some(reason) => {
                quarantine.set_reason(&ids[i], &reason)?;
                let id = Some(ids[i].clone());
                outcomes[i] = Some(Processed::unread(Outcome::Quarantined { reason, id }));
            }
            None => {
                usable.push(raw);
                usable_at.push(i);
            }
        }
    }
    for (i, processed) in usable_at.iter().zip(pipeline.run_batch(&usable)?) {
        outcomes[*i] = Some(processed);
    }
    usable_at
        .iter()
        .try_for_each(|&i| quarantine.remove(&ids[i]))?;
    Ok(ids
        .into_iter()
        .zip(outcomes.into_iter().flatten())
        .collect())
}

/// What `ingest spool` did.
pub struct SpoolRun {
    pub summary: Summary,
    /// Temp files of interrupted writes removed.
    pub removed: usize,
}

/// `ingest spool` (cron): drains the spool, lets the database go, brings the mail
/// store's index up to date and removes what interrupted writes left behind.
pub fn process_spool(desk: &Desk) -> Result<SpoolRun> {
    let pipeline = Pipeline::new(desk, false)?;
    let summary = drain(&pipeline, desk.storage.spool())?;
    desk.storage.release();
    index_mail(desk)?;
    let removed = remove_leftovers(desk)?;
    Ok(SpoolRun { summary, removed })
}

/// `ingest --dry-run` on stdin: what the message would do, with nothing spooled,
/// stored or written.
pub fn rehearse_delivery(desk: &Desk, raw: Vec<u8>) -> Result<Vec<Processed>> {
    Pipeline::new(desk, true)?.run_batch(&[raw])
}

/// Removes what crashed writers left in the data directory: temp files of the spool,
/// the quarantine and the mail store not touched for an hour (a live writer's are
/// seconds old). `ingest spool`, run from cron, does it after draining.
pub fn remove_leftovers(desk: &Desk) -> Result<usize> {
    const STALE: Duration = Duration::from_secs(3600);
    desk.storage.remove_stale_temps(STALE)
}

/// Brings the mail store's multi-pack index up to date, so looking a message up
/// does not open every batch pack ([`crate::mail::midx`]). `ingest spool` does it
/// after draining; the index has a lock of its own.
pub fn index_mail(desk: &Desk) -> Result<usize> {
    desk.storage.mail().maintain()
}

/// How long a drainer keeps the database while mail keeps arriving: shell commands
/// get their turn, and another delivery takes over the draining.
const MAX_HOLD: Duration = Duration::from_millis(250);
/// How long a drainer that let go of a busy spool waits for a newer delivery to
/// take the drain lock before it takes the lock back itself.
const HANDOFF: Duration = Duration::from_millis(5);

/// Drains, and while other deliveries keep arriving (a drain found more than one
/// message), keeps the database a little longer to take them in the same open:
/// opening costs far more than a message. A lone delivery never lingers (but drains
/// again when mail is already waiting), and the database is released after
/// [`MAX_HOLD`] at most so shell commands get their turn.
fn drain_while_busy(pipeline: &Pipeline, spool: &Spool, seen: Seen) -> Result<Summary> {
    const LINGER: Duration = Duration::from_millis(8);
    let deadline = Instant::now() + MAX_HOLD;
    let mut total = Summary::default();
    loop {
        let summary = drain_until(pipeline, spool, Some(deadline), &mut *seen)?;
        let busy = summary.total() > 1;
        total.merge(summary);
        if Instant::now() >= deadline {
            return Ok(total);
        }
        let until = Instant::now() + if busy { LINGER } else { Duration::ZERO };
        while spool.is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        if spool.is_empty() {
            return Ok(total);
        }
    }
}

/// After a delivery was spooled: make sure a drainer processes it.
///
/// Takes the spool's drain lock without waiting. Held elsewhere: leave at once, the
/// holder looks at the spool after letting go ([`Spool::try_drain_lock`]). Taken:
/// open the database (waiting up to the lock wait for a shell command to finish), drain
/// the whole spool, let go, and look again; whatever arrived meanwhile is drained by
/// whoever takes the lock first. When the database cannot be had, the mail stays
/// spooled for the next delivery or `ingest spool`. `mine` is the delivery's spool
/// file: what became of it, when this process drained it, is in the result.
pub fn settle(desk: &Desk, mine: &Path) -> Result<Settled> {
    let spool = desk.storage.spool();
    let mut settled = Settled::default();
    if spool.is_watched() {
        // `ingest spool --watch` runs: it picks the message up within moments.
        return Ok(settled);
    }
    let mut seen = |p: &Processed, file: Option<&Path>| {
        if file == Some(mine) {
            settled.mine = Some(p.clone());
        }
    };
    // Rules are loaded only by the process that drains.
    let mut pipeline = None;
    let mut total = Summary::default();
    while let Some(lock) = spool.try_drain_lock()? {
        desk.storage.hold()?;
        let pipeline = match &pipeline {
            Some(p) => p,
            None => pipeline.insert(Pipeline::new(desk, false)?),
        };
        total.merge(drain_while_busy(pipeline, spool, &mut seen)?);
        drop(lock);
        if spool.is_empty() {
            // Still held: the process ends, and its writes are flushed.
            break;
        }
        // Mail arrived between our last look and letting go: release the database
        // for real, and give a delivery that arrives meanwhile the chance to take
        // over. Under a steady stream one arrives within milliseconds; without the
        // pause this process took the lock straight back and drained the whole
        // stream, holding up the MTA's delivery slot that ran it.
        desk.storage.release();
        std::thread::sleep(HANDOFF);
    }
    settled.summary = total;
    Ok(settled)
}

/// What [`settle`] did.
#[derive(Debug, Default)]
pub struct Settled {
    /// Every message this process drained.
    pub summary: Summary,
    /// The delivery's own message; None when another process (the drainer holding
    /// the lock, or `ingest spool --watch`) has it to process.
    pub mine: Option<Processed>,
}

/// Where a delivery on stdin goes: the desk, or, when its config did not load, the
/// data directory that can still be found without it.
pub enum DeskOrFallback<'a> {
    /// The config loaded.
    Desk(&'a Desk),
    /// The config (or the desk built from it) failed with `error`; `db` is `--db` or
    /// `POSTDESK_DB` and `config` the config file given, if any (see
    /// [`fallback_data_dir`]).
    ConfigFailed {
        error: anyhow::Error,
        db: Option<PathBuf>,
        config: Option<PathBuf>,
    },
}

/// What became of a delivery that was spooled (exit 0: the mail is safe).
#[derive(Debug)]
pub enum Delivered {
    /// Spooled and settled: drained here, or left to the process that drains or
    /// watches the spool (then `mine` is None), which is spooled at `spooled`.
    Processed { settled: Settled, spooled: PathBuf },
    /// The config failed: the message waits in the spool, at `spooled`, until the
    /// config is fixed and `ingest spool` runs.
    SpooledConfigBroken {
        spooled: PathBuf,
        error: anyhow::Error,
    },
    /// Spooled, but draining failed (say, the database was held past the lock
    /// wait): the message waits at `spooled` for the next delivery or `ingest spool`.
    SpooledSettleFailed {
        spooled: PathBuf,
        error: anyhow::Error,
    },
}

/// The MTA's delivery: writes the message read from `stdin` to the spool durably,
/// then sees it processed ([`settle`]). A config that failed still spools, in the
/// data directory named without it. An error means the message was not spooled
/// (the MTA should try again later); once spooled, a failure is an outcome.
pub fn deliver(to: DeskOrFallback<'_>, stdin: &mut dyn Read) -> Result<Delivered> {
    match to {
        DeskOrFallback::Desk(desk) => {
            let spooled = spool_from(desk.storage.spool(), stdin)?;
            Ok(match settle(desk, &spooled) {
                Ok(settled) => Delivered::Processed { settled, spooled },
                Err(error) => Delivered::SpooledSettleFailed { spooled, error },
            })
        }
        DeskOrFallback::ConfigFailed { error, db, config } => {
            let dir = fallback_data_dir(db.as_deref(), config.as_deref()).ok_or_else(|| {
                anyhow!("{error:#}; and no database directory to spool the message in")
            })?;
            // A desk whose config failed was not looked at yet: the spool file
            // follows its sharing too (a desk that loaded was looked at as it was built).
            crate::sharing::adopt(&dir).context("cannot spool the message")?;
            // No desk, so no storage to ask: the spool is found by its path.
            let spooled = spool_from(&Spool::new(&dir), stdin)?;
            Ok(Delivered::SpooledConfigBroken { spooled, error })
        }
    }
}

fn spool_from(spool: &Spool, stdin: &mut dyn Read) -> Result<PathBuf> {
    spool
        .put_from(stdin)
        .context("cannot spool the message from stdin")
}

/// Where to spool when the config cannot be loaded: `db` (`--db`/`POSTDESK_DB`),
/// else `settings.db` read on its own from the config file (`config`, else the one
/// found as usual), whatever the rest of it holds.
pub fn fallback_data_dir(db: Option<&Path>, config: Option<&Path>) -> Option<PathBuf> {
    if let Some(db) = db {
        return Some(db.to_path_buf());
    }
    let path = crate::config::Config::locate(config).ok()?;
    let text = std::fs::read(&path).ok()?;
    let db = crate::config::scan_db_setting(&String::from_utf8_lossy(&text))?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(base.join(db))
}

/// Waits until the spool has been quiet for a moment (or a busy spool has waited
/// long enough), so one drain takes a whole run of deliveries, and deliveries do not
/// queue their fsyncs behind the drain's: that halved a watched delivery's time.
fn settle_events<T>(rx: &std::sync::mpsc::Receiver<T>) {
    const QUIET: Duration = Duration::from_millis(10);
    const MAX_DELAY: Duration = Duration::from_millis(200);
    let first = Instant::now();
    while first.elapsed() < MAX_DELAY && rx.recv_timeout(QUIET).is_ok() {}
}

/// `ingest spool --watch`: drains the spool whenever a message lands in it (file
/// notifications, and a look every second as a backstop), opening the database per
/// batch and closing it in between so shell commands are never locked out.
/// While it runs, deliveries only spool and exit. `report` is told each drain's
/// summary; `failed` each failed drain (a full disk, say) and the pause before the
/// next try, which doubles from 1 s up to 30 s while drains keep failing.
///
/// With a `mail_out`, it also sends the outbox as `outbox send` does (what is due):
/// at the start, after each drain, when a command left mail queued
/// ([`Spool::poke_outbox`]) and every [`SEND_EVERY`] for retries coming due;
/// never inside a write, the database let go while the transport works and after.
/// `sent` is told what each run did, or why it failed (tried again after
/// [`SEND_RETRY`]); a failure never stops the watching.
pub fn watch(
    desk: &Desk,
    mut report: impl FnMut(&Summary),
    mut failed: impl FnMut(&anyhow::Error, Duration),
    mut sent: impl FnMut(Result<Vec<super::outbox::Sent>>),
) -> Result<()> {
    use notify::Watcher;
    let spool = desk.storage.spool();
    let _lock = spool.watch_lock()?;
    let pipeline = Pipeline::new(desk, false)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })
    .context("cannot watch the spool")?;
    watcher
        .watch(spool.dir(), notify::RecursiveMode::NonRecursive)
        .with_context(|| format!("cannot watch {}", spool.dir().display()))?;
    const FIRST_RETRY: Duration = Duration::from_secs(1);
    let mut retry = FIRST_RETRY;
    let sends = desk.config.mail_out.is_some();
    let mut next_send = Instant::now();
    let mut poked = spool.outbox_poked();
    loop {
        let mut drained = false;
        if !spool.is_empty() {
            match drain_opened(desk, &pipeline, spool) {
                Ok(summary) => {
                    retry = FIRST_RETRY;
                    drained = summary.is_some();
                    summary.iter().for_each(&mut report);
                }
                Err(e) => {
                    // The mail stays spooled: wait for the fault to pass, then try again.
                    failed(&e, retry);
                    std::thread::sleep(retry);
                    retry = (retry * 2).min(Duration::from_secs(30));
                    continue;
                }
            }
        }
        let now_poked = spool.outbox_poked();
        if sends && (drained || now_poked != poked || Instant::now() >= next_send) {
            poked = now_poked;
            let result = super::outbox::send_due(desk, None);
            desk.storage.release();
            next_send = Instant::now()
                + if result.is_ok() {
                    SEND_EVERY
                } else {
                    SEND_RETRY
                };
            sent(result);
        }
        if rx.recv_timeout(Duration::from_secs(1)).is_ok() {
            settle_events(&rx);
        }
    }
}

/// How often `ingest spool --watch` sends the outbox with nothing else to wake it.
pub const SEND_EVERY: Duration = Duration::from_secs(60);
/// How soon it tries again after a run of sending failed as a whole.
pub const SEND_RETRY: Duration = Duration::from_secs(10);

/// Opens the database, drains the spool and lets go of the database again; None
/// when another process held it past the lock wait.
fn drain_opened(desk: &Desk, pipeline: &Pipeline, spool: &Spool) -> Result<Option<Summary>> {
    match desk.storage.hold() {
        Ok(()) => {
            let drained = drain(pipeline, spool);
            desk.storage.release();
            drained.map(Some)
        }
        Err(e) if e.is::<Locked>() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `ingest ignored retry`: ignored mail `id`, its message read back from the mail
/// store, made into a ticket (or a reply) past whatever ignored it
/// ([`Pipeline::retry_ignored`]); its record goes in the write that stores the
/// ticket, so a failure changes nothing and keeps the ID.
pub fn retry_ignored(desk: &Desk, id: u64) -> Result<Processed> {
    let record = desk
        .storage
        .read(|r| r.ignored())?
        .into_iter()
        .find_map(|(i, m)| (i == id).then_some(m))
        .with_context(|| {
            format!("no ignored mail {id}; `postdesk ingest ignored` lists the IDs")
        })?;
    if record.hash.is_empty() {
        anyhow::bail!(
            "ignored mail {id} has no stored message (recorded before its mail was kept); \
             nothing was changed: ingest a copy of the message from elsewhere"
        );
    }
    let raw = desk.storage.mail().get(&record.hash).with_context(|| {
        format!("ignored mail {id}: its message cannot be read; nothing was changed")
    })?;
    let msg = crate::mail::parse::parse(&raw).map_err(|e| {
        anyhow!("ignored mail {id}: its stored message does not parse ({e}); nothing was changed")
    })?;
    let pipeline = Pipeline::new(desk, false)?;
    let outcome = desk
        .storage
        .write(|tx| pipeline.retry_ignored(tx, id, &msg))?;
    Ok(Processed::of(outcome, &msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &[u8] = b"From: ann@example.com\nSubject: help\n\nThe printer is on fire.\n";

    fn config_failed(db: Option<PathBuf>, config: Option<PathBuf>) -> DeskOrFallback<'static> {
        DeskOrFallback::ConfigFailed {
            error: anyhow!("postdesk.yaml:3: unknown user"),
            db,
            config,
        }
    }

    #[test]
    fn a_broken_config_still_spools_in_the_db_given_and_says_why() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("db");
        match deliver(config_failed(Some(db.clone()), None), &mut &MAIL[..]).unwrap() {
            Delivered::SpooledConfigBroken { spooled, error } => {
                assert!(spooled.starts_with(db.join("spool")), "{spooled:?}");
                assert_eq!(std::fs::read(&spooled).unwrap(), MAIL);
                assert_eq!(error.to_string(), "postdesk.yaml:3: unknown user");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_broken_config_spools_in_its_own_db_setting_beside_it() {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("postdesk.yaml");
        std::fs::write(&config, "users: [unclosed\nsettings:\n  db: data\n").unwrap();
        let delivered = deliver(config_failed(None, Some(config)), &mut &MAIL[..]).unwrap();
        let Delivered::SpooledConfigBroken { spooled, .. } = delivered else {
            panic!("{delivered:?}");
        };
        assert!(
            spooled.starts_with(tmp.path().join("data/spool")),
            "{spooled:?}"
        );
    }

    #[test]
    fn a_broken_config_naming_no_data_directory_spools_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("postdesk.yaml");
        std::fs::write(&config, "users: [unclosed\n").unwrap();
        let err = deliver(config_failed(None, Some(config)), &mut &MAIL[..]).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "postdesk.yaml:3: unknown user; and no database directory to spool the message in"
        );
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}

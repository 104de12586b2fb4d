//! `ingest imap`: fetch new mail by UID, store it, then mark/move/delete it on the server.

use anyhow::{Context, Result};

use super::ingest::{Pipeline, Processed, Summary};
use super::intake::{too_large, BATCH_BYTES};
use super::Desk;
use crate::config::ImapAccount;
use crate::mail::imap;

/// The accounts `ingest imap [ACCOUNT]` polls: the one named, or every one.
pub fn accounts<'a>(desk: &'a Desk, name: Option<&str>) -> Result<Vec<&'a ImapAccount>> {
    let imap = &desk.config.imap;
    let chosen: Vec<_> = match name {
        Some(name) => vec![imap.iter().find(|a| a.name == name).with_context(|| {
            format!("no IMAP account '{name}' in {}", desk.config.path.display())
        })?],
        None => imap.iter().collect(),
    };
    if chosen.is_empty() {
        anyhow::bail!("no IMAP accounts in {}", desk.config.path.display());
    }
    Ok(chosen)
}

/// Polls one account. The database is held only while a batch is stored, not while
/// talking to the server. The batch and the new last UID are written in one
/// transaction and flushed; the server-side action runs only after that: a crash in
/// between re-fetches, and dedupe absorbs it.
pub fn poll(
    desk: &Desk,
    account: &ImapAccount,
    dry_run: bool,
    mut seen: impl FnMut(&Processed),
) -> Result<Summary> {
    let password = imap::password(account)?;
    let mut session = imap::connect(account, &password)?;
    let selected = imap::select(&mut session, account)?;
    let known = desk
        .storage
        .read(|store| store.imap_state(&account.name, &account.mailbox))?;
    desk.storage.release();
    // A new UIDVALIDITY means the old UIDs mean nothing: start over (dedupe absorbs it).
    let last = match known {
        Some((validity, last)) if validity == selected.uid_validity => last,
        _ => 0,
    };
    let uids = imap::new_uids(&mut session, last)?;
    let sizes = imap::sizes(&mut session, &uids)?;
    let pipeline = Pipeline::new(desk, dry_run)?;
    let limit = pipeline.max_message_size();
    let mut summary = Summary::default();
    for batch in batches(&sizes, account.batch.max(1), limit) {
        // Too large to take: its head goes to the quarantine with the reason, and
        // the message stays on the server, untouched, for an admin to fetch.
        for &(uid, size) in &batch.too_large {
            let head = imap::fetch_head(&mut session, uid, 64 * 1024)?;
            let reason = format!(
                "{}; only its first 64 KB are kept here, the whole message stays on the server",
                too_large(
                    &format!(
                        "IMAP account '{}', {} UID {uid}",
                        account.name, account.mailbox
                    ),
                    size,
                    limit
                )
            );
            let processed = pipeline.quarantine_unparsed(&head, None, reason)?;
            summary.add(&processed.outcome);
            seen(&processed);
        }
        let fetched = imap::fetch(&mut session, &batch.uids)?;
        let (done, raws): (Vec<u32>, Vec<Vec<u8>>) = fetched.into_iter().unzip();
        let stored = pipeline.run_batch_and(&raws, |tx| {
            tx.set_imap_state(
                &account.name,
                &account.mailbox,
                selected.uid_validity,
                batch.last,
            )
        })?;
        // Not held while talking to the server.
        desk.storage.release();
        for processed in stored {
            summary.add(&processed.outcome);
            seen(&processed);
        }
        if !dry_run {
            imap::after(&mut session, account, &done)?;
        }
    }
    let _ = session.logout();
    Ok(summary)
}

/// UIDs fetched and stored together, and the cursor once they are.
#[derive(Debug, Default, PartialEq)]
struct Batch {
    uids: Vec<u32>,
    /// Over the size limit: never fetched whole.
    too_large: Vec<(u32, u64)>,
    /// The highest UID of the batch, too large ones included.
    last: u32,
}

/// Cuts `sizes` (UID order) into batches of at most `count` messages and about
/// [`BATCH_BYTES`]: memory follows bytes, as for every bulk source.
fn batches(sizes: &[(u32, u64)], count: usize, limit: u64) -> Vec<Batch> {
    let mut out = Vec::new();
    let mut batch = Batch::default();
    let mut bytes = 0u64;
    for &(uid, size) in sizes {
        if size > limit {
            batch.too_large.push((uid, size));
        } else {
            batch.uids.push(uid);
            bytes += size;
        }
        batch.last = uid;
        if batch.uids.len() + batch.too_large.len() >= count || bytes >= BATCH_BYTES as u64 {
            out.push(std::mem::take(&mut batch));
            bytes = 0;
        }
    }
    if batch.last > 0 {
        out.push(batch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_end_at_a_count_or_at_their_bytes_and_skip_what_is_too_large() {
        let mb = 1 << 20;
        let sizes = [
            (3, 10 * mb),
            (4, 10 * mb),
            (5, 100 * mb),
            (6, 1),
            (7, 1),
            (8, 1),
        ];
        let cut = batches(&sizes, 3, 32 * mb);
        assert_eq!(
            cut,
            [
                Batch {
                    uids: vec![3, 4],
                    too_large: vec![],
                    last: 4
                },
                Batch {
                    uids: vec![6, 7],
                    too_large: vec![(5, 100 * mb)],
                    last: 7
                },
                Batch {
                    uids: vec![8],
                    too_large: vec![],
                    last: 8
                },
            ]
        );
    }
}

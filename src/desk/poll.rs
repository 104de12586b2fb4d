//! `ingest imap`: fetch new mail by UID, store it, then mark/move/delete it on the server.

use anyhow::Result;

use super::ingest::{Pipeline, Processed, Summary};
use super::Desk;
use crate::config::ImapAccount;
use crate::mail::imap;

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
    let pipeline = Pipeline::new(desk, dry_run)?;
    let mut summary = Summary::default();
    for chunk in uids.chunks(account.batch.max(1)) {
        let fetched = imap::fetch(&mut session, chunk)?;
        let (done, raws): (Vec<u32>, Vec<Vec<u8>>) = fetched.into_iter().unzip();
        let last = done.iter().copied().max().unwrap_or(last);
        let stored = pipeline.run_batch_and(&raws, |tx| {
            tx.set_imap_state(&account.name, &account.mailbox, selected.uid_validity, last)
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

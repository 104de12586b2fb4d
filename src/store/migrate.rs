//! Bringing a database written by an older postdesk up to the current layout.
//!
//! Schema 1 kept one sled key per ticket (`tickets`), per event (`events`), per
//! message (`messages`) and per (term, 1,024 tickets) (`index`). Schema 2 packed
//! tickets eight to a value (`ticket_groups`) and their activity logs likewise
//! (`log_groups`), so every append rewrote eight logs, mail text included. Both
//! stored the model types in postcard ([`super::legacy`]). Schema 3 keeps one
//! record per ticket and per event ([`super::records`]), no mail text (an excerpt;
//! the whole is in the mail store), and the words of mail in `pending_words` until
//! indexed.
//!
//! The new trees are written (and long descriptions put in the mail store) and
//! flushed before the version moves, so a crash part way leaves the old trees
//! intact and the next open starts the migration again.
//!
//! Schema 4 folds accents in the word index (`model::ticket::fold`): schema 3's word
//! terms (`w`, `m`) and pending words were only lowercased. Step 3 -> 4 moves each
//! posting whose term folds differently into the folded term's posting (a union)
//! and folds the words of `pending_words`, in batches through the same `Tx` as any
//! write. Postings are moved in place, so there is no old copy to fall back on:
//! the version moves to 4 (since schema 5, to 5: the layout it leads to) first, together with a mark (`folding_words` in `meta`),
//! before anything else is written. A schema 3 postdesk then refuses the database
//! rather than answer from half-moved postings, and every open finishes the step
//! while the mark is there (it can run again over its own output). Until the
//! switch nothing is written, so a step that fails there leaves the database as it
//! was.
//!
//! Schema 5 adds the workflow's event kinds (`assigned`, `comment`,
//! `info-requested`), which schema 4's postdesk cannot read: step 4 -> 5 only
//! records the number. From schema 5 on, a kind the reader does not know is skipped.
//!
//! Schema 6 keeps the layout of 5. Step 5 -> 6 ([`finish_rule_mail`]) makes each
//! `mail-queued` event (a rule's `notify` or `reply`, recorded before postdesk sent
//! mail) one outbox entry, dropped, with no message: the outbox shows that it was
//! never sent, and nothing sends it. The events stay as they are. It runs last,
//! once the older steps (the folding included) are done, in batches that each
//! record how far they got, and the version moves to 6 only after the last.

use anyhow::{Context, Result};

use super::legacy::{OldCustomer, OldEvent, OldIgnoredMail, OldTicket};
use super::{keys, packed, records, MailBlobs, Store};
use crate::model::text::DESCRIPTION_KEPT;
use crate::model::ticket::fold;
use crate::model::{
    Customer, Event, EventKind, IgnoredMail, OutboxEntry, OutboxState, TextRef, Ticket,
};

const BATCH: usize = 1000;

/// The version a migrated database has until step 5 -> 6 is done: the layout it
/// is in.
const LAYOUT: u32 = 5;

/// Brings a database of schema `version` up to the layout of schema 5 (recorded
/// as 5), step by step; `open::check_schema` then finishes the folding if it is
/// marked, and takes the step to 6 ([`finish_rule_mail`]).
pub fn from(store: &Store, version: u32, mail: &dyn MailBlobs) -> Result<()> {
    if version < 3 {
        to_schema_3(store, version, mail)?;
    }
    if version < 4 {
        // Straight to 5, with the mark that finishes the folding.
        return fold_words(store);
    }
    if version < LAYOUT {
        // Schema 5 added the workflow's event kinds, which schema 4's postdesk
        // cannot read (a decode error): only the number moves.
        store.set_schema_version(LAYOUT)?;
        store.flush()?;
    }
    Ok(())
}

/// Rewrites a schema 1 or 2 database in the layout of schema 3.
fn to_schema_3(store: &Store, version: u32, mail: &dyn MailBlobs) -> Result<()> {
    for tree in [
        &store.tickets,
        &store.events,
        &store.index,
        &store.pending,
        &store.customers,
        &store.ignored,
    ] {
        tree.clear()?;
    }
    let old_trees: &[&str] = match version {
        1 => {
            store.messages.clear()?;
            copy_messages(store, &store.db.open_tree("messages")?)?;
            migrate_tickets(store, mail, v1_tickets(store)?)?;
            &[
                "tickets",
                "events",
                "index",
                "messages",
                "customers",
                "ignored",
            ]
        }
        _ => {
            migrate_tickets(store, mail, v2_tickets(store)?)?;
            &["ticket_groups", "log_groups", "customers", "ignored"]
        }
    };
    copy_customers_and_ignored(store)?;
    store.flush()?;
    store.set_schema_version(3)?;
    store.flush()?;
    for name in old_trees {
        store.db.drop_tree(name)?;
    }
    store.flush()
}

/// Marks (in `meta`) a database whose step 3 -> 4 is under way: [`finish_folding`]
/// runs at every open until it is done.
pub(super) const FOLDING_KEY: &[u8] = b"folding_words";

/// Step 3 -> 4, the switch: the version (5, the layout it leads to) and the mark
/// move together, then [`finish_folding`] (called by `open::check_schema`) does
/// the work.
fn fold_words(store: &Store) -> Result<()> {
    let mut switch = sled::Batch::default();
    switch.insert(super::open::SCHEMA_KEY, &LAYOUT.to_be_bytes());
    switch.insert(FOLDING_KEY, &[]);
    store.meta.apply_batch(switch)?;
    store.flush()
}

/// The work of step 3 -> 4 (see the module's notes): moves each word posting whose
/// term folds differently into the folded term's posting, folds the words of
/// `pending_words`, in batches, then removes the mark. Done again over its own
/// output it changes nothing, so it is simply run again after a crash.
pub(super) fn finish_folding(store: &Store) -> Result<()> {
    let mut moves = Vec::new();
    for kind in [keys::WORD, keys::MESSAGE_WORD] {
        for item in store.index.scan_prefix([kind]).keys() {
            let key = item?;
            if let Some(folded) = folded_posting_key(&key) {
                moves.push((key.to_vec(), folded));
            }
        }
    }
    for batch in moves.chunks(BATCH) {
        store.transact(|tx| {
            for (from, to) in batch {
                tx.move_posting(from, to.clone())?;
            }
            Ok(())
        })?;
    }
    let mut chunks = Vec::new();
    for item in store.pending.iter() {
        let (key, words) = item?;
        let text = String::from_utf8_lossy(&words);
        let folded = fold_chunk(&text);
        if folded != text {
            chunks.push((key.to_vec(), folded));
        }
    }
    for batch in chunks.chunks(BATCH) {
        store.transact(|tx| {
            for (key, words) in batch {
                tx.put_word_chunk(key, words)?;
            }
            Ok(())
        })?;
    }
    store.flush()?;
    store.meta.remove(FOLDING_KEY)?;
    store.flush()
}

/// The key a word posting `kind value \0 bucket` moves to once its value is
/// folded, or None when folding leaves it as it is.
fn folded_posting_key(key: &[u8]) -> Option<Vec<u8>> {
    let (bucket_start, kind) = (key.len().checked_sub(4)?, *key.first()?);
    if key.len() < 6 || key[bucket_start - 1] != 0 {
        return None;
    }
    let value = std::str::from_utf8(&key[1..bucket_start - 1]).ok()?;
    let folded = fold(value);
    if folded == value || folded.is_empty() {
        return None;
    }
    let mut to = keys::exact(kind, &folded);
    to.extend_from_slice(&key[bucket_start..]);
    Some(to)
}

/// A chunk of pending words (one a line) folded, distinct, in order.
fn fold_chunk(words: &str) -> String {
    let folded: std::collections::BTreeSet<String> = words.lines().map(fold).collect();
    let mut out = String::with_capacity(words.len());
    for word in folded.iter().filter(|w| !w.is_empty()) {
        out.push_str(word);
        out.push('\n');
    }
    out
}

/// While step 5 -> 6 is under way, in `meta`: the ticket (u64 BE) and the index
/// in its log (u32 BE) of the last `mail-queued` event made an entry.
pub(super) const RULE_MAIL_KEY: &[u8] = b"rule_mail_done";

/// Outbox entries queued per transaction by step 5 -> 6.
const RULE_MAIL_BATCH: usize = 500;

/// A `mail-queued` event of ticket `.1` at `.2` (its index in the log), and the
/// dropped entry it becomes.
type NeverSent = (OutboxEntry, u64, u32);

/// Step 5 -> 6 (see the module's notes): an outbox entry for each `mail-queued`
/// event, in order of ticket and log, [`RULE_MAIL_BATCH`] to a transaction, then
/// the version 6.
///
/// Run twice, it adds no entry twice: each batch's transaction records in `meta`
/// ([`RULE_MAIL_KEY`]) the (ticket, log index) of its last event, and a run skips
/// every event up to the one recorded. Logs are only ever appended to, so an
/// index names the same event at every open; the mark is removed together with
/// the move to 6.
pub(super) fn finish_rule_mail(store: &Store) -> Result<()> {
    let done = match store.meta.get(RULE_MAIL_KEY)? {
        Some(v) => Some(rule_mail_progress(&v).context("corrupt mark of step 5 -> 6")?),
        None => None,
    };
    let mut batch: Vec<NeverSent> = Vec::with_capacity(RULE_MAIL_BATCH);
    for item in store.tickets.iter() {
        let (key, group) = item?;
        let numbers: Vec<u64> = packed::group_entries(&group)
            .with_context(|| super::corrupt_group(packed::group_first(&key)))?
            .into_iter()
            .map(|(number, _)| number)
            .filter(|number| done.is_none_or(|(ticket, _)| *number >= ticket))
            .collect();
        for number in numbers {
            for (index, event) in store.events(number)?.iter().enumerate() {
                let index = u32::try_from(index).context("an activity log of 4 billion events")?;
                if done.is_some_and(|d| (number, index) <= d) {
                    continue;
                }
                if let Some(entry) = never_sent(number, event) {
                    batch.push((entry, number, index));
                    if batch.len() == RULE_MAIL_BATCH {
                        queue_never_sent(store, &std::mem::take(&mut batch))?;
                    }
                }
            }
        }
    }
    queue_never_sent(store, &batch)?;
    store.flush()?;
    let mut finish = sled::Batch::default();
    finish.insert(
        super::open::SCHEMA_KEY,
        &super::SCHEMA_VERSION.to_be_bytes(),
    );
    finish.remove(RULE_MAIL_KEY);
    store.meta.apply_batch(finish)?;
    store.flush()
}

/// The (ticket, log index) a [`RULE_MAIL_KEY`] value records.
fn rule_mail_progress(value: &[u8]) -> Option<(u64, u32)> {
    let (ticket, index) = value.split_first_chunk::<8>()?;
    Some((
        u64::from_be_bytes(*ticket),
        u32::from_be_bytes(index.try_into().ok()?),
    ))
}

/// The dropped outbox entry a rule's `mail-queued` event of ticket `number`
/// becomes: to the recipient as the rule named it (`managers`, `requester`, a
/// login...), with no envelope and no message, so that nothing can send it.
fn never_sent(number: u64, event: &Event) -> Option<OutboxEntry> {
    let EventKind::MailQueued {
        rule,
        kind,
        to,
        template,
    } = &event.kind
    else {
        return None;
    };
    let mut entry = OutboxEntry::queued(number, to, "", "", event.at);
    entry.kind = crate::model::outbox::rule_kind(kind).to_string();
    entry.state = OutboxState::Dropped;
    entry.done_at = event.at;
    entry.last_error = format!(
        "queued by rule '{rule}' (template {template}) before postdesk sent mail: never sent"
    );
    Some(entry)
}

/// One batch of step 5 -> 6 in one transaction: its entries, queued as any entry
/// is, and the mark of its last event.
fn queue_never_sent(store: &Store, batch: &[NeverSent]) -> Result<()> {
    let Some((_, ticket, index)) = batch.last() else {
        return Ok(());
    };
    let mut mark = ticket.to_be_bytes().to_vec();
    mark.extend(index.to_be_bytes());
    store.transact(|tx| {
        for (entry, _, _) in batch {
            tx.queue_outbox(entry)?;
        }
        tx.meta.insert(RULE_MAIL_KEY, mark.as_slice())?;
        Ok(())
    })
}

type OldLog = (Ticket, Vec<Event>);

/// Schema 1: a key per ticket, a key per event (`number ++ id`).
fn v1_tickets(store: &Store) -> Result<impl Iterator<Item = Result<OldLog>> + '_> {
    let tickets = store.db.open_tree("tickets")?;
    let events = store.db.open_tree("events")?;
    Ok(tickets.iter().map(move |item| {
        let (key, bytes) = item?;
        let number = packed::key_number(&key);
        let ticket = old_ticket(&bytes, number)?;
        let log = events
            .scan_prefix(number.to_be_bytes())
            .values()
            .map(|v| old_event(&v?, number))
            .collect::<Result<_>>()?;
        Ok((ticket, log))
    }))
}

/// Schema 2: groups of eight tickets, and the logs of the same eight.
fn v2_tickets(store: &Store) -> Result<impl Iterator<Item = Result<OldLog>> + '_> {
    let groups = store.db.open_tree("ticket_groups")?;
    let logs = store.db.open_tree("log_groups")?;
    Ok(groups.iter().flat_map(move |item| {
        let group = || -> Result<Vec<OldLog>> {
            let (key, group) = item?;
            let corrupt = || format!("ticket group {key:?}: corrupt in the database");
            let log = logs.get(&key)?.unwrap_or_default();
            let log = packed::group_entries(&log).with_context(corrupt)?;
            packed::group_entries(&group)
                .with_context(corrupt)?
                .into_iter()
                .map(|(number, bytes)| {
                    let events = log
                        .iter()
                        .filter(|(n, _)| *n == number)
                        .map(|(_, bytes)| old_event(bytes, number))
                        .collect::<Result<_>>()?;
                    Ok((old_ticket(bytes, number)?, events))
                })
                .collect()
        };
        match group() {
            Ok(tickets) => tickets.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        }
    }))
}

fn old_ticket(bytes: &[u8], number: u64) -> Result<Ticket> {
    let old: OldTicket = postcard::from_bytes(bytes)
        .with_context(|| format!("ticket #{number}: corrupt record of an older schema"))?;
    Ok(old.into_ticket())
}

fn old_event(bytes: &[u8], number: u64) -> Result<Event> {
    let old: OldEvent = postcard::from_bytes(bytes)
        .with_context(|| format!("ticket #{number}: corrupt event of an older schema"))?;
    Ok(old.into())
}

fn migrate_tickets(
    store: &Store,
    mail: &dyn MailBlobs,
    old: impl Iterator<Item = Result<OldLog>>,
) -> Result<()> {
    let mut batch = Vec::with_capacity(BATCH);
    for item in old {
        batch.push(item?);
        if batch.len() == BATCH {
            write(store, mail, std::mem::take(&mut batch))?;
        }
    }
    write(store, mail, batch)
}

/// One batch of tickets in the new layout: a description longer than a record keeps
/// goes whole into the mail store; each mail's words are queued for the index.
fn write(store: &Store, mail: &dyn MailBlobs, batch: Vec<OldLog>) -> Result<()> {
    let mut texts = Vec::new();
    let batch: Vec<OldLog> = batch
        .into_iter()
        .map(|(mut ticket, events)| {
            if ticket.description.len() > DESCRIPTION_KEPT {
                let whole = std::mem::take(&mut ticket.description);
                let hash = crate::mail::parse::hash_hex(whole.as_bytes());
                ticket.set_description(&whole, || TextRef::Text(hash.clone()));
                texts.push((ticket.number, hash, whole, ticket.description.len()));
            }
            (ticket, events)
        })
        .collect();
    let blobs: Vec<(&str, &[u8])> = texts
        .iter()
        .map(|(_, hash, text, _)| (hash.as_str(), text.as_bytes()))
        .collect();
    mail.put_all(&blobs)?;
    store.transact(|tx| {
        for (number, _, whole, kept) in &texts {
            // Past the part the record keeps, a description's words stay searchable.
            tx.queue_message_words(*number, whole.get(*kept..).unwrap_or(whole))?;
        }
        for (ticket, events) in &batch {
            tx.save_ticket(ticket)?;
            for event in events {
                tx.append_event(ticket.number, event)?;
                if let EventKind::Mail(m) = &event.kind {
                    tx.queue_message_words(ticket.number, &format!("{}\n{}", m.subject, m.text))?;
                }
            }
        }
        Ok(())
    })
}

/// Message keys into their buckets (the value bytes are unchanged; keys are unique).
fn copy_messages(store: &Store, old: &sled::Tree) -> Result<()> {
    let mut buckets: std::collections::BTreeMap<[u8; 2], Vec<u8>> = Default::default();
    for item in old.iter() {
        let (key, value) = item?;
        let key = String::from_utf8_lossy(&key);
        let bucket = buckets.entry(packed::message_bucket(&key)).or_default();
        packed::bucket_push(bucket, &key, &value);
    }
    for (key, bucket) in buckets {
        store.messages.insert(key, bucket)?;
    }
    Ok(())
}

/// Customers and ignored mail as records, under the same keys.
fn copy_customers_and_ignored(store: &Store) -> Result<()> {
    for item in store.db.open_tree("customers")?.iter() {
        let (key, bytes) = item?;
        let old: OldCustomer = postcard::from_bytes(&bytes).context("corrupt customer record")?;
        let customer: Customer = old.into();
        store.customers.insert(
            key,
            records::encode(&records::CustomerRecord::from(&customer))?,
        )?;
    }
    for item in store.db.open_tree("ignored")?.iter() {
        let (key, bytes) = item?;
        let old: OldIgnoredMail =
            postcard::from_bytes(&bytes).context("corrupt ignored-mail record")?;
        let ignored: IgnoredMail = old.into();
        store.ignored.insert(
            key,
            records::encode(&records::IgnoredRecord::from(&ignored))?,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::{Status, TicketFilter};
    use crate::store::legacy::{
        OldAssignee, OldEventKind, OldMailIn, OldPriority, OldRequester, OldStatus,
    };
    use crate::store::Backend;

    /// Writes a database as schema 1 did, straight through sled.
    fn write_v1(data_dir: &std::path::Path) {
        let db = sled::open(data_dir.join("sled")).unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert("schema_version", &1u32.to_be_bytes()).unwrap();
        meta.insert("next_ticket", &3u64.to_be_bytes()).unwrap();
        let (tickets, events) = (
            db.open_tree("tickets").unwrap(),
            db.open_tree("events").unwrap(),
        );
        for number in [1u64, 2] {
            let t = OldTicket {
                number,
                subject: format!("printer {number}"),
                description: if number == 2 {
                    "a long story\n".repeat(1000)
                } else {
                    String::new()
                },
                status: if number == 1 {
                    OldStatus::Open
                } else {
                    OldStatus::Closed
                },
                priority: OldPriority::Medium,
                assignee: OldAssignee::Nobody,
                service: None,
                category: None,
                tags: Default::default(),
                requester: OldRequester {
                    name: None,
                    email: None,
                    phone: None,
                },
                followers: Default::default(),
                fields: Default::default(),
                created: 100,
                updated: 100,
                links: Default::default(),
            };
            tickets
                .insert(number.to_be_bytes(), postcard::to_allocvec(&t).unwrap())
                .unwrap();
        }
        let mail = OldEventKind::Mail(OldMailIn {
            message_id: "<a@x>".into(),
            from: "c@x".into(),
            subject: "again".into(),
            text: "the zebra is back".into(),
            hash: "00".into(),
            attachments: vec![],
            agent: false,
        });
        for (id, kind) in [(1u64, OldEventKind::Created), (2, mail)] {
            let mut key = 1u64.to_be_bytes().to_vec();
            key.extend(id.to_be_bytes());
            let event = OldEvent {
                at: 100 + id as i64,
                actor: "alice".into(),
                kind,
            };
            events
                .insert(key, postcard::to_allocvec(&event).unwrap())
                .unwrap();
        }
        db.open_tree("index").unwrap().insert("stale", "").unwrap();
        let messages = db.open_tree("messages").unwrap();
        messages.insert("<a@x>", &1u64.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }

    #[test]
    fn a_schema_1_database_is_rewritten_and_searchable_with_long_texts_in_the_mail_store() {
        let dir = tempfile::tempdir().unwrap();
        write_v1(dir.path());
        let mail = crate::mail::files::MailStore::new(dir.path());
        let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
        let long = store.ticket(2).unwrap().unwrap();
        assert_eq!(long.subject, "printer 2");
        let Some(TextRef::Text(hash)) = &long.description_rest else {
            panic!("a long description goes to the mail store")
        };
        assert_eq!(
            mail.get(hash).unwrap(),
            "a long story\n".repeat(1000).as_bytes()
        );
        assert!(
            long.description.len() <= DESCRIPTION_KEPT && long.description.ends_with('\n'),
            "whole lines of the first 1 KB"
        );
        let log = store.events(1).unwrap();
        assert_eq!(log.len(), 2);
        assert!(matches!(&log[1].kind, EventKind::Mail(m) if m.text.contains("zebra")));
        let story = TicketFilter {
            search: vec!["story".into()],
            ..Default::default()
        };
        assert_eq!(store.query(&story).unwrap()[0].number, 2);
        let open = TicketFilter {
            statuses: vec![Status::Open],
            ..Default::default()
        };
        assert_eq!(store.query(&open).unwrap()[0].number, 1);
        let zebra = TicketFilter {
            search: vec!["zebra".into()],
            ..Default::default()
        };
        assert_eq!(
            store.query(&zebra).unwrap().len(),
            1,
            "message words are indexed"
        );
        assert_eq!(store.message_ticket("<a@x>").unwrap(), Some(1));
        let names: Vec<_> = store.db.tree_names();
        assert!(
            !names.iter().any(|n| n.as_ref() == b"tickets"),
            "old trees are dropped"
        );
        assert_eq!(
            store.meta.get("schema_version").unwrap().unwrap().as_ref(),
            super::super::SCHEMA_VERSION.to_be_bytes(),
            "migrated through schema 3 to the current one"
        );
    }

    #[test]
    fn a_schema_4_database_only_changes_its_version() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
            let mut t = Ticket::new(1, "kept", 10);
            t.tags.insert("vpn".into());
            store
                .write(|tx| {
                    tx.save_ticket(&t)?;
                    tx.next_number()?;
                    Ok(())
                })
                .unwrap();
            store.set_schema_version(4).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
        assert_eq!(store.ticket(1).unwrap().unwrap().subject, "kept");
        assert_eq!(
            store.meta.get("schema_version").unwrap().unwrap().as_ref(),
            super::super::SCHEMA_VERSION.to_be_bytes()
        );
        assert!(store.outbox(false).unwrap().is_empty(), "no rule mail");
    }

    fn rule_mail(at: i64, rule: &str, kind: &str, to: &str) -> Event {
        Event {
            at,
            actor: format!("rule '{rule}'"),
            kind: EventKind::MailQueued {
                rule: rule.into(),
                kind: kind.into(),
                to: to.into(),
                template: kind.replace("reply", "acknowledge"),
            },
        }
    }

    /// A schema 5 desk: tickets 1 and 6 with three `mail-queued` events between
    /// others, and an entry already in the outbox. `cut_short`: as a step to 6
    /// killed after a first batch of one event leaves it: that entry and the mark
    /// of its event (ticket 1, index 1), in one transaction.
    fn schema_5_desk(dir: &std::path::Path, cut_short: bool) {
        let store = Store::open(dir, Duration::from_secs(5)).unwrap();
        store
            .transact(|tx| {
                for (n, subject) in [(1, "printer"), (6, "vpn")] {
                    tx.save_ticket(&Ticket::new(n, subject, 100))?;
                }
                let created = Event {
                    at: 100,
                    actor: "alice".into(),
                    kind: EventKind::Created,
                };
                tx.append_event(6, &created)?;
                tx.append_event(6, &rule_mail(101, "vpn", "notify", "managers"))?;
                tx.append_event(1, &created)?;
                tx.append_event(1, &rule_mail(102, "ack", "reply", "requester"))?;
                tx.append_event(1, &rule_mail(102, "ack", "notify", "dave"))?;
                let mut sent = OutboxEntry::queued(1, "ann@x", "help@x", "00", 103);
                sent.state = OutboxState::Sent;
                tx.queue_outbox(&sent)?;
                Ok(())
            })
            .unwrap();
        if cut_short {
            let first = never_sent(1, &rule_mail(102, "ack", "reply", "requester")).unwrap();
            queue_never_sent(&store, &[(first, 1, 1)]).unwrap();
        }
        store.set_schema_version(5).unwrap();
        store.flush().unwrap();
    }

    /// (ticket, recipient, kind, state, queued_at, done_at, last_error) of every
    /// entry but the first (the one sent before).
    fn never_sent_entries(
        store: &Store,
    ) -> Vec<(u64, String, String, &'static str, i64, i64, String)> {
        store.outbox(false).unwrap()[1..]
            .iter()
            .map(|e| {
                let state = e.state.as_str();
                assert!(e.hash.is_empty() && e.envelope.is_empty() && e.message_id.is_empty());
                assert_eq!(e.attempts, 0);
                let (recipient, kind, error) =
                    (e.recipient.clone(), e.kind.clone(), e.last_error.clone());
                (
                    e.ticket,
                    recipient,
                    kind,
                    state,
                    e.queued_at,
                    e.done_at,
                    error,
                )
            })
            .collect()
    }

    #[test]
    fn a_schema_5_database_gets_a_dropped_entry_for_each_rule_mail_once() {
        let dir = tempfile::tempdir().unwrap();
        schema_5_desk(dir.path(), false);
        let expected = |ticket, to: &str, kind: &str, at, rule: &str, template: &str| {
            let error = format!(
                "queued by rule '{rule}' (template {template}) before postdesk sent mail: never sent"
            );
            (
                ticket,
                to.to_string(),
                kind.to_string(),
                "dropped",
                at,
                at,
                error,
            )
        };
        let all = [
            expected(1, "requester", "rule-reply", 102, "ack", "acknowledge"),
            expected(1, "dave", "rule-notify", 102, "ack", "notify"),
            expected(6, "managers", "rule-notify", 101, "vpn", "notify"),
        ];
        {
            let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
            assert_eq!(never_sent_entries(&store), all);
            assert_eq!(store.outbox(true).unwrap(), [], "none is queued");
            assert_eq!(
                store.meta.get("schema_version").unwrap().unwrap().as_ref(),
                super::super::SCHEMA_VERSION.to_be_bytes()
            );
            assert!(!store.meta.contains_key(RULE_MAIL_KEY).unwrap());
            let log = store.events(1).unwrap();
            assert_eq!(log.len(), 3, "the events stay");
            assert!(matches!(&log[1].kind, EventKind::MailQueued { to, .. } if to == "requester"));
        }
        // Opened again: nothing more.
        let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
        assert_eq!(never_sent_entries(&store).len(), 3);
    }

    #[test]
    fn rule_mail_past_a_batch_is_queued_in_several_each_event_once() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
            store
                .transact(|tx| {
                    for n in 1..=301u64 {
                        tx.save_ticket(&Ticket::new(n, "s", 100))?;
                        for i in 0..4 {
                            let event = rule_mail(100 + i, "r", "notify", &format!("u{n}-{i}"));
                            tx.append_event(n, &event)?;
                        }
                    }
                    Ok(())
                })
                .unwrap();
            store.set_schema_version(5).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
        let entries = store.outbox(false).unwrap();
        assert_eq!(entries.len(), 1204, "three batches");
        let ids: Vec<u64> = entries.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=1204).collect::<Vec<_>>());
        assert_eq!(entries[1203].recipient, "u301-3");
        assert!(entries.iter().all(|e| e.state == OutboxState::Dropped));
    }

    #[test]
    fn a_step_to_schema_6_cut_short_goes_on_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        schema_5_desk(dir.path(), true);
        let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
        let entries = never_sent_entries(&store);
        let to: Vec<_> = entries.iter().map(|e| (e.0, e.1.as_str())).collect();
        assert_eq!(
            to,
            [(1, "requester"), (1, "dave"), (6, "managers")],
            "each once"
        );
        assert!(!store.meta.contains_key(RULE_MAIL_KEY).unwrap());
    }

    fn search(store: &Store, text: &str) -> Vec<u64> {
        let filter = TicketFilter {
            search: crate::model::ticket::words(text).collect(),
            ..Default::default()
        };
        store
            .query(&filter)
            .unwrap()
            .iter()
            .map(|t| t.number)
            .collect()
    }

    fn posting_numbers(store: &Store, term: &[u8], number: u64) -> Option<Vec<u64>> {
        let (key, _) = keys::posting(term, number);
        let value = store.index.get(&key).unwrap()?;
        let mut out = Vec::new();
        keys::decode_posting(&key, &value, &mut out);
        Some(out)
    }

    /// A desk as schema 3 left it: word terms and pending words lowercased only, one
    /// term per spelling; `switched`: as a crash right after the switch to 4 leaves
    /// it. Returns the key of the pending chunk.
    fn schema_3_desk(dir: &std::path::Path, switched: bool) -> Vec<u8> {
        let store = Store::open(dir, Duration::from_secs(5)).unwrap();
        store
            .transact(|tx| {
                for (n, subject) in [(1, "Électricité coupée"), (2, "electricite"), (3, "gaz")] {
                    tx.save_ticket(&Ticket::new(n, subject, 100))?;
                }
                Ok(())
            })
            .unwrap();
        store
            .index_deferred_words(super::super::Indexing::All)
            .unwrap();
        // As schema 3 left them: words lowercased only, one term per spelling.
        let (folded, _) = keys::posting(&keys::exact(keys::WORD, "electricite"), 1);
        store.index.remove(&folded).unwrap();
        for (word, n) in [("électricité", 1), ("electricite", 2), ("coupée", 1)] {
            let (key, slot) = keys::posting(&keys::exact(keys::WORD, word), n);
            let mut posting =
                keys::Posting::decode(&store.index.get(&key).unwrap().unwrap_or_default());
            posting.set(slot, true);
            store.index.insert(key, posting.encode()).unwrap();
        }
        store
            .index
            .remove(keys::posting(&keys::exact(keys::WORD, "coupee"), 1).0)
            .unwrap();
        let (key, slot) = keys::posting(&keys::exact(keys::MESSAGE_WORD, "Électricité"), 3);
        let mut posting = keys::Posting::Sparse(Vec::new());
        posting.set(slot, true);
        store.index.insert(key, posting.encode()).unwrap();
        // A mail's words still pending, as schema 3 queued them.
        store
            .transact(|tx| {
                tx.queue_message_words(2, "x")?;
                Ok(())
            })
            .unwrap();
        let chunk = store.pending.iter().keys().next().unwrap().unwrap();
        store.pending.insert(&chunk, "réunion\nreunion\n").unwrap();
        if switched {
            store.set_schema_version(4).unwrap();
            store.meta.insert(FOLDING_KEY, &[]).unwrap();
        } else {
            store.set_schema_version(3).unwrap();
        }
        store.flush().unwrap();
        chunk.to_vec()
    }

    /// What the step 3 -> 4 must leave (then at the current version).
    fn assert_folded(store: &Store, chunk: &[u8]) {
        assert_eq!(
            store.meta.get("schema_version").unwrap().unwrap().as_ref(),
            super::super::SCHEMA_VERSION.to_be_bytes()
        );
        assert!(!store.meta.contains_key(FOLDING_KEY).unwrap(), "done");
        assert_eq!(search(store, "electricite"), [1, 2, 3]);
        assert_eq!(search(store, "ÉLECTRICITÉ"), [1, 2, 3]);
        assert_eq!(search(store, "coupee"), [1]);
        assert_eq!(search(store, "réunion"), [2], "pending words are folded");
        assert_eq!(
            posting_numbers(store, &keys::exact(keys::WORD, "electricite"), 1),
            Some(vec![1, 2]),
            "the postings of both spellings are merged"
        );
        assert_eq!(
            posting_numbers(store, &keys::exact(keys::MESSAGE_WORD, "electricite"), 3),
            Some(vec![3])
        );
        for word in ["électricité", "coupée"] {
            assert_eq!(
                posting_numbers(store, &keys::exact(keys::WORD, word), 1),
                None
            );
        }
        assert_eq!(
            store.pending.get(chunk).unwrap().unwrap().as_ref(),
            b"reunion\n",
            "a chunk's words folded and distinct"
        );
    }

    #[test]
    fn a_schema_3_database_gets_its_words_folded_and_postings_merged() {
        // `true`: a step cut short right after its switch is finished by the next open.
        for switched in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let chunk = schema_3_desk(dir.path(), switched);
            let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
            assert_folded(&store, &chunk);
        }
    }
}

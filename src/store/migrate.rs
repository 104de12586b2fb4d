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

use anyhow::{Context, Result};

use super::legacy::{OldCustomer, OldEvent, OldIgnoredMail, OldTicket};
use super::{packed, records, MailBlobs, Store};
use crate::model::text::DESCRIPTION_KEPT;
use crate::model::{Customer, Event, EventKind, IgnoredMail, TextRef, Ticket};

const BATCH: usize = 1000;

/// Rewrites a schema 1 or 2 database in the current layout.
pub fn from(store: &Store, version: u32, mail: &dyn MailBlobs) -> Result<()> {
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
    super::open::record_schema(store)?;
    store.flush()?;
    for name in old_trees {
        store.db.drop_tree(name)?;
    }
    store.flush()
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
            3u32.to_be_bytes()
        );
    }
}

//! Bringing a database written by an older postdesk up to the current layout.
//!
//! Schema 1 kept one sled key per ticket (`tickets`), per event (`events`), per
//! message (`messages`) and per (term, 1,024 tickets) (`index`); at 100,000
//! tickets that was over 930,000 keys and a 60 ms open. Schema 2 packs them (see
//! [`super::packed`] and [`super::keys`]).
//! The new trees are written and flushed before the version moves to 2, so a crash
//! part way leaves schema 1 intact and the next open starts the migration again.

use anyhow::{Context, Result};

use super::{packed, Store};
use crate::model::{Event, Ticket};

const BATCH: usize = 1000;

/// Rewrites a schema 1 database in the schema 2 layout.
pub fn from_v1(store: &Store) -> Result<()> {
    let old_tickets = store.db.open_tree("tickets")?;
    let old_events = store.db.open_tree("events")?;
    let old_messages = store.db.open_tree("messages")?;
    for tree in [&store.tickets, &store.events, &store.index, &store.messages] {
        tree.clear()?;
    }
    copy_messages(store, &old_messages)?;
    let mut batch: Vec<(Ticket, Vec<Event>)> = Vec::with_capacity(BATCH);
    for item in old_tickets.iter() {
        let (key, bytes) = item?;
        let number = packed::key_number(&key);
        let ticket: Ticket = postcard::from_bytes(&bytes)
            .with_context(|| format!("ticket #{number}: corrupt schema 1 record"))?;
        let events = old_events
            .scan_prefix(number.to_be_bytes())
            .values()
            .map(|v| {
                postcard::from_bytes(&v?)
                    .with_context(|| format!("ticket #{number}: corrupt schema 1 event"))
            })
            .collect::<Result<Vec<Event>>>()?;
        batch.push((ticket, events));
        if batch.len() == BATCH {
            write(store, &batch)?;
            batch.clear();
        }
    }
    write(store, &batch)?;
    store.flush()?;
    super::open::record_schema(store)?;
    store.flush()?;
    for name in ["tickets", "events", "index", "messages"] {
        store.db.drop_tree(name)?;
    }
    store.flush()
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

fn write(store: &Store, batch: &[(Ticket, Vec<Event>)]) -> Result<()> {
    store.transact(|tx| {
        for (ticket, events) in batch {
            tx.save_ticket(ticket)?;
            for event in events {
                tx.append_event(ticket.number, event)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::{EventKind, MailIn, Status, TicketFilter};

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
            let mut t = Ticket::new(number, format!("printer {number}"), 100);
            t.status = if number == 1 {
                Status::Open
            } else {
                Status::Closed
            };
            tickets
                .insert(number.to_be_bytes(), postcard::to_allocvec(&t).unwrap())
                .unwrap();
        }
        let mail = EventKind::Mail(MailIn {
            message_id: "<a@x>".into(),
            from: "c@x".into(),
            subject: "again".into(),
            text: "the zebra is back".into(),
            hash: "00".into(),
            attachments: vec![],
            agent: false,
        });
        for (id, kind) in [(1u64, EventKind::Created), (2, mail)] {
            let mut key = 1u64.to_be_bytes().to_vec();
            key.extend(id.to_be_bytes());
            let event = Event {
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
    fn a_schema_1_database_is_rewritten_and_searchable() {
        let dir = tempfile::tempdir().unwrap();
        write_v1(dir.path());
        let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
        assert_eq!(store.ticket(2).unwrap().unwrap().subject, "printer 2");
        let log = store.events(1).unwrap();
        assert_eq!(log.len(), 2);
        assert!(matches!(&log[1].kind, EventKind::Mail(m) if m.text.contains("zebra")));
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
            2u32.to_be_bytes()
        );
    }
}

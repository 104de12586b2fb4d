//! The backend conformance suite: each contract of `backend` as a test, written
//! against the traits only. Run here on sled; a new backend runs the same tests by
//! adding its own `open` below. Each test fails when its contract is broken.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{bail, Result};

use super::{Backend, Claim, Indexing, Store};
use crate::model::time_spent::Timer;
use crate::model::{
    Event, EventKind, IgnoredMail, OutboxEntry, OutboxState, Status, Ticket, TicketFilter,
};

/// A fresh sled database in a temp dir (kept alive by the returned guard).
fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Duration::from_secs(5)).unwrap();
    (dir, store)
}

const THREADS: u64 = 4;

fn new_ticket(b: &impl Backend, subject: &str) -> u64 {
    b.write(|w| {
        let n = w.next_number()?;
        w.save_ticket(&Ticket::new(n, subject.to_string(), 100))?;
        Ok(n)
    })
    .unwrap()
}

fn numbers(tickets: &[Ticket]) -> Vec<u64> {
    tickets.iter().map(|t| t.number).collect()
}

#[test]
fn numbers_are_dense_under_concurrent_writers() {
    let (_dir, b) = open();
    let b = &b;
    let taken: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|i| {
                s.spawn(move || {
                    (0..25)
                        .map(|_| new_ticket(b, &format!("t{i}")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let taken: BTreeSet<u64> = taken.into_iter().collect();
    assert_eq!(
        taken,
        (1..=100).collect(),
        "each number taken once, none skipped"
    );
    let all = b
        .read(|r| r.query(&TicketFilter::default(), false, None))
        .unwrap();
    assert_eq!(numbers(&all), (1..=100).collect::<Vec<_>>());
}

#[test]
fn a_write_that_fails_takes_no_number_and_leaves_nothing() {
    let (_dir, b) = open();
    let failed = b.write(|w| -> Result<()> {
        let n = w.next_number()?;
        w.save_ticket(&Ticket::new(n, "lost", 100))?;
        bail!("changed my mind")
    });
    assert_eq!(failed.unwrap_err().to_string(), "changed my mind");
    assert_eq!(b.read(|r| r.ticket(1)).unwrap(), None);
    assert_eq!(new_ticket(&b, "kept"), 1);
}

#[test]
fn a_rehearsal_returns_what_the_write_would_and_writes_nothing() {
    let (_dir, b) = open();
    let (n, seen) = b
        .rehearse(|w| {
            let n = w.next_number()?;
            w.save_ticket(&Ticket::new(n, "dry", 100))?;
            w.set_imap_state("acct", "INBOX", 7, 42)?;
            Ok((n, w.ticket(n)?.is_some()))
        })
        .unwrap();
    assert_eq!((n, seen), (1, true), "the rehearsal sees its own writes");
    assert_eq!(b.read(|r| r.ticket(1)).unwrap(), None);
    assert_eq!(b.read(|r| r.imap_state("acct", "INBOX")).unwrap(), None);
    assert_eq!(new_ticket(&b, "real"), 1);
}

#[test]
fn a_message_key_is_claimed_exactly_once() {
    let (_dir, b) = open();
    let b = &b;
    let content = [7; 16];
    let claims: Vec<Claim> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(move || b.write(|w| w.claim_message("<once@x>", &content)).unwrap()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let claimed = claims.iter().filter(|c| **c == Claim::Claimed).count();
    assert_eq!(claimed, 1, "{claims:?}");
    // The others saw it filed, with its content; a later write too.
    for claim in claims.iter().filter(|c| **c != Claim::Claimed) {
        assert!(matches!(claim, Claim::Existing(r) if r.content == Some(content)));
    }
    b.write(|w| w.file_message("<once@x>", 9, &content))
        .unwrap();
    let again = b.write(|w| w.claim_message("<once@x>", &[1; 16])).unwrap();
    assert!(matches!(again, Claim::Existing(r) if r.ticket == 9 && r.content == Some(content)));
    assert_eq!(b.write(|w| w.message_ticket("<once@x>")).unwrap(), Some(9));
}

#[test]
fn changes_made_from_ticket_for_update_are_never_lost() {
    let (_dir, b) = open();
    let n = new_ticket(&b, "counter");
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..10 {
                    b.write(|w| {
                        let mut t = w.ticket_for_update(n)?.expect("the ticket");
                        let count: u64 = t.fields.get("n").map_or(0, |v| v.parse().unwrap());
                        t.fields.insert("n".into(), (count + 1).to_string());
                        w.save_ticket(&t)
                    })
                    .unwrap();
                }
            });
        }
    });
    let t = b.read(|r| r.ticket(n)).unwrap().unwrap();
    assert_eq!(t.fields["n"], (THREADS * 10).to_string());
}

#[test]
fn the_index_follows_the_stored_record_not_the_callers_copy() {
    let (_dir, b) = open();
    let mut first = Ticket::new(1, "printer", 100);
    first.tags.insert("a".into());
    b.write(|w| {
        w.next_number()?;
        w.save_ticket(&first)
    })
    .unwrap();
    let tagged = |tag: &str| {
        let filter = TicketFilter {
            tags: vec![tag.into()],
            ..TicketFilter::default()
        };
        numbers(&b.read(|r| r.query(&filter, false, None)).unwrap())
    };
    let mut moved = first.clone();
    moved.tags = ["b".to_string()].into();
    b.write(|w| w.save_ticket(&moved)).unwrap();
    assert_eq!((tagged("a"), tagged("b")), (vec![], vec![1]));
    // A stale copy (tag a) saved over the stored record (tag b).
    b.write(|w| w.save_ticket(&first)).unwrap();
    assert_eq!((tagged("a"), tagged("b")), (vec![1], vec![]));
}

#[test]
fn events_are_appended_in_order_to_their_own_ticket() {
    let (_dir, b) = open();
    let (one, two) = (new_ticket(&b, "one"), new_ticket(&b, "two"));
    let event = |at: i64| Event {
        at,
        actor: "alice".into(),
        kind: EventKind::Created,
    };
    for at in 1..=3 {
        b.write(|w| {
            w.append_event(one, &event(at))?;
            w.append_event(two, &event(at * 10))
        })
        .unwrap();
    }
    let times = |n| -> Vec<i64> {
        b.read(|r| r.events(n))
            .unwrap()
            .iter()
            .map(|e| e.at)
            .collect()
    };
    assert_eq!(times(one), [1, 2, 3]);
    assert_eq!(times(two), [10, 20, 30]);
}

#[test]
fn a_mails_words_find_its_ticket_before_and_after_they_are_indexed() {
    let (_dir, b) = open();
    let (one, two) = (new_ticket(&b, "one"), new_ticket(&b, "two"));
    let found = |word: &str| {
        let filter = TicketFilter {
            search: vec![word.to_string()],
            ..TicketFilter::default()
        };
        numbers(&b.read(|r| r.query(&filter, false, None)).unwrap())
    };
    b.write(|w| w.queue_message_words(one, "Re: the Zebra\nis back"))
        .unwrap();
    assert_eq!((found("zeb"), found("back")), (vec![one], vec![one]));
    // Enough mail that any batching backend has indexed the first.
    for i in 0..100 {
        b.write(|w| w.queue_message_words(two, &format!("filler{i}")))
            .unwrap();
    }
    assert_eq!(found("zebra"), [one]);
    assert_eq!(found("filler42"), [two]);
    assert!(found("giraffe").is_empty());
}

#[test]
fn words_deferred_by_an_import_are_found_before_and_after_it_indexes_them() {
    let (_dir, b) = open();
    let numbers_of = |word: &str| {
        let filter = TicketFilter {
            search: vec![word.to_string()],
            ..TicketFilter::default()
        };
        numbers(&b.read(|r| r.query(&filter, false, None)).unwrap())
    };
    let mut all = Vec::new();
    for i in 0..50 {
        let n = new_ticket(&b, "imported");
        b.write(|w| {
            w.defer_words();
            w.queue_message_words(n, &format!("okapi{i} shared"))
        })
        .unwrap();
        all.push(n);
    }
    assert_eq!(numbers_of("okapi7"), [all[7]]);
    assert_eq!(numbers_of("shared"), all);
    b.index_deferred_words(Indexing::All).unwrap();
    assert_eq!(numbers_of("okapi7"), [all[7]]);
    assert_eq!(numbers_of("shared"), all);
}

#[test]
fn the_imap_cursor_commits_with_its_batch_or_not_at_all() {
    let (_dir, b) = open();
    let batch = |fail: bool| {
        b.write(|w| {
            let n = w.next_number()?;
            w.save_ticket(&Ticket::new(n, "fetched", 100))?;
            w.set_imap_state("acct", "INBOX", 7, 42)?;
            if fail {
                bail!("disk full");
            }
            Ok(())
        })
    };
    assert!(batch(true).is_err());
    assert_eq!(b.read(|r| r.imap_state("acct", "INBOX")).unwrap(), None);
    assert_eq!(b.read(|r| r.ticket(1)).unwrap(), None);
    batch(false).unwrap();
    assert_eq!(
        b.read(|r| r.imap_state("acct", "INBOX")).unwrap(),
        Some((7, 42))
    );
    assert!(b.read(|r| r.ticket(1)).unwrap().is_some());
}

#[test]
fn a_timer_is_one_per_user_and_outlives_the_write_that_set_it() {
    let (_dir, b) = open();
    let timer = Timer {
        ticket: 3,
        started: 100,
    };
    let failed = b.write(|w| -> Result<()> {
        w.set_running_timer("bob", Some(&timer))?;
        assert_eq!(
            w.running_timer("bob")?,
            Some(timer),
            "the write sees its own"
        );
        bail!("disk full")
    });
    assert!(failed.is_err());
    b.write(|w| {
        assert_eq!(w.running_timer("bob")?, None, "a failed write set nothing");
        w.set_running_timer("bob", Some(&timer))
    })
    .unwrap();
    b.write(|w| {
        assert_eq!(w.running_timer("bob")?, Some(timer));
        assert_eq!(w.running_timer("alice")?, None, "each user has their own");
        w.set_running_timer("bob", None)
    })
    .unwrap();
    assert_eq!(b.write(|w| w.running_timer("bob")).unwrap(), None);
}

#[test]
fn queries_filter_and_order_by_number() {
    let (_dir, b) = open();
    for (i, status) in [
        Status::Open,
        Status::Closed,
        Status::Open,
        Status::Pending,
        Status::Open,
    ]
    .into_iter()
    .enumerate()
    {
        b.write(|w| {
            let n = w.next_number()?;
            let mut t = Ticket::new(n, format!("ticket {i}"), 100 + i as i64);
            t.status = status;
            w.save_ticket(&t)
        })
        .unwrap();
    }
    let open = TicketFilter {
        statuses: vec![Status::Open],
        ..TicketFilter::default()
    };
    let q = |descending, limit| numbers(&b.read(|r| r.query(&open, descending, limit)).unwrap());
    assert_eq!(q(false, None), [1, 3, 5]);
    assert_eq!(q(true, None), [5, 3, 1]);
    assert_eq!(q(true, Some(2)), [5, 3]);
    assert_eq!(q(false, Some(1)), [1]);
}

#[test]
fn due_queries_follow_the_next_due_time_as_it_moves() {
    let (_dir, b) = open();
    let due = |n: u64, response: Option<i64>, resolution: Option<i64>| {
        b.write(|w| {
            let mut t = w.ticket(n)?.unwrap_or_else(|| Ticket::new(n, "t", 0));
            t.sla.response_due = response;
            t.sla.resolution_due = resolution;
            w.save_ticket(&t)
        })
        .unwrap()
    };
    let first = b.write(|w| w.next_number()).unwrap();
    due(first, Some(100), Some(500));
    let second = b.write(|w| w.next_number()).unwrap();
    due(second, None, Some(300));
    let third = b.write(|w| w.next_number()).unwrap();
    due(third, None, None);
    let by = |at: i64| {
        let filter = TicketFilter {
            due_by: Some(at),
            ..TicketFilter::default()
        };
        numbers(&b.read(|r| r.query(&filter, false, None)).unwrap())
    };
    assert_eq!(by(99), [] as [u64; 0]);
    assert_eq!(by(100), [first]);
    assert_eq!(by(300), [first, second]);
    // Answered: the first ticket's next due time is its resolution.
    b.write(|w| {
        let mut t = w.ticket(first)?.unwrap();
        t.sla.first_response = Some(50);
        w.save_ticket(&t)
    })
    .unwrap();
    assert_eq!(by(300), [second]);
    // Pending: nothing is due.
    b.write(|w| {
        let mut t = w.ticket(second)?.unwrap();
        t.status = Status::Pending;
        w.save_ticket(&t)
    })
    .unwrap();
    assert_eq!(by(i64::MAX - 1), [first]);
}

fn ignored_mail(subject: &str) -> IgnoredMail {
    IgnoredMail {
        at: 100,
        reason: "auto-reply".into(),
        from: "ann@acme.example".into(),
        subject: subject.into(),
        message_id: format!("<{subject}@x>"),
        hash: "00".repeat(32),
    }
}

#[test]
fn an_ignored_record_is_removed_exactly_once() {
    let (_dir, b) = open();
    let b = &b;
    b.write(|w| {
        w.record_ignored(&ignored_mail("one"))?;
        w.record_ignored(&ignored_mail("two"))
    })
    .unwrap();
    let listed = b.read(|r| r.ignored()).unwrap();
    let subjects: Vec<_> = listed.iter().map(|(_, m)| m.subject.as_str()).collect();
    assert_eq!(subjects, ["one", "two"], "oldest first");
    let (one, two) = (listed[0].0, listed[1].0);
    assert_ne!(one, two, "each record its own ID");
    assert_eq!(
        b.write(|w| w.ignored_mail(two)).unwrap(),
        Some(ignored_mail("two"))
    );
    // A write that fails removes nothing.
    let failed = b.write(|w| -> Result<()> {
        assert!(w.remove_ignored(one)?);
        assert_eq!(w.ignored_mail(one)?, None, "the write sees its own removal");
        bail!("changed my mind")
    });
    assert!(failed.is_err());
    assert_eq!(b.read(|r| r.ignored()).unwrap().len(), 2);
    let removals: Vec<bool> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(move || b.write(|w| w.remove_ignored(one)).unwrap()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(removals.iter().filter(|r| **r).count(), 1, "{removals:?}");
    let left = b.read(|r| r.ignored()).unwrap();
    assert_eq!(left, [(two, ignored_mail("two"))]);
    assert_eq!(b.write(|w| w.ignored_mail(one)).unwrap(), None);
    // A new record never takes a removed one's ID.
    b.write(|w| w.record_ignored(&ignored_mail("three")))
        .unwrap();
    let ids: Vec<u64> = b
        .read(|r| r.ignored())
        .unwrap()
        .iter()
        .map(|(id, _)| *id)
        .collect();
    assert!(!ids.contains(&one) && ids.len() == 2, "{ids:?}");
}

#[test]
fn customers_are_listed_by_address_and_found_in_any_case() {
    let (_dir, b) = open();
    b.write(|w| {
        w.upsert_customer("zoe@corp.example", None, 300)?;
        w.upsert_customer("ann@corp.example", Some("Ann"), 200)?;
        // Mail of an archive comes in any order: first and last seen still hold.
        w.upsert_customer("ann@corp.example", None, 100)?;
        w.upsert_customer("ann@corp.example", None, 400)?;
        Ok(())
    })
    .unwrap();
    let customers = b.read(|r| r.customers()).unwrap();
    let addresses: Vec<&str> = customers.iter().map(|c| c.email.as_str()).collect();
    assert_eq!(addresses, ["ann@corp.example", "zoe@corp.example"]);
    let ann = b.read(|r| r.customer("Ann@Corp.Example")).unwrap().unwrap();
    assert_eq!(ann.name.as_deref(), Some("Ann"), "a name is kept");
    assert_eq!((ann.first_seen, ann.last_seen), (100, 400));
    assert_eq!(b.read(|r| r.customer("nobody@corp.example")).unwrap(), None);
}

fn outgoing(ticket: u64, to: &str) -> OutboxEntry {
    OutboxEntry::queued(ticket, to, "help@corp.example", "ab", 100)
}

#[test]
fn outbox_entries_are_queued_with_their_write_or_not_at_all() {
    let (_dir, b) = open();
    let failed = b.write(|w| -> Result<()> {
        w.queue_outbox(&outgoing(1, "lost@x"))?;
        bail!("rolled back")
    });
    assert!(failed.is_err());
    assert!(b.read(|r| r.outbox(false)).unwrap().is_empty());
    let ids = b
        .write(|w| {
            let a = w.queue_outbox(&outgoing(1, "ann@x"))?;
            let c = w.queue_outbox(&outgoing(1, "cy@x"))?;
            // This write sees its own entries.
            assert_eq!(w.outbox_entry(a)?.unwrap().recipient, "ann@x");
            Ok([a, c])
        })
        .unwrap();
    assert!(ids[0] > 0 && ids[1] > ids[0], "{ids:?}");
    let later = b.write(|w| w.queue_outbox(&outgoing(2, "bo@x"))).unwrap();
    assert!(later > ids[1], "IDs grow: {later} after {ids:?}");
    let all = b.read(|r| r.outbox(false)).unwrap();
    let listed: Vec<(u64, &str)> = all.iter().map(|e| (e.id, e.recipient.as_str())).collect();
    assert_eq!(
        listed,
        [(ids[0], "ann@x"), (ids[1], "cy@x"), (later, "bo@x")]
    );
    assert_eq!(
        b.read(|r| r.outbox_entry(later)).unwrap().unwrap().ticket,
        2
    );
    assert_eq!(b.read(|r| r.outbox_entry(later + 100)).unwrap(), None);
}

#[test]
fn only_queued_outbox_entries_are_listed_as_waiting() {
    let (_dir, b) = open();
    let ids: Vec<u64> = (0..4)
        .map(|i| {
            b.write(|w| w.queue_outbox(&outgoing(1, &format!("r{i}@x"))))
                .unwrap()
        })
        .collect();
    for (id, state) in
        ids[..3]
            .iter()
            .zip([OutboxState::Sent, OutboxState::Failed, OutboxState::Dropped])
    {
        b.write(|w| {
            let mut e = w.outbox_entry(*id)?.unwrap();
            e.state = state;
            w.save_outbox_entry(&e)
        })
        .unwrap();
    }
    let waiting: Vec<u64> = b
        .read(|r| r.outbox(true))
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(waiting, [ids[3]]);
    assert_eq!(b.read(|r| r.outbox(false)).unwrap().len(), 4);
    // Back to queued (`outbox retry`): waiting again.
    b.write(|w| {
        let mut e = w.outbox_entry(ids[1])?.unwrap();
        e.state = OutboxState::Queued;
        w.save_outbox_entry(&e)
    })
    .unwrap();
    assert_eq!(b.read(|r| r.outbox(true)).unwrap().len(), 2);
    let missing = b.write(|w| {
        w.save_outbox_entry(&OutboxEntry {
            id: 999,
            ..outgoing(1, "x@x")
        })
    });
    assert!(missing.is_err(), "no entry 999");
}

#[test]
fn an_outbox_attempt_is_claimed_by_one_sender() {
    let (_dir, b) = open();
    let id = b.write(|w| w.queue_outbox(&outgoing(1, "ann@x"))).unwrap();
    let b = &b;
    let claims: Vec<bool> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(move || {
                    b.write(|w| {
                        let mut e = w.outbox_entry(id)?.unwrap();
                        if e.attempts > 0 {
                            return Ok(false);
                        }
                        e.attempts += 1;
                        w.save_outbox_entry(&e)?;
                        Ok(true)
                    })
                    .unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(claims.iter().filter(|c| **c).count(), 1, "{claims:?}");
    assert_eq!(b.read(|r| r.outbox_entry(id)).unwrap().unwrap().attempts, 1);
}

fn suppressed(address: &str, why: &str) -> crate::model::Suppression {
    crate::model::Suppression {
        address: address.to_string(),
        at: 100,
        reason: why.to_string(),
        status: "5.1.1".to_string(),
        outbox_id: 3,
        ticket: 1,
        by: "bounce".to_string(),
    }
}

#[test]
fn a_suppression_is_one_per_address_found_in_any_case_and_removed_once() {
    let (_dir, b) = open();
    // With its write or not at all.
    let failed = b.write(|w| -> Result<()> {
        w.suppress(&suppressed("lost@x", "gone"))?;
        bail!("changed my mind")
    });
    assert!(failed.is_err());
    assert!(b.read(|r| r.suppressions()).unwrap().is_empty());
    b.write(|w| {
        w.suppress(&suppressed("Zed@X.example", "first"))?;
        w.suppress(&suppressed("ann@x", "ann"))?;
        // Seen by the same write, in any case.
        assert_eq!(w.suppression("ZED@x.EXAMPLE")?.unwrap().reason, "first");
        w.suppress(&suppressed("zed@x.example", "again"))
    })
    .unwrap();
    let all = b.read(|r| r.suppressions()).unwrap();
    let listed: Vec<(&str, &str)> = all
        .iter()
        .map(|s| (s.address.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(listed, [("ann@x", "ann"), ("zed@x.example", "again")]);
    let found = b.read(|r| r.suppression("ZED@X.EXAMPLE")).unwrap().unwrap();
    assert_eq!(found, suppressed("zed@x.example", "again"));
    assert_eq!(b.read(|r| r.suppression("bob@x")).unwrap(), None);
    // Suppressions are not outbox entries.
    assert!(b.read(|r| r.outbox(false)).unwrap().is_empty());
    let removed: Vec<bool> = std::thread::scope(|s| {
        let b = &b;
        let workers: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(move || b.write(|w| w.unsuppress("Ann@X")).unwrap()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(removed.iter().filter(|r| **r).count(), 1, "{removed:?}");
    assert_eq!(b.read(|r| r.suppression("ann@x")).unwrap(), None);
    assert_eq!(b.read(|r| r.suppressions()).unwrap().len(), 1);
}

//! Issue 20: two desks whose support addresses write to each other never loop. Each
//! has a Maildir `mail_out`, notifications and auto-replies on, and an `X-Loop` id
//! of its own (so that only `Auto-Submitted` and the auto-reply rules stop the
//! exchange, not the other desk's loop id): a message from desk A's address to
//! desk B starts it, and what each desk sends to the other's address is fed into
//! the other's `ingest` until nothing new is sent.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::{Env, CONFIG};

const A: &str = "help@a.example";
const B: &str = "help@b.example";

/// The standard desk answering at `address`, with X-Loop `loop_id`.
fn desk(address: &str, loop_id: &str) -> Env {
    let config = CONFIG.replace("help@corp.example", address).replace(
        "users:\n",
        &format!("ingest: {{ loop_id: {loop_id} }}\nusers:\n"),
    );
    Env::with_config(&format!(
        "{config}mail_out: {{ transport: maildir, path: sent }}\n"
    ))
}

/// The messages in the Maildir `sent/` of `env` to `to` (by Delivered-To) not in
/// `seen`, which they are added to.
fn new_mail_to(env: &Env, to: &str, seen: &mut BTreeSet<String>) -> Vec<String> {
    let dir = env.path().join("sent/new");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_else(|_| Vec::new());
    names.sort();
    names
        .into_iter()
        .filter(|p: &std::path::PathBuf| seen.insert(p.display().to_string()))
        .map(|p| std::fs::read_to_string(Path::new(&p)).unwrap())
        .filter(|text| {
            text.lines()
                .take(3)
                .any(|l| l.eq_ignore_ascii_case(&format!("Delivered-To: {to}")))
        })
        .collect()
}

/// Pipes `message` into `env` and sends what that queued.
fn feed(env: &Env, message: &str) {
    let out = env.ingest(message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.ok(&["outbox", "send"]);
}

#[test]
fn two_desks_writing_to_each_other_send_at_most_one_message_each() {
    let a = desk(A, "desk-a");
    let b = desk(B, "desk-b");
    // A person at A's address writes to B.
    feed(
        &b,
        &format!(
            "Return-Path: <{A}>\nFrom: Desk A <{A}>\nTo: {B}\nSubject: Our printer\n\
             Message-ID: <start@a.example>\nDate: Tue, 24 Nov 2026 21:30:00 +0000\n\n\
             Can you look at it?\n"
        ),
    );
    let (mut seen_a, mut seen_b) = (BTreeSet::new(), BTreeSet::new());
    let (mut a_to_b, mut b_to_a) = (0, 0);
    let mut rounds = 0;
    loop {
        let from_b = new_mail_to(&b, A, &mut seen_b);
        let from_a = new_mail_to(&a, B, &mut seen_a);
        if from_a.is_empty() && from_b.is_empty() {
            break;
        }
        rounds += 1;
        assert!(rounds <= 10, "still sending after 10 rounds");
        b_to_a += from_b.len();
        a_to_b += from_a.len();
        for m in &from_b {
            feed(&a, m);
        }
        for m in &from_a {
            feed(&b, m);
        }
    }
    assert!(
        a_to_b <= 1 && b_to_a <= 1,
        "A sent B {a_to_b} and B sent A {b_to_a} messages in {rounds} rounds"
    );
    // B acknowledged the request once; A did not answer that automatic reply.
    assert_eq!((b_to_a, a_to_b), (1, 0), "{rounds} rounds");
}

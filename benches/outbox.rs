//! `outbox send` of 1,000 queued messages to the maildir transport (issue 20: under
//! 2 s). The desk's deliveries queue the messages (notifications and
//! acknowledgements, as a live desk's do); then `outbox send` is timed.
//! Run: `cargo bench --bench outbox`; `BENCH_BIN` times another build.

mod common;

use std::process::Stdio;

use common::corpus::Corpus;
use common::desk::{deliver, mail_out_config, postdesk, timed};

/// The target for 1,000 messages.
const TARGET_S: f64 = 2.0;
const MESSAGES: usize = 1_000;

fn queued(dir: &std::path::Path) -> usize {
    let out = postdesk(dir)
        .args(["outbox", "list", "--format", "json"])
        .stderr(Stdio::inherit())
        .output()
        .expect("run outbox list");
    assert!(out.status.success(), "outbox list failed");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("outbox json");
    list.as_array().map_or(0, Vec::len)
}

fn main() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    std::fs::write(dir.join("postdesk.yaml"), mail_out_config()).unwrap();
    let mut corpus = Corpus::new(20);
    // Requests piped in until 1,000 messages are queued: the first ten tell how
    // many each queues.
    let mut i = 0;
    let mut batch = 10;
    loop {
        for _ in 0..batch {
            deliver(dir, &corpus.request("q", i).delivery()).expect("a delivery");
            i += 1;
        }
        let have = queued(dir);
        if have >= MESSAGES {
            break;
        }
        let per = have.max(1) as f64 / i as f64;
        batch = (((MESSAGES - have) as f64 / per).ceil() as usize).max(1);
    }
    println!("{i} deliveries queued {} messages", queued(dir));
    let n = queued(dir);
    let took = timed(dir, &["outbox", "send"]).as_secs_f64();
    let left = queued(dir);
    let sent = std::fs::read_dir(dir.join("sent/new")).map_or(0, |d| d.count());
    let per_1000 = took * MESSAGES as f64 / n as f64;
    println!(
        "outbox send: {n} queued messages to a Maildir in {took:.2} s ({per_1000:.2} s per 1,000; target {TARGET_S:.0} s): {} ({sent} in the Maildir, {left} left queued)",
        if per_1000 < TARGET_S { "ok" } else { "OVER" }
    );
    assert_eq!(left, 0, "everything was sent");
}

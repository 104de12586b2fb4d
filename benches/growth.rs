//! Growth benchmark (issue 17): one ticket that keeps getting large mail, then new
//! tickets beside it, every message its own `postdesk ingest` process on stdin as an
//! MTA delivers it. Prints what the acceptance points are about: the size of
//! `sled/` against the mail it holds, the blob files sled left in `sled/blobs`, the
//! time of the first and the last deliveries and `ticket show` of that ticket; then,
//! each in a desk of its own, the time of the first and the last of many events on
//! one ticket: edits (`ticket edit`, about 100 bytes of log each) and piped replies
//! of 2-4 KB.
//!
//! Sizes: GROWTH_REPLIES replies (default 300, the first message included, so 299
//! replies to it) of GROWTH_SIZE bytes (default 100,000), then 40 new tickets of
//! that size; GROWTH_EVENTS edits and as many small replies (default 1,000 each).
//! BENCH_KEEP=DIR keeps the desks (`DIR/thread`, `DIR/events`, `DIR/small-replies`);
//! BENCH_BIN=PATH times another build.
//!
//! Run: `cargo bench --bench growth`, or quickly
//! `GROWTH_REPLIES=40 GROWTH_EVENTS=100 cargo bench --bench growth`.

mod common;

use common::corpus::{Corpus, Mail};
use common::desk::{self, deliver, ticket_count, timed};
use common::dir_size;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const NEW_TICKETS: usize = 40;
/// Runs of each `ticket show` timing, the median is the figure.
const SHOW_RUNS: usize = 5;
/// Deliveries or edits whose median stands for the start or the end.
const WINDOW: usize = 10;

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let messages = env_count("GROWTH_REPLIES", 300).max(2);
    let size = env_count("GROWTH_SIZE", 100_000);
    let events = env_count("GROWTH_EVENTS", 1_000).max(2);
    let dir = tempfile::tempdir().expect("temp dir");
    let root =
        std::env::var_os("BENCH_KEEP").map_or_else(|| dir.path().to_path_buf(), PathBuf::from);
    let mut failures = Vec::new();
    thread(&root.join("thread"), messages, size, &mut failures);
    edits(&root.join("events"), events, &mut failures);
    small_replies(&root.join("small-replies"), events, &mut failures);
    println!();
    if failures.is_empty() {
        println!("all of issue 17's growth targets met");
    } else {
        println!("issue 17's growth targets missed:");
        failures.iter().for_each(|f| println!("  {f}"));
    }
}

/// A desk with the config of the other benches and the integration tests.
fn new_desk(root: &Path) {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).expect("create the desk");
    std::fs::write(root.join("postdesk.yaml"), desk::config()).expect("write the config");
}

/// The first request, `messages - 1` replies to it (each to the one before, from the
/// requester), then new tickets; sizes and times as they go.
fn thread(root: &Path, messages: usize, size: usize, failures: &mut Vec<String>) {
    new_desk(root);
    let db = root.join("db");
    let mut corpus = Corpus::new(17);
    println!(
        "one ticket: a request and {} replies of {:.0} KB, each piped into `postdesk ingest`",
        messages - 1,
        size as f64 / 1e3
    );
    let first = corpus.large_request("growth", 0, size);
    let mut delivered = vec![timed_delivery(root, &first)];
    let show_first = show_median(root);
    let mut parent = first.thread.clone();
    let mut mail_bytes = first.raw.len();
    let started = Instant::now();
    for i in 1..messages {
        let reply = corpus.large_reply("growth", i, &parent, size);
        delivered.push(timed_delivery(root, &reply));
        mail_bytes += reply.raw.len();
        parent = reply.thread;
        if (i + 1) % 50 == 0 || i + 1 == messages {
            let (blobs, blob_bytes) = blobs(&db);
            println!(
                "  {:>4} messages ({:.1} MB of mail) after {:.0} s: sled/ {:.1} MB, mail/ {:.1} MB, {blobs} blobs ({:.1} MB), this delivery {:.0} ms",
                i + 1,
                mb(mail_bytes as u64),
                started.elapsed().as_secs_f64(),
                mb(dir_size(&db.join("sled"))),
                mb(dir_size(&db.join("mail"))),
                mb(blob_bytes),
                ms(delivered[i]),
            );
        }
    }
    let show_last = show_median(root);
    let tickets = ticket_count(root);
    if tickets != 1 {
        failures.push(format!(
            "the replies made {tickets} tickets, not 1: they did not join"
        ));
    }

    let (start, end) = first_and_last("delivery", &delivered);
    println!(
        "ticket show 1, median of {SHOW_RUNS}: after the first message {:.1} ms, after message {messages} {:.1} ms",
        ms(show_first),
        ms(show_last)
    );
    within_twice(
        failures,
        &format!("delivery, last {WINDOW} against the first {WINDOW}"),
        start,
        end,
    );
    within_twice(
        failures,
        &format!("delivery {messages} against the first"),
        delivered[0],
        delivered[messages - 1],
    );
    within_twice(failures, "ticket show 1", show_first, show_last);

    println!("{NEW_TICKETS} new tickets of {:.0} KB", size as f64 / 1e3);
    let mut new_times = Vec::new();
    for i in 0..NEW_TICKETS {
        let mail = corpus.large_request("growth-new", i, size);
        mail_bytes += mail.raw.len();
        new_times.push(timed_delivery(root, &mail));
    }
    let tickets = ticket_count(root);
    if tickets != 1 + NEW_TICKETS {
        failures.push(format!(
            "{tickets} tickets after {NEW_TICKETS} new requests, not {}",
            1 + NEW_TICKETS
        ));
    }
    new_times.sort();
    println!(
        "new ticket delivery: median {:.1} ms, max {:.1} ms",
        ms(new_times[NEW_TICKETS / 2]),
        ms(new_times[NEW_TICKETS - 1])
    );

    let sled = dir_size(&db.join("sled"));
    let mail = dir_size(&db.join("mail"));
    let (blob_files, blob_bytes) = blobs(&db);
    let bound = 2 * mail + 10_000_000;
    println!(
        "sizes: {:.1} MB of messages delivered; sled/ {:.1} MB, of it sled/db {:.1} MB; mail/ {:.1} MB; sled/mail {:.2}; bound 2 x mail + 10 MB = {:.1} MB",
        mb(mail_bytes as u64),
        mb(sled),
        mb(std::fs::metadata(db.join("sled/db")).map_or(0, |m| m.len())),
        mb(mail),
        sled as f64 / mail.max(1) as f64,
        mb(bound)
    );
    println!("sled/blobs: {blob_files} files, {:.1} MB", mb(blob_bytes));
    if sled >= bound {
        failures.push(format!(
            "sled/ {:.1} MB, over 2 x mail/ + 10 MB = {:.1} MB",
            mb(sled),
            mb(bound)
        ));
    }
    if blob_files > 0 {
        failures.push(format!(
            "{blob_files} blob files ({:.1} MB) left in sled/blobs after the commands ended",
            mb(blob_bytes)
        ));
    }
}

/// A ticket, then `events` edits of it, each its own process and one event in its
/// log; the priority alternates so the ticket itself does not grow.
fn edits(root: &Path, events: usize, failures: &mut Vec<String>) {
    new_desk(root);
    println!("\n{events} edits of one ticket (`ticket edit 1 --priority high|low`), an event each");
    timed(
        root,
        &[
            "ticket",
            "create",
            "--subject",
            "edits",
            "--description",
            "one event at a time",
        ],
    );
    let times: Vec<Duration> = (0..events)
        .map(|i| {
            let priority = if i % 2 == 0 { "high" } else { "low" };
            timed(root, &["ticket", "edit", "1", "--priority", priority])
        })
        .collect();
    let (start, end) = first_and_last("edit", &times);
    println!(
        "after the edits: sled/ {:.1} MB, {} blobs",
        mb(dir_size(&root.join("db/sled"))),
        blobs(&root.join("db")).0
    );
    within_twice(
        failures,
        &format!("edit, last {WINDOW} of {events} against the first {WINDOW}"),
        start,
        end,
    );
}

/// A request, then `events` replies of 2-4 KB to it from its requester, each piped
/// into `postdesk ingest`: a mail event each.
fn small_replies(root: &Path, events: usize, failures: &mut Vec<String>) {
    new_desk(root);
    println!("\n{events} replies of 2-4 KB to one ticket, piped into `postdesk ingest`");
    let mut corpus = Corpus::new(1000);
    let first = corpus.request("small", 0);
    timed_delivery(root, &first);
    let mut parent = first.thread;
    let times: Vec<Duration> = (1..=events)
        .map(|i| {
            let reply = corpus.reply("small", i, &parent);
            parent = reply.thread.clone();
            timed_delivery(root, &reply)
        })
        .collect();
    let (start, end) = first_and_last("small reply", &times);
    let (blob_files, blob_bytes) = blobs(&root.join("db"));
    let tickets = ticket_count(root);
    if tickets != 1 {
        failures.push(format!("the small replies made {tickets} tickets, not 1"));
    }
    println!(
        "after the replies: {tickets} ticket(s), sled/ {:.1} MB, mail/ {:.1} MB, {blob_files} blobs ({:.1} MB)",
        mb(dir_size(&root.join("db/sled"))),
        mb(dir_size(&root.join("db/mail"))),
        mb(blob_bytes)
    );
    within_twice(
        failures,
        &format!("small reply, last {WINDOW} of {events} against the first {WINDOW}"),
        start,
        end,
    );
}

fn timed_delivery(root: &Path, mail: &Mail) -> Duration {
    deliver(root, &mail.delivery()).unwrap_or_else(|e| panic!("delivery failed: {e}"))
}

fn show_median(root: &Path) -> Duration {
    let mut times: Vec<Duration> = (0..SHOW_RUNS)
        .map(|_| timed(root, &["ticket", "show", "1"]))
        .collect();
    times.sort();
    times[SHOW_RUNS / 2]
}

/// Prints the first and last of `times` and the medians of their first and last
/// `WINDOW`, which it returns.
fn first_and_last(what: &str, times: &[Duration]) -> (Duration, Duration) {
    let n = times.len();
    let (start, end) = (window(times, 0), window(times, n.saturating_sub(WINDOW)));
    println!(
        "{what}: 1st {:.1} ms, median of the first {WINDOW} {:.1} ms, of the last {WINDOW} {:.1} ms, #{n} {:.1} ms",
        ms(times[0]),
        ms(start),
        ms(end),
        ms(times[n - 1])
    );
    (start, end)
}

/// The median of `WINDOW` times from `from` (fewer if there are not that many).
fn window(times: &[Duration], from: usize) -> Duration {
    let mut part = times[from.min(times.len() - 1)..(from + WINDOW).min(times.len())].to_vec();
    part.sort();
    part[part.len() / 2]
}

fn within_twice(failures: &mut Vec<String>, what: &str, first: Duration, last: Duration) {
    if last > first * 2 {
        failures.push(format!(
            "{what}: {:.1} ms against {:.1} ms, over 2x",
            ms(last),
            ms(first)
        ));
    }
}

/// The files in `<db>/sled/blobs` and their bytes.
fn blobs(db: &Path) -> (usize, u64) {
    std::fs::read_dir(db.join("sled/blobs")).map_or((0, 0), |rd| {
        rd.filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .fold((0, 0), |(n, bytes), m| (n + 1, bytes + m.len()))
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

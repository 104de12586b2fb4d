//! Issue 20: the cost of mail out on a delivery. One desk of `tickets` tickets
//! (10,000), the example config, rules (some `notify`) and templates, and piped
//! deliveries timed alternately with a `mail_out` (notifications, rules' mail and
//! auto-replies queued) and without (nothing queued), in one run: both medians and
//! their ratio (target: within 10%).
//! Run: `cargo bench --bench notify_ab [-- tickets=10000 runs=40]`; `BENCH_BIN` times
//! another build.

mod common;

use std::path::Path;
use std::time::Duration;

use common::corpus::{Corpus, Until};
use common::desk::{self, deliver};

fn main() {
    let (mut tickets, mut runs) = (10_000, 40);
    for arg in std::env::args().skip(1).filter(|a| !a.starts_with("--")) {
        match arg.split_once('=').map(|(k, v)| (k, v.parse::<usize>())) {
            Some(("tickets", Ok(n))) => tickets = n,
            Some(("runs", Ok(n))) => runs = n.max(2),
            _ => panic!("unknown argument {arg:?}: tickets=N runs=N"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The example desk (examples/postdesk.yaml: its services are those the example
    // rules name) with its rules and templates.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let without = std::fs::read_to_string(repo.join("examples/postdesk.yaml")).unwrap();
    let with = format!("{without}\nmail_out: {{ transport: maildir, path: sent }}\n");
    std::fs::write(root.join("postdesk.yaml"), &without).unwrap();
    for sub in ["rules", "templates"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
        for file in std::fs::read_dir(repo.join(sub)).unwrap() {
            let file = file.unwrap().path();
            if file.is_file() {
                std::fs::copy(&file, root.join(sub).join(file.file_name().unwrap())).unwrap();
            }
        }
    }
    let mut corpus = Corpus::new(8);
    let (mbox, _) = desk::build(root, &mut corpus, "ab", Until::Requests(tickets));
    let threads = mbox.threads;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..runs * 2 {
        let mail_out = i % 2 == 1;
        std::fs::write(
            root.join("postdesk.yaml"),
            if mail_out { &with } else { &without },
        )
        .unwrap();
        // Two requests, then a reply to a stored thread, the same in both arms.
        let mail = if (i / 2) % 3 == 2 {
            let parent = &threads[corpus.rng.usize(..threads.len())];
            corpus.reply("abr", i, parent)
        } else {
            corpus.request("abq", i)
        };
        let took = deliver(root, &mail.delivery()).expect("a delivery");
        if mail_out { &mut b } else { &mut a }.push(took);
    }
    let queued = {
        let out = desk::postdesk(root)
            .env("POSTDESK_USER", "maria")
            .args(["outbox", "list", "--format", "json"])
            .output()
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        list.as_array().map_or(0, Vec::len)
    };
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    let (a, b) = (median(&mut a), median(&mut b));
    println!(
        "deliveries with {tickets} tickets, {runs} each way, alternately: median without mail_out {a:.1} ms, with it {b:.1} ms ({queued} messages queued): ratio {:.3} (target < 1.10): {}",
        b / a,
        if b / a < 1.10 { "ok" } else { "OVER" }
    );
}

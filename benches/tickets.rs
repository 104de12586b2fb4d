//! Ticket store benchmark: builds a helpdesk of 100,000 tickets the way users get one,
//! `ingest mbox` of generated support mail (1.25 messages a ticket, replies threaded
//! by In-Reply-To), then times the release binary as a user runs it. Rules give the
//! tickets a mix of statuses, priorities and a `vip` tag, and move an eighth to
//! `finance`, whose service levels make its high and urgent tickets still open or
//! in progress overdue (the mail is months old): some 4% of the tickets. BENCH_KEEP=DIR keeps the
//! helpdesk; BENCH_BIN=PATH times another build instead.
//! Run: `cargo bench --bench tickets [-- COUNT]`.

mod common;

use common::corpus::{Corpus, Until};
use common::desk;

use std::path::Path;
use std::time::{Duration, Instant};

/// A quarter of new tickets each pending, in progress, closed or left open, a
/// quarter each low, medium, high or urgent, an eighth `vip`, an eighth in service
/// `finance` (whose service levels make some overdue): drawn from the
/// Message-ID's random hex digits, so independent of one another and of the text.
const RULES: &str = r#"
- name: pending
  when: created
  conditions: [{ header: { name: Message-ID, regex: '[0-3]@' } }]
  actions: [{ set: { status: pending } }]
- name: in progress
  when: created
  conditions: [{ header: { name: Message-ID, regex: '[4-7]@' } }]
  actions: [{ set: { status: in-progress } }]
- name: closed
  when: created
  conditions: [{ header: { name: Message-ID, regex: '[89ab]@' } }]
  actions: [{ set: { status: closed } }]
- name: low
  when: created
  conditions: [{ header: { name: Message-ID, regex: '[0-3].@' } }]
  actions: [{ set: { priority: low } }]
- name: high
  when: created
  conditions: [{ header: { name: Message-ID, regex: '[89ab].@' } }]
  actions: [{ set: { priority: high } }]
- name: urgent
  when: created
  conditions: [{ header: { name: Message-ID, regex: '[c-f].@' } }]
  actions: [{ set: { priority: urgent } }]
- name: vip
  when: created
  conditions: [{ header: { name: Message-ID, regex: '[01]..@' } }]
  actions: [{ tag: [vip] }]
- name: finance
  when: created
  conditions: [{ header: { name: Message-ID, regex: '[01]...@' } }]
  actions: [{ set: { service: finance } }]
"#;

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    // BENCH_KEEP=DIR keeps the helpdesk for poking at afterwards.
    let _guard;
    let root = match std::env::var_os("BENCH_KEEP") {
        Some(keep) => std::path::PathBuf::from(keep),
        None => {
            let path = dir.path().to_path_buf();
            _guard = dir;
            path
        }
    };
    let root = root.as_path();
    std::fs::create_dir_all(root.join("rules")).unwrap();
    std::fs::write(root.join("postdesk.yaml"), desk::config()).unwrap();
    std::fs::write(root.join("rules/10-bench.yaml"), RULES).unwrap();
    let started = Instant::now();
    let mut corpus = Corpus::new(42);
    let (mbox, import) = desk::build(root, &mut corpus, "tickets", Until::Requests(count));
    if let Err(failure) = desk::check_import(&mbox, &import) {
        panic!("{failure}");
    }
    println!(
        "built {count} tickets in {:.1} s (generating the mail included)",
        started.elapsed().as_secs_f64()
    );

    // The import leaves a gigabyte dirty in the page cache: written back while
    // the writes below run, it would be timed in their fsyncs.
    let synced = std::process::Command::new("sync").status();
    assert!(
        synced.as_ref().is_ok_and(|s| s.success()),
        "sync failed: {synced:?}"
    );

    let runs = 15;
    // A ticket from the middle of the range.
    let middle = (count / 2).max(1).to_string();
    let cases: &[(&str, &[&str], f64)] = &[
        (
            "ticket list --status open --format json",
            &["ticket", "list", "--status", "open", "--format", "json"],
            150.0,
        ),
        (
            "ticket list --search printer --format json",
            &["ticket", "list", "--search", "printer", "--format", "json"],
            300.0,
        ),
        (
            "ticket list --search printer (table)",
            &["ticket", "list", "--search", "printer"],
            300.0,
        ),
        (
            "ticket list --search AT042 (rare word)",
            &["ticket", "list", "--search", "AT042", "--format", "json"],
            300.0,
        ),
        (
            "ticket list --status open --priority urgent --tag vip",
            &[
                "ticket",
                "list",
                "--status",
                "open",
                "--priority",
                "urgent",
                "--tag",
                "vip",
            ],
            150.0,
        ),
        (
            "ticket list --status open --sort -number --limit 20",
            &[
                "ticket", "list", "--status", "open", "--sort", "-number", "--limit", "20",
            ],
            150.0,
        ),
        ("ticket show N", &["ticket", "show", &middle], 20.0),
        (
            "ticket edit N --tag +bench (write + flush)",
            &["ticket", "edit", &middle, "--tag", "+bench"],
            50.0,
        ),
    ];
    println!(
        "\n{:<55} {:>10} {:>10} {:>9} {:>8}",
        "command", "median ms", "min ms", "target", "tickets"
    );
    for (name, args, target) in cases {
        measure(root, name, args, *target, runs);
    }
    service_levels(root, runs);
    // Writes vary more (each waits on the disk): more runs for a steady median.
    workflow(root, count, 2 * runs + 1);
}

/// Times a command `runs` times and prints its median and min beside its target.
fn measure(root: &Path, name: &str, args: &[&str], target: f64, runs: usize) {
    let mut times: Vec<Duration> = (0..runs).map(|_| desk::timed(root, args)).collect();
    times.sort();
    let median = times[runs / 2].as_secs_f64() * 1e3;
    let min = times[0].as_secs_f64() * 1e3;
    let listed = listed(root, args).map_or(String::new(), |n| n.to_string());
    println!("{name:<55} {median:>10.1} {min:>10.1} {target:>7.0}ms {listed:>8}");
}

/// Service levels (issue 19): the bench config gives high and urgent tickets of
/// `finance` targets (`desk::CONFIG`), and the mail is months old, so those still
/// open or in progress are overdue. `--overdue` reads the due-time column, then
/// only those tickets.
fn service_levels(root: &Path, runs: usize) {
    let cases: &[(&str, &[&str], f64)] = &[
        (
            "ticket list --overdue --format json",
            &["ticket", "list", "--overdue", "--format", "json"],
            150.0,
        ),
        (
            "ticket list --overdue --sort due --limit 20",
            &[
                "ticket",
                "list",
                "--overdue",
                "--sort",
                "due",
                "--limit",
                "20",
            ],
            150.0,
        ),
    ];
    for (name, args, target) in cases {
        measure(root, name, args, *target, runs);
    }
}

/// The workflow verbs that write (issue 19), as the admin user, each run on its own
/// ticket where a second run on the same one would write nothing or be refused
/// (`take` of a ticket one holds, `close` of a closed one): open tickets from the
/// middle of the range up, a different set for each verb.
fn workflow(root: &Path, count: usize, runs: usize) {
    let out = desk::postdesk(root)
        .args(["ticket", "list", "--status", "open", "--sort", "number"])
        .args(["--format", "json"])
        .output()
        .expect("run postdesk");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list json");
    let open: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["number"].as_u64())
        .filter(|&n| n as usize >= count / 2)
        .take(2 * runs)
        .map(|n| n.to_string())
        .collect();
    assert_eq!(open.len(), 2 * runs, "not enough open tickets");
    let middle = (count / 2).max(1).to_string();
    let (to_take, to_close) = open.split_at(runs);
    let each = |verb: &str, numbers: &[String]| -> Vec<Vec<String>> {
        numbers
            .iter()
            .map(|n| vec!["ticket".into(), verb.into(), n.clone()])
            .collect()
    };
    let comment: Vec<String> = ["ticket", "comment", &middle, "-m", "Checked the queue."]
        .map(String::from)
        .into();
    let cases = [
        ("ticket take N (write + flush)", each("take", to_take)),
        (
            "ticket comment N -m ... (write + flush)",
            vec![comment; runs],
        ),
        ("ticket close N (write + flush)", each("close", to_close)),
    ];
    for (name, runs_args) in cases {
        let mut times: Vec<Duration> = runs_args
            .iter()
            .map(|args| desk::timed(root, &args.iter().map(String::as_str).collect::<Vec<_>>()))
            .collect();
        times.sort();
        let median = times[runs / 2].as_secs_f64() * 1e3;
        let min = times[0].as_secs_f64() * 1e3;
        println!("{name:<55} {median:>10.1} {min:>10.1} {:>7.0}ms", 20.0);
    }
}

/// How many tickets a `ticket list` prints, for reading its time; None for others.
fn listed(dir: &Path, args: &[&str]) -> Option<usize> {
    if args[..2] != ["ticket", "list"] {
        return None;
    }
    let mut args = args.to_vec();
    if !args.contains(&"json") {
        args.extend(["--format", "json"]);
    }
    let out = desk::postdesk(dir)
        .args(&args)
        .output()
        .expect("run postdesk");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    list.as_array().map(Vec::len)
}

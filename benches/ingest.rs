//! Mail ingest benchmark: generates realistic support mail (2-4 KB, unique Message-IDs,
//! replies threaded by In-Reply-To) and times the release binary the way mail reaches it.
//!
//! In order: `ingest mbox` of `small` messages into an empty database (messages/s and
//! max RSS; first, so the largest child so far is that one); the database topped up
//! to `small` tickets and `runs` single deliveries on stdin (the MTA path, median wall
//! time); a burst of `burst` deliveries from 8 parallel streams, then a check that
//! each one made its own ticket; the database topped up to `large` tickets and the
//! single deliveries again. Every top-up is an `ingest mbox` of new requests and
//! replies, as users get a large database, never a write through the store: sled's
//! file grows very differently the two ways. In between, a crash drill: deliveries,
//! each followed by a `ticket show` killed at a random moment of its open. Each timing
//! also gives the CPU time its processes used (user + system, sled's threads
//! included). Checks ask the binary (a dry run finds each Message-ID's ticket).
//! BENCH_KEEP=DIR keeps the helpdesk; BENCH_BIN=PATH times another build instead.
//!
//! Run: `cargo bench --bench ingest [-- small=10000 large=100000 burst=1000 runs=30 kills=100]`.

mod common;

use common::corpus::{Corpus, Mail, Mbox, Thread, Until};
use common::desk::{self, children_cpu, deliver, postdesk, ticket_count};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const STREAMS: usize = 8;

struct Sizes {
    small: usize,
    large: usize,
    burst: usize,
    runs: usize,
    kills: usize,
}

impl Sizes {
    /// `key=value` arguments; cargo's own `--bench` is ignored.
    fn from_args() -> Sizes {
        let mut sizes = Sizes {
            small: 10_000,
            large: 100_000,
            burst: 1_000,
            runs: 30,
            kills: 100,
        };
        for arg in std::env::args().skip(1).filter(|a| !a.starts_with("--")) {
            let parsed = arg
                .split_once('=')
                .and_then(|(k, v)| Some((k, v.parse::<usize>().ok()?)));
            match parsed {
                Some(("small", n)) => sizes.small = n,
                Some(("large", n)) => sizes.large = n,
                Some(("burst", n)) => sizes.burst = n,
                Some(("runs", n)) => sizes.runs = n.max(1),
                Some(("kills", n)) => sizes.kills = n,
                _ => panic!("unknown argument {arg:?}: small=N large=N burst=N runs=N kills=N"),
            }
        }
        sizes.large = sizes
            .large
            .max(sizes.small + sizes.burst + sizes.runs + sizes.kills);
        sizes
    }
}

/// One line of the final table.
struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    target: f64,
    lower_is_better: bool,
}

impl Figure {
    fn met(&self) -> bool {
        if self.lower_is_better {
            self.value < self.target
        } else {
            self.value > self.target
        }
    }
}

fn main() {
    let sizes = Sizes::from_args();
    let dir = tempfile::tempdir().expect("temp dir");
    // BENCH_KEEP=DIR keeps the helpdesk there for poking at afterwards.
    let _guard;
    let root = match std::env::var_os("BENCH_KEEP") {
        Some(keep) => PathBuf::from(keep),
        None => {
            let path = dir.path().to_path_buf();
            _guard = dir;
            path
        }
    };
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("postdesk.yaml"), desk::config()).unwrap();
    let mut corpus = Corpus::new(42);
    let mut figures = Vec::new();
    let mut failures = Vec::new();

    // 3. ingest mbox into an empty database. First, so the max RSS of children is its own.
    let (mbox, import) = desk::build(&root, &mut corpus, "mbox", Until::Messages(sizes.small));
    if let Err(failure) = desk::check_import(&mbox, &import) {
        failures.push(failure);
    }
    figures.extend(import_figures(sizes.small, &import, "empty db"));
    let mut threads = mbox.threads;

    // 1. one delivery at a time, with `small` tickets stored.
    let started = Instant::now();
    let (mbox, _) = top_up(&root, sizes.small, &mut corpus, &mut failures);
    threads.extend(mbox.threads);
    println!(
        "topped up to {} tickets by ingest mbox in {:.1} s",
        sizes.small,
        started.elapsed().as_secs_f64()
    );
    figures.push(single_deliveries(
        &root,
        &mut corpus,
        &threads,
        sizes.runs,
        sizes.small,
        20.0,
        &mut failures,
    ));

    // 2. a burst from parallel streams.
    let (figure, burst_threads) = burst(&root, &mut corpus, sizes.burst, &mut failures);
    figures.push(figure);
    threads.extend(burst_threads);

    // 2b. commands killed while they open the database, between deliveries.
    crash_drill(&root, &mut corpus, sizes.kills, &mut failures);

    // 1 again, with `large` tickets stored.
    let started = Instant::now();
    let (mbox, import) = top_up(&root, sizes.large, &mut corpus, &mut failures);
    println!(
        "topped up to {} tickets by ingest mbox in {:.1} s",
        sizes.large,
        started.elapsed().as_secs_f64(),
    );
    let into = format!("to {} tickets", sizes.large);
    figures.extend(import_figures(mbox.messages(), &import, &into));
    threads.extend(mbox.threads);
    figures.push(single_deliveries(
        &root,
        &mut corpus,
        &threads,
        sizes.runs,
        sizes.large,
        50.0,
        &mut failures,
    ));

    // 3. with `ingest spool --watch` running, with `large` tickets stored.
    figures.extend(watched_deliveries(
        &root,
        &mut corpus,
        sizes.runs,
        &mut failures,
    ));

    println!("\n{:<44} {:>13} {:>14}", "figure", "value", "target");
    for f in &figures {
        let sign = if f.lower_is_better { "<" } else { ">" };
        println!(
            "{:<44} {:>13} {:>14}  {}",
            f.name,
            format!("{:.1} {}", f.value, f.unit),
            format!("{sign} {:.0} {}", f.target, f.unit),
            if f.met() { "ok" } else { "MISSED" }
        );
    }
    for failure in &failures {
        println!("{failure}");
    }
    if failures.is_empty() {
        println!("every message landed where it should");
    }
}

/// The rate and peak RSS of one import of `messages` messages.
fn import_figures(messages: usize, import: &desk::Import, into: &str) -> [Figure; 2] {
    [
        Figure {
            name: format!("ingest mbox, {messages} msgs, {into}"),
            value: messages as f64 / import.elapsed.as_secs_f64(),
            unit: "msg/s",
            target: 3000.0,
            lower_is_better: false,
        },
        Figure {
            name: format!("ingest mbox, max RSS, {into}"),
            value: import.rss_kb as f64 / 1024.0,
            unit: "MB",
            target: 100.0,
            lower_is_better: true,
        },
    ]
}

/// The message count of a watcher's drain report, `[postdesk: ]N message[s]: ...`.
fn drained_count(line: &str) -> Option<usize> {
    let line = line.strip_prefix("postdesk: ").unwrap_or(line);
    let (count, rest) = line.split_once(' ')?;
    rest.starts_with("message").then_some(())?;
    count.parse().ok()
}

/// Deliveries while a drainer watches the spool: each delivery only spools and exits.
/// Figures: median delivery time, and the time from the last delivery's exit until
/// its ticket can be listed.
fn watched_deliveries(
    root: &Path,
    corpus: &mut Corpus,
    runs: usize,
    failures: &mut Vec<String>,
) -> Vec<Figure> {
    use std::io::BufRead;
    let mut watcher = postdesk(root)
        .args(["ingest", "spool", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the watcher");
    // The watcher reports each drain ("N messages: ..."; on stdout, or on stderr
    // after "postdesk: " in builds before issue 18), once its transaction is
    // flushed: that is when the tickets are visible. Probing the database instead
    // kept it busy and starved the watcher (once for 15 s).
    let (drained_tx, drained) = std::sync::mpsc::channel();
    let stdout: Box<dyn std::io::Read + Send> = Box::new(watcher.stdout.take().unwrap());
    let stderr: Box<dyn std::io::Read + Send> = Box::new(watcher.stderr.take().unwrap());
    for stream in [stdout, stderr] {
        let drained_tx = drained_tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(count) = drained_count(&line) {
                    let _ = drained_tx.send((Instant::now(), count));
                }
            }
        });
    }
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for i in 0..runs {
        let mail = corpus.request("watched", i);
        match deliver(root, &mail.delivery()) {
            Ok(t) => times.push(t),
            Err(e) => failures.push(format!("FAIL: watched delivery {i}: {e}")),
        }
        last = Some(mail);
    }
    let delivered = Instant::now();
    let mut visible = None;
    let mut total = 0;
    while let Ok((at, count)) = drained.recv_timeout(Duration::from_secs(30)) {
        total += count;
        if total >= runs {
            visible = Some(at.saturating_duration_since(delivered));
            break;
        }
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    times.sort();
    let median = times
        .get(times.len() / 2)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(f64::NAN);
    let stored = last.is_some_and(|mail| desk::tickets_of(root, &[mail])[0].is_some());
    if visible.is_none() || !stored {
        failures.push("FAIL: watched deliveries never became tickets".into());
    }
    vec![
        Figure {
            name: "delivery with `ingest spool --watch`, median".into(),
            value: median,
            unit: "ms",
            target: 5.0,
            lower_is_better: true,
        },
        Figure {
            name: "  then last ticket visible after".into(),
            value: visible.map(|d| d.as_secs_f64() * 1e3).unwrap_or(f64::NAN),
            unit: "ms",
            target: 1000.0,
            lower_is_better: true,
        },
    ]
}

/// Milliseconds of child CPU per delivery since `before`.
fn cpu_ms_each(before: Duration, deliveries: usize) -> f64 {
    (children_cpu() - before).as_secs_f64() * 1e3 / deliveries.max(1) as f64
}

/// Delivers `runs` messages one at a time (two new requests, then a reply to a
/// stored thread, and so on); the median is the figure.
fn single_deliveries(
    root: &Path,
    corpus: &mut Corpus,
    threads: &[Thread],
    runs: usize,
    stored: usize,
    target: f64,
    failures: &mut Vec<String>,
) -> Figure {
    let tag = format!("single{stored}");
    let mut times = Vec::with_capacity(runs);
    let mut reply_times = Vec::new();
    let cpu_before = children_cpu();
    for i in 0..runs {
        let reply = i % 3 == 2;
        let mail = if reply {
            let parent = &threads[corpus.rng.usize(..threads.len())];
            corpus.reply(&tag, i, parent)
        } else {
            corpus.request(&tag, i)
        };
        match deliver(root, &mail.delivery()) {
            Ok(t) => {
                times.push(t);
                if reply {
                    reply_times.push(t);
                }
            }
            Err(e) => failures.push(format!("FAIL: delivery {i} with {stored} tickets: {e}")),
        }
    }
    let cpu = cpu_ms_each(cpu_before, runs);
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let in_order: Vec<String> = times.iter().map(|t| format!("{:.0}", ms(t))).collect();
    let mut later = times[times.len() / 2..].to_vec();
    later.sort();
    println!(
        "  ms, in delivery order: {} (later half median {:.1})",
        in_order.join(" "),
        later.get(later.len() / 2).map(ms).unwrap_or(f64::NAN)
    );
    times.sort();
    reply_times.sort();
    let median = times.get(times.len() / 2).map(ms).unwrap_or(f64::NAN);
    println!(
        "stdin ingest with {stored} tickets: {} deliveries, median {median:.1} ms, min {:.1}, p90 {:.1}, max {:.1}; replies alone median {:.1} ms; CPU {cpu:.1} ms a delivery",
        times.len(),
        times.first().map(ms).unwrap_or(f64::NAN),
        times.get(times.len() * 9 / 10).map(ms).unwrap_or(f64::NAN),
        times.last().map(ms).unwrap_or(f64::NAN),
        reply_times.get(reply_times.len() / 2).map(ms).unwrap_or(f64::NAN),
    );
    Figure {
        name: format!("stdin ingest, median, {stored} tickets"),
        value: median,
        unit: "ms",
        target,
        lower_is_better: true,
    }
}

/// Delivers `rounds` requests one at a time, each followed by a `ticket show` killed
/// (SIGKILL) at a random moment of its first 15 ms, while it opens the database and
/// sled rewrites its snapshot. Then the binary must still open the database, and
/// every request must be a ticket. Upstream sled failed this within 100 rounds.
fn crash_drill(root: &Path, corpus: &mut Corpus, rounds: usize, failures: &mut Vec<String>) {
    if rounds == 0 {
        return;
    }
    let mails: Vec<Mail> = (0..rounds).map(|i| corpus.request("drill", i)).collect();
    let mut killed = 0;
    for (i, mail) in mails.iter().enumerate() {
        if let Err(e) = deliver(root, &mail.delivery()) {
            failures.push(format!("FAIL: crash drill, delivery {i}: {e}"));
            return;
        }
        let mut show = postdesk(root)
            .args(["ticket", "show", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run ticket show");
        std::thread::sleep(Duration::from_micros(corpus.rng.u64(0..15_000)));
        if matches!(show.try_wait(), Ok(None)) {
            killed += 1;
        }
        let _ = show.kill();
        let _ = show.wait();
    }
    let opened = postdesk(root)
        .args(["ticket", "show", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run ticket show");
    if !opened.status.success() {
        failures.push(format!(
            "FAIL: after the crash drill the database does not open: {}",
            String::from_utf8_lossy(&opened.stderr).trim()
        ));
        return;
    }
    let missing = desk::tickets_of(root, &mails)
        .iter()
        .filter(|t| t.is_none())
        .count();
    println!(
        "crash drill: {rounds} deliveries, {killed} commands killed while running; the database opens, {missing} deliveries missing"
    );
    if missing > 0 {
        failures.push(format!(
            "FAIL: crash drill, {missing} of {rounds} deliveries are not tickets"
        ));
    }
}

/// `count` new requests from 8 streams, each piping its share one after another.
/// Then checks every Message-ID names a ticket of its own and the spool is empty.
fn burst(
    root: &Path,
    corpus: &mut Corpus,
    count: usize,
    failures: &mut Vec<String>,
) -> (Figure, Vec<Thread>) {
    let db = root.join("db");
    let mails: Vec<Mail> = (0..count).map(|i| corpus.request("burst", i)).collect();
    let messages: Vec<Vec<u8>> = mails.iter().map(Mail::delivery).collect();
    let before = ticket_count(root);
    let per_stream = count.div_ceil(STREAMS).max(1);
    let cpu_before = children_cpu();
    let started = Instant::now();
    let results: Vec<Result<Duration, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = messages
            .chunks(per_stream)
            .map(|chunk| {
                scope.spawn(move || chunk.iter().map(|m| deliver(root, m)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("stream thread"))
            .collect()
    });
    let elapsed = started.elapsed();
    let cpu = cpu_ms_each(cpu_before, count);
    let mut latencies: Vec<Duration> = results.iter().filter_map(|r| r.clone().ok()).collect();
    latencies.sort();
    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    if let Some(first) = errors.first() {
        failures.push(format!(
            "FAIL: {} of {count} burst deliveries failed, first: {first}",
            errors.len()
        ));
    }
    let rate = count as f64 / elapsed.as_secs_f64();
    let ms = |d: Option<&Duration>| d.map(|d| d.as_secs_f64() * 1e3).unwrap_or(f64::NAN);
    println!(
        "burst: {count} deliveries by {STREAMS} streams in {:.2} s = {rate:.0}/s; per delivery median {:.1} ms, p99 {:.1}, max {:.1}; CPU {cpu:.1} ms a delivery",
        elapsed.as_secs_f64(),
        ms(latencies.get(latencies.len() / 2)),
        ms(latencies.get(latencies.len() * 99 / 100)),
        ms(latencies.last()),
    );

    // Did each land, as a ticket of its own, without `ingest spool`?
    let spooled = std::fs::read_dir(db.join("spool"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                .count()
        })
        .unwrap_or(0);
    let after = ticket_count(root);
    let found = desk::tickets_of(root, &mails);
    let numbers: BTreeSet<u64> = found.iter().flatten().copied().collect();
    let missing = found.iter().filter(|t| t.is_none()).count();
    println!(
        "burst check: tickets {before} -> {after}, {} distinct burst tickets, {missing} Message-IDs unknown, {spooled} left in the spool",
        numbers.len()
    );
    if after != before + count || numbers.len() != count || missing > 0 || spooled > 0 {
        failures.push(format!(
            "FAIL: burst of {count}: tickets {before} -> {after} (expected +{count}), {} distinct tickets, {missing} messages not found, {spooled} left in the spool",
            numbers.len()
        ));
    }
    let figure = Figure {
        name: format!("burst, {count} msgs by {STREAMS} streams"),
        value: rate,
        unit: "msg/s",
        target: 300.0,
        lower_is_better: false,
    };
    (figure, mails.into_iter().map(|m| m.thread).collect())
}

/// Builds the database up to `total` tickets as users do: an mbox of new requests
/// and replies, through `ingest mbox`.
fn top_up(
    root: &Path,
    total: usize,
    corpus: &mut Corpus,
    failures: &mut Vec<String>,
) -> (Mbox, desk::Import) {
    let requests = total.saturating_sub(ticket_count(root));
    let tag = format!("topup{total}");
    let (mbox, import) = desk::build(root, corpus, &tag, Until::Requests(requests));
    if let Err(failure) = desk::check_import(&mbox, &import) {
        failures.push(failure);
    }
    (mbox, import)
}

//! Mail ingest benchmark: generates realistic support mail (2-4 KB, unique Message-IDs,
//! replies threaded by In-Reply-To) and times the release binary the way mail reaches it.
//!
//! In order: `ingest mbox` of `small` messages into an empty database (messages/s and
//! max RSS; first, so the largest child so far is that one); the database topped up
//! through the store to `small` tickets and `runs` single deliveries on stdin (the MTA
//! path, median wall time); a burst of `burst` deliveries from 8 parallel streams, then
//! a check that each one made its own ticket; the database topped up to `large`
//! tickets and the single deliveries again. In between, a crash drill: deliveries, each
//! followed by a `ticket show` killed at a random moment of its open. Each timing also gives the CPU time its
//! processes used (user + system, sled's threads included). BENCH_KEEP=DIR keeps the
//! helpdesk; BENCH_BIN=PATH times another build of the same schema instead.
//!
//! Run: `cargo bench --bench ingest [-- small=10000 large=100000 burst=1000 runs=30 kills=100]`.

mod common;

use common::dir_size;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use postdesk::mail::parse::parse;
use postdesk::model::{
    Assignee, Event, EventKind, Fingerprint, MailIn, Priority, Requester, Status, Ticket,
};
use postdesk::store::Store;

/// The config of the integration tests (tests/it/common.rs).
const CONFIG: &str = r#"
settings:
  db: db
  timezone: UTC
  default_service: it
users:
  - { login: alice, name: Alice Agent, email: alice@desk.example, admin: true }
  - { login: bob, name: Bob Builder, email: bob@desk.example }
groups:
  - { name: support, members: [alice, bob] }
services:
  - name: it
    managers: [alice]
    guests: [boss@corp.example]
    default_assignee: "@support"
    addresses: [help@corp.example]
    categories:
      - name: hardware
      - name: access
  - name: finance
    default_assignee: bob
    addresses: [billing@corp.example]
fields:
  - { name: asset, type: text }
  - { name: impact, type: choice, choices: [low, team, everyone] }
"#;

const STREAMS: usize = 8;

const FIRST: &[&str] = &[
    "Ann", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kim",
    "Léa", "Marco", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Ursula",
    "Victor", "Wen", "Yusuf", "Zoé",
];
const LAST: &[&str] = &[
    "Smith",
    "Martin",
    "Okafor",
    "Dubois",
    "Nguyen",
    "Rossi",
    "Schmidt",
    "García",
    "Kowalski",
    "Johansson",
    "Tanaka",
    "Moreau",
    "Silva",
    "Novak",
    "Haddad",
    "Müller",
    "Lefèvre",
    "Brown",
];
const COMPANIES: &[&str] = &[
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "tyrell",
    "soylent",
    "cyberdyne",
    "aperture",
    "wonka",
    "gringotts",
    "vandelay",
    "oceanic",
    "dunder",
];
const THINGS: &[&str] = &[
    "printer",
    "laptop",
    "VPN client",
    "mailbox",
    "shared drive",
    "badge reader",
    "docking station",
    "invoice portal",
    "Wi-Fi",
    "password",
    "second screen",
    "calendar",
    "CRM account",
    "desk phone",
    "backup job",
    "licence server",
];
const PROBLEMS: &[&str] = &[
    "does not work any more",
    "keeps disconnecting",
    "is very slow since this morning",
    "shows an error when I log in",
    "stopped syncing",
    "was not delivered",
    "asks for my password every few minutes",
    "crashes after the last update",
    "cannot be reached from the office",
    "needs to be set up for a new colleague",
];
const SENTENCES: &[&str] = &[
    "I already restarted the computer twice and it did not change anything.",
    "The problem started right after the update that was pushed on Monday.",
    "Several people on my floor have the same issue, so it is probably not just me.",
    "I tried the steps from the knowledge base article but got stuck at step four.",
    "This is blocking the month-end closing, so a quick answer would be much appreciated.",
    "The error message says that the connection was refused by the remote host.",
    "I am working from home today and can be reached on my mobile all afternoon.",
    "Could you please check whether my account is locked or has expired?",
    "It worked fine last week when I was in the Lyon office.",
    "Our team lead approved the request, you should have her e-mail in the previous thread.",
    "I attached nothing because the screenshot tool is also broken, sorry about that.",
    "When I plug in the cable the light blinks orange and then goes off again.",
    "If somebody could come by my desk on the third floor that would be easiest.",
    "The invoice number is in the subject line, the amount does not match the order.",
    "I need this before Thursday because of the customer audit.",
    "Nothing in the event log looks related, but I am not an expert.",
    "Let me know if you need the serial number or the asset tag of the device.",
    "I cleared the browser cache and cookies as suggested, no change.",
];
const LOG_LINES: &[&str] = &[
    "ERROR spooler: job failed (paper jam in tray 2)",
    "WARN vpnagent: tunnel renegotiation timed out after 30s",
    "ERROR sync: 401 Unauthorized from https://files.corp.example/api/v2/sync",
    "INFO dhcp: lease renewed for 10.20.3.117",
    "ERROR outlook: cannot open the default set of e-mail folders",
    "WARN disk: volume C: has less than 5% free space",
];
const DISCLAIMER: &str = "This e-mail and any attachments are confidential and may be privileged. If you are not the intended recipient, please notify the sender immediately and delete this message. Any unauthorised use, disclosure or copying is prohibited.";

/// What a reply needs to know about the message it answers.
#[derive(Clone)]
struct Thread {
    id: String,
    name: String,
    email: String,
    subject: String,
}

/// One generated message: the raw RFC 5322 text (no mbox separator).
struct Mail {
    thread: Thread,
    date: i64,
    raw: String,
}

impl Mail {
    /// The envelope line an MTA or an mbox puts before the message.
    fn envelope(&self) -> String {
        let when = jiff::Timestamp::from_second(self.date)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC);
        format!(
            "From {}  {}\n",
            self.thread.email,
            when.strftime("%a %b %e %H:%M:%S %Y")
        )
    }

    /// As a pipe delivery gets it: envelope line, then the message.
    fn delivery(&self) -> Vec<u8> {
        let mut out = self.envelope();
        out.push_str(&self.raw);
        out.into_bytes()
    }

    /// As an mbox entry (mboxrd: `From ` lines quoted with `>`, then a blank line).
    fn mbox_entry(&self, out: &mut String) {
        out.push_str(&self.envelope());
        for line in self.raw.split_inclusive('\n') {
            if line.trim_start_matches('>').starts_with("From ") {
                out.push('>');
            }
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Deterministic generator of support mail.
struct Corpus {
    rng: fastrand::Rng,
    clock: i64,
}

impl Corpus {
    fn new(seed: u64) -> Corpus {
        Corpus {
            rng: fastrand::Rng::with_seed(seed),
            clock: jiff::Timestamp::now().as_second() - 400 * 86_400,
        }
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.usize(..list.len())]
    }

    fn tick(&mut self) -> i64 {
        self.clock += self.rng.i64(5..300);
        self.clock
    }

    /// One of 5,000 customers at 300 companies: (name, address).
    fn customer(&mut self) -> (String, String) {
        let n = self.rng.usize(..5000);
        let first = FIRST[n % FIRST.len()];
        let last = LAST[(n / FIRST.len()) % LAST.len()];
        let company = COMPANIES[n % COMPANIES.len()];
        let domain = format!("{company}{}.example", n % 300);
        let local: String = format!("{first}.{last}{}", n / 450)
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    'x'
                }
            })
            .collect();
        (format!("{first} {last}"), format!("{local}@{domain}"))
    }

    fn message_id(&mut self, tag: &str, i: usize, email: &str) -> String {
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("x.example");
        format!("{tag}.{i}.{:016x}@{domain}", self.rng.u64(..))
    }

    fn base64(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len)
            .map(|_| ALPHABET[self.rng.usize(..64)] as char)
            .collect()
    }

    /// Trace, DKIM and the usual headers, up to the blank line.
    fn headers(
        &mut self,
        name: &str,
        email: &str,
        subject: &str,
        id: &str,
        parent: Option<&str>,
        date: i64,
    ) -> String {
        let when = jiff::Timestamp::from_second(date)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC);
        let rfc2822 = when.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string();
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("x.example");
        let ip = format!("203.0.{}.{}", self.rng.u8(..255), self.rng.u8(1..255));
        let mut h = String::with_capacity(1500);
        h.push_str(&format!("Return-Path: <{email}>\n"));
        h.push_str("Delivered-To: help@corp.example\n");
        h.push_str(&format!(
            "Received: from mx.{domain} (mx.{domain} [{ip}])\n\tby mail.corp.example (Postfix) with ESMTPS id {}\n\tfor <help@corp.example>; {rfc2822} (UTC)\n",
            self.base64(10).replace(['+', '/'], "Q")
        ));
        h.push_str(&format!(
            "Received: from [10.{}.{}.{}] (unknown [{ip}])\n\tby mx.{domain} with ESMTPSA id {}\n\t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n\t{rfc2822}\n",
            self.rng.u8(..255),
            self.rng.u8(..255),
            self.rng.u8(1..255),
            self.base64(12).replace(['+', '/'], "Z")
        ));
        h.push_str(&format!(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=mail2026;\n\th=from:to:subject:date:message-id:mime-version:content-type;\n\tbh={}=;\n\tb={}\n\t {}\n\t {}\n\t {}==\n",
            self.base64(43),
            self.base64(70),
            self.base64(76),
            self.base64(76),
            self.base64(60)
        ));
        h.push_str(&format!("From: {name} <{email}>\n"));
        h.push_str("To: IT Help <help@corp.example>\n");
        if self.rng.u8(..5) == 0 {
            let (cc_name, cc_email) = self.customer();
            h.push_str(&format!("Cc: {cc_name} <{cc_email}>\n"));
        }
        h.push_str(&format!("Subject: {subject}\n"));
        h.push_str(&format!("Date: {rfc2822}\n"));
        h.push_str(&format!("Message-ID: <{id}>\n"));
        if let Some(parent) = parent {
            h.push_str(&format!(
                "In-Reply-To: <{parent}>\nReferences: <{parent}>\n"
            ));
        }
        h.push_str("MIME-Version: 1.0\n");
        h.push_str("Content-Type: text/plain; charset=\"utf-8\"; format=flowed\n");
        h.push_str("Content-Transfer-Encoding: 8bit\n");
        h.push_str(match self.rng.u8(..3) {
            0 => "User-Agent: Mozilla Thunderbird\n",
            1 => "X-Mailer: Microsoft Outlook 16.0\n",
            _ => "X-Mailer: Apple Mail (2.3774.300.61)\n",
        });
        h.push('\n');
        h
    }

    /// Paragraphs of support prose, wrapped at 72 columns, about `len` bytes.
    fn prose(&mut self, len: usize, out: &mut String) {
        let start = out.len();
        while out.len() - start < len {
            match self.rng.u8(..8) {
                0 => {
                    out.push_str("From what I can see in the log:\n\n");
                    for _ in 0..self.rng.usize(2..5) {
                        let t = self.tick();
                        let when = jiff::Timestamp::from_second(t).unwrap();
                        out.push_str(&format!("  {when} {}\n", self.pick(LOG_LINES)));
                    }
                    out.push('\n');
                }
                _ => {
                    let mut paragraph = String::new();
                    for _ in 0..self.rng.usize(2..5) {
                        paragraph.push_str(self.pick(SENTENCES));
                        paragraph.push(' ');
                    }
                    wrap(&paragraph, out);
                    out.push('\n');
                }
            }
        }
    }

    fn signature(&mut self, name: &str, out: &mut String) {
        out.push_str(&format!(
            "Best regards,\n{name}\n\n-- \n{name}\n{} department\nPhone +33 1 {:02} {:02} {:02} {:02}\n\n",
            self.pick(&["Accounting", "Sales", "Logistics", "HR", "Legal", "R&D"]),
            self.rng.u8(..100),
            self.rng.u8(..100),
            self.rng.u8(..100),
            self.rng.u8(..100)
        ));
        wrap(DISCLAIMER, out);
    }

    /// A new support request, 2-4 KB.
    fn request(&mut self, tag: &str, i: usize) -> Mail {
        let (name, email) = self.customer();
        let thing = self.pick(THINGS);
        let subject = match self.rng.u8(..4) {
            0 => format!("My {thing} {}", self.pick(PROBLEMS)),
            1 => format!("URGENT: {thing} {}", self.pick(PROBLEMS)),
            2 => format!("Problem with the {thing} (ref {}-{i})", tag.to_uppercase()),
            _ => format!("Question about {thing} access"),
        };
        let id = self.message_id(tag, i, &email);
        let date = self.tick();
        let mut raw = self.headers(&name, &email, &subject, &id, None, date);
        let size = self.rng.usize(2048..4096);
        raw.push_str(&format!(
            "Hello,\n\nmy {thing} {}.\n\n",
            self.pick(PROBLEMS)
        ));
        let body = size.saturating_sub(raw.len() + 500).max(200);
        self.prose(body, &mut raw);
        self.signature(&name, &mut raw);
        Mail {
            thread: Thread {
                id,
                name,
                email,
                subject,
            },
            date,
            raw,
        }
    }

    /// The requester's follow-up to `parent`, quoting some of the conversation.
    fn reply(&mut self, tag: &str, i: usize, parent: &Thread) -> Mail {
        let subject = if parent.subject.starts_with("Re: ") {
            parent.subject.clone()
        } else {
            format!("Re: {}", parent.subject)
        };
        let id = self.message_id(tag, i, &parent.email);
        let date = self.tick();
        let mut raw = self.headers(
            &parent.name,
            &parent.email,
            &subject,
            &id,
            Some(&parent.id),
            date,
        );
        let size = self.rng.usize(2048..4096);
        raw.push_str("Hi,\n\n");
        self.prose(300, &mut raw);
        raw.push_str("Thanks,\n");
        raw.push_str(&parent.name);
        raw.push_str("\n\nOn the previous day, IT Help <help@corp.example> wrote:\n");
        let mut quoted = String::new();
        let rest = size.saturating_sub(raw.len()).max(200);
        self.prose(rest, &mut quoted);
        for line in quoted.lines() {
            raw.push_str(if line.is_empty() { ">" } else { "> " });
            raw.push_str(line);
            raw.push('\n');
        }
        Mail {
            thread: Thread {
                id,
                name: parent.name.clone(),
                email: parent.email.clone(),
                subject,
            },
            date,
            raw,
        }
    }

    /// `count` messages, about one in five a reply to an earlier one of the same batch.
    fn conversation(&mut self, tag: &str, count: usize) -> Vec<Mail> {
        let mut mails: Vec<Mail> = Vec::with_capacity(count);
        for i in 0..count {
            let mail = if i > 10 && self.rng.u8(..5) == 0 {
                let back = self.rng.usize(1..i.min(500));
                let parent = mails[i - back].thread.clone();
                self.reply(tag, i, &parent)
            } else {
                self.request(tag, i)
            };
            mails.push(mail);
        }
        mails
    }
}

/// Greedy word wrap at 72 columns, ending with a newline.
fn wrap(text: &str, out: &mut String) {
    let mut column = 0;
    for word in text.split_whitespace() {
        if column > 0 && column + 1 + word.len() > 72 {
            out.push('\n');
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.len();
    }
    out.push('\n');
}

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
    std::fs::write(root.join("postdesk.yaml"), CONFIG).unwrap();
    let db = root.join("db");
    let mut corpus = Corpus::new(42);
    let mut figures = Vec::new();
    let mut failures = Vec::new();

    // 3. ingest mbox into an empty database. First, so the max RSS of children is its own.
    let started = Instant::now();
    let mails = corpus.conversation("mbox", sizes.small);
    let mut mbox = String::with_capacity(sizes.small * 3200);
    mails.iter().for_each(|m| m.mbox_entry(&mut mbox));
    let mbox_path = root.join("corpus.mbox");
    std::fs::write(&mbox_path, &mbox).unwrap();
    let replies_in_mbox = mails
        .iter()
        .filter(|m| m.raw.contains("\nIn-Reply-To:"))
        .count();
    println!(
        "generated {} messages ({} replies, {:.1} MB, mean {:.0} bytes) in {:.1} s",
        mails.len(),
        replies_in_mbox,
        mbox.len() as f64 / 1e6,
        mbox.len() as f64 / mails.len().max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    drop(mbox);
    let (elapsed, rss_kb, stdout) = run_mbox(&root, &mbox_path);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    let summary = &summary["summary"];
    println!("ingest mbox summary: {summary}");
    let created = summary["created"].as_u64().unwrap_or(0) as usize;
    let replies = summary["replies"].as_u64().unwrap_or(0) as usize;
    if created + replies != sizes.small || replies != replies_in_mbox {
        failures.push(format!(
            "FAIL: ingest mbox of {} messages ({replies_in_mbox} replies) made {created} tickets and {replies} replies",
            sizes.small
        ));
    }
    let rate = sizes.small as f64 / elapsed.as_secs_f64();
    println!(
        "ingest mbox: {} messages in {:.2} s = {rate:.0}/s, max RSS {:.1} MB; database {:.1} MB",
        sizes.small,
        elapsed.as_secs_f64(),
        rss_kb as f64 / 1024.0,
        dir_size(&db) as f64 / 1e6
    );
    figures.push(Figure {
        name: format!("ingest mbox, {} msgs, empty db", sizes.small),
        value: rate,
        unit: "msg/s",
        target: 3000.0,
        lower_is_better: false,
    });
    figures.push(Figure {
        name: "ingest mbox, max RSS".into(),
        value: rss_kb as f64 / 1024.0,
        unit: "MB",
        target: 100.0,
        lower_is_better: true,
    });
    let mut threads: Vec<Thread> = mails.into_iter().map(|m| m.thread).collect();

    // 1. one delivery at a time, with `small` tickets stored.
    let started = Instant::now();
    threads.extend(top_up(&db, sizes.small, &mut corpus));
    println!(
        "topped up to {} tickets through the store in {:.1} s",
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
    threads.extend(top_up(&db, sizes.large, &mut corpus));
    println!(
        "topped up to {} tickets through the store in {:.1} s; database {:.1} MB",
        sizes.large,
        started.elapsed().as_secs_f64(),
        dir_size(&db) as f64 / 1e6
    );
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
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the watcher");
    // The watcher reports each drain on stderr ("postdesk: N messages: ..."), once
    // its transaction is flushed: that is when the tickets are visible. Probing the
    // database instead kept it busy and starved the watcher (once for 15 s).
    let mut lines = std::io::BufReader::new(watcher.stderr.take().unwrap()).lines();
    let _ = lines.next();
    let (drained_tx, drained) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let count = line
                .strip_prefix("postdesk: ")
                .and_then(|l| l.split_once(" messages:"))
                .and_then(|(n, _)| n.parse::<usize>().ok());
            if let Some(count) = count {
                let _ = drained_tx.send((Instant::now(), count));
            }
        }
    });
    let mut times = Vec::with_capacity(runs);
    let mut last_id = String::new();
    for i in 0..runs {
        let mail = corpus.request("watched", i);
        last_id = mail.thread.id.clone();
        match deliver(root, &mail.delivery()) {
            Ok(t) => times.push(t),
            Err(e) => failures.push(format!("FAIL: watched delivery {i}: {e}")),
        }
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
    let stored = Store::open(&root.join("db"), Duration::from_secs(30))
        .ok()
        .and_then(|store| store.message_ticket(&last_id).ok().flatten());
    if visible.is_none() || stored.is_none() {
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

/// The binary as a delivery or a user runs it, from the helpdesk's directory.
fn postdesk(dir: &Path) -> Command {
    let mut cmd = Command::new(common::postdesk_binary());
    cmd.current_dir(dir)
        .env("POSTDESK_USER", "alice")
        .env_remove("POSTDESK_CONFIG")
        .env_remove("POSTDESK_DB");
    cmd
}

/// Runs `ingest mbox --format json`; returns wall time, max RSS in KB and stdout.
fn run_mbox(dir: &Path, mbox: &Path) -> (Duration, u64, String) {
    let time = Path::new("/usr/bin/time");
    let rss_file = dir.join("mbox.rss");
    let mut cmd = if time.exists() {
        let mut cmd = Command::new(time);
        cmd.arg("-f").arg("%M").arg("-o").arg(&rss_file);
        cmd.arg(common::postdesk_binary());
        cmd.current_dir(dir)
            .env("POSTDESK_USER", "alice")
            .env_remove("POSTDESK_CONFIG")
            .env_remove("POSTDESK_DB");
        cmd
    } else {
        postdesk(dir)
    };
    cmd.args(["ingest", "mbox"])
        .arg(mbox)
        .args(["--format", "json"]);
    let started = Instant::now();
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .expect("run ingest mbox");
    let elapsed = started.elapsed();
    assert!(out.status.success(), "ingest mbox failed");
    let rss_kb = match std::fs::read_to_string(&rss_file) {
        Ok(text) => text
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .next_back()
            .unwrap_or(0),
        // No /usr/bin/time: the largest child so far, and this was the first.
        Err(_) => children_max_rss_kb(),
    };
    (
        elapsed,
        rss_kb,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn children_usage() -> Option<libc::rusage> {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    (rc == 0).then_some(usage)
}

fn children_max_rss_kb() -> u64 {
    children_usage().map_or(0, |u| u.ru_maxrss as u64) // kilobytes on Linux
}

/// User + system CPU time of all finished children so far.
fn children_cpu() -> Duration {
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    children_usage().map_or(Duration::ZERO, |u| time(u.ru_utime) + time(u.ru_stime))
}

/// Milliseconds of child CPU per delivery since `before`.
fn cpu_ms_each(before: Duration, deliveries: usize) -> f64 {
    (children_cpu() - before).as_secs_f64() * 1e3 / deliveries.max(1) as f64
}

/// Pipes one message into `postdesk ingest` as an MTA does; Err with what went wrong.
fn deliver(dir: &Path, message: &[u8]) -> Result<Duration, String> {
    let started = Instant::now();
    let mut child = postdesk(dir)
        .arg("ingest")
        .env_remove("POSTDESK_USER")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run postdesk: {e}"))?;
    let written = child.stdin.take().unwrap().write_all(message);
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    match (written, status.success(), stderr.is_empty()) {
        (Ok(()), true, true) => Ok(elapsed),
        (written, _, _) => Err(format!(
            "ingest exit {:?}, stdin {written:?}, stderr: {}",
            status.code(),
            stderr.trim()
        )),
    }
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
    let store = Store::open(&root.join("db"), Duration::from_secs(30)).expect("open the store");
    let missing = mails
        .iter()
        .filter(|m| !matches!(store.message_ticket(&m.thread.id), Ok(Some(n)) if n > 0))
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
    let before = ticket_count(&db);
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
    let store = Store::open(&db, Duration::from_secs(30)).expect("open the store");
    let after = store.ticket_count().expect("count the tickets");
    let mut numbers = BTreeSet::new();
    let mut missing = 0;
    for mail in &mails {
        match store.message_ticket(&mail.thread.id) {
            Ok(Some(n)) if n > 0 => {
                numbers.insert(n);
            }
            _ => missing += 1,
        }
    }
    drop(store);
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

fn ticket_count(db: &Path) -> usize {
    Store::open(db, Duration::from_secs(30))
        .expect("open the store")
        .ticket_count()
        .expect("count the tickets")
}

/// Adds tickets through the store, as ingest would have made them from new requests
/// (ticket, created and mail events, Message-ID, customer), until there are `total`.
/// Returns the threads, for replies.
fn top_up(db: &Path, total: usize, corpus: &mut Corpus) -> Vec<Thread> {
    let store = Store::open(db, Duration::from_secs(30)).expect("open the store");
    let mut threads = Vec::new();
    let mut have = store.ticket_count().expect("count the tickets");
    while have < total {
        let batch: Vec<(Mail, String, Fingerprint)> = (have..total.min(have + 1000))
            .map(|i| {
                let mail = corpus.request("seed", i);
                let text = mail.raw.split_once("\n\n").unwrap().1.to_string();
                // As ingest files it: under the Message-ID, with its content.
                let content = parse(mail.raw.as_bytes()).expect("corpus mail").content;
                (mail, text, content)
            })
            .collect();
        store
            .transact(|tx| {
                for (mail, text, content) in &batch {
                    let number = tx.next_number()?;
                    let t = &mail.thread;
                    let mut followers = BTreeSet::new();
                    followers.insert("boss@corp.example".to_string());
                    let ticket = Ticket {
                        number,
                        subject: t.subject.clone(),
                        description: text.clone(),
                        status: Status::ALL[(number % 4) as usize],
                        priority: Priority::Medium,
                        assignee: Assignee::Group("support".into()),
                        service: Some("it".into()),
                        category: None,
                        tags: Default::default(),
                        requester: Requester {
                            name: Some(t.name.clone()),
                            email: Some(t.email.clone()),
                            phone: None,
                        },
                        followers,
                        fields: Default::default(),
                        created: mail.date,
                        updated: mail.date,
                        links: Default::default(),
                    };
                    tx.save_ticket(&ticket)?;
                    for kind in [
                        EventKind::Created,
                        EventKind::Mail(MailIn {
                            message_id: t.id.clone(),
                            from: format!("{} <{}>", t.name, t.email),
                            subject: t.subject.clone(),
                            // As ingest does: the opening text is the description.
                            text: String::new(),
                            hash: format!("{:064x}", number),
                            attachments: Vec::new(),
                            agent: false,
                        }),
                    ] {
                        tx.append_event(
                            number,
                            &Event {
                                at: mail.date,
                                actor: t.email.clone(),
                                kind,
                            },
                        )?;
                    }
                    tx.record_message(&t.id, number, content)?;
                    tx.upsert_customer(&t.email, Some(&t.name), mail.date)?;
                }
                Ok(())
            })
            .expect("seed transaction");
        have += batch.len();
        threads.extend(batch.into_iter().map(|(m, _, _)| m.thread));
    }
    store.flush().expect("flush");
    threads
}

//! A helpdesk directory driven only through the binary, as its users drive it: the
//! benches build their databases with `ingest mbox` and ask the binary what is in
//! them, so they follow the store's format and API wherever they go.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::corpus::{Corpus, Mail, Mbox, Until};
use super::dir_size;

/// The config of the integration tests (tests/it/common.rs), with service levels
/// for `finance` in office hours (the tickets bench's `--overdue`).
pub const CONFIG: &str = r#"
calendars:
  - name: office
    hours: { mon-fri: "08:00-18:00" }
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
    sla:
      calendar: office
      targets:
        high: { response: 4h, resolution: 16h }
        urgent: { response: 1h, resolution: 8h }
fields:
  - { name: asset, type: text }
  - { name: impact, type: choice, choices: [low, team, everyone] }
"#;

/// [`CONFIG`] with the Unix login running the bench as an admin user, so that it may
/// act as alice (`POSTDESK_USER`) in commands that write (issue 19: only an admin
/// may act as another user). A login, not `unix_login`, so that builds from before
/// that key read the same file.
pub fn config() -> String {
    // BENCH_MAIL_OUT=1: with a `mail_out` (a Maildir), so that deliveries queue
    // their notifications and auto-replies as a live desk's do.
    let mail_out = match std::env::var_os("BENCH_MAIL_OUT") {
        Some(_) => "mail_out: { transport: maildir, path: sent }\n",
        None => "",
    };
    format!("{}{mail_out}", users_config())
}

/// [`config`] with a `mail_out` (a Maildir, `sent/`) whatever `BENCH_MAIL_OUT` says.
pub fn mail_out_config() -> String {
    format!(
        "{}mail_out: {{ transport: maildir, path: sent }}\n",
        users_config()
    )
}

fn users_config() -> String {
    let me = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .filter(|name| name != "alice");
    match me {
        Some(me) => CONFIG.replacen(
            "users:\n",
            &format!("users:\n  - {{ login: {me}, name: Bench Runner, email: runner@desk.example, admin: true }}\n"),
            1,
        ),
        None => CONFIG.to_string(),
    }
}

/// The binary as a delivery or a user runs it, from the helpdesk's directory.
pub fn postdesk(dir: &Path) -> Command {
    let mut cmd = Command::new(super::postdesk_binary());
    cmd.current_dir(dir)
        .env("POSTDESK_USER", "alice")
        .env_remove("POSTDESK_CONFIG")
        .env_remove("POSTDESK_DB");
    cmd
}

/// Pipes one message into `postdesk ingest` as an MTA does; Err with what went wrong.
pub fn deliver(dir: &Path, message: &[u8]) -> Result<Duration, String> {
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

/// Runs one command, its output dropped, and times it; it must succeed.
pub fn timed(dir: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = postdesk(dir)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("run postdesk");
    let elapsed = started.elapsed();
    assert!(status.success(), "postdesk {args:?} failed");
    elapsed
}

/// One `ingest mbox` run.
pub struct Import {
    pub elapsed: Duration,
    /// Peak RSS in KB (/usr/bin/time; without it, the largest child so far).
    pub rss_kb: u64,
    /// The `summary` object of its JSON output.
    pub summary: serde_json::Value,
}

impl Import {
    pub fn count(&self, what: &str) -> usize {
        self.summary[what].as_u64().unwrap_or(0) as usize
    }
}

/// Runs `ingest mbox --format json` on `mbox`, timing it and its peak RSS.
pub fn ingest_mbox(dir: &Path, mbox: &Path) -> Import {
    let time = Path::new("/usr/bin/time");
    let rss_file = dir.join("mbox.rss");
    let _ = std::fs::remove_file(&rss_file);
    let mut cmd = if time.exists() {
        let mut cmd = Command::new(time);
        cmd.arg("-f").arg("%M").arg("-o").arg(&rss_file);
        cmd.arg(super::postdesk_binary());
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
        Err(_) => children_max_rss_kb(),
    };
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    Import {
        elapsed,
        rss_kb,
        summary: json["summary"].clone(),
    }
}

/// Generates mail until `until` into `<root>/<tag>.mbox` and ingests it, printing
/// what was made, how fast and the database's size after.
pub fn build(root: &Path, corpus: &mut Corpus, tag: &str, until: Until) -> (Mbox, Import) {
    let path = root.join(format!("{tag}.mbox"));
    let started = Instant::now();
    let mbox = corpus.write_mbox(&path, tag, until);
    println!(
        "generated {} messages ({} replies, {:.1} MB, mean {:.0} bytes) in {:.1} s",
        mbox.messages(),
        mbox.replies,
        mbox.bytes as f64 / 1e6,
        mbox.bytes as f64 / mbox.messages().max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    let import = ingest_mbox(root, &path);
    println!("ingest mbox summary: {}", import.summary);
    println!(
        "ingest mbox: {} messages in {:.2} s = {:.0}/s, max RSS {:.1} MB",
        mbox.messages(),
        import.elapsed.as_secs_f64(),
        mbox.messages() as f64 / import.elapsed.as_secs_f64(),
        import.rss_kb as f64 / 1024.0,
    );
    print_sizes(&root.join("db"));
    (mbox, import)
}

/// Whether an import made a ticket of every request and a reply of every reply.
pub fn check_import(mbox: &Mbox, import: &Import) -> Result<(), String> {
    let (created, replies) = (import.count("created"), import.count("replies"));
    if created == mbox.requests() && replies == mbox.replies {
        Ok(())
    } else {
        Err(format!(
            "FAIL: ingest mbox of {} messages ({} replies) made {created} tickets and {replies} replies",
            mbox.messages(),
            mbox.replies
        ))
    }
}

/// The sizes the issue tracks: sled's file, the mail store, the whole directory.
pub fn print_sizes(db: &Path) {
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let sled = std::fs::metadata(db.join("sled/db")).map_or(0, |m| m.len());
    println!(
        "database: sled/db {:.1} MB, sled/ {:.1} MB, mail/ {:.1} MB, all {:.1} MB",
        mb(sled),
        mb(dir_size(&db.join("sled"))),
        mb(dir_size(&db.join("mail"))),
        mb(dir_size(db))
    );
}

/// The number of tickets: numbers are dense and never reused, so the highest.
pub fn ticket_count(root: &Path) -> usize {
    let out = postdesk(root)
        .args(["ticket", "list", "--sort", "-number", "--limit", "1"])
        .args(["--format", "json"])
        .stderr(Stdio::inherit())
        .output()
        .expect("run ticket list");
    assert!(out.status.success(), "ticket list failed");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ticket list json");
    list[0]["number"].as_u64().unwrap_or(0) as usize
}

/// The ticket each of `mails` is filed under, if any: a dry run of them as an mbox
/// finds each a duplicate of its ticket (the store is not asked directly).
pub fn tickets_of(root: &Path, mails: &[Mail]) -> Vec<Option<u64>> {
    let path = root.join("check.mbox");
    let mut mbox = String::new();
    mails.iter().for_each(|m| m.mbox_entry(&mut mbox));
    std::fs::write(&path, mbox).expect("write the check mbox");
    let out = postdesk(root)
        .args(["ingest", "mbox", "--dry-run", "--format", "json"])
        .arg(&path)
        .stderr(Stdio::inherit())
        .output()
        .expect("run ingest mbox --dry-run");
    let _ = std::fs::remove_file(&path);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let messages = json["messages"].as_array().cloned().unwrap_or_default();
    assert!(
        out.status.success() && messages.len() == mails.len(),
        "ingest mbox --dry-run failed or lost messages"
    );
    messages
        .iter()
        .map(|m| {
            let duplicate = m["outcome"] == "duplicate";
            m["ticket"].as_u64().filter(|&n| duplicate && n > 0)
        })
        .collect()
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
pub fn children_cpu() -> Duration {
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    children_usage().map_or(Duration::ZERO, |u| time(u.ru_utime) + time(u.ru_stime))
}

//! Concurrency and crash safety of ingest, with real processes.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::common::Env;

fn message(i: usize) -> String {
    format!(
        "From c{i}@load.example  Tue Nov 24 21:30:00 2026\nFrom: c{i}@load.example\nTo: help@corp.example\nSubject: load {i}\nMessage-ID: <load{i}@load.example>\n\nmessage number {i}\n"
    )
}

fn subjects(env: &Env) -> Vec<String> {
    let mut s: Vec<String> = env
        .json(&["ticket", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_string())
        .collect();
    s.sort();
    s
}

#[test]
fn fifty_simultaneous_deliveries_all_land_exactly_once() {
    for round in 0..20 {
        let env = Env::new();
        let children: Vec<_> = (0..50)
            .map(|i| {
                let mut child = env
                    .process(&["ingest"])
                    .env_remove("POSTDESK_USER")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(message(i).as_bytes())
                    .unwrap();
                child
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stderr.is_empty(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // No `ingest spool`: every message must already be in a ticket.
        let mut expected: Vec<String> = (0..50).map(|i| format!("load {i}")).collect();
        expected.sort();
        assert_eq!(subjects(&env), expected, "round {round}");
        assert_eq!(
            env.list(&[]),
            (1..=50).collect::<Vec<u64>>(),
            "round {round}"
        );
    }
}

#[test]
fn killing_mbox_ingest_midway_loses_and_duplicates_nothing() {
    let env = Env::new();
    let count = 6000;
    let mbox: String = (0..count).map(|i| message(i) + "\n").collect();
    std::fs::write(env.path().join("big.mbox"), mbox).unwrap();
    let mut child = env
        .process(&["ingest", "mbox", "big.mbox"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some batches are in, well before the end.
    let sled_db = env.db().join("sled");
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        // One pack per batch of 500 messages.
        let packs = std::fs::read_dir(env.db().join("mail").join("packs"))
            .map(|rd| rd.count())
            .unwrap_or(0);
        if packs > 2 || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(sled_db.exists());
    let partial = env.list(&[]).len();
    assert!(partial < count, "killed before the end ({partial} tickets)");
    let out = env.json(&["ingest", "mbox", "big.mbox"]);
    assert_eq!(
        out["summary"]["created"].as_u64().unwrap()
            + out["summary"]["duplicates"].as_u64().unwrap(),
        count as u64
    );
    let subjects = subjects(&env);
    assert_eq!(subjects.len(), count, "every message exactly once");
    let unique: std::collections::BTreeSet<_> = subjects.iter().collect();
    assert_eq!(unique.len(), count);
}

#[test]
fn with_a_watcher_deliveries_only_spool_and_tickets_follow() {
    use std::io::BufRead;
    let env = Env::new();
    let mut watcher = env
        .process(&["ingest", "spool", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Issue 18: what it is watching is its result, on stdout.
    let mut lines = std::io::BufReader::new(watcher.stdout.take().unwrap()).lines();
    assert!(lines.next().unwrap().unwrap().contains("watching"));
    // Hold the database: deliveries must not wait for it.
    let store = postdesk::store::Store::open(&env.db(), Duration::from_secs(5)).unwrap();
    let started = std::time::Instant::now();
    for i in 0..20 {
        let out = env.ingest(&message(i));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "deliveries did not wait for the database"
    );
    drop(store);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while env.list(&[]).len() < 20 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(env.list(&[]), (1..=20).collect::<Vec<u64>>());
    // A second watcher is refused while the first runs.
    let err = env.fails(&["ingest", "spool", "--watch"], 1);
    assert!(err.contains("already watching"), "{err}");
    watcher.kill().unwrap();
    watcher.wait().unwrap();
    // Without a watcher, a delivery processes the spool itself again.
    env.deliver(&message(99));
    assert_eq!(env.list(&[]).len(), 21);
}

/// An exclusive flock on `path`, held until the file is dropped (as a drainer holds it).
fn hold_lock(path: &std::path::Path) -> std::fs::File {
    use std::os::unix::io::AsRawFd;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    // SAFETY: flock on a descriptor we own; released when the file is closed.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
    file
}

#[test]
fn a_delivery_that_finds_a_drainer_leaves_its_message_to_it() {
    let env = Env::new();
    let spool = env.db().join("spool");
    let drainer = hold_lock(&spool.join(".drain.lock"));
    // Another process drains: the delivery stores the message in the spool and exits
    // at once, without taking the database (a test holding the lock stands in for it).
    env.deliver(&message(1));
    let spooled = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "eml")
            })
            .count()
    };
    assert_eq!(spooled(&spool), 1, "the message waits in the spool");
    assert!(env.list(&[]).is_empty(), "no ticket yet");
    // The drainer lets go; the next delivery that gets the lock drains both.
    drop(drainer);
    env.deliver(&message(2));
    assert_eq!(spooled(&spool), 0);
    assert_eq!(subjects(&env), ["load 1", "load 2"]);
}

#[test]
fn ingest_spool_removes_temp_files_of_crashed_writers_once_an_hour_old() {
    let env = Env::new();
    env.deliver(&message(1));
    let db = env.db();
    let dirs = [
        db.join("spool"),
        db.join("quarantine"),
        db.join("mail").join("packs"),
    ];
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
    let write = |path: std::path::PathBuf, old: bool| {
        let file = std::fs::File::create(&path).unwrap();
        if old {
            file.set_modified(two_hours_ago).unwrap();
        }
        path
    };
    let mut stale = Vec::new();
    let mut kept = Vec::new();
    for dir in &dirs {
        std::fs::create_dir_all(dir).unwrap();
        // What a SIGKILL between create and rename leaves: a temp file nobody renames.
        stale.push(write(dir.join(".tmp.crashed.pack"), true));
        // A writer at work right now.
        kept.push(write(dir.join(".tmp.in-progress.pack"), false));
    }
    // Old files that are not temp files are never touched.
    kept.push(write(dirs[2].join("old-but-real.pack"), true));
    let out = env.cmd(&["ingest", "spool"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Issue 18: a result, on stdout before the summary; stderr is for errors.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("removed 3 temp files left by interrupted writes\n"),
        "{out:?}"
    );
    for path in &stale {
        assert!(!path.exists(), "{} should be gone", path.display());
    }
    for path in &kept {
        assert!(path.exists(), "{} should be kept", path.display());
    }
    assert_eq!(subjects(&env), ["load 1"]);
}

#[test]
fn a_delivery_stores_spooled_mail_before_its_own() {
    let env = Env::new();
    let drainer = hold_lock(&env.db().join("spool").join(".drain.lock"));
    // The request waits in the spool while another process drains...
    env.deliver(&message(1));
    drop(drainer);
    // ...so the reply, drained with it by the next delivery, must come after it.
    env.deliver(
        "From: c1@load.example\nTo: help@corp.example\nSubject: Re: load 1\nMessage-ID: <reply1@load.example>\nIn-Reply-To: <load1@load.example>\n\nany news?\n",
    );
    assert_eq!(subjects(&env), ["load 1"], "the reply joined the request");
    let events = env.json(&["ticket", "show", "1"])["events"].clone();
    let mails: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mail")
        .map(|e| e["mail"]["message_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(mails, ["load1@load.example", "reply1@load.example"]);
}

#[test]
fn big_messages_all_land_and_leave_sled_no_blob_files() {
    // A page over a quarter segment (128 KB) would go to a blob file, which sled
    // writes without a sync (`Store::flush` syncs new ones) and whose removal it
    // loses when a short process rewrites it. Records keep no mail text, so big
    // messages make no page that large (schema 2 wrote blobs here).
    let env = Env::new();
    let big = |i: usize| {
        let body = format!("line {i} of a long log paste\n").repeat(7000);
        format!(
            "From: c{i}@load.example\nTo: help@corp.example\nSubject: big {i}\nMessage-ID: <big{i}@load.example>\n\n{body}"
        )
    };
    let mbox: String = (0..12)
        .map(|i| {
            format!(
                "From c{i}@load.example  Tue Nov 24 21:30:00 2026\n{}\n",
                big(i)
            )
        })
        .collect();
    std::fs::write(env.path().join("big.mbox"), mbox).unwrap();
    env.ok(&["ingest", "mbox", "big.mbox"]);
    for i in 12..16 {
        env.deliver(&big(i));
    }
    let blobs = std::fs::read_dir(env.db().join("sled").join("blobs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(blobs, 0, "no record comes near sled's blob threshold");
    let mut expected: Vec<String> = (0..16).map(|i| format!("big {i}")).collect();
    expected.sort();
    assert_eq!(subjects(&env), expected);
    // The text kept in the database is cut at 64 KB; the whole mail is in the store.
    let shown = env.json(&["ticket", "show", "14"]);
    let description = shown["description"].as_str().unwrap();
    assert!(description.len() > 60_000, "{} bytes", description.len());
    assert!(description.starts_with("line 13 of a long log paste\n"));
    assert!(description.ends_with("the whole message is in the mail store]\n"));
}

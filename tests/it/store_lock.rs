use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::Env;
use postdesk::store::{Store, SCHEMA_VERSION};

#[test]
fn a_held_database_is_waited_for_then_reported() {
    let env = Env::new();
    env.create(&["-s", "before"]);
    let store = Store::open(&env.db(), Duration::from_secs(5)).unwrap();
    let started = Instant::now();
    let err = env.fails(&["--lock-wait", "300ms", "ticket", "list"], 1);
    assert!(started.elapsed() >= Duration::from_millis(300), "it waited");
    assert!(err.contains("is held by another postdesk process"), "{err}");
    // Released while a command waits: the command goes ahead.
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        drop(store);
    });
    assert_eq!(env.list(&[]), [1]);
    holder.join().unwrap();
}

#[test]
fn concurrent_writers_both_succeed_one_after_the_other() {
    let env = Env::new();
    env.create(&["-s", "warm-up"]);
    for round in 0..3 {
        let children: Vec<_> = (0..6)
            .map(|i| {
                env.process(&[
                    "ticket",
                    "create",
                    "-s",
                    &format!("round {round} writer {i}"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let numbers = env.list(&[]);
    assert_eq!(numbers, (1..=19).collect::<Vec<u64>>(), "dense, none lost");
}

#[test]
fn a_newer_schema_is_refused() {
    let env = Env::new();
    env.create(&["-s", "x"]);
    {
        let store = Store::open(&env.db(), Duration::from_secs(5)).unwrap();
        store.set_schema_version(SCHEMA_VERSION + 1).unwrap();
        store.flush().unwrap();
    }
    let err = env.fails(&["ticket", "list"], 1);
    assert!(
        err.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
        "{err}"
    );
    assert!(err.contains("newer postdesk"), "{err}");
}

#[test]
fn database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.create(&["-s", "secret"]);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&env.db()), 0o700);
    for entry in std::fs::read_dir(env.db()).unwrap() {
        let path = entry.unwrap().path();
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
}

#[test]
fn writes_survive_the_process() {
    // Every command flushes before exit 0: a fresh process sees the writes.
    let env = Env::new();
    for i in 0..5 {
        env.create(&["-s", &format!("t{i}")]);
    }
    let store = Store::open(&env.db(), Duration::from_secs(5)).unwrap();
    assert_eq!(store.ticket_count().unwrap(), 5);
    assert_eq!(store.ticket(5).unwrap().unwrap().subject, "t4");
}

/// The vendored sled (vendor/sled/PATCHES.md) no longer rewrites bytes that are
/// already in place when it opens: a read dirties nothing for the next fsync.
#[test]
fn reading_leaves_the_database_files_untouched() {
    let env = Env::new();
    for n in 0..20 {
        env.create(&["-s", &format!("ticket {n}"), "-d", &"words ".repeat(200)]);
    }
    env.ok(&["ticket", "list"]);
    let log = env.db().join("sled/db");
    let before = std::fs::metadata(&log).unwrap();
    for _ in 0..3 {
        env.ok(&["ticket", "list", "--search", "words"]);
        env.ok(&["ticket", "show", "7"]);
    }
    let after = std::fs::metadata(&log).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(
        after.modified().unwrap(),
        before.modified().unwrap(),
        "a read-only command wrote to {}",
        log.display()
    );
}

/// A process killed while sled wrote its snapshot leaves `snap.<lsn>.generating`
/// behind. Upstream sled 0.34.7 took that file for the newest snapshot and refused
/// to open the database from then on ("Read corrupted data"); the vendored copy
/// skips it (vendor/sled/PATCHES.md).
#[test]
fn a_snapshot_left_half_written_does_not_stop_the_next_open() {
    let env = Env::new();
    env.create(&["-s", "before the crash"]);
    let leftover = env.db().join("sled/snap.7FFFFFFFFFFFFFFF.generating");
    std::fs::write(&leftover, b"").unwrap();
    env.create(&["-s", "after the crash"]);
    assert_eq!(env.list(&[]), [1, 2]);
    assert!(!leftover.exists(), "the next snapshot written removes it");
}

/// The `snap.<lsn>` file names in the database: the snapshots sled keeps.
fn snapshots(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.db().join("sled"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap."))
        .collect();
    names.sort();
    names
}

/// The vendored sled writes a snapshot once the log has grown by a segment, not
/// at every open after a write (vendor/sled/PATCHES.md, change 9): between two,
/// every open replays the log from the older one. Every write a command
/// acknowledged survives that replay, and writers killed mid-way around it.
#[test]
fn between_snapshots_every_write_is_replayed_and_kills_lose_nothing_acknowledged() {
    let env = Env::new();
    let n = env.create(&["-s", "a long conversation"]).to_string();
    env.ok(&["ticket", "comment", &n, "-m", "settle the first snapshot"]);
    let settled = snapshots(&env);
    for i in 0..5 {
        env.ok(&["ticket", "comment", &n, "-m", &format!("note {i}")]);
    }
    assert_eq!(snapshots(&env), settled, "small writes write no snapshot");
    // Writers killed at every point of their run, between acknowledged writes.
    for i in 0..12 {
        let mut child = env
            .process(&["ticket", "comment", &n, "-m", &format!("maybe {i}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(2 * i));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        env.ok(&["ticket", "comment", &n, "-m", &format!("kept {i}")]);
    }
    // A quarter segment's worth of log (128 KB) brings a new snapshot.
    let before = snapshots(&env);
    let big = "x".repeat(4000);
    let mut bigs = 0;
    while snapshots(&env) == before {
        assert!(bigs < 200, "{bigs} comments of 4 KB and still no snapshot");
        env.ok(&["ticket", "comment", &n, "-m", &big]);
        bigs += 1;
    }
    let shown = env.json(&["ticket", "show", &n]);
    let texts: Vec<String> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["comment"].as_str().map(str::to_string))
        .collect();
    for want in (0..5)
        .map(|i| format!("note {i}"))
        .chain((0..12).map(|i| format!("kept {i}")))
    {
        assert!(texts.contains(&want), "{want} was acknowledged, then lost");
    }
    assert_eq!(texts.iter().filter(|t| **t == big).count(), bigs);
}

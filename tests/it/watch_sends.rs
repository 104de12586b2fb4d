//! `ingest spool --watch` sends the outbox too (issue 20): what was queued before it
//! started, what a command leaves queued while it runs (`--queue-only`, `outbox
//! retry`), and it keeps watching when sending fails.

use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{quiet, Env, CONFIG};

fn desk() -> Env {
    let config = quiet(&CONFIG.replace("    guests: [boss@corp.example]\n", ""));
    Env::with_config(&format!(
        "{config}\nmail_out:\n  transport: maildir\n  path: sent\n"
    ))
}

fn sent(env: &Env) -> usize {
    std::fs::read_dir(env.path().join("sent/new"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Waits (at most 15 s) until `count` messages are in the Maildir.
fn wait_for_sent(env: &Env, count: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(15);
    while sent(env) < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    sent(env)
}

fn queued(env: &Env) -> Vec<serde_json::Value> {
    env.json(&["outbox", "list"]).as_array().unwrap().clone()
}

/// The watcher, and its stdout's lines as they come.
fn watcher(env: &Env) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = env
        .process(&["ingest", "spool", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(15)).unwrap();
    assert!(first.contains("watching"), "{first}");
    (child, rx)
}

#[test]
fn the_watcher_sends_what_commands_leave_in_the_outbox() {
    let env = desk();
    env.deliver(
        "From: Ann <ann@example.com>\nSubject: Printer jams\nMessage-ID: <w1@example.com>\n\nIt jams.\n",
    );
    env.ok(&["ticket", "reply", "1", "-m", "Before.", "--queue-only"]);
    let (mut child, lines) = watcher(&env);
    assert_eq!(
        wait_for_sent(&env, 1),
        1,
        "what waited is sent at the start"
    );

    env.ok(&["ticket", "reply", "1", "-m", "Which model?", "--queue-only"]);
    assert_eq!(
        wait_for_sent(&env, 2),
        2,
        "sent within seconds, not at the timer"
    );
    assert!(queued(&env).is_empty());

    // A transport that fails: the entry waits, the watcher goes on.
    let maildir = env.path().join("sent");
    std::fs::rename(&maildir, env.path().join("sent.away")).unwrap();
    std::fs::write(&maildir, "not a directory").unwrap();
    env.ok(&["ticket", "reply", "1", "-m", "Third.", "--queue-only"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while queued(&env).first().is_none_or(|e| e["attempts"] == 0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let waiting = queued(&env);
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        waiting[0]["attempts"], 1,
        "tried by the watcher: {waiting:?}"
    );
    std::fs::remove_file(&maildir).unwrap();
    std::fs::rename(env.path().join("sent.away"), &maildir).unwrap();
    env.ok(&["outbox", "retry", &waiting[0]["id"].to_string()]);
    assert_eq!(wait_for_sent(&env, 3), 3, "a retry is sent by the watcher");
    assert!(child.try_wait().unwrap().is_none(), "still watching");

    // A delivery is drained as before.
    env.ingest("From: Bo <bo@example.com>\nSubject: VPN\nMessage-ID: <w2@example.com>\n\ndown\n");
    let deadline = Instant::now() + Duration::from_secs(15);
    while env.list(&[]).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(env.list(&[]).len(), 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let said: Vec<String> = lines.try_iter().collect();
    assert!(
        said.iter()
            .filter(|l| l.contains("sent to ann@example.com"))
            .count()
            >= 3,
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|l| l.contains("not sent to ann@example.com (queued)")),
        "{said:?}"
    );
}

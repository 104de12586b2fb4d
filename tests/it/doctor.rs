//! `postdesk doctor` on a private desk: each check that needs no other user, made to
//! fail. (The permission checks are in shared_desk.rs: they need users.)

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::common::Env;

const MAIL: &str = "From: ann@acme.example\nTo: help@corp.example\nSubject: printer\nMessage-ID: <p@acme.example>\n\nIt jams.\n";

/// Runs doctor for the current user: (exit code, the JSON report).
fn doctor(env: &Env) -> (i32, serde_json::Value) {
    let out = env
        .cmd(&["doctor", "--format", "json"])
        .output()
        .expect("run doctor");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

/// The one check named `name` that is not ok: its status and detail.
fn failing(report: &serde_json::Value, name: &str) -> (String, String) {
    let checks = report["checks"].as_array().unwrap();
    let bad: Vec<_> = checks.iter().filter(|c| c["status"] != "ok").collect();
    assert_eq!(bad.len(), 1, "expected only '{name}' to fail: {report}");
    assert_eq!(bad[0]["check"], name, "{report}");
    assert!(
        bad[0]["fix"].as_str().is_some_and(|f| !f.is_empty()),
        "{report}"
    );
    (
        bad[0]["status"].as_str().unwrap().to_string(),
        bad[0]["detail"].as_str().unwrap().to_string(),
    )
}

fn healthy() -> Env {
    let env = Env::new();
    env.deliver(MAIL);
    let (code, report) = doctor(&env);
    assert_eq!(code, 0, "{report}");
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "ok"),
        "{report}"
    );
    env
}

#[test]
fn a_config_that_does_not_load_is_a_problem() {
    let env = healthy();
    std::fs::write(
        env.path().join("postdesk.yaml"),
        "settings:\n  db: db\nusers: [\n",
    )
    .unwrap();
    let (code, report) = doctor(&env);
    assert_eq!(code, 1);
    let (status, detail) = failing(&report, "config");
    assert_eq!(status, "problem");
    assert!(detail.contains("postdesk.yaml"), "{detail}");
}

#[test]
fn a_rule_that_does_not_load_is_a_problem() {
    let env = healthy();
    let rules = env.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("10-bad.yaml"),
        "- name: broken\n  when: [created]\n  actions:\n    - set: { priority: sky-high }\n",
    )
    .unwrap();
    let (code, report) = doctor(&env);
    assert_eq!(code, 1);
    let (_, detail) = failing(&report, "rules");
    assert!(detail.contains("10-bad.yaml"), "{detail}");
}

#[test]
fn mail_waiting_in_the_spool_for_over_a_minute_is_a_problem() {
    let env = healthy();
    let file = env.db().join("spool").join("1.000000000.1.00000000.eml");
    std::fs::write(&file, MAIL).unwrap();
    let (code, _) = doctor(&env);
    assert_eq!(code, 0, "a message just spooled is being processed");
    let two_minutes_ago = SystemTime::now() - Duration::from_secs(120);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(two_minutes_ago)
        .unwrap();
    let (code, report) = doctor(&env);
    assert_eq!(code, 1);
    let (_, detail) = failing(&report, "spool");
    assert!(detail.contains("1 messages waiting"), "{detail}");
}

/// A process holding sled's lock, killed when dropped.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_database_held_for_long_is_a_problem_naming_the_holder() {
    let env = healthy();
    let db = env.db().join("sled").join("db");
    // util-linux's flock(1) takes the lock sled takes, and signals once it has it.
    let mut holder = Holder(
        Command::new("flock")
            .arg(&db)
            .args(["sh", "-c", "echo held; exec sleep 60"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("flock(1) from util-linux"),
    );
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(holder.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "held\n");
    let (code, report) = doctor(&env);
    assert_eq!(code, 1);
    let (_, detail) = failing(&report, "database lock");
    assert!(
        detail.contains(&format!("pid {}", holder.0.id())) && detail.contains("sleep"),
        "{detail}"
    );
}

#[test]
fn a_group_writable_desk_without_setgid_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let env = healthy();
    std::fs::set_permissions(env.db(), std::fs::Permissions::from_mode(0o770)).unwrap();
    let (code, report) = doctor(&env);
    assert_eq!(code, 0, "a warning alone: {report}");
    let (status, detail) = failing(&report, "data directory");
    assert_eq!(status, "warning");
    assert!(detail.contains("not setgid"), "{detail}");
}

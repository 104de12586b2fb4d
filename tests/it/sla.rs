//! Service levels (issue 19): due times from a service's targets in business hours,
//! moved by a priority change, a transfer and time spent pending; `--overdue`,
//! `--due-within`, the `due` column and the JSON fields.
//!
//! Time is set with the real `faketime` (libfaketime through LD_PRELOAD, Debian's
//! `faketime` package, installed by `scripts/deps.sh tests`): the binary reads the
//! faked clock through `clock_gettime`, as jiff's `Timestamp::now` does, and the
//! product has no test hook.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{assert_success, Env, CONFIG};

/// The standard desk with a calendar (Monday to Friday 09:00-17:00 UTC, Christmas
/// off) whose service `it` has targets for high and urgent, a 24/7 service `ops`,
/// and a view of overdue tickets. `finance` has no service levels.
fn desk() -> Env {
    let config = CONFIG
        .replace(
            "services:\n",
            "calendars:
  - name: office
    hours:
      mon-fri: \"09:00-17:00\"
    holidays: [2026-12-25]
services:
  - name: ops
    sla:
      targets:
        high: {resolution: 2d}
",
        )
        .replace(
            "    addresses: [help@corp.example]\n",
            "    addresses: [help@corp.example]
    sla:
      calendar: office
      targets:
        medium: {resolution: 40h}
        high: {response: 4h, resolution: 16h}
        urgent: {response: 1h, resolution: 4h}
",
        )
        .replace(
            "  - name: hot\n",
            "  - name: late\n    overdue: true\n    sort: due\n  - name: hot\n",
        );
    Env::with_config(&config)
}

/// libfaketime, or a failure that says how to install it.
fn libfaketime() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|dir| dir.path().join("faketime/libfaketime.so.1"))
        .chain([PathBuf::from("/usr/lib/faketime/libfaketime.so.1")])
        .find(|p| p.is_file());
    found
        .expect("libfaketime is not installed: run scripts/deps.sh tests (Debian package faketime)")
}

/// postdesk run with the clock stopped at `when` (UTC, `2026-11-27 16:00`).
fn at(env: &Env, when: &str, args: &[&str]) -> Command {
    let mut cmd = env.cmd(args);
    cmd.env("LD_PRELOAD", libfaketime())
        .env("FAKETIME", format!("{when}:00"))
        .env("DONT_FAKE_MONOTONIC", "1");
    cmd
}

fn ok_at(env: &Env, when: &str, args: &[&str]) -> String {
    let out = at(env, when, args).output().expect("run postdesk");
    assert_success(&out, args);
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json_at(env: &Env, when: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&ok_at(env, when, &all)).expect("JSON")
}

/// Creates a ticket at `when` and returns its JSON.
fn create_at(env: &Env, when: &str, args: &[&str]) -> Value {
    let mut all = vec!["ticket", "create", "-s", "Printer"];
    all.extend(args);
    json_at(env, when, &all)
}

/// Pipes a message into `postdesk ingest` at `when`, as an MTA does.
fn deliver_at(env: &Env, when: &str, message: &str) {
    let out = at(env, when, &["ingest"])
        .env_remove("POSTDESK_USER")
        .write_stdin(message)
        .output()
        .expect("run postdesk ingest");
    assert_success(&out, &["ingest"]);
}

fn numbers(list: &Value) -> Vec<u64> {
    let list = list.as_array().expect("array");
    list.iter().map(|t| t["number"].as_u64().unwrap()).collect()
}

fn listed_at(env: &Env, when: &str, filters: &[&str]) -> Vec<u64> {
    let mut all = vec!["ticket", "list"];
    all.extend(filters);
    numbers(&json_at(env, when, &all))
}

// 2026-11-27 is a Friday; 2026-11-30 the Monday after.
const FRIDAY_4PM: &str = "2026-11-27 16:00";
const MONDAY_9AM: &str = "2026-11-30 09:00";

#[test]
fn faketime_sets_the_clock_postdesk_reads() {
    let env = desk();
    let t = create_at(&env, FRIDAY_4PM, &[]);
    assert_eq!(t["created"], "2026-11-27T16:00:00Z");
}

#[test]
fn friday_afternoon_with_four_hours_is_due_monday_noon_and_holidays_do_not_count() {
    let env = desk();
    let t = create_at(&env, FRIDAY_4PM, &["--priority", "high"]);
    assert_eq!(t["response_due"], "2026-11-30T12:00:00Z");
    // 16 business hours: 1 on Friday, 8 on Monday, 7 on Tuesday.
    assert_eq!(t["resolution_due"], "2026-12-01T16:00:00Z");
    assert_eq!(t["first_response"], Value::Null);
    // Thursday 24 December 16:00: Christmas is a Friday, then the weekend.
    let xmas = create_at(&env, "2026-12-24 16:00", &["--priority", "high"]);
    assert_eq!(xmas["response_due"], "2026-12-28T12:00:00Z");
    // Low has no target in `it`; `finance` has no service levels at all.
    for args in [["--priority", "low"], ["--service", "finance"]] {
        let none = create_at(&env, FRIDAY_4PM, &args);
        assert_eq!(none["response_due"], Value::Null);
        assert_eq!(none["resolution_due"], Value::Null);
    }
}

#[test]
fn mail_makes_tickets_with_due_times_too() {
    let env = desk();
    deliver_at(&env, FRIDAY_4PM, "From: Ann <ann@corp.example>\nTo: help@corp.example\nSubject: Down\nMessage-ID: <1@corp.example>\n\nThe site is down.\n");
    let t = json_at(&env, FRIDAY_4PM, &["ticket", "show", "1"]);
    // Medium: 40 business hours, the last 7 on Friday a week later.
    assert_eq!(t["response_due"], Value::Null);
    assert_eq!(t["resolution_due"], "2026-12-04T16:00:00Z");
    let t = json_at(
        &env,
        MONDAY_9AM,
        &["ticket", "edit", "1", "--priority", "urgent"],
    );
    // Counted from the mail's arrival, Friday 16:00: one business hour.
    assert_eq!(t["response_due"], "2026-11-27T17:00:00Z");
    assert_eq!(t["resolution_due"], "2026-11-30T12:00:00Z");
}

#[test]
fn a_priority_change_and_a_transfer_move_the_due_times() {
    let env = desk();
    create_at(&env, FRIDAY_4PM, &["--priority", "high"]);
    assert!(listed_at(&env, "2026-11-30 09:30", &["--overdue"]).is_empty());
    // Urgent: one hour from Friday 16:00, so it is overdue on Monday morning.
    let t = json_at(
        &env,
        "2026-11-30 09:30",
        &["ticket", "edit", "1", "--priority", "urgent"],
    );
    assert_eq!(t["response_due"], "2026-11-27T17:00:00Z");
    assert_eq!(t["resolution_due"], "2026-11-30T12:00:00Z");
    assert_eq!(listed_at(&env, "2026-11-30 09:30", &["--overdue"]), [1]);
    // To `ops`, around the clock: high is resolved in 2 days, no response target.
    ok_at(
        &env,
        "2026-11-30 09:40",
        &["ticket", "edit", "1", "--priority", "high"],
    );
    let out = at(
        &env,
        "2026-11-30 09:45",
        &["ticket", "transfer", "1", "ops"],
    )
    .output()
    .unwrap();
    assert_success(&out, &["ticket", "transfer"]);
    let t = json_at(&env, "2026-11-30 09:45", &["ticket", "show", "1"]);
    assert_eq!(t["response_due"], Value::Null);
    assert_eq!(t["resolution_due"], "2026-11-29T16:00:00Z");
    assert_eq!(listed_at(&env, "2026-11-30 09:45", &["--overdue"]), [1]);
}

#[test]
fn time_spent_pending_does_not_count() {
    let env = desk();
    create_at(&env, MONDAY_9AM, &["--priority", "high"]);
    ok_at(&env, "2026-11-30 10:00", &["ticket", "status", "1", "wait"]);
    // Past the response due (13:00), but pending: the clock stands still.
    assert!(listed_at(&env, "2026-11-30 15:00", &["--overdue"]).is_empty());
    assert!(listed_at(&env, "2026-11-30 15:00", &["--due-within", "1w"]).is_empty());
    let table = ok_at(
        &env,
        "2026-11-30 15:00",
        &["ticket", "list", "--columns", "number,due"],
    );
    assert!(table.contains("paused"), "{table}");
    let t = json_at(&env, "2026-12-01 10:00", &["ticket", "status", "1", "open"]);
    // Pending from Monday 10:00 to Tuesday 10:00: 8 business hours (7 + 1).
    assert_eq!(t["response_due"], "2026-12-01T13:00:00Z");
    assert_eq!(t["resolution_due"], "2026-12-02T17:00:00Z");
    assert!(listed_at(&env, "2026-12-01 12:59", &["--overdue"]).is_empty());
    assert_eq!(listed_at(&env, "2026-12-01 13:01", &["--overdue"]), [1]);
    // An export carries the clock, and an import gives the same bytes back.
    let export = ok_at(&env, "2026-12-01 13:01", &["export", "--format", "json"]);
    assert!(
        export.contains(r#""paused_since":null,"paused_seconds":28800"#),
        "{export}"
    );
    let copy =
        Env::with_config(&std::fs::read_to_string(env.path().join("postdesk.yaml")).unwrap());
    std::fs::write(copy.path().join("desk.json"), &export).unwrap();
    copy.ok(&["import", "desk.json"]);
    assert_eq!(copy.ok(&["export", "--format", "json"]), export);
}

#[test]
fn take_request_info_records_the_first_response_once() {
    let env = desk();
    create_at(&env, MONDAY_9AM, &["--priority", "high"]);
    let t = json_at(
        &env,
        "2026-11-30 10:00",
        &["ticket", "take", "1", "--request-info", "Which printer?"],
    );
    assert_eq!(t["first_response"], "2026-11-30T10:00:00Z");
    assert_eq!(t["status"], "pending");
    ok_at(&env, "2026-11-30 11:00", &["ticket", "status", "1", "open"]);
    ok_at(&env, "2026-11-30 11:30", &["ticket", "status", "1", "wait"]);
    ok_at(
        &env,
        "2026-11-30 11:40",
        &["ticket", "take", "1", "--request-info", "And the room?"],
    );
    let t = json_at(&env, "2026-11-30 12:00", &["ticket", "show", "1"]);
    assert_eq!(t["first_response"], "2026-11-30T10:00:00Z", "recorded once");
    ok_at(&env, "2026-11-30 12:00", &["ticket", "status", "1", "open"]);
    // Answered: the response due (13:00, moved by the pending time) no longer
    // counts; the resolution is due on Tuesday.
    assert!(listed_at(&env, "2026-11-30 16:00", &["--overdue"]).is_empty());
}

/// Issue 20 meets 19: a reply by mail to the requester is the first response; an
/// internal comment is not.
#[test]
fn a_reply_to_the_requester_records_the_first_response() {
    let env = desk();
    create_at(
        &env,
        MONDAY_9AM,
        &["--priority", "high", "--requester-email", "ann@example.com"],
    );
    ok_at(
        &env,
        "2026-11-30 09:30",
        &["ticket", "comment", "1", "-m", "looking"],
    );
    let t = json_at(&env, "2026-11-30 09:40", &["ticket", "show", "1"]);
    assert_eq!(t["first_response"], Value::Null, "a comment is internal");
    ok_at(
        &env,
        "2026-11-30 10:00",
        &["ticket", "reply", "1", "-m", "On it."],
    );
    ok_at(
        &env,
        "2026-11-30 11:00",
        &["ticket", "reply", "1", "-m", "Done?"],
    );
    let t = json_at(&env, "2026-11-30 12:00", &["ticket", "show", "1"]);
    assert_eq!(t["first_response"], "2026-11-30T10:00:00Z", "recorded once");
}

#[test]
fn overdue_due_within_the_due_column_and_views() {
    let env = desk();
    create_at(&env, MONDAY_9AM, &["--priority", "high"]); // response due 13:00
    create_at(&env, MONDAY_9AM, &["--priority", "urgent"]); // response due 10:00
    create_at(&env, "2026-01-05 09:00", &["--service", "finance"]); // no service levels
    let now = "2026-11-30 11:00";
    assert_eq!(listed_at(&env, now, &["--overdue"]), [2]);
    assert_eq!(listed_at(&env, now, &["--due-within", "1h"]), [2]);
    assert_eq!(listed_at(&env, now, &["--due-within", "4h"]), [1, 2]);
    assert_eq!(
        listed_at(&env, now, &["--due-within", "4h", "--priority", "high"]),
        [1]
    );
    assert_eq!(listed_at(&env, now, &["--view", "late"]), [2]);
    assert_eq!(
        listed_at(&env, now, &["--status", "open", "--sort", "-due"]),
        [3, 1, 2],
        "no due time sorts last, so first descending"
    );
    assert_eq!(listed_at(&env, "2036-01-01 00:00", &["--overdue"]), [1, 2]);

    let table = ok_at(&env, now, &["ticket", "list", "--columns", "number,due"]);
    assert!(table.contains("2026-11-30 10:00 (overdue)"), "{table}");
    assert!(
        table.lines().any(|l| l.ends_with("2026-11-30 13:00")),
        "{table}"
    );
    let csv = ok_at(
        &env,
        now,
        &[
            "ticket",
            "list",
            "--columns",
            "number,due",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        csv,
        "number,due\n1,2026-11-30T13:00:00Z\n2,2026-11-30T10:00:00Z\n3,\n"
    );
    let err = at(&env, now, &["ticket", "list", "--due-within", "soon"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&err.stderr);
    assert!(
        err.contains("--due-within: 'soon' is not a duration"),
        "{err}"
    );

    // `show` gives the due times and whether they were missed.
    let shown = ok_at(&env, now, &["ticket", "show", "2"]);
    assert!(
        shown.contains("response due     2026-11-30 10:00 (breached)"),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.ends_with("resolution due   2026-11-30 13:00")),
        "{shown}"
    );
}

#[test]
fn a_rule_setting_the_priority_sets_the_due_times() {
    let env = desk();
    let dir = env.path().join("rules");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("10-down.yaml"),
        "- name: down is urgent\n  when: [created]\n  conditions:\n    - subject: { contains: down }\n  actions:\n    - set: { priority: urgent }\n",
    )
    .unwrap();
    deliver_at(&env, FRIDAY_4PM, "From: Ann <ann@corp.example>\nTo: help@corp.example\nSubject: Site down\nMessage-ID: <2@corp.example>\n\nDown.\n");
    let t = json_at(&env, FRIDAY_4PM, &["ticket", "show", "1"]);
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["response_due"], "2026-11-27T17:00:00Z");
    assert_eq!(t["resolution_due"], "2026-11-30T12:00:00Z");
}

#[test]
fn csv_export_and_import_carry_the_due_times() {
    let env = desk();
    create_at(&env, MONDAY_9AM, &["--priority", "high"]);
    ok_at(
        &env,
        "2026-11-30 10:00",
        &["ticket", "take", "1", "--request-info", "Which printer?"],
    );
    let export = ok_at(&env, "2026-11-30 10:00", &["export", "--format", "csv"]);
    assert!(
        export.contains(",2026-11-30T13:00:00Z,2026-12-01T17:00:00Z,2026-11-30T10:00:00Z"),
        "{export}"
    );
    let copy =
        Env::with_config(&std::fs::read_to_string(env.path().join("postdesk.yaml")).unwrap());
    std::fs::write(copy.path().join("desk.csv"), &export).unwrap();
    copy.ok(&["import", "desk.csv"]);
    assert_eq!(copy.ok(&["export", "--format", "csv"]), export);
}

/// An agent who answers the requester from their own mail client, the desk in
/// copy, gives the first response; the same agent's mail to the desk alone does not.
#[test]
fn an_agents_mail_to_the_requester_records_the_first_response() {
    let env = desk();
    let config = std::fs::read_to_string(env.path().join("postdesk.yaml")).unwrap();
    std::fs::write(
        env.path().join("postdesk.yaml"),
        format!("{config}ingest:\n  trusted_authserv_id: mx.corp.example\n"),
    )
    .unwrap();
    create_at(
        &env,
        MONDAY_9AM,
        &["--priority", "high", "--requester-email", "ann@example.com"],
    );
    let agent_mail = |id: &str, to: &str, cc: &str| {
        format!(
            "Authentication-Results: mx.corp.example; dmarc=pass header.from=desk.example\n\
             From: Alice Agent <alice@desk.example>\nTo: {to}\nCc: {cc}\n\
             Subject: Re: [#1] Printer\nMessage-ID: <{id}@desk.example>\n\nOn it.\n"
        )
    };
    deliver_at(
        &env,
        "2026-11-30 09:30",
        &agent_mail("note", "help@corp.example", "bob@desk.example"),
    );
    let t = json_at(&env, "2026-11-30 09:40", &["ticket", "show", "1"]);
    assert_eq!(t["first_response"], Value::Null, "only the desk had it");
    deliver_at(
        &env,
        "2026-11-30 10:00",
        &agent_mail("answer", "Ann <ann@example.com>", "help@corp.example"),
    );
    let t = json_at(&env, "2026-11-30 10:10", &["ticket", "show", "1"]);
    assert_eq!(t["first_response"], "2026-11-30T10:00:00Z");
    let kinds: Vec<&str> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["created", "agent-mail", "agent-mail"],
        "as the agent's"
    );
}

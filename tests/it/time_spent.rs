//! Time spent on tickets (issue 19): `ticket time N add|start|stop|list`, one running
//! timer per user, and the `time` column of `ticket list`.

use serde_json::{json, Value};

use crate::common::{with_carol, Env};

fn last_event(env: &Env, n: u64) -> Value {
    let shown = env.json(&["ticket", "show", &n.to_string()]);
    shown["events"].as_array().unwrap().last().unwrap().clone()
}

#[test]
fn add_logs_an_entry_in_the_log_and_the_total() {
    let env = Env::new();
    env.create(&["-s", "Printer jams"]);
    let out = env.ok(&[
        "ticket",
        "time",
        "1",
        "add",
        "1h30m",
        "--billable",
        "-m",
        "on site",
        "--date",
        "2026-11-02",
    ]);
    assert_eq!(out, "#1: spent 1h30m on 2026-11-02 (billable)\n");
    let event = last_event(&env, 1);
    assert_eq!(event["kind"], "time-spent");
    assert_eq!(event["actor"], "alice");
    assert_eq!(
        event["time_spent"],
        json!({"minutes": 90, "billable": true, "date": "2026-11-02", "note": "on site"})
    );
    assert_eq!(event["comment"], "on site");

    env.ok(&["--as", "bob", "ticket", "time", "1", "add", "45m"]);
    let shown = env.json(&["ticket", "show", "1"]);
    assert_eq!(shown["minutes_spent"], 135);
    assert_eq!(
        shown["events"].as_array().unwrap().last().unwrap()["time_spent"]["billable"],
        false
    );
    let table = env.ok(&["ticket", "show", "1"]);
    assert!(
        table.contains("time spent") && table.contains("2h15m"),
        "{table}"
    );
    assert!(
        table.contains("spent 1h30m on 2026-11-02 (billable)"),
        "{table}"
    );

    let list = env.json(&["ticket", "time", "1", "list"]);
    assert_eq!(list["minutes"], 135);
    assert_eq!(list["billable_minutes"], 90);
    assert_eq!(list["entries"][1]["actor"], "bob");
    assert_eq!(list["entries"][1]["minutes"], 45);
    let table = env.ok(&["ticket", "time", "1", "list"]);
    assert!(table.ends_with("total 2h15m (billable 1h30m)\n"), "{table}");
}

#[test]
fn a_bad_duration_or_date_is_refused_naming_the_value() {
    let env = Env::new();
    env.create(&["-s", "x"]);
    let err = env.fails(&["ticket", "time", "1", "add", "soon"], 2);
    assert!(err.contains("'soon' is not a duration"), "{err}");
    let err = env.fails(&["ticket", "time", "1", "add", "1d"], 2);
    assert!(
        err.contains("'1d' is not a duration: give it in hours and minutes"),
        "{err}"
    );
    let err = env.fails(
        &["ticket", "time", "1", "add", "1h", "--date", "2026-13-01"],
        2,
    );
    assert!(err.contains("'2026-13-01' is not a date"), "{err}");
    let err = env.fails(&["ticket", "time", "9", "add", "1h"], 1);
    assert_eq!(err, "postdesk: ticket #9 not found\n");
    let err = env.fails(&["ticket", "time", "9", "list"], 1);
    assert!(err.contains("ticket #9"), "{err}");
    assert_eq!(
        env.ok(&["ticket", "time", "1", "list"]),
        "no time spent on #1\n"
    );
}

#[test]
fn one_timer_runs_per_user_across_tickets_and_survives_the_process() {
    let env = Env::new();
    env.create(&["-s", "one"]);
    env.create(&["-s", "two"]);
    env.ok(&["ticket", "time", "1", "start"]);
    assert_eq!(last_event(&env, 1)["kind"], "timer-started");

    // Another process: the timer is still there.
    let err = env.fails(&["ticket", "time", "2", "start"], 1);
    assert!(
        err.starts_with("postdesk: ticket #2: alice has a timer running on #1 since "),
        "{err}"
    );
    assert!(
        err.ends_with(": stop it first (postdesk ticket time 1 stop)\n"),
        "{err}"
    );
    let err = env.fails(&["ticket", "time", "2", "stop"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #2: alice's timer runs on #1, not #2: postdesk ticket time 1 stop\n"
    );
    // Bob has a timer of his own.
    env.ok(&["--as", "bob", "ticket", "time", "2", "start"]);

    let out = env.ok(&["ticket", "time", "1", "stop"]);
    assert!(out.starts_with("#1: spent 1m on "), "{out}");
    let event = last_event(&env, 1);
    assert_eq!(event["kind"], "time-spent");
    assert_eq!(event["time_spent"]["minutes"], 1);
    assert_eq!(event["time_spent"]["note"], "timer");
    let err = env.fails(&["ticket", "time", "1", "stop"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: alice has no timer running: start one with postdesk ticket time 1 start\n"
    );
    env.ok(&["ticket", "time", "2", "start"]);
}

#[test]
fn only_the_agents_and_managers_log_time() {
    let env = with_carol();
    env.create(&["-s", "one"]);
    let err = env.fails(&["--as", "carol", "ticket", "time", "1", "add", "1h"], 1);
    assert!(err.contains("may log time on #1 (carol may not)"), "{err}");
    let err = env.fails(&["--as", "carol", "ticket", "time", "1", "start"], 1);
    assert!(err.contains("(carol may not)"), "{err}");
}

#[test]
fn list_shows_the_total_in_the_time_column() {
    let env = Env::new();
    env.create(&["-s", "one"]);
    env.create(&["-s", "two"]);
    env.ok(&["ticket", "time", "2", "add", "2h5m"]);
    let table = env.ok(&["ticket", "list", "--columns", "number,time"]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(rows.contains(&vec!["#2", "2h5m"]), "{table}");
    assert!(rows.contains(&vec!["#1"]), "{table}");
    let csv = env.ok(&[
        "ticket",
        "list",
        "--columns",
        "number,time",
        "--format",
        "csv",
    ]);
    assert!(csv.contains("2,125\n") && csv.contains("1,0\n"), "{csv}");
}

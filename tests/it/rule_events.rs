//! Which `when:` events each shell verb fires (issue 19): a status move fires
//! `closed` or `reopened` whatever verb made it, `take --close` fires `assigned`
//! then `closed`, linking runs the rules of both tickets, and `rule test --event`
//! can fire every event.

use crate::common::Env;

/// One rule per event, and one that fires on two events (to show it runs once a
/// change); each queues a mail, which the log records every time.
const RULES: &str = r#"
- name: on created
  when: created
  actions: [{ notify: bob }]
- name: on reply
  when: reply
  actions: [{ notify: bob }]
- name: on updated
  when: updated
  actions: [{ notify: bob }]
- name: on assigned
  when: assigned
  actions: [{ notify: bob }]
- name: on commented
  when: commented
  actions: [{ notify: bob }]
- name: on closed
  when: closed
  actions: [{ notify: bob }]
- name: on reopened
  when: reopened
  actions: [{ notify: bob }]
- name: on transferred
  when: transferred
  actions: [{ notify: bob }]
- name: twice
  when: [assigned, closed]
  actions: [{ notify: bob }]
"#;

fn desk() -> Env {
    let env = Env::new();
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(env.path().join("rules/10-events.yaml"), RULES).unwrap();
    env
}

/// The rules that ran, in order, in the events of `events` (a list of the log).
fn rules_run(events: &[serde_json::Value]) -> Vec<String> {
    let mut ran: Vec<String> = Vec::new();
    for e in events {
        let actor = e["actor"].as_str().unwrap();
        if let Some(rule) = actor.strip_prefix("rule '") {
            let rule = rule.trim_end_matches('\'').to_string();
            if ran.last() != Some(&rule) {
                ran.push(rule);
            }
        }
    }
    ran
}

fn log(env: &Env, n: &str) -> Vec<serde_json::Value> {
    env.json(&["ticket", "show", n])["events"]
        .as_array()
        .unwrap()
        .clone()
}

/// Runs a verb on ticket 1 and returns the rules that ran for it, from its log.
fn fired(env: &Env, args: &[&str]) -> Vec<String> {
    let before = log(env, "1").len();
    env.ok(args);
    rules_run(&log(env, "1")[before..])
}

#[test]
fn a_status_move_out_of_or_into_closed_fires_reopened_or_closed_whatever_the_verb() {
    let env = desk();
    env.create(&["-s", "Printer jams"]);
    assert_eq!(
        fired(&env, &["ticket", "status", "1", "closed"]),
        ["on closed", "twice"]
    );
    assert_eq!(
        fired(&env, &["ticket", "status", "1", "open"]),
        ["on reopened"],
        "status N open on a closed ticket is a reopening, as `ticket reopen` is"
    );
    assert_eq!(
        fired(&env, &["ticket", "status", "1", "wait"]),
        ["on updated"],
        "a move between open statuses is an update"
    );
    assert_eq!(
        fired(&env, &["ticket", "edit", "1", "--status", "closed"]),
        ["on updated", "on closed", "twice"]
    );
    assert_eq!(
        fired(
            &env,
            &["ticket", "edit", "1", "--status", "open", "-p", "high"]
        ),
        ["on updated", "on reopened"]
    );
    assert_eq!(
        fired(&env, &["ticket", "edit", "1", "-p", "low"]),
        ["on updated"]
    );
    assert_eq!(
        fired(&env, &["ticket", "close", "1"]),
        ["on closed", "twice"]
    );
    assert_eq!(fired(&env, &["ticket", "reject", "1"]), ["on reopened"]);
    env.ok(&["ticket", "close", "1"]);
    assert_eq!(fired(&env, &["ticket", "approve", "1"]), ["on updated"]);
    assert_eq!(fired(&env, &["ticket", "reopen", "1"]), ["on reopened"]);
}

#[test]
fn take_close_fires_assigned_then_closed_and_a_rule_of_both_runs_once() {
    let env = desk();
    env.create(&["-s", "Printer jams"]);
    let done = env.json(&["--as", "bob", "ticket", "take", "1", "--close"]);
    assert_eq!(
        rules_run(done["events"].as_array().unwrap()),
        ["on assigned", "twice", "on closed"],
        "the assigned rules in file order, then the closed ones not run yet"
    );
    let twice: Vec<_> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "rule 'twice'")
        .collect();
    assert_eq!(twice.len(), 1, "{twice:?}");
    assert_eq!(done["status"], "closed");

    env.create(&["-s", "Second"]);
    let done = env.json(&["--as", "bob", "ticket", "take", "2"]);
    assert_eq!(
        rules_run(done["events"].as_array().unwrap()),
        ["on assigned", "twice"]
    );
}

#[test]
fn linking_and_unlinking_run_the_updated_rules_of_both_tickets() {
    let env = Env::new();
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(
        env.path().join("rules/10-links.yaml"),
        "- name: tell bob\n  when: updated\n  actions: [{ notify: bob }]\n",
    )
    .unwrap();
    env.create(&["-s", "One"]);
    env.create(&["-s", "Two"]);
    env.create(&["-s", "Child", "--parent", "1"]);
    // What each ticket's log holds after its link events, in order.
    let log = |n: &str| -> Vec<String> {
        env.json(&["ticket", "show", n])["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["actor"].as_str().unwrap(),
                    e["kind"].as_str().unwrap()
                )
            })
            .filter(|e| !e.ends_with(" created"))
            .collect()
    };
    let me = log("1")[0].split(' ').next().unwrap().to_string();
    let linked = format!("{me} link-added");
    let unlinked = format!("{me} link-removed");
    let told = "rule 'tell bob' mail-queued".to_string();
    assert_eq!(
        log("1"),
        [linked.clone(), told.clone()],
        "the parent of --parent"
    );
    env.ok(&["ticket", "link", "1", "2"]);
    env.ok(&["ticket", "unlink", "1", "2"]);
    for n in ["1", "2"] {
        assert_eq!(
            log(n)[log(n).len() - 4..],
            [linked.clone(), told.clone(), unlinked.clone(), told.clone()],
            "#{n}"
        );
    }
}

#[test]
fn rule_test_fires_every_when_event() {
    let env = desk();
    env.create(&["-s", "Printer jams"]);
    for (event, rules) in [
        ("created", &["on created"][..]),
        ("reply", &["on reply"]),
        ("updated", &["on updated"]),
        ("assigned", &["on assigned", "twice"]),
        ("commented", &["on commented"]),
        ("closed", &["on closed", "twice"]),
        ("reopened", &["on reopened"]),
        ("transferred", &["on transferred"]),
    ] {
        let report = env.json(&["rule", "test", "--ticket", "1", "--event", event]);
        assert_eq!(report["event"], event);
        assert_eq!(
            report["matched"],
            serde_json::json!(rules),
            "--event {event}"
        );
    }
}

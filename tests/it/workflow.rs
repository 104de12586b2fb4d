//! Who acts and who may (issue 19): identity from the Unix login, `--as` for admins,
//! roles per service, and the workflow verbs with the event each one writes.

use crate::common::{assert_success, unix_login, with_carol, Env, CONFIG};

/// The standard desk, but the Unix login running the tests is bob, not an admin.
fn bob_at_the_keyboard() -> Env {
    Env::with_config(
        &CONFIG
            .replace("unix_login: UNIX_LOGIN", "unix_login: alice-elsewhere")
            .replace(
                "email: bob@desk.example }",
                "email: bob@desk.example, unix_login: UNIX_LOGIN }",
            ),
    )
}

#[test]
fn the_unix_login_acts_and_an_unknown_one_is_told_the_fix() {
    let env = bob_at_the_keyboard();
    let out = env.run_as_unix_login(&["ticket", "create", "-s", "mine"]);
    assert_success(&out, &["ticket", "create"]);
    assert_eq!(
        env.json(&["ticket", "show", "1"])["events"][0]["actor"],
        "bob"
    );

    let stranger = Env::with_config(&CONFIG.replace(", unix_login: UNIX_LOGIN", ""));
    let login = unix_login();
    let out = stranger.run_as_unix_login(&["ticket", "create", "-s", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "postdesk: Unix login '{login}' is not a user of postdesk.yaml: add a user with unix_login: {login} (or login: {login})\n"
        )
    );
    // Reading needs no user.
    stranger.ok(&["ticket", "list"]);
}

#[test]
fn only_an_admin_acts_as_another_user() {
    let env = bob_at_the_keyboard();
    let err = env.fails(&["--as", "alice", "ticket", "create", "-s", "x"], 1);
    assert_eq!(
        err,
        "postdesk: only an admin may act as another user (--as or POSTDESK_USER 'alice'): \
         Unix login 'UNIX' is user 'bob', not an admin\n"
            .replace("UNIX", &unix_login())
    );
    // POSTDESK_USER is the same as --as (common.rs sets it to alice).
    env.fails(&["ticket", "create", "-s", "x"], 1);
    env.ok(&["--as", "bob", "ticket", "create", "-s", "as myself"]);

    let stranger = Env::with_config(&CONFIG.replace(", unix_login: UNIX_LOGIN", ""));
    let err = stranger.fails(&["--as", "bob", "ticket", "create", "-s", "x"], 1);
    assert!(
        err.contains(&format!("add a user with unix_login: {}", unix_login())),
        "{err}"
    );
}

#[test]
fn edit_goes_through_the_roles_of_the_service() {
    let env = with_carol();
    env.create(&["-s", "Printer jams"]);
    env.ok(&["--as", "bob", "ticket", "edit", "1", "-p", "high"]);
    let err = env.fails(&["--as", "carol", "ticket", "edit", "1", "-p", "low"], 1);
    assert_eq!(
        err,
        "postdesk: only the managers (alice) and agents (alice, bob) of service 'it' \
         or an admin may edit #1 (carol may not)\n"
    );
    assert_eq!(env.json(&["ticket", "show", "1"])["priority"], "high");
}

/// The events of ticket `n`, as `ticket show --format json` gives them.
fn events(env: &Env, n: &str) -> Vec<serde_json::Value> {
    env.json(&["ticket", "show", n])["events"]
        .as_array()
        .unwrap()
        .clone()
}

/// The last event of ticket `n`.
fn last_event(env: &Env, n: &str) -> serde_json::Value {
    events(env, n).pop().unwrap()
}

#[test]
fn take_makes_the_actor_the_assignee_with_an_assigned_event() {
    let env = with_carol();
    env.create(&["-s", "Printer jams"]);
    let out = env.ok(&["--as", "bob", "ticket", "take", "1", "-m", "on my way"]);
    assert_eq!(out, "#1: took the ticket (was @support)\n");
    let e = last_event(&env, "1");
    assert_eq!(
        (&e["kind"], &e["actor"], &e["field"], &e["from"], &e["to"]),
        (
            &"assigned".into(),
            &"bob".into(),
            &"assignee".into(),
            &"@support".into(),
            &"bob".into()
        )
    );
    assert_eq!(e["comment"], "on my way");
    assert_eq!(env.json(&["ticket", "show", "1"])["assignee"], "bob");
    // Taking again changes nothing.
    assert_eq!(
        env.ok(&["--as", "bob", "ticket", "take", "1"]),
        "ticket #1 unchanged\n"
    );
    let err = env.fails(&["--as", "carol", "ticket", "take", "1"], 1);
    assert_eq!(
        err,
        "postdesk: only the managers (alice) and agents (alice, bob) of service 'it' \
         or an admin may take #1 (carol may not)\n"
    );
}

#[test]
fn take_close_and_take_request_info_set_the_status_too() {
    let env = Env::new();
    env.create(&["-s", "one"]);
    env.create(&["-s", "two"]);
    let done = env.json(&["--as", "bob", "ticket", "take", "1", "--close"]);
    assert_eq!(
        (&done["status"], &done["assignee"]),
        (&"closed".into(), &"bob".into())
    );
    let kinds: Vec<_> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds, ["assigned", "changed"]);
    assert_eq!(done["events"][1]["to"], "closed");

    let done = env.json(&[
        "--as",
        "bob",
        "ticket",
        "take",
        "2",
        "--request-info",
        "Which printer?",
    ]);
    assert_eq!(done["status"], "pending");
    let err = env.fails(&["ticket", "take", "1", "--request-info", " "], 1);
    assert_eq!(err, "postdesk: --request-info: the comment is empty\n");
    let e = last_event(&env, "2");
    assert_eq!(
        (&e["kind"], &e["comment"]),
        (&"info-requested".into(), &"Which printer?".into())
    );
}

#[test]
fn assign_is_for_managers_and_to_people_of_the_service_unless_forced() {
    let env = with_carol();
    env.create(&["-s", "VPN down"]);
    let out = env.ok(&["ticket", "assign", "1", "bob", "-m", "yours"]);
    assert_eq!(out, "#1: assigned the ticket to bob (was @support)\n");
    let e = last_event(&env, "1");
    assert_eq!(
        (&e["kind"], &e["actor"], &e["to"], &e["comment"]),
        (
            &"assigned".into(),
            &"alice".into(),
            &"bob".into(),
            &"yours".into()
        )
    );
    let err = env.fails(&["--as", "bob", "ticket", "assign", "1", "alice"], 1);
    assert_eq!(
        err,
        "postdesk: only the managers of service 'it' (alice) or an admin may assign #1 (bob may not)\n"
    );
    let err = env.fails(&["ticket", "assign", "1", "carol"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: carol is not an agent or a manager of service 'it': \
         assign with --force to give it to them anyway\n"
    );
    env.ok(&["ticket", "assign", "1", "carol", "--force"]);
    assert_eq!(env.json(&["ticket", "show", "1"])["assignee"], "carol");
    let err = env.fails(&["ticket", "assign", "1", "mallory"], 1);
    assert!(err.contains("unknown user 'mallory'"), "{err}");
    env.ok(&["ticket", "assign", "1", "none"]);
    assert_eq!(last_event(&env, "1")["to"], "");
}

#[test]
fn release_gives_the_ticket_back_to_the_service() {
    let env = with_carol();
    env.create(&["-s", "Screen flickers"]);
    env.ok(&["--as", "bob", "ticket", "take", "1"]);
    let err = env.fails(&["--as", "carol", "ticket", "release", "1"], 1);
    assert_eq!(
        err,
        "postdesk: only its assignee (bob), the managers of service 'it' (alice) \
         or an admin may release #1 (carol may not)\n"
    );
    let out = env.ok(&["--as", "bob", "ticket", "release", "1", "-m", "on leave"]);
    assert_eq!(out, "#1: released the ticket to @support\n");
    let e = last_event(&env, "1");
    assert_eq!(
        (&e["kind"], &e["from"], &e["to"], &e["comment"]),
        (
            &"assigned".into(),
            &"bob".into(),
            &"@support".into(),
            &"on leave".into()
        )
    );
    let err = env.fails(&["ticket", "release", "1"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: no one person holds it (assignee: @support): nothing to release\n"
    );
}

#[test]
fn status_moves_with_aliases_and_refuses_illegal_ones() {
    let env = with_carol();
    env.create(&["-s", "Disk full"]);
    let err = env.fails(&["ticket", "status", "1", "start"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: #1 cannot be in-progress while no one person holds it \
         (assignee: @support): take it or assign it to a user first\n"
    );
    env.ok(&["--as", "bob", "ticket", "take", "1"]);
    env.ok(&["--as", "bob", "ticket", "status", "1", "start"]);
    let e = last_event(&env, "1");
    assert_eq!(
        (&e["kind"], &e["field"], &e["from"], &e["to"], &e["actor"]),
        (
            &"changed".into(),
            &"status".into(),
            &"open".into(),
            &"in-progress".into(),
            &"bob".into()
        )
    );
    env.ok(&["--as", "bob", "ticket", "status", "1", "wait"]);
    assert_eq!(last_event(&env, "1")["to"], "pending");
    let err = env.fails(&["--as", "carol", "ticket", "status", "1", "closed"], 1);
    assert!(
        err.starts_with("postdesk: only its assignee (bob), the managers"),
        "{err}"
    );
    env.ok(&["--as", "bob", "ticket", "status", "1", "closed"]);
    let err = env.fails(&["--as", "bob", "ticket", "status", "1", "pending"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: #1 is closed: reopen it first (status 1 open), then set it pending\n"
    );
    env.ok(&["--as", "bob", "ticket", "status", "1", "open"]);
    assert_eq!(last_event(&env, "1")["to"], "open");
    let err = env.fails(&["ticket", "status", "1", "done"], 2);
    assert!(err.contains("'done' is not a status"), "{err}");
}

#[test]
fn comments_are_internal_events_from_any_user_and_bounded() {
    let env = with_carol();
    env.create(&["-s", "Badge lost"]);
    env.ok(&[
        "--as",
        "carol",
        "ticket",
        "comment",
        "1",
        "-m",
        "called them back",
    ]);
    let e = last_event(&env, "1");
    assert_eq!(
        (&e["kind"], &e["actor"], &e["comment"]),
        (
            &"comment".into(),
            &"carol".into(),
            &"called them back".into()
        )
    );
    std::fs::write(env.path().join("note.txt"), "from a file\nsecond line\n").unwrap();
    env.ok(&["ticket", "comment", "1", "--file", "note.txt"]);
    assert_eq!(last_event(&env, "1")["comment"], "from a file\nsecond line");
    env.cmd(&["ticket", "comment", "1", "-"])
        .write_stdin("from stdin\n")
        .assert()
        .success();
    assert_eq!(last_event(&env, "1")["comment"], "from stdin");
    let table = env.ok(&["ticket", "show", "1"]);
    assert!(
        table.contains("carol: commented (internal)\n      | called them back\n"),
        "{table}"
    );
    let long = "x".repeat(5000);
    let err = env.fails(&["ticket", "comment", "1", "-m", &long], 1);
    assert_eq!(
        err,
        "postdesk: the comment is 5000 bytes; at most 4096 fit in the activity log: shorten it\n"
    );
    let err = env.fails(&["ticket", "comment", "1", "-m", "  "], 1);
    assert_eq!(err, "postdesk: the comment is empty\n");
    env.fails(&["ticket", "comment", "1"], 2);
    assert_eq!(events(&env, "1").len(), 4, "created and three comments");
    let err = env.fails(&["ticket", "comment", "9", "-m", "x"], 1);
    assert_eq!(err, "postdesk: ticket #9 not found\n");
}

#[test]
fn rules_fire_on_assigned_and_commented_from_the_verbs() {
    let env = Env::new();
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(
        env.path().join("rules/10-flow.yaml"),
        r#"
- name: taken
  when: assigned
  conditions: [{ assignee: bob }]
  actions: [{ tag: [taken] }]
- name: noted
  when: [commented]
  actions: [{ set: { priority: high } }]
- name: edited
  when: updated
  actions: [{ tag: [edited] }]
"#,
    )
    .unwrap();
    env.create(&["-s", "Printer jams"]);
    let done = env.json(&["--as", "bob", "ticket", "take", "1"]);
    assert_eq!(
        done["tags"],
        serde_json::json!(["taken"]),
        "assigned, not updated"
    );
    let rule_event = &done["events"][1];
    assert_eq!(
        (&rule_event["actor"], &rule_event["kind"], &rule_event["to"]),
        (&"rule 'taken'".into(), &"changed".into(), &"taken".into())
    );
    let done = env.json(&["ticket", "comment", "1", "-m", "VIP"]);
    assert_eq!(done["priority"], "high");
    assert_eq!(done["tags"], serde_json::json!(["taken"]));
    let done = env.json(&["--as", "bob", "ticket", "status", "1", "wait"]);
    assert_eq!(
        done["tags"],
        serde_json::json!(["edited", "taken"]),
        "a status fires updated"
    );
}

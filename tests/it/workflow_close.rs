//! The workflow verbs of issue 19's second slice: transfer, follow and unfollow,
//! close with the requester's approval, reopen; each with its refusals and the
//! event it writes, read back through `ticket show --format json`.

use crate::common::{Env, CONFIG};

/// The standard desk plus carol, a manager of service it who is no admin.
fn with_carol_managing_it() -> Env {
    Env::with_config(
        &CONFIG
            .replace(
                "groups:",
                "  - { login: carol, name: Carol Clerk, email: carol@desk.example }\ngroups:",
            )
            .replace("managers: [alice]", "managers: [alice, carol]"),
    )
}

fn show(env: &Env, n: &str) -> serde_json::Value {
    env.json(&["ticket", "show", n])
}

fn last_event(env: &Env, n: &str) -> serde_json::Value {
    show(env, n)["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

#[test]
fn transfer_moves_the_ticket_to_the_new_services_assignee_and_guests() {
    let env = with_carol_managing_it();
    env.create(&["-s", "An invoice", "-c", "hardware"]);
    let before = show(&env, "1");
    assert_eq!(
        before["followers"],
        serde_json::json!(["boss@corp.example"])
    );

    let out = env.ok(&[
        "--as", "carol", "ticket", "transfer", "1", "finance", "-m", "billing",
    ]);
    assert_eq!(
        out,
        "#1: transferred the ticket to finance (was it/hardware)\n"
    );
    let t = show(&env, "1");
    assert_eq!(
        (&t["service"], &t["category"], &t["assignee"]),
        (&"finance".into(), &serde_json::Value::Null, &"bob".into())
    );
    assert_eq!(t["followers"], serde_json::json!([]), "the old guests left");
    let e = last_event(&env, "1");
    assert_eq!(
        (&e["kind"], &e["actor"], &e["field"], &e["from"], &e["to"]),
        (
            &"transferred".into(),
            &"carol".into(),
            &"service".into(),
            &"it/hardware".into(),
            &"finance".into()
        )
    );
    assert_eq!(e["comment"], "billing");

    // Back, with a category, the mover staying as a guest (an admin: alice).
    env.ok(&["ticket", "transfer", "1", "it/access", "--stay-as-guest"]);
    let t = show(&env, "1");
    assert_eq!(
        (&t["service"], &t["category"], &t["assignee"]),
        (&"it".into(), &"access".into(), &"@support".into())
    );
    assert_eq!(
        t["followers"],
        serde_json::json!(["alice", "boss@corp.example"])
    );
}

#[test]
fn transfer_is_refused_to_non_managers_and_to_unknown_places() {
    let env = with_carol_managing_it();
    env.create(&["-s", "Printer jams"]);
    let err = env.fails(&["--as", "bob", "ticket", "transfer", "1", "finance"], 1);
    assert_eq!(
        err,
        "postdesk: only the managers of service 'it' (alice, carol) or an admin \
         may transfer #1 (bob may not)\n"
    );
    let err = env.fails(&["ticket", "transfer", "1", "hr"], 1);
    assert!(err.contains("unknown service 'hr'"), "{err}");
    let err = env.fails(&["ticket", "transfer", "1", "it/coffee"], 1);
    assert!(
        err.contains("service 'it' has no category 'coffee'"),
        "{err}"
    );
    let err = env.fails(&["ticket", "transfer", "1", "it"], 1);
    assert!(err.contains("already in it: nothing to transfer"), "{err}");
    assert_eq!(show(&env, "1")["service"], "it");
}

#[test]
fn edit_moves_a_ticket_only_for_those_who_may_transfer() {
    let env = with_carol_managing_it();
    env.create(&["-s", "Printer jams"]);
    let err = env.fails(
        &["--as", "bob", "ticket", "edit", "1", "--service", "finance"],
        1,
    );
    assert_eq!(
        err,
        "postdesk: ticket #1: --service: only the managers of service 'it' (alice, carol) \
         or an admin may transfer #1 (bob may not); a ticket moves with `ticket transfer`\n"
    );
    // bob may still edit the rest.
    env.ok(&["--as", "bob", "ticket", "edit", "1", "-p", "high"]);
    env.ok(&[
        "--as",
        "carol",
        "ticket",
        "edit",
        "1",
        "--service",
        "finance",
    ]);
    assert_eq!(show(&env, "1")["service"], "finance");
}

#[test]
fn follow_and_unfollow_take_a_login_or_an_address_with_an_event_each() {
    let env = with_carol_managing_it();
    env.create(&["-s", "Printer jams"]);
    let out = env.ok(&[
        "--as",
        "bob",
        "ticket",
        "follow",
        "1",
        "Ann <ann@example.com>",
        "-m",
        "her printer",
    ]);
    assert_eq!(out, "#1: made ann@example.com a follower\n");
    let e = last_event(&env, "1");
    assert_eq!(
        (&e["kind"], &e["actor"], &e["field"], &e["from"], &e["to"]),
        (
            &"followed".into(),
            &"bob".into(),
            &"followers".into(),
            &serde_json::Value::Null,
            &"ann@example.com".into()
        )
    );
    assert_eq!(e["comment"], "her printer");
    env.ok(&["ticket", "follow", "1", "carol"]);
    assert_eq!(
        show(&env, "1")["followers"],
        serde_json::json!(["ann@example.com", "boss@corp.example", "carol"])
    );
    assert!(env
        .ok(&["ticket", "show", "1"])
        .contains("ann@example.com boss@corp.example carol"));
    assert_eq!(
        env.ok(&["ticket", "follow", "1", "carol"]),
        "ticket #1 unchanged\n"
    );

    let out = env.ok(&[
        "--as",
        "carol",
        "ticket",
        "unfollow",
        "1",
        "ann@example.com",
    ]);
    assert_eq!(out, "#1: removed ann@example.com from the followers\n");
    let e = last_event(&env, "1");
    assert_eq!(
        (&e["kind"], &e["from"], &e["to"]),
        (
            &"unfollowed".into(),
            &"ann@example.com".into(),
            &serde_json::Value::Null
        )
    );
}

#[test]
fn follow_refuses_what_is_no_user_nor_address_and_unfollow_what_does_not_follow() {
    let env = with_carol_managing_it();
    env.create(&["-s", "Printer jams"]);
    let err = env.fails(&["ticket", "follow", "1", "nobody here"], 1);
    assert_eq!(
        err,
        "postdesk: 'nobody here' is neither a login of the config nor an e-mail address: \
         give a login or name@domain\n"
    );
    let err = env.fails(&["ticket", "unfollow", "1", "bob"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: bob does not follow it (followers: boss@corp.example)\n"
    );
    let err = env.fails(&["--as", "dave", "ticket", "follow", "1", "bob"], 1);
    assert!(err.contains("dave"), "{err}");
}

fn kinds(done: &serde_json::Value) -> Vec<serde_json::Value> {
    done["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect()
}

#[test]
fn close_asks_the_requester_to_approve_and_approve_records_the_answer() {
    let env = with_carol_managing_it();
    env.create(&["-s", "Printer jams", "--requester-email", "ann@example.com"]);
    assert_eq!(show(&env, "1")["approval"], serde_json::Value::Null);
    let done = env.json(&["--as", "carol", "ticket", "close", "1", "-m", "replaced"]);
    assert_eq!(
        (&done["status"], &done["approval"]),
        (&"closed".into(), &"pending".into())
    );
    assert_eq!(kinds(&done), ["changed", "comment"]);
    assert_eq!(done["events"][0]["to"], "closed");
    assert_eq!(done["events"][1]["comment"], "replaced");
    assert!(env.ok(&["ticket", "show", "1"]).contains("approval"));
    let listed = env.ok(&[
        "ticket",
        "list",
        "--columns",
        "number,approval",
        "--format",
        "csv",
    ]);
    assert!(listed.contains("1,pending"), "{listed}");

    let err = env.fails(&["ticket", "close", "1"], 1);
    assert_eq!(err, "postdesk: ticket #1: #1 is already closed\n");

    let out = env.ok(&["--as", "bob", "ticket", "approve", "1"]);
    assert_eq!(
        out,
        "#1: recorded the requester's approval of the closing\n"
    );
    let t = show(&env, "1");
    assert_eq!(
        (&t["status"], &t["approval"]),
        (&"closed".into(), &"approved".into())
    );
    assert_eq!(last_event(&env, "1")["kind"], "approved");
    let err = env.fails(&["ticket", "approve", "1"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: approval of #1 is not pending: it is already approved\n"
    );
}

#[test]
fn reject_reopens_and_approving_what_was_never_asked_is_refused() {
    let env = with_carol_managing_it();
    env.create(&["-s", "Printer jams"]);
    let err = env.fails(&["ticket", "approve", "1"], 1);
    assert!(
        err.contains("approval of #1 is not pending: no approval was asked"),
        "{err}"
    );
    env.ok(&["ticket", "status", "1", "closed"]);
    assert_eq!(
        show(&env, "1")["approval"],
        "pending",
        "status closed asks too"
    );
    let err = env.fails(&["--as", "dave", "ticket", "reject", "1"], 1);
    assert!(err.contains("dave"), "{err}");
    let done = env.json(&["ticket", "reject", "1", "-m", "still jams"]);
    assert_eq!(kinds(&done), ["rejected", "changed"]);
    assert_eq!(done["events"][0]["comment"], "still jams");
    assert_eq!(
        (&done["status"], &done["approval"]),
        (&"open".into(), &"rejected".into())
    );
    let err = env.fails(&["ticket", "reject", "1"], 1);
    assert!(err.contains("it is already rejected"), "{err}");
    // take --close closes the same way.
    let done = env.json(&["--as", "bob", "ticket", "take", "1", "--close"]);
    assert_eq!(done["approval"], "pending");
}

#[test]
fn close_and_reopen_go_by_role() {
    let env = with_carol_managing_it();
    env.create(&["-s", "Printer jams"]);
    // bob is an agent of it but does not hold it (the group does).
    let err = env.fails(&["--as", "bob", "ticket", "close", "1"], 1);
    assert_eq!(
        err,
        "postdesk: only the managers of service 'it' (alice, carol) or an admin \
         may close #1 (bob may not)\n"
    );
    let err = env.fails(&["ticket", "reopen", "1"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: #1 is not closed (it is open): nothing to reopen\n"
    );
    env.ok(&["--as", "bob", "ticket", "take", "1"]);
    env.ok(&["--as", "bob", "ticket", "close", "1", "--force"]);
    let done = env.json(&["--as", "bob", "ticket", "reopen", "1", "-m", "came back"]);
    assert_eq!(kinds(&done), ["changed", "comment"]);
    assert_eq!(
        (&done["status"], &done["approval"]),
        (&"open".into(), &serde_json::Value::Null)
    );
    let err = env.fails(&["--as", "nobody", "ticket", "reopen", "1"], 1);
    assert!(err.contains("nobody"), "{err}");
}

#[test]
fn no_answer_within_approval_days_counts_as_approved() {
    let env =
        Env::with_config(&CONFIG.replace("timezone: UTC", "timezone: UTC\n  approval_days: 0"));
    env.create(&["-s", "Printer jams"]);
    env.ok(&["ticket", "close", "1"]);
    assert_eq!(show(&env, "1")["approval"], "approved");
    let err = env.fails(&["ticket", "reject", "1"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: approval of #1 is not pending: it counts as approved: \
         no answer came within 0 days (settings.approval_days)\n"
    );
}

fn with_rules(env: &Env, rules: &str) {
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(env.path().join("rules/10-flow.yaml"), rules).unwrap();
}

#[test]
fn rules_fire_on_closed_reopened_and_transferred() {
    let env = Env::new();
    with_rules(
        &env,
        r#"
- name: on close
  when: closed
  actions: [{ tag: [was-closed] }]
- name: on reopen
  when: [reopened]
  actions: [{ tag: [was-reopened] }]
- name: on transfer
  when: transferred
  actions: [{ tag: [was-transferred] }]
- name: edited
  when: updated
  actions: [{ tag: [edited] }]
"#,
    );
    env.create(&["-s", "Printer jams"]);
    let done = env.json(&["ticket", "close", "1"]);
    assert_eq!(done["tags"], serde_json::json!(["was-closed"]));
    let done = env.json(&["ticket", "reopen", "1"]);
    assert_eq!(
        done["tags"],
        serde_json::json!(["was-closed", "was-reopened"])
    );
    let done = env.json(&["ticket", "transfer", "1", "finance"]);
    assert_eq!(
        done["tags"],
        serde_json::json!(["was-closed", "was-reopened", "was-transferred"]),
        "none of them fires updated"
    );
    env.create(&["-s", "Second"]);
    let done = env.json(&["ticket", "status", "2", "closed"]);
    assert_eq!(done["tags"], serde_json::json!(["was-closed"]));
    let done = env.json(&["ticket", "reject", "2"]);
    assert_eq!(
        done["tags"],
        serde_json::json!(["was-closed", "was-reopened"])
    );
}

fn mail(from: &str, subject: &str, id: &str) -> String {
    format!(
        "From: {from}\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{id}>\n\
         Date: Tue, 24 Nov 2026 21:30:00 +0000\n\nSome text.\n"
    )
}

#[test]
fn the_author_condition_tells_the_requester_a_follower_and_an_agent_apart() {
    let env = Env::with_config(&format!("{CONFIG}ingest:\n  trust_from: true\n"));
    with_rules(
        &env,
        r#"
- name: managers hear of customer replies
  when: reply
  conditions: [{ not: { author: agent } }]
  actions: [{ tag: [customer-reply] }]
- name: who
  when: reply
  conditions: [{ author: { in: [requester, follower] } }]
  actions: [{ tag: [known] }]
- name: by a follower
  when: reply
  conditions: [{ author: follower }]
  actions: [{ tag: [by-follower] }]
"#,
    );
    env.deliver(&mail("ann@acme.example", "Laptop", "a1@acme.example"));
    let tags = |env: &Env| show(env, "1")["tags"].clone();
    env.deliver(&mail(
        "Alice <alice@desk.example>",
        "Re: [#1] Laptop",
        "a2@desk.example",
    ));
    assert_eq!(tags(&env), serde_json::json!([]), "an agent's own reply");
    env.deliver(&mail(
        "ann@acme.example",
        "Re: [#1] Laptop",
        "a3@acme.example",
    ));
    assert_eq!(tags(&env), serde_json::json!(["customer-reply", "known"]));
    env.ok(&["ticket", "follow", "1", "carl@acme.example"]);
    env.deliver(&mail(
        "carl@acme.example",
        "Re: [#1] Laptop",
        "a4@acme.example",
    ));
    assert_eq!(
        tags(&env),
        serde_json::json!(["by-follower", "customer-reply", "known"])
    );
}

#[test]
fn an_unknown_author_is_refused_when_the_rules_load() {
    let env = Env::new();
    with_rules(
        &env,
        "- name: odd\n  when: reply\n  conditions: [{ author: boss }]\n  actions: [{ tag: [x] }]\n",
    );
    let err = env.fails(&["rule", "check"], 1);
    assert!(
        err.contains("unknown author 'boss', expected one of requester, follower, agent, stranger"),
        "{err}"
    );
}

//! Links between tickets (issue 19): `ticket link`, `unlink`, `create --parent`, and
//! closing a ticket that has open sub-tickets.

use serde_json::{json, Value};

use crate::common::{with_carol, Env};

fn show(env: &Env, n: u64) -> Value {
    env.json(&["ticket", "show", &n.to_string()])
}

/// The last event of ticket `n`.
fn last_event(env: &Env, n: u64) -> Value {
    show(env, n)["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

fn two_tickets() -> Env {
    let env = Env::new();
    env.create(&["-s", "Printer jams"]);
    env.create(&["-s", "Printer jams again"]);
    env
}

#[test]
fn a_link_shows_on_both_tickets_with_its_kind_and_each_logs_it() {
    let env = two_tickets();
    env.ok(&["ticket", "link", "1", "2"]);
    let (one, two) = (show(&env, 1), show(&env, 2));
    assert_eq!(one["links"], json!([2]));
    assert_eq!(one["link_kinds"], json!({"2": "relates"}));
    assert_eq!(two["link_kinds"], json!({"1": "relates"}));
    for (n, other) in [(1, 2), (2, 1)] {
        let event = last_event(&env, n);
        assert_eq!(event["kind"], "link-added");
        assert_eq!(event["link"], other);
        assert_eq!(event["link_kind"], "relates");
        assert_eq!(event["actor"], "alice");
    }

    // Linking again with another kind changes it on both sides.
    let out = env.ok(&["ticket", "link", "#2", "#1", "--kind", "duplicates"]);
    assert_eq!(out, "#2: linked #1 (duplicate)\n");
    assert_eq!(show(&env, 1)["link_kinds"], json!({"2": "duplicates"}));
    assert_eq!(show(&env, 2)["link_kinds"], json!({"1": "duplicates"}));
    // The same link again changes nothing.
    assert_eq!(
        env.ok(&["ticket", "link", "2", "1", "--kind", "duplicates"]),
        "ticket #2 unchanged\n"
    );
}

#[test]
fn a_parent_link_shows_as_child_on_the_other_side() {
    let env = two_tickets();
    env.ok(&["ticket", "link", "2", "1", "--kind", "parent"]);
    assert_eq!(show(&env, 2)["link_kinds"], json!({"1": "parent"}));
    assert_eq!(show(&env, 1)["link_kinds"], json!({"2": "child"}));
    assert_eq!(last_event(&env, 1)["link_kind"], "child");
    let table = env.ok(&["ticket", "show", "1"]);
    assert!(table.contains("#2 (child)"), "{table}");
    assert!(table.contains("linked #2 (sub-ticket)"), "{table}");
    let table = env.ok(&["ticket", "show", "2"]);
    assert!(table.contains("#1 (parent)"), "{table}");

    // The other way round as well would be a loop.
    let err = env.fails(&["ticket", "link", "1", "2", "--kind", "parent"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: #2 is a sub-ticket of #1: it cannot be its parent too\n"
    );
}

#[test]
fn unlink_removes_the_link_from_both_and_each_logs_it() {
    let env = two_tickets();
    env.ok(&["ticket", "link", "1", "2", "--kind", "parent"]);
    let out = env.ok(&["ticket", "unlink", "2", "1"]);
    assert_eq!(out, "#2: unlinked #1 (sub-ticket)\n");
    for (n, other, kind) in [(1, 2, "parent"), (2, 1, "child")] {
        let ticket = show(&env, n);
        assert_eq!(ticket["links"], json!([]));
        assert_eq!(ticket["link_kinds"], json!({}));
        let event = last_event(&env, n);
        assert_eq!(event["kind"], "link-removed");
        assert_eq!(
            (&event["link"], &event["link_kind"]),
            (&json!(other), &json!(kind))
        );
    }
    let err = env.fails(&["ticket", "unlink", "2", "1"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #2: #2 is not linked to #1: nothing to unlink\n"
    );
}

#[test]
fn linking_an_unknown_ticket_or_a_ticket_to_itself_is_refused() {
    let env = two_tickets();
    let err = env.fails(&["ticket", "link", "1", "9"], 1);
    assert_eq!(err, "postdesk: ticket #1: ticket #9 not found\n");
    let err = env.fails(&["ticket", "link", "9", "1"], 1);
    assert_eq!(err, "postdesk: ticket #9 not found\n");
    let err = env.fails(&["ticket", "link", "1", "1"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: a ticket cannot be linked to itself\n"
    );
    let err = env.fails(&["ticket", "link", "1", "2", "--kind", "child"], 2);
    assert!(err.contains("'child'"), "{err}");
    let err = env.fails(&["ticket", "create", "-s", "sub", "--parent", "7"], 1);
    assert_eq!(err, "postdesk: --parent: ticket #7 not found\n");
    for n in [1, 2] {
        assert_eq!(show(&env, n)["links"], json!([]), "nothing was written");
    }
}

#[test]
fn only_the_agents_and_managers_of_both_tickets_link_them() {
    let env = with_carol();
    env.create(&["-s", "one"]);
    env.create(&["-s", "two", "--service", "finance"]);
    let err = env.fails(&["--as", "carol", "ticket", "link", "1", "2"], 1);
    assert!(err.starts_with("postdesk: only the managers"), "{err}");
    assert!(
        err.contains("may link or unlink #1 (carol may not)"),
        "{err}"
    );
    env.ok(&["--as", "bob", "ticket", "link", "1", "2"]);
    assert_eq!(last_event(&env, 2)["actor"], "bob");
}

#[test]
fn create_parent_makes_a_sub_ticket() {
    let env = two_tickets();
    let sub = env.json(&["ticket", "create", "-s", "toner", "--parent", "#1"]);
    assert_eq!(sub["number"], 3);
    assert_eq!(sub["link_kinds"], json!({"1": "parent"}));
    let events = show(&env, 3)["events"].clone();
    assert_eq!(events[0]["kind"], "created");
    assert_eq!(
        (&events[1]["kind"], &events[1]["link"]),
        (&json!("link-added"), &json!(1))
    );
    assert_eq!(show(&env, 1)["link_kinds"], json!({"3": "child"}));
    assert_eq!(last_event(&env, 1)["link_kind"], "child");
}

#[test]
fn closing_with_open_sub_tickets_needs_force_by_every_verb() {
    let env = two_tickets();
    env.create(&["-s", "toner", "--parent", "1"]);
    env.create(&["-s", "paper", "--parent", "1"]);
    let refusal = "postdesk: ticket #1: #1 has open sub-tickets #3, #4: \
                   close them first, or give --force to close it anyway\n";
    for verb in [
        &["ticket", "status", "1", "closed"][..],
        &["ticket", "take", "1", "--close"],
        &["ticket", "edit", "1", "--status", "closed"],
    ] {
        assert_eq!(env.fails(verb, 1), refusal, "{verb:?}");
        assert_eq!(show(&env, 1)["status"], "open", "{verb:?}");
    }

    // A closed sub-ticket no longer counts.
    env.ok(&["ticket", "status", "3", "closed"]);
    let err = env.fails(&["ticket", "status", "1", "closed"], 1);
    assert!(
        err.contains("an open sub-ticket #4: close it first"),
        "{err}"
    );

    env.ok(&["ticket", "status", "1", "closed", "--force"]);
    assert_eq!(show(&env, 1)["status"], "closed");
    env.ok(&["ticket", "status", "1", "open"]);
    env.ok(&["ticket", "take", "1", "--close", "--force"]);
    env.ok(&["ticket", "status", "1", "open"]);
    env.ok(&["ticket", "edit", "1", "--status", "closed", "--force"]);
    assert_eq!(show(&env, 1)["status"], "closed");

    // The sub-ticket itself closes freely.
    env.ok(&["ticket", "status", "4", "closed"]);
}

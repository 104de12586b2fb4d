//! The upgrade to schema 6 (issue 20, "Mail out"): the `mail-queued` events a desk
//! recorded before it sent mail become outbox entries marked as never sent, once;
//! nothing is sent for them, and such events written after the upgrade (a desk
//! without `mail_out:`) stay events only.

use std::time::Duration;

use postdesk::store::Store;

use crate::common::Env;

const RULES: &str = "- name: ack\n  when: created\n  actions:\n    - notify: { to: managers, template: notify }\n    - notify: bob\n    - reply: { template: acknowledge }\n";

const MAIL_OUT: &str = "mail_out: { transport: maildir, path: sent }\n";

fn mail(n: u32) -> String {
    format!("From: ann@acme.example\nTo: help@corp.example\nSubject: printer {n}\nMessage-ID: <p{n}@acme.example>\n\nIt jams.\n")
}

/// (actor, time) of a ticket's `mail-queued` events, in order.
fn mail_queued(env: &Env, number: u64) -> Vec<(String, String)> {
    let t = env.json(&["ticket", "show", &number.to_string()]);
    t["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mail-queued")
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap().to_string();
            (field("actor"), field("at"))
        })
        .collect()
}

fn entries(env: &Env) -> Vec<serde_json::Value> {
    env.json(&["outbox", "list", "--all"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn mail_queued_before_mail_out_becomes_dropped_entries_never_sent() {
    let env = Env::new();
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(env.path().join("rules/10-ack.yaml"), RULES).unwrap();
    env.deliver(&mail(1));
    env.deliver(&mail(2));
    let before: Vec<_> = [1, 2].iter().map(|&n| mail_queued(&env, n)).collect();
    assert!(before.iter().all(|events| events.len() == 3), "{before:?}");
    assert!(entries(&env).is_empty(), "nothing queued without mail_out");

    // As a schema 5 postdesk left it; then mail out is configured.
    {
        let store = Store::open(&env.db(), Duration::from_secs(5)).unwrap();
        store.set_schema_version(5).unwrap();
        store.flush().unwrap();
    }
    let config = env.path().join("postdesk.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}{MAIL_OUT}")).unwrap();

    let all = entries(&env);
    let mut expected = Vec::new();
    for (number, events) in [1u64, 2].iter().zip(&before) {
        for ((to, kind, template), (actor, at)) in [
            ("managers", "rule-notify", "notify"),
            ("bob", "rule-notify", "notify"),
            ("requester", "rule-reply", "acknowledge"),
        ]
        .iter()
        .zip(events)
        {
            assert_eq!(actor, "rule 'ack'");
            expected.push(serde_json::json!({
                "ticket": number,
                "recipient": to,
                "kind": kind,
                "state": "dropped",
                "attempts": 0,
                "envelope": "",
                "hash": "",
                "message_id": "",
                "queued_at": at,
                "done_at": at,
                "next_attempt": null,
                "last_error": format!(
                    "queued by rule 'ack' (template {template}) before postdesk sent mail: never sent"
                ),
            }));
        }
    }
    let without_ids: Vec<_> = all
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("id");
            e
        })
        .collect();
    assert_eq!(without_ids, expected, "one per event, in order");
    assert_eq!(
        env.json(&["outbox", "list"]),
        serde_json::json!([]),
        "none waits"
    );
    for number in [1, 2] {
        assert_eq!(
            mail_queued(&env, number),
            before[number as usize - 1],
            "the events stay"
        );
    }

    // Nothing is ever sent for them.
    env.ok(&["outbox", "send"]);
    let sent = env.path().join("sent");
    let files = std::fs::read_dir(sent.join("new")).map_or(0, |d| d.count());
    assert_eq!(files, 0, "no mail in {}", sent.display());
    let id = all[0]["id"].to_string();
    let err = env.fails(&["outbox", "retry", &id], 1);
    assert!(err.contains("has no message to send"), "{err}");
    let err = env.fails(&["outbox", "drop", &id], 1);
    assert!(err.contains("is dropped"), "{err}");

    // Opened again: nothing added.
    assert_eq!(entries(&env), all);

    // After the upgrade, a desk without mail_out records mail-queued events only.
    std::fs::write(&config, &text).unwrap();
    env.deliver(&mail(3));
    assert_eq!(mail_queued(&env, 3).len(), 3);
    std::fs::write(&config, format!("{text}{MAIL_OUT}")).unwrap();
    assert_eq!(entries(&env), all, "no entry for later events");
}

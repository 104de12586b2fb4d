//! The requester answers a closing by mail (issue 20): a first line `yes`/`no` (or
//! the other words of README, "Working a ticket"), in English or French, records
//! the approval or the rejection as `ticket approve`/`reject` do; anything else,
//! or anyone else, is a normal reply.

use crate::common::{Env, CONFIG};

fn show(env: &Env, n: &str) -> serde_json::Value {
    env.json(&["ticket", "show", n])
}

/// The kinds of events from the last mail on (the rules' own events left out).
fn since_mail(ticket: &serde_json::Value) -> Vec<String> {
    let events = ticket["events"].as_array().unwrap();
    let last = events.iter().rposition(|e| e["kind"] == "mail").unwrap();
    events[last..]
        .iter()
        .filter(|e| !e["actor"].as_str().unwrap().starts_with("rule"))
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

fn kinds(ticket: &serde_json::Value) -> Vec<String> {
    ticket["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

fn mail(from: &str, subject: &str, id: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{id}>\n\
         Date: Tue, 24 Nov 2026 21:30:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

/// Ticket `n`, opened by ann@example.com's mail, closed by alice: approval pending.
fn closed_ticket(env: &Env, id: &str) -> String {
    env.deliver(&mail(
        "Ann <ann@example.com>",
        "Printer jams",
        id,
        "It jams.",
    ));
    let n = env.list(&[]).last().unwrap().to_string();
    env.ok(&["ticket", "close", &n, "--force"]);
    assert_eq!(show(env, &n)["approval"], "pending");
    n
}

fn answer(env: &Env, n: &str, from: &str, id: &str, body: &str) {
    env.deliver(&mail(from, &format!("Re: [#{n}] Printer jams"), id, body));
}

#[test]
fn the_requesters_yes_or_no_in_english_or_french_records_the_answer() {
    let env = Env::new();
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(
        env.path().join("rules/10-flow.yaml"),
        "- name: reopened\n  when: reopened\n  actions: [{ tag: [was-reopened] }]\n\
         - name: replied\n  when: reply\n  actions: [{ tag: [replied] }]\n",
    )
    .unwrap();
    for (i, yes) in [
        "Yes.",
        "approve",
        "OUI !",
        "J’approuve",
        "d'accord",
        "Approuvé",
    ]
    .iter()
    .enumerate()
    {
        let n = closed_ticket(&env, &format!("y{i}@example.com"));
        answer(
            &env,
            &n,
            "ann@example.com",
            &format!("ya{i}@example.com"),
            yes,
        );
        let t = show(&env, &n);
        assert_eq!(
            (&t["status"], &t["approval"]),
            (&"closed".into(), &"approved".into()),
            "{yes}"
        );
        assert_eq!(since_mail(&t), ["mail", "approved"], "{yes}");
        let events = t["events"].as_array().unwrap();
        let approved = events.iter().rfind(|e| e["kind"] == "approved");
        assert_eq!(approved.unwrap()["actor"], "ann@example.com");
        assert_eq!(t["tags"], serde_json::json!(["replied"]), "{yes}");
    }
    for (i, (no, why)) in [
        ("No!\nIt still jams on page 2.", "It still jams on page 2."),
        (
            "Non\n\nL'imprimante bourre encore.\n",
            "L'imprimante bourre encore.",
        ),
        ("je refuse", ""),
        ("REJECTED", ""),
    ]
    .iter()
    .enumerate()
    {
        let n = closed_ticket(&env, &format!("n{i}@example.com"));
        answer(
            &env,
            &n,
            "ann@example.com",
            &format!("na{i}@example.com"),
            no,
        );
        let t = show(&env, &n);
        assert_eq!(
            (&t["status"], &t["approval"]),
            (&"open".into(), &"rejected".into()),
            "{no}"
        );
        assert_eq!(since_mail(&t), ["mail", "rejected", "changed"], "{no}");
        let events = t["events"].as_array().unwrap();
        let rejected = events.iter().rfind(|e| e["kind"] == "rejected");
        let comment = rejected.unwrap()["comment"].as_str().unwrap_or_default();
        assert_eq!(comment, *why, "the rest is the reason");
        assert_eq!(
            t["tags"],
            serde_json::json!(["replied", "was-reopened"]),
            "rules fire as `reject` does"
        );
    }
}

#[test]
fn a_yes_above_a_quoted_closure_mail_approves_and_a_quoted_yes_does_not() {
    let env = Env::new();
    let n = closed_ticket(&env, "q1@example.com");
    let quoted = "\n\nyes\n\nOn Tue, 24 Nov 2026, Help wrote:\n> Is your request solved? Reply with a first line of:\n>     reject    (or no)   if it is not\n-- \nAnn, from her phone\n";
    answer(&env, &n, "ann@example.com", "q1a@example.com", quoted);
    let t = show(&env, &n);
    assert_eq!(
        (&t["status"], &t["approval"]),
        (&"closed".into(), &"approved".into())
    );

    let n = closed_ticket(&env, "q2@example.com");
    let body = "Thanks, but one more thing: the tray.\n\n> yes\n> Is your request solved?\n";
    answer(&env, &n, "ann@example.com", "q2a@example.com", body);
    let t = show(&env, &n);
    assert_eq!(
        (&t["status"], &t["approval"]),
        (&"open".into(), &serde_json::Value::Null),
        "a normal reply reopens, and the question goes with the closing"
    );
    assert!(!kinds(&t).iter().any(|k| k == "approved" || k == "rejected"));
    let err = env.fails(&["ticket", "approve", &n], 1);
    assert!(err.contains("not pending"), "{err}");
}

#[test]
fn a_followers_or_an_agents_yes_is_a_normal_reply() {
    let env = Env::with_config(&format!("{CONFIG}ingest:\n  trust_from: true\n"));
    let n = closed_ticket(&env, "f1@example.com");
    env.ok(&["ticket", "follow", &n, "carl@example.com"]);
    // The service's guest, boss@corp.example, follows too: no one but ann answers.
    answer(&env, &n, "carl@example.com", "f1a@example.com", "yes");
    let t = show(&env, &n);
    assert_eq!(
        (&t["status"], &t["approval"]),
        (&"open".into(), &serde_json::Value::Null)
    );
    assert!(!kinds(&t).iter().any(|k| k == "approved"));

    env.ok(&["ticket", "close", &n, "--force"]);
    answer(
        &env,
        &n,
        "Alice <alice@desk.example>",
        "f1b@desk.example",
        "yes",
    );
    let t = show(&env, &n);
    assert_eq!(
        (&t["status"], &t["approval"]),
        (&"closed".into(), &"pending".into()),
        "an agent's mail answers nothing and reopens nothing"
    );
    // A stranger naming the ticket makes a ticket of their own.
    answer(&env, &n, "eve@evil.example", "f1c@evil.example", "yes");
    assert_eq!(show(&env, &n)["approval"], "pending");
    assert_eq!(env.list(&[]).len(), 2);
}

#[test]
fn a_late_no_after_approval_days_is_a_normal_reply_that_reopens() {
    let env =
        Env::with_config(&CONFIG.replace("timezone: UTC", "timezone: UTC\n  approval_days: 0"));
    env.deliver(&mail(
        "ann@example.com",
        "Printer jams",
        "l1@example.com",
        "It jams.",
    ));
    env.ok(&["ticket", "close", "1", "--force"]);
    assert_eq!(
        show(&env, "1")["approval"],
        "approved",
        "counts as approved at once"
    );
    answer(
        &env,
        "1",
        "ann@example.com",
        "l1a@example.com",
        "no\nstill broken",
    );
    let t = show(&env, "1");
    assert_eq!(
        (&t["status"], &t["approval"]),
        (&"open".into(), &serde_json::Value::Null)
    );
    assert!(
        !kinds(&t).iter().any(|k| k == "rejected"),
        "{:?}",
        kinds(&t)
    );
}

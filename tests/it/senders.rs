//! Mail proves nothing about its sender: reused Message-IDs, forged references,
//! spoofed agents and Cc'd strangers (tests/data/hostile/senders/, README there).

use crate::common::{Env, CONFIG};

/// The test config, with the admin's mail server named as the one to believe.
fn env() -> Env {
    Env::with_config(&format!(
        "{CONFIG}ingest:\n  trusted_authserv_id: mx.corp.example\n"
    ))
}

fn hostile(name: &str) -> String {
    let path = format!(
        "{}/tests/data/hostile/senders/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn events(env: &Env, n: u64) -> Vec<serde_json::Value> {
    env.json(&["ticket", "show", &n.to_string()])["events"]
        .as_array()
        .unwrap()
        .clone()
}

fn kinds(env: &Env, n: u64) -> Vec<String> {
    events(env, n)
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_hostile_sender_corpus_has_the_outcomes_its_readme_lists() {
    let env = env();
    // 01: Cc'd colleague follows, Cc'd stranger does not.
    env.deliver(&hostile("01-request.eml"));
    let one = env.json(&["ticket", "show", "1"]);
    assert_eq!(
        one["followers"],
        serde_json::json!(["boss@corp.example", "dan@acme.example"])
    );
    let held = &one["events"].as_array().unwrap()[2];
    assert_eq!(held["kind"], "cc-not-following");
    assert!(
        held["text"]
            .as_str()
            .unwrap()
            .contains("mallory@evil.example"),
        "{held}"
    );

    // 02: the same mail by the second support address is one message.
    env.deliver(&hostile("02-same-request-to-the-second-address.eml"));
    assert_eq!(env.list(&[]), [1]);
    assert_eq!(events(&env, 1).len(), 3, "#1 unchanged");
    let ignored = env.json(&["ingest", "ignored"]);
    let ignored = ignored.as_array().unwrap();
    assert_eq!(ignored.len(), 1, "the duplicate is listed: {ignored:?}");
    assert_eq!(ignored[0]["reason"], "duplicate of mail on #1");
    assert_eq!(ignored[0]["message_id"], "shared-1@acme.example");

    // 03: another message under the same Message-ID is a message of its own.
    env.deliver(&hostile("03-reused-message-id.eml"));
    assert_eq!(env.list(&[]), [1, 2]);
    let two = env.json(&["ticket", "show", "2"]);
    assert_eq!(two["subject"], "Invoice 42 is wrong");
    assert_eq!(two["requester"]["email"], "carl@other.example");
    let reused = &two["events"].as_array().unwrap()[2];
    assert_eq!(reused["kind"], "reused-message-id");
    assert!(
        reused["text"].as_str().unwrap().contains("(#1)"),
        "{reused}"
    );
    // Delivered again, it is a duplicate of #2, not of #1.
    env.deliver(&hostile("03-reused-message-id.eml"));
    assert_eq!(env.list(&[]), [1, 2]);
    let ignored = env.json(&["ingest", "ignored"]);
    assert_eq!(ignored[1]["reason"], "duplicate of mail on #2");

    // 04: a stranger's reply by In-Reply-To does not join (nor reopen) #1.
    env.ok(&["ticket", "edit", "1", "--status", "closed"]);
    let before = events(&env, 1).len();
    env.deliver(&hostile("04-forged-reference.eml"));
    assert_eq!(env.list(&[]), [1, 2, 3]);
    let three = env.json(&["ticket", "show", "3"]);
    assert_eq!(three["links"], serde_json::json!([1]));
    let linked = three["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(linked["kind"], "linked");
    assert!(
        linked["text"]
            .as_str()
            .unwrap()
            .contains("its references named #1"),
        "{linked}"
    );
    // #1 only logs the link (issue 18, bug 6): no reopening.
    assert_eq!(events(&env, 1).len(), before + 1);
    assert_eq!(events(&env, 1).last().unwrap()["kind"], "linked");
    assert_eq!(env.json(&["ticket", "show", "1"])["status"], "closed");

    // 05: From an agent's address, vouched for only by a stranger's server.
    env.deliver(&hostile("05-spoofed-agent.eml"));
    assert_eq!(env.list(&[]), [1, 2, 3, 4], "no agent powers on #1");
    assert_eq!(
        kinds(&env, 4),
        ["created", "mail", "unauthenticated", "linked"]
    );
    assert_eq!(events(&env, 4)[1]["actor"], "alice@desk.example");
    let shown = env.ok(&["ticket", "show", "4"]);
    assert!(shown.contains("unauthenticated"), "{shown}");
    assert_eq!(events(&env, 1).len(), before + 2, "#1 only logs the links");
    assert_eq!(
        env.json(&["ticket", "show", "1"])["links"],
        serde_json::json!([3, 4])
    );

    // 06: the agent, vouched for by the trusted server's topmost header.
    env.deliver(&hostile("06-agent-authenticated.eml"));
    assert_eq!(env.list(&[]), [1, 2, 3, 4]);
    let last = events(&env, 1).last().unwrap().clone();
    assert_eq!(last["kind"], "agent-mail");
    assert_eq!(last["actor"], "alice");
    assert_eq!(
        env.json(&["ticket", "show", "1"])["status"],
        "closed",
        "an agent's mail does not reopen"
    );
}

#[test]
fn without_a_trusted_server_an_agent_address_is_only_an_address() {
    // The default config trusts no From: even the trusted server's header is a
    // stranger's then.
    let env = Env::new();
    env.deliver(&hostile("01-request.eml"));
    env.deliver(&hostile("06-agent-authenticated.eml"));
    assert_eq!(env.list(&[]), [1, 2]);
    assert_eq!(
        kinds(&env, 2),
        ["created", "mail", "unauthenticated", "linked"]
    );
}

#[test]
fn trust_from_is_the_switch_for_a_closed_network() {
    let env = Env::with_config(&format!("{CONFIG}ingest:\n  trust_from: true\n"));
    env.deliver(&hostile("01-request.eml"));
    // With every From believed, the stranger in Cc follows too.
    assert_eq!(
        env.json(&["ticket", "show", "1"])["followers"],
        serde_json::json!([
            "boss@corp.example",
            "dan@acme.example",
            "mallory@evil.example"
        ])
    );
    env.deliver(&hostile("05-spoofed-agent.eml"));
    assert_eq!(env.list(&[]), [1]);
    assert_eq!(events(&env, 1).last().unwrap()["kind"], "agent-mail");
}

#[test]
fn cc_followers_domains_lets_a_partner_domain_follow() {
    let env = Env::with_config(&format!(
        "{CONFIG}ingest:\n  cc_followers_domains: [Evil.Example]\n"
    ));
    env.deliver(&hostile("01-request.eml"));
    let one = env.json(&["ticket", "show", "1"]);
    assert_eq!(
        one["followers"],
        serde_json::json!([
            "boss@corp.example",
            "dan@acme.example",
            "mallory@evil.example"
        ])
    );
    assert!(!kinds(&env, 1).contains(&"cc-not-following".to_string()));
}

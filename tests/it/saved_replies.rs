//! `ticket reply` through templates (issue 20): the body is the `reply` template
//! (overridable), `--template NAME` sends a saved reply `replies/NAME` with `-m` as
//! its `{{message}}`; every message sent is parsed back from the maildir transport.

use std::path::Path;

use crate::common::{quiet, Env, CONFIG};

/// The standard desk without service guests, mail going to the Maildir `sent/`.
fn desk() -> Env {
    let config = quiet(&CONFIG.replace("    guests: [boss@corp.example]\n", ""));
    Env::with_config(&format!(
        "{config}\nmail_out:\n  transport: maildir\n  path: sent\n"
    ))
}

fn template(env: &Env, name: &str, text: &str) {
    let path = env.path().join("templates").join(format!("{name}.hbs"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Ticket 1, from Ann Customer <ann@example.com>, followed by cy@example.com.
fn ticket(env: &Env) -> String {
    env.deliver(
        "From: Ann Customer <ann@example.com>\nTo: help@corp.example\nSubject: Printer jams\n\
         Message-ID: <first@example.com>\n\nIt jams on every page.\n",
    );
    env.ok(&["ticket", "follow", "1", "cy@example.com", "--no-notify"]);
    "1".to_string()
}

/// Every message sent: (recipient, subject, body), by recipient then arrival.
fn sent(dir: &Path) -> Vec<(String, String, String)> {
    let Ok(entries) = std::fs::read_dir(dir.join("new")) else {
        return Vec::new();
    };
    let mut all: Vec<(std::time::SystemTime, String, String, String)> = entries
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            let m = mailparse::parse_mail(&bytes).unwrap();
            let h = |n: &str| {
                m.headers
                    .iter()
                    .find(|h| h.get_key_ref().eq_ignore_ascii_case(n))
                    .map(|h| h.get_value())
                    .unwrap_or_default()
            };
            let modified = e.metadata().unwrap().modified().unwrap();
            (
                modified,
                h("Delivered-To"),
                h("Subject"),
                m.get_body().unwrap(),
            )
        })
        .collect();
    all.sort();
    all.into_iter().map(|(_, to, s, b)| (to, s, b)).collect()
}

fn replies(env: &Env) -> Vec<String> {
    env.json(&["ticket", "show", "1"])["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reply")
        .map(|e| e["comment"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_reply_is_the_reply_template_which_an_admin_may_override() {
    let env = desk();
    let n = ticket(&env);
    env.ok(&["ticket", "reply", &n, "-m", "Try turning it off and on."]);
    let mail = sent(&env.path().join("sent"));
    assert_eq!(mail.len(), 2);
    let (_, subject, body) = &mail[0];
    assert_eq!(subject, "Re: [#1] Printer jams");
    assert_eq!(
        body.replace("\r\n", "\n"),
        "Try turning it off and on.\n\n-- \nAlice Agent, it\n\
         Ticket [#1]: reply to this mail to answer; keep [#1] in the subject.\n"
    );
    assert_eq!(
        replies(&env),
        ["Try turning it off and on."],
        "the text only"
    );

    template(
        &env,
        "reply",
        "Subject: About {{ticket.subject}}\n\nDear {{recipient.name}},\n\n{{message}}\n\n{{actor.name}}\n",
    );
    env.ok(&["ticket", "reply", &n, "-m", "Fixed now."]);
    let mail = sent(&env.path().join("sent"));
    let last = mail.iter().rfind(|m| m.0 == "cy@example.com").unwrap();
    assert_eq!(
        last.1, "Re: [#1] About Printer jams",
        "the tag stays in front"
    );
    assert_eq!(
        last.2.replace("\r\n", "\n"),
        "Dear Ann Customer,\n\nFixed now.\n\nAlice Agent\n",
        "one message for all, rendered for the requester"
    );
    assert_eq!(replies(&env)[1], "Fixed now.");
}

#[test]
fn template_sends_a_saved_reply_with_the_message_in_it_and_records_it_rendered() {
    let env = desk();
    let n = ticket(&env);
    template(
        &env,
        "replies/toner",
        "Subject: Toner for {{ticket.subject}}\n\nHello {{recipient.name}},\n\n\
         please replace the toner cartridge.{{#if message}}\n\n{{message}}{{/if}}\n",
    );
    env.ok(&[
        "ticket",
        "reply",
        &n,
        "--template",
        "toner",
        "-m",
        "It is in the cupboard.",
    ]);
    let want =
        "Hello Ann Customer,\n\nplease replace the toner cartridge.\n\nIt is in the cupboard.";
    let mail = sent(&env.path().join("sent"));
    assert_eq!(mail.len(), 2);
    for (to, subject, body) in &mail {
        assert_eq!(subject, "Re: [#1] Toner for Printer jams", "{to}");
        assert_eq!(body.replace("\r\n", "\n"), format!("{want}\n"), "{to}");
    }
    assert_eq!(replies(&env), [want], "the event records what was sent");

    // Alone, and the saved reply named in full; a built-in by its name.
    env.ok(&["ticket", "reply", &n, "-t", "replies/toner", "--queue-only"]);
    let queued = env.json(&["outbox", "list"]);
    assert_eq!(queued.as_array().unwrap().len(), 2);
    assert_eq!(
        replies(&env)[1],
        "Hello Ann Customer,\n\nplease replace the toner cartridge."
    );
    env.ok(&["ticket", "reply", &n, "--template", "acknowledge"]);
    assert!(replies(&env)[2].contains("we have received your request and opened ticket [#1]"));
}

#[test]
fn a_broken_or_unknown_template_is_named_and_nothing_is_queued() {
    let env = desk();
    let n = ticket(&env);
    template(&env, "replies/typo", "Hello\n\n{{recipient.nmae}}\n");
    let err = env.fails(&["ticket", "reply", &n, "--template", "typo"], 1);
    assert!(
        err.contains("templates/replies/typo.hbs:3:") && err.contains("recipient.nmae"),
        "file and line: {err}"
    );
    assert!(err.contains("not queued"), "{err}");
    template(&env, "replies/open", "Hello\n{{#if message}}\n");
    let err = env.fails(&["ticket", "reply", &n, "-t", "open", "-m", "x"], 1);
    assert!(err.contains("templates/replies/open.hbs:"), "{err}");
    let err = env.fails(&["ticket", "reply", &n, "--template", "nothing"], 1);
    assert!(err.contains("no saved reply 'nothing'"), "{err}");
    // A broken override of `reply` stops plain replies too, named.
    template(&env, "reply", "{{message}\n");
    let err = env.fails(&["ticket", "reply", &n, "-m", "hi"], 1);
    assert!(err.contains("templates/reply.hbs:1"), "{err}");
    assert!(replies(&env).is_empty());
    assert_eq!(
        env.json(&["outbox", "list", "--all"]),
        serde_json::json!([])
    );
    assert!(sent(&env.path().join("sent")).is_empty());
    // A broken template elsewhere does not stop a reply that does not use it.
    std::fs::remove_file(env.path().join("templates/reply.hbs")).unwrap();
    env.ok(&["ticket", "reply", &n, "-m", "hi"]);
    assert_eq!(replies(&env), ["hi"]);
}

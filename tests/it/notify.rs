//! Notifications, rules' mail and auto-replies through the outbox (issue 20), with
//! the maildir transport: who gets what, monitoring levels, `--no-notify`,
//! `--queue-only`, the auto-reply caps; every message sent is parsed back.

use std::path::Path;

use crate::common::Env;

/// alice and bob manage `it` (creation, held: always by default) and are its
/// default assignee `support`; carol watches the `hardware`
/// category from creation and nothing else; dave manages `finance` and hears of
/// every action there.
const CONFIG: &str = r#"
settings:
  db: db
  timezone: UTC
  default_service: it
users:
  - { login: alice, name: Alice Agent, email: alice@desk.example, admin: true, unix_login: UNIX_LOGIN }
  - { login: bob, name: Bob Builder, email: bob@desk.example }
  - login: carol
    name: Carol Clerk
    email: carol@desk.example
    monitoring: { service: never, categories: creation, held: never, my_categories: [hardware] }
  - login: dave
    name: Dave Director
    email: dave@desk.example
    monitoring: { services: { finance: { service: always } } }
groups:
  - { name: support, members: [alice, bob] }
services:
  - name: it
    managers: [alice, bob]
    default_assignee: "@support"
    addresses: [help@corp.example]
    categories:
      - name: hardware
      - name: access
  - name: finance
    managers: [dave]
    addresses: [billing@corp.example]
mail_out: { transport: maildir, path: sent }
"#;

fn desk() -> Env {
    Env::with_config(CONFIG)
}

fn with_rules(rules: &str) -> Env {
    let env = desk();
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(env.path().join("rules/10-mail.yaml"), rules).unwrap();
    env
}

fn mail(from: &str, subject: &str, id: &str, extra: &str) -> String {
    format!(
        "Return-Path: <{from}>\nFrom: {from}\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Tue, 24 Nov 2026 21:30:00 +0000\n{extra}\nIt jams on every page.\n"
    )
}

/// Outbox entries: (recipient, kind, state), in order of ID.
fn entries(env: &Env) -> Vec<(String, String, String)> {
    env.json(&["outbox", "list", "--all"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["recipient"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
                e["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Recipients of the entries of `kind`, sorted.
fn to_of(env: &Env, kind: &str) -> Vec<String> {
    let mut to: Vec<String> = entries(env)
        .into_iter()
        .filter(|(_, k, _)| k == kind)
        .map(|(r, _, _)| r)
        .collect();
    to.sort();
    to
}

/// A sent message, parsed back: (recipient, headers by name, body).
struct Sent {
    to: String,
    subject: String,
    auto_submitted: String,
    precedence: String,
    body: String,
}

/// Every message in the Maildir `sent/`, sorted by recipient then subject.
fn sent(env: &Env) -> Vec<Sent> {
    let dir = env.path().join("sent/new");
    let Ok(files) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut all: Vec<Sent> = files
        .map(|f| parse(&std::fs::read(f.unwrap().path()).unwrap()))
        .collect();
    all.sort_by(|a, b| (&a.to, &a.subject).cmp(&(&b.to, &b.subject)));
    all
}

fn parse(bytes: &[u8]) -> Sent {
    let m = mailparse::parse_mail(bytes).expect("parse sent mail");
    let h = |name: &str| {
        m.headers
            .iter()
            .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
            .unwrap_or_default()
    };
    Sent {
        to: h("Delivered-To"),
        subject: h("Subject"),
        auto_submitted: h("Auto-Submitted"),
        precedence: h("Precedence"),
        body: m.get_body().unwrap(),
    }
}

fn sent_to(env: &Env) -> Vec<String> {
    sent(env).into_iter().map(|s| s.to).collect()
}

/// Exactly one message was sent, to `to`, its subject containing `subject`; the
/// Maildir is emptied for the next step.
fn only_one(env: &Env, to: &str, subject: &str) {
    let all = sent(env);
    assert_eq!(sent_to(env), [to]);
    assert!(all[0].subject.contains(subject), "{}", all[0].subject);
    clear_sent(env);
}

/// The messages sent to `to`.
fn sent_only_to(env: &Env, to: &str) -> Vec<Sent> {
    sent(env).into_iter().filter(|m| m.to == to).collect()
}

fn clear_sent(env: &Env) {
    let _ = std::fs::remove_dir_all(env.path().join("sent"));
}

fn exists(p: &Path) -> bool {
    p.exists()
}

#[test]
fn a_mail_delivery_queues_notifications_and_an_auto_reply_but_sends_nothing() {
    let env = desk();
    env.deliver(&mail(
        "Ann Customer <ann@example.com>",
        "Printer jams",
        "a1@example.com",
        "",
    ));
    // alice manages it, bob holds it through @support; each gets one copy.
    assert_eq!(
        to_of(&env, "notification"),
        ["alice@desk.example", "bob@desk.example"]
    );
    assert_eq!(to_of(&env, "auto-reply"), ["ann@example.com"]);
    assert!(entries(&env).iter().all(|(_, _, state)| state == "queued"));
    assert!(
        !exists(&env.path().join("sent")),
        "a delivery sends nothing"
    );
    env.ok(&["outbox", "send"]);
    let all = sent(&env);
    assert_eq!(all.len(), 3);
    for m in &all {
        assert_eq!(m.precedence, "bulk", "{}", m.subject);
        assert!(m.subject.contains("[#1]"), "{}", m.subject);
    }
    let ack = all.iter().find(|m| m.to == "ann@example.com").unwrap();
    assert_eq!(ack.auto_submitted, "auto-replied");
    assert!(
        ack.body.contains("we have received your request"),
        "{}",
        ack.body
    );
    let alice = all.iter().find(|m| m.to == "alice@desk.example").unwrap();
    assert_eq!(alice.auto_submitted, "auto-generated");
    assert!(
        alice.subject.contains("New ticket: Printer jams"),
        "{}",
        alice.subject
    );
    assert!(alice.body.contains("ann@example.com"), "{}", alice.body);
    assert!(
        alice.body.contains("It jams on every page."),
        "{}",
        alice.body
    );
    assert!(
        alice.body.contains("postdesk ticket show 1"),
        "{}",
        alice.body
    );
    // The ticket records its auto-reply.
    let events = env.json(&["ticket", "show", "1"])["events"].clone();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "notified" && e["actor"] == "auto-reply"),
        "{events}"
    );
}

#[test]
fn a_new_ticket_from_the_shell_is_sent_at_once_never_to_its_author() {
    let env = desk();
    env.create(&["--subject", "Screen flickers", "--category", "hardware"]);
    // alice (the author) is not told; bob holds it; carol watches hardware.
    assert_eq!(sent_to(&env), ["bob@desk.example", "carol@desk.example"]);
    assert!(entries(&env).iter().all(|(_, _, state)| state == "sent"));
    clear_sent(&env);
    env.create(&["--subject", "VPN", "--category", "access"]);
    assert_eq!(
        sent_to(&env),
        ["bob@desk.example"],
        "carol: not her category"
    );
    clear_sent(&env);
    env.ok(&["ticket", "create", "--subject", "Quiet", "--no-notify"]);
    assert!(sent_to(&env).is_empty(), "--no-notify");
    env.ok(&["ticket", "create", "--subject", "Later", "--queue-only"]);
    assert!(sent_to(&env).is_empty(), "--queue-only");
    assert_eq!(
        entries(&env).last().unwrap(),
        &(
            "bob@desk.example".to_string(),
            "notification".to_string(),
            "queued".to_string()
        )
    );
}

#[test]
fn assignment_release_transfer_and_reopen_reach_whom_the_issue_says() {
    let env = desk();
    let n = env
        .create(&["--subject", "Laptop", "--no-notify"])
        .to_string();
    // Assigned to bob: bob only (alice acts).
    env.ok(&["ticket", "assign", &n, "bob"]);
    only_one(&env, "bob@desk.example", "Assigned to bob");
    // Assigned by bob to @support: each member but bob; alice (manager and
    // member) once.
    env.ok(&["ticket", "assign", &n, "@support", "--as", "bob"]);
    assert_eq!(sent_to(&env), ["alice@desk.example"]);
    clear_sent(&env);
    // bob takes it, then releases it: the managers (alice) hear of the release.
    env.ok(&["ticket", "take", &n, "--as", "bob", "--no-notify"]);
    env.ok(&["ticket", "release", &n, "--as", "bob"]);
    only_one(&env, "alice@desk.example", "Released");
    // Transferred to finance: its manager dave.
    env.ok(&["ticket", "transfer", &n, "finance"]);
    only_one(&env, "dave@desk.example", "Transferred to finance");
    // dave hears of every action in finance: a comment by alice.
    env.ok(&["ticket", "comment", &n, "-m", "looking"]);
    assert_eq!(sent_to(&env), ["dave@desk.example"]);
    clear_sent(&env);
    // dave's own action: nobody hears of it but whoever holds it.
    env.ok(&["ticket", "comment", &n, "-m", "mine", "--as", "dave"]);
    assert!(!sent_to(&env).contains(&"dave@desk.example".to_string()));
}

#[test]
fn an_invitation_carries_the_inviters_message_and_closing_asks_the_requester() {
    let env = desk();
    env.deliver(&mail(
        "Ann Customer <ann@example.com>",
        "Printer jams",
        "a2@example.com",
        "",
    ));
    env.ok(&["outbox", "send"]);
    clear_sent(&env);
    env.ok(&[
        "ticket",
        "comment",
        "1",
        "-m",
        "SECRET internal note",
        "--no-notify",
    ]);
    env.ok(&[
        "ticket",
        "follow",
        "1",
        "cy@example.com",
        "-m",
        "Please have a look",
    ]);
    let cy = sent_only_to(&env, "cy@example.com");
    assert_eq!(cy.len(), 1);
    assert!(cy[0].body.contains("Please have a look"), "{}", cy[0].body);
    assert!(
        cy[0].body.contains("Alice Agent added you"),
        "{}",
        cy[0].body
    );
    clear_sent(&env);
    env.ok(&["ticket", "close", "1", "-m", "SECRET closing note"]);
    let ann = sent_only_to(&env, "ann@example.com");
    assert_eq!(ann.len(), 1);
    assert!(
        ann[0].subject.contains("Closed: Printer jams"),
        "{}",
        ann[0].subject
    );
    assert!(ann[0].body.contains("approve"), "{}", ann[0].body);
    for m in sent(&env) {
        if !m.to.ends_with("@desk.example") {
            assert!(!m.body.contains("SECRET"), "to {}: {}", m.to, m.body);
        }
    }
    clear_sent(&env);
    // Reopened by alice: whoever holds it but her (bob, through @support).
    env.ok(&["ticket", "reopen", "1"]);
    let all = sent(&env);
    assert_eq!(sent_to(&env), ["bob@desk.example"]);
    assert!(all[0].subject.contains("Reopened"), "{}", all[0].subject);
}

#[test]
fn monitoring_never_silences_what_one_holds() {
    let env = Env::with_config(&CONFIG.replace(
        "{ login: bob, name: Bob Builder, email: bob@desk.example }",
        "{ login: bob, name: Bob Builder, email: bob@desk.example, monitoring: { service: never, held: never } }",
    ));
    let n = env
        .create(&["--subject", "Laptop", "--no-notify"])
        .to_string();
    env.ok(&["ticket", "assign", &n, "bob"]);
    assert!(sent_to(&env).is_empty());
    // alice, manager at `creation`, hears of no comment by bob.
    env.ok(&["ticket", "comment", &n, "-m", "x", "--as", "bob"]);
    assert!(sent_to(&env).is_empty());
}

#[test]
fn rules_notify_and_reply_send_through_the_outbox() {
    let env = with_rules(
        r#"
- name: tell dave
  when: created
  actions:
    - notify: { to: dave, template: notify }
    - reply: { template: acknowledge }
"#,
    );
    env.deliver(&mail(
        "Ann Customer <ann@example.com>",
        "Invoice",
        "r1@example.com",
        "",
    ));
    assert_eq!(to_of(&env, "rule-notify"), ["dave@desk.example"]);
    assert_eq!(to_of(&env, "rule-reply"), ["ann@example.com"]);
    assert!(
        to_of(&env, "auto-reply").is_empty(),
        "the rule's reply answers the mail: no second acknowledgement"
    );
    let events = env.json(&["ticket", "show", "1"])["events"].clone();
    let notified: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "rule 'tell dave'")
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(notified, ["notified", "notified"]);
    env.ok(&["outbox", "send"]);
    let dave = sent_only_to(&env, "dave@desk.example");
    assert_eq!(dave.len(), 1);
    assert!(
        dave[0].body.contains("needs your attention"),
        "{}",
        dave[0].body
    );
    assert_eq!(dave[0].auto_submitted, "auto-generated");
    // From the shell, sent at once.
    clear_sent(&env);
    env.create(&["--subject", "Shell", "--no-notify"]);
    assert_eq!(
        sent_to(&env),
        ["dave@desk.example"],
        "--no-notify spares rules' mail"
    );
}

#[test]
fn auto_replies_are_capped_per_sender_and_per_ticket() {
    let env = desk();
    for i in 0..4 {
        env.deliver(&mail(
            "Ann Customer <ann@example.com>",
            &format!("Problem {i}"),
            &format!("cap{i}@example.com"),
            "",
        ));
    }
    assert_eq!(
        to_of(&env, "auto-reply").len(),
        3,
        "the 4th of the day gets none"
    );
    // A second message on a ticket gets none.
    env.deliver(&mail("Ben <ben@example.com>", "Help", "b1@example.com", ""));
    env.deliver(&mail(
        "Ben <ben@example.com>",
        "Re: [#5] Help",
        "b2@example.com",
        "In-Reply-To: <b1@example.com>\n",
    ));
    assert_eq!(
        to_of(&env, "auto-reply")
            .iter()
            .filter(|a| *a == "ben@example.com")
            .count(),
        1
    );
}

#[test]
fn no_auto_reply_to_bounces_lists_no_reply_or_our_loop() {
    let env = Env::with_config(&CONFIG.replace(
        "mail_out:",
        "ingest: { ignore_automatic: false }\nmail_out:",
    ));
    let cases = [
        ("MAILER-DAEMON <mailer-daemon@example.com>", ""),
        ("List <list@example.com>", "List-Id: <talk.example.com>\n"),
        ("No Reply <noreply@example.com>", ""),
        (
            "Robot <robot@example.com>",
            "Auto-Submitted: auto-generated\n",
        ),
        ("Loop <loop@example.com>", "X-Loop: postdesk\n"),
    ];
    for (i, (from, extra)) in cases.iter().enumerate() {
        env.deliver(&mail(from, "Hello", &format!("n{i}@example.com"), extra));
    }
    assert!(to_of(&env, "auto-reply").is_empty(), "{:?}", entries(&env));
    // Not for want of tickets: list, no-reply and robot mail made some.
    assert!(env.list(&[]).len() >= 3, "{:?}", env.list(&[]));
}

#[test]
fn a_rules_reply_to_mail_obeys_the_auto_reply_guards() {
    let env = Env::with_config(&CONFIG.replace(
        "mail_out:",
        "ingest: { ignore_automatic: false }\nmail_out:",
    ));
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(
        env.path().join("rules/10-mail.yaml"),
        "- name: thank\n  when: [created, reply]\n  actions:\n    - reply: { template: acknowledge }\n",
    )
    .unwrap();
    env.deliver(&mail(
        "Robot <robot@example.com>",
        "Hello",
        "robot1@example.com",
        "Auto-Submitted: auto-replied\n",
    ));
    env.deliver(&mail(
        "List <list@example.com>",
        "Hello",
        "list1@example.com",
        "List-Id: <talk.example.com>\n",
    ));
    assert!(to_of(&env, "rule-reply").is_empty(), "{:?}", entries(&env));
    let shown = env.ok(&["ticket", "show", "1"]);
    assert!(shown.contains("queued no mail (acknowledge)"), "{shown}");
    for i in 0..4 {
        env.deliver(&mail(
            "Ann Customer <ann@example.com>",
            &format!("Problem {i}"),
            &format!("thank{i}@example.com"),
            "",
        ));
    }
    assert_eq!(
        to_of(&env, "rule-reply").len(),
        3,
        "auto_reply.per_sender counts rules' replies too: {:?}",
        entries(&env)
    );
    assert!(to_of(&env, "auto-reply").is_empty(), "{:?}", entries(&env));
}

#[test]
fn dry_run_prints_the_mail_and_writes_nothing() {
    let env = desk();
    let n = env
        .create(&["--subject", "Laptop", "--no-notify"])
        .to_string();
    let before = env.ok(&["ticket", "show", &n, "--format", "json"]);
    let out = env.ok(&[
        "ticket",
        "assign",
        &n,
        "bob",
        "-m",
        "yours\u{1b}[31m",
        "--dry-run",
    ]);
    assert!(out.contains("--- mail that would be queued ---"), "{out}");
    assert!(out.contains("To: bob@desk.example"), "{out}");
    assert!(out.contains("Auto-Submitted: auto-generated"), "{out}");
    assert!(
        out.contains("Alice Agent assigned ticket [#1] to bob"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "terminal-safe: {out:?}");
    assert!(
        out.contains("nothing written; 1 message would be queued"),
        "{out}"
    );
    assert_eq!(env.ok(&["ticket", "show", &n, "--format", "json"]), before);
    assert!(entries(&env).is_empty());
    assert!(sent_to(&env).is_empty());
    // A reply too.
    let out = env.ok(&["ticket", "follow", &n, "ann@example.com", "--no-notify"]);
    assert!(!out.is_empty());
    let out = env.ok(&["ticket", "reply", &n, "-m", "Try again", "--dry-run"]);
    assert!(
        out.contains("Try again") && out.contains("To: ann@example.com"),
        "{out}"
    );
    assert!(entries(&env).is_empty());
}

#[test]
fn a_suppressed_address_gets_no_automatic_mail() {
    let env = desk();
    env.ok(&[
        "outbox",
        "suppress",
        "ann@example.com",
        "-m",
        "asked us to stop",
    ]);
    env.ok(&["outbox", "suppress", "bob@desk.example"]);
    env.deliver(&mail(
        "Ann Customer <ann@example.com>",
        "Printer jams",
        "s1@example.com",
        "",
    ));
    assert!(to_of(&env, "auto-reply").is_empty());
    assert_eq!(to_of(&env, "notification"), ["alice@desk.example"]);
}

/// One notification through a real Postfix (its sendmail): delivered to the
/// assignee with the automatic headers, from the service, with a VERP envelope.
#[test]
fn an_assignment_notice_reaches_the_assignee_through_postfix() {
    use crate::postfix::{header, Postfix, SENDMAIL};
    let postfix = Postfix::start();
    let config = CONFIG
        .replace("bob@desk.example", "bob@customer.test")
        .replace(
            "mail_out: { transport: maildir, path: sent }",
            &format!(
                "mail_out: {{transport: sendmail, command: {SENDMAIL}, args: [-C, {}]}}\noutbox: {{bounce_address: bounces@desk.test}}",
                postfix.etc().display()
            ),
        );
    let env = Env::with_config(&config);
    let n = env
        .create(&["--subject", "Laptop", "--no-notify"])
        .to_string();
    let out = env.ok(&["ticket", "assign", &n, "bob"]);
    assert!(out.contains("assigned the ticket to bob"), "{out}");
    let raw = postfix.delivered("customer.test/bob", 1);
    let m = mailparse::parse_mail(&raw[0]).unwrap();
    assert_eq!(header(&m, "Delivered-To"), "bob@customer.test");
    assert!(
        header(&m, "Return-Path").starts_with("<bounces+o"),
        "{}",
        header(&m, "Return-Path")
    );
    assert_eq!(header(&m, "From"), "it <help@corp.example>");
    assert_eq!(header(&m, "Subject"), "[#1] Assigned to bob: Laptop");
    assert_eq!(header(&m, "Auto-Submitted"), "auto-generated");
    assert_eq!(header(&m, "Precedence"), "bulk");
    assert_eq!(header(&m, "X-Auto-Response-Suppress"), "All");
    assert_eq!(header(&m, "X-Loop"), "postdesk");
    let body = m.get_body().unwrap();
    assert!(
        body.contains("Alice Agent assigned ticket [#1] to bob"),
        "{body}"
    );
    assert!(entries(&env).iter().all(|(_, _, s)| s == "sent"));
}

/// A template that no longer renders (a misspelt variable in an override) never
/// stops a mail delivery: the ticket is made, the mail that could be built is
/// queued, and each message that could not is a failed outbox entry naming the
/// file and line, which `outbox retry` refuses with the fix.
#[test]
fn a_broken_template_fails_its_mail_not_the_delivery() {
    let env = desk();
    std::fs::create_dir_all(env.path().join("templates")).unwrap();
    std::fs::write(
        env.path().join("templates/notify-created.hbs"),
        "New: {{ticket.subjekt}}\n",
    )
    .unwrap();
    // One that does not even compile, which this delivery does not use: each
    // template is compiled when first used, so it stops no other mail.
    std::fs::write(
        env.path().join("templates/reopened.hbs"),
        "{{#if ticket.subject}}unclosed\n",
    )
    .unwrap();
    env.deliver(&mail(
        "ann@example.com",
        "Printer jams",
        "p1@example.com",
        "",
    ));
    assert_eq!(env.list(&[]), [1], "the delivery made its ticket");
    let all = env.json(&["outbox", "list", "--all"]);
    let all = all.as_array().unwrap();
    let failed: Vec<_> = all.iter().filter(|e| e["state"] == "failed").collect();
    assert!(!failed.is_empty(), "{all:?}");
    for e in &failed {
        assert_eq!(e["kind"], "notification");
        let why = e["last_error"].as_str().unwrap();
        assert!(why.contains("templates/notify-created.hbs:1:"), "{why}");
        assert!(why.contains("ticket.subjekt"), "{why}");
        assert!(!why.contains("reopened"), "{why}");
    }
    assert!(
        all.iter()
            .any(|e| e["kind"] == "auto-reply" && e["state"] == "queued"),
        "the acknowledgement still goes: {all:?}"
    );
    let id = failed[0]["id"].to_string();
    let err = env.fails(&["outbox", "retry", &id], 1);
    assert!(err.contains("no message to send"), "{err}");
}

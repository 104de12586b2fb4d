//! Bounces (issue 20) through a real Postfix: every outbox entry's envelope sender
//! is its own VERP address (`bounces+o<ID>-<MAC>@desk.test`), Postfix's own DSN for
//! `bounceme@customer.test` arrives at that address in the instance's Maildir, and
//! fed to `postdesk ingest` it is recorded on the ticket, fails the entry and
//! suppresses the address; a forged token suppresses nothing, a delay only records.

use crate::common::{Env, CONFIG};
use crate::postfix::{header, Postfix, SENDMAIL};

/// A desk whose mail leaves through the instance's sendmail with the bounce mailbox
/// `bounces@desk.test`, and its ticket from alice, followed by `bounceme@`.
fn desk_with_a_bouncing_follower(postfix: &Postfix) -> (Env, String) {
    // Only the reply goes out (tests/it/notify.rs has the automatic mail).
    let config = crate::common::quiet(&CONFIG.replace("    guests: [boss@corp.example]\n", ""));
    let env = Env::with_config(&format!(
        "{config}mail_out: {{transport: sendmail, command: {SENDMAIL}, args: [-C, {}]}}\n\
         outbox: {{bounce_address: bounces@desk.test}}\n",
        postfix.etc().display()
    ));
    env.deliver(
        "From: Alice Customer <alice@customer.test>\nTo: help@corp.example\n\
         Subject: VPN drops\nMessage-ID: <vpn-1@customer.test>\n\
         Date: Tue, 24 Nov 2026 21:30:00 +0000\n\nThe VPN drops every hour.\n",
    );
    let n = env.list(&[]).last().expect("a ticket").to_string();
    env.ok(&[
        "ticket",
        "follow",
        &n,
        "bounceme@customer.test",
        "--no-notify",
    ]);
    (env, n)
}

/// The outbox entry to `who`, as `outbox list --all --format json` prints it.
fn entry(env: &Env, who: &str) -> serde_json::Value {
    let all = env.json(&["outbox", "list", "--all"]);
    all.as_array()
        .unwrap()
        .iter()
        .find(|e| e["recipient"] == who)
        .unwrap_or_else(|| panic!("no entry for {who}: {all}"))
        .clone()
}

/// The ticket's `bounced` and `delivery-problem` events.
fn problems(env: &Env, n: &str) -> Vec<serde_json::Value> {
    let show = env.json(&["ticket", "show", n]);
    show["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "bounced" || e["kind"] == "delivery-problem")
        .cloned()
        .collect()
}

fn suppressed(env: &Env) -> Vec<serde_json::Value> {
    env.json(&["outbox", "suppressed"])
        .as_array()
        .unwrap()
        .clone()
}

/// The same DSN as a new message (another Message-ID), with `from` made `to`.
fn variant(dsn: &str, edits: &[(&str, &str)], id: &str) -> String {
    let mut text = dsn.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "the DSN has no {from:?}:\n{dsn}");
        text = text.replace(from, to);
    }
    let old_id = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .expect("a Message-ID")
        .to_string();
    text.replacen(&old_id, &format!("Message-ID: <{id}@desk.test>"), 1)
}

#[test]
fn a_real_bounce_to_the_verp_address_fails_the_entry_and_suppresses_the_address() {
    let postfix = Postfix::start();
    let (env, n) = desk_with_a_bouncing_follower(&postfix);
    env.ok(&[
        "ticket",
        "reply",
        &n,
        "-m",
        "Reconnect with the new profile.",
    ]);
    let bounceme = entry(&env, "bounceme@customer.test");
    let verp = bounceme["envelope"].as_str().unwrap().to_string();
    let id = bounceme["id"].as_u64().unwrap();
    assert!(
        verp.starts_with(&format!("bounces+o{id}-")) && verp.ends_with("@desk.test"),
        "{verp}"
    );
    // sendmail took it: the failure comes back as Postfix's DSN, to the VERP address.
    assert_eq!(bounceme["state"], "sent");
    let alice = postfix.delivered("customer.test/alice", 1);
    let alice = mailparse::parse_mail(&alice[0]).unwrap();
    let alice_verp = entry(&env, "alice@customer.test")["envelope"].clone();
    assert_eq!(
        header(&alice, "Return-Path"),
        format!("<{}>", alice_verp.as_str().unwrap())
    );
    assert_ne!(alice_verp, verp.as_str(), "each entry has its own");
    let raw = postfix.delivered("desk.test/bounces", 1).remove(0);
    let parsed = mailparse::parse_mail(&raw).unwrap();
    assert_eq!(header(&parsed, "Delivered-To"), verp);
    assert_eq!(parsed.ctype.mimetype, "multipart/report");
    let dsn = String::from_utf8(raw.clone()).unwrap();

    env.deliver(&dsn);
    assert_eq!(
        env.list(&[]),
        [n.parse::<u64>().unwrap()],
        "no ticket of a bounce"
    );
    let recorded = problems(&env, &n);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let event = &recorded[0];
    assert_eq!(event["kind"], "bounced");
    assert_eq!(
        event["bounce"],
        serde_json::json!({
            "recipient": "bounceme@customer.test",
            "action": "failed",
            "status": "5.1.1",
            "diagnostic": "mailbox unavailable (test)",
            "outbox_id": id,
            "permanent": true,
        })
    );
    let text = event["text"].as_str().unwrap();
    assert!(
        text.contains("bounceme@customer.test bounced: failed 5.1.1")
            && text.contains("is suppressed"),
        "{text}"
    );
    assert_eq!(
        event["mail"]["hash"].as_str().unwrap().len(),
        64,
        "the DSN is kept"
    );
    let shown = env.ok(&["ticket", "show", &n]);
    assert!(shown.contains("bounced: failed 5.1.1"), "{shown}");
    let failed = entry(&env, "bounceme@customer.test");
    assert_eq!(failed["state"], "failed");
    assert!(
        failed["last_error"].as_str().unwrap().contains("5.1.1"),
        "{failed}"
    );
    assert_eq!(entry(&env, "alice@customer.test")["state"], "sent");
    let list = suppressed(&env);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["address"], "bounceme@customer.test");
    assert_eq!(list[0]["status"], "5.1.1");
    assert_eq!(list[0]["ticket"], n.parse::<u64>().unwrap());
    assert_eq!(list[0]["outbox_id"], id);
    assert_eq!(list[0]["by"], "bounce");
    let table = env.ok(&["outbox", "suppressed"]);
    assert!(table.contains("bounceme@customer.test"), "{table}");

    // The same bounce again is a copy: nothing more.
    env.deliver(&dsn);
    assert_eq!(problems(&env, &n).len(), 1);

    // An explicit reply still goes, with a warning naming the suppression.
    let out = env
        .cmd(&["ticket", "reply", &n, "-m", "Are you there?"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let said =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("bounceme@customer.test is suppressed") && said.contains("unsuppress"),
        "{said}"
    );
    postfix.delivered("customer.test/alice", 2);

    // Only an admin ends it; then it is gone.
    let refused = env.fails(
        &[
            "outbox",
            "unsuppress",
            "bounceme@customer.test",
            "--as",
            "bob",
        ],
        1,
    );
    assert!(refused.contains("only an admin"), "{refused}");
    env.ok(&["outbox", "unsuppress", "BounceMe@Customer.test"]);
    assert!(suppressed(&env).is_empty());
    let again = env.fails(&["outbox", "unsuppress", "bounceme@customer.test"], 1);
    assert!(again.contains("is not suppressed"), "{again}");

    // A forged bounce (a token whose MAC is not ours) suppresses nothing.
    let (_, mac) = verp.split_once('@').unwrap().0.rsplit_once('-').unwrap();
    let forged_mac: String = mac
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    let forged = variant(&dsn, &[(mac, &forged_mac)], "forged");
    env.deliver(&forged);
    assert!(
        suppressed(&env).is_empty(),
        "a forged token suppresses nothing"
    );
    assert_eq!(
        problems(&env, &n).len(),
        1,
        "and is not taken as our bounce"
    );
    assert_eq!(env.list(&[]).len(), 1, "nor makes a ticket");

    // A delay (4.x.x) is recorded, and suppresses nothing.
    let delayed = variant(
        &dsn,
        &[
            ("Action: failed", "Action: delayed"),
            ("Status: 5.1.1", "Status: 4.2.1"),
        ],
        "delayed",
    );
    env.deliver(&delayed);
    let recorded = problems(&env, &n);
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(recorded[1]["bounce"]["status"], "4.2.1");
    assert_eq!(recorded[1]["bounce"]["action"], "delayed");
    assert_eq!(recorded[1]["bounce"]["permanent"], false);
    assert!(suppressed(&env).is_empty());
}

#[test]
fn an_admin_suppresses_and_unsuppresses_by_hand() {
    let env = Env::new();
    let refused = env.fails(&["outbox", "suppress", "ann@example.com", "--as", "bob"], 1);
    assert!(refused.contains("only an admin"), "{refused}");
    env.ok(&[
        "outbox",
        "suppress",
        "Ann@Example.com",
        "-m",
        "asked us to stop",
    ]);
    let bad = env.fails(&["outbox", "suppress", "ann@example.com\r\nBcc: x@y"], 1);
    assert!(bad.contains("not one mail address"), "{bad}");
    let again = env.fails(&["outbox", "suppress", "ann@example.com"], 1);
    assert!(again.contains("suppressed already"), "{again}");
    let list = suppressed(&env);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["address"], "ann@example.com");
    assert_eq!(list[0]["reason"], "asked us to stop");
    assert_eq!(list[0]["by"], "alice");
    assert_eq!(list[0]["ticket"], serde_json::Value::Null);
    let csv = env.ok(&["outbox", "suppressed", "--format", "csv"]);
    assert!(
        csv.starts_with("address,since,reason,status,outbox_id,ticket,by"),
        "{csv}"
    );
    env.ok(&["outbox", "unsuppress", "ann@example.com"]);
    assert!(suppressed(&env).is_empty());
    assert!(env
        .ok(&["outbox", "suppressed"])
        .contains("no address is suppressed"));
}

#[test]
fn a_bounce_address_that_could_inject_is_refused_at_load() {
    for bad in [
        "bounces+x@desk.test",
        "\"bounces\\r\\nBcc: x@y\"@desk.test",
        "bounces@desk.test\\nX: y",
        "bou nces@desk.test",
    ] {
        let env = Env::with_config(&format!("{CONFIG}outbox: {{bounce_address: \"{bad}\"}}\n"));
        let err = env.fails(&["ticket", "list"], 1);
        assert!(err.contains("cannot be a bounce address"), "{bad}: {err}");
    }
}

/// Mail to a VERP address that is no DSN (an out-of-office answering the envelope
/// sender) is recorded on the ticket and never makes a ticket; a DSN whose token
/// does not verify makes no ticket either, and suppresses nothing.
#[test]
fn an_auto_reply_to_a_verp_address_is_recorded_and_makes_no_ticket() {
    let env = Env::new();
    env.deliver(
        "From: Ann <ann@example.com>\nTo: help@corp.example\nSubject: Printer\n\
         Message-ID: <p-1@example.com>\n\nIt jams.\n",
    );
    env.ok(&["ticket", "reply", "1", "-m", "Which tray?", "--queue-only"]);
    let ann = entry(&env, "ann@example.com");
    let verp = ann["envelope"].as_str().unwrap().to_string();
    assert!(
        verp.starts_with("bounces+o") && verp.ends_with("@corp.example"),
        "{verp}"
    );
    env.deliver(&format!(
        "Return-Path: <ann@example.com>\nDelivered-To: {verp}\nFrom: Ann <ann@example.com>\n\
         To: {verp}\nSubject: Out of office\nAuto-Submitted: auto-replied\n\
         Message-ID: <away-1@example.com>\n\nBack on Monday.\n"
    ));
    assert_eq!(env.list(&[]), [1], "no ticket");
    let recorded = problems(&env, "1");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["kind"], "delivery-problem");
    assert!(
        recorded[0]["text"]
            .as_str()
            .unwrap()
            .contains("no delivery status"),
        "{recorded:?}"
    );
    assert!(suppressed(&env).is_empty());
    assert_eq!(entry(&env, "ann@example.com")["state"], "queued");
    // A stranger's DSN to a made-up token of the same entry: taken as any bounce.
    let id = ann["id"].as_u64().unwrap();
    env.deliver(&format!(
        "From: MAILER-DAEMON@mx.example\nTo: bounces+o{id}-000000000000@corp.example\n\
         Subject: Undelivered\nMessage-ID: <fake-1@mx.example>\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n\
         --B\nContent-Type: text/plain\n\nfailed\n--B\n\
         Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n\
         Final-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.1.1\n--B--\n"
    ));
    assert_eq!(env.list(&[]), [1]);
    assert_eq!(problems(&env, "1").len(), 1);
    assert!(suppressed(&env).is_empty());
    assert_eq!(entry(&env, "ann@example.com")["state"], "queued");
}

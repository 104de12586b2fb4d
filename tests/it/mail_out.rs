//! Mail out through a real Postfix (issue 20): the sendmail transport through the
//! instance's own `sendmail -C DIR/etc`, the SMTP transport to it on loopback (plain,
//! STARTTLS and implicit TLS with a private CA), and `doctor --send-test`. Every
//! delivered message is parsed back and checked: envelope, recipient, headers, encoding.

use std::path::Path;

use postdesk::config::{MailOut, Tls};
use postdesk::mail::send::{transport, Outcome};

use crate::common::{Env, CONFIG};
use crate::postfix::{header, Postfix, SENDMAIL};

/// The test config with this `mail_out` section (YAML flow mapping).
fn env_with(mail_out: &str) -> Env {
    Env::with_config(&format!("{CONFIG}mail_out: {mail_out}\n"))
}

fn sendmail_to(postfix: &Postfix) -> String {
    format!(
        "{{transport: sendmail, command: {SENDMAIL}, args: [-C, {}]}}",
        postfix.etc().display()
    )
}

fn smtp_plain_to(postfix: &Postfix) -> String {
    format!(
        "{{transport: smtp, host: 127.0.0.1, port: {}, tls: none}}",
        postfix.port()
    )
}

/// The message `doctor --send-test` sent, as delivered to `to`: the first service
/// address (help@corp.example) is its From and its envelope sender.
fn check_test_message(raw: &[u8], to: &str) {
    let mail = mailparse::parse_mail(raw).expect("parse delivered mail");
    let h = |name| header(&mail, name);
    assert_eq!(h("Return-Path"), "<help@corp.example>");
    assert_eq!(h("Delivered-To"), to);
    assert_eq!(h("X-Original-To"), to);
    assert_eq!(h("From"), "postdesk <help@corp.example>");
    assert_eq!(h("To"), to);
    assert_eq!(h("Subject"), "postdesk test message");
    assert!(
        h("Message-ID").starts_with("<postdesk-test.")
            && h("Message-ID").ends_with("@corp.example>"),
        "{}",
        h("Message-ID")
    );
    assert_eq!(h("Auto-Submitted"), "auto-generated");
    assert_eq!(h("MIME-Version"), "1.0");
    assert_eq!(mail.ctype.mimetype, "text/plain");
    assert!(!h("Date").is_empty());
    let body = mail.get_body().expect("body");
    assert!(body.contains("mail leaves this helpdesk"), "{body}");
    // As delivered: LF line ends, exactly one copy of each header.
    assert!(!raw.windows(2).any(|w| w == b"\r\n"));
    let subjects = mail
        .headers
        .iter()
        .filter(|h| h.get_key_ref().eq_ignore_ascii_case("subject"));
    assert_eq!(subjects.count(), 1);
}

/// `check` on the one message delivered to each of alice and bob.
fn each_of_alice_and_bob(postfix: &Postfix, check: fn(&[u8], &str)) {
    for user in ["alice", "bob"] {
        let mail = postfix.delivered(&format!("customer.test/{user}"), 1);
        check(&mail[0], &format!("{user}@customer.test"));
    }
}

/// `doctor --send-test alice@customer.test` through `mail_out`: what it printed,
/// after checking the delivered message and that its `Received` header has `received`.
fn send_test_to_alice(postfix: &Postfix, mail_out: &str, received: &str) -> String {
    let env = env_with(mail_out);
    let started = std::time::Instant::now();
    let out = env.ok(&["doctor", "--send-test", "alice@customer.test"]);
    eprintln!(
        "postfix started in {:?}; send-test took {:?}",
        postfix.started_in,
        started.elapsed()
    );
    let mail = postfix.delivered("customer.test/alice", 1);
    check_test_message(&mail[0], "alice@customer.test");
    let parsed = mailparse::parse_mail(&mail[0]).unwrap();
    let got = header(&parsed, "Received");
    assert!(got.contains(received), "{got}");
    out
}

#[test]
fn doctor_send_test_through_postfix_sendmail() {
    let postfix = Postfix::start();
    // Postfix's own sendmail took it: submitted locally by root, not over SMTP.
    let out = send_test_to_alice(&postfix, &sendmail_to(&postfix), "(Postfix, from userid 0)");
    assert!(
        out.starts_with("sent: test message to alice@customer.test from help@corp.example through sendmail /usr/sbin/sendmail -C "),
        "{out}"
    );
    assert!(
        postfix.log().contains("from=<help@corp.example>"),
        "{}",
        postfix.log()
    );
}

#[test]
fn doctor_send_test_over_smtp_to_postfix_on_loopback() {
    let postfix = Postfix::start();
    let with_esmtp = "by mx.desk.test (Postfix) with ESMTP";
    let out = send_test_to_alice(&postfix, &smtp_plain_to(&postfix), with_esmtp);
    assert!(
        out.contains(&format!("through smtp 127.0.0.1:{}", postfix.port())),
        "{out}"
    );
}

#[test]
fn smtp_with_starttls_and_implicit_tls_trusts_a_private_ca() {
    let postfix = Postfix::start_tls();
    let ca = postfix.ca_file();
    let starttls = env_with(&format!(
        "{{transport: smtp, host: localhost, port: {}, tls: starttls, ca_file: {}}}",
        postfix.port(),
        ca.display()
    ));
    starttls.ok(&["doctor", "--send-test", "alice@customer.test"]);
    let implicit = env_with(&format!(
        "{{transport: smtp, host: 127.0.0.1, port: {}, tls: implicit, ca_file: {}}}",
        postfix.tls_port(),
        ca.display()
    ));
    implicit.ok(&["doctor", "--send-test", "bob@customer.test"]);
    each_of_alice_and_bob(&postfix, check_test_message);
    let tls_sessions = postfix
        .log()
        .matches("TLS connection established from")
        .count();
    assert_eq!(tls_sessions, 2, "{}", postfix.log());

    // Without the private CA the certificate is not trusted: nothing is sent, and
    // it is worth trying again once the config is fixed.
    let untrusted = env_with(&format!(
        "{{transport: smtp, host: localhost, port: {}, tls: starttls}}",
        postfix.port()
    ));
    let err = untrusted.fails(&["doctor", "--send-test", "alice@customer.test"], 75);
    assert!(err.contains("STARTTLS failed"), "{err}");
    assert!(err.contains("certificate"), "{err}");
}

#[test]
fn doctor_send_test_names_a_refusal_and_says_when_to_try_again() {
    let postfix = Postfix::start();
    let env = env_with(&smtp_plain_to(&postfix));
    let err = env.fails(&["doctor", "--send-test", "rejectme@customer.test"], 1);
    assert!(err.contains("not sent, permanent failure"), "{err}");
    assert!(
        err.contains(&format!(
            "test message to rejectme@customer.test from help@corp.example: smtp 127.0.0.1:{}: 550 5.1.1 <rejectme@customer.test>: Recipient address rejected: mailbox unavailable (test)",
            postfix.port()
        )),
        "{err}"
    );
    assert!(err.contains("mailbox unavailable (test)"), "{err}");
    // For scripts: the same as JSON on stdout, with the same exit status.
    let out = env
        .cmd(&[
            "--format",
            "json",
            "doctor",
            "--send-test",
            "rejectme@customer.test",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"], "permanent", "{report}");
    assert_eq!(report["from"], "help@corp.example", "{report}");
    assert!(
        report["detail"].as_str().unwrap().contains("550 5.1.1"),
        "{report}"
    );
    let err = env.fails(&["doctor", "--send-test", "deferme@customer.test"], 75);
    assert!(err.contains("not sent, temporary failure"), "{err}");
    assert!(err.contains("450 4.2.1"), "{err}");
    assert!(
        err.contains("mailbox busy, try again later (test)"),
        "{err}"
    );

    // STARTTLS is required: a relay that does not offer it gets nothing in clear.
    let starttls = env_with(&format!(
        "{{transport: smtp, host: 127.0.0.1, port: {}, tls: starttls}}",
        postfix.port()
    ));
    let transactions = || postfix.settled_log().matches(" mail=1 ").count();
    let before = transactions();
    let err = starttls.fails(&["doctor", "--send-test", "alice@customer.test"], 75);
    assert!(err.contains("STARTTLS is not supported"), "{err}");
    assert_eq!(transactions(), before, "{}", postfix.log());

    // Nothing listens on a port of a stopped instance.
    let port = postfix.port();
    drop(postfix);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "port {port} still open"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let err = env.fails(&["doctor", "--send-test", "alice@customer.test"], 75);
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn sendmail_exit_status_is_the_answer() {
    // Postfix's sendmail with a config directory that does not exist: a real exit 75.
    let env = env_with(&format!(
        "{{transport: sendmail, command: {SENDMAIL}, args: [-C, /nonexistent/postdesk/etc]}}"
    ));
    let err = env.fails(&["doctor", "--send-test", "alice@customer.test"], 75);
    assert!(err.contains("exited 75"), "{err}");
    assert!(err.contains("/nonexistent/postdesk/etc"), "{err}");

    // Any other status stops: a stand-in that refuses with exit 1.
    let env = env_with(
        r#"{transport: sendmail, command: /bin/sh, args: [-c, "echo no such mailbox >&2; exit 1", sh]}"#,
    );
    let err = env.fails(&["doctor", "--send-test", "alice@customer.test"], 1);
    assert!(err.contains("not sent, permanent failure"), "{err}");
    assert!(err.contains("exited 1: no such mailbox"), "{err}");
}

#[test]
fn a_recipient_that_reads_as_an_option_never_reaches_argv() {
    let env = env_with(
        r#"{transport: sendmail, command: /bin/sh, args: [-c, "cat >/dev/null; echo \"$@\" > ran", sh]}"#,
    );
    let err = env.fails(&["doctor", "--send-test=-oQ/tmp/x@customer.test"], 1);
    assert!(err.contains("starts with '-'"), "{err}");
    assert!(!env.path().join("ran").exists(), "the command ran");
    // The same stand-in does run for an ordinary address, with the envelope first.
    env.ok(&["doctor", "--send-test", "alice@customer.test"]);
    let argv = std::fs::read_to_string(env.path().join("ran")).unwrap();
    assert_eq!(argv, "-i -f help@corp.example -- alice@customer.test\n");
}

/// A message of our own with non-ASCII text (an encoded word, quoted-printable), a
/// line holding a lone dot and one starting "From ", with CRLF line ends.
const ENCODED: &str = "From: Desk <support@desk.test>\r\n\
To: customers <undisclosed-recipients:;>\r\n\
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_dem_Helpdesk?=\r\n\
Message-ID: <t42.encoded@desk.test>\r\n\
Date: Mon, 30 Nov 2026 09:00:00 +0000\r\n\
Auto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Gr=C3=BC=C3=9Fe,\r\n\
.\r\n\
From here on: the end.\r\n";

const VERP: &str = "bounces+t42=customer.test@desk.test";

/// Each delivered copy of [`ENCODED`] decodes as sent, with its own recipient.
fn check_encoded(raw: &[u8], to: &str) {
    let mail = mailparse::parse_mail(raw).expect("parse delivered mail");
    assert_eq!(header(&mail, "Return-Path"), format!("<{VERP}>"));
    assert_eq!(header(&mail, "Delivered-To"), to);
    assert_eq!(header(&mail, "Subject"), "Grüße aus dem Helpdesk");
    assert_eq!(header(&mail, "Message-ID"), "<t42.encoded@desk.test>");
    assert_eq!(header(&mail, "Auto-Submitted"), "auto-replied");
    // (Quoted-printable decodes line ends to CRLF.)
    assert_eq!(
        mail.get_body().unwrap().replace("\r\n", "\n"),
        "Grüße,\n.\nFrom here on: the end.\n"
    );
    let raw = String::from_utf8_lossy(raw);
    assert!(raw.ends_with("\nFrom here on: the end.\n"), "{raw}");
}

/// The transports as the outbox will use them: one recipient at a time, one
/// failure never stopping the others.
fn send_each(mail_out: &MailOut, recipients: &[&str]) -> Vec<Outcome> {
    let mut t = transport(mail_out, Path::new("/")).expect("transport");
    recipients
        .iter()
        .map(|to| t.send(VERP, to, ENCODED.as_bytes()))
        .collect()
}

#[test]
fn smtp_sends_each_recipient_on_its_own() {
    let postfix = Postfix::start();
    let mail_out = MailOut::Smtp {
        host: "127.0.0.1".into(),
        port: Some(postfix.port()),
        tls: Tls::None,
        ca_file: None,
        user: None,
        password_env: None,
        password_file: None,
        password_command: None,
        timeout: 60,
    };
    let started = std::time::Instant::now();
    let outcomes = send_each(
        &mail_out,
        &[
            "alice@customer.test",
            "rejectme@customer.test",
            "deferme@customer.test",
            "bob@customer.test",
            "x@example.com",
        ],
    );
    eprintln!("5 recipients over SMTP in {:?}", started.elapsed());
    assert_eq!(outcomes[0], Outcome::Sent);
    assert!(
        matches!(&outcomes[1], Outcome::Permanent(t) if t.contains("550") && t.contains("mailbox unavailable (test)")),
        "{outcomes:?}"
    );
    assert!(
        matches!(&outcomes[2], Outcome::Temporary(t) if t.contains("450") && t.contains("mailbox busy")),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[3], Outcome::Sent);
    assert!(
        matches!(&outcomes[4], Outcome::Permanent(t) if t.contains("554") && t.contains("Relay access denied")),
        "{outcomes:?}"
    );
    each_of_alice_and_bob(&postfix, check_encoded);
}

#[test]
fn sendmail_sends_each_recipient_on_its_own_with_the_envelope_for_bounces() {
    let postfix = Postfix::start();
    let mail_out = MailOut::Sendmail {
        command: SENDMAIL.into(),
        args: vec!["-C".into(), postfix.etc().display().to_string()],
        timeout: 120,
    };
    let outcomes = send_each(
        &mail_out,
        &[
            "alice@customer.test",
            "bounceme@customer.test",
            "bob@customer.test",
        ],
    );
    // sendmail only queues: a failure after that is a bounce to the envelope sender.
    assert_eq!(outcomes, [Outcome::Sent, Outcome::Sent, Outcome::Sent]);
    each_of_alice_and_bob(&postfix, check_encoded);
    let bounce = &postfix.delivered("desk.test/bounces", 1)[0];
    let bounce = mailparse::parse_mail(bounce).unwrap();
    assert_eq!(header(&bounce, "Delivered-To"), VERP);
    assert_eq!(bounce.ctype.mimetype, "multipart/report");
    let report = bounce.subparts[1].get_body().unwrap();
    assert!(
        report.contains("Final-Recipient: rfc822; bounceme@customer.test"),
        "{report}"
    );
    assert!(report.contains("Status: 5.1.1"), "{report}");
}

/// A ticket opened by alice@customer.test, followed by bob and by the addresses
/// the instance answers 550 and 450, on a desk whose `mail_out` is `mail_out`
/// (without the service's permanent guest, an address outside the test domains).
/// A quiet desk sending through `mail_out` and a ticket from alice@customer.test.
fn ticket_from_alice(mail_out: &str) -> (Env, String) {
    // Only the reply goes out (tests/it/notify.rs has the automatic mail).
    let config = crate::common::quiet(&CONFIG.replace("    guests: [boss@corp.example]\n", ""));
    let env = Env::with_config(&format!("{config}mail_out: {mail_out}\n"));
    env.deliver(
        "From: Alice Customer <alice@customer.test>\nTo: help@corp.example\n\
         Subject: VPN drops\nMessage-ID: <vpn-1@customer.test>\n\
         Date: Tue, 24 Nov 2026 21:30:00 +0000\n\nThe VPN drops every hour.\n",
    );
    let n = env.list(&[]).last().expect("a ticket").to_string();
    (env, n)
}

fn ticket_with_customers(mail_out: &str) -> (Env, String) {
    let (env, n) = ticket_from_alice(mail_out);
    for who in [
        "bob@customer.test",
        "rejectme@customer.test",
        "deferme@customer.test",
    ] {
        env.ok(&["ticket", "follow", &n, who, "--no-notify"]);
    }
    env.ok(&["ticket", "comment", &n, "-m", "SECRET: the VPN box is ours"]);
    (env, n)
}

/// The reply as delivered to `to`, checked: recipients, threading, no internal text.
fn check_reply(raw: &[u8], to: &str, n: &str) -> String {
    let mail = mailparse::parse_mail(raw).expect("parse delivered mail");
    let h = |name| header(&mail, name);
    // The envelope sender is the entry's own VERP address on the service's domain.
    let envelope = h("Return-Path");
    assert!(
        envelope.starts_with("<bounces+o") && envelope.ends_with("@corp.example>"),
        "{envelope}"
    );
    assert_eq!(h("Delivered-To"), to);
    assert!(
        h("From").ends_with("via it\" <help@corp.example>"),
        "{}",
        h("From")
    );
    assert!(h("To").contains("alice@customer.test"), "{}", h("To"));
    assert!(h("Cc").contains("bob@customer.test"), "{}", h("Cc"));
    assert_eq!(h("Subject"), format!("Re: [#{n}] VPN drops"));
    assert_eq!(h("In-Reply-To"), "<vpn-1@customer.test>");
    assert_eq!(h("X-Loop"), "postdesk");
    let body = mail.get_body().expect("body");
    assert!(body.contains("Reconnect with the new profile."), "{body}");
    assert!(!String::from_utf8_lossy(raw).contains("SECRET"));
    h("Message-ID")
}

/// Issue 20: `ticket reply` through a real Postfix over SMTP: each recipient on its
/// own (550 fails only that one and is recorded on the ticket, 450 waits for a
/// retry), every delivery parsed back, and the customer's answer to our message,
/// without the subject tag, lands on the same ticket.
#[test]
fn a_reply_goes_out_over_smtp_and_its_answer_threads_back() {
    let postfix = Postfix::start();
    let (env, n) = ticket_with_customers(&smtp_plain_to(&postfix));
    let out = env.ok(&[
        "ticket",
        "reply",
        &n,
        "-m",
        "Reconnect with the new profile.",
    ]);
    assert!(out.contains("rejectme@customer.test"), "{out}");

    let alice = postfix.delivered("customer.test/alice", 1);
    let ours = check_reply(&alice[0], "alice@customer.test", &n);
    check_reply(
        &postfix.delivered("customer.test/bob", 1)[0],
        "bob@customer.test",
        &n,
    );

    let entries = env.json(&["outbox", "list", "--all"]);
    let state = |who: &str| {
        let e = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["recipient"] == who)
            .unwrap_or_else(|| panic!("no entry for {who}: {entries}"));
        (
            e["state"].as_str().unwrap().to_string(),
            e["last_error"].clone(),
        )
    };
    assert_eq!(state("alice@customer.test").0, "sent");
    assert_eq!(state("bob@customer.test").0, "sent");
    let (rejected, why) = state("rejectme@customer.test");
    assert_eq!(rejected, "failed");
    assert!(why.as_str().unwrap().contains("550"), "{why}");
    let (deferred, why) = state("deferme@customer.test");
    assert_eq!(deferred, "queued", "a 450 is tried again later");
    assert!(why.as_str().unwrap().contains("450"), "{why}");
    let show = env.json(&["ticket", "show", &n]);
    let failed: Vec<_> = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mail-failed")
        .collect();
    assert_eq!(failed.len(), 1, "{show}");
    assert!(failed[0].to_string().contains("rejectme@customer.test"));

    env.deliver(&format!(
        "From: Alice Customer <alice@customer.test>\nTo: help@corp.example\n\
         Subject: Re: VPN\nMessage-ID: <vpn-2@customer.test>\nIn-Reply-To: {ours}\n\
         Date: Wed, 25 Nov 2026 08:00:00 +0000\n\nThat fixed it.\n"
    ));
    assert_eq!(env.list(&[]), [n.parse::<u64>().unwrap()], "no new ticket");
    let text = env.ok(&["ticket", "show", &n]);
    assert!(text.contains("That fixed it."), "{text}");
}

/// Issue 20: `ticket reply` through the instance's own `sendmail -C`: the envelope
/// sender is the entry's VERP address, and each follower gets their copy.
#[test]
fn a_reply_goes_out_through_postfix_sendmail() {
    let postfix = Postfix::start();
    let (env, n) = ticket_with_customers(&sendmail_to(&postfix));
    env.ok(&[
        "ticket",
        "reply",
        &n,
        "-m",
        "Reconnect with the new profile.",
    ]);
    check_reply(
        &postfix.delivered("customer.test/alice", 1)[0],
        "alice@customer.test",
        &n,
    );
    check_reply(
        &postfix.delivered("customer.test/bob", 1)[0],
        "bob@customer.test",
        &n,
    );
}

/// Issue 20: Postfix stopped, a reply over SMTP fails for now (queued, the attempt
/// recorded) and `outbox send` leaves it until it is due; Postfix started again and
/// the entry made due (an admin's `outbox retry`), `outbox send` sends it exactly
/// once.
#[test]
fn a_reply_waits_while_postfix_is_stopped_and_goes_once_when_it_is_back() {
    let postfix = Postfix::start();
    let (env, n) = ticket_from_alice(&smtp_plain_to(&postfix));
    postfix.stop();
    let out = env.ok(&["ticket", "reply", &n, "-m", "Back soon."]);
    assert!(
        out.contains("not sent to alice@customer.test (queued"),
        "{out}"
    );
    let waiting = env.json(&["outbox", "list"]);
    let waiting = waiting.as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["attempts"], 1);
    let error = waiting[0]["last_error"].as_str().unwrap();
    assert!(error.contains("cannot connect"), "{error}");
    // Not due yet: left alone.
    env.ok(&["outbox", "send"]);
    assert_eq!(env.json(&["outbox", "list"])[0]["attempts"], 1);

    postfix.start_again();
    env.ok(&["outbox", "retry", &waiting[0]["id"].to_string()]);
    let out = env.ok(&["outbox", "send"]);
    assert!(out.contains("sent to alice@customer.test"), "{out}");
    env.ok(&["outbox", "send"]);
    let all = env.json(&["outbox", "list", "--all"]);
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!(all[0]["state"], "sent");
    assert_eq!(all[0]["attempts"], 2);
    let raw = &postfix.delivered("customer.test/alice", 1)[0];
    let mail = mailparse::parse_mail(raw).unwrap();
    assert_eq!(header(&mail, "Subject"), format!("Re: [#{n}] VPN drops"));
    let body = mail.get_body().unwrap();
    assert!(body.contains("Back soon."), "{body}");
    // Exactly once: nothing more arrives.
    std::thread::sleep(std::time::Duration::from_secs(1));
    postfix.delivered("customer.test/alice", 1);
}

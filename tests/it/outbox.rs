//! Mail out (issue 20): `ticket reply`, the outbox and `outbox send|list|show|retry|drop`,
//! with the maildir transport; every message sent is parsed back.

use std::path::Path;

use crate::common::{Env, CONFIG};

/// The standard desk without service guests (they follow every ticket), alice
/// named with accents, mail going to the Maildir `sent/`.
fn desk() -> Env {
    Env::with_config(&format!(
        "{}\nmail_out:\n  transport: maildir\n  path: sent\n",
        no_guests()
    ))
}

/// Without notifications and auto-replies (tests/it/notify.rs has those): only
/// the replies these tests send are in the outbox.
fn no_guests() -> String {
    crate::common::quiet(
        &CONFIG
            .replace("Alice Agent", "Zoë Ågent")
            .replace("    guests: [boss@corp.example]\n", ""),
    )
}

fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "Return-Path: <{from}>\nFrom: {from}\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Tue, 24 Nov 2026 21:30:00 +0000\n{extra}\n{body}\n"
    )
}

/// A ticket opened by ann@example.com's mail `<first@example.com>`.
fn ticket_from_ann(env: &Env, subject: &str) -> u64 {
    env.deliver(&mail(
        "Ann Customer <ann@example.com>",
        subject,
        "first@example.com",
        "",
        "It jams on every page.",
    ));
    let list = env.list(&[]);
    *list.last().expect("a ticket")
}

/// Every message in the Maildir `dir`: (Delivered-To, the message without the
/// Return-Path and Delivered-To lines the transport adds).
fn delivered(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir.join("new")) else {
        return Vec::new();
    };
    let mut all: Vec<(String, Vec<u8>)> = entries
        .map(|e| {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let text = String::from_utf8(bytes).unwrap();
            let mut lines = text.splitn(3, '\n');
            assert!(lines.next().unwrap().starts_with("Return-Path: <"));
            let to = lines
                .next()
                .unwrap()
                .strip_prefix("Delivered-To: ")
                .unwrap();
            (to.to_string(), lines.next().unwrap().as_bytes().to_vec())
        })
        .collect();
    all.sort();
    all
}

fn header(mail: &mailparse::ParsedMail, name: &str) -> Option<String> {
    mail.headers
        .iter()
        .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
        .map(|h| h.get_value())
}

fn raw_header<'a>(mail: &'a mailparse::ParsedMail, name: &str) -> &'a [u8] {
    mail.headers
        .iter()
        .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
        .map(|h| h.get_value_raw())
        .unwrap()
}

fn outbox(env: &Env, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["outbox", "list"];
    all.extend(args);
    env.json(&all).as_array().unwrap().clone()
}

#[test]
fn a_reply_reaches_the_requester_and_followers_never_the_actor() {
    let env = desk();
    let n = ticket_from_ann(&env, "Printer jams").to_string();
    // No invitations: only the reply goes out here (tests/it/notify.rs has those).
    for who in ["cy@example.com", "bob", "alice"] {
        env.ok(&["ticket", "follow", &n, who, "--no-notify"]);
    }
    env.ok(&["ticket", "comment", &n, "-m", "SECRET internal note"]);
    let out = env.ok(&["ticket", "reply", &n, "-m", "Try turning it off and on."]);
    assert!(out.contains("replied by mail to ann@example.com"), "{out}");
    assert!(out.contains("sent to cy@example.com"), "{out}");

    let sent = delivered(&env.path().join("sent"));
    let to: Vec<&str> = sent.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(
        to,
        ["ann@example.com", "bob@desk.example", "cy@example.com"]
    );
    let mut ids = Vec::new();
    for (_, bytes) in &sent {
        let m = mailparse::parse_mail(bytes).unwrap();
        assert!(bytes.is_ascii(), "headers encoded, body 7-bit or encoded");
        let from = header(&m, "From").unwrap();
        let parsed = mailparse::addrparse(&from).unwrap();
        let mailparse::MailAddr::Single(single) = &parsed[0] else {
            panic!("one From address: {from}")
        };
        assert_eq!(single.display_name.as_deref(), Some("Zoë Ågent via it"));
        assert_eq!(single.addr, "help@corp.example");
        assert!(
            String::from_utf8_lossy(raw_header(&m, "From")).contains("=?utf-8?"),
            "the name is RFC 2047 encoded"
        );
        assert_eq!(header(&m, "Reply-To").unwrap(), from);
        assert_eq!(header(&m, "To").unwrap(), "ann@example.com");
        assert_eq!(
            header(&m, "Subject").unwrap(),
            format!("Re: [#{n}] Printer jams")
        );
        assert_eq!(header(&m, "In-Reply-To").unwrap(), "<first@example.com>");
        assert_eq!(header(&m, "References").unwrap(), "<first@example.com>");
        assert_eq!(header(&m, "X-Loop").unwrap(), "postdesk");
        let id = header(&m, "Message-ID").unwrap();
        assert!(
            id.starts_with(&format!("<ticket.{n}.")) && id.ends_with("@corp.example>"),
            "{id}"
        );
        ids.push(id);
        let body = m.get_body().unwrap();
        assert!(body.contains("Try turning it off and on."), "{body}");
        assert!(
            !body.contains("SECRET"),
            "an internal comment is never sent"
        );
    }
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one message, three recipients"
    );

    let events = env.json(&["ticket", "show", &n])["events"].clone();
    let reply = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reply")
        .expect("a reply event");
    assert_eq!(reply["comment"], "Try turning it off and on.");
    assert_eq!(reply["actor"], "alice");
    let entries = outbox(&env, &["--all"]);
    assert_eq!(entries.len(), 3);
    assert!(entries
        .iter()
        .all(|e| e["state"] == "sent" && e["attempts"] == 1));
    assert!(outbox(&env, &[]).is_empty(), "nothing waits");
    // The key that signs Message-IDs is the desk's own, private.
    let key = std::fs::metadata(env.db().join("message-id.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key.permissions().mode() & 0o007, 0);
}

#[test]
fn no_value_from_mail_adds_a_header_and_a_long_subject_keeps_its_tag() {
    let env = desk();
    // Mail cannot carry CR LF into a subject or a name (the parser unfolds them),
    // but the shell can: every value a header is built from is tried.
    let evil = "Hello\r\nBcc: victim@evil.example\r\nX-Injected: yes";
    let lf = "Hello\nBcc: victim@evil.example\nX-Injected: yes";
    for bad in [evil, lf] {
        let n = env
            .create(&[
                "-s",
                bad,
                "--requester-email",
                "ann@example.com",
                "--requester-name",
                bad,
            ])
            .to_string();
        env.ok(&["ticket", "reply", &n, "-m", bad]);
    }
    let long = "long ".repeat(100);
    let n = env
        .create(&["-s", &long, "--requester-email", "ann@example.com"])
        .to_string();
    env.ok(&["ticket", "reply", &n, "-m", "hi"]);
    // A name, a service description and a loop id from the config, too.
    let config = std::fs::read_to_string(env.path().join("postdesk.yaml")).unwrap();
    let config = config.replace("Zoë Ågent", "\"Zoë\\r\\nBcc: victim@evil.example\"");
    let config = format!("{config}ingest:\n  loop_id: \"postdesk\\r\\nX-Injected: yes\"\n");
    std::fs::write(env.path().join("postdesk.yaml"), config).unwrap();
    env.ok(&["ticket", "reply", &n, "-m", "again"]);
    let sent = delivered(&env.path().join("sent"));
    assert_eq!(sent.len(), 4);
    for (_, bytes) in &sent {
        let m = mailparse::parse_mail(bytes).unwrap();
        let names: Vec<String> = m.headers.iter().map(|h| h.get_key()).collect();
        assert!(
            !names.iter().any(|h| h == "Bcc" || h == "X-Injected"),
            "{names:?}"
        );
        let expected = [
            "From",
            "Reply-To",
            "Subject",
            "Message-ID",
            "X-Loop",
            "To",
            "In-Reply-To",
            "References",
            "Content-Type",
            "Content-Transfer-Encoding",
            "Date",
        ];
        assert!(
            names.iter().all(|n| expected.contains(&n.as_str())),
            "{names:?}"
        );
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let subject = header(&m, "Subject").unwrap();
        assert!(subject.starts_with("Re: [#"), "{subject}");
        assert!(subject.chars().count() < 140, "capped: {subject}");
    }
    let subjects: Vec<String> = sent
        .iter()
        .map(|(_, b)| header(&mailparse::parse_mail(b).unwrap(), "Subject").unwrap())
        .collect();
    assert!(
        subjects.iter().any(|s| s.starts_with("Re: [#3] long long")),
        "a 500-character subject keeps its tag: {subjects:?}"
    );
}

#[test]
fn queue_only_waits_for_outbox_send() {
    let env = desk();
    let n = ticket_from_ann(&env, "VPN").to_string();
    let out = env.ok(&["ticket", "reply", &n, "-m", "Which client?", "--queue-only"]);
    assert!(out.contains("1 message queued"), "{out}");
    assert!(delivered(&env.path().join("sent")).is_empty());
    let waiting = outbox(&env, &[]);
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["state"], "queued");
    assert_eq!(waiting[0]["recipient"], "ann@example.com");
    assert_eq!(waiting[0]["id"], 1, "IDs are small, for people to type");
    let shown = env.ok(&["outbox", "show", &waiting[0]["id"].to_string()]);
    assert!(
        shown.contains("Which client?") && shown.contains("Subject: Re: [#"),
        "{shown}"
    );
    let out = env.ok(&["outbox", "send"]);
    assert!(out.contains("sent to ann@example.com"), "{out}");
    assert_eq!(delivered(&env.path().join("sent")).len(), 1);
    // A second run sends nothing again.
    assert_eq!(env.ok(&["outbox", "send"]), "");
    assert_eq!(delivered(&env.path().join("sent")).len(), 1);
}

#[test]
fn without_mail_out_a_reply_waits_in_the_outbox() {
    let env = Env::with_config(&no_guests());
    let n = ticket_from_ann(&env, "VPN").to_string();
    let out = env.ok(&["ticket", "reply", &n, "-m", "Which client?"]);
    assert!(out.contains("no `mail_out:`"), "{out}");
    assert_eq!(outbox(&env, &[]).len(), 1);
    let err = env.fails(&["outbox", "send"], 1);
    assert!(err.contains("mail_out"), "{err}");
}

#[test]
fn a_temporary_failure_retries_and_shows_until_fixed() {
    let env = desk();
    // A file where the Maildir should be: every delivery fails for now.
    std::fs::write(env.path().join("sent"), "not a directory").unwrap();
    let n = ticket_from_ann(&env, "Screen").to_string();
    let out = env.ok(&["ticket", "reply", &n, "-m", "On my way."]);
    assert!(out.contains("not sent to ann@example.com (queued"), "{out}");
    let waiting = outbox(&env, &[]);
    assert_eq!(waiting.len(), 1);
    let e = &waiting[0];
    assert_eq!(
        (e["state"].as_str(), e["attempts"].as_u64()),
        (Some("queued"), Some(1))
    );
    assert!(e["last_error"].as_str().unwrap().contains("sent"), "{e}");
    assert!(e["next_attempt"].as_str().unwrap() > e["queued_at"].as_str().unwrap());
    // Not due yet: `outbox send` leaves it.
    assert_eq!(env.ok(&["outbox", "send"]), "");
    assert_eq!(outbox(&env, &[])[0]["attempts"], 1);
    // Monitoring: nothing older than an hour, but older than a second.
    env.ok(&["outbox", "list", "--stale", "1h"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let err = env.fails(&["outbox", "list", "--stale", "1s"], 1);
    assert!(
        err.contains("1 message waiting in the outbox longer than 1s"),
        "{err}"
    );
    // Fixed, and retried at once by an admin.
    std::fs::remove_file(env.path().join("sent")).unwrap();
    let id = e["id"].to_string();
    env.ok(&["outbox", "retry", &id]);
    let out = env.ok(&["outbox", "send"]);
    assert!(out.contains("sent to ann@example.com"), "{out}");
    assert_eq!(delivered(&env.path().join("sent")).len(), 1);
    let err = env.fails(&["outbox", "drop", &id], 1);
    assert!(err.contains("is sent"), "{err}");
}

#[test]
fn a_dropped_entry_is_never_sent_and_only_admins_drop() {
    let env = desk();
    let n = ticket_from_ann(&env, "Mouse").to_string();
    env.ok(&["ticket", "reply", &n, "-m", "Later.", "--queue-only"]);
    let id = outbox(&env, &[])[0]["id"].to_string();
    let err = env.fails(&["outbox", "drop", &id, "--as", "bob"], 1);
    assert!(err.contains("only an admin"), "{err}");
    env.ok(&["outbox", "drop", &id]);
    assert!(outbox(&env, &[]).is_empty());
    assert_eq!(outbox(&env, &["--all"])[0]["state"], "dropped");
    assert_eq!(env.ok(&["outbox", "send"]), "");
    assert!(delivered(&env.path().join("sent")).is_empty());
}

#[test]
fn the_customers_answer_threads_back_without_the_tag() {
    let env = desk();
    let n = ticket_from_ann(&env, "Printer jams");
    env.ok(&["ticket", "reply", &n.to_string(), "-m", "Which model?"]);
    let sent = delivered(&env.path().join("sent"));
    let m = mailparse::parse_mail(&sent[0].1).unwrap();
    let ours = header(&m, "Message-ID").unwrap();
    env.deliver(&mail(
        "ann@example.com",
        "Re: printer",
        "answer@example.com",
        &format!("In-Reply-To: {ours}\nReferences: <first@example.com> {ours}"),
        "An HP 4000.",
    ));
    assert_eq!(env.list(&[]), [n], "no new ticket");
    let events = env.json(&["ticket", "show", &n.to_string()])["events"].clone();
    let mails = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mail")
        .count();
    assert_eq!(mails, 2, "{events}");
    // The next reply threads to the whole conversation: first and last.
    env.ok(&["ticket", "reply", &n.to_string(), "-m", "Thanks."]);
    let sent = delivered(&env.path().join("sent"));
    let last = sent
        .iter()
        .map(|(_, b)| mailparse::parse_mail(b).unwrap())
        .find(|m| m.get_body().unwrap().contains("Thanks."))
        .unwrap();
    assert_eq!(
        header(&last, "In-Reply-To").unwrap(),
        "<answer@example.com>"
    );
    assert_eq!(
        header(&last, "References").unwrap(),
        "<first@example.com> <answer@example.com>"
    );
}

#[test]
fn a_reply_needs_someone_to_send_to_and_an_address_to_send_from() {
    let env = Env::with_config(&format!(
        "{}\nmail_out:\n  transport: maildir\n  path: sent\n",
        no_guests().replace("    addresses: [billing@corp.example]\n", "")
    ));
    let n = env
        .create(&["-s", "No one", "--service", "finance"])
        .to_string();
    let err = env.fails(&["ticket", "reply", &n, "-m", "hello"], 1);
    assert!(err.contains("no address to send from"), "{err}");
    let m = env.create(&["-s", "No requester"]).to_string();
    let err = env.fails(&["ticket", "reply", &m, "-m", "hello"], 1);
    assert!(err.contains("no one to reply to"), "{err}");
    assert!(outbox(&env, &["--all"]).is_empty());
}

/// `outbox send` killed with SIGKILL at any point, then run again (after an admin's
/// retry of what was claimed): every recipient gets the message, none more than
/// twice: only those of the batch being handed over at the kill (claimed, their
/// outcome not yet recorded) may get two.
#[test]
fn a_killed_send_sends_at_most_one_more_copy_and_never_loops() {
    let env = desk();
    let n = ticket_from_ann(&env, "Many followers").to_string();
    for i in 0..24 {
        env.ok(&["ticket", "follow", &n, &format!("f{i:02}@example.com")]);
    }
    let files = || {
        std::fs::read_dir(env.path().join("sent/new"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    // Killed once this many of the round's 25 copies are in the Maildir.
    for (round, after) in [0usize, 1, 5, 12, 24].into_iter().enumerate() {
        let before = files();
        env.ok(&[
            "ticket",
            "reply",
            &n,
            "-m",
            &format!("round {round}"),
            "--queue-only",
        ]);
        let mut child = env
            .process(&["outbox", "send"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while files() < before + after && start.elapsed().as_secs() < 20 {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // What was claimed and not recorded is due later; an admin makes it due now.
        for e in outbox(&env, &[]) {
            if e["attempts"].as_u64().unwrap() > 0 {
                env.ok(&["outbox", "retry", &e["id"].to_string()]);
            }
        }
        env.ok(&["outbox", "send"]);
        assert!(outbox(&env, &[]).is_empty(), "round {round}: all sent");
        let mut copies = std::collections::BTreeMap::<String, usize>::new();
        for (to, bytes) in delivered(&env.path().join("sent")) {
            let m = mailparse::parse_mail(&bytes).unwrap();
            if m.get_body().unwrap().contains(&format!("round {round}")) {
                *copies.entry(to).or_default() += 1;
            }
        }
        assert_eq!(copies.len(), 25, "round {round}: every recipient");
        assert!(
            copies.values().all(|c| *c <= 2),
            "round {round}: {copies:?}"
        );
    }
    let all = outbox(&env, &["--all"]);
    assert!(all
        .iter()
        .all(|e| e["state"] == "sent" && e["attempts"].as_u64() <= Some(2)));
}

/// Intake trusts our signed Message-ID over other references: an answer whose
/// In-Reply-To names another ticket's mail, but whose References hold our reply,
/// joins the ticket of our reply.
#[test]
fn our_signed_message_id_is_trusted_over_other_references() {
    let env = desk();
    let n = ticket_from_ann(&env, "Printer jams");
    env.deliver(&mail(
        "bo@example.com",
        "VPN",
        "second@example.com",
        "",
        "down",
    ));
    env.ok(&["ticket", "reply", &n.to_string(), "-m", "Which model?"]);
    let sent = delivered(&env.path().join("sent"));
    let ours = header(&mailparse::parse_mail(&sent[0].1).unwrap(), "Message-ID").unwrap();
    env.deliver(&mail(
        "ann@example.com",
        "Re: something",
        "answer@example.com",
        &format!("In-Reply-To: <second@example.com>\nReferences: {ours}"),
        "An HP 4000.",
    ));
    assert_eq!(env.list(&[]).len(), 2, "no new ticket");
    let mails = |t: u64| {
        env.json(&["ticket", "show", &t.to_string()])["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "mail")
            .count()
    };
    assert_eq!((mails(n), mails(n + 1)), (2, 1));
    // A made-up id in our form proves nothing: taken by its other references.
    let forged = ours.replacen(&format!("ticket.{n}."), &format!("ticket.{}.", n + 1), 1);
    env.deliver(&mail(
        "ann@example.com",
        "Re: more",
        "forged@example.com",
        &format!("In-Reply-To: {forged}\nReferences: <first@example.com>"),
        "more",
    ));
    assert_eq!((mails(n), mails(n + 1)), (3, 1));
}

/// Once recorded and queued, a reply is not undone by a transport that cannot send
/// now: the command succeeds and the mail waits (or failed, recorded) in the outbox.
#[test]
fn a_reply_is_kept_when_the_transport_cannot_send() {
    let env = Env::with_config(&format!(
        "{}\nmail_out:\n  transport: sendmail\n  command: /nonexistent/sendmail\n",
        no_guests()
    ));
    let n = ticket_from_ann(&env, "VPN").to_string();
    let out = env.ok(&["ticket", "reply", &n, "-m", "Which client?"]);
    assert!(out.contains("replied by mail to ann@example.com"), "{out}");
    assert_eq!(outbox(&env, &["--all"]).len(), 1);
}

/// A sendmail `command` that never ends (and started another that never ends) is
/// killed with what it started after `mail_out.timeout`: the attempt is a temporary
/// failure, the entry stays queued.
#[test]
fn a_hung_sendmail_is_cut_off_by_the_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let script = "#!/bin/sh\necho $$ > \"$0.pid\"\nsleep 600 &\necho $! >> \"$0.pid\"\nwait\n";
    let env = Env::with_config(&format!(
        "{}\nmail_out:\n  transport: sendmail\n  command: ./hang.sh\n  timeout: 2s\n",
        no_guests()
    ));
    let command = env.path().join("hang.sh");
    std::fs::write(&command, script).unwrap();
    std::fs::set_permissions(&command, std::fs::Permissions::from_mode(0o755)).unwrap();
    let n = ticket_from_ann(&env, "Stuck").to_string();
    let started = std::time::Instant::now();
    let out = env
        .cmd(&["ticket", "reply", &n, "-m", "hello"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let said =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        took >= std::time::Duration::from_secs(2) && took < std::time::Duration::from_secs(10),
        "{took:?}: {said}"
    );
    let queued = outbox(&env, &[]);
    assert_eq!(queued.len(), 1, "{said}");
    assert_eq!(queued[0]["attempts"], 1);
    let error = queued[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("took over 2 s") && error.contains("was killed"),
        "{error}"
    );
    // The script and the sleep it started are gone (or zombies, not running).
    let pids = std::fs::read_to_string(env.path().join("hang.sh.pid")).unwrap();
    let pids: Vec<&str> = pids.split_whitespace().collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    for pid in pids {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = state.rsplit(") ").next().unwrap_or("").chars().next();
        assert!(
            matches!(state, None | Some('Z') | Some('X')),
            "{pid}: {state:?}"
        );
    }
}

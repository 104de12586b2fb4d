use crate::common::{assert_success, config_text, Env, CONFIG};
use postdesk::store::Store;

/// A message as an MTA pipes it: envelope line first.
fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "From {from}  Tue Nov 24 21:30:00 2026\nReturn-Path: <{from}>\nFrom: {from}\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Tue, 24 Nov 2026 21:30:00 +0000\n{extra}\n{body}\n"
    )
}

fn events(env: &Env, n: u64) -> Vec<serde_json::Value> {
    env.json(&["ticket", "show", &n.to_string()])["events"]
        .as_array()
        .unwrap()
        .clone()
}

/// The raw message stored under `hash`, read the way `ticket attachment` reads it.
fn stored_mail(env: &Env, hash: &str) -> Vec<u8> {
    postdesk::mail::files::MailStore::new(&env.db())
        .get(hash)
        .unwrap()
}

#[test]
fn a_piped_message_becomes_a_ticket() {
    let env = Env::new();
    env.deliver(&mail(
        "Ann Smith <ann@acme.example>",
        "=?UTF-8?Q?Imprimante_bloqu=C3=A9e?=",
        "m1@acme.example",
        "Cc: Dan <dan@acme.example>, help@corp.example, alice@desk.example\n",
        "The printer on floor 2 eats paper.",
    ));
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(t["subject"], "Imprimante bloquée");
    assert_eq!(t["requester"]["email"], "ann@acme.example");
    assert_eq!(t["requester"]["name"], "Ann Smith");
    assert_eq!(t["description"], "The printer on floor 2 eats paper.\n");
    assert_eq!(t["service"], "it");
    assert_eq!(t["assignee"], "@support");
    assert_eq!(
        t["followers"],
        serde_json::json!(["boss@corp.example", "dan@acme.example"]),
        "Cc'd customers follow; support and agent addresses do not"
    );
    let ev = t["events"].as_array().unwrap();
    assert_eq!(ev[0]["kind"], "created");
    assert_eq!(ev[1]["kind"], "mail");
    assert_eq!(ev[1]["mail"]["message_id"], "m1@acme.example");
    // The raw bytes are in the mail store under their hash, without the envelope line,
    // in a private pack.
    let hash = ev[1]["mail"]["hash"].as_str().unwrap();
    let stored = String::from_utf8(stored_mail(&env, hash)).unwrap();
    assert!(stored.starts_with("Return-Path: <Ann Smith"), "{stored}");
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let packs = env.db().join("mail").join("packs");
    assert_eq!(mode(&packs), 0o700);
    let pack = std::fs::read_dir(&packs).unwrap().next().unwrap().unwrap();
    assert!(pack.file_name().to_string_lossy().ends_with(".pack"));
    assert_eq!(mode(&pack.path()), 0o600);
    assert!(env.list(&["--search", "paper"]) == [1]);
    assert!(
        std::fs::read_dir(env.db().join("spool")).unwrap().all(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.')),
        "spool drained (only its lock files are left)"
    );
}

#[test]
fn the_support_address_picks_the_service() {
    let env = Env::new();
    let msg = mail(
        "cat@other.example",
        "Invoice wrong",
        "inv@other.example",
        "",
        "Amount is off.",
    )
    .replace(
        "To: help@corp.example",
        "To: Billing <billing@corp.example>",
    );
    env.deliver(&msg);
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(t["service"], "finance");
    assert_eq!(t["assignee"], "bob");
    // Postfix's X-Original-To counts as a recipient too.
    let msg = mail(
        "dan@other.example",
        "Refund",
        "ref@other.example",
        "X-Original-To: billing@corp.example\n",
        "Please.",
    )
    .replace("To: help@corp.example", "To: undisclosed-recipients:;");
    env.deliver(&msg);
    assert_eq!(env.json(&["ticket", "show", "2"])["service"], "finance");
}

#[test]
fn replies_join_by_references_and_reopen() {
    let env = Env::new();
    env.deliver(&mail(
        "ann@acme.example",
        "VPN down",
        "a1@acme.example",
        "",
        "Cannot connect.",
    ));
    env.ok(&["ticket", "edit", "1", "--status", "closed"]);
    env.deliver(&mail(
        "ann@acme.example",
        "Re: VPN down",
        "a2@acme.example",
        "In-Reply-To: <a1@acme.example>\nReferences: <a1@acme.example>\n",
        "Still broken, xylophone.",
    ));
    // A reply to the reply, by References only.
    env.deliver(&mail(
        "ann@acme.example",
        "Re: Re: VPN down",
        "a3@acme.example",
        "References: <a1@acme.example> <a2@acme.example>\n",
        "Me too.",
    ));
    assert_eq!(env.list(&[]), [1], "no new tickets");
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(
        t["status"], "open",
        "a customer reply reopens a closed ticket"
    );
    let kinds: Vec<_> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        ["created", "mail", "changed", "mail", "changed", "mail"]
    );
    assert_eq!(
        env.list(&["--search", "xylophone"]),
        [1],
        "reply text is searchable"
    );
    let shown = env.ok(&["ticket", "show", "1"]);
    assert!(shown.contains("| Still broken, xylophone."), "{shown}");
}

#[test]
fn subject_tags_are_trusted_only_from_people_on_the_ticket() {
    let env = Env::with_config(&format!("{CONFIG}ingest:\n  trust_from: true\n"));
    env.deliver(&mail(
        "ann@acme.example",
        "Laptop",
        "t1@acme.example",
        "",
        "Broken hinge.",
    ));
    // The requester, with only a tag (AW: from a German client).
    env.deliver(&mail(
        "ann@acme.example",
        "AW: [#1] Laptop",
        "t2@acme.example",
        "",
        "Any news?",
    ));
    assert_eq!(env.list(&[]), [1]);
    // An agent by mail (with `ingest.trust_from`): recorded as an agent reply, no reopen.
    env.ok(&["ticket", "edit", "1", "--status", "pending"]);
    env.deliver(&mail(
        "Alice <alice@desk.example>",
        "RE : [#1] Laptop",
        "t3@desk.example",
        "",
        "Ordered a new one.",
    ));
    let ev = events(&env, 1);
    let last = ev.last().unwrap();
    assert_eq!(last["kind"], "agent-mail");
    assert_eq!(last["actor"], "alice");
    assert_eq!(env.json(&["ticket", "show", "1"])["status"], "pending");
    // A stranger quoting the number gets a ticket of their own, linked.
    env.deliver(&mail(
        "eve@evil.example",
        "Re: [#1] Laptop",
        "t4@evil.example",
        "",
        "Send it to me.",
    ));
    assert_eq!(env.list(&[]), [1, 2]);
    let two = env.json(&["ticket", "show", "2"]);
    assert_eq!(two["links"], serde_json::json!([1]));
    assert_eq!(
        two["events"].as_array().unwrap().last().unwrap()["kind"],
        "linked"
    );
    // #1 is linked back (issue 18, bug 6), but its status and people are the same.
    let one = env.json(&["ticket", "show", "1"]);
    assert_eq!(one["links"], serde_json::json!([2]));
    assert_eq!(one["status"], "pending");
    assert_eq!(one["events"].as_array().unwrap().len(), ev.len() + 1);
    // A tag for a ticket that does not exist is ignored.
    env.deliver(&mail(
        "ann@acme.example",
        "[#99] Other",
        "t5@acme.example",
        "",
        "New thing.",
    ));
    assert_eq!(env.list(&[]), [1, 2, 3]);
    assert_eq!(
        env.json(&["ticket", "show", "3"])["links"],
        serde_json::json!([])
    );
}

/// Issue 18, bug 6: a stranger's `Re: [#1]` links both tickets, each logging it,
/// in one write, and the table view of `show` prints the links.
#[test]
fn links_are_symmetric_and_logged_on_both_tickets() {
    let env = Env::new();
    env.deliver(&mail(
        "ann@acme.example",
        "Laptop",
        "l1@acme.example",
        "",
        "Hinge.",
    ));
    env.deliver(&mail(
        "eve@evil.example",
        "Re: [#1] Laptop",
        "l2@evil.example",
        "",
        "Mine too.",
    ));
    let one = env.json(&["ticket", "show", "1"]);
    let two = env.json(&["ticket", "show", "2"]);
    assert_eq!(one["links"], serde_json::json!([2]));
    assert_eq!(two["links"], serde_json::json!([1]));
    let back = one["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(back["kind"], "linked");
    assert_eq!(back["link"], 2);
    assert_eq!(back["actor"], "eve@evil.example");
    assert_eq!(
        back["text"],
        "linked to #2: mail from eve@evil.example, who is not on this ticket, \
         named it (the subject named #1) and made a ticket of its own"
    );
    assert_eq!(one["updated"], two["created"]);
    for (n, row) in [(1, ["links", "#2"]), (2, ["links", "#1"])] {
        let table = env.ok(&["ticket", "show", &n.to_string()]);
        assert!(
            table.lines().any(|l| l.split_whitespace().eq(row)),
            "{table}"
        );
    }
}

#[test]
fn duplicates_change_nothing() {
    let env = Env::new();
    let m = mail(
        "ann@acme.example",
        "Once",
        "d1@acme.example",
        "",
        "Only once.",
    );
    env.deliver(&m);
    env.deliver(&m);
    let no_id = "From: bob@acme.example\nSubject: No id\n\nSame bytes.\n";
    env.deliver(no_id);
    env.deliver(no_id);
    assert_eq!(env.list(&[]), [1, 2]);
    assert_eq!(events(&env, 1).len(), 2);
}

#[test]
fn machine_mail_is_ignored_but_kept_and_listed() {
    let env = Env::with_config(&CONFIG.replace(
        "views:",
        "ingest:\n  ignore_senders: [spam.example]\n  ignore_subjects: ['(?i)^newsletter']\nviews:",
    ));
    for (i, extra) in [
        "Auto-Submitted: auto-replied\n",
        "X-Autoreply: yes\n",
        "Precedence: bulk\n",
        "X-Loop: postdesk\n",
    ]
    .iter()
    .enumerate()
    {
        env.deliver(&mail(
            "ann@acme.example",
            "Out of office",
            &format!("auto{i}@acme.example"),
            extra,
            "Away.",
        ));
    }
    env.deliver(&mail(
        "MAILER-DAEMON@mx.example",
        "Undelivered",
        "b1@mx.example",
        "",
        "Bounce.",
    ));
    env.deliver(
        &mail("ann@acme.example", "Undelivered", "b2@mx.example", "", "x")
            .replace("Return-Path: <ann@acme.example>", "Return-Path: <>"),
    );
    env.deliver(&mail(
        "x@spam.example",
        "Buy",
        "s1@spam.example",
        "",
        "Buy now.",
    ));
    env.deliver(&mail(
        "ann@acme.example",
        "Newsletter 12",
        "n1@acme.example",
        "",
        "News.",
    ));
    env.deliver(&mail(
        "ann@acme.example",
        "Real",
        "r1@acme.example",
        "Auto-Submitted: no\n",
        "A real request.",
    ));
    assert_eq!(env.list(&[]), [1], "only the real request made a ticket");
    let ignored = env.json(&["ingest", "ignored"]);
    let reasons: Vec<_> = ignored
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        reasons,
        [
            "auto-reply",
            "auto-reply",
            "auto-reply",
            "loop",
            "bounce",
            "bounce",
            "filter: sender spam.example",
            "filter: subject /(?i)^newsletter/"
        ]
    );
    // Kept raw, and a second delivery counts as a duplicate.
    let hash = ignored[0]["hash"].as_str().unwrap();
    assert!(!stored_mail(&env, hash).is_empty());
    let out = env
        .cmd(&["ingest", "--dry-run", "--format", "json"])
        .write_stdin(mail(
            "ann@acme.example",
            "Out of office",
            "auto0@acme.example",
            "Auto-Submitted: auto-replied\n",
            "Away.",
        ))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["duplicates"], 1);
}

#[test]
fn unparsable_mail_is_quarantined_then_retried_or_dropped() {
    let env = Env::new();
    env.deliver("");
    env.deliver("\nno headers here\n");
    assert!(env.list(&[]).is_empty());
    let q = env.json(&["ingest", "quarantine", "list"]);
    let entries = q.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["reason"], "empty message");
    assert!(entries[1]["reason"]
        .as_str()
        .unwrap()
        .contains("no header block"));
    let id = entries[1]["id"].as_str().unwrap().to_string();
    let out = env
        .cmd(&["ingest", "quarantine", "show", &id])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"\nno headers here\n");
    // Retry: fails again, stays quarantined under its id.
    env.ok(&["ingest", "quarantine", "retry", &id]);
    assert_eq!(
        env.json(&["ingest", "quarantine", "list"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let ids: Vec<String> = env
        .json(&["ingest", "quarantine", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    env.ok(&["ingest", "quarantine", "drop", &ids[0], &ids[1]]);
    assert!(env
        .json(&["ingest", "quarantine", "list"])
        .as_array()
        .unwrap()
        .is_empty());
    let err = env.fails(&["ingest", "quarantine", "show", "nope"], 1);
    assert!(err.contains("no quarantined message nope"), "{err}");
}

fn quarantine_ids(env: &Env) -> Vec<String> {
    env.json(&["ingest", "quarantine", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// Issue 18, bug 7: a retry that fails again keeps the ID and says so; a quarantine
/// error names the ID and what to do, never a bare OS error.
#[test]
fn a_quarantine_retry_that_fails_again_keeps_its_id() {
    let env = Env::new();
    env.deliver("\nno headers here\n");
    let [id] = &quarantine_ids(&env)[..] else {
        panic!("one quarantined message")
    };
    let reason = env.json(&["ingest", "quarantine", "list"])[0]["reason"].clone();
    let reason = reason.as_str().unwrap();
    assert_eq!(
        env.ok(&["ingest", "quarantine", "retry", id]),
        format!(
            "{id}: quarantined as {id}: {reason} (`postdesk ingest quarantine show {id}`)\n\
             1 message: 0 created, 0 replies, 0 duplicates, 0 ignored, 1 quarantined\n"
        )
    );
    assert_eq!(&quarantine_ids(&env), std::slice::from_ref(id));
    let json = env.json(&["ingest", "quarantine", "retry", id]);
    assert_eq!(
        json["messages"],
        serde_json::json!([{"retried": id, "outcome": "quarantined", "reason": reason, "quarantine_id": id, "from": "", "subject": ""}])
    );
    // Dropping a mistyped ID with a good one drops neither, and says what to do.
    let err = env.fails(&["ingest", "quarantine", "drop", id, "nope"], 1);
    assert_eq!(
        err,
        "postdesk: no quarantined message nope: `postdesk ingest quarantine list` shows the IDs\n"
    );
    let err = env.fails(&["ingest", "quarantine", "retry", "../x"], 1);
    assert_eq!(
        err,
        "postdesk: '../x' is not a quarantine ID: `postdesk ingest quarantine list` shows the IDs\n"
    );
    let out = env
        .cmd(&["ingest", "quarantine", "drop", id])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "dropped 1 quarantined message\n"
    );
    assert_eq!(out.stderr, b"");
    let err = env.fails(&["ingest", "quarantine", "drop", id], 1);
    assert_eq!(
        err,
        format!("postdesk: no quarantined message {id}: `postdesk ingest quarantine list` shows the IDs\n")
    );
}

#[test]
fn a_broken_config_keeps_the_mail_and_says_so() {
    let env = Env::with_config(&CONFIG.replace("members: [alice, bob]", "members: [alice, bobby]"));
    let out = env.ingest(&mail(
        "ann@acme.example",
        "Help",
        "c1@acme.example",
        "",
        "Please.",
    ));
    assert_success(&out, &["ingest"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CONFIG ERROR") && err.contains("unknown member 'bobby'"),
        "{err}"
    );
    assert!(err.contains("kept in the spool"), "{err}");
    std::fs::write(env.path().join("postdesk.yaml"), config_text()).unwrap();
    let out = env.ok(&["ingest", "spool", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["created"], 1);
    assert_eq!(env.json(&["ticket", "show", "1"])["subject"], "Help");
}

#[test]
fn a_delivery_that_cannot_be_spooled_is_a_temporary_failure() {
    let env = Env::new();
    std::fs::write(env.path().join("not-a-dir"), "x").unwrap();
    let out = env
        .cmd(&["--db", "not-a-dir/db", "ingest"])
        .write_stdin(mail(
            "ann@acme.example",
            "Help",
            "x1@acme.example",
            "",
            "Please.",
        ))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot spool the message"));
    // No config at all and no --db: nowhere to spool, the MTA must retry.
    std::fs::remove_file(env.path().join("postdesk.yaml")).unwrap();
    let out = env.ingest("From: a@b.example\n\nx\n");
    assert_eq!(out.status.code(), Some(75));
}

#[test]
fn mbox_ingest_counts_and_dry_run_writes_nothing() {
    let env = Env::new();
    let mbox = format!(
        "{}\n{}\n{}\n{}\n",
        mail(
            "ann@acme.example",
            "One",
            "x1@acme.example",
            "",
            "First\n>From the start"
        ),
        mail("ben@acme.example", "Two", "x2@acme.example", "", "Second"),
        mail(
            "ann@acme.example",
            "Re: One",
            "x3@acme.example",
            "In-Reply-To: <x1@acme.example>\n",
            "Reply"
        ),
        mail(
            "ann@acme.example",
            "OOO",
            "x4@acme.example",
            "Auto-Submitted: auto-replied\n",
            "Away"
        ),
    );
    std::fs::write(env.path().join("in.mbox"), &mbox).unwrap();
    let dry = env.json(&["ingest", "mbox", "in.mbox", "--dry-run"]);
    assert_eq!(
        dry["summary"],
        serde_json::json!({"created": 2, "replies": 1, "duplicates": 0, "ignored": 1, "quarantined": 0})
    );
    assert_eq!(dry["messages"][2]["outcome"], "reply");
    assert_eq!(dry["messages"][2]["ticket"], 1);
    assert!(env.list(&[]).is_empty(), "dry run wrote nothing");
    assert!(!env.db().join("mail").exists(), "dry run stored no mail");
    let real = env.json(&["ingest", "mbox", "in.mbox"]);
    assert_eq!(real["summary"], dry["summary"]);
    assert_eq!(
        env.json(&["ticket", "show", "1"])["description"],
        "First\nFrom the start\n"
    );
    let again = env.json(&["ingest", "mbox", "in.mbox"]);
    assert_eq!(again["summary"]["duplicates"], 4);
    let table = env.ok(&["ingest", "mbox", "in.mbox"]);
    assert_eq!(
        table.trim(),
        "4 messages: 0 created, 0 replies, 4 duplicates, 0 ignored, 0 quarantined"
    );
}

#[test]
fn maildir_ingest_reads_new_and_cur_and_can_move() {
    let env = Env::new();
    let md = env.path().join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    std::fs::write(
        md.join("new/1.host"),
        mail("ann@acme.example", "New one", "md1@acme.example", "", "x"),
    )
    .unwrap();
    std::fs::write(
        md.join("cur/2.host:2,S"),
        mail("ben@acme.example", "Seen one", "md2@acme.example", "", "y"),
    )
    .unwrap();
    std::fs::write(
        md.join("tmp/3.host"),
        mail(
            "cat@acme.example",
            "Half written",
            "md3@acme.example",
            "",
            "z",
        ),
    )
    .unwrap();
    let out = env.json(&["ingest", "maildir", "Maildir"]);
    assert_eq!(out["summary"]["created"], 2, "tmp/ is not read");
    assert!(
        md.join("new/1.host").exists(),
        "files are left alone by default"
    );
    let out = env.json(&["ingest", "maildir", "Maildir", "--move-to", "done"]);
    assert_eq!(out["summary"]["duplicates"], 2);
    assert!(!md.join("new/1.host").exists() && !md.join("cur/2.host:2,S").exists());
    // Issue 18: DIR is a Maildir, each message in the subdirectory it came from,
    // under its name, flags and all.
    let done = env.path().join("done");
    let listing = |sub: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(done.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(listing("new"), ["1.host"]);
    assert_eq!(listing("cur"), ["2.host:2,S"]);
    assert!(listing("tmp").is_empty());
    assert!(md.join("tmp/3.host").exists(), "tmp/ is not touched");
    let again = env.json(&["ingest", "maildir", "done"]);
    assert_eq!(again["summary"]["duplicates"], 2, "{again}");
    let err = env.fails(&["ingest", "maildir", "nowhere"], 1);
    assert!(err.contains("nowhere is not a Maildir"), "{err}");
}

#[test]
fn attachments_are_listed_and_extracted() {
    let env = Env::new();
    let msg = "From: ann@acme.example\nTo: help@corp.example\nSubject: Screenshot\nMessage-ID: <att@acme.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nSee attached.\n--XX\nContent-Type: text/plain; name=notes.txt\nContent-Disposition: attachment; filename=notes.txt\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQK\n--XX--\n";
    env.deliver(msg);
    let list = env.json(&["ticket", "attachment", "1"]);
    assert_eq!(
        list,
        serde_json::json!([{"id": 1, "name": "notes.txt", "mime": "text/plain", "size": 12}])
    );
    assert_eq!(env.ok(&["ticket", "attachment", "1", "1"]), "hello world\n");
    env.ok(&["ticket", "attachment", "1", "1", "-o", "out.txt"]);
    assert_eq!(
        std::fs::read_to_string(env.path().join("out.txt")).unwrap(),
        "hello world\n"
    );
    let err = env.fails(&["ticket", "attachment", "1", "2"], 1);
    assert!(err.contains("ticket #1 has no attachment 2"), "{err}");
    assert_eq!(
        env.json(&["ticket", "show", "1"])["description"],
        "See attached."
    );
}

/// Issue 18, bug 4: `-o FILE` names FILE, never replaces a file without `--force`,
/// and `-o -` is stdout.
#[test]
fn an_attachment_written_with_o_names_the_file_and_replaces_none() {
    let env = Env::new();
    let msg = "From: ann@acme.example\nTo: help@corp.example\nSubject: Screenshot\nMessage-ID: <att@acme.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nSee attached.\n--XX\nContent-Type: text/plain; name=notes.txt\nContent-Disposition: attachment; filename=notes.txt\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQK\n--XX--\n";
    env.deliver(msg);
    let out = env
        .cmd(&["ticket", "attachment", "1", "1", "-o", "out.txt"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "wrote out.txt (12 bytes): attachment 1 of ticket #1, notes.txt\n"
    );
    assert_eq!(out.stderr, b"");
    let kept = env.path().join("kept.txt");
    std::fs::write(&kept, "mine\n").unwrap();
    let err = env.fails(&["ticket", "attachment", "1", "1", "-o", "kept.txt"], 1);
    assert_eq!(
        err,
        "postdesk: kept.txt exists: pass --force to replace it, another -o FILE, or -o - for stdout\n"
    );
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "mine\n");
    env.ok(&[
        "ticket",
        "attachment",
        "1",
        "1",
        "-o",
        "kept.txt",
        "--force",
    ]);
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "hello world\n");
    assert_eq!(
        env.ok(&["ticket", "attachment", "1", "1", "-o", "-"]),
        "hello world\n"
    );
    assert!(!env.path().join("-").exists());
}

#[test]
fn a_bounce_of_our_own_mail_is_recorded_on_its_ticket() {
    let env = Env::new();
    env.deliver(&mail(
        "ann@acme.example",
        "Help",
        "h1@acme.example",
        "",
        "Please.",
    ));
    {
        // What the mail-out code records when it sends a reply about ticket #1.
        let store =
            postdesk::store::Store::open(&env.db(), std::time::Duration::from_secs(5)).unwrap();
        store
            .transact(|tx| tx.record_outgoing("out1@corp.example", 1))
            .unwrap();
        store.flush().unwrap();
    }
    let bounce = "From: MAILER-DAEMON@mx.acme.example\nTo: help@corp.example\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <bounce1@mx.acme.example>\nIn-Reply-To: <out1@corp.example>\nAuto-Submitted: auto-replied\n\nmailbox full\n";
    env.deliver(bounce);
    // A bounce that answers nothing of ours is only ignored.
    env.deliver(
        &bounce
            .replace("out1@corp", "other@corp")
            .replace("bounce1@", "bounce2@"),
    );
    let ev = events(&env, 1);
    let last = ev.last().unwrap();
    assert_eq!(last["kind"], "delivery-problem");
    assert_eq!(last["mail"]["text"], "mailbox full\n");
    assert!(last["text"]
        .as_str()
        .unwrap()
        .starts_with("delivery problem (bounce)"));
    assert_eq!(env.list(&[]), [1]);
    assert_eq!(
        env.json(&["ingest", "ignored"]).as_array().unwrap().len(),
        1
    );
}

#[test]
fn an_unreadable_spool_entry_is_reported_not_looped_over() {
    let env = Env::new();
    env.deliver(&mail(
        "ann@acme.example",
        "First",
        "u1@acme.example",
        "",
        "x",
    ));
    // Something in the spool that cannot be read as a message.
    std::fs::create_dir_all(env.db().join("spool").join("0-broken.eml")).unwrap();
    let err = env.fails(&["ingest", "spool"], 1);
    assert!(
        err.contains("cannot read spooled message") && err.contains("0-broken.eml"),
        "{err}"
    );
}

/// `ingest spool` (cron) indexes the batch packs once 16 are unindexed, and
/// attachments are then read through that index: here the packs' own indexes are
/// broken, so nothing else could find the message.
#[test]
fn ingest_spool_indexes_the_mail_packs_for_lookups() {
    let env = Env::new();
    let attachment = "From ann@acme.example  Tue Nov 24 21:30:00 2026\nFrom: ann@acme.example\nTo: help@corp.example\nSubject: Screenshot\nMessage-ID: <att@acme.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nSee attached.\n--XX\nContent-Type: text/plain; name=notes.txt\nContent-Disposition: attachment; filename=notes.txt\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQK\n--XX--\n\n";
    for batch in 0..16 {
        let mut mbox = if batch == 0 {
            attachment.to_string()
        } else {
            String::new()
        };
        for i in 0..4 {
            let id = format!("b{batch}-{i}@acme.example");
            mbox.push_str(&mail(
                "ben@acme.example",
                &format!("Batch {batch} {i}"),
                &id,
                "",
                "Hi",
            ));
            mbox.push('\n');
        }
        std::fs::write(env.path().join("in.mbox"), &mbox).unwrap();
        env.ok(&["ingest", "mbox", "in.mbox"]);
    }
    let packs = env.db().join("mail/packs");
    let index = packs.join("multi-pack.idx");
    assert!(!index.exists());
    env.ok(&["ingest", "spool"]);
    assert!(index.exists(), "ingest spool wrote the multi-pack index");
    for entry in std::fs::read_dir(&packs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pack") {
            let len = std::fs::metadata(&path).unwrap().len();
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(len - 1).unwrap();
        }
    }
    assert_eq!(env.ok(&["ticket", "attachment", "1", "1"]), "hello world\n");
}

#[test]
fn a_quarantine_retry_that_cannot_store_keeps_the_message() {
    // Quarantined for its size, then the limit is raised: now it can be stored.
    let env = Env::with_config(&format!("{CONFIG}ingest:\n  max_message_size: 300\n"));
    let big = mail(
        "ann@acme.example",
        "Big",
        "big@acme.example",
        "",
        &"x".repeat(400),
    );
    env.deliver(&big);
    let id = env.json(&["ingest", "quarantine", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(env.path().join("postdesk.yaml"), config_text()).unwrap();
    // Another process holds the database past the lock wait: the retry fails...
    let store = postdesk::store::Store::open(&env.db(), std::time::Duration::from_secs(5)).unwrap();
    env.fails(
        &["--lock-wait", "100ms", "ingest", "quarantine", "retry", &id],
        1,
    );
    drop(store);
    // ...and the message is still there, under its id; the next retry stores it.
    let q = env.json(&["ingest", "quarantine", "list"]);
    assert_eq!(q.as_array().unwrap().len(), 1);
    assert_eq!(q[0]["id"], id.as_str());
    env.ok(&["ingest", "quarantine", "retry", &id]);
    assert_eq!(env.list(&[]), [1]);
    assert!(env
        .json(&["ingest", "quarantine", "list"])
        .as_array()
        .unwrap()
        .is_empty());
}

/// `postdesk ingest --format ...` on stdin, as a person or script runs it.
fn ingest_as(env: &Env, format: &str, message: &str) -> String {
    let out = env
        .cmd(&["ingest", "--format", format])
        .write_stdin(message)
        .output()
        .unwrap();
    assert_success(&out, &["ingest", "--format", format]);
    String::from_utf8(out.stdout).unwrap()
}

/// Issue 18, bug 14: asked for a format, a delivery on stdin says what became of its
/// message; piped as an MTA pipes it, it stays silent.
#[test]
fn a_delivery_asked_for_a_format_says_what_became_of_its_message() {
    let env = Env::new();
    let first = mail("ann@acme.example", "Help", "o1@acme.example", "", "Please.");
    let json: serde_json::Value = serde_json::from_str(&ingest_as(&env, "json", &first)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "summary": {"created": 1, "replies": 0, "duplicates": 0, "ignored": 0, "quarantined": 0},
            "messages": [{"outcome": "created", "ticket": 1, "from": "ann@acme.example", "subject": "Help"}],
        })
    );
    let reply = mail(
        "ann@acme.example",
        "Re: [#1] Help",
        "o2@acme.example",
        "",
        "More.",
    );
    assert_eq!(
        ingest_as(&env, "table", &reply),
        "added to ticket #1: ann@acme.example \"Re: [#1] Help\"\n\
         1 message: 0 created, 1 reply, 0 duplicates, 0 ignored, 0 quarantined\n"
    );
    let json: serde_json::Value = serde_json::from_str(&ingest_as(&env, "json", &reply)).unwrap();
    assert_eq!(
        json["messages"],
        serde_json::json!([{"outcome": "duplicate", "ticket": 1, "from": "ann@acme.example", "subject": "Re: [#1] Help"}])
    );
    let json: serde_json::Value =
        serde_json::from_str(&ingest_as(&env, "json", "\nno headers here\n")).unwrap();
    let id = env.json(&["ingest", "quarantine", "list"])[0]["id"].clone();
    assert_eq!(json["messages"][0]["outcome"], "quarantined");
    assert_eq!(json["messages"][0]["quarantine_id"], id);
    // An MTA's pipe: no --format, stdout not a terminal.
    let out = env.ingest(&mail(
        "ben@acme.example",
        "Other",
        "o3@acme.example",
        "",
        "Hi.",
    ));
    assert_success(&out, &["ingest"]);
    assert_eq!(out.stdout, b"");
    assert_eq!(env.list(&[]), [1, 2]);
}

/// Issue 18, bug 14: a message that waits in the spool says where, and why.
#[test]
fn a_delivery_kept_in_the_spool_says_so_when_asked() {
    let env = Env::with_config(&CONFIG.replace("members: [alice, bob]", "members: [alice, bobby]"));
    let out = env
        .cmd(&["ingest", "--format", "json"])
        .write_stdin(mail(
            "ann@acme.example",
            "Help",
            "s1@acme.example",
            "",
            "Please.",
        ))
        .output()
        .unwrap();
    assert_success(&out, &["ingest", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = &json["messages"][0];
    assert_eq!(message["outcome"], "spooled");
    // Where the config's `db:` puts it, relative to the config found (./postdesk.yaml).
    let spooled = message["spooled"].as_str().unwrap();
    assert!(spooled.starts_with("./db/spool/"), "{json}");
    assert!(env.path().join(spooled).is_file(), "{json}");
    assert_eq!(
        message["reason"],
        "the config does not load (stderr says why); `postdesk ingest spool` processes it once the config is fixed"
    );
}

/// Issue 18, bug 15: "1 reply, 1 duplicate", never "1 replies, 1 duplicates".
#[test]
fn an_import_summary_counts_in_words_that_agree() {
    let env = Env::new();
    let first = mail("ann@acme.example", "Help", "p1@acme.example", "", "Please.");
    let reply = mail(
        "ann@acme.example",
        "Re: [#1] Help",
        "p2@acme.example",
        "",
        "More.",
    );
    std::fs::write(env.path().join("in.mbox"), format!("{first}{reply}{reply}")).unwrap();
    assert_eq!(
        env.ok(&["ingest", "mbox", "in.mbox"]),
        "3 messages: 1 created, 1 reply, 1 duplicate, 0 ignored, 0 quarantined\n"
    );
}

/// Issue 18 (frictions): the quarantine list says when, from whom and about what;
/// `show` piped or with `--raw` writes the exact bytes.
#[test]
fn the_quarantine_list_has_time_sender_and_subject() {
    let env = Env::with_config(&format!("{CONFIG}ingest:\n  max_message_size: 300\n"));
    let big = mail(
        "ann@acme.example",
        "Big",
        "q1@acme.example",
        "",
        &"x".repeat(400),
    );
    env.deliver(&big);
    let list = env.json(&["ingest", "quarantine", "list"]);
    let entry = &list[0];
    assert_eq!(entry["from"], "ann@acme.example");
    assert_eq!(entry["subject"], "Big");
    let at = entry["at"].as_str().unwrap();
    assert!(at.starts_with("20") && at.ends_with('Z'), "{at}");
    let csv = env.ok(&["ingest", "quarantine", "list", "--format", "csv"]);
    assert!(csv.starts_with("id,at,from,subject,size,reason\n"), "{csv}");
    let id = entry["id"].as_str().unwrap();
    for args in [
        &["ingest", "quarantine", "show", id][..],
        &["ingest", "quarantine", "show", id, "--raw"],
    ] {
        let out = env.cmd(args).output().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), big);
    }
}

#[test]
fn search_folds_accents_and_case_in_subject_description_and_replies() {
    let env = Env::new();
    let utf8 = "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n";
    env.deliver(&mail(
        "ann@acme.example",
        "=?UTF-8?Q?=C3=89lectricit=C3=A9_coup=C3=A9e?=",
        "e1@acme.example",
        utf8,
        "Plus d'électricité au bureau, prière d'aider.",
    ));
    env.deliver(&mail(
        "ann@acme.example",
        "Re: panne",
        "e2@acme.example",
        &format!("In-Reply-To: <e1@acme.example>\n{utf8}"),
        "Toujours sans ÉLECTRICITÉ, réessayé ce matin.",
    ));
    let check = |when: &str| {
        for query in ["electricite", "ÉLECTRICITÉ", "Électricité", "electric"] {
            assert_eq!(env.list(&["--search", query]), [1], "{query}, {when}");
        }
        assert_eq!(env.list(&["--search", "coupee"]), [1], "subject, {when}");
        assert_eq!(
            env.list(&["--search", "PRIERE"]),
            [1],
            "description, {when}"
        );
        assert_eq!(env.list(&["--search", "reessaye"]), [1], "reply, {when}");
    };
    check("pending");
    // The 32nd pending text has them all indexed.
    let pending = || {
        let store = Store::open(&env.db(), std::time::Duration::from_secs(5)).unwrap();
        store.pending_words().unwrap()
    };
    assert!(pending() > 0);
    for i in 0..32 {
        env.create(&["-s", &format!("filler {i}")]);
        if pending() == 0 {
            break;
        }
    }
    assert_eq!(pending(), 0, "all indexed");
    check("indexed");
}

/// A message of an archive, with its own Date (and no envelope date to go by).
fn dated(from: &str, subject: &str, id: &str, date: &str, extra: &str) -> String {
    format!(
        "From {from}  Mon Jan  1 00:00:00 2001\nFrom: {from}\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{id}>\nDate: {date}\n{extra}\nbody of {id}\n\n"
    )
}

/// Seconds since the epoch of an RFC 3339 time from JSON.
fn seconds(value: &serde_json::Value) -> i64 {
    let text = value.as_str().expect("a time");
    text.parse::<jiff::Timestamp>().unwrap().as_second()
}

/// Issue 18: an archive import (mbox, Maildir) dates tickets and their mail by the
/// mail's Date when it is plausible (from 1990 on, not ahead of the clock by more
/// than 15 minutes), else by the import; `updated` follows the latest mail, in
/// whatever order the archive holds it. A piped delivery is dated on arrival.
#[test]
fn an_archive_import_dates_tickets_by_their_mail() {
    let env = Env::new();
    let reply = "In-Reply-To: <a1@acme.example>\n";
    let mbox = [
        dated(
            "ann@acme.example",
            "Printer",
            "a1@acme.example",
            "Tue, 5 Mar 2024 10:00:00 +0100",
            "",
        ),
        dated(
            "ann@acme.example",
            "Re: Printer",
            "a2@acme.example",
            "Thu, 7 Mar 2024 09:00:00 +0000",
            reply,
        ),
        dated(
            "ann@acme.example",
            "Re: Printer",
            "a3@acme.example",
            "Wed, 6 Mar 2024 09:00:00 +0000",
            reply,
        ),
        dated(
            "ben@acme.example",
            "Future",
            "f1@acme.example",
            "Fri, 1 Jan 2100 00:00:00 +0000",
            "",
        ),
        dated(
            "cy@acme.example",
            "Epoch",
            "e1@acme.example",
            "Thu, 1 Jan 1970 00:00:00 +0000",
            "",
        ),
        dated(
            "di@acme.example",
            "Garbled",
            "g1@acme.example",
            "yesterday-ish",
            "",
        ),
    ]
    .concat();
    std::fs::write(env.path().join("in.mbox"), mbox).unwrap();
    let before = jiff::Timestamp::now().as_second();
    env.ok(&["ingest", "mbox", "in.mbox"]);
    let after = jiff::Timestamp::now().as_second();
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(t["created"], "2024-03-05T09:00:00Z");
    assert_eq!(
        t["updated"], "2024-03-07T09:00:00Z",
        "the latest mail, not the last read"
    );
    let at: Vec<_> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mail")
        .map(|e| e["at"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        at,
        [
            "2024-03-05T09:00:00Z",
            "2024-03-07T09:00:00Z",
            "2024-03-06T09:00:00Z"
        ]
    );
    for n in ["2", "3", "4"] {
        let t = env.json(&["ticket", "show", n]);
        let created = seconds(&t["created"]);
        assert!(
            (before..=after).contains(&created),
            "#{n} {}: import time",
            t["subject"]
        );
    }
    // A Maildir is an archive too.
    let md = env.path().join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    std::fs::write(
        md.join("new/1.host"),
        dated(
            "ed@acme.example",
            "Scanner",
            "m1@acme.example",
            "Mon, 2 Dec 2019 08:30:00 +0000",
            "",
        ),
    )
    .unwrap();
    env.ok(&["ingest", "maildir", "Maildir"]);
    assert_eq!(
        env.json(&["ticket", "show", "5"])["created"],
        "2019-12-02T08:30:00Z"
    );
    // A delivery is dated on arrival, whatever its Date says.
    let before = jiff::Timestamp::now().as_second();
    env.deliver(&dated(
        "fay@acme.example",
        "Fax",
        "p1@acme.example",
        "Tue, 5 Mar 2024 10:00:00 +0100",
        "",
    ));
    let t = env.json(&["ticket", "show", "6"]);
    assert!(seconds(&t["created"]) >= before, "{}", t["created"]);
}

/// The IDs `ingest ignored` lists, by subject.
fn ignored_ids(env: &Env) -> Vec<(u64, String)> {
    let list = env.json(&["ingest", "ignored"]);
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_u64().unwrap(),
                m["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Issue 18: `ingest ignored retry ID` makes a ticket of ignored mail, past the
/// filter or rule that ignored it; the record goes once the ticket is stored, and
/// a retry that cannot be done names the ID, says what to do and changes nothing.
#[test]
fn ignored_mail_can_be_made_into_a_ticket() {
    let env = Env::with_config(&CONFIG.replace(
        "views:",
        "ingest:\n  ignore_subjects: ['(?i)^newsletter']\nviews:",
    ));
    let rules = env.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("10-drop.yaml"),
        "- name: drop\n  conditions: [{ subject: { contains: lottery } }]\n  actions: [{ ignore: true }]\n",
    )
    .unwrap();
    let auto = mail(
        "ann@acme.example",
        "Away",
        "i1@acme.example",
        "Auto-Submitted: auto-replied\n",
        "I am away but the printer is broken.",
    );
    let news = mail(
        "ben@acme.example",
        "Newsletter 3",
        "i3@acme.example",
        "",
        "News.",
    );
    env.deliver(&auto);
    env.deliver(&mail(
        "cy@acme.example",
        "Lottery printer",
        "i2@acme.example",
        "",
        "x",
    ));
    env.deliver(&news);
    env.deliver(&news);
    assert!(env.list(&[]).is_empty());
    let ids = ignored_ids(&env);
    let subjects: Vec<&str> = ids.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        subjects,
        ["Away", "Lottery printer", "Newsletter 3", "Newsletter 3"]
    );
    let (away, lottery, news_id, news_copy) = (ids[0].0, ids[1].0, ids[2].0, ids[3].0);

    let out = env.json(&["ingest", "ignored", "retry", &away.to_string()]);
    assert_eq!(out["messages"][0]["retried"], away.to_string());
    assert_eq!(out["messages"][0]["outcome"], "created");
    assert_eq!(out["messages"][0]["ticket"], 1);
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(t["subject"], "Away");
    assert_eq!(t["requester"]["email"], "ann@acme.example");
    assert_eq!(t["description"], "I am away but the printer is broken.\n");
    assert!(!ignored_ids(&env).iter().any(|(id, _)| *id == away));
    // Gone from the list, so a second retry says so; a copy is now a duplicate of #1.
    let err = env.fails(&["ingest", "ignored", "retry", &away.to_string()], 1);
    assert!(
        err.contains(&format!(
            "no ignored mail {away}; `postdesk ingest ignored` lists the IDs"
        )),
        "{err}"
    );
    let out = env
        .cmd(&["ingest", "--format", "json"])
        .write_stdin(auto)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["messages"][0]["outcome"], "duplicate", "{report}");
    assert_eq!(report["messages"][0]["ticket"], 1, "{report}");

    // Past a rule's ignore, and in the table format.
    let out = env.ok(&["ingest", "ignored", "retry", &lottery.to_string()]);
    assert!(
        out.starts_with(&format!(
            "{lottery}: created ticket #2 from cy@acme.example \"Lottery printer\""
        )),
        "{out}"
    );

    // A copy's record, once its original made a ticket, says where the mail is.
    let unknown = env.fails(&["ingest", "ignored", "retry", "999999"], 1);
    assert!(unknown.contains("no ignored mail 999999;"), "{unknown}");
    env.ok(&["ingest", "ignored", "retry", &news_id.to_string()]);
    let err = env.fails(&["ingest", "ignored", "retry", &news_copy.to_string()], 1);
    assert!(
        err.contains(&format!(
            "ignored mail {news_copy} is a copy of mail on ticket #3: it is there already"
        )),
        "{err}"
    );
    assert!(
        ignored_ids(&env).iter().any(|(id, _)| *id == news_copy),
        "kept"
    );
    assert_eq!(env.list(&[]), [1, 2, 3]);
}

/// A retry whose stored message is missing names the ID and changes nothing.
#[test]
fn an_ignored_retry_without_its_message_keeps_the_record() {
    let env = Env::new();
    env.deliver(&mail(
        "ann@acme.example",
        "Away",
        "j1@acme.example",
        "X-Autoreply: yes\n",
        "x",
    ));
    let ignored = env.json(&["ingest", "ignored"]);
    let (id, hash) = (
        ignored[0]["id"].as_u64().unwrap(),
        ignored[0]["hash"].as_str().unwrap(),
    );
    std::fs::remove_file(env.db().join(format!("mail/packs/{hash}.pack"))).unwrap();
    let err = env.fails(&["ingest", "ignored", "retry", &id.to_string()], 1);
    assert!(
        err.contains(&format!(
            "ignored mail {id}: its message cannot be read; nothing was changed"
        )),
        "{err}"
    );
    assert_eq!(ignored_ids(&env), [(id, "Away".to_string())]);
    assert!(env.list(&[]).is_empty());
}

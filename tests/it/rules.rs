//! Rules: every condition, operator, action, `when`, `stop`, nesting, the default,
//! load errors with their lines, and the `rule` commands.

use crate::common::Env;

fn with_rules(files: &[(&str, &str)]) -> Env {
    let env = Env::new();
    let dir = env.path().join("rules");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    env
}

/// Names of the rules that match a mail as a new ticket (`rule test`, which writes nothing).
fn matched(env: &Env, mail: &str) -> Vec<String> {
    std::fs::write(env.path().join("m.eml"), mail).unwrap();
    let report = env.json(&["rule", "test", "m.eml"]);
    report["matched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The lines `rule check` prints, which must fail.
fn check_failures(env: &Env) -> Vec<String> {
    let err = env.fails(&["rule", "check"], 1);
    err.lines().map(str::to_string).collect()
}

/// The texts of a shown ticket's `mail-queued` events.
fn queued_mails(ticket: &serde_json::Value) -> Vec<&str> {
    ticket["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mail-queued")
        .map(|e| e["text"].as_str().unwrap())
        .collect()
}

const OPERATORS: &str = r#"
- name: from-equals
  conditions: [{ from: ANN@acme.example }]
- name: from-name-contains
  conditions: [{ from-name: { contains: smith } }]
- name: from-domain
  conditions: [{ from-domain: acme.example }]
- name: to-in
  conditions: [{ to: { in: [nobody@x.example, help@corp.example] } }]
- name: cc-exists
  conditions: [{ cc: { exists: true } }]
- name: recipient
  conditions: [{ recipient: billing@corp.example }]
- name: subject-starts
  conditions: [{ subject: { starts-with: "urgent:" } }]
- name: subject-ends
  conditions: [{ subject: { ends-with: please } }]
- name: subject-regex
  conditions: [{ subject: { regex: '\bvpn\b' } }]
- name: subject-case-sensitive
  conditions: [{ subject: { contains: vpn, case-sensitive: true } }]
- name: body-contains
  conditions: [{ body: { contains: "ERROR 42" } }]
- name: header-equals
  conditions: [{ header: { name: x-priority, equals: 1 } }]
- name: no-spam-header
  conditions: [{ not: { header: { name: X-Spam, exists: true } } }]
- name: has-attachment
  conditions: [{ has-attachment: true }]
- name: size-greater
  conditions: [{ size: { greater-than: 300 } }]
- name: size-less
  conditions: [{ size: { less-than: 300 } }]
- name: status-in
  conditions: [{ status: [open, pending] }]
- name: priority-equals
  conditions: [{ priority: medium }]
- name: assignee-group
  conditions: [{ assignee: "@support" }]
- name: service-equals
  conditions: [{ service: finance }]
- name: category-missing
  conditions: [{ category: { exists: false } }]
- name: tags-none
  conditions: [{ not: { tags: { exists: true } } }]
- name: field-missing
  conditions: [{ field: { name: asset, exists: false } }]
- name: nested
  conditions:
    - all:
        - any: [{ subject: { contains: wifi } }, { subject: { contains: vpn } }]
        - not: { from-domain: spam.example }
- name: match-any
  match: any
  conditions: [{ subject: { contains: zzz } }, { from-domain: other.example }]
- name: match-all-fails
  conditions: [{ subject: { contains: zzz } }, { from-domain: other.example }]
"#;

const MAIL_A: &str = "From: Ann Smith <ann@acme.example>\nTo: help@corp.example\nCc: boss@acme.example\nSubject: urgent: VPN broken please\nX-Priority: 1\nMessage-ID: <a@acme.example>\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nI get error 42 all the time.\n--B\nContent-Type: text/plain; name=log.txt\nContent-Disposition: attachment; filename=log.txt\n\nlog\n--B--\n";
const MAIL_B: &str =
    "From: bob@other.example\nTo: billing@corp.example\nSubject: hello\nX-Spam: yes\n\nhi\n";

#[test]
fn every_condition_and_operator() {
    let env = with_rules(&[("10-ops.yaml", OPERATORS)]);
    let a = matched(&env, MAIL_A);
    let expected_a = [
        "from-equals",
        "from-name-contains",
        "from-domain",
        "to-in",
        "cc-exists",
        "subject-starts",
        "subject-ends",
        "subject-regex",
        "body-contains",
        "header-equals",
        "no-spam-header",
        "has-attachment",
        "size-greater",
        "status-in",
        "priority-equals",
        "assignee-group",
        "category-missing",
        "tags-none",
        "field-missing",
        "nested",
    ];
    assert_eq!(a, expected_a);
    let b = matched(&env, MAIL_B);
    let expected_b = [
        "recipient",
        "size-less",
        "status-in",
        "priority-equals",
        "service-equals",
        "category-missing",
        "tags-none",
        "field-missing",
        "match-any",
    ];
    assert_eq!(
        b, expected_b,
        "billing@ mail: service finance, assignee bob"
    );
}

#[test]
fn actions_change_the_ticket_and_are_logged() {
    let env = with_rules(&[(
        "10-actions.yaml",
        r#"
- name: triage
  when: created
  conditions: [{ subject: { contains: laptop } }]
  actions:
    - set: { status: pending, priority: urgent, service: it, category: hardware, fields: { asset: PC-9 } }
    - assign: bob
    - tag: [hardware, temp]
    - untag: temp
    - follow: [boss@corp.example, cto@corp.example]
    - notify: { to: managers, template: notify }
    - reply: { template: acknowledge }
"#,
    )]);
    env.deliver("From: ann@acme.example\nTo: billing@corp.example\nSubject: laptop broken\nMessage-ID: <l1@acme.example>\n\nhelp\n");
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(t["status"], "pending");
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["service"], "it", "moved from finance (the address) to it");
    assert_eq!(t["category"], "hardware");
    assert_eq!(t["fields"]["asset"], "PC-9");
    assert_eq!(t["assignee"], "bob");
    assert_eq!(t["tags"], serde_json::json!(["hardware"]));
    assert!(t["followers"]
        .as_array()
        .unwrap()
        .contains(&"cto@corp.example".into()));
    let events = t["events"].as_array().unwrap();
    let by_rule: Vec<_> = events
        .iter()
        .filter(|e| e["actor"] == "rule 'triage'")
        .collect();
    assert!(
        by_rule
            .iter()
            .any(|e| e["text"] == "changed priority from medium to urgent"),
        "{by_rule:?}"
    );
    assert_eq!(
        queued_mails(&t),
        [
            "queued a notify mail to managers (template notify)",
            "queued a reply mail to requester (template acknowledge)"
        ]
    );
    let shown = env.ok(&["ticket", "show", "1"]);
    assert!(
        shown.contains("rule 'triage': changed priority from medium to urgent"),
        "{shown}"
    );
    // The rule is named once, as the actor (issue 18).
    assert!(
        shown.contains("rule 'triage': queued a notify mail to managers (template notify)"),
        "{shown}"
    );
}

#[test]
fn ignore_stop_and_the_default_rule() {
    let env = with_rules(&[
        (
            "10-first.yaml",
            r#"
- name: drop newsletters
  when: created
  conditions: [{ from-domain: news.example }]
  actions: [{ ignore: true }]
- name: vip first
  conditions: [{ from-domain: vip.example }]
  actions: [{ set: { priority: high } }, { stop: true }]
- name: rule-level stop
  conditions: [{ from-domain: stop.example }]
  actions: [{ tag: [stopped] }]
  stop: true
"#,
        ),
        (
            "20-later.yaml",
            "- name: tag everything\n  actions: [{ tag: [seen] }]\n- name: disabled one\n  enabled: false\n  actions: [{ tag: [never] }]\n",
        ),
    ]);
    env.deliver("From: n@news.example\nSubject: News\nMessage-ID: <n1@news.example>\n\nx\n");
    env.deliver("From: v@vip.example\nSubject: VIP\nMessage-ID: <v1@vip.example>\n\nx\n");
    env.deliver("From: s@stop.example\nSubject: Stop\nMessage-ID: <s1@stop.example>\n\nx\n");
    env.deliver("From: p@plain.example\nTo: nowhere@corp.example\nSubject: Plain\nMessage-ID: <p1@plain.example>\n\nx\n");
    let ignored = env.json(&["ingest", "ignored"]);
    assert_eq!(ignored[0]["reason"], "rule 'drop newsletters'");
    let tickets = env.json(&["ticket", "list"]);
    let list = tickets.as_array().unwrap();
    assert_eq!(list.len(), 3, "the newsletter made no ticket");
    assert_eq!(list[0]["subject"], "VIP");
    assert_eq!(list[0]["priority"], "high");
    assert_eq!(
        list[0]["tags"],
        serde_json::json!([]),
        "stop: later files not run"
    );
    assert_eq!(list[1]["tags"], serde_json::json!(["stopped"]));
    assert_eq!(
        list[2]["tags"],
        serde_json::json!(["seen"]),
        "files run in name order; disabled rules never"
    );
    assert_eq!(
        list[2]["service"], "it",
        "no rule decided: the default service"
    );
    // The same message again is a duplicate, even though a rule ignored it; it is
    // listed as one, and the rules do not run again.
    env.deliver("From: n@news.example\nSubject: News\nMessage-ID: <n1@news.example>\n\nx\n");
    let ignored = env.json(&["ingest", "ignored"]);
    assert_eq!(ignored.as_array().unwrap().len(), 2);
    assert_eq!(
        ignored[1]["reason"],
        "duplicate of mail that made no ticket"
    );
    assert_eq!(env.list(&[]).len(), 3);
}

#[test]
fn when_selects_the_event() {
    let env = with_rules(&[(
        "10-when.yaml",
        r#"
- name: on created
  when: created
  actions: [{ tag: [c] }]
- name: on reply
  when: reply
  actions: [{ tag: [r] }]
- name: on update
  when: [updated]
  conditions: [{ status: closed }]
  actions: [{ tag: [closed-by-shell] }]
- name: on any
  when: any
  conditions: [{ priority: urgent }]
  actions: [{ tag: [hot] }]
"#,
    )]);
    env.deliver("From: ann@acme.example\nSubject: First\nMessage-ID: <w1@acme.example>\n\nx\n");
    assert_eq!(
        env.json(&["ticket", "show", "1"])["tags"],
        serde_json::json!(["c"])
    );
    env.deliver("From: ann@acme.example\nSubject: Re: First\nIn-Reply-To: <w1@acme.example>\nMessage-ID: <w2@acme.example>\n\nx\n");
    assert_eq!(
        env.json(&["ticket", "show", "1"])["tags"],
        serde_json::json!(["c", "r"])
    );
    env.ok(&["ticket", "edit", "1", "--status", "closed", "-p", "urgent"]);
    assert_eq!(
        env.json(&["ticket", "show", "1"])["tags"],
        serde_json::json!(["c", "closed-by-shell", "hot", "r"])
    );
    // From the shell too: created fires on `ticket create`.
    let t = env.json(&["ticket", "create", "-s", "by hand"]);
    assert_eq!(
        env.json(&["ticket", "show", &t["number"].to_string()])["tags"],
        serde_json::json!(["c"])
    );
}

#[test]
fn load_errors_name_file_line_and_rule() {
    let env = with_rules(&[
        (
            "10-bad.yaml",
            "# comment\n- name: typo\n  conditons: []\n- name: bad regex\n  conditions:\n    - subject: { regex: '(' }\n- name: ghost\n  actions:\n    - assign: ghost\n- name: bad template\n  actions:\n    - reply: { template: nope }\n",
        ),
        (
            "20-bad.yaml",
            "- name: typo\n  actions: [{ tag: [x] }]\n- name: bad status\n  conditions:\n    - status: finished\n- name: bad service\n  actions:\n    - set: { service: hr }\n- name: wrong type\n  stop: maybe\n- name: unknown condition\n  conditions:\n    - colour: red\n",
        ),
    ]);
    let err = env.fails(&["rule", "check"], 1);
    let lines: Vec<&str> = err.lines().collect();
    let expect = [
        "rules/10-bad.yaml:3:3: rule 'typo': unknown field `conditons`",
        "rules/10-bad.yaml:6:16: rule 'bad regex': conditions.subject: bad regex /(/: unclosed group",
        "rules/10-bad.yaml:9:7: rule 'ghost': actions: assign: unknown user 'ghost'",
        "rules/10-bad.yaml:12:7: rule 'bad template': actions: unknown template 'nope'",
        "rules/20-bad.yaml:5:15: rule 'bad status': conditions.status: unknown status 'finished'",
        "rules/20-bad.yaml:8:7: rule 'bad service': actions: set: unknown service 'hr'",
        "rules/20-bad.yaml:10:9: rule 'wrong type': stop: invalid type: string \"maybe\", expected a boolean",
        "rules/20-bad.yaml:13:7: rule 'unknown condition': conditions: unknown condition 'colour'",
        "rules/20-bad.yaml:1: rule 'typo': duplicate rule name (first at",
    ];
    for want in expect {
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "missing {want:?} in:\n{err}"
        );
    }
    assert!(err.contains("postdesk: 9 errors in the rules"), "{err}");
    // Checking one file reports only its errors.
    let err = env.fails(&["rule", "check", "rules/10-bad.yaml"], 1);
    assert!(err.contains("4 errors"), "{err}");
    // Commands that run rules refuse; `ticket list` does not need them.
    let err = env.fails(&["ticket", "create", "-s", "x"], 1);
    assert!(
        err.contains("broken rules:") && err.contains("rules/10-bad.yaml:3:3"),
        "{err}"
    );
    env.ok(&["ticket", "list"]);
}

#[test]
fn ingest_with_broken_rules_keeps_the_mail() {
    let env = with_rules(&[(
        "10-bad.yaml",
        "- name: oops\n  actions:\n    - assign: ghost\n",
    )]);
    let out =
        env.ingest("From: ann@acme.example\nSubject: Kept\nMessage-ID: <k1@acme.example>\n\nx\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "never bounce for our own mistake"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown user 'ghost'") && err.contains("kept in the spool"),
        "{err}"
    );
    assert!(env.list(&[]).is_empty());
    std::fs::write(
        env.path().join("rules/10-bad.yaml"),
        "- name: fixed\n  actions:\n    - assign: bob\n",
    )
    .unwrap();
    env.ok(&["ingest", "spool"]);
    assert_eq!(env.json(&["ticket", "show", "1"])["assignee"], "bob");
}

#[test]
fn enable_disable_edit_in_place_and_keep_the_rest() {
    let text = "# Triage rules\n\n- name: first  # the first one\n  actions: [{ tag: [one] }]\n\n# between\n- name: second\n  enabled: true   # keep me\n  actions: [{ tag: [two] }]\n";
    let env = with_rules(&[("10-t.yaml", text)]);
    env.ok(&["rule", "disable", "first"]);
    env.ok(&["rule", "disable", "second"]);
    let edited = std::fs::read_to_string(env.path().join("rules/10-t.yaml")).unwrap();
    assert_eq!(
        edited,
        "# Triage rules\n\n- name: first  # the first one\n  enabled: false\n  actions: [{ tag: [one] }]\n\n# between\n- name: second\n  enabled: false   # keep me\n  actions: [{ tag: [two] }]\n"
    );
    let list = env.json(&["rule", "list"]);
    assert_eq!(list[0]["enabled"], false);
    assert_eq!(list[1]["enabled"], false);
    env.ok(&["rule", "enable", "first"]);
    assert_eq!(env.json(&["rule", "list"])[0]["enabled"], true);
    let err = env.fails(&["rule", "enable", "third"], 1);
    assert!(err.contains("no rule named 'third'"), "{err}");
}

#[test]
fn list_show_and_test_with_trace() {
    let env = with_rules(&[(
        "10-x.yaml",
        "- name: vpn\n  when: [created, reply]\n  conditions:\n    - subject: { contains: vpn }\n    - from-domain: acme.example\n  actions:\n    - set: { priority: high }\n    - notify: assignee\n",
    )]);
    let list = env.json(&["rule", "list"]);
    assert_eq!(list[0]["order"], 1);
    assert_eq!(list[0]["file"], "10-x.yaml");
    assert_eq!(list[0]["when"], serde_json::json!(["created", "reply"]));
    assert_eq!(
        list[0]["summary"],
        "if all of 2 conditions: set priority high, notify assignee (notify)"
    );
    let shown = env.ok(&["rule", "show", "vpn"]);
    assert!(
        shown.starts_with("# ") && shown.contains("10-x.yaml:1\n- name: vpn\n"),
        "{shown}"
    );
    std::fs::write(
        env.path().join("m.eml"),
        "From: Ann <ann@acme.example>\nSubject: VPN down\n\nx\n",
    )
    .unwrap();
    let out = env.ok(&["rule", "test", "m.eml", "--trace"]);
    assert!(out.contains("rule 'vpn': matched"), "{out}");
    assert!(
        out.contains("yes  subject contains \"vpn\" (looked at [\"VPN down\"])"),
        "{out}"
    );
    assert!(
        out.contains("yes  from-domain equals \"acme.example\" (looked at [\"acme.example\"])"),
        "{out}"
    );
    assert!(out.contains("result: status open, priority high"), "{out}");
    assert!(
        out.contains("would send: notify to assignee (template notify, rule 'vpn')"),
        "{out}"
    );
    assert!(env.list(&[]).is_empty(), "rule test writes nothing");
    // Against a ticket: as a reply with a message, as an update without.
    env.create(&["-s", "Other"]);
    let report = env.json(&["rule", "test", "--ticket", "1"]);
    assert_eq!(report["event"], "updated");
    assert_eq!(report["matched"], serde_json::json!([]));
    let report = env.json(&["rule", "test", "m.eml", "--ticket", "1"]);
    assert_eq!(report["event"], "reply");
    assert_eq!(report["matched"], serde_json::json!(["vpn"]));
    assert_eq!(
        env.json(&["ticket", "show", "1"])["priority"],
        "medium",
        "still nothing written"
    );
}

/// Issue 18, bug 3: a group's header carries the group's result, and no `=> false`
/// line is left at the indent of the conditions.
#[test]
fn trace_shows_each_group_result_on_its_header() {
    let env = with_rules(&[(
        "10-groups.yaml",
        r#"
- name: groups
  conditions:
    - any: [{ subject: { contains: wifi } }, { subject: { contains: vpn } }]
    - not: { from-domain: acme.example }
    - all: [{ subject: { contains: hello } }]
  actions:
    - tag: [x]
"#,
    )]);
    std::fs::write(
        env.path().join("m.eml"),
        "From: ann@acme.example\nSubject: hello\n\nx\n",
    )
    .unwrap();
    let out = env.ok(&["rule", "test", "m.eml", "--trace"]);
    let trace = out.split("\n\n").next().unwrap();
    assert_eq!(
        trace,
        r#"rule 'groups': no match
  no   any of:
    no   subject contains "wifi" (looked at ["hello"])
    no   subject contains "vpn" (looked at ["hello"])
  no   not:
    yes  from-domain equals "acme.example" (looked at ["acme.example"])
  yes  all of:
    yes  subject contains "hello" (looked at ["hello"])"#
    );
    let report = env.json(&["rule", "test", "m.eml", "--trace"]);
    let headers: Vec<_> = report["trace"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["depth"] == 1)
        .map(|t| (t["text"].as_str().unwrap(), t["matched"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        headers,
        [("any of:", false), ("not:", false), ("all of:", true)]
    );
}

/// Issue 18, bug 8: mail a rule ignores makes no ticket, so nothing is sent about it.
#[test]
fn an_ignored_mail_would_send_nothing() {
    let env = with_rules(&[(
        "10-ack.yaml",
        "- name: ack\n  actions:\n    - reply: { template: acknowledge }\n- name: drop\n  actions:\n    - ignore: true\n",
    )]);
    std::fs::write(
        env.path().join("m.eml"),
        "From: ann@acme.example\nSubject: hello\n\nx\n",
    )
    .unwrap();
    let out = env.ok(&["rule", "test", "m.eml"]);
    assert!(
        out.contains("the mail would be ignored (rule 'drop'): no ticket"),
        "{out}"
    );
    assert!(!out.contains("would send"), "{out}");
    let report = env.json(&["rule", "test", "m.eml"]);
    assert_eq!(report["mails"], serde_json::json!([]));
}

/// Issue 18, bug 9: a mail action whose recipient is nobody on the ticket is skipped
/// and said so, never queued.
#[test]
fn a_mail_to_nobody_is_skipped_not_queued() {
    let env = with_rules(&[(
        "10-mail.yaml",
        "- name: ack\n  when: created\n  actions:\n    - reply: { template: acknowledge }\n    - notify: assignee\n    - notify: managers\n",
    )]);
    // From the shell: no requester; assigned to nobody; service it has manager alice.
    env.create(&["-s", "Printer", "-a", "none"]);
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(
        queued_mails(&t),
        ["queued a notify mail to managers (template notify)"]
    );
    let out = env.ok(&[
        "rule", "test", "--ticket", "1", "--event", "created", "--trace",
    ]);
    assert!(
        out.contains(
            "  no   skipped a reply mail to requester: nobody to send it to on this ticket\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("would not send: reply to requester, nobody on this ticket (rule 'ack')"),
        "{out}"
    );
    assert!(
        out.contains("would not send: notify to assignee, nobody on this ticket (rule 'ack')"),
        "{out}"
    );
    assert!(
        out.contains("would send: notify to managers (template notify, rule 'ack')"),
        "{out}"
    );
    let report = env.json(&["rule", "test", "--ticket", "1", "--event", "created"]);
    let to = |list: &serde_json::Value| -> Vec<String> {
        let list = list.as_array().unwrap().iter();
        list.map(|m| format!("{} {}", m["kind"], m["to"])).collect()
    };
    assert_eq!(to(&report["mails"]), [r#""notify" "managers""#]);
    assert_eq!(
        to(&report["skipped"]),
        [r#""reply" "requester""#, r#""notify" "assignee""#]
    );
}

/// Issue 18, bug 15: "1 error", not "1 errors".
#[test]
fn rule_counts_agree_with_their_noun() {
    let env = with_rules(&[("10-one.yaml", "- name: one\n  actions: [{ tag: [x] }]\n")]);
    let out = env.cmd(&["rule", "check"]).output().unwrap();
    crate::common::assert_success(&out, &["rule", "check"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 rule in 1 file: OK"), "{said}");
    std::fs::write(
        env.path().join("rules/10-one.yaml"),
        "- name: one\n  actions: [{ assign: ghost }]\n",
    )
    .unwrap();
    let err = env.fails(&["rule", "check"], 1);
    assert!(err.contains("postdesk: 1 error in the rules"), "{err}");
    std::fs::write(
        env.path().join("rules/10-one.yaml"),
        "- name: one
  conditions: [{ any: [{ subject: x }] }]
  actions: [{ tag: [x] }]
",
    )
    .unwrap();
    assert_eq!(
        env.json(&["rule", "list"])[0]["summary"],
        "if any of 1 condition: tag x"
    );
}

/// Issue 18, bug 13: every error of a rule, each at its own line (the `when` error
/// pointed at the rule's first line, and only the first error was reported).
#[test]
fn check_reports_every_error_of_a_rule_at_its_line() {
    let env = with_rules(&[(
        "10-bad.yaml",
        "- name: several\n  when: creatd\n  conditions:\n    - subject: { contains: x }\n    - subjet: { contains: x }\n  actions:\n    - tag: [a]\n    - assign: bobby\n- name: listed\n  when: [created, replly]\n",
    )]);
    assert_eq!(
        check_failures(&env),
        [
            "rules/10-bad.yaml:2:9: rule 'several': when: unknown event 'creatd', expected created, reply, updated, assigned, commented, closed, reopened, transferred or any, or a list of them",
            "rules/10-bad.yaml:5:7: rule 'several': conditions: unknown condition 'subjet', expected one of from, from-name, from-domain, to, cc, recipient, subject, body, header, has-attachment, size, status, priority, assignee, service, category, tags, field, author, not, all, any",
            "rules/10-bad.yaml:8:7: rule 'several': actions: assign: unknown user 'bobby'",
            "rules/10-bad.yaml:10:19: rule 'listed': when[1]: unknown event 'replly', expected created, reply, updated, assigned, commented, closed, reopened, transferred or any, or a list of them",
            "postdesk: 4 errors in the rules",
        ]
    );
}

/// The test config with a third service, facilities, whose category is plumbing.
fn with_facilities(rules: &str) -> Env {
    let config = crate::common::CONFIG.replace(
        "fields:\n",
        "  - name: facilities\n    addresses: [facilities@corp.example]\n    categories:\n      - name: plumbing\nfields:\n",
    );
    let env = Env::with_config(&config);
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(env.path().join("rules/10-cat.yaml"), rules).unwrap();
    env
}

/// Issue 18, bug 2: a rule cannot give a ticket a category of another service.
#[test]
fn a_rule_sets_only_a_category_of_the_tickets_service() {
    let env = with_facilities(
        "- name: leak\n  conditions:\n    - recipient: help@corp.example\n  actions:\n    - tag: [wet]\n    - set: { category: plumbing }\n- name: both\n  actions:\n    - set: { service: it, category: plumbing }\n- name: either\n  match: any\n  conditions:\n    - service: facilities\n    - subject: { contains: leak }\n  actions:\n    - set: { category: plumbing }\n",
    );
    assert_eq!(
        check_failures(&env),
        [
            "rules/10-cat.yaml:6:7: rule 'leak': set: category 'plumbing' belongs to facilities only, but the ticket can be in it, finance here (set the service in the same rule, or add the condition `service: facilities`)",
            "rules/10-cat.yaml:9:7: rule 'both': set: service 'it' has no category 'plumbing' (it has: hardware, access)",
            "rules/10-cat.yaml:16:7: rule 'either': set: category 'plumbing' belongs to facilities only, but the ticket can be in it, finance here (set the service in the same rule, or add the condition `service: facilities`)",
            "postdesk: 3 errors in the rules",
        ]
    );
    // The service known at that point, by a condition or an earlier action, is enough.
    let env = with_facilities(
        "- name: leak\n  conditions:\n    - service: facilities\n  actions:\n    - set: { category: plumbing }\n- name: moved\n  conditions:\n    - subject: { contains: leak }\n  actions:\n    - set: { service: facilities }\n    - tag: [wet]\n    - set: { category: plumbing }\n",
    );
    env.ok(&["rule", "check"]);
    env.deliver("From: ann@acme.example\nTo: help@corp.example\nSubject: leak in room 4\nMessage-ID: <leak@acme.example>\n\nwater\n");
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(
        (&t["service"], &t["category"]),
        (&"facilities".into(), &"plumbing".into())
    );
}

/// Issue 18, bug 5: addresses in rules are checked as the shell's are.
#[test]
fn follow_and_notify_take_only_logins_and_addresses() {
    let env = with_rules(&[(
        "10-who.yaml",
        "- name: cc boss\n  actions:\n    - follow: [bob, Boss@Corp.Example, not an email]\n- name: tell\n  actions:\n    - notify: \"a@b.example, c@d.example\"\n",
    )]);
    assert_eq!(
        check_failures(&env),
        [
            "rules/10-who.yaml:3:7: rule 'cc boss': actions: follow: 'not an email' is neither a login of the config nor an e-mail address (name@domain)",
            "rules/10-who.yaml:6:7: rule 'tell': actions: notify: 'a@b.example, c@d.example' is not one e-mail address (name@domain)",
            "postdesk: 2 errors in the rules",
        ]
    );
}

/// Issue 18: mail from a mailing list (List-Id or List-Unsubscribe, no Precedence)
/// makes a ticket but never gets an automatic reply (RFC 3834, RFC 2369); the skip
/// and its reason show in `rule test`, as other skipped mails do.
#[test]
fn list_mail_makes_a_ticket_but_gets_no_automatic_reply() {
    let env = with_rules(&[(
        "10-ack.yaml",
        "- name: ack\n  actions:\n    - reply: { template: acknowledge }\n    - notify: managers\n",
    )]);
    let list_mail = "From: ann@acme.example\nTo: help@corp.example\nList-Id: Users <users.lists.example>\nSubject: printer\nMessage-ID: <l1@acme.example>\n\nx\n";
    env.deliver(list_mail);
    env.deliver(
        "From: ben@acme.example\nTo: help@corp.example\nList-Unsubscribe: <mailto:leave@lists.example>\nSubject: scanner\nMessage-ID: <l2@acme.example>\n\nx\n",
    );
    env.deliver("From: cy@acme.example\nTo: help@corp.example\nSubject: fax\nMessage-ID: <l3@acme.example>\n\nx\n");
    assert_eq!(env.list(&[]), [1, 2, 3]);
    for n in ["1", "2"] {
        assert_eq!(
            queued_mails(&env.json(&["ticket", "show", n])),
            ["queued a notify mail to managers (template notify)"],
            "ticket {n}"
        );
    }
    assert_eq!(
        queued_mails(&env.json(&["ticket", "show", "3"])),
        [
            "queued a reply mail to requester (template acknowledge)",
            "queued a notify mail to managers (template notify)"
        ]
    );
    std::fs::write(env.path().join("m.eml"), list_mail).unwrap();
    let out = env.ok(&["rule", "test", "m.eml", "--trace"]);
    assert!(
        out.contains(
            "  no   skipped a reply mail to requester: the mail came from a mailing list (List-Id), which gets no automatic reply\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "would not send: reply to requester, list mail (List-Id) gets no automatic reply (rule 'ack')"
        ),
        "{out}"
    );
    let report = env.json(&["rule", "test", "m.eml"]);
    assert_eq!(report["skipped"][0]["reason"], "list-mail");
    assert_eq!(report["skipped"].as_array().unwrap().len(), 1);
    assert_eq!(report["mails"][0]["to"], "managers");
}

/// A rule's regex is compiled when a rule first evaluates it; one whose syntax is
/// right but that is too large for the regex crate matches nothing, stops no
/// delivery, and `rule check` names it.
#[test]
fn a_regex_too_large_to_compile_is_reported_by_check_and_matches_nothing() {
    let env = with_rules(&[(
        "10-huge.yaml",
        "- name: huge\n  when: created\n  conditions:\n    - subject: { regex: '(?:\\w{100}){100}' }\n  actions: [{ tag: [huge] }]\n- name: fine\n  when: created\n  conditions:\n    - subject: { regex: 'print' }\n  actions: [{ tag: [printer] }]\n",
    )]);
    let failures = check_failures(&env);
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures[0]
            .starts_with("rules/10-huge.yaml:1: rule 'huge': bad regex /(?:\\w{100}){100}/:")
            && failures[0].contains("size limit"),
        "{failures:?}"
    );
    env.deliver("From: ann@example.com\nSubject: Printer jams\nMessage-ID: <huge1@example.com>\n\nIt jams.\n");
    let tags = env.json(&["ticket", "show", "1"])["tags"].clone();
    assert_eq!(tags, serde_json::json!(["printer"]));
}

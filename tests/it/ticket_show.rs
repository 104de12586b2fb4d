use crate::common::Env;

#[test]
fn show_prints_fields_then_a_timeline() {
    let env = Env::new();
    env.create(&[
        "-s",
        "Badge lost",
        "-d",
        "Lost it on the train",
        "--requester-email",
        "x@y.example",
    ]);
    env.ok(&["--as", "bob", "ticket", "edit", "1", "-p", "high"]);
    let out = env.ok(&["ticket", "show", "1"]);
    assert!(out.starts_with("#1 Badge lost\n"), "{out}");
    assert!(
        out.contains("x@y.example") && out.contains("Lost it on the train"),
        "{out}"
    );
    let activity = out.split("Activity:").nth(1).expect("activity section");
    let lines: Vec<_> = activity.trim().lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("alice") && lines[0].ends_with("created the ticket"),
        "{out}"
    );
    assert!(
        lines[1].contains("bob") && lines[1].ends_with("changed priority from medium to high"),
        "{out}"
    );
}

#[test]
fn show_json_has_events_and_csv_has_every_column() {
    let env = Env::new();
    env.create(&["-s", "Chair squeaks", "-t", "office"]);
    env.ok(&["ticket", "edit", "1", "--status", "pending"]);
    let t = env.json(&["ticket", "show", "1"]);
    let events = t["events"].as_array().unwrap();
    assert_eq!(events[0]["kind"], "created");
    assert_eq!(events[0]["field"], serde_json::Value::Null);
    assert_eq!(events[1]["kind"], "changed");
    assert_eq!(events[1]["field"], "status");
    assert_eq!(events[1]["text"], "changed status from open to pending");
    assert!(events[1]["at"].as_str().unwrap().ends_with('Z'));
    let csv = env.ok(&["ticket", "show", "1", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("number,subject,status,priority,assignee,service,category,tags,requester,requester_name,requester_email,requester_phone,followers,created,updated,description,approval,response_due,resolution_due,first_response")
    );
    // A group starts with @, which a spreadsheet would take for a formula.
    assert!(lines
        .next()
        .unwrap()
        .starts_with("1,Chair squeaks,pending,medium,'@support,it,,office,"));
}

#[test]
fn an_unknown_ticket_is_named() {
    let env = Env::new();
    let err = env.fails(&["ticket", "show", "42"], 1);
    assert_eq!(err, "postdesk: ticket #42 not found\n");
}

/// Numbered lines, so a cut shows where it fell.
fn long_text(tag: &str, lines: usize) -> String {
    (1..=lines)
        .map(|i| format!("{tag} line {i} of a long message\n"))
        .collect()
}

#[test]
fn long_texts_show_their_start_in_the_timeline_and_whole_when_asked() {
    let env = Env::new();
    let opening = long_text("opening", 400);
    env.deliver(&format!(
        "From: c@x.example\nTo: help@corp.example\nSubject: long\nMessage-ID: <l1@x.example>\n\n{opening}"
    ));
    let reply = long_text("reply", 400);
    env.deliver(&format!(
        "From: c@x.example\nTo: help@corp.example\nSubject: Re: [#1] long\nMessage-ID: <l2@x.example>\nIn-Reply-To: <l1@x.example>\n\n{reply}"
    ));
    let table = env.ok(&["ticket", "show", "1"]);
    assert!(
        table.contains("opening line 400 of"),
        "the description is shown whole: {table}"
    );
    assert!(table.contains("reply line 15 of") && !table.contains("reply line 16 of"));
    assert!(
        table.contains("more bytes: postdesk ticket show 1 --full]"),
        "{table}"
    );
    let full = env.ok(&["ticket", "show", "1", "--full"]);
    assert!(full.contains("reply line 400 of"), "{full}");
    let json = env.json(&["ticket", "show", "1"]);
    assert_eq!(json["description"].as_str().unwrap().trim(), opening.trim());
    let texts: Vec<_> = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["mail"]["text"].as_str())
        .collect();
    assert_eq!(texts.last().unwrap().trim(), reply.trim(), "JSON is whole");
    for word in ["400", "reply"] {
        assert_eq!(env.list(&["--search", word]), [1], "{word}");
    }
}

#[test]
fn a_long_description_from_the_shell_is_kept_whole() {
    let env = Env::new();
    let text = long_text("typed", 500);
    env.create(&["-s", "typed", "-d", &text]);
    assert_eq!(
        env.json(&["ticket", "show", "1"])["description"],
        text.as_str()
    );
    assert_eq!(env.list(&["--search", "typed"]), [1]);
    let edited = long_text("edited", 300);
    env.ok(&["ticket", "edit", "1", "-d", &edited]);
    let shown = env.ok(&["ticket", "show", "1"]);
    assert!(shown.contains("edited line 300 of"), "{shown}");
    assert!(shown.contains("changed description"), "{shown}");
}

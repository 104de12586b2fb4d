use crate::common::Env;

#[test]
fn edit_changes_fields_and_logs_each_change() {
    let env = Env::new();
    env.create(&[
        "-s",
        "Mouse broken",
        "-t",
        "hardware",
        "-t",
        "mouse",
        "--field",
        "asset=M-1",
    ]);
    let out = env.ok(&[
        "ticket",
        "edit",
        "#1",
        "--tag",
        "-mouse",
        "--tag",
        "+keyboard",
        "--tag",
        "desk",
        "--status",
        "in-progress",
        "-p",
        "urgent",
        "-a",
        "bob",
        "--field",
        "asset=",
        "--field",
        "impact=everyone",
        "--follower",
        "+zoe@x.example",
        "--requester-phone",
        "555",
        "-s",
        "Keyboard broken",
    ]);
    assert!(out.contains("updated ticket #1"), "{out}");
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(t["subject"], "Keyboard broken");
    assert_eq!(
        t["tags"],
        serde_json::json!(["desk", "hardware", "keyboard"])
    );
    assert_eq!(t["status"], "in-progress");
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["assignee"], "bob");
    assert_eq!(t["fields"], serde_json::json!({"impact": "everyone"}));
    assert_eq!(t["requester"]["phone"], "555");
    assert!(t["followers"]
        .as_array()
        .unwrap()
        .contains(&"zoe@x.example".into()));
    let events = t["events"].as_array().unwrap();
    let changed: Vec<_> = events.iter().filter(|e| e["kind"] == "changed").collect();
    let find = |field: &str| {
        changed
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("no event for {field}: {events:?}"))
    };
    assert_eq!(find("status")["from"], "open");
    assert_eq!(find("status")["to"], "in-progress");
    assert_eq!(find("priority")["to"], "urgent");
    assert_eq!(find("assignee")["from"], "@support");
    assert_eq!(find("asset")["from"], "M-1");
    assert_eq!(find("asset")["to"], "");
    assert_eq!(find("tags")["to"], "desk, hardware, keyboard");
    assert_eq!(find("status")["actor"], "alice");
    assert!(t["updated"].as_str().unwrap() >= t["created"].as_str().unwrap());
}

#[test]
fn indexes_follow_an_edit() {
    let env = Env::new();
    env.create(&[
        "-s",
        "Disk full",
        "-t",
        "storage",
        "--requester-email",
        "a@old.example",
    ]);
    env.ok(&[
        "ticket",
        "edit",
        "1",
        "--status",
        "closed",
        "--tag",
        "-storage",
        "-s",
        "Quota exceeded",
        "--requester-email",
        "a@new.example",
        "--service",
        "finance",
    ]);
    assert!(env.list(&["--status", "open"]).is_empty());
    assert_eq!(env.list(&["--status", "closed"]), [1]);
    assert!(env.list(&["--tag", "storage"]).is_empty());
    assert!(
        env.list(&["--search", "disk"]).is_empty(),
        "old subject words leave the index"
    );
    assert_eq!(env.list(&["--search", "quota"]), [1]);
    assert!(env.list(&["--customer", "old.example"]).is_empty());
    assert_eq!(env.list(&["--customer", "new.example"]), [1]);
    assert!(env.list(&["--service", "it"]).is_empty());
    assert_eq!(env.list(&["--service", "finance"]), [1]);
}

#[test]
fn an_edit_that_changes_nothing_writes_nothing() {
    let env = Env::new();
    env.create(&["-s", "Same", "-p", "low"]);
    let out = env.ok(&["ticket", "edit", "1", "-p", "low"]);
    assert_eq!(out.trim(), "ticket #1 unchanged");
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(t["events"].as_array().unwrap().len(), 1);
}

#[test]
fn edit_errors_name_the_ticket_and_field() {
    let env = Env::new();
    let err = env.fails(&["ticket", "edit", "42", "-p", "high"], 1);
    assert_eq!(err.trim(), "postdesk: ticket #42 not found");
    env.create(&["-s", "x"]);
    let err = env.fails(&["ticket", "edit", "1", "--field", "cost=lots"], 1);
    assert!(err.contains("field 'cost' is a number"), "{err}");
    let err = env.fails(&["ticket", "edit", "1", "-a", "nobody"], 1);
    assert!(err.contains("unknown user 'nobody'"), "{err}");
    let err = env.fails(&["ticket", "edit", "1", "--status", "finished"], 2);
    assert!(err.contains("unknown status 'finished'"), "{err}");
    let err = env.fails(&["ticket", "edit", "zero"], 2);
    assert!(err.contains("'zero' is not a ticket number"), "{err}");
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(
        t["events"].as_array().unwrap().len(),
        1,
        "failed edits leave no trace"
    );
}

#[test]
fn create_and_edit_take_the_same_field_flags() {
    let env = Env::new();
    // ± on create as on edit: a bare or + value adds, - removes.
    env.create(&["-s", "Same flags", "-t", "+a", "-t", "b", "-t", "-b"]);
    assert_eq!(
        env.json(&["ticket", "show", "1"])["tags"],
        serde_json::json!(["a"])
    );
    // --description-file on edit as on create.
    let file = env.path().join("text.txt");
    std::fs::write(&file, "from a file\n").unwrap();
    env.ok(&[
        "ticket",
        "edit",
        "1",
        "--description-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        env.json(&["ticket", "show", "1"])["description"],
        "from a file\n"
    );
    let err = env.fails(&["ticket", "edit", "1", "-s", " "], 1);
    assert_eq!(
        err.trim(),
        "postdesk: ticket #1: the subject cannot be empty"
    );
}

/// Issue 18, bug 5: addresses are read as intake reads them, and refused naming the value.
#[test]
fn requester_and_follower_addresses_are_checked() {
    let env = Env::new();
    let err = env.fails(
        &[
            "ticket",
            "create",
            "-s",
            "Printer",
            "--requester-email",
            "not an email",
        ],
        1,
    );
    assert_eq!(
        err,
        "postdesk: --requester-email 'not an email' is not an e-mail address: give one as name@domain\n"
    );
    assert_eq!(env.list(&[]), Vec::<u64>::new());
    env.create(&[
        "-s",
        "Printer",
        "--requester-email",
        "Ann <Ann@Acme.example>",
    ]);
    let err = env.fails(&["ticket", "edit", "1", "--follower", "+notanemail"], 1);
    assert_eq!(
        err,
        "postdesk: ticket #1: --follower 'notanemail' is neither a login of the config nor an e-mail address: give a login or name@domain\n"
    );
    env.ok(&[
        "ticket",
        "edit",
        "1",
        "--follower",
        "+Zoe@X.example",
        "--follower",
        "bob",
    ]);
    let t = env.json(&["ticket", "show", "1"]);
    assert_eq!(t["requester"]["email"], "ann@acme.example");
    assert_eq!(
        t["followers"],
        serde_json::json!(["bob", "boss@corp.example", "zoe@x.example"])
    );
}

/// Issue 18, bug 15: a count agrees with its number.
#[test]
fn an_edit_counts_its_changes_in_words_that_agree() {
    let env = Env::new();
    env.create(&["-s", "Printer"]);
    assert_eq!(
        env.ok(&["ticket", "edit", "1", "-p", "high"]),
        "updated ticket #1 (1 change)\n"
    );
    assert_eq!(
        env.ok(&["ticket", "edit", "1", "-p", "low", "-t", "paper"]),
        "updated ticket #1 (2 changes)\n"
    );
}

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
        Some("number,subject,status,priority,assignee,service,category,tags,requester,requester_name,requester_email,requester_phone,followers,created,updated,description")
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

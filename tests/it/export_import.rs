//! `postdesk export` and `import`: a round trip gives the same bytes; a bad line
//! changes nothing and is named; only an empty desk takes an import.

use crate::common::Env;

/// Mail, a reply, a ticket from the shell, workflow events, a custom field, and a
/// subject a spreadsheet would run.
fn busy_desk() -> Env {
    let env = Env::new();
    env.deliver(
        "From: Ann <ann@corp.example>\nTo: help@corp.example\nSubject: printer\nMessage-ID: <p1@corp.example>\n\nIt jams.\n",
    );
    env.deliver(
        "From: ann@corp.example\nTo: help@corp.example\nSubject: Re: [#1] printer\nMessage-ID: <p2@corp.example>\nIn-Reply-To: <p1@corp.example>\n\nStill jams.\n",
    );
    env.create(&[
        "--subject",
        "=HYPERLINK(\"x\")",
        "--field",
        "cost=-5",
        "--tag",
        "urgent",
    ]);
    env.ok(&["ticket", "take", "1", "-m", "on my way"]);
    env.ok(&["ticket", "comment", "2", "-m", "called back"]);
    env.ok(&["ticket", "status", "2", "closed"]);
    // Links with a kind and time spent come back too.
    env.ok(&["ticket", "link", "1", "2", "--kind", "parent"]);
    env.ok(&["ticket", "time", "1", "add", "1h30m", "-m", "driver"]);
    env
}

fn export(env: &Env, format: &str) -> String {
    env.ok(&["--format", format, "export"])
}

fn import(env: &Env, name: &str, text: &str) -> String {
    let file = env.path().join(name);
    std::fs::write(&file, text).unwrap();
    env.ok(&["import", file.to_str().unwrap()])
}

#[test]
fn json_export_import_export_gives_the_same_bytes() {
    let first = export(&busy_desk(), "json");
    assert!(
        first.contains("\"record\"") && first.contains("on my way"),
        "{first}"
    );
    let empty = Env::new();
    let said = import(&empty, "desk.json", &first);
    assert_eq!(said.trim(), "imported 2 tickets");
    assert_eq!(export(&empty, "json"), first);
    // The imported mail is searchable again.
    assert_eq!(empty.list(&["--search", "jams"]), [1]);
}

#[test]
fn csv_export_import_export_gives_the_same_bytes() {
    let first = export(&busy_desk(), "csv");
    assert!(
        first.contains("'=HYPERLINK"),
        "formulas stay neutralised: {first}"
    );
    assert!(first
        .lines()
        .next()
        .unwrap()
        .ends_with("field.cost,field.due,field.impact"));
    let empty = Env::new();
    import(&empty, "desk.csv", &first);
    assert_eq!(export(&empty, "csv"), first);
    let subject = empty.json(&["ticket", "show", "2"])["subject"].clone();
    assert_eq!(
        subject, "=HYPERLINK(\"x\")",
        "the quote export added is taken off"
    );
}

#[test]
fn an_empty_desk_exports_an_empty_array() {
    assert_eq!(export(&Env::new(), "json"), "[]\n");
}

#[test]
fn a_bad_line_is_named_and_changes_nothing() {
    let json = export(&busy_desk(), "json");
    let lines: Vec<&str> = json.lines().collect();
    // Line 3 is ticket 2: give it a status that does not exist.
    let bad = json.replace(
        lines[2],
        &lines[2].replace("\"status\":\"closed\"", "\"status\":\"lost\""),
    );
    assert_ne!(bad, json);
    let env = Env::new();
    let before = env.ok(&["ticket", "list"]);
    let file = env.path().join("bad.json");
    std::fs::write(&file, bad).unwrap();
    let err = env.fails(&["import", file.to_str().unwrap()], 1);
    assert!(err.contains("line 3") && err.contains("lost"), "{err}");
    assert_eq!(env.ok(&["ticket", "list"]), before);

    // A CSV row numbered out of order is found inside the write, which rolls back whole.
    let csv = export(&busy_desk(), "csv");
    let bad = csv.replacen("\n1,printer", "\n3,printer", 1);
    assert_ne!(bad, csv);
    let file = env.path().join("bad.csv");
    std::fs::write(&file, bad).unwrap();
    let err = env.fails(&["import", file.to_str().unwrap()], 1);
    assert!(
        err.contains("line 2: ticket #3 where #1 comes next"),
        "{err}"
    );
    assert_eq!(env.ok(&["ticket", "list"]), before);
    env.create(&["--subject", "after"]);
    assert_eq!(env.list(&[]), [1], "the refused import took no number");
}

#[test]
fn an_import_into_a_desk_with_tickets_is_refused() {
    let json = export(&busy_desk(), "json");
    let env = Env::new();
    env.create(&["--subject", "already here"]);
    let before = env.ok(&["ticket", "list"]);
    let file = env.path().join("desk.json");
    std::fs::write(&file, json).unwrap();
    let err = env.fails(&["import", file.to_str().unwrap()], 1);
    assert!(err.contains("the desk has tickets already"), "{err}");
    assert_eq!(env.ok(&["ticket", "list"]), before);
}

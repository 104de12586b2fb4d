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

/// The export of [`busy_desk`] with `from` replaced by `to` once: in JSON on the
/// line of ticket `n` (line n + 1), in CSV anywhere (its cells span lines).
fn edited(format: &str, n: usize, from: &str, to: &str) -> String {
    let text = export(&busy_desk(), format);
    if format == "csv" {
        assert!(text.contains(from), "{from:?} not in {text}");
        return text.replacen(from, to, 1);
    }
    let line = text.lines().nth(n).unwrap();
    assert!(line.contains(from), "{from:?} not in {line}");
    text.replace(line, &line.replacen(from, to, 1))
}

#[test]
fn every_ticket_is_checked_against_the_config_and_an_error_names_line_and_field() {
    let env = Env::new();
    let before = env.ok(&["ticket", "list"]);
    let cases = [
        // JSON: ticket 1 on line 2, ticket 2 on line 3.
        (
            "json",
            1,
            "\"service\":\"it\"",
            "\"service\":\"hr\"",
            "line 2: ticket #1: service: unknown service 'hr'",
        ),
        (
            "json",
            2,
            "\"priority\":\"medium\"",
            "\"priority\":\"meh\"",
            "line 3",
        ),
        (
            "json",
            1,
            "\"assignee\":\"alice\"",
            "\"assignee\":\"ghost\"",
            "line 2: ticket #1: assignee: unknown user 'ghost'",
        ),
        (
            "json",
            1,
            "\"assignee\":\"alice\"",
            "\"assignee\":\"@ghosts\"",
            "line 2: ticket #1: assignee: unknown group '@ghosts'",
        ),
        (
            "json",
            1,
            "\"category\":null",
            "\"category\":\"plumbing\"",
            "line 2: ticket #1: category: service 'it' has no category 'plumbing'",
        ),
        (
            "json",
            2,
            "\"fields\":{\"cost\":\"-5\"}",
            "\"fields\":{\"cost\":\"five\"}",
            "line 3: ticket #2: field.cost: field 'cost' is a number; 'five' is not",
        ),
        (
            "json",
            2,
            "\"fields\":{\"cost\":\"-5\"}",
            "\"fields\":{\"colour\":\"red\"}",
            "line 3: ticket #2: field.colour: unknown field 'colour'",
        ),
        // CSV: the header is line 1.
        (
            "csv",
            1,
            ",it,",
            ",hr,",
            "line 2: ticket #1: service: unknown service 'hr'",
        ),
        (
            "csv",
            2,
            ",-5,",
            ",five,",
            "line 4: ticket #2: field.cost: field 'cost' is a number",
        ),
        (
            "csv",
            2,
            "'@support",
            "@nobody-here",
            "line 4: ticket #2: assignee: unknown group '@nobody-here'",
        ),
    ];
    for (format, n, from, to, want) in cases {
        let bad = edited(format, n, from, to);
        let file = env.path().join(format!("bad.{format}"));
        std::fs::write(&file, bad).unwrap();
        let err = env.fails(&["import", file.to_str().unwrap()], 1);
        assert!(
            err.contains(want) && err.contains("line "),
            "{format} {to}: want {want:?} in {err}"
        );
        assert_eq!(env.ok(&["ticket", "list"]), before, "nothing written");
    }
}

#[test]
fn a_pending_approval_keeps_when_it_was_asked() {
    let json = export(&busy_desk(), "json");
    // Ticket 2 was closed: its approval is pending since then.
    let line = json.lines().nth(2).unwrap();
    let asked = line
        .split("\"approval_asked\":\"")
        .nth(1)
        .expect("export carries approval_asked")
        .split('"')
        .next()
        .unwrap();
    let long_ago = json.replace(
        &format!("\"approval_asked\":\"{asked}\""),
        "\"approval_asked\":\"2026-01-01T00:00:00Z\"",
    );
    let env = Env::new();
    import(&env, "desk.json", &long_ago);
    assert_eq!(export(&env, "json"), long_ago, "kept byte for byte");
    let err = env.fails(&["ticket", "approve", "2"], 1);
    assert!(
        err.contains("it counts as approved"),
        "asked long ago, not at the import's updated: {err}"
    );
    // CSV carries it too.
    let csv = export(&env, "csv");
    assert!(csv.contains(",2026-01-01T00:00:00Z,"), "{csv}");
    let again = Env::new();
    import(&again, "desk.csv", &csv);
    assert_eq!(export(&again, "csv"), csv);
}

/// An export of `count` copies of one shell-made ticket with a few events,
/// numbered 1, 2, 3, ...
fn many(count: usize) -> String {
    let env = Env::new();
    env.create(&["--subject", "copied", "--field", "cost=3"]);
    env.ok(&["ticket", "comment", "1", "-m", "a comment"]);
    env.ok(&["ticket", "status", "1", "closed"]);
    let json = export(&env, "json");
    let line = json.lines().nth(1).unwrap().trim_end_matches(',');
    assert!(line.starts_with("{\"number\":1,"), "{line}");
    let rows: Vec<String> = (1..=count)
        .map(|n| line.replacen("{\"number\":1,", &format!("{{\"number\":{n},"), 1))
        .collect();
    format!("[\n{}\n]\n", rows.join(",\n"))
}

#[test]
fn a_large_import_is_written_in_batches_after_every_ticket_is_checked() {
    let json = many(1_201);
    // The last ticket, in the third batch, is broken: nothing is written.
    let last = json.lines().nth(1_201).unwrap();
    let bad = json.replace(
        last,
        &last.replace("\"service\":\"it\"", "\"service\":\"hr\""),
    );
    let env = Env::new();
    let file = env.path().join("bad.json");
    std::fs::write(&file, bad).unwrap();
    let err = env.fails(&["import", file.to_str().unwrap()], 1);
    assert!(
        err.contains("line 1202: ticket #1201: service: unknown service 'hr'"),
        "{err}"
    );
    assert_eq!(env.list(&[]), Vec::<u64>::new(), "nothing written");

    assert_eq!(
        import(&env, "desk.json", &json).trim(),
        "imported 1201 tickets"
    );
    assert_eq!(export(&env, "json"), json);
    assert_eq!(env.list(&["--search", "copied"]).len(), 1_201);
}

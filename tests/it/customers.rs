//! `postdesk customer list|show`: the customers ingest records, and their tickets.

use crate::common::Env;

fn mail(from: &str, subject: &str, id: &str) -> String {
    format!(
        "From: {from}\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{id}>\n\nHello\n"
    )
}

/// Ann wrote twice (two tickets, one then closed), Zoe once.
fn desk_with_customers() -> Env {
    let env = Env::new();
    env.deliver(&mail(
        "Ann Smith <ann@corp.example>",
        "printer",
        "a1@corp.example",
    ));
    env.deliver(&mail("zoe@other.example", "vpn", "z1@other.example"));
    env.deliver(&mail("Ann@Corp.example", "=cmd()", "a2@corp.example"));
    env.ok(&["ticket", "status", "1", "closed"]);
    env
}

#[test]
fn list_prints_every_customer_by_address() {
    let env = desk_with_customers();
    let list = env.json(&["customer", "list"]);
    let emails: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["ann@corp.example", "zoe@other.example"]);
    assert_eq!(list[0]["name"], "Ann Smith");
    assert!(
        list[0]["first_contact"].as_str().unwrap() <= list[0]["last_contact"].as_str().unwrap()
    );
    assert_eq!(list[1]["name"], serde_json::Value::Null);

    let table = env.ok(&["customer", "list"]);
    assert!(
        table.contains("EMAIL") && table.contains("ann@corp.example"),
        "{table}"
    );
    let csv = env.ok(&["--format", "csv", "customer", "list"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "email,name,first_contact,last_contact");
    assert!(lines[1].starts_with("ann@corp.example,Ann Smith,"), "{csv}");
    assert_eq!(lines.len(), 3);
}

#[test]
fn list_of_an_empty_desk_says_so() {
    let env = Env::new();
    assert_eq!(env.ok(&["customer", "list"]).trim(), "no customers yet");
    assert_eq!(env.json(&["customer", "list"]), serde_json::json!([]));
}

#[test]
fn show_prints_a_customers_tickets_and_open_count() {
    let env = desk_with_customers();
    let ann = env.json(&["customer", "show", "ANN@corp.example"]);
    assert_eq!(ann["email"], "ann@corp.example");
    assert_eq!(ann["open"], 1, "ticket 1 is closed");
    let numbers: Vec<u64> = ann["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 3]);

    let table = env.ok(&["customer", "show", "ann@corp.example"]);
    assert!(table.starts_with("Ann Smith <ann@corp.example>"), "{table}");
    assert!(table.contains("open") && table.contains("#3"), "{table}");

    // A subject from mail is a CSV cell a spreadsheet must not run.
    let csv = env.ok(&["--format", "csv", "customer", "show", "ann@corp.example"]);
    assert!(csv.contains(",'=cmd()"), "{csv}");
}

#[test]
fn show_of_an_unknown_address_names_it() {
    let env = desk_with_customers();
    let err = env.fails(&["customer", "show", "nobody@corp.example"], 1);
    assert!(err.contains("no customer nobody@corp.example"), "{err}");
}

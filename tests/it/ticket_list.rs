use crate::common::Env;
use postdesk::model::{Event, EventKind, Ticket};
use postdesk::store::Store;

/// A spread of tickets covering every filter.
fn seeded() -> Env {
    let env = Env::new();
    let mk = |args: &[&str]| env.create(args);
    mk(&[
        "-s",
        "Printer jammed",
        "-d",
        "The PRINTER on floor 2 eats paper",
        "-p",
        "high",
        "-a",
        "alice",
        "-t",
        "printer",
        "--requester-email",
        "ann@acme.example",
        "-c",
        "hardware",
    ]); // 1
    mk(&[
        "-s",
        "VPN down",
        "-d",
        "Cannot connect from home",
        "-p",
        "urgent",
        "--status",
        "in-progress",
        "-a",
        "@support",
        "-t",
        "network",
        "-t",
        "printer",
        "--requester-email",
        "ben@acme.example",
    ]); // 2
    mk(&[
        "-s",
        "Invoice 2026-11",
        "-d",
        "Wrong amount on the invoice",
        "--service",
        "finance",
        "--requester-email",
        "cat@other.example",
        "-p",
        "low",
    ]); // 3
    mk(&[
        "-s",
        "Old request",
        "--status",
        "closed",
        "-a",
        "none",
        "-t",
        "network",
    ]); // 4
    mk(&[
        "-s",
        "Waiting on vendor",
        "--status",
        "pending",
        "-a",
        "bob",
        "-c",
        "access",
    ]); // 5
    env
}

#[test]
fn status_filters_including_unresolved_and_lists() {
    let env = seeded();
    assert_eq!(env.list(&["--status", "open"]), [1, 3]);
    assert_eq!(
        env.list(&["--status", "open", "--status", "pending"]),
        [1, 3, 5]
    );
    assert_eq!(env.list(&["--status", "closed,in-progress"]), [2, 4]);
    assert_eq!(env.list(&["--status", "unresolved"]), [1, 2, 3, 5]);
    let err = env.fails(&["ticket", "list", "--status", "done"], 1);
    assert!(err.contains("--status: unknown status 'done'"), "{err}");
}

#[test]
fn priority_assignee_service_category_tag_filters() {
    let env = seeded();
    assert_eq!(env.list(&["--priority", "urgent,high"]), [1, 2]);
    assert_eq!(env.list(&["--assignee", "alice"]), [1]);
    assert_eq!(
        env.list(&["--assignee", "me"]),
        [1],
        "me is the acting user, alice"
    );
    assert_eq!(env.list(&["--assignee", "@support"]), [2]);
    assert_eq!(env.list(&["--assignee", "none"]), [4]);
    assert_eq!(env.list(&["--service", "finance"]), [3]);
    assert_eq!(env.list(&["--service", "it"]), [1, 2, 4, 5]);
    assert_eq!(
        env.list(&["--service", "it", "--category", "hardware"]),
        [1]
    );
    assert_eq!(env.list(&["--category", "access"]), [5]);
    assert_eq!(env.list(&["--tag", "printer"]), [1, 2]);
    assert_eq!(
        env.list(&["--tag", "printer", "--tag", "network"]),
        [2],
        "every tag must match"
    );
    let err = env.fails(&["ticket", "list", "--assignee", "zed"], 1);
    assert!(err.contains("--assignee: unknown user 'zed'"), "{err}");
    let err = env.fails(&["ticket", "list", "--priority", "meh"], 1);
    assert!(err.contains("unknown priority 'meh'"), "{err}");
}

#[test]
fn customer_filter_takes_an_address_or_a_domain() {
    let env = seeded();
    assert_eq!(env.list(&["--customer", "ann@acme.example"]), [1]);
    assert_eq!(
        env.list(&["--customer", "ANN@ACME.example"]),
        [1],
        "addresses match in any case"
    );
    assert_eq!(env.list(&["--customer", "acme.example"]), [1, 2]);
    assert_eq!(env.list(&["--customer", "@other.example"]), [3]);
    assert!(env.list(&["--customer", "nobody.example"]).is_empty());
}

#[test]
fn search_is_case_insensitive_over_subject_and_description() {
    let env = seeded();
    assert_eq!(env.list(&["--search", "printer"]), [1]);
    assert_eq!(
        env.list(&["--search", "PAPER"]),
        [1],
        "description words count"
    );
    assert_eq!(env.list(&["--search", "invoice"]), [3]);
    assert_eq!(
        env.list(&["--search", "connect home"]),
        [2],
        "all words must appear"
    );
    assert!(env.list(&["--search", "connect paper"]).is_empty());
    assert_eq!(
        env.list(&["--search", "jam"]),
        [1],
        "a word start matches: jam -> jammed"
    );
    assert_eq!(
        env.list(&["--search", "printer", "--priority", "low"]),
        Vec::<u64>::new()
    );
}

#[test]
fn search_finds_tickets_before_and_after_their_words_are_indexed() {
    // A lone write leaves a ticket's words pending; the 32nd pending ticket has
    // them all indexed. Search must give the same answers either way.
    let env = Env::new();
    for i in 1..=34 {
        env.create(&["-s", &format!("ticket{i} zebra"), "-d", &format!("word{i}")]);
    }
    let store = Store::open(&env.db(), std::time::Duration::from_secs(5)).unwrap();
    assert_eq!(
        store.pending_words().unwrap(),
        2,
        "tickets 33 and 34 still pending"
    );
    drop(store);
    assert_eq!(
        env.list(&["--search", "word1"]).len(),
        11,
        "word1, word10-19: indexed"
    );
    assert_eq!(env.list(&["--search", "word34"]), [34], "pending");
    assert_eq!(
        env.list(&["--search", "zebra"]).len(),
        34,
        "both kinds together"
    );
    env.ok(&["ticket", "edit", "34", "-d", "changed"]);
    assert!(
        env.list(&["--search", "word34"]).is_empty(),
        "a pending ticket's old words are gone"
    );
    assert_eq!(env.list(&["--search", "changed"]), [34]);
    env.ok(&["ticket", "edit", "1", "-d", "altered"]);
    assert!(
        env.list(&["--search", "word1"]).iter().all(|n| *n != 1),
        "an indexed ticket's old words are gone"
    );
    assert_eq!(env.list(&["--search", "altered"]), [1]);
}

#[test]
fn sort_limit_and_columns() {
    let env = seeded();
    assert_eq!(env.list(&["--sort", "-priority"]), [2, 1, 4, 5, 3]);
    assert_eq!(env.list(&["--sort", "priority,-number"]), [3, 5, 4, 1, 2]);
    assert_eq!(env.list(&["--sort", "subject"]), [3, 4, 1, 2, 5]);
    assert_eq!(env.list(&["--sort", "-number", "--limit", "2"]), [5, 4]);
    let csv = env.ok(&[
        "ticket",
        "list",
        "--format",
        "csv",
        "--columns",
        "number,priority,tags,requester_email",
        "--tag",
        "printer",
    ]);
    assert_eq!(
        csv,
        "number,priority,tags,requester_email\n1,high,printer,ann@acme.example\n2,urgent,network printer,ben@acme.example\n"
    );
    let err = env.fails(&["ticket", "list", "--columns", "number,colour"], 1);
    assert!(err.contains("unknown column 'colour'"), "{err}");
    let err = env.fails(&["ticket", "list", "--sort", "colour"], 1);
    assert!(err.contains("cannot sort by 'colour'"), "{err}");
}

#[test]
fn default_csv_and_table_columns() {
    let env = seeded();
    let csv = env.ok(&["ticket", "list", "--format", "csv", "--limit", "1"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("number,status,priority,assignee,service,requester,subject,updated")
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("1,open,high,alice,it,ann@acme.example,Printer jammed,20"),
        "{row}"
    );
    assert!(row.ends_with('Z'), "CSV times are ISO 8601 UTC: {row}");
    let table = env.ok(&["ticket", "list", "--status", "pending"]);
    assert!(
        table.contains("#5") && table.contains("Waiting on vendor"),
        "{table}"
    );
    assert!(!table.contains('\u{1b}'), "no colour when not a terminal");
}

#[test]
fn saved_views_and_flags_combine() {
    let env = seeded();
    assert_eq!(env.list(&["--view", "mine"]), [1]);
    let bob = env
        .cmd(&["ticket", "list", "--view", "mine", "--format", "json"])
        .env("POSTDESK_USER", "bob")
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&bob.stdout).unwrap();
    let numbers: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 5], "me follows the acting user");
    assert_eq!(env.list(&["--view", "hot"]), [2]);
    assert!(env.list(&["--view", "hot", "--status", "open"]).is_empty());
    let err = env.fails(&["ticket", "list", "--view", "nope"], 1);
    assert!(err.contains("no view named 'nope'"), "{err}");
}

#[test]
fn date_filters_use_created_and_updated_times() {
    let env = Env::new();
    let day = 86_400;
    let now = jiff::Timestamp::now().as_second();
    {
        // Backdated tickets can only be made through the store.
        let store = Store::open(&env.db(), std::time::Duration::from_secs(5)).unwrap();
        for (created, updated) in [
            (now - 30 * day, now - 30 * day),
            (now - 10 * day, now - day),
            (now - 2 * 3600, now - 3600),
        ] {
            store
                .transact(|tx| {
                    let number = tx.next_number()?;
                    let t = Ticket {
                        service: Some("it".into()),
                        updated,
                        ..Ticket::new(number, format!("ticket {number}"), created)
                    };
                    tx.save_ticket(&t)?;
                    tx.append_event(
                        number,
                        &Event {
                            at: created,
                            actor: "alice".into(),
                            kind: EventKind::Created,
                        },
                    )
                })
                .unwrap();
        }
        store.flush().unwrap();
    }
    assert_eq!(env.list(&["--created-since", "7d"]), [3]);
    assert_eq!(env.list(&["--created-since", "15d"]), [2, 3]);
    assert_eq!(env.list(&["--created-until", "15d"]), [1]);
    assert_eq!(
        env.list(&["--created-since", "31d", "--created-until", "3h"]),
        [1, 2]
    );
    assert_eq!(env.list(&["--updated-since", "2d"]), [2, 3]);
    assert_eq!(env.list(&["--updated-since", "90m"]), [3]);
    assert_eq!(env.list(&["--created-since", "2000-01-01"]), [1, 2, 3]);
    assert!(env
        .list(&["--created-since", "2999-01-01T00:00:00Z"])
        .is_empty());
    assert_eq!(env.list(&["--sort", "-updated"]), [3, 2, 1]);
    let err = env.fails(&["ticket", "list", "--created-since", "last week"], 1);
    assert!(err.contains("--created-since: 'last week'"), "{err}");
}

/// Sorted by number, a limited listing stops reading at the limit: from either end,
/// across ticket groups, with and without indexed filters.
#[test]
fn a_limit_by_number_takes_the_first_matches_from_either_end() {
    let env = Env::new();
    for n in 1..=30 {
        let tags = if n % 3 == 0 { "third" } else { "other" };
        env.create(&["-s", &format!("ticket {n}"), "-t", tags]);
    }
    assert_eq!(env.list(&["--limit", "3"]), [1, 2, 3]);
    assert_eq!(
        env.list(&["--sort", "-number", "--limit", "3"]),
        [30, 29, 28]
    );
    assert_eq!(env.list(&["--tag", "third", "--limit", "4"]), [3, 6, 9, 12]);
    assert_eq!(
        env.list(&["--tag", "third", "--sort", "-number", "--limit", "4"]),
        [30, 27, 24, 21]
    );
    assert_eq!(
        env.list(&[
            "--tag",
            "third",
            "--sort",
            "-number,priority",
            "--limit",
            "2"
        ]),
        [30, 27]
    );
    assert_eq!(env.list(&["--tag", "third", "--limit", "50"]).len(), 10);
    // Sorted by anything else, the limit applies after sorting all matches.
    assert_eq!(
        env.list(&["--sort", "-created,-number", "--limit", "2"]),
        [30, 29]
    );
}

/// Issue 18, bug 10: an error that lists the accepted values lists every one of
/// them, `unresolved` and `id` included.
#[test]
fn errors_list_every_accepted_value() {
    let env = Env::new();
    let err = env.fails(&["ticket", "list", "--status", "opn"], 1);
    assert_eq!(
        err,
        "postdesk: --status: unknown status 'opn' \
         (expected open, in-progress, pending, closed or unresolved)\n"
    );
    let err = env.fails(&["ticket", "list", "--sort", "-colour"], 1);
    assert_eq!(
        err,
        "postdesk: --sort: cannot sort by 'colour' (expected number, id, created, \
         updated, due, priority, status, subject, assignee, service or category)\n"
    );
    let err = env.fails(&["ticket", "list", "--view", "nope"], 1);
    assert_eq!(
        err,
        "postdesk: no view named 'nope' in postdesk.yaml (expected mine or hot)\n"
    );
    let err = env.fails(&["ticket", "edit", "1", "--status", "unresolved"], 2);
    assert!(
        err.contains("(expected open, in-progress, pending or closed)\n"),
        "edit takes a status, not unresolved: {err}"
    );
}

/// Issue 18 (inconsistent strictness): an unknown name is an error in `list` as in
/// `create` and `edit`, naming every choice; `me` is the acting user everywhere.
#[test]
fn unknown_names_are_errors_everywhere_naming_the_choices() {
    let env = Env::new();
    env.create(&["-s", "Printer"]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["ticket", "list", "--service", "itt"],
            "--service: unknown service 'itt' (expected it or finance)",
        ),
        (
            &["ticket", "list", "--category", "sofa"],
            "--category: no service has a category 'sofa' (expected hardware or access)",
        ),
        (
            &[
                "ticket",
                "list",
                "--service",
                "finance",
                "--category",
                "access",
            ],
            "--category: service 'finance' has no categories",
        ),
        (
            &["ticket", "list", "--assignee", "bobby"],
            "--assignee: unknown user 'bobby' (expected alice, bob, @support, none or me)",
        ),
        (
            &["ticket", "edit", "1", "-a", "bobby"],
            "ticket #1: --assignee: unknown user 'bobby' \
             (expected alice, bob, @support, none or me)",
        ),
        (
            &["ticket", "create", "-s", "x", "-a", "@ops"],
            "--assignee: unknown group '@ops' (expected alice, bob, @support, none or me)",
        ),
        (
            &["ticket", "create", "-s", "x", "--service", "hr"],
            "--service: unknown service 'hr' (expected it or finance)",
        ),
        (
            &["ticket", "edit", "1", "-c", "sofa"],
            "ticket #1: --category: service 'it' has no category 'sofa' \
             (expected hardware or access)",
        ),
        (
            &["--as", "mallory", "ticket", "create", "-s", "x"],
            "unknown user 'mallory': not in the users of postdesk.yaml \
             (expected alice or bob; use --as or POSTDESK_USER)",
        ),
    ];
    for (args, message) in cases {
        assert_eq!(
            env.fails(args, 1),
            format!("postdesk: {message}\n"),
            "{args:?}"
        );
    }
    let edited = env.json(&["ticket", "edit", "1", "-a", "me"]);
    assert_eq!(
        edited["assignee"], "alice",
        "me is the acting user in edit too"
    );
    assert_eq!(env.create(&["-s", "Mine", "-a", "me"]), 2);
    assert_eq!(env.list(&["--assignee", "me"]), [1, 2]);
}

use crate::common::Env;

#[test]
fn create_sets_every_field_and_json_names_them() {
    let env = Env::new();
    let t = env.json(&[
        "ticket",
        "create",
        "-s",
        "Laptop broken",
        "-d",
        "Screen is black",
        "--status",
        "pending",
        "-p",
        "high",
        "-a",
        "bob",
        "--service",
        "it",
        "-c",
        "hardware",
        "-t",
        "laptop",
        "-t",
        "urgent-ish",
        "--requester-email",
        "carol@customer.example",
        "--requester-name",
        "Carol",
        "--requester-phone",
        "+33 1 23",
        "--follower",
        "dave@customer.example",
        "--field",
        "asset=PC-42",
        "--field",
        "cost=12.50",
        "--field",
        "due=2026-12-01",
        "--field",
        "impact=TEAM",
    ]);
    assert_eq!(t["number"], 1);
    assert_eq!(t["subject"], "Laptop broken");
    assert_eq!(t["description"], "Screen is black");
    assert_eq!(t["status"], "pending");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["assignee"], "bob");
    assert_eq!(t["service"], "it");
    assert_eq!(t["category"], "hardware");
    assert_eq!(t["tags"], serde_json::json!(["laptop", "urgent-ish"]));
    assert_eq!(t["requester"]["name"], "Carol");
    assert_eq!(t["requester"]["email"], "carol@customer.example");
    assert_eq!(t["requester"]["phone"], "+33 1 23");
    // The service's permanent guest follows too.
    assert_eq!(
        t["followers"],
        serde_json::json!(["boss@corp.example", "dave@customer.example"])
    );
    assert_eq!(t["fields"]["asset"], "PC-42");
    assert_eq!(t["fields"]["cost"], "12.5");
    assert_eq!(t["fields"]["due"], "2026-12-01");
    assert_eq!(
        t["fields"]["impact"], "team",
        "choices are normalised to their declared spelling"
    );
    let created = t["created"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == 20,
        "ISO 8601 UTC: {created}"
    );
    assert_eq!(t["created"], t["updated"]);
}

#[test]
fn numbers_are_dense_and_defaults_come_from_the_service() {
    let env = Env::new();
    assert_eq!(env.create(&["-s", "one"]), 1);
    assert_eq!(env.create(&["-s", "two", "--service", "finance"]), 2);
    let two = env.json(&["ticket", "show", "2"]);
    assert_eq!(two["assignee"], "bob", "finance's default assignee");
    let one = env.json(&["ticket", "show", "1"]);
    assert_eq!(one["service"], "it", "settings.default_service");
    assert_eq!(one["assignee"], "@support");
    assert_eq!(one["status"], "open");
    assert_eq!(one["priority"], "medium");
    assert_eq!(env.create(&["-s", "three"]), 3);
}

#[test]
fn category_template_fills_subject_and_description() {
    let env = Env::new();
    let t = env.json(&["ticket", "create", "-c", "access"]);
    assert_eq!(t["subject"], "Access request");
    assert_eq!(t["description"], "Who needs access to what?");
    let t = env.json(&["ticket", "create", "-c", "access", "-s", "VPN for Zoe"]);
    assert_eq!(
        t["subject"], "VPN for Zoe",
        "a given subject wins over the template"
    );
}

#[test]
fn description_from_stdin_and_from_a_file() {
    let env = Env::new();
    let out = env
        .cmd(&[
            "ticket", "create", "-s", "piped", "-d", "-", "--format", "json",
        ])
        .write_stdin("line one\nline two\n")
        .output()
        .unwrap();
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["description"], "line one\nline two\n");
    std::fs::write(env.path().join("desc.txt"), "from a file").unwrap();
    let t = env.json(&[
        "ticket",
        "create",
        "-s",
        "filed",
        "--description-file",
        "desc.txt",
    ]);
    assert_eq!(t["description"], "from a file");
    let out = env
        .cmd(&[
            "ticket",
            "create",
            "-s",
            "piped2",
            "--description-file",
            "-",
            "--format",
            "json",
        ])
        .write_stdin("via file dash")
        .output()
        .unwrap();
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["description"], "via file dash");
}

#[test]
fn create_errors_name_what_is_wrong() {
    let env = Env::new();
    let err = env.fails(&["ticket", "create", "-s", "x", "-p", "critical"], 2);
    assert!(err.contains("unknown priority 'critical'"), "{err}");
    let err = env.fails(&["ticket", "create", "-s", "x", "-a", "zed"], 1);
    assert!(
        err.contains("postdesk: --assignee: unknown user 'zed'"),
        "{err}"
    );
    let err = env.fails(&["ticket", "create", "-s", "x", "-a", "@nobody"], 1);
    assert!(err.contains("unknown group '@nobody'"), "{err}");
    let err = env.fails(&["ticket", "create", "-s", "x", "--service", "hr"], 1);
    assert!(err.contains("unknown service 'hr'"), "{err}");
    let err = env.fails(&["ticket", "create", "-s", "x", "-c", "sofa"], 1);
    assert!(err.contains("service 'it' has no category 'sofa'"), "{err}");
    let err = env.fails(&["ticket", "create", "-s", "x", "--field", "cost=cheap"], 1);
    assert!(
        err.contains("field 'cost' is a number; 'cheap' is not"),
        "{err}"
    );
    let err = env.fails(
        &["ticket", "create", "-s", "x", "--field", "due=tomorrow"],
        1,
    );
    assert!(err.contains("field 'due' is a date"), "{err}");
    let err = env.fails(
        &["ticket", "create", "-s", "x", "--field", "impact=galactic"],
        1,
    );
    assert!(err.contains("must be one of low, team, everyone"), "{err}");
    let err = env.fails(&["ticket", "create", "-s", "x", "--field", "colour=red"], 1);
    assert!(err.contains("unknown field 'colour'"), "{err}");
    let err = env.fails(&["ticket", "create"], 1);
    assert!(err.contains("needs a subject"), "{err}");
    // Nothing above was stored, and the counter did not move.
    assert_eq!(env.create(&["-s", "first real"]), 1);
}

#[test]
fn the_acting_user_must_be_in_the_directory() {
    let env = Env::new();
    let err = env.fails(&["--as", "mallory", "ticket", "create", "-s", "x"], 1);
    assert!(err.starts_with("postdesk: unknown user 'mallory'"), "{err}");
    let out = env
        .cmd(&["ticket", "create", "-s", "x", "--format", "json"])
        .env("POSTDESK_USER", "bob")
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = env.json(&["ticket", "show", "1"]);
    assert_eq!(shown["events"][0]["actor"], "bob");
    // --as wins over POSTDESK_USER.
    env.ok(&["--as", "bob", "ticket", "edit", "1", "-p", "low"]);
    let shown = env.json(&["ticket", "show", "1"]);
    assert_eq!(shown["events"][1]["actor"], "bob");
}

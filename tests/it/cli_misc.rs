use crate::common::Env;

#[test]
fn help_lists_every_subcommand() {
    let env = Env::new();
    let help = env.ok(&["--help"]);
    for sub in [
        "init",
        "ingest",
        "ticket",
        "rule",
        "report",
        "session",
        "completions",
    ] {
        assert!(
            help.contains(&format!("\n  {sub} ")),
            "{sub} missing from:\n{help}"
        );
    }
    env.fails(&["frobnicate"], 2);
}

#[test]
fn pending_subcommands_say_so() {
    let env = Env::new();
    for sub in ["report", "session"] {
        let err = env.fails(&[sub, "list"], 1);
        assert_eq!(
            err,
            format!("postdesk: `postdesk {sub}` is not yet implemented\n")
        );
    }
}

#[test]
fn completions_for_each_shell() {
    let env = Env::new();
    assert!(env.ok(&["completions", "bash"]).contains("_postdesk()"));
    assert!(env
        .ok(&["completions", "zsh"])
        .contains("#compdef postdesk"));
    assert!(env
        .ok(&["completions", "fish"])
        .contains("complete -c postdesk"));
    env.fails(&["completions", "tcsh"], 2);
}

#[test]
fn init_makes_a_working_setup_and_never_overwrites() {
    let env = Env::new();
    let dir = env.path().join("fresh");
    let out = env
        .cmd(&["init", "fresh"])
        .env("POSTDESK_USER", "newcomer")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "postdesk.yaml",
        "rules/10-examples.yaml",
        "templates/acknowledge.hbs",
        "postdesk.db",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    // The newcomer's next command works in that directory, as the admin it wrote.
    let create = env
        .cmd(&["ticket", "create", "-s", "hello", "--format", "json"])
        .current_dir(&dir)
        .env("POSTDESK_USER", "newcomer")
        .output()
        .unwrap();
    assert!(
        create.status.success(),
        "{}",
        String::from_utf8_lossy(&create.stderr)
    );
    let t: serde_json::Value = serde_json::from_slice(&create.stdout).unwrap();
    assert_eq!(t["service"], "support");
    assert_eq!(t["assignee"], "@agents");
    let check = env
        .cmd(&["rule", "check"])
        .current_dir(&dir)
        .env("POSTDESK_USER", "newcomer")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "the starter rules load: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let err = env.fails(&["init", "fresh"], 1);
    assert!(err.contains("already exists; not overwriting it"), "{err}");
}

#[test]
fn lock_wait_takes_human_durations() {
    let env = Env::new();
    env.ok(&["--lock-wait", "2m", "ticket", "list"]);
    let err = env.fails(&["--lock-wait", "soon", "ticket", "list"], 2);
    assert!(err.contains("'soon' is not a duration"), "{err}");
}

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
        "templates/README.txt",
        "postdesk.db",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    // No copy of a built-in template: it would override it, and hide its fixes.
    let hbs: Vec<_> = std::fs::read_dir(dir.join("templates"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".hbs"))
        .collect();
    assert!(hbs.is_empty(), "{hbs:?}");
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

/// Runs and requires success; returns (stdout, stderr).
fn streams(env: &Env, args: &[&str]) -> (String, String) {
    let out = env.cmd(args).output().expect("run postdesk");
    crate::common::assert_success(&out, args);
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8");
    (text(out.stdout), text(out.stderr))
}

/// Issue 18: success lines went to stderr with the `postdesk:` prefix of errors. A
/// command's result is on stdout and stderr stays empty; with `--format json` stdout
/// is JSON only, so a command without JSON of its own says it on stderr, unprefixed.
/// Errors stay on stderr, prefixed.
#[test]
fn results_go_to_stdout_and_errors_to_stderr() {
    let env = Env::new();
    let no_rules = streams(&env, &["rule", "list"]);
    assert!(no_rules.0.starts_with("no rules in "), "{no_rules:?}");
    assert_eq!(no_rules.1, "");
    std::fs::create_dir(env.path().join("rules")).unwrap();
    std::fs::write(
        env.path().join("rules/10-one.yaml"),
        "- name: one\n  actions: [{ tag: [x] }]\n",
    )
    .unwrap();
    assert_eq!(
        streams(&env, &["rule", "check"]),
        ("1 rule in 1 file: OK\n".into(), String::new())
    );
    assert_eq!(
        streams(&env, &["rule", "check", "--format", "json"]),
        (String::new(), "1 rule in 1 file: OK\n".into())
    );
    let disabled = streams(&env, &["rule", "disable", "one"]);
    assert!(
        disabled.0.starts_with("rule 'one' disabled in "),
        "{disabled:?}"
    );
    assert_eq!(disabled.1, "");
    assert_eq!(
        streams(&env, &["rule", "disable", "one"]),
        ("rule 'one' was already disabled\n".into(), String::new())
    );
    assert_eq!(
        streams(&env, &["ticket", "list", "--search", "nothing"]),
        ("no tickets match\n".into(), String::new())
    );
    assert_eq!(
        streams(&env, &["ingest", "quarantine", "list"]),
        ("the quarantine is empty\n".into(), String::new())
    );
    let init = streams(&env, &["init", "fresh"]);
    assert!(init.0.starts_with("wrote "), "{init:?}");
    assert_eq!(init.1, "");

    let out = env.cmd(&["ticket", "show", "99"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("postdesk: ") && err.contains("99"), "{err}");
}

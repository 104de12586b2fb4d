//! Config and rule files that do not load: alias bombs are refused at once with
//! their place.

use std::io::Write;
use std::process::Output;

use crate::common::{config_text, Env, CONFIG};

/// Runs postdesk as an MTA would (no HOME, no user) with 1 GiB of address space,
/// so an expansion that would build gigabytes fails the test instead of taking
/// the machine's memory.
fn limited(env: &Env, args: &[&str], stdin: &str) -> Output {
    let mut child = env.spawn_limited(1 << 20, args);
    let mut input = child.stdin.take().unwrap();
    // A postdesk that gave up before reading its input closed the pipe: its exit
    // status is what the test is about.
    match input.write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// The test config plus views that share one list of 10,000 statuses through
/// 20,000 aliases: 500 KB of text that would expand to 200 million strings.
fn alias_bomb() -> String {
    let mut text = CONFIG.to_string();
    text.push_str("  - name: bomb0\n    status: &s [");
    text.push_str(&vec!["open"; 10_000].join(", "));
    text.push_str("]\n");
    for i in 1..=20_000 {
        text.push_str(&format!("  - {{name: bomb{i}, status: *s}}\n"));
    }
    text
}

/// The 1-based line and column of the first `*` on the line ending with `end`.
fn alias_at(text: &str, end: &str) -> (usize, usize) {
    let (i, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.ends_with(end))
        .unwrap();
    (i + 1, line.find('*').unwrap() + 1)
}

/// Runs `args` under the memory limit and requires exit 1 with an alias refusal
/// after `place` (`file:line:column: ...`) on stderr.
fn assert_refused(env: &Env, args: &[&str], place: &str) {
    let out = limited(env, args, "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{place}: aliases expand to more than 100000 nodes"
        )),
        "{err}"
    );
}

#[test]
fn an_alias_bomb_in_the_config_is_refused_at_its_alias() {
    let config = alias_bomb();
    let env = Env::with_config(&config);
    // The anchor holds 10,001 nodes: the tenth alias copies past 100,000.
    let (line, column) = alias_at(&config, "bomb10, status: *s}");
    let place = format!("postdesk: postdesk.yaml:{line}:{column}");
    assert_refused(&env, &["--as", "alice", "ticket", "list"], &place);
}

#[test]
fn an_alias_bomb_in_a_rule_file_is_refused_at_its_alias() {
    let env = Env::new();
    let mut rules = String::from("- name: fine\n  actions:\n    - tag: [a]\n");
    rules.push_str("- name: bomb\n  actions:\n    - tag: &t [");
    rules.push_str(&vec!["t"; 10_000].join(", "));
    rules.push_str("]\n");
    for i in 1..=20_000 {
        rules.push_str(&format!("    - untag: *t # {i}\n"));
    }
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(env.path().join("rules/bomb.yaml"), &rules).unwrap();
    let (line, column) = alias_at(&rules, "# 10");
    let place = format!("rules/bomb.yaml:{line}:{column}: rule 'bomb'");
    assert_refused(&env, &["--as", "alice", "rule", "check"], &place);
}

fn mail(subject: &str) -> String {
    format!(
        "From ann@acme.example  Tue Nov 24 21:30:00 2026\nFrom: ann@acme.example\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{subject}@acme.example>\n\nPlease.\n"
    )
}

fn spooled(env: &Env) -> usize {
    std::fs::read_dir(env.db().join("spool"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_config_that_does_not_load_still_spools_the_mail() {
    let cases = [
        ("tab", CONFIG.replace("  timezone: UTC", "\ttimezone: UTC")),
        ("syntax", CONFIG.replace("[alice, bob]", "[alice, bob")),
        ("bomb", alias_bomb()),
    ];
    for (case, config) in cases {
        let env = Env::with_config(&config);
        let out = limited(&env, &["ingest"], &mail(case));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{case}: {err}");
        assert!(
            err.contains("CONFIG ERROR: postdesk.yaml:") && err.contains("kept in the spool"),
            "{case}: {err}"
        );
        assert_eq!(spooled(&env), 1, "{case}: the message is in <db>/spool");
        // Once the config is fixed, the backstop makes the ticket.
        std::fs::write(env.path().join("postdesk.yaml"), config_text()).unwrap();
        let report = env.json(&["ingest", "spool"]);
        assert_eq!(report["summary"]["created"], 1, "{case}");
        assert_eq!(env.json(&["ticket", "show", "1"])["subject"], case);
    }
}

#[test]
fn a_broken_config_naming_no_database_is_a_temporary_failure() {
    let config = CONFIG
        .replace("  db: db\n", "")
        .replace("[alice, bob]", "[alice, bob");
    let env = Env::with_config(&config);
    let out = limited(&env, &["ingest"], &mail("nowhere"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(
        err.contains("no database directory to spool the message in"),
        "{err}"
    );
    // With POSTDESK_DB, the same delivery is spooled there.
    let out = env
        .cmd(&["ingest"])
        .env("POSTDESK_DB", env.db())
        .write_stdin(mail("named"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(spooled(&env), 1);
}

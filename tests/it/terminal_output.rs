//! Issue #16 item 10: escape sequences in mail never reach a terminal. Tables, lines
//! and messages show them escaped; JSON keeps the exact text.

use std::path::Path;
use std::process::Stdio;

use crate::common::{assert_success, Env};

const HOSTILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/hostile/terminal");

/// What `01-escapes-everywhere.eml` and `02-ignored-auto-reply.eml` decode to.
const SUBJECT: &str =
    "\u{1b}]0;pwned\u{7}Invoice \u{1b}[2J\u{1b}[31moverdue\u{1b}[0m \u{9b}1m\u{202e}txt.exe";
const NAME: &str = "Eve \u{1b}]8;;http://evil.example/\u{7}Support\u{1b}]8;;\u{7}";
const FILE_NAME: &str = "report\u{1b}[8m\u{7}\u{202e}gpj.exe";
const ATTACHMENT: &[u8] = b"Amount due \x1b]0;owned\x07\x1b[2J\xc2\x9b\n";
const IGNORED_SUBJECT: &str = "Out of office \u{1b}]52;c;cm0gLXJmIH4=\u{7}until Monday";
const IGNORED_NAME: &str = "Auto \u{1b}[?1049hResponder";

fn hostile(name: &str) -> String {
    std::fs::read_to_string(Path::new(HOSTILE).join(name)).expect("hostile mail")
}

/// A desk holding the hostile ticket (#1, expected) and the ignored auto-reply.
fn desk() -> Env {
    let env = Env::new();
    env.deliver(&hostile("01-escapes-everywhere.eml"));
    env.deliver(&hostile("02-ignored-auto-reply.eml"));
    assert_eq!(env.list(&[]), [1], "01 makes a ticket");
    let ignored = env.json(&["ingest", "ignored"]);
    assert_eq!(ignored[0]["reason"], "auto-reply", "02 is ignored");
    env
}

/// Fails on any character a terminal would act on: controls other than line
/// breaks and tabs, DEL, C1 controls, bidi embeddings, overrides and isolates.
fn assert_terminal_safe(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<char> = text
        .chars()
        .filter(|c| {
            (c.is_control() && !matches!(c, '\n' | '\t'))
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(bad.is_empty(), "{what} printed {bad:?}:\n{text}");
}

/// Runs, requires success, checks stdout and stderr; returns stdout.
fn run_safe(env: &Env, args: &[&str]) -> String {
    run_safe_both(env, args).0
}

/// Runs, requires success, checks stdout and stderr; returns both.
fn run_safe_both(env: &Env, args: &[&str]) -> (String, String) {
    let out = env.cmd(args).output().expect("run postdesk");
    assert_success(&out, args);
    assert_terminal_safe(&out.stdout, &format!("stdout of {args:?}"));
    assert_terminal_safe(&out.stderr, &format!("stderr of {args:?}"));
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8");
    (text(out.stdout), text(out.stderr))
}

#[test]
fn tables_and_lines_show_escape_sequences_instead_of_sending_them() {
    let env = desk();
    let list = run_safe(&env, &["ticket", "list"]);
    assert!(list.contains(r"\u{1b}]0;pwned\u{7}Invoice"), "{list}");
    assert!(list.contains(r"Eve \u{1b}]8;;http://"), "{list}");
    let show = run_safe(&env, &["ticket", "show", "1"]);
    assert!(
        show.starts_with(r"#1 \u{1b}]0;pwned\u{7}Invoice \u{1b}[2J"),
        "{show}"
    );
    assert!(show.contains(r"\u{9b}1m\u{202e}txt.exe"), "{show}");
    // The description keeps its lines and tabs.
    assert!(
        show.contains("invoice.\\u{1b}[2J\n\tAccounts \\u{1b}]0;pwned\\u{7}team\n"),
        "{show}"
    );
    let files = run_safe(&env, &["ticket", "attachment", "1"]);
    assert!(
        files.contains(r"report\u{1b}[8m\u{7}\u{202e}gpj.exe"),
        "{files}"
    );
    let ignored = run_safe(&env, &["ingest", "ignored"]);
    assert!(ignored.contains(r"\u{1b}]52;c;"), "{ignored}");
    assert!(
        ignored.contains(r"Auto \u{1b}[?1049hResponder"),
        "{ignored}"
    );
}

#[test]
fn notes_dry_runs_and_rule_tests_are_escaped() {
    let env = desk();
    let (note, _) = run_safe_both(&env, &["ticket", "attachment", "1", "1", "-o", "saved.bin"]);
    // The file written is named first; the attachment's own name, from the mail, escaped.
    assert!(
        note.contains(r"wrote saved.bin (28 bytes): attachment 1 of ticket #1, report\u{1b}[8m"),
        "{note}"
    );
    assert_eq!(
        std::fs::read(env.path().join("saved.bin")).unwrap(),
        ATTACHMENT
    );

    let dry = env
        .cmd(&["ingest", "--dry-run"])
        .write_stdin(hostile("01-escapes-everywhere.eml").replace("01.terminal", "01b.terminal"))
        .output()
        .unwrap();
    assert_success(&dry, &["ingest", "--dry-run"]);
    assert_terminal_safe(&dry.stdout, "ingest --dry-run");
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.contains(r#"would create ticket #2 from eve@example.net "\u{1b}]0;pwned"#),
        "{text}"
    );
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(
        env.path().join("rules/10-invoices.yaml"),
        "- name: invoices\n  conditions:\n    - subject: { contains: invoice }\n  actions:\n    - tag: [billing]\n",
    )
    .unwrap();
    let mail = Path::new(HOSTILE).join("01-escapes-everywhere.eml");
    let out = run_safe(&env, &["rule", "test", mail.to_str().unwrap(), "--trace"]);
    assert!(out.contains("rule 'invoices' matched"), "{out}");
}

#[test]
fn an_error_naming_a_hostile_file_is_escaped() {
    let env = Env::new();
    let name = "mail\u{1b}]0;pwned\u{7}.eml";
    let out = env.cmd(&["rule", "test", name]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_terminal_safe(&out.stderr, "the error");
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.starts_with(r"postdesk: cannot read mail\u{1b}]0;pwned\u{7}.eml"),
        "{error}"
    );
}

/// `--format json`, checked for terminal safety, parsed.
fn json_safe(env: &Env, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&run_safe(env, &all)).expect("JSON")
}

#[test]
fn json_keeps_the_exact_text_and_escapes_what_a_terminal_acts_on() {
    let env = desk();
    let shown = json_safe(&env, &["ticket", "show", "1"]);
    assert_eq!(shown["subject"], SUBJECT);
    assert_eq!(shown["requester"]["name"], NAME);
    let listed = json_safe(&env, &["ticket", "list"]);
    assert_eq!(listed[0]["subject"], SUBJECT);
    let files = json_safe(&env, &["ticket", "attachment", "1"]);
    assert_eq!(files[0]["name"], FILE_NAME);
    let ignored = json_safe(&env, &["ingest", "ignored"]);
    assert_eq!(ignored[0]["subject"], IGNORED_SUBJECT);
    assert!(
        ignored[0]["from"]
            .as_str()
            .unwrap()
            .starts_with(IGNORED_NAME),
        "{ignored}"
    );
}

/// Runs postdesk on a pseudo-terminal 200 columns wide (util-linux `script`);
/// returns what the terminal received, line ends as `\n`.
fn on_a_terminal(env: &Env, args: &[&str]) -> String {
    let bin = assert_cmd::cargo::cargo_bin("postdesk");
    let mut line = format!("stty cols 200; '{}'", bin.display());
    for arg in args {
        assert!(!arg.contains('\''), "{arg}");
        line.push_str(&format!(" '{arg}'"));
    }
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path())
        .env("POSTDESK_USER", "alice")
        .env("TZ", "UTC")
        .current_dir(env.path())
        .stdin(Stdio::null())
        .output()
        .expect("run script (util-linux)");
    assert_success(&out, args);
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn on_a_terminal_colours_work_and_mail_cannot_send_sequences() {
    let env = desk();
    let list = on_a_terminal(&env, &["ticket", "list"]);
    assert!(list.contains("\u{1b}["), "the status is coloured: {list:?}");
    for raw in ["\u{1b}]", "\u{1b}[2J", "\u{7}", "\u{9b}", "\u{202e}"] {
        assert!(!list.contains(raw), "{raw:?} in {list:?}");
    }
    assert!(list.contains(r"\u{1b}]0;pwned"), "{list}");
    for args in [
        &["ticket", "list", "--format", "csv"][..],
        &["ticket", "attachment", "1", "1"],
        &["ingest", "ignored", "--format", "csv"],
    ] {
        let out = on_a_terminal(&env, args);
        assert_terminal_safe(out.as_bytes(), &format!("{args:?} on a terminal"));
    }
    let json = on_a_terminal(&env, &["ticket", "show", "1", "--format", "json"]);
    assert_terminal_safe(json.as_bytes(), "JSON on a terminal");
    let shown: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(shown["subject"], SUBJECT);
}

#[test]
fn mail_bytes_go_exact_to_a_pipe_and_escaped_to_a_terminal() {
    let env = desk();
    let piped = env
        .cmd(&["ticket", "attachment", "1", "1"])
        .output()
        .unwrap();
    assert_eq!(piped.stdout, ATTACHMENT);
    let shown = on_a_terminal(&env, &["ticket", "attachment", "1", "1"]);
    assert_eq!(shown, "Amount due \\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}\n");

    let mail = hostile("04-quarantined-no-sender.eml");
    env.deliver(&mail);
    let list = json_safe(&env, &["ingest", "quarantine", "list"]);
    let id = list[0]["id"].as_str().expect("quarantined");
    let piped = env
        .cmd(&["ingest", "quarantine", "show", id])
        .output()
        .unwrap();
    assert_eq!(piped.stdout, mail.as_bytes());
    let shown = on_a_terminal(&env, &["ingest", "quarantine", "show", id]);
    assert_terminal_safe(shown.as_bytes(), "quarantine show on a terminal");
    assert!(shown.contains(r"Raw \u{1b}[2J bytes \u{7} in"), "{shown}");
}

/// Tables are padded to their columns by comfy-table; no printed line ends in spaces
/// (they would show in a diff, and in `| grep ' $'`).
#[test]
fn no_line_of_a_table_ends_in_spaces() {
    let env = Env::new();
    env.create(&["-s", "short", "--priority", "high"]);
    env.create(&["-s", "a much longer subject than the first"]);
    for args in [
        &["ticket", "show", "1"][..],
        &["ticket", "list"],
        &["outbox", "list", "--all"],
        &["template", "list"],
    ] {
        let out = env.ok(args);
        for line in out.lines() {
            assert_eq!(line, line.trim_end(), "{args:?}: {out}");
        }
    }
}

//! The committed man pages must be what the code generates.
//! Regenerate with `POSTDESK_UPDATE_MAN=1 cargo test --test it man_pages`.

use std::path::Path;

/// (file name, page) for the binary and every subcommand, recursively.
fn pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = without_help_subcommand(postdesk::cli::command());
    cmd.build();
    let mut out = Vec::new();
    collect(&cmd, &mut out);
    out
}

/// The command tree without clap's `help` subcommands: a man page would list
/// `postdesk-ticket-help(1)`, which has no page (`postdesk help` still works).
fn without_help_subcommand(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names
        .into_iter()
        .fold(cmd.disable_help_subcommand(true), |cmd, name| {
            cmd.mut_subcommand(name, without_help_subcommand)
        })
}

fn collect(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) {
    if cmd.is_hide_set() || cmd.get_name() == "help" {
        return;
    }
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .expect("render man page");
    out.push((format!("{name}.1"), page));
    for sub in cmd.get_subcommands() {
        collect(sub, out);
    }
}

#[test]
fn man_pages_match_the_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let update = std::env::var_os("POSTDESK_UPDATE_MAN").is_some();
    let pages = pages();
    assert!(
        pages.iter().any(|(n, _)| n == "postdesk-ticket-list.1"),
        "{:?}",
        pages.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    let mut stale = Vec::new();
    for (name, page) in &pages {
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, page).unwrap();
        } else if std::fs::read(&path).ok().as_ref() != Some(page) {
            stale.push(name.clone());
        }
    }
    let expected: Vec<_> = pages.iter().map(|(n, _)| n.clone()).collect();
    let extra: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.ends_with(".1") && !expected.contains(n))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "man pages out of date: {stale:?}, not generated any more: {extra:?}; run POSTDESK_UPDATE_MAN=1 cargo test --test it man_pages"
    );
}

/// Every option (not positional) of every command without help, `--help` and
/// `--version` aside, as `command path: name`.
fn args_without_help(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    let path = format!("{path} {}", cmd.get_name()).trim().to_string();
    for arg in cmd.get_arguments() {
        let option = arg.get_long().is_some() || arg.get_short().is_some();
        let silent = arg.get_help().is_none() && arg.get_long_help().is_none();
        if option
            && silent
            && !arg.is_hide_set()
            && !["help", "version"].contains(&arg.get_id().as_str())
        {
            out.push(format!("{path}: {}", arg.get_id()));
        }
    }
    for sub in cmd.get_subcommands() {
        args_without_help(sub, &path, out);
    }
}

/// Issue 18: `list --service`, `--category` and the time filters had no help.
#[test]
fn every_option_has_help() {
    let mut cmd = postdesk::cli::command();
    cmd.build();
    let mut silent = Vec::new();
    args_without_help(&cmd, "", &mut silent);
    assert!(silent.is_empty(), "options without help: {silent:?}");
}

/// Issue 18: `postdesk-ticket(1)` referred to `postdesk-ticket-help(1)`, which is
/// not generated: every page a page refers to is in `man/`.
#[test]
fn man_pages_refer_only_to_pages_that_exist() {
    let names: Vec<String> = pages().into_iter().map(|(n, _)| n).collect();
    let mut dangling = Vec::new();
    for (name, page) in pages() {
        let text = String::from_utf8(page).unwrap().replace("\\-", "-");
        for word in text.split(|c: char| c.is_whitespace() || c == ',') {
            if let Some(page) = word.strip_suffix("(1)") {
                if page.starts_with("postdesk") && !names.contains(&format!("{page}.1")) {
                    dangling.push(format!("{name}: {word}"));
                }
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "references to missing pages: {dangling:?}"
    );
}

/// Issue 18: `report` and `session` are listed, but say they are not built yet.
#[test]
fn help_says_report_and_session_are_not_built_yet() {
    let mut cmd = postdesk::cli::command();
    let help = cmd.render_long_help().to_string();
    for name in ["report", "session"] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} is listed: {help}"));
        assert!(line.contains("(not built yet)"), "{line}");
        let page = pages()
            .into_iter()
            .find(|(n, _)| *n == format!("postdesk-{name}.1"))
            .unwrap()
            .1;
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("not built yet"), "{page}");
    }
    assert!(
        help.contains("are not built yet"),
        "the description says so too: {help}"
    );
}

/// The long names of the options every command shares (`global = true`), from the code.
fn global_options() -> Vec<String> {
    let cmd = postdesk::cli::command();
    let globals: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    assert!(globals.contains(&"config".to_string()), "{globals:?}");
    globals
}

/// The options a `--help` text declares, in order, each with the heading it is under.
fn help_options(help: &str) -> Vec<(String, String)> {
    let mut heading = String::new();
    let mut out = Vec::new();
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            heading = line.trim_end_matches(':').to_string();
        }
        let decl = line.trim_start();
        // `-s, --subject <SUBJECT>` or `--config <FILE>`; not a `- table: ...` value list.
        if decl.starts_with("--") || decl.get(2..4) == Some(", ") && decl.starts_with('-') {
            if let Some(long) = decl.split("--").nth(1) {
                let long = long.split([' ', '=', '<']).next().unwrap_or_default();
                out.push((long.to_string(), heading.clone()));
            }
        }
    }
    out
}

/// The options a man page declares (`.TP` then `\fB\-\-name\fR`), each with its section.
fn man_options(page: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    let mut after_tp = false;
    for line in page.lines() {
        if let Some(title) = line.strip_prefix(".SH ") {
            section = title.trim_matches('"').to_string();
        }
        if after_tp && line.starts_with("\\fB\\-") {
            let text = line.replace("\\-", "-");
            if let Some(long) = text.split("--").nth(1) {
                let long = long.split('\\').next().unwrap_or_default();
                out.push((long.to_string(), section.clone()));
            }
        }
        after_tp = line == ".TP";
    }
    out
}

/// Every declared option: a global one under `global_heading`, any other not.
fn assert_apart(what: &str, options: &[(String, String)], global_heading: &str) {
    let globals = global_options();
    let declared: Vec<&String> = options.iter().map(|(o, _)| o).collect();
    for g in &globals {
        assert!(declared.contains(&g), "{what}: --{g} missing: {options:?}");
    }
    let first_global = options.iter().position(|(o, _)| globals.contains(o));
    for (n, (option, heading)) in options.iter().enumerate() {
        let global = globals.contains(option);
        assert_eq!(
            heading == global_heading,
            global,
            "{what}: --{option} is under {heading:?}: {options:?}"
        );
        assert!(
            global || first_global.is_none_or(|f| n < f),
            "{what}: --{option} comes after the global options: {options:?}"
        );
    }
}

/// Issue 18: `--help` and the man pages mixed the global options (`--config`,
/// `--db`, `--as`, ...) into each command's own; they stand apart, after them.
#[test]
fn global_options_stand_apart_in_help_and_man_pages() {
    let env = crate::common::Env::new();
    for args in [
        &["help"][..],
        &["ticket", "create", "--help"],
        &["ticket", "create", "-h"],
        &["ingest", "quarantine", "drop", "--help"],
    ] {
        let options = help_options(&env.ok(args));
        assert!(
            options.iter().any(|(o, _)| o == "help"),
            "{args:?}: {options:?}"
        );
        assert_apart(&format!("postdesk {args:?}"), &options, "Global options");
    }
    let create = help_options(&env.ok(&["ticket", "create", "--help"]));
    assert!(create.iter().any(|(o, _)| o == "subject"), "{create:?}");
    for (name, page) in pages() {
        let page = String::from_utf8(page).unwrap();
        assert_apart(&name, &man_options(&page), "GLOBAL OPTIONS");
        assert_apart(&name, &synopsis_options(&page), "SYNOPSIS, global");
    }
}

/// The long options of a man page's SYNOPSIS line, in order; the global ones
/// marked as under the heading "SYNOPSIS, global" once the first has been seen.
fn synopsis_options(page: &str) -> Vec<(String, String)> {
    let globals = global_options();
    let line = page
        .lines()
        .skip_while(|l| *l != ".SH SYNOPSIS")
        .nth(1)
        .expect("a synopsis")
        .replace("\\-", "-");
    let mut heading = "SYNOPSIS";
    line.split("\\fB--")
        .skip(1)
        .map(|rest| {
            let long = rest.split('\\').next().unwrap_or_default().to_string();
            if globals.contains(&long) {
                heading = "SYNOPSIS, global";
            }
            (long, heading.to_string())
        })
        .collect()
}

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

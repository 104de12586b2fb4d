//! The committed man pages must be what the code generates.
//! Regenerate with `POSTDESK_UPDATE_MAN=1 cargo test --test it man_pages`.

use std::path::Path;

/// (file name, page) for the binary and every subcommand, recursively.
fn pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = postdesk::cli::command();
    cmd.build();
    let mut out = Vec::new();
    collect(&cmd, &mut out);
    out
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

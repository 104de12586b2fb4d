//! The shell scripts README points to (issue 18, bug 1).

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_demo_runs_the_binary_where_cargo_target_dir_puts_it() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(root().join("scripts/target-dir.sh"))
        .env("CARGO_TARGET_DIR", elsewhere.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{}\n", elsewhere.path().display())
    );
    // The demo builds, then runs what it built from there, not from ./target.
    let demo = std::fs::read_to_string(root().join("examples/demo.sh")).unwrap();
    let binary: Vec<&str> = demo.lines().filter(|l| l.starts_with("pd=")).collect();
    assert_eq!(
        binary,
        ["pd=\"$(bash scripts/target-dir.sh)/release/postdesk\""]
    );
}

#[test]
fn readme_installs_from_the_tested_lock_file() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let installs: Vec<&str> = readme
        .lines()
        .filter(|l| l.contains("cargo install"))
        .map(str::trim)
        .collect();
    assert_eq!(installs, ["cargo install --locked --path ."]);
}

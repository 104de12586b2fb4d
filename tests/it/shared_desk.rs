//! A desk shared by a Unix group: the MTA's user delivers, agents edit, outsiders are
//! told which group the desk belongs to. The test creates a group and users, which
//! needs root: CI runs as root, and elsewhere these tests fail rather than pass
//! without testing anything.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MAIL: &str = "From ann@acme.example  Tue Nov 24 21:30:00 2026\nReturn-Path: <ann@acme.example>\nFrom: ann@acme.example\nTo: help@corp.example\nSubject: SUBJECT\nMessage-ID: <SUBJECT@acme.example>\n\nThe printer jams.\n";

/// A group and users made for one test, removed when dropped: `mta` has the group as
/// its primary group (Postfix runs a pipe with that alone), `agent` as a
/// supplementary one, `outsider` not at all.
struct Accounts {
    group: String,
    mta: String,
    agent: String,
    outsider: String,
}

/// useradd and userdel lock /etc/passwd and fail rather than wait: one test at a time.
static ACCOUNTS_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Accounts {
    fn create() -> Accounts {
        // SAFETY: geteuid has no preconditions.
        assert!(
            unsafe { libc::geteuid() } == 0,
            "the shared-desk tests create a group and users and must run as root (as CI does)"
        );
        let tag = format!("{:x}{:04x}", std::process::id() & 0xfff, fastrand::u16(..));
        let accounts = Accounts {
            group: format!("pdg{tag}"),
            mta: format!("pdm{tag}"),
            agent: format!("pda{tag}"),
            outsider: format!("pdo{tag}"),
        };
        let _one = ACCOUNTS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        run("groupadd", &["--system", &accounts.group]);
        let system = [
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
        ];
        run(
            "useradd",
            &[&system[..], &["--gid", &accounts.group, &accounts.mta]].concat(),
        );
        run(
            "useradd",
            &[
                &system[..],
                &["--user-group", "--groups", &accounts.group, &accounts.agent],
            ]
            .concat(),
        );
        run(
            "useradd",
            &[&system[..], &["--user-group", &accounts.outsider]].concat(),
        );
        accounts
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        let _one = ACCOUNTS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        for user in [&self.mta, &self.agent, &self.outsider] {
            let _ = Command::new("userdel").arg(user).status();
        }
        let _ = Command::new("groupdel").arg(&self.group).status();
    }
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?}");
}

/// The postdesk binary where every test user can run it: in place when the path to
/// it is open to all, else a copy in `dir`.
fn binary_for_all(dir: &Path) -> PathBuf {
    let built = assert_cmd::cargo::cargo_bin("postdesk");
    let open = built.ancestors().skip(1).all(|d| {
        std::fs::metadata(d).is_ok_and(|m| d.as_os_str().is_empty() || m.mode() & 0o001 != 0)
    });
    if open {
        return built;
    }
    let copy = dir.join("postdesk");
    std::fs::copy(&built, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    copy
}

/// A group desk made by `postdesk init --group` in a directory every user can pass.
struct Desk {
    _top: tempfile::TempDir,
    bin: PathBuf,
    dir: PathBuf,
    accounts: Accounts,
}

impl Desk {
    fn new() -> Desk {
        let accounts = Accounts::create();
        let top = tempfile::tempdir().unwrap();
        std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let bin = binary_for_all(top.path());
        let dir = top.path().join("desk");
        let out = Command::new(&bin)
            .env_clear()
            .env("POSTDESK_USER", "alice")
            .args(["init", "--group", &accounts.group])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "init: {}", text(&out.stderr));
        // The agent's Unix login is an admin, so it may act as alice (`--as`).
        let config = dir.join("postdesk.yaml");
        let agent = format!(
            "users:\n  - {{ login: {0}, name: Agent, email: {0}@localhost, admin: true }}\n",
            accounts.agent
        );
        let text_now = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, text_now.replacen("users:\n", &agent, 1)).unwrap();
        Desk {
            _top: top,
            bin,
            dir,
            accounts,
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("postdesk.yaml")
    }

    fn data(&self) -> PathBuf {
        self.dir.join("postdesk.db")
    }

    /// postdesk as `user` with `groups` (setpriv's --clear-groups or --init-groups),
    /// from `/`, with only PATH and the config: as an MTA's pipe runs it.
    fn as_user(&self, user: &str, gid: &str, groups: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid", user, "--regid", gid, groups, "--"])
            .arg(&self.bin)
            .args(["--config"])
            .arg(self.config())
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir("/");
        cmd
    }

    /// A delivery as Postfix makes it: the alias owner's uid and primary group only.
    fn deliver_as(&self, user: &str, gid: &str, subject: &str) -> Output {
        let mut child = self
            .as_user(user, gid, "--clear-groups", &["ingest"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(MAIL.replace("SUBJECT", subject).as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// An agent at a shell: its own primary group, the desk's group among the others.
    fn agent(&self, args: &[&str]) -> Output {
        let a = &self.accounts.agent;
        let mut all = vec!["--as", "alice"];
        all.extend(args);
        self.as_user(a, a, "--init-groups", &all).output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every directory under `dir` setgid 2770 and the group's, every file 0660 and the group's.
fn assert_all_shared(dir: &Path, gid: u32) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = meta.mode() & 0o7777;
        assert_eq!(meta.gid(), gid, "group of {}", path.display());
        if meta.is_dir() {
            assert_eq!(mode, 0o2770, "mode of {}", path.display());
            assert_all_shared(&path, gid);
        } else {
            assert_eq!(mode, 0o660, "mode of {}", path.display());
        }
    }
}

fn ticket_count(out: &Output) -> usize {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    list.as_array().unwrap().len()
}

#[test]
fn members_deliver_and_edit_and_outsiders_are_told_the_group() {
    let desk = Desk::new();
    let acc = &desk.accounts;
    let gid = std::fs::metadata(&desk.dir).unwrap().gid();
    assert_eq!(
        std::fs::metadata(&desk.dir).unwrap().mode() & 0o7777,
        0o2770
    );
    assert_all_shared(&desk.dir, gid);

    let first = desk.deliver_as(&acc.mta, &acc.group, "first");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(first.stderr.is_empty(), "{}", text(&first.stderr));

    let list = desk.agent(&["ticket", "list", "--format", "json"]);
    assert_eq!(ticket_count(&list), 1);
    let edit = desk.agent(&["ticket", "edit", "1", "--status", "pending"]);
    assert!(edit.status.success(), "{}", text(&edit.stderr));

    // The agent's writes (sled's snapshot and log) must not lock the MTA out.
    let second = desk.deliver_as(&acc.mta, &acc.group, "second");
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(second.stderr.is_empty(), "{}", text(&second.stderr));
    let list = desk.agent(&["ticket", "list", "--format", "json"]);
    assert_eq!(ticket_count(&list), 2);
    let show = desk.agent(&["ticket", "show", "1", "--format", "json"]);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(shown["status"], "pending");
    assert_all_shared(&desk.dir, gid);

    // An outsider's delivery is deferred (75), naming the group to join.
    let o = &acc.outsider;
    let refused = desk.deliver_as(o, o, "third");
    let err = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(75), "{err}");
    assert!(
        err.contains(&format!("shared by group '{}'", acc.group)) && err.contains(o),
        "{err}"
    );
    let list = desk
        .as_user(o, o, "--init-groups", &["--as", "alice", "ticket", "list"])
        .output()
        .unwrap();
    let err = text(&list.stderr);
    assert_eq!(list.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("shared by group '{}'", acc.group)),
        "{err}"
    );
}

/// `postdesk doctor --format json --user LOGIN` as root: (exit code, status by check).
fn doctor(desk: &Desk, user: &str) -> (i32, serde_json::Value) {
    let out = Command::new(&desk.bin)
        .env_clear()
        .arg("--config")
        .arg(desk.config())
        .args(["doctor", "--format", "json", "--user", user])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check '{name}' in {report}"))
}

#[test]
fn doctor_says_who_may_use_a_group_desk() {
    let desk = Desk::new();
    let acc = &desk.accounts;
    let ok = desk.deliver_as(&acc.mta, &acc.group, "first");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    let (code, report) = doctor(&desk, &acc.mta);
    assert_eq!(code, 0, "{report}");
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}");
    }

    // In the group only as a supplementary group: fine at a shell, not for an MTA.
    let (code, report) = doctor(&desk, &acc.agent);
    assert_eq!(code, 0, "{report}");
    let dir = check(&report, "data directory");
    assert_eq!(dir["status"], "warning", "{dir}");
    assert!(
        dir["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("usermod -g {}", acc.group)),
        "{dir}"
    );

    let (code, report) = doctor(&desk, &acc.outsider);
    assert_eq!(code, 1, "{report}");
    for name in ["path", "data directory", "files"] {
        assert_eq!(check(&report, name)["status"], "problem", "{report}");
    }
    let dir = check(&report, "data directory");
    assert!(
        dir["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("shared by group '{}'", acc.group)),
        "{dir}"
    );
    assert!(
        dir["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("usermod -aG {} {}", acc.group, acc.outsider)),
        "{dir}"
    );

    // A file made by hand for root alone locks the members out of the spool.
    let stray = desk.data().join("spool").join("stray.eml");
    std::fs::write(&stray, MAIL).unwrap();
    std::os::unix::fs::chown(&stray, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&stray, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, report) = doctor(&desk, &acc.mta);
    assert_eq!(code, 1, "{report}");
    for name in ["files", "sharing"] {
        let c = check(&report, name);
        assert_eq!(c["status"], "problem", "{c}");
        assert!(c["detail"].as_str().unwrap().contains("stray.eml"), "{c}");
        assert!(c["fix"].as_str().unwrap().contains("chgrp -R"), "{c}");
    }

    // A rule file only root may read stops the MTA's user from loading the rules.
    std::fs::remove_file(&stray).unwrap();
    let rule = desk.dir.join("rules").join("20-private.yaml");
    std::fs::write(&rule, "[]\n").unwrap();
    std::os::unix::fs::chown(&rule, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&rule, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, report) = doctor(&desk, &acc.mta);
    assert_eq!(code, 1, "{report}");
    let path = check(&report, "path");
    assert_eq!(path["status"], "problem", "{path}");
    assert!(
        path["detail"].as_str().unwrap().contains("20-private.yaml"),
        "{path}"
    );
    assert_eq!(check(&report, "rules")["status"], "ok", "{report}");
}

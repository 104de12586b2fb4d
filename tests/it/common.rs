//! A scratch helpdesk per test: a temp dir with a config, a database, and a clean environment.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// The config every test starts from: two agents, a group, two services, custom fields, views.
/// alice, an admin, is the Unix login running the tests (`Env::with_config` puts it
/// in for `UNIX_LOGIN`), so she may act as bob with `--as` or POSTDESK_USER.
pub const CONFIG: &str = r#"
settings:
  db: db
  timezone: UTC
  default_service: it
users:
  - { login: alice, name: Alice Agent, email: alice@desk.example, admin: true, unix_login: UNIX_LOGIN }
  - { login: bob, name: Bob Builder, email: bob@desk.example }
groups:
  - { name: support, members: [alice, bob] }
services:
  - name: it
    managers: [alice]
    guests: [boss@corp.example]
    default_assignee: "@support"
    addresses: [help@corp.example]
    categories:
      - name: hardware
      - name: access
        template:
          subject: Access request
          message: Who needs access to what?
  - name: finance
    default_assignee: bob
    addresses: [billing@corp.example]
fields:
  - { name: asset, type: text }
  - { name: cost, type: number }
  - { name: due, type: date }
  - { name: impact, type: choice, choices: [low, team, everyone] }
views:
  - name: mine
    assignee: me
    status: [unresolved]
  - name: hot
    priority: [urgent]
"#;

pub struct Env {
    pub dir: TempDir,
}

impl Env {
    /// A helpdesk with the standard test config; the acting user is alice.
    pub fn new() -> Env {
        Env::with_config(CONFIG)
    }

    /// A helpdesk with this config, `UNIX_LOGIN` in it replaced by [`unix_login`].
    pub fn with_config(config: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config.replace("UNIX_LOGIN", &unix_login());
        std::fs::write(dir.path().join("postdesk.yaml"), config).expect("write config");
        Env { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join("db")
    }

    /// The binary with a cleared environment, run from the helpdesk's directory.
    #[must_use]
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("postdesk").expect("binary built");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("POSTDESK_USER", "alice")
            .env("TZ", "UTC")
            .current_dir(self.path())
            .args(args);
        cmd
    }

    /// The binary as a plain process, for tests that spawn, kill or run many at once.
    pub fn process(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("postdesk"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("POSTDESK_USER", "alice")
            .current_dir(self.path())
            .args(args);
        cmd
    }

    /// postdesk as an MTA runs it (no HOME, no user), with its address space capped
    /// at `kib` KiB (`ulimit -v`), stdin, stdout and stderr piped: a test of bounded
    /// memory fails instead of taking the machine's.
    pub fn spawn_limited(&self, kib: u64, args: &[&str]) -> std::process::Child {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
            .arg(assert_cmd::cargo::cargo_bin("postdesk"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(self.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run postdesk")
    }

    /// Runs as the Unix login alone (no `--as`, no POSTDESK_USER).
    pub fn run_as_unix_login(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .env_remove("POSTDESK_USER")
            .output()
            .expect("run postdesk")
    }

    /// Runs and requires success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("run postdesk");
        assert_success(&out, args);
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs and requires failure with `code`; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.cmd(args).output().expect("run postdesk");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "postdesk {args:?}: expected exit {code}\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }

    /// Pipes one message into `postdesk ingest`, as an MTA does; returns the output.
    pub fn ingest(&self, message: &str) -> Output {
        self.cmd(&["ingest"])
            .env_remove("HOME")
            .env_remove("POSTDESK_USER")
            .write_stdin(message)
            .output()
            .expect("run postdesk ingest")
    }

    /// Pipes a message and requires exit 0 and silence on stderr.
    pub fn deliver(&self, message: &str) {
        let out = self.ingest(message);
        assert_success(&out, &["ingest"]);
        assert!(
            out.stderr.is_empty(),
            "ingest complained: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs with `--format json` and parses stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.ok(&all);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("postdesk {args:?}: bad JSON ({e}):\n{out}"))
    }

    /// Creates a ticket and returns its number.
    pub fn create(&self, args: &[&str]) -> u64 {
        let mut all = vec!["ticket", "create"];
        all.extend(args);
        self.json(&all)["number"].as_u64().expect("number in JSON")
    }

    /// Numbers of the tickets `ticket list` prints for these filters.
    pub fn list(&self, filters: &[&str]) -> Vec<u64> {
        let mut all = vec!["ticket", "list"];
        all.extend(filters);
        self.json(&all)
            .as_array()
            .expect("array")
            .iter()
            .map(|t| t["number"].as_u64().unwrap())
            .collect()
    }
}

/// `config` (the standard one, or one made from it) without notifications and
/// auto-replies: alice and bob monitor nothing, `auto_reply` is off. For tests of
/// other mail (replies, bounces) that count what the outbox holds; notifications
/// are tests/it/notify.rs's.
pub fn quiet(config: &str) -> String {
    config
        .replace(
            "@desk.example",
            "@desk.example, monitoring: { service: never, held: never }",
        )
        .replace("users:\n", "auto_reply: { enabled: false }\nusers:\n")
}

/// The standard desk plus carol, a user of the directory who is nobody's agent.
pub fn with_carol() -> Env {
    Env::with_config(&CONFIG.replace(
        "groups:",
        "  - { login: carol, name: Carol Clerk, email: carol@desk.example }\ngroups:",
    ))
}

/// [`CONFIG`] as [`Env::with_config`] writes it, for a test that writes a config file itself.
pub fn config_text() -> String {
    CONFIG.replace("UNIX_LOGIN", &unix_login())
}

/// The Unix login running the tests.
pub fn unix_login() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .expect("passwd lookup")
        .expect("the test user has a login name")
        .name
}

pub fn assert_success(out: &Output, args: &[&str]) {
    assert!(
        out.status.success(),
        "postdesk {args:?} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

//! `postdesk doctor`: what would stop a delivery or a command for one Unix user, and
//! how to fix it. Reads only: it creates nothing in the desk (run as root, anything it
//! made would be root's), and judges access by owners, groups and modes.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use nix::unistd::{Gid, Uid, User};

use crate::config::Config;
use crate::sharing::{group_name, is_shared_mode, user_name};
use crate::store::LockProbe;

/// The Unix user the checks are for.
pub struct Who {
    pub name: String,
    uid: u32,
    /// The primary group: the only one an MTA's pipe runs with.
    gid: u32,
    groups: Vec<u32>,
}

impl Who {
    /// A user by login name.
    pub fn named(login: &str) -> Result<Who> {
        let user = User::from_name(login)
            .with_context(|| format!("cannot look up user '{login}'"))?
            .with_context(|| format!("no user '{login}' on this system"))?;
        Who::from_user(user)
    }

    /// The user running this process.
    pub fn current() -> Result<Who> {
        let uid = Uid::current();
        let user = User::from_uid(uid)
            .context("cannot look up the current user")?
            .with_context(|| format!("no user with uid {uid} in the user database"))?;
        Who::from_user(user)
    }

    fn from_user(user: User) -> Result<Who> {
        let name = std::ffi::CString::new(user.name.clone())?;
        let groups = nix::unistd::getgrouplist(&name, user.gid)
            .with_context(|| format!("cannot list the groups of '{}'", user.name))?;
        Ok(Who {
            name: user.name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            groups: groups.iter().map(|g| g.as_raw()).collect(),
        })
    }

    /// Whether the mode bits give this user every permission in `want` (r 4, w 2, x 1).
    fn may(&self, meta: &Metadata, want: u32) -> bool {
        if self.uid == 0 {
            return true;
        }
        let mode = meta.mode();
        let bits = if meta.uid() == self.uid {
            mode >> 6
        } else if self.groups.contains(&meta.gid()) {
            mode >> 3
        } else {
            mode
        };
        bits & want == want
    }

    /// Whether this user reaches `meta` only through a supplementary group, which a
    /// pipe started by Postfix does not have (it sets the primary group alone).
    fn only_by_supplementary(&self, meta: &Metadata) -> bool {
        self.uid != 0 && meta.uid() != self.uid && meta.gid() != self.gid
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Works, but not for every way in (a delivery, another member).
    Warning,
    /// Stops a delivery or a command.
    Problem,
}

#[derive(Debug, serde::Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(check: &'static str, detail: String) -> Check {
        Check {
            check,
            status: Status::Ok,
            detail,
            fix: None,
        }
    }

    fn bad(check: &'static str, status: Status, detail: String, fix: String) -> Check {
        Check {
            check,
            status,
            detail,
            fix: Some(fix),
        }
    }
}

/// The config, loaded or not, and the rules in it.
pub fn config_and_rules(path: &Path, loaded: &Result<Config>) -> Vec<Check> {
    let config = match loaded {
        Ok(config) => config,
        Err(e) => return vec![config_failed(e)],
    };
    let mut checks = vec![Check::ok("config", format!("{} loads", path.display()))];
    checks.push(match crate::rules::RuleSet::load(config) {
        Ok(rules) => Check::ok("rules", format!("{} rules load", rules.rules.len())),
        Err(e) => Check::bad(
            "rules",
            Status::Problem,
            format!("{e:#}"),
            "`postdesk rule check` lists every error with its file, line and rule; deliveries wait in the spool until they load".into(),
        ),
    });
    checks
}

/// A config that was not found or did not load.
pub fn config_failed(e: &anyhow::Error) -> Check {
    Check::bad(
        "config",
        Status::Problem,
        format!("{e:#}"),
        "correct the config; meanwhile deliveries wait in the spool (of `settings.db`), and `postdesk ingest spool` processes them once it loads".into(),
    )
}

/// Whether `who` can reach the data directory and read the config, the rules and
/// the templates (`readable`: files, or directories with the files in them).
pub fn reach(who: &Who, readable: &[PathBuf], data_dir: &Path) -> Check {
    let mut blocked: Vec<(PathBuf, String)> = Vec::new();
    let mut block = |path: &Path, meta: &Metadata| {
        if !blocked.iter().any(|(p, _)| p == path) {
            blocked.push((path.to_path_buf(), describe(meta)));
        }
    };
    for target in readable.iter().map(PathBuf::as_path).chain([data_dir]) {
        let absolute = std::path::absolute(target).unwrap_or_else(|_| target.to_path_buf());
        for dir in absolute.ancestors().skip(1) {
            if let Ok(meta) = std::fs::metadata(dir) {
                if !who.may(&meta, 1) {
                    block(dir, &meta);
                }
            }
        }
    }
    for target in readable {
        let Ok(meta) = std::fs::metadata(target) else {
            continue;
        };
        if !who.may(&meta, if meta.is_dir() { 5 } else { 4 }) {
            block(target, &meta);
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(target).into_iter().flatten().flatten() {
                match entry.metadata() {
                    Ok(meta) if meta.is_file() && !who.may(&meta, 4) => block(&entry.path(), &meta),
                    _ => {}
                }
            }
        }
    }
    if blocked.is_empty() {
        return Check::ok(
            "path",
            format!(
                "{} can reach the data directory and read the config, rules and templates",
                who.name
            ),
        );
    }
    let list: Vec<String> = blocked
        .iter()
        .map(|(p, m)| format!("{} ({m})", p.display()))
        .collect();
    Check::bad(
        "path",
        Status::Problem,
        format!("{} cannot pass or read {}", who.name, list.join(", ")),
        format!(
            "add {0} to the group of each (`usermod -aG GROUP {0}`), or open a directory that may be public with `chmod o+x`; a file of the desk's group needs g+r",
            who.name
        ),
    )
}

/// The data directory itself: private or a group's, and whether `who` may work in it.
pub fn data_dir(who: &Who, dir: &Path) -> Check {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Check::ok(
                "data directory",
                format!(
                    "{} does not exist yet: the first command creates it",
                    dir.display()
                ),
            )
        }
        Err(e) => {
            return Check::bad(
                "data directory",
                Status::Problem,
                format!("cannot read {}: {e}", dir.display()),
                "see that the path is right (--db, POSTDESK_DB, settings.db)".into(),
            )
        }
    };
    let group = group_name(Gid::from_raw(meta.gid()));
    let shared = is_shared_mode(meta.mode());
    let what = if shared {
        format!(
            "{} is shared by group '{group}' ({})",
            dir.display(),
            describe(&meta)
        )
    } else {
        format!("{} is private ({})", dir.display(), describe(&meta))
    };
    if !who.may(&meta, 7) {
        let fix = if shared {
            format!(
                "add {0} to group '{group}': `usermod -aG {group} {0}`; for the MTA's user make it the primary group, `usermod -g {group} {0}`",
                who.name
            )
        } else {
            format!(
                "run as {}, or share the desk with a group that {} is in: {}",
                user_name(Uid::from_raw(meta.uid())),
                who.name,
                share_command("GROUP", dir)
            )
        };
        return Check::bad(
            "data directory",
            Status::Problem,
            format!("{what}; {} may not work in it", who.name),
            fix,
        );
    }
    if !shared && meta.mode() & 0o070 == 0o070 {
        return Check::bad(
            "data directory",
            Status::Warning,
            format!(
                "{what}: group-writable but not setgid, so postdesk creates private files in it"
            ),
            format!("make it a group desk: {}", share_command(&group, dir)),
        );
    }
    if shared && who.only_by_supplementary(&meta) {
        return Check::bad(
            "data directory",
            Status::Warning,
            format!(
                "{what}; {} is in '{group}' only as a supplementary group, which an MTA's pipe does not get",
                who.name
            ),
            format!(
                "if {0} runs `postdesk ingest` for the MTA, make '{group}' its primary group: `usermod -g {group} {0}`",
                who.name
            ),
        );
    }
    Check::ok(
        "data directory",
        format!("{what}; {} may work in it", who.name),
    )
}

/// Everything under the data directory: `who` needs to read and write each file and
/// directory (sled's files, the spool, the mail store, the quarantine, the locks); on
/// a group desk each must also stay the group's, or another member is locked out.
pub fn contents(who: &Who, dir: &Path) -> Vec<Check> {
    let Ok(top) = std::fs::metadata(dir) else {
        return Vec::new();
    };
    let shared = is_shared_mode(top.mode()).then(|| top.gid());
    let mut denied = Found::default();
    let mut unshared = Found::default();
    walk(dir, &mut |path, meta| {
        let want = if meta.is_dir() { 7 } else { 6 };
        if !who.may(meta, want) {
            denied.add(path, meta);
        }
        if let Some(gid) = shared {
            let kept = if meta.is_dir() {
                is_shared_mode(meta.mode())
            } else {
                meta.mode() & 0o060 == 0o060
            };
            if !kept || meta.gid() != gid {
                unshared.add(path, meta);
            }
        }
    });
    let mut checks = vec![if denied.count == 0 {
        Check::ok(
            "files",
            format!(
                "{} may read and write everything in {}",
                who.name,
                dir.display()
            ),
        )
    } else {
        Check::bad(
            "files",
            Status::Problem,
            format!("{} may not write {}", who.name, denied.describe()),
            match shared {
                Some(gid) if !who.groups.contains(&gid) => format!(
                    "add {} to group '{}' (see the data directory check)",
                    who.name,
                    group_name(Gid::from_raw(gid))
                ),
                Some(gid) => share_command(&group_name(Gid::from_raw(gid)), dir),
                None => format!(
                    "run as the desk's owner, or share it: {}",
                    share_command("GROUP", dir)
                ),
            },
        )
    }];
    if let Some(gid) = shared {
        let group = group_name(Gid::from_raw(gid));
        checks.push(if unshared.count == 0 {
            Check::ok(
                "sharing",
                format!("group '{group}' may write everything in {}", dir.display()),
            )
        } else {
            Check::bad(
                "sharing",
                Status::Problem,
                format!(
                    "not writable by group '{group}' (other members are locked out): {}",
                    unshared.describe()
                ),
                share_command(&group, dir),
            )
        });
    }
    checks
}

/// Spooled mail older than a minute: nothing is draining the spool.
pub fn spool(dir: &Path) -> Check {
    let spool = crate::mail::spool::Spool::new(dir);
    let files = match spool.list() {
        Ok(files) => files,
        Err(e) => {
            return Check::bad(
                "spool",
                Status::Problem,
                format!("{e:#}"),
                "see the data directory's checks".into(),
            )
        }
    };
    let minute = Duration::from_secs(60);
    let now = SystemTime::now();
    let old: Vec<Duration> = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .filter_map(|t| now.duration_since(t).ok())
        .filter(|age| *age >= minute)
        .collect();
    match old.iter().max() {
        None => Check::ok(
            "spool",
            format!("{} messages waiting, none for a minute", files.len()),
        ),
        Some(oldest) => Check::bad(
            "spool",
            Status::Problem,
            format!(
                "{} messages waiting for over a minute, the oldest for {} min: nothing is processing the spool",
                old.len(),
                oldest.as_secs() / 60
            ),
            "run `postdesk ingest spool` to see what stops it (a config or rule error, a held database), and run it from cron as a backstop".into(),
        ),
    }
}

/// Whether the database is held, tried without opening (or changing) anything.
pub fn database_lock(dir: &Path, wait: Duration) -> Check {
    match crate::store::probe_lock(dir, wait) {
        Ok(LockProbe::NoDatabase) => Check::ok(
            "database lock",
            "no database yet: the first command creates it".into(),
        ),
        Ok(LockProbe::Free) => Check::ok("database lock", "free".into()),
        Ok(LockProbe::Held { inode }) => {
            let holder = lock_holder(inode).map_or_else(String::new, |h| format!(" by {h}"));
            Check::bad(
                "database lock",
                Status::Problem,
                format!(
                    "held{holder} for over {} s: deliveries only spool, and commands wait --lock-wait and then fail",
                    wait.as_secs_f64()
                ),
                "let it finish (a large import takes minutes), or stop that process; nothing is lost, the spool keeps the mail".into(),
            )
        }
        Err(e) => Check::bad(
            "database lock",
            Status::Problem,
            format!("{e:#}"),
            "see the files check".into(),
        ),
    }
}

/// The process holding a flock on the inode, from /proc/locks: "pid N (command)".
fn lock_holder(inode: u64) -> Option<String> {
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    let pid = locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (pid, file) = (fields.get(4)?, fields.get(5)?);
        let ino: u64 = file.rsplit(':').next()?.parse().ok()?;
        (fields.get(1) == Some(&"FLOCK") && ino == inode).then(|| pid.to_string())
    })?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let command = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    Some(format!("pid {pid} ({})", command.trim()))
}

/// Paths found by a check: how many, and the first few with their owners and modes.
#[derive(Default)]
struct Found {
    count: usize,
    first: Vec<String>,
}

impl Found {
    fn add(&mut self, path: &Path, meta: &Metadata) {
        self.count += 1;
        if self.first.len() < 3 {
            self.first
                .push(format!("{} ({})", path.display(), describe(meta)));
        }
    }

    fn describe(&self) -> String {
        let more = self.count - self.first.len();
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!("{}{tail}", self.first.join(", "))
    }
}

/// Visits every file and directory under `dir` (not `dir` itself), symlinks aside.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path, &Metadata)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path: PathBuf = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        visit(&path, &meta);
        if meta.is_dir() {
            walk(&path, visit);
        }
    }
}

/// "owner:group mode".
fn describe(meta: &Metadata) -> String {
    format!(
        "{}:{} {:04o}",
        user_name(Uid::from_raw(meta.uid())),
        group_name(Gid::from_raw(meta.gid())),
        meta.mode() & 0o7777
    )
}

/// The commands that hand a desk's directory to a group.
fn share_command(group: &str, dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "`chgrp -R {group} {dir} && chmod -R g+rwX,o-rwx {dir} && find {dir} -type d -exec chmod g+s {{}} +`"
    )
}

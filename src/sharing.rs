//! Who may use a desk: its owner alone, or a Unix group (the MTA's user, cron's user
//! and the agents). A desk is group-shared when its data directory is setgid and
//! group-rwx; a process working on such a desk creates directories 2770 (setgid is
//! inherited) and files 0660 under umask 007, and on any other desk 0700 and 0600
//! under umask 077. The data directory's mode decides, so nothing else needs saying.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use nix::unistd::{Gid, Group, Uid, User};

static SHARED: AtomicBool = AtomicBool::new(false);

/// Whether a directory's mode makes a group desk: setgid and group rwx.
pub fn is_shared_mode(mode: u32) -> bool {
    mode & 0o2070 == 0o2070
}

/// Mode for directories this process creates (the umask applies on top).
pub fn dir_mode() -> u32 {
    if SHARED.load(Ordering::Relaxed) {
        0o770
    } else {
        0o700
    }
}

/// Mode for files this process creates (the umask applies on top).
pub fn file_mode() -> u32 {
    if SHARED.load(Ordering::Relaxed) {
        0o660
    } else {
        0o600
    }
}

/// Sets this process's file modes from the desk at `data_dir` (or, before it exists,
/// the directory it will be made in), before anything there is created. Fails, naming
/// the owner and group, when this user cannot work in an existing data directory.
pub fn adopt(data_dir: &Path) -> Result<()> {
    match std::fs::metadata(data_dir) {
        Ok(meta) => {
            set_shared(is_shared_mode(meta.mode()));
            check_access(data_dir)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = data_dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            set_shared(std::fs::metadata(parent).is_ok_and(|m| is_shared_mode(m.mode())));
            Ok(())
        }
        Err(e) => {
            // Not even reachable: name the first directory on the way that bars us.
            let absolute = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.into());
            let barrier = absolute.ancestors().skip(1).collect::<Vec<_>>();
            let barrier = barrier.into_iter().rev().find(|dir| {
                !dir.as_os_str().is_empty()
                    && nix::unistd::access(*dir, nix::unistd::AccessFlags::X_OK).is_err()
            });
            Err(match barrier {
                Some(dir) => refusal(dir),
                None => anyhow::Error::new(e)
                    .context(format!("cannot read the desk {}", data_dir.display())),
            })
        }
    }
}

fn set_shared(shared: bool) {
    SHARED.store(shared, Ordering::Relaxed);
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(if shared { 0o007 } else { 0o077 });
    }
}

/// Makes `dir` a group desk: owned by `group`, mode 2770; this process then creates
/// what it writes there for the group.
pub fn share(dir: &Path, group: &str) -> Result<()> {
    let found = Group::from_name(group)
        .with_context(|| format!("cannot look up group '{group}'"))?
        .with_context(|| {
            format!("no group '{group}' on this system (create it: groupadd {group})")
        })?;
    std::os::unix::fs::chown(dir, None, Some(found.gid.as_raw())).with_context(|| {
        format!(
            "cannot give {} to group '{group}' (only root or a member of the group can)",
            dir.display()
        )
    })?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o2770))
        .with_context(|| format!("cannot make {} mode 2770", dir.display()))?;
    set_shared(true);
    Ok(())
}

/// An error naming who may use `data_dir` when this process may not.
fn check_access(data_dir: &Path) -> Result<()> {
    use nix::unistd::{access, AccessFlags};
    let all = AccessFlags::R_OK | AccessFlags::W_OK | AccessFlags::X_OK;
    if access(data_dir, all).is_ok() {
        return Ok(());
    }
    Err(refusal(data_dir))
}

/// Adds to an error met reading `path` (the config, say) who may use the desk it is
/// in, when the cause is a permission.
pub fn explain_denied(e: anyhow::Error, path: &Path) -> anyhow::Error {
    use nix::unistd::{access, AccessFlags};
    let denied = e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
    });
    let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return e;
    };
    if !denied {
        e
    } else if access(dir, AccessFlags::X_OK).is_ok() {
        e.context(refusal(path))
    } else {
        e.context(refusal(dir))
    }
}

/// Why this user may not use `path`, a desk's directory or a file in it: its owner,
/// group and mode, and what to do.
fn refusal(path: &Path) -> anyhow::Error {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => return anyhow::Error::new(e).context(format!("cannot read {}", path.display())),
    };
    let me = user_name(Uid::current());
    let owner = user_name(Uid::from_raw(meta.uid()));
    let group = group_name(Gid::from_raw(meta.gid()));
    let mode = meta.mode() & 0o7777;
    let shown = path.display();
    let what = if meta.is_dir() {
        format!("the desk {shown}")
    } else {
        shown.to_string()
    };
    let member = Gid::effective().as_raw() == meta.gid()
        || nix::unistd::getgroups().is_ok_and(|g| g.iter().any(|g| g.as_raw() == meta.gid()));
    if member || meta.uid() == Uid::current().as_raw() {
        anyhow::anyhow!(
            "{me} may not use {shown} ({owner}:{group}, mode {mode:04o}): something made it without the desk's permissions; `postdesk doctor --user {me}` says how to fix it"
        )
    } else if meta.is_dir() && is_shared_mode(meta.mode()) || meta.mode() & 0o060 != 0 {
        anyhow::anyhow!(
            "{me} may not use {what}: it is shared by group '{group}' (mode {mode:04o}) and {me} is not in that group; an admin adds them with `usermod -aG {group} {me}` (for the MTA's user, make it the primary group: `usermod -g {group} {me}`)"
        )
    } else {
        anyhow::anyhow!(
            "{me} may not use {what}: it belongs to {owner}, group '{group}', mode {mode:04o}; run as {owner}, or share it with a group (see `postdesk doctor --user {me}`)"
        )
    }
}

/// A user's name, or the number when it has none.
pub fn user_name(uid: Uid) -> String {
    User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

/// A group's name, or the number when it has none.
pub fn group_name(gid: Gid) -> String {
    Group::from_gid(gid)
        .ok()
        .flatten()
        .map(|g| g.name)
        .unwrap_or_else(|| gid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_desk_is_setgid_and_group_rwx() {
        assert!(is_shared_mode(0o2770));
        assert!(is_shared_mode(0o42775));
        assert!(!is_shared_mode(0o770));
        assert!(!is_shared_mode(0o2750));
        assert!(!is_shared_mode(0o700));
    }
}

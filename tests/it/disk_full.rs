//! A full disk: reading still works, and a delivery is deferred (exit 75). The database lives on a small tmpfs mounted by the
//! test, which needs root: CI runs as root, and elsewhere these tests fail rather
//! than pass without testing anything.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{Env, CONFIG};

/// A 4 MB tmpfs, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount() -> Tmpfs {
        // SAFETY: geteuid has no preconditions.
        assert!(
            unsafe { libc::geteuid() } == 0,
            "the disk-full tests mount a tmpfs and must run as root (as CI does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "mount a tmpfs on {}",
            dir.path().display()
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system with a file `filler`.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 << 10];
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the tmpfs: {e}"),
            }
        }
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// A desk whose database directory is on the tmpfs.
fn desk_on(fs: &Tmpfs) -> Env {
    let db = fs.path().join("db");
    Env::with_config(&CONFIG.replace("db: db", &format!("db: {}", db.display())))
}

fn mail(subject: &str, body: &str) -> String {
    format!(
        "From ann@acme.example  Tue Nov 24 21:30:00 2026\nFrom: ann@acme.example\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{subject}@acme.example>\n\n{body}\n"
    )
}

#[test]
fn reading_needs_no_free_space() {
    let fs = Tmpfs::mount();
    let env = desk_on(&fs);
    env.create(&["-s", "first"]);
    env.create(&["-s", "second"]);
    fs.fill();
    // The first open after writes used to write a snapshot, and failed.
    assert_eq!(env.list(&[]), vec![1, 2]);
    assert_eq!(env.json(&["ticket", "show", "2"])["subject"], "second");
    // A delivery cannot be spooled: the MTA must keep it and retry.
    let out = env.ingest(&mail("full", "Please."));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(env.list(&[]), vec![1, 2]);
}

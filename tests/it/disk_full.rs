//! A full disk: reading still works, a delivery is deferred (exit 75), and the
//! spool watcher waits it out. The database lives on a small tmpfs mounted by the
//! test, which needs root: CI runs as root, and elsewhere these tests fail rather
//! than pass without testing anything.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{assert_success, Env, CONFIG};

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

    /// Fills the file system with `filler`, then frees `leave` bytes of it.
    fn fill(&self, leave: u64) -> PathBuf {
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
        let len = file.metadata().unwrap().len();
        file.set_len(len.saturating_sub(leave)).unwrap();
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

/// The watcher process, killed when the test ends (before the tmpfs goes).
struct Watcher(std::process::Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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
    fs.fill(0);
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

#[test]
fn the_spool_watcher_waits_out_a_full_disk() {
    let fs = Tmpfs::mount();
    let env = desk_on(&fs);
    env.create(&["-s", "first"]);
    let mut watcher = Watcher(
        env.process(&["ingest", "spool", "--watch"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // `watching DIR` is its result, on stdout; a failed drain is an error, on stderr.
    let mut stdout = std::io::BufReader::new(watcher.0.stdout.take().unwrap()).lines();
    assert!(stdout.next().unwrap().unwrap().contains("watching"));
    let (tx, rx) = mpsc::channel();
    let stderr = std::io::BufReader::new(watcher.0.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |text: &str| loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.contains(text) => return,
            Ok(_) => {}
            Err(e) => panic!("the watcher never said '{text}': {e}"),
        }
    };
    // Room for the message in the spool, not for its copy in the mail store.
    let body = "All work and no play makes Jack a dull boy, all day long.\n".repeat(16_000);
    let filler = fs.fill(body.len() as u64 + (128 << 10));
    let out = env.ingest(&mail("big", &body));
    assert_success(&out, &["ingest"]);
    wait_for("No space left on device");
    wait_for("the spool is kept; trying again in 1 s");
    std::fs::remove_file(filler).unwrap();
    // The same watcher takes the message once there is room again.
    let mut tickets = Vec::new();
    for _ in 0..600 {
        tickets = env.list(&[]);
        if tickets.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        watcher.0.try_wait().unwrap().is_none(),
        "the watcher exited"
    );
    assert_eq!(tickets, vec![1, 2], "the spooled message made a ticket");
    assert_eq!(env.json(&["ticket", "show", "2"])["subject"], "big");
}

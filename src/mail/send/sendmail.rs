//! The `sendmail` transport: `COMMAND ARGS... -i -f ENVELOPE -- RECIPIENT`, run
//! without a shell, the message on stdin with LF line ends. Never `-t`: with
//! recipients as arguments too, Postfix adds the header recipients and Exim removes
//! them. The exit status is the answer: 0 sent, 75 (EX_TEMPFAIL) or a signal try
//! again, anything else never.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{lf_line_ends, Outcome, Transport};

/// How much of the command's stderr and stdout the outcome keeps.
const KEEP: usize = 4096;

/// EX_TEMPFAIL from sysexits.h: "try again later".
const EX_TEMPFAIL: i32 = 75;

pub struct SendmailTransport {
    command: PathBuf,
    args: Vec<String>,
    /// How long the command may take before it is killed (and the outcome is
    /// Temporary).
    pub timeout: Duration,
}

impl SendmailTransport {
    pub fn new(command: PathBuf, args: Vec<String>) -> Self {
        SendmailTransport {
            command,
            args,
            timeout: Duration::from_secs(120),
        }
    }

    fn run(&self, envelope: &str, recipient: &str, message: &[u8]) -> Outcome {
        let name = self.command.display();
        let mut child = match Command::new(&self.command)
            .args(&self.args)
            .args(["-i", "-f", envelope, "--", recipient])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a timeout kills whatever it started too.
            .process_group(0)
            .spawn()
        {
            Ok(child) => child,
            // Nothing was judged: the config or the system may be fixed.
            Err(e) => return Outcome::Temporary(format!("cannot run {name}: {e}")),
        };
        let stdout = keep_start(child.stdout.take());
        let stderr = keep_start(child.stderr.take());
        let stdin = child.stdin.take();
        let body = lf_line_ends(message);
        // Written by a thread, so that a command that does not read never blocks us;
        // one that exits without reading gives EPIPE here.
        let (wrote_tx, wrote) = mpsc::channel();
        std::thread::spawn(move || {
            let result = match stdin {
                Some(mut stdin) => stdin.write_all(&body),
                None => Ok(()),
            };
            let _ = wrote_tx.send(result);
        });
        let deadline = Instant::now() + self.timeout;
        let mut pause = Duration::from_millis(2);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if Instant::now() >= deadline => {
                    break Err(format!("took over {} s", self.timeout.as_secs()))
                }
                Ok(None) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => break Err(format!("could not be waited for ({e})")),
            }
        };
        let status = match status {
            Ok(status) => status,
            Err(why) => {
                // SAFETY: kill(2) on the group we made; the child is not reaped yet, so
                // its PID (the group's ID) cannot have been reused.
                unsafe {
                    libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
                }
                let _ = child.wait();
                let err = collected(&stderr);
                return Outcome::Temporary(format!(
                    "{name} {why} and was killed{}",
                    text_after(&err)
                ));
            }
        };
        // (A wait, not a join: something the command left behind may hold stdin.)
        let read_all = matches!(wrote.recv_timeout(Duration::from_secs(2)), Ok(Ok(())));
        let said = {
            let mut text = collected(&stderr);
            if text.is_empty() {
                text = collected(&stdout);
            }
            text_after(&text)
        };
        match (status.code(), status.signal()) {
            (Some(0), _) if read_all => Outcome::Sent,
            // Not a queued message: a command that drops mail (a wrong `command`).
            (Some(0), _) => Outcome::Temporary(format!(
                "{name} exited 0 without reading the whole message{said}"
            )),
            (Some(EX_TEMPFAIL), _) => {
                Outcome::Temporary(format!("{name} exited 75 (try again later){said}"))
            }
            (Some(code), _) => Outcome::Permanent(format!("{name} exited {code}{said}")),
            (None, Some(signal)) => {
                Outcome::Temporary(format!("{name} was killed by signal {signal}{said}"))
            }
            (None, None) => Outcome::Temporary(format!("{name} ended with {status}{said}")),
        }
    }
}

/// Reads a pipe to its end in a thread (so the child never blocks on a full pipe)
/// and sends back its first [`KEEP`] bytes.
fn keep_start<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut pipe) = pipe {
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let room = KEEP.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

/// What a reader kept, waiting a little: a process the command left behind may hold
/// the pipe open, and then what was read so far is lost rather than waited for.
fn collected(rx: &mpsc::Receiver<Vec<u8>>) -> String {
    let bytes = rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim().to_string()
}

fn text_after(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// Why an address may not be given to the command: it would read as an option, or
/// it holds whitespace or control characters. The envelope may be empty (the null
/// sender of a bounce); a recipient may not.
fn refuse(what: &str, address: &str, may_be_empty: bool) -> Option<String> {
    if address.is_empty() && !may_be_empty {
        return Some(format!("empty {what}"));
    }
    if address.starts_with('-') {
        return Some(format!("{what} {address:?} starts with '-'"));
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "{what} {address:?} holds whitespace or control characters"
        ));
    }
    None
}

impl Transport for SendmailTransport {
    fn send(&mut self, envelope: &str, recipient: &str, message: &[u8]) -> Outcome {
        if let Some(why) = refuse("envelope sender", envelope, true)
            .or_else(|| refuse("recipient", recipient, false))
        {
            return Outcome::Permanent(format!("not given to {}: {why}", self.command.display()));
        }
        self.run(envelope, recipient, message)
    }

    fn describe(&self) -> String {
        let mut words = vec![self.command.display().to_string()];
        words.extend(self.args.iter().cloned());
        format!("sendmail {}", words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in sendmail: a shell script that records its argv and stdin in `dir`,
    /// run by `/bin/sh` (executing a file this process just wrote can fail with
    /// ETXTBSY while another test thread forks).
    fn script(dir: &std::path::Path, body: &str) -> SendmailTransport {
        let path = dir.join("sendmail");
        std::fs::write(
            &path,
            format!(
                "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > {d}/argv\ncat > {d}/stdin\n{body}\n",
                d = dir.display()
            ),
        )
        .unwrap();
        let args = vec![path.display().to_string(), "-C".into(), "/x/etc".into()];
        SendmailTransport::new("/bin/sh".into(), args)
    }

    const MESSAGE: &[u8] = b"Subject: hi\r\n\r\nline\r\n.\r\n";

    #[test]
    fn argv_is_fixed_args_then_an_explicit_envelope_and_stdin_has_lf_line_ends() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = script(dir.path(), "exit 0");
        assert_eq!(
            t.send("bounces@desk.test", "ann@example.com", MESSAGE),
            Outcome::Sent
        );
        let argv = std::fs::read_to_string(dir.path().join("argv")).unwrap();
        assert_eq!(
            argv,
            "-C\n/x/etc\n-i\n-f\nbounces@desk.test\n--\nann@example.com\n"
        );
        let stdin = std::fs::read(dir.path().join("stdin")).unwrap();
        assert_eq!(stdin, b"Subject: hi\n\nline\n.\n");
    }

    #[test]
    fn exit_codes_map_to_outcomes_with_what_the_command_said() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "echo 'queue is full' >&2; exit 75",
                "temporary",
                "exited 75",
            ),
            ("echo 'bad address' >&2; exit 1", "permanent", "exited 1"),
            ("echo 'no such user' >&2; exit 67", "permanent", "exited 67"),
            ("kill -TERM $$", "temporary", "signal 15"),
        ];
        for (body, kind, says) in cases {
            let mut t = script(dir.path(), body);
            let outcome = t.send("b@desk.test", "ann@example.com", MESSAGE);
            let text = match (&outcome, kind) {
                (Outcome::Temporary(text), "temporary")
                | (Outcome::Permanent(text), "permanent") => text,
                _ => panic!("{body}: {outcome:?}, expected {kind}"),
            };
            assert!(text.contains(says), "{body}: {text}");
            if body.contains(">&2") {
                let said = body.split('\'').nth(1).unwrap();
                assert!(text.ends_with(said), "{body}: {text}");
            }
        }
    }

    #[test]
    fn exit_0_without_reading_the_message_is_not_sent() {
        let mut t = SendmailTransport::new("/bin/sh".into(), vec!["-c".into(), "exit 0".into()]);
        let big = [MESSAGE, &b"x".repeat(1 << 20)].concat();
        let outcome = t.send("b@desk.test", "ann@example.com", &big);
        assert!(
            matches!(&outcome, Outcome::Temporary(t) if t.contains("without reading")),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_missing_command_is_temporary() {
        let mut t = SendmailTransport::new("/nonexistent/sendmail".into(), vec![]);
        let outcome = t.send("b@desk.test", "ann@example.com", MESSAGE);
        assert!(
            matches!(&outcome, Outcome::Temporary(t) if t.contains("cannot run /nonexistent/sendmail")),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_command_over_its_time_is_killed_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        // The grandchild `sleep` holds stderr open: the kill must reach it too.
        let mut t = script(dir.path(), "echo working >&2; sleep 30; exit 0");
        t.timeout = Duration::from_millis(300);
        let started = Instant::now();
        let outcome = t.send("b@desk.test", "ann@example.com", MESSAGE);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(&outcome, Outcome::Temporary(t) if t.contains("was killed: working")),
            "{outcome:?}"
        );
    }

    #[test]
    fn output_is_kept_bounded_and_a_chatty_command_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        // 1 MB on stderr: far over a pipe's buffer and over what is kept.
        let mut t = script(
            dir.path(),
            "head -c 1000000 /dev/zero | tr '\\0' x >&2; exit 1",
        );
        let outcome = t.send("b@desk.test", "ann@example.com", MESSAGE);
        let Outcome::Permanent(text) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(text.len() < KEEP + 200, "{}", text.len());
    }

    #[test]
    fn addresses_that_would_read_as_options_never_reach_argv() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = script(dir.path(), "exit 0");
        for (envelope, recipient) in [
            ("b@desk.test", "-oQ/tmp/x@example.com"),
            ("-bs", "ann@example.com"),
            ("b@desk.test", "ann@example.com bob@example.com"),
            ("b@desk.test", "ann@example.com\n"),
            ("b@desk.test", ""),
        ] {
            let outcome = t.send(envelope, recipient, MESSAGE);
            assert!(
                matches!(&outcome, Outcome::Permanent(t) if t.starts_with("not given to")),
                "{recipient:?}: {outcome:?}"
            );
        }
        assert!(!dir.path().join("argv").exists(), "the command ran");
        // The null sender of a bounce is fine.
        assert_eq!(t.send("", "ann@example.com", MESSAGE), Outcome::Sent);
        let argv = std::fs::read_to_string(dir.path().join("argv")).unwrap();
        assert!(argv.contains("-f\n\n--\n"), "{argv}");
    }
}

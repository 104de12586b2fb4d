//! The `maildir` transport: each message to each recipient is a file in `new/`,
//! with LF line ends and the envelope in `Return-Path` and `Delivered-To` headers
//! on top, as a local delivery agent writes it.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use super::{lf_line_ends, Outcome, Transport};

pub struct MaildirTransport {
    dir: PathBuf,
}

impl MaildirTransport {
    pub fn new(dir: PathBuf) -> Self {
        MaildirTransport { dir }
    }

    fn deliver(&self, envelope: &str, recipient: &str, message: &[u8]) -> std::io::Result<()> {
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(self.dir.join(sub))?;
        }
        let name = unique_name();
        let tmp = self.dir.join("tmp").join(&name);
        let mut file = fs::File::create(&tmp)?;
        // Header values come from our own envelope, which the outbox checked.
        write!(
            file,
            "Return-Path: <{envelope}>\nDelivered-To: {recipient}\n"
        )?;
        file.write_all(&lf_line_ends(message))?;
        file.sync_all()?;
        fs::rename(&tmp, self.dir.join("new").join(&name))
    }
}

/// `TIME.PID_RANDOM.postdesk`: unique across processes without a counter.
fn unique_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}.{}_{}_{:016x}.postdesk",
        now.as_secs(),
        std::process::id(),
        now.subsec_nanos(),
        fastrand::u64(..)
    )
}

impl Transport for MaildirTransport {
    fn send(&mut self, envelope: &str, recipient: &str, message: &[u8]) -> Outcome {
        match self.deliver(envelope, recipient, message) {
            Ok(()) => Outcome::Sent,
            // A full disk or a missing permission may be fixed: try again later.
            Err(e) => Outcome::Temporary(format!("{}: {e}", self.dir.display())),
        }
    }

    fn describe(&self) -> String {
        format!("maildir {}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_lands_in_new_with_lf_line_ends_and_its_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = MaildirTransport::new(dir.path().join("out"));
        let outcome = t.send(
            "bounces@example.org",
            "ann@example.com",
            b"Subject: hi\r\n\r\nbody\r\n",
        );
        assert_eq!(outcome, Outcome::Sent);
        let files: Vec<_> = fs::read_dir(dir.path().join("out/new")).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert_eq!(
            text,
            "Return-Path: <bounces@example.org>\nDelivered-To: ann@example.com\nSubject: hi\n\nbody\n"
        );
    }
}

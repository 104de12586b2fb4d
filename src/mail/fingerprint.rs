//! What makes two copies of a message the same message: its content, not its route.
//!
//! A Message-ID is chosen by the sender, and some senders reuse one for different
//! mail (a broken client, a list, an attacker). Two messages are the same when the
//! sender, date, subject and body are the same; the trace headers an MTA adds
//! (Received, Delivered-To, Return-Path...) are left out, so one mail delivered to two
//! support addresses, or fetched by IMAP (CRLF) and piped by an MTA (LF), is one.

use sha2::{Digest, Sha256};

use crate::model::Fingerprint;

/// The content fingerprint of a raw message (without its mbox envelope line).
pub fn of(raw: &[u8], from: &str, date: &str, subject: &str) -> Fingerprint {
    let mut hash = Sha256::new();
    for part in [from, date, subject] {
        hash.update(part.trim().as_bytes());
        hash.update([0]);
    }
    let body = body(raw);
    // Line endings differ by route; trailing blank lines by MTA.
    let body = body.trim_ascii_end();
    for chunk in body.split(|b| *b == b'\r') {
        hash.update(chunk);
    }
    let digest = hash.finalize();
    let mut out = Fingerprint::default();
    let len = out.len();
    out.copy_from_slice(&digest[..len]);
    out
}

/// Lowercase hex of a fingerprint.
pub fn hex(fp: &Fingerprint) -> String {
    fp.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes after the header block (its first empty line), or nothing.
fn body(raw: &[u8]) -> &[u8] {
    let mut start = 0;
    for line in raw.split_inclusive(|b| *b == b'\n') {
        start += line.len();
        if line == b"\n" || line == b"\r\n" {
            return &raw[start..];
        }
    }
    &[]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_headers_and_line_endings_do_not_count() {
        let piped = b"Delivered-To: help@corp.example\nFrom: a@b\nSubject: s\n\nhello\nworld\n\n";
        let fetched = b"Received: from mx\r\nFrom: a@b\r\nSubject: s\r\n\r\nhello\r\nworld\r\n";
        assert_eq!(
            of(piped, "a@b", "", "s"),
            of(fetched, "a@b", "", "s"),
            "the same mail by two routes"
        );
    }

    #[test]
    fn sender_subject_date_and_body_count() {
        let raw = b"From: a@b\n\nhello\n";
        let base = of(raw, "a@b", "d", "s");
        assert_ne!(base, of(b"From: a@b\n\nhullo\n", "a@b", "d", "s"));
        assert_ne!(base, of(raw, "c@b", "d", "s"));
        assert_ne!(base, of(raw, "a@b", "e", "s"));
        assert_ne!(base, of(raw, "a@b", "d", "t"));
        // Fields are separated: moving text from one to the next changes the print.
        assert_ne!(of(raw, "ab", "", ""), of(raw, "a", "b", ""));
    }
}

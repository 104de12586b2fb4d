//! One raw RFC 5322 message -> [`Incoming`]: what the ingest pipeline needs, decoded.
//!
//! Tolerant by design: a part that fails to decode keeps its raw bytes and the rest
//! of the message is still used. Only a message with no usable headers is refused
//! (the caller quarantines it with the reason).

use mailparse::{DispositionType, MailAddr, MailHeaderMap, ParsedMail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fingerprint;
use super::html;

pub use crate::model::Attachment;
use crate::model::Fingerprint;

/// An e-mail address with its display name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    /// Lowercased.
    pub email: String,
}

/// A parsed incoming message.
#[derive(Clone, Debug, Default)]
pub struct Incoming {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// Envelope recipients added by the MTA (Delivered-To, X-Original-To).
    pub delivered_to: Vec<String>,
    /// Sender's Date, seconds since the epoch.
    pub date: Option<i64>,
    /// The readable text: text/plain preferred, html converted when there is no text.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// All headers, names as written, values decoded.
    pub headers: Vec<(String, String)>,
    pub content_type: String,
    /// Content-Type `report-type` parameter (bounces: delivery-status).
    pub report_type: Option<String>,
    /// The per-recipient fields of a bounce's `message/delivery-status` part, read
    /// within bounds (`mail::dsn`); empty for other mail.
    pub delivery_status: Vec<super::dsn::RecipientStatus>,
    /// Parts that could not be decoded, for the log.
    pub problems: Vec<String>,
    /// SHA-256 of the raw bytes, hex: the key of the mail store.
    pub hash: String,
    /// What makes a copy of this message the same message (`fingerprint`).
    pub content: Fingerprint,
    pub size: usize,
}

impl Incoming {
    /// The key for dedupe and threading: the Message-ID, else the hash of the bytes.
    pub fn key(&self) -> String {
        match &self.message_id {
            Some(id) => id.clone(),
            None => format!("sha256:{}", self.hash),
        }
    }

    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every recipient address: To, Cc and the envelope's.
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        self.to
            .iter()
            .chain(&self.cc)
            .map(|a| a.email.as_str())
            .chain(self.delivered_to.iter().map(String::as_str))
    }
}

/// Drops an mbox envelope line (`From sender date`), as an MTA's pipe or procmail adds.
pub fn strip_envelope(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        match raw.iter().position(|b| *b == b'\n') {
            Some(end) => &raw[end + 1..],
            None => &[],
        }
    } else {
        raw
    }
}

/// SHA-256 of bytes, lowercase hex.
pub fn hash_hex(raw: &[u8]) -> String {
    Sha256::digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why a message cannot be used; the text is the reason it is quarantined with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message")]
    Empty,
    #[error("unparsable message: {0}")]
    Unparsable(String),
    #[error("no header block (not an e-mail message)")]
    NoHeaderBlock,
    #[error("no usable From address")]
    NoSender,
    /// A library below panicked on this message.
    #[error("the parser failed on this message: {0}")]
    ParserFailed(String),
    #[error("the message has no attachment {0}")]
    NoSuchAttachment(usize),
}

/// Parses a message; `Err` carries the reason to quarantine it.
pub fn parse(raw: &[u8]) -> Result<Incoming, ParseError> {
    // A bug in a parser below must cost one message, not stop every drain that
    // meets it: the drain quarantines it and moves on.
    std::panic::catch_unwind(|| parse_unguarded(raw)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(ParseError::ParserFailed(what))
    })
}

fn parse_unguarded(raw: &[u8]) -> Result<Incoming, ParseError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let mail = mailparse::parse_mail(raw).map_err(|e| ParseError::Unparsable(e.to_string()))?;
    let from = first_address(&mail, "From")
        .or_else(|| first_address(&mail, "Sender"))
        .ok_or(if mail.headers.is_empty() {
            ParseError::NoHeaderBlock
        } else {
            ParseError::NoSender
        })?;
    let mut msg = Incoming {
        message_id: mail
            .headers
            .get_first_value("Message-ID")
            .and_then(|v| ids(&v).into_iter().next()),
        in_reply_to: ids(&mail
            .headers
            .get_first_value("In-Reply-To")
            .unwrap_or_default()),
        references: ids(&mail
            .headers
            .get_first_value("References")
            .unwrap_or_default()),
        subject: clean_line(&mail.headers.get_first_value("Subject").unwrap_or_default()),
        from: Some(from),
        to: addresses(&mail, "To"),
        cc: addresses(&mail, "Cc"),
        delivered_to: ["Delivered-To", "X-Original-To"]
            .iter()
            .flat_map(|h| mail.headers.get_all_values(h))
            .map(|v| v.trim().trim_matches(['<', '>']).to_lowercase())
            .filter(|v| v.contains('@'))
            .collect(),
        date: mail
            .headers
            .get_first_value("Date")
            .and_then(|d| mailparse::dateparse(&d).ok()),
        headers: mail
            .headers
            .iter()
            .map(|h| (h.get_key(), h.get_value()))
            .collect(),
        content_type: mail.ctype.mimetype.to_lowercase(),
        report_type: mail
            .ctype
            .params
            .get("report-type")
            .map(|v| v.to_lowercase()),
        delivery_status: match mail.ctype.mimetype.eq_ignore_ascii_case("multipart/report") {
            true => super::dsn::report_text(&mail)
                .map(|text| super::dsn::recipients(&text))
                .unwrap_or_default(),
            false => Vec::new(),
        },
        hash: hash_hex(raw),
        content: {
            let header = |name| mail.headers.get_first_value(name).unwrap_or_default();
            fingerprint::of(raw, &header("From"), &header("Date"), &header("Subject"))
        },
        size: raw.len(),
        ..Incoming::default()
    };
    let mut walk = Walk::default();
    walk.visit(&mail, 0);
    msg.text = walk.text.unwrap_or_default();
    msg.attachments = walk.attachments;
    msg.problems = walk.problems;
    let mut notes = walk.text_notes;
    notes.extend(cap_text(&mut msg.text));
    if walk.unlisted > 0 {
        let (count, them) = match walk.unlisted {
            1 => ("1 more attachment is".to_string(), "it"),
            n => (format!("{n} more attachments are"), "them"),
        };
        notes.push(format!(
            "{count} not listed; the raw message in the mail store has {them}"
        ));
    }
    // Whoever reads the text is told how it was made.
    for note in &notes {
        msg.text.push_str(&format!("\n[postdesk: {note}]\n"));
    }
    msg.problems.extend(notes);
    Ok(msg)
}

/// The most text of one message kept in the database (ticket description, mail
/// event); the whole message stays in the mail store. Real mail is far shorter, the
/// word index reads all of it, and sled leaks a copy of every value over 128 KB it
/// rewrites.
pub const MAX_TEXT: usize = 64 * 1024;

/// Cuts `text` to [`MAX_TEXT`] bytes (at a line end when one is near); returns the
/// note that says so.
fn cap_text(text: &mut String) -> Option<String> {
    if text.len() <= MAX_TEXT {
        return None;
    }
    let total = text.len();
    let mut cut = MAX_TEXT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut near = cut.saturating_sub(1024);
    while !text.is_char_boundary(near) {
        near += 1;
    }
    if let Some(line_end) = text[near..cut].rfind('\n') {
        cut = near + line_end + 1;
    }
    text.truncate(cut);
    Some(format!(
        "text cut at {} KB of {} KB; the whole message is in the mail store",
        MAX_TEXT / 1024,
        total / 1024
    ))
}

/// Collapses a header value to one clean line.
/// The longest header value kept (a subject, a display name, a Message-ID), in
/// bytes: RFC 5322's line limit. Records stay small however long a header is.
const MAX_LINE: usize = 998;

/// Message-IDs of In-Reply-To or References looked at, the nearest first.
const MAX_IDS: usize = 100;

/// Attachments listed per message; the raw message keeps them all.
const MAX_ATTACHMENTS: usize = 100;

/// Whitespace runs as one space, cut to [`MAX_LINE`] bytes.
fn clean_line(s: &str) -> String {
    let mut line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.len() > MAX_LINE {
        let mut end = MAX_LINE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    line
}

/// Message-IDs in a header value, without angle brackets; tolerant of junk.
/// An id over [`MAX_LINE`] is dropped (a message without one is known by its hash);
/// of a long list, the last [`MAX_IDS`] (References ends with the nearest).
fn ids(value: &str) -> Vec<String> {
    let mut ids: Vec<String> = match mailparse::msgidparse(value) {
        Ok(list) if !list.is_empty() => list.iter().map(|s| s.trim().to_string()).collect(),
        _ => value
            .split_whitespace()
            .map(|s| s.trim_matches(['<', '>', ',']).to_string())
            .filter(|s| s.contains('@'))
            .collect(),
    };
    ids.retain(|id| id.len() <= MAX_LINE);
    if ids.len() > MAX_IDS {
        ids.drain(..ids.len() - MAX_IDS);
    }
    ids
}

fn addresses(mail: &ParsedMail, header: &str) -> Vec<Address> {
    let mut out = Vec::new();
    for h in mail.headers.get_all_headers(header) {
        let Ok(list) = mailparse::addrparse_header(h) else {
            continue;
        };
        for addr in list.iter() {
            let singles = match addr {
                MailAddr::Single(s) => vec![s.clone()],
                MailAddr::Group(g) => g.addrs.clone(),
            };
            out.extend(singles.into_iter().filter_map(usable_address));
        }
    }
    out
}

/// An address intake would take from a header: one with an `@`, lowercased.
fn usable_address(single: mailparse::SingleInfo) -> Option<Address> {
    single.addr.contains('@').then(|| Address {
        name: single
            .display_name
            .map(|n| clean_line(&n))
            .filter(|n| !n.is_empty()),
        email: single.addr.trim().to_lowercase(),
    })
}

/// One e-mail address typed by a person (`ann@example.com`, `Ann <ann@example.com>`),
/// read the way intake reads From and Cc, so a ticket made from the shell matches the
/// mail its requester sends later. None unless it is exactly one usable address.
pub fn single_address(value: &str) -> Option<String> {
    let list = mailparse::addrparse(value).ok()?;
    match list.iter().collect::<Vec<_>>()[..] {
        [MailAddr::Single(single)] if !single.addr.trim().contains(char::is_whitespace) => {
            usable_address(single.clone()).map(|a| a.email)
        }
        _ => None,
    }
}

fn first_address(mail: &ParsedMail, header: &str) -> Option<Address> {
    addresses(mail, header).into_iter().next()
}

/// Depth limit for nested multiparts: deeper parts are reported, not walked.
const MAX_DEPTH: usize = 32;

/// Collects the best text and the attachments of a part tree.
#[derive(Default)]
struct Walk {
    text: Option<String>,
    attachments: Vec<Attachment>,
    problems: Vec<String>,
    /// How the text was made, when not plainly (html stripped of its tags).
    text_notes: Vec<String>,
    /// Attachments past [`MAX_ATTACHMENTS`].
    unlisted: usize,
    /// When set, keep the decoded bytes of the attachment with this index.
    wanted: Option<usize>,
    found: Option<Vec<u8>>,
}

impl Walk {
    fn visit(&mut self, part: &ParsedMail, depth: usize) {
        if depth > MAX_DEPTH {
            self.problems.push(format!(
                "multipart nesting deeper than {MAX_DEPTH} levels ignored"
            ));
            return;
        }
        let mime = part.ctype.mimetype.to_lowercase();
        if mime.starts_with("multipart/") {
            if mime == "multipart/alternative" {
                self.alternative(part, depth);
            } else {
                for sub in &part.subparts {
                    self.visit(sub, depth + 1);
                }
            }
            return;
        }
        let disposition = part.get_content_disposition();
        let name = disposition
            .params
            .get("filename")
            .or_else(|| part.ctype.params.get("name"))
            .cloned();
        let is_text = mime == "text/plain" || mime == "text/html";
        let attached = disposition.disposition == DispositionType::Attachment || name.is_some();
        if is_text && !attached && self.text.is_none() {
            self.text = Some(self.text_of(part, &mime));
        } else if attached || !is_text {
            self.attachment(part, name, mime);
        }
    }

    /// multipart/alternative: text/plain preferred, else the html converted.
    fn alternative(&mut self, part: &ParsedMail, depth: usize) {
        let find = |m: &str| {
            part.subparts
                .iter()
                .find(|p| p.ctype.mimetype.eq_ignore_ascii_case(m))
        };
        match (
            self.text.is_none(),
            find("text/plain").or_else(|| find("text/html")),
        ) {
            (true, Some(best)) => {
                let mime = best.ctype.mimetype.to_lowercase();
                self.text = Some(self.text_of(best, &mime));
                // Attachments can hide in a related/mixed branch next to the text.
                for sub in part
                    .subparts
                    .iter()
                    .filter(|p| p.ctype.mimetype.starts_with("multipart/"))
                {
                    // Only attachments are wanted from here: pretend the text is found.
                    let text = self.text.replace(String::new());
                    self.visit(sub, depth + 1);
                    self.text = text;
                }
            }
            _ => {
                for sub in &part.subparts {
                    self.visit(sub, depth + 1);
                }
            }
        }
    }

    fn text_of(&mut self, part: &ParsedMail, mime: &str) -> String {
        let body = match part.get_body() {
            Ok(b) => b,
            Err(e) => {
                self.problems
                    .push(format!("{mime} part not decodable ({e}); kept raw"));
                String::from_utf8_lossy(part.get_body_raw().as_deref().unwrap_or(part.raw_bytes))
                    .into_owned()
            }
        };
        if mime != "text/html" {
            return body;
        }
        let (text, note) = html::to_text(&body);
        self.text_notes.extend(note);
        text
    }

    fn attachment(&mut self, part: &ParsedMail, name: Option<String>, mime: String) {
        if self.attachments.len() == MAX_ATTACHMENTS {
            self.unlisted += 1;
            return;
        }
        let size = match part.get_body_raw() {
            Ok(bytes) => bytes.len() as u64,
            Err(e) => {
                self.problems.push(format!(
                    "attachment {} not decodable ({e}); kept raw",
                    name.as_deref().unwrap_or("(unnamed)")
                ));
                part.raw_bytes.len() as u64
            }
        };
        if self.wanted == Some(self.attachments.len()) {
            self.found = Some(
                part.get_body_raw()
                    .unwrap_or_else(|_| part.raw_bytes.to_vec()),
            );
        }
        let name = name
            .map(|n| clean_line(&n).chars().take(255).collect())
            .unwrap_or_else(|| format!("part-{}.bin", self.attachments.len() + 1));
        self.attachments.push(Attachment { name, mime, size });
    }
}

/// The decoded bytes of attachment `index` (0-based, in the order `parse` lists them).
pub fn attachment_bytes(raw: &[u8], index: usize) -> Result<Vec<u8>, ParseError> {
    let mail = mailparse::parse_mail(strip_envelope(raw))
        .map_err(|e| ParseError::Unparsable(e.to_string()))?;
    let mut walk = Walk {
        wanted: Some(index),
        ..Walk::default()
    };
    walk.visit(&mail, 0);
    walk.found.ok_or(ParseError::NoSuchAttachment(index + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_address_is_read_as_intake_reads_from() {
        assert_eq!(
            single_address("Ann@Example.COM").as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(
            single_address("Ann Smith <ann@example.com>").as_deref(),
            Some("ann@example.com")
        );
        for bad in ["not an email", "notanemail", "a@x.example, b@x.example", ""] {
            assert_eq!(single_address(bad), None, "{bad}");
        }
    }

    #[test]
    fn envelope_line_is_dropped() {
        let raw = b"From a@b.example  Tue Nov 24 21:30:00 2026\nFrom: a@b.example\n\nhi\n";
        assert!(strip_envelope(raw).starts_with(b"From: "));
    }

    #[test]
    fn encoded_words_and_alternative_text() {
        let raw = b"From: =?UTF-8?Q?Fran=C3=A7ois?= <F@Example.com>\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\nMessage-ID: <x@y>\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain text\r\n--b--\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.subject, "café");
        let from = m.from.unwrap();
        assert_eq!(
            (from.name.as_deref(), from.email.as_str()),
            (Some("François"), "f@example.com")
        );
        assert_eq!(m.text.trim(), "plain text");
        assert_eq!(m.message_id.as_deref(), Some("x@y"));
    }

    #[test]
    fn a_bad_part_does_not_lose_the_message() {
        let raw = b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: application/pdf; name=x.pdf\nContent-Transfer-Encoding: base64\n\n@@@!!!***\n--b--\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.text.trim(), "body");
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name, "x.pdf");
    }

    #[test]
    fn long_text_is_cut_at_a_line_end_and_says_so() {
        // Three-byte characters: 1 KB before the limit is inside one.
        let line = format!("{}\n", "─".repeat(100));
        let mut text = line.repeat(MAX_TEXT / line.len() + 10);
        let total = text.len();
        let note = cap_text(&mut text).unwrap();
        assert!(text.len() <= MAX_TEXT && text.len() > MAX_TEXT - line.len());
        assert!(text.ends_with(&line));
        assert_eq!(
            note,
            format!(
                "text cut at 64 KB of {} KB; the whole message is in the mail store",
                total / 1024
            )
        );
        let mut short = line.clone();
        assert_eq!(cap_text(&mut short), None);
        assert_eq!(short, line);
    }

    #[test]
    fn no_headers_is_refused_with_a_reason() {
        assert_eq!(parse(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(parse(b"").unwrap_err().to_string(), "empty message");
        assert_eq!(
            parse(b"\njust text\n").unwrap_err(),
            ParseError::NoHeaderBlock
        );
    }

    #[test]
    fn headers_and_attachment_lists_are_bounded() {
        let mut raw = format!(
            "From: c@x\nSubject: {}\nMessage-ID: <{}@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n",
            "word ".repeat(2000),
            "a".repeat(2000)
        );
        for i in 0..150 {
            raw.push_str(&format!(
                "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f{i}.bin\n\nx\n"
            ));
        }
        raw.push_str("--b--\n");
        let m = parse(raw.as_bytes()).unwrap();
        assert!(m.subject.len() <= 998 && m.subject.starts_with("word word"));
        assert_eq!(m.message_id, None, "an id too long to keep is no id");
        assert_eq!(m.attachments.len(), 100);
        assert!(
            m.text.contains("50 more attachments are not listed"),
            "{}",
            m.text
        );
    }
}

//! Delivery status notifications (RFC 3464): the fields of a bounce's
//! `message/delivery-status` part, per recipient. A bounce is a stranger's input:
//! the part is read from mailparse's tree at a bounded depth, only its first
//! [`MAX_REPORT`] bytes are looked at, at most [`MAX_RECIPIENTS`] recipients are
//! read, and every value is cut to [`MAX_VALUE`] bytes and cleaned of control
//! characters.

use mailparse::ParsedMail;

/// Bytes of a `message/delivery-status` part looked at.
pub const MAX_REPORT: usize = 16 * 1024;
/// Recipient blocks read from one report.
pub const MAX_RECIPIENTS: usize = 20;
/// Bytes kept of one field's value.
pub const MAX_VALUE: usize = 300;
/// How deep in the MIME tree the report part is looked for.
const MAX_DEPTH: usize = 4;

/// What a report says of one recipient.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecipientStatus {
    /// `Final-Recipient`, the address only, lowercase.
    pub final_recipient: String,
    /// `Original-Recipient`, the address only, lowercase (often absent).
    pub original_recipient: String,
    /// `Action`, lowercase: `failed`, `delayed`, `delivered`, `relayed`, `expanded`.
    pub action: String,
    /// `Status` when it is a status code (`5.1.1`), else empty.
    pub status: String,
    /// `Diagnostic-Code`, without its type (`X-Postfix; ` or `smtp; `).
    pub diagnostic: String,
}

impl RecipientStatus {
    /// A permanent failure: a `5.x.x` status, with `Action: failed` (or none).
    pub fn is_permanent(&self) -> bool {
        self.status.starts_with("5.") && matches!(self.action.as_str(), "failed" | "")
    }
}

/// The text of the first `message/delivery-status` part of `mail` (or
/// `message/global-delivery-status`), its first [`MAX_REPORT`] bytes.
pub fn report_text(mail: &ParsedMail) -> Option<String> {
    fn find<'a>(part: &'a ParsedMail<'a>, depth: usize) -> Option<&'a ParsedMail<'a>> {
        let mime = part.ctype.mimetype.to_ascii_lowercase();
        if matches!(
            mime.as_str(),
            "message/delivery-status" | "message/global-delivery-status"
        ) {
            return Some(part);
        }
        if depth >= MAX_DEPTH || !mime.starts_with("multipart/") {
            return None;
        }
        part.subparts.iter().find_map(|p| find(p, depth + 1))
    }
    let part = find(mail, 0)?;
    let raw = part.get_body_raw().ok()?;
    let raw = &raw[..raw.len().min(MAX_REPORT)];
    Some(String::from_utf8_lossy(raw).into_owned())
}

/// `value` without control characters, whitespace runs as one space, cut to
/// [`MAX_VALUE`] bytes.
fn clean(value: &str) -> String {
    let mut out = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if out.len() > MAX_VALUE {
        let mut end = MAX_VALUE;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

/// `rfc822; Ann@Example.com` -> `ann@example.com`; empty unless an address.
fn address(value: &str) -> String {
    let bare = value.split_once(';').map_or(value, |(_, a)| a);
    let bare = bare.trim().trim_matches(['<', '>']).to_lowercase();
    let ok = bare.contains('@') && !bare.contains(char::is_whitespace);
    if ok {
        bare
    } else {
        String::new()
    }
}

/// `5.1.1` when `value` starts with a status code (class 2, 4 or 5), else empty.
fn status(value: &str) -> String {
    let code = value.split_whitespace().next().unwrap_or("");
    let parts: Vec<&str> = code.split('.').collect();
    let ok = parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        code.to_string()
    } else {
        String::new()
    }
}

/// The per-recipient blocks of a report's text (the first block, per message, is
/// skipped; a block without `Final-Recipient` and `Original-Recipient` is not a
/// recipient's).
pub fn recipients(report: &str) -> Vec<RecipientStatus> {
    let report = match report.len() > MAX_REPORT {
        true => {
            let mut end = MAX_REPORT;
            while !report.is_char_boundary(end) {
                end -= 1;
            }
            &report[..end]
        }
        false => report,
    };
    let text = report.replace("\r\n", "\n");
    let mut found = Vec::new();
    for block in text.split("\n\n").skip(1) {
        if found.len() >= MAX_RECIPIENTS {
            break;
        }
        // Unfold: a line starting with white space continues the field before.
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in block.lines() {
            match (line.starts_with([' ', '\t']), fields.last_mut()) {
                (true, Some((_, value))) => {
                    if value.len() < MAX_VALUE {
                        value.push(' ');
                        value.push_str(&line[..line.len().min(MAX_VALUE)]);
                    }
                }
                _ => {
                    if let Some((name, value)) = line.split_once(':') {
                        let value = &value[..value.len().min(MAX_VALUE * 2)];
                        fields.push((name.trim().to_ascii_lowercase(), value.to_string()));
                    }
                }
            }
        }
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| clean(v))
                .unwrap_or_default()
        };
        let r = RecipientStatus {
            final_recipient: address(&get("final-recipient")),
            original_recipient: address(&get("original-recipient")),
            action: get("action").to_ascii_lowercase(),
            status: status(&get("status")),
            diagnostic: {
                let d = get("diagnostic-code");
                d.split_once(';')
                    .map_or(d.as_str(), |(_, t)| t)
                    .trim()
                    .to_string()
            },
        };
        if !r.final_recipient.is_empty() || !r.original_recipient.is_empty() {
            found.push(r);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DSN as Postfix writes one (the fields of a real one from tests/it).
    const POSTFIX_DSN: &str = "From: MAILER-DAEMON@desk.test (Mail Delivery System)\r
To: bounces+o3-0123456789ab@desk.test\r
Subject: Undelivered Mail Returned to Sender\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status;\r
\tboundary=\"B\"\r
\r
--B\r
Content-Type: text/plain\r
\r
I'm sorry to have to inform you...\r
--B\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.desk.test\r
X-Postfix-Queue-ID: 3ABF49C0044\r
X-Postfix-Sender: rfc822; bounces+o3-0123456789ab@desk.test\r
\r
Final-Recipient: rfc822; BounceMe@customer.test\r
Original-Recipient: rfc822;bounceme@customer.test\r
Action: failed\r
Status: 5.1.1\r
Diagnostic-Code: X-Postfix; mailbox unavailable\r
 (test)\r
\r
--B\r
Content-Type: message/rfc822\r
\r
Subject: hi\r
\r
hello\r
--B--\r
";

    fn report(raw: &str) -> Vec<RecipientStatus> {
        let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
        recipients(&report_text(&mail).expect("a report part"))
    }

    #[test]
    fn a_postfix_bounce_names_its_recipient_status_and_reason() {
        let found = report(POSTFIX_DSN);
        assert_eq!(
            found,
            [RecipientStatus {
                final_recipient: "bounceme@customer.test".into(),
                original_recipient: "bounceme@customer.test".into(),
                action: "failed".into(),
                status: "5.1.1".into(),
                diagnostic: "mailbox unavailable (test)".into(),
            }]
        );
        assert!(found[0].is_permanent());
    }

    #[test]
    fn a_delay_is_not_permanent_and_nor_is_a_failure_without_a_5xx_status() {
        let delayed = POSTFIX_DSN
            .replace("Action: failed", "Action: delayed")
            .replace("Status: 5.1.1", "Status: 4.2.1");
        let found = report(&delayed);
        assert_eq!(
            (found[0].action.as_str(), found[0].status.as_str()),
            ("delayed", "4.2.1")
        );
        assert!(!found[0].is_permanent());
        let odd = POSTFIX_DSN.replace("Status: 5.1.1", "Status: 5.x.1; drop table");
        assert_eq!(report(&odd)[0].status, "");
        assert!(!report(&odd)[0].is_permanent());
        let five_delayed = POSTFIX_DSN.replace("Action: failed", "Action: delayed");
        assert!(!report(&five_delayed)[0].is_permanent());
    }

    #[test]
    fn no_report_part_is_no_report() {
        let mail =
            mailparse::parse_mail(b"From: a@b\r\nSubject: away\r\n\r\nOn holiday.\r\n").unwrap();
        assert_eq!(report_text(&mail), None);
    }

    #[test]
    fn a_hostile_report_is_read_within_bounds() {
        let mut text = String::from("Reporting-MTA: dns; x\n\n");
        for i in 0..1000 {
            text.push_str(&format!(
                "Final-Recipient: rfc822; r{i}@x\nAction: failed\nStatus: 5.1.1\n\
                 Diagnostic-Code: smtp; {}\x1b[31m\r\n\n",
                "y".repeat(5000)
            ));
        }
        let found = recipients(&text);
        assert!(found.len() <= MAX_RECIPIENTS, "{}", found.len());
        assert!(!found.is_empty());
        for r in &found {
            assert!(r.diagnostic.len() <= MAX_VALUE);
            assert!(!r.diagnostic.contains(|c: char| c.is_control()));
        }
        // A value with a line break cannot smuggle a field in.
        let sneaky = "X: y\n\nFinal-Recipient: rfc822; ann@x\nAction: failed\r\nStatus: 4.0.0\r\n";
        let found = recipients(sneaky);
        assert_eq!(found[0].status, "4.0.0");
        assert_eq!(address("rfc822; not an address"), "");
        // Continuation lines past the cap are dropped.
        let long = format!(
            "X: y\n\nFinal-Recipient: rfc822; a@x\nDiagnostic-Code: smtp; a\n{}",
            " more\n".repeat(100_000)
        );
        let found = recipients(&long);
        assert!(found[0].diagnostic.len() <= MAX_VALUE);
    }
}

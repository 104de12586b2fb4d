//! Mail that must not make tickets: auto-replies, bounces, our own loops.

use super::parse::Incoming;

/// Why a message makes no ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Automatic {
    AutoReply,
    Bounce,
    Loop,
}

impl Automatic {
    pub fn as_str(self) -> &'static str {
        match self {
            Automatic::AutoReply => "auto-reply",
            Automatic::Bounce => "bounce",
            Automatic::Loop => "loop",
        }
    }
}

/// Recognises machine-sent mail (RFC 3834 and the usual conventions); `loop_id` is
/// the X-Loop value postdesk puts on its own mail.
pub fn automatic(msg: &Incoming, loop_id: &str) -> Option<Automatic> {
    let has = |name: &str| msg.header(name).is_some();
    let value = |name: &str| msg.header(name).map(|v| v.trim().to_ascii_lowercase());
    if msg
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("X-Loop") && v.trim().eq_ignore_ascii_case(loop_id))
    {
        return Some(Automatic::Loop);
    }
    let from_local = msg
        .from
        .as_ref()
        .and_then(|a| a.email.split('@').next().map(str::to_string))
        .unwrap_or_default();
    if value("Return-Path").as_deref() == Some("<>")
        || matches!(from_local.as_str(), "mailer-daemon" | "postmaster")
        || (msg.content_type == "multipart/report"
            && msg.report_type.as_deref() == Some("delivery-status"))
    {
        return Some(Automatic::Bounce);
    }
    if value("Auto-Submitted").is_some_and(|v| !v.starts_with("no"))
        || has("X-Autoreply")
        || has("X-Autorespond")
        || value("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"))
    {
        return Some(Automatic::AutoReply);
    }
    None
}

/// The list header of mail a mailing list sent (RFC 2919 `List-Id`, the RFC 2369
/// `List-*` headers), if any. Such mail may make a ticket, but never gets an
/// automatic reply (RFC 3834 section 2: a response would go to the list, or to
/// someone who did not write to us).
pub fn list_header(msg: &Incoming) -> Option<&'static str> {
    const LIST_HEADERS: [&str; 7] = [
        "List-Id",
        "List-Unsubscribe",
        "List-Post",
        "List-Subscribe",
        "List-Help",
        "List-Owner",
        "List-Archive",
    ];
    LIST_HEADERS
        .into_iter()
        .find(|name| msg.header(name).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse::parse;

    fn kind(headers: &str) -> Option<Automatic> {
        let raw = format!("From: someone@example.com\n{headers}\n\nbody\n");
        automatic(&parse(raw.as_bytes()).unwrap(), "postdesk")
    }

    #[test]
    fn recognises_machine_mail() {
        assert_eq!(
            kind("Auto-Submitted: auto-replied"),
            Some(Automatic::AutoReply)
        );
        assert_eq!(kind("Auto-Submitted: no"), None);
        assert_eq!(kind("Precedence: bulk"), Some(Automatic::AutoReply));
        assert_eq!(kind("X-Autoreply: yes"), Some(Automatic::AutoReply));
        assert_eq!(kind("Return-Path: <>"), Some(Automatic::Bounce));
        assert_eq!(kind("X-Loop: postdesk"), Some(Automatic::Loop));
        assert_eq!(kind("X-Loop: other"), None);
        assert_eq!(kind("Subject: hello"), None);
    }

    #[test]
    fn recognises_list_mail_without_precedence() {
        let list = |headers: &str| {
            let raw = format!("From: someone@example.com\n{headers}\n\nbody\n");
            list_header(&parse(raw.as_bytes()).unwrap())
        };
        assert_eq!(list("List-Id: <users.lists.example>"), Some("List-Id"));
        assert_eq!(
            list("List-Unsubscribe: <mailto:leave@lists.example>"),
            Some("List-Unsubscribe")
        );
        assert_eq!(list("Subject: hello"), None);
        // List mail is not machine mail: it still makes a ticket.
        assert_eq!(kind("List-Id: <users.lists.example>"), None);
    }
}

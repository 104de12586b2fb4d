//! The outbox: one entry per message and recipient, written in the same write as
//! the change that made the message, sent after it commits.

use serde::{Deserialize, Serialize};

/// Where an outbox entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutboxState {
    /// Waiting: due at `next_attempt`.
    Queued,
    /// Accepted by the transport.
    Sent,
    /// Refused for good, or given up on after `outbox.max_age`.
    Failed,
    /// Dropped by an admin (`outbox drop`).
    Dropped,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [
        OutboxState::Queued,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Dropped => "dropped",
        }
    }
}

impl std::str::FromStr for OutboxState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OutboxState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown outbox state '{s}'"))
    }
}

/// One message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Given by the backend when queued; 0 before.
    pub id: u64,
    /// The ticket the message is about.
    pub ticket: u64,
    /// The one envelope recipient.
    pub recipient: String,
    /// The envelope sender (`MAIL FROM`, `sendmail -f`).
    pub envelope: String,
    /// SHA-256 of the message's bytes: its name in the mail store.
    pub hash: String,
    /// Without angle brackets.
    pub message_id: String,
    /// What the message is: `reply` (more kinds to come: notifications, auto-replies).
    pub kind: String,
    pub queued_at: i64,
    pub state: OutboxState,
    /// Hand-overs to the transport begun (counted before each, so a crash counts).
    pub attempts: u32,
    /// When a queued entry is due.
    pub next_attempt: i64,
    /// When the state last changed to sent, failed or dropped (0: never).
    pub done_at: i64,
    /// What the transport said last, empty when it never failed.
    pub last_error: String,
}

impl OutboxEntry {
    /// A new queued entry, due at once.
    pub fn queued(ticket: u64, recipient: &str, envelope: &str, hash: &str, at: i64) -> Self {
        OutboxEntry {
            id: 0,
            ticket,
            recipient: recipient.to_string(),
            envelope: envelope.to_string(),
            hash: hash.to_string(),
            message_id: String::new(),
            kind: "reply".to_string(),
            queued_at: at,
            state: OutboxState::Queued,
            attempts: 0,
            next_attempt: at,
            done_at: 0,
            last_error: String::new(),
        }
    }
}

/// An address no automatic mail goes to (`outbox suppressed`): a permanent bounce
/// of our own mail to it (a verified VERP token), or an admin's `outbox suppress`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Lowercase.
    pub address: String,
    /// When it was suppressed.
    pub at: i64,
    /// Why: the bounce's status and diagnostic, or the admin's words.
    pub reason: String,
    /// The DSN status (`5.1.1`), empty when suppressed by hand.
    pub status: String,
    /// The outbox entry that bounced (0: by hand).
    pub outbox_id: u64,
    /// Its ticket (0: by hand).
    pub ticket: u64,
    /// Who: `bounce`, or the admin's login.
    pub by: String,
}

/// Outbox kinds of a rule's mail: its `notify` and `reply` actions.
pub const RULE_NOTIFY: &str = "rule-notify";
pub const RULE_REPLY: &str = "rule-reply";

/// The outbox kind of a rule's mail action, as a `mail-queued` event names it
/// (`reply`, else `notify`).
pub fn rule_kind(action: &str) -> &'static str {
    match action {
        "reply" => RULE_REPLY,
        _ => RULE_NOTIFY,
    }
}

/// Whether mail of outbox kind `kind` is sent by the desk on its own (a
/// notification, an auto-reply, a rule's mail) rather than a person's explicit
/// `ticket reply`: automatic mail never goes to a suppressed address.
pub fn is_automatic(kind: &str) -> bool {
    kind != "reply"
}

//! Records kept about mail apart from tickets.

use serde::{Deserialize, Serialize};

/// Someone who wrote to us, by address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub email: String,
    pub name: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// Mail that made no ticket, and why; the raw message stays in the mail store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IgnoredMail {
    pub at: i64,
    /// `auto-reply`, `bounce`, `loop` or `filter: ...`.
    pub reason: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub hash: String,
}

/// What makes two copies of a message one message (`mail::fingerprint`): 128 bits
/// of a SHA-256 of its sender, date, subject and body.
pub type Fingerprint = [u8; 16];

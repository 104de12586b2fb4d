//! The activity log: one append-only event per change or message.

use serde::{Deserialize, Serialize};

/// One entry of a ticket's activity log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds since the Unix epoch, UTC.
    pub at: i64,
    /// The login of the user who acted, or a system name such as `ingest`.
    pub actor: String,
    pub kind: EventKind,
}

/// What happened. Stored with postcard, so new kinds are only ever appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EventKind {
    /// The ticket was created.
    Created,
    /// A field changed; `from`/`to` are display values, empty meaning unset.
    Changed {
        field: String,
        from: String,
        to: String,
    },
}

impl EventKind {
    /// Stable machine name, used in JSON and CSV.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Changed { .. } => "changed",
        }
    }

    /// One human line for the timeline.
    pub fn describe(&self) -> String {
        match self {
            EventKind::Created => "created the ticket".to_string(),
            EventKind::Changed { field, from, to } => match (from.is_empty(), to.is_empty()) {
                (true, false) => format!("set {field} to {to}"),
                (false, true) => format!("cleared {field} (was {from})"),
                _ => format!("changed {field} from {from} to {to}"),
            },
        }
    }
}

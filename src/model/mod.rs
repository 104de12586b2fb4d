//! The domain: plain data and the pure rules over it. No I/O lives here.

pub mod approval;
pub mod choices;
pub mod event;
pub mod filter;
pub mod link;
pub mod moves;
pub mod outbox;
pub mod sla;
pub mod text;
pub mod ticket;
pub mod time_spent;
pub mod when;

pub use approval::Approval;
pub use event::{Attachment, Bounce, Event, EventKind, MailIn};
pub use filter::{SortKey, TicketFilter};
pub use link::LinkKind;
pub use outbox::{OutboxEntry, OutboxState, Suppression};
pub use sla::Sla;
pub use ticket::{Assignee, Priority, Requester, Status, TextRef, Ticket};
pub mod mailbox;
pub use mailbox::{Customer, Fingerprint, IgnoredMail};

//! The activity log: one append-only event per change or message.

use serde::{Deserialize, Serialize};

use super::LinkKind;

/// One entry of a ticket's activity log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds since the Unix epoch, UTC.
    pub at: i64,
    /// The login of the user who acted, or a system name such as `ingest`.
    pub actor: String,
    pub kind: EventKind,
}

/// An attachment's description; its bytes stay in the raw message in the mail store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub mime: String,
    pub size: u64,
}

/// A message that arrived by mail, as recorded on its ticket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailIn {
    pub message_id: String,
    /// `Name <address>` of the sender.
    pub from: String,
    pub subject: String,
    /// The text, or its start when it is longer than [`super::text::excerpt`] keeps:
    /// the whole text is in the raw message (`hash`) in the mail store.
    pub text: String,
    /// Bytes in the whole text (`text` holds all of it when they match).
    #[serde(skip)]
    pub text_size: u64,
    /// SHA-256 of the raw message: its name in the mail store.
    pub hash: String,
    pub attachments: Vec<Attachment>,
    /// Sent by one of our agents rather than the customer.
    pub agent: bool,
}

impl MailIn {
    /// Whether `text` is only the start of the mail's text.
    pub fn is_cut(&self) -> bool {
        (self.text.len() as u64) < self.text_size
    }
}

/// What a bounce to an outbox entry's VERP address said (`desk::bounce`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounce {
    /// The entry's recipient.
    pub recipient: String,
    /// The DSN's `Action` (`failed`, `delayed`...), lowercase; empty if none.
    pub action: String,
    /// The DSN's `Status` (`5.1.1`); empty if none.
    pub status: String,
    /// The DSN's `Diagnostic-Code`, without its type.
    pub diagnostic: String,
    /// The outbox entry it answers.
    pub outbox_id: u64,
    /// A permanent failure: the entry failed and the address is suppressed.
    pub permanent: bool,
}

/// What happened (stored as `store::records::EventRecord`).
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
    /// A message arrived by mail (the one that opened the ticket, or a reply).
    Mail(MailIn),
    /// Linked to another ticket, with the reason.
    Linked { number: u64, reason: String },
    /// A bounce or auto-reply answering mail we sent about the ticket.
    DeliveryProblem { reason: String, mail: MailIn },
    /// A delivery status notification to the VERP address of one of the ticket's
    /// outbox entries, its token verified (`mail` is the DSN).
    Bounced { bounce: Box<Bounce>, mail: MailIn },
    /// A rule asked for a mail (`notify` or `reply`); the mail-out code sends it.
    MailQueued {
        rule: String,
        kind: String,
        to: String,
        template: String,
    },
    /// The message's Message-ID had been used by a different message (filed on
    /// `first`, 0 if it made no ticket): this one was taken as a message of its own.
    ReusedMessageId { message_id: String, first: u64 },
    /// From named an agent, but nothing the config trusts authenticated it: the mail
    /// was taken as from the bare address, with no agent powers.
    Unauthenticated { login: String, address: String },
    /// Cc'd addresses that were not made followers: outside the requester's domain
    /// and `ingest.cc_followers_domains`, on mail that was not authenticated.
    CcNotFollowing { addresses: Vec<String> },
    /// The assignee changed by `take`, `assign` or `release` (`verb`); `from`/`to`
    /// are labels (`alice`, `@group`), empty meaning nobody.
    Assigned {
        verb: String,
        from: String,
        to: String,
        comment: String,
    },
    /// An internal comment, never sent to the requester.
    Comment { text: String },
    /// `take --request-info`: what to ask the requester (the mail-out code sends it).
    InfoRequested { text: String },
    /// `ticket link` (or `create --parent`): ticket `number` is now `kind` to this one.
    LinkAdded { number: u64, kind: LinkKind },
    /// `ticket unlink`: the link to `number`, which was `kind` to this one, is gone.
    LinkRemoved { number: u64, kind: LinkKind },
    /// Time worked on the ticket (`ticket time add`, or a timer stopped): `date` is
    /// the local day it was spent, `YYYY-MM-DD`.
    TimeSpent {
        minutes: u64,
        billable: bool,
        note: String,
        date: String,
    },
    /// `ticket time start`: the actor's timer runs on this ticket.
    TimerStarted,
    /// `transfer`: moved to another service; `from`/`to` are `service` or
    /// `service/category`.
    Transferred {
        from: String,
        to: String,
        comment: String,
    },
    /// `follow`: `who` (a login or an address) follows the ticket.
    Followed { who: String, comment: String },
    /// `unfollow`: `who` no longer follows the ticket.
    Unfollowed { who: String },
    /// `approve`: the requester approved the closing.
    Approved,
    /// `reject`: the requester rejected the closing (the ticket reopened), and why.
    Rejected { comment: String },
    /// `ticket reply`: `text` went to the requester and followers `to` by mail,
    /// as the message `message_id` (without brackets), queued in the outbox.
    Reply {
        text: String,
        to: Vec<String>,
        message_id: String,
    },
    /// The outbox gave up on mail to `to`: refused for good, or still failing after
    /// `outbox.max_age` (`reason` says which, and what the transport said).
    MailFailed {
        to: String,
        message_id: String,
        reason: String,
    },
    /// Automatic mail queued in the outbox with this change: a rule's `notify` or
    /// `reply` (the rule is the actor) or an auto-reply; `template` rendered once
    /// for each address of `to`, as outbox entries `outbox`.
    Notified {
        template: String,
        to: Vec<String>,
        outbox: Vec<u64>,
    },
}

impl EventKind {
    /// Every name [`EventKind::name`] gives, in README's order: what scripts may
    /// meet in `kind` (README's table is checked against it by a test).
    pub const NAMES: &'static [&'static str] = &[
        "created",
        "changed",
        "mail",
        "agent-mail",
        "linked",
        "delivery-problem",
        "mail-queued",
        "reused-message-id",
        "unauthenticated",
        "cc-not-following",
        "assigned",
        "comment",
        "info-requested",
        "link-added",
        "link-removed",
        "time-spent",
        "timer-started",
        "transferred",
        "followed",
        "unfollowed",
        "approved",
        "rejected",
        "reply",
        "mail-failed",
        "notified",
        "bounced",
    ];

    /// Stable machine name, used in JSON and CSV.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Changed { .. } => "changed",
            EventKind::Mail(m) if m.agent => "agent-mail",
            EventKind::Mail(_) => "mail",
            EventKind::Linked { .. } => "linked",
            EventKind::DeliveryProblem { .. } => "delivery-problem",
            EventKind::MailQueued { .. } => "mail-queued",
            EventKind::ReusedMessageId { .. } => "reused-message-id",
            EventKind::Unauthenticated { .. } => "unauthenticated",
            EventKind::CcNotFollowing { .. } => "cc-not-following",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Comment { .. } => "comment",
            EventKind::InfoRequested { .. } => "info-requested",
            EventKind::LinkAdded { .. } => "link-added",
            EventKind::LinkRemoved { .. } => "link-removed",
            EventKind::TimeSpent { .. } => "time-spent",
            EventKind::TimerStarted => "timer-started",
            EventKind::Transferred { .. } => "transferred",
            EventKind::Followed { .. } => "followed",
            EventKind::Unfollowed { .. } => "unfollowed",
            EventKind::Approved => "approved",
            EventKind::Rejected { .. } => "rejected",
            EventKind::Reply { .. } => "reply",
            EventKind::MailFailed { .. } => "mail-failed",
            EventKind::Notified { .. } => "notified",
            EventKind::Bounced { .. } => "bounced",
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
            EventKind::Mail(m) => {
                let files = match m.attachments.len() {
                    0 => String::new(),
                    1 => " (1 attachment)".to_string(),
                    n => format!(" ({n} attachments)"),
                };
                let who = if m.agent { "agent mail" } else { "mail" };
                format!("{who} from {}: {}{files}", m.from, m.subject)
            }
            EventKind::Linked { number, reason } => format!("linked to #{number}: {reason}"),
            EventKind::DeliveryProblem { reason, mail } => {
                format!(
                    "delivery problem ({reason}) from {}: {}",
                    mail.from, mail.subject
                )
            }
            // The rule is the event's actor, which the timeline prints before this.
            EventKind::MailQueued {
                kind, to, template, ..
            } => format!("queued a {kind} mail to {to} (template {template})"),
            EventKind::ReusedMessageId { message_id, first } => {
                let first = match first {
                    0 => "mail that made no ticket".to_string(),
                    n => format!("#{n}"),
                };
                format!("Message-ID <{message_id}> was already used by different mail ({first}): taken as a new message")
            }
            EventKind::Unauthenticated { login, address } => format!(
                "unauthenticated: From {address} is agent {login}'s address, but nothing vouches for it; taken as customer mail"
            ),
            EventKind::CcNotFollowing { addresses } => format!(
                "Cc'd but not made followers (another domain, mail not authenticated): {}",
                addresses.join(", ")
            ),
            EventKind::Assigned { verb, from, to, .. } => {
                let who = |label: &str| match label {
                    "" => "nobody".to_string(),
                    label => label.to_string(),
                };
                match verb.as_str() {
                    "take" => format!("took the ticket (was {})", who(from)),
                    "release" => format!("released the ticket to {}", who(to)),
                    _ => format!("assigned the ticket to {} (was {})", who(to), who(from)),
                }
            }
            EventKind::Comment { .. } => "commented (internal)".to_string(),
            EventKind::InfoRequested { .. } => {
                "asked the requester for information".to_string()
            }
            EventKind::LinkAdded { number, kind } => link_phrase("linked", *number, *kind),
            EventKind::LinkRemoved { number, kind } => link_phrase("unlinked", *number, *kind),
            EventKind::TimeSpent {
                minutes,
                billable,
                date,
                ..
            } => format!(
                "spent {} on {date}{}",
                super::time_spent::format_minutes(*minutes),
                if *billable { " (billable)" } else { "" }
            ),
            EventKind::TimerStarted => "started a timer".to_string(),
            EventKind::Transferred { from, to, .. } => {
                let from = if from.is_empty() { "no service" } else { from };
                format!("transferred the ticket to {to} (was {from})")
            }
            EventKind::Followed { who, .. } => format!("made {who} a follower"),
            EventKind::Unfollowed { who } => format!("removed {who} from the followers"),
            EventKind::Approved => "recorded the requester's approval of the closing".to_string(),
            EventKind::Rejected { .. } => {
                "recorded the requester's rejection of the closing".to_string()
            }
            EventKind::Reply { to, .. } => format!("replied by mail to {}", to.join(", ")),
            EventKind::MailFailed { to, reason, .. } => {
                format!("mail to {to} was not delivered: {reason}")
            }
            EventKind::Notified { template, to, .. } if to.is_empty() => {
                format!("queued no mail ({template}): no recipient may get it")
            }
            EventKind::Notified { template, to, .. } => {
                format!("queued mail ({template}) to {}", to.join(", "))
            }
            EventKind::Bounced { bounce: b, .. } => {
                let or = |s: &str, none: &'static str| match s {
                    "" => none.to_string(),
                    s => s.to_string(),
                };
                let mut line = format!(
                    "mail to {} bounced: {} {} (outbox entry {})",
                    b.recipient,
                    or(&b.action, "status"),
                    or(&b.status, "unknown"),
                    b.outbox_id
                );
                if !b.diagnostic.is_empty() {
                    line.push_str(&format!(": {}", b.diagnostic));
                }
                if b.permanent {
                    line.push_str(&format!("; {} is suppressed", b.recipient));
                }
                line
            }
        }
    }

    /// The text a person wrote with the event (a comment, a question), if any.
    pub fn comment(&self) -> Option<&str> {
        match self {
            EventKind::Assigned { comment, .. }
            | EventKind::Transferred { comment, .. }
            | EventKind::Followed { comment, .. }
            | EventKind::Rejected { comment }
                if !comment.is_empty() =>
            {
                Some(comment)
            }
            EventKind::Comment { text }
            | EventKind::InfoRequested { text }
            | EventKind::Reply { text, .. } => Some(text),
            EventKind::TimeSpent { note, .. } if !note.is_empty() => Some(note),
            _ => None,
        }
    }
}

/// "linked #4 (parent)": what the other ticket is to this one, in words.
fn link_phrase(verb: &str, number: u64, kind: LinkKind) -> String {
    let what = match kind {
        LinkKind::Relates => "related",
        LinkKind::Duplicates => "duplicate",
        LinkKind::Parent => "parent",
        LinkKind::Child => "sub-ticket",
    };
    format!("{verb} #{number} ({what})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(agent: bool) -> MailIn {
        MailIn {
            message_id: String::new(),
            from: String::new(),
            subject: String::new(),
            text: String::new(),
            text_size: 0,
            hash: String::new(),
            attachments: vec![],
            agent,
        }
    }

    /// One event of every kind. The match below has no wildcard, so a new kind
    /// does not compile until it has an example here (and so a name in `NAMES`).
    fn one_of_each() -> Vec<EventKind> {
        let text = String::new;
        let all = vec![
            EventKind::Created,
            EventKind::Changed {
                field: text(),
                from: text(),
                to: text(),
            },
            EventKind::Mail(mail(false)),
            EventKind::Mail(mail(true)),
            EventKind::Linked {
                number: 1,
                reason: text(),
            },
            EventKind::DeliveryProblem {
                reason: text(),
                mail: mail(false),
            },
            EventKind::MailQueued {
                rule: text(),
                kind: text(),
                to: text(),
                template: text(),
            },
            EventKind::ReusedMessageId {
                message_id: text(),
                first: 0,
            },
            EventKind::Unauthenticated {
                login: text(),
                address: text(),
            },
            EventKind::CcNotFollowing { addresses: vec![] },
            EventKind::Assigned {
                verb: text(),
                from: text(),
                to: text(),
                comment: text(),
            },
            EventKind::Comment { text: text() },
            EventKind::InfoRequested { text: text() },
            EventKind::LinkAdded {
                number: 1,
                kind: LinkKind::Relates,
            },
            EventKind::LinkRemoved {
                number: 1,
                kind: LinkKind::Relates,
            },
            EventKind::TimeSpent {
                minutes: 1,
                billable: false,
                note: text(),
                date: text(),
            },
            EventKind::TimerStarted,
            EventKind::Transferred {
                from: text(),
                to: text(),
                comment: text(),
            },
            EventKind::Followed {
                who: text(),
                comment: text(),
            },
            EventKind::Unfollowed { who: text() },
            EventKind::Approved,
            EventKind::Rejected { comment: text() },
            EventKind::Reply {
                text: text(),
                to: vec![],
                message_id: text(),
            },
            EventKind::MailFailed {
                to: text(),
                message_id: text(),
                reason: text(),
            },
            EventKind::Notified {
                template: text(),
                to: vec![],
                outbox: vec![],
            },
            EventKind::Bounced {
                bounce: Box::default(),
                mail: mail(false),
            },
        ];
        for kind in &all {
            match kind {
                EventKind::Created
                | EventKind::Changed { .. }
                | EventKind::Mail(_)
                | EventKind::Linked { .. }
                | EventKind::DeliveryProblem { .. }
                | EventKind::MailQueued { .. }
                | EventKind::ReusedMessageId { .. }
                | EventKind::Unauthenticated { .. }
                | EventKind::CcNotFollowing { .. }
                | EventKind::Assigned { .. }
                | EventKind::Comment { .. }
                | EventKind::InfoRequested { .. }
                | EventKind::LinkAdded { .. }
                | EventKind::LinkRemoved { .. }
                | EventKind::TimeSpent { .. }
                | EventKind::TimerStarted => {}
                EventKind::Transferred { .. }
                | EventKind::Followed { .. }
                | EventKind::Unfollowed { .. }
                | EventKind::Approved
                | EventKind::Rejected { .. } => {}
                EventKind::Reply { .. }
                | EventKind::MailFailed { .. }
                | EventKind::Notified { .. }
                | EventKind::Bounced { .. } => {}
            }
        }
        all
    }

    #[test]
    fn names_lists_the_name_of_every_kind_once() {
        let names: Vec<&str> = one_of_each().iter().map(EventKind::name).collect();
        assert_eq!(names, EventKind::NAMES);
    }
}

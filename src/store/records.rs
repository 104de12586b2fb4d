//! What is stored: records of their own, apart from the `model` types, each a
//! format byte and a MessagePack map (field names, not positions). A field added
//! later reads as its default from a record written before it existed, and a field
//! an older postdesk does not know is skipped, so a new field costs no rewrite of
//! the data. A change that cannot be read that way takes a new format byte.
//!
//! Every record stays small (no mail text, a description's first 4 KB): sled writes
//! a page over 128 KB (a leaf holds up to 16 records) to a file of its own, and loses
//! the removal of the old file when it rewrites one in a short process.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{
    Approval, Assignee, Attachment, Bounce, Customer, Event, EventKind, IgnoredMail, LinkKind,
    MailIn, OutboxEntry, OutboxState, Requester, Sla, Suppression, TextRef, Ticket,
};

/// The format byte of a MessagePack map record.
const MAP: u8 = 1;

pub fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>> {
    let mut bytes = vec![MAP];
    rmp_serde::encode::write_named(&mut bytes, record).context("cannot encode a record")?;
    Ok(bytes)
}

/// Decodes a record; `what` names it in the error ("ticket #4").
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: impl FnOnce() -> String) -> Result<T> {
    match bytes.split_first() {
        Some((&MAP, map)) => rmp_serde::from_slice(map)
            .with_context(|| format!("{}: corrupt record in the database", what())),
        Some((format, _)) => bail!(
            "{}: record format {format} is unknown: written by a newer postdesk?",
            what()
        ),
        None => bail!("{}: empty record in the database", what()),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TicketRecord {
    pub number: u64,
    pub subject: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_rest: Option<TextRefRecord>,
    pub status: String,
    pub priority: String,
    /// `alice`, `@group`; absent for nobody.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub requester: RequesterRecord,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followers: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    pub created: i64,
    pub updated: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<u64>,
    /// The kind of each link in `links` that is not `relates`: a record written
    /// before kinds existed reads its links as `relates`, and `links` stays the
    /// plain list an older postdesk reads. A kind it does not know reads as `relates`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub link_kinds: BTreeMap<u64, String>,
    /// The sum of the ticket's time-spent events, kept with it for `ticket list`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub minutes_spent: u64,
    /// Added after schema 5 with a default: records without it read as never asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalRecord>,
    /// Service levels (`model::sla`), added after schema 5 with defaults: a record
    /// written before reads as a ticket without due times, so nothing is migrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_due: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution_due: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_response: Option<i64>,
    /// When the service-level clock stopped (pending or closed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_since: Option<i64>,
    /// Seconds of business time the clock was stopped before `paused_since`.
    #[serde(skip_serializing_if = "is_zero")]
    pub paused: i64,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// A user's running timer, in `meta` under [`timer_key`].
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TimerRecord {
    pub ticket: u64,
    pub started: i64,
}

/// The `meta` key of a user's running timer.
pub fn timer_key(login: &str) -> Vec<u8> {
    [b"timer\0".as_slice(), login.as_bytes()].concat()
}

/// Automatic replies to one sender on one day (UTC), in `meta` under
/// [`auto_reply_key`]: `auto_reply.per_sender` is counted with it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoReplyRecord {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub count: u32,
}

/// The `meta` key of a sender's automatic replies (lowercase address).
pub fn auto_reply_key(sender: &str) -> Vec<u8> {
    [b"autoreply\0".as_slice(), sender.to_lowercase().as_bytes()].concat()
}

/// `state` is `pending` (asked at `since`), `approved` or `rejected`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ApprovalRecord {
    pub state: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub since: i64,
}

impl From<Approval> for ApprovalRecord {
    fn from(a: Approval) -> Self {
        let since = match a {
            Approval::Pending { since } => since,
            _ => 0,
        };
        ApprovalRecord {
            state: a.as_str().to_string(),
            since,
        }
    }
}

impl ApprovalRecord {
    /// None for a state of a newer postdesk: read as never asked.
    fn into_approval(self) -> Option<Approval> {
        match self.state.as_str() {
            "pending" => Some(Approval::Pending { since: self.since }),
            "approved" => Some(Approval::Approved),
            "rejected" => Some(Approval::Rejected),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RequesterRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextRefRecord {
    Mail(String),
    Text(String),
}

impl From<&Ticket> for TicketRecord {
    fn from(t: &Ticket) -> Self {
        TicketRecord {
            number: t.number,
            subject: t.subject.clone(),
            description: t.description.clone(),
            description_rest: t.description_rest.as_ref().map(|r| match r {
                TextRef::Mail(hash) => TextRefRecord::Mail(hash.clone()),
                TextRef::Text(hash) => TextRefRecord::Text(hash.clone()),
            }),
            status: t.status.as_str().to_string(),
            priority: t.priority.as_str().to_string(),
            assignee: t.assignee.label(),
            service: t.service.clone(),
            category: t.category.clone(),
            tags: t.tags.iter().cloned().collect(),
            requester: RequesterRecord {
                name: t.requester.name.clone(),
                email: t.requester.email.clone(),
                phone: t.requester.phone.clone(),
            },
            followers: t.followers.iter().cloned().collect(),
            fields: t.fields.clone(),
            created: t.created,
            updated: t.updated,
            links: t.links.keys().copied().collect(),
            link_kinds: t
                .links
                .iter()
                .filter(|(_, kind)| **kind != LinkKind::Relates)
                .map(|(n, kind)| (*n, kind.as_str().to_string()))
                .collect(),
            minutes_spent: t.minutes_spent,
            approval: t.approval.map(ApprovalRecord::from),
            response_due: t.sla.response_due,
            resolution_due: t.sla.resolution_due,
            first_response: t.sla.first_response,
            paused_since: t.sla.paused_since,
            paused: t.sla.paused,
        }
    }
}

impl TicketRecord {
    pub fn into_ticket(self) -> Result<Ticket> {
        let number = self.number;
        let bad = |e: String| anyhow::anyhow!("ticket #{number}: {e}");
        Ok(Ticket {
            number,
            subject: self.subject,
            description: self.description,
            description_rest: self.description_rest.map(|r| match r {
                TextRefRecord::Mail(hash) => TextRef::Mail(hash),
                TextRefRecord::Text(hash) => TextRef::Text(hash),
            }),
            status: self.status.parse().map_err(bad)?,
            priority: self.priority.parse().map_err(bad)?,
            assignee: self
                .assignee
                .as_deref()
                .map(Assignee::parse)
                .unwrap_or_default(),
            service: self.service,
            category: self.category,
            tags: self.tags.into_iter().collect(),
            requester: Requester {
                name: self.requester.name,
                email: self.requester.email,
                phone: self.requester.phone,
            },
            followers: self.followers.into_iter().collect(),
            fields: self.fields,
            created: self.created,
            updated: self.updated,
            links: self
                .links
                .into_iter()
                .map(|n| {
                    let kind = self.link_kinds.get(&n).and_then(|k| k.parse().ok());
                    (n, kind.unwrap_or_default())
                })
                .collect(),
            minutes_spent: self.minutes_spent,
            approval: self.approval.and_then(ApprovalRecord::into_approval),
            sla: Sla {
                response_due: self.response_due,
                resolution_due: self.resolution_due,
                first_response: self.first_response,
                paused_since: self.paused_since,
                paused: self.paused,
            },
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EventRecord {
    pub at: i64,
    pub actor: String,
    pub what: EventKindRecord,
}

/// One map per kind, its name under `kind`; every field has a default. A kind
/// this postdesk does not know (written by a newer one) reads as [`Self::Newer`],
/// which the log skips: a new kind needs no new schema version from now on.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventKindRecord {
    Created,
    Changed {
        #[serde(default)]
        field: String,
        #[serde(default)]
        from: String,
        #[serde(default)]
        to: String,
    },
    Mail {
        mail: MailRecord,
    },
    Linked {
        #[serde(default)]
        number: u64,
        #[serde(default)]
        reason: String,
    },
    DeliveryProblem {
        #[serde(default)]
        reason: String,
        mail: MailRecord,
    },
    MailQueued {
        #[serde(default)]
        rule: String,
        #[serde(default)]
        mail_kind: String,
        #[serde(default)]
        to: String,
        #[serde(default)]
        template: String,
    },
    ReusedMessageId {
        #[serde(default)]
        message_id: String,
        #[serde(default)]
        first: u64,
    },
    Unauthenticated {
        #[serde(default)]
        login: String,
        #[serde(default)]
        address: String,
    },
    CcNotFollowing {
        #[serde(default)]
        addresses: Vec<String>,
    },
    Assigned {
        #[serde(default)]
        verb: String,
        #[serde(default)]
        from: String,
        #[serde(default)]
        to: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        comment: String,
    },
    Comment {
        #[serde(default)]
        text: String,
    },
    InfoRequested {
        #[serde(default)]
        text: String,
    },
    LinkAdded {
        #[serde(default)]
        number: u64,
        /// A kind this postdesk does not know reads as `relates`.
        #[serde(default)]
        link_kind: String,
    },
    LinkRemoved {
        #[serde(default)]
        number: u64,
        #[serde(default)]
        link_kind: String,
    },
    TimeSpent {
        #[serde(default)]
        minutes: u64,
        #[serde(default)]
        billable: bool,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
        #[serde(default)]
        date: String,
    },
    TimerStarted,
    Transferred {
        #[serde(default)]
        from: String,
        #[serde(default)]
        to: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        comment: String,
    },
    Followed {
        #[serde(default)]
        who: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        comment: String,
    },
    Unfollowed {
        #[serde(default)]
        who: String,
    },
    Approved,
    Rejected {
        #[serde(default, skip_serializing_if = "String::is_empty")]
        comment: String,
    },
    Reply {
        #[serde(default)]
        text: String,
        #[serde(default)]
        to: Vec<String>,
        #[serde(default)]
        message_id: String,
    },
    MailFailed {
        #[serde(default)]
        to: String,
        #[serde(default)]
        message_id: String,
        #[serde(default)]
        reason: String,
    },
    Notified {
        #[serde(default)]
        template: String,
        #[serde(default)]
        to: Vec<String>,
        #[serde(default)]
        outbox: Vec<u64>,
    },
    Bounced {
        #[serde(default)]
        bounce: BounceRecord,
        mail: MailRecord,
    },
    /// A kind of a newer postdesk: never written, skipped when read.
    #[serde(other)]
    Newer,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BounceRecord {
    pub recipient: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub action: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diagnostic: String,
    pub outbox_id: u64,
    pub permanent: bool,
}

impl From<&Bounce> for BounceRecord {
    fn from(b: &Bounce) -> Self {
        BounceRecord {
            recipient: b.recipient.clone(),
            action: b.action.clone(),
            status: b.status.clone(),
            diagnostic: b.diagnostic.clone(),
            outbox_id: b.outbox_id,
            permanent: b.permanent,
        }
    }
}

impl From<BounceRecord> for Bounce {
    fn from(b: BounceRecord) -> Self {
        Bounce {
            recipient: b.recipient,
            action: b.action,
            status: b.status,
            diagnostic: b.diagnostic,
            outbox_id: b.outbox_id,
            permanent: b.permanent,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MailRecord {
    pub message_id: String,
    pub from: String,
    pub subject: String,
    /// The text's start (`model::text::excerpt`); the whole is in the raw message.
    pub excerpt: String,
    pub text_size: u64,
    pub hash: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRecord>,
    pub agent: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentRecord {
    pub name: String,
    pub mime: String,
    pub size: u64,
}

impl From<&MailIn> for MailRecord {
    fn from(m: &MailIn) -> Self {
        let excerpt = crate::model::text::excerpt(&m.text);
        MailRecord {
            message_id: m.message_id.clone(),
            from: m.from.clone(),
            subject: m.subject.clone(),
            excerpt: excerpt.to_string(),
            text_size: m.text_size.max(m.text.len() as u64),
            hash: m.hash.clone(),
            attachments: m
                .attachments
                .iter()
                .map(|a| AttachmentRecord {
                    name: a.name.clone(),
                    mime: a.mime.clone(),
                    size: a.size,
                })
                .collect(),
            agent: m.agent,
        }
    }
}

impl From<MailRecord> for MailIn {
    fn from(m: MailRecord) -> Self {
        MailIn {
            message_id: m.message_id,
            from: m.from,
            subject: m.subject,
            text: m.excerpt,
            text_size: m.text_size,
            hash: m.hash,
            attachments: m
                .attachments
                .into_iter()
                .map(|a| Attachment {
                    name: a.name,
                    mime: a.mime,
                    size: a.size,
                })
                .collect(),
            agent: m.agent,
        }
    }
}

impl From<&Event> for EventRecord {
    fn from(e: &Event) -> Self {
        let what = match &e.kind {
            EventKind::Created => EventKindRecord::Created,
            EventKind::Changed { field, from, to } => EventKindRecord::Changed {
                field: field.clone(),
                from: from.clone(),
                to: to.clone(),
            },
            EventKind::Mail(m) => EventKindRecord::Mail { mail: m.into() },
            EventKind::Linked { number, reason } => EventKindRecord::Linked {
                number: *number,
                reason: reason.clone(),
            },
            EventKind::DeliveryProblem { reason, mail } => EventKindRecord::DeliveryProblem {
                reason: reason.clone(),
                mail: mail.into(),
            },
            EventKind::Bounced { bounce, mail } => EventKindRecord::Bounced {
                bounce: bounce.as_ref().into(),
                mail: mail.into(),
            },
            EventKind::MailQueued {
                rule,
                kind,
                to,
                template,
            } => EventKindRecord::MailQueued {
                rule: rule.clone(),
                mail_kind: kind.clone(),
                to: to.clone(),
                template: template.clone(),
            },
            EventKind::ReusedMessageId { message_id, first } => EventKindRecord::ReusedMessageId {
                message_id: message_id.clone(),
                first: *first,
            },
            EventKind::Unauthenticated { login, address } => EventKindRecord::Unauthenticated {
                login: login.clone(),
                address: address.clone(),
            },
            EventKind::CcNotFollowing { addresses } => EventKindRecord::CcNotFollowing {
                addresses: addresses.clone(),
            },
            EventKind::Assigned {
                verb,
                from,
                to,
                comment,
            } => EventKindRecord::Assigned {
                verb: verb.clone(),
                from: from.clone(),
                to: to.clone(),
                comment: comment.clone(),
            },
            EventKind::Comment { text } => EventKindRecord::Comment { text: text.clone() },
            EventKind::InfoRequested { text } => {
                EventKindRecord::InfoRequested { text: text.clone() }
            }
            EventKind::LinkAdded { number, kind } => EventKindRecord::LinkAdded {
                number: *number,
                link_kind: kind.as_str().to_string(),
            },
            EventKind::LinkRemoved { number, kind } => EventKindRecord::LinkRemoved {
                number: *number,
                link_kind: kind.as_str().to_string(),
            },
            EventKind::TimeSpent {
                minutes,
                billable,
                note,
                date,
            } => EventKindRecord::TimeSpent {
                minutes: *minutes,
                billable: *billable,
                note: note.clone(),
                date: date.clone(),
            },
            EventKind::TimerStarted => EventKindRecord::TimerStarted,
            EventKind::Transferred { from, to, comment } => EventKindRecord::Transferred {
                from: from.clone(),
                to: to.clone(),
                comment: comment.clone(),
            },
            EventKind::Followed { who, comment } => EventKindRecord::Followed {
                who: who.clone(),
                comment: comment.clone(),
            },
            EventKind::Unfollowed { who } => EventKindRecord::Unfollowed { who: who.clone() },
            EventKind::Approved => EventKindRecord::Approved,
            EventKind::Rejected { comment } => EventKindRecord::Rejected {
                comment: comment.clone(),
            },
            EventKind::Reply {
                text,
                to,
                message_id,
            } => EventKindRecord::Reply {
                text: text.clone(),
                to: to.clone(),
                message_id: message_id.clone(),
            },
            EventKind::MailFailed {
                to,
                message_id,
                reason,
            } => EventKindRecord::MailFailed {
                to: to.clone(),
                message_id: message_id.clone(),
                reason: reason.clone(),
            },
            EventKind::Notified {
                template,
                to,
                outbox,
            } => EventKindRecord::Notified {
                template: template.clone(),
                to: to.clone(),
                outbox: outbox.clone(),
            },
        };
        EventRecord {
            at: e.at,
            actor: e.actor.clone(),
            what,
        }
    }
}

impl EventRecord {
    /// The event, or None for a kind of a newer postdesk (skipped).
    pub fn into_event(self) -> Option<Event> {
        let kind = match self.what {
            EventKindRecord::Created => EventKind::Created,
            EventKindRecord::Changed { field, from, to } => EventKind::Changed { field, from, to },
            EventKindRecord::Mail { mail } => EventKind::Mail(mail.into()),
            EventKindRecord::Linked { number, reason } => EventKind::Linked { number, reason },
            EventKindRecord::DeliveryProblem { reason, mail } => EventKind::DeliveryProblem {
                reason,
                mail: mail.into(),
            },
            EventKindRecord::Bounced { bounce, mail } => EventKind::Bounced {
                bounce: Box::new(bounce.into()),
                mail: mail.into(),
            },
            EventKindRecord::MailQueued {
                rule,
                mail_kind,
                to,
                template,
            } => EventKind::MailQueued {
                rule,
                kind: mail_kind,
                to,
                template,
            },
            EventKindRecord::ReusedMessageId { message_id, first } => {
                EventKind::ReusedMessageId { message_id, first }
            }
            EventKindRecord::Unauthenticated { login, address } => {
                EventKind::Unauthenticated { login, address }
            }
            EventKindRecord::CcNotFollowing { addresses } => {
                EventKind::CcNotFollowing { addresses }
            }
            EventKindRecord::Assigned {
                verb,
                from,
                to,
                comment,
            } => EventKind::Assigned {
                verb,
                from,
                to,
                comment,
            },
            EventKindRecord::Comment { text } => EventKind::Comment { text },
            EventKindRecord::InfoRequested { text } => EventKind::InfoRequested { text },
            EventKindRecord::LinkAdded { number, link_kind } => EventKind::LinkAdded {
                number,
                kind: link_kind.parse().unwrap_or_default(),
            },
            EventKindRecord::LinkRemoved { number, link_kind } => EventKind::LinkRemoved {
                number,
                kind: link_kind.parse().unwrap_or_default(),
            },
            EventKindRecord::TimeSpent {
                minutes,
                billable,
                note,
                date,
            } => EventKind::TimeSpent {
                minutes,
                billable,
                note,
                date,
            },
            EventKindRecord::TimerStarted => EventKind::TimerStarted,
            EventKindRecord::Transferred { from, to, comment } => {
                EventKind::Transferred { from, to, comment }
            }
            EventKindRecord::Followed { who, comment } => EventKind::Followed { who, comment },
            EventKindRecord::Unfollowed { who } => EventKind::Unfollowed { who },
            EventKindRecord::Approved => EventKind::Approved,
            EventKindRecord::Rejected { comment } => EventKind::Rejected { comment },
            EventKindRecord::Reply {
                text,
                to,
                message_id,
            } => EventKind::Reply {
                text,
                to,
                message_id,
            },
            EventKindRecord::MailFailed {
                to,
                message_id,
                reason,
            } => EventKind::MailFailed {
                to,
                message_id,
                reason,
            },
            EventKindRecord::Notified {
                template,
                to,
                outbox,
            } => EventKind::Notified {
                template,
                to,
                outbox,
            },
            EventKindRecord::Newer => return None,
        };
        Some(Event {
            at: self.at,
            actor: self.actor,
            kind,
        })
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerRecord {
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl From<&Customer> for CustomerRecord {
    fn from(c: &Customer) -> Self {
        CustomerRecord {
            email: c.email.clone(),
            name: c.name.clone(),
            first_seen: c.first_seen,
            last_seen: c.last_seen,
        }
    }
}

impl From<CustomerRecord> for Customer {
    fn from(c: CustomerRecord) -> Self {
        Customer {
            email: c.email,
            name: c.name,
            first_seen: c.first_seen,
            last_seen: c.last_seen,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct IgnoredRecord {
    pub at: i64,
    pub reason: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub hash: String,
}

impl From<&IgnoredMail> for IgnoredRecord {
    fn from(i: &IgnoredMail) -> Self {
        IgnoredRecord {
            at: i.at,
            reason: i.reason.clone(),
            from: i.from.clone(),
            subject: i.subject.clone(),
            message_id: i.message_id.clone(),
            hash: i.hash.clone(),
        }
    }
}

impl From<IgnoredRecord> for IgnoredMail {
    fn from(i: IgnoredRecord) -> Self {
        IgnoredMail {
            at: i.at,
            reason: i.reason,
            from: i.from,
            subject: i.subject,
            message_id: i.message_id,
            hash: i.hash,
        }
    }
}

/// An outbox entry (`model::OutboxEntry`): one message to one recipient.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboxRecord {
    pub id: u64,
    pub ticket: u64,
    pub recipient: String,
    pub envelope: String,
    pub hash: String,
    pub message_id: String,
    pub kind: String,
    pub queued_at: i64,
    /// `queued`, `sent`, `failed`, `dropped`; a state of a newer postdesk reads as
    /// failed (never sent by this one).
    pub state: String,
    pub attempts: u32,
    pub next_attempt: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub done_at: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
}

impl From<&OutboxEntry> for OutboxRecord {
    fn from(e: &OutboxEntry) -> Self {
        OutboxRecord {
            id: e.id,
            ticket: e.ticket,
            recipient: e.recipient.clone(),
            envelope: e.envelope.clone(),
            hash: e.hash.clone(),
            message_id: e.message_id.clone(),
            kind: e.kind.clone(),
            queued_at: e.queued_at,
            state: e.state.as_str().to_string(),
            attempts: e.attempts,
            next_attempt: e.next_attempt,
            done_at: e.done_at,
            last_error: e.last_error.clone(),
        }
    }
}

impl From<OutboxRecord> for OutboxEntry {
    fn from(r: OutboxRecord) -> Self {
        OutboxEntry {
            id: r.id,
            ticket: r.ticket,
            recipient: r.recipient,
            envelope: r.envelope,
            hash: r.hash,
            message_id: r.message_id,
            kind: r.kind,
            queued_at: r.queued_at,
            state: r.state.parse().unwrap_or(OutboxState::Failed),
            attempts: r.attempts,
            next_attempt: r.next_attempt,
            done_at: r.done_at,
            last_error: r.last_error,
        }
    }
}

/// A suppressed address (`model::Suppression`), in the `outbox` tree.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SuppressionRecord {
    pub address: String,
    pub at: i64,
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub outbox_id: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub ticket: u64,
    pub by: String,
}

impl From<&Suppression> for SuppressionRecord {
    fn from(s: &Suppression) -> Self {
        SuppressionRecord {
            address: s.address.clone(),
            at: s.at,
            reason: s.reason.clone(),
            status: s.status.clone(),
            outbox_id: s.outbox_id,
            ticket: s.ticket,
            by: s.by.clone(),
        }
    }
}

impl From<SuppressionRecord> for Suppression {
    fn from(r: SuppressionRecord) -> Self {
        Suppression {
            address: r.address,
            at: r.at,
            reason: r.reason,
            status: r.status,
            outbox_id: r.outbox_id,
            ticket: r.ticket,
            by: r.by,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ticket record as an older postdesk wrote it, before most fields existed.
    #[derive(Serialize)]
    struct EarlyTicket {
        number: u64,
        subject: String,
        status: String,
        priority: String,
        created: i64,
        updated: i64,
    }

    #[test]
    fn a_record_written_before_a_field_existed_reads_with_its_default() {
        let early = encode(&EarlyTicket {
            number: 7,
            subject: "printer".into(),
            status: "pending".into(),
            priority: "high".into(),
            created: 10,
            updated: 20,
        })
        .unwrap();
        let t = decode::<TicketRecord>(&early, || "ticket #7".into())
            .unwrap()
            .into_ticket()
            .unwrap();
        assert_eq!((t.number, t.subject.as_str()), (7, "printer"));
        assert_eq!(t.status, crate::model::Status::Pending);
        assert!(t.tags.is_empty() && t.description_rest.is_none() && t.links.is_empty());
        assert_eq!(t.assignee, Assignee::Nobody);
        assert_eq!(t.approval, None, "no approval was asked");
    }

    #[test]
    fn approvals_round_trip() {
        for approval in [
            Approval::Pending {
                since: 1_700_000_000,
            },
            Approval::Approved,
            Approval::Rejected,
        ] {
            let mut t = Ticket::new(4, "subject", 100);
            t.approval = Some(approval);
            let bytes = encode(&TicketRecord::from(&t)).unwrap();
            let back = decode::<TicketRecord>(&bytes, String::new).unwrap();
            assert_eq!(back.into_ticket().unwrap().approval, Some(approval));
        }
    }

    #[test]
    fn a_field_from_a_newer_postdesk_is_skipped() {
        #[derive(Serialize)]
        struct Later {
            at: i64,
            actor: String,
            what: serde_json::Value,
            mood: String,
        }
        let later = encode(&Later {
            at: 5,
            actor: "alice".into(),
            what: serde_json::json!({"kind": "linked", "number": 3, "colour": "red"}),
            mood: "fine".into(),
        })
        .unwrap();
        let event = decode::<EventRecord>(&later, || "event".into())
            .unwrap()
            .into_event()
            .unwrap();
        assert_eq!(
            event.kind,
            EventKind::Linked {
                number: 3,
                reason: String::new()
            }
        );
    }

    #[test]
    fn tickets_and_events_round_trip() {
        let mut t = Ticket::new(4, "subject", 100);
        t.assignee = Assignee::Group("desk".into());
        t.tags.insert("vpn".into());
        t.description_rest = Some(TextRef::Mail("ab".into()));
        let back = decode::<TicketRecord>(&encode(&TicketRecord::from(&t)).unwrap(), String::new)
            .unwrap()
            .into_ticket()
            .unwrap();
        assert_eq!(back, t);
        let mail = MailIn {
            message_id: "<m@x>".into(),
            from: "c@x".into(),
            subject: "s".into(),
            text: "line\n".repeat(100),
            text_size: 500,
            hash: "00".into(),
            attachments: vec![],
            agent: false,
        };
        let event = Event {
            at: 1,
            actor: "c@x".into(),
            kind: EventKind::Mail(mail),
        };
        let back = decode::<EventRecord>(&encode(&EventRecord::from(&event)).unwrap(), String::new)
            .unwrap()
            .into_event()
            .unwrap();
        let EventKind::Mail(m) = back.kind else {
            panic!("a mail event")
        };
        assert_eq!(m.text, "line\n".repeat(15), "the excerpt is kept");
        assert_eq!(m.text_size, 500);
        assert!(m.is_cut());
    }

    #[test]
    fn a_kind_from_a_newer_postdesk_is_skipped() {
        #[derive(Serialize)]
        struct Later {
            at: i64,
            actor: String,
            what: serde_json::Value,
        }
        let later = encode(&Later {
            at: 5,
            actor: "alice".into(),
            what: serde_json::json!({"kind": "time-logged", "minutes": 90}),
        })
        .unwrap();
        let record = decode::<EventRecord>(&later, || "event".into()).unwrap();
        assert!(record.into_event().is_none());
    }

    #[test]
    fn workflow_events_round_trip() {
        for kind in [
            EventKind::Assigned {
                verb: "take".into(),
                from: "@support".into(),
                to: "bob".into(),
                comment: "on it".into(),
            },
            EventKind::Comment {
                text: "called back".into(),
            },
            EventKind::InfoRequested {
                text: "which printer?".into(),
            },
            EventKind::LinkAdded {
                number: 9,
                kind: LinkKind::Parent,
            },
            EventKind::LinkRemoved {
                number: 9,
                kind: LinkKind::Child,
            },
            EventKind::TimeSpent {
                minutes: 90,
                billable: true,
                note: "on site".into(),
                date: "2026-11-30".into(),
            },
            EventKind::TimerStarted,
            EventKind::Transferred {
                from: "it/hardware".into(),
                to: "finance".into(),
                comment: "an invoice".into(),
            },
            EventKind::Followed {
                who: "ann@example.com".into(),
                comment: "for the invoice".into(),
            },
            EventKind::Unfollowed { who: "bob".into() },
            EventKind::Approved,
            EventKind::Rejected {
                comment: "still jams".into(),
            },
            EventKind::Reply {
                text: "try again".into(),
                to: vec!["ann@example.com".into()],
                message_id: "ticket.4.1.2@corp.example".into(),
            },
            EventKind::MailFailed {
                to: "ann@example.com".into(),
                message_id: "ticket.4.1.2@corp.example".into(),
                reason: "550 no such user".into(),
            },
            EventKind::Bounced {
                bounce: Box::new(Bounce {
                    recipient: "ann@example.com".into(),
                    action: "failed".into(),
                    status: "5.1.1".into(),
                    diagnostic: "mailbox unavailable".into(),
                    outbox_id: 7,
                    permanent: true,
                }),
                mail: MailIn {
                    message_id: "dsn@mx".into(),
                    from: "MAILER-DAEMON@mx".into(),
                    subject: "Undelivered Mail".into(),
                    text: "sorry".into(),
                    text_size: 5,
                    hash: "ab".into(),
                    attachments: vec![],
                    agent: false,
                },
            },
        ] {
            let event = Event {
                at: 3,
                actor: "bob".into(),
                kind,
            };
            let bytes = encode(&EventRecord::from(&event)).unwrap();
            let back = decode::<EventRecord>(&bytes, String::new).unwrap();
            assert_eq!(back.into_event(), Some(event));
        }
    }

    /// A ticket record as written before links had kinds: `links` only.
    #[derive(Serialize)]
    struct LinksWithoutKinds {
        number: u64,
        subject: String,
        status: String,
        priority: String,
        links: Vec<u64>,
    }

    #[test]
    fn links_written_before_kinds_existed_read_back_as_relates() {
        let old = encode(&LinksWithoutKinds {
            number: 2,
            subject: "vpn".into(),
            status: "open".into(),
            priority: "low".into(),
            links: vec![1, 5],
        })
        .unwrap();
        let t = decode::<TicketRecord>(&old, || "ticket #2".into())
            .unwrap()
            .into_ticket()
            .unwrap();
        let links: Vec<(u64, LinkKind)> = t.links.into_iter().collect();
        assert_eq!(links, [(1, LinkKind::Relates), (5, LinkKind::Relates)]);
    }

    #[test]
    fn link_kinds_round_trip_and_an_older_reader_sees_the_numbers() {
        let mut t = Ticket::new(3, "subject", 100);
        t.links.insert(1, LinkKind::Parent);
        t.links.insert(4, LinkKind::Relates);
        t.links.insert(6, LinkKind::Child);
        let bytes = encode(&TicketRecord::from(&t)).unwrap();
        let back = decode::<TicketRecord>(&bytes, String::new).unwrap();
        assert_eq!(back.links, [1, 4, 6]);
        assert_eq!(back.into_ticket().unwrap(), t);
    }

    #[test]
    fn an_unknown_format_is_refused_by_name() {
        let err = decode::<TicketRecord>(&[9, 0], || "ticket #1".into()).unwrap_err();
        assert!(
            format!("{err:#}").contains("ticket #1: record format 9"),
            "{err:#}"
        );
    }
}

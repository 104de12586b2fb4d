//! The records of schemas 1 and 2: the model types as they were, in postcard
//! (positional: a field's meaning is its place). Read only by the migration; kept
//! apart from the model so that changing the model cannot change how old data reads.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{
    Assignee, Attachment, Customer, Event, EventKind, IgnoredMail, LinkKind, MailIn, Priority,
    Requester, Status, Ticket,
};

#[derive(Serialize, Deserialize)]
pub struct OldTicket {
    pub number: u64,
    pub subject: String,
    pub description: String,
    pub status: OldStatus,
    pub priority: OldPriority,
    pub assignee: OldAssignee,
    pub service: Option<String>,
    pub category: Option<String>,
    pub tags: BTreeSet<String>,
    pub requester: OldRequester,
    pub followers: BTreeSet<String>,
    pub fields: BTreeMap<String, String>,
    pub created: i64,
    pub updated: i64,
    pub links: BTreeSet<u64>,
}

#[derive(Serialize, Deserialize)]
pub enum OldStatus {
    Open,
    InProgress,
    Pending,
    Closed,
}

#[derive(Serialize, Deserialize)]
pub enum OldPriority {
    Low,
    Medium,
    High,
    Urgent,
}

#[derive(Serialize, Deserialize)]
pub enum OldAssignee {
    Nobody,
    User(String),
    Group(String),
}

#[derive(Serialize, Deserialize)]
pub struct OldRequester {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct OldEvent {
    pub at: i64,
    pub actor: String,
    pub kind: OldEventKind,
}

#[derive(Serialize, Deserialize)]
pub struct OldAttachment {
    pub name: String,
    pub mime: String,
    pub size: u64,
}

#[derive(Serialize, Deserialize)]
pub struct OldMailIn {
    pub message_id: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub hash: String,
    pub attachments: Vec<OldAttachment>,
    pub agent: bool,
}

#[derive(Serialize, Deserialize)]
pub enum OldEventKind {
    Created,
    Changed {
        field: String,
        from: String,
        to: String,
    },
    Mail(OldMailIn),
    Linked {
        number: u64,
        reason: String,
    },
    DeliveryProblem {
        reason: String,
        mail: OldMailIn,
    },
    MailQueued {
        rule: String,
        kind: String,
        to: String,
        template: String,
    },
    ReusedMessageId {
        message_id: String,
        first: u64,
    },
    Unauthenticated {
        login: String,
        address: String,
    },
    CcNotFollowing {
        addresses: Vec<String>,
    },
}

#[derive(Serialize, Deserialize)]
pub struct OldCustomer {
    pub email: String,
    pub name: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
}

#[derive(Serialize, Deserialize)]
pub struct OldIgnoredMail {
    pub at: i64,
    pub reason: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub hash: String,
}

impl OldTicket {
    /// The ticket, with its whole description (the caller decides what to keep).
    pub fn into_ticket(self) -> Ticket {
        Ticket {
            number: self.number,
            subject: self.subject,
            description: self.description,
            description_rest: None,
            status: match self.status {
                OldStatus::Open => Status::Open,
                OldStatus::InProgress => Status::InProgress,
                OldStatus::Pending => Status::Pending,
                OldStatus::Closed => Status::Closed,
            },
            priority: match self.priority {
                OldPriority::Low => Priority::Low,
                OldPriority::Medium => Priority::Medium,
                OldPriority::High => Priority::High,
                OldPriority::Urgent => Priority::Urgent,
            },
            assignee: match self.assignee {
                OldAssignee::Nobody => Assignee::Nobody,
                OldAssignee::User(u) => Assignee::User(u),
                OldAssignee::Group(g) => Assignee::Group(g),
            },
            service: self.service,
            category: self.category,
            tags: self.tags,
            requester: Requester {
                name: self.requester.name,
                email: self.requester.email,
                phone: self.requester.phone,
            },
            followers: self.followers,
            fields: self.fields,
            created: self.created,
            updated: self.updated,
            links: self
                .links
                .into_iter()
                .map(|n| (n, LinkKind::Relates))
                .collect(),
            minutes_spent: 0,
            approval: None,
            sla: Default::default(),
        }
    }
}

impl From<OldMailIn> for MailIn {
    /// With its whole text: the record keeps an excerpt of it.
    fn from(m: OldMailIn) -> Self {
        MailIn {
            message_id: m.message_id,
            from: m.from,
            subject: m.subject,
            text_size: m.text.len() as u64,
            text: m.text,
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

impl From<OldEvent> for Event {
    fn from(e: OldEvent) -> Self {
        let kind = match e.kind {
            OldEventKind::Created => EventKind::Created,
            OldEventKind::Changed { field, from, to } => EventKind::Changed { field, from, to },
            OldEventKind::Mail(m) => EventKind::Mail(m.into()),
            OldEventKind::Linked { number, reason } => EventKind::Linked { number, reason },
            OldEventKind::DeliveryProblem { reason, mail } => EventKind::DeliveryProblem {
                reason,
                mail: mail.into(),
            },
            OldEventKind::MailQueued {
                rule,
                kind,
                to,
                template,
            } => EventKind::MailQueued {
                rule,
                kind,
                to,
                template,
            },
            OldEventKind::ReusedMessageId { message_id, first } => {
                EventKind::ReusedMessageId { message_id, first }
            }
            OldEventKind::Unauthenticated { login, address } => {
                EventKind::Unauthenticated { login, address }
            }
            OldEventKind::CcNotFollowing { addresses } => EventKind::CcNotFollowing { addresses },
        };
        Event {
            at: e.at,
            actor: e.actor,
            kind,
        }
    }
}

impl From<OldCustomer> for Customer {
    fn from(c: OldCustomer) -> Self {
        Customer {
            email: c.email,
            name: c.name,
            first_seen: c.first_seen,
            last_seen: c.last_seen,
        }
    }
}

impl From<OldIgnoredMail> for IgnoredMail {
    fn from(i: OldIgnoredMail) -> Self {
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

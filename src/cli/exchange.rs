//! The shape of an export, read back by import: JSON tickets as `ticket show
//! --format json` prints them, each event with its exact `record` beside the
//! fields shown, so an import rebuilds the log the export read.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, bail, Context, Result};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ticket::view::{EventJson, TicketJson};
use crate::desk::export::Imported;
use crate::model::when::iso_utc;
use crate::model::{
    Approval, Assignee, Event, EventKind, LinkKind, Requester, Sla, TextRef, Ticket,
};

#[derive(Serialize)]
pub struct ExportTicket<'a> {
    #[serde(flatten)]
    ticket: TicketJson<'a>,
    /// Where the whole of a long description is in the mail store: `mail:HASH`
    /// or `text:HASH`.
    description_rest: Option<String>,
    /// When a pending approval was asked (the closing), which `show` does not print.
    approval_asked: Option<String>,
    /// When the service-level clock stopped (pending or closed), ISO 8601 UTC.
    paused_since: Option<String>,
    /// Seconds of business time the clock was stopped before `paused_since`.
    paused_seconds: i64,
    events: Vec<ExportEvent<'a>>,
}

#[derive(Serialize)]
struct ExportEvent<'a> {
    #[serde(flatten)]
    shown: EventJson<'a>,
    record: &'a EventKind,
    /// Bytes in a mail's whole text, of which `mail.text` may be the start.
    text_size: Option<u64>,
}

impl<'a> ExportTicket<'a> {
    pub fn new(ticket: &'a Ticket, events: &'a [Event]) -> Self {
        ExportTicket {
            ticket: TicketJson::new(ticket, None),
            description_rest: ticket.description_rest.as_ref().map(|r| match r {
                TextRef::Mail(hash) => format!("mail:{hash}"),
                TextRef::Text(hash) => format!("text:{hash}"),
            }),
            approval_asked: approval_asked(ticket),
            paused_since: ticket.sla.paused_since.map(iso_utc),
            paused_seconds: ticket.sla.paused,
            events: events
                .iter()
                .map(|e| ExportEvent {
                    shown: EventJson::new(e),
                    record: &e.kind,
                    text_size: mail_of(&e.kind).map(|m| m.text_size),
                })
                .collect(),
        }
    }
}

fn mail_of(kind: &EventKind) -> Option<&crate::model::MailIn> {
    match kind {
        EventKind::Mail(m)
        | EventKind::DeliveryProblem { mail: m, .. }
        | EventKind::Bounced { mail: m, .. } => Some(m),
        _ => None,
    }
}

/// A ticket as an export writes it; fields shown only (an event's `kind`, `text`)
/// are ignored.
#[derive(Deserialize)]
struct ImportTicket {
    number: u64,
    subject: String,
    description: String,
    status: String,
    priority: String,
    assignee: Option<String>,
    service: Option<String>,
    category: Option<String>,
    tags: BTreeSet<String>,
    requester: Requester,
    followers: BTreeSet<String>,
    fields: BTreeMap<String, String>,
    created: String,
    updated: String,
    links: BTreeSet<u64>,
    /// What each linked ticket is (absent: all `relates`).
    #[serde(default)]
    link_kinds: BTreeMap<u64, LinkKind>,
    #[serde(default)]
    minutes_spent: u64,
    /// `pending`, `approved`, `rejected`, or absent (never asked).
    #[serde(default)]
    approval: Option<String>,
    #[serde(default)]
    description_rest: Option<String>,
    /// When a pending approval was asked (absent: at `updated`, as older exports).
    #[serde(default)]
    approval_asked: Option<String>,
    /// Service levels (absent: none).
    #[serde(default)]
    response_due: Option<String>,
    #[serde(default)]
    resolution_due: Option<String>,
    #[serde(default)]
    first_response: Option<String>,
    #[serde(default)]
    paused_since: Option<String>,
    #[serde(default)]
    paused_seconds: i64,
    #[serde(default)]
    events: Vec<ImportEvent>,
}

#[derive(Deserialize)]
struct ImportEvent {
    at: String,
    actor: String,
    record: EventKind,
    #[serde(default)]
    text_size: Option<u64>,
}

/// The tickets of an export's JSON, each with the line it starts on, read one at
/// a time (and again for each pass of the import: see [`crate::desk::export::import`]).
pub struct JsonTickets<'a> {
    items: Vec<(&'a serde_json::value::RawValue, u64)>,
}

impl<'a> JsonTickets<'a> {
    /// Splits `text` into its tickets, unread.
    pub fn new(text: &'a str) -> Result<Self> {
        let raw: Vec<&serde_json::value::RawValue> =
            serde_json::from_str(text).context("not a JSON array of tickets")?;
        // Lines counted once, from one ticket to the next.
        let (mut line, mut counted) = (1u64, 0usize);
        let items = raw
            .into_iter()
            .map(|item| {
                let offset = (item.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                let offset = offset.clamp(counted, text.len());
                line += text.as_bytes()[counted..offset]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count() as u64;
                counted = offset;
                (item, line)
            })
            .collect();
        Ok(JsonTickets { items })
    }

    /// Each ticket, read.
    pub fn read(&self) -> impl Iterator<Item = Result<Imported>> + '_ {
        self.items.iter().map(|(raw, line)| {
            let line = *line;
            let ticket: ImportTicket =
                serde_json::from_str(raw.get()).map_err(|e| anyhow!("line {line}: {e}"))?;
            ticket
                .into_model(line)
                .with_context(|| format!("line {line}"))
        })
    }
}

impl ImportTicket {
    fn into_model(self, line: u64) -> Result<Imported> {
        let events = self
            .events
            .into_iter()
            .map(|e| {
                let mut kind = e.record;
                if let (Some(size), Some(m)) = (e.text_size, mail_mut(&mut kind)) {
                    m.text_size = size;
                }
                Ok(Event {
                    at: instant(&e.at).context("event at")?,
                    actor: e.actor,
                    kind,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ticket = Ticket {
            number: self.number,
            subject: self.subject,
            description: self.description,
            description_rest: self.description_rest.as_deref().map(text_ref).transpose()?,
            status: self.status.parse().map_err(|e: String| anyhow!(e))?,
            priority: self.priority.parse().map_err(|e: String| anyhow!(e))?,
            assignee: Assignee::parse(self.assignee.as_deref().unwrap_or("")),
            service: self.service,
            category: self.category,
            tags: self.tags,
            requester: self.requester,
            followers: self.followers,
            fields: self.fields,
            created: instant(&self.created).context("created")?,
            updated: instant(&self.updated).context("updated")?,
            links: self
                .links
                .into_iter()
                .map(|n| (n, self.link_kinds.get(&n).copied().unwrap_or_default()))
                .collect(),
            minutes_spent: self.minutes_spent,
            approval: self
                .approval
                .as_deref()
                .map(|a| approval(a, self.approval_asked.as_deref(), &self.updated))
                .transpose()?,
            sla: Sla {
                response_due: optional_instant(&self.response_due).context("response_due")?,
                resolution_due: optional_instant(&self.resolution_due).context("resolution_due")?,
                first_response: optional_instant(&self.first_response).context("first_response")?,
                paused_since: optional_instant(&self.paused_since).context("paused_since")?,
                paused: self.paused_seconds,
            },
        };
        Ok(Imported {
            ticket,
            events,
            line,
        })
    }
}

/// When a pending approval was asked, as export writes it; None for any other.
pub fn approval_asked(ticket: &Ticket) -> Option<String> {
    match ticket.approval {
        Some(Approval::Pending { since }) => Some(crate::model::when::iso_utc(since)),
        _ => None,
    }
}

/// An approval as `show` prints it, with when a pending one was asked
/// (`approval_asked`); without that (an older export), at the ticket's last update.
pub(super) fn approval(state: &str, asked: Option<&str>, updated: &str) -> Result<Approval> {
    Ok(match state {
        "pending" => Approval::Pending {
            since: match asked {
                Some(asked) => instant(asked).context("approval_asked")?,
                None => instant(updated).context("updated")?,
            },
        },
        "approved" => Approval::Approved,
        "rejected" => Approval::Rejected,
        other => bail!("approval: unknown '{other}' (expected pending, approved or rejected)"),
    })
}

fn mail_mut(kind: &mut EventKind) -> Option<&mut crate::model::MailIn> {
    match kind {
        EventKind::Mail(m)
        | EventKind::DeliveryProblem { mail: m, .. }
        | EventKind::Bounced { mail: m, .. } => Some(m),
        _ => None,
    }
}

/// An ISO 8601 time as export writes it.
pub fn instant(text: &str) -> Result<i64> {
    let at: Timestamp = text
        .parse()
        .map_err(|_| anyhow!("'{text}' is not a time such as 2026-11-24T21:12:53Z"))?;
    Ok(at.as_second())
}

/// An ISO 8601 time or nothing.
pub fn optional_instant(text: &Option<String>) -> Result<Option<i64>> {
    text.as_deref().map(instant).transpose()
}

fn text_ref(text: &str) -> Result<TextRef> {
    match text.split_once(':') {
        Some(("mail", hash)) => Ok(TextRef::Mail(hash.to_string())),
        Some(("text", hash)) => Ok(TextRef::Text(hash.to_string())),
        _ => Err(anyhow!(
            "description_rest '{text}' is neither mail:HASH nor text:HASH"
        )),
    }
}

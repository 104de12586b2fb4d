//! How a ticket looks in JSON, CSV and tables. JSON and CSV names are an interface: keep them.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::desk::now;
use crate::model::time_spent::format_minutes;
use crate::model::when::{iso_utc, local_short};
use crate::model::{Event, EventKind, LinkKind, MailIn, Status, Ticket};

/// A ticket as JSON.
#[derive(Serialize)]
pub struct TicketJson<'a> {
    pub number: u64,
    pub subject: &'a str,
    pub description: &'a str,
    pub status: &'static str,
    pub priority: &'static str,
    /// `alice`, `@group` or null.
    pub assignee: Option<String>,
    pub service: Option<&'a str>,
    pub category: Option<&'a str>,
    pub tags: &'a BTreeSet<String>,
    pub requester: RequesterJson<'a>,
    pub followers: &'a BTreeSet<String>,
    pub fields: &'a BTreeMap<String, String>,
    pub created: String,
    pub updated: String,
    /// The linked tickets' numbers (as before kinds existed).
    pub links: Vec<u64>,
    /// What each linked ticket is to this one: `relates`, `duplicates`, `parent`, `child`.
    pub link_kinds: &'a BTreeMap<u64, LinkKind>,
    /// The sum of the `time-spent` events.
    pub minutes_spent: u64,
    /// The requester's approval of the closing: `pending`, `approved`, `rejected`
    /// or null (never asked).
    pub approval: Option<&'static str>,
    /// Service levels: when the first response and the resolution are due, and
    /// when the first response came; null when none.
    pub response_due: Option<String>,
    pub resolution_due: Option<String>,
    pub first_response: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventJson<'a>>>,
}

#[derive(Serialize)]
pub struct RequesterJson<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// One activity-log entry as JSON.
#[derive(Serialize)]
pub struct EventJson<'a> {
    pub at: String,
    pub actor: &'a str,
    pub kind: &'static str,
    pub field: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub text: String,
    /// The message, for `mail` and `agent-mail` events.
    pub mail: Option<&'a MailIn>,
    /// The other ticket, for `linked`, `link-added` and `link-removed` events.
    pub link: Option<u64>,
    /// What the other ticket is (or was) to this one, for `link-added` and `link-removed`.
    pub link_kind: Option<LinkKind>,
    /// For `time-spent` events: `{minutes, billable, date, note}`.
    pub time_spent: Option<TimeSpentJson<'a>>,
    /// For `bounced` events: `{recipient, action, status, diagnostic, outbox_id,
    /// permanent}`.
    pub bounce: Option<&'a crate::model::Bounce>,
    /// What a person wrote with the event: a `comment`, the comment of `assigned`,
    /// the question of `info-requested`.
    pub comment: Option<&'a str>,
}

/// A `time-spent` event's entry as JSON.
#[derive(Serialize)]
pub struct TimeSpentJson<'a> {
    pub minutes: u64,
    pub billable: bool,
    /// The day it was spent, `YYYY-MM-DD`.
    pub date: &'a str,
    pub note: &'a str,
}

impl<'a> TicketJson<'a> {
    pub fn new(t: &'a Ticket, events: Option<&'a [Event]>) -> Self {
        TicketJson {
            number: t.number,
            subject: &t.subject,
            description: &t.description,
            status: t.status.as_str(),
            priority: t.priority.as_str(),
            assignee: t.assignee.label(),
            service: t.service.as_deref(),
            category: t.category.as_deref(),
            tags: &t.tags,
            requester: RequesterJson {
                name: t.requester.name.as_deref(),
                email: t.requester.email.as_deref(),
                phone: t.requester.phone.as_deref(),
            },
            followers: &t.followers,
            fields: &t.fields,
            created: iso_utc(t.created),
            updated: iso_utc(t.updated),
            links: t.links.keys().copied().collect(),
            link_kinds: &t.links,
            minutes_spent: t.minutes_spent,
            approval: t.approval.map(|a| a.as_str()),
            response_due: t.sla.response_due.map(iso_utc),
            resolution_due: t.sla.resolution_due.map(iso_utc),
            first_response: t.sla.first_response.map(iso_utc),
            events: events.map(|evs| evs.iter().map(EventJson::new).collect()),
        }
    }
}

impl<'a> EventJson<'a> {
    pub fn new(e: &'a Event) -> Self {
        let (field, from, to) = match &e.kind {
            EventKind::Changed { field, from, to } => {
                (Some(field.as_str()), Some(from.as_str()), Some(to.as_str()))
            }
            EventKind::Assigned { from, to, .. } => {
                (Some("assignee"), Some(from.as_str()), Some(to.as_str()))
            }
            EventKind::Transferred { from, to, .. } => {
                (Some("service"), Some(from.as_str()), Some(to.as_str()))
            }
            EventKind::Followed { who, .. } => (Some("followers"), None, Some(who.as_str())),
            EventKind::Unfollowed { who } => (Some("followers"), Some(who.as_str()), None),
            _ => (None, None, None),
        };
        let mail = match &e.kind {
            EventKind::Mail(m)
            | EventKind::DeliveryProblem { mail: m, .. }
            | EventKind::Bounced { mail: m, .. } => Some(m),
            _ => None,
        };
        let (link, link_kind) = match &e.kind {
            EventKind::Linked { number, .. } => (Some(*number), None),
            EventKind::LinkAdded { number, kind } | EventKind::LinkRemoved { number, kind } => {
                (Some(*number), Some(*kind))
            }
            _ => (None, None),
        };
        EventJson {
            at: iso_utc(e.at),
            actor: &e.actor,
            kind: e.kind.name(),
            field,
            from,
            to,
            text: e.kind.describe(),
            mail,
            link,
            link_kind,
            time_spent: match &e.kind {
                EventKind::TimeSpent {
                    minutes,
                    billable,
                    note,
                    date,
                } => Some(TimeSpentJson {
                    minutes: *minutes,
                    billable: *billable,
                    date,
                    note,
                }),
                _ => None,
            },
            bounce: match &e.kind {
                EventKind::Bounced { bounce, .. } => Some(bounce.as_ref()),
                _ => None,
            },
            comment: e.kind.comment(),
        }
    }
}

/// Columns of `ticket list` when `--columns` is not given.
pub const DEFAULT_COLUMNS: &[&str] = &[
    "number",
    "status",
    "priority",
    "assignee",
    "service",
    "requester",
    "subject",
    "updated",
];

/// Columns `ticket list --columns` knows besides [`ALL_COLUMNS`]: `time`, the time
/// spent (`1h30m`; minutes in CSV), and `due`, the next due time of the service
/// levels (`Ticket::next_due`; `(overdue)` after it in a table once passed,
/// `paused` for a pending ticket with due times).
pub const LIST_COLUMNS: &[&str] = &["time", "due"];

/// Every built-in column, in the order `ticket show --format csv` prints them.
pub const ALL_COLUMNS: &[&str] = &[
    "number",
    "subject",
    "status",
    "priority",
    "assignee",
    "service",
    "category",
    "tags",
    "requester",
    "requester_name",
    "requester_email",
    "requester_phone",
    "followers",
    "created",
    "updated",
    "description",
    "approval",
    "response_due",
    "resolution_due",
    "first_response",
];

/// Checks `--columns`: built-in names, or `field.NAME` for a custom field.
pub fn parse_columns(spec: &str) -> Result<Vec<String>> {
    let mut columns = Vec::new();
    for name in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !ALL_COLUMNS.contains(&name)
            && !LIST_COLUMNS.contains(&name)
            && !name.starts_with("field.")
        {
            bail!(
                "--columns: unknown column '{name}' (known: {}, {}, field.NAME)",
                ALL_COLUMNS.join(", "),
                LIST_COLUMNS.join(", ")
            );
        }
        columns.push(name.to_string());
    }
    if columns.is_empty() {
        bail!("--columns: no columns given");
    }
    Ok(columns)
}

/// A due time: in a table, `(breached)` after it once passed (or answered late).
fn due_cell(due: Option<i64>, breached: bool, tz: Option<&TimeZone>) -> String {
    match (due, tz) {
        (None, _) => String::new(),
        (Some(due), None) => iso_utc(due),
        (Some(due), Some(tz)) if breached => format!("{} (breached)", local_short(due, tz)),
        (Some(due), Some(tz)) => local_short(due, tz),
    }
}

/// One cell. Times are ISO 8601 UTC for CSV, local and short for tables (`tz` set).
pub fn cell(t: &Ticket, column: &str, tz: Option<&TimeZone>) -> String {
    let time = |s: i64| match tz {
        Some(tz) => local_short(s, tz),
        None => iso_utc(s),
    };
    let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(" ");
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match column {
        "number" => t.number.to_string(),
        "subject" => t.subject.clone(),
        "status" => t.status.to_string(),
        "priority" => t.priority.to_string(),
        "assignee" => t.assignee.label().unwrap_or_default(),
        "service" => match (&t.service, &t.category, tz) {
            (Some(s), Some(c), Some(_)) => format!("{s}/{c}"),
            _ => opt(&t.service),
        },
        "category" => opt(&t.category),
        "tags" => join(&t.tags),
        "requester" => t.requester.display(),
        "requester_name" => opt(&t.requester.name),
        "requester_email" => opt(&t.requester.email),
        "requester_phone" => opt(&t.requester.phone),
        "followers" => join(&t.followers),
        "created" => time(t.created),
        "updated" => time(t.updated),
        "description" => t.description.clone(),
        "time" if tz.is_none() => t.minutes_spent.to_string(),
        "time" => format_minutes(t.minutes_spent),
        "due" => match (t.next_due(), tz) {
            (None, Some(_))
                if t.status == Status::Pending
                    && t.sla.resolution_due.or(t.sla.response_due).is_some() =>
            {
                "paused".into()
            }
            (None, _) => String::new(),
            (Some(due), Some(_)) if t.overdue(now()) => format!("{} (overdue)", time(due)),
            (Some(due), _) => time(due),
        },
        "response_due" => due_cell(t.sla.response_due, t.response_breached(now()), tz),
        "resolution_due" => due_cell(t.sla.resolution_due, t.resolution_breached(now()), tz),
        "first_response" => t.sla.first_response.map(time).unwrap_or_default(),
        "approval" => t
            .approval
            .map(|a| a.as_str())
            .unwrap_or_default()
            .to_string(),
        other => other
            .strip_prefix("field.")
            .and_then(|f| t.fields.get(f))
            .cloned()
            .unwrap_or_default(),
    }
}

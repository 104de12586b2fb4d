//! What a template sees: a serde value built from the model and the config, and
//! nothing else. Values are data: handlebars never compiles them, so `{{` in a
//! stranger's subject stays literal.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use serde::Serialize;

use crate::config::Config;
use crate::model::{Event, Ticket};

/// How many of the ticket's last events a template sees.
pub const EVENTS: usize = 10;
/// How many linked tickets a template sees (a ticket strangers keep linking to
/// must not make a loop over them costly).
pub const LINKS: usize = 50;

/// The variables of every template (README, "Templates", lists them).
#[derive(Clone, Debug, Serialize)]
pub struct Context {
    pub ticket: TicketView,
    /// The last [`EVENTS`] entries of the activity log, oldest first.
    pub events: Vec<EventView>,
    /// Who caused the mail.
    pub actor: Actor,
    /// Who the mail goes to.
    pub recipient: Person,
    /// The ticket's service (all empty when it has none).
    pub service: ServiceView,
    /// Linked tickets, by number.
    pub links: Vec<LinkView>,
    /// The text of the reply, comment or invitation that caused the mail; may be empty.
    pub message: String,
    pub desk: DeskView,
    /// `ticket.tag`, for the templates `init` wrote before issue 20.
    pub tag: String,
    /// `ticket.requester`, for the templates `init` wrote before issue 20.
    pub requester: Person,
}

#[derive(Clone, Debug, Serialize)]
pub struct TicketView {
    pub number: u64,
    /// `[#42]`: `[`, `settings.subject_prefix`, the number, `]`.
    pub tag: String,
    pub subject: String,
    pub status: String,
    pub priority: String,
    /// `alice`, `@group`, or empty.
    pub assignee: String,
    pub service: String,
    pub category: String,
    pub tags: Vec<String>,
    pub requester: Person,
    pub followers: Vec<String>,
    /// Every custom field of the config, empty when the ticket has no value.
    pub fields: BTreeMap<String, String>,
    /// Local time text: `2026-11-24 22:12 CET`.
    pub created: String,
    pub updated: String,
    pub description: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Person {
    pub name: String,
    pub email: String,
    /// `Name <email>`, or whichever part is known, or empty.
    pub display: String,
}

impl Person {
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Person {
        let (name, email) = (name.into(), email.into());
        let display = match (name.is_empty(), email.is_empty()) {
            (false, false) => format!("{name} <{email}>"),
            (false, true) => name.clone(),
            (true, _) => email.clone(),
        };
        Person {
            name,
            email,
            display,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Actor {
    /// A login of the config, or a system name (`ingest`, `rule 'NAME'`).
    pub login: String,
    /// The user's name, else the login.
    pub name: String,
    /// The user's address, else empty.
    pub email: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct EventView {
    /// Local time text, as `ticket.created`.
    pub at: String,
    pub actor: String,
    /// The event's machine name (`mail`, `assigned`, ...), as in JSON.
    pub kind: String,
    /// One line saying what happened, as `ticket show` has it: never the text of
    /// an internal comment.
    pub text: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ServiceView {
    pub name: String,
    pub description: String,
    /// The service's first address, else empty.
    pub address: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkView {
    pub number: u64,
    /// What the other ticket is to this one: relates, duplicates, parent, child.
    pub kind: String,
    /// Empty when the linked ticket could not be read.
    pub subject: String,
    pub status: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DeskView {
    pub subject_prefix: String,
    /// Days a requester has to approve or reject a closing (`settings.approval_days`).
    pub approval_days: u32,
}

/// What a context is built from, besides the config.
pub struct Parts<'a> {
    pub ticket: &'a Ticket,
    /// The ticket's activity log (all of it or its end), in append order.
    pub events: &'a [Event],
    /// The linked tickets that could be read (others show with an empty subject).
    pub linked: &'a [Ticket],
    /// The login (or system name) of who caused the mail.
    pub actor: &'a str,
    pub recipient: Person,
    /// The reply, comment or invitation text; empty for none.
    pub message: &'a str,
}

/// The subject tag of ticket `number`: `[#42]`.
pub fn tag(config: &Config, number: u64) -> String {
    format!("[{}{number}]", config.settings.subject_prefix)
}

/// Local time text for a template: `2026-11-24 22:12 UTC`.
pub fn local_time(seconds: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// The actor as the config knows them.
pub fn actor(config: &Config, login: &str) -> Actor {
    match config.user(login) {
        Some(u) => Actor {
            login: u.login.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
        },
        None => Actor {
            login: login.to_string(),
            name: login.to_string(),
            email: String::new(),
        },
    }
}

/// A recipient by address: named as the ticket's requester or a user of the
/// config when the address is theirs, else with an empty name.
pub fn recipient(config: &Config, ticket: &Ticket, email: &str) -> Person {
    let name = if ticket
        .requester
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(email))
    {
        ticket.requester.name.clone().unwrap_or_default()
    } else {
        config
            .user_by_email(email)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    Person::new(name, email)
}

/// The context of a mail about `parts.ticket`.
pub fn build(config: &Config, tz: &TimeZone, parts: Parts<'_>) -> Context {
    let t = parts.ticket;
    let requester = Person::new(
        t.requester.name.clone().unwrap_or_default(),
        t.requester.email.clone().unwrap_or_default(),
    );
    let mut fields: BTreeMap<String, String> = config
        .fields
        .iter()
        .map(|f| (f.name.clone(), String::new()))
        .collect();
    fields.extend(t.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    let ticket = TicketView {
        number: t.number,
        tag: tag(config, t.number),
        subject: t.subject.clone(),
        status: t.status.to_string(),
        priority: t.priority.to_string(),
        assignee: t.assignee.label().unwrap_or_default(),
        service: t.service.clone().unwrap_or_default(),
        category: t.category.clone().unwrap_or_default(),
        tags: t.tags.iter().cloned().collect(),
        requester: requester.clone(),
        followers: t.followers.iter().cloned().collect(),
        fields,
        created: local_time(t.created, tz),
        updated: local_time(t.updated, tz),
        description: t.description.clone(),
    };
    let skip = parts.events.len().saturating_sub(EVENTS);
    let events = parts.events[skip..]
        .iter()
        .map(|e| EventView {
            at: local_time(e.at, tz),
            actor: e.actor.clone(),
            kind: e.kind.name().to_string(),
            text: e.kind.describe(),
        })
        .collect();
    let service = t
        .service
        .as_deref()
        .and_then(|s| config.service(s))
        .map(|s| ServiceView {
            name: s.name.clone(),
            description: s.description.clone().unwrap_or_default(),
            address: s.addresses.first().cloned().unwrap_or_default(),
        })
        .unwrap_or_default();
    let links = t
        .links
        .iter()
        .take(LINKS)
        .map(|(number, kind)| {
            let other = parts.linked.iter().find(|o| o.number == *number);
            LinkView {
                number: *number,
                kind: kind.to_string(),
                subject: other.map(|o| o.subject.clone()).unwrap_or_default(),
                status: other.map(|o| o.status.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    Context {
        tag: ticket.tag.clone(),
        requester,
        ticket,
        events,
        actor: actor(config, parts.actor),
        recipient: parts.recipient,
        service,
        links,
        message: parts.message.to_string(),
        desk: DeskView {
            subject_prefix: config.settings.subject_prefix.clone(),
            approval_days: config.settings.approval_days,
        },
    }
}

/// Contexts that `template check` renders every template with: [`sample`], and
/// the same ticket with everything optional empty, so that both sides of an
/// `{{#if}}` on a value are rendered once.
pub fn samples(config: &Config) -> [Context; 2] {
    let full = sample(config);
    let mut sparse = full.clone();
    let t = &mut sparse.ticket;
    t.assignee.clear();
    t.category.clear();
    t.service.clear();
    t.tags.clear();
    t.followers.clear();
    t.description.clear();
    t.requester = Person::default();
    t.fields.values_mut().for_each(String::clear);
    sparse.requester = Person::default();
    sparse.recipient = Person::default();
    sparse.service = ServiceView::default();
    sparse.links.clear();
    sparse.message.clear();
    sparse.actor.email.clear();
    [full, sparse]
}

/// A context with every list holding one item, every custom field and every
/// optional value set, so that `template check` reaches the variables inside
/// `{{#each}}` and `{{#if}}`.
pub fn sample(config: &Config) -> Context {
    use crate::model::{EventKind, LinkKind};
    let service = config
        .default_service()
        .or(config.services.first())
        .map(|s| s.name.clone());
    let mut ticket = Ticket::new(42, "Printer on floor 2 is jammed", 1_764_000_000);
    ticket.description = "It makes a grinding noise since this morning.".into();
    let category = service
        .as_deref()
        .and_then(|s| config.service(s))
        .and_then(|s| s.categories.first())
        .map(|c| c.name.clone());
    ticket.service = service;
    ticket.category = Some(category.unwrap_or_else(|| "hardware".into()));
    ticket.assignee = crate::model::Assignee::User("agent".into());
    ticket.tags.insert("hardware".into());
    ticket.followers.insert("colleague@example.com".into());
    ticket.requester.name = Some("Robin Requester".into());
    ticket.requester.email = Some("robin@example.com".into());
    ticket.links.insert(7, LinkKind::Relates);
    for f in &config.fields {
        ticket.fields.insert(f.name.clone(), "sample".into());
    }
    let mut other = Ticket::new(7, "Printer on floor 3", 1_763_000_000);
    other.status = crate::model::Status::Closed;
    let events = [Event {
        at: 1_764_000_000,
        actor: "ingest".into(),
        kind: EventKind::Created,
    }];
    let actor = config
        .users
        .first()
        .map(|u| u.login.clone())
        .unwrap_or_else(|| "agent".into());
    build(
        config,
        &TimeZone::UTC,
        Parts {
            ticket: &ticket,
            events: &events,
            linked: &[other],
            actor: &actor,
            recipient: Person::new("Robin Requester", "robin@example.com"),
            message: "Thank you, it works again.",
        },
    )
}

//! Ticket use cases: create, edit, list, show.

use std::collections::BTreeSet;

use anyhow::{bail, Context, Result};

use super::close::approval_after_move;
use super::roles::{self, Action};
use super::workflow::{check_close, status_event, update_ticket, Change};
use super::{fields, now, Desk};
use crate::config::{Config, Service, View};
use crate::mail::parse::{attachment_bytes, single_address};
use crate::model::choices::or_list;
use crate::model::filter::{compare, statuses_named, SortField, SortKey};
use crate::model::ticket::{changes, words};
use crate::model::when::parse_instant;
use crate::model::{
    Assignee, Attachment, Event, EventKind, LinkKind, Priority, Requester, Status, TextRef, Ticket,
    TicketFilter,
};
use crate::rules::RuleEvent;
use crate::store::{Reader, Writer};

/// The fields `ticket create` and `ticket edit` set; None (or empty) leaves a field
/// alone, on create to the service's defaults.
#[derive(Debug, Default)]
pub struct TicketPatch {
    pub subject: Option<String>,
    pub description: Option<String>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<String>,
    pub service: Option<String>,
    /// Some("") clears the category.
    pub category: Option<String>,
    /// `+tag` adds, `-tag` removes, a bare tag adds.
    pub tags: Vec<String>,
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub requester_phone: Option<String>,
    /// `+addr` / `addr` adds, `-addr` removes.
    pub followers: Vec<String>,
    /// `key=value`; an empty value removes the field.
    pub fields: Vec<String>,
}

/// Creates a ticket in one transaction and flushes it: the service's defaults (and
/// its category's template), then the patch, as an edit would apply it.
///
/// With `parent`, the new ticket is its sub-ticket: both link in the same write.
pub fn create(desk: &Desk, patch: TicketPatch, parent: Option<u64>) -> Result<Ticket> {
    let actor = desk.actor()?.to_string();
    let service = match &patch.service {
        Some(name) => Some(find_service(desk, name).context("--service")?),
        None => desk.config.default_service(),
    };
    let template = match (patch.category.as_deref().filter(|c| !c.is_empty()), service) {
        (Some(category), Some(service)) => find_category(service, category)
            .context("--category")?
            .template
            .as_ref(),
        (Some(category), None) => {
            bail!("category '{category}' needs a service, and none is configured")
        }
        _ => None,
    };
    let at = now();
    let mut ticket = Ticket {
        number: 0,
        subject: template.and_then(|t| t.subject.clone()).unwrap_or_default(),
        description: String::new(),
        description_rest: None,
        status: Status::Open,
        priority: Priority::Medium,
        assignee: Assignee::Nobody,
        service: service.map(|s| s.name.clone()),
        category: None,
        tags: Default::default(),
        requester: Requester::default(),
        followers: service
            .map(|s| s.guests.iter().cloned().collect())
            .unwrap_or_default(),
        fields: Default::default(),
        created: at,
        updated: at,
        links: Default::default(),
        minutes_spent: 0,
        approval: None,
        sla: Default::default(),
    };
    let message = template.and_then(|t| t.message.as_deref());
    if let Some(message) = message {
        set_description(&mut ticket, message);
    }
    keep_whole(desk, patch.description.as_deref().or(message))?;
    if patch.assignee.is_none() {
        if let Some(spec) = service.and_then(|s| s.default_assignee.as_deref()) {
            ticket.assignee = checked_assignee(desk, spec)?;
        }
    }
    apply_patch(desk, &patch, &mut ticket)?;
    if ticket.subject.trim().is_empty() {
        bail!("a ticket needs a subject: give --subject, or a --category whose template has one");
    }
    let (rule_events, _) = desk.apply_rules(&[RuleEvent::Created], None, false, &mut ticket)?;
    desk.follow_sla(None, &mut ticket, at);
    let (number, mail) = desk.write(|tx| {
        let number = tx.next_number()?;
        let mut t = ticket.clone();
        t.number = number;
        if let Some(parent) = parent {
            let mut p = tx
                .ticket_for_update(parent)?
                .with_context(|| format!("--parent: ticket #{parent} not found"))?;
            roles::check(&desk.config, &actor, Action::Link, &p)?;
            super::links::link_other_side(tx, desk, &mut p, number, LinkKind::Child, &actor, at)?;
            t.links.insert(parent, LinkKind::Parent);
        }
        tx.save_ticket(&t)?;
        queue_description_words(tx, &t, patch.description.as_deref().or(message))?;
        let mine =
            std::iter::once(EventKind::Created).chain(parent.map(|number| EventKind::LinkAdded {
                number,
                kind: LinkKind::Parent,
            }));
        for kind in mine {
            let event = Event {
                at,
                actor: actor.clone(),
                kind,
            };
            tx.append_event(number, &event)?;
        }
        let (rule_events, mut mail) =
            super::notify::rule_mail(desk, tx, &t, &actor, rule_events.clone(), None)?;
        tx.append_entries(number, at, &rule_events)?;
        let events: Vec<Event> = std::iter::once(EventKind::Created)
            .map(|kind| Event {
                at,
                actor: actor.clone(),
                kind,
            })
            .collect();
        mail.extend(super::notify::on_change(
            desk, tx, None, &t, &events, &actor,
        )?);
        Ok((number, mail))
    })?;
    ticket.number = number;
    // A transport that cannot send now leaves the mail queued (`outbox list`).
    let _ = super::notify::send_after(desk, &mail);
    ticket.links.extend(parent.map(|p| (p, LinkKind::Parent)));
    Ok(ticket)
}

/// Applies an edit; returns the ticket and how many events it wrote (0: nothing).
///
/// It goes through [`update_ticket`]: the ticket is read inside the write and the
/// edit applied to that copy, so an edit never writes back a ticket another writer
/// changed meanwhile.
///
/// Closing a ticket with open sub-tickets needs `force`.
pub fn edit(desk: &Desk, number: u64, patch: TicketPatch, force: bool) -> Result<(Ticket, usize)> {
    keep_whole(desk, patch.description.as_deref())?;
    let done = update_ticket(
        desk,
        number,
        &Edit {
            desk,
            patch: &patch,
            force,
        },
    )?;
    Ok((done.ticket, done.events.len()))
}

/// `ticket edit`: any field, by the managers and agents of the ticket's service.
struct Edit<'a> {
    desk: &'a Desk,
    patch: &'a TicketPatch,
    force: bool,
}

impl Change for Edit<'_> {
    fn action(&self, _: &Ticket) -> Action {
        Action::Edit
    }

    /// `updated`, then `closed` or `reopened` when `--status` closed or reopened it.
    fn rule_events(&self, before: &Ticket, after: &Ticket) -> Vec<RuleEvent> {
        std::iter::once(RuleEvent::Updated)
            .chain(status_event(before, after))
            .collect()
    }

    fn apply(&self, tx: &dyn Writer, actor: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        let old = t.clone();
        apply_patch(self.desk, self.patch, t)?;
        if t.service != old.service {
            // Moving a ticket is the managers' call, whoever may edit it.
            roles::check(&self.desk.config, actor, Action::Transfer, &old).map_err(|e| {
                anyhow::anyhow!("--service: {e}; a ticket moves with `ticket transfer`")
            })?;
        }
        if t.status != old.status {
            // The same closing as `ticket close`: checked, and approval asked.
            if t.status == Status::Closed {
                check_close(tx, &old, self.force)?;
            }
            t.approval = approval_after_move(t.status);
        }
        if t.description_rest != old.description_rest {
            queue_description_words(tx, t, self.patch.description.as_deref())?;
        }
        Ok(changes(&old, t))
    }
}

/// The changes of a patch, checked against the config, made to `t`.
fn apply_patch(desk: &Desk, edit: &TicketPatch, t: &mut Ticket) -> Result<()> {
    if let Some(s) = &edit.subject {
        if s.trim().is_empty() {
            bail!("the subject cannot be empty");
        }
        t.subject = s.trim().to_string();
    }
    if let Some(d) = &edit.description {
        set_description(t, d);
    }
    if let Some(s) = edit.status {
        t.status = s;
    }
    if let Some(p) = edit.priority {
        t.priority = p;
    }
    if let Some(a) = &edit.assignee {
        t.assignee = assignee_named(desk, a).context("--assignee")?;
    }
    if let Some(s) = &edit.service {
        find_service(desk, s).context("--service")?;
        if *s != t.service.clone().unwrap_or_default() && edit.category.is_none() {
            t.category = None;
        }
        t.service = Some(s.clone());
    }
    if let Some(c) = &edit.category {
        if c.is_empty() {
            t.category = None;
        } else {
            let service = t.service.as_deref().context("a category needs a service")?;
            find_category(find_service(desk, service)?, c).context("--category")?;
            t.category = Some(c.clone());
        }
    }
    apply_set_edits(&mut t.tags, &edit.tags);
    apply_set_edits(&mut t.followers, &checked_followers(desk, &edit.followers)?);
    let blank = |v: &String| if v.is_empty() { None } else { Some(v.clone()) };
    if let Some(v) = &edit.requester_name {
        t.requester.name = blank(v);
    }
    if let Some(v) = &edit.requester_email {
        t.requester.email = match v.as_str() {
            "" => None,
            typed => Some(single_address(typed).with_context(|| {
                format!(
                    "--requester-email '{typed}' is not an e-mail address: give one as name@domain"
                )
            })?),
        };
    }
    if let Some(v) = &edit.requester_phone {
        t.requester.phone = blank(v);
    }
    for assignment in &edit.fields {
        let (key, value) = fields::split_assignment(assignment)?;
        if value.is_empty() {
            fields::definition(&desk.config, key)?;
            t.fields.remove(key);
        } else {
            t.fields.insert(
                key.to_string(),
                fields::normalise(&desk.config, key, value)?,
            );
        }
    }
    Ok(())
}

/// Sets a ticket's description: the record keeps the start of a long one, which
/// [`keep_whole`] put in the mail store before the write.
fn set_description(t: &mut Ticket, text: &str) {
    t.set_description(text, || {
        TextRef::Text(crate::mail::parse::hash_hex(text.as_bytes()))
    });
}

/// Puts a description too long for a record whole into the mail store, before the
/// write that refers to it (a write's closure may run more than once; a text kept
/// for a write that then fails is only unused).
fn keep_whole(desk: &Desk, text: Option<&str>) -> Result<()> {
    match text {
        Some(text) if text.len() > crate::model::text::DESCRIPTION_KEPT => {
            let hash = crate::mail::parse::hash_hex(text.as_bytes());
            desk.storage.mail().put_all(&[(&hash, text.as_bytes())])
        }
        _ => Ok(()),
    }
}

/// Past the part the record keeps, a long description's words are searchable as a
/// mail's are.
fn queue_description_words(tx: &dyn Writer, t: &Ticket, given: Option<&str>) -> Result<()> {
    match (&t.description_rest, given) {
        (Some(TextRef::Text(_)), Some(text)) => {
            let rest = text.strip_prefix(t.description.as_str());
            tx.queue_message_words(t.number, rest.unwrap_or(text))
        }
        _ => Ok(()),
    }
}

/// A ticket and its activity log, as stored: a long description and mail texts
/// are only their start.
fn stored(desk: &Desk, number: u64) -> Result<(Ticket, Vec<Event>)> {
    desk.storage
        .read(|store| Ok((load(store, number)?, store.events(number)?)))
}

/// A ticket, its whole description, and its activity log: with `whole_mail`, every
/// mail's whole text, else the start that the log keeps of a long one (read whole
/// from the mail store, a text costs a parse of its message).
pub fn show(desk: &Desk, number: u64, whole_mail: bool) -> Result<(Ticket, Vec<Event>)> {
    let (mut ticket, mut events) = stored(desk, number)?;
    desk.settle_approval(&mut ticket);
    if let Some(rest) = &ticket.description_rest {
        ticket.description = whole_text(desk, rest).unwrap_or_else(|e| {
            format!(
                "{}\n[postdesk: the rest of the description cannot be read: {e:#}]",
                ticket.description
            )
        });
    }
    if whole_mail {
        for event in &mut events {
            if let EventKind::Mail(m)
            | EventKind::DeliveryProblem { mail: m, .. }
            | EventKind::Bounced { mail: m, .. } = &mut event.kind
            {
                if m.is_cut() {
                    match whole_text(desk, &TextRef::Mail(m.hash.clone())) {
                        Ok(text) => m.text = text,
                        Err(e) => m.text.push_str(&format!(
                            "\n[postdesk: the rest of this mail cannot be read: {e:#}]"
                        )),
                    }
                    m.text_size = m.text.len() as u64;
                }
            }
        }
    }
    Ok((ticket, events))
}

/// A text kept whole in the mail store: as it was stored, or a message's text as
/// intake reads it.
fn whole_text(desk: &Desk, at: &TextRef) -> Result<String> {
    match at {
        TextRef::Text(hash) => {
            let bytes = desk.storage.mail().get(hash)?;
            String::from_utf8(bytes).with_context(|| format!("text {hash} is not UTF-8"))
        }
        TextRef::Mail(hash) => {
            let raw = desk.storage.mail().get(hash)?;
            let parsed = crate::mail::parse::parse(&raw)
                .with_context(|| format!("message {hash} no longer parses"))?;
            Ok(parsed.text)
        }
    }
}

/// Every attachment of a ticket's mail, in the order of its log: attachment `id`
/// (from 1) of [`attachment`] is entry `id - 1`.
pub fn attachments(desk: &Desk, number: u64) -> Result<Vec<Attachment>> {
    Ok(located_attachments(desk, number)?
        .into_iter()
        .map(|(_, _, a)| a)
        .collect())
}

/// Attachment `id` (from 1) of a ticket, and its decoded bytes from the mail store.
pub fn attachment(desk: &Desk, number: u64, id: usize) -> Result<(Attachment, Vec<u8>)> {
    let all = located_attachments(desk, number)?;
    let Some((hash, index, attachment)) = id.checked_sub(1).and_then(|i| all.get(i)) else {
        bail!(
            "ticket #{number} has no attachment {id} (it has {})",
            all.len()
        );
    };
    let raw = desk.storage.mail().get(hash)?;
    let bytes = attachment_bytes(&raw, *index)
        .with_context(|| format!("ticket #{number}, attachment {id}"))?;
    Ok((attachment.clone(), bytes))
}

/// (hash of the message, index in the message, attachment) for each attachment.
fn located_attachments(desk: &Desk, number: u64) -> Result<Vec<(String, usize, Attachment)>> {
    let (_, events) = stored(desk, number)?;
    let mut all = Vec::new();
    for e in events {
        if let EventKind::Mail(m) = e.kind {
            for (i, a) in m.attachments.into_iter().enumerate() {
                all.push((m.hash.clone(), i, a));
            }
        }
    }
    Ok(all)
}

/// Tickets matching a view (saved or from flags), sorted and limited.
pub fn list(desk: &Desk, view: &View) -> Result<Vec<Ticket>> {
    let filter = resolve_filter(desk, view)?;
    let sort = parse_sort(view.sort.as_deref().unwrap_or("number"))?;
    // Sorted by number, a limited listing can stop reading at the limit.
    let (descending, limit) = match sort.first() {
        Some(key) if key.field == SortField::Number => (key.descending, view.limit),
        _ => (false, None),
    };
    let mut tickets = desk
        .storage
        .read(|store| store.query(&filter, descending, limit))?;
    for ticket in &mut tickets {
        desk.settle_approval(ticket);
    }
    tickets.sort_by(|a, b| compare(&sort, a, b));
    if let Some(limit) = view.limit {
        tickets.truncate(limit);
    }
    Ok(tickets)
}

fn parse_sort(spec: &str) -> Result<Vec<SortKey>> {
    spec.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<SortKey>()
                .map_err(|e| anyhow::anyhow!("--sort: {e}"))
        })
        .collect()
}

/// Turns the text of a view into a filter, checking every value.
pub fn resolve_filter(desk: &Desk, view: &View) -> Result<TicketFilter> {
    let mut filter = TicketFilter::default();
    for status in &view.status {
        let named = statuses_named(status).map_err(|e| anyhow::anyhow!("--status: {e}"))?;
        filter.statuses.extend(named);
    }
    for p in &view.priority {
        filter
            .priorities
            .push(p.parse().map_err(|e| anyhow::anyhow!("--priority: {e}"))?);
    }
    if let Some(a) = &view.assignee {
        filter.assignee = Some(assignee_named(desk, a).context("--assignee")?);
    }
    let service = match &view.service {
        Some(name) => Some(find_service(desk, name).context("--service")?),
        None => None,
    };
    if let Some(category) = &view.category {
        check_listed_category(desk, service, category).context("--category")?;
    }
    filter.service = view.service.clone();
    filter.category = view.category.clone();
    filter.tags = view.tag.clone();
    filter.customer = view
        .customer
        .as_ref()
        .map(|c| c.trim().trim_start_matches('@').to_lowercase());
    if let Some(text) = &view.search {
        filter.search = words(text).collect();
        if filter.search.is_empty() {
            bail!("--search: '{text}' has no words to look for");
        }
    }
    let instant = |flag: &str, v: &Option<String>| -> Result<Option<i64>> {
        v.as_deref()
            .map(|t| {
                parse_instant(t, jiff::Timestamp::now(), desk.tz())
                    .map_err(|e| anyhow::anyhow!("{flag}: {e}"))
            })
            .transpose()
    };
    filter.created_since = instant("--created-since", &view.created_since)?;
    filter.created_until = instant("--created-until", &view.created_until)?;
    filter.updated_since = instant("--updated-since", &view.updated_since)?;
    let now = now();
    if view.overdue {
        filter.due_by = Some(now - 1);
    }
    if let Some(within) = &view.due_within {
        let (seconds, _) = crate::model::when::parse_duration(within)
            .map_err(|e| anyhow::anyhow!("--due-within: {e}"))?;
        let by = now.saturating_add(seconds);
        filter.due_by = Some(filter.due_by.map_or(by, |b| b.min(by)));
    }
    Ok(filter)
}

fn load(store: &dyn Reader, number: u64) -> Result<Ticket> {
    store
        .ticket(number)?
        .with_context(|| format!("ticket #{number} not found"))
}

pub(super) fn find_service<'a>(desk: &'a Desk, name: &str) -> Result<&'a Service> {
    find_service_in(&desk.config, name)
}

/// A service of `config` by name, or an error listing them.
pub(super) fn find_service_in<'a>(config: &'a Config, name: &str) -> Result<&'a Service> {
    config.service(name).with_context(|| {
        let known: Vec<_> = config.services.iter().map(|s| s.name.as_str()).collect();
        format!("unknown service '{name}' (expected {})", or_list(&known))
    })
}

pub(super) fn find_category<'a>(
    service: &'a Service,
    name: &str,
) -> Result<&'a crate::config::Category> {
    service
        .categories
        .iter()
        .find(|c| c.name == name)
        .with_context(|| {
            let known: Vec<_> = service.categories.iter().map(|c| c.name.as_str()).collect();
            match known.is_empty() {
                true => format!("service '{}' has no categories", service.name),
                false => format!(
                    "service '{}' has no category '{name}' (expected {})",
                    service.name,
                    or_list(&known)
                ),
            }
        })
}

/// A listing's category: one of `service`'s, or of any service when none is given.
fn check_listed_category(desk: &Desk, service: Option<&Service>, name: &str) -> Result<()> {
    if let Some(service) = service {
        return find_category(service, name).map(|_| ());
    }
    let mut known: Vec<&str> = Vec::new();
    for category in desk.config.services.iter().flat_map(|s| &s.categories) {
        if category.name == name {
            return Ok(());
        }
        if !known.contains(&category.name.as_str()) {
            known.push(&category.name);
        }
    }
    bail!(
        "no service has a category '{name}' (expected {})",
        or_list(&known)
    )
}

/// An assignee from the config (`login`, `@group` or `none`), checked.
fn checked_assignee(desk: &Desk, spec: &str) -> Result<Assignee> {
    desk.config
        .check_assignee(spec)
        .map_err(anyhow::Error::msg)?;
    Ok(Assignee::parse(spec))
}

/// An assignee given in a command: `login`, `@group`, `none`, or `me` (the acting
/// user), checked against the directory.
pub(crate) fn assignee_named(desk: &Desk, spec: &str) -> Result<Assignee> {
    let spec = if spec == "me" {
        desk.actor_name()
    } else {
        spec
    };
    desk.config
        .check_assignee_or(spec, &["me"])
        .map_err(anyhow::Error::msg)?;
    Ok(Assignee::parse(spec))
}

/// Follower edits (`+WHO`, `-WHO`, `WHO`) with each WHO a login of the config or an
/// address read as intake reads one (so lowercased); anything else is refused. A
/// removal of a value that is neither is let through: it may be an old one to clear.
fn checked_followers(desk: &Desk, edits: &[String]) -> Result<Vec<String>> {
    edits
        .iter()
        .map(|e| {
            let (sign, who) = match e.strip_prefix(['+', '-']) {
                Some(who) => (&e[..1], who),
                None => ("", e.as_str()),
            };
            if who.is_empty() {
                return Ok(e.clone());
            }
            match follower_named(&desk.config, who) {
                Some(follower) => Ok(format!("{sign}{follower}")),
                None if sign == "-" => Ok(e.clone()),
                None => bail!("--follower '{who}' {NOT_A_FOLLOWER}"),
            }
        })
        .collect()
}

/// A follower as typed: a login of the config, or one e-mail address (kept bare);
/// None for anything else, which callers refuse with [`NOT_A_FOLLOWER`].
pub fn follower_named(config: &crate::config::Config, who: &str) -> Option<String> {
    match config.user(who) {
        Some(_) => Some(who.to_string()),
        None => single_address(who),
    }
}

/// Why a follower was refused, after the name as typed.
pub const NOT_A_FOLLOWER: &str =
    "is neither a login of the config nor an e-mail address: give a login or name@domain";

/// `+x` or `x` inserts, `-x` removes.
fn apply_set_edits(set: &mut BTreeSet<String>, edits: &[String]) {
    for e in edits {
        if let Some(x) = e.strip_prefix('-') {
            set.remove(x);
        } else {
            let x = e.strip_prefix('+').unwrap_or(e);
            if !x.is_empty() {
                set.insert(x.to_string());
            }
        }
    }
}

//! Automatic mail: notifications to agents, rules' `notify`/`reply`, and the
//! auto-reply (`acknowledge`) to mail that opens a ticket.
//!
//! Everything here runs inside the write that made the change, and only queues:
//! each message is rendered per recipient from a template, composed as automatic
//! mail, its bytes put in the mail store (before the write commits) and one outbox
//! entry queued per recipient. Commands send what they queued after the commit
//! ([`send_after`]); a delivery by the MTA (`ingest` on stdin) leaves it queued
//! for `outbox send` or the spool watcher, so a delivery never waits on an MTA.
//!
//! Rules' mail was recorded as `mail-queued` events before it could be sent.
//! Those events are history: nothing reads them to send mail, so old queued mail
//! is never sent on upgrade (the step to schema 6, `store::migrate`, made each
//! one a dropped outbox entry with no message, to show). Rules' mail is now
//! recorded as `notified` events naming the outbox entries.

use std::collections::BTreeSet;

use anyhow::Result;

use super::{now, Desk, RuleEntries};
use crate::config::{Level, User};
use crate::mail::compose::{self, Outgoing};
use crate::mail::parse::Incoming;
use crate::model::{Assignee, Event, EventKind, OutboxEntry, OutboxState, Ticket};
use crate::rules::RuleEvent;
use crate::store::Writer;
use crate::templates::{build_context, context, Parts};

/// What automatic mail a command queues and sends.
#[derive(Clone, Copy, Debug)]
pub struct MailMode {
    /// Notifications to agents and followers (`--no-notify`: none). Rules' mail
    /// and auto-replies are not notifications: they follow the rules and config.
    pub notify: bool,
    /// Leave what was queued in the outbox (`--queue-only`, and `ingest`).
    pub queue_only: bool,
    /// `--dry-run`: the write is rehearsed, the messages kept in
    /// [`Desk::previews`] instead of the mail store, nothing sent.
    pub dry_run: bool,
}

impl Default for MailMode {
    fn default() -> Self {
        MailMode {
            notify: true,
            queue_only: false,
            dry_run: false,
        }
    }
}

/// Outbox entry kinds of automatic mail.
pub const NOTIFICATION: &str = "notification";
pub const AUTO_REPLY: &str = "auto-reply";
pub use crate::model::outbox::{RULE_NOTIFY, RULE_REPLY};

/// One templated automatic message to queue.
pub struct Mail<'a> {
    pub template: &'a str,
    /// Addresses; filtered by [`automatic_recipients`].
    pub recipients: Vec<String>,
    /// The context's `message`: text meant for these recipients, never an
    /// internal comment for a requester.
    pub message: &'a str,
    /// The outbox entry kind ([`NOTIFICATION`], [`AUTO_REPLY`], ...).
    pub kind: &'static str,
}

/// What [`queue`] queued: the entries and the addresses they go to.
#[derive(Debug, Default)]
pub struct Queued {
    pub ids: Vec<u64>,
    pub to: Vec<String>,
}

/// Queues `mail` about `ticket` in the write `tx`, one message per recipient
/// (the context names the recipient): rendered, composed as automatic mail
/// (`Auto-Submitted: auto-replied` for replies, `auto-generated` otherwise), put
/// in the mail store, queued, its Message-ID recorded. `events`: this write's
/// events on the ticket (the context's `events`). Nothing when the ticket's
/// service has no address to send from, or when no recipient is left.
pub fn queue(
    desk: &Desk,
    tx: &dyn Writer,
    ticket: &Ticket,
    events: &[Event],
    actor: &str,
    mail: &Mail,
) -> Result<Queued> {
    let Some(from) = sender_address(desk, ticket) else {
        return Ok(Queued::default());
    };
    let recipients = automatic_recipients(desk, tx, actor, mail.kind, &mail.recipients)?;
    if recipients.is_empty() {
        return Ok(Queued::default());
    }
    let key = desk.storage.message_id_key()?;
    let at = now();
    // A message that cannot be built (a broken template, an override that no longer
    // compiles) must not stop the change that caused it, least of all a mail
    // delivery: it becomes a failed outbox entry naming why (`outbox list`).
    let (built, unbuilt) = build_each(
        desk,
        desk.templates(),
        &key,
        &from,
        ticket,
        events,
        actor,
        mail,
        &recipients,
    );
    if desk.mail_mode.dry_run {
        let mut previews = desk.previews.borrow_mut();
        previews.extend(built.iter().map(|(_, _, _, bytes)| bytes.clone()));
    } else if let Some(pending) = desk.pending_mail.borrow_mut().as_mut() {
        // The write stores them with its incoming mail before it commits.
        pending.extend(
            built
                .iter()
                .map(|(_, _, hash, bytes)| (hash.clone(), bytes.clone())),
        );
    } else {
        // One call for the lot: the store syncs once per call, not per message.
        let blobs: Vec<(&str, &[u8])> = built
            .iter()
            .map(|(_, _, hash, bytes)| (hash.as_str(), bytes.as_slice()))
            .collect();
        desk.storage.mail().put_all(&blobs)?;
    }
    let mut queued = Queued::default();
    let bounces = desk.config.outbox.bounce_mailbox(&from);
    for (to, message_id, hash, _) in &built {
        let mut entry = OutboxEntry::queued(ticket.number, to, &bounces, hash, at);
        entry.message_id = message_id.clone();
        entry.kind = mail.kind.to_string();
        // A VERP envelope of its own; an address suppressed meanwhile gets none.
        let Some(id) = super::outbox::queue(tx, &entry, &key)?.id() else {
            continue;
        };
        queued.ids.push(id);
        tx.record_outgoing(message_id, ticket.number)?;
        queued.to.push(to.clone());
    }
    for (to, why) in unbuilt {
        let mut entry = OutboxEntry::queued(ticket.number, &to, &bounces, "", at);
        entry.kind = mail.kind.to_string();
        entry.state = OutboxState::Failed;
        entry.done_at = at;
        entry.last_error = format!("not built: {why}");
        tx.queue_outbox(&entry)?;
    }
    Ok(queued)
}

/// The message of `mail` to each recipient, rendered and composed; and the
/// recipients whose message could not be built, with why.
#[allow(clippy::too_many_arguments)]
fn build_each(
    desk: &Desk,
    templates: &crate::templates::Templates,
    key: &[u8],
    from: &str,
    ticket: &Ticket,
    events: &[Event],
    actor: &str,
    mail: &Mail,
    recipients: &[String],
) -> (Vec<Built>, Vec<(String, String)>) {
    let config = &desk.config;
    let service = ticket.service.as_deref().and_then(|s| config.service(s));
    let from_name = service
        .map(|s| s.description.clone().unwrap_or_else(|| s.name.clone()))
        .unwrap_or_default();
    let replying = matches!(mail.kind, AUTO_REPLY | RULE_REPLY);
    let mut built = Vec::new();
    let mut unbuilt = Vec::new();
    for to in recipients {
        let ctx = build_context(
            config,
            desk.tz(),
            Parts {
                ticket,
                events,
                linked: &[],
                actor,
                recipient: context::recipient(config, ticket, to),
                message: mail.message,
            },
        );
        let rendered = match templates.render(mail.template, &ctx) {
            Ok(rendered) => rendered,
            Err(e) => {
                unbuilt.push((to.clone(), format!("template {}: {e}", mail.template)));
                continue;
            }
        };
        let subject = rendered.subject.as_deref().unwrap_or(&ticket.subject);
        let out = Outgoing {
            from_name: from_name.clone(),
            from_address: from.to_string(),
            to: vec![to.clone()],
            cc: Vec::new(),
            subject: tagged_subject(desk, ticket.number, subject),
            message_id: compose::message_id(key, ticket.number, compose::domain_of(from)),
            in_reply_to: None,
            references: Vec::new(),
            loop_id: config.ingest.loop_id.clone(),
            automatic: true,
            body: rendered.body,
        };
        let auto = match replying {
            true => compose::AUTO_REPLIED,
            false => compose::AUTO_GENERATED,
        };
        let bytes = match compose::compose_with(&out, auto) {
            Ok(bytes) => bytes,
            Err(e) => {
                unbuilt.push((to.clone(), format!("{} mail: {e:#}", mail.template)));
                continue;
            }
        };
        let hash = crate::mail::parse::hash_hex(&bytes);
        built.push((to.clone(), out.message_id, hash, bytes));
    }
    (built, unbuilt)
}

/// A message built for one recipient: (recipient, Message-ID, hash, bytes).
type Built = (String, String, String, Vec<u8>);

/// `[#42] subject`, the tag first, unless the subject has it already.
fn tagged_subject(desk: &Desk, number: u64, subject: &str) -> String {
    let tag = context::tag(&desk.config, number);
    match subject.contains(&tag) {
        true => subject.to_string(),
        false => format!("{tag} {subject}"),
    }
}

/// The service's first address: automatic mail is sent from it.
fn sender_address(desk: &Desk, ticket: &Ticket) -> Option<String> {
    let service = ticket
        .service
        .as_deref()
        .and_then(|s| desk.config.service(s))
        .or_else(|| desk.config.default_service())?;
    service.addresses.first().cloned()
}

/// The one place automatic mail's recipients are filtered: each address once
/// (any case), valid, not suppressed (a hard bounce, `outbox suppress`), never
/// one of the services' own addresses, never the actor
/// of a notification (an auto-reply or a rule's reply goes to the sender who
/// acted).
pub fn automatic_recipients(
    desk: &Desk,
    tx: &dyn Writer,
    actor: &str,
    kind: &str,
    addresses: &[String],
) -> Result<Vec<String>> {
    let config = &desk.config;
    let actor_email = config
        .user(actor)
        .map(|u| u.email.to_lowercase())
        .unwrap_or_else(|| actor.to_lowercase());
    let skip_actor = matches!(kind, NOTIFICATION | RULE_NOTIFY);
    let ours = |a: &str| {
        config
            .services
            .iter()
            .flat_map(|s| &s.addresses)
            .any(|o| o.eq_ignore_ascii_case(a))
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for a in addresses {
        let lower = a.to_lowercase();
        if (skip_actor && lower == actor_email)
            || ours(a)
            || !compose::valid_address(a)
            || !seen.insert(lower)
        {
            continue;
        }
        if super::outbox::is_suppressed(tx, a)? {
            continue;
        }
        out.push(a.clone());
    }
    Ok(out)
}

/// Whether `user` holds `ticket`: assigned to them, or to a group they are in.
fn holds(desk: &Desk, user: &User, ticket: &Ticket) -> bool {
    match &ticket.assignee {
        Assignee::Nobody => false,
        Assignee::User(login) => *login == user.login,
        Assignee::Group(g) => desk
            .config
            .group(g)
            .is_some_and(|g| g.members.contains(&user.login)),
    }
}

/// Whether `user` manages `ticket`'s service.
fn manages(desk: &Desk, user: &User, ticket: &Ticket) -> bool {
    ticket
        .service
        .as_deref()
        .and_then(|s| desk.config.service(s))
        .is_some_and(|s| s.managers.contains(&user.login))
}

/// How much `user` hears of `ticket`: the highest level of the kinds it is to
/// them (a ticket of a service they manage, of one of their categories, held).
pub fn level(desk: &Desk, user: &User, ticket: &Ticket) -> Level {
    let m = &user.monitoring;
    let (service, categories, held) = m.levels(ticket.service.as_deref());
    let mine = ticket
        .category
        .as_deref()
        .is_some_and(|c| m.my_categories.iter().any(|x| x == c));
    [
        (manages(desk, user, ticket), service),
        (mine, categories),
        (holds(desk, user, ticket), held),
    ]
    .into_iter()
    .filter(|(applies, _)| *applies)
    .map(|(_, level)| level)
    .max()
    .unwrap_or(Level::Never)
}

/// The emails of users whose level on `ticket` is at least `least`.
fn monitors(desk: &Desk, ticket: &Ticket, least: Level) -> Vec<String> {
    desk.config
        .users
        .iter()
        .filter(|u| level(desk, u, ticket) >= least)
        .map(|u| u.email.clone())
        .collect()
}

/// Users among `logins` not set to `never` on `ticket`.
fn listening(desk: &Desk, ticket: &Ticket, users: &[&User]) -> Vec<String> {
    users
        .iter()
        .filter(|u| level(desk, u, ticket) > Level::Never)
        .map(|u| u.email.clone())
        .collect()
}

/// The notifications of one change to `after` (None `before`: a new ticket), in
/// the write `tx`, by `actor`; `events`: the events this write appended. Each
/// person gets one message for the change: the first that concerns them, in the
/// order the issue lists them. Returns the outbox entries queued.
pub fn on_change(
    desk: &Desk,
    tx: &dyn Writer,
    before: Option<&Ticket>,
    after: &Ticket,
    events: &[Event],
    actor: &str,
) -> Result<Vec<u64>> {
    if !enabled(desk) || !desk.mail_mode.notify || events.is_empty() {
        return Ok(Vec::new());
    }
    let config = &desk.config;
    let users = |logins: &[String]| -> Vec<&User> {
        logins.iter().filter_map(|l| config.user(l)).collect()
    };
    let managers = |t: &Ticket| -> Vec<&User> {
        t.service
            .as_deref()
            .and_then(|s| config.service(s))
            .map(|s| users(&s.managers))
            .unwrap_or_default()
    };
    // (template, recipients, message), most specific first.
    let mut plan: Vec<(&str, Vec<String>, String)> = Vec::new();
    let Some(before) = before else {
        plan.push((
            "notify-created",
            monitors(desk, after, Level::Creation),
            String::new(),
        ));
        return send_plan(desk, tx, after, events, actor, plan);
    };
    for e in events.iter().filter(|e| !e.actor.starts_with("rule '")) {
        match &e.kind {
            EventKind::Assigned { verb, comment, .. } if verb == "release" => {
                let to = listening(desk, after, &managers(after));
                plan.push(("notify-released", to, comment.clone()));
            }
            EventKind::Assigned { comment, .. } => {
                let holders: Vec<&User> = config
                    .users
                    .iter()
                    .filter(|u| holds(desk, u, after))
                    .collect();
                plan.push((
                    "notify-assigned",
                    listening(desk, after, &holders),
                    comment.clone(),
                ));
            }
            EventKind::Transferred { comment, .. } => {
                plan.push((
                    "notify-transferred",
                    monitors(desk, after, Level::Creation),
                    comment.clone(),
                ));
            }
            EventKind::Followed { who, comment } => {
                let to = match who.contains('@') {
                    true => Some(who.clone()),
                    false => config.user(who).map(|u| u.email.clone()),
                };
                plan.push(("invited", to.into_iter().collect(), comment.clone()));
            }
            _ => {}
        }
    }
    match super::workflow::status_event(before, after) {
        // The requester is asked to approve: no agent's comment goes with it.
        Some(RuleEvent::Closed) => {
            let to = after.requester.email.iter().cloned().collect();
            plan.push(("closed", to, String::new()));
        }
        Some(RuleEvent::Reopened) => {
            let holders: Vec<&User> = config
                .users
                .iter()
                .filter(|u| holds(desk, u, after))
                .collect();
            plan.push(("reopened", listening(desk, after, &holders), String::new()));
        }
        _ => {}
    }
    // Everyone who hears of every action, of whatever is left.
    plan.push((
        "notify",
        monitors(desk, after, Level::Always),
        String::new(),
    ));
    send_plan(desk, tx, after, events, actor, plan)
}

fn send_plan(
    desk: &Desk,
    tx: &dyn Writer,
    ticket: &Ticket,
    events: &[Event],
    actor: &str,
    plan: Vec<(&str, Vec<String>, String)>,
) -> Result<Vec<u64>> {
    let mut told = BTreeSet::new();
    let mut ids = Vec::new();
    for (template, to, message) in plan {
        let to: Vec<String> = to
            .into_iter()
            .filter(|a| told.insert(a.to_lowercase()))
            .collect();
        if to.is_empty() {
            continue;
        }
        let mail = Mail {
            template,
            recipients: to,
            message: &message,
            kind: NOTIFICATION,
        };
        ids.extend(queue(desk, tx, ticket, events, actor, &mail)?.ids);
    }
    Ok(ids)
}

/// Whether automatic mail is queued at all: only with a `mail_out:` that can
/// send it (without one, the outbox would only fill).
fn enabled(desk: &Desk) -> bool {
    desk.config.mail_out.is_some()
}

/// Rules' `notify`/`reply` mail among `entries` (the `mail-queued` entries
/// [`Desk::apply_rules`] made), queued in `tx` through [`queue`] with the
/// template each rule names, each entry replaced by a `notified` entry naming the
/// outbox entries. Without `mail_out:` they stay `mail-queued` (and are never
/// sent). `ticket`: as it will be saved (numbered). `incoming`: the mail that
/// fired the rules, if any: a rule's `reply` to it is an automatic reply and
/// obeys what [`acknowledge`] obeys (none to automatic, list or no-reply mail, at
/// most `auto_reply.per_sender` a day to its sender).
pub fn rule_mail(
    desk: &Desk,
    tx: &dyn Writer,
    ticket: &Ticket,
    actor: &str,
    entries: RuleEntries,
    incoming: Option<&Incoming>,
) -> Result<(RuleEntries, Vec<u64>)> {
    if !enabled(desk) {
        return Ok((entries, Vec::new()));
    }
    let mut ids = Vec::new();
    let mut out = Vec::with_capacity(entries.len());
    for (who, kind) in entries {
        let EventKind::MailQueued {
            kind: mail_kind,
            to,
            template,
            ..
        } = &kind
        else {
            out.push((who, kind));
            continue;
        };
        let kind = crate::model::outbox::rule_kind(mail_kind);
        let mut recipients = super::recipients::addresses(&desk.config, to, ticket);
        let answering = incoming.filter(|_| kind == RULE_REPLY);
        let counted = match answering {
            Some(msg) => auto_reply_allowance(desk, tx, msg, &mut recipients)?,
            None => None,
        };
        let mail = Mail {
            template,
            recipients,
            message: "",
            kind,
        };
        let queued = queue(desk, tx, ticket, &[], actor, &mail)?;
        if let Some((sender, day, count)) = counted {
            if queued.to.iter().any(|a| a.eq_ignore_ascii_case(&sender)) {
                tx.set_auto_replies(&sender, &day, count + 1)?;
            }
        }
        ids.extend(&queued.ids);
        out.push((
            who,
            EventKind::Notified {
                template: template.clone(),
                to: queued.to,
                outbox: queued.ids,
            },
        ));
    }
    Ok((out, ids))
}

/// Local parts that never get an automatic reply.
const NO_REPLY: &[&str] = &[
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "mailer-daemon",
    "postmaster",
    "bounce",
    "bounces",
];

/// Why `msg` gets no automatic reply, if it gets none for what it is: automatic
/// mail, a bounce, our own loop, list mail, a no-reply or mailer-daemon sender.
pub fn no_auto_reply(desk: &Desk, msg: &Incoming) -> Option<String> {
    if let Some(a) = crate::mail::classify::automatic(msg, &desk.config.ingest.loop_id) {
        return Some(a.as_str().to_string());
    }
    if let Some(h) = crate::mail::classify::list_header(msg) {
        return Some(format!("list mail ({h})"));
    }
    let from = msg.from.as_ref()?;
    let local = from
        .email
        .split('@')
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let base = local.split('+').next().unwrap_or_default();
    if NO_REPLY.contains(&base) || base.starts_with("bounce") || base.starts_with("noreply") {
        return Some(format!("a no-reply sender ({})", from.email));
    }
    None
}

/// Drops from `recipients` of a rule's reply to `msg` the addresses that may not
/// get one: all of them when `msg` gets no automatic reply ([`no_auto_reply`]),
/// its sender when they had `auto_reply.per_sender` today. Returns the sender, the
/// day and their count so far when the sender stays (to count the reply).
fn auto_reply_allowance(
    desk: &Desk,
    tx: &dyn Writer,
    msg: &Incoming,
    recipients: &mut Vec<String>,
) -> Result<Option<(String, String, u32)>> {
    if no_auto_reply(desk, msg).is_some() {
        recipients.clear();
        return Ok(None);
    }
    let Some(sender) = msg.from.as_ref().map(|f| f.email.clone()) else {
        return Ok(None);
    };
    if !recipients.iter().any(|a| a.eq_ignore_ascii_case(&sender)) {
        return Ok(None);
    }
    let day = utc_day(now());
    let count = tx.auto_replies(&sender, &day)?;
    if count >= desk.config.auto_reply.per_sender {
        recipients.retain(|a| !a.eq_ignore_ascii_case(&sender));
        return Ok(None);
    }
    Ok(Some((sender, day, count)))
}

/// The auto-reply (template `acknowledge`) to `msg`, which opened `ticket`, in
/// the write `tx`: none when `auto_reply.enabled` is off, the mail is of a kind
/// that gets none ([`no_auto_reply`]), its sender had `auto_reply.per_sender`
/// today (counted in the database), or a rule already sent the requester mail in
/// this write (`rule_entries`: one automatic answer per message, not two). One
/// per ticket: only mail that opens one. Returns the `notified` event to record
/// and the entries.
pub fn acknowledge(
    desk: &Desk,
    tx: &dyn Writer,
    ticket: &Ticket,
    events: &[Event],
    msg: &Incoming,
    rule_entries: &RuleEntries,
) -> Result<Option<(EventKind, Vec<u64>)>> {
    let settings = &desk.config.auto_reply;
    if !enabled(desk) || !settings.enabled || no_auto_reply(desk, msg).is_some() {
        return Ok(None);
    }
    let Some(sender) = ticket.requester.email.clone() else {
        return Ok(None);
    };
    let answered = rule_entries.iter().any(|(_, kind)| {
        matches!(kind, EventKind::Notified { to, .. }
            if to.iter().any(|a| a.eq_ignore_ascii_case(&sender)))
    });
    if answered {
        return Ok(None);
    }
    let day = utc_day(now());
    let count = tx.auto_replies(&sender, &day)?;
    if count >= settings.per_sender {
        return Ok(None);
    }
    let mail = Mail {
        template: "acknowledge",
        recipients: vec![sender.clone()],
        message: "",
        kind: AUTO_REPLY,
    };
    let queued = queue(desk, tx, ticket, events, &sender, &mail)?;
    if queued.ids.is_empty() {
        return Ok(None);
    }
    tx.set_auto_replies(&sender, &day, count + 1)?;
    let event = EventKind::Notified {
        template: "acknowledge".into(),
        to: queued.to,
        outbox: queued.ids.clone(),
    };
    Ok(Some((event, queued.ids)))
}

/// `YYYY-MM-DD` of `seconds`, UTC.
fn utc_day(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// After the commit of a command that queued `ids`: sends them now, unless
/// `--queue-only` or there is nothing to send with. A transport that fails is
/// not the command's error: the mail waits in the outbox; the reason is returned.
pub fn send_after(desk: &Desk, ids: &[u64]) -> Option<String> {
    let mode = desk.mail_mode;
    if ids.is_empty() || mode.queue_only || mode.dry_run || desk.config.mail_out.is_none() {
        return None;
    }
    match super::outbox::send_due(desk, Some(ids)) {
        Ok(sent) => sent
            .iter()
            .find_map(|s| s.error.as_ref())
            .map(|e| format!("mail not sent now: {e}")),
        Err(e) => Some(format!("mail not sent now: {e:#}")),
    }
}

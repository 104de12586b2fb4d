//! Outgoing mail: `ticket reply` and the outbox (`outbox send|list|show|retry|drop`).
//!
//! A message is built (`mail::compose`) and its bytes put in the mail store before
//! the write; the write records the change, the event and one outbox entry per
//! recipient, and the Message-ID for threading. Nothing is sent inside a write (it
//! may run twice): sending reads the entries after the commit and sends them in
//! batches (up to 100): the batch's attempts claimed in one write before the
//! transport sees the messages, one recipient at a time with the database let go,
//! and their outcomes recorded in another (one a second when the transport is
//! slow). A crash between the transport's acceptance and the record leaves the
//! entries queued with their next attempt set by the claim: at most one more copy
//! each, after the backoff, never a loop.

use std::cell::RefCell;

use anyhow::{bail, Context, Result};

use super::roles::Action;
use super::workflow::{update_ticket, Change, Updated};
use super::{now, Desk};
use crate::mail::compose::{self, Outgoing};
use crate::mail::send::{self, Outcome, Transport};
use crate::model::{Event, EventKind, OutboxEntry, OutboxState, Suppression, Ticket};
use crate::store::Writer;
use crate::templates::{Rendered, Templates};

/// A reply's most bytes: like a comment, it is kept whole in the activity log.
pub const REPLY_MAX: usize = super::verbs::COMMENT_MAX;

/// The actor of the outbox's own entries on a ticket.
pub const OUTBOX_ACTOR: &str = "outbox";

/// Waits after the n-th attempt failed for now: 1 min, 5 min, 15 min, 1 h, then
/// every 4 h, until `outbox.max_age`.
const BACKOFF: &[i64] = &[60, 300, 900, 3600, 4 * 3600];

fn backoff(attempts: u32) -> i64 {
    let i = (attempts.max(1) - 1) as usize;
    BACKOFF[i.min(BACKOFF.len() - 1)]
}

/// What `ticket reply` did.
#[derive(Debug)]
pub struct Replied {
    pub updated: Updated,
    /// The outbox entries queued, one per recipient.
    pub queued: Vec<u64>,
    /// What sending them right away did (none with `--queue-only` or no `mail_out`).
    pub sent: Vec<Sent>,
    /// Why nothing was sent right away, if it was not.
    pub waiting: Option<String>,
    /// Addresses of the requester or followers that no message can carry: left out.
    pub unusable: Vec<String>,
    /// Recipients whose address is suppressed (a hard bounce): queued all the same,
    /// since a person asked for this reply; the caller warns.
    pub suppressed: Vec<Suppression>,
}

/// `ticket reply N`: `text` to the requester and followers, as the acting user.
pub fn reply(desk: &Desk, number: u64, text: &str, queue_only: bool) -> Result<Replied> {
    reply_with(desk, number, text, None, queue_only)
}

/// `ticket reply N [--template NAME]`: the body is template `template` (a saved
/// reply `replies/NAME`, else the template NAME: see [`reply_template`]) with
/// `text` as `{{message}}` (may be empty), recorded as rendered; without one, the
/// `reply` template with `text`, recording `text`. Rendered once for every
/// recipient, the To recipient (the requester) as `recipient`. A template error
/// (file:line) queues nothing.
pub fn reply_with(
    desk: &Desk,
    number: u64,
    text: &str,
    template: Option<&str>,
    queue_only: bool,
) -> Result<Replied> {
    let text = match template {
        Some(_) if text.trim().is_empty() => String::new(),
        _ => super::verbs::checked_text("reply", text)?,
    };
    let actor = desk.actor()?.to_string();
    let key = desk.storage.message_id_key()?;
    let templates = desk.templates();
    let name = reply_template(templates, template)?;
    templates
        .compiles(&name)
        .map_err(|e| anyhow::Error::new(e).context("the reply was not queued"))?;
    let body = ReplyBody {
        templates,
        name: &name,
        text: &text,
        recorded: template.is_some(),
    };
    // The message is built from the ticket as read here, and the write checks that
    // what it was built from has not changed meanwhile; if it has, build again.
    let mut tries = 0;
    let (updated, queued, unusable): (_, Vec<Queued>, _) = loop {
        tries += 1;
        let (ticket, events, linked) = desk.storage.read(|r| {
            let ticket = r
                .ticket(number)?
                .with_context(|| format!("ticket #{number} not found"))?;
            let linked = super::mail_context::linked(r, &ticket)?;
            Ok((ticket, r.events(number)?, linked))
        })?;
        super::roles::check(&desk.config, &actor, Action::Comment, &ticket)?;
        let built = build_reply(desk, &actor, (&ticket, &events, &linked), &body, &key)?;
        if desk.mail_mode.dry_run {
            desk.previews.borrow_mut().push(built.bytes.clone());
        } else {
            desk.storage
                .mail()
                .put_all(&[(built.hash.as_str(), built.bytes.as_slice())])?;
        }
        let change = ReplyChange {
            built: &built,
            text: built.recorded.clone(),
            key: &key,
            queued: RefCell::default(),
        };
        match update_ticket(desk, number, &change) {
            Ok(updated) => break (updated, change.queued.into_inner(), built.unusable),
            Err(e) if e.chain().any(|c| c.is::<Stale>()) && tries < 3 => continue,
            Err(e) => return Err(e),
        }
    };
    let ids: Vec<u64> = queued.iter().filter_map(Queued::id).collect();
    let suppressed = queued
        .into_iter()
        .filter_map(|q| match q {
            Queued::Anyway(_, s) => Some(s),
            _ => None,
        })
        .collect();
    let (sent, waiting) = match (&desk.config.mail_out, queue_only) {
        (_, true) if desk.mail_mode.dry_run => {
            (Vec::new(), Some("--dry-run: nothing written".to_string()))
        }
        (_, true) => (Vec::new(), Some("--queue-only".to_string())),
        (None, _) => (Vec::new(), Some("no `mail_out:` in the config".to_string())),
        // The reply is recorded and queued: a transport that cannot start is
        // reported, not an error of the command.
        (Some(_), false) => match send_due(desk, Some(&ids)) {
            Ok(sent) => (sent, None),
            Err(e) => (Vec::new(), Some(format!("not sent now: {e:#}"))),
        },
    };
    if waiting.is_some() {
        wake_watcher(desk);
    }
    Ok(Replied {
        updated,
        queued: ids,
        sent,
        waiting,
        unusable,
        suppressed,
    })
}

/// What a reply's body is rendered from.
struct ReplyBody<'a> {
    templates: &'a Templates,
    /// The template: `reply`, a saved reply `replies/NAME`, or another.
    name: &'a str,
    /// What the agent wrote: `{{message}}`.
    text: &'a str,
    /// Whether the `reply` event records the rendered body (a named template)
    /// rather than `text`.
    recorded: bool,
}

/// The template a reply renders: `reply` without `--template`; with it, the saved
/// reply `replies/NAME` when there is one, else the template NAME itself (a
/// built-in, an override, `replies/NAME` spelt out).
pub fn reply_template(templates: &Templates, name: Option<&str>) -> Result<String> {
    let Some(name) = name else {
        return Ok("reply".to_string());
    };
    let saved = format!("{}/{name}", crate::templates::REPLIES);
    for candidate in [saved.as_str(), name] {
        if templates.entry(candidate).is_some() {
            return Ok(candidate.to_string());
        }
    }
    bail!(
        "no saved reply '{name}' ({}/{name}.hbs in the templates directory) and no template \
         '{name}': `postdesk template list` shows them",
        crate::templates::REPLIES
    )
}

/// A reply's message, built and not yet recorded.
#[derive(Debug)]
struct BuiltReply {
    /// What the `reply` event records.
    recorded: String,
    /// What it was built from: the write refuses it if these changed.
    subject: String,
    service: Option<String>,
    requester: Option<String>,
    followers: Vec<String>,
    recipients: Vec<String>,
    /// Addresses of the requester or followers that no message can carry.
    unusable: Vec<String>,
    envelope: String,
    message_id: String,
    hash: String,
    bytes: Vec<u8>,
}

/// The ticket changed between the read a reply was built from and its write.
#[derive(Debug, thiserror::Error)]
#[error("the ticket changed while the reply was being built: try again")]
struct Stale;

/// Who a reply goes to: the requester, then followers (addresses, or users' email),
/// never the actor nor the service's own addresses, each once; and the addresses
/// no message can carry, left out.
fn reply_recipients(
    desk: &Desk,
    actor: &str,
    ticket: &Ticket,
    ours: &[String],
) -> (Vec<String>, Vec<String>) {
    let actor_email = desk.config.user(actor).map(|u| u.email.to_lowercase());
    let followers = ticket
        .followers
        .iter()
        .filter_map(|f| match f.contains('@') {
            true => Some(f.clone()),
            false => desk.config.user(f).map(|u| u.email.clone()),
        });
    let mut seen = std::collections::BTreeSet::new();
    ticket
        .requester
        .email
        .iter()
        .cloned()
        .chain(followers)
        .filter(|a| Some(a.to_lowercase()) != actor_email)
        .filter(|a| !ours.iter().any(|o| o.eq_ignore_ascii_case(a)))
        .filter(|a| seen.insert(a.to_lowercase()))
        .partition(|a| compose::valid_address(a))
}

/// The Message-IDs of a ticket's thread, oldest first: the mail it received and
/// the replies it sent.
fn thread(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Mail(m) => Some(m.message_id.clone()),
            EventKind::Reply { message_id, .. } => Some(message_id.clone()),
            _ => None,
        })
        .filter(|id| !id.is_empty() && !id.starts_with("sha256:"))
        .collect()
}

fn build_reply(
    desk: &Desk,
    actor: &str,
    (ticket, events, linked): (&Ticket, &[Event], &[Ticket]),
    body: &ReplyBody<'_>,
    key: &[u8],
) -> Result<BuiltReply> {
    let number = ticket.number;
    let service = ticket
        .service
        .as_deref()
        .and_then(|name| desk.config.service(name))
        .with_context(|| {
            format!("ticket #{number} has no service to send from: transfer it to one first")
        })?;
    let Some(from) = service.addresses.first() else {
        bail!(
            "service '{}' has no address to send from: add one to its `addresses:` in {}",
            service.name,
            desk.config.path.display()
        );
    };
    let (recipients, unusable) = reply_recipients(desk, actor, ticket, &service.addresses);
    if recipients.is_empty() {
        bail!(
            "ticket #{number} has no one to reply to: no requester address and no follower but you"
        );
    }
    let name = desk
        .config
        .user(actor)
        .map(|u| u.name.clone())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| actor.to_string());
    let service_name = service.description.as_deref().unwrap_or(&service.name);
    let thread = thread(events);
    let message_id = compose::message_id(key, number, compose::domain_of(from));
    let (to, cc) = match &ticket.requester.email {
        Some(r) if recipients.first() == Some(r) => (vec![r.clone()], recipients[1..].to_vec()),
        _ => (recipients.clone(), Vec::new()),
    };
    let context = super::mail_context::of(
        desk,
        ticket,
        events,
        linked,
        to.first().map(String::as_str),
        actor,
        body.text,
    );
    let rendered = body
        .templates
        .render(body.name, &context)
        .map_err(|e| anyhow::Error::new(e).context("the reply was not queued"))?;
    let rendered = Rendered {
        subject: rendered.subject.filter(|s| !s.is_empty()),
        ..rendered
    };
    let mut text = rendered.body.trim_end().to_string();
    if text.trim().is_empty() {
        bail!(
            "template '{}' rendered an empty body: the reply was not queued",
            body.name
        );
    }
    let recorded = match body.recorded {
        true => super::verbs::checked_text("reply", &text)
            .with_context(|| format!("template '{}', rendered", body.name))?,
        false => body.text.to_string(),
    };
    text.push('\n');
    let out = Outgoing {
        from_name: format!("{name} via {service_name}"),
        from_address: from.clone(),
        to,
        cc,
        subject: compose::reply_subject(
            &desk.config.settings.subject_prefix,
            number,
            rendered.subject.as_deref().unwrap_or(&ticket.subject),
        ),
        message_id: message_id.clone(),
        in_reply_to: thread.last().cloned(),
        references: compose::trimmed_references(&thread),
        loop_id: desk.config.ingest.loop_id.clone(),
        automatic: false,
        body: text,
    };
    let bytes = compose::compose(&out).with_context(|| format!("ticket #{number}: the reply"))?;
    Ok(BuiltReply {
        recorded,
        subject: ticket.subject.clone(),
        service: ticket.service.clone(),
        requester: ticket.requester.email.clone(),
        followers: ticket.followers.iter().cloned().collect(),
        recipients,
        unusable,
        // The bounce mailbox: `queue` makes it the entry's own VERP address.
        envelope: desk.config.outbox.bounce_mailbox(from),
        message_id,
        hash: crate::mail::parse::hash_hex(&bytes),
        bytes,
    })
}

struct ReplyChange<'a> {
    built: &'a BuiltReply,
    text: String,
    /// The key of our Message-IDs, which signs the VERP envelopes too.
    key: &'a [u8],
    /// The entries the last run of `apply` queued (the committed one's).
    queued: RefCell<Vec<Queued>>,
}

impl Change for ReplyChange<'_> {
    fn action(&self, _: &Ticket) -> Action {
        Action::Comment
    }

    fn apply(&self, tx: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        let b = self.built;
        let followers: Vec<String> = t.followers.iter().cloned().collect();
        if t.subject != b.subject
            || t.service != b.service
            || t.requester.email != b.requester
            || followers != b.followers
        {
            return Err(Stale.into());
        }
        let at = now();
        let mut ids = Vec::new();
        for recipient in &b.recipients {
            let mut entry = OutboxEntry::queued(t.number, recipient, &b.envelope, &b.hash, at);
            entry.message_id = b.message_id.clone();
            ids.push(queue(tx, &entry, self.key)?);
        }
        tx.record_outgoing(&b.message_id, t.number)?;
        // A reply that reaches the requester is the ticket's first response (once).
        let requester = t.requester.email.as_deref().unwrap_or_default();
        if b.recipients
            .iter()
            .any(|r| r.eq_ignore_ascii_case(requester))
        {
            crate::model::sla::record_first_response(t, at);
        }
        *self.queued.borrow_mut() = ids;
        Ok(vec![EventKind::Reply {
            text: self.text.clone(),
            to: b.recipients.clone(),
            message_id: b.message_id.clone(),
        }])
    }
}

/// What [`queue`] did with one message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Queued {
    /// Queued as this entry.
    Entry(u64),
    /// Queued as this entry although the address is suppressed: an explicit
    /// `ticket reply`, which a person asked for (the caller warns).
    Anyway(u64, Suppression),
    /// Not queued: automatic mail to a suppressed address.
    Suppressed(Suppression),
}

impl Queued {
    /// The entry queued, if one was.
    pub fn id(&self) -> Option<u64> {
        match self {
            Queued::Entry(id) | Queued::Anyway(id, _) => Some(*id),
            Queued::Suppressed(_) => None,
        }
    }
}

/// The one way mail enters the outbox, in the write `tx`: `entry` (its `envelope`
/// the bounce mailbox, `outbox.bounce_address` or `Config::outbox.bounce_mailbox`)
/// is queued with the envelope sender made its own VERP address
/// (`LOCAL+o<ID>-<MAC>@DOMAIN`, signed with `key`, the Message-ID key), unless it is
/// automatic (`model::outbox::is_automatic`: every kind but `reply`) and its
/// recipient is suppressed. Notifications, auto-replies and rule mail call this.
pub fn queue(tx: &dyn Writer, entry: &OutboxEntry, key: &[u8]) -> Result<Queued> {
    let suppressed = tx.suppression(&entry.recipient)?;
    if let Some(s) = &suppressed {
        if crate::model::outbox::is_automatic(&entry.kind) {
            return Ok(Queued::Suppressed(s.clone()));
        }
    }
    let id = tx.queue_outbox(entry)?;
    let mut queued = entry.clone();
    queued.id = id;
    queued.envelope = crate::mail::verp::address(&entry.envelope, key, id)
        .map_err(anyhow::Error::msg)
        .with_context(|| {
            format!(
                "outbox entry {id} to {}: set `outbox.bounce_address` in the config",
                entry.recipient
            )
        })?;
    tx.save_outbox_entry(&queued)?;
    Ok(match suppressed {
        Some(s) => Queued::Anyway(id, s),
        None => Queued::Entry(id),
    })
}

/// Whether `address` is suppressed (a hard bounce, or an admin's `outbox
/// suppress`), as the write `tx` sees it: no automatic mail goes to it.
pub fn is_suppressed(tx: &dyn Writer, address: &str) -> Result<bool> {
    Ok(tx.suppression(address)?.is_some())
}

/// Tells a running `ingest spool --watch` that mail was left queued, so that it
/// sends it now rather than at its next timer: for whatever queues mail and does
/// not send it itself.
pub fn wake_watcher(desk: &Desk) {
    if desk.config.mail_out.is_some() {
        desk.storage.spool().poke_outbox();
    }
}

/// What one hand-over to the transport came to.
#[derive(Clone, Debug)]
pub struct Sent {
    pub id: u64,
    pub recipient: String,
    /// The entry's state after the attempt.
    pub state: OutboxState,
    /// The transport's words when it failed.
    pub error: Option<String>,
}

/// At most this many entries are claimed in one write.
const BATCH: usize = 100;

/// Outcomes are recorded at least this often while a batch is handed over, so
/// that a slow transport never leaves many sent entries unrecorded.
const RECORD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// `outbox send`: every queued entry that is due (or only those of `only`, due
/// or not: a command sending what it just queued), in batches: see [`send_batch`].
pub fn send_due(desk: &Desk, only: Option<&[u64]>) -> Result<Vec<Sent>> {
    let Some(mail_out) = &desk.config.mail_out else {
        bail!(
            "no `mail_out:` in {}: nothing can be sent (see README, Configuration)",
            desk.config.path.display()
        );
    };
    let mut transport = send::transport(mail_out, &desk.config.dir())?;
    let start = now();
    let due: Vec<OutboxEntry> = desk.storage.read(|r| r.outbox(true))?;
    let due: Vec<u64> = due
        .into_iter()
        .filter(|e| match only {
            Some(ids) => ids.contains(&e.id),
            None => e.next_attempt <= start,
        })
        .map(|e| e.id)
        .collect();
    if due.len() > 1 {
        // Each message is read from the mail store: with the multi-pack index up to
        // date (as `ingest spool` keeps it), a read opens one pack, not every batch
        // pack written since. Failing to update it only makes reads slower.
        let _ = desk.storage.mail().maintain();
    }
    let mut done = Vec::new();
    for ids in due.chunks(BATCH) {
        done.extend(send_batch(desk, transport.as_mut(), ids, only.is_some())?);
    }
    Ok(done)
}

/// Claims an attempt at each of entries `ids` in one write (attempts + 1, the
/// next attempt after the backoff: a crash sends each at most once more, later),
/// hands the messages to the transport one recipient at a time with the database
/// let go, and records the outcomes in one write, or one a [`RECORD_EVERY`] when
/// the transport is slow. Entries no longer queued or due (another sender has
/// them) are left out. `fresh`: send them now if never tried, due or not (the
/// command that queued them); an entry another sender claimed meanwhile is left to
/// that sender. The results follow the order of `ids`.
fn send_batch(
    desk: &Desk,
    transport: &mut dyn Transport,
    ids: &[u64],
    fresh: bool,
) -> Result<Vec<Sent>> {
    let at = now();
    let max_age = desk.config.outbox.max_age;
    let claimed = desk.storage.write(|tx| {
        ids.iter()
            .map(|&id| claim(tx, id, at, fresh, max_age))
            .collect::<Result<Vec<_>>>()
    })?;
    let mut results: Vec<Option<Sent>> = Vec::with_capacity(claimed.len());
    let mut outcomes: Vec<(usize, u64, Outcome)> = Vec::new();
    let mut since = std::time::Instant::now();
    for claim in claimed {
        let entry = match claim {
            Claimed::Gone => {
                results.push(None);
                continue;
            }
            Claimed::GivenUp(e) => {
                results.push(Some(Sent::of(&e)));
                continue;
            }
            Claimed::Attempt(e) => e,
        };
        let outcome = match desk.storage.mail().get(&entry.hash) {
            Ok(bytes) => {
                // Other processes (deliveries) may use the database while we wait.
                desk.storage.release();
                transport.send(&entry.envelope, &entry.recipient, &bytes)
            }
            Err(e) => Outcome::Temporary(format!("{e:#}")),
        };
        outcomes.push((results.len(), entry.id, outcome));
        results.push(None);
        if since.elapsed() >= RECORD_EVERY {
            record(desk, &mut outcomes, &mut results)?;
            since = std::time::Instant::now();
        }
    }
    record(desk, &mut outcomes, &mut results)?;
    Ok(results.into_iter().flatten().collect())
}

/// The claiming of entry `id` in the write `tx` at `at`: see [`send_batch`].
fn claim(tx: &dyn Writer, id: u64, at: i64, fresh: bool, max_age: i64) -> Result<Claimed> {
    let Some(mut e) = tx.outbox_entry(id)? else {
        return Ok(Claimed::Gone);
    };
    let due = e.next_attempt <= at || (fresh && e.attempts == 0);
    if e.state != OutboxState::Queued || !due {
        return Ok(Claimed::Gone);
    }
    if crate::model::outbox::is_automatic(&e.kind) {
        if let Some(s) = tx.suppression(&e.recipient)? {
            // Suppressed after it was queued: automatic mail never goes.
            e.state = OutboxState::Dropped;
            e.done_at = at;
            e.last_error = format!("not sent: {} is suppressed ({})", s.address, s.reason);
            tx.save_outbox_entry(&e)?;
            return Ok(Claimed::GivenUp(e));
        }
    }
    if e.attempts > 0 && at - e.queued_at > max_age {
        // Claimed before and never recorded (a crash), and too old now.
        let reason = format!(
            "not sent within outbox.max_age after {} attempts: {}",
            e.attempts,
            if e.last_error.is_empty() {
                "no outcome was recorded"
            } else {
                &e.last_error
            }
        );
        fail(tx, &mut e, at, reason)?;
        tx.save_outbox_entry(&e)?;
        return Ok(Claimed::GivenUp(e));
    }
    e.attempts += 1;
    e.next_attempt = at + backoff(e.attempts);
    tx.save_outbox_entry(&e)?;
    Ok(Claimed::Attempt(e))
}

/// Records `outcomes` (the place in `results`, the entry, what the transport said)
/// in one write, and puts what came of each in `results`; empties `outcomes`.
fn record(
    desk: &Desk,
    outcomes: &mut Vec<(usize, u64, Outcome)>,
    results: &mut [Option<Sent>],
) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let done = now();
    let max_age = desk.config.outbox.max_age;
    let sent = desk.storage.write(|tx| {
        outcomes
            .iter()
            .map(|(_, id, outcome)| record_one(tx, *id, outcome, done, max_age))
            .collect::<Result<Vec<_>>>()
    })?;
    for ((place, _, _), sent) in outcomes.drain(..).zip(sent) {
        results[place] = Some(sent);
    }
    Ok(())
}

/// The outcome of an attempt at entry `id`, recorded in the write `tx`.
fn record_one(
    tx: &dyn Writer,
    id: u64,
    outcome: &Outcome,
    done: i64,
    max_age: i64,
) -> Result<Sent> {
    let Some(mut e) = tx.outbox_entry(id)? else {
        bail!("outbox entry {id} vanished");
    };
    match outcome {
        Outcome::Sent => {
            e.state = OutboxState::Sent;
            e.done_at = done;
            e.last_error.clear();
        }
        Outcome::Temporary(why) => {
            e.last_error = why.clone();
            if e.next_attempt - e.queued_at > max_age {
                let reason = format!(
                    "still failing after {} attempts, given up: {why}",
                    e.attempts
                );
                fail(tx, &mut e, done, reason)?;
            }
        }
        Outcome::Permanent(why) => {
            e.last_error = why.clone();
            fail(tx, &mut e, done, format!("refused: {why}"))?;
        }
    }
    tx.save_outbox_entry(&e)?;
    Ok(Sent::of(&e))
}

/// What the claiming write found.
enum Claimed {
    /// No longer queued, or not due: someone else's, or done.
    Gone,
    /// Too old to try again: failed now.
    GivenUp(OutboxEntry),
    /// Ours to hand to the transport.
    Attempt(OutboxEntry),
}

impl Sent {
    fn of(e: &OutboxEntry) -> Sent {
        Sent {
            id: e.id,
            recipient: e.recipient.clone(),
            state: e.state,
            error: (e.state != OutboxState::Sent).then(|| e.last_error.clone()),
        }
    }
}

/// Fails entry `e` for good and says so on its ticket, in the write `tx`.
fn fail(tx: &dyn Writer, e: &mut OutboxEntry, at: i64, reason: String) -> Result<()> {
    e.state = OutboxState::Failed;
    e.done_at = at;
    if tx.ticket(e.ticket)?.is_some() {
        let event = Event {
            at,
            actor: OUTBOX_ACTOR.to_string(),
            kind: EventKind::MailFailed {
                to: e.recipient.clone(),
                message_id: e.message_id.clone(),
                reason,
            },
        };
        tx.append_event(e.ticket, &event)?;
    }
    Ok(())
}

/// Outbox entries, all or only those queued, oldest first.
pub fn list(desk: &Desk, queued_only: bool) -> Result<Vec<OutboxEntry>> {
    desk.storage.read(|r| r.outbox(queued_only))
}

/// Entry `id` and its message's bytes.
pub fn show(desk: &Desk, id: u64) -> Result<(OutboxEntry, Vec<u8>)> {
    let entry = desk
        .storage
        .read(|r| r.outbox_entry(id))?
        .with_context(|| format!("outbox entry {id} not found"))?;
    // An entry whose message could not be built has no bytes: `last_error` says why.
    if entry.hash.is_empty() {
        return Ok((entry, Vec::new()));
    }
    let bytes = desk.storage.mail().get(&entry.hash)?;
    Ok((entry, bytes))
}

/// An admin's change to a queued or failed entry (`verb`: retry, drop; `done`: its
/// participle), in one write.
fn change_entry(
    desk: &Desk,
    id: u64,
    (verb, done): (&str, &str),
    change: impl Fn(&mut OutboxEntry, i64),
) -> Result<OutboxEntry> {
    let actor = desk.actor()?;
    if !desk.config.user(actor).is_some_and(|u| u.admin) {
        bail!("only an admin may {verb} outbox entries ({actor} may not)");
    }
    let at = now();
    desk.storage.write(|tx| {
        let mut e = tx
            .outbox_entry(id)?
            .with_context(|| format!("outbox entry {id} not found"))?;
        if !matches!(e.state, OutboxState::Failed | OutboxState::Queued) {
            bail!(
                "outbox entry {id} is {}: only a queued or failed one can be {done}",
                e.state.as_str()
            );
        }
        change(&mut e, at);
        tx.save_outbox_entry(&e)?;
        Ok(e)
    })
}

/// `outbox retry ID`: a failed (or queued) entry is due now, and its `max_age`
/// starts again.
pub fn retry(desk: &Desk, id: u64) -> Result<OutboxEntry> {
    let unbuilt = desk.storage.read(|r| r.outbox_entry(id))?;
    if let Some(e) = unbuilt.filter(|e| e.hash.is_empty()) {
        bail!(
            "outbox entry {id} has no message to send ({}): fix what stopped it \
             (`postdesk template check`); the next change will build a new one",
            e.last_error
        );
    }
    let entry = change_entry(desk, id, ("retry", "retried"), |e, at| {
        e.state = OutboxState::Queued;
        e.queued_at = at;
        e.next_attempt = at;
        e.done_at = 0;
    })?;
    wake_watcher(desk);
    Ok(entry)
}

/// `outbox drop ID`: a queued or failed entry is never sent.
pub fn drop_entry(desk: &Desk, id: u64) -> Result<OutboxEntry> {
    change_entry(desk, id, ("drop", "dropped"), |e, at| {
        e.state = OutboxState::Dropped;
        e.done_at = at;
    })
}

#[cfg(test)]
mod tests {
    use super::queue as queue_entry;
    use super::*;
    use crate::store::Teardown;

    /// Says what `outcomes` holds for each recipient, and remembers who it was given.
    struct Fake {
        outcomes: Vec<(&'static str, Outcome)>,
        given: Vec<String>,
    }

    impl Transport for Fake {
        fn send(&mut self, _: &str, recipient: &str, _: &[u8]) -> Outcome {
            self.given.push(recipient.to_string());
            self.outcomes
                .iter()
                .find(|(r, _)| *r == recipient)
                .map(|(_, o)| o.clone())
                .unwrap_or(Outcome::Sent)
        }
        fn describe(&self) -> String {
            "fake".into()
        }
    }

    fn desk(dir: &std::path::Path, max_age: &str) -> Desk {
        let text = format!(
            "settings: {{ db: db }}\nusers:\n  - {{ login: alice, name: A, email: a@x.example, admin: true }}\nmail_out: {{ transport: maildir, path: sent }}\noutbox: {{ max_age: {max_age} }}\n"
        );
        let config = crate::config::Config::parse(&text, &dir.join("postdesk.yaml")).unwrap();
        let db = dir.join("db");
        Desk::new(
            config,
            Some(db),
            None,
            std::time::Duration::from_secs(5),
            Teardown::Now,
        )
        .unwrap()
    }

    /// Ticket 1 and an entry per (recipient, queued_at, attempts, next_attempt).
    fn queue(desk: &Desk, entries: &[(&str, i64, u32, i64)]) -> Vec<u64> {
        desk.storage
            .mail()
            .put_all(&[(&crate::mail::parse::hash_hex(b"m"), b"m")])
            .unwrap();
        desk.storage
            .write(|tx| {
                if tx.ticket(1)?.is_none() {
                    let n = tx.next_number()?;
                    tx.save_ticket(&Ticket::new(n, "s", 1))?;
                }
                entries
                    .iter()
                    .map(|(to, at, attempts, next)| {
                        let mut e = OutboxEntry::queued(
                            1,
                            to,
                            "help@x",
                            &crate::mail::parse::hash_hex(b"m"),
                            *at,
                        );
                        e.message_id = "ticket.1.a.b@x".into();
                        e.attempts = *attempts;
                        e.next_attempt = *next;
                        tx.queue_outbox(&e)
                    })
                    .collect()
            })
            .unwrap()
    }

    fn failures(desk: &Desk) -> Vec<(String, String)> {
        desk.storage
            .read(|r| r.events(1))
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::MailFailed { to, reason, .. } => Some((to, reason)),
                _ => None,
            })
            .collect()
    }

    /// (recipient, state) of each entry a run handled.
    fn states(sent: &[Sent]) -> Vec<(&str, OutboxState)> {
        sent.iter()
            .map(|s| (s.recipient.as_str(), s.state))
            .collect()
    }

    fn send(desk: &Desk, fake: &mut Fake, only: Option<&[u64]>) -> Vec<Sent> {
        let due: Vec<OutboxEntry> = desk.storage.read(|r| r.outbox(true)).unwrap();
        let at = now();
        let ids: Vec<u64> = due
            .iter()
            .filter(|e| only.map_or(e.next_attempt <= at, |ids| ids.contains(&e.id)))
            .map(|e| e.id)
            .collect();
        send_batch(desk, fake, &ids, only.is_some()).unwrap()
    }

    #[test]
    fn a_permanent_failure_stops_that_recipient_only_and_is_on_the_ticket() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path(), "3d");
        let t = now();
        queue(&desk, &[("bad@x", t, 0, t), ("good@x", t, 0, t)]);
        let mut fake = Fake {
            outcomes: vec![("bad@x", Outcome::Permanent("550 no such user".into()))],
            given: vec![],
        };
        let sent = send(&desk, &mut fake, None);
        assert_eq!(
            states(&sent),
            [
                ("bad@x", OutboxState::Failed),
                ("good@x", OutboxState::Sent)
            ]
        );
        let failed = failures(&desk);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, "bad@x");
        assert!(failed[0].1.contains("550 no such user"), "{failed:?}");
        assert!(
            send(&desk, &mut fake, None).is_empty(),
            "nothing is tried again"
        );
    }

    #[test]
    fn a_temporary_failure_is_given_up_after_max_age() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path(), "1h");
        let t = now();
        queue(
            &desk,
            &[("slow@x", t - 600, 0, t), ("old@x", t - 7200, 1, t - 1)],
        );
        let mut fake = Fake {
            outcomes: vec![("slow@x", Outcome::Temporary("451 try later".into()))],
            given: vec![],
        };
        let sent = send(&desk, &mut fake, None);
        // slow@x: 10 min old, retried in a minute; old@x: claimed before (a crash),
        // past max_age: failed without being handed over again.
        assert_eq!(fake.given, ["slow@x"]);
        assert_eq!(
            states(&sent),
            [
                ("slow@x", OutboxState::Queued),
                ("old@x", OutboxState::Failed)
            ]
        );
        let failed = failures(&desk);
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].1.contains("max_age after 1 attempts"),
            "{failed:?}"
        );
        let waiting = desk.storage.read(|r| r.outbox(true)).unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].attempts, 1);
        assert_eq!(waiting[0].last_error, "451 try later");
        assert!(waiting[0].next_attempt >= t + 60);
    }

    #[test]
    fn a_temporary_failure_whose_next_try_passes_max_age_fails() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path(), "1h");
        let t = now();
        queue(&desk, &[("slow@x", t - 3590, 3, t)]);
        let mut fake = Fake {
            outcomes: vec![("slow@x", Outcome::Temporary("451 try later".into()))],
            given: vec![],
        };
        let sent = send(&desk, &mut fake, None);
        assert_eq!(sent[0].state, OutboxState::Failed);
        assert!(failures(&desk)[0].1.contains("given up: 451 try later"));
    }

    #[test]
    fn a_reply_built_from_a_ticket_that_changed_is_refused_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path(), "3d");
        queue(&desk, &[]);
        let built = BuiltReply {
            recorded: "hi".into(),
            subject: "old subject".into(),
            service: None,
            requester: None,
            followers: vec![],
            recipients: vec!["ann@x".into()],
            unusable: vec![],
            envelope: "help@x".into(),
            message_id: "ticket.1.a.b@x".into(),
            hash: "00".into(),
            bytes: vec![],
        };
        let change = ReplyChange {
            built: &built,
            text: "hi".into(),
            key: &[7; 32],
            queued: RefCell::default(),
        };
        let err = desk
            .storage
            .write(|tx| {
                let mut t = tx.ticket_for_update(1)?.unwrap();
                change.apply(tx, "alice", &mut t)
            })
            .unwrap_err();
        assert!(err.is::<Stale>(), "{err:#}");
        assert!(desk.storage.read(|r| r.outbox(false)).unwrap().is_empty());
    }

    #[test]
    fn what_another_sender_claimed_is_left_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path(), "3d");
        let t = now();
        let ids = queue(&desk, &[("ann@x", t, 1, t + 60)]);
        let mut fake = Fake {
            outcomes: vec![],
            given: vec![],
        };
        assert!(send(&desk, &mut fake, Some(&ids)).is_empty());
        assert!(fake.given.is_empty());
    }

    fn suppress_ann(desk: &Desk) {
        desk.storage
            .write(|tx| {
                tx.suppress(&Suppression {
                    address: "ann@x".into(),
                    at: 1,
                    reason: "5.1.1 no such user".into(),
                    status: "5.1.1".into(),
                    outbox_id: 0,
                    ticket: 0,
                    by: "bounce".into(),
                })
            })
            .unwrap();
    }

    #[test]
    fn queue_signs_a_verp_envelope_and_keeps_automatic_mail_from_a_suppressed_address() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path(), "3d");
        queue(&desk, &[]);
        suppress_ann(&desk);
        let key = [7u8; 32];
        let entry = |to: &str, kind: &str| {
            let mut e = OutboxEntry::queued(1, to, "bounces@x.example", "00", 5);
            e.kind = kind.into();
            e
        };
        let done = desk
            .storage
            .write(|tx| {
                Ok([
                    queue_entry(tx, &entry("bob@x", "notify"), &key)?,
                    queue_entry(tx, &entry("ANN@x", "notify"), &key)?,
                    queue_entry(tx, &entry("ann@x", "reply"), &key)?,
                    Queued::Entry(u64::from(is_suppressed(tx, "Ann@X")?)),
                ])
            })
            .unwrap();
        let Queued::Entry(bob) = done[0] else {
            panic!("{done:?}")
        };
        assert!(matches!(&done[1], Queued::Suppressed(s) if s.address == "ann@x"));
        assert!(matches!(&done[2], Queued::Anyway(_, s) if s.status == "5.1.1"));
        assert_eq!(done[3], Queued::Entry(1), "is_suppressed");
        let entries = desk.storage.read(|r| r.outbox(false)).unwrap();
        assert_eq!(entries.len(), 2, "the automatic mail to ann was not queued");
        let bob = entries.iter().find(|e| e.id == bob).unwrap();
        assert_eq!(
            bob.envelope,
            crate::mail::verp::address("bounces@x.example", &key, bob.id).unwrap()
        );
        assert_eq!(
            crate::mail::verp::entry_of(&bob.envelope, &["bounces"], &key),
            Some(bob.id)
        );
    }

    #[test]
    fn automatic_mail_queued_before_a_suppression_is_dropped_not_sent() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path(), "3d");
        let t = now();
        let ids = queue(&desk, &[("ann@x", t, 0, t), ("bob@x", t, 0, t)]);
        desk.storage
            .write(|tx| {
                for id in &ids {
                    let mut e = tx.outbox_entry(*id)?.unwrap();
                    e.kind = "notify".into();
                    tx.save_outbox_entry(&e)?;
                }
                Ok(())
            })
            .unwrap();
        suppress_ann(&desk);
        let mut fake = Fake {
            outcomes: vec![],
            given: vec![],
        };
        let sent = send(&desk, &mut fake, None);
        assert_eq!(fake.given, ["bob@x"]);
        let ann = sent.iter().find(|s| s.recipient == "ann@x").unwrap();
        assert_eq!(ann.state, OutboxState::Dropped);
        assert!(
            ann.error.as_deref().unwrap().contains("suppressed"),
            "{ann:?}"
        );
    }

    #[test]
    fn backoff_grows_and_stops_growing() {
        let waits: Vec<i64> = (1..=7).map(backoff).collect();
        assert_eq!(waits, [60, 300, 900, 3600, 14400, 14400, 14400]);
        assert_eq!(backoff(0), 60);
    }
}

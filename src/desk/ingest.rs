//! The ingest pipeline: raw mail -> parse -> dedupe -> filter -> thread -> store.
//!
//! A batch of messages is decided and written in one transaction, then flushed once.
//! Raw bytes go to the mail store (fsync'd) before the transaction, so every message
//! the database knows is on disk; a crash before the commit only leaves an
//! unreferenced file, and re-running the source is absorbed by the dedupe.

use std::collections::BTreeSet;

use anyhow::{bail, Context, Result};
use regex::Regex;
use serde::Serialize;

use super::intake::too_large;
use super::{now, Desk};
use crate::config::Service;
use crate::mail::auth;
use crate::mail::classify::automatic;
use crate::mail::fingerprint;
use crate::mail::parse::{parse, strip_envelope, Incoming};
use crate::model::{
    Assignee, Event, EventKind, IgnoredMail, LinkKind, MailIn, Priority, Requester, Status,
    TextRef, Ticket,
};
use crate::store::{Claim, Indexing, Writer};

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Created {
        ticket: u64,
    },
    Reply {
        ticket: u64,
    },
    Duplicate {
        ticket: Option<u64>,
    },
    Ignored {
        reason: String,
    },
    /// `id`: its quarantine ID (none in a dry run).
    Quarantined {
        reason: String,
        #[serde(rename = "quarantine_id", skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// One message's outcome, with enough to recognise it.
#[derive(Clone, Debug, Serialize)]
pub struct Processed {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub from: String,
    pub subject: String,
}

impl Processed {
    /// The outcome of a parsed message, with its sender's address and subject.
    pub fn of(outcome: Outcome, msg: &Incoming) -> Processed {
        Processed {
            outcome,
            from: sender_email(msg),
            subject: msg.subject.clone(),
        }
    }

    /// The outcome of a message that was not parsed: no sender or subject to show.
    pub fn unread(outcome: Outcome) -> Processed {
        Processed {
            outcome,
            from: String::new(),
            subject: String::new(),
        }
    }
}

/// Counts for the end-of-run summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub created: u64,
    pub replies: u64,
    pub duplicates: u64,
    pub ignored: u64,
    pub quarantined: u64,
}

impl Summary {
    pub fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Created { .. } => self.created += 1,
            Outcome::Reply { .. } => self.replies += 1,
            Outcome::Duplicate { .. } => self.duplicates += 1,
            Outcome::Ignored { .. } => self.ignored += 1,
            Outcome::Quarantined { .. } => self.quarantined += 1,
        }
    }

    pub fn merge(&mut self, other: Summary) {
        self.created += other.created;
        self.replies += other.replies;
        self.duplicates += other.duplicates;
        self.ignored += other.ignored;
        self.quarantined += other.quarantined;
    }

    pub fn total(&self) -> u64 {
        self.created + self.replies + self.duplicates + self.ignored + self.quarantined
    }
}

/// A new ticket, or the rule that said to make none.
enum Created {
    Ticket(u64),
    IgnoredBy(String),
}

/// The compiled settings of one ingest run.
#[derive(Clone)]
pub struct Pipeline<'a> {
    desk: &'a Desk,
    subject_tag: Regex,
    ignore_subjects: Vec<Regex>,
    dry_run: bool,
    /// A bulk import: words may wait for the index (see [`Pipeline::importing`]).
    importing: bool,
    /// An archive: each message is dated by its Date (see [`Pipeline::dated_by_mail`]).
    mail_dates: bool,
    /// A retry of ignored mail: a rule's `ignore` is passed over (see
    /// [`Pipeline::retry_ignored`]).
    forced: bool,
    /// The key of our Message-IDs, if the desk has one yet (see `mail::compose`).
    message_id_key: Option<Vec<u8>>,
}

impl<'a> Pipeline<'a> {
    pub fn new(desk: &'a Desk, dry_run: bool) -> Result<Pipeline<'a>> {
        let prefix = regex::escape(&desk.config.settings.subject_prefix);
        let subject_tag = Regex::new(&format!(r"\[\s*{prefix}(\d+)\s*\]"))?;
        desk.rules()?;
        let ignore_subjects = desk
            .config
            .ingest
            .ignore_subjects
            .iter()
            .map(|p| Regex::new(p).with_context(|| format!("ingest.ignore_subjects: {p}")))
            .collect::<Result<_>>()?;
        Ok(Pipeline {
            desk,
            subject_tag,
            ignore_subjects,
            dry_run,
            importing: false,
            mail_dates: false,
            forced: false,
            // Never a reason to refuse mail: without it, threading uses the records.
            message_id_key: desk.storage.existing_message_id_key().ok().flatten(),
        })
    }

    /// For an archive (mbox, Maildir): a message's time (a new ticket's `created`,
    /// its events, `updated`) is its Date when plausible ([`archive_time`]), else
    /// the time of import. Mail that arrives (stdin, spool, IMAP) is dated on arrival.
    pub fn dated_by_mail(mut self) -> Self {
        self.mail_dates = true;
        self
    }

    /// For a bulk import: its batches let mail words wait for the index (searches
    /// read them meanwhile), indexed by passes of their own when many wait and at
    /// the import's end (`Storage::index_deferred_words`): indexing each batch
    /// rewrote the word postings every 500 messages, most of the database file at
    /// 100,000 tickets.
    pub fn importing(mut self) -> Self {
        self.importing = true;
        self
    }

    /// Whether mail this run stores gets notifications, rules' mail and
    /// auto-replies (queued, never sent here): not in a dry run, and not for an
    /// archive (`ingest mbox`, `ingest maildir`), whose mail is history.
    fn queues_mail(&self) -> bool {
        !self.dry_run && !self.mail_dates
    }

    /// Bytes: a larger message is quarantined, never parsed.
    pub fn max_message_size(&self) -> u64 {
        self.desk.config.ingest.max_message_size
    }

    /// Quarantines a message that is not parsed: a copy of `file`, else `raw`.
    pub fn quarantine_unparsed(
        &self,
        raw: &[u8],
        file: Option<&std::path::Path>,
        reason: String,
    ) -> Result<Processed> {
        let id = if self.dry_run {
            None
        } else {
            let quarantine = self.desk.storage.quarantine();
            Some(match file {
                Some(path) => quarantine.put_file(path, &reason)?,
                None => quarantine.put(raw, &reason)?,
            })
        };
        Ok(Processed::unread(Outcome::Quarantined { reason, id }))
    }

    /// The message without its mbox envelope, parsed; or why it must be quarantined.
    fn parse_checked<'r>(&self, raw: &'r [u8]) -> Result<(Incoming, &'r [u8]), String> {
        let body = strip_envelope(raw);
        let limit = self.max_message_size();
        match body.len() as u64 {
            size if size > limit => Err(too_large("the message", size, limit)),
            _ => parse(body)
                .map(|msg| (msg, body))
                .map_err(|e| e.to_string()),
        }
    }

    /// Why a batch would quarantine `raw`, or None when it can be used.
    pub fn quarantine_reason(&self, raw: &[u8]) -> Option<String> {
        self.parse_checked(raw).err()
    }

    /// Stores a batch of raw messages in one durable write.
    pub fn run_batch(&self, raws: &[Vec<u8>]) -> Result<Vec<Processed>> {
        self.run_batch_and(raws, |_| Ok(()))
    }

    /// [`Pipeline::run_batch`], with `also` written in the same transaction (the
    /// IMAP cursor of the batch: stored mail and the cursor commit together).
    pub fn run_batch_and(
        &self,
        raws: &[Vec<u8>],
        also: impl Fn(&dyn Writer) -> Result<()>,
    ) -> Result<Vec<Processed>> {
        let mut results: Vec<Option<Processed>> = vec![None; raws.len()];
        let mut parsed: Vec<(usize, Incoming, &[u8])> = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            match self.parse_checked(raw) {
                Ok((msg, body)) => parsed.push((i, msg, body)),
                Err(reason) => {
                    let body = strip_envelope(raw);
                    results[i] = Some(self.quarantine_unparsed(body, None, reason)?);
                }
            }
        }
        let to_store: Vec<(&str, &[u8])> = parsed
            .iter()
            .map(|(_, m, body)| (m.hash.as_str(), *body))
            .collect();
        // Mail that may queue automatic mail stores its bytes with that mail's, in
        // one call inside the write (before it commits): one file sync, not two.
        let together = self.queues_mail() && self.desk.config.mail_out.is_some();
        if !self.dry_run && !together {
            self.desk.storage.mail().put_all(&to_store)?;
        }
        let at = now();
        let decide_all = |tx: &dyn Writer| {
            if self.importing {
                tx.defer_words();
            }
            if together {
                *self.desk.pending_mail.borrow_mut() = Some(Vec::new());
            }
            let outcomes = parsed
                .iter()
                .map(|(_, msg, _)| match self.mail_dates {
                    true => self.decide(tx, msg, archive_time(msg.date, at)),
                    false => self.decide(tx, msg, at),
                })
                .collect::<Result<Vec<_>>>();
            if together {
                let outgoing = self.desk.pending_mail.borrow_mut().take();
                let outcomes = outcomes?;
                let outgoing = outgoing.unwrap_or_default();
                let mut all = to_store.clone();
                all.extend(outgoing.iter().map(|(h, b)| (h.as_str(), b.as_slice())));
                self.desk.storage.mail().put_all(&all)?;
                also(tx)?;
                return Ok(outcomes);
            }
            let outcomes = outcomes?;
            also(tx)?;
            Ok(outcomes)
        };
        let storage = &self.desk.storage;
        let outcomes = if self.dry_run {
            storage.rehearse(decide_all)?
        } else {
            let outcomes = storage.write(decide_all)?;
            if self.importing {
                storage.index_deferred_words(Indexing::WhenDue)?;
            }
            outcomes
        };
        for ((i, msg, _), outcome) in parsed.iter().zip(outcomes) {
            results[*i] = Some(Processed::of(outcome, msg));
        }
        Ok(results.into_iter().flatten().collect())
    }

    fn decide(&self, tx: &dyn Writer, msg: &Incoming, at: i64) -> Result<Outcome> {
        let (key, notes) = match filing(tx, msg)? {
            Filing::Copy { ticket } => return duplicate(tx, msg, ticket, at),
            Filing::New { key, reuses } => (
                key,
                reuses
                    .map(|first| EventKind::ReusedMessageId {
                        message_id: msg.key(),
                        first,
                    })
                    .into_iter()
                    .collect::<Vec<_>>(),
            ),
        };
        if let Some(outcome) = self.verp_bounce(tx, msg, &key, at)? {
            return Ok(outcome);
        }
        if let Some(reason) = self.ignore_reason(msg) {
            if let Some(n) = self.answered_outgoing(tx, msg, &reason)? {
                let kind = EventKind::DeliveryProblem {
                    reason: reason.clone(),
                    mail: self.mail_in(msg, false),
                };
                tx.append_event(
                    n,
                    &Event {
                        at,
                        actor: sender_email(msg),
                        kind,
                    },
                )?;
                tx.file_message(&key, n, &msg.content)?;
                return Ok(Outcome::Ignored {
                    reason: format!("{reason}, recorded on #{n} as a delivery problem"),
                });
            }
            return ignore(tx, msg, key, reason, at);
        }
        self.admit(tx, msg, key, notes, at)
    }

    /// Mail to the VERP address of one of our outbox entries, its token signed by
    /// our key (`desk::bounce`): recorded on the entry's ticket, never a ticket nor
    /// answered. None for any other mail (a token that does not verify included).
    fn verp_bounce(
        &self,
        tx: &dyn Writer,
        msg: &Incoming,
        key: &str,
        at: i64,
    ) -> Result<Option<Outcome>> {
        let Some(secret) = &self.message_id_key else {
            return Ok(None);
        };
        let Some(id) = super::bounce::verp_entry(&self.desk.config, secret, msg) else {
            return Ok(None);
        };
        let mail = self.mail_in(msg, false);
        let Some(done) = super::bounce::record(tx, id, msg, mail, &sender_email(msg), at)? else {
            return Ok(None);
        };
        tx.file_message(key, done.ticket, &msg.content)?;
        let on = match done.ticket {
            0 => String::new(),
            n => format!(", recorded on #{n}"),
        };
        Ok(Some(Outcome::Ignored {
            reason: format!("{}{on}", done.summary),
        }))
    }

    /// Ignored mail `id` (its message `msg`, read back from the mail store) made
    /// into a ticket, or a reply if it names one the sender may join: past the
    /// filter or rule that ignored it (a rule's `ignore` is passed over, and the
    /// rules after it are not run). Its record is removed in the same write. An
    /// error names the ID and what to do.
    pub fn retry_ignored(&self, tx: &dyn Writer, id: u64, msg: &Incoming) -> Result<Outcome> {
        if tx.ignored_mail(id)?.is_none() {
            bail!("no ignored mail {id} (made a ticket already?); `postdesk ingest ignored` lists them");
        }
        let (key, ticket) = filed_key(tx, msg)?;
        if ticket > 0 {
            bail!(
                "ignored mail {id} is a copy of mail on ticket #{ticket}: it is there \
                 already (`postdesk ticket show {ticket}`)"
            );
        }
        let forced = Pipeline {
            forced: true,
            ..self.clone()
        };
        let outcome = forced.admit(tx, msg, key, Vec::new(), now())?;
        if !tx.remove_ignored(id)? {
            bail!("ignored mail {id} was taken by another process meanwhile");
        }
        Ok(outcome)
    }

    /// A message past the dedupe and the filters: joins the ticket it names or makes
    /// one (when `forced`, even if a rule says to ignore it), filed under `key`.
    fn admit(
        &self,
        tx: &dyn Writer,
        msg: &Incoming,
        key: String,
        mut notes: Vec<EventKind>,
        at: i64,
    ) -> Result<Outcome> {
        let config = &self.desk.config;
        let from = msg.from.as_ref().context("message without a sender")?;
        let authenticated = self.authenticated(msg);
        let claimed = config.user_by_email(&from.email).map(|u| u.login.clone());
        let agent = claimed.clone().filter(|_| authenticated);
        if let (Some(login), None) = (&claimed, &agent) {
            notes.push(EventKind::Unauthenticated {
                login: login.clone(),
                address: from.email.clone(),
            });
        }
        let (target, link) = match self.referenced_ticket(tx, msg, agent.is_some())? {
            Some(Named {
                ticket,
                may_join: true,
                ..
            }) => (Some(ticket), None),
            Some(named) => (None, Some(named)),
            None => (None, None),
        };
        let outcome = match target {
            Some(n) => {
                self.add_reply(tx, n, msg, agent.as_deref(), notes, at)?;
                Outcome::Reply { ticket: n }
            }
            None => match self.create_ticket(tx, msg, link, authenticated, notes, at)? {
                Created::Ticket(ticket) => Outcome::Created { ticket },
                Created::IgnoredBy(rule) => {
                    return ignore(tx, msg, key, format!("rule '{rule}'"), at);
                }
            },
        };
        let ticket = match &outcome {
            Outcome::Reply { ticket } | Outcome::Created { ticket } => *ticket,
            _ => 0,
        };
        tx.file_message(&key, ticket, &msg.content)?;
        if claimed.is_none() {
            tx.upsert_customer(&from.email, from.name.as_deref(), at)?;
        }
        Ok(outcome)
    }

    /// Whether the config lets the mail's From be believed: `ingest.trust_from`, or
    /// the trusted server's `Authentication-Results` passing the From domain.
    fn authenticated(&self, msg: &Incoming) -> bool {
        let settings = &self.desk.config.ingest;
        if settings.trust_from {
            return true;
        }
        let (Some(server), Some(from)) = (&settings.trusted_authserv_id, &msg.from) else {
            return false;
        };
        let domain = from.email.rsplit_once('@').map_or("", |(_, d)| d);
        auth::from_domain_passes(&msg.headers, server, domain)
    }

    fn ignore_reason(&self, msg: &Incoming) -> Option<String> {
        let settings = &self.desk.config.ingest;
        if settings.ignore_automatic {
            if let Some(kind) = automatic(msg, &settings.loop_id) {
                return Some(kind.as_str().to_string());
            }
        }
        let email = msg.from.as_ref().map(|a| a.email.as_str()).unwrap_or("");
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if let Some(rule) = settings
            .ignore_senders
            .iter()
            .find(|s| s.eq_ignore_ascii_case(email) || s.eq_ignore_ascii_case(domain))
        {
            return Some(format!("filter: sender {rule}"));
        }
        self.ignore_subjects
            .iter()
            .find(|re| re.is_match(&msg.subject))
            .map(|re| format!("filter: subject /{}/", re.as_str()))
    }

    /// The ticket of our own outgoing mail that a bounce or auto-reply answers.
    fn answered_outgoing(
        &self,
        tx: &dyn Writer,
        msg: &Incoming,
        reason: &str,
    ) -> Result<Option<u64>> {
        if !matches!(reason, "bounce" | "auto-reply") {
            return Ok(None);
        }
        for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()) {
            if let Some(n) = tx.outgoing_ticket(id)? {
                if tx.ticket(n)?.is_some() {
                    return Ok(Some(n));
                }
            }
        }
        Ok(None)
    }

    /// The ticket the message names: by In-Reply-To/References, else by a `[#42]`
    /// tag in the subject; and whether the sender may join it.
    fn referenced_ticket(
        &self,
        tx: &dyn Writer,
        msg: &Incoming,
        agent: bool,
    ) -> Result<Option<Named>> {
        let by_reference = match self.signed_reference(tx, msg)? {
            Some(n) => Some(n),
            None => self.thread_by_references(tx, msg)?,
        };
        let (ticket, how) = match by_reference {
            Some(n) => (n, "its references named"),
            None => match self.tagged_number(msg) {
                Some(n) => (n, "the subject named"),
                None => return Ok(None),
            },
        };
        let Some(t) = tx.ticket(ticket)? else {
            return Ok(None);
        };
        let email = msg.from.as_ref().map(|a| a.email.as_str()).unwrap_or("");
        Ok(Some(Named {
            ticket,
            may_join: agent || is_participant(&t, email),
            how,
        }))
    }

    /// The ticket of a Message-ID of ours that the mail answers (In-Reply-To, then
    /// References newest first), proved by its HMAC: trusted over any other
    /// reference, which anyone can copy from anywhere.
    fn signed_reference(&self, tx: &dyn Writer, msg: &Incoming) -> Result<Option<u64>> {
        let Some(key) = &self.message_id_key else {
            return Ok(None);
        };
        for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()) {
            if let Some(n) = crate::mail::compose::verify_message_id(key, id) {
                if tx.ticket(n)?.is_some() {
                    return Ok(Some(n));
                }
            }
        }
        Ok(None)
    }

    /// In-Reply-To, then References (newest first), against every Message-ID stored.
    fn thread_by_references(&self, tx: &dyn Writer, msg: &Incoming) -> Result<Option<u64>> {
        for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()) {
            if let Some(n) = tx.message_ticket(id)? {
                if n > 0 && tx.ticket(n)?.is_some() {
                    return Ok(Some(n));
                }
            }
        }
        Ok(None)
    }

    /// The number of a `[#42]` tag in the subject.
    fn tagged_number(&self, msg: &Incoming) -> Option<u64> {
        self.subject_tag
            .captures(&msg.subject)
            .and_then(|c| c[1].parse::<u64>().ok())
    }

    fn mail_event(&self, msg: &Incoming, agent: bool) -> EventKind {
        EventKind::Mail(self.mail_in(msg, agent))
    }

    fn mail_in(&self, msg: &Incoming, agent: bool) -> MailIn {
        MailIn {
            message_id: msg.key(),
            from: sender(msg),
            subject: msg.subject.clone(),
            text: msg.text.clone(),
            text_size: msg.text.len() as u64,
            hash: msg.hash.clone(),
            attachments: msg.attachments.clone(),
            agent,
        }
    }

    fn add_reply(
        &self,
        tx: &dyn Writer,
        n: u64,
        msg: &Incoming,
        agent: Option<&str>,
        notes: Vec<EventKind>,
        at: i64,
    ) -> Result<()> {
        let old = tx
            .ticket(n)?
            .with_context(|| format!("ticket #{n} not found"))?;
        let mut t = old.clone();
        let actor = agent
            .map(str::to_string)
            .unwrap_or_else(|| sender_email(msg));
        let mut events = vec![self.mail_event(msg, agent.is_some())];
        events.extend(notes);
        let mut fired = vec![crate::rules::RuleEvent::Reply];
        if let Some((answer, also)) = self.approval_answer(&mut t, msg, agent, at)? {
            events.extend(answer);
            fired.push(also);
        } else if agent.is_none()
            && self.desk.config.ingest.reopen_on_reply
            && matches!(t.status, Status::Pending | Status::Closed)
        {
            events.push(EventKind::Changed {
                field: "status".into(),
                from: t.status.to_string(),
                to: Status::Open.to_string(),
            });
            t.status = Status::Open;
            // Leaving closed drops the question, as every other move does.
            t.approval = super::close::approval_after_move(Status::Open);
        }
        // An agent who answered the requester directly (the desk in copy) gave the
        // first response as much as `ticket reply` would have.
        if agent.is_some() && addressed_to(msg, t.requester.email.as_deref()) {
            crate::model::sla::record_first_response(&mut t, at);
        }
        // An archive's mail comes in any order: `updated` is its latest mail's time.
        t.updated = t.updated.max(at);
        let (rule_events, _) = self
            .desk
            .apply_rules(&fired, Some(msg), agent.is_some(), &mut t)?;
        self.desk.follow_sla(Some(&old), &mut t, at);
        tx.save_ticket(&t)?;
        let events = append_all(tx, n, at, &actor, events)?;
        tx.queue_message_words(n, &format!("{}\n{}", msg.subject, msg.text))?;
        if !self.queues_mail() {
            return tx.append_entries(n, at, &rule_events);
        }
        // Mail is only queued here: a delivery never waits on an MTA.
        let (rule_events, _) =
            super::notify::rule_mail(self.desk, tx, &t, &actor, rule_events, Some(msg))?;
        tx.append_entries(n, at, &rule_events)?;
        super::notify::on_change(self.desk, tx, Some(&old), &t, &events, &actor)?;
        Ok(())
    }

    /// The requester's answer by mail to a closing whose approval is pending (as it
    /// stands at `at`: past `settings.approval_days` it counts as approved, and a
    /// late answer is a normal reply): the events of `ticket approve` or `ticket
    /// reject -m REST` and the rule event they fire (`updated`, `reopened`), made to
    /// `t`. Only the requester's mail answers (not a follower's, an agent's or a
    /// stranger's); None for any other mail, or a first line that is no answer.
    fn approval_answer(
        &self,
        t: &mut Ticket,
        msg: &Incoming,
        agent: Option<&str>,
        at: i64,
    ) -> Result<Option<(Vec<EventKind>, crate::rules::RuleEvent)>> {
        use crate::model::approval::{answer_in, MailAnswer};
        use crate::model::Approval;
        let days = self.desk.config.settings.approval_days;
        let pending = matches!(
            t.approval.map(|a| a.at(at, days)),
            Some(Approval::Pending { .. })
        );
        let from = msg.from.as_ref().map(|a| a.email.as_str()).unwrap_or("");
        let requester = t
            .requester
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(from));
        if agent.is_some() || !pending || !requester || t.status != Status::Closed {
            return Ok(None);
        }
        Ok(match answer_in(&msg.text) {
            None => None,
            Some(MailAnswer::Approve) => {
                t.approval = Some(Approval::Approved);
                Some((vec![EventKind::Approved], crate::rules::RuleEvent::Updated))
            }
            Some(MailAnswer::Reject { why }) => {
                let mut events = super::verbs::move_status(t, Status::Open)?;
                t.approval = Some(Approval::Rejected);
                events.insert(0, EventKind::Rejected { comment: why });
                Some((events, crate::rules::RuleEvent::Reopened))
            }
        })
    }

    fn create_ticket(
        &self,
        tx: &dyn Writer,
        msg: &Incoming,
        link: Option<Named>,
        authenticated: bool,
        notes: Vec<EventKind>,
        at: i64,
    ) -> Result<Created> {
        let (mut ticket, held_cc) =
            self.draft(msg, link.as_ref().map(|l| l.ticket), authenticated, at)?;
        let from = msg.from.clone().context("message without a sender")?;
        let from_agent = authenticated && self.desk.config.user_by_email(&from.email).is_some();
        let (rule_events, ignored_by) = self.desk.apply_rules(
            &[crate::rules::RuleEvent::Created],
            Some(msg),
            from_agent,
            &mut ticket,
        )?;
        if let Some(rule) = ignored_by.filter(|_| !self.forced) {
            return Ok(Created::IgnoredBy(rule));
        }
        self.desk.follow_sla(None, &mut ticket, at);
        let number = tx.next_number()?;
        ticket.number = number;
        tx.save_ticket(&ticket)?;
        let actor = from.email.clone();
        // The opening message's text is the description: not stored twice. Its
        // words are the description's; the words past the part the record keeps
        // (a line-end cut: no word is split) are the mail's.
        let mut opening = self.mail_in(msg, false);
        opening.text.clear();
        opening.text_size = 0;
        if ticket.description_rest.is_some() {
            let rest = msg.text.strip_prefix(ticket.description.as_str());
            tx.queue_message_words(number, rest.unwrap_or(&msg.text))?;
        }
        let mut events = vec![EventKind::Created, EventKind::Mail(opening)];
        events.extend(notes);
        if !held_cc.is_empty() {
            events.push(EventKind::CcNotFollowing { addresses: held_cc });
        }
        if let Some(Named {
            ticket: other, how, ..
        }) = link
        {
            link_back(tx, other, number, &from.email, how, at)?;
            events.push(EventKind::Linked {
                number: other,
                reason: format!(
                    "{how} #{other}, whose requester, followers and agents do not include {}",
                    from.email
                ),
            });
        }
        let events = append_all(tx, number, at, &actor, events)?;
        if !self.queues_mail() {
            tx.append_entries(number, at, &rule_events)?;
            return Ok(Created::Ticket(number));
        }
        // Mail is only queued here: a delivery never waits on an MTA.
        let (mut rule_events, _) =
            super::notify::rule_mail(self.desk, tx, &ticket, &actor, rule_events, Some(msg))?;
        if let Some((event, _)) =
            super::notify::acknowledge(self.desk, tx, &ticket, &events, msg, &rule_events)?
        {
            rule_events.push((super::notify::AUTO_REPLY.to_string(), event));
        }
        tx.append_entries(number, at, &rule_events)?;
        super::notify::on_change(self.desk, tx, None, &ticket, &events, &actor)?;
        Ok(Created::Ticket(number))
    }

    /// The ticket a new message would make, before rules and numbering.
    pub fn draft_ticket(&self, msg: &Incoming, link: Option<u64>, at: i64) -> Result<Ticket> {
        Ok(self.draft(msg, link, self.authenticated(msg), at)?.0)
    }

    /// The draft ticket, and the Cc'd addresses that may not follow it.
    fn draft(
        &self,
        msg: &Incoming,
        link: Option<u64>,
        authenticated: bool,
        at: i64,
    ) -> Result<(Ticket, Vec<String>)> {
        let config = &self.desk.config;
        let service: Option<&Service> = msg
            .recipients()
            .find_map(|r| config.service_for_address(r))
            .or_else(|| config.default_service());
        let from = msg.from.clone().context("message without a sender")?;
        let (mut followers, held_cc) = self.cc_followers(msg, &from.email, authenticated);
        if let Some(service) = service {
            followers.extend(service.guests.iter().cloned());
        }
        let subject = if msg.subject.trim().is_empty() {
            "(no subject)".to_string()
        } else {
            msg.subject.clone()
        };
        let mut ticket = Ticket {
            number: 0,
            subject,
            description: String::new(),
            description_rest: None,
            status: Status::Open,
            priority: Priority::Medium,
            assignee: service
                .and_then(|s| s.default_assignee.as_deref())
                .map(Assignee::parse)
                .unwrap_or_default(),
            service: service.map(|s| s.name.clone()),
            category: None,
            tags: Default::default(),
            requester: Requester {
                name: from.name.clone(),
                email: Some(from.email.clone()),
                phone: None,
            },
            followers,
            fields: Default::default(),
            created: at,
            updated: at,
            links: link.map(|n| (n, LinkKind::Relates)).into_iter().collect(),
            minutes_spent: 0,
            approval: None,
            sla: Default::default(),
        };
        ticket.set_description(&msg.text, || TextRef::Mail(msg.hash.clone()));
        Ok((ticket, held_cc))
    }

    /// The Cc'd customers who follow a new request, and those held back: a Cc is
    /// anyone the sender typed, so only the requester's own domain, the domains of
    /// `ingest.cc_followers_domains`, or authenticated mail may subscribe others.
    fn cc_followers(
        &self,
        msg: &Incoming,
        from: &str,
        authenticated: bool,
    ) -> (BTreeSet<String>, Vec<String>) {
        let config = &self.desk.config;
        let (mut followers, mut held) = (BTreeSet::new(), Vec::new());
        if !config.ingest.cc_followers {
            return (followers, held);
        }
        let domain = |email: &str| email.rsplit_once('@').map_or("", |(_, d)| d).to_string();
        let from_domain = domain(from);
        for cc in &msg.cc {
            let ours = config.service_for_address(&cc.email).is_some()
                || config.user_by_email(&cc.email).is_some()
                || cc.email == from;
            if ours {
                continue;
            }
            let cc_domain = domain(&cc.email);
            let vouched = authenticated
                || cc_domain.eq_ignore_ascii_case(&from_domain)
                || config
                    .ingest
                    .cc_followers_domains
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&cc_domain));
            if vouched {
                followers.insert(cc.email.clone());
            } else if !held.contains(&cc.email) {
                held.push(cc.email.clone());
            }
        }
        (followers, held)
    }
}

/// How far ahead of the importing clock a Date may be (the sender's clock was off).
const DATE_SKEW: i64 = 15 * 60;

/// 1990-01-01T00:00:00Z: an archived Date before it is a broken clock or header.
const EARLIEST_DATE: i64 = 631_152_000;

/// The time an archived message is dated with: its Date (`date`, parsed by
/// mailparse) when plausible, else `imported` (the time of import). Plausible:
/// on or after 1990-01-01 UTC and at most [`DATE_SKEW`] after `imported`.
pub fn archive_time(date: Option<i64>, imported: i64) -> i64 {
    match date {
        Some(d) if d >= EARLIEST_DATE && d <= imported.saturating_add(DATE_SKEW) => d,
        _ => imported,
    }
}

/// Records a message that makes no ticket: its key (so a repeat is a duplicate) and why.
fn ignore(
    tx: &dyn Writer,
    msg: &Incoming,
    key: String,
    reason: String,
    at: i64,
) -> Result<Outcome> {
    tx.file_message(&key, 0, &msg.content)?;
    tx.record_ignored(&IgnoredMail {
        at,
        reason: reason.clone(),
        from: sender(msg),
        subject: msg.subject.clone(),
        message_id: msg.key(),
        hash: msg.hash.clone(),
    })?;
    Ok(Outcome::Ignored { reason })
}

/// How a message is to be filed in the message map.
enum Filing {
    /// A copy of a message already filed (on `ticket`, 0 if it made none).
    Copy { ticket: u64 },
    /// A message of its own, under `key`; `reuses` when another message was filed
    /// under its Message-ID first (the ticket of that one).
    New { key: String, reuses: Option<u64> },
}

/// The same Message-ID with the same content is a copy; with other content, a
/// different message, filed under the Message-ID and its content. Entries written
/// before contents were kept cannot tell, and count as copies, as they always did.
fn filing(tx: &dyn Writer, msg: &Incoming) -> Result<Filing> {
    let key = msg.key();
    let first = match tx.claim_message(&key, &msg.content)? {
        Claim::Claimed => return Ok(Filing::New { key, reuses: None }),
        Claim::Existing(first) => first,
    };
    if first.outgoing || first.content.is_none_or(|c| c == msg.content) {
        return Ok(Filing::Copy {
            ticket: first.ticket,
        });
    }
    let own_key = format!("{key} content:{}", fingerprint::hex(&msg.content));
    Ok(match tx.claim_message(&own_key, &msg.content)? {
        Claim::Claimed => Filing::New {
            key: own_key,
            reuses: Some(first.ticket),
        },
        Claim::Existing(copy) => Filing::Copy {
            ticket: copy.ticket,
        },
    })
}

/// The key a message was filed under (its Message-ID or hash, else that with its
/// content: see [`filing`]) and its ticket (0: it made none); a message never filed
/// is filed now, on no ticket.
fn filed_key(tx: &dyn Writer, msg: &Incoming) -> Result<(String, u64)> {
    let key = msg.key();
    let first = match tx.claim_message(&key, &msg.content)? {
        Claim::Claimed => return Ok((key, 0)),
        Claim::Existing(first) => first,
    };
    if first.outgoing || first.content.is_none_or(|c| c == msg.content) {
        return Ok((key, first.ticket));
    }
    let own_key = format!("{key} content:{}", fingerprint::hex(&msg.content));
    Ok(match tx.claim_message(&own_key, &msg.content)? {
        Claim::Claimed => (own_key, 0),
        Claim::Existing(copy) => (own_key, copy.ticket),
    })
}

/// A copy changes nothing, but is listed with the mail that made no ticket.
fn duplicate(tx: &dyn Writer, msg: &Incoming, ticket: u64, at: i64) -> Result<Outcome> {
    tx.record_ignored(&IgnoredMail {
        at,
        reason: match ticket {
            0 => "duplicate of mail that made no ticket".to_string(),
            n => format!("duplicate of mail on #{n}"),
        },
        from: sender(msg),
        subject: msg.subject.clone(),
        message_id: msg.key(),
        hash: msg.hash.clone(),
    })?;
    Ok(Outcome::Duplicate {
        ticket: (ticket > 0).then_some(ticket),
    })
}

/// A ticket a message names, how it named it, and whether the sender may join it.
struct Named {
    ticket: u64,
    may_join: bool,
    how: &'static str,
}

/// Links the ticket a stranger's mail named to the ticket that mail made, in the
/// same write: links are symmetric, and each side logs its own. Nothing else of
/// the named ticket changes (no reopening: the sender is not on it).
fn link_back(
    tx: &dyn Writer,
    named: u64,
    made: u64,
    email: &str,
    how: &str,
    at: i64,
) -> Result<()> {
    let mut ticket = tx
        .ticket_for_update(named)?
        .with_context(|| format!("ticket #{named}, named by mail from {email}, not found"))?;
    ticket.links.insert(made, LinkKind::Relates);
    ticket.updated = ticket.updated.max(at);
    tx.save_ticket(&ticket)?;
    let reason = format!(
        "mail from {email}, who is not on this ticket, named it ({how} #{named}) \
         and made a ticket of its own"
    );
    let event = Event {
        at,
        actor: email.to_string(),
        kind: EventKind::Linked {
            number: made,
            reason,
        },
    };
    tx.append_event(named, &event)
}

/// The requester or a follower: people on the ticket, who may write to it by mail.
/// Appends `kinds` to ticket `number`'s log, by `actor` at `at`; returns the events.
fn append_all(
    tx: &dyn Writer,
    number: u64,
    at: i64,
    actor: &str,
    kinds: Vec<EventKind>,
) -> Result<Vec<Event>> {
    let events: Vec<Event> = kinds
        .into_iter()
        .map(|kind| Event {
            at,
            actor: actor.to_string(),
            kind,
        })
        .collect();
    for event in &events {
        tx.append_event(number, event)?;
    }
    Ok(events)
}

fn is_participant(ticket: &Ticket, email: &str) -> bool {
    ticket
        .requester
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(email))
        || ticket
            .followers
            .iter()
            .any(|f| f.eq_ignore_ascii_case(email))
}

fn sender(msg: &Incoming) -> String {
    match &msg.from {
        Some(a) => match &a.name {
            Some(name) => format!("{name} <{}>", a.email),
            None => a.email.clone(),
        },
        None => String::new(),
    }
}

fn sender_email(msg: &Incoming) -> String {
    msg.from
        .as_ref()
        .map(|a| a.email.clone())
        .unwrap_or_default()
}

/// Whether `email` is among the To and Cc recipients of `msg`.
fn addressed_to(msg: &Incoming, email: Option<&str>) -> bool {
    let Some(email) = email else {
        return false;
    };
    msg.to
        .iter()
        .chain(&msg.cc)
        .any(|a| a.email.eq_ignore_ascii_case(email))
}

#[cfg(test)]
mod tests {
    use super::{archive_time, EARLIEST_DATE};

    #[test]
    fn an_archive_message_is_dated_by_a_plausible_date_only() {
        let now = 1_790_000_000; // 2026-09-21
        assert_eq!(archive_time(Some(1_700_000_000), now), 1_700_000_000);
        assert_eq!(
            archive_time(Some(631_152_000), now),
            631_152_000,
            "1990-01-01"
        );
        assert_eq!(archive_time(Some(631_151_999), now), now, "before 1990");
        assert_eq!(archive_time(Some(now + 900), now), now + 900, "15 min skew");
        assert_eq!(archive_time(Some(now + 901), now), now, "the future");
        assert_eq!(archive_time(None, now), now, "no or unparseable Date");
        let y1990: jiff::Timestamp = "1990-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(EARLIEST_DATE, y1990.as_second());
    }
}

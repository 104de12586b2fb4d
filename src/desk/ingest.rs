//! The ingest pipeline: raw mail -> parse -> dedupe -> filter -> thread -> store.
//!
//! A batch of messages is decided and written in one transaction, then flushed once.
//! Raw bytes go to the mail store (fsync'd) before the transaction, so every message
//! the database knows is on disk; a crash before the commit only leaves an
//! unreferenced file, and re-running the source is absorbed by the dedupe.

use anyhow::{Context, Result};
use regex::Regex;
use serde::Serialize;

use super::intake::too_large;
use super::{now, Desk};
use crate::config::Service;
use crate::mail::classify::automatic;
use crate::mail::files::MailStore;
use crate::mail::parse::{parse, strip_envelope, Incoming};
use crate::mail::quarantine::Quarantine;
use crate::model::{
    Assignee, Event, EventKind, IgnoredMail, MailIn, Priority, Requester, Status, Ticket,
};
use crate::store::{Store, Tx};

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Created { ticket: u64 },
    Reply { ticket: u64 },
    Duplicate { ticket: Option<u64> },
    Ignored { reason: String },
    Quarantined { reason: String },
}

/// One message's outcome, with enough to recognise it.
#[derive(Clone, Debug, Serialize)]
pub struct Processed {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub from: String,
    pub subject: String,
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

/// Aborts a dry run's transaction while carrying out what it would have done.
#[derive(Debug)]
struct DryRun(Vec<Outcome>);

impl std::fmt::Display for DryRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dry run")
    }
}

impl std::error::Error for DryRun {}

/// The compiled settings of one ingest run.
pub struct Pipeline<'a> {
    desk: &'a Desk,
    mails: MailStore,
    quarantine: Quarantine,
    subject_tag: Regex,
    ignore_subjects: Vec<Regex>,
    dry_run: bool,
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
            mails: MailStore::new(&desk.db_path),
            quarantine: Quarantine::new(&desk.db_path),
            subject_tag,
            ignore_subjects,
            dry_run,
        })
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
        if !self.dry_run {
            match file {
                Some(path) => self.quarantine.put_file(path, &reason)?,
                None => self.quarantine.put(raw, &reason)?,
            };
        }
        Ok(Processed {
            outcome: Outcome::Quarantined { reason },
            from: String::new(),
            subject: String::new(),
        })
    }

    /// Stores a batch of raw messages in one transaction and one flush.
    pub fn run_batch(&self, store: &Store, raws: &[Vec<u8>]) -> Result<Vec<Processed>> {
        let mut results: Vec<Option<Processed>> = vec![None; raws.len()];
        let mut parsed: Vec<(usize, Incoming, &[u8])> = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            let body = strip_envelope(raw);
            let limit = self.max_message_size();
            let parsed_body = match body.len() as u64 {
                size if size > limit => Err(too_large("the message", size, limit)),
                _ => parse(body),
            };
            match parsed_body {
                Ok(msg) => parsed.push((i, msg, body)),
                Err(reason) => results[i] = Some(self.quarantine_unparsed(body, None, reason)?),
            }
        }
        if !self.dry_run {
            let to_store: Vec<(&str, &[u8])> = parsed
                .iter()
                .map(|(_, m, body)| (m.hash.as_str(), *body))
                .collect();
            self.mails.put_all(&to_store)?;
        }
        let at = now();
        let decided = store.transact(|tx| {
            let mut outcomes = Vec::with_capacity(parsed.len());
            for (_, msg, _) in &parsed {
                outcomes.push(self.decide(tx, msg, at)?);
            }
            if self.dry_run {
                return Err(DryRun(outcomes).into());
            }
            Ok(outcomes)
        });
        let outcomes = match decided {
            Ok(outcomes) => {
                store.flush()?;
                outcomes
            }
            Err(e) => match e.downcast::<DryRun>() {
                Ok(DryRun(outcomes)) => outcomes,
                Err(e) => return Err(e),
            },
        };
        for ((i, msg, _), outcome) in parsed.iter().zip(outcomes) {
            results[*i] = Some(Processed {
                outcome,
                from: msg
                    .from
                    .as_ref()
                    .map(|a| a.email.clone())
                    .unwrap_or_default(),
                subject: msg.subject.clone(),
            });
        }
        Ok(results.into_iter().flatten().collect())
    }

    fn decide(&self, tx: &Tx, msg: &Incoming, at: i64) -> Result<Outcome> {
        let key = msg.key();
        if let Some(ticket) = tx.message_ticket(&key)? {
            return Ok(Outcome::Duplicate {
                ticket: (ticket > 0).then_some(ticket),
            });
        }
        let config = &self.desk.config;
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
                tx.record_message(&key, n)?;
                return Ok(Outcome::Ignored {
                    reason: format!("{reason}, recorded on #{n} as a delivery problem"),
                });
            }
            return ignore(tx, msg, key, reason, at);
        }
        let from = msg.from.as_ref().context("message without a sender")?;
        let agent = config.user_by_email(&from.email).map(|u| u.login.clone());
        let (target, link) = match self.thread_by_references(tx, msg)? {
            Some(n) => (Some(n), None),
            None => match self.tagged_ticket(tx, msg, agent.is_some())? {
                Some((n, true)) => (Some(n), None),
                Some((n, false)) => (None, Some(n)),
                None => (None, None),
            },
        };
        let outcome = match target {
            Some(n) => {
                self.add_reply(tx, n, msg, agent.as_deref(), at)?;
                Outcome::Reply { ticket: n }
            }
            None => match self.create_ticket(tx, msg, link, at)? {
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
        tx.record_message(&key, ticket)?;
        if agent.is_none() {
            tx.upsert_customer(&from.email, from.name.as_deref(), at)?;
        }
        Ok(outcome)
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
    fn answered_outgoing(&self, tx: &Tx, msg: &Incoming, reason: &str) -> Result<Option<u64>> {
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

    /// In-Reply-To, then References (newest first), against every Message-ID stored.
    fn thread_by_references(&self, tx: &Tx, msg: &Incoming) -> Result<Option<u64>> {
        for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()) {
            if let Some(n) = tx.message_ticket(id)? {
                if n > 0 && tx.ticket(n)?.is_some() {
                    return Ok(Some(n));
                }
            }
        }
        Ok(None)
    }

    /// A `[#42]` tag in the subject: the ticket, and whether the sender may join it
    /// (its requester, a follower or an agent). Tags of missing tickets are ignored.
    fn tagged_ticket(&self, tx: &Tx, msg: &Incoming, agent: bool) -> Result<Option<(u64, bool)>> {
        let Some(n) = self
            .subject_tag
            .captures(&msg.subject)
            .and_then(|c| c[1].parse::<u64>().ok())
        else {
            return Ok(None);
        };
        let Some(ticket) = tx.ticket(n)? else {
            return Ok(None);
        };
        let email = msg.from.as_ref().map(|a| a.email.as_str()).unwrap_or("");
        let trusted = agent
            || ticket
                .requester
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
            || ticket
                .followers
                .iter()
                .any(|f| f.eq_ignore_ascii_case(email));
        Ok(Some((n, trusted)))
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
            hash: msg.hash.clone(),
            attachments: msg.attachments.clone(),
            agent,
        }
    }

    fn add_reply(
        &self,
        tx: &Tx,
        n: u64,
        msg: &Incoming,
        agent: Option<&str>,
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
        if agent.is_none()
            && self.desk.config.ingest.reopen_on_reply
            && matches!(t.status, Status::Pending | Status::Closed)
        {
            events.push(EventKind::Changed {
                field: "status".into(),
                from: t.status.to_string(),
                to: Status::Open.to_string(),
            });
            t.status = Status::Open;
        }
        t.updated = at;
        let (rule_events, _) =
            self.desk
                .apply_rules(crate::rules::RuleEvent::Reply, Some(msg), &mut t)?;
        tx.put_ticket(&t, Some(&old))?;
        for kind in events {
            tx.append_event(
                n,
                &Event {
                    at,
                    actor: actor.clone(),
                    kind,
                },
            )?;
        }
        tx.append_events(n, at, &rule_events)?;
        tx.queue_words(n)
    }

    fn create_ticket(
        &self,
        tx: &Tx,
        msg: &Incoming,
        link: Option<u64>,
        at: i64,
    ) -> Result<Created> {
        let mut ticket = self.draft_ticket(msg, link, at)?;
        let from = msg.from.clone().context("message without a sender")?;
        let (rule_events, ignored_by) =
            self.desk
                .apply_rules(crate::rules::RuleEvent::Created, Some(msg), &mut ticket)?;
        if let Some(rule) = ignored_by {
            return Ok(Created::IgnoredBy(rule));
        }
        let number = tx.next_number()?;
        ticket.number = number;
        tx.put_ticket(&ticket, None)?;
        let actor = from.email.clone();
        // The opening message's text is the description: not stored twice.
        let mut opening = self.mail_in(msg, false);
        opening.text.clear();
        let mut events = vec![EventKind::Created, EventKind::Mail(opening)];
        if let Some(other) = link {
            events.push(EventKind::Linked {
                number: other,
                reason: format!(
                    "the subject named #{other}, whose requester or followers do not include {}",
                    from.email
                ),
            });
        }
        for kind in events {
            tx.append_event(
                number,
                &Event {
                    at,
                    actor: actor.clone(),
                    kind,
                },
            )?;
        }
        tx.append_events(number, at, &rule_events)?;
        Ok(Created::Ticket(number))
    }
    /// The ticket a new message would make, before rules and numbering.
    pub fn draft_ticket(&self, msg: &Incoming, link: Option<u64>, at: i64) -> Result<Ticket> {
        let config = &self.desk.config;
        let service: Option<&Service> = msg
            .recipients()
            .find_map(|r| config.service_for_address(r))
            .or_else(|| config.default_service());
        let from = msg.from.clone().context("message without a sender")?;
        let mut followers = std::collections::BTreeSet::new();
        if config.ingest.cc_followers {
            for cc in &msg.cc {
                let ours = config.service_for_address(&cc.email).is_some()
                    || config.user_by_email(&cc.email).is_some()
                    || cc.email == from.email;
                if !ours {
                    followers.insert(cc.email.clone());
                }
            }
        }
        if let Some(service) = service {
            followers.extend(service.guests.iter().cloned());
        }
        let subject = if msg.subject.trim().is_empty() {
            "(no subject)".to_string()
        } else {
            msg.subject.clone()
        };
        Ok(Ticket {
            number: 0,
            subject,
            description: msg.text.clone(),
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
            links: link.into_iter().collect(),
        })
    }
}

/// Records a message that makes no ticket: its key (so a repeat is a duplicate) and why.
fn ignore(tx: &Tx, msg: &Incoming, key: String, reason: String, at: i64) -> Result<Outcome> {
    tx.record_message(&key, 0)?;
    tx.record_ignored(&IgnoredMail {
        at,
        reason: reason.clone(),
        from: sender(msg),
        subject: msg.subject.clone(),
        message_id: key,
        hash: msg.hash.clone(),
    })?;
    Ok(Outcome::Ignored { reason })
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

//! Bounces and the suppression list.
//!
//! Every outbox entry's envelope sender is its own VERP address (`mail::verp`), so
//! a bounce comes back to `LOCAL+o<ID>-<MAC>@DOMAIN` naming the entry it answers.
//! Intake recognises such mail by its recipient headers (`ingest` on stdin never
//! sees the envelope: Delivered-To, X-Original-To, To) and a token that verifies
//! with the desk's key; it is then never a ticket nor answered: it is recorded on
//! the entry's ticket (`bounced`), and a permanent failure (`Status: 5.x.x`, `Action: failed`)
//! fails the entry and suppresses its recipient. Automatic mail never goes to a
//! suppressed address (`outbox::queue`, and `outbox send` drops what was queued
//! before); an explicit `ticket reply` still does, with a warning. A bounce whose
//! token does not verify is taken as bounces always were.

use anyhow::{bail, Context, Result};

use super::{now, Desk};
use crate::config::Config;
use crate::mail::dsn::RecipientStatus;
use crate::mail::parse::Incoming;
use crate::model::{Bounce, Event, EventKind, MailIn, OutboxState, Suppression};
use crate::store::Writer;

/// Who suppressed an address when a bounce did.
pub const BOUNCE_ACTOR: &str = "bounce";

/// The local parts of our bounce mailboxes: the configured one, else `bounces`.
fn bounce_locals(config: &Config) -> Vec<String> {
    let mailbox = config.outbox.bounce_mailbox("@");
    let local = mailbox.split_once('@').map_or("bounces", |(l, _)| l);
    vec![local.to_string()]
}

/// The outbox entry a message to one of our VERP addresses answers: the first of
/// its Delivered-To, X-Original-To and To addresses whose token `key` signed.
pub fn verp_entry(config: &Config, key: &[u8], msg: &Incoming) -> Option<u64> {
    let locals = bounce_locals(config);
    let locals: Vec<&str> = locals.iter().map(String::as_str).collect();
    msg.delivered_to
        .iter()
        .map(String::as_str)
        .chain(msg.to.iter().map(|a| a.email.as_str()))
        .find_map(|a| crate::mail::verp::entry_of(a, &locals, key))
}

/// What recording a bounce did.
#[derive(Debug)]
pub struct Recorded {
    /// The ticket it is recorded on (0: the entry's ticket is gone).
    pub ticket: u64,
    /// One line: what the bounce said, and what was done.
    pub summary: String,
}

/// Records the bounce `msg` (its record on the ticket `mail`) of outbox entry `id`
/// in the write `tx`: a `bounced` event on the entry's ticket (`delivery-problem`
/// when the mail has no delivery status: an auto-reply to the envelope sender), and
/// for a permanent failure the entry failed and its recipient suppressed. None when there
/// is no entry `id` (then it is taken as any other mail).
pub fn record(
    tx: &dyn Writer,
    id: u64,
    msg: &Incoming,
    mail: MailIn,
    actor: &str,
    at: i64,
) -> Result<Option<Recorded>> {
    let Some(mut entry) = tx.outbox_entry(id)? else {
        return Ok(None);
    };
    let recipient = entry.recipient.to_lowercase();
    let report: Option<&RecipientStatus> = msg
        .delivery_status
        .iter()
        .find(|r| r.final_recipient == recipient || r.original_recipient == recipient)
        .or(msg.delivery_status.first());
    let (kind, summary) = match report {
        None => {
            let reason = format!(
                "mail to the bounce address of outbox entry {id} ({recipient}), with no \
                 delivery status: nothing done"
            );
            let kind = EventKind::DeliveryProblem {
                reason: reason.clone(),
                mail,
            };
            (kind, reason)
        }
        Some(r) => {
            let bounce = Bounce {
                recipient: recipient.clone(),
                action: r.action.clone(),
                status: r.status.clone(),
                diagnostic: match &r.final_recipient {
                    f if !f.is_empty() && *f != recipient => {
                        format!("{} (final recipient {f})", r.diagnostic)
                    }
                    _ => r.diagnostic.clone(),
                },
                outbox_id: id,
                permanent: r.is_permanent(),
            };
            let kind = EventKind::Bounced {
                bounce: Box::new(bounce),
                mail,
            };
            let summary = kind.describe();
            if r.is_permanent() {
                if matches!(entry.state, OutboxState::Queued | OutboxState::Sent) {
                    entry.state = OutboxState::Failed;
                    entry.done_at = at;
                }
                entry.last_error = summary.clone();
                tx.save_outbox_entry(&entry)?;
                if tx.suppression(&recipient)?.is_none() {
                    let why = match r.diagnostic.as_str() {
                        "" => "permanent failure",
                        d => d,
                    };
                    tx.suppress(&Suppression {
                        address: recipient.clone(),
                        at,
                        reason: format!("{} {why}", r.status),
                        status: r.status.clone(),
                        outbox_id: id,
                        ticket: entry.ticket,
                        by: BOUNCE_ACTOR.to_string(),
                    })?;
                }
            }
            (kind, summary)
        }
    };
    let ticket = match tx.ticket(entry.ticket)? {
        Some(_) => {
            let event = Event {
                at,
                actor: actor.to_string(),
                kind,
            };
            tx.append_event(entry.ticket, &event)?;
            entry.ticket
        }
        None => 0,
    };
    Ok(Some(Recorded { ticket, summary }))
}

fn check_admin(desk: &Desk, verb: &str) -> Result<String> {
    let actor = desk.actor()?;
    if !desk.config.user(actor).is_some_and(|u| u.admin) {
        bail!("only an admin may {verb} addresses ({actor} may not)");
    }
    Ok(actor.to_string())
}

/// `outbox suppressed`: every suppressed address, in order of address.
pub fn suppressed(desk: &Desk) -> Result<Vec<Suppression>> {
    desk.storage.read(|r| r.suppressions())
}

/// `outbox suppress ADDRESS`: an admin stops automatic mail to `address` by hand.
pub fn suppress(desk: &Desk, address: &str, reason: &str) -> Result<Suppression> {
    let actor = check_admin(desk, "suppress")?;
    let address = crate::mail::parse::single_address(address)
        .filter(|a| crate::mail::compose::valid_address(a))
        .with_context(|| format!("'{address}' is not one mail address"))?;
    let reason = crate::mail::compose::clean(reason).trim().to_string();
    let suppression = Suppression {
        address,
        at: now(),
        reason: if reason.is_empty() {
            "suppressed by hand".to_string()
        } else {
            reason
        },
        status: String::new(),
        outbox_id: 0,
        ticket: 0,
        by: actor,
    };
    desk.storage.write(|tx| {
        if let Some(s) = tx.suppression(&suppression.address)? {
            bail!("{} is suppressed already ({})", s.address, s.reason);
        }
        tx.suppress(&suppression)
    })?;
    Ok(suppression)
}

/// `outbox unsuppress ADDRESS`: an admin lets automatic mail go to `address` again.
pub fn unsuppress(desk: &Desk, address: &str) -> Result<Suppression> {
    check_admin(desk, "unsuppress")?;
    desk.storage.write(|tx| {
        let Some(s) = tx.suppression(address)? else {
            bail!(
                "{address} is not suppressed (`postdesk outbox suppressed` lists those that are)"
            );
        };
        tx.unsuppress(address)?;
        Ok(s)
    })
}

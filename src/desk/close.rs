//! Closing and its aftermath: `close` asks the requester to approve, `approve` and
//! `reject` record the answer (a rejection reopens), `reopen` undoes a closing.
//! Every closing, whatever the verb, goes through [`close_ticket`].

use anyhow::{bail, Result};

use super::roles::Action;
use super::verbs::move_status;
use super::workflow::{check_close, update_ticket, Change, Updated};
use super::{now, Desk};
use crate::model::{Approval, EventKind, Status, Ticket};
use crate::store::Writer;

/// Closes `t` (approval pending) after [`check_close`]; already closed: no events.
pub fn close_ticket(tx: &dyn Writer, t: &mut Ticket, force: bool) -> Result<Vec<EventKind>> {
    check_close(tx, t, force)?;
    move_status(t, Status::Closed)
}

/// The approval after a status move to `to`: closing asks the requester (pending
/// from now); any other move drops the question.
pub fn approval_after_move(to: Status) -> Option<Approval> {
    match to {
        Status::Closed => Some(Approval::Pending { since: now() }),
        _ => None,
    }
}

/// `ticket close`: closing what is closed is refused.
pub fn close(desk: &Desk, number: u64, comment: Option<String>, force: bool) -> Result<Updated> {
    update_ticket(desk, number, &Close { comment, force })
}

/// `ticket approve`: the requester's approval, only while it is pending.
pub fn approve(desk: &Desk, number: u64) -> Result<Updated> {
    let days = desk.config.settings.approval_days;
    update_ticket(desk, number, &Answer { days, reject: None })
}

/// `ticket reject`: the requester's rejection, only while pending; reopens.
pub fn reject(desk: &Desk, number: u64, why: Option<String>) -> Result<Updated> {
    let days = desk.config.settings.approval_days;
    let reject = Some(why.unwrap_or_default());
    update_ticket(desk, number, &Answer { days, reject })
}

/// `ticket reopen`: a closed ticket back to open.
pub fn reopen(desk: &Desk, number: u64, why: Option<String>) -> Result<Updated> {
    update_ticket(desk, number, &Reopen { why })
}

struct Close {
    comment: Option<String>,
    force: bool,
}

impl Change for Close {
    fn action(&self, _: &Ticket) -> Action {
        Action::Close
    }

    fn apply(&self, tx: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        if t.status == Status::Closed {
            bail!("#{} is already closed", t.number);
        }
        let mut events = close_ticket(tx, t, self.force)?;
        events.extend(comment_event(&self.comment));
        Ok(events)
    }
}

/// The requester's answer; `reject` holds why (possibly empty) for a rejection.
struct Answer {
    days: u32,
    reject: Option<String>,
}

impl Change for Answer {
    fn action(&self, _: &Ticket) -> Action {
        Action::Answer
    }

    fn apply(&self, _: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        let stands = t.approval.map(|a| a.at(now(), self.days));
        if !matches!(stands, Some(Approval::Pending { .. })) {
            let why = match stands {
                None => "no approval was asked (it was not closed since)".to_string(),
                Some(Approval::Approved) if t.approval != Some(Approval::Approved) => format!(
                    "it counts as approved: no answer came within {} days (settings.approval_days)",
                    self.days
                ),
                Some(answer) => format!("it is already {}", answer.as_str()),
            };
            bail!("approval of #{} is not pending: {why}", t.number);
        }
        let Some(why) = &self.reject else {
            t.approval = Some(Approval::Approved);
            return Ok(vec![EventKind::Approved]);
        };
        let mut events = move_status(t, Status::Open)?;
        t.approval = Some(Approval::Rejected);
        events.insert(
            0,
            EventKind::Rejected {
                comment: why.clone(),
            },
        );
        Ok(events)
    }
}

struct Reopen {
    why: Option<String>,
}

impl Change for Reopen {
    fn action(&self, _: &Ticket) -> Action {
        Action::Reopen
    }

    fn apply(&self, _: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        if t.status != Status::Closed {
            bail!(
                "#{} is not closed (it is {}): nothing to reopen",
                t.number,
                t.status
            );
        }
        let mut events = move_status(t, Status::Open)?;
        events.extend(comment_event(&self.why));
        Ok(events)
    }
}

fn comment_event(text: &Option<String>) -> Option<EventKind> {
    text.as_ref()
        .map(|text| EventKind::Comment { text: text.clone() })
}

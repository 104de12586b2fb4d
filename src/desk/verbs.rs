//! The workflow verbs of `postdesk ticket`: take, assign, release, status, comment.
//! Each is a [`Change`] that [`update_ticket`] applies in one write.

use anyhow::{bail, Context, Result};

use super::close::close_ticket;
use super::roles::{self, Action};
use super::workflow::{status_event, update_ticket, Change, Updated};
use super::Desk;
use crate::config::Config;
use crate::model::{moves, Assignee, EventKind, Status, Ticket};
use crate::rules::RuleEvent;
use crate::store::Writer;

/// A comment's most bytes: it is kept whole in the activity log, whose chunks are 6 KB.
pub const COMMENT_MAX: usize = 4096;

/// A comment as typed: refused when empty or over [`COMMENT_MAX`].
pub fn checked_comment(text: &str) -> Result<String> {
    checked_text("comment", text)
}

/// A text kept whole in the activity log (`what`: comment, reply), as typed:
/// refused when empty or over [`COMMENT_MAX`].
pub fn checked_text(what: &str, text: &str) -> Result<String> {
    let text = text.trim_end();
    if text.trim().is_empty() {
        bail!("the {what} is empty");
    }
    if text.len() > COMMENT_MAX {
        bail!(
            "the {what} is {} bytes; at most {COMMENT_MAX} fit in the activity log: shorten it",
            text.len()
        );
    }
    Ok(text.to_string())
}

/// `ticket take`.
pub fn take(desk: &Desk, number: u64, take: Take) -> Result<Updated> {
    update_ticket(desk, number, &take)
}

/// `ticket assign`: WHO is a login, `@group`, `none` or `me`.
pub fn assign(
    desk: &Desk,
    number: u64,
    who: &str,
    comment: Option<String>,
    force: bool,
) -> Result<Updated> {
    let to = super::tickets::assignee_named(desk, who)?;
    let change = Assign {
        config: &desk.config,
        to,
        comment,
        force,
    };
    update_ticket(desk, number, &change)
}

/// `ticket release`.
pub fn release(desk: &Desk, number: u64, comment: Option<String>) -> Result<Updated> {
    let change = Release {
        config: &desk.config,
        comment,
    };
    update_ticket(desk, number, &change)
}

/// `ticket status`: closing with open sub-tickets needs `force`.
pub fn set_status(desk: &Desk, number: u64, status: Status, force: bool) -> Result<Updated> {
    update_ticket(desk, number, &SetStatus { to: status, force })
}

/// `ticket comment`: the text checked by [`checked_comment`].
pub fn comment(desk: &Desk, number: u64, text: &str) -> Result<Updated> {
    update_ticket(desk, number, &AddComment(checked_comment(text)?))
}

/// A comment given with a flag (`-m`, `--request-info`), checked; errors name the flag.
pub fn flag_comment(flag: &str, text: Option<&str>) -> Result<Option<String>> {
    text.map(|t| checked_comment(t).with_context(|| flag.to_string()))
        .transpose()
}

/// What `take` does besides making the actor the assignee.
#[derive(Debug, Default)]
pub struct Take {
    pub comment: Option<String>,
    pub close: bool,
    /// `--request-info`: set pending and record what to ask the requester.
    pub request_info: Option<String>,
    /// `--force`: close even with open sub-tickets.
    pub force: bool,
}

impl Change for Take {
    fn action(&self, _: &Ticket) -> Action {
        Action::Take
    }

    /// `assigned`, then `closed` with `--close` (or `reopened` when
    /// `--request-info` takes a closed ticket back to pending).
    fn rule_events(&self, before: &Ticket, after: &Ticket) -> Vec<RuleEvent> {
        std::iter::once(RuleEvent::Assigned)
            .chain(status_event(before, after))
            .collect()
    }

    fn apply(&self, tx: &dyn Writer, actor: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        let mut events = reassign(t, "take", Assignee::User(actor.into()), &self.comment);
        if self.close {
            events.extend(close_ticket(tx, t, self.force)?);
        } else if self.request_info.is_some() {
            events.extend(move_status(t, Status::Pending)?);
        }
        if let Some(text) = &self.request_info {
            events.push(EventKind::InfoRequested { text: text.clone() });
            // Asking the requester is a response to them.
            crate::model::sla::record_first_response(t, super::now());
        }
        Ok(events)
    }
}

/// `assign N WHO`: by a manager; WHO must be able to hold the ticket unless forced.
pub struct Assign<'a> {
    pub config: &'a Config,
    pub to: Assignee,
    pub comment: Option<String>,
    pub force: bool,
}

impl Change for Assign<'_> {
    fn action(&self, _: &Ticket) -> Action {
        Action::Assign
    }

    fn rule_events(&self, _: &Ticket, _: &Ticket) -> Vec<RuleEvent> {
        vec![RuleEvent::Assigned]
    }

    fn apply(&self, _: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        let service = t.service.as_deref();
        if !self.force && !roles::may_hold(self.config, service, &self.to) {
            let who = self.to.label().unwrap_or_default();
            let service = service.unwrap_or_default();
            bail!(
                "{who} is not an agent or a manager of service '{service}': assign with --force to give it to them anyway"
            );
        }
        Ok(reassign(t, "assign", self.to.clone(), &self.comment))
    }
}

/// `release N`: back to the service's default assignee, or nobody.
pub struct Release<'a> {
    pub config: &'a Config,
    pub comment: Option<String>,
}

impl Change for Release<'_> {
    fn action(&self, _: &Ticket) -> Action {
        Action::Release
    }

    fn rule_events(&self, _: &Ticket, _: &Ticket) -> Vec<RuleEvent> {
        vec![RuleEvent::Assigned]
    }

    fn apply(&self, _: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        if !matches!(t.assignee, Assignee::User(_)) {
            let holder = t.assignee.label().unwrap_or_else(|| "nobody".into());
            bail!("no one person holds it (assignee: {holder}): nothing to release");
        }
        let default = t
            .service
            .as_deref()
            .and_then(|s| self.config.service(s))
            .and_then(|s| s.default_assignee.as_deref())
            .map(Assignee::parse)
            .unwrap_or_default();
        Ok(reassign(t, "release", default, &self.comment))
    }
}

/// `status N STATUS`: a legal move ([`moves`]); closing with open sub-tickets
/// needs `force`.
pub struct SetStatus {
    pub to: Status,
    pub force: bool,
}

impl Change for SetStatus {
    fn action(&self, t: &Ticket) -> Action {
        match (t.status, self.to) {
            (Status::Closed, Status::Open) => Action::Reopen,
            _ => Action::ChangeStatus,
        }
    }

    fn apply(&self, tx: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        match self.to {
            Status::Closed => close_ticket(tx, t, self.force),
            to => move_status(t, to),
        }
    }
}

/// `comment N`: internal, never sent to the requester.
pub struct AddComment(pub String);

impl Change for AddComment {
    fn action(&self, _: &Ticket) -> Action {
        Action::Comment
    }

    fn rule_events(&self, _: &Ticket, _: &Ticket) -> Vec<RuleEvent> {
        vec![RuleEvent::Commented]
    }

    fn apply(&self, _: &dyn Writer, _: &str, _: &mut Ticket) -> Result<Vec<EventKind>> {
        Ok(vec![EventKind::Comment {
            text: self.0.clone(),
        }])
    }
}

/// Sets the assignee; the event carries the comment. Already theirs: only the
/// comment, if any, is recorded.
fn reassign(t: &mut Ticket, verb: &str, to: Assignee, comment: &Option<String>) -> Vec<EventKind> {
    if t.assignee == to {
        return comment
            .iter()
            .map(|text| EventKind::Comment { text: text.clone() })
            .collect();
    }
    let from = std::mem::replace(&mut t.assignee, to);
    vec![EventKind::Assigned {
        verb: verb.to_string(),
        from: from.label().unwrap_or_default(),
        to: t.assignee.label().unwrap_or_default(),
        comment: comment.clone().unwrap_or_default(),
    }]
}

/// Moves the status if the move is legal; the event is a status change. Closing
/// asks the requester's approval; leaving closed drops the question. A closing
/// goes through [`super::close::close_ticket`], which calls this.
pub(super) fn move_status(t: &mut Ticket, to: Status) -> Result<Vec<EventKind>> {
    if let Some(why) = moves::refusal(t, to) {
        bail!("{why}");
    }
    if t.status == to {
        return Ok(Vec::new());
    }
    t.approval = super::close::approval_after_move(to);
    let from = std::mem::replace(&mut t.status, to);
    Ok(vec![EventKind::Changed {
        field: "status".into(),
        from: from.to_string(),
        to: to.to_string(),
    }])
}

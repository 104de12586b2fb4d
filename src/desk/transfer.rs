//! `postdesk ticket transfer N SERVICE[/CATEGORY]`: moves a ticket to another
//! service without choosing an assignee. The new service's default assignee takes
//! it, and the permanent guests change with the service.

use anyhow::{bail, Result};

use super::roles::Action;
use super::tickets::{find_category, find_service};
use super::workflow::{update_ticket, Change, Updated};
use super::Desk;
use crate::config::Config;
use crate::model::{Assignee, EventKind, Ticket};
use crate::rules::RuleEvent;
use crate::store::Writer;

/// Where to and why, as `ticket transfer` was asked.
#[derive(Debug, Default)]
pub struct Transfer {
    pub service: String,
    pub category: Option<String>,
    pub comment: Option<String>,
    /// `--stay-as-guest`: the mover follows the ticket.
    pub stay_as_guest: bool,
}

impl Transfer {
    /// `SERVICE` or `SERVICE/CATEGORY`.
    pub fn to(target: &str) -> Transfer {
        let (service, category) = match target.split_once('/') {
            Some((s, c)) => (s, Some(c.to_string())),
            None => (target, None),
        };
        Transfer {
            service: service.to_string(),
            category,
            ..Transfer::default()
        }
    }
}

/// `ticket transfer`: the service and category checked against the config first.
pub fn transfer(desk: &Desk, number: u64, transfer: Transfer) -> Result<Updated> {
    let service = find_service(desk, &transfer.service)?;
    if let Some(category) = &transfer.category {
        find_category(service, category)?;
    }
    let change = Move {
        config: &desk.config,
        transfer: &transfer,
    };
    update_ticket(desk, number, &change)
}

struct Move<'a> {
    config: &'a Config,
    transfer: &'a Transfer,
}

impl Change for Move<'_> {
    fn action(&self, _: &Ticket) -> Action {
        Action::Transfer
    }

    fn rule_events(&self, _: &Ticket, _: &Ticket) -> Vec<RuleEvent> {
        vec![RuleEvent::Transferred]
    }

    fn apply(&self, _: &dyn Writer, actor: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        let to = &self.transfer;
        let from = place(t.service.as_deref(), t.category.as_deref());
        let target = place(Some(&to.service), to.category.as_deref());
        if from == target {
            bail!("it is already in {target}: nothing to transfer");
        }
        let guests = |name: Option<&str>| {
            name.and_then(|s| self.config.service(s))
                .map(|s| s.guests.clone())
                .unwrap_or_default()
        };
        for guest in guests(t.service.as_deref()) {
            t.followers.remove(&guest);
        }
        t.followers.extend(guests(Some(&to.service)));
        if to.stay_as_guest {
            t.followers.insert(actor.to_string());
        }
        t.assignee = self
            .config
            .service(&to.service)
            .and_then(|s| s.default_assignee.as_deref())
            .map(Assignee::parse)
            .unwrap_or_default();
        t.service = Some(to.service.clone());
        t.category = to.category.clone();
        Ok(vec![EventKind::Transferred {
            from,
            to: target,
            comment: to.comment.clone().unwrap_or_default(),
        }])
    }
}

/// `service` or `service/category`; empty for no service.
fn place(service: Option<&str>, category: Option<&str>) -> String {
    match (service, category) {
        (Some(s), Some(c)) => format!("{s}/{c}"),
        (Some(s), None) => s.to_string(),
        (None, _) => String::new(),
    }
}

//! Who a rule's mail goes to: `requester`, `assignee`, `managers`, `followers`, a
//! login, `@group` or an address, turned into addresses on one ticket.

use crate::config::Config;
use crate::model::{Assignee, Ticket};

/// The addresses `to` stands for on `ticket`; empty when it stands for nobody (no
/// requester, nobody assigned, a service without managers, an empty group).
pub fn addresses(config: &Config, to: &str, ticket: &Ticket) -> Vec<String> {
    let logins = |logins: &[String]| -> Vec<String> {
        logins
            .iter()
            .filter_map(|login| config.user(login))
            .map(|user| user.email.clone())
            .collect()
    };
    let group = |name: &str| {
        config
            .group(name)
            .map(|g| logins(&g.members))
            .unwrap_or_default()
    };
    match to {
        "requester" => ticket.requester.email.iter().cloned().collect(),
        "assignee" => match &ticket.assignee {
            Assignee::Nobody => Vec::new(),
            Assignee::User(login) => logins(std::slice::from_ref(login)),
            Assignee::Group(name) => group(name),
        },
        "managers" => ticket
            .service
            .as_deref()
            .and_then(|s| config.service(s))
            .map(|s| logins(&s.managers))
            .unwrap_or_default(),
        "followers" => ticket.followers.iter().cloned().collect(),
        _ => match to.strip_prefix('@') {
            Some(name) => group(name),
            None if to.contains('@') => vec![to.to_string()],
            None => logins(&[to.to_string()]),
        },
    }
}

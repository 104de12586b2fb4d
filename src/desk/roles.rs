//! Who may do what to a ticket. Admins may do anything; a service's managers may
//! take, assign, release, transfer, close and reopen its tickets; its agents (the
//! members of its default-assignee group, or that user) may take them, reopen them,
//! record the requester's answer to a closing, log time, and change the status of
//! (and close) what they hold; whoever holds a ticket may release it; any user of
//! the directory may comment, reply to the requester by mail (`ticket reply`: the
//! directory is the desk's staff) and add or remove followers; linking needs a manager or
//! an agent of both tickets. These guard against mistakes among colleagues: the
//! boundary against everyone else is the Unix permissions of the desk.

use crate::config::{Config, Service};
use crate::model::{Assignee, Ticket};

/// What an actor wants to do to a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Take,
    /// Assign to someone else (or no one).
    Assign,
    Release,
    /// Move the status (closing included) other than reopening.
    ChangeStatus,
    /// Close, asking the requester to approve.
    Close,
    /// From closed back to open.
    Reopen,
    /// Record the requester's answer to a closing (approve or reject).
    Answer,
    Comment,
    /// Add or remove a follower.
    Follow,
    /// Move to another service (`ticket transfer`, or `ticket edit --service`).
    Transfer,
    /// `ticket edit`: any field.
    Edit,
    /// `ticket link` / `unlink`: judged on each of the two tickets.
    Link,
    /// `ticket time`: log time, start or stop a timer.
    LogTime,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Take => "take",
            Action::Assign => "assign",
            Action::Release => "release",
            Action::ChangeStatus => "change the status of",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Answer => "answer for the requester of",
            Action::Comment => "comment on",
            Action::Follow => "change the followers of",
            Action::Transfer => "transfer",
            Action::Edit => "edit",
            Action::Link => "link or unlink",
            Action::LogTime => "log time on",
        }
    }
}

/// Who may act, as a refusal names them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allowed {
    Anyone,
    Managers,
    ManagersAndAgents,
    ManagersAndHolder,
}

fn allowed(action: Action) -> Allowed {
    match action {
        Action::Comment | Action::Follow => Allowed::Anyone,
        Action::Assign | Action::Transfer => Allowed::Managers,
        Action::Take
        | Action::Reopen
        | Action::Edit
        | Action::Answer
        | Action::Link
        | Action::LogTime => Allowed::ManagersAndAgents,
        Action::Release | Action::ChangeStatus | Action::Close => Allowed::ManagersAndHolder,
    }
}

/// Refuses `action` on `ticket` by `actor` (a login of the config) unless its role
/// allows it; the error says who may.
pub fn check(config: &Config, actor: &str, action: Action, ticket: &Ticket) -> anyhow::Result<()> {
    if config.user(actor).is_some_and(|u| u.admin) {
        return Ok(());
    }
    let service = ticket.service.as_deref().and_then(|s| config.service(s));
    let manager = service.is_some_and(|s| s.managers.iter().any(|m| m == actor));
    let permitted = match allowed(action) {
        Allowed::Anyone => config.user(actor).is_some(),
        Allowed::Managers => manager,
        Allowed::ManagersAndAgents => {
            manager || service.is_some_and(|s| is_agent(config, s, actor))
        }
        Allowed::ManagersAndHolder => manager || ticket.assignee == Assignee::User(actor.into()),
    };
    if permitted {
        return Ok(());
    }
    anyhow::bail!(
        "only {} may {} #{} ({actor} may not)",
        who_may(config, service, action, ticket),
        action.verb(),
        ticket.number
    )
}

/// "the managers of service 'it' (alice, bob) or an admin", and so on.
fn who_may(config: &Config, service: Option<&Service>, action: Action, ticket: &Ticket) -> String {
    let Some(service) = service else {
        return "an admin (it has no service)".to_string();
    };
    let names = |list: Vec<&str>| match list.is_empty() {
        true => "none".to_string(),
        false => list.join(", "),
    };
    let managers = names(service.managers.iter().map(String::as_str).collect());
    let name = &service.name;
    match allowed(action) {
        Allowed::Anyone => "a user of the config".to_string(),
        Allowed::Managers => format!("the managers of service '{name}' ({managers}) or an admin"),
        Allowed::ManagersAndAgents => format!(
            "the managers ({managers}) and agents ({}) of service '{name}' or an admin",
            names(agents(config, service))
        ),
        Allowed::ManagersAndHolder => {
            let holder = match &ticket.assignee {
                Assignee::User(login) => format!("its assignee ({login}), "),
                _ => String::new(),
            };
            format!("{holder}the managers of service '{name}' ({managers}) or an admin")
        }
    }
}

/// The agents of a service: the members of its default-assignee group, or that user.
pub fn agents<'a>(config: &'a Config, service: &'a Service) -> Vec<&'a str> {
    match service.default_assignee.as_deref().map(Assignee::parse) {
        Some(Assignee::Group(group)) => config
            .group(&group)
            .map(|g| g.members.iter().map(String::as_str).collect())
            .unwrap_or_default(),
        Some(Assignee::User(_)) => service
            .default_assignee
            .iter()
            .map(String::as_str)
            .collect(),
        _ => Vec::new(),
    }
}

fn is_agent(config: &Config, service: &Service, login: &str) -> bool {
    agents(config, service).contains(&login)
}

/// Whether `assignee` may hold a ticket of `service` without `--force`: nobody, one
/// of its agents or managers, or its default-assignee group.
pub fn may_hold(config: &Config, service: Option<&str>, assignee: &Assignee) -> bool {
    let Some(service) = service.and_then(|s| config.service(s)) else {
        return true;
    };
    match assignee {
        Assignee::Nobody => true,
        Assignee::User(login) => {
            service.managers.contains(login) || is_agent(config, service, login)
        }
        Assignee::Group(_) => service.default_assignee.as_deref() == assignee.label().as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "
users:
  - { login: root, name: R, email: r@x, admin: true }
  - { login: alice, name: A, email: a@x }
  - { login: bob, name: B, email: b@x }
  - { login: carol, name: C, email: c@x }
groups:
  - { name: desk, members: [bob] }
services:
  - { name: it, managers: [alice], default_assignee: '@desk' }
";

    fn config() -> Config {
        Config::parse(CONFIG, std::path::Path::new("desk.yaml")).unwrap()
    }

    fn ticket(assignee: &str) -> Ticket {
        let mut t = Ticket::new(42, "printer", 0);
        t.service = Some("it".into());
        t.assignee = Assignee::parse(assignee);
        t
    }

    fn may(who: &str, action: Action, assignee: &str) -> bool {
        check(&config(), who, action, &ticket(assignee)).is_ok()
    }

    #[test]
    fn managers_assign_agents_take_and_anyone_comments() {
        assert!(may("alice", Action::Assign, "none"));
        assert!(!may("bob", Action::Assign, "none"));
        assert!(may("bob", Action::Take, "none"));
        assert!(!may("carol", Action::Take, "none"));
        assert!(may("carol", Action::Comment, "none"));
        assert!(may("root", Action::Assign, "none"), "an admin");
    }

    #[test]
    fn the_holder_changes_the_status_and_releases() {
        assert!(may("bob", Action::ChangeStatus, "bob"));
        assert!(!may("bob", Action::ChangeStatus, "@desk"));
        assert!(may("carol", Action::Release, "carol"));
        assert!(may("bob", Action::Reopen, "none"), "an agent reopens");
    }

    #[test]
    fn a_refusal_says_who_may() {
        let err = check(&config(), "bob", Action::Assign, &ticket("none")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "only the managers of service 'it' (alice) or an admin may assign #42 (bob may not)"
        );
        let err = check(&config(), "carol", Action::Take, &ticket("none")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "only the managers (alice) and agents (bob) of service 'it' or an admin may take #42 (carol may not)"
        );
        let err = check(&config(), "carol", Action::ChangeStatus, &ticket("bob")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("only its assignee (bob), the managers"));
    }

    #[test]
    fn only_agents_managers_and_the_service_group_hold_without_force() {
        let config = config();
        let hold = |a: &str| may_hold(&config, Some("it"), &Assignee::parse(a));
        assert!(hold("alice") && hold("bob") && hold("@desk") && hold("none"));
        assert!(!hold("carol"));
    }
}

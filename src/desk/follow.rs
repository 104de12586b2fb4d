//! `postdesk ticket follow N WHO` and `unfollow N WHO`: followers are logins of the
//! config or e-mail addresses, checked as `ticket edit --follower` checks them.

use anyhow::{bail, Result};

use super::roles::Action;
use super::tickets::{follower_named, NOT_A_FOLLOWER};
use super::workflow::{update_ticket, Change, Updated};
use super::Desk;
use crate::model::{EventKind, Ticket};
use crate::store::Writer;

/// `ticket follow`: WHO follows the ticket; already following changes nothing.
pub fn follow(desk: &Desk, number: u64, who: &str, comment: Option<String>) -> Result<Updated> {
    let Some(who) = follower_named(&desk.config, who) else {
        bail!("'{who}' {NOT_A_FOLLOWER}");
    };
    update_ticket(desk, number, &Follow { who, comment })
}

/// `ticket unfollow`: WHO, who must be following, stops.
pub fn unfollow(desk: &Desk, number: u64, who: &str) -> Result<Updated> {
    // Someone no longer valid (a login removed from the config) may still be removed.
    let who = follower_named(&desk.config, who).unwrap_or_else(|| who.to_string());
    update_ticket(desk, number, &Unfollow { who })
}

struct Follow {
    who: String,
    comment: Option<String>,
}

impl Change for Follow {
    fn action(&self, _: &Ticket) -> Action {
        Action::Follow
    }

    fn apply(&self, _: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        if !t.followers.insert(self.who.clone()) {
            return Ok(Vec::new());
        }
        Ok(vec![EventKind::Followed {
            who: self.who.clone(),
            comment: self.comment.clone().unwrap_or_default(),
        }])
    }
}

struct Unfollow {
    who: String,
}

impl Change for Unfollow {
    fn action(&self, _: &Ticket) -> Action {
        Action::Follow
    }

    fn apply(&self, _: &dyn Writer, _: &str, t: &mut Ticket) -> Result<Vec<EventKind>> {
        if !t.followers.remove(&self.who) {
            let following: Vec<&str> = t.followers.iter().map(String::as_str).collect();
            let following = match following.is_empty() {
                true => "no one".to_string(),
                false => following.join(", "),
            };
            bail!("{} does not follow it (followers: {following})", self.who);
        }
        Ok(vec![EventKind::Unfollowed {
            who: self.who.clone(),
        }])
    }
}

//! The requester's approval of a closing: asked when a ticket closes, answered by
//! `approve` or `reject`, and taken as given when no answer came in time.

/// Where the requester's approval of a closed ticket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    /// Asked when the ticket closed, at `since` (seconds since the epoch).
    Pending {
        since: i64,
    },
    Approved,
    /// Rejected: the ticket was reopened.
    Rejected,
}

/// A day, in seconds: approval days are counted in whole days of 86,400 s.
const DAY: i64 = 86_400;

impl Approval {
    /// As it stands at `now`: still pending after `days` days counts as approved.
    /// Computed when read, so changing `settings.approval_days` applies to all.
    pub fn at(self, now: i64, days: u32) -> Approval {
        match self {
            Approval::Pending { since } if now >= since.saturating_add(i64::from(days) * DAY) => {
                Approval::Approved
            }
            other => other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Pending { .. } => "pending",
            Approval::Approved => "approved",
            Approval::Rejected => "rejected",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_counts_as_approved_once_the_days_are_over() {
        let asked = Approval::Pending { since: 1_000 };
        assert_eq!(asked.at(1_000 + 7 * DAY - 1, 7), asked);
        assert_eq!(asked.at(1_000 + 7 * DAY, 7), Approval::Approved);
        assert_eq!(asked.at(1_000, 0), Approval::Approved, "0 days: at once");
        assert_eq!(Approval::Rejected.at(i64::MAX, 0), Approval::Rejected);
    }
}

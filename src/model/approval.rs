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

/// First lines of a requester's mail that approve a closing (README, "Working a
/// ticket"): compared case-insensitively, trailing punctuation ignored.
pub const APPROVE_WORDS: &[&str] = &[
    "approve",
    "approved",
    "yes",
    "ok",
    "oui",
    "j'approuve",
    "approuvé",
    "d'accord",
];

/// First lines that reject a closing; the lines after are the reason.
pub const REJECT_WORDS: &[&str] = &[
    "reject",
    "rejected",
    "no",
    "non",
    "je refuse",
    "refusé",
    "rejeter",
];

/// The requester's answer to a closing, read from the text of their mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailAnswer {
    Approve,
    /// With the rest of the text (quotes and signature left out): why.
    Reject {
        why: String,
    },
}

/// The answer a mail's `text` gives: its first line that is not empty, not quoted
/// (`>`) and not in the signature (after `-- `) is one of [`APPROVE_WORDS`] or
/// [`REJECT_WORDS`] (any case, trailing `.`, `!`, `,`, `;`, `:` and spaces
/// ignored, `’` read as `'`). None: any other first line, a normal reply.
pub fn answer_in(text: &str) -> Option<MailAnswer> {
    let mut lines = own_lines(text);
    let first = lines.find(|l| !l.trim().is_empty())?;
    let word = first
        .trim()
        .trim_end_matches(|c: char| ".!,;:".contains(c) || c.is_whitespace())
        .replace('\u{2019}', "'")
        .to_lowercase();
    if APPROVE_WORDS.contains(&word.as_str()) {
        return Some(MailAnswer::Approve);
    }
    if !REJECT_WORDS.contains(&word.as_str()) {
        return None;
    }
    let rest: Vec<&str> = lines.collect();
    let rest = rest.join("\n");
    Some(MailAnswer::Reject {
        why: rest.trim().to_string(),
    })
}

/// The lines the sender wrote: no quoted line (`>`), no attribution line just
/// above a quote (`On ... wrote:`, `Le ... a écrit :`), nothing from the signature
/// separator (`-- `) on.
fn own_lines(text: &str) -> impl Iterator<Item = &str> {
    let lines: Vec<&str> = text.lines().collect();
    let quoted = |l: &str| l.trim_start().starts_with('>');
    let signature = lines
        .iter()
        .position(|l| l.trim_end_matches('\r') == "-- " || l.trim() == "--")
        .unwrap_or(lines.len());
    let keep: Vec<&str> = lines[..signature]
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            if quoted(l) {
                return false;
            }
            let t = l.trim_end().to_lowercase();
            let attribution =
                t.ends_with("wrote:") || t.ends_with("écrit :") || t.ends_with("écrit:");
            let before_quote = lines[i + 1..signature]
                .iter()
                .find(|n| !n.trim().is_empty())
                .is_some_and(|n| quoted(n));
            !(attribution && before_quote)
        })
        .map(|(_, l)| *l)
        .collect();
    keep.into_iter()
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
    #[test]
    fn a_first_line_answers_in_english_or_french() {
        for yes in [
            "yes",
            "Yes.",
            "APPROVE!",
            "ok",
            "Oui",
            "j\u{2019}approuve",
            "Approuvé",
            "d'accord !",
        ] {
            assert_eq!(answer_in(yes), Some(MailAnswer::Approve), "{yes}");
        }
        for no in [
            "no",
            "No!",
            "reject",
            "REJECTED.",
            "non",
            "Je refuse",
            "refusé",
            "rejeter",
        ] {
            assert_eq!(
                answer_in(no),
                Some(MailAnswer::Reject { why: String::new() }),
                "{no}"
            );
        }
        for other in ["yes, thanks", "nope", "", "thanks", "no way", "oui oui"] {
            assert_eq!(answer_in(other), None, "{other}");
        }
    }

    #[test]
    fn quotes_and_the_signature_are_not_the_answer_nor_the_reason() {
        let text = "\n\nNo\nIt still jams.\n\nOn Tue, Nov 24, help wrote:\n> Is your request solved?\n> yes\n-- \nAnn\n";
        assert_eq!(
            answer_in(text),
            Some(MailAnswer::Reject {
                why: "It still jams.".into()
            })
        );
        assert_eq!(answer_in("> yes\nsomething else"), None);
        assert_eq!(answer_in("> no\n\nyes\n"), Some(MailAnswer::Approve));
        assert_eq!(answer_in("-- \nyes"), None, "only a signature");
    }
}

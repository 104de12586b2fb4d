//! A ticket and the small value types it is made of.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::choices::or_list;

/// Where a ticket stands in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Open,
    InProgress,
    Pending,
    Closed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::InProgress,
        Status::Pending,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in-progress",
            Status::Pending => "pending",
            Status::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names = Status::ALL.map(Status::as_str);
                format!("unknown status '{s}' (expected {})", or_list(&names))
            })
    }
}

/// How urgent a ticket is; ordered from least to most urgent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names = Priority::ALL.map(Priority::as_str);
                format!("unknown priority '{s}' (expected {})", or_list(&names))
            })
    }
}

/// Who a ticket is assigned to: nobody, one user (by login) or a group.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Assignee {
    #[default]
    Nobody,
    User(String),
    Group(String),
}

impl Assignee {
    /// The spelling used on the command line and in JSON: `alice`, `@support`, or none.
    pub fn label(&self) -> Option<String> {
        match self {
            Assignee::Nobody => None,
            Assignee::User(u) => Some(u.clone()),
            Assignee::Group(g) => Some(format!("@{g}")),
        }
    }

    /// Parses `none`, `@group` or `login`; names are checked against the directory elsewhere.
    pub fn parse(s: &str) -> Assignee {
        if s.is_empty() || s.eq_ignore_ascii_case("none") {
            Assignee::Nobody
        } else if let Some(group) = s.strip_prefix('@') {
            Assignee::Group(group.to_string())
        } else {
            Assignee::User(s.to_string())
        }
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label().as_deref().unwrap_or("none"))
    }
}

/// The customer who asked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Requester {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.phone.is_none()
    }

    /// `Name <email>`, or whichever part is known.
    pub fn display(&self) -> String {
        match (&self.name, &self.email) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (Some(n), None) => n.clone(),
            (None, Some(e)) => e.clone(),
            (None, None) => self.phone.clone().unwrap_or_default(),
        }
    }

    /// The domain part of the e-mail address, lowercased.
    pub fn domain(&self) -> Option<String> {
        let email = self.email.as_deref()?;
        email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase())
    }
}

/// Where the whole of a long description is, in the mail store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextRef {
    /// The text of the raw message with this SHA-256 (a ticket's opening mail).
    Mail(String),
    /// Text stored as it is, under the SHA-256 of its bytes.
    Text(String),
}

/// A ticket without its activity log (events live apart so that listing stays cheap).
/// Stored as `store::records::TicketRecord`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    pub number: u64,
    pub subject: String,
    /// The description, or its first [`super::text::DESCRIPTION_KEPT`] bytes when
    /// `description_rest` says where the whole is.
    pub description: String,
    pub description_rest: Option<TextRef>,
    pub status: Status,
    pub priority: Priority,
    pub assignee: Assignee,
    pub service: Option<String>,
    pub category: Option<String>,
    pub tags: BTreeSet<String>,
    pub requester: Requester,
    pub followers: BTreeSet<String>,
    /// Custom fields, values already validated and normalised against the config.
    pub fields: BTreeMap<String, String>,
    /// Seconds since the Unix epoch, UTC.
    pub created: i64,
    pub updated: i64,
    /// Linked tickets, each with what it is to this one.
    pub links: BTreeMap<u64, super::LinkKind>,
    /// Minutes spent on it: the sum of its `time-spent` events.
    pub minutes_spent: u64,
    /// The requester's approval of the last closing; None when never asked.
    pub approval: Option<super::Approval>,
    /// Due times and the service-level clock ([`super::sla`]).
    pub sla: super::Sla,
}

impl Ticket {
    /// A new open, medium-priority, unassigned ticket with nothing else set;
    /// callers fill in the rest with struct update syntax.
    pub fn new(number: u64, subject: impl Into<String>, at: i64) -> Ticket {
        Ticket {
            number,
            subject: subject.into(),
            description: String::new(),
            description_rest: None,
            status: Status::Open,
            priority: Priority::Medium,
            assignee: Assignee::Nobody,
            service: None,
            category: None,
            tags: BTreeSet::new(),
            requester: Requester::default(),
            followers: BTreeSet::new(),
            fields: BTreeMap::new(),
            created: at,
            updated: at,
            links: BTreeMap::new(),
            minutes_spent: 0,
            approval: None,
            sla: Default::default(),
        }
    }

    /// Sets the description: all of `text` when it is short, else its start, with
    /// `rest` saying where the whole is kept.
    pub fn set_description(&mut self, text: &str, rest: impl FnOnce() -> TextRef) {
        let kept = super::text::head(text, super::text::DESCRIPTION_KEPT, usize::MAX);
        self.description = kept.to_string();
        self.description_rest = (kept.len() < text.len()).then(rest);
    }

    /// Text words for the search index: subject and description.
    pub fn searchable_text(&self) -> impl Iterator<Item = &str> {
        [self.subject.as_str(), self.description.as_str()].into_iter()
    }
}

/// The activity-log entries that turn `old` into `new`, one per changed field.
pub fn changes(old: &Ticket, new: &Ticket) -> Vec<super::EventKind> {
    let mut out = Vec::new();
    let mut field = |name: &str, from: String, to: String| {
        if from != to {
            out.push(super::EventKind::Changed {
                field: name.to_string(),
                from,
                to,
            });
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let list = |v: &BTreeSet<String>| v.iter().cloned().collect::<Vec<_>>().join(", ");
    field("subject", old.subject.clone(), new.subject.clone());
    if old.description != new.description || old.description_rest != new.description_rest {
        field("description", "(previous text)".into(), "(new text)".into());
    }
    field("status", old.status.to_string(), new.status.to_string());
    field(
        "priority",
        old.priority.to_string(),
        new.priority.to_string(),
    );
    field(
        "assignee",
        old.assignee.label().unwrap_or_default(),
        new.assignee.label().unwrap_or_default(),
    );
    field("service", opt(&old.service), opt(&new.service));
    field("category", opt(&old.category), opt(&new.category));
    field("tags", list(&old.tags), list(&new.tags));
    field(
        "requester name",
        opt(&old.requester.name),
        opt(&new.requester.name),
    );
    field(
        "requester email",
        opt(&old.requester.email),
        opt(&new.requester.email),
    );
    field(
        "requester phone",
        opt(&old.requester.phone),
        opt(&new.requester.phone),
    );
    field("followers", list(&old.followers), list(&new.followers));
    let names: BTreeSet<&String> = old.fields.keys().chain(new.fields.keys()).collect();
    for name in names {
        field(
            name,
            old.fields.get(name).cloned().unwrap_or_default(),
            new.fields.get(name).cloned().unwrap_or_default(),
        );
    }
    out
}

/// Splits text into folded words ([`fold`]) for the search index, for queries and
/// for matching pending texts: index and query agree because both come from here.
/// Accents written as separate marks (decomposed text) stay inside their word.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || is_diacritic(c)))
        .filter(|w| !w.is_empty())
        .map(fold)
        .filter(|w| !w.is_empty() && w.chars().count() <= 40)
}

/// A word lowercased and without accents: "Électricité" -> "electricite", "Ärger"
/// -> "arger". Canonical decomposition (NFD), then the marks of the Combining
/// Diacritical Marks blocks, which is what Latin, Greek and Cyrillic accents
/// decompose to, are dropped, and the rest is composed again (NFC). Marks of other
/// scripts (Indic vowel signs, kana voicing marks) and letters that do not
/// decompose ("ß", "ø", "ł") are kept; Hangul syllables and CJK stay as they are.
pub fn fold(word: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    word.to_lowercase()
        .nfd()
        .filter(|c| !is_diacritic(*c))
        .nfc()
        .collect()
}

/// A mark of the Combining Diacritical Marks blocks (basic, extended, supplement,
/// for symbols, half marks).
fn is_diacritic(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036f}'
        | '\u{1ab0}'..='\u{1aff}'
        | '\u{1dc0}'..='\u{1dff}'
        | '\u{20d0}'..='\u{20ff}'
        | '\u{fe20}'..='\u{fe2f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parses_case_insensitively_and_names_the_choices() {
        assert_eq!("In-Progress".parse::<Status>(), Ok(Status::InProgress));
        let err = "done".parse::<Status>().unwrap_err();
        assert!(err.contains("'done'") && err.contains("pending"), "{err}");
    }

    #[test]
    fn priority_orders_by_urgency() {
        assert!(Priority::Urgent > Priority::High && Priority::Low < Priority::Medium);
        assert!("critical".parse::<Priority>().is_err());
    }

    #[test]
    fn assignee_round_trips_through_its_label() {
        for s in ["alice", "@support"] {
            assert_eq!(Assignee::parse(s).label().as_deref(), Some(s));
        }
        assert_eq!(Assignee::parse("none"), Assignee::Nobody);
    }

    #[test]
    fn words_are_lowercased_and_split_on_punctuation() {
        let w: Vec<_> = words("Printer-JAM, café!").collect();
        assert_eq!(w, ["printer", "jam", "cafe"]);
    }

    #[test]
    fn fold_drops_accents_and_case_and_keeps_other_scripts() {
        for (word, folded) in [
            ("Électricité", "electricite"),
            ("ÉLECTRICITÉ", "electricite"),
            ("e\u{301}lectricite\u{301}", "electricite"),
            ("Ärger", "arger"),
            ("Straße", "straße"),
            ("Ångström", "angstrom"),
            ("Øresund", "øresund"),
            ("Łódź", "łodz"),
            ("İstanbul", "istanbul"),
            ("Tiếng", "tieng"),
            ("Ελληνικά", "ελληνικα"),
            ("ΆΈΉ", "αεη"),
            ("Ёлка", "елка"),
            ("Москва", "москва"),
            ("電気", "電気"),
            ("한국어", "한국어"),
            ("がぎ", "がぎ"),
            ("हिन्दी", "हिन्दी"),
            ("printer42", "printer42"),
        ] {
            assert_eq!(fold(word), folded, "{word}");
            assert_eq!(
                fold(folded),
                folded,
                "folding twice changes nothing: {folded}"
            );
        }
    }

    #[test]
    fn decomposed_accents_stay_inside_their_word() {
        let w: Vec<_> = words("E\u{301}lectricite\u{301} \u{301} ok").collect();
        assert_eq!(w, ["electricite", "ok"]);
    }
}

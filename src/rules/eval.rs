//! Running rules: conditions over the message and the ticket, actions on the ticket.

use super::format::{Action, Condition, Field, Match, Op, Rule, Test, When};
use crate::mail::classify::list_header;
use crate::mail::parse::Incoming;
use crate::model::ticket::changes;
use crate::model::{Assignee, EventKind, Ticket};

/// What the rules are run for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Created,
    Reply,
    Updated,
    Assigned,
    Commented,
    Closed,
    Reopened,
    Transferred,
}

impl Event {
    fn fires(self, when: &[When]) -> bool {
        when.iter().any(|w| {
            matches!(
                (w, self),
                (When::Any, _)
                    | (When::Created, Event::Created)
                    | (When::Reply, Event::Reply)
                    | (When::Updated, Event::Updated)
                    | (When::Assigned, Event::Assigned)
                    | (When::Commented, Event::Commented)
                    | (When::Closed, Event::Closed)
                    | (When::Reopened, Event::Reopened)
                    | (When::Transferred, Event::Transferred)
            )
        })
    }
}

/// The enabled rules that `events` fire, event by event (those of the first event,
/// in file order, then those of the next), each rule once: a rule that fires for
/// two of them runs with the first.
fn in_event_order<'a>(rules: &'a [Rule], events: &[Event]) -> Vec<&'a Rule> {
    let mut taken = vec![false; rules.len()];
    let mut order = Vec::new();
    for event in events {
        for (rule, taken) in rules.iter().zip(taken.iter_mut()) {
            if !*taken && rule.enabled && event.fires(&rule.when) {
                *taken = true;
                order.push(rule);
            }
        }
    }
    order
}

/// A mail a rule asks for; delivered by the mail-out code.
#[derive(Clone, Debug, PartialEq)]
pub struct Outbound {
    pub rule: String,
    /// `notify` or `reply`.
    pub kind: &'static str,
    pub to: String,
    pub template: String,
}

impl Outbound {
    fn new(rule: &str, kind: &'static str, to: &str, template: &str) -> Outbound {
        Outbound {
            rule: rule.to_string(),
            kind,
            to: to.to_string(),
            template: template.to_string(),
        }
    }
}

/// A mail a rule asked for and that is not queued.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub mail: Outbound,
    pub why: SkipReason,
}

/// Why a mail a rule asked for is not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Its recipient stands for nobody on the ticket (`requester` on a ticket made
    /// from the shell).
    Nobody,
    /// A `reply` to mail a mailing list sent (this list header): list mail never
    /// gets an automatic reply (RFC 3834, RFC 2369).
    ListMail(&'static str),
}

impl SkipReason {
    /// The reason as the trace gives it.
    pub fn explain(self) -> String {
        match self {
            SkipReason::Nobody => "nobody to send it to on this ticket".to_string(),
            SkipReason::ListMail(header) => {
                format!(
                    "the mail came from a mailing list ({header}), which gets no automatic reply"
                )
            }
        }
    }

    /// The reason in a few words (`rule test`'s "would not send" lines).
    pub fn short(self) -> String {
        match self {
            SkipReason::Nobody => "nobody on this ticket".to_string(),
            SkipReason::ListMail(header) => format!("list mail ({header}) gets no automatic reply"),
        }
    }

    /// A key for JSON: `nobody` or `list-mail`.
    pub fn key(self) -> &'static str {
        match self {
            SkipReason::Nobody => "nobody",
            SkipReason::ListMail(_) => "list-mail",
        }
    }
}

/// One condition's result, for `rule test --trace`.
#[derive(Clone, Debug)]
pub struct TraceLine {
    pub rule: String,
    pub depth: usize,
    pub text: String,
    pub matched: bool,
}

/// What the rules decided.
#[derive(Debug, Default)]
pub struct Decision {
    /// The rule that said to make no ticket.
    pub ignored_by: Option<String>,
    /// Rules that matched, in order, with the changes each made to the ticket.
    pub applied: Vec<(String, Vec<EventKind>)>,
    pub mails: Vec<Outbound>,
    /// Mails not queued, and why.
    pub skipped: Vec<Skipped>,
    pub trace: Vec<TraceLine>,
}

/// Field values the rules can look at.
struct Facts<'a> {
    mail: Option<&'a Incoming>,
    /// The mail's From is a user of the config, authenticated as ingest requires.
    from_agent: bool,
    ticket: &'a Ticket,
}

/// A field's values as found and lowercased.
type Looked = std::rc::Rc<(Vec<String>, Vec<String>)>;

/// Values read from the mail, raw and lowercased, computed once per message:
/// a hundred rules looking at a 2 KB body must not copy and fold it a hundred times.
/// Ticket values are not cached: actions change them between rules.
#[derive(Default)]
struct MailCache {
    values: std::collections::HashMap<String, Looked>,
}

impl Field {
    fn is_mail_field(&self) -> bool {
        matches!(
            self,
            Field::From
                | Field::FromName
                | Field::FromDomain
                | Field::To
                | Field::Cc
                | Field::Recipient
                | Field::Subject
                | Field::Body
                | Field::Header(_)
                | Field::HasAttachment
                | Field::Size
                | Field::Author
        )
    }
}

impl Facts<'_> {
    fn values(&self, field: &Field) -> Vec<String> {
        let t = self.ticket;
        let m = self.mail;
        let from = || m.and_then(|m| m.from.clone());
        match field {
            Field::From => match from() {
                Some(a) => vec![a.email],
                None => t.requester.email.iter().cloned().collect(),
            },
            Field::FromName => match from() {
                Some(a) => a.name.into_iter().collect(),
                None => t.requester.name.iter().cloned().collect(),
            },
            Field::FromDomain => match from() {
                Some(a) => a
                    .email
                    .rsplit_once('@')
                    .map(|(_, d)| d.to_string())
                    .into_iter()
                    .collect(),
                None => t.requester.domain().into_iter().collect(),
            },
            Field::To => m
                .map(|m| m.to.iter().map(|a| a.email.clone()).collect())
                .unwrap_or_default(),
            Field::Cc => m
                .map(|m| m.cc.iter().map(|a| a.email.clone()).collect())
                .unwrap_or_default(),
            Field::Recipient => m
                .map(|m| m.recipients().map(str::to_string).collect())
                .unwrap_or_default(),
            Field::Subject => vec![m
                .map(|m| m.subject.clone())
                .unwrap_or_else(|| t.subject.clone())],
            Field::Body => vec![m
                .map(|m| m.text.clone())
                .unwrap_or_else(|| t.description.clone())],
            Field::Header(name) => m
                .map(|m| {
                    m.headers
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.clone())
                        .collect()
                })
                .unwrap_or_default(),
            Field::HasAttachment => match m {
                Some(m) if !m.attachments.is_empty() => vec!["true".into()],
                _ => vec![],
            },
            Field::Size => m.map(|m| vec![m.size.to_string()]).unwrap_or_default(),
            Field::Status => vec![t.status.to_string()],
            Field::Priority => vec![t.priority.to_string()],
            Field::Assignee => vec![t.assignee.to_string()],
            Field::Service => t.service.iter().cloned().collect(),
            Field::Category => t.category.iter().cloned().collect(),
            Field::Tags => t.tags.iter().cloned().collect(),
            Field::CustomField(name) => t.fields.get(name).cloned().into_iter().collect(),
            Field::Author => from()
                .map(|a| author(&a.email, self.from_agent, t).to_string())
                .into_iter()
                .collect(),
        }
    }
}

/// Who wrote a mail from `email` on ticket `t`: an authenticated agent first (an
/// agent may also follow or have asked), then the requester, then a follower.
fn author(email: &str, from_agent: bool, t: &Ticket) -> &'static str {
    let same = |other: &str| other.eq_ignore_ascii_case(email);
    if from_agent {
        "agent"
    } else if t.requester.email.as_deref().is_some_and(same) {
        "requester"
    } else if t.followers.iter().any(|f| same(f)) {
        "follower"
    } else {
        "stranger"
    }
}

/// `values` as found, `lowered` the same lowercased; operands of case-insensitive
/// tests were lowercased when the rule was loaded.
fn test_values(test: &Test, values: &[String], lowered: &[String]) -> bool {
    let texts = if test.case_sensitive { values } else { lowered };
    let any = |f: &dyn Fn(&str) -> bool| texts.iter().any(|v| f(v));
    match &test.op {
        Op::Exists(want) => values.iter().any(|v| !v.is_empty()) == *want,
        Op::Equals(x) => any(&|v| v == x),
        Op::Contains(x) => any(&|v| v.contains(x.as_str())),
        Op::StartsWith(x) => any(&|v| v.starts_with(x.as_str())),
        Op::EndsWith(x) => any(&|v| v.ends_with(x.as_str())),
        Op::Regex(re) => values.iter().any(|v| re.is_match(v)),
        Op::In(xs) => any(&|v| xs.iter().any(|x| v == x)),
        Op::GreaterThan(n) => values
            .iter()
            .any(|v| v.parse::<f64>().is_ok_and(|x| x > *n)),
        Op::LessThan(n) => values
            .iter()
            .any(|v| v.parse::<f64>().is_ok_and(|x| x < *n)),
    }
}

struct Evaluator<'a> {
    facts: Facts<'a>,
    cache: &'a mut MailCache,
    trace: Option<&'a mut Vec<TraceLine>>,
    rule: &'a str,
}

impl Evaluator<'_> {
    fn condition(&mut self, c: &Condition, depth: usize) -> bool {
        let (result, text) = match c {
            Condition::Test { field, test } => {
                let looked = self.lookup(field);
                let (values, lowered) = &*looked;
                let result = test_values(test, values, lowered);
                if self.trace.is_none() {
                    return result;
                }
                let shown: Vec<String> = values.iter().map(|v| shorten(v)).collect();
                (
                    result,
                    format!(
                        "{} {} (looked at {:?})",
                        field.label(),
                        test.op.describe(),
                        shown
                    ),
                )
            }
            Condition::Not(inner) => {
                let header = self.open_group(depth, "not:");
                let r = !self.condition(inner, depth + 1);
                return self.close_group(header, r);
            }
            Condition::All(list) => {
                let header = self.open_group(depth, "all of:");
                let r = self.group(list, Match::All, depth + 1);
                return self.close_group(header, r);
            }
            Condition::Any(list) => {
                let header = self.open_group(depth, "any of:");
                let r = self.group(list, Match::Any, depth + 1);
                return self.close_group(header, r);
            }
        };
        self.note(depth, text, result);
        result
    }

    fn lookup(&mut self, field: &Field) -> Looked {
        let compute = |facts: &Facts| {
            let values = facts.values(field);
            let lowered = values.iter().map(|v| v.to_lowercase()).collect();
            std::rc::Rc::new((values, lowered))
        };
        if !(field.is_mail_field() && self.facts.mail.is_some()) {
            return compute(&self.facts);
        }
        let facts = &self.facts;
        self.cache
            .values
            .entry(field.label())
            .or_insert_with(|| compute(facts))
            .clone()
    }

    /// Every condition is evaluated (not short-circuited) so a trace shows them all.
    fn group(&mut self, list: &[Condition], how: Match, depth: usize) -> bool {
        let results: Vec<bool> = list.iter().map(|c| self.condition(c, depth)).collect();
        match how {
            Match::All => results.iter().all(|r| *r),
            Match::Any => results.iter().any(|r| *r),
        }
    }

    fn note(&mut self, depth: usize, text: String, matched: bool) {
        if let Some(trace) = self.trace.as_deref_mut() {
            trace.push(TraceLine {
                rule: self.rule.to_string(),
                depth,
                text,
                matched,
            });
        }
    }

    /// A group's header line, written before its members so the trace reads top
    /// down; its result is filled in by `close_group` once the members are known.
    fn open_group(&mut self, depth: usize, text: &str) -> Option<usize> {
        self.note(depth, text.to_string(), false);
        self.trace.as_deref().map(|t| t.len() - 1)
    }

    fn close_group(&mut self, header: Option<usize>, r: bool) -> bool {
        if let (Some(trace), Some(at)) = (self.trace.as_deref_mut(), header) {
            trace[at].matched = r;
        }
        r
    }
}

fn shorten(v: &str) -> String {
    let one_line: String = v.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        format!("{}…", one_line.chars().take(60).collect::<String>())
    } else {
        one_line
    }
}

/// Runs `rules` on `ticket` (changed in place) for `events`, in the order of
/// [`in_event_order`].
pub fn run(
    rules: &[Rule],
    events: &[Event],
    mail: Option<&Incoming>,
    from_agent: bool,
    ticket: &mut Ticket,
    recipients: Recipients,
    trace: bool,
) -> Decision {
    let mut decision = Decision::default();
    let mut cache = MailCache::default();
    for rule in in_event_order(rules, events) {
        let conditions_traced;
        let matched = {
            let mut trace_lines = Vec::new();
            let mut ev = Evaluator {
                facts: Facts {
                    mail,
                    from_agent,
                    ticket,
                },
                cache: &mut cache,
                trace: trace.then_some(&mut trace_lines),
                rule: &rule.name,
            };
            let matched = rule.conditions.is_empty() || ev.group(&rule.conditions, rule.match_, 1);
            conditions_traced = trace_lines.len();
            decision.trace.extend(trace_lines);
            matched
        };
        if trace {
            // The rule's own line goes before the lines of its conditions.
            let at = decision.trace.len() - conditions_traced;
            decision.trace.insert(
                at,
                TraceLine {
                    rule: rule.name.clone(),
                    depth: 0,
                    text: format!(
                        "rule '{}': {}",
                        rule.name,
                        if matched { "matched" } else { "no match" }
                    ),
                    matched,
                },
            );
        }
        if !matched {
            continue;
        }
        let mut stop = rule.stop;
        let before = ticket.clone();
        for action in &rule.actions {
            match action {
                Action::Ignore if events.contains(&Event::Created) => {
                    decision.ignored_by = Some(rule.name.clone())
                }
                Action::Stop => stop = true,
                Action::Notify { to, template } => {
                    let out = Outbound::new(&rule.name, "notify", to, template);
                    decision.queue(out, ticket, mail, recipients, trace)
                }
                Action::Reply { template } => {
                    let out = Outbound::new(&rule.name, "reply", "requester", template);
                    decision.queue(out, ticket, mail, recipients, trace)
                }
                other => apply(other, ticket),
            }
        }
        decision
            .applied
            .push((rule.name.clone(), changes(&before, ticket)));
        if decision.ignored_by.is_some() {
            // No ticket, so nobody to write to about it.
            decision.mails.clear();
            decision.skipped.clear();
            break;
        }
        if stop {
            break;
        }
    }
    decision
}

/// The addresses a mail action's recipient (`requester`, `assignee`, `managers`,
/// `followers`, a login, `@group`, an address) stands for on a ticket.
pub type Recipients<'a> = &'a dyn Fn(&str, &Ticket) -> Vec<String>;

impl Decision {
    /// Queues a mail, or skips it (saying so in the trace): a `reply` to list mail
    /// (an automatic reply, which list mail never gets), or a mail whose recipient
    /// stands for nobody on this ticket, such as `requester` on a ticket made from
    /// the shell.
    fn queue(
        &mut self,
        out: Outbound,
        ticket: &Ticket,
        mail: Option<&Incoming>,
        recipients: Recipients,
        trace: bool,
    ) {
        let list = mail.filter(|_| out.kind == "reply").and_then(list_header);
        let why = match list {
            Some(header) => SkipReason::ListMail(header),
            None if recipients(&out.to, ticket).is_empty() => SkipReason::Nobody,
            None => {
                self.mails.push(out);
                return;
            }
        };
        if trace {
            self.trace.push(TraceLine {
                rule: out.rule.clone(),
                depth: 1,
                text: format!(
                    "skipped a {} mail to {}: {}",
                    out.kind,
                    out.to,
                    why.explain()
                ),
                matched: false,
            });
        }
        self.skipped.push(Skipped { mail: out, why });
    }
}

fn apply(action: &Action, t: &mut Ticket) {
    match action {
        Action::SetStatus(s) => t.status = *s,
        Action::SetPriority(p) => t.priority = *p,
        Action::SetService(s) => {
            if t.service.as_deref() != Some(s) {
                t.service = Some(s.clone());
                t.category = None;
            }
        }
        Action::SetCategory(c) => t.category = Some(c.clone()),
        Action::SetField(k, v) => {
            t.fields.insert(k.clone(), v.clone());
        }
        Action::Assign(who) => t.assignee = Assignee::parse(who),
        Action::Tag(tags) => t.tags.extend(tags.iter().cloned()),
        Action::Untag(tags) => tags.iter().for_each(|x| {
            t.tags.remove(x);
        }),
        Action::Follow(who) => t.followers.extend(who.iter().cloned()),
        Action::Notify { .. } | Action::Reply { .. } | Action::Ignore | Action::Stop => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_author_is_an_agent_then_the_requester_then_a_follower_else_a_stranger() {
        let mut t = Ticket::new(1, "printer", 0);
        t.requester.email = Some("ann@acme.example".into());
        t.followers.insert("carl@acme.example".into());
        assert_eq!(author("Ann@Acme.example", false, &t), "requester");
        assert_eq!(author("ann@acme.example", true, &t), "agent");
        assert_eq!(author("carl@acme.example", false, &t), "follower");
        assert_eq!(author("eve@evil.example", false, &t), "stranger");
    }
}

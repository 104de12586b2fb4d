//! The rule format, deserialised strictly: unknown keys, wrong types, bad regexes and
//! unknown users, groups, services or templates fail inside deserialisation, so
//! serde_yaml's error carries the line and column.
//!
//! ```yaml
//! - name: invoices go to finance
//!   when: [created]            # created | reply | updated | assigned | commented |
//!                              # closed | reopened | transferred | any
//!   match: all                 # all | any
//!   conditions:
//!     - from-domain: example.com
//!     - subject: { contains: invoice }
//!     - not: { header: { name: X-Spam, exists: true } }
//!   actions:
//!     - set: { priority: high }
//!     - assign: "@finance"
//!     - tag: [billing]
//!   stop: true
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use regex::Regex;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::model::{Priority, Status};

/// What names exist, for checks made while deserialising.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub services: Vec<(String, Vec<String>)>,
    /// Per service, who may hold its tickets without `--force` (`roles::may_hold`):
    /// its managers, its agents and its default-assignee group (`@name`).
    pub holders: Vec<(String, Vec<String>)>,
    pub fields: Vec<String>,
    pub templates: Vec<String>,
}

thread_local! {
    static NAMES: RefCell<Names> = RefCell::new(Names::default());
}

/// Runs `f` with `names` available to the deserialisers.
pub fn with_names<R>(names: &Names, f: impl FnOnce() -> R) -> R {
    NAMES.with(|n| *n.borrow_mut() = names.clone());
    let result = f();
    NAMES.with(|n| *n.borrow_mut() = Names::default());
    result
}

fn names<R>(f: impl FnOnce(&Names) -> R) -> R {
    NAMES.with(|n| f(&n.borrow()))
}

/// One rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "any_event", deserialize_with = "one_or_many")]
    pub when: Vec<When>,
    #[serde(default, rename = "match")]
    pub match_: Match,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, deserialize_with = "deserialize_actions")]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub stop: bool,
    /// Where the rule was read from (set by the loader).
    #[serde(skip)]
    pub file: PathBuf,
    #[serde(skip)]
    pub line: usize,
}

fn yes() -> bool {
    true
}

fn any_event() -> Vec<When> {
    vec![When::Any]
}

/// The event a rule fires on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// A new ticket (from mail or the shell).
    Created,
    /// A message added to an existing ticket.
    Reply,
    /// A ticket changed from the shell.
    Updated,
    /// `ticket take`, `assign` or `release` changed the assignee.
    Assigned,
    /// `ticket comment` added an internal comment.
    Commented,
    /// `ticket close` (or `status N closed`) closed it.
    Closed,
    /// `ticket reopen` or `reject` reopened it.
    Reopened,
    /// `ticket transfer` moved it to another service.
    Transferred,
    Any,
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            When::Created => "created",
            When::Reply => "reply",
            When::Updated => "updated",
            When::Assigned => "assigned",
            When::Commented => "commented",
            When::Closed => "closed",
            When::Reopened => "reopened",
            When::Transferred => "transferred",
            When::Any => "any",
        })
    }
}

const WHEN_EXPECTED: &str =
    "created, reply, updated, assigned, commented, closed, reopened, transferred or any, or a list of them";

/// Reads `created` or `[created, reply]`. The checks run inside serde_yaml's
/// `deserialize_*` calls so that an error carries the line of the bad value
/// (an untagged enum reported the rule's first line instead).
struct WhenVisitor;

impl<'de> Visitor<'de> for WhenVisitor {
    type Value = Vec<When>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(WHEN_EXPECTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<When>, E> {
        Ok(vec![match v {
            "created" => When::Created,
            "reply" => When::Reply,
            "updated" => When::Updated,
            "assigned" => When::Assigned,
            "commented" => When::Commented,
            "closed" => When::Closed,
            "reopened" => When::Reopened,
            "transferred" => When::Transferred,
            "any" => When::Any,
            _ => {
                return Err(E::custom(format!(
                    "unknown event '{v}', expected {WHEN_EXPECTED}"
                )))
            }
        }])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<When>, A::Error> {
        let mut all = Vec::new();
        while let Some(OneWhen(w)) = seq.next_element()? {
            all.push(w);
        }
        Ok(all)
    }
}

/// One event of a `when:` list.
struct OneWhen(When);

impl<'de> Deserialize<'de> for OneWhen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut one = d.deserialize_str(WhenVisitor)?;
        Ok(OneWhen(one.pop().expect("one event")))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    #[default]
    All,
    Any,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<When>, D::Error> {
    d.deserialize_any(WhenVisitor)
}

/// A test of one thing about the message or ticket, or a group of tests.
#[derive(Debug)]
pub enum Condition {
    Test { field: Field, test: Test },
    Not(Box<Condition>),
    All(Vec<Condition>),
    Any(Vec<Condition>),
}

/// What a condition looks at.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    From,
    FromName,
    FromDomain,
    To,
    Cc,
    /// Any recipient: To, Cc, or the envelope's.
    Recipient,
    Subject,
    Body,
    Header(String),
    HasAttachment,
    Size,
    Status,
    Priority,
    Assignee,
    Service,
    Category,
    Tags,
    CustomField(String),
    /// Who wrote the mail: `requester`, `follower`, `agent` or `stranger`.
    Author,
}

impl Field {
    const NAMES: &'static str = "from, from-name, from-domain, to, cc, recipient, subject, body, header, has-attachment, size, status, priority, assignee, service, category, tags, field, author, not, all, any";

    fn parse(key: &str) -> Option<Field> {
        Some(match key {
            "from" => Field::From,
            "from-name" => Field::FromName,
            "from-domain" => Field::FromDomain,
            "to" => Field::To,
            "cc" => Field::Cc,
            "recipient" => Field::Recipient,
            "subject" => Field::Subject,
            "body" => Field::Body,
            "header" => Field::Header(String::new()),
            "has-attachment" => Field::HasAttachment,
            "size" => Field::Size,
            "status" => Field::Status,
            "priority" => Field::Priority,
            "assignee" => Field::Assignee,
            "service" => Field::Service,
            "category" => Field::Category,
            "tags" => Field::Tags,
            "field" => Field::CustomField(String::new()),
            "author" => Field::Author,
            _ => return None,
        })
    }

    /// The name used in the rule file, for `--trace`.
    pub fn label(&self) -> String {
        match self {
            Field::From => "from".into(),
            Field::FromName => "from-name".into(),
            Field::FromDomain => "from-domain".into(),
            Field::To => "to".into(),
            Field::Cc => "cc".into(),
            Field::Recipient => "recipient".into(),
            Field::Subject => "subject".into(),
            Field::Body => "body".into(),
            Field::Header(h) => format!("header {h}"),
            Field::HasAttachment => "has-attachment".into(),
            Field::Size => "size".into(),
            Field::Status => "status".into(),
            Field::Priority => "priority".into(),
            Field::Assignee => "assignee".into(),
            Field::Service => "service".into(),
            Field::Category => "category".into(),
            Field::Tags => "tags".into(),
            Field::CustomField(f) => format!("field {f}"),
            Field::Author => "author".into(),
        }
    }

    fn needs_name(&self) -> bool {
        matches!(self, Field::Header(_) | Field::CustomField(_))
    }
}

/// An operator and its operand.
#[derive(Debug)]
pub struct Test {
    pub op: Op,
    /// Text comparisons ignore case unless this is set.
    pub case_sensitive: bool,
}

#[derive(Debug)]
pub enum Op {
    Equals(String),
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    Regex(RulePattern),
    In(Vec<String>),
    Exists(bool),
    GreaterThan(f64),
    LessThan(f64),
}

impl Op {
    /// `contains "invoice"`, for `--trace`.
    pub fn describe(&self) -> String {
        match self {
            Op::Equals(v) => format!("equals {v:?}"),
            Op::Contains(v) => format!("contains {v:?}"),
            Op::StartsWith(v) => format!("starts-with {v:?}"),
            Op::EndsWith(v) => format!("ends-with {v:?}"),
            Op::Regex(r) => format!("regex /{}/", r.as_str()),
            Op::In(vs) => format!("in {vs:?}"),
            Op::Exists(b) => format!("exists {b}"),
            Op::GreaterThan(n) => format!("greater-than {n}"),
            Op::LessThan(n) => format!("less-than {n}"),
        }
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ConditionVisitor)
    }
}

struct ConditionVisitor;

impl<'de> Visitor<'de> for ConditionVisitor {
    type Value = Condition;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a condition: a map with one of {}", Field::NAMES)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Condition, A::Error> {
        let key: String = map
            .next_key()?
            .ok_or_else(|| de::Error::custom("empty condition"))?;
        let condition = match key.as_str() {
            "not" => Condition::Not(Box::new(map.next_value()?)),
            "all" => Condition::All(map.next_value()?),
            "any" => Condition::Any(map.next_value()?),
            other => {
                let field = Field::parse(other).ok_or_else(|| {
                    de::Error::custom(format!(
                        "unknown condition '{other}', expected one of {}",
                        Field::NAMES
                    ))
                })?;
                let spec: TestSpec = map.next_value_seed(TestSeed(field.clone()))?;
                let field = match field {
                    Field::Header(_) => Field::Header(spec.name.unwrap_or_default()),
                    Field::CustomField(_) => Field::CustomField(spec.name.unwrap_or_default()),
                    f => f,
                };
                Condition::Test {
                    field,
                    test: spec.test,
                }
            }
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "a condition has one key; '{key}' is followed by '{extra}' (put several conditions in a list)"
            )));
        }
        Ok(condition)
    }
}

struct TestSpec {
    name: Option<String>,
    test: Test,
}

/// Reads a test for `field`: a map of one operator (plus `name` and
/// `case-sensitive`), or a shorthand: a scalar means equals, a list means in.
struct TestSeed(Field);

impl<'de> de::DeserializeSeed<'de> for TestSeed {
    type Value = TestSpec;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TestSpec, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TestSeed {
    type Value = TestSpec;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value, a list, or a map of one operator (equals, contains, starts-with, ends-with, regex, in, exists, greater-than, less-than)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<TestSpec, E> {
        self.shorthand(if v { "true" } else { "false" }.to_string())
            .map(|mut t| {
                if self.0 == Field::HasAttachment {
                    t.test.op = Op::Exists(v);
                }
                t
            })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TestSpec, E> {
        self.shorthand(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TestSpec, E> {
        self.shorthand(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TestSpec, E> {
        self.shorthand(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TestSpec, E> {
        self.shorthand(v.to_string())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TestSpec, A::Error> {
        let mut values = Vec::new();
        while let Some(v) = seq.next_element::<Scalar>()? {
            values.push(v.0);
        }
        check_values::<A::Error>(&self.0, &values)?;
        self.plain(Op::In(values.iter().map(|v| v.to_lowercase()).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TestSpec, A::Error> {
        let mut name = None;
        let mut case_sensitive = false;
        let mut regex_built_case_sensitive = false;
        let mut op = None;
        while let Some(key) = map.next_key::<String>()? {
            let value = match key.as_str() {
                "name" if self.0.needs_name() => {
                    name = Some(map.next_value::<String>()?);
                    continue;
                }
                "case-sensitive" => {
                    case_sensitive = map.next_value()?;
                    continue;
                }
                "equals" => Op::Equals(map.next_value::<Scalar>()?.0),
                "contains" => Op::Contains(map.next_value::<Scalar>()?.0),
                "starts-with" => Op::StartsWith(map.next_value::<Scalar>()?.0),
                "ends-with" => Op::EndsWith(map.next_value::<Scalar>()?.0),
                "regex" => {
                    let pattern: String = map.next_value()?;
                    // Checked here so the error points at the pattern; checked again
                    // below only if a `case-sensitive` after it changes the case.
                    regex_built_case_sensitive = case_sensitive;
                    Op::Regex(RulePattern::new(pattern, case_sensitive).map_err(de::Error::custom)?)
                }
                "in" => Op::In(
                    map.next_value::<Vec<Scalar>>()?
                        .into_iter()
                        .map(|s| s.0)
                        .collect(),
                ),
                "exists" => Op::Exists(map.next_value()?),
                "greater-than" => Op::GreaterThan(map.next_value()?),
                "less-than" => Op::LessThan(map.next_value()?),
                other => {
                    let extra = if self.0.needs_name() { "name, " } else { "" };
                    return Err(de::Error::custom(format!(
                        "unknown operator '{other}' for {}, expected {extra}equals, contains, starts-with, ends-with, regex, in, exists, greater-than, less-than or case-sensitive",
                        self.0.label()
                    )));
                }
            };
            if op.is_some() {
                return Err(de::Error::custom(format!(
                    "one operator per condition; '{key}' comes after another"
                )));
            }
            op = Some(value);
        }
        let mut op =
            op.ok_or_else(|| de::Error::custom(format!("{}: no operator given", self.0.label())))?;
        if !case_sensitive {
            // Compared with lowercased values at run time.
            op = match op {
                Op::Equals(x) => Op::Equals(x.to_lowercase()),
                Op::Contains(x) => Op::Contains(x.to_lowercase()),
                Op::StartsWith(x) => Op::StartsWith(x.to_lowercase()),
                Op::EndsWith(x) => Op::EndsWith(x.to_lowercase()),
                Op::In(xs) => Op::In(xs.iter().map(|x| x.to_lowercase()).collect()),
                other => other,
            };
        }
        if let Op::Regex(re) = &op {
            if regex_built_case_sensitive != case_sensitive {
                op = Op::Regex(
                    RulePattern::new(re.as_str().to_string(), case_sensitive)
                        .map_err(de::Error::custom)?,
                );
            }
        }
        if self.0.needs_name() && name.is_none() {
            return Err(de::Error::custom(format!(
                "{}: `name` is required",
                self.0.label().trim()
            )));
        }
        if let (Field::CustomField(_), Some(n)) = (&self.0, &name) {
            if !names(|ns| ns.fields.contains(n)) {
                return Err(de::Error::custom(format!("unknown custom field '{n}'")));
            }
        }
        match &op {
            Op::Equals(v) => check_values::<A::Error>(&self.0, std::slice::from_ref(v))?,
            Op::In(vs) => check_values::<A::Error>(&self.0, vs)?,
            _ => {}
        }
        Ok(TestSpec {
            name,
            test: Test { op, case_sensitive },
        })
    }
}

impl TestSeed {
    fn shorthand<E: de::Error>(&self, value: String) -> Result<TestSpec, E> {
        if self.0.needs_name() {
            return Err(E::custom(format!(
                "{} needs a map with `name` and an operator",
                self.0.label().trim()
            )));
        }
        check_values::<E>(&self.0, std::slice::from_ref(&value))?;
        self.plain(Op::Equals(value.to_lowercase()))
    }

    fn plain<E>(&self, op: Op) -> Result<TestSpec, E> {
        Ok(TestSpec {
            name: None,
            test: Test {
                op,
                case_sensitive: false,
            },
        })
    }
}

/// Values compared with a status or priority must be real ones.
fn check_values<E: de::Error>(field: &Field, values: &[String]) -> Result<(), E> {
    for v in values {
        match field {
            Field::Status => {
                v.parse::<Status>().map_err(E::custom)?;
            }
            Field::Priority => {
                v.parse::<Priority>().map_err(E::custom)?;
            }
            Field::Author if !AUTHORS.contains(&v.to_lowercase().as_str()) => {
                return Err(E::custom(format!(
                    "unknown author '{v}', expected one of {}",
                    AUTHORS.join(", ")
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The values of the `author` condition.
pub const AUTHORS: [&str; 4] = ["requester", "follower", "agent", "stranger"];

/// A scalar read as text, whatever YAML made of it (`1` is "1").
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) => Ok(Scalar(s)),
            serde_yaml::Value::Number(n) => Ok(Scalar(n.to_string())),
            serde_yaml::Value::Bool(b) => Ok(Scalar(b.to_string())),
            _ => Err(de::Error::custom("expected a text, number or boolean")),
        }
    }
}

/// Something a rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetStatus(Status),
    SetPriority(Priority),
    SetService(String),
    SetCategory(String),
    SetField(String, String),
    /// `login`, `@group` or `none`.
    Assign(String),
    Tag(Vec<String>),
    Untag(Vec<String>),
    Follow(Vec<String>),
    /// Who (assignee, group, managers, an address) and the template.
    Notify {
        to: String,
        template: String,
    },
    /// An automatic reply to the requester.
    Reply {
        template: String,
    },
    /// Make no ticket of this mail.
    Ignore,
    Stop,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::SetStatus(s) => write!(f, "set status {s}"),
            Action::SetPriority(p) => write!(f, "set priority {p}"),
            Action::SetService(s) => write!(f, "set service {s}"),
            Action::SetCategory(c) => write!(f, "set category {c}"),
            Action::SetField(k, v) => write!(f, "set {k} {v}"),
            Action::Assign(a) => write!(f, "assign {a}"),
            Action::Tag(t) => write!(f, "tag {}", t.join(", ")),
            Action::Untag(t) => write!(f, "untag {}", t.join(", ")),
            Action::Follow(w) => write!(f, "add followers {}", w.join(", ")),
            Action::Notify { to, template } => write!(f, "notify {to} ({template})"),
            Action::Reply { template } => write!(f, "auto-reply ({template})"),
            Action::Ignore => f.write_str("ignore"),
            Action::Stop => f.write_str("stop"),
        }
    }
}

/// The `set:` map.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetSpec {
    status: Option<Status>,
    priority: Option<Priority>,
    service: Option<String>,
    category: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, Scalar>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrList {
    One(String),
    List(Vec<String>),
}

impl OneOrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrList::One(s) => vec![s],
            OneOrList::List(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifySpec {
    to: String,
    #[serde(default = "default_notify_template")]
    template: String,
}

fn default_notify_template() -> String {
    "notify".into()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NotifyForm {
    Who(String),
    Full(NotifySpec),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplySpec {
    template: String,
}

/// An action is one key of an `actions:` list item (`set` may carry several fields).
pub struct Actions(pub Vec<Action>);

impl<'de> Deserialize<'de> for Actions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ActionVisitor)
    }
}

struct ActionVisitor;

const ACTIONS: &str = "set, assign, tag, untag, follow, notify, reply, ignore, stop";

impl<'de> Visitor<'de> for ActionVisitor {
    type Value = Actions;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an action: a map with one of {ACTIONS}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Actions, A::Error> {
        let key: String = map
            .next_key()?
            .ok_or_else(|| de::Error::custom("empty action"))?;
        let actions = match key.as_str() {
            "set" => {
                let spec: SetSpec = map.next_value()?;
                let mut out = Vec::new();
                if let Some(s) = spec.status {
                    out.push(Action::SetStatus(s));
                }
                if let Some(p) = spec.priority {
                    out.push(Action::SetPriority(p));
                }
                if let Some(s) = spec.service {
                    if !names(|n| n.services.iter().any(|(name, _)| *name == s)) {
                        return Err(de::Error::custom(format!("set: unknown service '{s}'")));
                    }
                    out.push(Action::SetService(s));
                }
                if let Some(c) = spec.category {
                    if !names(|n| n.services.iter().any(|(_, cats)| cats.contains(&c))) {
                        return Err(de::Error::custom(format!(
                            "set: no service has a category '{c}'"
                        )));
                    }
                    out.push(Action::SetCategory(c));
                }
                for (k, v) in spec.fields {
                    if !names(|n| n.fields.contains(&k)) {
                        return Err(de::Error::custom(format!(
                            "set: unknown custom field '{k}'"
                        )));
                    }
                    out.push(Action::SetField(k, v.0));
                }
                if out.is_empty() {
                    return Err(de::Error::custom(
                        "set: nothing to set (status, priority, service, category or fields)",
                    ));
                }
                out
            }
            "assign" => {
                let who: String = map.next_value()?;
                check_assignee(&who).map_err(de::Error::custom)?;
                vec![Action::Assign(who)]
            }
            "tag" => vec![Action::Tag(map.next_value::<OneOrList>()?.into_vec())],
            "untag" => vec![Action::Untag(map.next_value::<OneOrList>()?.into_vec())],
            "follow" => {
                let who = map.next_value::<OneOrList>()?.into_vec();
                let who = who
                    .iter()
                    .map(|w| checked_follower(w))
                    .collect::<Result<_, _>>()
                    .map_err(de::Error::custom)?;
                vec![Action::Follow(who)]
            }
            "notify" => {
                let (to, template) = match map.next_value::<NotifyForm>()? {
                    NotifyForm::Who(to) => (to, default_notify_template()),
                    NotifyForm::Full(s) => (s.to, s.template),
                };
                check_recipient(&to).map_err(de::Error::custom)?;
                check_template(&template).map_err(de::Error::custom)?;
                vec![Action::Notify { to, template }]
            }
            "reply" => {
                let spec: ReplySpec = map.next_value()?;
                check_template(&spec.template).map_err(de::Error::custom)?;
                vec![Action::Reply {
                    template: spec.template,
                }]
            }
            "ignore" => flag(&mut map, "ignore", Action::Ignore)?,
            "stop" => flag(&mut map, "stop", Action::Stop)?,
            other => {
                return Err(de::Error::custom(format!(
                    "unknown action '{other}', expected one of {ACTIONS}"
                )))
            }
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "an action has one key; '{key}' is followed by '{extra}' (put several actions in a list)"
            )));
        }
        Ok(Actions(actions))
    }
}

fn flag<'de, A: MapAccess<'de>>(
    map: &mut A,
    name: &str,
    action: Action,
) -> Result<Vec<Action>, A::Error> {
    match map.next_value::<bool>() {
        Ok(true) => Ok(vec![action]),
        Ok(false) => Ok(vec![]),
        Err(_) => Err(de::Error::custom(format!("{name}: expected true"))),
    }
}

fn check_assignee(who: &str) -> Result<(), String> {
    names(|n| match who.strip_prefix('@') {
        _ if who == "none" => Ok(()),
        Some(g) if n.groups.iter().any(|x| x == g) => Ok(()),
        Some(g) => Err(format!("assign: unknown group '@{g}'")),
        None if n.users.iter().any(|x| x == who) => Ok(()),
        None => Err(format!("assign: unknown user '{who}'")),
    })
}

/// A follower: a login of the config, or an address as intake reads one (lowercased).
fn checked_follower(who: &str) -> Result<String, String> {
    if names(|n| n.users.iter().any(|x| x == who)) {
        return Ok(who.to_string());
    }
    crate::mail::parse::single_address(who).ok_or_else(|| {
        format!(
            "follow: '{who}' is neither a login of the config nor an e-mail address (name@domain)"
        )
    })
}

fn check_recipient(to: &str) -> Result<(), String> {
    if matches!(to, "assignee" | "managers" | "requester" | "followers") {
        return Ok(());
    }
    if to.contains('@') && !to.starts_with('@') {
        return match crate::mail::parse::single_address(to) {
            Some(_) => Ok(()),
            None => Err(format!(
                "notify: '{to}' is not one e-mail address (name@domain)"
            )),
        };
    }
    match to.strip_prefix('@') {
        Some(g) if names(|n| n.groups.iter().any(|x| x == g)) => Ok(()),
        Some(g) => Err(format!("notify: unknown group '@{g}'")),
        None if names(|n| n.users.iter().any(|x| x == to)) => Ok(()),
        None => Err(format!(
            "notify: unknown recipient '{to}' (assignee, managers, requester, followers, a login, @group or an address)"
        )),
    }
}

fn check_template(name: &str) -> Result<(), String> {
    if names(|n| n.templates.iter().any(|t| t == name)) {
        Ok(())
    } else {
        Err(format!(
            "unknown template '{name}' (no {name}.hbs in the templates directory)"
        ))
    }
}

/// The `actions:` list, flattened.
pub fn deserialize_actions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Action>, D::Error> {
    let lists: Vec<Actions> = Vec::deserialize(d)?;
    Ok(lists.into_iter().flat_map(|a| a.0).collect())
}

/// A rule's regex. Its syntax is checked when the rules are loaded; it is compiled
/// the first time a rule evaluates it: every command that writes loads the rules,
/// and most run none of the rules' conditions (those of other events).
#[derive(Debug)]
pub struct RulePattern {
    pattern: String,
    case_sensitive: bool,
    compiled: std::sync::OnceLock<Result<Regex, String>>,
}

impl RulePattern {
    /// The pattern, its syntax checked (the errors `regex` itself gives).
    pub fn new(pattern: String, case_sensitive: bool) -> Result<RulePattern, String> {
        regex_syntax::ParserBuilder::new()
            .case_insensitive(!case_sensitive)
            .build()
            .parse(&pattern)
            .map_err(|e| {
                let e = regex::Error::Syntax(e.to_string());
                format!("bad regex /{pattern}/: {e}")
            })?;
        Ok(RulePattern {
            pattern,
            case_sensitive,
            compiled: std::sync::OnceLock::new(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The compiled regex, or why it does not compile (a pattern whose syntax is
    /// right can still exceed the regex crate's size limit).
    pub fn compiled(&self) -> Result<&Regex, &str> {
        self.compiled
            .get_or_init(|| {
                regex::RegexBuilder::new(&self.pattern)
                    .case_insensitive(!self.case_sensitive)
                    .build()
                    .map_err(|e| format!("bad regex /{}/: {e}", self.pattern))
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether `text` matches; a regex that does not compile matches nothing
    /// (`rule check` reports it).
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled().is_ok_and(|re| re.is_match(text))
    }
}

//! README's table of the JSON interface, checked against what postdesk prints
//! and the names the code knows (issue 18, bug 11): a field, event kind, status
//! or priority missing from README (or listed there and gone) fails here.

use std::collections::BTreeSet;

use postdesk::model::{EventKind, Priority, Status};

use crate::common::Env;

const README: &str = include_str!("../../README.md");

/// The row of README's ticket table whose first cell starts with `first`.
fn row(first: &str) -> &'static str {
    README
        .lines()
        .find(|l| l.starts_with(&format!("| {first}")))
        .unwrap_or_else(|| panic!("README has no table row starting with {first}"))
}

/// The `code` spans of `text`.
fn spans(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The spans of `row` between `from` and the next `;`.
fn listed_after(row: &str, from: &str) -> BTreeSet<String> {
    let rest = row.split_once(from).expect("row names its values").1;
    spans(rest.split(';').next().unwrap())
}

fn set<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names.into_iter().map(str::to_string).collect()
}

#[test]
fn readme_lists_every_event_kind() {
    let kinds = listed_after(row("`events`"), "`kind` is ");
    assert_eq!(kinds, set(EventKind::NAMES.iter().copied()));
}

#[test]
fn readme_lists_every_status_and_priority() {
    let statuses = spans(row("`status`").split('|').nth(2).unwrap());
    assert_eq!(statuses, set(Status::ALL.map(Status::as_str)));
    let priorities = spans(row("`priority`").split('|').nth(2).unwrap());
    assert_eq!(priorities, set(Priority::ALL.map(Priority::as_str)));
}

#[test]
fn readme_lists_every_field_of_a_ticket_and_an_event() {
    let env = Env::new();
    env.create(&["-s", "Printer"]);
    let shown = env.json(&["ticket", "show", "1"]);
    let printed = set(shown.as_object().unwrap().keys().map(String::as_str));
    let table = README
        .split("A ticket in JSON")
        .nth(1)
        .expect("README describes a ticket in JSON");
    let documented: BTreeSet<String> = table
        .lines()
        .skip_while(|l| !l.starts_with("| field"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .flat_map(|l| spans(l.split('|').nth(1).unwrap()))
        .collect();
    assert_eq!(documented, printed);
    let event = shown["events"][0].as_object().unwrap();
    let fields = row("`events`").split_once('{').unwrap().1;
    let fields = fields.split_once('}').unwrap().0;
    assert_eq!(
        set(fields.split(", ")),
        set(event.keys().map(String::as_str))
    );
}

/// The keys a config struct accepts, as serde sees them: its derived
/// `Deserialize` hands the field names to `deserialize_struct`, caught here.
fn keys_of<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
    use serde::de::value::Error;
    use serde::de::{Deserializer, Error as _, Visitor};

    struct Catch<'a>(&'a mut Vec<&'static str>);
    impl<'de> Deserializer<'de> for Catch<'_> {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Error> {
            self.0.extend(fields);
            Err(Error::custom("caught"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut keys = Vec::new();
    let _ = T::deserialize(Catch(&mut keys));
    assert!(
        !keys.is_empty(),
        "{} is not a struct",
        std::any::type_name::<T>()
    );
    keys
}

/// README's Configuration section.
fn config_section() -> &'static str {
    README
        .split("\n## Configuration\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Configuration section")
}

/// README's bullet of the Configuration section that starts with `` - `key` ``.
fn config_bullet(key: &str) -> String {
    let start = format!("- `{key}`");
    let mut lines = config_section()
        .lines()
        .skip_while(|l| !l.starts_with(&start));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("README's Configuration has no bullet for `{key}`"));
    let rest = lines.take_while(|l| l.starts_with("  "));
    std::iter::once(first)
        .chain(rest)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Issue 18, bug 12: the starter config sends readers to README's Configuration
/// section for every key, so that section names every key the code accepts.
#[test]
fn readme_configuration_names_every_config_key() {
    use postdesk::config::*;
    let sections: [(&str, Vec<&str>); 18] = [
        ("settings", keys_of::<Settings>()),
        ("users", keys_of::<User>()),
        ("users", keys_of::<Group>()),
        ("services", keys_of::<Service>()),
        ("services", keys_of::<Category>()),
        ("services", keys_of::<TicketTemplate>()),
        ("ingest", keys_of::<IngestSettings>()),
        ("fields", keys_of::<FieldDef>()),
        ("views", keys_of::<View>()),
        ("imap", keys_of::<ImapAccount>()),
        ("calendars", keys_of::<CalendarDef>()),
        ("services", keys_of::<SlaDef>()),
        ("services", keys_of::<Targets>()),
        ("services", keys_of::<TargetDef>()),
        ("users", keys_of::<Monitoring>()),
        ("users", keys_of::<MonitoringOverride>()),
        ("auto_reply", keys_of::<AutoReplySettings>()),
        ("outbox", keys_of::<OutboxSettings>()),
    ];
    let mut missing = Vec::new();
    for (bullet, keys) in &sections {
        let text = config_bullet(bullet);
        missing.extend(
            keys.iter()
                .filter(|k| !text.contains(&format!("`{k}`")))
                .map(|k| format!("{bullet}: {k}")),
        );
    }
    assert!(
        missing.is_empty(),
        "README's Configuration lacks {missing:?}"
    );
    let top: Vec<_> = keys_of::<Config>()
        .into_iter()
        .filter(|k| !config_section().contains(&format!("`{k}`")))
        .collect();
    assert!(top.is_empty(), "README's Configuration lacks {top:?}");
    let starter = include_str!("../../src/desk/starter.yaml");
    assert!(
        starter.contains("README.md,\n# section Configuration")
            && !starter.contains("`man postdesk`"),
        "the starter config points to README's Configuration section"
    );
}

/// Issue 20: every key of each `mail_out` transport is in README's `mail_out` bullet
/// (the keys as the config's own error for an unknown one lists them).
#[test]
fn readme_configuration_names_every_mail_out_key() {
    let text = config_bullet("mail_out");
    for transport in ["sendmail", "smtp", "maildir"] {
        let yaml = format!("mail_out: {{transport: {transport}, no_such_key: 1}}\n");
        let err = postdesk::config::Config::parse(&yaml, std::path::Path::new("x.yaml"))
            .unwrap_err()
            .to_string();
        let expected = err.split_once("expected").expect("serde lists the keys").1;
        let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        assert!(!keys.is_empty(), "{err}");
        for key in std::iter::once(transport).chain(keys) {
            assert!(
                text.contains(&format!("`{key}`")),
                "README's mail_out bullet lacks `{key}` ({transport})"
            );
        }
    }
}

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

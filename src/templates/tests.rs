use super::*;

fn config() -> Config {
    Config::parse(
        "settings:\n  subject_prefix: \"#\"\nservices:\n  - { name: it, addresses: [help@corp.example] }\nfields:\n  - { name: asset, type: text }\n",
        Path::new("/nonexistent/postdesk.yaml"),
    )
    .unwrap()
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn every_builtin_compiles_and_renders_the_sample_in_strict_mode() {
    let set = Templates::builtin();
    let sample = sample_context(&config());
    assert_eq!(set.check_samples(&config()), vec![]);
    for (name, _) in BUILTIN {
        let out = set.render(name, &sample).unwrap();
        assert!(
            out.body.contains("[#42]") || name == &"reply",
            "{name}: {}",
            out.body
        );
        assert!(!out.body.contains("[object]"), "{name}: {}", out.body);
    }
    let closed = set.render("closed", &sample).unwrap();
    assert_eq!(
        closed.subject.as_deref(),
        Some("Closed: Printer on floor 2 is jammed")
    );
    assert!(closed.body.contains("approve") && closed.body.contains("Bonjour"));
}

#[test]
fn an_override_beats_the_builtin_and_replies_are_named_under_replies() {
    let dir = dir_with(&[
        ("acknowledge.hbs", "Got it: {{ticket.tag}}\n"),
        (
            "replies/printer.hbs",
            "Subject: About your printer\n\nTry turning it off and on.\n",
        ),
        ("replies/notes.txt", "not a template"),
    ]);
    let (set, errors) = Templates::read_dir(dir.path());
    assert!(errors.is_empty(), "{errors:?}");
    let ack = set.entry("acknowledge").unwrap();
    assert!(ack.overrides_builtin);
    assert_eq!(ack.origin, Origin::File(dir.path().join("acknowledge.hbs")));
    let sample = sample_context(&config());
    assert_eq!(
        set.render("acknowledge", &sample).unwrap().body,
        "Got it: [#42]\n"
    );
    let reply = set.render("replies/printer", &sample).unwrap();
    assert_eq!(reply.subject.as_deref(), Some("About your printer"));
    assert_eq!(reply.body, "Try turning it off and on.\n");
    let names: Vec<&str> = set.entries().iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"replies/printer") && !names.iter().any(|n| n.contains("notes")));
    assert!(!set.entry("notify").unwrap().overrides_builtin);
}

#[test]
fn a_misspelt_variable_is_an_error_naming_file_line_and_variable() {
    let dir = dir_with(&[(
        "notify.hbs",
        "Subject: {{ticket.subject}}\n\nline 3\n{{ticket.subjet}}\n",
    )]);
    let (set, errors) = Templates::read_dir(dir.path());
    assert!(errors.is_empty());
    let err = set
        .render("notify", &sample_context(&config()))
        .unwrap_err();
    let text = err.to_string();
    let path = dir.path().join("notify.hbs").display().to_string();
    assert!(text.starts_with(&format!("{path}:4:")), "{text}");
    assert!(text.contains("'ticket.subjet'"), "{text}");
    // In the subject line too, at its column.
    let dir = dir_with(&[("x.hbs", "Subject: {{ticket.nope}}\n\nbody\n")]);
    let (set, _) = Templates::read_dir(dir.path());
    let err = set.render("x", &sample_context(&config())).unwrap_err();
    assert_eq!(err.line, 1, "{err}");
    assert!(err.column > 8, "{err}");
}

#[test]
fn a_syntax_error_names_file_and_line_and_the_rest_still_load() {
    let dir = dir_with(&[("reply.hbs", "one\ntwo\n{{#if message}}\nthree\n")]);
    let (set, errors) = Templates::read_dir(dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let path = dir.path().join("reply.hbs").display().to_string();
    assert!(
        errors[0].to_string().starts_with(&format!("{path}:")),
        "{}",
        errors[0]
    );
    assert!(errors[0].line >= 3, "{}", errors[0]);
    assert!(!set.has("reply") && set.has("notify"));
    assert!(set.render("reply", &sample_context(&config())).is_err());
}

#[test]
fn values_are_data_never_compiled_and_subjects_stay_on_one_line() {
    let set = Templates::builtin();
    let mut ctx = sample_context(&config());
    ctx.ticket.subject =
        "{{ticket.number}} {{#each events}}x{{/each}}\r\nBcc: victim@example.com\n\rX\u{2028}Y\u{85}Z\u{b}W".into();
    let out = set.render("closed", &ctx).unwrap();
    let subject = out.subject.unwrap();
    assert!(
        !subject.contains('\r') && !subject.contains('\n'),
        "{subject:?}"
    );
    assert_eq!(
        subject,
        "Closed: {{ticket.number}} {{#each events}}x{{/each}} Bcc: victim@example.com X Y Z W"
    );
    assert!(out.body.contains("{{ticket.number}} {{#each events}}"));
}

#[test]
fn a_huge_rendering_is_refused_with_a_clear_error() {
    let set = Templates::builtin();
    let mut ctx = sample_context(&config());
    ctx.ticket.description = "x".repeat(MAX_OUTPUT + 1);
    let err = set.render("notify", &ctx).unwrap_err();
    assert!(err.message.contains("larger than 1024 KiB"), "{err}");
    // A subject as well.
    let mut ctx = sample_context(&config());
    ctx.ticket.subject = "y".repeat(MAX_OUTPUT);
    let err = set.render("closed", &ctx).unwrap_err();
    assert!(err.message.contains("larger than"), "{err}");
    assert_eq!(err.line, 1);
}

#[test]
fn partials_are_refused_so_a_value_can_never_name_one() {
    let dir = dir_with(&[("a.hbs", "x\n{{> (lookup ticket \"subject\")}}\n")]);
    let (_, errors) = Templates::read_dir(dir.path());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert!(errors[0].message.contains("partials"), "{}", errors[0]);
}

#[test]
fn unknown_names_and_builtin_labels_read_well() {
    let set = Templates::builtin();
    let err = set.render("nope", &sample_context(&config())).unwrap_err();
    assert!(err.to_string().contains("no such template"), "{err}");
    assert_eq!(set.entry("notify").unwrap().label(), "built-in notify");
}

#[test]
fn the_context_has_every_custom_field_and_the_last_events() {
    use crate::model::{Event, EventKind, Ticket};
    let config = config();
    let ticket = Ticket::new(5, "s", 0);
    let events: Vec<Event> = (0..25)
        .map(|i| Event {
            at: i,
            actor: "ingest".into(),
            kind: EventKind::Comment {
                text: format!("secret {i}"),
            },
        })
        .collect();
    let ctx = build_context(
        &config,
        &jiff::tz::TimeZone::UTC,
        Parts {
            ticket: &ticket,
            events: &events,
            linked: &[],
            actor: "ingest",
            recipient: Person::default(),
            message: "",
        },
    );
    assert_eq!(ctx.ticket.fields.get("asset").map(String::as_str), Some(""));
    assert_eq!(ctx.events.len(), context::EVENTS);
    assert_eq!(ctx.events[0].at, "1970-01-01 00:00 UTC");
    assert!(ctx.events.iter().all(|e| !e.text.contains("secret")));
    assert_eq!(ctx.ticket.tag, "[#5]");
    let set = Templates::builtin();
    for (name, _) in BUILTIN {
        set.render(name, &ctx).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_misspelt_variable_in_if_or_unless_is_an_error_too() {
    let dir = dir_with(&[
        ("a.hbs", "x\n{{#if ticket.asignee}}y{{/if}}\n"),
        ("b.hbs", "{{#unless message}}{{else if ticket.nope}}z{{/unless}}\n"),
        ("c.hbs", "{{#if ticket.assignee}}y{{else}}n{{/if}}{{#each events}}{{#if @first}}f{{/if}}{{/each}}\n"),
    ]);
    let (set, errors) = Templates::read_dir(dir.path());
    assert!(errors.is_empty(), "{errors:?}");
    let errors = set.check(&sample_context(&config()));
    let a = errors.iter().find(|e| e.name == "a").expect("a fails");
    assert_eq!(a.line, 2, "{a}");
    assert!(a.message.contains("'ticket.asignee'"), "{a}");
    assert!(errors.iter().any(|e| e.name == "b"), "{errors:?}");
    assert!(!errors.iter().any(|e| e.name == "c"), "{errors:?}");
}

#[test]
fn check_renders_both_sides_of_an_if_on_a_value() {
    let dir = dir_with(&[
        (
            "a.hbs",
            "{{#if ticket.assignee}}{{ticket.asignee}}{{/if}}\n",
        ),
        (
            "b.hbs",
            "{{#if message}}{{message}}{{else}}{{mesage}}{{/if}}\n",
        ),
    ]);
    let (set, _) = Templates::read_dir(dir.path());
    let errors = set.check_samples(&config());
    assert!(errors.iter().any(|e| e.name == "a"), "{errors:?}");
    assert!(errors.iter().any(|e| e.name == "b"), "{errors:?}");
    assert_eq!(
        errors.iter().filter(|e| e.name == "a").count(),
        1,
        "once: {errors:?}"
    );
}

//! `postdesk template`: list, show, render, check; `rule check` on the templates
//! rules name.

use crate::common::Env;

/// Writes `templates/NAME`; returns that path as errors name it (relative to the
/// config's directory, where the tests run).
fn write(env: &Env, name: &str, text: &str) -> std::path::PathBuf {
    let path = env.path().join("templates").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(env.path().join(&path), text).unwrap();
    std::path::Path::new("templates").join(name)
}

fn ticket(env: &Env, subject: &str) -> u64 {
    env.create(&[
        "--subject",
        subject,
        "--description",
        "The printer jams.",
        "--requester-email",
        "robin@corp.example",
        "--requester-name",
        "Robin Requester",
        "--field",
        "asset=PC-7",
    ])
}

#[test]
fn an_override_beats_the_builtin_and_saved_replies_are_listed_under_replies() {
    let env = Env::new();
    let path = write(
        &env,
        "acknowledge.hbs",
        "Got it, {{recipient.name}}: {{ticket.tag}}\n",
    );
    write(
        &env,
        "replies/printer.hbs",
        "Subject: About your printer\n\nTry turning it off and on, {{recipient.name}}.\n",
    );
    let rows = env.json(&["template", "list"]);
    let row = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {rows}"))
            .clone()
    };
    assert_eq!(
        row("acknowledge")["from"],
        path.display().to_string().as_str()
    );
    assert_eq!(row("acknowledge")["overrides_builtin"], true);
    assert_eq!(row("notify")["from"], "built-in");
    assert_eq!(row("replies/printer")["overrides_builtin"], false);
    for name in [
        "reply",
        "notify-created",
        "notify-assigned",
        "notify-released",
        "notify-transferred",
        "invited",
        "closed",
        "reopened",
    ] {
        assert_eq!(row(name)["from"], "built-in");
    }
    assert_eq!(
        env.ok(&["template", "show", "acknowledge"]),
        "Got it, {{recipient.name}}: {{ticket.tag}}\n"
    );
    let n = ticket(&env, "Printer jam").to_string();
    assert_eq!(
        env.ok(&["template", "render", "acknowledge", "--ticket", &n]),
        "To: robin@corp.example\n\nGot it, Robin Requester: [#1]\n"
    );
    assert_eq!(
        env.ok(&["template", "render", "replies/printer", "--ticket", &n]),
        "To: robin@corp.example\nSubject: About your printer\n\nTry turning it off and on, Robin Requester.\n"
    );
    let err = env.fails(&["template", "show", "nope"], 1);
    assert!(err.contains("no template named 'nope'"), "{err}");
}

#[test]
fn render_shows_the_tickets_values_and_a_strangers_braces_stay_literal() {
    let env = Env::new();
    let n = ticket(
        &env,
        "{{ticket.number}} {{#each events}}boom{{/each}}\r\nBcc: victim@example.com",
    )
    .to_string();
    let out = env.json(&[
        "template",
        "render",
        "closed",
        "--ticket",
        &n,
        "--to",
        "bob@desk.example",
        "-m",
        "Fixed: {{message}}",
    ]);
    let subject = out["subject"].as_str().unwrap();
    assert!(
        !subject.contains('\r') && !subject.contains('\n'),
        "{subject:?}"
    );
    assert!(
        subject.starts_with("Closed: {{ticket.number}} {{#each events}}boom{{/each}}"),
        "{subject}"
    );
    assert_eq!(out["to"], "bob@desk.example");
    let body = out["body"].as_str().unwrap();
    assert!(body.contains("Hello Bob Builder,"), "{body}");
    assert!(body.contains("Fixed: {{message}}"), "{body}");
    assert!(body.contains("ticket [#1] is closed"), "{body}");
    let out = env.json(&["template", "render", "notify-created", "--ticket", &n]);
    let body = out["body"].as_str().unwrap();
    for wanted in [
        "From:     Robin Requester <robin@corp.example>",
        "The printer jams.",
        "postdesk ticket show 1",
        "New ticket [#1] in it.",
    ] {
        assert!(body.contains(wanted), "{wanted} in {body}");
    }
    // On a terminal's text output, the subject is one line and escapes are shown.
    let text = env.ok(&["template", "render", "notify", "--ticket", &n]);
    assert!(
        text.contains("Requester: Robin Requester <robin@corp.example>"),
        "{text}"
    );
    env.fails(&["template", "render", "notify", "--ticket", "99"], 1);
    // What a terminal would act on is shown escaped (the subject line: as a space).
    let m = ticket(&env, "red \u{1b}[31m alert").to_string();
    let text = env.ok(&["template", "render", "closed", "--ticket", &m]);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("Subject: Closed: red [31m alert\n"), "{text}");
    assert!(text.contains("    red \\u{1b}[31m alert\n"), "{text}");
}

#[test]
fn a_misspelt_variable_is_an_error_naming_the_file_and_line() {
    let env = Env::new();
    assert!(env.ok(&["template", "check"]).contains(": OK"));
    let path = write(
        &env,
        "notify.hbs",
        "Subject: {{ticket.subject}}\n\nHello\n{{ticket.subjet}}\n",
    );
    let err = env.fails(&["template", "check"], 1);
    let at = format!("{}:4:", path.display());
    assert!(err.contains(&at), "{at} in {err}");
    assert!(err.contains("'ticket.subjet'"), "{err}");
    assert!(err.contains("1 error in the templates"), "{err}");
    let n = ticket(&env, "x").to_string();
    let err = env.fails(&["template", "render", "notify", "--ticket", &n], 1);
    assert!(err.contains(&at), "{err}");
    // Variables inside a loop are checked too: the sample has one of each.
    std::fs::write(
        env.path().join(&path),
        "{{#each events}}{{this.when}}{{/each}}\n",
    )
    .unwrap();
    let err = env.fails(&["template", "check"], 1);
    assert!(err.contains(&format!("{}:1:", path.display())), "{err}");
}

#[test]
fn a_syntax_error_names_the_file_and_line_and_others_still_render() {
    let env = Env::new();
    let path = write(&env, "reply.hbs", "one\ntwo\n{{#if message}}\nthree\n");
    let also = write(&env, "replies/x.hbs", "{{> other}}\n");
    let err = env.fails(&["template", "check"], 1);
    assert!(err.contains(&format!("{}:", path.display())), "{err}");
    assert!(err.contains(&format!("{}:1:", also.display())), "{err}");
    assert!(err.contains("partials are not supported"), "{err}");
    assert!(err.contains("2 errors in the templates"), "{err}");
    let n = ticket(&env, "x").to_string();
    env.ok(&["template", "render", "acknowledge", "--ticket", &n]);
    let err = env.fails(&["template", "render", "reply", "--ticket", &n], 1);
    assert!(err.contains(&path.display().to_string()), "{err}");
}

#[test]
fn rule_check_checks_the_templates_its_rules_name() {
    let env = Env::new();
    let rules = env.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("10-ack.yaml"),
        "- name: ack\n  actions:\n    - reply: { template: acknowledge }\n",
    )
    .unwrap();
    assert!(env.ok(&["rule", "check"]).contains("OK"));
    let path = write(&env, "acknowledge.hbs", "Hello {{recipient.nmae}}\n");
    let err = env.fails(&["rule", "check"], 1);
    assert!(err.contains("10-ack.yaml:1"), "{err}");
    assert!(
        err.contains("rule 'ack': template 'acknowledge' is broken"),
        "{err}"
    );
    assert!(err.contains(&format!("{}:1:", path.display())), "{err}");
    // A template no rule names does not fail `rule check`.
    std::fs::write(env.path().join(&path), "Hello\n").unwrap();
    write(&env, "unused.hbs", "{{nope}}\n");
    env.ok(&["rule", "check"]);
    // A missing one is an error at load, as before.
    std::fs::write(
        rules.join("10-ack.yaml"),
        "- name: ack\n  actions:\n    - reply: { template: gone }\n",
    )
    .unwrap();
    let err = env.fails(&["rule", "check"], 1);
    assert!(err.contains("unknown template 'gone'"), "{err}");
}

/// The paths of a context's values: `ticket.requester.name`, `events[].at`; a map
/// of custom fields (`ticket.fields`) and a list of strings are one path each.
fn paths(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) if prefix != "ticket.fields" => {
            for (key, v) in map {
                let path = match prefix {
                    "" => key.clone(),
                    p => format!("{p}.{key}"),
                };
                paths(&path, v, out);
            }
        }
        serde_json::Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            out.push(prefix.to_string());
            paths(&format!("{prefix}[]"), &items[0], out);
        }
        _ => out.push(prefix.to_string()),
    }
}

#[test]
fn readme_lists_every_template_variable_and_builtin() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Templates\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Templates section");
    let config = postdesk::config::Config::parse(
        &crate::common::CONFIG.replace("UNIX_LOGIN", "nobody"),
        std::path::Path::new("postdesk.yaml"),
    )
    .unwrap();
    let sample = serde_json::to_value(postdesk::templates::sample_context(&config)).unwrap();
    let mut all = Vec::new();
    paths("", &sample, &mut all);
    for path in all {
        assert!(
            section.contains(&format!("`{path}`")),
            "README's Templates section does not list `{path}`"
        );
    }
    for (name, _) in postdesk::templates::BUILTIN {
        assert!(
            section.contains(&format!("| `{name}` |")),
            "README's Templates section does not list the built-in `{name}`"
        );
    }
}

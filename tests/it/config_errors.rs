use crate::common::{config_text, Env, CONFIG};

#[test]
fn a_yaml_mistake_names_file_line_and_column() {
    let env = Env::with_config(
        "settings:\n  db: db\nusers:\n  - login: alice\n    name: A\n    mail: a@x\n",
    );
    let err = env.fails(&["ticket", "list"], 1);
    assert!(err.starts_with("postdesk: postdesk.yaml:6:5: "), "{err}");
    assert!(err.contains("unknown field `mail`"), "{err}");
}

#[test]
fn a_wrong_type_and_a_syntax_error_are_located() {
    let env = Env::with_config("settings:\n  db: db\nfields:\n  - name: x\n    type: colour\n");
    let err = env.fails(&["ticket", "list"], 1);
    assert!(err.contains("postdesk.yaml:5:11: "), "{err}");
    assert!(err.contains("unknown variant `colour`"), "{err}");
    let env = Env::with_config("users:\n  - login: [unclosed\n");
    let err = env.fails(&["ticket", "list"], 1);
    assert!(err.contains("postdesk.yaml:2:12: "), "{err}");
}

#[test]
fn directory_mistakes_name_the_line() {
    let bad = CONFIG.replace("members: [alice, bob]", "members: [alice, bobby]");
    let env = Env::with_config(&bad);
    let err = env.fails(&["ticket", "list"], 1);
    let line = bad.lines().position(|l| l.contains("bobby")).unwrap() + 1;
    assert_eq!(
        err.trim(),
        format!("postdesk: postdesk.yaml:{line}: group 'support': unknown member 'bobby'")
    );
    let env = Env::with_config(&CONFIG.replace("timezone: UTC", "timezone: Mars/Olympus"));
    let err = env.fails(&["ticket", "list"], 1);
    assert!(
        err.contains("postdesk.yaml:4: settings.timezone: unknown time zone 'Mars/Olympus'"),
        "{err}"
    );
    let env =
        Env::with_config(&CONFIG.replace("default_assignee: bob", "default_assignee: \"@ghosts\""));
    let err = env.fails(&["ticket", "list"], 1);
    assert!(
        err.contains("service 'finance': default_assignee: unknown group '@ghosts'"),
        "{err}"
    );
}

#[test]
fn config_lookup_order() {
    let env = Env::new();
    std::fs::remove_file(env.path().join("postdesk.yaml")).unwrap();
    let err = env.fails(&["ticket", "list"], 1);
    assert!(
        err.contains("no config file found") && err.contains("postdesk init"),
        "{err}"
    );
    // XDG config dir is found when there is no ./postdesk.yaml.
    let xdg = env.path().join("xdg");
    std::fs::create_dir_all(xdg.join("postdesk")).unwrap();
    let db = env.path().join("xdgdb");
    std::fs::write(
        xdg.join("postdesk/config.yaml"),
        config_text().replace("db: db", &format!("db: {}", db.display())),
    )
    .unwrap();
    let out = env
        .cmd(&["ticket", "create", "-s", "via xdg"])
        .env("XDG_CONFIG_HOME", &xdg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.is_dir(), "settings.db of the XDG config was used");
    // --config and POSTDESK_CONFIG name the file explicitly; POSTDESK_DB overrides settings.db.
    let other = env.path().join("other.yaml");
    std::fs::write(&other, config_text()).unwrap();
    let out = env
        .cmd(&["ticket", "create", "-s", "explicit"])
        .env("POSTDESK_CONFIG", &other)
        .env("POSTDESK_DB", env.path().join("envdb"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.path().join("envdb").is_dir());
    let err = env.fails(&["--config", "missing.yaml", "ticket", "list"], 1);
    assert!(err.contains("cannot read config missing.yaml"), "{err}");
}

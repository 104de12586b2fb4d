//! Who acts and who may (issue 19): identity from the Unix login, `--as` for admins,
//! roles per service, and the workflow verbs with the event each one writes.

use crate::common::{assert_success, unix_login, Env, CONFIG};

/// The standard desk, but the Unix login running the tests is bob, not an admin.
fn bob_at_the_keyboard() -> Env {
    Env::with_config(
        &CONFIG
            .replace("unix_login: UNIX_LOGIN", "unix_login: alice-elsewhere")
            .replace(
                "email: bob@desk.example }",
                "email: bob@desk.example, unix_login: UNIX_LOGIN }",
            ),
    )
}

#[test]
fn the_unix_login_acts_and_an_unknown_one_is_told_the_fix() {
    let env = bob_at_the_keyboard();
    let out = env.run_as_unix_login(&["ticket", "create", "-s", "mine"]);
    assert_success(&out, &["ticket", "create"]);
    assert_eq!(
        env.json(&["ticket", "show", "1"])["events"][0]["actor"],
        "bob"
    );

    let stranger = Env::with_config(&CONFIG.replace(", unix_login: UNIX_LOGIN", ""));
    let login = unix_login();
    let out = stranger.run_as_unix_login(&["ticket", "create", "-s", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "postdesk: Unix login '{login}' is not a user of postdesk.yaml: add a user with unix_login: {login} (or login: {login})\n"
        )
    );
    // Reading needs no user.
    stranger.ok(&["ticket", "list"]);
}

#[test]
fn only_an_admin_acts_as_another_user() {
    let env = bob_at_the_keyboard();
    let err = env.fails(&["--as", "alice", "ticket", "create", "-s", "x"], 1);
    assert_eq!(
        err,
        "postdesk: only an admin may act as another user (--as or POSTDESK_USER 'alice'): \
         Unix login 'UNIX' is user 'bob', not an admin\n"
            .replace("UNIX", &unix_login())
    );
    // POSTDESK_USER is the same as --as (common.rs sets it to alice).
    env.fails(&["ticket", "create", "-s", "x"], 1);
    env.ok(&["--as", "bob", "ticket", "create", "-s", "as myself"]);

    let stranger = Env::with_config(&CONFIG.replace(", unix_login: UNIX_LOGIN", ""));
    let err = stranger.fails(&["--as", "bob", "ticket", "create", "-s", "x"], 1);
    assert!(
        err.contains(&format!("add a user with unix_login: {}", unix_login())),
        "{err}"
    );
}

/// The standard desk plus carol, a user of the directory who is nobody's agent.
fn with_carol() -> Env {
    Env::with_config(&CONFIG.replace(
        "groups:",
        "  - { login: carol, name: Carol Clerk, email: carol@desk.example }\ngroups:",
    ))
}

#[test]
fn edit_goes_through_the_roles_of_the_service() {
    let env = with_carol();
    env.create(&["-s", "Printer jams"]);
    env.ok(&["--as", "bob", "ticket", "edit", "1", "-p", "high"]);
    let err = env.fails(&["--as", "carol", "ticket", "edit", "1", "-p", "low"], 1);
    assert_eq!(
        err,
        "postdesk: only the managers (alice) and agents (alice, bob) of service 'it' \
         or an admin may edit #1 (carol may not)\n"
    );
    assert_eq!(env.json(&["ticket", "show", "1"])["priority"], "high");
}

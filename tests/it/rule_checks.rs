//! A rule's actions are checked when loading as the same shell action would be:
//! `assign` as `ticket assign` without `--force` (an agent or manager of the
//! service, its default-assignee group, or none), against every service the ticket
//! can be in when the action runs; the error names file, line and rule.

use crate::common::Env;

fn with_rules(rules: &str) -> Env {
    let env = Env::new();
    std::fs::create_dir_all(env.path().join("rules")).unwrap();
    std::fs::write(env.path().join("rules/10-assign.yaml"), rules).unwrap();
    env
}

#[test]
fn assigning_someone_who_may_not_hold_the_services_tickets_is_refused_at_load() {
    // it: managers [alice], default @support (alice, bob); finance: default bob.
    let env = with_rules(
        "- name: alice on finance
  conditions:
    - service: finance
  actions:
    - assign: alice
- name: alice anywhere
  actions:
    - assign: alice
- name: moved
  actions:
    - set: { service: finance }
    - assign: \"@support\"
- name: ghost group
  actions:
    - assign: \"@ghost\"
- name: fine
  actions:
    - assign: bob
    - set: { service: it }
    - assign: alice
    - assign: \"@support\"
    - assign: none
",
    );
    let err = env.fails(&["rule", "check"], 1);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "rules/10-assign.yaml:5:7: rule 'alice on finance': assign: alice is not an agent or a manager of service 'finance' (the shell's `ticket assign` would need --force; rules have none)",
            "rules/10-assign.yaml:8:7: rule 'alice anywhere': assign: alice is not an agent or a manager of service finance, but the ticket can be in it here (set the service in the same rule, or add the condition `service: it`)",
            "rules/10-assign.yaml:12:7: rule 'moved': assign: @support is not an agent or a manager of service 'finance' (the shell's `ticket assign` would need --force; rules have none)",
            "rules/10-assign.yaml:15:7: rule 'ghost group': actions: assign: unknown group '@ghost'",
        ],
        "{err}"
    );
    assert!(err.contains("4 errors in the rules"), "{err}");
    // Loading refuses the same way: commands that run rules do not run.
    let err = env.fails(&["ticket", "create", "-s", "x"], 1);
    assert!(
        err.contains("rule 'alice anywhere': assign: alice"),
        "{err}"
    );
}

#[test]
fn the_shell_agrees_alice_needs_force_on_finance() {
    let env = with_rules("- name: fine\n  actions:\n    - assign: bob\n");
    env.create(&["-s", "Invoice", "--service", "finance"]);
    let err = env.fails(&["ticket", "assign", "1", "alice"], 1);
    assert!(
        err.contains("not an agent or a manager of service 'finance'"),
        "{err}"
    );
    env.ok(&["ticket", "assign", "1", "alice", "--force"]);
}

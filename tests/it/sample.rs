//! The sample mailbox shipped for the README's run command does what its README says.

use std::path::Path;

use crate::common::Env;

#[test]
fn the_sample_mailbox_makes_the_documented_tickets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env =
        Env::with_config(&std::fs::read_to_string(root.join("examples/postdesk.yaml")).unwrap());
    // As examples/demo.sh does: the repo's rules and templates beside the config.
    for dir in ["rules", "templates"] {
        std::fs::create_dir_all(env.path().join(dir)).unwrap();
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, env.path().join(dir).join(path.file_name().unwrap())).unwrap();
        }
    }
    let mbox = root.join("examples/support.mbox");
    let out = env.json(&["--as", "maria", "ingest", "mbox", mbox.to_str().unwrap()]);
    assert_eq!(
        out["summary"],
        serde_json::json!({"created": 30, "replies": 14, "duplicates": 1, "ignored": 3, "quarantined": 0})
    );
    let show = |n: u64| env.json(&["--as", "maria", "ticket", "show", &n.to_string()]);
    // Subject-tag replies from the requester joined their tickets.
    for n in [3, 9, 17] {
        let mails = show(n)["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "mail")
            .count();
        assert!(mails >= 2, "ticket #{n} has its reply");
    }
    // The stranger quoting [#2] got ticket #11, linked to #2.
    assert_eq!(show(11)["links"], serde_json::json!([2]));
    assert_eq!(
        show(4)["service"],
        "billing",
        "billing@ mail goes to billing"
    );
    let billing = env.json(&["--as", "maria", "ticket", "list", "--service", "billing"]);
    assert_eq!(billing.as_array().unwrap().len(), 6);
    // The example rules distributed the mail.
    let seven = show(7);
    assert_eq!(seven["priority"], "urgent", "outage rule");
    assert!(seven["tags"].as_array().unwrap().contains(&"outage".into()));
    assert_eq!(show(9)["category"], "access");
    assert!(
        show(3)["tags"].as_array().unwrap().contains(&"fr".into()),
        "French mail tagged"
    );
    assert!(show(1)["tags"]
        .as_array()
        .unwrap()
        .contains(&"key-account".into()));
    let urgent = env.json(&["--as", "maria", "ticket", "list", "--priority", "urgent"]);
    assert_eq!(urgent.as_array().unwrap().len(), 4);
    let acks = show(1)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mail-queued")
        .count();
    assert_eq!(acks, 1, "an acknowledgement is queued for a new request");
}

//! The sample mailbox shipped for the README's run command does what its README says.

use std::path::Path;

use crate::common::Env;

#[test]
fn the_sample_mailbox_makes_the_documented_tickets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env =
        Env::with_config(&std::fs::read_to_string(root.join("examples/postdesk.yaml")).unwrap());
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
}

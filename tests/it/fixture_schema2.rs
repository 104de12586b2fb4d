//! A desk written at schema 2 (tests/data/schema2, made by its make.sh) reads back
//! exactly as it did when it was made: every ticket, event, attachment and ignored
//! mail. A later layout migrates it on open and must keep these snapshots as they
//! are (tests/it/snapshots/).

use std::path::Path;

use crate::common::Env;

/// A copy of the fixture (opening writes), with the demo config pointing at it.
fn fixture() -> Env {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(root.join("examples/postdesk.yaml"))
        .unwrap()
        .replace("  db: postdesk.db", "  db: db");
    let env = Env::with_config(&config);
    copy_dir(&root.join("tests/data/schema2/desk/db"), &env.db());
    env
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

#[test]
fn a_schema_2_desk_reads_back_as_it_was_written() {
    let env = fixture();
    let list = env.json(&["ticket", "list"]);
    let numbers: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers.len(), 36, "the fixture's tickets");
    insta::assert_snapshot!("schema2_list", pretty(&list));
    let mut shown = Vec::new();
    for n in &numbers {
        let n = n.to_string();
        let as_maria = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend(["--as", "maria"]);
            env.json(&all)
        };
        shown.push(serde_json::json!({
            "show": as_maria(&["ticket", "show", &n]),
            "attachments": as_maria(&["ticket", "attachment", &n]),
        }));
    }
    let shown = pretty(&serde_json::Value::Array(shown));
    insta::assert_snapshot!("schema2_show", shown);
    // Its rules' mail, recorded as `mail-queued`, became dropped outbox entries
    // (the step to schema 6, after the others).
    let queued = shown.matches(r#""kind": "mail-queued""#).count();
    let outbox = env.json(&["outbox", "list", "--all"]);
    let outbox = outbox.as_array().unwrap();
    assert!(queued > 0);
    assert_eq!(outbox.len(), queued);
    assert!(outbox
        .iter()
        .all(|e| e["state"] == "dropped" && e["hash"] == ""));
    insta::assert_snapshot!("schema2_ignored", pretty(&env.json(&["ingest", "ignored"])));
    // Searches go through the word index.
    let printer = env.json(&["ticket", "list", "--search", "printer"]);
    assert!(!printer.as_array().unwrap().is_empty());
    insta::assert_snapshot!("schema2_search_printer", pretty(&printer));
}

#[test]
fn an_attachment_of_the_schema_2_desk_extracts_exactly() {
    let env = fixture();
    // The sample mailbox's one attachment, whichever ticket holds it.
    let list = env.json(&["ticket", "list", "--as", "maria"]);
    let with = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap().to_string())
        .find(|n| {
            !env.json(&["ticket", "attachment", n, "--as", "maria"])
                .as_array()
                .unwrap()
                .is_empty()
        })
        .expect("a ticket with an attachment");
    let out = env
        .cmd(&["ticket", "attachment", &with, "1", "--as", "maria"])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(
        "schema2_attachment",
        format!(
            "ticket #{with}: {} bytes, sha256 {}",
            out.stdout.len(),
            postdesk::mail::parse::hash_hex(&out.stdout)
        )
    );
}

//! Hostile mail: work per message is bounded by construction (issue #16). The inputs
//! are generated here; what is asserted is the outcome (the text kept, the quarantine,
//! the batches), never the time taken.

use crate::common::{Env, CONFIG};

fn html_mail(id: &str, html: &str) -> String {
    format!(
        "From: Customer <cust@acme.example>\nTo: help@corp.example\nSubject: html {id}\n\
         Message-ID: <{id}@acme.example>\nContent-Type: text/html; charset=utf-8\n\n{html}\n"
    )
}

fn plain_mail(id: &str, body: &str) -> String {
    format!(
        "From: Customer <cust@acme.example>\nTo: help@corp.example\nSubject: plain {id}\n\
         Message-ID: <{id}@acme.example>\n\n{body}\n"
    )
}

fn description(env: &Env, n: u64) -> String {
    env.json(&["ticket", "show", &n.to_string()])["description"]
        .as_str()
        .expect("description")
        .to_string()
}

fn quarantine(env: &Env) -> Vec<serde_json::Value> {
    env.json(&["ingest", "quarantine", "list"])
        .as_array()
        .unwrap()
        .clone()
}

/// Deep nesting made html2text quadratic (100,000 divs: 36 s); beyond the bound the
/// tags are stripped, and the text says so.
#[test]
fn deeply_nested_html_is_stripped_of_its_tags() {
    let env = Env::new();
    let levels = 2_000;
    let html = format!(
        "{}<p>The printer &amp; the scanner are down.</p><script>var x = '<div>';</script>{}",
        "<div>".repeat(levels),
        "</div>".repeat(levels)
    );
    env.deliver(&html_mail("deep", &html));
    assert_eq!(env.list(&[]), [1]);
    assert_eq!(
        description(&env, 1),
        "The printer & the scanner are down.\n\n\
         [postdesk: html nested 2000 levels deep (over 100): converted by stripping tags]\n"
    );
}

/// Large html is stripped rather than rendered (10 MB took 877 MB), and the text kept
/// in the database is cut at 64 KB: the whole message stays in the mail store.
#[test]
fn large_html_is_stripped_and_its_text_cut() {
    let env = Env::new();
    let paragraph = "<p>Line of the <b>quarterly</b> report &lt;draft&gt;.</p>\n";
    let html = paragraph.repeat(1_000_000 / paragraph.len());
    let mail = html_mail("large", &html);
    env.deliver(&mail);
    let text = description(&env, 1);
    let (kept, notes) = text.split_at(text.find("\n[postdesk: ").expect("a note"));
    assert!(kept.len() <= 64 * 1024, "{} bytes kept", kept.len());
    assert!(kept.starts_with("Line of the quarterly report <draft>.\n\nLine of"));
    let tail = &kept[kept.len() - 40..];
    assert!(
        kept.trim_end().ends_with("<draft>."),
        "cut mid-line: {tail:?}"
    );
    assert_eq!(
        notes,
        "\n[postdesk: html 976 KB (over 256 KB): converted by stripping tags]\n\
         \n[postdesk: text cut at 64 KB of 656 KB; the whole message is in the mail store]\n"
    );
    let hash = env.json(&["ticket", "show", "1"])["events"][1]["mail"]["hash"]
        .as_str()
        .expect("hash of the mail")
        .to_string();
    let stored = postdesk::mail::files::MailStore::new(&env.db())
        .get(&hash)
        .unwrap();
    assert_eq!(stored, mail.as_bytes());
}

fn with_max_size(max: u64) -> Env {
    Env::with_config(&format!("{CONFIG}ingest:\n  max_message_size: {max}\n"))
}

/// A message over `ingest.max_message_size` is quarantined whole with the reason,
/// never parsed, whichever way it came; the others go through.
#[test]
fn a_message_over_the_size_limit_is_quarantined_unparsed() {
    let env = with_max_size(100_000);
    let big = plain_mail("big", &"x".repeat(150_000));
    // Piped: spooled whole, then moved to the quarantine unread by the drain.
    env.deliver(&big);
    env.deliver(&plain_mail("small", "a small one"));
    assert_eq!(env.list(&[]), [1]);
    let entries = quarantine(&env);
    assert_eq!(entries.len(), 1);
    let reason = entries[0]["reason"].as_str().unwrap();
    assert!(
        reason.ends_with(&format!(
            "has {} bytes, over ingest.max_message_size (100000): not parsed",
            big.len()
        )),
        "{reason}"
    );
    assert!(
        reason.contains("/spool/"),
        "the reason names the file: {reason}"
    );
    assert_eq!(entries[0]["size"], big.len());
    let spool = std::fs::read_dir(env.db().join("spool")).unwrap();
    assert_eq!(
        spool
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count(),
        0
    );

    // In an mbox: its head is quarantined, the reason says where the rest is.
    let mbox = format!(
        "From a@b Tue Nov 24 10:00:00 2026\n{}\nFrom a@b Tue Nov 24 10:00:00 2026\n{}\n",
        plain_mail("big2", &"y".repeat(150_000)),
        plain_mail("after", "the next one")
    );
    std::fs::write(env.path().join("in.mbox"), &mbox).unwrap();
    let out = env.json(&["ingest", "mbox", "in.mbox"]);
    assert_eq!(out["summary"]["created"], 1);
    assert_eq!(out["summary"]["quarantined"], 1);
    let entries = quarantine(&env);
    let reason = entries[1]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the message at byte 0 of in.mbox has 150"),
        "{reason}"
    );
    assert!(
        reason.contains("the whole message is in the mbox"),
        "{reason}"
    );
    assert_eq!(entries[1]["size"], 64 * 1024);
}

/// Batches are bounded by bytes as well as by count: 24 messages of 1 MB make two
/// batches of 16 MB at most (each batch is one pack in the mail store), where the
/// count alone made one of 24 MB.
#[test]
fn bulk_batches_are_bounded_by_bytes() {
    let env = Env::new();
    let body = "0123456789abcdef ".repeat(1 << 20 >> 4);
    let mut mbox = String::new();
    for i in 0..24 {
        mbox.push_str("From a@b Tue Nov 24 10:00:00 2026\n");
        mbox.push_str(&plain_mail(&format!("m{i}"), &body));
        mbox.push('\n');
    }
    std::fs::write(env.path().join("in.mbox"), &mbox).unwrap();
    let out = env.json(&["ingest", "mbox", "in.mbox"]);
    assert_eq!(out["summary"]["created"], 24);
    let packs: Vec<u64> = std::fs::read_dir(env.db().join("mail/packs"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".pack"))
        .map(|e| e.metadata().unwrap().len())
        .collect();
    assert_eq!(packs.len(), 2, "pack sizes: {packs:?}");
    let bound = (16 << 20) + 2 * body.len() as u64; // a batch ends past 16 MB
    assert!(
        packs.iter().all(|&len| len <= bound),
        "pack sizes: {packs:?}"
    );
}

/// A delivery on stdin is spooled as it is read, never whole in memory: a message
/// larger than the process may allocate lands, and goes to the quarantine as too
/// large (it took exit 75, "out of memory", and a retry forever, when read whole).
#[test]
fn a_delivery_larger_than_memory_is_spooled_as_it_is_read() {
    use std::io::Write;
    let env = with_max_size(1 << 20);
    let mut child = env.spawn_limited(128 << 10, &["ingest"]);
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(b"From: big@acme.example\nSubject: 160 MB\n\n")
        .unwrap();
    let line = [b'x'; 1 << 20];
    for _ in 0..160 {
        input.write_all(&line).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let q = quarantine(&env);
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .contains("over ingest.max_message_size (1048576)"),
        "{q:?}"
    );
    assert!(env.list(&[]).is_empty());
}

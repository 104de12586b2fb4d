//! Hostile mail: work per message is bounded by construction (issue #16). The inputs
//! are generated here; what is asserted is the outcome (the text kept), never the time taken.

use crate::common::Env;

fn html_mail(id: &str, html: &str) -> String {
    format!(
        "From: Customer <cust@acme.example>\nTo: help@corp.example\nSubject: html {id}\n\
         Message-ID: <{id}@acme.example>\nContent-Type: text/html; charset=utf-8\n\n{html}\n"
    )
}

fn description(env: &Env, n: u64) -> String {
    env.json(&["ticket", "show", &n.to_string()])["description"]
        .as_str()
        .expect("description")
        .to_string()
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

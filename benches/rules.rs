//! Rule evaluation cost: 100 rules (regex and contains conditions) over 10,000
//! generated messages, in process. Run: `cargo bench --bench rules`.

use std::time::Instant;

use postdesk::mail::parse::parse;
use postdesk::model::Ticket;
use postdesk::rules::eval::{run, Event};
use postdesk::rules::format::Names;
use postdesk::rules::load::RuleSet;

const WORDS: &[&str] = &[
    "printer", "laptop", "password", "invoice", "network", "screen", "vpn", "account", "license",
    "backup", "server", "badge", "refund", "order", "keyboard", "error", "crash", "update",
];

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..100 {
        let word = WORDS[i % WORDS.len()];
        let condition = if i % 2 == 0 {
            format!("    - subject: {{ regex: '\\b{word}{i}\\b' }}\n    - body: {{ contains: \"{word} {i}\" }}\n")
        } else {
            format!("    - from-domain: {{ ends-with: d{i}.example }}\n    - body: {{ regex: '(?i)(urgent|asap) {word}' }}\n")
        };
        text.push_str(&format!(
            "- name: rule {i}\n  when: [created, reply]\n  match: any\n  conditions:\n{condition}  actions:\n    - tag: [t{i}]\n"
        ));
    }
    let file = dir.path().join("rules.yaml");
    std::fs::write(&file, text).unwrap();
    let names = Names::default();
    let started = Instant::now();
    let rules = RuleSet::load_files(&[file], &names).expect("rules load");
    println!(
        "loaded and compiled {} rules in {:.2} ms",
        rules.rules.len(),
        started.elapsed().as_secs_f64() * 1e3
    );

    let mut rng = fastrand::Rng::with_seed(7);
    let messages: Vec<_> = (0..10_000)
        .map(|i| {
            let w = WORDS[rng.usize(..WORDS.len())];
            let body: Vec<&str> = (0..300).map(|_| WORDS[rng.usize(..WORDS.len())]).collect();
            let raw = format!(
                "From: Customer {i} <c{i}@d{}.example>\nTo: help@corp.example\nSubject: {w} problem number {i}\nMessage-ID: <{i}@bench.example>\n\nHello,\n{}\nurgent {w}\nThanks\n",
                i % 150,
                body.join(" ")
            );
            parse(raw.as_bytes()).unwrap()
        })
        .collect();
    let ticket = Ticket {
        service: Some("it".into()),
        ..Ticket::new(1, "", 0)
    };
    let mut matched = 0;
    let started = Instant::now();
    for msg in &messages {
        let mut t = ticket.clone();
        let decision = run(
            &rules.rules,
            &[Event::Created],
            Some(msg),
            false,
            &mut t,
            &|to, _| vec![to.to_string()],
            false,
        );
        matched += decision.applied.len();
    }
    let elapsed = started.elapsed();
    let per = elapsed.as_secs_f64() * 1e6 / messages.len() as f64;
    println!(
        "100 rules x {} messages (~2 KB body): {:.1} µs per message (target < 50 µs), {} rule matches",
        messages.len(),
        per,
        matched
    );
}

//! Ticket store benchmark: seeds 100,000 tickets through the store, then times the
//! release binary as a user runs it. Run: `cargo bench --bench tickets [-- COUNT]`.

mod common;

use common::dir_size;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use postdesk::model::{Assignee, Event, EventKind, Priority, Requester, Status, Ticket};
use postdesk::store::Store;

const CONFIG: &str = "settings: {db: db, timezone: UTC}\nusers:\n  - {login: alice, name: A, email: a@x.example}\n  - {login: bob, name: B, email: b@x.example}\ngroups:\n  - {name: support, members: [alice, bob]}\nservices:\n  - {name: it, categories: [{name: hardware}, {name: access}]}\n  - {name: finance}\n";

const WORDS: &[&str] = &[
    "printer", "laptop", "password", "invoice", "network", "screen", "mail", "vpn", "account",
    "license", "backup", "server", "phone", "badge", "meeting", "calendar", "refund", "order",
    "delivery", "keyboard", "error", "crash", "slow", "update", "install", "access", "folder",
    "share", "drive", "wifi", "office", "contract", "payment", "report", "login", "reset",
];

fn main() {
    let count: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    // BENCH_KEEP=DIR keeps the seeded helpdesk there for poking at afterwards.
    let _guard;
    let root = match std::env::var_os("BENCH_KEEP") {
        Some(keep) => std::path::PathBuf::from(keep),
        None => {
            let path = dir.path().to_path_buf();
            _guard = dir;
            path
        }
    };
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.as_path().join("postdesk.yaml"), CONFIG).unwrap();
    let started = Instant::now();
    seed(&root.as_path().join("db"), count);
    println!(
        "seeded {count} tickets in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "database size on disk: {:.1} MB",
        dir_size(&root.as_path().join("db")) as f64 / 1e6
    );

    let runs = 15;
    // A ticket from the middle of the range.
    let middle = (count / 2).max(1).to_string();
    let cases: &[(&str, &[&str], f64)] = &[
        (
            "ticket list --status open --format json",
            &["ticket", "list", "--status", "open", "--format", "json"],
            150.0,
        ),
        (
            "ticket list --search printer --format json",
            &["ticket", "list", "--search", "printer", "--format", "json"],
            300.0,
        ),
        (
            "ticket list --search printer (table)",
            &["ticket", "list", "--search", "printer"],
            300.0,
        ),
        (
            "ticket list --search w1234 (rare word)",
            &["ticket", "list", "--search", "w1234", "--format", "json"],
            300.0,
        ),
        (
            "ticket list --status open --priority urgent --tag vip",
            &[
                "ticket",
                "list",
                "--status",
                "open",
                "--priority",
                "urgent",
                "--tag",
                "vip",
            ],
            150.0,
        ),
        (
            "ticket list --status open --sort -number --limit 20",
            &[
                "ticket", "list", "--status", "open", "--sort", "-number", "--limit", "20",
            ],
            150.0,
        ),
        ("ticket show N", &["ticket", "show", &middle], 20.0),
        (
            "ticket edit N --tag +bench (write + flush)",
            &["ticket", "edit", &middle, "--tag", "+bench"],
            50.0,
        ),
    ];
    println!(
        "\n{:<55} {:>10} {:>10} {:>9}",
        "command", "median ms", "min ms", "target"
    );
    for (name, args, target) in cases {
        let mut times: Vec<Duration> = (0..runs).map(|_| run(root.as_path(), args)).collect();
        times.sort();
        let median = times[runs / 2].as_secs_f64() * 1e3;
        let min = times[0].as_secs_f64() * 1e3;
        println!("{name:<55} {median:>10.1} {min:>10.1} {:>7.0}ms", target);
    }
}

fn run(dir: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new(common::postdesk_binary())
        .args(args)
        .current_dir(dir)
        .env("POSTDESK_USER", "alice")
        .stdout(Stdio::null())
        .status()
        .expect("run postdesk");
    let elapsed = started.elapsed();
    assert!(status.success(), "postdesk {args:?} failed");
    elapsed
}

/// Writes `count` varied tickets, 1,000 per transaction.
fn seed(db: &Path, count: u64) {
    let store = Store::open(db, Duration::from_secs(5)).unwrap();
    let mut rng = fastrand::Rng::with_seed(42);
    let now = jiff::Timestamp::now().as_second();
    let mut next = 1;
    while next <= count {
        let batch: Vec<Ticket> = (next..=(next + 999).min(count))
            .map(|n| ticket(n, &mut rng, now))
            .collect();
        store
            .transact(|tx| {
                for t in &batch {
                    assert_eq!(tx.next_number()?, t.number);
                    tx.save_ticket(t)?;
                    tx.append_event(
                        t.number,
                        &Event {
                            at: t.created,
                            actor: "alice".into(),
                            kind: EventKind::Created,
                        },
                    )?;
                }
                Ok(())
            })
            .unwrap();
        next += batch.len() as u64;
    }
    store.flush().unwrap();
}

fn ticket(number: u64, rng: &mut fastrand::Rng, now: i64) -> Ticket {
    // A domain word is in about 11% of tickets, a generated one in about 0.7%.
    let pick = |rng: &mut fastrand::Rng| WORDS[rng.usize(..WORDS.len())].to_string();
    let rare = |rng: &mut fastrand::Rng| format!("w{}", rng.u32(..4000));
    let word = |rng: &mut fastrand::Rng| {
        if rng.u8(..10) == 0 {
            pick(rng)
        } else {
            rare(rng)
        }
    };
    let subject = format!("{} {} {}", pick(rng), rare(rng), rare(rng));
    let description: Vec<String> = (0..30).map(|_| word(rng)).collect();
    let status = Status::ALL[rng.usize(..4)];
    let priority = Priority::ALL[rng.usize(..4)];
    let assignee = match rng.u8(..3) {
        0 => Assignee::Nobody,
        1 => Assignee::User(["alice", "bob"][rng.usize(..2)].into()),
        _ => Assignee::Group("support".into()),
    };
    let mut tags = std::collections::BTreeSet::new();
    if rng.u8(..10) == 0 {
        tags.insert("vip".to_string());
    }
    tags.insert(pick(rng));
    let created = now - rng.i64(0..365 * 86_400);
    Ticket {
        number,
        subject,
        description: description.join(" "),
        status,
        priority,
        assignee,
        service: Some(["it", "finance"][rng.usize(..2)].into()),
        category: None,
        tags,
        requester: Requester {
            name: Some(format!("Customer {}", number % 5000)),
            email: Some(format!("c{}@domain{}.example", number % 5000, number % 300)),
            phone: None,
        },
        followers: Default::default(),
        fields: Default::default(),
        created,
        updated: created + rng.i64(0..86_400),
        links: Default::default(),
    }
}

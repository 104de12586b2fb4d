//! `ticket show` of a ticket whose log holds every kind of event the desk writes,
//! as an 80-column terminal shows it (`COLUMNS=80`): kept as a snapshot, and no
//! line may be wider than the terminal.

use crate::common::{assert_success, Env};

const LONG: &str = "The printer on the third floor prints every page twice, then jams on the second copy; we tried new toner, a different tray and turning it off and on again, and the display still says PC LOAD LETTER although the tray is full of A4.";

fn mail(subject: &str, id: &str, reply_to: Option<&str>, body: &str) -> String {
    let thread = reply_to
        .map(|r| format!("In-Reply-To: <{r}>\nReferences: <{r}>\n"))
        .unwrap_or_default();
    format!(
        "From: Carla Customer <carla@corp.example>\nTo: help@corp.example\nSubject: {subject}\nMessage-ID: <{id}>\n{thread}Date: Mon, 2 Mar 2026 09:00:00 +0000\n\n{body}\n"
    )
}

/// The ticket, built through the CLI as users would.
fn desk() -> Env {
    let env = Env::new();
    env.deliver(&mail(
        "Printer prints everything twice",
        "m1@corp.example",
        None,
        LONG,
    ));
    env.create(&["-s", "Toner order"]);
    env.create(&["-s", "Replace the printer", "--parent", "1"]);
    let steps: &[&[&str]] = &[
        &["ticket", "edit", "1", "-p", "high", "--category", "hardware"],
        &["ticket", "edit", "1", "--tag", "+printer", "--tag", "+floor-3"],
        &["ticket", "edit", "1", "--field", "asset=PC-4711", "--field", "impact=team"],
        &["ticket", "edit", "1", "--field", "cost=120.50", "--field", "due=2026-03-31"],
        &["--as", "bob", "ticket", "take", "1", "-m", "Looking at it this afternoon."],
        &["ticket", "comment", "1", "-m", LONG],
        &["ticket", "comment", "1", "-m", "Two lines:\nfirst, then\nsecond."],
        &["--as", "bob", "ticket", "take", "1", "--request-info", "Which tray do you use, and since when does it happen?"],
        &["ticket", "status", "1", "in-progress"],
        &["ticket", "assign", "1", "alice", "-m", "Alice knows this model."],
        &["ticket", "release", "1", "-m", "Back to the team."],
        &["ticket", "follow", "1", "dave@corp.example"],
        &["ticket", "follow", "1", "bob"],
        &["ticket", "unfollow", "1", "dave@corp.example"],
        &["ticket", "link", "1", "2"],
        &["ticket", "link", "1", "2", "--kind", "duplicates"],
        &["ticket", "unlink", "1", "2"],
        &["ticket", "time", "1", "add", "1h30m", "--date", "2026-03-02", "-m", "On site with a spare fuser unit, which did not help."],
        &["ticket", "time", "1", "add", "45m", "--billable", "--date", "2026-03-03"],
        &["ticket", "status", "3", "closed"],
        &["ticket", "close", "1", "-m", "Replaced the fuser; prints once now."],
        &["ticket", "reject", "1", "-m", "It still prints twice on Mondays."],
        &["ticket", "edit", "1", "-p", "urgent", "--tag", "-floor-3"],
        &["ticket", "transfer", "1", "finance", "-m", "A new printer is a purchase."],
        &["ticket", "transfer", "1", "it/hardware"],
        &["ticket", "close", "1"],
        &["ticket", "approve", "1"],
        &["ticket", "reopen", "1", "-m", "Back again."],
        &["ticket", "status", "1", "wait"],
        &["ticket", "status", "1", "open"],
        &["ticket", "edit", "1", "--description", "Prints twice. See the log."],
        &["ticket", "status", "1", "closed"],
        &["ticket", "status", "1", "open"],
        &["ticket", "take", "1"],
        &["ticket", "edit", "1", "--field", "asset=PC-4712", "--tag", "+vip"],
        &["ticket", "comment", "1", "-m", "Ordered a replacement: https://shop.example/printers/laserjet-pro-4001dn-with-duplex-unit?ref=helpdesk"],
        &["ticket", "time", "1", "start"],
        &["ticket", "status", "1", "wait"],
    ];
    for args in steps {
        env.ok(args);
    }
    env.deliver(&mail(
        "Re: [#1] Printer prints everything twice",
        "m2@corp.example",
        Some("m1@corp.example"),
        "Thanks! Tray 2, since last week.\n\n> quoted text of the earlier mail that is rather long and goes past the edge of the terminal",
    ));
    env
}

/// The clock's minutes, which vary from run to run: `YYYY-MM-DD HH:MM`, same width.
fn without_times(text: &str) -> String {
    let re = regex::Regex::new(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").unwrap();
    re.replace_all(text, "YYYY-MM-DD HH:MM").into_owned()
}

#[test]
fn show_reads_well_in_80_columns() {
    let env = desk();
    let args = ["ticket", "show", "1"];
    let out = env.cmd(&args).env("COLUMNS", "80").output().unwrap();
    assert_success(&out, &args);
    let text = without_times(&String::from_utf8(out.stdout).unwrap());
    let events = env.json(&["ticket", "show", "1"])["events"]
        .as_array()
        .unwrap()
        .len();
    assert!(events >= 45, "only {events} events");
    let wide: Vec<&str> = text.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(
        wide.is_empty(),
        "lines over 80 columns:\n{}\n\n{text}",
        wide.join("\n")
    );
    insta::assert_snapshot!("show_timeline_80_columns", text);
}

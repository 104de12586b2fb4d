//! `ingest imap` against a real Dovecot on loopback (see dovecot.rs).

use crate::common::{Env, CONFIG};
use crate::dovecot::Dovecot;

fn message(i: u32) -> Vec<u8> {
    format!(
        "From: Customer {i} <c{i}@imap.example>\r\nTo: help@corp.example\r\nSubject: imap request {i}\r\nMessage-ID: <imap{i}@imap.example>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nPlease help with {i}.\r\n"
    )
    .into_bytes()
}

/// A helpdesk with one IMAP account on the server.
fn desk(server: &Dovecot, account: &str) -> Env {
    let config = CONFIG.replace(
        "views:",
        &format!(
            "imap:\n  - name: support\n    host: {host}\n    user: {user}\n    password_env: IMAP_PW\n{account}\nviews:",
            host = if account.contains("tls: none") { "127.0.0.1" } else { "localhost" },
            user = server.user(),
        ),
    );
    Env::with_config(&config)
}

fn run(env: &Env, args: &[&str]) -> std::process::Output {
    env.cmd(args).env("IMAP_PW", "secret").output().unwrap()
}

fn summary(env: &Env, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = run(env, &all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["summary"].clone()
}

#[test]
fn implicit_tls_fetches_new_mail_once_and_marks_it_seen() {
    let server = Dovecot::start();
    let env = desk(
        &server,
        &format!(
            "    port: {}\n    tls: implicit\n    ca_file: {}\n    after: mark-seen\n    batch: 2",
            server.tls_port(),
            server.ca_file().display()
        ),
    );
    for i in 1..=3 {
        server.append("INBOX", &message(i));
    }
    let dry = summary(&env, &["ingest", "imap", "--dry-run"]);
    assert_eq!(dry["created"], 3);
    assert!(
        env.list(&[]).is_empty() && server.seen_uids("INBOX").is_empty(),
        "dry run changed nothing"
    );
    let first = summary(&env, &["ingest", "imap", "support"]);
    assert_eq!(first["created"], 3);
    assert_eq!(env.list(&[]), [1, 2, 3]);
    assert_eq!(
        server.seen_uids("INBOX"),
        server.uids("INBOX"),
        "all marked seen"
    );
    let second = summary(&env, &["ingest", "imap"]);
    assert_eq!(
        second["created"].as_u64().unwrap() + second["duplicates"].as_u64().unwrap(),
        0,
        "nothing new"
    );
    server.append("INBOX", &message(4));
    let third = summary(&env, &["ingest", "imap"]);
    assert_eq!(third["created"], 1);
    assert_eq!(
        env.json(&["ticket", "show", "4"])["subject"],
        "imap request 4"
    );
}

#[test]
fn starttls_then_move_to_a_folder() {
    let server = Dovecot::start();
    let env = desk(
        &server,
        &format!(
            "    port: {}\n    tls: starttls\n    insecure: true\n    after: {{move: Processed}}",
            server.port()
        ),
    );
    server.append("INBOX", &message(1));
    server.append("INBOX", &message(2));
    assert_eq!(summary(&env, &["ingest", "imap"])["created"], 2);
    assert!(server.uids("INBOX").is_empty(), "moved out of INBOX");
    assert_eq!(server.uids("Processed").len(), 2);
    assert_eq!(summary(&env, &["ingest", "imap"])["created"], 0);
}

#[test]
fn plain_on_loopback_then_delete() {
    let server = Dovecot::start();
    let env = desk(
        &server,
        &format!(
            "    port: {}\n    tls: none\n    after: delete",
            server.port()
        ),
    );
    server.append("INBOX", &message(7));
    assert_eq!(summary(&env, &["ingest", "imap"])["created"], 1);
    assert!(server.uids("INBOX").is_empty(), "deleted on the server");
}

#[test]
fn a_message_over_the_size_limit_is_quarantined_by_its_head_and_left_on_the_server() {
    let server = Dovecot::start();
    let env = desk(
        &server,
        &format!(
            "    port: {}\n    tls: none\n    after: delete\ningest:\n  max_message_size: 2000",
            server.port()
        ),
    );
    server.append("INBOX", &message(1));
    let mut big = message(2);
    big.extend(std::iter::repeat_n(b'x', 5000));
    server.append("INBOX", &big);
    server.append("INBOX", &message(3));
    let big_uid = server.uids("INBOX")[1];
    let first = summary(&env, &["ingest", "imap"]);
    assert_eq!(
        (first["created"].as_u64(), first["quarantined"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        server.uids("INBOX"),
        [big_uid],
        "only the large one is left"
    );
    let q = env.json(&["ingest", "quarantine", "list"]);
    let reason = q[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("INBOX UID {big_uid}")) && reason.contains("stays on the server"),
        "{reason}"
    );
    // The cursor went past it: the next poll takes nothing again.
    let second = summary(&env, &["ingest", "imap"]);
    assert_eq!(second["quarantined"], 0);
    assert_eq!(server.uids("INBOX"), [big_uid]);
}

#[test]
fn connection_login_and_certificate_errors_name_the_account() {
    let server = Dovecot::start();
    let env = desk(
        &server,
        &format!("    port: {}\n    tls: none", server.port()),
    );
    let out = env
        .cmd(&["ingest", "imap"])
        .env("IMAP_PW", "wrong")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("IMAP account 'support'") && err.contains("login as 'helpdesk' failed"),
        "{err}"
    );
    let out = env.cmd(&["ingest", "imap"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("environment variable IMAP_PW is not set")
    );
    // No CA given: the self-signed certificate is refused.
    let env = desk(
        &server,
        &format!("    port: {}\n    tls: implicit", server.tls_port()),
    );
    let err = String::from_utf8_lossy(&run(&env, &["ingest", "imap"]).stderr).into_owned();
    assert!(
        err.contains("IMAP account 'support'") && err.contains("TLS handshake failed"),
        "{err}"
    );
    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = desk(&server, &format!("    port: {closed}\n    tls: none"));
    let err = String::from_utf8_lossy(&run(&env, &["ingest", "imap"]).stderr).into_owned();
    assert!(
        err.contains(&format!(
            "IMAP account 'support' (127.0.0.1:{closed}): cannot connect"
        )),
        "{err}"
    );
    let err = env.fails(&["ingest", "imap", "other"], 1);
    assert!(err.contains("no IMAP account 'other'"), "{err}");
}

#[test]
fn plain_text_to_a_remote_host_is_refused_at_load() {
    let env = Env::with_config(&CONFIG.replace(
        "views:",
        "imap:\n  - name: remote\n    host: imap.example.com\n    tls: none\n    user: u\n    password_env: X\nviews:",
    ));
    let err = env.fails(&["ingest", "imap"], 1);
    assert!(
        err.contains("imap 'remote': tls: none sends the password in clear"),
        "{err}"
    );
}

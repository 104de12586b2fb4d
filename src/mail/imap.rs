//! Fetching from an IMAP account: connect (implicit TLS, STARTTLS or plain on
//! loopback), log in, and fetch new messages by UID.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::config::{ImapAccount, Tls};

/// Anything a session can run over: TCP or TLS over TCP.
pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

pub type Session = imap::Session<Box<dyn Stream>>;

/// The state of a mailbox as selected.
pub struct Selected {
    pub uid_validity: u32,
}

/// Connects and logs in; errors name the account and what failed.
pub fn connect(account: &ImapAccount, password: &str) -> Result<Session> {
    let what = || {
        format!(
            "IMAP account '{}' ({}:{})",
            account.name,
            account.host,
            account.port()
        )
    };
    let tcp = TcpStream::connect((account.host.as_str(), account.port()))
        .with_context(|| format!("{}: cannot connect", what()))?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(60)))?;
    let client: imap::Client<Box<dyn Stream>> = match account.tls {
        Tls::Implicit => {
            let tls = tls_connector(account)?
                .connect(&account.host, tcp)
                .map_err(|e| anyhow!("{}: TLS handshake failed: {e}", what()))?;
            let mut client = imap::Client::new(Box::new(tls) as Box<dyn Stream>);
            client
                .read_greeting()
                .with_context(|| format!("{}: no greeting", what()))?;
            client
        }
        Tls::Starttls => {
            let mut tcp = tcp;
            starttls(&mut tcp).with_context(|| format!("{}: STARTTLS failed", what()))?;
            let tls = tls_connector(account)?
                .connect(&account.host, tcp)
                .map_err(|e| anyhow!("{}: TLS handshake failed: {e}", what()))?;
            imap::Client::new(Box::new(tls) as Box<dyn Stream>)
        }
        Tls::None => {
            let mut client = imap::Client::new(Box::new(tcp) as Box<dyn Stream>);
            client
                .read_greeting()
                .with_context(|| format!("{}: no greeting", what()))?;
            client
        }
    };
    client
        .login(&account.user, password)
        .map_err(|(e, _)| anyhow!("{}: login as '{}' failed: {e}", what(), account.user))
}

/// The plain-text STARTTLS exchange, by hand: the imap crate's own STARTTLS trusts
/// only the system CAs, and a `ca_file` must work here too.
fn starttls(tcp: &mut TcpStream) -> Result<()> {
    let greeting = read_line(tcp)?;
    if !greeting.starts_with("* OK") {
        bail!("unexpected greeting: {}", greeting.trim_end());
    }
    tcp.write_all(b"pd0 STARTTLS\r\n")?;
    loop {
        let line = read_line(tcp)?;
        if let Some(status) = line.strip_prefix("pd0 ") {
            if status.starts_with("OK") {
                return Ok(());
            }
            bail!("server answered: {}", status.trim_end());
        }
    }
}

/// One CRLF-terminated line, read a byte at a time so nothing of the TLS handshake
/// that follows is consumed.
fn read_line(tcp: &mut TcpStream) -> Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        if tcp.read(&mut byte)? == 0 {
            bail!("connection closed");
        }
        line.push(byte[0]);
        if line.len() > 64 * 1024 {
            bail!("line too long");
        }
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

fn tls_connector(account: &ImapAccount) -> Result<native_tls::TlsConnector> {
    let mut builder = native_tls::TlsConnector::builder();
    if let Some(ca) = &account.ca_file {
        let pem = std::fs::read(ca).with_context(|| {
            format!(
                "IMAP account '{}': cannot read ca_file {}",
                account.name,
                ca.display()
            )
        })?;
        let cert = native_tls::Certificate::from_pem(&pem).with_context(|| {
            format!(
                "IMAP account '{}': ca_file {} is not a PEM certificate",
                account.name,
                ca.display()
            )
        })?;
        builder.add_root_certificate(cert);
    }
    if account.insecure {
        builder
            .danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true);
    }
    builder.build().context("cannot set up TLS")
}

/// Selects the account's mailbox.
pub fn select(session: &mut Session, account: &ImapAccount) -> Result<Selected> {
    let mailbox = session.select(&account.mailbox).with_context(|| {
        format!(
            "IMAP account '{}': cannot select {}",
            account.name, account.mailbox
        )
    })?;
    Ok(Selected {
        uid_validity: mailbox.uid_validity.unwrap_or(0),
    })
}

/// UIDs above `last`, ascending.
pub fn new_uids(session: &mut Session, last: u32) -> Result<Vec<u32>> {
    // `n:*` always matches the highest UID, even when it is below n: filter.
    let found = session.uid_search(format!("UID {}:*", last + 1))?;
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > last).collect();
    uids.sort_unstable();
    Ok(uids)
}

/// The size the server gives for each UID (RFC822.SIZE), in UID order.
pub fn sizes(session: &mut Session, uids: &[u32]) -> Result<Vec<(u32, u64)>> {
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    let fetches = session.uid_fetch(uid_set(uids), "(UID RFC822.SIZE)")?;
    let mut out: Vec<(u32, u64)> = fetches
        .iter()
        .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
        .collect();
    out.sort_unstable();
    Ok(out)
}

/// The first `len` bytes of a message; \Seen is not set.
pub fn fetch_head(session: &mut Session, uid: u32, len: usize) -> Result<Vec<u8>> {
    let fetches = session.uid_fetch(uid.to_string(), format!("(UID BODY.PEEK[]<0.{len}>)"))?;
    Ok(fetches
        .iter()
        .find_map(|f| f.body().map(<[u8]>::to_vec))
        .unwrap_or_default())
}

/// The raw bytes of the given UIDs, in UID order; \Seen is not set (BODY.PEEK).
pub fn fetch(session: &mut Session, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>> {
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    let fetches = session.uid_fetch(uid_set(uids), "(UID BODY.PEEK[])")?;
    let mut out: Vec<(u32, Vec<u8>)> = fetches
        .iter()
        .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
        .collect();
    out.sort_by_key(|(uid, _)| *uid);
    Ok(out)
}

/// What to do on the server once messages are stored.
pub fn after(session: &mut Session, account: &ImapAccount, uids: &[u32]) -> Result<()> {
    if uids.is_empty() {
        return Ok(());
    }
    let set = uid_set(uids);
    let context = || format!("IMAP account '{}': after-fetch action failed", account.name);
    match &account.after {
        crate::config::AfterFetch::MarkSeen => {
            session
                .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                .with_context(context)?;
        }
        crate::config::AfterFetch::Move(folder) => {
            session.uid_mv(&set, folder).with_context(context)?;
        }
        crate::config::AfterFetch::Delete => {
            session
                .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                .with_context(context)?;
            session.uid_expunge(&set).with_context(context)?;
        }
    }
    Ok(())
}

/// `1,2,5` for a list of UIDs.
fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The password from the environment, a file or a command: never from argv.
pub fn password(account: &ImapAccount) -> Result<String> {
    crate::secret::password(
        &format!("IMAP account '{}'", account.name),
        crate::secret::PasswordFrom {
            env: account.password_env.as_deref(),
            file: account.password_file.as_deref(),
            command: account.password_command.as_deref(),
        },
    )
}

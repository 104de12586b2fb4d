//! The `smtp` transport: submission to a relay with lettre's blocking SMTP client.
//! STARTTLS (required, port 587 by default), implicit TLS (465) or, to a loopback
//! host only, plain text; AUTH when a user is configured.
//!
//! It drives lettre's `SmtpConnection` itself rather than `SmtpTransport`, for two
//! things the latter hides: which step failed (a refused login or a failed TLS
//! handshake says nothing about the recipient, so it is Temporary even when the
//! server answered 5xx), and keeping one connection for the recipients of a run.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::Error;

use super::{Outcome, Transport};
use crate::config::{is_loopback, Tls};
use crate::secret::PasswordFrom;

/// The relay and how to reach it: the fields of `mail_out` with `transport: smtp`.
pub struct Relay<'a> {
    pub host: &'a str,
    pub port: Option<u16>,
    pub tls: Tls,
    pub ca_file: Option<&'a Path>,
    pub user: Option<&'a str>,
    pub password: PasswordFrom<'a>,
}

pub struct SmtpTransport {
    host: String,
    port: u16,
    tls: Tls,
    tls_parameters: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
    /// The bound on connecting and on each reply of the server.
    pub timeout: Duration,
    /// The connection of the last message that was accepted, kept for the next.
    conn: Option<SmtpConnection>,
}

impl SmtpTransport {
    /// Reads the CA file and the password now: a mistake there is the config's,
    /// reported once, not a failure of each recipient.
    pub fn new(relay: Relay, base: &Path) -> Result<Self> {
        if relay.tls == Tls::None && !is_loopback(relay.host) {
            bail!(
                "mail_out: tls: none is allowed only to localhost, not to {}",
                relay.host
            );
        }
        let port = relay.port.unwrap_or(match relay.tls {
            Tls::Implicit => 465,
            _ => 587,
        });
        let tls_parameters = match relay.tls {
            Tls::None => None,
            Tls::Implicit | Tls::Starttls => {
                let mut builder = TlsParameters::builder(relay.host.to_string());
                if let Some(ca) = relay.ca_file {
                    let ca = base.join(ca);
                    let pem = std::fs::read(&ca).with_context(|| {
                        format!("mail_out: cannot read ca_file {}", ca.display())
                    })?;
                    let cert = Certificate::from_pem(&pem).with_context(|| {
                        format!(
                            "mail_out: ca_file {} is not a PEM certificate",
                            ca.display()
                        )
                    })?;
                    builder = builder.add_root_certificate(cert);
                }
                Some(builder.build().context("mail_out: cannot set up TLS")?)
            }
        };
        let credentials = match relay.user {
            Some(user) => {
                let password = crate::secret::password("mail_out", relay.password)?;
                Some(Credentials::new(user.to_string(), password))
            }
            None => None,
        };
        Ok(SmtpTransport {
            host: relay.host.to_string(),
            port,
            tls: relay.tls,
            tls_parameters,
            credentials,
            hello: ClientId::default(),
            timeout: Duration::from_secs(60),
            conn: None,
        })
    }

    /// A new connection, secured and logged in as configured.
    fn connect(&self) -> std::result::Result<SmtpConnection, String> {
        let wrapper = match self.tls {
            Tls::Implicit => self.tls_parameters.as_ref(),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &self.hello,
            wrapper,
            None,
        )
        .map_err(|e| format!("cannot connect: {e}"))?;
        if let (Tls::Starttls, Some(params)) = (self.tls, &self.tls_parameters) {
            conn.starttls(params, &self.hello)
                .map_err(|e| format!("STARTTLS failed: {e}"))?;
        }
        if let Some(credentials) = &self.credentials {
            if let Err(e) = conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials) {
                conn.abort();
                return Err(format!("login failed: {e}"));
            }
        }
        Ok(conn)
    }

    fn envelope(envelope: &str, recipient: &str) -> std::result::Result<Envelope, String> {
        let from = if envelope.is_empty() {
            None
        } else {
            Some(
                envelope
                    .parse::<Address>()
                    .map_err(|e| format!("bad envelope sender {envelope:?}: {e}"))?,
            )
        };
        let to = recipient
            .parse::<Address>()
            .map_err(|e| format!("bad recipient {recipient:?}: {e}"))?;
        Envelope::new(from, vec![to]).map_err(|e| e.to_string())
    }
}

/// What an error while sending one message (MAIL, RCPT, DATA) means for it.
fn outcome(error: &Error) -> Outcome {
    // A reply in the server's own words, `550 5.1.1 <ann@…>: …`; else lettre's.
    let text = match (error.status(), std::error::Error::source(error)) {
        (Some(code), Some(said)) => format!("{code} {said}"),
        _ => error.to_string(),
    };
    if error.is_permanent() || error.is_client() {
        // 5xx, or the message cannot go to this server as it is (e.g. non-ASCII
        // addresses without SMTPUTF8).
        Outcome::Permanent(text)
    } else {
        // 4xx, a network error, a timeout, a garbled answer.
        Outcome::Temporary(text)
    }
}

impl Transport for SmtpTransport {
    fn send(&mut self, envelope: &str, recipient: &str, message: &[u8]) -> Outcome {
        let envelope = match Self::envelope(envelope, recipient) {
            Ok(envelope) => envelope,
            Err(e) => return Outcome::Permanent(e),
        };
        let reused = self.conn.take().and_then(|mut conn| {
            // NOOP: the relay may have closed an idle connection.
            conn.test_connected().then_some(conn)
        });
        let mut conn = match reused {
            Some(conn) => conn,
            None => match self.connect() {
                Ok(conn) => conn,
                Err(e) => return Outcome::Temporary(format!("{}: {e}", self.describe())),
            },
        };
        // lettre ends the data with CRLF . CRLF whatever came before: without this,
        // a message that ends in CRLF (as it should) would gain an empty line.
        let data = message.strip_suffix(b"\r\n").unwrap_or(message);
        match conn.send(&envelope, data) {
            Ok(_) => {
                if !conn.has_broken() {
                    self.conn = Some(conn);
                }
                Outcome::Sent
            }
            // lettre has already closed the connection (QUIT) after the error.
            Err(e) => match outcome(&e) {
                Outcome::Permanent(text) => {
                    Outcome::Permanent(format!("{}: {text}", self.describe()))
                }
                other => Outcome::Temporary(format!("{}: {}", self.describe(), other.text())),
            },
        }
    }

    fn describe(&self) -> String {
        format!("smtp {}:{}", self.host, self.port)
    }
}

impl Drop for SmtpTransport {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = conn.quit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// A scripted SMTP server on loopback: `answer` gives the reply to each command
    /// line (None: the default). It records every line and counts connections.
    struct Fake {
        port: u16,
        lines: Arc<Mutex<Vec<String>>>,
        connections: Arc<Mutex<usize>>,
    }

    fn fake(greeting: &'static str, answer: fn(&str) -> Option<&'static str>) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (seen, count) = (lines.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut out) = stream else { return };
                *count.lock().unwrap() += 1;
                let mut input = BufReader::new(out.try_clone().unwrap());
                if greeting.is_empty() {
                    // Never greet: hold the connection until the client gives up.
                    let _ = input.read_line(&mut String::new());
                    continue;
                }
                let _ = out.write_all(greeting.as_bytes());
                let mut line = String::new();
                while input.read_line(&mut line).unwrap_or(0) > 0 {
                    let command = line.trim_end().to_string();
                    seen.lock().unwrap().push(command.clone());
                    let verb = command.to_ascii_uppercase();
                    let reply = answer(&command).unwrap_or(match &verb[..4.min(verb.len())] {
                        "EHLO" => "250-fake\r\n250 AUTH PLAIN LOGIN\r\n",
                        "DATA" => "354 go on\r\n",
                        "QUIT" => "221 bye\r\n",
                        _ => "250 ok\r\n",
                    });
                    if verb == "DATA" && reply.starts_with("354") {
                        let _ = out.write_all(reply.as_bytes());
                        let mut data = String::new();
                        while input.read_line(&mut data).unwrap_or(0) > 0 && data != ".\r\n" {
                            seen.lock().unwrap().push(format!("DATA|{data}"));
                            data.clear();
                        }
                        let _ = out.write_all(
                            answer("end of data").unwrap_or("250 queued\r\n").as_bytes(),
                        );
                    } else {
                        let _ = out.write_all(reply.as_bytes());
                    }
                    if verb == "QUIT" {
                        break;
                    }
                    line.clear();
                }
            }
        });
        Fake {
            port,
            lines,
            connections,
        }
    }

    const NONE: PasswordFrom = PasswordFrom {
        env: None,
        file: None,
        command: None,
    };

    fn transport(port: u16, user: Option<&str>) -> SmtpTransport {
        let relay = Relay {
            host: "127.0.0.1",
            port: Some(port),
            tls: Tls::None,
            ca_file: None,
            user,
            password: PasswordFrom {
                command: user.map(|_| "echo s3cret"),
                ..NONE
            },
        };
        let mut t = SmtpTransport::new(relay, Path::new("/")).unwrap();
        t.timeout = Duration::from_millis(500);
        t
    }

    const MESSAGE: &[u8] = b"Subject: hi\r\n\r\nbody\r\n";

    #[test]
    fn recipients_of_a_run_share_one_connection_each_with_its_own_envelope() {
        let server = fake("220 fake ESMTP\r\n", |_| None);
        let mut t = transport(server.port, Some("desk"));
        assert_eq!(
            t.send("b@desk.test", "ann@example.com", MESSAGE),
            Outcome::Sent
        );
        assert_eq!(t.send("", "bob@example.com", MESSAGE), Outcome::Sent);
        drop(t);
        assert_eq!(*server.connections.lock().unwrap(), 1);
        let lines = server.lines.lock().unwrap().clone();
        let wanted = [
            "AUTH PLAIN AGRlc2sAczNjcmV0",
            "MAIL FROM:<b@desk.test>",
            "RCPT TO:<ann@example.com>",
            "MAIL FROM:<>",
            "RCPT TO:<bob@example.com>",
            "QUIT",
        ];
        let got: Vec<&str> = lines
            .iter()
            .map(String::as_str)
            .filter(|l| wanted.contains(l))
            .collect();
        assert_eq!(got, wanted, "{lines:?}");
        // The message as given, its last line ended by the terminator's CRLF alone.
        let data: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("DATA|"))
            .take(3)
            .collect();
        assert_eq!(data, ["Subject: hi\r\n", "\r\n", "body\r\n"]);
        let after_body = lines.iter().skip_while(|l| *l != "DATA|body\r\n").nth(1);
        // Then the terminator (not recorded) and the next command: no empty line.
        assert_eq!(after_body.map(String::as_str), Some("NOOP"), "{lines:?}");
    }

    #[test]
    fn replies_map_to_outcomes_with_the_servers_text() {
        let server = fake("220 fake ESMTP\r\n", |line| match line {
            "RCPT TO:<gone@example.com>" => Some("550 5.1.1 no such user here\r\n"),
            "RCPT TO:<busy@example.com>" => Some("452 4.2.2 mailbox full\r\n"),
            _ => None,
        });
        let mut t = transport(server.port, None);
        let gone = t.send("b@desk.test", "gone@example.com", MESSAGE);
        assert!(
            matches!(&gone, Outcome::Permanent(t) if t.ends_with(": 550 5.1.1 no such user here")),
            "{gone:?}"
        );
        let busy = t.send("b@desk.test", "busy@example.com", MESSAGE);
        assert!(
            matches!(&busy, Outcome::Temporary(t) if t.ends_with(": 452 4.2.2 mailbox full")),
            "{busy:?}"
        );
        // A bad recipient never stops the next one.
        assert_eq!(
            t.send("b@desk.test", "ann@example.com", MESSAGE),
            Outcome::Sent
        );
        let bad = t.send("b@desk.test", "not an address", MESSAGE);
        assert!(matches!(bad, Outcome::Permanent(_)), "{bad:?}");
    }

    #[test]
    fn a_refused_login_is_temporary_whatever_its_code() {
        let server = fake("220 fake ESMTP\r\n", |line| {
            line.starts_with("AUTH")
                .then_some("535 5.7.8 authentication failed\r\n")
        });
        let mut t = transport(server.port, Some("desk"));
        let outcome = t.send("b@desk.test", "ann@example.com", MESSAGE);
        assert!(
            matches!(&outcome, Outcome::Temporary(t) if t.contains("login failed") && t.contains("authentication failed")),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_silent_server_and_a_closed_port_are_temporary() {
        let silent = fake("", |_| None);
        let mut t = transport(silent.port, None);
        let started = std::time::Instant::now();
        let outcome = t.send("b@desk.test", "ann@example.com", MESSAGE);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            matches!(&outcome, Outcome::Temporary(t) if t.contains("cannot connect")),
            "{outcome:?}"
        );

        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let outcome = transport(port, None).send("b@desk.test", "ann@example.com", MESSAGE);
        assert!(
            matches!(&outcome, Outcome::Temporary(t) if t.contains("cannot connect")),
            "{outcome:?}"
        );
    }

    #[test]
    fn plain_text_only_to_loopback() {
        let relay = Relay {
            host: "mail.example.org",
            port: None,
            tls: Tls::None,
            ca_file: None,
            user: None,
            password: NONE,
        };
        let err = SmtpTransport::new(relay, Path::new("/")).err().unwrap();
        assert!(err.to_string().contains("only to localhost"), "{err}");
    }
}

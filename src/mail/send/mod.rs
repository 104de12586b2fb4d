//! Handing one built message to one recipient through the configured transport
//! (`mail_out:` in the config). Building messages and the outbox are elsewhere: a
//! transport only sends bytes and says how it went.

mod maildir;
mod sendmail;
mod smtp;

use std::path::Path;

use anyhow::Result;

use crate::config::MailOut;

/// What a transport made of one message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the next hop (the MTA, the relay, the Maildir).
    Sent,
    /// Worth trying again later: sendmail exit 75, SMTP 4xx, connection refused,
    /// timeout. The text says what happened, for the outbox and the log.
    Temporary(String),
    /// Never accepted as it stands: other sendmail exit codes, SMTP 5xx.
    Permanent(String),
}

impl Outcome {
    /// What happened, in words: empty for Sent.
    pub fn text(&self) -> &str {
        match self {
            Outcome::Sent => "",
            Outcome::Temporary(text) | Outcome::Permanent(text) => text,
        }
    }
}

/// Sends one message to one recipient. Implementations bound every wait (connect,
/// each reply, the child's exit) so that one stuck recipient never stops the others.
pub trait Transport {
    /// `envelope` is the envelope sender (`MAIL FROM`, `sendmail -f`), `recipient`
    /// the one envelope recipient, `message` the whole message with CRLF line ends.
    fn send(&mut self, envelope: &str, recipient: &str, message: &[u8]) -> Outcome;

    /// Names the transport in messages: `sendmail /usr/sbin/sendmail`,
    /// `smtp mail.example.org:587`, `maildir /var/lib/postdesk/outbox`.
    fn describe(&self) -> String;
}

/// The transport `mail_out` configures; relative paths are relative to `base`, the
/// config file's directory.
pub fn transport(mail_out: &MailOut, base: &Path) -> Result<Box<dyn Transport>> {
    match mail_out {
        MailOut::Maildir { path } => Ok(Box::new(maildir::MaildirTransport::new(base.join(path)))),
        MailOut::Sendmail {
            command,
            args,
            timeout,
        } => {
            // A bare name is looked up in PATH; a path is relative to the config.
            let command = if command.components().count() > 1 {
                base.join(command)
            } else {
                command.clone()
            };
            let mut transport = sendmail::SendmailTransport::new(command, args.clone());
            transport.timeout = seconds(*timeout);
            Ok(Box::new(transport))
        }
        MailOut::Smtp {
            host,
            port,
            tls,
            ca_file,
            user,
            password_env,
            password_file,
            password_command,
            timeout,
        } => {
            let relay = smtp::Relay {
                host,
                port: *port,
                tls: *tls,
                ca_file: ca_file.as_deref(),
                user: user.as_deref(),
                password: crate::secret::PasswordFrom {
                    env: password_env.as_deref(),
                    file: password_file.as_deref(),
                    command: password_command.as_deref(),
                },
            };
            let mut transport = smtp::SmtpTransport::new(relay, base)?;
            transport.timeout = seconds(*timeout);
            Ok(Box::new(transport))
        }
    }
}

fn seconds(seconds: i64) -> std::time::Duration {
    std::time::Duration::from_secs(seconds.max(1) as u64)
}

/// The message with CRLF line ends made LF, as local mail commands and Maildirs want.
fn lf_line_ends(message: &[u8]) -> Vec<u8> {
    message
        .iter()
        .enumerate()
        .filter(|&(i, &b)| !(b == b'\r' && message.get(i + 1) == Some(&b'\n')))
        .map(|(_, &b)| b)
        .collect()
}

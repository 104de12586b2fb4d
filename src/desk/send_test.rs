//! `postdesk doctor --send-test ADDRESS`: one small message through the configured
//! `mail_out` transport, to see that mail leaves before the outbox depends on it.

use anyhow::{bail, Context, Result};
use lettre::message::header::{ContentType, HeaderName, HeaderValue, MIME_VERSION_1_0};
use lettre::message::Mailbox;

use crate::config::Config;
use crate::mail::send::{transport, Outcome};

pub const SUBJECT: &str = "postdesk test message";

/// What a test send did.
pub struct SendTest {
    /// The From address, also the envelope sender.
    pub from: String,
    /// The transport, as `Transport::describe` names it.
    pub transport: String,
    pub outcome: Outcome,
}

/// Builds the test message and sends it to `to` through `config`'s `mail_out`.
pub fn send_test(config: &Config, to: &str) -> Result<SendTest> {
    let Some(mail_out) = &config.mail_out else {
        bail!(
            "{}: mail_out is not configured, so nothing can send mail; add for example \
             `mail_out: {{transport: sendmail}}` (or smtp, see README, Configuration)",
            config.path.display()
        );
    };
    let from = sender(config);
    let message = message(&from, to)?;
    let mut transport = transport(mail_out, &config.dir())?;
    let outcome = transport.send(&from, to, &message);
    Ok(SendTest {
        from,
        transport: transport.describe(),
        outcome,
    })
}

/// The first support address of a service, else `postdesk@HOSTNAME`.
fn sender(config: &Config) -> String {
    config
        .services
        .iter()
        .find_map(|s| s.addresses.first().cloned())
        .unwrap_or_else(|| {
            let host = whoami::fallible::hostname().unwrap_or_else(|_| "localhost".into());
            format!("postdesk@{host}")
        })
}

/// The test message, with CRLF line ends: From, To, Subject, Date, Message-ID,
/// `Auto-Submitted: auto-generated` and a short ASCII body.
pub fn message(from: &str, to: &str) -> Result<Vec<u8>> {
    let from_box: Mailbox = format!("postdesk <{from}>")
        .parse()
        .with_context(|| format!("bad sender address '{from}'"))?;
    let to_box: Mailbox = to.parse().with_context(|| format!("bad address '{to}'"))?;
    let domain = from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let id = format!(
        "<postdesk-test.{}.{:08x}@{domain}>",
        now.as_secs(),
        fastrand::u32(..)
    );
    let auto = HeaderName::new_from_ascii_str("Auto-Submitted");
    let message = lettre::Message::builder()
        .from(from_box)
        .to(to_box)
        .subject(SUBJECT)
        .date_now()
        .message_id(Some(id))
        .raw_header(HeaderValue::new(auto, "auto-generated".into()))
        .header(MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(
            "This is a test message from postdesk (postdesk doctor --send-test).\n\
             If you can read it, mail leaves this helpdesk. No need to answer.\n"
                .to_string(),
        )
        .context("cannot build the test message")?;
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_message_parses_back_with_its_headers() {
        let raw = message("support@desk.test", "ann@example.com").unwrap();
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(text.contains("\r\n\r\n") && !text.replace("\r\n", "").contains('\n'));
        let parsed = mailparse::parse_mail(&raw).unwrap();
        let h = |name: &str| {
            use mailparse::MailHeaderMap;
            parsed.headers.get_first_value(name).unwrap_or_default()
        };
        assert_eq!(h("From"), "postdesk <support@desk.test>");
        assert_eq!(h("To"), "ann@example.com");
        assert_eq!(h("Subject"), SUBJECT);
        assert_eq!(h("Auto-Submitted"), "auto-generated");
        assert_eq!(h("MIME-Version"), "1.0");
        assert!(
            h("Message-ID").ends_with("@desk.test>"),
            "{}",
            h("Message-ID")
        );
        assert!(!h("Date").is_empty());
        assert!(parsed
            .get_body()
            .unwrap()
            .contains("mail leaves this helpdesk"));
    }
}

//! Building outgoing messages: the bytes (CRLF) of one message from typed parts.
//! Headers are built here, by code, with lettre's builder, which RFC 2047-encodes
//! names and subjects that need it. No value can add a header: every value is
//! cleaned of control characters (CR and LF among them) before it reaches a header,
//! and lettre encodes what is left that a header cannot carry as it is.
//!
//! Message-IDs carry the ticket and a short HMAC (`<ticket.N.RANDOM.HMAC@domain>`),
//! so a reply threads even when its subject lost the tag, and the desk can tell its
//! own Message-IDs from ones a stranger made up ([`verify_message_id`]).

use anyhow::{bail, Context, Result};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::Mailbox;
use sha2::{Digest, Sha256};

/// Characters of the ticket's own subject kept after `Re: [#N] `: the tag survives
/// any client that cuts a long subject (RFC 5322 recommends 78-character lines).
pub const SUBJECT_MAX: usize = 120;

/// One message, as the desk asks for it; [`compose`] makes its bytes.
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    /// The display name of From and Reply-To (`Alice Agent via it`).
    pub from_name: String,
    /// The service's address: From and Reply-To.
    pub from_address: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The whole subject, tag included ([`reply_subject`]).
    pub subject: String,
    /// Without angle brackets, as the database keeps Message-IDs.
    pub message_id: String,
    /// Without angle brackets.
    pub in_reply_to: Option<String>,
    /// Without angle brackets, oldest first ([`trimmed_references`]).
    pub references: Vec<String>,
    /// Our `X-Loop` value (`ingest.loop_id`).
    pub loop_id: String,
    /// Sent by the desk on its own (an auto-reply, a notification): adds
    /// `Auto-Submitted`, `Precedence: bulk` and `X-Auto-Response-Suppress`.
    pub automatic: bool,
    pub body: String,
}

/// Replaces every control character (CR and LF included) with a space: what a
/// header value may hold.
pub fn clean(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A Message-ID as a header wants it: cleaned, no spaces, no brackets inside.
fn clean_id(id: &str) -> String {
    clean(id)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '<' | '>'))
        .collect()
}

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox> {
    let address = clean(address);
    let address = address
        .trim()
        .parse()
        .with_context(|| format!("'{address}' is not a mail address"))?;
    let name = name.map(clean).filter(|n| !n.trim().is_empty());
    Ok(Mailbox::new(name, address))
}

/// Whether `address` can be a recipient of a message we build.
pub fn valid_address(address: &str) -> bool {
    !address.chars().any(char::is_control) && address.trim().parse::<lettre::Address>().is_ok()
}

/// `To`/`Cc` of bare addresses, folded between addresses so that no line passes 78
/// characters however many recipients (lettre writes a list on one line). Only
/// parsed addresses go in: no CR, LF or anything else a header cannot carry.
fn address_list(name: &'static str, addresses: &[lettre::Address]) -> HeaderValue {
    let mut value = String::new();
    let mut line = name.len() + 2;
    for (i, a) in addresses.iter().enumerate() {
        let a = a.to_string();
        if i > 0 {
            value.push(',');
            line += 1;
            if line + 1 + a.len() > 78 {
                value.push_str("\r\n");
                line = 0;
            }
            value.push(' ');
            line += 1;
        }
        value.push_str(&a);
        line += a.len();
    }
    let raw = addresses
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    HeaderValue::dangerous_new_pre_encoded(HeaderName::new_from_ascii_str(name), raw, value)
}

fn raw(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), clean(value))
}

/// `Auto-Submitted` of automatic mail that answers no message (notifications).
pub const AUTO_GENERATED: &str = "auto-generated";
/// `Auto-Submitted` of an automatic answer to a message (RFC 3834).
pub const AUTO_REPLIED: &str = "auto-replied";

/// The bytes of `out`, CRLF line ends; automatic mail is `auto-generated`.
pub fn compose(out: &Outgoing) -> Result<Vec<u8>> {
    compose_with(out, AUTO_GENERATED)
}

/// [`compose`], with `auto_submitted` as the `Auto-Submitted` of automatic mail.
pub fn compose_with(out: &Outgoing, auto_submitted: &str) -> Result<Vec<u8>> {
    let from = mailbox(Some(&out.from_name), &out.from_address)?;
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .reply_to(mailbox(Some(&out.from_name), &out.from_address)?)
        .subject(clean(&out.subject))
        .message_id(Some(format!("<{}>", clean_id(&out.message_id))))
        .raw_header(raw("X-Loop", &out.loop_id));
    if out.to.is_empty() && out.cc.is_empty() {
        bail!("a message with no recipient");
    }
    let mut everyone = Vec::new();
    for (name, addresses) in [("To", &out.to), ("Cc", &out.cc)] {
        if addresses.is_empty() {
            continue;
        }
        let parsed = addresses
            .iter()
            .map(|a| Ok(mailbox(None, a)?.email))
            .collect::<Result<Vec<lettre::Address>>>()?;
        builder = builder.raw_header(address_list(name, &parsed));
        everyone.extend(parsed);
    }
    builder = builder.envelope(
        lettre::address::Envelope::new(Some(from.email.clone()), everyone)
            .context("cannot build the envelope")?,
    );
    if let Some(id) = &out.in_reply_to {
        builder = builder.in_reply_to(format!("<{}>", clean_id(id)));
    }
    if !out.references.is_empty() {
        let refs: Vec<String> = out
            .references
            .iter()
            .map(|id| format!("<{}>", clean_id(id)))
            .collect();
        builder = builder.references(refs.join(" "));
    }
    if out.automatic {
        builder = builder
            .raw_header(raw("Auto-Submitted", auto_submitted))
            .raw_header(raw("Precedence", "bulk"))
            .raw_header(raw("X-Auto-Response-Suppress", "All"));
    }
    let body = out.body.replace("\r\n", "\n");
    let message = builder
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(body)
        .context("cannot build the message")?;
    Ok(message.formatted())
}

/// `Re: [#42] subject`: the ticket's subject without a tag or `Re:` of its own,
/// cut to [`SUBJECT_MAX`] characters so that the tag always survives.
pub fn reply_subject(prefix: &str, number: u64, subject: &str) -> String {
    let tag = format!("[{prefix}{number}]");
    let mut rest = clean(subject).replace(&tag, " ");
    loop {
        let trimmed = rest.trim_start();
        let lower = trimmed.to_lowercase();
        match ["re:", "aw:", "fwd:", "fw:"]
            .iter()
            .find(|p| lower.starts_with(*p))
        {
            Some(p) => rest = trimmed[p.len()..].to_string(),
            None => break,
        }
    }
    let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = match rest.chars().count() > SUBJECT_MAX {
        true => rest.chars().take(SUBJECT_MAX - 1).collect::<String>() + "…",
        false => rest,
    };
    format!("Re: {tag} {cut}").trim_end().to_string()
}

/// The thread's first and last Message-IDs (one if they are the same): enough for
/// any client to thread, and a header block that stays small on a long thread.
pub fn trimmed_references(thread: &[String]) -> Vec<String> {
    match thread {
        [] => Vec::new(),
        [one] => vec![one.clone()],
        [first, .., last] => vec![first.clone(), last.clone()],
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The HMAC part of a Message-ID: 64 bits of HMAC-SHA256 over `ticket.N.RANDOM`.
fn id_mac(key: &[u8], local: &str) -> String {
    hex(&hmac_sha256(key, local.as_bytes())[..8])
}

/// A new Message-ID (without brackets) for mail about ticket `number`:
/// `ticket.N.RANDOM.HMAC@domain`.
pub fn message_id(key: &[u8], number: u64, domain: &str) -> String {
    let local = format!("ticket.{number}.{:016x}", fastrand::u64(..));
    let mac = id_mac(key, &local);
    format!("{local}.{mac}@{}", clean_id(domain))
}

/// The ticket of a Message-ID this desk made with `key`; None for any other
/// (another key, a changed number, a forged one).
pub fn verify_message_id(key: &[u8], id: &str) -> Option<u64> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _domain) = id.rsplit_once('@')?;
    let (signed, mac) = local.rsplit_once('.')?;
    let mut parts = signed.split('.');
    let (Some("ticket"), Some(number), Some(_random), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let same = same_mac(&id_mac(key, signed), mac);
    same.then(|| number.parse().ok()).flatten()
}

/// Whether two MACs are the same, compared in full whatever differs first: no
/// timing to learn from.
pub fn same_mac(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |d, (a, b)| d | (a ^ b))
            == 0
}

/// The domain of an address (`help@corp.example` -> `corp.example`).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(bytes).unwrap()
    }

    /// Header `name` of `bytes`, decoded.
    fn header(bytes: &[u8], name: &str) -> Option<String> {
        parse(bytes)
            .headers
            .iter()
            .find(|x| x.get_key_ref() == name)
            .map(|x| x.get_value())
    }

    fn sample() -> Outgoing {
        Outgoing {
            from_name: "Alice Agent via it".into(),
            from_address: "help@corp.example".into(),
            to: vec!["ann@example.com".into()],
            cc: vec!["boss@corp.example".into()],
            subject: reply_subject("#", 42, "Printer jams"),
            message_id: "ticket.42.abc.def@corp.example".into(),
            in_reply_to: Some("first@example.com".into()),
            references: vec!["first@example.com".into(), "last@example.com".into()],
            loop_id: "postdesk".into(),
            automatic: false,
            body: "Try turning it off.\n\n-- \nIT support\n".into(),
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let long_key = [0xaa; 131];
        let mac = hmac_sha256(
            &long_key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn a_message_has_every_header_and_crlf_line_ends() {
        let bytes = compose(&sample()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.replace("\r\n", "").contains('\n'), "{text}");
        let mail = parse(&bytes);
        let h = |name: &str| header(&bytes, name);
        assert_eq!(
            h("From").unwrap(),
            "\"Alice Agent via it\" <help@corp.example>"
        );
        assert_eq!(
            h("Reply-To").unwrap(),
            "\"Alice Agent via it\" <help@corp.example>"
        );
        assert_eq!(h("To").unwrap(), "ann@example.com");
        assert_eq!(h("Cc").unwrap(), "boss@corp.example");
        assert_eq!(h("Subject").unwrap(), "Re: [#42] Printer jams");
        assert_eq!(h("Message-ID").unwrap(), "<ticket.42.abc.def@corp.example>");
        assert_eq!(h("In-Reply-To").unwrap(), "<first@example.com>");
        assert_eq!(
            h("References").unwrap(),
            "<first@example.com> <last@example.com>"
        );
        assert_eq!(h("X-Loop").unwrap(), "postdesk");
        assert!(h("Auto-Submitted").is_none());
        assert!(mail.get_body().unwrap().contains("Try turning it off."));
    }

    #[test]
    fn an_automatic_message_says_so() {
        let bytes = compose(&Outgoing {
            automatic: true,
            ..sample()
        })
        .unwrap();
        let h = |name: &str| header(&bytes, name);
        assert_eq!(h("Auto-Submitted").unwrap(), "auto-generated");
        assert_eq!(h("Precedence").unwrap(), "bulk");
        assert_eq!(h("X-Auto-Response-Suppress").unwrap(), "All");
        let reply = compose_with(
            &Outgoing {
                automatic: true,
                ..sample()
            },
            AUTO_REPLIED,
        )
        .unwrap();
        assert_eq!(header(&reply, "Auto-Submitted").unwrap(), "auto-replied");
    }

    #[test]
    fn a_non_ascii_name_and_subject_are_encoded_and_read_back() {
        let bytes = compose(&Outgoing {
            from_name: "Zoë Ågren via Support".into(),
            subject: reply_subject("#", 7, "Écran noir — 画面"),
            ..sample()
        })
        .unwrap();
        assert!(bytes.is_ascii(), "headers and body are 7-bit");
        let h = |name: &str| header(&bytes, name);
        assert_eq!(h("Subject").unwrap(), "Re: [#7] Écran noir — 画面");
        let from = mailparse::addrparse(&h("From").unwrap()).unwrap();
        let mailparse::MailAddr::Single(from) = &from[0] else {
            panic!("one address")
        };
        assert_eq!(from.display_name.as_deref(), Some("Zoë Ågren via Support"));
    }

    #[test]
    fn no_value_can_add_a_header() {
        let evil = "x\r\nBcc: victim@evil.example\r\nX-Injected: yes";
        let lone_lf = "x\nBcc: victim@evil.example\nX-Injected: yes";
        let lone_cr = "x\rBcc: victim@evil.example\rX-Injected: yes";
        let baseline = parse(&compose(&sample()).unwrap()).headers.len();
        for bad in [evil, lone_lf, lone_cr] {
            let cases = [
                Outgoing {
                    subject: reply_subject("#", 1, bad),
                    ..sample()
                },
                Outgoing {
                    from_name: bad.into(),
                    ..sample()
                },
                Outgoing {
                    loop_id: bad.into(),
                    ..sample()
                },
                Outgoing {
                    message_id: format!("{bad}@x"),
                    ..sample()
                },
                Outgoing {
                    in_reply_to: Some(format!("{bad}@x")),
                    ..sample()
                },
                Outgoing {
                    references: vec![format!("{bad}@x"), "a@b".into()],
                    ..sample()
                },
                Outgoing {
                    subject: format!("[{bad}] tagged"),
                    ..sample()
                },
            ];
            for case in cases {
                let bytes = compose(&case).unwrap();
                let mail = parse(&bytes);
                let names: Vec<String> = mail.headers.iter().map(|h| h.get_key()).collect();
                assert_eq!(mail.headers.len(), baseline, "{names:?}");
                assert!(
                    !names.iter().any(|n| n == "Bcc" || n == "X-Injected"),
                    "{names:?}"
                );
            }
            // An address cannot carry one: it is refused.
            for field in ["to", "from"] {
                let case = match field {
                    "to" => Outgoing {
                        to: vec![format!("ann@example.com{bad}")],
                        ..sample()
                    },
                    _ => Outgoing {
                        from_address: format!("help@corp.example{bad}"),
                        ..sample()
                    },
                };
                assert!(compose(&case).is_err(), "{field}");
            }
            assert!(!valid_address(&format!("ann@example.com{bad}")));
        }
    }

    #[test]
    fn many_recipients_fold_into_short_lines() {
        let cc: Vec<String> = (0..60)
            .map(|i| format!("follower{i:02}@example.com"))
            .collect();
        let bytes = compose(&Outgoing {
            cc: cc.clone(),
            ..sample()
        })
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.split("\r\n").all(|l| l.len() <= 78), "{text}");
        let mail = parse(&bytes);
        let got = mail
            .headers
            .iter()
            .find(|h| h.get_key_ref() == "Cc")
            .unwrap();
        let list = mailparse::addrparse_header(got).unwrap();
        assert_eq!(list.len(), 60);
    }

    #[test]
    fn a_long_subject_keeps_its_tag() {
        let subject = reply_subject("#", 42, &"word ".repeat(100));
        assert!(subject.starts_with("Re: [#42] word"), "{subject}");
        assert!(subject.chars().count() <= SUBJECT_MAX + 10, "{subject}");
        let bytes = compose(&Outgoing {
            subject: subject.clone(),
            ..sample()
        })
        .unwrap();
        let mail = parse(&bytes);
        let got = mail
            .headers
            .iter()
            .find(|h| h.get_key_ref() == "Subject")
            .unwrap();
        assert_eq!(got.get_value(), subject);
    }

    #[test]
    fn a_subject_loses_its_own_tag_and_re() {
        assert_eq!(
            reply_subject("#", 42, "RE: Re: [#42] Printer jams"),
            "Re: [#42] Printer jams"
        );
        assert_eq!(reply_subject("#", 3, ""), "Re: [#3]");
    }

    #[test]
    fn references_keep_the_first_and_the_last() {
        let thread: Vec<String> = (0..200)
            .map(|i| format!("{i}.{}@mail.example.com", "x".repeat(40)))
            .collect();
        let refs = trimmed_references(&thread);
        assert_eq!(refs, [thread[0].clone(), thread[199].clone()]);
        let bytes = compose(&Outgoing {
            references: refs,
            in_reply_to: thread.last().cloned(),
            ..sample()
        })
        .unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(
            head.len() < 4096,
            "a 200-message thread: {} bytes",
            head.len()
        );
        let thread: Vec<String> = (0..200).map(|i| format!("m{i}@x")).collect();
        assert_eq!(trimmed_references(&thread[..1]), ["m0@x"]);
        assert!(trimmed_references(&[]).is_empty());
    }

    #[test]
    fn message_ids_verify_only_with_their_key_and_number() {
        let key = [7u8; 32];
        let id = message_id(&key, 42, "corp.example");
        assert!(
            id.starts_with("ticket.42.") && id.ends_with("@corp.example"),
            "{id}"
        );
        assert_eq!(verify_message_id(&key, &id), Some(42));
        assert_eq!(verify_message_id(&key, &format!("<{id}>")), Some(42));
        assert_eq!(verify_message_id(&[8u8; 32], &id), None, "another key");
        let forged = id.replacen("ticket.42.", "ticket.43.", 1);
        assert_eq!(verify_message_id(&key, &forged), None, "another number");
        assert_eq!(verify_message_id(&key, "x@y"), None);
        assert_ne!(message_id(&key, 42, "d"), message_id(&key, 42, "d"));
    }
}

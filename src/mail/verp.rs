//! VERP bounce addresses: the envelope sender of each outbox entry is
//! `LOCAL+TOKEN@DOMAIN`, where `LOCAL@DOMAIN` is the bounce mailbox
//! (`outbox.bounce_address`, default `bounces@` the sending service's domain) and
//! TOKEN names the entry, signed: `o<ID>-<MAC>`, the MAC 48 bits of HMAC-SHA256
//! over `bounce.o<ID>` keyed by `message-id.key` (the key of our Message-IDs; the
//! `bounce.` prefix keeps the two kinds of signature apart). A bounce to such an
//! address names its message and recipient, and only the desk could have made it, so
//! a forged bounce cannot suppress anyone's address.
//!
//! Only `[a-z0-9-]` goes into a token, and a bounce mailbox is refused at config
//! load unless its local part is letters, digits, `.`, `_` and `-` (no `+`, no
//! control characters) and its domain letters, digits, `.` and `-`.

use super::compose::{hmac_sha256, same_mac};

/// Hex digits of the MAC in a token (48 bits): short enough for a local part of 64
/// characters, long enough that guessing one takes about 2^47 forged bounces.
const MAC_HEX: usize = 12;

/// The longest local part of a bounce mailbox: its VERP addresses stay within
/// RFC 5321's 64 characters (`+o` + 20 digits + `-` + 12 hex digits = 35).
pub const LOCAL_MAX: usize = 29;

fn mac(key: &[u8], id: u64) -> String {
    hmac_sha256(key, format!("bounce.o{id}").as_bytes())[..MAC_HEX / 2]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signed token of outbox entry `id`: `o<ID>-<MAC>`.
pub fn token(key: &[u8], id: u64) -> String {
    format!("o{id}-{}", mac(key, id))
}

/// The outbox entry a token names, if `key` signed it. Lowercase is accepted in
/// any case (an MTA may fold a local part); anything else, however near, is None.
pub fn verify_token(key: &[u8], token: &str) -> Option<u64> {
    let token = token.to_ascii_lowercase();
    let (id, given) = token.strip_prefix('o')?.split_once('-')?;
    if id.is_empty()
        || id.len() > 20
        || !id.bytes().all(|b| b.is_ascii_digit())
        || (id.len() > 1 && id.starts_with('0'))
    {
        return None;
    }
    let id: u64 = id.parse().ok()?;
    same_mac(&mac(key, id), given).then_some(id)
}

/// Why `address` cannot be a bounce mailbox, if it cannot.
pub fn check_mailbox(address: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("'{address}' cannot be a bounce address: {why}"));
    let Some((local, domain)) = address.split_once('@') else {
        return bad("no @");
    };
    let local_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if local.is_empty() || local.len() > LOCAL_MAX || !local.chars().all(local_ok) {
        return bad(&format!(
            "its local part must be 1 to {LOCAL_MAX} letters, digits, '.', '_' or '-' \
             (postdesk adds +TOKEN itself)"
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("a dot may not start or end its local part, nor follow a dot");
    }
    let domain_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-');
    if domain.is_empty()
        || domain.len() > 253
        || !domain.chars().all(domain_ok)
        || domain.split('.').any(str::is_empty)
    {
        return bad("its domain must be letters, digits, '.' and '-'");
    }
    Ok(())
}

/// The VERP address of outbox entry `id` for the bounce mailbox `mailbox`
/// (checked by [`check_mailbox`]): `LOCAL+o<ID>-<MAC>@DOMAIN`.
pub fn address(mailbox: &str, key: &[u8], id: u64) -> Result<String, String> {
    check_mailbox(mailbox)?;
    let (local, domain) = mailbox.split_once('@').expect("checked above");
    Ok(format!("{local}+{}@{domain}", token(key, id)))
}

/// The outbox entry a recipient address names, if it is `LOCAL+TOKEN@...` with
/// LOCAL one of `locals` (compared in any case) and a token signed by `key`.
/// Exactly one `+`: `bounces+o1-…+x@d` is no VERP address of ours.
pub fn entry_of(address: &str, locals: &[&str], key: &[u8]) -> Option<u64> {
    let address = address.trim().trim_matches(['<', '>']);
    let (local, _domain) = address.rsplit_once('@')?;
    let (base, token) = local.split_once('+')?;
    if token.contains('+') || !locals.iter().any(|l| l.eq_ignore_ascii_case(base)) {
        return None;
    }
    verify_token(key, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn a_token_verifies_only_with_its_key_and_id() {
        let t = token(&KEY, 123);
        assert!(t.starts_with("o123-") && t.len() == 5 + MAC_HEX, "{t}");
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        assert_eq!(verify_token(&KEY, &t), Some(123));
        assert_eq!(verify_token(&KEY, &t.to_uppercase()), Some(123));
        assert_eq!(verify_token(&[8; 32], &t), None, "another key");
        let other = t.replacen("o123-", "o124-", 1);
        assert_eq!(verify_token(&KEY, &other), None, "another entry");
        let mut flipped = t.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(verify_token(&KEY, &flipped), None, "a wrong MAC");
        for bad in [
            "", "o", "o-", "o1", "o1-", "x1-abc", "o01-x", "o-1-x", "o1-abc-d",
        ] {
            assert_eq!(verify_token(&KEY, bad), None, "{bad}");
        }
        assert_eq!(verify_token(&KEY, &format!("{t}0")), None, "a longer MAC");
        let mac_of_1 = token(&KEY, 1).split_once('-').unwrap().1.to_string();
        assert_eq!(
            verify_token(&KEY, &format!("o01-{mac_of_1}")),
            None,
            "one entry, one spelling"
        );
    }

    #[test]
    fn a_verp_address_names_its_entry_and_nothing_else() {
        let a = address("bounces@desk.test", &KEY, 42).unwrap();
        assert!(
            a.starts_with("bounces+o42-") && a.ends_with("@desk.test"),
            "{a}"
        );
        assert!(a.len() <= 64 + 1 + 9);
        assert!(a.parse::<lettre::Address>().is_ok(), "{a}");
        assert_eq!(entry_of(&a, &["bounces"], &KEY), Some(42));
        assert_eq!(entry_of(&format!("<{a}>"), &["bounces"], &KEY), Some(42));
        assert_eq!(entry_of(&a.to_uppercase(), &["bounces"], &KEY), Some(42));
        assert_eq!(entry_of(&a, &["other"], &KEY), None);
        assert_eq!(entry_of(&a, &["bounces"], &[1; 32]), None);
        let injected = a.replacen("@", "+evil@", 1);
        assert_eq!(entry_of(&injected, &["bounces"], &KEY), None, "{injected}");
        assert_eq!(entry_of("bounces@desk.test", &["bounces"], &KEY), None);
        assert_eq!(entry_of("nonsense", &["bounces"], &KEY), None);
        let longest = address(
            &format!("{}@d.example", "b".repeat(LOCAL_MAX)),
            &KEY,
            u64::MAX,
        )
        .unwrap();
        assert!(longest.split('@').next().unwrap().len() <= 64, "{longest}");
    }

    #[test]
    fn a_bounce_mailbox_cannot_carry_a_plus_a_line_break_or_a_header() {
        assert!(check_mailbox("bounces@desk.test").is_ok());
        assert!(check_mailbox("desk.bounces_1-x@mail.corp-x.example").is_ok());
        for bad in [
            "bounces+x@desk.test",
            "bounces\r\nBcc: x@y@desk.test",
            "bounces@desk.test\r\nX: y",
            "bounces@desk.test\n",
            "b ounces@desk.test",
            "-f@desk.test\0",
            "bounces",
            "@desk.test",
            "bounces@",
            ".b@desk.test",
            "b..c@desk.test",
            "b@desk..test",
            "b@desk.test>",
            "\"b\"@desk.test",
        ] {
            assert!(check_mailbox(bad).is_err(), "{bad:?}");
            assert!(address(bad, &KEY, 1).is_err(), "{bad:?}");
        }
        let long = format!("{}@d.example", "b".repeat(LOCAL_MAX + 1));
        assert!(check_mailbox(&long).is_err());
    }
}

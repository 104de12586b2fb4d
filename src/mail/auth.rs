//! Whether a message's From domain is vouched for by the admin's own mail server.
//!
//! From is written by the sender and proves nothing. A border MTA that checks SPF,
//! DKIM and DMARC records its verdict in an `Authentication-Results` header (RFC 8601)
//! under its own authserv-id, and removes any header claiming that id which came from
//! outside (RFC 8601 §5; OpenDMARC, rspamd and Postfix's milters do). So the topmost
//! header with the configured id is the server's, and only it is read.

/// Does the topmost `Authentication-Results` of `authserv_id` say the mail's From
/// domain passed DMARC, or (with no DMARC verdict) DKIM or SPF aligned with it?
pub fn from_domain_passes(
    headers: &[(String, String)],
    authserv_id: &str,
    from_domain: &str,
) -> bool {
    let Some(results) = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .filter_map(|(_, value)| parse(value))
        .find(|r| r.authserv_id.eq_ignore_ascii_case(authserv_id))
    else {
        return false;
    };
    let from_domain = from_domain.to_ascii_lowercase();
    let dmarc: Vec<&Verdict> = results
        .verdicts
        .iter()
        .filter(|v| v.method == "dmarc" && v.prop("header.from") == Some(from_domain.as_str()))
        .collect();
    if !dmarc.is_empty() {
        return dmarc.iter().all(|v| v.result == "pass");
    }
    results.verdicts.iter().any(|v| {
        v.result == "pass"
            && match v.method.as_str() {
                "dkim" => v.prop("header.d").is_some_and(|d| aligned(&from_domain, d)),
                "spf" => v
                    .prop("smtp.mailfrom")
                    .map(|m| m.rsplit_once('@').map_or(m, |(_, d)| d))
                    .is_some_and(|d| aligned(&from_domain, d)),
                _ => false,
            }
    })
}

/// Relaxed alignment, without a public suffix list: the same domain, or From in a
/// subdomain of a domain that has a dot of its own (never a bare `com`).
fn aligned(from_domain: &str, domain: &str) -> bool {
    from_domain == domain || (domain.contains('.') && from_domain.ends_with(&format!(".{domain}")))
}

struct Results {
    authserv_id: String,
    verdicts: Vec<Verdict>,
}

/// One `method=result prop=value...` clause, lowercased.
struct Verdict {
    method: String,
    result: String,
    props: Vec<(String, String)>,
}

impl Verdict {
    fn prop(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `authserv-id [version]; method=result prop=value ...; ...`, comments removed.
fn parse(value: &str) -> Option<Results> {
    let text = without_comments(value).to_ascii_lowercase();
    let mut clauses = split_unquoted(&text, ';').into_iter();
    let authserv_id = clauses.next()?.split_whitespace().next()?.to_string();
    let verdicts = clauses
        .filter_map(|clause| {
            let mut tokens = split_unquoted(&clause, ' ')
                .into_iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty());
            let (method, result) = tokens.next()?.split_once('=').map(|(m, r)| {
                // `dkim/1=pass`: a method version.
                let method = m.split('/').next().unwrap_or(m).trim().to_string();
                (method, r.trim().to_string())
            })?;
            let props = tokens
                .filter_map(|t| {
                    let (k, v) = t.split_once('=')?;
                    Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
                })
                .collect();
            Some(Verdict {
                method,
                result,
                props,
            })
        })
        .collect();
    Some(Results {
        authserv_id,
        verdicts,
    })
}

/// The text without RFC 5322 comments (nested parentheses), quoted strings kept.
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(if c.is_whitespace() { ' ' } else { c }),
            _ => {}
        }
    }
    out
}

/// Splits at `sep` outside double quotes.
fn split_unquoted(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                parts.last_mut().expect("one part").push(c);
            }
            c if c == sep && !quoted => parts.push(String::new()),
            c => parts.last_mut().expect("one part").push(c),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> Vec<(String, String)> {
        values
            .iter()
            .map(|v| ("Authentication-Results".to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn dmarc_pass_from_the_trusted_server() {
        let h = headers(&[
            "mx.example.org; spf=fail smtp.mailfrom=x@evil.example; dmarc=pass (p=reject dis=none) header.from=Desk.Example",
        ]);
        assert!(from_domain_passes(&h, "mx.example.org", "desk.example"));
        assert!(!from_domain_passes(&h, "other.example.org", "desk.example"));
        assert!(!from_domain_passes(&h, "mx.example.org", "acme.example"));
    }

    #[test]
    fn a_dmarc_failure_decides_even_with_a_dkim_pass() {
        let h = headers(&[
            "mx.example.org; dkim=pass header.d=desk.example; dmarc=fail header.from=sub.desk.example",
        ]);
        assert!(!from_domain_passes(
            &h,
            "mx.example.org",
            "sub.desk.example"
        ));
    }

    #[test]
    fn aligned_dkim_or_spf_without_dmarc() {
        let dkim = headers(&[
            "mx.example.org 1; dkim=pass (2048-bit key) header.d=desk.example header.s=sel",
        ]);
        assert!(from_domain_passes(
            &dkim,
            "mx.example.org",
            "mail.desk.example"
        ));
        let spf = headers(&["mx.example.org; spf=pass smtp.mailfrom=\"bounce@desk.example\""]);
        assert!(from_domain_passes(&spf, "mx.example.org", "desk.example"));
        let unaligned = headers(&["mx.example.org; dkim=pass header.d=evil.example; spf=softfail smtp.mailfrom=desk.example"]);
        assert!(!from_domain_passes(
            &unaligned,
            "mx.example.org",
            "desk.example"
        ));
        let tld = headers(&["mx.example.org; dkim=pass header.d=example"]);
        assert!(!from_domain_passes(&tld, "mx.example.org", "desk.example"));
    }

    #[test]
    fn only_the_topmost_header_of_the_server_counts() {
        // A forged header below the server's own, claiming its id.
        let h = headers(&[
            "mx.example.org; dmarc=fail header.from=desk.example",
            "mx.example.org; dmarc=pass header.from=desk.example",
        ]);
        assert!(!from_domain_passes(&h, "mx.example.org", "desk.example"));
        // Nothing from the server at all: a stranger's header proves nothing.
        let h = headers(&["evil.example; dmarc=pass header.from=desk.example"]);
        assert!(!from_domain_passes(&h, "mx.example.org", "desk.example"));
    }

    #[test]
    fn comments_and_quotes_do_not_confuse_the_parse() {
        let h = headers(&[
            "mx.example.org (a (nested; comment) here); dmarc=pass reason=\"a; b\" header.from=desk.example",
        ]);
        assert!(from_domain_passes(&h, "mx.example.org", "desk.example"));
    }
}

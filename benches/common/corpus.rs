//! Generated support mail: requests and replies threaded by In-Reply-To, 2-4 KB each
//! with trace headers, DKIM, quoted text and signatures, as a helpdesk receives it.
//! Deterministic for a seed, so two builds are timed on the same mail.

use std::io::Write;
use std::path::Path;

const FIRST: &[&str] = &[
    "Ann", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kim",
    "Léa", "Marco", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Ursula",
    "Victor", "Wen", "Yusuf", "Zoé",
];
const LAST: &[&str] = &[
    "Smith",
    "Martin",
    "Okafor",
    "Dubois",
    "Nguyen",
    "Rossi",
    "Schmidt",
    "García",
    "Kowalski",
    "Johansson",
    "Tanaka",
    "Moreau",
    "Silva",
    "Novak",
    "Haddad",
    "Müller",
    "Lefèvre",
    "Brown",
];
const COMPANIES: &[&str] = &[
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "tyrell",
    "soylent",
    "cyberdyne",
    "aperture",
    "wonka",
    "gringotts",
    "vandelay",
    "oceanic",
    "dunder",
];
const THINGS: &[&str] = &[
    "printer",
    "laptop",
    "VPN client",
    "mailbox",
    "shared drive",
    "badge reader",
    "docking station",
    "invoice portal",
    "Wi-Fi",
    "password",
    "second screen",
    "calendar",
    "CRM account",
    "desk phone",
    "backup job",
    "licence server",
];
const PROBLEMS: &[&str] = &[
    "does not work any more",
    "keeps disconnecting",
    "is very slow since this morning",
    "shows an error when I log in",
    "stopped syncing",
    "was not delivered",
    "asks for my password every few minutes",
    "crashes after the last update",
    "cannot be reached from the office",
    "needs to be set up for a new colleague",
];
const SENTENCES: &[&str] = &[
    "I already restarted the computer twice and it did not change anything.",
    "The problem started right after the update that was pushed on Monday.",
    "Several people on my floor have the same issue, so it is probably not just me.",
    "I tried the steps from the knowledge base article but got stuck at step four.",
    "This is blocking the month-end closing, so a quick answer would be much appreciated.",
    "The error message says that the connection was refused by the remote host.",
    "I am working from home today and can be reached on my mobile all afternoon.",
    "Could you please check whether my account is locked or has expired?",
    "It worked fine last week when I was in the Lyon office.",
    "Our team lead approved the request, you should have her e-mail in the previous thread.",
    "I attached nothing because the screenshot tool is also broken, sorry about that.",
    "When I plug in the cable the light blinks orange and then goes off again.",
    "If somebody could come by my desk on the third floor that would be easiest.",
    "The invoice number is in the subject line, the amount does not match the order.",
    "I need this before Thursday because of the customer audit.",
    "Nothing in the event log looks related, but I am not an expert.",
    "Let me know if you need the serial number or the asset tag of the device.",
    "I cleared the browser cache and cookies as suggested, no change.",
];
const LOG_LINES: &[&str] = &[
    "ERROR spooler: job failed (paper jam in tray 2)",
    "WARN vpnagent: tunnel renegotiation timed out after 30s",
    "ERROR sync: 401 Unauthorized from https://files.corp.example/api/v2/sync",
    "INFO dhcp: lease renewed for 10.20.3.117",
    "ERROR outlook: cannot open the default set of e-mail folders",
    "WARN disk: volume C: has less than 5% free space",
];
const DISCLAIMER: &str = "This e-mail and any attachments are confidential and may be privileged. If you are not the intended recipient, please notify the sender immediately and delete this message. Any unauthorised use, disclosure or copying is prohibited.";

/// What a reply needs to know about the message it answers.
#[derive(Clone)]
pub struct Thread {
    pub id: String,
    pub name: String,
    pub email: String,
    pub subject: String,
}

/// One generated message: the raw RFC 5322 text (no mbox separator).
pub struct Mail {
    pub thread: Thread,
    pub date: i64,
    pub raw: String,
}

impl Mail {
    /// The envelope line an MTA or an mbox puts before the message.
    pub fn envelope(&self) -> String {
        let when = jiff::Timestamp::from_second(self.date)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC);
        format!(
            "From {}  {}\n",
            self.thread.email,
            when.strftime("%a %b %e %H:%M:%S %Y")
        )
    }

    /// As a pipe delivery gets it: envelope line, then the message.
    pub fn delivery(&self) -> Vec<u8> {
        let mut out = self.envelope();
        out.push_str(&self.raw);
        out.into_bytes()
    }

    /// As an mbox entry (mboxrd: `From ` lines quoted with `>`, then a blank line).
    pub fn mbox_entry(&self, out: &mut String) {
        out.push_str(&self.envelope());
        for line in self.raw.split_inclusive('\n') {
            if line.trim_start_matches('>').starts_with("From ") {
                out.push('>');
            }
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Deterministic generator of support mail.
pub struct Corpus {
    pub rng: fastrand::Rng,
    clock: i64,
}

impl Corpus {
    pub fn new(seed: u64) -> Corpus {
        Corpus {
            rng: fastrand::Rng::with_seed(seed),
            clock: jiff::Timestamp::now().as_second() - 400 * 86_400,
        }
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.usize(..list.len())]
    }

    fn tick(&mut self) -> i64 {
        self.clock += self.rng.i64(5..300);
        self.clock
    }

    /// One of 5,000 customers at 300 companies: (name, address).
    fn customer(&mut self) -> (String, String) {
        let n = self.rng.usize(..5000);
        let first = FIRST[n % FIRST.len()];
        let last = LAST[(n / FIRST.len()) % LAST.len()];
        let company = COMPANIES[n % COMPANIES.len()];
        let domain = format!("{company}{}.example", n % 300);
        let local: String = format!("{first}.{last}{}", n / 450)
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    'x'
                }
            })
            .collect();
        (format!("{first} {last}"), format!("{local}@{domain}"))
    }

    fn message_id(&mut self, tag: &str, i: usize, email: &str) -> String {
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("x.example");
        format!("{tag}.{i}.{:016x}@{domain}", self.rng.u64(..))
    }

    fn base64(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len)
            .map(|_| ALPHABET[self.rng.usize(..64)] as char)
            .collect()
    }

    /// Trace, DKIM and the usual headers, up to the blank line.
    fn headers(
        &mut self,
        name: &str,
        email: &str,
        subject: &str,
        id: &str,
        parent: Option<&str>,
        date: i64,
    ) -> String {
        let when = jiff::Timestamp::from_second(date)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC);
        let rfc2822 = when.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string();
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or("x.example");
        let ip = format!("203.0.{}.{}", self.rng.u8(..255), self.rng.u8(1..255));
        let mut h = String::with_capacity(1500);
        h.push_str(&format!("Return-Path: <{email}>\n"));
        h.push_str("Delivered-To: help@corp.example\n");
        h.push_str(&format!(
            "Received: from mx.{domain} (mx.{domain} [{ip}])\n\tby mail.corp.example (Postfix) with ESMTPS id {}\n\tfor <help@corp.example>; {rfc2822} (UTC)\n",
            self.base64(10).replace(['+', '/'], "Q")
        ));
        h.push_str(&format!(
            "Received: from [10.{}.{}.{}] (unknown [{ip}])\n\tby mx.{domain} with ESMTPSA id {}\n\t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n\t{rfc2822}\n",
            self.rng.u8(..255),
            self.rng.u8(..255),
            self.rng.u8(1..255),
            self.base64(12).replace(['+', '/'], "Z")
        ));
        h.push_str(&format!(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=mail2026;\n\th=from:to:subject:date:message-id:mime-version:content-type;\n\tbh={}=;\n\tb={}\n\t {}\n\t {}\n\t {}==\n",
            self.base64(43),
            self.base64(70),
            self.base64(76),
            self.base64(76),
            self.base64(60)
        ));
        h.push_str(&format!("From: {name} <{email}>\n"));
        h.push_str("To: IT Help <help@corp.example>\n");
        if self.rng.u8(..5) == 0 {
            let (cc_name, cc_email) = self.customer();
            h.push_str(&format!("Cc: {cc_name} <{cc_email}>\n"));
        }
        h.push_str(&format!("Subject: {subject}\n"));
        h.push_str(&format!("Date: {rfc2822}\n"));
        h.push_str(&format!("Message-ID: <{id}>\n"));
        if let Some(parent) = parent {
            h.push_str(&format!(
                "In-Reply-To: <{parent}>\nReferences: <{parent}>\n"
            ));
        }
        h.push_str("MIME-Version: 1.0\n");
        h.push_str("Content-Type: text/plain; charset=\"utf-8\"; format=flowed\n");
        h.push_str("Content-Transfer-Encoding: 8bit\n");
        h.push_str(match self.rng.u8(..3) {
            0 => "User-Agent: Mozilla Thunderbird\n",
            1 => "X-Mailer: Microsoft Outlook 16.0\n",
            _ => "X-Mailer: Apple Mail (2.3774.300.61)\n",
        });
        h.push('\n');
        h
    }

    /// Paragraphs of support prose, wrapped at 72 columns, about `len` bytes.
    fn prose(&mut self, len: usize, out: &mut String) {
        let start = out.len();
        while out.len() - start < len {
            match self.rng.u8(..8) {
                0 => {
                    out.push_str("From what I can see in the log:\n\n");
                    for _ in 0..self.rng.usize(2..5) {
                        let t = self.tick();
                        let when = jiff::Timestamp::from_second(t).unwrap();
                        out.push_str(&format!("  {when} {}\n", self.pick(LOG_LINES)));
                    }
                    out.push('\n');
                }
                _ => {
                    let mut paragraph = String::new();
                    for _ in 0..self.rng.usize(2..5) {
                        paragraph.push_str(self.pick(SENTENCES));
                        paragraph.push(' ');
                    }
                    wrap(&paragraph, out);
                    out.push('\n');
                }
            }
        }
    }

    fn signature(&mut self, name: &str, out: &mut String) {
        out.push_str(&format!(
            "Best regards,\n{name}\n\n-- \n{name}\n{} department\nPhone +33 1 {:02} {:02} {:02} {:02}\n\n",
            self.pick(&["Accounting", "Sales", "Logistics", "HR", "Legal", "R&D"]),
            self.rng.u8(..100),
            self.rng.u8(..100),
            self.rng.u8(..100),
            self.rng.u8(..100)
        ));
        wrap(DISCLAIMER, out);
    }

    /// A new support request, 2-4 KB.
    pub fn request(&mut self, tag: &str, i: usize) -> Mail {
        self.request_of(tag, i, None)
    }

    /// A new support request of about `size` bytes (issue 17's 100 KB mail).
    pub fn large_request(&mut self, tag: &str, i: usize, size: usize) -> Mail {
        self.request_of(tag, i, Some(size))
    }

    /// A request of `size` bytes, or 2-4 KB drawn after the headers (as before sizes
    /// could be asked for, so a seed still makes the same mail).
    fn request_of(&mut self, tag: &str, i: usize, size: Option<usize>) -> Mail {
        let (name, email) = self.customer();
        let thing = self.pick(THINGS);
        let subject = match self.rng.u8(..4) {
            0 => format!("My {thing} {}", self.pick(PROBLEMS)),
            1 => format!("URGENT: {thing} {}", self.pick(PROBLEMS)),
            2 => format!("Problem with the {thing} (ref {}-{i})", tag.to_uppercase()),
            _ => format!("Question about {thing} access"),
        };
        let id = self.message_id(tag, i, &email);
        let date = self.tick();
        let mut raw = self.headers(&name, &email, &subject, &id, None, date);
        let size = size.unwrap_or_else(|| self.rng.usize(2048..4096));
        // One of 150 asset tags: a word in about 0.7% of tickets, for searches
        // that match few.
        raw.push_str(&format!(
            "Hello,\n\nmy {thing} {} (asset tag AT{:03}).\n\n",
            self.pick(PROBLEMS),
            self.rng.u32(..150)
        ));
        let body = size.saturating_sub(raw.len() + 500).max(200);
        self.prose(body, &mut raw);
        self.signature(&name, &mut raw);
        Mail {
            thread: Thread {
                id,
                name,
                email,
                subject,
            },
            date,
            raw,
        }
    }

    /// The requester's follow-up to `parent`, quoting some of the conversation.
    pub fn reply(&mut self, tag: &str, i: usize, parent: &Thread) -> Mail {
        self.reply_of(tag, i, parent, None)
    }

    /// The requester's follow-up to `parent`, about `size` bytes: mostly new text,
    /// then the quote.
    pub fn large_reply(&mut self, tag: &str, i: usize, parent: &Thread, size: usize) -> Mail {
        self.reply_of(tag, i, parent, Some(size))
    }

    fn reply_of(&mut self, tag: &str, i: usize, parent: &Thread, size: Option<usize>) -> Mail {
        let subject = if parent.subject.starts_with("Re: ") {
            parent.subject.clone()
        } else {
            format!("Re: {}", parent.subject)
        };
        let id = self.message_id(tag, i, &parent.email);
        let date = self.tick();
        let mut raw = self.headers(
            &parent.name,
            &parent.email,
            &subject,
            &id,
            Some(&parent.id),
            date,
        );
        let new_text = size.map_or(300, |size| size * 3 / 4);
        let size = size.unwrap_or_else(|| self.rng.usize(2048..4096));
        raw.push_str("Hi,\n\n");
        self.prose(new_text, &mut raw);
        raw.push_str("Thanks,\n");
        raw.push_str(&parent.name);
        raw.push_str("\n\nOn the previous day, IT Help <help@corp.example> wrote:\n");
        let mut quoted = String::new();
        let rest = size.saturating_sub(raw.len()).max(200);
        self.prose(rest, &mut quoted);
        for line in quoted.lines() {
            raw.push_str(if line.is_empty() { ">" } else { "> " });
            raw.push_str(line);
            raw.push('\n');
        }
        Mail {
            thread: Thread {
                id,
                name: parent.name.clone(),
                email: parent.email.clone(),
                subject,
            },
            date,
            raw,
        }
    }

    /// Writes an mbox of generated mail until `until` is reached, each message as it
    /// is made (100,000 tickets' mail is 400 MB): about one message in five is a
    /// reply to one of the 500 before it, so a ticket gets 1.25 messages.
    pub fn write_mbox(&mut self, path: &Path, tag: &str, until: Until) -> Mbox {
        let file = std::fs::File::create(path).expect("create the mbox");
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut mbox = Mbox::default();
        let mut entry = String::with_capacity(8192);
        let mut i = 0;
        while !until.reached(&mbox) {
            let mail = if i > 10 && self.rng.u8(..5) == 0 {
                let back = self.rng.usize(1..i.min(500));
                let parent = mbox.threads[i - back].clone();
                mbox.replies += 1;
                self.reply(tag, i, &parent)
            } else {
                self.request(tag, i)
            };
            entry.clear();
            mail.mbox_entry(&mut entry);
            out.write_all(entry.as_bytes()).expect("write the mbox");
            mbox.bytes += entry.len() as u64;
            mbox.threads.push(mail.thread);
            i += 1;
        }
        out.flush().expect("write the mbox");
        mbox
    }
}

/// When `Corpus::write_mbox` stops.
#[derive(Clone, Copy)]
pub enum Until {
    /// This many messages, requests and replies.
    Messages(usize),
    /// This many requests, that is new tickets.
    Requests(usize),
}

impl Until {
    fn reached(self, mbox: &Mbox) -> bool {
        match self {
            Until::Messages(n) => mbox.messages() >= n,
            Until::Requests(n) => mbox.requests() >= n,
        }
    }
}

/// What `Corpus::write_mbox` wrote.
#[derive(Default)]
pub struct Mbox {
    /// Every message's thread, in mbox order, for replies to come.
    pub threads: Vec<Thread>,
    pub replies: usize,
    pub bytes: u64,
}

impl Mbox {
    pub fn messages(&self) -> usize {
        self.threads.len()
    }

    pub fn requests(&self) -> usize {
        self.threads.len() - self.replies
    }
}

/// Greedy word wrap at 72 columns, ending with a newline.
fn wrap(text: &str, out: &mut String) {
    let mut column = 0;
    for word in text.split_whitespace() {
        if column > 0 && column + 1 + word.len() > 72 {
            out.push('\n');
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.len();
    }
    out.push('\n');
}

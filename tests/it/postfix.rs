//! A real Postfix on loopback, one private instance per test, stopped when dropped.
//!
//! Built on `../shared/postfix-test-server.md` (Postfix 3.7, Debian): `postfix -c DIR/etc`
//! runs a complete instance from its own config, queue and data directories, without
//! touching /etc/postfix. It needs root (the `postfix` command is the superuser's; its
//! daemons run as `postfix`, the virtual agent writes the Maildirs as `nobody`).
//!
//! Each instance gets a fresh directory under /tmp (at most 86 characters: clients log to
//! a Unix socket below it), its own port (a Postfix listener sets SO_REUSEPORT, so a clash
//! is not reported: ports come from a bind to port 0), and optionally STARTTLS on that
//! port plus implicit TLS on a second one, with a certificate from its own test CA.
//!
//! Delivery: `DIR/mail/<domain>/<user>/` Maildirs for the addresses in [`VMAILBOX`];
//! `rejectme@` and `deferme@customer.test` are answered 550 and 450 at RCPT (SMTP only),
//! `bounceme@` and `slowme@` fail after acceptance, for sendmail too. Anything outside
//! desk.test and customer.test is refused (SMTP) or bounced (sendmail): nothing leaves.

#![allow(dead_code)]

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const POSTFIX: &str = "/usr/sbin/postfix";
pub const SENDMAIL: &str = "/usr/sbin/sendmail";

/// `@DIR@` = the instance's directory, `@UID@`/`@GID@` = owner of the Maildirs (nobody).
const MAIN_CF: &str = r#"# Throwaway Postfix instance for tests: SMTP on 127.0.0.1 only (ports in master.cf),
# virtual Maildir delivery under @DIR@/mail, no DNS, nothing leaves the machine.
compatibility_level = 3.6
queue_directory = @DIR@/queue
data_directory = @DIR@/data
maillog_file = @DIR@/maillog
maillog_file_prefixes = @DIR@
mail_owner = postfix
setgid_group = postdrop

myhostname = mx.desk.test
mydomain = desk.test
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
relay_domains =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no

virtual_mailbox_domains = desk.test, customer.test
virtual_mailbox_base = @DIR@/mail
virtual_mailbox_maps = texthash:@DIR@/etc/vmailbox
virtual_uid_maps = static:@UID@
virtual_gid_maps = static:@GID@
recipient_delimiter = +
transport_maps = texthash:@DIR@/etc/transport
default_transport = error:5.1.2 no delivery outside the test domains
relay_transport = $default_transport
local_transport = error:5.1.1 no local delivery
alias_maps =
alias_database =
local_recipient_maps =

smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:@DIR@/etc/recipient_access
smtpd_banner = $myhostname ESMTP test

queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 30s
biff = no
notify_classes =
"#;

/// `@PORT@` = the SMTP port. `chroot` is `n` everywhere (no copies of system files).
const MASTER_CF: &str = r#"# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:@PORT@ inet n -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"#;

/// Recipients that exist, and their Maildirs under `DIR/mail` (keys in lowercase).
const VMAILBOX: &str = "support@desk.test       desk.test/support/
bounces@desk.test       desk.test/bounces/
alice@customer.test     customer.test/alice/
bob@customer.test       customer.test/bob/
rejectme@customer.test  customer.test/rejectme/
deferme@customer.test   customer.test/deferme/
bounceme@customer.test  customer.test/bounceme/
slowme@customer.test    customer.test/slowme/
";

/// Answers at RCPT TO (SMTP only).
const RECIPIENT_ACCESS: &str = "rejectme@customer.test  550 5.1.1 mailbox unavailable (test)
deferme@customer.test   450 4.2.1 mailbox busy, try again later (test)
";

/// Failures after acceptance (sendmail too); over SMTP answered at RCPT.
const TRANSPORT: &str = "bounceme@customer.test  error:5.1.1 mailbox unavailable (test)
slowme@customer.test    retry:4.2.1 mailbox busy, try again later (test)
";

/// A running private Postfix instance.
pub struct Postfix {
    port: u16,
    tls_port: Option<u16>,
    /// How long `postfix start` and the 220 greeting took.
    pub started_in: Duration,
    // Removed after `Drop::drop` has stopped Postfix (fields drop after it).
    dir: TempDir,
}

impl Postfix {
    /// A plain-SMTP instance (no TLS), up and greeting. Panics, with the log, if it
    /// does not come up.
    pub fn start() -> Postfix {
        Postfix::start_with(false)
    }

    /// An instance that offers STARTTLS on [`Postfix::port`] and implicit TLS on
    /// [`Postfix::tls_port`], with a certificate (SAN localhost, 127.0.0.1) signed by
    /// [`Postfix::ca_file`].
    pub fn start_tls() -> Postfix {
        Postfix::start_with(true)
    }

    fn start_with(tls: bool) -> Postfix {
        assert!(
            Path::new(POSTFIX).exists(),
            "{POSTFIX} not found: install postfix (scripts/deps.sh tests)"
        );
        assert!(
            nix::unistd::geteuid().is_root(),
            "the Postfix tests run a private instance, which needs root"
        );
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Postfix::try_start(tls) {
                Ok(postfix) => return postfix,
                Err(log) if attempt < 3 && log.contains("Address already in use") => continue,
                Err(log) => panic!("Postfix did not start:\n{log}"),
            }
        }
    }

    fn try_start(tls: bool) -> Result<Postfix, String> {
        // Not TMPDIR: the directory must stay short (86 characters at most).
        let dir = tempfile::Builder::new()
            .prefix("pd-postfix-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let root = dir.path();
        let root_str = root.to_str().expect("temp dir path is UTF-8").to_string();
        assert!(root_str.len() <= 86, "{root_str} is too long for Postfix");
        let (port, tls_port) = crate::dovecot::free_port_pair();
        let tls_port = tls.then_some(tls_port);
        let etc = root.join("etc");
        for sub in ["etc", "queue", "mail"] {
            std::fs::create_dir_all(root.join(sub)).expect("create postfix dirs");
        }
        // Postfix's daemons read etc/ as `postfix`; the virtual agent writes mail/ as nobody.
        for path in [root, &etc] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                .expect("chmod 755");
        }
        let nobody = nix::unistd::User::from_name("nobody")
            .expect("look up nobody")
            .expect("a user nobody");
        std::os::unix::fs::chown(
            root.join("mail"),
            Some(nobody.uid.as_raw()),
            Some(nobody.gid.as_raw()),
        )
        .expect("chown mail");

        let mut main_cf = MAIN_CF
            .replace("@DIR@", &root_str)
            .replace("@UID@", &nobody.uid.to_string())
            .replace("@GID@", &nobody.gid.to_string());
        let mut master_cf = MASTER_CF.replace("@PORT@", &port.to_string());
        if let Some(sport) = tls_port {
            crate::dovecot::make_certificates(&etc);
            main_cf.push_str(&format!(
                "smtpd_tls_cert_file = {root_str}/etc/server.pem\n\
                 smtpd_tls_key_file = {root_str}/etc/server.key\n\
                 smtpd_tls_security_level = may\nsmtpd_tls_loglevel = 1\n"
            ));
            master_cf.push_str(&format!(
                "127.0.0.1:{sport} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes \
                 -o smtpd_tls_security_level=encrypt\n"
            ));
            for public in ["server.pem", "ca.pem"] {
                std::fs::set_permissions(etc.join(public), std::fs::Permissions::from_mode(0o644))
                    .expect("chmod certificate");
            }
        }
        for (name, text) in [
            ("main.cf", main_cf.as_str()),
            ("master.cf", master_cf.as_str()),
            ("vmailbox", VMAILBOX),
            ("recipient_access", RECIPIENT_ACCESS),
            ("transport", TRANSPORT),
        ] {
            std::fs::write(etc.join(name), text).expect("write postfix config");
        }
        // Postfix re-reads files changed in the last 2 s every 300 ms; backdated, a
        // start takes about 0.2 s instead of about 2 s.
        let backdated = Command::new("sh")
            .arg("-c")
            .arg("touch -d '1 minute ago' \"$0\"/*")
            .arg(&etc)
            .status()
            .expect("run touch");
        assert!(backdated.success(), "touch -d failed");

        let started = Instant::now();
        let mut postfix = Postfix {
            port,
            tls_port,
            started_in: Duration::ZERO,
            dir,
        };
        // It prints its errors only to a terminal: the log says why it failed.
        if !postfix.postfix("start") {
            return Err(format!("postfix start failed\n{}", postfix.log()));
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while !crate::dovecot::greeting(port, "220 ", "QUIT") {
            if Instant::now() > deadline {
                return Err(format!(
                    "no 220 greeting on 127.0.0.1:{port} after 15 s\n{}",
                    postfix.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        postfix.started_in = started.elapsed();
        Ok(postfix)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The config directory, for `sendmail -C` and `postfix -c`.
    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    /// SMTP, with STARTTLS offered when started with [`Postfix::start_tls`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Implicit TLS (SMTPS); only with [`Postfix::start_tls`].
    pub fn tls_port(&self) -> u16 {
        self.tls_port.expect("started without TLS")
    }

    /// The CA that signed the server certificate; only with [`Postfix::start_tls`].
    pub fn ca_file(&self) -> PathBuf {
        self.etc().join("ca.pem")
    }

    /// The instance's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// The queue as `postqueue -j` prints it: one JSON object per message.
    pub fn queue(&self) -> String {
        let out = Command::new("/usr/sbin/postqueue")
            .arg("-c")
            .arg(self.etc())
            .arg("-j")
            .stdin(Stdio::null())
            .output()
            .expect("run postqueue");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The messages delivered to `mailbox` (`customer.test/alice`), once there are
    /// `count` of them, oldest first. Panics with the log and the queue after 10 s.
    pub fn delivered(&self, mailbox: &str, count: usize) -> Vec<Vec<u8>> {
        let new = self.dir.path().join("mail").join(mailbox).join("new");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&new)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok())
                        .map(|e| {
                            let modified = e.metadata().and_then(|m| m.modified());
                            (modified.unwrap_or(std::time::UNIX_EPOCH), e.path())
                        })
                        .collect()
                })
                .unwrap_or_default();
            if files.len() >= count {
                assert_eq!(files.len(), count, "more mail than expected in {mailbox}");
                files.sort();
                return files
                    .iter()
                    .map(|(_, path)| std::fs::read(path).expect("read delivered mail"))
                    .collect();
            }
            if Instant::now() > deadline {
                panic!(
                    "{} of {count} messages in {mailbox} after 10 s\n--- maillog ---\n{}\n--- queue ---\n{}",
                    files.len(),
                    self.log(),
                    self.queue()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The log, once every SMTP session in it has ended (`disconnect from`): what a
    /// session did is on that line (`ehlo=1 mail=1 rcpt=0/1 quit=1`). Panics after 5 s.
    pub fn settled_log(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.matches("]: connect from").count() == log.matches("]: disconnect from").count() {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "SMTP sessions still open:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `postfix stop`, once nothing answers on [`Postfix::port`] (panics after 15 s).
    pub fn stop(&self) {
        assert!(self.postfix("stop"), "postfix stop failed\n{}", self.log());
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.running() || TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "postfix still runs after stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `postfix start` again after [`Postfix::stop`], once it greets on
    /// [`Postfix::port`] (panics after 15 s).
    pub fn start_again(&self) {
        assert!(
            self.postfix("start"),
            "postfix start failed\n{}",
            self.log()
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        while !crate::dovecot::greeting(self.port, "220 ", "QUIT") {
            assert!(
                Instant::now() < deadline,
                "no 220 greeting after 15 s\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the master still runs (`postfix status`).
    pub fn running(&self) -> bool {
        self.postfix("status")
    }

    /// `postfix -c DIR/etc VERB`, quiet (it prints only to a terminal anyway): success.
    fn postfix(&self, verb: &str) -> bool {
        Command::new(POSTFIX)
            .arg("-c")
            .arg(self.etc())
            .arg(verb)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn master_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.dir.path().join("queue/pid/master.pid")).ok()?;
        text.trim().parse().ok()
    }
}

impl Drop for Postfix {
    /// `postfix stop` (the master daemonized: it is not our child), before the
    /// directory goes (stop reads etc/main.cf); SIGTERM to the master if it still runs.
    fn drop(&mut self) {
        let pid = self.master_pid();
        self.postfix("stop");
        if self.running() {
            if let Some(pid) = pid {
                // SAFETY: kill(2) on the master this instance wrote into its pid file.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
        }
    }
}

/// A parsed delivered message: a header's first value ("" when absent).
pub fn header(mail: &mailparse::ParsedMail, name: &str) -> String {
    use mailparse::MailHeaderMap;
    mail.headers.get_first_value(name).unwrap_or_default()
}

#[test]
fn an_instance_delivers_sendmail_mail_and_stops_when_dropped() {
    let postfix = Postfix::start();
    eprintln!("postfix started in {:?}", postfix.started_in);
    let etc = postfix.etc();
    let mut child = Command::new(SENDMAIL)
        .arg("-C")
        .arg(&etc)
        .args(["-i", "-f", "support@desk.test", "--", "alice@customer.test"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run sendmail");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Subject: harness\nMessage-ID: <h@desk.test>\n\nhello\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let mail = postfix.delivered("customer.test/alice", 1);
    let parsed = mailparse::parse_mail(&mail[0]).unwrap();
    assert_eq!(header(&parsed, "Return-Path"), "<support@desk.test>");
    assert_eq!(header(&parsed, "Subject"), "harness");
    let pid = postfix.master_pid().expect("master pid");
    let port = postfix.port();
    drop(postfix);
    // Gone: the port is closed and the master has exited (a zombie until PID 1 reaps it).
    let deadline = Instant::now() + Duration::from_secs(3);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "port {port} still open after stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = state.rsplit(") ").next().unwrap_or("").chars().next();
    assert!(matches!(state, None | Some('Z') | Some('X')), "{state:?}");
}

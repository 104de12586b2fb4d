//! A real Dovecot IMAP server on loopback, one per test, stopped when dropped.
//!
//! Built on `../shared/dovecot-test-server.md` (Dovecot 2.3, rootless): the whole server runs as
//! one unprivileged user, `nobody` when the tests run as root (via `setpriv`), the caller itself
//! otherwise. Every instance gets its own temp dir, its own ports, and its own CA + server
//! certificate, so tests can run in parallel.

#![allow(dead_code)]

use std::ffi::CStr;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const DOVECOT: &str = "/usr/sbin/dovecot";
const USER: &str = "helpdesk";
const PASSWORD: &str = "secret";

/// Dovecot 2.3 config. `@DIR@` = scratch dir, `@USER@`/`@GROUP@` = the user Dovecot runs as,
/// `@PORT@`/`@SPORT@` = plain (STARTTLS-capable) and implicit-TLS ports.
const CONFIG_TEMPLATE: &str = r#"# Minimal rootless Dovecot 2.3 for tests. Everything runs as one unprivileged user.
base_dir = @DIR@/run
state_dir = @DIR@/state
instance_name = hdtest-@PORT@
protocols = imap
listen = 127.0.0.1
log_path = @DIR@/dovecot.log
ssl = yes
ssl_cert = <@DIR@/server.pem
ssl_key = <@DIR@/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = @USER@
default_internal_group = @GROUP@
default_login_user = @USER@
first_valid_uid = 1
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  mailbox Archive {
    auto = create
  }
  mailbox Processed {
    auto = create
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u @DIR@/users
}
userdb {
  driver = passwd-file
  args = username_format=%u @DIR@/users
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = @PORT@
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = @SPORT@
    ssl = yes
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-reader {
    user = @USER@
  }
  unix_listener stats-writer {
    user = @USER@
  }
}
"#;

/// A running Dovecot master (started with `-F`, so `child` is the master itself).
pub struct Dovecot {
    child: Child,
    port: u16,
    tls_port: u16,
    // Removed after `Drop::drop` has stopped Dovecot (fields drop after it).
    dir: TempDir,
}

/// Who Dovecot runs as.
struct RunAs {
    uid: u32,
    gid: u32,
    user: String,
    group: String,
    /// Drop to this user with `setpriv` (we are root).
    drop_privileges: bool,
}

impl Dovecot {
    /// Starts a fresh server with an empty mailbox store (INBOX, Archive, Processed) and waits
    /// for its greeting. Panics, with the Dovecot log, if it does not come up within 10 s.
    pub fn start() -> Dovecot {
        assert!(
            Path::new(DOVECOT).exists(),
            "{DOVECOT} not found: install dovecot-imapd"
        );
        // Free ports are picked by binding to port 0 and dropping the listener, which can race
        // with another test doing the same; retry with fresh ports if the bind fails.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Dovecot::try_start() {
                Ok(dovecot) => return dovecot,
                Err(log) if attempt < 5 && log.contains("Address already in use") => continue,
                Err(log) => panic!("Dovecot did not start:\n{log}"),
            }
        }
    }

    fn try_start() -> Result<Dovecot, String> {
        let dir = tempfile::Builder::new()
            .prefix("postdesk-dovecot-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path();
        let (port, tls_port) = free_port_pair();
        let run_as = run_as();

        for sub in [
            "run",
            "state",
            "home/helpdesk/Maildir/cur",
            "home/helpdesk/Maildir/new",
            "home/helpdesk/Maildir/tmp",
        ] {
            std::fs::create_dir_all(root.join(sub)).expect("create dovecot dirs");
        }
        make_certificates(root);

        let dir_str = root.to_str().expect("temp dir path is UTF-8");
        let config = CONFIG_TEMPLATE
            .replace("@DIR@", dir_str)
            .replace("@USER@", &run_as.user)
            .replace("@GROUP@", &run_as.group)
            .replace("@SPORT@", &tls_port.to_string())
            .replace("@PORT@", &port.to_string());
        let conf = root.join("dovecot.conf");
        std::fs::write(&conf, config).expect("write dovecot.conf");
        std::fs::write(
            root.join("users"),
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}:{}:{}::{dir_str}/home/helpdesk::\n",
                run_as.uid, run_as.gid
            ),
        )
        .expect("write users file");
        if run_as.drop_privileges {
            chown_tree(root, run_as.uid, run_as.gid);
        }

        let stderr = std::fs::File::create(root.join("stderr.log")).expect("create stderr.log");
        let mut cmd = if run_as.drop_privileges {
            let mut cmd = Command::new("setpriv");
            cmd.arg(format!("--reuid={}", run_as.uid))
                .arg(format!("--regid={}", run_as.gid))
                .args(["--clear-groups", "--inh-caps=-all", DOVECOT]);
            cmd
        } else {
            Command::new(DOVECOT)
        };
        cmd.arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().expect("dup stderr.log"))
            .stderr(stderr);
        let child = cmd.spawn().expect("spawn dovecot");
        let mut dovecot = Dovecot {
            child,
            port,
            tls_port,
            dir,
        };

        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = dovecot.child.try_wait() {
                return Err(format!("dovecot exited with {status}\n{}", dovecot.log()));
            }
            if greeting(port, "* OK", "z LOGOUT") {
                return Ok(dovecot);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no `* OK` greeting on 127.0.0.1:{port} after 10 s\n{}",
                    dovecot.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Plain IMAP (STARTTLS capable).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Implicit TLS (IMAPS).
    pub fn tls_port(&self) -> u16 {
        self.tls_port
    }

    /// The CA certificate (PEM) that signed the server certificate (SAN localhost, 127.0.0.1).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn user(&self) -> &str {
        USER
    }

    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// Dovecot's log and stderr, for failure messages.
    pub fn log(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!(
            "--- dovecot.log ---\n{}--- stderr ---\n{}",
            read("dovecot.log"),
            read("stderr.log")
        )
    }

    /// A logged-in session over plain IMAP.
    fn session(&self) -> imap::Session<imap::Connection> {
        let client = imap::ClientBuilder::new("127.0.0.1", self.port)
            .mode(imap::ConnectionMode::Plaintext)
            .connect()
            .unwrap_or_else(|e| panic!("connect to dovecot: {e}\n{}", self.log()));
        client
            .login(USER, PASSWORD)
            .map_err(|(e, _)| e)
            .unwrap_or_else(|e| panic!("login to dovecot: {e}\n{}", self.log()))
    }

    /// Appends a raw RFC 5322 message to `mailbox` (no flags).
    pub fn append(&self, mailbox: &str, raw: &[u8]) {
        let mut session = self.session();
        session
            .append(mailbox, raw)
            .finish()
            .unwrap_or_else(|e| panic!("APPEND to {mailbox}: {e}\n{}", self.log()));
        let _ = session.logout();
    }

    /// All UIDs in `mailbox`, ascending.
    pub fn uids(&self, mailbox: &str) -> Vec<u32> {
        self.search(mailbox, "ALL")
    }

    /// UIDs in `mailbox` that have `\Seen`, ascending.
    pub fn seen_uids(&self, mailbox: &str) -> Vec<u32> {
        self.search(mailbox, "SEEN")
    }

    pub fn uidvalidity(&self, mailbox: &str) -> u32 {
        let mut session = self.session();
        let status = session
            .status(mailbox, "(UIDVALIDITY)")
            .unwrap_or_else(|e| panic!("STATUS {mailbox}: {e}\n{}", self.log()));
        let _ = session.logout();
        status.uid_validity.expect("UIDVALIDITY in STATUS response")
    }

    fn search(&self, mailbox: &str, query: &str) -> Vec<u32> {
        let mut session = self.session();
        // EXAMINE (read-only) so looking does not change \Recent or anything else.
        session
            .examine(mailbox)
            .unwrap_or_else(|e| panic!("EXAMINE {mailbox}: {e}\n{}", self.log()));
        let mut uids: Vec<u32> = session
            .uid_search(query)
            .unwrap_or_else(|e| panic!("UID SEARCH {query} in {mailbox}: {e}\n{}", self.log()))
            .into_iter()
            .collect();
        let _ = session.logout();
        uids.sort_unstable();
        uids
    }
}

impl Drop for Dovecot {
    /// SIGTERM the master and wait for it (about 1.1 s); SIGKILL if it takes over 10 s.
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id() as libc::pid_t;
        // With setpriv the child *is* Dovecot: setpriv execs it.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() > deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

/// Two distinct free loopback ports (both listeners are held until both are picked).
pub fn free_port_pair() -> (u16, u16) {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    (
        a.local_addr().expect("local addr").port(),
        b.local_addr().expect("local addr").port(),
    )
}

/// True once the server answers on `port` with a greeting that starts with `ok`
/// (`* OK` here, `220 ` for SMTP); then says `bye` (a command without its tag).
pub fn greeting(port: u16, ok: &str, bye: &str) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(500),
    ) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    let greeted = BufReader::new(&stream).read_line(&mut line).is_ok() && line.starts_with(ok);
    let _ = (&stream).write_all(format!("{bye}\r\n").as_bytes());
    greeted
}

/// CA + server certificate (SAN localhost, 127.0.0.1) in `dir`: ca.pem, server.pem, server.key.
pub fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // EC P-256 keys: much faster to generate than RSA, and fine for Dovecot and native-tls.
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &key[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3650",
                "-subj",
                "/CN=hd-test-CA",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &key[..],
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext.cnf");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "3650",
        "-extfile",
        "ext.cnf",
    ]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod server.key");
}

/// `nobody` when we are root (Dovecot's login processes refuse to run as root), else ourselves.
fn run_as() -> RunAs {
    // SAFETY: getpwnam/getpwuid/getgrgid return pointers into static storage that we copy out
    // of at once; tests calling this concurrently only ever read the same entries.
    unsafe {
        let root = libc::geteuid() == 0;
        let pw = if root {
            libc::getpwnam(c"nobody".as_ptr())
        } else {
            libc::getpwuid(libc::geteuid())
        };
        assert!(!pw.is_null(), "no passwd entry for the Dovecot user");
        let uid = (*pw).pw_uid;
        let gid = if root { (*pw).pw_gid } else { libc::getegid() };
        let user = CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned();
        let gr = libc::getgrgid(gid);
        let group = if gr.is_null() {
            gid.to_string()
        } else {
            CStr::from_ptr((*gr).gr_name).to_string_lossy().into_owned()
        };
        RunAs {
            uid,
            gid,
            user,
            group,
            drop_privileges: root,
        }
    }
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir") {
            chown_tree(&entry.expect("dir entry").path(), uid, gid);
        }
    }
}

fn message(id: &str) -> Vec<u8> {
    format!(
        "From: Carol <carol@corp.example>\r\nTo: help@corp.example\r\nSubject: Printer on fire\r\n\
         Message-ID: <{id}@corp.example>\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\n\r\nIt is on fire.\r\n"
    )
    .into_bytes()
}

#[test]
fn append_then_list_uids() {
    let server = Dovecot::start();
    server.append("INBOX", &message("m1"));
    server.append("INBOX", &message("m2"));
    assert_eq!(server.uids("INBOX").len(), 2, "{}", server.log());
    assert!(server.seen_uids("INBOX").is_empty());
    assert!(server.uids("Archive").is_empty());
    assert!(server.uids("Processed").is_empty());
    assert_ne!(server.uidvalidity("INBOX"), 0);
}

#[test]
fn implicit_tls_with_test_ca() {
    let server = Dovecot::start();
    let pem = std::fs::read(server.ca_file()).expect("read CA");
    let ca = native_tls::Certificate::from_pem(&pem).expect("parse CA");
    let connector = native_tls::TlsConnector::builder()
        .add_root_certificate(ca)
        .build()
        .expect("TLS connector");
    let tcp = TcpStream::connect(("127.0.0.1", server.tls_port())).expect("connect IMAPS");
    let tls = connector.connect("localhost", tcp).expect("TLS handshake");
    let mut client = imap::Client::new(tls);
    client.read_greeting().expect("greeting");
    let mut session = client
        .login(server.user(), server.password())
        .map_err(|(e, _)| e)
        .expect("login");
    let inbox = session.select("INBOX").expect("SELECT INBOX");
    assert_eq!(inbox.exists, 0);
    session.logout().expect("logout");
}

//! The YAML config: the directory of people and services, settings and saved views.
//!
//! Loading is strict (unknown keys are errors) and every error names the file and,
//! where it can be found, the line and column.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::model::choices::or_list;
use crate::model::sla::{self, Calendar, Plan, Target};
use crate::model::Priority;

/// File name looked for in the current directory, and written by `postdesk init`.
pub const FILE_NAME: &str = "postdesk.yaml";

/// The whole config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub services: Vec<Service>,
    /// Custom ticket fields and their types.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    /// Saved `ticket list` filters, used with `--view NAME`.
    #[serde(default)]
    pub views: Vec<View>,
    /// How mail becomes tickets.
    #[serde(default)]
    pub ingest: IngestSettings,
    /// IMAP accounts polled by `postdesk ingest imap`.
    #[serde(default)]
    pub imap: Vec<ImapAccount>,
    /// How mail leaves postdesk; none: outgoing mail waits in the outbox.
    #[serde(default)]
    pub mail_out: Option<MailOut>,
    /// How the outbox retries mail.
    #[serde(default)]
    pub outbox: OutboxSettings,
    /// Working hours and holidays that services' service levels count in.
    #[serde(default)]
    pub calendars: Vec<CalendarDef>,
    /// Automatic replies (template `acknowledge`) to mail that opens a ticket.
    #[serde(default)]
    pub auto_reply: AutoReplySettings,
    /// Where the file was read from; relative paths inside it are relative to its directory.
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Database directory; relative to the config file's directory.
    pub db: Option<PathBuf>,
    /// The text between `[` and the number in subject tags: `#` gives `[#42]`.
    #[serde(default = "default_subject_prefix")]
    pub subject_prefix: String,
    /// IANA time zone for tables and bare dates; the system's when unset.
    pub timezone: Option<String>,
    /// The service new tickets go to when none is given.
    pub default_service: Option<String>,
    /// Rule files (`*.yaml`), relative to the config file [default: rules].
    pub rules_dir: Option<PathBuf>,
    /// Handlebars templates (`NAME.hbs`), relative to the config file [default: templates].
    pub templates_dir: Option<PathBuf>,
    /// Days a requester has to approve or reject a closing; no answer counts as
    /// approved [default: 7].
    #[serde(default = "default_approval_days")]
    pub approval_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            db: None,
            subject_prefix: default_subject_prefix(),
            timezone: None,
            default_service: None,
            rules_dir: None,
            templates_dir: None,
            approval_days: default_approval_days(),
        }
    }
}

fn default_approval_days() -> u32 {
    7
}

fn default_subject_prefix() -> String {
    "#".to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub login: String,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub admin: bool,
    /// The Unix login that is this user, when it differs from `login`.
    #[serde(default)]
    pub unix_login: Option<String>,
    /// Which tickets' news this user gets by mail (see [`Monitoring`]).
    #[serde(default)]
    pub monitoring: Monitoring,
}

/// How much a user hears of a kind of ticket: `never`, `creation` (a new ticket,
/// or one transferred in), or `always` (every action by someone else).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Never,
    Creation,
    Always,
}

/// A user's `monitoring:`: the level for each kind of ticket, and per-service
/// overrides. Default: `creation` for the services they manage, `never` for their
/// categories, `always` for what they hold.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Any ticket of a service the user manages.
    #[serde(default = "level_creation")]
    pub service: Level,
    /// Tickets whose category is one of `my_categories`.
    #[serde(default = "level_never")]
    pub categories: Level,
    /// Tickets the user holds (assigned to them, or to a group they are in).
    #[serde(default = "level_always")]
    pub held: Level,
    /// The categories `categories` is about (names, as in `services[].categories`).
    #[serde(default)]
    pub my_categories: Vec<String>,
    /// Levels for one service, by its name: each key left out keeps the level above.
    #[serde(default)]
    pub services: BTreeMap<String, MonitoringOverride>,
}

/// One service's levels in a user's `monitoring.services`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringOverride {
    pub service: Option<Level>,
    pub categories: Option<Level>,
    pub held: Option<Level>,
}

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            service: Level::Creation,
            categories: Level::Never,
            held: Level::Always,
            my_categories: Vec::new(),
            services: BTreeMap::new(),
        }
    }
}

impl Monitoring {
    /// The (service, categories, held) levels on a ticket of `service`.
    pub fn levels(&self, service: Option<&str>) -> (Level, Level, Level) {
        let o = service.and_then(|s| self.services.get(s));
        let pick = |f: fn(&MonitoringOverride) -> Option<Level>, base: Level| {
            o.and_then(f).unwrap_or(base)
        };
        (
            pick(|o| o.service, self.service),
            pick(|o| o.categories, self.categories),
            pick(|o| o.held, self.held),
        )
    }
}

fn level_creation() -> Level {
    Level::Creation
}
fn level_never() -> Level {
    Level::Never
}
fn level_always() -> Level {
    Level::Always
}

/// The `auto_reply:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoReplySettings {
    /// Send the `acknowledge` mail to the requester of a ticket opened by mail.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// At most this many automatic replies to one sender per day (UTC).
    #[serde(default = "default_per_sender")]
    pub per_sender: u32,
}

impl Default for AutoReplySettings {
    fn default() -> Self {
        AutoReplySettings {
            enabled: true,
            per_sender: default_per_sender(),
        }
    }
}

fn default_per_sender() -> u32 {
    3
}

fn default_true() -> bool {
    true
}

impl User {
    /// The Unix login that acts as this user: `unix_login`, else `login`.
    pub fn unix_identity(&self) -> &str {
        self.unix_login.as_deref().unwrap_or(&self.login)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Logins of the people in charge of the service.
    #[serde(default)]
    pub managers: Vec<String>,
    /// Addresses that follow every ticket of the service.
    #[serde(default)]
    pub guests: Vec<String>,
    /// `login`, `@group` or `none`.
    #[serde(default)]
    pub default_assignee: Option<String>,
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Support addresses whose mail goes to this service.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Service levels: how soon its tickets are answered and resolved.
    #[serde(default)]
    pub sla: Option<SlaDef>,
    /// `sla` built when the config loads.
    #[serde(skip)]
    levels: Option<Levels>,
}

/// A calendar of working hours for service levels.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    pub name: String,
    /// IANA time zone [default: settings.timezone, else the system's].
    pub timezone: Option<String>,
    /// A day or days (`mon`, `mon-fri`) to a range (`09:00-17:00`) or a list of them.
    #[serde(default)]
    pub hours: BTreeMap<String, Ranges>,
    /// Dates (`2026-12-25`) without working time.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// `"09:00-17:00"`, `"09:00-12:00, 13:00-17:00"` or a list of ranges.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Ranges {
    One(String),
    Many(Vec<String>),
}

impl Ranges {
    fn each(&self) -> Vec<&str> {
        match self {
            Ranges::One(text) => text.split(',').map(str::trim).collect(),
            Ranges::Many(list) => list.iter().map(|r| r.trim()).collect(),
        }
    }
}

/// A service's `sla:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaDef {
    /// The name of one of `calendars`; none: time runs around the clock.
    pub calendar: Option<String>,
    #[serde(default)]
    pub targets: Targets,
}

/// Targets per priority; a priority without any has no due times.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub low: Option<TargetDef>,
    pub medium: Option<TargetDef>,
    pub high: Option<TargetDef>,
    pub urgent: Option<TargetDef>,
}

/// Durations of business time from a ticket's creation (`4h`, `2h30m`; days only
/// without a calendar).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDef {
    /// Until the first response.
    pub response: Option<String>,
    /// Until it is closed.
    pub resolution: Option<String>,
}

/// A service's service levels as built at load: its calendar and the targets of
/// each priority (in `Priority::ALL` order).
#[derive(Debug)]
struct Levels {
    calendar: Calendar,
    targets: [Target; 4],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub name: String,
    #[serde(default)]
    pub template: Option<TicketTemplate>,
}

/// What a new ticket of a category starts with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketTemplate {
    pub subject: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    #[serde(default)]
    pub choices: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Choice,
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Choice => "choice",
        })
    }
}

/// An IMAP account to poll.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapAccount {
    pub name: String,
    pub host: String,
    /// Default: 993 for implicit TLS, else 143.
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: Tls,
    /// A CA certificate (PEM) to trust, for a server with a private CA.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate: for test servers only.
    #[serde(default)]
    pub insecure: bool,
    pub user: String,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_command: Option<String>,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// What happens on the server once messages are stored.
    #[serde(default)]
    pub after: AfterFetch,
    /// Messages fetched and stored per batch.
    #[serde(default = "default_imap_batch")]
    pub batch: usize,
}

impl ImapAccount {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            Tls::Implicit => 993,
            _ => 143,
        })
    }
}

fn default_mailbox() -> String {
    "INBOX".to_string()
}

fn default_imap_batch() -> usize {
    200
}

/// How to secure an IMAP connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    #[default]
    Implicit,
    Starttls,
    /// Plain text: allowed only to a loopback host.
    None,
}

/// `mark-seen`, `delete`, or `{move: FOLDER}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AfterFetch {
    #[default]
    MarkSeen,
    Move(String),
    Delete,
}

impl<'de> Deserialize<'de> for AfterFetch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Spec {
            Word(String),
            Move {
                #[serde(rename = "move")]
                folder: String,
            },
        }
        match Spec::deserialize(d)? {
            Spec::Word(w) if w == "mark-seen" => Ok(AfterFetch::MarkSeen),
            Spec::Word(w) if w == "delete" => Ok(AfterFetch::Delete),
            Spec::Word(w) => Err(serde::de::Error::custom(format!(
                "unknown after-fetch action '{w}', expected mark-seen, delete or {{move: FOLDER}}"
            ))),
            Spec::Move { folder } => Ok(AfterFetch::Move(folder)),
        }
    }
}

/// The `mail_out:` section: the transport outgoing mail is handed to.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "transport", rename_all = "lowercase", deny_unknown_fields)]
pub enum MailOut {
    /// A sendmail-compatible command, run as
    /// `COMMAND ARGS... -i -f ENVELOPE -- RECIPIENT`.
    Sendmail {
        #[serde(default = "default_sendmail")]
        command: PathBuf,
        /// Fixed arguments before ours, e.g. `[-C, /etc/postfix-out]`.
        #[serde(default)]
        args: Vec<String>,
        /// How long the command may run before it (and what it started) is killed
        /// and the attempt counts as a temporary failure, in seconds; written `30s`.
        #[serde(
            default = "default_sendmail_timeout",
            deserialize_with = "timeout_seconds"
        )]
        timeout: i64,
    },
    /// SMTP submission to a relay.
    Smtp {
        host: String,
        /// Default: 465 for implicit TLS, else 587.
        port: Option<u16>,
        #[serde(default = "default_smtp_tls")]
        tls: Tls,
        /// A CA certificate (PEM) to trust, for a relay with a private CA.
        ca_file: Option<PathBuf>,
        user: Option<String>,
        password_env: Option<String>,
        password_file: Option<PathBuf>,
        password_command: Option<String>,
        /// How long connecting and each answer of the relay may take before the
        /// attempt counts as a temporary failure, in seconds; written `30s`.
        #[serde(default = "default_smtp_timeout", deserialize_with = "timeout_seconds")]
        timeout: i64,
    },
    /// Files in a Maildir (relative to the config file): for tests and dry runs.
    Maildir { path: PathBuf },
}

/// The `outbox:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// How long mail that keeps failing for now (a full disk, an MTA that is down)
    /// is retried before it is given up, in seconds; written `3d`, `12h`, `90m`.
    #[serde(
        default = "default_outbox_max_age",
        deserialize_with = "duration_seconds"
    )]
    pub max_age: i64,
    /// The bounce mailbox (`bounces@example.org`): each message's envelope sender
    /// is `LOCAL+TOKEN@DOMAIN` of it (VERP, see `mail::verp`); none: `bounces@` the
    /// domain of the sending service's address. The MTA must deliver
    /// `LOCAL+anything@DOMAIN` to `postdesk ingest`.
    #[serde(default, deserialize_with = "bounce_address")]
    pub bounce_address: Option<String>,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            max_age: default_outbox_max_age(),
            bounce_address: None,
        }
    }
}

impl OutboxSettings {
    /// The bounce mailbox of mail sent from `from` (a service's address).
    pub fn bounce_mailbox(&self, from: &str) -> String {
        match &self.bounce_address {
            Some(address) => address.clone(),
            None => format!("bounces@{}", crate::mail::compose::domain_of(from)),
        }
    }
}

fn bounce_address<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    crate::mail::verp::check_mailbox(&text).map_err(serde::de::Error::custom)?;
    Ok(Some(text.to_ascii_lowercase()))
}

fn default_outbox_max_age() -> i64 {
    3 * 86400
}

/// A duration as people type it (`3d`, `12h`, `2h30m`), in seconds (a day is 24 h).
pub fn parse_duration_seconds(text: &str) -> std::result::Result<i64, String> {
    let bad = || format!("'{text}' is not a duration such as 3d, 12h, 2h30m or 90s");
    let span: jiff::Span = text.trim().parse().map_err(|_| bad())?;
    let seconds = span
        .total((
            jiff::Unit::Second,
            jiff::SpanRelativeTo::days_are_24_hours(),
        ))
        .map_err(|_| bad())?;
    if seconds < 0.0 {
        return Err(format!("'{text}' must not be negative"));
    }
    Ok(seconds as i64)
}

fn duration_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration_seconds(&text).map_err(serde::de::Error::custom)
}

/// A transport's timeout: a duration of at least a second.
fn timeout_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    let seconds = duration_seconds(d)?;
    if seconds < 1 {
        return Err(serde::de::Error::custom("a timeout must be at least 1s"));
    }
    Ok(seconds)
}

fn default_sendmail_timeout() -> i64 {
    120
}

fn default_smtp_timeout() -> i64 {
    60
}

fn default_sendmail() -> PathBuf {
    PathBuf::from("/usr/sbin/sendmail")
}

fn default_smtp_tls() -> Tls {
    Tls::Starttls
}

/// The `ingest:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    /// The X-Loop value postdesk puts on its mail and drops when it comes back.
    #[serde(default = "default_loop_id")]
    pub loop_id: String,
    /// Cc'd addresses of a new request follow its ticket: those in the requester's
    /// domain or in `cc_followers_domains`, or any when the mail is authenticated.
    #[serde(default = "yes")]
    pub cc_followers: bool,
    /// Domains whose Cc'd addresses follow a new request whoever sent it.
    #[serde(default)]
    pub cc_followers_domains: Vec<String>,
    /// The authserv-id of the admin's own mail server: its topmost
    /// `Authentication-Results` header is believed about the From domain.
    #[serde(default)]
    pub trusted_authserv_id: Option<String>,
    /// Believe every From (a closed network where nobody can forge one).
    #[serde(default)]
    pub trust_from: bool,
    /// A reply from the requester or a follower reopens a pending or closed ticket.
    #[serde(default = "yes")]
    pub reopen_on_reply: bool,
    /// Auto-replies, bounces and list mail make no tickets (they are still kept).
    #[serde(default = "yes")]
    pub ignore_automatic: bool,
    /// Senders to ignore: a domain (`example.com`) or an address.
    #[serde(default)]
    pub ignore_senders: Vec<String>,
    /// Subjects to ignore: regular expressions.
    #[serde(default)]
    pub ignore_subjects: Vec<String>,
    /// Bytes: a larger message is quarantined with the reason, never parsed.
    #[serde(default = "default_max_message_size")]
    pub max_message_size: u64,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            loop_id: default_loop_id(),
            cc_followers: true,
            cc_followers_domains: Vec::new(),
            trusted_authserv_id: None,
            trust_from: false,
            reopen_on_reply: true,
            ignore_automatic: true,
            ignore_senders: Vec::new(),
            ignore_subjects: Vec::new(),
            max_message_size: default_max_message_size(),
        }
    }
}

/// 32 MiB: above the usual limits of mail servers (Postfix: 10 MB), and small enough
/// that a bulk import of such messages stays under 200 MB of memory.
fn default_max_message_size() -> u64 {
    32 << 20
}

fn default_loop_id() -> String {
    "postdesk".to_string()
}

fn yes() -> bool {
    true
}

/// A saved listing: the same filters as `ticket list` flags.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    pub name: String,
    #[serde(default)]
    pub status: Vec<String>,
    #[serde(default)]
    pub priority: Vec<String>,
    pub assignee: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
    #[serde(default)]
    pub tag: Vec<String>,
    pub customer: Option<String>,
    pub search: Option<String>,
    pub created_since: Option<String>,
    pub created_until: Option<String>,
    pub updated_since: Option<String>,
    /// Only tickets past a due time of their service levels.
    #[serde(default)]
    pub overdue: bool,
    /// Only tickets with a due time within this long from now (`4h`, `2d`), overdue ones included.
    pub due_within: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub columns: Option<String>,
}

/// The config could not be found, read or accepted; the text says which file, line
/// and field. `cli::exit` reads the kind off this type.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct ConfigError(pub anyhow::Error);

impl Config {
    /// Finds the config file: the explicit path (flag or `POSTDESK_CONFIG`), then
    /// `./postdesk.yaml`, then `$XDG_CONFIG_HOME/postdesk/config.yaml` (or under `~/.config`).
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
        if let Some(path) = explicit {
            return Ok(path.to_path_buf());
        }
        let mut tried = vec![PathBuf::from(FILE_NAME)];
        if let Some(dir) = xdg_dir("XDG_CONFIG_HOME", ".config") {
            tried.push(dir.join("postdesk").join("config.yaml"));
        }
        if let Some(found) = tried.iter().find(|p| p.is_file()) {
            return Ok(found.clone());
        }
        let list: Vec<_> = tried.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "no config file found (looked for {}); run `postdesk init` or pass --config",
            list.join(", ")
        )
    }

    /// Reads, parses and checks the config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Config::parse(&text, path)
    }

    /// Parses config text; `path` is only used to name the file in errors and to resolve paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            crate::yaml_guard::Budget::default()
                .check(text)
                .map_err(|r| anyhow::anyhow!("{}:{}:{}: {r}", path.display(), r.line, r.column))?;
            serde_yaml::from_str(text).map_err(|e| yaml_error(path, &e))?
        };
        config.path = path.to_path_buf();
        config
            .validate()
            .and_then(|()| config.build_levels())
            .map_err(|e| locate_problem(path, text, e))?;
        Ok(config)
    }

    /// The directory holding the config file: the base of relative paths in it.
    pub fn dir(&self) -> PathBuf {
        // Empty for a config in the current directory, so paths print as `rules/x.yaml`.
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The rules directory.
    pub fn rules_dir(&self) -> PathBuf {
        self.dir().join(
            self.settings
                .rules_dir
                .as_deref()
                .unwrap_or(Path::new("rules")),
        )
    }

    /// The templates directory.
    pub fn templates_dir(&self) -> PathBuf {
        self.dir().join(
            self.settings
                .templates_dir
                .as_deref()
                .unwrap_or(Path::new("templates")),
        )
    }

    pub fn user(&self, login: &str) -> Option<&User> {
        self.users.iter().find(|u| u.login == login)
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The service a support address belongs to.
    pub fn service_for_address(&self, address: &str) -> Option<&Service> {
        self.services
            .iter()
            .find(|s| s.addresses.iter().any(|a| a.eq_ignore_ascii_case(address)))
    }

    /// The user a Unix login acts as (see [`User::unix_identity`]).
    pub fn user_for_unix_login(&self, unix_login: &str) -> Option<&User> {
        self.users.iter().find(|u| u.unix_identity() == unix_login)
    }

    /// The agent whose address this is.
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    pub fn view(&self, name: &str) -> Option<&View> {
        self.views.iter().find(|v| v.name == name)
    }

    /// The service tickets go to when none is named: the configured default, else the first.
    pub fn default_service(&self) -> Option<&Service> {
        match &self.settings.default_service {
            Some(name) => self.service(name),
            None => self.services.first(),
        }
    }

    /// Checks that an assignee (`login`, `@group`, `none`) names someone in the directory.
    pub fn check_assignee(&self, spec: &str) -> std::result::Result<(), String> {
        self.check_assignee_or(spec, &[])
    }

    /// [`Config::check_assignee`] for a caller that also takes the words `also`
    /// (such as `me`, which it resolves itself): the error lists every login,
    /// group, `none` and those words.
    pub fn check_assignee_or(&self, spec: &str, also: &[&str]) -> std::result::Result<(), String> {
        use crate::model::Assignee;
        let unknown = match Assignee::parse(spec) {
            Assignee::Nobody => return Ok(()),
            Assignee::User(u) if self.user(&u).is_some() => return Ok(()),
            Assignee::Group(g) if self.group(&g).is_some() => return Ok(()),
            Assignee::User(u) => format!("unknown user '{u}'"),
            Assignee::Group(g) => format!("unknown group '@{g}'"),
        };
        let mut choices: Vec<String> = self.users.iter().map(|u| u.login.clone()).collect();
        choices.extend(self.groups.iter().map(|g| format!("@{}", g.name)));
        choices.push("none".into());
        choices.extend(also.iter().map(|w| w.to_string()));
        Err(format!("{unknown} (expected {})", or_list(&choices)))
    }

    /// What a ticket of `service` with `priority` is held to: None when the service
    /// has no `sla` or no target for the priority.
    pub fn sla_plan(&self, service: Option<&str>, priority: Priority) -> Option<Plan<'_>> {
        let levels = self.service(service?)?.levels.as_ref()?;
        let at = Priority::ALL.iter().position(|p| *p == priority)?;
        let target = levels.targets[at];
        (target != Target::default()).then_some(Plan {
            calendar: &levels.calendar,
            target,
        })
    }

    /// Builds the calendars and each service's service levels, checking them.
    fn build_levels(&mut self) -> std::result::Result<(), Problem> {
        unique(self.calendars.iter().map(|c| c.name.as_str()), "calendar")?;
        let mut calendars = BTreeMap::new();
        for def in &self.calendars {
            calendars.insert(def.name.as_str(), self.build_calendar(def)?);
        }
        let mut built = Vec::new();
        for service in &self.services {
            let Some(def) = &service.sla else {
                built.push(None);
                continue;
            };
            let at = |e: String| format!("service '{}': sla: {e}", service.name);
            let calendar = match &def.calendar {
                None => Calendar::always(),
                Some(name) => calendars.get(name.as_str()).cloned().ok_or_else(|| {
                    let known: Vec<&str> = calendars.keys().copied().collect();
                    let expected = match known.is_empty() {
                        true => "the config has no calendars".to_string(),
                        false => format!("expected {}", or_list(&known)),
                    };
                    Problem::new(name, at(format!("unknown calendar '{name}' ({expected})")))
                        .in_item(&service.name)
                })?,
            };
            let around_the_clock = def.calendar.is_none();
            let t = &def.targets;
            let mut targets = [Target::default(); 4];
            for (slot, (priority, def)) in targets.iter_mut().zip([
                ("low", &t.low),
                ("medium", &t.medium),
                ("high", &t.high),
                ("urgent", &t.urgent),
            ]) {
                let Some(def) = def else { continue };
                let seconds = |what: &str, text: &Option<String>| {
                    let Some(text) = text else { return Ok(None) };
                    target_seconds(text, around_the_clock)
                        .map(Some)
                        .map_err(|e| {
                            Problem::new(text, at(format!("targets: {priority}: {what}: {e}")))
                                .in_item(&service.name)
                        })
                };
                *slot = Target {
                    response: seconds("response", &def.response)?,
                    resolution: seconds("resolution", &def.resolution)?,
                };
            }
            built.push(Some(Levels { calendar, targets }));
        }
        for (service, levels) in self.services.iter_mut().zip(built) {
            service.levels = levels;
        }
        Ok(())
    }

    /// A calendar of `calendars:`, checked.
    fn build_calendar(&self, def: &CalendarDef) -> std::result::Result<Calendar, Problem> {
        let at = |e: String| format!("calendar '{}': {e}", def.name);
        let problem = |needle: &str, e: String| Problem::new(needle, at(e)).in_item(&def.name);
        let tz = match def
            .timezone
            .as_deref()
            .or(self.settings.timezone.as_deref())
        {
            Some(name) => time_zone(name)
                .map_err(|_| problem(name, format!("timezone: unknown time zone '{name}'")))?,
            None => jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC),
        };
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        let mut given: [Option<&str>; 7] = [None; 7];
        for (key, ranges) in &def.hours {
            let days = sla::parse_days(key).map_err(|e| problem(key, format!("hours: {e}")))?;
            for day in days {
                if let Some(first) = given[day].replace(key) {
                    let twice =
                        format!("hours: {} is in both {first} and {key}", sla::WEEKDAYS[day]);
                    return Err(problem(key, twice));
                }
                for range in ranges.each() {
                    let range = sla::parse_range(range)
                        .map_err(|e| problem(range, format!("hours: {key}: {e}")))?;
                    week[day].push(range);
                }
            }
        }
        let holidays = def
            .holidays
            .iter()
            .map(|d| {
                d.trim().parse::<jiff::civil::Date>().map_err(|_| {
                    problem(
                        d,
                        format!("holidays: '{d}' is not a date such as 2026-12-25"),
                    )
                })
            })
            .collect::<std::result::Result<BTreeSet<_>, _>>()?;
        Calendar::new(tz, week, holidays).map_err(|e| problem(&def.name, e))
    }

    fn validate(&self) -> std::result::Result<(), Problem> {
        unique(self.users.iter().map(|u| u.login.as_str()), "user")?;
        unique(self.users.iter().map(User::unix_identity), "unix_login")?;
        unique(self.groups.iter().map(|g| g.name.as_str()), "group")?;
        unique(self.services.iter().map(|s| s.name.as_str()), "service")?;
        unique(self.fields.iter().map(|f| f.name.as_str()), "field")?;
        unique(self.views.iter().map(|v| v.name.as_str()), "view")?;
        for group in &self.groups {
            for member in &group.members {
                if self.user(member).is_none() {
                    return Err(Problem::new(
                        member,
                        format!("group '{}': unknown member '{member}'", group.name),
                    ));
                }
            }
        }
        for service in &self.services {
            for manager in &service.managers {
                if self.user(manager).is_none() {
                    return Err(Problem::new(
                        manager,
                        format!("service '{}': unknown manager '{manager}'", service.name),
                    ));
                }
            }
            if let Some(assignee) = &service.default_assignee {
                self.check_assignee(assignee).map_err(|e| {
                    Problem::new(
                        assignee,
                        format!("service '{}': default_assignee: {e}", service.name),
                    )
                })?;
            }
            unique(
                service.categories.iter().map(|c| c.name.as_str()),
                "category",
            )?;
        }
        for user in &self.users {
            for name in user.monitoring.services.keys() {
                if self.service(name).is_none() {
                    return Err(Problem::new(
                        name,
                        format!(
                            "user '{}': monitoring.services: unknown service '{name}'",
                            user.login
                        ),
                    ));
                }
            }
        }
        if let Some(name) = &self.settings.default_service {
            if self.service(name).is_none() {
                return Err(Problem::new(
                    name,
                    format!("settings.default_service: unknown service '{name}'"),
                ));
            }
        }
        if let Some(tz) = &self.settings.timezone {
            time_zone(tz).map_err(|_| {
                Problem::new(tz, format!("settings.timezone: unknown time zone '{tz}'"))
            })?;
        }
        unique(self.imap.iter().map(|a| a.name.as_str()), "IMAP account")?;
        for account in &self.imap {
            if account.tls == Tls::None && !is_loopback(&account.host) {
                return Err(Problem::new(
                    &account.host,
                    format!(
                        "imap '{}': tls: none sends the password in clear; it is allowed only to localhost",
                        account.name
                    ),
                ));
            }
            let sources = password_sources(
                &account.password_env,
                &account.password_file,
                &account.password_command,
            );
            if sources != 1 {
                return Err(Problem::new(
                    &account.name,
                    format!(
                        "imap '{}': give exactly one of password_env, password_file, password_command",
                        account.name
                    ),
                ));
            }
        }
        if let Some(MailOut::Smtp {
            host,
            tls,
            user,
            password_env,
            password_file,
            password_command,
            ..
        }) = &self.mail_out
        {
            if *tls == Tls::None && !is_loopback(host) {
                return Err(Problem::new(
                    host,
                    "mail_out: tls: none sends mail and passwords in clear; it is allowed only \
                     to localhost (use starttls or implicit)"
                        .into(),
                ));
            }
            let sources = password_sources(password_env, password_file, password_command);
            match user {
                Some(user) if sources != 1 => {
                    return Err(Problem::new(
                        user,
                        "mail_out: with user, give exactly one of password_env, password_file, \
                         password_command"
                            .into(),
                    ))
                }
                None if sources != 0 => {
                    return Err(Problem::new(
                        "mail_out",
                        "mail_out: a password without user: add user, or remove the password"
                            .into(),
                    ))
                }
                _ => {}
            }
        }
        for pattern in &self.ingest.ignore_subjects {
            regex::Regex::new(pattern).map_err(|e| {
                Problem::new(pattern, format!("ingest.ignore_subjects: bad regex: {e}"))
            })?;
        }
        for field in &self.fields {
            if field.kind == FieldKind::Choice && field.choices.is_empty() {
                return Err(Problem::new(
                    &field.name,
                    format!(
                        "field '{}': type choice needs a list of choices",
                        field.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Whether plain text to `host` stays on this machine.
pub fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

/// How many of the three password sources are given.
fn password_sources(
    env: &Option<String>,
    file: &Option<PathBuf>,
    command: &Option<String>,
) -> usize {
    [env.is_some(), file.is_some(), command.is_some()]
        .iter()
        .filter(|s| **s)
        .count()
}

/// A semantic error plus the text to look for to find its line.
struct Problem {
    needle: String,
    message: String,
    /// The text of the line that starts the offending item (`name: it`): the
    /// needle is looked for from there on.
    after: Option<String>,
}

impl Problem {
    fn new(needle: &str, message: String) -> Problem {
        Problem {
            needle: needle.to_string(),
            message,
            after: None,
        }
    }

    /// The problem is in the list item named `name`: its line is the first with
    /// the needle after the line `name: NAME`.
    fn in_item(mut self, name: &str) -> Problem {
        self.after = Some(format!("name: {name}"));
        self
    }
}

fn unique<'a>(
    names: impl Iterator<Item = &'a str>,
    what: &str,
) -> std::result::Result<(), Problem> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(Problem::new(name, format!("duplicate {what} '{name}'")));
        }
    }
    Ok(())
}

/// Names the line of a semantic error: the last line mentioning the offending value,
/// or the first after the start of its item.
fn locate_problem(path: &Path, text: &str, problem: Problem) -> anyhow::Error {
    let has = |l: &str, needle: &str| {
        let code = l.split(" #").next().unwrap_or(l);
        code.contains(needle)
    };
    let lines = || text.lines().enumerate();
    let item = problem.after.as_deref().and_then(|after| {
        let start = lines().find(|(_, l)| has(l, after))?.0;
        lines()
            .skip(start)
            .find(|(_, l)| has(l, &problem.needle))
            .map(|(i, _)| i + 1)
    });
    let line = item.or_else(|| {
        lines()
            .filter(|(_, l)| has(l, &problem.needle))
            .map(|(i, _)| i + 1)
            .last()
    });
    match line {
        Some(n) => anyhow::anyhow!("{}:{n}: {}", path.display(), problem.message),
        None => anyhow::anyhow!("{}: {}", path.display(), problem.message),
    }
}

fn yaml_error(path: &Path, err: &serde_yaml::Error) -> anyhow::Error {
    let mut message = err.to_string();
    // serde_yaml appends " at line L column C"; we put the location first instead.
    if let Some(at) = message.find(" at line ") {
        message.truncate(at);
    }
    match err.location() {
        Some(loc) => anyhow::anyhow!(
            "{}:{}:{}: {message}",
            path.display(),
            loc.line(),
            loc.column()
        ),
        None => anyhow::anyhow!("{}: {message}", path.display()),
    }
}

/// Seconds of a service-level target: days only for a service without a calendar,
/// whose time runs around the clock (a working day is not 24 hours).
fn target_seconds(text: &str, around_the_clock: bool) -> std::result::Result<i64, String> {
    let (seconds, days) = crate::model::when::parse_duration(text)?;
    if days && !around_the_clock {
        return Err(format!(
            "'{text}': give business time in hours and minutes (a working day is not 24 hours)"
        ));
    }
    Ok(seconds)
}

/// `$VAR/...` when set and absolute, else `$HOME/fallback`; None without either.
pub fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(var).map(PathBuf::from) {
        if dir.is_absolute() {
            return Some(dir);
        }
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(fallback))
}

/// The `db:` of the top-level `settings:` block, read line by line without parsing
/// the rest, so mail can still be spooled when the file does not load (a tab, a
/// syntax error, a refused alias): the first `db:` line of the block, its value
/// plain or quoted, a ` #` comment dropped. None when there is none or it is empty.
pub fn scan_db_setting(text: &str) -> Option<String> {
    let mut lines = text.lines().skip_while(|l| {
        let key = l.split(" #").next().unwrap_or(l).trim_end();
        key != "settings:"
    });
    lines.next()?;
    let value = lines
        // The block ends at the next line that starts in column 0 (comments aside).
        .take_while(|l| l.is_empty() || l.starts_with([' ', '\t', '#']))
        .find_map(|l| l.trim_start().strip_prefix("db:"))?;
    let value = value.trim();
    // Quoted values with escapes (`''`, `\`) are left alone rather than misread.
    let value = match value.chars().next()? {
        '\'' => {
            Some(value[1..].split_once('\'')?)
                .filter(|(_, rest)| !rest.starts_with('\''))?
                .0
        }
        '"' => Some(value[1..].split_once('"')?.0).filter(|v| !v.contains('\\'))?,
        _ => value.split(" #").next()?.trim_end(),
    };
    (!value.is_empty()).then(|| value.to_string())
}

/// A time zone by IANA name. Reads that one zoneinfo file (under `TZDIR`, else
/// /usr/share/zoneinfo): jiff's database lists the whole zoneinfo tree on first use,
/// some 600 directory reads on every delivery. Falls back to jiff for anything else.
pub fn time_zone(name: &str) -> Result<jiff::tz::TimeZone, jiff::Error> {
    use jiff::tz::TimeZone;
    if name.eq_ignore_ascii_case("UTC") {
        return Ok(TimeZone::UTC);
    }
    let plain = !name.is_empty()
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if plain {
        let dir = std::env::var_os("TZDIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/share/zoneinfo"));
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            if let Ok(tz) = TimeZone::tzif(name, &bytes) {
                return Ok(tz);
            }
        }
    }
    TimeZone::get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_by_name() {
        assert_eq!(time_zone("utc").unwrap(), jiff::tz::TimeZone::UTC);
        assert_eq!(
            time_zone("Europe/Paris").unwrap().iana_name(),
            Some("Europe/Paris")
        );
        assert!(time_zone("Mars/Olympus").is_err());
        assert!(time_zone("../../etc/passwd").is_err());
    }

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("desk.yaml"))
    }

    #[test]
    fn a_typo_names_file_line_and_column() {
        let err = parse("users:\n  - login: a\n    name: A\n    emial: a@x\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("desk.yaml:4:5: "), "{msg}");
        assert!(msg.contains("emial"), "{msg}");
    }

    #[test]
    fn an_unknown_group_member_names_its_line() {
        let text = "users:\n  - {login: a, name: A, email: a@x}\ngroups:\n  - name: g\n    members: [a, bob]\n";
        let msg = parse(text).unwrap_err().to_string();
        assert_eq!(msg, "desk.yaml:5: group 'g': unknown member 'bob'");
    }

    #[test]
    fn the_db_setting_is_found_in_a_file_that_does_not_parse() {
        let scan = |text: &str| scan_db_setting(text);
        let broken = "users: [unclosed\nsettings: # the desk\n  timezone: UTC\n\tdb: /var/lib/desk  # here\n";
        assert_eq!(scan(broken).as_deref(), Some("/var/lib/desk"));
        assert_eq!(
            scan("settings:\n  db: 'my desk'\n").as_deref(),
            Some("my desk")
        );
        assert_eq!(
            scan("settings:\n  db: \"a#b\" # c\n").as_deref(),
            Some("a#b")
        );
        // Only the top-level settings block counts, and only until it ends.
        assert_eq!(
            scan("imap:\n  - db: x\nsettings:\n  timezone: UTC\nviews:\n  db: y\n"),
            None
        );
        assert_eq!(scan("settings:\n  db:\n"), None);
        assert_eq!(scan("settings:\n  db: 'it''s'\n"), None);
        assert_eq!(scan("db: x\n"), None);
    }

    const SLA: &str = "settings:\n  timezone: Europe/Paris\ncalendars:\n  - name: office\n    hours:\n      mon-fri: \"09:00-12:00, 13:00-17:00\"\n      sat: [\"09:00-12:00\"]\n    holidays: [2026-12-25]\nservices:\n  - name: it\n    sla:\n      calendar: office\n      targets:\n        urgent: {response: 1h, resolution: 4h}\n        high: {resolution: 2h30m}\n  - name: ops\n    sla:\n      targets:\n        low: {resolution: 2d}\n";

    #[test]
    fn service_levels_are_built_per_service_and_priority() {
        let config = parse(SLA).unwrap();
        let plan = config.sla_plan(Some("it"), Priority::Urgent).unwrap();
        assert_eq!(plan.target.response, Some(3600));
        assert_eq!(plan.target.resolution, Some(4 * 3600));
        let high = config.sla_plan(Some("it"), Priority::High).unwrap();
        assert_eq!(high.target.response, None);
        assert!(config.sla_plan(Some("it"), Priority::Low).is_none());
        assert!(config.sla_plan(None, Priority::Urgent).is_none());
        let ops = config.sla_plan(Some("ops"), Priority::Low).unwrap();
        assert_eq!(ops.target.resolution, Some(2 * 86400));
        // Friday 11:30 Paris + 1h: the lunch break does not count.
        let friday = 1_795_516_200; // 2026-11-27T10:30:00Z
        assert_eq!(plan.calendar.add(friday, 3600) - friday, 7200);
    }

    #[test]
    fn service_level_mistakes_name_their_line() {
        let cases = [
            ("calendar: office", "calendar: offic", "desk.yaml:12: service 'it': sla: unknown calendar 'offic' (expected office)"),
            ("urgent: {", "critical: {", "desk.yaml:14:9: services[0].sla.targets: unknown field `critical`, expected one of `low`, `medium`, `high`, `urgent`"),
            ("sat: [\"09:00-12:00\"]", "sat: [\"12:00-09:00\"]", "desk.yaml:7: calendar 'office': hours: sat: '12:00-09:00' ends before it starts"),
            ("sat: [", "mon: [", "desk.yaml:6: calendar 'office': hours: mon is in both mon and mon-fri"),
            ("low: {resolution: 2d}", "low: {resolution: soon}", "desk.yaml:19: service 'ops': sla: targets: low: resolution: 'soon' is not a duration: write it as 4h, 2h30m, 45m or 2d"),
            ("resolution: 2h30m", "resolution: 2d", "desk.yaml:15: service 'it': sla: targets: high: resolution: '2d': give business time in hours and minutes (a working day is not 24 hours)"),
            ("[2026-12-25]", "[christmas]", "desk.yaml:8: calendar 'office': holidays: 'christmas' is not a date such as 2026-12-25"),
        ];
        for (from, to, expected) in cases {
            let text = SLA.replacen(from, to, 1);
            let msg = parse(&text).unwrap_err().to_string();
            assert_eq!(msg, expected, "{to}");
        }
        let idle = "calendars:\n  - name: idle\n    hours: {}\n";
        assert_eq!(
            parse(idle).unwrap_err().to_string(),
            "desk.yaml:2: calendar 'idle': no working hours on any day: business time would never pass"
        );
    }

    #[test]
    fn an_empty_file_is_an_empty_directory() {
        let config = parse("").unwrap();
        assert!(config.users.is_empty());
        assert_eq!(config.settings.subject_prefix, "#");
    }

    #[test]
    fn mail_out_sendmail_takes_fixed_args() {
        let config =
            parse("mail_out:\n  transport: sendmail\n  args: [-C, /tmp/pf/etc]\n").unwrap();
        match config.mail_out {
            Some(MailOut::Sendmail {
                command,
                args,
                timeout,
            }) => {
                assert_eq!(command, Path::new("/usr/sbin/sendmail"));
                assert_eq!(args, ["-C", "/tmp/pf/etc"]);
                assert_eq!(timeout, 120);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mail_out_smtp_in_clear_only_to_loopback_and_passwords_only_with_a_user() {
        let err = parse("mail_out:\n  transport: smtp\n  host: mail.example.org\n  tls: none\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":3: mail_out: tls: none"), "{err}");
        parse("mail_out:\n  transport: smtp\n  host: 127.0.0.1\n  port: 2525\n  tls: none\n")
            .unwrap();
        let err = parse("mail_out:\n  transport: smtp\n  host: h.example\n  user: me\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("exactly one of password_env"), "{err}");
        let err = parse("mail_out:\n  transport: smtp\n  host: h.example\n  password_env: PW\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("a password without user"), "{err}");
        parse("mail_out:\n  transport: smtp\n  host: h.example\n  user: me\n  password_env: PW\n")
            .unwrap();
    }
}

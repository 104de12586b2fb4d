//! The command line: argument structs and printing. The work itself lives in `desk`.

mod completions;
mod customer;
mod doctor;
mod exchange;
pub mod exit;
mod export;
mod formula;
mod import;
mod import_csv;
mod ingest;
mod init;
mod json_text;
mod outbox;
pub mod output;
mod pending;
pub mod plural;
mod rule;
mod template;
mod terminal;
mod ticket;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::desk::Desk;
use crate::store::Teardown;
pub use output::Format;

/// The heading of the options every command shares (`global = true`): in `--help`
/// and the man pages they come after the command's own, apart from them.
const GLOBAL_OPTIONS: &str = "Global options";
/// After any command's own options (in this order), so that a man page's synopsis
/// lists them last too.
const GLOBAL_ORDER: usize = 1000;

/// A helpdesk that lives on the command line and in the mail system.
///
/// Mail becomes tickets (`postdesk ingest`), agents work them from the shell
/// (`postdesk ticket`) and YAML rules distribute them (`postdesk rule`).
/// Everything is stored in one embedded database. Digests (`postdesk report`) and
/// remote-support sessions (`postdesk session`) are not built yet.
///
/// Exit status: 0 ok, 1 error, 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "postdesk", version, max_term_width = 100)]
pub struct Cli {
    /// The config file [default: ./postdesk.yaml, then $XDG_CONFIG_HOME/postdesk/config.yaml]
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS, display_order = GLOBAL_ORDER, env = "POSTDESK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The database directory [default: `settings.db` of the config, then $XDG_DATA_HOME/postdesk/db]
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS, display_order = GLOBAL_ORDER + 1, env = "POSTDESK_DB", value_name = "DIR")]
    pub db: Option<PathBuf>,

    /// Act as this user (a login from the config; only an admin may act as another) [default: the user whose login or unix_login is your Unix login]
    #[arg(
        long = "as",
        global = true,
        help_heading = GLOBAL_OPTIONS,
        display_order = GLOBAL_ORDER + 2,
        env = "POSTDESK_USER",
        value_name = "LOGIN"
    )]
    pub as_user: Option<String>,

    /// How long to wait while another postdesk process holds the database (e.g. 30s, 500ms, 2m)
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS, display_order = GLOBAL_ORDER + 3, value_name = "DURATION", default_value = "30s", value_parser = parse_wait)]
    pub lock_wait: Duration,

    /// Output format of listings and `show`
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS, display_order = GLOBAL_ORDER + 4, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// `--format` was on the command line, not the default ([`parse`] sets it):
    /// `ingest` on stdin prints only when a format is asked for.
    #[arg(skip)]
    pub format_given: bool,

    /// With --format csv: write every cell exactly as stored, formulas too
    ///
    /// By default a CSV cell starting with =, +, -, @, a tab or a carriage return
    /// (other than a plain number such as -5) gets a leading ', so that a spreadsheet
    /// opening the file shows it as text instead of running it as a formula.
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS, display_order = GLOBAL_ORDER + 5)]
    pub csv_raw: bool,

    /// Send no notification of this action (rules' mail and auto-replies still go)
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS, display_order = GLOBAL_ORDER + 6)]
    pub no_notify: bool,

    /// Only queue the mail this command makes; `postdesk outbox send` (cron) sends it
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS, display_order = GLOBAL_ORDER + 7)]
    pub queue_only: bool,

    /// Print what would happen, and the mail it would send (headers and body); write nothing
    ///
    /// For the ticket actions and `ingest` (which then also changes nothing on an
    /// IMAP server).
    #[arg(long, global = true, help_heading = GLOBAL_OPTIONS, display_order = GLOBAL_ORDER + 8)]
    pub dry_run: bool,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starter config, example rules and a templates folder, and create the database
    Init(init::InitArgs),
    /// Turn mail into tickets (stdin, mbox, Maildir, the spool)
    Ingest(ingest::IngestArgs),
    /// Create, list, show and change tickets
    #[command(subcommand)]
    Ticket(ticket::TicketCommand),
    /// The people who wrote to the desk: their tickets, first and last contact
    #[command(subcommand)]
    Customer(customer::CustomerCommand),
    /// Outgoing mail: send what is due, list, show, retry, drop
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    Export(export::ExportArgs),
    Import(import::ImportArgs),
    /// List, check and test the YAML rules
    #[command(subcommand, long_about = rule::LONG_HELP)]
    Rule(rule::RuleCommand),
    /// List, show, render and check the mail templates
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Digests and statistics from templates (not built yet)
    Report(pending::PendingArgs),
    /// Remote-support sessions attached to tickets (not built yet)
    Session(pending::PendingArgs),
    /// Say what would stop a delivery or a command for a Unix user, and how to fix it
    Doctor(doctor::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(completions::CompletionsArgs),
}

/// The clap definition, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parses the process's command line.
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    // Global options given after the subcommand are propagated up with their source.
    cli.format_given =
        matches.value_source("format") == Some(clap::parser::ValueSource::CommandLine);
    Ok(cli)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    output::set_csv_raw(cli.csv_raw);
    let global = Global {
        config: cli.config,
        db: cli.db,
        as_user: cli.as_user,
        lock_wait: cli.lock_wait,
        format: cli.format,
        format_given: cli.format_given,
        mail_mode: crate::desk::notify::MailMode {
            notify: !cli.no_notify,
            queue_only: cli.queue_only,
            dry_run: cli.dry_run,
        },
        dry_run: cli.dry_run,
    };
    match cli.command {
        Command::Init(args) => init::run(args, &global),
        Command::Completions(args) => completions::run(args),
        Command::Doctor(args) => doctor::run(args, &global),
        Command::Ticket(cmd) => ticket::run(cmd, &global),
        Command::Customer(cmd) => customer::run(cmd, &global),
        Command::Outbox(cmd) => outbox::run(cmd, &global),
        Command::Export(args) => export::run(args, &global.desk()?, global.format),
        Command::Import(args) => import::run(args, &global.desk()?, global.format),
        Command::Ingest(args) => ingest::run(args, &global),
        Command::Rule(cmd) => rule::run(cmd, &global),
        Command::Template(cmd) => template::run(cmd, &global),
        Command::Report(_) => pending::run("report"),
        Command::Session(_) => pending::run("session"),
    }
}

pub use exit::TempFail;

/// Options every command shares.
pub struct Global {
    pub config: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub as_user: Option<String>,
    pub lock_wait: Duration,
    pub format: Format,
    /// `--format` was on the command line (not the default).
    pub format_given: bool,
    /// `--no-notify`, `--queue-only`, `--dry-run`.
    pub mail_mode: crate::desk::notify::MailMode,
    /// `--dry-run`.
    pub dry_run: bool,
}

impl Global {
    /// Loads the config and builds the desk for commands that need one.
    pub fn desk(&self) -> Result<Desk> {
        let desk = Config::locate(self.config.as_deref())
            .and_then(|path| {
                Config::load(&path).map_err(|e| crate::sharing::explain_denied(e, &path))
            })
            .and_then(|config| {
                Desk::new(
                    config,
                    self.db.clone(),
                    self.as_user.clone(),
                    self.lock_wait,
                    Teardown::AtExit,
                )
            })
            .map_err(|e| anyhow::Error::new(ConfigError(e)))?;
        let mut desk = desk;
        desk.mail_mode = self.mail_mode;
        crate::sharing::adopt(&desk.db_path)?;
        Ok(desk)
    }

    /// `--as`, then `POSTDESK_USER` (both via clap), then the login name.
    pub fn login(&self) -> String {
        self.as_user.clone().unwrap_or_else(whoami::username)
    }
}

fn parse_wait(text: &str) -> Result<Duration, String> {
    let d: jiff::SignedDuration = text
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (e.g. 30s, 500ms, 2m)"))?;
    Duration::try_from(d).map_err(|_| format!("'{text}' must not be negative"))
}

//! `postdesk outbox ...`: outgoing mail waiting, sent or given up on.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{self, Format};
use super::Global;
use crate::desk::bounce;
use crate::desk::outbox::{self, Sent};
use crate::desk::{now, Desk};
use crate::model::when::{iso_utc, local_short};
use crate::model::{OutboxEntry, OutboxState};

/// Send, list and manage outgoing mail
///
/// Every outgoing message is queued in the outbox, one entry per recipient, with
/// the change that caused it; `outbox send` (cron, every minute) sends what is
/// due. A temporary failure is retried after 1 min, 5 min, 15 min, 1 h, then every
/// 4 h, until `outbox.max_age` (default 3d); a permanent one, or the end of
/// `max_age`, fails the entry and records `mail-failed` on its ticket. Each
/// entry's envelope sender is its own VERP address (`bounces+o7-MAC@DOMAIN`): a
/// bounce to it, fed to `postdesk ingest`, is recorded on the ticket, and a
/// permanent one suppresses the address (`outbox suppressed`).
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    Send(SendArgs),
    List(ListArgs),
    Show(IdArgs),
    Retry(RetryArgs),
    Drop(DropArgs),
    Suppressed(SuppressedArgs),
    Suppress(SuppressArgs),
    Unsuppress(UnsuppressArgs),
}

/// List the suppressed addresses: no automatic mail goes to them
///
/// An address is suppressed when mail to it bounced for good (a DSN with a 5.x.x
/// status to the message's own VERP address, whose token verifies), or by an
/// admin's `outbox suppress`. Notifications, auto-replies and rule mail are not
/// sent to it; an explicit `ticket reply` still is, with a warning. Scripts:
/// `--format json` prints an array of {address, since, reason, status, outbox_id,
/// ticket, by}; `--format csv` the same columns.
#[derive(Debug, Args)]
pub struct SuppressedArgs {}

/// Suppress an address by hand: no automatic mail to it (admins)
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// The address
    address: String,
    /// Why (shown by `outbox suppressed`)
    #[arg(short = 'm', long = "message", value_name = "TEXT", default_value = "")]
    message: String,
}

/// Let automatic mail go to a suppressed address again (admins)
#[derive(Debug, Args)]
pub struct UnsuppressArgs {
    /// The address (any case)
    address: String,
}

/// Send every queued message that is due, one recipient at a time
///
/// For cron, every minute. Prints a line per message handed to the transport
/// (nothing when nothing was due); a failure to send is not a failure of the
/// command: it is recorded on the entry (and on the ticket when it is given up).
#[derive(Debug, Args)]
pub struct SendArgs {}

/// List outgoing mail: what waits or failed, or everything with --all
///
/// Scripts: `--format json` prints an array of entries (id, ticket, recipient,
/// envelope, message_id, kind, state, attempts, queued_at, next_attempt, done_at,
/// last_error, hash), `--format csv` the same columns.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Sent and dropped entries too
    #[arg(long)]
    all: bool,
    /// Monitoring: exit 1 when a message has waited longer than DURATION (e.g. 1h)
    #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_duration_seconds)]
    stale: Option<i64>,
}

/// Show an outbox entry and its message (headers and text)
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The entry's ID (from `outbox list`)
    id: u64,
}

/// Queue a failed entry again, due now (admins)
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The entry's ID (from `outbox list`)
    id: u64,
}

/// Never send a queued or failed entry (admins)
#[derive(Debug, Args)]
pub struct DropArgs {
    /// The entry's ID (from `outbox list`)
    id: u64,
}

pub fn run(cmd: OutboxCommand, global: &Global) -> Result<()> {
    let desk = global.desk()?;
    let format = global.format;
    match cmd {
        OutboxCommand::Send(_) => print_sent(&outbox::send_due(&desk, None)?, format),
        OutboxCommand::List(args) => list(args, &desk, format),
        OutboxCommand::Show(args) => show(args.id, &desk, format),
        OutboxCommand::Retry(args) => {
            let e = outbox::retry(&desk, args.id)?;
            output::done(
                format!("outbox entry {} to {} is queued again", e.id, e.recipient),
                format,
            )
        }
        OutboxCommand::Drop(args) => {
            let e = outbox::drop_entry(&desk, args.id)?;
            output::done(
                format!("outbox entry {} to {} is dropped", e.id, e.recipient),
                format,
            )
        }
        OutboxCommand::Suppressed(_) => suppressed(&desk, format),
        OutboxCommand::Suppress(args) => {
            let s = bounce::suppress(&desk, &args.address, &args.message)?;
            output::done(
                format!("{} is suppressed: no automatic mail goes to it", s.address),
                format,
            )
        }
        OutboxCommand::Unsuppress(args) => {
            let s = bounce::unsuppress(&desk, &args.address)?;
            output::done(
                format!("{} is no longer suppressed (was: {})", s.address, s.reason),
                format,
            )
        }
    }
}

/// A suppressed address in JSON; the names are an interface.
#[derive(Serialize)]
struct SuppressionJson<'a> {
    address: &'a str,
    since: String,
    reason: &'a str,
    status: &'a str,
    outbox_id: Option<u64>,
    ticket: Option<u64>,
    by: &'a str,
}

const SUPPRESSION_COLUMNS: &[&str] = &[
    "address",
    "since",
    "reason",
    "status",
    "outbox_id",
    "ticket",
    "by",
];

fn suppressed(desk: &Desk, format: Format) -> Result<()> {
    let all = bounce::suppressed(desk)?;
    let json: Vec<SuppressionJson> = all
        .iter()
        .map(|s| SuppressionJson {
            address: &s.address,
            since: iso_utc(s.at),
            reason: &s.reason,
            status: &s.status,
            outbox_id: (s.outbox_id != 0).then_some(s.outbox_id),
            ticket: (s.ticket != 0).then_some(s.ticket),
            by: &s.by,
        })
        .collect();
    let opt = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    match format {
        Format::Json => output::json(&json),
        Format::Csv => output::csv(
            SUPPRESSION_COLUMNS,
            json.iter().map(|s| {
                vec![
                    s.address.to_string(),
                    s.since.clone(),
                    s.reason.to_string(),
                    s.status.to_string(),
                    opt(s.outbox_id),
                    opt(s.ticket),
                    s.by.to_string(),
                ]
            }),
        ),
        Format::Table if all.is_empty() => output::line("no address is suppressed"),
        Format::Table => {
            let tz = desk.tz();
            let mut table = output::table(&["address", "since", "by", "ticket", "reason"]);
            for s in &all {
                table.add_row([
                    s.address.clone(),
                    local_short(s.at, tz),
                    s.by.clone(),
                    match s.ticket {
                        0 => String::new(),
                        n => format!("#{n}"),
                    },
                    s.reason.clone(),
                ]);
            }
            output::print_table(&table)
        }
    }
}

fn print_sent(sent: &[Sent], format: Format) -> Result<()> {
    let lines: Vec<String> = sent
        .iter()
        .map(|s| match s.state {
            OutboxState::Sent => format!("{}: sent to {}", s.id, s.recipient),
            state => format!(
                "{}: not sent to {} ({}): {}",
                s.id,
                s.recipient,
                state.as_str(),
                s.error.as_deref().unwrap_or_default()
            ),
        })
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    output::done(lines.join("\n"), format)
}

/// An outbox entry in JSON; the names are an interface.
#[derive(Serialize)]
struct EntryJson<'a> {
    id: u64,
    ticket: u64,
    recipient: &'a str,
    envelope: &'a str,
    message_id: &'a str,
    kind: &'a str,
    state: &'a str,
    attempts: u32,
    queued_at: String,
    next_attempt: Option<String>,
    done_at: Option<String>,
    last_error: &'a str,
    hash: &'a str,
}

impl<'a> EntryJson<'a> {
    fn new(e: &'a OutboxEntry) -> Self {
        EntryJson {
            id: e.id,
            ticket: e.ticket,
            recipient: &e.recipient,
            envelope: &e.envelope,
            message_id: &e.message_id,
            kind: &e.kind,
            state: e.state.as_str(),
            attempts: e.attempts,
            queued_at: iso_utc(e.queued_at),
            next_attempt: (e.state == OutboxState::Queued).then(|| iso_utc(e.next_attempt)),
            done_at: (e.done_at != 0).then(|| iso_utc(e.done_at)),
            last_error: &e.last_error,
            hash: &e.hash,
        }
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.ticket.to_string(),
            self.recipient.to_string(),
            self.envelope.to_string(),
            self.message_id.to_string(),
            self.kind.to_string(),
            self.state.to_string(),
            self.attempts.to_string(),
            self.queued_at.clone(),
            self.next_attempt.clone().unwrap_or_default(),
            self.done_at.clone().unwrap_or_default(),
            self.last_error.to_string(),
            self.hash.to_string(),
        ]
    }
}

const CSV_COLUMNS: &[&str] = &[
    "id",
    "ticket",
    "recipient",
    "envelope",
    "message_id",
    "kind",
    "state",
    "attempts",
    "queued_at",
    "next_attempt",
    "done_at",
    "last_error",
    "hash",
];

fn list(args: ListArgs, desk: &Desk, format: Format) -> Result<()> {
    let entries: Vec<OutboxEntry> = outbox::list(desk, false)?
        .into_iter()
        .filter(|e| args.all || matches!(e.state, OutboxState::Queued | OutboxState::Failed))
        .collect();
    match format {
        Format::Json => {
            output::json(&entries.iter().map(EntryJson::new).collect::<Vec<_>>())?;
        }
        Format::Csv => output::csv(
            CSV_COLUMNS,
            entries.iter().map(|e| EntryJson::new(e).cells()),
        )?,
        Format::Table if entries.is_empty() => output::line("the outbox is empty")?,
        Format::Table => {
            let tz = desk.tz();
            let mut table = output::table(&[
                "id",
                "ticket",
                "recipient",
                "state",
                "attempts",
                "queued",
                "next attempt",
                "last error",
            ]);
            for e in &entries {
                table.add_row([
                    e.id.to_string(),
                    format!("#{}", e.ticket),
                    e.recipient.clone(),
                    e.state.as_str().to_string(),
                    e.attempts.to_string(),
                    local_short(e.queued_at, tz),
                    match e.state {
                        OutboxState::Queued => local_short(e.next_attempt, tz),
                        _ => String::new(),
                    },
                    e.last_error.clone(),
                ]);
            }
            output::print_table(&table)?;
        }
    }
    if let Some(age) = args.stale {
        let limit = now() - age;
        let stale = entries
            .iter()
            .filter(|e| e.state == OutboxState::Queued && e.queued_at < limit)
            .count();
        if stale > 0 {
            bail!(
                "{} waiting in the outbox longer than {}",
                crate::cli::plural::plural(stale, "message", "messages"),
                humane(age)
            );
        }
    }
    Ok(())
}

/// `3600` as `1h`, `90` as `90s`.
fn humane(seconds: i64) -> String {
    match seconds {
        s if s >= 86400 && s % 86400 == 0 => format!("{}d", s / 86400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn show(id: u64, desk: &Desk, format: Format) -> Result<()> {
    let (entry, bytes) = outbox::show(desk, id)?;
    let json = EntryJson::new(&entry);
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                entry: EntryJson<'a>,
                message: String,
            }
            output::json(&Shown {
                entry: json,
                message: String::from_utf8_lossy(&bytes).into_owned(),
            })
        }
        Format::Csv => output::csv(CSV_COLUMNS, [json.cells()]),
        Format::Table => {
            let mut lines: Vec<String> = CSV_COLUMNS
                .iter()
                .zip(json.cells())
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("{k}: {}", crate::cli::terminal::inline(&v)))
                .collect();
            lines.push(String::new());
            output::line(lines.join("\n"))?;
            output::bytes(&bytes)
        }
    }
}

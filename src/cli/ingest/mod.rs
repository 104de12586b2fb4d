//! `postdesk ingest`: mail in, from stdin (MTA/procmail), mbox, Maildir, the spool.

use std::io::{BufReader, IsTerminal, Read};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

mod delivery;
mod ignored;
mod quarantine;

use super::exit::Failure;
use super::output::{self, Format};
use super::plural::plural;
use super::terminal;
use super::{Global, TempFail};
use crate::desk::ingest::{Outcome, Processed, Summary};
use crate::desk::intake::{Delivered, DeskOrFallback};
use crate::desk::{intake, Desk};
use crate::mail::mbox::MboxReader;

/// Turn mail into tickets.
///
/// Without a subcommand, reads one message on stdin, as an MTA pipe, `.forward` or
/// procmail delivers it (`| postdesk --config /etc/postdesk/postdesk.yaml ingest`).
/// The message is first written durably to the spool, so exit 0 means it is safe;
/// exit 75 (temporary failure, the MTA retries) when it could not even be spooled.
/// With a broken config the message stays spooled, the error is reported on stderr
/// and the exit is 0: fix the config and run `postdesk ingest spool`.
///
/// Silent on a pipe, as an MTA runs it. On a terminal, or with `--format`, it prints
/// what became of the message: the ticket it created or joined, a duplicate, ignored
/// and why, quarantined with its ID, or spooled (another process drains the spool).
///
/// Replies join their ticket by In-Reply-To/References, else by a `[#42]` tag in the
/// subject when the sender is the ticket's requester, a follower or an agent.
/// Duplicates (same Message-ID) change nothing; auto-replies, bounces and our own
/// looping mail make no ticket; unparsable mail goes to the quarantine.
///
/// The requester's reply to a closed ticket whose approval is pending answers it
/// when its first own line is `yes`/`approve` or `no`/`reject` (or `oui`, `non` and
/// the other words README lists): as `ticket approve`, or `ticket reject` with the
/// rest of the text as the reason. Any other reply reopens the ticket.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct IngestArgs {
    #[command(subcommand)]
    command: Option<IngestCommand>,
    /// `-`: read the message from stdin (the default)
    #[arg(value_name = "-", value_parser = ["-"])]
    stdin: Option<String>,
}

#[derive(Debug, Subcommand)]
enum IngestCommand {
    /// Ingest mbox files (mboxrd or mboxo), streaming
    Mbox {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Ingest the messages of Maildirs (new/ and cur/, not tmp/); they stay where
    /// they are unless --move-to
    Maildir {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Move each message, once stored, into this Maildir: into its new/ or cur/ as
        /// it came, under the same name (flags kept); DIR, new/, cur/ and tmp/ are
        /// created as needed
        #[arg(long, value_name = "DIR")]
        move_to: Option<PathBuf>,
    },
    /// Fetch new mail from the IMAP accounts of the config (all, or the one named)
    Imap {
        /// An account name from the config's `imap:` list
        account: Option<String>,
    },
    /// Process messages left in the spool (run from cron as a backstop); also removes
    /// temp files that crashed writers left, once they are an hour old, and indexes
    /// the mail store's new packs
    Spool {
        /// Keep running: process each message as it lands in the spool. While this
        /// runs, `postdesk ingest` deliveries only spool and exit. With a `mail_out`,
        /// it also sends the outbox as `outbox send` does: at the start, after each
        /// drain, as soon as a command leaves mail queued (`ticket reply
        /// --queue-only`, `outbox retry`), and every 60 s for retries coming due
        #[arg(long)]
        watch: bool,
    },
    /// Mail that could not be parsed
    #[command(subcommand)]
    Quarantine(quarantine::QuarantineCommand),
    /// The mail that made no ticket (auto-replies, bounces, filters, rules) and why;
    /// `retry ID` makes a ticket of one
    Ignored(ignored::IgnoredArgs),
}

pub fn run(args: IngestArgs, global: &Global) -> Result<()> {
    match args.command {
        // `--dry-run` (global): parse, thread and decide, print what would happen,
        // write nothing (IMAP: change nothing on the server).
        None => deliver(global.dry_run, global),
        Some(IngestCommand::Mbox { files }) => {
            let dry_run = global.dry_run;
            let desk = global.desk()?;
            let limit = desk.config.ingest.max_message_size;
            let mut readers = Vec::new();
            for file in &files {
                let f = std::fs::File::open(file)
                    .with_context(|| format!("cannot open mbox {}", file.display()))?;
                let reader = MboxReader::new(BufReader::with_capacity(1 << 16, f), limit as usize);
                readers.push(reader.map(move |entry| {
                    entry
                        .map(|entry| intake::Item::from_mbox(entry, file, limit))
                        .with_context(|| format!("cannot read mbox {}", file.display()))
                }));
            }
            let items = readers.into_iter().flatten();
            bulk(&desk, global.format, dry_run, items, |_| Ok(()))
        }
        Some(IngestCommand::Maildir { dirs, move_to }) => {
            let dry_run = global.dry_run;
            let desk = global.desk()?;
            let files = crate::mail::maildir::files(&dirs)?;
            let limit = desk.config.ingest.max_message_size;
            let items = files.into_iter().map(|p| {
                let shown = p.display().to_string();
                intake::Item::read_file(p, limit).with_context(|| format!("cannot read {shown}"))
            });
            bulk(
                &desk,
                global.format,
                dry_run,
                items,
                |paths| match &move_to {
                    Some(dir) => crate::mail::maildir::move_into(paths, dir),
                    None => Ok(()),
                },
            )
        }
        Some(IngestCommand::Imap { account }) => {
            let dry_run = global.dry_run;
            let desk = global.desk()?;
            let accounts = crate::desk::poll::accounts(&desk, account.as_deref())?;
            let bar = progress();
            let mut total = Summary::default();
            let mut decisions = Vec::new();
            for account in accounts {
                let summary = crate::desk::poll::poll(&desk, account, dry_run, |p| {
                    bar.inc(1);
                    if dry_run {
                        decisions.push(p.clone());
                    }
                })?;
                total.merge(summary);
            }
            bar.finish_and_clear();
            print_summary(&total, &decisions, global.format)
        }
        Some(IngestCommand::Spool { watch: true }) => {
            let desk = global.desk()?;
            let format = global.format;
            output::done(
                format!("watching {}", desk.storage.spool().dir().display()),
                format,
            )?;
            intake::watch(
                &desk,
                // A drain's summary is the watcher's result; it must not stop the
                // watching when stdout is gone.
                |s| {
                    let _ = output::done(summary_line(s), format);
                },
                |e, retry| {
                    output::diagnostic(format!(
                        "ERROR: {e:#}\npostdesk: the spool is kept; trying again in {} s",
                        retry.as_secs()
                    ))
                },
                // The outbox, sent as `outbox send` does: its lines on stdout, a
                // run that could not send at all on stderr; the watching goes on.
                |sent| match sent {
                    Ok(sent) => {
                        let _ = super::outbox::print_sent(&sent, format);
                    }
                    Err(e) => output::diagnostic(format!(
                        "ERROR: {e:#}\npostdesk: the outbox is kept; trying again in {} s",
                        intake::SEND_RETRY.as_secs()
                    )),
                },
            )
        }
        Some(IngestCommand::Spool { watch: false }) => {
            let desk = global.desk()?;
            let run = intake::process_spool(&desk)?;
            if run.removed > 0 {
                output::done(
                    format!(
                        "removed {} left by interrupted writes",
                        plural(run.removed as u64, "temp file", "temp files")
                    ),
                    global.format,
                )?;
            }
            print_summary(&run.summary, &[], global.format)
        }
        Some(IngestCommand::Quarantine(cmd)) => quarantine::run(cmd, global),
        Some(IngestCommand::Ignored(args)) => ignored::run(args, global),
    }
}

/// One message on stdin: spool it as it is read, then see it processed.
fn deliver(dry_run: bool, global: &Global) -> Result<()> {
    if dry_run {
        let mut raw = Vec::new();
        std::io::stdin()
            .read_to_end(&mut raw)
            .context("cannot read the message from stdin")?;
        let desk = global.desk()?;
        let results = intake::rehearse_delivery(&desk, raw)?;
        let mut summary = Summary::default();
        results.iter().for_each(|p| summary.add(&p.outcome));
        return print_summary(&summary, &results, global.format);
    }
    let desk;
    let to = match global.desk() {
        Ok(loaded) => {
            desk = loaded;
            DeskOrFallback::Desk(&desk)
        }
        Err(error) => DeskOrFallback::ConfigFailed {
            error,
            db: global.db.clone(),
            config: global.config.clone(),
        },
    };
    let delivered = intake::deliver(to, &mut std::io::stdin().lock()).map_err(TempFail)?;
    match &delivered {
        Delivered::Processed { .. } => {}
        Delivered::SpooledConfigBroken { spooled, error } => output::diagnostic(format!(
            "CONFIG ERROR: {error:#}\npostdesk: the message is kept in the spool ({}) and will be processed by `postdesk ingest spool` once the config is fixed",
            spooled.display()
        )),
        Delivered::SpooledSettleFailed { spooled, error } => output::diagnostic(format!(
            "ERROR: {error:#}\npostdesk: the message is kept in the spool ({}) for `postdesk ingest spool`",
            spooled.display()
        )),
    }
    // An MTA's pipe wants silence; a person, or a script that asked for a format,
    // wants to know which ticket the mail made.
    if global.format_given || std::io::stdout().is_terminal() {
        // The message is safe in the spool: failing to print must not make the
        // MTA deliver it again.
        match delivery::print(&delivered, global.format) {
            Err(e) if Failure::of(&e) != Failure::BrokenPipe => output::diagnostic(format!(
                "the message is stored, but its outcome could not be printed: {e:#}"
            )),
            _ => {}
        }
    }
    Ok(())
}

fn bulk(
    desk: &Desk,
    format: Format,
    dry_run: bool,
    items: impl Iterator<Item = Result<intake::Item>>,
    finish: impl FnMut(&[PathBuf]) -> Result<()>,
) -> Result<()> {
    let bar = progress();
    let mut decisions = Vec::new();
    let summary = intake::import(desk, items, dry_run, finish, |p| {
        bar.inc(1);
        if dry_run {
            decisions.push(p.clone());
        }
    })?;
    bar.finish_and_clear();
    print_summary(&summary, &decisions, format)
}

fn progress() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} messages ({per_sec})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

pub(super) fn print_summary(
    summary: &Summary,
    decisions: &[Processed],
    format: Format,
) -> Result<()> {
    match format {
        Format::Json => {
            #[derive(serde::Serialize)]
            struct Report<'a> {
                summary: &'a Summary,
                messages: &'a [Processed],
            }
            output::json(&Report {
                summary,
                messages: decisions,
            })
        }
        Format::Csv => output::csv(
            &["created", "replies", "duplicates", "ignored", "quarantined"],
            [[
                summary.created,
                summary.replies,
                summary.duplicates,
                summary.ignored,
                summary.quarantined,
            ]
            .iter()
            .map(u64::to_string)
            .collect()],
        ),
        Format::Table => {
            let mut text = String::new();
            for p in decisions {
                text.push_str(&format!("would {}\n", describe(p)));
            }
            text.push_str(&summary_line(summary));
            output::line(text)
        }
    }
}

/// `3 messages: 1 created, 1 reply, 0 duplicates, 1 ignored, 0 quarantined`.
pub(super) fn summary_line(s: &Summary) -> String {
    format!(
        "{}: {} created, {}, {}, {} ignored, {} quarantined",
        plural(s.total(), "message", "messages"),
        s.created,
        plural(s.replies, "reply", "replies"),
        plural(s.duplicates, "duplicate", "duplicates"),
        s.ignored,
        s.quarantined
    )
}

/// What became of a message, for a person: `created ticket #3 from ...`.
pub(super) fn done(p: &Processed) -> String {
    let what = sender_and_subject(p);
    match &p.outcome {
        Outcome::Created { ticket } => format!("created ticket #{ticket} from {what}"),
        Outcome::Reply { ticket } => format!("added to ticket #{ticket}: {what}"),
        Outcome::Duplicate { ticket: Some(n) } => {
            format!("a duplicate of mail on ticket #{n}, nothing changed: {what}")
        }
        Outcome::Duplicate { ticket: None } => format!("a duplicate, nothing changed: {what}"),
        Outcome::Ignored { reason } => {
            format!("ignored ({reason}; `postdesk ingest ignored` lists it): {what}")
        }
        Outcome::Quarantined {
            reason,
            id: Some(id),
        } => format!("quarantined as {id}: {reason} (`postdesk ingest quarantine show {id}`)"),
        Outcome::Quarantined { reason, id: None } => format!("quarantined: {reason}"),
    }
}

fn describe(p: &Processed) -> String {
    let what = sender_and_subject(p);
    match &p.outcome {
        Outcome::Created { ticket } => format!("create ticket #{ticket} from {what}"),
        Outcome::Reply { ticket } => format!("add to ticket #{ticket}: {what}"),
        Outcome::Duplicate { .. } => format!("skip a duplicate: {what}"),
        Outcome::Ignored { reason } => format!("ignore ({reason}): {what}"),
        Outcome::Quarantined { reason, .. } => format!("quarantine: {reason}"),
    }
}

/// `ann@example.com "Printer jams"`, escaped: both come from the mail.
fn sender_and_subject(p: &Processed) -> String {
    format!(
        "{} \"{}\"",
        terminal::inline(&p.from),
        terminal::inline(&p.subject)
    )
}

//! `postdesk ticket reply N`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{parse_number, updated};
use crate::cli::output::{self, Format};
use crate::cli::plural::plural;
use crate::desk::outbox::{self, REPLY_MAX};
use crate::desk::Desk;
use crate::model::OutboxState;

/// Answer the requester by mail: to the requester and the followers (never to you)
///
/// The text comes from -m, from --file, or from standard input with `-`; at most
/// 4096 bytes. The mail is from the ticket's service (`"Your Name via SERVICE"
/// <first address of the service>`), with `Re: [#N] subject`, threaded to the
/// ticket's mail, so that the answer comes back to the ticket. It is recorded on
/// the ticket (`reply`) and queued in the outbox with the change, then sent at
/// once through `mail_out` unless --queue-only (or no `mail_out`: it waits for
/// `postdesk outbox send`, or a running `ingest spool --watch`). Whoever may
/// comment may reply: any user of the config. Internal comments are never sent. A
/// recipient whose address is suppressed (it bounced for good: `postdesk outbox
/// suppressed`) still gets the reply, since you asked for it, with a warning;
/// automatic mail to it is never sent.
///
/// The body is the `reply` template (built in, or `reply.hbs` in the templates
/// directory) with the text as `{{message}}`. With --template NAME it is the saved
/// reply `replies/NAME.hbs` (else the template NAME), with the text, if any, as
/// `{{message}}`; the reply event records the rendered text. One message for all
/// recipients, rendered with the requester as `recipient`. A template's `Subject:`
/// line gives the subject after `Re: [#N]`. A template error names the file and
/// line, and nothing is queued.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).multiple(true))]
pub struct ReplyArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// `-`: read the reply from standard input
    #[arg(value_name = "-", group = "source", value_parser = ["-"])]
    stdin: Option<String>,
    /// The reply
    #[arg(short = 'm', long = "message", value_name = "TEXT", group = "source",
          conflicts_with_all = ["stdin", "file"])]
    message: Option<String>,
    /// Read the reply from this file
    #[arg(long, value_name = "FILE", group = "source", conflicts_with = "stdin")]
    file: Option<PathBuf>,
    /// Send the saved reply `replies/NAME` (else the template NAME), the text of
    /// -m, --file or - as its `{{message}}`
    #[arg(short = 't', long, value_name = "NAME", group = "source")]
    template: Option<String>,
}

pub fn run(args: ReplyArgs, desk: &Desk, format: Format) -> Result<()> {
    let text = match (args.message, args.file, args.stdin) {
        (Some(text), _, _) => text,
        (None, Some(path), _) => super::comment::read_bounded(
            std::fs::File::open(&path),
            &path.display().to_string(),
            "reply",
            REPLY_MAX,
        )?,
        (None, None, Some(_)) => super::comment::read_bounded(
            Ok(std::io::stdin()),
            "standard input",
            "reply",
            REPLY_MAX,
        )?,
        // --template alone: a saved reply with no message of its own.
        (None, None, None) => String::new(),
    };
    let template = args.template.as_deref();
    let done = outbox::reply_with(
        desk,
        args.number,
        &text,
        template,
        desk.mail_mode.queue_only || desk.mail_mode.dry_run,
    )?;
    updated::print(&done.updated, format)?;
    let number = args.number;
    let mut lines: Vec<String> = done
        .unusable
        .iter()
        .map(|a| format!("#{number}: left out {a}: not an address a message can carry"))
        .collect();
    lines.extend(done.suppressed.iter().map(|s| {
        format!(
            "#{number}: warning: {} is suppressed ({}); queued all the same, since you \
             asked: `postdesk outbox unsuppress {}` ends it",
            s.address, s.reason, s.address
        )
    }));
    if let Some(why) = &done.waiting {
        lines.push(format!(
            "#{number}: {} queued ({why}): `postdesk outbox send` sends it",
            plural(done.queued.len(), "message", "messages")
        ));
    }
    for sent in &done.sent {
        lines.push(match (sent.state, &sent.error) {
            (OutboxState::Sent, _) => format!("#{number}: sent to {}", sent.recipient),
            (state, error) => format!(
                "#{number}: not sent to {} ({}, outbox entry {}): {}",
                sent.recipient,
                state.as_str(),
                sent.id,
                error.as_deref().unwrap_or_default()
            ),
        });
    }
    if !lines.is_empty() {
        output::done(lines.join("\n"), format)?;
    }
    Ok(())
}

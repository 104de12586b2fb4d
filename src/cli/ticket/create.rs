//! `postdesk ticket create`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::view::{cell, TicketJson, ALL_COLUMNS};
use crate::cli::output::{self, Format};
use crate::desk::tickets::{self, NewTicket};
use crate::desk::Desk;
use crate::model::{Priority, Requester, Status};

/// Create a ticket.
///
/// Unset fields take defaults: the service from `settings.default_service`, the
/// assignee from the service, subject and description from the category's
/// template. Prints the new ticket's number (`--format json` prints the ticket).
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// One-line summary
    #[arg(short, long)]
    subject: Option<String>,
    /// The full text; `-` reads it from stdin
    #[arg(short, long, conflicts_with = "description_file")]
    description: Option<String>,
    /// Read the description from a file (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    description_file: Option<PathBuf>,
    /// open, in-progress, pending or closed [default: open]
    #[arg(long)]
    status: Option<Status>,
    /// low, medium, high or urgent [default: medium]
    #[arg(short, long)]
    priority: Option<Priority>,
    /// A login, @group or none [default: the service's default assignee]
    #[arg(short, long)]
    assignee: Option<String>,
    /// Service name [default: settings.default_service]
    #[arg(long)]
    service: Option<String>,
    /// Category of the service; its template fills in subject and description
    #[arg(short, long)]
    category: Option<String>,
    /// A tag (repeat for several)
    #[arg(short, long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Requester's e-mail address
    #[arg(long, value_name = "EMAIL")]
    requester_email: Option<String>,
    /// Requester's name
    #[arg(long, value_name = "NAME")]
    requester_name: Option<String>,
    /// Requester's phone number
    #[arg(long, value_name = "PHONE")]
    requester_phone: Option<String>,
    /// Someone to keep informed: a login or an address (repeat for several)
    #[arg(long = "follower", value_name = "WHO")]
    followers: Vec<String>,
    /// A custom field, KEY=VALUE (repeat for several)
    #[arg(long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
}

pub fn run(args: CreateArgs, desk: &Desk, format: Format) -> Result<()> {
    let description = match (args.description, args.description_file) {
        (Some(d), _) if d == "-" => Some(read_stdin()?),
        (Some(d), _) => Some(d),
        (None, Some(path)) if path.as_os_str() == "-" => Some(read_stdin()?),
        (None, Some(path)) => Some(
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read description from {}", path.display()))?,
        ),
        (None, None) => None,
    };
    let new = NewTicket {
        subject: args.subject,
        description,
        status: args.status,
        priority: args.priority,
        assignee: args.assignee,
        service: args.service,
        category: args.category,
        tags: args.tags,
        requester: Requester {
            name: args.requester_name,
            email: args.requester_email,
            phone: args.requester_phone,
        },
        followers: args.followers,
        fields: args.fields,
    };
    let ticket = tickets::create(desk, new)?;
    match format {
        Format::Table => output::line(format!("created ticket #{}", ticket.number)),
        Format::Json => output::json(&TicketJson::new(&ticket, None)),
        Format::Csv => output::csv(
            ALL_COLUMNS,
            [ALL_COLUMNS.iter().map(|c| cell(&ticket, c, None)).collect()],
        ),
    }
}

fn read_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the description from stdin")?;
    Ok(text)
}

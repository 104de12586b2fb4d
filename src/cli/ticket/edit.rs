//! `postdesk ticket edit N`.

use anyhow::Result;
use clap::Args;

use super::parse_number;
use super::view::TicketJson;
use crate::cli::output::{self, Format};
use crate::desk::tickets::{self, TicketEdit};
use crate::desk::Desk;
use crate::model::{Priority, Status};

/// Change any field of a ticket; every change is recorded in its activity log.
///
/// Tags and followers take `+x` to add and `-x` to remove (a bare value adds).
/// `--field KEY=` (empty value) removes a custom field; `--category ""` clears the category.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    #[arg(short, long)]
    subject: Option<String>,
    #[arg(short, long)]
    description: Option<String>,
    #[arg(long)]
    status: Option<Status>,
    #[arg(short, long)]
    priority: Option<Priority>,
    /// A login, @group or none
    #[arg(short, long)]
    assignee: Option<String>,
    #[arg(long)]
    service: Option<String>,
    #[arg(short, long)]
    category: Option<String>,
    /// +TAG adds, -TAG removes (repeat for several)
    #[arg(short, long = "tag", value_name = "±TAG", allow_hyphen_values = true)]
    tags: Vec<String>,
    #[arg(long, value_name = "EMAIL")]
    requester_email: Option<String>,
    #[arg(long, value_name = "NAME")]
    requester_name: Option<String>,
    #[arg(long, value_name = "PHONE")]
    requester_phone: Option<String>,
    /// +WHO adds, -WHO removes (repeat for several)
    #[arg(long = "follower", value_name = "±WHO", allow_hyphen_values = true)]
    followers: Vec<String>,
    /// KEY=VALUE sets a custom field, KEY= removes it (repeat for several)
    #[arg(long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
}

pub fn run(args: EditArgs, desk: &Desk, format: Format) -> Result<()> {
    let number = args.number;
    let edit = TicketEdit {
        subject: args.subject,
        description: args.description,
        status: args.status,
        priority: args.priority,
        assignee: args.assignee,
        service: args.service,
        category: args.category,
        tags: args.tags,
        requester_name: args.requester_name,
        requester_email: args.requester_email,
        requester_phone: args.requester_phone,
        followers: args.followers,
        fields: args.fields,
    };
    let (ticket, changed) = tickets::edit(desk, number, edit)?;
    match format {
        Format::Json => output::json(&TicketJson::new(&ticket, None)),
        _ if changed == 0 => output::line(format!("ticket #{number} unchanged")),
        _ => output::line(format!("updated ticket #{number} ({changed} changes)")),
    }
}

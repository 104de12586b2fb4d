//! The ticket fields `ticket create` and `ticket edit` both set, declared once: a
//! field added later is one edit here and one in `desk::tickets::TicketPatch`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::desk::tickets::TicketPatch;
use crate::model::{Priority, Status};

#[derive(Debug, Args)]
pub struct FieldArgs {
    /// One-line summary
    #[arg(short, long)]
    subject: Option<String>,
    /// The full text; `-` reads it from stdin
    #[arg(short, long, conflicts_with = "description_file")]
    description: Option<String>,
    /// Read the description from a file (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    description_file: Option<PathBuf>,
    /// open, in-progress, pending or closed
    #[arg(long)]
    status: Option<Status>,
    /// low, medium, high or urgent
    #[arg(short, long)]
    priority: Option<Priority>,
    /// A login, @group, none, or me (the acting user)
    #[arg(short, long)]
    assignee: Option<String>,
    /// One of the config's services [create: settings.default_service]; a change
    /// clears the category unless --category is given too
    #[arg(long)]
    service: Option<String>,
    /// Category of the service (`""` clears it); on create, its template fills in
    /// subject and description
    #[arg(short, long)]
    category: Option<String>,
    /// +TAG adds, -TAG removes, a bare TAG adds (repeat for several)
    #[arg(short, long = "tag", value_name = "±TAG", allow_hyphen_values = true)]
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
    /// Someone to keep informed, a login or an address: +WHO adds, -WHO removes, a
    /// bare WHO adds (repeat for several)
    #[arg(long = "follower", value_name = "±WHO", allow_hyphen_values = true)]
    followers: Vec<String>,
    /// KEY=VALUE sets a custom field, KEY= removes it (repeat for several)
    #[arg(long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
}

impl FieldArgs {
    /// The patch these flags describe, with the description read if it is in a file.
    pub fn into_patch(self) -> Result<TicketPatch> {
        let description = match (self.description, self.description_file) {
            (Some(d), _) if d == "-" => Some(read_stdin()?),
            (Some(d), _) => Some(d),
            (None, Some(path)) if path.as_os_str() == "-" => Some(read_stdin()?),
            (None, Some(path)) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read description from {}", path.display()))?,
            ),
            (None, None) => None,
        };
        Ok(TicketPatch {
            subject: self.subject,
            description,
            status: self.status,
            priority: self.priority,
            assignee: self.assignee,
            service: self.service,
            category: self.category,
            tags: self.tags,
            requester_name: self.requester_name,
            requester_email: self.requester_email,
            requester_phone: self.requester_phone,
            followers: self.followers,
            fields: self.fields,
        })
    }
}

fn read_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the description from stdin")?;
    Ok(text)
}

//! `postdesk customer ...`: the people who wrote to us.

mod list;
mod show;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use super::Global;
use crate::model::when::iso_utc;
use crate::model::Customer;

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    List(list::ListArgs),
    Show(show::ShowArgs),
}

pub fn run(cmd: CustomerCommand, global: &Global) -> Result<()> {
    let desk = global.desk()?;
    match cmd {
        CustomerCommand::List(args) => list::run(args, &desk, global.format),
        CustomerCommand::Show(args) => show::run(args, &desk, global.format),
    }
}

/// A customer as JSON; the names are an interface, like a ticket's.
#[derive(Serialize)]
struct CustomerJson<'a> {
    email: &'a str,
    name: Option<&'a str>,
    first_contact: String,
    last_contact: String,
}

impl<'a> CustomerJson<'a> {
    fn new(c: &'a Customer) -> Self {
        CustomerJson {
            email: &c.email,
            name: c.name.as_deref(),
            first_contact: iso_utc(c.first_seen),
            last_contact: iso_utc(c.last_seen),
        }
    }
}

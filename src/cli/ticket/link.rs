//! `postdesk ticket link N M` and `postdesk ticket unlink N M`.

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::{parse_number, updated};
use crate::cli::output::Format;
use crate::desk::links;
use crate::desk::Desk;
use crate::model::LinkKind;

/// Link two tickets: the link shows on both, and each logs it.
///
/// `--kind parent` makes N a sub-ticket of M (M shows N as its child); a ticket with
/// open sub-tickets closes only with --force. Linking again with another kind
/// changes the kind. The managers and agents of both tickets' services, or an admin.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// The ticket to link it to
    #[arg(value_parser = parse_number, value_name = "OTHER")]
    other: u64,
    /// What OTHER is to N
    #[arg(long, value_enum, default_value = "relates")]
    kind: KindArg,
}

/// The kinds a link is made with (`child` is the other side of `parent`).
#[derive(Clone, Copy, Debug, ValueEnum)]
enum KindArg {
    /// Related, no more
    Relates,
    /// The same request
    Duplicates,
    /// OTHER is N's parent: N is its sub-ticket
    Parent,
}

impl From<KindArg> for LinkKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Relates => LinkKind::Relates,
            KindArg::Duplicates => LinkKind::Duplicates,
            KindArg::Parent => LinkKind::Parent,
        }
    }
}

pub fn run(args: LinkArgs, desk: &Desk, format: Format) -> Result<()> {
    let done = links::link(desk, args.number, args.other, args.kind.into())?;
    updated::print(&done, format)
}

/// Remove the link between two tickets, from both; each logs it.
#[derive(Debug, Args)]
pub struct UnlinkArgs {
    /// Ticket number (42 or #42)
    #[arg(value_parser = parse_number)]
    number: u64,
    /// The linked ticket
    #[arg(value_parser = parse_number, value_name = "OTHER")]
    other: u64,
}

pub fn run_unlink(args: UnlinkArgs, desk: &Desk, format: Format) -> Result<()> {
    updated::print(&links::unlink(desk, args.number, args.other)?, format)
}

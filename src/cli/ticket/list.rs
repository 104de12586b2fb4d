//! `postdesk ticket list`.

use anyhow::{Context, Result};
use clap::Args;
use comfy_table::Color;

use super::view::{cell, parse_columns, TicketJson, DEFAULT_COLUMNS};
use crate::cli::output::{self, Format};
use crate::config::View;
use crate::desk::tickets;
use crate::desk::Desk;
use crate::model::choices::or_list;
use crate::model::{Priority, Status, Ticket};

/// List tickets, filtered and sorted.
///
/// Filters combine with AND; a filter given several times (or comma-separated)
/// matches any of its values, except --tag, where every tag must be present.
/// Times: a date (2026-11-24), an RFC 3339 time, or a duration back from now (7d, 3h, 2h30m).
///
/// Scripts: `--format json` prints an array of tickets, `--format csv` a header
/// row and one row per ticket with the chosen --columns (a cell a spreadsheet would
/// run as a formula starts with `'`; `--csv-raw` writes the cells as stored).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// A saved view from the config's `views:`; flags given here are added to it
    #[arg(long, value_name = "NAME")]
    view: Option<String>,
    /// open, in-progress, pending, closed, or unresolved (all but closed)
    #[arg(long, value_delimiter = ',')]
    status: Vec<String>,
    /// low, medium, high, urgent
    #[arg(long, value_delimiter = ',')]
    priority: Vec<String>,
    /// A login, @group, none, or me
    #[arg(long, value_name = "WHO")]
    assignee: Option<String>,
    /// Tickets of this service (one of the config's `services`)
    #[arg(long)]
    service: Option<String>,
    /// Tickets of this category (of --service if given, else of any service)
    #[arg(long)]
    category: Option<String>,
    /// Tickets carrying this tag (repeat: all of them)
    #[arg(long)]
    tag: Vec<String>,
    /// Requester's e-mail address, or a domain
    #[arg(long, value_name = "EMAIL-or-DOMAIN")]
    customer: Option<String>,
    /// Words that must all appear (as word starts, any case, accents ignored) in subject, description or messages
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Tickets created at or after WHEN (2026-11-24, an RFC 3339 time, or 7d, 3h ago)
    #[arg(long, value_name = "WHEN")]
    created_since: Option<String>,
    /// Tickets created before WHEN
    #[arg(long, value_name = "WHEN")]
    created_until: Option<String>,
    /// Tickets changed (a field, a mail, a link) at or after WHEN
    #[arg(long, value_name = "WHEN")]
    updated_since: Option<String>,
    /// Tickets past a due time of their service levels: the first response (until
    /// one is recorded) or the resolution; pending and closed tickets never are
    #[arg(long)]
    overdue: bool,
    /// Tickets whose next due time is within DURATION from now (4h, 30m, 2d),
    /// overdue ones included
    #[arg(long, value_name = "DURATION")]
    due_within: Option<String>,
    /// Comma list of number, created, updated, due, priority, status, subject, assignee,
    /// service, category; a leading `-` sorts descending [default: number]
    #[arg(long, value_name = "KEYS", allow_hyphen_values = true)]
    sort: Option<String>,
    /// Show at most this many tickets
    #[arg(long)]
    limit: Option<usize>,
    /// Comma list of columns for table and CSV (field.NAME for a custom field)
    #[arg(long, value_name = "COLUMNS")]
    columns: Option<String>,
}

pub fn run(args: ListArgs, desk: &Desk, format: Format) -> Result<()> {
    let view = merge(args, desk)?;
    let columns = match &view.columns {
        Some(spec) => parse_columns(spec)?,
        None => DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect(),
    };
    let tickets = tickets::list(desk, &view)?;
    match format {
        Format::Json => {
            let list: Vec<_> = tickets.iter().map(|t| TicketJson::new(t, None)).collect();
            output::json(&list)
        }
        Format::Csv => {
            let header: Vec<&str> = columns.iter().map(String::as_str).collect();
            let rows = tickets
                .iter()
                .map(|t| header.iter().map(|c| cell(t, c, None)).collect());
            output::csv(&header, rows)
        }
        Format::Table => print_table(&tickets, &columns, desk),
    }
}

/// The named view, with the flags added on top (flags win for single values).
fn merge(args: ListArgs, desk: &Desk) -> Result<View> {
    let mut view = match &args.view {
        Some(name) => desk.config.view(name).cloned().with_context(|| {
            let path = desk.config.path.display();
            let names: Vec<&str> = desk.config.views.iter().map(|v| v.name.as_str()).collect();
            match names.is_empty() {
                true => format!("no view named '{name}': {path} has no views"),
                false => format!(
                    "no view named '{name}' in {path} (expected {})",
                    or_list(&names)
                ),
            }
        })?,
        None => View::default(),
    };
    view.status.extend(args.status);
    view.priority.extend(args.priority);
    view.tag.extend(args.tag);
    let over = |slot: &mut Option<String>, value: Option<String>| {
        if value.is_some() {
            *slot = value;
        }
    };
    over(&mut view.assignee, args.assignee);
    over(&mut view.service, args.service);
    over(&mut view.category, args.category);
    over(&mut view.customer, args.customer);
    over(&mut view.search, args.search);
    over(&mut view.created_since, args.created_since);
    over(&mut view.created_until, args.created_until);
    over(&mut view.updated_since, args.updated_since);
    over(&mut view.due_within, args.due_within);
    view.overdue |= args.overdue;
    over(&mut view.sort, args.sort);
    over(&mut view.columns, args.columns);
    if args.limit.is_some() {
        view.limit = args.limit;
    }
    Ok(view)
}

fn print_table(tickets: &[Ticket], columns: &[String], desk: &Desk) -> Result<()> {
    if tickets.is_empty() {
        return output::line("no tickets match");
    }
    let header: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = output::table(&header);
    for t in tickets {
        table.add_coloured_row(columns.iter().map(|c| {
            let text = cell(t, c, Some(desk.tz()));
            let text = if c == "number" {
                format!("#{text}")
            } else {
                text
            };
            (text, colour_of(t, c))
        }));
    }
    output::print_table(&table)
}

fn colour_of(t: &Ticket, column: &str) -> Option<Color> {
    match column {
        "priority" => match t.priority {
            Priority::Urgent => Some(Color::Red),
            Priority::High => Some(Color::Yellow),
            _ => None,
        },
        "due" if t.overdue(crate::desk::now()) => Some(Color::Red),
        "status" => match t.status {
            Status::Open => Some(Color::Green),
            Status::Closed => Some(Color::DarkGrey),
            _ => None,
        },
        _ => None,
    }
}

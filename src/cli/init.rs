//! `postdesk init [DIR]`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::output;
use super::Global;

/// Write a starter setup: `postdesk.yaml` (with you as the admin of one service),
/// example rules in `rules/`, a `templates/` folder for your own mail templates (the
/// defaults are built in: `postdesk template list`), and an empty database.
///
/// Run it in the directory you will work from: later commands find
/// `./postdesk.yaml` there. Elsewhere, point at it with --config or POSTDESK_CONFIG.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the files
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Share the desk with this Unix group (the MTA's user, cron's user and the agents):
    /// directories setgid 2770, files 0660, and every later command keeps it so
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,
}

pub fn run(args: InitArgs, global: &Global) -> Result<()> {
    let login = global.login();
    let done = crate::desk::init::init(&args.dir, &login, args.group.as_deref())?;
    let shared = match &args.group {
        Some(group) => format!("; shared by group '{group}'"),
        None => String::new(),
    };
    output::done(
        format!(
            "wrote {} (admin: {login}) and created the database {}{shared}",
            done.config.display(),
            done.db.display()
        ),
        global.format,
    )
}

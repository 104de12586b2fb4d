//! `postdesk init [DIR]`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::output;
use super::Global;

/// Write a starter setup: `postdesk.yaml` (with you as the admin of one service),
/// example rules in `rules/`, templates in `templates/`, and an empty database.
///
/// Run it in the directory you will work from: later commands find
/// `./postdesk.yaml` there. Elsewhere, point at it with --config or POSTDESK_CONFIG.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the files
    #[arg(default_value = ".")]
    dir: PathBuf,
}

pub fn run(args: InitArgs, global: &Global) -> Result<()> {
    let login = global.login();
    let done = crate::desk::init::init(&args.dir, &login)?;
    output::note(format!(
        "wrote {} (admin: {login}) and created the database {}",
        done.config.display(),
        done.db.display()
    ));
    Ok(())
}

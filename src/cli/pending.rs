//! Subcommands whose issues have not landed yet: they are listed so `--help` shows the shape.

use anyhow::{bail, Result};
use clap::Args;

#[derive(Debug, Args)]
pub struct PendingArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}

pub fn run(name: &str) -> Result<()> {
    bail!("`postdesk {name}` is not yet implemented")
}

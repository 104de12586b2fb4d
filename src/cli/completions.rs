//! `postdesk completions SHELL`.

use anyhow::Result;
use clap::Args;
use clap_complete::Shell;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for
    #[arg(value_enum)]
    shell: Shell,
}

/// Writes the completion script on stdout.
pub fn run(args: CompletionsArgs) -> Result<()> {
    let mut cmd = super::command();
    clap_complete::generate(args.shell, &mut cmd, "postdesk", &mut std::io::stdout());
    Ok(())
}

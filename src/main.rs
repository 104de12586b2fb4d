//! The postdesk binary: parse, run, and map errors to exit codes (0 ok, 1 error, 2 usage).

use std::process::ExitCode;

use clap::Parser;

/// sysexits.h: the MTA keeps the message and retries.
const EX_TEMPFAIL: u8 = 75;

fn main() -> ExitCode {
    // Everything we create may hold customer mail: private by default (files 0600, dirs 0700)
    // until the desk is known; a group desk then loosens it to 007 (`postdesk::sharing`).
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let cli = match postdesk::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match postdesk::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            postdesk::cli::output::note(format!("{e:#}"));
            if e.is::<postdesk::cli::TempFail>() {
                ExitCode::from(EX_TEMPFAIL)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `postdesk ticket list | head` must not complain when head exits early.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

//! The postdesk binary: parse, run, and print the error; `cli::exit` maps it to the
//! exit status (0 ok, 1 error, 2 usage, 75 try again later).

use std::process::ExitCode;

use postdesk::cli::exit::Failure;

fn main() -> ExitCode {
    // Everything we create may hold customer mail: private by default (files 0600, dirs 0700)
    // until the desk is known; a group desk then loosens it to 007 (`postdesk::sharing`).
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let cli = match postdesk::cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match postdesk::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let failure = Failure::of(&e);
            if failure != Failure::BrokenPipe {
                postdesk::cli::output::diagnostic(format!("{e:#}"));
            }
            failure.code()
        }
    }
}

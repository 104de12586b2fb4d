//! What went wrong, by kind, and the one place each kind becomes an exit status.
//!
//! Errors travel as `anyhow::Error` with context naming the thing at fault; the
//! kind is read off the error's types, never its text: `TempFail` (the mail system
//! should retry), `store::Locked`, `config::ConfigError`, a broken pipe.

use std::process::ExitCode;

/// A failure after which the mail system should retry: exit 75 (EX_TEMPFAIL).
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct TempFail(pub anyhow::Error);

/// The kinds of failure a command ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The reader of our output went away (`postdesk ticket list | head`): not a failure.
    BrokenPipe,
    /// Try again later: the MTA keeps the message (`ingest` only).
    TempFail,
    /// Another process held the database past `--lock-wait`.
    Locked,
    /// The config or a rules file is wrong.
    Config,
    /// Anything else: bad input, a missing ticket, a refused action, I/O.
    Error,
}

impl Failure {
    /// The kind of `error`, read off the types in its chain.
    pub fn of(error: &anyhow::Error) -> Failure {
        let chain = || error.chain();
        if chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        }) {
            Failure::BrokenPipe
        } else if error.is::<TempFail>() {
            Failure::TempFail
        } else if chain().any(|c| c.is::<crate::store::Locked>()) {
            Failure::Locked
        } else if chain()
            .any(|c| c.is::<crate::config::ConfigError>() || c.is::<crate::rules::LoadErrors>())
        {
            Failure::Config
        } else {
            Failure::Error
        }
    }

    /// The exit status: 0 for a broken pipe, 75 (EX_TEMPFAIL) to make the MTA retry,
    /// 1 for every other failure (2, a usage error, is clap's). Never 78 or another
    /// sysexits code: Postfix bounces those to the sender.
    pub fn code(self) -> ExitCode {
        match self {
            Failure::BrokenPipe => ExitCode::SUCCESS,
            Failure::TempFail => ExitCode::from(75),
            Failure::Locked | Failure::Config | Failure::Error => ExitCode::FAILURE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_types_anywhere_in_the_chain() {
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing the listing");
        assert_eq!(Failure::of(&pipe), Failure::BrokenPipe);
        let temp = anyhow::Error::new(TempFail(anyhow::anyhow!("disk full")));
        assert_eq!(Failure::of(&temp), Failure::TempFail);
        assert_eq!(Failure::of(&temp).code(), ExitCode::from(75));
        let locked = anyhow::Error::new(crate::store::Locked {
            path: "db".into(),
            waited: 1.0,
        })
        .context("ticket #4");
        assert_eq!(Failure::of(&locked), Failure::Locked);
        // Text that merely looks like a kind is not one.
        let text = anyhow::anyhow!("could not acquire lock; Broken pipe; EX_TEMPFAIL");
        assert_eq!(Failure::of(&text), Failure::Error);
    }
}

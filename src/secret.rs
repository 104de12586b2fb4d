//! Passwords from the environment, a file or a command: never from argv or the
//! config itself. Shared by the IMAP accounts and the SMTP transport.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// Where a password comes from; the config allows exactly one.
#[derive(Clone, Copy, Debug)]
pub struct PasswordFrom<'a> {
    /// The name of an environment variable.
    pub env: Option<&'a str>,
    /// A file whose content, less trailing line ends, is the password.
    pub file: Option<&'a Path>,
    /// A shell command whose output, less trailing line ends, is the password.
    pub command: Option<&'a str>,
}

/// The password; errors start with `what` (`IMAP account 'work'`, `mail_out`).
pub fn password(what: &str, from: PasswordFrom) -> Result<String> {
    if let Some(var) = from.env {
        return std::env::var(var)
            .with_context(|| format!("{what}: environment variable {var} is not set"));
    }
    if let Some(path) = from.file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{what}: cannot read password_file {}", path.display()))?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_string());
    }
    if let Some(command) = from.command {
        let out = std::process::Command::new("sh")
            .args(["-c", command])
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("{what}: cannot run password_command"))?;
        if !out.status.success() {
            bail!("{what}: password_command failed ({})", out.status);
        }
        return Ok(String::from_utf8_lossy(&out.stdout)
            .trim_end_matches(['\r', '\n'])
            .to_string());
    }
    bail!("{what}: no password_env, password_file or password_command")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_gives_the_password_without_its_line_end() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let none = PasswordFrom {
            env: None,
            file: None,
            command: None,
        };
        let from_file = PasswordFrom {
            file: Some(&file),
            ..none
        };
        assert_eq!(password("t", from_file).unwrap(), "from-file");
        let from_command = PasswordFrom {
            command: Some("echo from-command"),
            ..none
        };
        assert_eq!(password("t", from_command).unwrap(), "from-command");
        let unset = PasswordFrom {
            env: Some("POSTDESK_TEST_SURELY_UNSET"),
            ..none
        };
        let err = password("mail_out", unset).unwrap_err().to_string();
        assert!(err.starts_with("mail_out: environment variable"), "{err}");
        let failing = PasswordFrom {
            command: Some("exit 3"),
            ..none
        };
        assert!(password("t", failing).is_err());
        assert!(password("t", none).is_err());
    }
}

//! The use cases. Commands build a [`Desk`] and call into these modules; nothing here prints.

pub mod fields;
pub mod ingest;
pub mod init;
pub mod intake;
pub mod poll;
pub mod tickets;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use jiff::tz::TimeZone;

use crate::config::{self, Config};
use crate::store::Store;

/// What every command works with: the config, who is acting, and where the database is.
pub struct Desk {
    pub config: Config,
    pub db_path: PathBuf,
    pub lock_wait: Duration,
    /// Login of the acting user, checked against the directory on first use.
    actor: String,
    pub tz: TimeZone,
}

impl Desk {
    pub fn new(
        config: Config,
        db: Option<PathBuf>,
        actor: String,
        lock_wait: Duration,
    ) -> Result<Desk> {
        let db_path = match db {
            Some(path) => path,
            None => match &config.settings.db {
                Some(path) => config.dir().join(path),
                None => match config::xdg_dir("XDG_DATA_HOME", ".local/share") {
                    Some(dir) => dir.join("postdesk").join("db"),
                    None => bail!(
                        "no database path: set `settings.db` in {}, POSTDESK_DB or --db",
                        config.path.display()
                    ),
                },
            },
        };
        let tz = match &config.settings.timezone {
            Some(name) => TimeZone::get(name)?,
            None => TimeZone::try_system().unwrap_or(TimeZone::UTC),
        };
        Ok(Desk {
            config,
            db_path,
            lock_wait,
            actor,
            tz,
        })
    }

    /// Opens the database; drop the store as soon as the command is done with it.
    pub fn open_store(&self) -> Result<Store> {
        Store::open(&self.db_path, self.lock_wait)
    }

    /// The acting user's login, which must be in the directory.
    pub fn actor(&self) -> Result<&str> {
        if self.config.user(&self.actor).is_none() {
            bail!(
                "unknown user '{}': not in the users of {} (use --as or POSTDESK_USER)",
                self.actor,
                self.config.path.display()
            );
        }
        Ok(&self.actor)
    }

    /// The raw acting login, checked or not (for `me` in filters).
    pub fn actor_name(&self) -> &str {
        &self.actor
    }
}

/// Now, in seconds since the epoch.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

//! The use cases. Commands build a [`Desk`] and call into these modules; nothing here prints.

pub mod bounce;
pub mod close;
pub mod customers;
pub mod doctor;
pub mod export;
pub mod fields;
pub mod follow;
pub mod identity;
pub mod ingest;
pub mod init;
pub mod intake;
pub mod links;
pub mod mail_context;
pub mod notify;
pub mod outbox;
pub mod poll;
pub mod recipients;
pub mod roles;
pub mod send_test;
pub mod tickets;
pub mod time_spent;
pub mod transfer;
pub mod verbs;
pub mod workflow;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use jiff::tz::TimeZone;

use crate::config::{self, Config};
use crate::model::Ticket;
use crate::store::{Storage, Teardown};

/// What every command works with: the config, who is acting, and the data directory
/// with its database.
pub struct Desk {
    pub config: Config,
    pub db_path: PathBuf,
    /// The database: every read and write goes through it.
    pub storage: Storage,
    /// `--as` or POSTDESK_USER; else the login name, looked up on first use
    /// (an NSS lookup that mail delivery never needs).
    explicit_actor: Option<String>,
    actor: std::cell::OnceCell<String>,
    /// Read on first use: finding the system zone scans the time zone database.
    tz: std::cell::OnceCell<TimeZone>,
    rules: std::cell::OnceCell<crate::rules::RuleSet>,
    templates: std::cell::OnceCell<crate::templates::Templates>,
    /// What automatic mail this command queues and sends (`--no-notify`,
    /// `--queue-only`); set by the command line.
    pub mail_mode: notify::MailMode,
    /// With `--dry-run`: the messages a rehearsed write would have queued.
    pub previews: std::cell::RefCell<Vec<Vec<u8>>>,
    /// When Some, the write in progress stores its outgoing messages' bytes itself,
    /// with its incoming mail, in one `put_all` before it commits (a delivery: one
    /// file sync): [`notify::queue`] leaves them here instead of storing them.
    pub pending_mail: std::cell::RefCell<Option<PendingMail>>,
}

impl Desk {
    /// `teardown`: [`Teardown::AtExit`] when the process ends with the desk (a command).
    pub fn new(
        config: Config,
        db: Option<PathBuf>,
        actor: Option<String>,
        lock_wait: Duration,
        teardown: Teardown,
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
        Ok(Desk {
            storage: Storage::new(&db_path, lock_wait, teardown),
            config,
            db_path,
            explicit_actor: actor,
            actor: std::cell::OnceCell::new(),
            tz: std::cell::OnceCell::new(),
            rules: std::cell::OnceCell::new(),
            templates: std::cell::OnceCell::new(),
            mail_mode: notify::MailMode::default(),
            previews: std::cell::RefCell::default(),
            pending_mail: std::cell::RefCell::default(),
        })
    }

    /// The acting user's login, for a command that writes: the Unix login's user,
    /// or the one `--as`/POSTDESK_USER names if that is an admin ([`identity`]).
    pub fn actor(&self) -> Result<&str> {
        let user = identity::acting_user(
            &self.config,
            self.explicit_actor.as_deref(),
            identity::unix_login().as_deref(),
        )?;
        Ok(&user.login)
    }

    /// The time zone for tables and bare dates: `settings.timezone` (checked when the
    /// config was loaded), else the system's, else UTC.
    pub fn tz(&self) -> &TimeZone {
        self.tz.get_or_init(|| {
            self.config
                .settings
                .timezone
                .as_deref()
                .and_then(|name| crate::config::time_zone(name).ok())
                .unwrap_or_else(|| TimeZone::try_system().unwrap_or(TimeZone::UTC))
        })
    }

    /// The rules, loaded and checked once per process.
    pub fn rules(&self) -> Result<&crate::rules::RuleSet> {
        if let Some(rules) = self.rules.get() {
            return Ok(rules);
        }
        let loaded = crate::rules::RuleSet::load(&self.config)?;
        Ok(self.rules.get_or_init(|| loaded))
    }

    /// A write, or with `--dry-run` its rehearsal (rolled back; the messages it
    /// would queue are kept in [`Desk::previews`]).
    pub fn write<R>(&self, f: impl Fn(&dyn crate::store::Writer) -> Result<R>) -> Result<R> {
        match self.mail_mode.dry_run {
            true => {
                // A write may run more than once: keep only the last run's messages.
                let start = self.previews.borrow().len();
                self.storage.rehearse(|tx| {
                    self.previews.borrow_mut().truncate(start);
                    f(tx)
                })
            }
            false => self.storage.write(f),
        }
    }

    /// The mail templates, read once per process, each compiled when first used.
    pub fn templates(&self) -> &crate::templates::Templates {
        self.templates
            .get_or_init(|| crate::templates::Templates::lazy(&self.config))
    }

    /// Runs the rules on a ticket for its events (see [`crate::rules::eval::run`]); returns the activity-log entries
    /// (actor, what) that record what they did, and the rule that said to ignore.
    /// `from_agent`: the mail's From is a user of the config, authenticated.
    pub fn apply_rules(
        &self,
        events: &[crate::rules::RuleEvent],
        mail: Option<&crate::mail::parse::Incoming>,
        from_agent: bool,
        ticket: &mut crate::model::Ticket,
    ) -> Result<(RuleEntries, Option<String>)> {
        let decision = crate::rules::eval::run(
            &self.rules()?.rules,
            events,
            mail,
            from_agent,
            ticket,
            &|to, t| recipients::addresses(&self.config, to, t),
            false,
        );
        let mut events = Vec::new();
        for (rule, changes) in decision.applied {
            for kind in changes {
                events.push((format!("rule '{rule}'"), kind));
            }
        }
        for out in decision.mails {
            events.push((
                format!("rule '{}'", out.rule),
                crate::model::EventKind::MailQueued {
                    rule: out.rule,
                    kind: out.kind.to_string(),
                    to: out.to,
                    template: out.template,
                },
            ));
        }
        Ok((events, decision.ignored_by))
    }

    /// The acting login as named, unchecked (for `me` in filters, which reads only):
    /// `--as`/POSTDESK_USER, else the Unix login's user, else the Unix login.
    pub fn actor_name(&self) -> &str {
        self.actor.get_or_init(|| {
            let unix = identity::unix_login().unwrap_or_default();
            match (&self.explicit_actor, self.config.user_for_unix_login(&unix)) {
                (Some(named), _) => named.clone(),
                (None, Some(user)) => user.login.clone(),
                (None, None) => unix,
            }
        })
    }
}

/// Outgoing messages a write stores itself: (sha256 hex, bytes).
pub type PendingMail = Vec<(String, Vec<u8>)>;

/// Activity-log entries made by rules: (actor such as `rule 'name'`, what).
pub type RuleEntries = Vec<(String, crate::model::EventKind)>;

impl Desk {
    /// The approval of `ticket` as it stands now: pending past
    /// `settings.approval_days` counts as approved. Applied to every ticket read.
    pub fn settle_approval(&self, ticket: &mut Ticket) {
        let days = self.config.settings.approval_days;
        ticket.approval = ticket.approval.map(|a| a.at(now(), days));
    }
}

impl Desk {
    /// Brings `t`'s due times up to date after a change at `at` from `old` (None: a
    /// new ticket), by its service's targets for its priority. Every path that
    /// creates or changes a ticket calls this once, after the rules ran, just
    /// before saving: `update_ticket` (every verb and edit), `create`, and ingest's
    /// new tickets and replies. See [`crate::model::sla::follow`].
    pub fn follow_sla(&self, old: Option<&Ticket>, t: &mut Ticket, at: i64) {
        let plan = self.config.sla_plan(t.service.as_deref(), t.priority);
        crate::model::sla::follow(old, t, at, plan);
    }
}

/// Now, in seconds since the epoch.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

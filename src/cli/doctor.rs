//! `postdesk doctor [--user LOGIN]`, `postdesk doctor --send-test ADDRESS`.

use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::exit::TempFail;
use super::output::{self, Format};
use super::Global;
use crate::config::Config;
use crate::desk::doctor::{self, Check, Status, Who};
use crate::desk::{send_test, Desk};
use crate::mail::send::Outcome;

/// Say what would stop a delivery or a command for a Unix user, and how to fix it.
///
/// Checks that the config and the rules load; that the user can read the config,
/// the rules and the templates, reach the data directory, and write everything in it (judged from owners,
/// groups and modes: run as root to check the MTA's user or cron's); on a group
/// desk, that everything in it stays the group's; that no spooled mail has waited
/// over a minute (nothing draining the spool); and that no process has held the
/// database for over 2 s. It changes nothing.
///
/// With --send-test ADDRESS it checks nothing else: it sends one small test message
/// (From and envelope sender: the first service address) to ADDRESS through the
/// transport `mail_out` configures, and says how it went.
///
/// Exit status: 0 when every check is ok or a warning, 1 when one found a problem.
/// With --send-test: 0 sent, 75 a temporary failure (try again later), 1 a
/// permanent failure or no `mail_out`; `--format json` prints the outcome as an
/// object (`to`, `from`, `transport`, `outcome`: sent, temporary or permanent,
/// `detail`).
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Check for this Unix user (e.g. the MTA's: nobody, or the alias file's owner)
    /// [default: you]
    #[arg(long, value_name = "LOGIN", conflicts_with = "send_test")]
    user: Option<String>,

    /// Send a test message to ADDRESS through `mail_out`, instead of the checks
    #[arg(long, value_name = "ADDRESS")]
    send_test: Option<String>,
}

/// How long the database may be held before the check calls it a problem.
const LOCK_WAIT: Duration = Duration::from_secs(2);

pub fn run(args: DoctorArgs, global: &Global) -> Result<()> {
    if let Some(address) = &args.send_test {
        return send_test(address, global);
    }
    let who = match &args.user {
        Some(login) => Who::named(login)?,
        None => Who::current()?,
    };
    let located = Config::locate(global.config.as_deref());
    let mut checks = Vec::new();
    let mut readable = Vec::new();
    let mut data_dir = None;
    match &located {
        Ok(path) => {
            let loaded = Config::load(path);
            checks.extend(doctor::config_and_rules(path, &loaded));
            readable.push(path.clone());
            if let Ok(config) = loaded {
                readable.extend([config.rules_dir(), config.templates_dir()]);
                let desk = Desk::new(
                    config,
                    global.db.clone(),
                    None,
                    global.lock_wait,
                    crate::store::Teardown::AtExit,
                );
                data_dir = desk.ok().map(|desk| desk.db_path);
            }
        }
        Err(e) => checks.push(doctor::config_failed(e)),
    }
    let data_dir = data_dir.or_else(|| {
        crate::desk::intake::fallback_data_dir(global.db.as_deref(), global.config.as_deref())
    });
    match &data_dir {
        Some(dir) => {
            checks.push(doctor::reach(&who, &readable, dir));
            checks.push(doctor::data_dir(&who, dir));
            checks.extend(doctor::contents(&who, dir));
            checks.push(doctor::spool(dir));
            checks.push(doctor::database_lock(dir, LOCK_WAIT));
        }
        None => checks.push(Check {
            check: "data directory",
            status: Status::Problem,
            detail: "no data directory: the config names none and neither do --db nor POSTDESK_DB"
                .into(),
            fix: Some("set `settings.db` in the config".into()),
        }),
    }
    print(&checks, &who, global.format)?;
    if checks.iter().any(|c| c.status == Status::Problem) {
        let problems = checks.iter().filter(|c| c.status == Status::Problem);
        anyhow::bail!("{} checks found a problem", problems.count());
    }
    Ok(())
}

/// `--send-test ADDRESS`: Sent is a line on stdout (with `--format json`, every
/// outcome is an object there); a failure is the error, with exit 75 when it is
/// worth trying again.
fn send_test(address: &str, global: &Global) -> Result<()> {
    let config = Config::load(&Config::locate(global.config.as_deref())?)?;
    let sent = send_test::send_test(&config, address)?;
    let kind = match sent.outcome {
        Outcome::Sent => "sent",
        Outcome::Temporary(_) => "temporary",
        Outcome::Permanent(_) => "permanent",
    };
    if let Format::Json = global.format {
        output::json(&serde_json::json!({
            "to": address,
            "from": sent.from,
            "transport": sent.transport,
            "outcome": kind,
            "detail": sent.outcome.text(),
        }))?;
    }
    // A failure's text names the transport already.
    let what = format!("test message to {address} from {}", sent.from);
    match sent.outcome {
        Outcome::Sent => output::done(
            format!("sent: {what} through {}", sent.transport),
            global.format,
        ),
        Outcome::Temporary(why) => Err(TempFail(anyhow::anyhow!(
            "not sent, temporary failure (try again later): {what}: {why}"
        ))
        .into()),
        Outcome::Permanent(why) => {
            anyhow::bail!("not sent, permanent failure: {what}: {why}")
        }
    }
}

fn print(checks: &[Check], who: &Who, format: Format) -> Result<()> {
    match format {
        Format::Json => output::json(&serde_json::json!({"user": who.name, "checks": checks})),
        Format::Csv => output::csv(
            &["check", "status", "detail", "fix"],
            checks.iter().map(|c| {
                vec![
                    c.check.to_string(),
                    status_name(c.status).to_string(),
                    c.detail.clone(),
                    c.fix.clone().unwrap_or_default(),
                ]
            }),
        ),
        Format::Table => {
            let mut table = output::table(&["check", "status", "detail", "fix"]);
            for c in checks {
                table.add_row([
                    c.check,
                    status_name(c.status),
                    &c.detail,
                    c.fix.as_deref().unwrap_or(""),
                ]);
            }
            output::print_table(&table)
        }
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Warning => "warning",
        Status::Problem => "problem",
    }
}

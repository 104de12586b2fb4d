//! `postdesk init`: a starter config, example rules, the templates folder, and the database.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::config::{Config, FILE_NAME};
use crate::store::{Storage, Teardown};

/// Example rule files shipped with the tool, written by `init` beside the config.
const RULES: &[(&str, &str)] = &[("10-examples.yaml", include_str!("starter-rules.yaml"))];

/// What `init` writes in the templates directory: how to use it, and no copy of
/// a built-in template (a copy would override it, and hide its later fixes).
const TEMPLATES: &[(&str, &str)] = &[("README.txt", include_str!("templates-readme.txt"))];

/// What `init` wrote, for the summary.
pub struct Initialised {
    pub config: PathBuf,
    pub db: PathBuf,
}

/// Writes a starter setup into `dir` for `login`; refuses to overwrite an existing config.
/// With `group`, `dir` becomes a group desk (setgid 2770) and all within it is the group's.
pub fn init(dir: &Path, login: &str, group: Option<&str>) -> Result<Initialised> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config_path = dir.join(FILE_NAME);
    if config_path.exists() {
        bail!(
            "{} already exists; not overwriting it",
            config_path.display()
        );
    }
    match group {
        Some(group) => crate::sharing::share(dir, group)?,
        // A directory an admin already made a group's keeps what is made in it shared.
        None => crate::sharing::adopt(dir)?,
    }
    let text = starter_config(login, super::identity::unix_login().as_deref());
    // Parse what we are about to write, so init can never leave a broken config behind.
    let config = Config::parse(&text, &config_path)?;
    write_new(&config_path, &text)?;
    for (sub, files) in [("rules", RULES), ("templates", TEMPLATES)] {
        let target = dir.join(sub);
        std::fs::create_dir_all(&target)
            .with_context(|| format!("cannot create {}", target.display()))?;
        for (name, body) in files {
            let path = target.join(name);
            if !path.exists() {
                write_new(&path, body)?;
            }
        }
    }
    let db = config.dir().join(
        config
            .settings
            .db
            .as_deref()
            .unwrap_or(Path::new("postdesk.db")),
    );
    // Creates the database, durably.
    let storage = Storage::new(&db, std::time::Duration::from_secs(5), Teardown::Now);
    storage.write(|_| Ok(()))?;
    storage.message_id_key()?;
    Ok(Initialised {
        config: config_path,
        db,
    })
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// A commented config in which `login` is an admin of one default service, and is
/// who `unix` (the Unix login running init) acts as.
fn starter_config(login: &str, unix: Option<&str>) -> String {
    // Logins go into YAML unquoted; keep only characters that need no quoting.
    let plain = |name: &str| -> String {
        name.chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect()
    };
    let login = match plain(login) {
        empty if empty.is_empty() => "admin".to_string(),
        login => login,
    };
    let unix_line = match unix.map(plain) {
        Some(unix) if !unix.is_empty() && unix != login => format!("\n    unix_login: {unix}"),
        _ => String::new(),
    };
    include_str!("starter.yaml")
        .replace("{login}", &login)
        .replace("{unix_login}", &unix_line)
}

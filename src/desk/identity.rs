//! Who is acting: the user whose `login` (or `unix_login`) is the real Unix login,
//! or the user `--as`/POSTDESK_USER names, which only an admin may do (scripts and
//! cron run as a service user that is an admin).

use anyhow::{bail, Result};

use crate::config::{Config, User};
use crate::model::choices::or_list;

/// The real Unix login of this process (its real uid's name), None when the uid
/// has no entry in the passwd database.
pub fn unix_login() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// The acting user: `named` (from `--as` or POSTDESK_USER) when the Unix login is
/// that user or an admin, else the Unix login's own user.
pub fn acting_user<'a>(
    config: &'a Config,
    named: Option<&str>,
    unix_login: Option<&str>,
) -> Result<&'a User> {
    let file = config.path.display();
    let real = unix_login.and_then(|l| config.user_for_unix_login(l));
    let Some(named) = named else {
        return match (real, unix_login) {
            (Some(user), _) => Ok(user),
            (None, Some(login)) => bail!(
                "Unix login '{login}' is not a user of {file}: add a user with unix_login: {login} (or login: {login})"
            ),
            (None, None) => {
                bail!("your uid has no login name (passwd database), so no user of {file} is you")
            }
        };
    };
    let Some(user) = config.user(named) else {
        let logins: Vec<&str> = config.users.iter().map(|u| u.login.as_str()).collect();
        bail!(
            "unknown user '{named}': not in the users of {file} (expected {}; use --as or POSTDESK_USER)",
            or_list(&logins)
        );
    };
    match (real, unix_login) {
        (Some(me), _) if me.login == user.login || me.admin => Ok(user),
        (Some(me), Some(login)) => bail!(
            "only an admin may act as another user (--as or POSTDESK_USER '{named}'): Unix login '{login}' is user '{}', not an admin",
            me.login
        ),
        (_, Some(login)) => bail!(
            "only an admin may act as another user (--as or POSTDESK_USER '{named}'): Unix login '{login}' is not a user of {file}; add a user with unix_login: {login}"
        ),
        (_, None) => bail!(
            "only an admin may act as another user (--as or POSTDESK_USER '{named}'): your uid has no login name (passwd database)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::parse(
            "users:\n  - { login: alice, name: A, email: a@x, admin: true, unix_login: root }\n  - { login: bob, name: B, email: b@x }\n  - { login: ann, name: C, email: c@x }\n",
            std::path::Path::new("desk.yaml"),
        )
        .unwrap()
    }

    fn acting(named: Option<&str>, unix: Option<&str>) -> Result<String> {
        let config = config();
        acting_user(&config, named, unix).map(|u| u.login.clone())
    }

    #[test]
    fn the_unix_login_is_the_user_with_that_login_or_unix_login() {
        assert_eq!(acting(None, Some("bob")).unwrap(), "bob");
        assert_eq!(acting(None, Some("root")).unwrap(), "alice");
        let err = acting(None, Some("alice")).unwrap_err().to_string();
        assert!(err.contains("add a user with unix_login: alice"), "{err}");
    }

    #[test]
    fn only_an_admin_acts_as_another_user() {
        assert_eq!(acting(Some("bob"), Some("root")).unwrap(), "bob");
        assert_eq!(acting(Some("bob"), Some("bob")).unwrap(), "bob", "oneself");
        let err = acting(Some("alice"), Some("bob")).unwrap_err().to_string();
        assert_eq!(
            err,
            "only an admin may act as another user (--as or POSTDESK_USER 'alice'): Unix login 'bob' is user 'bob', not an admin"
        );
        let err = acting(Some("bob"), Some("mallory"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("add a user with unix_login: mallory"), "{err}");
    }

    #[test]
    fn an_unknown_named_user_is_refused_with_the_choices() {
        let err = acting(Some("zed"), Some("root")).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "unknown user 'zed': not in the users of desk.yaml (expected alice, bob or ann"
            ),
            "{err}"
        );
    }
}

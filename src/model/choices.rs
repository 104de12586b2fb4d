//! The accepted values of a setting, spelt out for an error message: every one of
//! them, so a reader never has to guess at one the message left out.

/// `a, b or c` (`a` alone; `none` when there is nothing to choose from).
pub fn or_list<S: AsRef<str>>(choices: &[S]) -> String {
    match choices {
        [] => "none".to_string(),
        [one] => one.as_ref().to_string(),
        [rest @ .., last] => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} or {}", rest.join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::or_list;

    #[test]
    fn the_last_choice_follows_or() {
        assert_eq!(
            or_list(&["open", "closed", "pending"]),
            "open, closed or pending"
        );
        assert_eq!(or_list(&["open"]), "open");
        assert_eq!(or_list::<&str>(&[]), "none");
    }
}

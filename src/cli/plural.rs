//! Counts with their noun: "1 error", "2 errors", "1 reply", "3 replies".

/// `n` and the noun that agrees with it; `many` is given whole because English
/// plurals are not all `+s` (reply, replies).
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_takes_the_singular_and_every_other_count_the_plural() {
        assert_eq!(counted(1, "error", "errors"), "1 error");
        assert_eq!(counted(0, "error", "errors"), "0 errors");
        assert_eq!(counted(2, "reply", "replies"), "2 replies");
    }
}

//! Counts in messages: "1 reply", "2 replies", never "1 replies".

/// `count` followed by `one` when it is 1, else by `many`: `plural(2, "reply", "replies")`
/// is "2 replies".
pub fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1, "reply", "replies"), "1 reply");
        assert_eq!(plural(0, "reply", "replies"), "0 replies");
        assert_eq!(plural(2, "duplicate", "duplicates"), "2 duplicates");
    }
}

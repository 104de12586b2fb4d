//! Counts in messages: "1 reply", "2 replies", never "1 replies".

use std::fmt::Display;

/// `count` followed by `one` when it is 1, else by `many` (given whole: English
/// plurals are not all `+s`): `plural(2, "reply", "replies")` is "2 replies".
pub fn plural<N: Display + PartialEq + From<u8>>(count: N, one: &str, many: &str) -> String {
    let noun = if count == N::from(1) { one } else { many };
    format!("{count} {noun}")
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1u64, "reply", "replies"), "1 reply");
        assert_eq!(plural(0usize, "error", "errors"), "0 errors");
        assert_eq!(plural(2, "duplicate", "duplicates"), "2 duplicates");
    }
}

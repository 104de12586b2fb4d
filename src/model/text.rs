//! How much of a text a stored record keeps: records stay small (sled copies a
//! page over 128 KB it rewrites, a leaf holds 16 values, and a value holds four
//! tickets), the whole text stays in the mail store.

/// Bytes of a description kept in the ticket record.
pub const DESCRIPTION_KEPT: usize = 1024;

/// Bytes and lines of a mail's text kept in its event, for the timeline.
pub const EXCERPT_BYTES: usize = 1024;
pub const EXCERPT_LINES: usize = 15;

/// The start of `text`: at most `max_bytes` bytes and `max_lines` lines, ending at
/// a line end when there is one in that reach, else at a character boundary.
pub fn head(text: &str, max_bytes: usize, max_lines: usize) -> &str {
    let mut end = text.len().min(max_bytes);
    if let Some((i, _)) = text.match_indices('\n').nth(max_lines.saturating_sub(1)) {
        end = end.min(i + 1);
    }
    if end == text.len() {
        return text;
    }
    match text[..floor_char_boundary(text, end)].rfind('\n') {
        Some(i) => &text[..=i],
        None => &text[..floor_char_boundary(text, end)],
    }
}

/// The start of a mail's text kept in its event.
pub fn excerpt(text: &str) -> &str {
    head(text, EXCERPT_BYTES, EXCERPT_LINES)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_kept_whole() {
        assert_eq!(head("two\nlines\n", 100, 5), "two\nlines\n");
        assert_eq!(head("no newline", 100, 5), "no newline");
    }

    #[test]
    fn a_long_text_is_cut_at_a_line_end() {
        assert_eq!(head("aaaa\nbbbb\ncccc\n", 12, 10), "aaaa\nbbbb\n");
        assert_eq!(head("a\nb\nc\nd\n", 100, 2), "a\nb\n");
    }

    #[test]
    fn one_long_line_is_cut_at_a_character() {
        assert_eq!(head("ééééé", 5, 10), "éé");
    }
}

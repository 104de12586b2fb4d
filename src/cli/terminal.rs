//! Text meant for a terminal. Mail is written by strangers: an escape sequence in a
//! subject could retitle the window, rewrite the screen, plant a hyperlink or fill
//! the clipboard, so what a terminal would act on is shown as a Rust escape
//! (`\u{1b}`, `\u{7}`, `\r`) instead. JSON and CSV for scripts keep the exact text.

use std::borrow::Cow;

/// Text shown as several lines (a mail's text, an error): line breaks and tabs kept.
pub fn block(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// Text shown on one line (a table cell, a subject in a sentence): line breaks and
/// tabs escaped too, so a value cannot forge a line or break a table's columns.
pub fn inline(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let unsafe_here = |c: char| acts_on_terminal(c) && !keep(c);
    if !text.chars().any(unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_here(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The width to fit text to: `COLUMNS` when it holds a number (20 or more), as
/// `ls` reads it, else the terminal's when stdout is one; None: no wrapping.
pub fn width() -> Option<usize> {
    let columns = std::env::var("COLUMNS").ok();
    if let Some(n) = columns.and_then(|c| c.trim().parse::<usize>().ok()) {
        return (n >= 20).then_some(n);
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return comfy_table::Table::new().width().map(usize::from);
    }
    None
}

/// `first` then `text` on one line, and as many more as it takes to keep each
/// within `width` characters (when given), each of those starting with `next`:
/// broken at spaces, a word longer than a line where it must be.
pub fn wrap(first: &str, next: &str, text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return format!("{first}{text}");
    };
    let mut lines = vec![first.to_string()];
    let room = |line: &String| width.saturating_sub(line.chars().count());
    let fresh = |line: &String, prefix: &str| line.chars().count() == prefix.chars().count();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let prefix = if lines.len() == 1 { first } else { next };
        let line = lines.last_mut().expect("a line");
        let space = usize::from(!fresh(line, prefix));
        if word.len() + space <= room(line) {
            if space == 1 {
                line.push(' ');
            }
            line.extend(word);
            continue;
        }
        if !fresh(line, prefix) {
            lines.push(next.to_string());
        }
        loop {
            let line = lines.last_mut().expect("a line");
            let fits = room(line).max(1);
            if word.len() <= fits {
                line.extend(word);
                break;
            }
            line.extend(word.drain(..fits));
            lines.push(next.to_string());
        }
    }
    lines.join("\n")
}

/// What a terminal acts on instead of showing: C0 controls (ESC opens every colour,
/// title and clipboard sequence, BEL ends one, CR overwrites the line), DEL, C1
/// controls (U+009B is a one-character CSI for some terminals), and the bidi
/// embeddings, overrides and isolates that reorder what is shown (Trojan Source,
/// CVE-2021-42574). The bidi marks (U+200E, U+200F) only nudge and are kept.
pub fn acts_on_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_then_inside_long_words() {
        assert_eq!(wrap("> ", "  ", "one two three", None), "> one two three");
        assert_eq!(
            wrap("> ", "  ", "one two three", Some(10)),
            "> one two\n  three"
        );
        assert_eq!(
            wrap("- ", "  ", "a abcdefghijkl", Some(8)),
            "- a\n  abcdef\n  ghijkl"
        );
        assert_eq!(wrap("- ", "  ", "", Some(8)), "- ");
    }

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(
            inline("\u{1b}]0;pwned\u{7}hi\u{1b}[2J"),
            "\\u{1b}]0;pwned\\u{7}hi\\u{1b}[2J"
        );
    }

    #[test]
    fn c1_controls_del_and_bidi_overrides_are_escaped() {
        assert_eq!(
            inline("a\u{9b}b\u{7f}c\u{202e}d\u{2066}e"),
            "a\\u{9b}b\\u{7f}c\\u{202e}d\\u{2066}e"
        );
    }

    #[test]
    fn a_block_keeps_line_breaks_and_tabs_but_not_carriage_returns() {
        assert_eq!(block("one\n\ttwo\rthree"), "one\n\ttwo\\rthree");
    }

    #[test]
    fn a_line_shows_its_breaks_and_tabs() {
        assert_eq!(inline("one\n\ttwo"), "one\\n\\ttwo");
    }

    #[test]
    fn printable_text_is_borrowed_unchanged() {
        let text = "Überweisung – Rechnung 😀 \u{200f}שלום\\u{1b}";
        assert!(matches!(inline(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn escaping_twice_changes_nothing_more() {
        let once = block("\u{1b}[31mred\n");
        assert_eq!(block(&once), once);
    }
}

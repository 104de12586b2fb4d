//! A rule's text cut into the parts that can be checked alone: each top-level key,
//! and each item of a key whose value is a block list (`conditions:`, `actions:`).
//!
//! serde stops at a rule's first error; parsing each part on its own finds every
//! error of the rule, each at its own line. The parts are found by indentation,
//! for rules written in block style; a rule in flow style (`- {name: x, ...}`) is
//! not cut and keeps its one error.

use std::ops::Range;

/// Part of a rule: the 0-based lines it keeps from the rule's text, and the line of
/// the key it belongs to (its first line, unless it is an item of a list).
#[derive(Debug, PartialEq)]
pub struct Piece {
    pub key_line: usize,
    pub lines: Range<usize>,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Blank and comment lines belong to whatever surrounds them.
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

fn is_item(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    t.starts_with("- ") || t == "-"
}

/// The column of the rule's keys: where the first key starts after the `- ` of the
/// first line; None when the rule does not open with a key in block style.
fn key_column(first: &str) -> Option<usize> {
    let rest = first.strip_prefix('-')?;
    let column = 1 + indent(rest);
    let key = &first[column..];
    let starts_key = key.chars().next().is_some_and(|c| c.is_alphanumeric());
    (starts_key && key.contains(':')).then_some(column)
}

/// The parts of a rule (`lines` from its `- ` line to the next rule), or None if it
/// is not laid out in block style.
pub fn pieces<S: AsRef<str>>(lines: &[S]) -> Option<Vec<Piece>> {
    let lines: Vec<&str> = lines.iter().map(|l| l.as_ref()).collect();
    let column = key_column(lines.first()?)?;
    let mut keys = vec![0];
    for (i, line) in lines.iter().enumerate().skip(1) {
        if !is_content(line) {
            continue;
        }
        match indent(line) {
            n if n < column => return None,
            n if n == column && !is_item(line) => keys.push(i),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, &start) in keys.iter().enumerate() {
        let end = keys.get(k + 1).copied().unwrap_or(lines.len());
        out.extend(key_pieces(&lines, start..end));
    }
    Some(out)
}

/// One key's parts: its items if its value is a block list, else the whole key.
fn key_pieces(lines: &[&str], key: Range<usize>) -> Vec<Piece> {
    let whole = vec![Piece {
        key_line: key.start,
        lines: key.clone(),
    }];
    let body = key.start + 1..key.end;
    let Some(first) = body.clone().find(|&i| is_content(lines[i])) else {
        return whole;
    };
    if !is_item(lines[first]) {
        return whole;
    }
    let item_indent = indent(lines[first]);
    let starts: Vec<usize> = body
        .clone()
        .filter(|&i| is_item(lines[i]) && indent(lines[i]) == item_indent)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| Piece {
            key_line: key.start,
            lines: s..starts.get(n + 1).copied().unwrap_or(key.end),
        })
        .collect()
}

/// The key a piece belongs to (`actions` for an item of `actions:`).
pub fn key<'a, S: AsRef<str>>(lines: &'a [S], piece: &Piece) -> &'a str {
    let line = lines[piece.key_line].as_ref();
    let line = if piece.key_line == 0 {
        &line[key_column(line).unwrap_or(0)..]
    } else {
        line.trim_start()
    };
    line.split(':').next().unwrap_or_default()
}

/// The 1-based column where a piece's content starts: after the `- ` of an item.
pub fn column<S: AsRef<str>>(lines: &[S], piece: &Piece) -> usize {
    let line = lines[piece.lines.start].as_ref();
    let dash = usize::from(is_item(line)) * 2;
    indent(line) + dash + 1
}

/// The text of a piece for serde_yaml: the rule as a plain mapping (its `- `
/// blanked) holding only the piece's key, on the lines it has in the rule so that
/// errors keep their line and column, and a stand-in `name` if the piece has none.
pub fn text<S: AsRef<str>>(lines: &[S], piece: &Piece) -> String {
    let lines: Vec<&str> = lines.iter().map(|l| l.as_ref()).collect();
    let column = key_column(lines[0]).unwrap_or(0);
    let mut out: Vec<String> = vec![String::new(); lines.len()];
    let mut keep = |i: usize| {
        out[i] = if i == 0 {
            format!("{}{}", " ".repeat(column), &lines[0][column..])
        } else {
            lines[i].to_string()
        }
    };
    keep(piece.key_line);
    piece.lines.clone().for_each(&mut keep);
    if !out[piece.key_line][column..].starts_with("name:") {
        out.push(format!("{}name: _", " ".repeat(column)));
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "- name: x\n  when: creatd\n  conditions:\n    - subjet: a\n    # a comment\n    - from: b\n  actions:\n  - assign: bobby\n  - notify:\n      to: assignee\n";

    fn lines() -> Vec<&'static str> {
        RULE.lines().collect()
    }

    fn piece(key_line: usize, lines: Range<usize>) -> Piece {
        Piece { key_line, lines }
    }

    #[test]
    fn a_rule_is_cut_into_keys_and_list_items() {
        assert_eq!(
            pieces(&lines()).unwrap(),
            [
                piece(0, 0..1),
                piece(1, 1..2),
                piece(2, 3..5),
                piece(2, 5..6),
                piece(6, 7..8),
                piece(6, 8..10),
            ]
        );
    }

    #[test]
    fn a_piece_keeps_its_lines_and_gets_a_name() {
        let all = pieces(&lines()).unwrap();
        assert_eq!(
            text(&lines(), &all[3]),
            "\n\n  conditions:\n\n\n    - from: b\n\n\n\n\n  name: _\n"
        );
        assert_eq!(text(&lines(), &all[0]), "  name: x\n\n\n\n\n\n\n\n\n\n");
    }

    #[test]
    fn flow_style_is_not_cut() {
        assert_eq!(pieces(&["- { name: x, when: created }"]), None);
        assert_eq!(pieces(&["-", "  name: x"]), None);
    }
}
